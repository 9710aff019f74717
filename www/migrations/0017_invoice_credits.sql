-- Credit given back for an invoice's payment as a customer balance credit (a prorated cancel's unused time): it counts
-- as refunded, so the invoice can never return more than it was paid, in whichever order refund and credit come.
ALTER TABLE invoices ADD COLUMN credited_amount INTEGER NOT NULL DEFAULT 0;
-- A canceled invoice looks up the balance entries linked to it (the customer credit it used, to give back).
CREATE INDEX balance_transactions_invoice ON balance_transactions (invoice_guid) WHERE invoice_guid IS NOT NULL;
