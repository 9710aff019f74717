-- Idempotency-Key (Stripe semantics): the first response to a key is stored and replayed for 24 hours.
CREATE TABLE idempotency_keys (
  key          TEXT PRIMARY KEY,
  fingerprint  TEXT NOT NULL,     -- method, path and body hash: a key reused with other parameters is refused
  status       INTEGER,           -- NULL while the first request is still running
  response     TEXT,
  created_at   TEXT NOT NULL
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
