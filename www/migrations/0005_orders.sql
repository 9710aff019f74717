-- Escrow orders: buyer funds held for one merchant. The three balances are stored, updated by the core's delta
-- in the same transaction as every change of one of the order's transactions (tests hold them equal to the fold).
CREATE TABLE orders (
  seq              INTEGER PRIMARY KEY,
  guid             TEXT NOT NULL UNIQUE,
  merchant_guid    TEXT NOT NULL REFERENCES customers (guid),
  description      TEXT,
  delivery_address TEXT,
  currency         TEXT NOT NULL,
  amount           INTEGER NOT NULL,   -- brought in, net of refunds
  amount_escrowed  INTEGER NOT NULL,   -- held now
  amount_credited  INTEGER NOT NULL,   -- paid out, net of reversals
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
);
CREATE INDEX orders_merchant ON orders (merchant_guid);
CREATE INDEX orders_created ON orders (created_at, seq);

-- Every movement is in its owner's currency; order debits name their buyer, credits their destination.
ALTER TABLE transactions ADD COLUMN currency TEXT;
UPDATE transactions SET currency = 'USD';
ALTER TABLE transactions ADD COLUMN customer_guid TEXT;
ALTER TABLE transactions ADD COLUMN description TEXT;
ALTER TABLE transactions ADD COLUMN destination TEXT;
CREATE INDEX transactions_customer ON transactions (customer_guid) WHERE customer_guid IS NOT NULL;
