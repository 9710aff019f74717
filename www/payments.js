// @ts-check
// The payment path, for any owner of transactions (invoice today; orders and checkouts next):
//   stage (commit the intent) → submit (processor call, transaction guid = idempotency key) → commit the answer
//   → poll pending ones → reconcile released ones.
// Every state change is the core's (`applyAnswer`, `releaseTransaction`, `reconcileAnswer`); this module reads the
// row, asks, and writes what it is told in one transaction. It knows nothing about invoices: an owner registers a
// reaction to the effects of its own transactions (`owners.register`).
import { ApiError } from "./http.js";
import { N } from "./core.js";

/**
 * An owner's reactions, inside the transaction that makes the change: `onEffect` to what an answer meant (the
 * invoice follows its payments), `onChange` to every change of one of its rows, `before` null for a new one (an
 * order keeps its balances).
 * @typedef {{ onEffect?: (tx: any, effect: string, now: string) => void,
 *   onChange?: (before: any|null, after: any, now: string) => void }} OwnerHooks
 * @typedef {{ owner_type: string, owner_guid: string, transaction_type: string, amount: number, currency: string,
 *   funding_instrument_uri?: string|null, appears_on_statement_as?: string|null, reference_guid?: string|null,
 *   reason?: string|null, customer_guid?: string|null, description?: string|null, destination?: string|null }} StageFields
 */

export class Payments {
  /**
   * @param {{ db: import("./db.js").Db, core: typeof import("./core.js"), now: () => string,
   *   processor: () => any, maxAttempts: () => number, beforeCall: () => Promise<void>,
   *   notify?: (type: string, row: any, now: string) => void }} deps   notify: a transaction was created or changed
   */
  constructor({ db, core, now, processor, maxAttempts, beforeCall, notify = () => {} }) {
    this.notify = notify;
    this.db = db;
    this.core = core;
    this.now = now;
    this.processor = processor;
    this.maxAttempts = maxAttempts;
    this.beforeCall = beforeCall;
    /** @type {Map<string, OwnerHooks>} */
    this.owners = new Map();
    /** Transaction guid → promise of its processor call in flight, so one key is never sent twice at once. */
    this.inflight = new Map();
  }

  /** @param {string} ownerType @param {OwnerHooks} hooks */
  register(ownerType, hooks) {
    this.owners.set(ownerType, hooks);
  }

  // ---- inside a transaction ----------------------------------------------------------------------------------

  /**
   * Inserts a staged transaction (lifecycle columns from the core). A batch passes its `guid` and the core's staged
   * `lifecycle` for `now`, computed once for all its rows.
   * @param {StageFields} fields @returns {string}
   */
  stage(fields, now, { guid = this.core.guid("TX"), lifecycle = this.core.stagedTransaction(now) } = {}) {
    if (fields.reference_guid) {
      // A refund or reversal returns money through the processor that moved it (409 processor_changed otherwise).
      const ref = this.db.one("SELECT processor_uri FROM transactions WHERE guid = ?", fields.reference_guid);
      this.core.checkSameProcessor(ref?.processor_uri ?? null, this.db.companyRow().processor ?? N.ProcessorName.simulator);
    }
    const row = { funding_instrument_uri: null, appears_on_statement_as: null, reference_guid: null, reason: null,
      customer_guid: null, description: null, destination: null, ...fields,
      ...this.#columns(lifecycle), guid, created_at: now, updated_at: now };
    this.db.insert("transactions", row);
    this.owners.get(fields.owner_type)?.onChange?.(null, row, now);
    this.notify(N.WebhookEventType["transaction.created"], row, now);
    return guid;
  }

  /** The owner's transactions, in the order they were made. */
  rowsOf(ownerType, ownerGuid) {
    return this.db.all("SELECT * FROM transactions WHERE owner_type = ? AND owner_guid = ? ORDER BY seq",
      ownerType, ownerGuid);
  }

  /** Whether any of the owner's payments is pending at the processor (it may still succeed). */
  hasPending(ownerType, ownerGuid) {
    return this.db.one(`SELECT 1 AS x FROM transactions WHERE owner_type = ? AND owner_guid = ? AND submit_status = ?
      AND status = ?`, ownerType, ownerGuid, N.SubmitStatus.done, N.TransactionStatus.pending) !== null;
  }

  /**
   * Whether any of the owner's payments may still move money: staged, retrying, pending at the processor, or failed
   * on an attempt without an answer and not reconciled yet.
   */
  inFlight(ownerType, ownerGuid) {
    return this.db.one(`SELECT 1 AS x FROM transactions WHERE owner_type = ? AND owner_guid = ?
      AND (submit_status IN (?, ?) OR (submit_status = ? AND status = ?) OR (submit_status = ? AND reconcile_at IS NOT NULL))`,
    ownerType, ownerGuid, N.SubmitStatus.staged, N.SubmitStatus.retrying, N.SubmitStatus.done, N.TransactionStatus.pending,
    N.SubmitStatus.failed) !== null;
  }

  /**
   * The owner lets go of its open transactions (cancel, new instrument). `uncertain` holds the guids whose earlier
   * attempts could not be confirmed as harmless: they are kept for reconciliation, so a charge that went through
   * unseen is still found and repaid.
   */
  release(ownerType, ownerGuid, uncertain, now) {
    for (const row of this.rowsOf(ownerType, ownerGuid)) {
      // A call another request has at the processor right now may take the money whatever was asked before it:
      // it is uncertain, kept for reconciliation (and repaid if it succeeds).
      const certain = !uncertain.has(row.guid) && !this.inflight.has(row.guid);
      const changes = this.core.releaseTransaction(row, certain, now);
      if (changes) this.#write(row, changes, now);
    }
  }

  /**
   * The owner gives up without asking the processor (its payment failed for good): every transaction still open or
   * awaiting reconciliation is let go of as uncertain, so money found to have moved after all is repaid.
   */
  releaseUnasked(ownerType, ownerGuid, now) {
    this.release(ownerType, ownerGuid, new Set(this.rowsOf(ownerType, ownerGuid).map((r) => r.guid)), now);
  }

  // ---- after commit: the processor ---------------------------------------------------------------------------

  /** Waits for processor calls in flight for the owner's transactions. */
  async quiesce(ownerType, ownerGuid) {
    const guids = this.rowsOf(ownerType, ownerGuid).map((r) => r.guid);
    await Promise.all(guids.map((g) => this.inflight.get(g)).filter(Boolean));
  }

  /**
   * Before an owner lets go of its open transactions, asks the processor (by idempotency key) whether an earlier
   * attempt charged after all; a charge found is recorded (so the owner's state check then sees it). Returns the
   * guids the processor could not be asked about. `strict`: that is an error (503) instead.
   */
  async lookUpOpen(ownerType, ownerGuid, { strict }) {
    await this.quiesce(ownerType, ownerGuid);
    const uncertain = new Set();
    for (const row of this.rowsOf(ownerType, ownerGuid)) {
      if (!this.core.needsLookup(row)) continue;
      let answer;
      try {
        answer = await this.processor().lookup({ idempotency_key: row.guid, kind: row.transaction_type,
          reference_processor_uri: this.#reference(row) });
      } catch { answer = null; }
      if (answer === null || answer.outcome === N.ProcessorOutcome.error) {
        if (strict) {
          throw new ApiError(503, "processor_unavailable",
            "The processor cannot confirm an earlier payment attempt; retry shortly");
        }
        uncertain.add(row.guid);
        continue;
      }
      if (answer.outcome !== N.ProcessorOutcome.not_found) await this.#commit(row.guid, answer, "apply");
    }
    return uncertain;
  }

  /**
   * Submits the owner's staged transactions. A processor answer the core cannot read (a broken processor) leaves
   * the transaction staged for the scheduler, which records the error; the caller's request is not failed by it.
   */
  async submitOwner(ownerType, ownerGuid) {
    const rows = this.db.all(`SELECT guid FROM transactions WHERE owner_type = ? AND owner_guid = ? AND submit_status = ?
      ORDER BY seq`, ownerType, ownerGuid, N.SubmitStatus.staged);
    for (const { guid } of rows) {
      try { await this.submit(guid); } catch (err) { console.error("submit", guid, err?.message || err); }
    }
  }

  /** One submission attempt of one transaction. Safe to call twice: the second call joins the first. */
  submit(guid) {
    return this.#once(guid, () => this.#submit(guid));
  }

  /** Asks the processor for a pending transaction's final status. */
  poll(guid) {
    return this.#once(guid, async () => {
      const tx = this.db.one("SELECT * FROM transactions WHERE guid = ?", guid);
      if (!tx || !tx.processor_uri || tx.submit_status !== N.SubmitStatus.done || tx.status !== N.TransactionStatus.pending) return;
      await this.#commit(guid, await this.#call("retrieve", { processor_uri: tx.processor_uri }), "apply");
    });
  }

  /** Looks up a released transaction that may have charged unseen; a charge found is repaid. */
  reconcile(guid) {
    return this.#once(guid, async () => {
      const tx = this.db.one("SELECT * FROM transactions WHERE guid = ?", guid);
      if (!tx || tx.reconcile_at === null) return;
      await this.#commit(guid, await this.#call("lookup", { idempotency_key: guid, kind: tx.transaction_type,
        reference_processor_uri: this.#reference(tx) }), "reconcile");
    });
  }

  /** The processor's name for the movement `tx` returns (a refund's debit, a reversal's credit), if any. */
  #reference(tx) {
    return tx.reference_guid
      ? this.db.one("SELECT processor_uri FROM transactions WHERE guid = ?", tx.reference_guid)?.processor_uri ?? null
      : null;
  }

  #once(guid, fn) {
    const running = this.inflight.get(guid);
    if (running) return running;
    const p = fn().finally(() => this.inflight.delete(guid));
    this.inflight.set(guid, p);
    return p;
  }

  async #submit(guid) {
    // Only what the request needs (a row of every column costs several times more to read, per item of a bulk run).
    const tx = this.db.one(`SELECT guid, submit_status, transaction_type, amount, currency, destination,
      funding_instrument_uri, appears_on_statement_as, reference_guid, failure_count FROM transactions WHERE guid = ?`, guid);
    if (!tx || (tx.submit_status !== N.SubmitStatus.staged && tx.submit_status !== N.SubmitStatus.retrying)) return;
    const reference = this.#reference(tx);
    await this.beforeCall();
    // `attempt` > 1 tells a processor this key may have reached it before (Stripe's adapter then looks first).
    const answer = await this.#call("submit", { idempotency_key: tx.guid, kind: tx.transaction_type, amount: tx.amount,
      currency: tx.currency ?? null, destination: tx.destination ?? null, funding_instrument_uri: tx.funding_instrument_uri,
      appears_on_statement_as: tx.appears_on_statement_as, reference_processor_uri: reference,
      attempt: Number(tx.failure_count || 0) + 1 });
    await this.#commit(guid, answer, "apply");
  }

  /** A processor call; an unreachable processor is a transient error like any other. */
  async #call(method, request) {
    try {
      return await this.processor()[method](request);
    } catch (err) {
      return { outcome: N.ProcessorOutcome.error, error_code: "processor-unreachable",
        error_message: String(err?.message || err) };
    }
  }

  /**
   * Commits one processor answer: the core's step is written whole (transaction columns, failure, compensation),
   * the owner reacts to the effect, all in one transaction; a compensation is then submitted.
   */
  async #commit(guid, answer, mode) {
    const now = this.now();
    const compensation = this.db.tx(() => {
      const tx = this.db.one("SELECT * FROM transactions WHERE guid = ?", guid);
      if (!tx) return null;
      const max = this.maxAttempts();
      const step = mode === "reconcile" ? this.core.reconcileAnswer(tx, answer, now, max)
        : this.core.applyAnswer(tx, answer, now, max);
      if (!step.changes) return null;
      this.#write(tx, step.changes, now);
      if (step.failure) {
        this.db.insert("failures", { guid: this.core.guid("FL"), transaction_guid: guid, ...step.failure,
          created_at: now });
      }
      let staged = null;
      if (step.compensation) {
        staged = this.stage({ owner_type: tx.owner_type, owner_guid: tx.owner_guid,
          transaction_type: step.compensation.transaction_type, amount: step.compensation.amount,
          funding_instrument_uri: tx.funding_instrument_uri, appears_on_statement_as: tx.appears_on_statement_as,
          reference_guid: tx.guid, reason: step.compensation.reason, currency: tx.currency,
          customer_guid: tx.customer_guid, destination: tx.destination }, now);
      }
      this.owners.get(tx.owner_type)?.onEffect?.(tx, step.effect, now);
      return staged;
    });
    if (compensation) await this.submit(compensation);
  }

  /** Writes the core's lifecycle columns of a row and tells its owner. */
  #write(row, changes, now) {
    const columns = { ...this.#columns(changes), updated_at: now };
    this.db.update("transactions", row.guid, columns);
    this.owners.get(row.owner_type)?.onChange?.(row, { ...row, ...columns }, now);
    this.notify(N.WebhookEventType["transaction.updated"], { ...row, ...columns }, now);
  }

  /** The core's lifecycle columns as SQLite values. */
  #columns(changes) {
    return { ...changes, unwanted: changes.unwanted ? 1 : 0 };
  }
}
