// @ts-check
// The built-in payment processor simulator: a Durable Object with its own ledger, standing in for a real processor
// in test mode. Reached by RPC through the adapter (www/processor.js). The funding instrument URI chooses the
// outcome (README "Simulator"):
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

export class Simulator extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.env = env;
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS charges (
      seq INTEGER PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, amount INTEGER NOT NULL,
      funding_instrument_uri TEXT, status TEXT NOT NULL, processor_uri TEXT NOT NULL,
      error_code TEXT, error_message TEXT, reference_processor_uri TEXT, retrieves INTEGER NOT NULL DEFAULT 0)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS attempts (idempotency_key TEXT PRIMARY KEY, count INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS lookups (idempotency_key TEXT PRIMARY KEY, count INTEGER NOT NULL)`);
  }

  /** Real processors take time to answer: SIMULATOR_LATENCY_MS (default 0) of it, for benchmarks. */
  async #latency() {
    const ms = Number(this.env?.SIMULATOR_LATENCY_MS || 0);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Counts the calls being answered at once (the most is in the ledger: a check of the caller's concurrency). */
  async #answering(fn) {
    this.inFlight = (this.inFlight || 0) + 1;
    this.maxInFlight = Math.max(this.maxInFlight || 0, this.inFlight);
    try { await this.#latency(); return await fn(); } finally { this.inFlight--; }
  }

  #one(query, ...args) {
    return this.ctx.storage.sql.exec(query, ...args).toArray()[0] ?? null;
  }

  #count(table, key) {
    const n = (this.#one(`SELECT count FROM ${table} WHERE idempotency_key = ?`, key)?.count || 0) + 1;
    this.ctx.storage.sql.exec(`INSERT INTO ${table} (idempotency_key, count) VALUES (?, ?)
      ON CONFLICT (idempotency_key) DO UPDATE SET count = excluded.count`, key, n);
    return n;
  }

  /** The ledger: every charge by idempotency key, and how often each key was attempted. */
  async ledger() {
    const sql = this.ctx.storage.sql;
    return { charges: sql.exec("SELECT * FROM charges ORDER BY seq").toArray(),
      attempts: sql.exec("SELECT * FROM attempts").toArray(), max_in_flight: this.maxInFlight || 0 };
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

  #retrieve({ processor_uri }) {
    const row = this.#one("SELECT * FROM charges WHERE processor_uri = ?", processor_uri);
    if (!row) return { outcome: "error", error_code: "not-found", error_message: "unknown charge" };
    if (row.status === "pending") {
      this.ctx.storage.sql.exec("UPDATE charges SET status = 'succeeded', retrieves = retrieves + 1 WHERE seq = ?", row.seq);
      row.status = "succeeded";
    }
    return outcomeOf(row);
  }

  /** Whether a charge exists under this idempotency key (answers lost in transit are found here). */
  #lookup({ idempotency_key }) {
    const key = String(idempotency_key);
    const row = this.#one("SELECT * FROM charges WHERE idempotency_key = ?", key);
    if (row && String(row.funding_instrument_uri).includes("lookup_fails_once") && this.#count("lookups", key) === 1) {
      throw new Error("simulated: the processor did not answer the lookup");
    }
    return row ? outcomeOf(row) : { outcome: "not_found" };
  }

  #submit(body) {
    const key = String(body.idempotency_key);
    const existing = this.#one("SELECT * FROM charges WHERE idempotency_key = ?", key);
    if (existing) return { ...outcomeOf(existing), replayed: true };

    const attempt = this.#count("attempts", key);
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
    this.ctx.storage.sql.exec(`INSERT INTO charges (idempotency_key, kind, amount, funding_instrument_uri, status,
      processor_uri, error_code, error_message, reference_processor_uri) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      key, kind, body.amount, instrument, status, processorUri, errorCode, errorMessage,
      body.reference_processor_uri ?? null);
    if (instrument.includes("lost_response") && attempt === 1) {
      throw new Error("simulated: upstream connection reset (the charge was taken, the answer lost)");
    }
    return outcomeOf({ status, processor_uri: processorUri, error_code: errorCode, error_message: errorMessage });
  }
}

function outcomeOf(row) {
  return { outcome: row.status, processor_uri: row.processor_uri, error_code: row.error_code,
    error_message: row.error_message };
}
