-- Billy Edge company schema, version 1. One database per company (its Durable Object), so no company_guid
-- column is needed for isolation. Times are canonical UTC strings (see docs/core-api.md): they sort as TEXT.
-- `seq` is the insertion order, the stable tie-break for "newest first".

CREATE TABLE company (
  guid               TEXT PRIMARY KEY,
  key_hash           TEXT NOT NULL,
  processor_key      TEXT,
  test_mode          INTEGER NOT NULL,
  clock              TEXT,             -- frozen test-clock time; NULL = real time
  max_retry_attempts INTEGER NOT NULL DEFAULT 10,
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL
);

CREATE TABLE plans (
  seq        INTEGER PRIMARY KEY,
  guid       TEXT NOT NULL UNIQUE,
  plan_type  TEXT NOT NULL,
  frequency  TEXT NOT NULL,
  amount     INTEGER NOT NULL,
  interval   INTEGER NOT NULL,
  deleted    INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE customers (
  seq           INTEGER PRIMARY KEY,
  guid          TEXT NOT NULL UNIQUE,
  processor_uri TEXT,
  deleted       INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
CREATE INDEX customers_processor_uri ON customers (processor_uri);

CREATE TABLE subscriptions (
  seq                     INTEGER PRIMARY KEY,
  guid                    TEXT NOT NULL UNIQUE,
  plan_guid               TEXT NOT NULL REFERENCES plans (guid),
  customer_guid           TEXT NOT NULL REFERENCES customers (guid),
  funding_instrument_uri  TEXT,
  amount                  INTEGER,
  appears_on_statement_as TEXT,
  started_at              TEXT NOT NULL,
  invoice_count           INTEGER NOT NULL DEFAULT 0,
  next_invoice_at         TEXT,                   -- NULL: no further period (past the year 9999)
  canceled                INTEGER NOT NULL DEFAULT 0,
  canceled_at             TEXT,
  created_at              TEXT NOT NULL,
  updated_at              TEXT NOT NULL
);
CREATE INDEX subscriptions_due ON subscriptions (canceled, next_invoice_at);
CREATE INDEX subscriptions_plan ON subscriptions (plan_guid);
CREATE INDEX subscriptions_customer ON subscriptions (customer_guid);

CREATE TABLE invoices (
  seq                     INTEGER PRIMARY KEY,
  guid                    TEXT NOT NULL UNIQUE,
  invoice_type            TEXT NOT NULL,          -- subscription | customer
  transaction_type        TEXT NOT NULL,          -- debit | credit
  customer_guid           TEXT NOT NULL REFERENCES customers (guid),
  subscription_guid       TEXT REFERENCES subscriptions (guid),
  period                  INTEGER,                -- subscription period n (0 = started_at)
  scheduled_at            TEXT,
  amount                  INTEGER NOT NULL,
  total_adjustment_amount INTEGER NOT NULL,
  effective_amount        INTEGER NOT NULL,
  title                   TEXT,
  external_id             TEXT,
  appears_on_statement_as TEXT,
  funding_instrument_uri  TEXT,
  status                  TEXT NOT NULL,
  items                   TEXT NOT NULL,          -- JSON array, as validated by the core
  adjustments             TEXT NOT NULL,          -- JSON array, as validated by the core
  created_at              TEXT NOT NULL,
  updated_at              TEXT NOT NULL
);
-- The scheduler's guarantee: one invoice per subscription period, however often it runs.
CREATE UNIQUE INDEX invoices_period ON invoices (subscription_guid, period) WHERE subscription_guid IS NOT NULL;
CREATE UNIQUE INDEX invoices_external_id ON invoices (customer_guid, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX invoices_customer ON invoices (customer_guid);

CREATE TABLE transactions (
  seq                     INTEGER PRIMARY KEY,
  guid                    TEXT NOT NULL UNIQUE,   -- also the processor idempotency key
  invoice_guid            TEXT NOT NULL REFERENCES invoices (guid),
  transaction_type        TEXT NOT NULL,          -- debit | credit | refund
  amount                  INTEGER NOT NULL,
  funding_instrument_uri  TEXT,
  appears_on_statement_as TEXT,
  submit_status           TEXT NOT NULL,          -- staged | retrying | done | failed | canceled
  status                  TEXT,                   -- pending | succeeded | failed | NULL
  failure_count           INTEGER NOT NULL DEFAULT 0,
  processor_uri           TEXT,
  reference_guid          TEXT,                   -- refund -> the debit it returns
  next_attempt_at         TEXT,                   -- retry time (retrying) or status poll time (pending)
  created_at              TEXT NOT NULL,
  updated_at              TEXT NOT NULL
);
CREATE INDEX transactions_invoice ON transactions (invoice_guid);
CREATE INDEX transactions_work ON transactions (submit_status, next_attempt_at);

CREATE TABLE failures (
  seq              INTEGER PRIMARY KEY,
  guid             TEXT NOT NULL UNIQUE,
  transaction_guid TEXT NOT NULL REFERENCES transactions (guid),
  error_code       TEXT,
  error_message    TEXT,
  created_at       TEXT NOT NULL
);
CREATE INDEX failures_transaction ON failures (transaction_guid);
