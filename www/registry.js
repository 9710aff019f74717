// @ts-check
// The company list, for two things off the hot path: the cron safety net, which walks it in pages, and the edge's
// check of company guids made before guids were signed (www/identity.js), which asks `has`. Reached by RPC.
// Sweeper: one Durable Object per page of the walk, so that no single invocation makes more subrequests than
// Workers allow (the cron makes one call per page, each sweeper one per company of its page).
import { DurableObject } from "cloudflare:workers";

export class Registry extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS companies (guid TEXT PRIMARY KEY)");
  }

  /** @param {string} guid */
  async add(guid) {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO companies (guid) VALUES (?)", guid);
  }

  /** @param {string} guid */
  async has(guid) {
    return this.ctx.storage.sql.exec("SELECT 1 AS x FROM companies WHERE guid = ?", guid).toArray().length > 0;
  }

  async count() {
    return Number(this.ctx.storage.sql.exec("SELECT count(*) AS n FROM companies").one().n);
  }

  /** One page of the walk, in a stable order (rowid: the order companies were added). */
  async page(offset, size) {
    return this.ctx.storage.sql.exec("SELECT guid FROM companies ORDER BY rowid LIMIT ? OFFSET ?", size, offset)
      .toArray().map((r) => String(r.guid));
  }
}

export class Sweeper extends DurableObject {
  /** Wakes the scheduler of every company on one page of the registry; returns how many it woke. */
  async sweep(offset, size) {
    const env = /** @type {any} */ (this.env);
    const guids = await registryOf(env).page(offset, size);
    await Promise.allSettled(guids.map((g) => env.COMPANY.get(env.COMPANY.idFromName(g)).tick()));
    return guids.length;
  }
}

/** @param {any} env */
export const registryOf = (env) => env.REGISTRY.get(env.REGISTRY.idFromName("registry"));

/** Companies per sweeper: SWEEP_PAGE_SIZE (default 500), within Workers' 1,000 subrequests per invocation. */
export const pageSize = (env) => Math.min(Math.max(Number(env.SWEEP_PAGE_SIZE) || 500, 1), 900);

/**
 * The cron safety net: one sweeper per page, in parallel. 100,000 companies are 200 pages: 201 subrequests from
 * the cron, at most 501 from each sweeper. Returns what it woke.
 * @param {any} env
 */
export async function sweepAll(env) {
  const size = pageSize(env);
  const pages = Math.ceil((await registryOf(env).count()) / size);
  const woken = await Promise.allSettled(Array.from({ length: pages }, (_, i) =>
    env.SWEEPER.get(env.SWEEPER.idFromName(`page-${i}`)).sweep(i * size, size)));
  return { pages, companies: woken.reduce((n, r) => n + (r.status === "fulfilled" ? r.value : 0), 0) };
}
