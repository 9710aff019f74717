-- Webhooks: endpoints, the outbox of events (written in the same transaction as each change), one delivery per
-- subscribed endpoint and every attempt made. And test clocks that finish a long advance in the background.
CREATE TABLE webhook_endpoints (
  seq           INTEGER PRIMARY KEY,
  guid          TEXT NOT NULL UNIQUE,
  url           TEXT NOT NULL,
  events        TEXT NOT NULL,        -- JSON array of event types, or ["*"]
  description   TEXT,
  secret        TEXT NOT NULL,        -- whsec_…: needed to sign, shown to the merchant once
  enabled       INTEGER NOT NULL,
  failing_since TEXT,                 -- the first failure since its last success
  disabled_at   TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

CREATE TABLE webhook_events (
  seq        INTEGER PRIMARY KEY,
  guid       TEXT NOT NULL UNIQUE,    -- the webhook-id header
  type       TEXT NOT NULL,
  payload    TEXT NOT NULL,           -- JSON body, fixed when the change commits
  created_at TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
  seq             INTEGER PRIMARY KEY,
  guid            TEXT NOT NULL UNIQUE,
  event_guid      TEXT NOT NULL REFERENCES webhook_events (guid),
  endpoint_guid   TEXT NOT NULL REFERENCES webhook_endpoints (guid),
  status          TEXT NOT NULL,      -- pending | delivered | failed
  attempts        INTEGER NOT NULL,
  next_attempt_at TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_guid, created_at, seq);

CREATE TABLE webhook_attempts (
  seq           INTEGER PRIMARY KEY,
  delivery_guid TEXT NOT NULL REFERENCES webhook_deliveries (guid),
  status_code   INTEGER,
  error         TEXT,
  duration_ms   INTEGER NOT NULL,
  created_at    TEXT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_guid, seq);

-- A test clock's target while it advances in the background.
ALTER TABLE company ADD COLUMN advance_to TEXT;
