// @ts-check
// Credentials of one company: secret keys and restricted tokens, stored as SHA-256 hashes only. The key names its
// company (`<company guid>_<secret>`), so the worker routes it here without a global lookup; this module finds the
// row by the key's hash, compares in constant time, and judges kind, scopes and expiry through the core against
// the company's clock (its test clock in test mode).
import { ApiError } from "./http.js";
import { N } from "./core.js";
import { constantTimeEqual, sha256Hex } from "./crypto.js";

/** @typedef {{ guid: string, kind: string, scopes: string[], status: string }} Principal */

export class Keys {
  /** @param {{ db: import("./db.js").Db, core: typeof import("./core.js"), now: () => string }} deps */
  constructor({ db, core, now }) {
    this.db = db;
    this.core = core;
    this.now = now;
    /** Presented key → its row, so the hot path hashes each key once per object lifetime. Expiry is still judged
     * on every request; a rotation or revocation clears the cache. */
    this.cache = new Map();
  }

  /**
   * Issues a credential (inside a transaction). Returns the key in the clear: the only time it is ever seen.
   * @param {string} companyGuid @param {string} kind @param {string[]} scopes @param {string|null} expiresAt
   */
  async issue(companyGuid, kind, scopes, expiresAt, now) {
    const key = this.core.apiKey(companyGuid);
    const row = { guid: this.core.guid("KY"), kind, scopes: JSON.stringify(scopes), key_hash: await sha256Hex(key),
      hint: this.core.keyHint(key), created_at: now, expires_at: expiresAt, revoked_at: null };
    return { key, row };
  }

  /** @param {any} row */
  insert(row) {
    this.db.insert("keys", row);
    this.cache.clear();
  }

  /**
   * The principal a presented key stands for, or a 401.
   * @param {string} key @returns {Promise<Principal>}
   */
  async authenticate(key) {
    const unauthorized = new ApiError(401, "invalid_api_key", "Invalid or missing API key");
    if (!key) throw unauthorized;
    let row = this.cache.get(key);
    if (!row) {
      const hash = await sha256Hex(key);
      row = this.db.one("SELECT * FROM keys WHERE key_hash = ?", hash);
      // The index finds the row; the comparison that decides is constant-time all the same.
      if (!row || !constantTimeEqual(row.key_hash, hash)) throw unauthorized;
      this.cache.set(key, row);
    }
    const status = this.core.keyStatus(row, this.now());
    if (status !== N.KeyStatus.active && status !== N.KeyStatus.expiring) {
      this.cache.delete(key);
      throw new ApiError(401, "invalid_api_key", `This API key is ${status}`);
    }
    return { guid: row.guid, kind: row.kind, scopes: JSON.parse(row.scopes), status };
  }

  /** A 403 unless the principal may act on `scope` (null: secret keys only). @param {Principal} p */
  authorize(p, scope) {
    if (!this.core.keyAllows(p.kind, p.scopes, scope)) {
      throw new ApiError(403, "insufficient_scope", scope === "keys"
        ? "Managing keys and sessions needs a secret API key"
        : scope ? `This key may not act on ${scope}` : "This endpoint needs a secret API key");
    }
    // A key being rotated out manages nothing any more (the core's rule: 409 key_expiring).
    if (scope === "keys") this.checkManages(p);
  }

  /** 409 key_expiring when a secret key being rotated out would change what outlives it. @param {Principal} p */
  checkManages(p) {
    this.core.checkManagesKeys(p.kind, p.status);
  }

  /**
   * Rotation: a new secret key; every other secret key, and every dashboard session (each was opened by one of
   * them), without an earlier expiry stops at `expires_at`: no credential outlives the keys rotated out.
   * @returns {Promise<{ key: string, row: any }>}
   */
  async rotate(companyGuid, rotation, now) {
    const fresh = await this.issue(companyGuid, N.KeyKind.secret, [], null, now);
    this.db.tx(() => {
      this.db.run(`UPDATE keys SET expires_at = ? WHERE kind IN (?, ?) AND revoked_at IS NULL
        AND (expires_at IS NULL OR expires_at > ?)`, rotation.expires_at, N.KeyKind.secret, N.KeyKind.session,
      rotation.expires_at);
      this.insert(fresh.row);
    });
    return fresh;
  }

  /** Revokes a credential now (a dashboard session signing out). */
  revoke(guid, now) {
    this.db.run("UPDATE keys SET revoked_at = ? WHERE guid = ? AND revoked_at IS NULL", now, guid);
    this.cache.clear();
  }

  /** A key row as the API shows it: never the secret, never the hash. */
  view(row) {
    return { guid: row.guid, kind: row.kind, scopes: JSON.parse(row.scopes), hint: row.hint,
      status: this.core.keyStatus(row, this.now()), created_at: row.created_at, expires_at: row.expires_at,
      revoked_at: row.revoked_at };
  }
}
