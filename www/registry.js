// @ts-check
// The list of companies, for the cron safety net only (never on a request's path).
import { DurableObject } from "cloudflare:workers";

export class Registry extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS companies (guid TEXT PRIMARY KEY)");
  }

  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/add") {
      const { guid } = await request.json();
      this.ctx.storage.sql.exec("INSERT OR IGNORE INTO companies (guid) VALUES (?)", guid);
      return new Response("ok");
    }
    const guids = this.ctx.storage.sql.exec("SELECT guid FROM companies").toArray().map((r) => r.guid);
    return Response.json({ guids });
  }
}
