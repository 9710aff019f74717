// @ts-check
// Subscriptions as owners of their schedule: billing due periods (skipped while paused, stopped at cancel_at),
// composing each invoice (pending prorations, coupon, customer credit), plan changes, pause, resume, cancel, the
// trial-ending notice and the upcoming-invoice preview. The core decides every one of these; this module reads the
// rows, asks it, and writes what it said. Inside a transaction unless said otherwise.
import { N } from "./core.js";
import { CURRENCY, OWNER } from "./invoicing.js";
import * as views from "./views.js";
import { couponRow } from "./routes/coupons.js";
import { usageItem } from "./usage.js";

/** At most this many periods are invoiced per subscription per run (the scheduler runs it again for more). */
const MAX_PERIODS_PER_RUN = 100;
/** The customer balance subscriptions use (Billy's amounts are US cents). */
const BALANCE_CURRENCY = CURRENCY.toLowerCase();
const E = N.WebhookEventType;

export class Subscriptions {
  /**
   * @param {{ db: import("./db.js").Db, core: typeof import("./core.js"), invoicing: import("./invoicing.js").Invoicing,
   *   balances: import("./balances.js").Balances, webhooks: import("./webhooks.js").Webhooks,
   *   usage: import("./usage.js").Usage }} deps
   */
  constructor({ db, core, invoicing, balances, webhooks, usage }) {
    this.usage = usage;
    this.db = db;
    this.core = core;
    this.invoicing = invoicing;
    this.balances = balances;
    this.webhooks = webhooks;
  }

  /** The subscription row joined with its plan, as the core reads it (null when unknown). */
  row(guid) {
    return this.db.one(`SELECT s.*, p.frequency, p.interval, p.amount AS plan_amount, p.plan_type, p.metered_items
      FROM subscriptions s JOIN plans p ON p.guid = s.plan_guid WHERE s.guid = ?`, guid);
  }

  /** The API view: effective amount and status decided by the core, pending prorations listed. */
  view(row, now) {
    const plan = this.db.one("SELECT amount FROM plans WHERE guid = ?", row.plan_guid);
    const latest = this.db.one(`SELECT status FROM invoices WHERE subscription_guid = ?
      ORDER BY scheduled_at DESC, seq DESC LIMIT 1`, row.guid)?.status ?? null;
    // While paused or set to cancel, the stored next_invoice_at is when the scheduler looks again (to skip a period
    // or to cancel); the answer is when an invoice will really come, if one will.
    const nextInvoiceAt = (row.paused_at || row.cancel_at) && !row.canceled
      ? this.core.upcomingPeriod(this.row(row.guid))?.period_start ?? null : row.next_invoice_at;
    return views.subscription({ ...row, next_invoice_at: nextInvoiceAt }, {
      effectiveAmount: this.core.subscriptionAmount(row.amount, plan.amount),
      status: this.core.subscriptionStatus(row, latest, now),
      pending: this.pending(row.guid),
    });
  }

  /** Pending adjustments (prorations waiting for the next invoice), oldest first. */
  pending(guid) {
    return this.db.all(`SELECT amount, reason FROM subscription_adjustments WHERE subscription_guid = ?
      AND invoice_guid IS NULL ORDER BY seq`, guid);
  }

  /** A subscription event for webhooks. */
  announce(guid, type, now) {
    this.webhooks.emit(type, () => {
      const row = this.db.one("SELECT * FROM subscriptions WHERE guid = ?", guid);
      return row && this.view(row, now);
    }, now);
  }

  /**
   * Due work in bulk: the due periods of many subscriptions in one transaction, the core billing them all in one
   * call. Any item the core refuses fails the whole batch, which the scheduler then runs item by item, so the item
   * at fault is recorded and the rest still invoiced.
   */
  billDueBatch(guids, now) {
    this.db.tx(() => {
      // Two parameters besides the guids: chunks of 98 stay within SQLite's 100 bound parameters. The unary `+`
      // keeps SQLite on the guid index (without it, it range-scans every due subscription for each chunk).
      const due = this.db.allIn(guids, (marks, chunk) => this.db.all(`SELECT s.*, p.frequency, p.interval, p.amount AS plan_amount, p.plan_type, p.metered_items,
        (s.coupon_code IS NULL AND s.paused_at IS NULL AND s.cancel_at IS NULL AND p.metered_items = '[]'
          AND NOT EXISTS (SELECT 1 FROM subscription_adjustments a WHERE a.subscription_guid = s.guid AND a.invoice_guid IS NULL)
          AND NOT EXISTS (SELECT 1 FROM balances b WHERE b.customer_guid = s.customer_guid AND b.currency = ? AND b.amount < 0)) AS plain
        FROM subscriptions s JOIN plans p ON p.guid = s.plan_guid
        WHERE s.guid IN (${marks}) AND +s.canceled = 0 AND +s.next_invoice_at <= ?`, BALANCE_CURRENCY, ...chunk, now), 98);
      // Only plain subscriptions take the fast path: a coupon, a pause, a cancel at period end, metered usage,
      // pending prorations or a customer credit make each invoice its own composition (the same rules, one subscription at a time).
      for (const row of due) if (!row.plain) this.bill(row, now);
      const subs = due.filter((row) => row.plain);
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
          if (written) this.invoicing.announce(guid, N.WebhookEventType["invoice.created"], now);
          if (written && bill.opening.charge) {
            this.invoicing.payments.stage({ owner_type: OWNER, owner_guid: guid, currency: CURRENCY,
              transaction_type: sub.plan_type, amount: bill.amount, funding_instrument_uri: sub.funding_instrument_uri,
              appears_on_statement_as: sub.appears_on_statement_as }, now, { guid: tx, lifecycle });
          }
        }
        this.db.update("subscriptions", sub.guid, { invoice_count: sub.invoice_count + bill.periods.length,
          next_period: bill.next_period, next_invoice_at: bill.next_invoice_at, updated_at: now });
      });
    });
  }

  /** Due work: one subscription's due periods, in its own transaction. */
  billDue(guid, now) {
    this.db.tx(() => {
      const row = this.row(guid);
      if (!row || row.canceled || row.next_invoice_at === null || row.next_invoice_at > now) return;
      this.bill(row, now);
    });
  }

  /**
   * Invoices every due period of one subscription (catch-up: one per missed period, in order; those that started
   * while paused are skipped), ends a pause whose time came, and cancels at `cancel_at`. The unique
   * (subscription_guid, period) index makes a second run a no-op.
   * @returns {string[]} the invoices written
   */
  bill(row, now) {
    const bill = this.core.billSubscription(row, now, MAX_PERIODS_PER_RUN);
    const written = [];
    for (const { period, scheduled_at } of bill.periods) {
      const guid = this.invoicePeriod(row, period, scheduled_at, bill.amount, now);
      if (guid) written.push(guid);
    }
    const changes = { invoice_count: row.invoice_count + written.length, next_period: bill.next_period,
      next_invoice_at: bill.next_invoice_at, updated_at: now };
    if (bill.resumed) Object.assign(changes, { paused_at: null, resumes_at: null });
    if (bill.cancel) Object.assign(changes, { canceled: 1, canceled_at: bill.cancel, cancel_at: null });
    this.db.update("subscriptions", row.guid, changes);
    if (bill.resumed) this.announce(row.guid, E["customer.subscription.resumed"], now);
    if (bill.cancel) this.#ended(row.guid, now);
    return written;
  }

  /**
   * One period's invoice, composed by the core; null when the period already has one. The fixed amount is billed in
   * advance (Billy's rule) and the usage of the periods before it, priced from their running aggregates, as lines
   * that count towards the amount.
   */
  invoicePeriod(row, period, scheduledAt, fixed, now) {
    if (this.db.one("SELECT 1 AS x FROM invoices WHERE subscription_guid = ? AND period = ?", row.guid, period)) return null;
    const meteredItems = JSON.parse(row.metered_items || "[]");
    const usage = this.usage.lines(row, meteredItems, period);
    const amount = usage.lines.reduce((sum, l) => this.core.addAmounts(sum, l.amount), fixed);
    const fresh = this.db.one("SELECT coupon_code, coupon_applied FROM subscriptions WHERE guid = ?", row.guid);
    const coupon = fresh.coupon_code ? couponRow(this.db.one("SELECT * FROM coupons WHERE guid = ?", fresh.coupon_code)) : null;
    const x = this.core.composeInvoice(amount, this.pending(row.guid), coupon, fresh.coupon_applied,
      this.balances.amount(row.customer_guid, BALANCE_CURRENCY), row.plan_type);
    const guid = this.invoicing.insert({ invoice_type: "subscription", transaction_type: row.plan_type,
      customer_guid: row.customer_guid, subscription_guid: row.guid, period, scheduled_at: scheduledAt, amount,
      total_adjustment_amount: x.total_adjustment_amount, effective_amount: x.effective_amount, title: null,
      external_id: null, appears_on_statement_as: row.appears_on_statement_as,
      funding_instrument_uri: row.funding_instrument_uri, items: usage.lines.map(usageItem), adjustments: x.adjustments,
      coupon_code: x.coupon_applied ? fresh.coupon_code : null }, now);
    this.usage.billed(row, usage.periods, guid, meteredItems);
    this.#settle(row, guid, x, now);
    if (x.coupon_applied) this.db.update("subscriptions", row.guid, { coupon_applied: fresh.coupon_applied + 1 });
    return guid;
  }

  /** What a composed invoice took: its pending adjustments, and the balance entries of its credit lines. */
  #settle(row, invoiceGuid, x, now, pending = true) {
    if (pending) this.db.run("UPDATE subscription_adjustments SET invoice_guid = ? WHERE subscription_guid = ? AND invoice_guid IS NULL",
      invoiceGuid, row.guid);
    if (x.balance_applied > 0) {
      this.#entry(row.customer_guid, x.balance_applied, N.BalanceTransactionType.applied_to_invoice, invoiceGuid, now);
    }
    if (x.carried_to_balance > 0) {
      this.#entry(row.customer_guid, -x.carried_to_balance, N.BalanceTransactionType.subscription_credit, invoiceGuid, now);
    }
    // A payout's excess credit (the payee was overpaid) is deducted from its next payout.
    if (x.deferred > 0) {
      this.db.insert("subscription_adjustments", { guid: this.core.guid("SA"), subscription_guid: row.guid,
        amount: -x.deferred, reason: `Overpayment carried from invoice ${invoiceGuid}`, invoice_guid: null, created_at: now });
    }
  }

  /**
   * The invoice of the subscription's current period as the core reads what was paid for the period
   * (`PeriodInvoiceRow`: items and adjustments parsed, the balance entries it holds), or null when it has none.
   */
  periodInvoice(row) {
    const current = this.core.currentPeriod(row);
    const inv = current && this.db.one("SELECT * FROM invoices WHERE subscription_guid = ? AND period = ?", row.guid, current.period);
    if (!inv) return null;
    // Prorations invoices: no period, no amount of their own (only lines); unpaid while declined or in progress.
    const S = N.InvoiceStatus;
    const unpaid = this.db.one(`SELECT 1 AS x FROM invoices WHERE subscription_guid = ? AND period IS NULL AND amount = 0
      AND status IN (?, ?, ?)`, row.guid, S.failed, S.processing, S.staged) !== null;
    return { ...inv, items: JSON.parse(inv.items || "[]"), adjustments: JSON.parse(inv.adjustments || "[]"),
      balance_entries: this.balanceEntries(inv.guid), unpaid_prorations: unpaid };
  }

  /** The amounts of an invoice's `applied_to_invoice` and `unapplied_from_invoice` entries: the credit it holds. */
  balanceEntries(invoiceGuid) {
    const T = N.BalanceTransactionType;
    return this.db.all("SELECT amount FROM balance_transactions WHERE invoice_guid = ? AND transaction_type IN (?, ?)",
      invoiceGuid, T.applied_to_invoice, T.unapplied_from_invoice).map((e) => e.amount);
  }

  /**
   * A canceled invoice gives back what it took: the customer credit it used (`unapplied_from_invoice`), once, and the
   * subscription's prorations it carried, pending again for its next invoice (or, if it has ended, settled as at its
   * end: a net credit to the balance).
   */
  invoiceCanceled(inv, now) {
    const entry = this.core.balanceUnappliedOnCancel(this.balanceEntries(inv.guid));
    if (entry !== 0) this.#entry(inv.customer_guid, entry, N.BalanceTransactionType.unapplied_from_invoice, inv.guid, now);
    if (!inv.subscription_guid) return;
    this.db.run("UPDATE subscription_adjustments SET invoice_guid = NULL WHERE invoice_guid = ?", inv.guid);
    const sub = this.row(inv.subscription_guid);
    if (sub?.canceled) {
      const net = this.pending(sub.guid).reduce((sum, a) => this.core.addAmounts(sum, a.amount), 0);
      this.db.run("DELETE FROM subscription_adjustments WHERE subscription_guid = ? AND invoice_guid IS NULL", sub.guid);
      const credit = this.core.endingCredit(net, sub.plan_type);
      if (credit < 0) this.#entry(sub.customer_guid, credit, N.BalanceTransactionType.subscription_credit, null, now);
    }
  }

  #entry(customer, amount, type, invoiceGuid, now) {
    const e = this.balances.entry({ customer_guid: customer, currency: BALANCE_CURRENCY, amount, transaction_type: type }, now);
    if (invoiceGuid) this.db.run("UPDATE balance_transactions SET invoice_guid = ? WHERE id = ?", invoiceGuid, e.id);
  }

  /**
   * The pending adjustments invoiced now (`always_invoice`): an invoice of amount 0 whose adjustments are the
   * pending lines. A net credit is never a negative invoice: it goes to the customer balance.
   * @returns {string|null} the invoice written
   */
  invoiceNow(row, now) {
    const pending = this.pending(row.guid);
    if (pending.length === 0) return null;
    const x = this.core.composeInvoice(0, pending, null, 0, this.balances.amount(row.customer_guid, BALANCE_CURRENCY), row.plan_type);
    // A payout whose prorations net to a credit pays nothing now: they stay pending for its next payout.
    if (x.deferred > 0 && x.effective_amount === 0) return null;
    if (x.carried_to_balance > 0 && x.effective_amount === 0 && x.balance_applied === 0) {
      // A net credit: straight to the balance, no invoice of nothing.
      this.db.run("DELETE FROM subscription_adjustments WHERE subscription_guid = ? AND invoice_guid IS NULL", row.guid);
      this.#entry(row.customer_guid, -x.carried_to_balance, N.BalanceTransactionType.subscription_credit, null, now);
      return null;
    }
    const guid = this.invoicing.insert({ invoice_type: "subscription", transaction_type: row.plan_type,
      customer_guid: row.customer_guid, subscription_guid: row.guid, period: null, scheduled_at: now, amount: 0,
      total_adjustment_amount: x.total_adjustment_amount, effective_amount: x.effective_amount, title: "Prorations",
      external_id: null, appears_on_statement_as: row.appears_on_statement_as,
      funding_instrument_uri: row.funding_instrument_uri, items: [], adjustments: x.adjustments, coupon_code: null }, now);
    this.#settle(row, guid, x, now);
    return guid;
  }

  /**
   * The usage `items` price that no invoice has billed yet, invoiced now (`title`: "Final usage" when a subscription
   * ends, "Usage to date" when a plan change drops a metric), composed like a period's invoice: its coupon while it
   * covers, the customer's credit. Its fixed amount was billed in advance. Returns its guid, or null.
   */
  usageInvoice(row, items, title, now) {
    const usage = this.usage.lines(row, items, null);
    if (usage.periods.length === 0) return null;
    const amount = usage.lines.reduce((sum, l) => this.core.addAmounts(sum, l.amount), 0);
    const fresh = this.db.one("SELECT coupon_code, coupon_applied FROM subscriptions WHERE guid = ?", row.guid);
    const coupon = fresh.coupon_code ? couponRow(this.db.one("SELECT * FROM coupons WHERE guid = ?", fresh.coupon_code)) : null;
    const x = this.core.composeInvoice(amount, [], coupon, fresh.coupon_applied,
      this.balances.amount(row.customer_guid, BALANCE_CURRENCY), row.plan_type);
    const iv = this.invoicing.insert({ invoice_type: "subscription", transaction_type: row.plan_type,
      customer_guid: row.customer_guid, subscription_guid: row.guid, period: null, scheduled_at: now, amount,
      total_adjustment_amount: x.total_adjustment_amount, effective_amount: x.effective_amount, title,
      external_id: null, appears_on_statement_as: row.appears_on_statement_as,
      funding_instrument_uri: row.funding_instrument_uri, items: usage.lines.map(usageItem), adjustments: x.adjustments,
      coupon_code: x.coupon_applied ? fresh.coupon_code : null }, now);
    this.usage.billed(row, usage.periods, iv, items);
    this.#settle(row, iv, x, now, false);
    if (x.coupon_applied) this.db.update("subscriptions", row.guid, { coupon_applied: fresh.coupon_applied + 1 });
    return iv;
  }

  /** A pending credit left when a subscription ends goes to the customer balance; a pending charge lapses. */
  #ended(guid, now) {
    const ending = this.row(guid);
    this.usageInvoice(ending, JSON.parse(ending.metered_items || "[]"), "Final usage", now);
    const row = this.db.one("SELECT customer_guid FROM subscriptions WHERE guid = ?", guid);
    const net = this.pending(guid).reduce((sum, a) => this.core.addAmounts(sum, a.amount), 0);
    this.db.run("DELETE FROM subscription_adjustments WHERE subscription_guid = ? AND invoice_guid IS NULL", guid);
    const credit = this.core.endingCredit(net, ending.plan_type);
    if (credit < 0) this.#entry(row.customer_guid, credit, N.BalanceTransactionType.subscription_credit, null, now);
    this.announce(guid, E["customer.subscription.canceled"], now);
  }

  /**
   * Immediate cancel; with `prorate`, the unused part of the current period is credited to the balance, at what was
   * really paid for it (the core: refunds, a coupon, an unpaid invoice lower it). The credit is linked to the period's
   * invoice, whose refunds then count it as given back.
   */
  cancelNow(row, prorate, now) {
    if (prorate) {
      const inv = this.periodInvoice(row);
      const pendingNet = this.pending(row.guid).reduce((sum, a) => this.core.addAmounts(sum, a.amount), 0);
      const credit = this.core.cancelCredit(row, inv, inv ? this.invoicing.payments.rowsOf(OWNER, inv.guid) : [], pendingNet, now);
      if (credit > 0) {
        this.#entry(row.customer_guid, -credit, N.BalanceTransactionType.subscription_credit, inv.guid, now);
        this.db.update("invoices", inv.guid, { credited_amount: this.core.addAmounts(inv.credited_amount, credit), updated_at: now });
      }
      // The cancel's credit counted what the subscription still owed in pending prorations: they lapse now.
      if (pendingNet > 0) this.db.run("DELETE FROM subscription_adjustments WHERE subscription_guid = ? AND invoice_guid IS NULL", row.guid);
    }
    this.db.update("subscriptions", row.guid, { canceled: 1, canceled_at: now, cancel_at: null, updated_at: now });
    this.#ended(row.guid, now);
  }

  /**
   * Ends now every active subscription of a deleted plan or customer (`column` is plan_guid or customer_guid), each
   * the way an immediate cancel ends it: its pending credit to the balance, its event sent.
   */
  cancelAllOf(column, guid, now) {
    const column_ = { plan_guid: "plan_guid", customer_guid: "customer_guid" }[column];
    for (const { guid: sub } of this.db.all(`SELECT guid FROM subscriptions WHERE ${column_} = ? AND canceled = 0`, guid)) {
      this.cancelNow(this.row(sub), false, now);
    }
  }

  /** Due work: the trial-ending notice, once. */
  noticeTrial(guid, now) {
    this.db.tx(() => {
      const row = this.db.one("SELECT * FROM subscriptions WHERE guid = ?", guid);
      if (!row || row.trial_notice_at === null || row.trial_notice_at > now) return;
      this.db.update("subscriptions", guid, { trial_notice_at: null });
      if (!row.canceled) this.announce(guid, E["customer.subscription.trial_ending"], now);
    });
  }

  /** The next invoice as the core would make it, written nowhere; null when none will come. */
  upcoming(row, now) {
    const next = this.core.upcomingPeriod(row);
    if (!next) return null;
    const usage = this.usage.lines(row, JSON.parse(row.metered_items || "[]"), next.period);
    const amount = usage.lines.reduce((sum, l) => this.core.addAmounts(sum, l.amount),
      this.core.subscriptionAmount(row.amount, row.plan_amount));
    const coupon = row.coupon_code ? couponRow(this.db.one("SELECT * FROM coupons WHERE guid = ?", row.coupon_code)) : null;
    const x = this.core.composeInvoice(amount, this.pending(row.guid), coupon, row.coupon_applied,
      this.balances.amount(row.customer_guid, BALANCE_CURRENCY), row.plan_type);
    return { object: "upcoming_invoice", subscription_guid: row.guid, customer_guid: row.customer_guid,
      invoice_type: "subscription", transaction_type: row.plan_type, period_start: next.period_start,
      period_end: next.period_end, scheduled_at: next.period_start, amount, items: usage.lines.map(usageItem),
      adjustments: x.adjustments,
      total_adjustment_amount: x.total_adjustment_amount, effective_amount: x.effective_amount,
      balance_applied: x.balance_applied, coupon: x.coupon_applied ? row.coupon_code : null, currency: CURRENCY,
      funding_instrument_uri: row.funding_instrument_uri, previewed_at: now };
  }
}
