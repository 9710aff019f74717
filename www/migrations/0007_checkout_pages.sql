-- Buyer pages: a checkout may let the buyer change quantities before confirming.
ALTER TABLE checkouts ADD COLUMN adjustable_quantities INTEGER NOT NULL DEFAULT 0;
