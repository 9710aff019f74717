-- Scale: processor calls in flight per company; list pages served by indexes in the order they are read
-- (newest first), and row counts kept by triggers so an unfiltered list's total costs the same at any size.
ALTER TABLE company ADD COLUMN processor_concurrency INTEGER;

CREATE INDEX IF NOT EXISTS customers_created ON customers (created_at, seq);
CREATE INDEX IF NOT EXISTS plans_created ON plans (created_at, seq);
CREATE INDEX IF NOT EXISTS subscriptions_created ON subscriptions (created_at, seq);
CREATE INDEX IF NOT EXISTS keys_created ON keys (created_at, seq);
CREATE INDEX IF NOT EXISTS invoices_customer_created ON invoices (customer_guid, created_at, seq);
CREATE INDEX IF NOT EXISTS invoices_subscription_scheduled ON invoices (subscription_guid, scheduled_at, seq);
CREATE INDEX IF NOT EXISTS transactions_owner_created ON transactions (owner_type, owner_guid, created_at, seq);
CREATE INDEX IF NOT EXISTS orders_merchant_created ON orders (merchant_guid, created_at, seq);

CREATE TABLE row_counts (tbl TEXT PRIMARY KEY, n INTEGER NOT NULL);
INSERT INTO row_counts SELECT 'customers', count(*) FROM customers;
INSERT INTO row_counts SELECT 'plans', count(*) FROM plans;
INSERT INTO row_counts SELECT 'subscriptions', count(*) FROM subscriptions;
INSERT INTO row_counts SELECT 'invoices', count(*) FROM invoices;
INSERT INTO row_counts SELECT 'transactions', count(*) FROM transactions;
INSERT INTO row_counts SELECT 'orders', count(*) FROM orders;
INSERT INTO row_counts SELECT 'checkouts', count(*) FROM checkouts;
INSERT INTO row_counts SELECT 'balance_transactions', count(*) FROM balance_transactions;
INSERT INTO row_counts SELECT 'applications', count(*) FROM applications;
INSERT INTO row_counts SELECT 'keys', count(*) FROM keys;
CREATE TRIGGER customers_count_insert AFTER INSERT ON customers BEGIN UPDATE row_counts SET n = n + 1 WHERE tbl = 'customers'; END;
CREATE TRIGGER customers_count_delete AFTER DELETE ON customers BEGIN UPDATE row_counts SET n = n - 1 WHERE tbl = 'customers'; END;
CREATE TRIGGER plans_count_insert AFTER INSERT ON plans BEGIN UPDATE row_counts SET n = n + 1 WHERE tbl = 'plans'; END;
CREATE TRIGGER plans_count_delete AFTER DELETE ON plans BEGIN UPDATE row_counts SET n = n - 1 WHERE tbl = 'plans'; END;
CREATE TRIGGER subscriptions_count_insert AFTER INSERT ON subscriptions BEGIN UPDATE row_counts SET n = n + 1 WHERE tbl = 'subscriptions'; END;
CREATE TRIGGER subscriptions_count_delete AFTER DELETE ON subscriptions BEGIN UPDATE row_counts SET n = n - 1 WHERE tbl = 'subscriptions'; END;
CREATE TRIGGER invoices_count_insert AFTER INSERT ON invoices BEGIN UPDATE row_counts SET n = n + 1 WHERE tbl = 'invoices'; END;
CREATE TRIGGER invoices_count_delete AFTER DELETE ON invoices BEGIN UPDATE row_counts SET n = n - 1 WHERE tbl = 'invoices'; END;
CREATE TRIGGER transactions_count_insert AFTER INSERT ON transactions BEGIN UPDATE row_counts SET n = n + 1 WHERE tbl = 'transactions'; END;
CREATE TRIGGER transactions_count_delete AFTER DELETE ON transactions BEGIN UPDATE row_counts SET n = n - 1 WHERE tbl = 'transactions'; END;
CREATE TRIGGER orders_count_insert AFTER INSERT ON orders BEGIN UPDATE row_counts SET n = n + 1 WHERE tbl = 'orders'; END;
CREATE TRIGGER orders_count_delete AFTER DELETE ON orders BEGIN UPDATE row_counts SET n = n - 1 WHERE tbl = 'orders'; END;
CREATE TRIGGER checkouts_count_insert AFTER INSERT ON checkouts BEGIN UPDATE row_counts SET n = n + 1 WHERE tbl = 'checkouts'; END;
CREATE TRIGGER checkouts_count_delete AFTER DELETE ON checkouts BEGIN UPDATE row_counts SET n = n - 1 WHERE tbl = 'checkouts'; END;
CREATE TRIGGER balance_transactions_count_insert AFTER INSERT ON balance_transactions BEGIN UPDATE row_counts SET n = n + 1 WHERE tbl = 'balance_transactions'; END;
CREATE TRIGGER balance_transactions_count_delete AFTER DELETE ON balance_transactions BEGIN UPDATE row_counts SET n = n - 1 WHERE tbl = 'balance_transactions'; END;
CREATE TRIGGER applications_count_insert AFTER INSERT ON applications BEGIN UPDATE row_counts SET n = n + 1 WHERE tbl = 'applications'; END;
CREATE TRIGGER applications_count_delete AFTER DELETE ON applications BEGIN UPDATE row_counts SET n = n - 1 WHERE tbl = 'applications'; END;
CREATE TRIGGER keys_count_insert AFTER INSERT ON keys BEGIN UPDATE row_counts SET n = n + 1 WHERE tbl = 'keys'; END;
CREATE TRIGGER keys_count_delete AFTER DELETE ON keys BEGIN UPDATE row_counts SET n = n - 1 WHERE tbl = 'keys'; END;
