// @ts-check
// The Company Durable Object: one per company, holding all of that company's data in its own SQLite database.
// Requests arrive one at a time; every state change is read → core decides → write inside one transactionSync.
// Processor calls happen only after the intent is committed (see billing.js).
import { DurableObject } from "cloudflare:workers";
import * as core from "./core.js";
import { Db } from "./db.js";
import { ApiError, errorResponse, json, parseBody, query } from "./http.js";
import { Idempotency } from "./idempotency.js";
import { Billing } from "./billing.js";
import { Scheduler } from "./scheduler.js";
import { processorFor } from "./processor.js";
import { routes as companyRoutes } from "./routes/companies.js";
import { routes as planRoutes } from "./routes/plans.js";
import { routes as customerRoutes } from "./routes/customers.js";
import { routes as subscriptionRoutes } from "./routes/subscriptions.js";
import { routes as invoiceRoutes } from "./routes/invoices.js";
import { routes as transactionRoutes } from "./routes/transactions.js";

const ROUTES = [...companyRoutes, ...planRoutes, ...customerRoutes, ...subscriptionRoutes, ...invoiceRoutes,
  ...transactionRoutes].map(([method, pattern, handler]) => ({
  method,
  // "/v1/plans/:guid/invoices" → /^\/v1\/plans\/([^/]+)\/invoices$/
  regex: new RegExp("^" + pattern.replace(/:[a-z_]+/g, "([^/]+)") + "/?$"),
  handler,
}));

export class Company extends DurableObject {
  /** @param {DurableObjectState} ctx @param {any} env */
  constructor(ctx, env) {
    super(ctx, env);
    this.env = env;
    this.db = new Db(ctx.storage);
    this.core = core;
    /** Verified key hashes, so the hot path hashes each key once per object lifetime. */
    this.verifiedKeys = new Set();
    // An object is only ever given storage by company creation: a request with a made-up key for a company that
    // does not exist must not leave a database behind. Existing companies are migrated to the latest schema.
    this.exists = this.db.hasSchema();
    if (this.exists) ctx.blockConcurrencyWhile(async () => this.db.migrate());
    this.billing = new Billing(this);
    this.scheduler = new Scheduler(this);
    this.idempotency = new Idempotency(this);
  }

  /** The company row (null before creation). */
  company() {
    return this.exists ? this.db.one("SELECT * FROM company") : null;
  }

  /** The company's current time: its frozen test clock, or the host's clock. The core never reads a clock. */
  now() {
    const row = this.company();
    return row && row.clock ? row.clock : core.formatTime(Date.now());
  }

  processor() {
    const row = this.company();
    return processorFor(this.env, row);
  }

  /** @param {Request} request */
  async fetch(request) {
    try {
      const url = new URL(request.url);
      if (url.pathname === "/_internal/create") return await this.create(await request.json());
      if (url.pathname === "/_internal/tick") {
        if (this.exists) await this.scheduler.run();
        return json({ ok: true });
      }
      const company = await this.authenticate(request.headers.get("x-billy-api-key") || "");
      const method = request.method === "HEAD" ? "GET" : request.method;
      let pathMatched = false;
      for (const route of ROUTES) {
        const m = route.regex.exec(url.pathname);
        if (!m) continue;
        pathMatched = true;
        if (route.method !== method) continue;
        const params = m.slice(1).map(decodeParam);
        if (method === "GET") {
          return await route.handler({ co: this, db: this.db, core, company, url, body: {}, query: query(url), params });
        }
        const text = await request.text();
        // Writes may carry an Idempotency-Key; 4xx answers are part of the stored result, as with Stripe.
        return await this.idempotency.run(request, text, async () => {
          try {
            const body = method === "DELETE" ? {} : await parseBody(text, request.headers);
            return await route.handler({ co: this, db: this.db, core, company, url, body, query: query(url), params });
          } catch (err) {
            return errorResponse(err);
          }
        });
      }
      if (pathMatched) throw new ApiError(405, "method_not_allowed", `${request.method} is not allowed on ${url.pathname}`);
      throw new ApiError(404, "not_found", `No route for ${url.pathname}`);
    } catch (err) {
      await drain(request);
      return errorResponse(err);
    }
  }

  async alarm() {
    if (this.exists) await this.scheduler.run();
  }

  /** Called once by the worker with a freshly generated guid and the hash of the new key. */
  async create(input) {
    if (this.company()) throw new ApiError(409, "company_exists", "Company already exists");
    this.db.migrate();
    this.exists = true;
    const now = core.formatTime(Date.now());
    this.db.insert("company", {
      guid: input.guid, key_hash: input.key_hash, processor_key: input.processor_key, test_mode: input.test_mode ? 1 : 0,
      clock: input.clock, max_retry_attempts: 10, created_at: now, updated_at: now,
    });
    return json({ ok: true });
  }

  /** Constant-time comparison of the presented key's hash with the stored one. */
  async authenticate(key) {
    const row = this.company();
    const unauthorized = new ApiError(401, "invalid_api_key", "Invalid or missing API key");
    if (!row || !key) throw unauthorized;
    if (this.verifiedKeys.has(key)) return row;
    const hash = await sha256Hex(key);
    let diff = hash.length ^ row.key_hash.length;
    for (let i = 0; i < hash.length && i < row.key_hash.length; i++) diff |= hash.charCodeAt(i) ^ row.key_hash.charCodeAt(i);
    if (diff !== 0) throw unauthorized;
    this.verifiedKeys.add(key);
    return row;
  }
}

/** Reads an unread request body, so an early error does not leave the client's connection half-read. */
export async function drain(request) {
  if (request.body && !request.bodyUsed) await request.arrayBuffer().catch(() => {});
}

/** A path segment; a malformed escape cannot name any object, so it is a 404, not a crash. */
function decodeParam(s) {
  try { return decodeURIComponent(s); } catch { throw new ApiError(404, "not_found", `No such object: ${s}`); }
}

export async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
