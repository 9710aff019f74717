-- The built-in processor simulator moves into the company's own object: its ledger is kept in these tables of the
-- company's database (written only by www/simulator.js, never inside a company transaction), instead of in a second
-- Durable Object reached by RPC per payment. One row per idempotency key the simulator was asked about: how often it
-- was attempted and looked up, and the charge once money moved (status NULL until then), so an attempt writes one
-- row in one index. A company made before this migration copies its ledger over from that object once, at its next
-- start (simulator_import marks it as owed).
CREATE TABLE simulator_keys (
  seq INTEGER PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, attempts INTEGER NOT NULL DEFAULT 0,
  lookups INTEGER NOT NULL DEFAULT 0, kind TEXT, amount INTEGER, funding_instrument_uri TEXT,
  status TEXT, processor_uri TEXT, error_code TEXT, error_message TEXT, reference_processor_uri TEXT,
  retrieves INTEGER NOT NULL DEFAULT 0);
CREATE TABLE simulator_import (owed INTEGER NOT NULL);
INSERT INTO simulator_import (owed) VALUES (1);
