// @ts-check
// Outgoing webhooks (Standard Webhooks). `emit` writes the event and one delivery per subscribed endpoint inside
// the caller's storage transaction, so an event exists exactly when its change committed; the scheduler delivers,
// signing each attempt with the endpoint's secret; the core decides retries and when an endpoint is disabled.
import { N } from "./core.js";

const TIMEOUT_MS = 10_000;

export class Webhooks {
  /** @param {{ db: import("./db.js").Db, core: typeof import("./core.js"), now: () => string }} deps */
  constructor({ db, core, now }) {
    this.db = db;
    this.core = core;
    this.now = now;
    /** Enabled endpoints, cached: most companies have none, and emit must then cost nothing. */
    this.endpoints = null;
  }

  #enabled() {
    if (!this.endpoints) {
      this.endpoints = this.db.all("SELECT guid, events FROM webhook_endpoints WHERE enabled = 1")
        .map((e) => ({ guid: e.guid, events: JSON.parse(e.events) }));
    }
    return this.endpoints;
  }

  changed() {
    this.endpoints = null;
  }

  /** The events emitted about an object (`type|object` → event guid) in the storage transaction `#tx` (see `emit`). */
  #inTx = new Map();
  #tx = -1;

  /**
   * An event about `data` (an API view), inside the transaction of the change. `data` may be a function making the
   * view: it is called only when an endpoint wants the event (most companies have none, and building a view reads
   * rows and derives a hosted-invoice token); a view of nothing (null) is no event. With `object`, the guid of what
   * the event is about, a second event of the same type about it in the same storage transaction replaces the
   * first: one event per committed state (a payout's two credits staged together are one `order.updated`).
   * @param {string} type @param {any} data @param {string} [now] @param {string} [object]
   */
  emit(type, data, now = this.now(), object = undefined) {
    const targets = this.#enabled().filter((e) => this.core.webhookSubscribed(e.events, type));
    if (targets.length === 0) return;
    if (typeof data === "function") data = data();
    if (data === null || data === undefined) return;
    if (this.#tx !== this.db.txNumber) {
      this.#tx = this.db.txNumber;
      this.#inTx.clear();
    }
    const key = object === undefined || !this.db.inTx ? null : `${type}|${object}`;
    const earlier = key === null ? undefined : this.#inTx.get(key);
    if (earlier !== undefined) {
      this.db.run("UPDATE webhook_events SET payload = ?, created_at = ? WHERE guid = ?",
        JSON.stringify({ id: earlier, type, created_at: now, data }), now, earlier);
      return;
    }
    const guid = this.core.guid("EV");
    if (key !== null) this.#inTx.set(key, guid);
    const payload = JSON.stringify({ id: guid, type, created_at: now, data });
    this.db.insert("webhook_events", { guid, type, payload, created_at: now });
    for (const e of targets) {
      this.db.insert("webhook_deliveries", { guid: this.core.guid("WD"), event_guid: guid, endpoint_guid: e.guid,
        status: N.WebhookDeliveryStatus.pending, attempts: 0, next_attempt_at: now, created_at: now, updated_at: now });
    }
  }

  /** Due work: one delivery attempt, signed; its outcome committed with the core's decision. */
  async deliver(guid) {
    const d = this.db.one(`SELECT d.*, e.payload, w.url, w.secret, w.failing_since, w.enabled FROM webhook_deliveries d
      JOIN webhook_events e ON e.guid = d.event_guid JOIN webhook_endpoints w ON w.guid = d.endpoint_guid WHERE d.guid = ?`, guid);
    if (!d || d.status !== N.WebhookDeliveryStatus.pending) return;
    const now = this.now();
    if (!d.enabled) {
      this.db.update("webhook_deliveries", guid, { status: N.WebhookDeliveryStatus.failed, next_attempt_at: null, updated_at: now });
      return;
    }
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = await sign(d.secret, this.core.webhookSignedContent(d.event_guid, timestamp, d.payload));
    const t0 = Date.now();
    let status = null, error = null;
    try {
      const res = await fetch(d.url, { method: "POST", body: d.payload, signal: AbortSignal.timeout(TIMEOUT_MS),
        headers: { "content-type": "application/json", "webhook-id": d.event_guid, "webhook-timestamp": String(timestamp),
          "webhook-signature": `v1,${signature}`, "user-agent": "billy-edge-webhooks" } });
      status = res.status;
      await res.arrayBuffer().catch(() => {});
    } catch (err) {
      error = String(err?.message || err).slice(0, 500);
    }
    const ok = status !== null && status >= 200 && status < 300;
    const at = this.now();
    this.db.tx(() => {
      const fresh = this.db.one("SELECT * FROM webhook_deliveries WHERE guid = ?", guid);
      if (!fresh || fresh.status !== N.WebhookDeliveryStatus.pending) return;
      const endpoint = this.db.one("SELECT failing_since FROM webhook_endpoints WHERE guid = ?", d.endpoint_guid);
      const o = this.core.webhookAfterAttempt(fresh.attempts + 1, ok, at, endpoint.failing_since);
      this.db.insert("webhook_attempts", { delivery_guid: guid, status_code: status, error, duration_ms: Date.now() - t0,
        created_at: at });
      this.db.update("webhook_deliveries", guid, { status: o.status, attempts: o.attempts, next_attempt_at: o.next_attempt_at,
        updated_at: at });
      this.db.run("UPDATE webhook_endpoints SET failing_since = ?, updated_at = ? WHERE guid = ?",
        ok ? null : endpoint.failing_since ?? at, at, d.endpoint_guid);
      if (o.disable_endpoint) {
        this.db.run("UPDATE webhook_endpoints SET enabled = 0, disabled_at = ?, updated_at = ? WHERE guid = ?", at, at, d.endpoint_guid);
        this.db.run(`UPDATE webhook_deliveries SET status = ?, next_attempt_at = NULL, updated_at = ? WHERE endpoint_guid = ?
          AND status = ?`, N.WebhookDeliveryStatus.failed, at, d.endpoint_guid, N.WebhookDeliveryStatus.pending);
        this.changed();
      }
    });
  }
}

/** Base64 HMAC-SHA256 of `content` with a `whsec_` secret (its key is the base64 after the prefix). */
async function sign(secret, content) {
  const raw = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(content)));
  return btoa(String.fromCharCode(...mac));
}
