// @ts-check
// Rate limits per client address, for the one costly thing an anonymous caller can do: create a company (a new
// Durable Object with its own storage). One Limiter object per (limit, address): strictly serial, so two racing
// requests cannot both spend the last allowance. The decision (GCRA) is the core's, src/limits.rs; this object only
// keeps its one number per address.
import { DurableObject } from "cloudflare:workers";
import * as core from "./core.js";
import { ApiError } from "./http.js";

/** COMPANY_CREATION_LIMIT when unset: twenty at once, then one every three minutes per address. */
export const DEFAULT_COMPANY_CREATION_LIMIT = "20/3600";

export class Limiter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS allowance (id INTEGER PRIMARY KEY CHECK (id = 1), rate TEXT NOT NULL, tat TEXT NOT NULL)");
  }

  /**
   * Takes one request's allowance under `setting`. @param {string} setting @param {string} name
   * @returns {Promise<{ allowed: boolean, retry_after_seconds: number }>}
   */
  async take(setting, name) {
    const sql = this.ctx.storage.sql;
    const stored = sql.exec("SELECT rate, tat FROM allowance").toArray()[0] ?? null;
    const d = core.rateDecision(setting, name, stored ? { rate: String(stored.rate), tat: String(stored.tat) } : null, Date.now());
    if (d.allowed && d.state) {
      sql.exec("INSERT INTO allowance (id, rate, tat) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET rate = excluded.rate, tat = excluded.tat",
        d.state.rate, d.state.tat);
    }
    return { allowed: d.allowed, retry_after_seconds: d.retry_after_seconds };
  }
}

/**
 * The caller's address: Cloudflare's `CF-Connecting-IP` (set by the edge, and by the Node host from the socket
 * when the client did not send one: behind a reverse proxy on the Node host, the proxy must set it).
 * @param {Request} request
 */
const addressOf = (request) => request.headers.get("cf-connecting-ip") || "unknown";

/**
 * Refuses a company creation over COMPANY_CREATION_LIMIT with 429 and `Retry-After`. "off" turns the limit off
 * (a private deployment); it is then decided without waking any object.
 * @param {Request} request @param {any} env
 */
export async function limitCompanyCreation(request, env) {
  const name = "COMPANY_CREATION_LIMIT";
  const setting = String(env.COMPANY_CREATION_LIMIT ?? DEFAULT_COMPANY_CREATION_LIMIT);
  // Validates the setting and skips "off". A malformed setting is the operator's error, not the caller's: a logged
  // 500 on every creation, never a silently missing limit.
  let off;
  try { off = core.rateDecision(setting, name, null, Date.now()).state === null; }
  catch (e) { throw new Error(`${name} is misconfigured: ${/** @type {Error} */ (e).message}`); }
  if (off) return;
  const id = env.LIMITER.idFromName(`company-creation:${addressOf(request)}`);
  const d = await env.LIMITER.get(id).take(setting, name);
  if (!d.allowed) {
    const err = /** @type {ApiError & { retryAfter?: number }} */ (new ApiError(429, "rate_limited",
      `Too many companies created from this address; retry in ${d.retry_after_seconds} s`));
    err.retryAfter = d.retry_after_seconds;
    throw err;
  }
}
