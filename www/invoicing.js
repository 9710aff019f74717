// @ts-check
// Invoices as owners of transactions: opening an invoice (and its charge), invoicing due subscription periods,
// and following the effects of their own payments. Inside a transaction unless said otherwise.
import { N } from "./core.js";
import * as views from "./views.js";

/** Invoices a confirmed checkout opens for its terms part (www/terms.js). */
export const TERMS = "terms";

/** At most this many periods are invoiced per subscription per run (the scheduler runs it again for more). */
const MAX_PERIODS_PER_RUN = 100;

export const OWNER = N.OwnerType.invoice;
/** Billy's amounts are US cents: every invoice and its transactions are in USD. */
export const CURRENCY = "USD";

export class Invoicing {
  /**
   * @param {{ db: import("./db.js").Db, core: typeof import("./core.js"),
   *   payments: import("./payments.js").Payments, terms: import("./terms.js").Terms,
   *   webhooks: import("./webhooks.js").Webhooks }} deps
   */
  constructor({ db, core, payments, terms, webhooks }) {
    this.webhooks = webhooks;
    this.db = db;
    this.core = core;
    this.payments = payments;
    this.terms = terms;
    payments.register(OWNER, { onEffect: (tx, effect, now) => this.#follow(tx, effect, now) });
  }

  /**
   * Inserts an invoice row and, when it can be paid now, its staged charge. Returns the invoice guid.
   * The core decides how it opens: nothing to pay → settled, an instrument → processing + a charge, else staged.
   */
  insert(fields, now) {
    const guid = this.core.guid("IV");
    const { status, charge } = this.core.invoiceOpening(fields.effective_amount, fields.funding_instrument_uri);
    this.db.insert("invoices", { ...fields, guid, status, items: JSON.stringify(fields.items || []),
      adjustments: JSON.stringify(fields.adjustments || []), created_at: now, updated_at: now });
    this.announce(guid, N.WebhookEventType["invoice.created"], now);
    if (charge) this.charge(guid, fields, now);
    return guid;
  }

  /** Stages the invoice's charge (a debit, or a credit for payout plans) for its effective amount. */
  charge(guid, invoice, now) {
    this.payments.stage({ owner_type: OWNER, owner_guid: guid, currency: CURRENCY, transaction_type: invoice.transaction_type,
      amount: invoice.effective_amount, funding_instrument_uri: invoice.funding_instrument_uri,
      appears_on_statement_as: invoice.appears_on_statement_as }, now);
  }

  /**
   * Invoices every due period of one subscription (catch-up: one per missed period, in order) and advances its
   * schedule. The unique (subscription_guid, period) index makes a second run a no-op.
   * @returns {number} periods invoiced
   */
  invoiceDuePeriods(sub, plan, now) {
    const core = this.core;
    const due = core.duePeriods(sub.started_at, plan.frequency, plan.interval, sub.invoice_count, now,
      MAX_PERIODS_PER_RUN);
    const amount = core.subscriptionAmount(sub.amount, plan.amount);
    for (const { period, scheduled_at } of due.periods) {
      const exists = this.db.one("SELECT 1 AS x FROM invoices WHERE subscription_guid = ? AND period = ?", sub.guid, period);
      if (exists) continue;
      const totals = core.invoiceTotals(amount, []);
      this.insert({ invoice_type: "subscription", transaction_type: plan.plan_type,
        customer_guid: sub.customer_guid, subscription_guid: sub.guid, period, scheduled_at, amount,
        total_adjustment_amount: totals.total_adjustment_amount, effective_amount: totals.effective_amount,
        title: null, external_id: null, appears_on_statement_as: sub.appears_on_statement_as,
        funding_instrument_uri: sub.funding_instrument_uri, items: [], adjustments: [] }, now);
    }
    this.db.update("subscriptions", sub.guid, { invoice_count: sub.invoice_count + due.periods.length,
      next_invoice_at: due.next_invoice_at, updated_at: now });
    return due.periods.length;
  }

  /**
   * Due work in bulk: the due periods of many subscriptions in one transaction, the core billing them all in one
   * call. Any item the core refuses fails the whole batch, which the scheduler then runs item by item, so the item
   * at fault is recorded and the rest still invoiced.
   */
  invoiceDueBatch(guids, now) {
    this.db.tx(() => {
      const marks = guids.map(() => "?").join(", ");
      const subs = this.db.all(`SELECT s.*, p.frequency, p.interval, p.amount AS plan_amount, p.plan_type
        FROM subscriptions s JOIN plans p ON p.guid = s.plan_guid
        WHERE s.guid IN (${marks}) AND s.canceled = 0 AND s.next_invoice_at <= ?`, ...guids, now);
      if (subs.length === 0) return;
      const bills = this.core.billSubscriptions(subs, now, MAX_PERIODS_PER_RUN);
      const refused = bills.find((b) => b.error);
      if (refused) throw Object.assign(new Error(refused.error.message), refused.error);
      const count = bills.reduce((n, b) => n + b.periods.length, 0);
      const ivGuids = this.core.guids("IV", count);
      const txGuids = this.core.guids("TX", count);
      const lifecycle = this.core.stagedTransaction(now);
      let k = 0;
      subs.forEach((sub, i) => {
        const bill = bills[i];
        for (const { period, scheduled_at } of bill.periods) {
          const guid = ivGuids[k], tx = txGuids[k++];
          const written = this.db.insertOrIgnore("invoices", { guid, invoice_type: "subscription",
            transaction_type: sub.plan_type, customer_guid: sub.customer_guid, subscription_guid: sub.guid, period,
            scheduled_at, amount: bill.amount, total_adjustment_amount: 0, effective_amount: bill.amount, title: null,
            external_id: null, appears_on_statement_as: sub.appears_on_statement_as,
            funding_instrument_uri: sub.funding_instrument_uri, status: bill.opening.status, items: "[]",
            adjustments: "[]", created_at: now, updated_at: now });
          if (written) this.announce(guid, N.WebhookEventType["invoice.created"], now);
          if (written && bill.opening.charge) {
            this.payments.stage({ owner_type: OWNER, owner_guid: guid, currency: CURRENCY,
              transaction_type: sub.plan_type, amount: bill.amount, funding_instrument_uri: sub.funding_instrument_uri,
              appears_on_statement_as: sub.appears_on_statement_as }, now, { guid: tx, lifecycle });
          }
        }
        this.db.update("subscriptions", sub.guid, { invoice_count: sub.invoice_count + bill.periods.length,
          next_invoice_at: bill.next_invoice_at, updated_at: now });
      });
    });
  }

  /** Due work: one subscription's due periods, in its own transaction. */
  invoiceDue(subscriptionGuid, now) {
    this.db.tx(() => {
      const sub = this.db.one("SELECT * FROM subscriptions WHERE guid = ?", subscriptionGuid);
      if (!sub || sub.canceled || sub.next_invoice_at === null || sub.next_invoice_at > now) return;
      const plan = this.db.one("SELECT * FROM plans WHERE guid = ?", sub.plan_guid);
      this.invoiceDuePeriods(sub, plan, now);
    });
  }

  /** An invoice event for webhooks (inside the transaction of the change). */
  announce(guid, type, now) {
    const row = this.db.one("SELECT * FROM invoices WHERE guid = ?", guid);
    if (row) this.webhooks.emit(type, views.invoice(row), now);
  }

  /** The invoice changed (a route's action): tell the endpoints. */
  changed(guid, now) {
    this.announce(guid, N.WebhookEventType["invoice.updated"], now);
  }

  /** An invoice follows what happened to one of its payments; the core decides (a canceled one never moves). */
  #follow(tx, effect, now) {
    const inv = this.db.one("SELECT * FROM invoices WHERE guid = ?", tx.owner_guid);
    if (!inv) return;
    if (inv.invoice_type === TERMS) return this.terms.follow(inv, tx, effect, now);
    const next = this.core.invoiceAfterPayment(inv.status, effect);
    if (next !== inv.status) {
      this.db.update("invoices", inv.guid, { status: next, updated_at: now });
      this.changed(inv.guid, now);
    }
  }
}
