// @ts-check
// The list of companies, for the cron safety net only (never on a request's path). Reached by RPC.
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

  /** @returns {Promise<string[]>} */
  async list() {
    return this.ctx.storage.sql.exec("SELECT guid FROM companies").toArray().map((r) => String(r.guid));
  }
}
