// @ts-check
// The built-in payment processor simulator, standing in for a real processor in test mode. It lives inside the
// company's Durable Object with its own ledger (tables simulator_* of the company's database, migration 0015), which
// only it writes and never inside one of the company's transactions: the payment path calls it after its commit,
// exactly as it calls Stripe. (It used to be a Durable Object of its own; a call to another object costs a round trip
// and a storage flush on each side, which made the stand-in cost three times the billing it stood in for: measured,
// docs/performance.md.) The funding instrument URI chooses the outcome (README "Simulator"):
//   …hard_decline…       declined (card-declined), final
//   …fail_once…          the first attempt of a key fails with a transient error, the next one succeeds
//   …always_error…       every attempt fails with a transient error
//   …pending…            accepted as pending; the next retrieve reports it succeeded
//   …lost_response…      the first attempt succeeds (money moves) but its answer is lost (the call fails): the
//                        caller must retry with the same key and get the recorded success, never a second charge
//   …lookup_fails_once…  the first lookup by idempotency key of such a payment fails (processor unreachable)
//   …malformed_answer…   the processor answers with something that is not an outcome
//   anything else        succeeds at once
// Idempotency: a key that already has a ledger entry returns that entry's result; money moves once per key.
// Transient errors are not recorded as charges (as with Stripe, where 5xx responses are not cached).
import { DurableObject } from "cloudflare:workers";

const PATHS = { debit: "debits", credit: "credits", refund: "refunds", reversal: "reversals" };
/** A charge's columns, as the ledger shows them. */
const CHARGE = `idempotency_key, kind, amount, funding_instrument_uri, status, processor_uri, error_code, error_message,
  reference_processor_uri, retrieves`;

export class Simulator {
  /** @param {SqlStorage} sql the company's database @param {number} latencyMs how long each answer takes */
  constructor(sql, latencyMs) {
    this.sql = sql;
    this.latencyMs = latencyMs;
    this.inFlight = 0;
    this.maxInFlight = 0;
  }

  /** The ledger: every charge by idempotency key, how often each key was attempted, and the most calls at once. */
  async ledger() {
    return { charges: this.sql.exec(`SELECT seq, ${CHARGE} FROM simulator_keys WHERE status IS NOT NULL ORDER BY seq`).toArray(),
      attempts: this.sql.exec("SELECT idempotency_key, attempts AS count FROM simulator_keys WHERE attempts > 0 ORDER BY seq").toArray(),
      max_in_flight: this.maxInFlight };
  }

  /** A charge's current status; a pending one has succeeded by the time it is asked about. */
  retrieve(request) {
    return this.#answering(() => this.#retrieve(request));
  }

  lookup(request) {
    return this.#answering(() => this.#lookup(request));
  }

  submit(request) {
    return this.#answering(() => this.#submit(request));
  }

  /**
   * Every answer comes in a later task than its call (after SIMULATOR_LATENCY_MS when set), as a remote processor's
   * would: the caller never sees its answer inside the turn that asked. The calls of one turn are answered together
   * in one later task, as answers arriving together off one connection would be: the caller then commits each
   * outcome in its own transaction, and the Durable Object writes those transactions out in one flush instead of one
   * flush per answer (measured: the flushes, not the statements, were most of the cost; docs/performance.md).
   * Counts the calls being answered at once.
   */
  #answering(fn) {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve, reject) => {
      this.queue.push({ fn, resolve, reject });
      if (this.queue.length === 1) setTimeout(() => this.#answer(), this.latencyMs);
    });
  }

  #answer() {
    const due = this.queue;
    this.queue = [];
    for (const { fn, resolve, reject } of due) {
      this.inFlight--;
      // A copy through JSON, as over the wire: no caller shares an object with the ledger.
      try { resolve(JSON.parse(JSON.stringify(fn()))); } catch (err) { reject(err); }
    }
  }

  /** @type {{ fn: () => any, resolve: (v: any) => void, reject: (e: any) => void }[]} */
  queue = [];

  /** A charge by its idempotency key (null: never charged). */
  #charge(key) {
    const row = this.sql.exec(`SELECT ${CHARGE} FROM simulator_keys WHERE idempotency_key = ?`, key).toArray()[0];
    return row?.status ? row : null;
  }

  #retrieve({ processor_uri }) {
    // The simulator's processor URI ends with the idempotency key (#submit), which the ledger is indexed by.
    const key = String(processor_uri).split("/").pop();
    const row = this.#charge(key);
    if (!row || row.processor_uri !== processor_uri) return { outcome: "error", error_code: "not-found", error_message: "unknown charge" };
    if (row.status === "pending") {
      this.sql.exec("UPDATE simulator_keys SET status = 'succeeded', retrieves = retrieves + 1 WHERE idempotency_key = ?", key);
      row.status = "succeeded";
    }
    return outcomeOf(row);
  }

  /** Whether a charge exists under this idempotency key (answers lost in transit are found here). */
  #lookup({ idempotency_key }) {
    const key = String(idempotency_key);
    const row = this.#charge(key);
    if (row && String(row.funding_instrument_uri).includes("lookup_fails_once")
      && this.sql.exec("UPDATE simulator_keys SET lookups = lookups + 1 WHERE idempotency_key = ? RETURNING lookups", key).one().lookups === 1) {
      throw new Error("simulated: the processor did not answer the lookup");
    }
    return row ? outcomeOf(row) : { outcome: "not_found" };
  }

  #submit(body) {
    const key = String(body.idempotency_key);
    // One statement finds the key or makes its row, counting this attempt unless the key has already charged (then
    // the answer is that charge's, replayed, and nothing moves).
    const row = this.sql.exec(`INSERT INTO simulator_keys (idempotency_key, attempts) VALUES (?, 1)
      ON CONFLICT (idempotency_key) DO UPDATE SET attempts = attempts + (status IS NULL)
      RETURNING attempts, ${CHARGE}`, key).one();
    if (row.status) return { ...outcomeOf(row), replayed: true };

    const attempt = row.attempts;
    const instrument = String(body.funding_instrument_uri || "");
    if (instrument.includes("malformed_answer")) return { outcome: "garbled", detail: "not an outcome" };
    if (instrument.includes("always_error") || (instrument.includes("fail_once") && attempt === 1)) {
      return { outcome: "error", error_code: "processor-unavailable",
        error_message: "The processor did not answer (simulated transient failure)" };
    }
    let status = "succeeded", errorCode = null, errorMessage = null;
    if (instrument.includes("hard_decline")) {
      status = "declined"; errorCode = "card-declined"; errorMessage = "The card was declined (simulated hard decline)";
    } else if (instrument.includes("pending")) {
      status = "pending";
    }
    const kind = PATHS[body.kind] ? body.kind : "debit";
    const processorUri = `/v1/marketplaces/TEST-SIMULATOR/${PATHS[kind]}/${key}`;
    this.sql.exec(`UPDATE simulator_keys SET kind = ?, amount = ?, funding_instrument_uri = ?, status = ?, processor_uri = ?,
      error_code = ?, error_message = ?, reference_processor_uri = ? WHERE idempotency_key = ?`,
      kind, body.amount, instrument, status, processorUri, errorCode, errorMessage, body.reference_processor_uri ?? null, key);
    if (instrument.includes("lost_response") && attempt === 1) {
      throw new Error("simulated: upstream connection reset (the charge was taken, the answer lost)");
    }
    return outcomeOf({ status, processor_uri: processorUri, error_code: errorCode, error_message: errorMessage });
  }

  /**
   * A company made before the simulator moved in copies the ledger of its old simulator object once (so a key that
   * object already charged is still a replay, never a second charge). `legacy` is that object's RPC stub.
   */
  async importLegacy(legacy) {
    if (!this.sql.exec("SELECT owed FROM simulator_import").toArray()[0]?.owed) return;
    const { charges, attempts, lookups } = await legacy.export();
    const upsert = (key) => this.sql.exec("INSERT INTO simulator_keys (idempotency_key) VALUES (?) ON CONFLICT DO NOTHING", key);
    for (const c of charges) {
      upsert(c.idempotency_key);
      this.sql.exec(`UPDATE simulator_keys SET kind = ?, amount = ?, funding_instrument_uri = ?, status = ?, processor_uri = ?,
        error_code = ?, error_message = ?, reference_processor_uri = ?, retrieves = ? WHERE idempotency_key = ?`,
        c.kind, c.amount, c.funding_instrument_uri, c.status, c.processor_uri, c.error_code, c.error_message,
        c.reference_processor_uri, c.retrieves, c.idempotency_key);
    }
    for (const [column, rows] of [["attempts", attempts], ["lookups", lookups]]) {
      for (const a of rows) {
        upsert(a.idempotency_key);
        this.sql.exec(`UPDATE simulator_keys SET ${column} = ? WHERE idempotency_key = ?`, a.count, a.idempotency_key);
      }
    }
    this.sql.exec("UPDATE simulator_import SET owed = 0");
  }

  /** A company made now has no old ledger to copy. */
  nothingToImport() {
    this.sql.exec("UPDATE simulator_import SET owed = 0");
  }
}

/**
 * The simulator's old home, a Durable Object per company: kept so a company made before migration 0015 can copy
 * its ledger from it (Simulator.importLegacy); nothing writes to it any more.
 */
export class LegacySimulator extends DurableObject {
  /** Everything it recorded. */
  async export() {
    const sql = this.ctx.storage.sql;
    const has = (t) => sql.exec("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", t).toArray().length > 0;
    const all = (t) => (has(t) ? sql.exec(`SELECT * FROM ${t}`).toArray() : []);
    return { charges: all("charges"), attempts: all("attempts"), lookups: all("lookups") };
  }
}

function outcomeOf(row) {
  return { outcome: row.status, processor_uri: row.processor_uri, error_code: row.error_code,
    error_message: row.error_message };
}
