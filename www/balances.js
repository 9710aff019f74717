// @ts-check
// The customer balance: one per customer and currency, moved only by entries whose running total the core checks.
// Inside a transaction.

export class Balances {
  /** @param {{ db: import("./db.js").Db, core: typeof import("./core.js") }} deps */
  constructor({ db, core }) {
    this.db = db;
    this.core = core;
  }

  /** The balance row of a customer in a (lowercase) currency, or null. */
  row(customerGuid, currency) {
    return this.db.one("SELECT * FROM balances WHERE customer_guid = ? AND currency = ?", customerGuid, currency);
  }

  /** The customer's balance amount (0 when none). */
  amount(customerGuid, currency) {
    return this.row(customerGuid, currency.toLowerCase())?.amount ?? 0;
  }

  /** Writes one entry and moves its balance; returns the entry row. */
  entry({ customer_guid, currency, amount, transaction_type, checkout_guid = null }, now) {
    const cur = currency.toLowerCase();
    let balance = this.row(customer_guid, cur);
    if (!balance) {
      balance = { id: this.core.uuid(), customer_guid, currency: cur, amount: 0, created_at: now, updated_at: now };
      this.db.insert("balances", balance);
    }
    const ending = this.core.balanceEnding(balance.amount, amount);
    const row = { id: this.core.uuid(), balance_id: balance.id, customer_guid, currency: cur, amount,
      ending_balance_amount: ending, transaction_type, checkout_guid, created_at: now, updated_at: now };
    this.db.insert("balance_transactions", row);
    this.db.run("UPDATE balances SET amount = ?, updated_at = ? WHERE id = ?", ending, now, balance.id);
    return row;
  }
}
