-- Subscriptions in depth: a schedule anchor that can move (plan change of frequency), trials, pause and resume,
-- cancel at period end, coupons, and pending adjustments (prorations) applied to the next invoice.
-- Period numbers keep growing across an anchor move: period anchor_period + n starts at anchor_at + n units, and
-- next_period is the next one to bill or skip, so the unique (subscription, period) index still holds.
ALTER TABLE subscriptions ADD COLUMN anchor_at TEXT;
ALTER TABLE subscriptions ADD COLUMN anchor_period INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN next_period INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN trial_end TEXT;
ALTER TABLE subscriptions ADD COLUMN trial_notice_at TEXT;   -- NULL once told (or no trial)
ALTER TABLE subscriptions ADD COLUMN paused_at TEXT;
ALTER TABLE subscriptions ADD COLUMN resumes_at TEXT;
ALTER TABLE subscriptions ADD COLUMN cancel_at TEXT;
ALTER TABLE subscriptions ADD COLUMN coupon_code TEXT;
ALTER TABLE subscriptions ADD COLUMN coupon_applied INTEGER NOT NULL DEFAULT 0;  -- invoices the coupon covered
UPDATE subscriptions SET anchor_at = started_at, next_period = invoice_count;
CREATE INDEX subscriptions_trial_notice ON subscriptions (trial_notice_at) WHERE trial_notice_at IS NOT NULL;

CREATE TABLE coupons (
  seq                 INTEGER PRIMARY KEY,
  guid                TEXT NOT NULL UNIQUE,            -- the code: unique per company
  name                TEXT,
  percent_off         TEXT,                            -- decimal string
  amount_off          INTEGER,
  currency            TEXT,
  duration            TEXT NOT NULL,
  duration_in_periods INTEGER,
  max_redemptions     INTEGER,
  times_redeemed      INTEGER NOT NULL DEFAULT 0,
  redeem_by           TEXT,
  deleted             INTEGER NOT NULL DEFAULT 0,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL
);
CREATE INDEX coupons_created ON coupons (created_at, seq);
INSERT INTO row_counts VALUES ('coupons', 0);
CREATE TRIGGER coupons_count_insert AFTER INSERT ON coupons BEGIN UPDATE row_counts SET n = n + 1 WHERE tbl = 'coupons'; END;
CREATE TRIGGER coupons_count_delete AFTER DELETE ON coupons BEGIN UPDATE row_counts SET n = n - 1 WHERE tbl = 'coupons'; END;

-- Prorations waiting for the subscription's next invoice (invoice_guid set when one takes them).
CREATE TABLE subscription_adjustments (
  seq               INTEGER PRIMARY KEY,
  guid              TEXT NOT NULL UNIQUE,
  subscription_guid TEXT NOT NULL REFERENCES subscriptions (guid),
  amount            INTEGER NOT NULL,
  reason            TEXT,
  invoice_guid      TEXT,
  created_at        TEXT NOT NULL
);
CREATE INDEX subscription_adjustments_pending ON subscription_adjustments (subscription_guid, seq) WHERE invoice_guid IS NULL;

ALTER TABLE invoices ADD COLUMN coupon_code TEXT;
ALTER TABLE balance_transactions ADD COLUMN invoice_guid TEXT;
