-- Credentials as rows: secret keys (rotated with an overlap) and restricted tokens with scopes. Only hashes are
-- kept. The company row loses its single key hash (moved here by the JS step of this migration) and the SQL
-- default of max_retry_attempts (the core decides every default).

CREATE TABLE keys (
  seq        INTEGER PRIMARY KEY,
  guid       TEXT NOT NULL UNIQUE,
  kind       TEXT NOT NULL,              -- secret | restricted
  scopes     TEXT NOT NULL,              -- JSON array of scope strings (restricted tokens)
  key_hash   TEXT NOT NULL UNIQUE,       -- SHA-256 hex of the whole credential
  hint       TEXT NOT NULL,              -- "…" + its last four characters
  created_at TEXT NOT NULL,
  expires_at TEXT,                       -- NULL: until rotated or revoked
  revoked_at TEXT
);
CREATE INDEX keys_expiry ON keys (kind, expires_at);
