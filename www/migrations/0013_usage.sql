-- Metered usage: metrics, plans' metered items, usage events (kept for audit and re-aggregation) and a running
-- aggregate per (subscription, metric, period) updated in the same storage transaction as the events, so invoicing
-- never scans raw events.
CREATE TABLE metrics (
  seq         INTEGER PRIMARY KEY,
  guid        TEXT NOT NULL UNIQUE,            -- the code: unique per company
  name        TEXT NOT NULL,
  aggregation TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX metrics_created ON metrics (created_at, seq);
INSERT INTO row_counts VALUES ('metrics', 0);
CREATE TRIGGER metrics_count_insert AFTER INSERT ON metrics BEGIN UPDATE row_counts SET n = n + 1 WHERE tbl = 'metrics'; END;
CREATE TRIGGER metrics_count_delete AFTER DELETE ON metrics BEGIN UPDATE row_counts SET n = n - 1 WHERE tbl = 'metrics'; END;

ALTER TABLE plans ADD COLUMN metered_items TEXT NOT NULL DEFAULT '[]';

CREATE TABLE usage_events (
  seq               INTEGER PRIMARY KEY,
  event_id          TEXT NOT NULL UNIQUE,      -- a repeat is accepted once and never counted twice
  subscription_guid TEXT NOT NULL,
  metric_code       TEXT NOT NULL,
  value             INTEGER NOT NULL,
  timestamp         TEXT NOT NULL,
  period            INTEGER NOT NULL,
  received_at       TEXT NOT NULL
);
CREATE INDEX usage_events_aggregate ON usage_events (subscription_guid, metric_code, period, seq);

CREATE TABLE usage_aggregates (
  subscription_guid TEXT NOT NULL,
  metric_code       TEXT NOT NULL,
  period            INTEGER NOT NULL,
  period_start      TEXT NOT NULL,
  period_end        TEXT NOT NULL,
  state             TEXT NOT NULL,             -- the core's running aggregate {value, count, last_timestamp, last_value}
  invoice_guid      TEXT,                      -- set when an invoice bills it
  PRIMARY KEY (subscription_guid, metric_code, period)
);
CREATE INDEX usage_aggregates_unbilled ON usage_aggregates (subscription_guid, period) WHERE invoice_guid IS NULL;
