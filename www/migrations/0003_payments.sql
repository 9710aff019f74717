-- Payments core: every transaction has an owner (invoice today; orders and checkouts next), and the lifecycle
-- columns the core decides: `unwanted` (its owner let go of it: a success must be repaid), `reconcile_at` (ask the
-- processor whether a released attempt charged after all), `reason` (why the core created it on its own).
-- Staged transactions are due at once: `next_attempt_at` is their submission time too.
-- Rebuilt rather than altered (the owner replaces `invoice_guid NOT NULL REFERENCES invoices`); `failures` refers
-- to `transactions`, so both are copied aside first and rebuilt in order, with no foreign key ever dangling.

CREATE TABLE transactions_copy AS SELECT * FROM transactions;
CREATE TABLE failures_copy AS SELECT * FROM failures;
DROP TABLE failures;
DROP TABLE transactions;

CREATE TABLE transactions (
  seq                     INTEGER PRIMARY KEY,
  guid                    TEXT NOT NULL UNIQUE,   -- also the processor idempotency key
  owner_type              TEXT NOT NULL,          -- invoice
  owner_guid              TEXT NOT NULL,
  transaction_type        TEXT NOT NULL,          -- debit | credit | refund | reversal
  amount                  INTEGER NOT NULL,
  funding_instrument_uri  TEXT,
  appears_on_statement_as TEXT,
  submit_status           TEXT NOT NULL,          -- staged | retrying | done | failed | canceled
  status                  TEXT,                   -- pending | succeeded | failed | NULL
  failure_count           INTEGER NOT NULL,
  processor_uri           TEXT,
  reference_guid          TEXT,                   -- refund/reversal -> the movement it returns
  reason                  TEXT,                   -- NULL, or why the core created it (late_success)
  unwanted                INTEGER NOT NULL,       -- 1: its owner let go of it
  next_attempt_at         TEXT,                   -- submission (staged), retry (retrying) or poll (pending) time
  reconcile_at            TEXT,                   -- released without certainty: when to look it up
  created_at              TEXT NOT NULL,
  updated_at              TEXT NOT NULL
);
INSERT INTO transactions (seq, guid, owner_type, owner_guid, transaction_type, amount, funding_instrument_uri,
  appears_on_statement_as, submit_status, status, failure_count, processor_uri, reference_guid, reason, unwanted,
  next_attempt_at, reconcile_at, created_at, updated_at)
SELECT seq, guid, 'invoice', invoice_guid, transaction_type, amount, funding_instrument_uri, appears_on_statement_as,
  submit_status, status, failure_count, processor_uri, reference_guid, NULL,
  CASE WHEN submit_status = 'canceled' THEN 1 ELSE 0 END,
  CASE WHEN submit_status = 'staged' THEN updated_at ELSE next_attempt_at END, NULL, created_at, updated_at
FROM transactions_copy;
CREATE INDEX transactions_owner ON transactions (owner_type, owner_guid);
CREATE INDEX transactions_work ON transactions (submit_status, next_attempt_at);
CREATE INDEX transactions_reconcile ON transactions (reconcile_at) WHERE reconcile_at IS NOT NULL;
CREATE INDEX transactions_reference ON transactions (reference_guid) WHERE reference_guid IS NOT NULL;
-- A late success is repaid once: one compensation per movement.
CREATE UNIQUE INDEX transactions_compensation ON transactions (reference_guid) WHERE reason IS NOT NULL;
CREATE INDEX transactions_created ON transactions (created_at, seq);

CREATE TABLE failures (
  seq              INTEGER PRIMARY KEY,
  guid             TEXT NOT NULL UNIQUE,
  transaction_guid TEXT NOT NULL REFERENCES transactions (guid),
  error_code       TEXT,
  error_message    TEXT,
  created_at       TEXT NOT NULL
);
INSERT INTO failures SELECT * FROM failures_copy;
CREATE INDEX failures_transaction ON failures (transaction_guid);
DROP TABLE transactions_copy;
DROP TABLE failures_copy;

-- The scheduler's record of due work that threw: the item is skipped until retry_at, the rest goes on.
CREATE TABLE work_failures (
  source          TEXT NOT NULL,
  item            TEXT NOT NULL,
  error           TEXT NOT NULL,
  count           INTEGER NOT NULL,
  first_failed_at TEXT NOT NULL,
  last_failed_at  TEXT NOT NULL,
  retry_at        TEXT NOT NULL,
  PRIMARY KEY (source, item)
);

-- One time format in the database: rows written with JavaScript's toISOString (…SS.mmmZ) become canonical.
UPDATE idempotency_keys SET created_at = replace(created_at, 'Z', '000+00:00') WHERE created_at LIKE '%Z';
UPDATE _migrations SET applied_at = replace(applied_at, 'Z', '000+00:00') WHERE applied_at LIKE '%Z';
