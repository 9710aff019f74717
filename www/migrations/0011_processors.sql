-- A processor per company: the built-in simulator or Stripe. `processor_key` now holds the Stripe key sealed
-- (AES-256-GCM under PROCESSOR_KEY_SECRET, www/crypto.js), `processor_key_last4` what the API shows of it. Keys stored
-- before this were Billy's processor keys (Balanced's), never used by anything: they are dropped, not kept in the
-- clear; their last four characters stay visible.
ALTER TABLE company ADD COLUMN processor TEXT NOT NULL DEFAULT 'simulator' CHECK (processor IN ('simulator', 'stripe'));
ALTER TABLE company ADD COLUMN processor_key_last4 TEXT;
ALTER TABLE company ADD COLUMN stripe_webhook_secret TEXT;
UPDATE company SET processor_key_last4 = substr(processor_key, -4) WHERE processor_key IS NOT NULL;
UPDATE company SET processor_key = NULL;

-- Stripe webhook events applied, by id: each is applied once however often Stripe sends it.
CREATE TABLE stripe_events (
  id          TEXT PRIMARY KEY,
  type        TEXT NOT NULL,
  received_at TEXT NOT NULL
);
