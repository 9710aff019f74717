-- Indexes for bulk runs: every index is written on each insert (and on each update of its columns), into pages a
-- Durable Object's fixed SQLite page cache holds fewer of as a company grows, so each one costs; these serve the
-- scheduler's queries in due order, and those that a wider index already serves are dropped.
--
-- Due submissions and pending polls in the order the scheduler takes them: transactions_work (submit_status,
-- next_attempt_at) could not give `submit_status IN (staged, retrying) ORDER BY next_attempt_at, seq` without sorting
-- every staged row for every batch (a bulk run of N charges then cost N²), and it changed on every answer. These
-- partial indexes hold exactly the due rows, in that order (seq is the rowid, each index's last key). The statuses are
-- the core's names (N.SubmitStatus, N.TransactionStatus); www/due.js names these indexes (INDEXED BY), so a query that
-- stopped matching one fails loudly instead of sorting quietly.
CREATE INDEX transactions_submit_due ON transactions (next_attempt_at) WHERE submit_status IN ('staged', 'retrying');
CREATE INDEX transactions_poll_due ON transactions (next_attempt_at) WHERE submit_status = 'done' AND status = 'pending';
DROP INDEX transactions_work;
-- Prefixes of transactions_owner_created (owner_type, owner_guid, created_at, seq) and invoices_customer_created
-- (customer_guid, created_at, seq), which serve every query these did.
DROP INDEX transactions_owner;
DROP INDEX invoices_customer;
