// @ts-check
// Idempotency-Key on writes, as Stripe does it: the first request with a key runs; any later request with the
// same key and the same method, path and body gets the stored response replayed (header Idempotent-Replayed);
// the same key with other parameters is a 400; while the first is still running a retry gets 409.
// Responses of 5xx are not stored (the request may be retried). Keys expire after 24 hours of real time.
// Keys belong to a scope (`run`'s `scope`): the company's secret keys share one, each restricted credential and each
// hosted invoice has its own, so a buyer's key never meets the merchant's.
// A request that commits a change and then calls the processor leaves a recovery point (`recover`) in the same
// transaction as the change: if the host dies before the response is stored, a retry after ABANDONED_MS answers
// from it (the object as it now stands; the payments core finishes the call) and never makes the change again.
// A request that died before committing anything left no recovery point, and is simply run again.
import { ApiError } from "./http.js";
import { sha256Hex } from "./crypto.js";

const TTL_MS = 24 * 60 * 60 * 1000;
/** A key whose first request died without an answer (host crash) is recovered after this long. */
const ABANDONED_MS = 60 * 1000;

/**
 * What a handler is given: `recover(point)` records, inside the handler's own transaction, how to answer for the
 * change it is committing. A point is JSON: `["get", path]` answers with that GET, or a named renderer's arguments.
 * @typedef {{ recover: (point: unknown[]) => void }} Claim
 */

const replayed = (text, status) => new Response(text, { status,
  headers: { "content-type": "application/json; charset=utf-8", "idempotent-replayed": "true" } });

export class Idempotency {
  /** @param {{ db: import("./db.js").Db, core: typeof import("./core.js") }} deps */
  constructor({ db, core, abandonedMs = ABANDONED_MS }) {
    this.db = db;
    this.core = core;
    this.abandonedMs = abandonedMs;
  }

  /**
   * Runs `handler` at most once per key. Without a key the handler just runs. `answer(point)` renders a recovery
   * point of an abandoned request. `scope` names whose keys these are ("" for the company's secret keys, whose rows
   * are stored as sent); another scope's rows are stored as `<scope>\n<key>`, and a header value cannot hold a line
   * break, so no key of one scope can equal a key of another.
   * @param {Request} request @param {string} bodyText @param {string} scope
   * @param {(claim: Claim) => Promise<Response>} handler @param {(point: unknown[]) => Promise<Response>} answer
   */
  async run(request, bodyText, scope, handler, answer) {
    const sent = request.headers.get("idempotency-key");
    if (sent === null) return handler({ recover: () => {} });
    if (sent.length === 0 || sent.length > 255) {
      throw new ApiError(400, "invalid_field", "Idempotency-Key must be 1 to 255 characters", "Idempotency-Key");
    }
    const key = scope === "" ? sent : `${scope}\n${sent}`;
    const url = new URL(request.url);
    const fingerprint = `${request.method} ${url.pathname}${url.search} ${await sha256Hex(bodyText)}`;
    const nowMs = Date.now();
    const time = (ms) => this.core.formatTime(ms);
    const claimed = this.db.tx(() => {
      this.db.run("DELETE FROM idempotency_keys WHERE created_at < ?", time(nowMs - TTL_MS));
      const row = this.db.one("SELECT * FROM idempotency_keys WHERE key = ?", key);
      if (row) {
        if (row.fingerprint !== fingerprint) {
          throw new ApiError(400, "idempotency_key_reused",
            "This Idempotency-Key was used with a different request; use a new key", "Idempotency-Key");
        }
        if (row.status !== null) return row;
        if (row.created_at > time(nowMs - this.abandonedMs)) {
          throw new ApiError(409, "idempotency_key_in_use", "A request with this Idempotency-Key is still running");
        }
        if (row.recovery !== null) return row;
        this.db.run("DELETE FROM idempotency_keys WHERE key = ?", key);
      }
      this.db.insert("idempotency_keys", { key, fingerprint, status: null, response: null, created_at: time(nowMs) });
      return null;
    });
    if (claimed && claimed.status !== null) return replayed(claimed.response, claimed.status);
    if (claimed) return this.#recovered(key, claimed.recovery, answer);
    const recover = (point) => {
      this.db.run("UPDATE idempotency_keys SET recovery = ? WHERE key = ?", JSON.stringify(point), key);
    };
    // After a failure, the database says whether the change was committed (a recovery point rolls back with it).
    const failed = async (response) => {
      const point = this.db.one("SELECT recovery FROM idempotency_keys WHERE key = ?", key)?.recovery ?? null;
      if (point !== null) return this.#recovered(key, point, answer);
      this.db.run("DELETE FROM idempotency_keys WHERE key = ?", key);
      return response;
    };
    let response;
    try {
      response = await handler({ recover });
    } catch (err) {
      const out = await failed(null);
      if (out === null) throw err;
      return out;
    }
    if (response.status >= 500) return failed(response);
    const text = await response.text();
    this.db.run("UPDATE idempotency_keys SET status = ?, response = ? WHERE key = ?", response.status, text, key);
    return new Response(text, { status: response.status, headers: response.headers });
  }

  /** Answers from a recovery point, and stores that answer as the key's response. */
  async #recovered(key, point, answer) {
    const response = await answer(JSON.parse(point));
    const text = await response.text();
    if (response.status < 500) {
      this.db.run("UPDATE idempotency_keys SET status = ?, response = ? WHERE key = ?", response.status, text, key);
    }
    return replayed(text, response.status);
  }
}
