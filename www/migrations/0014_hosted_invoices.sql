-- Hosted invoice pages (/i/<token>): the company's name, shown to the buyer, and its hosted-invoice secret, under which
-- every invoice's token is derived (HMAC-SHA256 of the invoice guid; nothing is stored per invoice). The secret of a
-- company made before this migration is filled in by its JS step, from the core's randomness.
ALTER TABLE company ADD COLUMN name TEXT;
ALTER TABLE company ADD COLUMN hosted_invoice_secret TEXT;
