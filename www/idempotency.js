// @ts-check
// Idempotency-Key on writes, as Stripe does it: the first request with a key runs; any later request with the
// same key and the same method, path and body gets the stored response replayed (header Idempotent-Replayed);
// the same key with other parameters is a 400; while the first is still running a retry gets 409.
// Responses of 5xx are not stored (the request may be retried). Keys expire after 24 hours of real time.
import { ApiError } from "./http.js";
import { sha256Hex } from "./crypto.js";

const TTL_MS = 24 * 60 * 60 * 1000;
/** A key whose first request died without an answer (host crash) can be reused after this long. */
const ABANDONED_MS = 60 * 1000;

export class Idempotency {
  /** @param {{ db: import("./db.js").Db, core: typeof import("./core.js") }} deps */
  constructor({ db, core }) {
    this.db = db;
    this.core = core;
  }

  /**
   * Runs `handler` at most once per key. Without a key the handler just runs.
   * @param {Request} request @param {string} bodyText @param {() => Promise<Response>} handler
   */
  async run(request, bodyText, handler) {
    const key = request.headers.get("idempotency-key");
    if (key === null) return handler();
    if (key.length === 0 || key.length > 255) {
      throw new ApiError(400, "invalid_field", "Idempotency-Key must be 1 to 255 characters", "Idempotency-Key");
    }
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
        if (row.created_at > time(nowMs - ABANDONED_MS)) {
          throw new ApiError(409, "idempotency_key_in_use", "A request with this Idempotency-Key is still running");
        }
        this.db.run("DELETE FROM idempotency_keys WHERE key = ?", key);
      }
      this.db.insert("idempotency_keys", { key, fingerprint, status: null, response: null, created_at: time(nowMs) });
      return null;
    });
    if (claimed) {
      return new Response(claimed.response, { status: claimed.status,
        headers: { "content-type": "application/json; charset=utf-8", "idempotent-replayed": "true" } });
    }
    let response;
    try {
      response = await handler();
    } catch (err) {
      this.db.run("DELETE FROM idempotency_keys WHERE key = ?", key);
      throw err;
    }
    if (response.status >= 500) {
      this.db.run("DELETE FROM idempotency_keys WHERE key = ?", key);
      return response;
    }
    const text = await response.text();
    this.db.run("UPDATE idempotency_keys SET status = ?, response = ? WHERE key = ?", response.status, text, key);
    return new Response(text, { status: response.status, headers: response.headers });
  }
}
