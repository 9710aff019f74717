// @ts-check
// Credit profiles: the history of each buyer (credit_events) and the stored standing it replays to. Every limit
// is the core's replay of the events; credit used moves with reservations and payments. Inside a transaction.
import { N } from "./core.js";

export class Credit {
  /** @param {{ db: import("./db.js").Db, core: typeof import("./core.js"), webhooks: import("./webhooks.js").Webhooks }} deps */
  constructor({ db, core, webhooks }) {
    this.webhooks = webhooks;
    this.db = db;
    this.core = core;
  }

  row(customerGuid) {
    return this.db.one("SELECT * FROM credit_profiles WHERE customer_guid = ?", customerGuid);
  }

  events(customerGuid) {
    return this.db.all("SELECT kind, at, tier, split, credit_used, invoice_guid FROM credit_events WHERE customer_guid = ? ORDER BY seq",
      customerGuid);
  }

  /** The profile as the API shows it (status none before any assessment). */
  profile(customerGuid, now, currency = "USD") {
    const row = this.row(customerGuid);
    if (!row) return this.core.creditProfile({}, 0, currency, now);
    return this.core.creditProfile(row, row.credit_used, row.currency, now);
  }

  /** An assessment: the scorecard over the facts and the history so far gives the tier. */
  assess(customerGuid, facts, currency, now) {
    const standing = this.core.creditReplay(this.events(customerGuid), currency);
    const stored = this.row(customerGuid);
    const tier = this.core.creditAssess(facts, { paid_on_time: standing.paid_on_time, paid_late: standing.paid_late },
      stored ? { currency: stored.currency, credit_used: stored.credit_used } : null, currency);
    if (!stored) {
      this.db.insert("credit_profiles", { customer_guid: customerGuid, currency, risk_tier: null, credit_limit: 0,
        credit_used: 0, frozen_until: null, facts: null, created_at: now, updated_at: now });
    }
    this.db.run("UPDATE credit_profiles SET facts = ?, currency = ? WHERE customer_guid = ?", JSON.stringify(facts),
      currency, customerGuid);
    this.record(customerGuid, { kind: N.CreditEventKind.assessed, tier: tier.tier }, now);
  }

  /** Appends an event and stores what the history now replays to. */
  record(customerGuid, { kind, tier = null, split = false, invoice_guid = null }, now) {
    const row = this.row(customerGuid);
    if (!row) return;
    this.db.insert("credit_events", { customer_guid: customerGuid, kind, at: now, tier, split: split ? 1 : 0,
      credit_used: row.credit_used, invoice_guid });
    const s = this.core.creditReplay(this.events(customerGuid), row.currency);
    this.db.run(`UPDATE credit_profiles SET risk_tier = ?, credit_limit = ?, frozen_until = ?, updated_at = ?
      WHERE customer_guid = ?`, s.risk_tier, s.credit_limit, s.frozen_until, now, customerGuid);
    this.#announce(customerGuid, now);
  }

  /** Moves credit used by `delta` (a reservation is positive, a payment or release negative). */
  use(customerGuid, delta, now) {
    const row = this.row(customerGuid);
    if (!row || delta === 0) return;
    this.db.run("UPDATE credit_profiles SET credit_used = ?, updated_at = ? WHERE customer_guid = ?",
      this.core.addAmounts(row.credit_used, delta), now, customerGuid);
    this.#announce(customerGuid, now);
  }

  #announce(customerGuid, now) {
    this.webhooks.emit(N.WebhookEventType["credit.updated"], () => ({ customer_guid: customerGuid, ...this.profile(customerGuid, now) }), now);
  }
}
