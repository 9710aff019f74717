// @ts-check
// The built-in payment processor simulator: a Durable Object with its own ledger, standing in for Balanced.
// The funding instrument URI chooses the outcome (document: README "Simulator"):
//   …hard_decline…   declined (card-declined), final
//   …fail_once…      the first attempt of a key fails with a transient error, the next one succeeds
//   …always_error…   every attempt fails with a transient error
//   …pending…        accepted as pending; the next retrieve reports it succeeded
//   …lost_response…  the first attempt succeeds (money moves) but its answer is lost (HTTP 502): the caller must
//                    retry with the same key and get the recorded success, never a second charge
//   anything else    succeeds at once
// Idempotency: a key that already has a ledger entry returns that entry's result; money moves once per key.
// Transient errors are not recorded as charges (as with Stripe, where 5xx responses are not cached).
import { DurableObject } from "cloudflare:workers";

const PATHS = { debit: "debits", credit: "credits", refund: "refunds" };

export class Simulator extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS charges (
      seq INTEGER PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, amount INTEGER NOT NULL,
      funding_instrument_uri TEXT, status TEXT NOT NULL, processor_uri TEXT NOT NULL,
      error_code TEXT, error_message TEXT, reference_processor_uri TEXT, retrieves INTEGER NOT NULL DEFAULT 0)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS attempts (idempotency_key TEXT PRIMARY KEY, count INTEGER NOT NULL)`);
  }

  async fetch(request) {
    const path = new URL(request.url).pathname;
    const body = await request.json();
    const sql = this.ctx.storage.sql;
    if (path === "/ledger") {
      const charges = sql.exec("SELECT * FROM charges ORDER BY seq").toArray();
      const attempts = sql.exec("SELECT * FROM attempts").toArray();
      return Response.json({ charges, attempts });
    }
    if (path === "/retrieve") {
      const row = sql.exec("SELECT * FROM charges WHERE processor_uri = ?", body.processor_uri).toArray()[0];
      if (!row) return Response.json({ outcome: "error", error_code: "not-found", error_message: "unknown charge" });
      if (row.status === "pending") {
        sql.exec("UPDATE charges SET status = 'succeeded', retrieves = retrieves + 1 WHERE seq = ?", row.seq);
        row.status = "succeeded";
      }
      return Response.json(outcomeOf(row));
    }
    if (path === "/lookup") {
      // Whether a charge exists under this idempotency key (answers lost in transit are found here).
      const row = sql.exec("SELECT * FROM charges WHERE idempotency_key = ?", String(body.idempotency_key)).toArray()[0];
      return Response.json(row ? outcomeOf(row) : { outcome: "not_found" });
    }
    if (path !== "/submit") return new Response("not found", { status: 404 });

    const key = String(body.idempotency_key);
    const existing = sql.exec("SELECT * FROM charges WHERE idempotency_key = ?", key).toArray()[0];
    if (existing) return Response.json({ ...outcomeOf(existing), replayed: true });

    const attempt = (sql.exec("SELECT count FROM attempts WHERE idempotency_key = ?", key).toArray()[0]?.count || 0) + 1;
    sql.exec("INSERT INTO attempts (idempotency_key, count) VALUES (?, ?) ON CONFLICT (idempotency_key) DO UPDATE SET count = ?",
      key, attempt, attempt);
    const instrument = String(body.funding_instrument_uri || "");
    if (instrument.includes("always_error") || (instrument.includes("fail_once") && attempt === 1)) {
      return Response.json({ outcome: "error", error_code: "processor-unavailable",
        error_message: "The processor did not answer (simulated transient failure)" });
    }
    let status = "succeeded", errorCode = null, errorMessage = null;
    if (instrument.includes("hard_decline")) {
      status = "declined"; errorCode = "card-declined"; errorMessage = "The card was declined (simulated hard decline)";
    } else if (instrument.includes("pending")) {
      status = "pending";
    }
    const kind = PATHS[body.kind] ? body.kind : "debit";
    const processorUri = `/v1/marketplaces/TEST-SIMULATOR/${PATHS[kind]}/${key}`;
    sql.exec(`INSERT INTO charges (idempotency_key, kind, amount, funding_instrument_uri, status, processor_uri,
      error_code, error_message, reference_processor_uri) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      key, kind, body.amount, instrument, status, processorUri, errorCode, errorMessage,
      body.reference_processor_uri ?? null);
    if (instrument.includes("lost_response") && attempt === 1) {
      return new Response("upstream connection reset", { status: 502 });
    }
    return Response.json(outcomeOf({ status, processor_uri: processorUri, error_code: errorCode, error_message: errorMessage }));
  }
}

function outcomeOf(row) {
  return { outcome: row.status, processor_uri: row.processor_uri, error_code: row.error_code,
    error_message: row.error_message };
}
