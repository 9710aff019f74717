-- Net terms: credit profiles (one per customer), their event history (the limit is its replay), the customer
-- balance (one per customer and currency, UUIDs as in the published shape) and its entries, checkouts, credit
-- applications, terms invoices, and metadata on every merchant object.

CREATE TABLE credit_profiles (
  customer_guid TEXT PRIMARY KEY REFERENCES customers (guid),
  currency      TEXT NOT NULL,
  risk_tier     INTEGER,
  credit_limit  INTEGER NOT NULL,     -- the replay of credit_events, stored with each event
  credit_used   INTEGER NOT NULL,     -- Σ outstanding of open and overdue terms invoices
  frozen_until  TEXT,
  facts         TEXT,                 -- JSON: the last assessment's scorecard facts
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

CREATE TABLE credit_events (
  seq           INTEGER PRIMARY KEY,
  customer_guid TEXT NOT NULL REFERENCES customers (guid),
  kind          TEXT NOT NULL,        -- assessed | paid_on_time | paid_late | overdue
  at            TEXT NOT NULL,
  tier          INTEGER,
  split         INTEGER NOT NULL,
  credit_used   INTEGER NOT NULL,
  invoice_guid  TEXT
);
CREATE INDEX credit_events_customer ON credit_events (customer_guid, seq);

CREATE TABLE balances (
  seq           INTEGER PRIMARY KEY,
  id            TEXT NOT NULL UNIQUE,
  customer_guid TEXT NOT NULL REFERENCES customers (guid),
  currency      TEXT NOT NULL,        -- lowercase
  amount        INTEGER NOT NULL,     -- positive: the customer owes it; negative: a credit
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  UNIQUE (customer_guid, currency)
);

CREATE TABLE balance_transactions (
  seq                   INTEGER PRIMARY KEY,
  id                    TEXT NOT NULL UNIQUE,
  balance_id            TEXT NOT NULL REFERENCES balances (id),
  customer_guid         TEXT NOT NULL,
  currency              TEXT NOT NULL,
  amount                INTEGER NOT NULL,
  ending_balance_amount INTEGER NOT NULL,
  transaction_type      TEXT NOT NULL,
  checkout_guid         TEXT,
  created_at            TEXT NOT NULL,
  updated_at            TEXT NOT NULL
);
CREATE INDEX balance_transactions_customer ON balance_transactions (customer_guid);
CREATE INDEX balance_transactions_checkout ON balance_transactions (checkout_guid) WHERE checkout_guid IS NOT NULL;
CREATE INDEX balance_transactions_created ON balance_transactions (created_at, seq);

CREATE TABLE checkouts (
  seq              INTEGER PRIMARY KEY,
  guid             TEXT NOT NULL UNIQUE,
  customer_guid    TEXT NOT NULL REFERENCES customers (guid),
  currency         TEXT NOT NULL,
  total            INTEGER NOT NULL,
  items            TEXT NOT NULL,     -- JSON, as the core totalled them
  terms_days       INTEGER,
  status           TEXT NOT NULL,     -- open | processing | completed | failed (expired is read off expires_at)
  expires_at       TEXT NOT NULL,
  allocation       TEXT,              -- JSON: the allocation confirmed
  invoice_guid     TEXT,              -- the terms invoice
  transaction_guid TEXT,              -- the card part
  key_guid         TEXT NOT NULL,     -- its client_secret's row in keys
  metadata         TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
);
CREATE INDEX checkouts_customer ON checkouts (customer_guid);
CREATE INDEX checkouts_created ON checkouts (created_at, seq);

CREATE TABLE applications (
  seq           INTEGER PRIMARY KEY,
  guid          TEXT NOT NULL UNIQUE,
  customer_guid TEXT NOT NULL REFERENCES customers (guid),
  status        TEXT NOT NULL,        -- draft | approved
  fields        TEXT NOT NULL,        -- JSON: the business details
  key_guid      TEXT NOT NULL,        -- its token's row in keys
  metadata      TEXT NOT NULL,
  submitted_at  TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
CREATE INDEX applications_key ON applications (key_guid);
CREATE INDEX applications_created ON applications (created_at, seq);

-- Terms invoices (invoice_type terms): what they are for, when they fall due, and how they may be charged.
ALTER TABLE invoices ADD COLUMN terms_days INTEGER;
ALTER TABLE invoices ADD COLUMN due_at TEXT;
ALTER TABLE invoices ADD COLUMN checkout_guid TEXT;
ALTER TABLE invoices ADD COLUMN terms_funding_instrument_uri TEXT;
ALTER TABLE invoices ADD COLUMN terms_charged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN amount_paid INTEGER;             -- terms invoices: Σ payments received
ALTER TABLE invoices ADD COLUMN currency TEXT;                   -- terms invoices: their checkout's (Billy invoices: USD)
CREATE INDEX invoices_terms_due ON invoices (status, due_at) WHERE due_at IS NOT NULL;
CREATE INDEX invoices_created ON invoices (created_at, seq);

ALTER TABLE customers ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE plans ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE subscriptions ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE invoices ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE transactions ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE orders ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
