// @ts-check
import { ApiError } from "./http.js";

// Invoices and transactions: the write paths shared by the routes and the scheduler.
// Pattern everywhere: inside db.tx() read rows → ask the core → write rows. Processor calls only after commit,
// with the transaction guid as idempotency key; their outcome is committed in a second transaction.

/** How long to wait before asking the processor again about a pending transaction. */
const PENDING_POLL_MS = 60 * 60 * 1000;
/** At most this many periods are invoiced per subscription per pass (the scheduler loops for more). */
const MAX_PERIODS_PER_PASS = 100;

export class Billing {
  /** @param {import("./company.js").Company} co */
  constructor(co) {
    this.co = co;
    this.db = co.db;
    this.core = co.core;
    /** Transaction guid → promise of its in-flight processor call, so one key is never sent twice at once. */
    this.inflight = new Map();
  }

  // ---- inside a transaction -------------------------------------------------------------------------------

  /**
   * Inserts an invoice row and, when it can be paid now, its staged transaction. Returns the invoice guid.
   * The core decides how it opens: nothing to pay → settled, an instrument → processing + a charge, else staged.
   */
  insertInvoice(fields, now) {
    const core = this.core;
    const guid = core.guid("IV");
    const { status, charge } = core.invoiceOpening(fields.effective_amount, fields.funding_instrument_uri);
    this.db.insert("invoices", { ...fields, guid, status, items: JSON.stringify(fields.items || []),
      adjustments: JSON.stringify(fields.adjustments || []), created_at: now, updated_at: now });
    if (charge) {
      this.stageTransaction({ invoice_guid: guid, transaction_type: fields.transaction_type,
        amount: fields.effective_amount, funding_instrument_uri: fields.funding_instrument_uri,
        appears_on_statement_as: fields.appears_on_statement_as }, now);
    }
    return guid;
  }

  stageTransaction(fields, now) {
    const guid = this.core.guid("TX");
    this.db.insert("transactions", { ...fields, guid, submit_status: "staged", status: null, failure_count: 0,
      created_at: now, updated_at: now });
    return guid;
  }

  /** Cancels this invoice's transactions that have not reached the processor's final answer. */
  cancelOpenTransactions(invoiceGuid, now) {
    this.db.run(`UPDATE transactions SET submit_status = 'canceled', next_attempt_at = NULL, updated_at = ?
      WHERE invoice_guid = ? AND transaction_type != 'refund' AND submit_status IN ('staged', 'retrying')`, now, invoiceGuid);
  }

  /**
   * Creates the invoices of every due period of one subscription (catch-up: one per missed period, in order),
   * and advances its schedule. The unique (subscription_guid, period) index makes a second run a no-op.
   * @returns {number} periods invoiced
   */
  invoiceDuePeriods(sub, plan, now) {
    const core = this.core;
    const due = core.duePeriods(sub.started_at, plan.frequency, plan.interval, sub.invoice_count, now,
      MAX_PERIODS_PER_PASS);
    const amount = core.subscriptionAmount(sub.amount, plan.amount);
    for (const { period, scheduled_at } of due.periods) {
      const exists = this.db.one("SELECT 1 AS x FROM invoices WHERE subscription_guid = ? AND period = ?", sub.guid, period);
      if (exists) continue;
      const totals = core.invoiceTotals(amount, []);
      this.insertInvoice({ invoice_type: "subscription", transaction_type: plan.plan_type,
        customer_guid: sub.customer_guid, subscription_guid: sub.guid, period, scheduled_at, amount,
        total_adjustment_amount: totals.total_adjustment_amount, effective_amount: totals.effective_amount,
        title: null, external_id: null, appears_on_statement_as: sub.appears_on_statement_as,
        funding_instrument_uri: sub.funding_instrument_uri, items: [], adjustments: [] }, now);
    }
    this.db.update("subscriptions", sub.guid, { invoice_count: sub.invoice_count + due.periods.length,
      next_invoice_at: due.next_invoice_at, updated_at: now });
    return due.periods.length;
  }

  // ---- after commit: the processor -----------------------------------------------------------------------

  /** Submits every staged transaction of an invoice (or all staged ones), awaiting the outcomes. */
  async submitStaged(invoiceGuid = null) {
    const rows = invoiceGuid
      ? this.db.all("SELECT guid FROM transactions WHERE invoice_guid = ? AND submit_status = 'staged' ORDER BY seq", invoiceGuid)
      : this.db.all("SELECT guid FROM transactions WHERE submit_status = 'staged' ORDER BY seq");
    for (const { guid } of rows) await this.submit(guid);
  }

  /** Waits for any processor call in flight for this invoice's transactions. */
  async quiesce(invoiceGuid) {
    const guids = this.db.all("SELECT guid FROM transactions WHERE invoice_guid = ?", invoiceGuid).map((r) => r.guid);
    await Promise.all(guids.map((g) => this.inflight.get(g)).filter(Boolean));
  }

  /**
   * Before a retrying transaction is canceled or replaced, asks the processor whether an earlier attempt charged
   * after all (its answer lost in transit). If so the outcome is recorded — the invoice is paid and the caller's
   * state check then refuses the change — so replacing the instrument can never charge twice.
   */
  async reconcile(invoiceGuid) {
    const rows = this.db.all("SELECT guid FROM transactions WHERE invoice_guid = ? AND submit_status = 'retrying'", invoiceGuid);
    for (const { guid } of rows) {
      let result;
      try { result = await this.co.processor().lookup({ idempotency_key: guid }); }
      catch {
        throw new ApiError(503, "processor_unavailable",
          "The processor cannot confirm an earlier payment attempt of this invoice; retry shortly");
      }
      if (result.outcome !== "not_found") this.db.tx(() => this.applyOutcome(guid, result, this.co.now()));
    }
  }

  /** One submission attempt of one transaction. Safe to call twice: the second call joins the first. */
  submit(txGuid) {
    const running = this.inflight.get(txGuid);
    if (running) return running;
    const p = this.#submit(txGuid).finally(() => this.inflight.delete(txGuid));
    this.inflight.set(txGuid, p);
    return p;
  }

  async #submit(txGuid) {
    const tx = this.db.one("SELECT * FROM transactions WHERE guid = ?", txGuid);
    if (!tx || (tx.submit_status !== "staged" && tx.submit_status !== "retrying")) return;
    let reference = null;
    if (tx.reference_guid) {
      reference = this.db.one("SELECT processor_uri FROM transactions WHERE guid = ?", tx.reference_guid)?.processor_uri ?? null;
    }
    await this.co.scheduler.watchdog();
    let result;
    try {
      result = await this.co.processor().submit({ idempotency_key: tx.guid, kind: tx.transaction_type,
        amount: tx.amount, funding_instrument_uri: tx.funding_instrument_uri,
        appears_on_statement_as: tx.appears_on_statement_as, reference_processor_uri: reference });
    } catch (err) {
      result = { outcome: "error", error_code: "processor-unreachable", error_message: String(err?.message || err) };
    }
    this.db.tx(() => this.applyOutcome(txGuid, result, this.co.now()));
  }

  /** Polls the processor for a pending transaction's final status. */
  async poll(txGuid) {
    const tx = this.db.one("SELECT * FROM transactions WHERE guid = ?", txGuid);
    if (!tx || tx.status !== "pending" || !tx.processor_uri) return;
    let result;
    try { result = await this.co.processor().retrieve({ processor_uri: tx.processor_uri }); }
    catch { result = { outcome: "error" }; }
    this.db.tx(() => {
      const now = this.co.now();
      if (result.outcome === "pending" || result.outcome === "error") {
        this.db.update("transactions", txGuid, { next_attempt_at: this.later(now, PENDING_POLL_MS), updated_at: now });
        return;
      }
      const status = result.outcome === "succeeded" ? "succeeded" : "failed";
      this.db.update("transactions", txGuid, { status, next_attempt_at: null, updated_at: now });
      if (tx.transaction_type !== "refund") this.moveInvoice(tx.invoice_guid, status, now);
    });
  }

  /** Commits a processor outcome: the transaction's states, its failure record, and the invoice's state. */
  applyOutcome(txGuid, result, now) {
    const core = this.core;
    const tx = this.db.one("SELECT * FROM transactions WHERE guid = ?", txGuid);
    if (!tx) return;
    const affectsInvoice = tx.transaction_type !== "refund";
    const outcome = result.outcome;
    if (outcome === "succeeded" || outcome === "pending") {
      // Money moved (or will): record it even if the transaction was canceled meanwhile — the processor is truth.
      this.db.update("transactions", txGuid, { submit_status: "done", status: outcome, processor_uri: result.processor_uri,
        next_attempt_at: outcome === "pending" ? this.later(now, PENDING_POLL_MS) : null, updated_at: now });
      if (affectsInvoice) this.moveInvoice(tx.invoice_guid, outcome, now);
      return;
    }
    if (tx.submit_status === "canceled") return;
    const failureCount = tx.failure_count + 1;
    this.db.insert("failures", { guid: core.guid("FL"), transaction_guid: txGuid, error_code: result.error_code ?? null,
      error_message: result.error_message ?? null, created_at: now });
    const max = this.db.one("SELECT max_retry_attempts FROM company").max_retry_attempts;
    const decision = core.retryDecision(failureCount, max, outcome === "declined", now);
    this.db.update("transactions", txGuid, { failure_count: failureCount, submit_status: decision.submit_status,
      status: decision.submit_status === "failed" ? "failed" : null, next_attempt_at: decision.next_retry_at,
      processor_uri: result.processor_uri ?? tx.processor_uri, updated_at: now });
    if (affectsInvoice && decision.submit_status === "failed") this.moveInvoice(tx.invoice_guid, "failed", now);
  }

  /** Applies a processor status to the invoice through the core's state machine; stale events are ignored. */
  moveInvoice(invoiceGuid, processorStatus, now) {
    const inv = this.db.one("SELECT status FROM invoices WHERE guid = ?", invoiceGuid);
    if (!inv) return;
    let next;
    try { next = this.core.invoiceTransition(inv.status, this.core.outcomeEvent(processorStatus)); }
    catch { return; } // e.g. a late success for an invoice canceled meanwhile: the transaction row keeps the truth
    if (next !== inv.status) this.db.update("invoices", invoiceGuid, { status: next, updated_at: now });
  }

  later(now, ms) {
    return this.core.formatTime(this.core.timeMillis(now) + ms);
  }
}
