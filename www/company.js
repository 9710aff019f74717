// @ts-check
// The Company Durable Object: one per company, holding all of that company's data in its own SQLite database.
// Requests arrive one at a time; every state change is read → core decides → write inside one transactionSync.
// Processor calls happen only after the intent is committed (www/payments.js).
// The worker reaches it by RPC: create(), handle(request, key), tick().
import { DurableObject } from "cloudflare:workers";
import * as core from "./core.js";
import { N } from "./core.js";
import { Db } from "./db.js";
import { ApiError, drain, errorResponse, methodNotAllowed, parseBody, query, readText } from "./http.js";
import { Idempotency } from "./idempotency.js";
import { Payments } from "./payments.js";
import { Invoicing } from "./invoicing.js";
import { Scheduler } from "./scheduler.js";
import { Keys } from "./keys.js";
import { dueWork } from "./due.js";
import { processorFor, sealSecret } from "./processor.js";
import { Simulator } from "./simulator.js";
import { constantTimeEqual, hmacSha256Hex, unseal } from "./crypto.js";
import * as views from "./views.js";
import { routes as companyRoutes } from "./routes/companies.js";
import { routes as planRoutes } from "./routes/plans.js";
import { routes as customerRoutes } from "./routes/customers.js";
import { routes as subscriptionRoutes } from "./routes/subscriptions.js";
import { routes as couponRoutes } from "./routes/coupons.js";
import { routes as usageRoutes } from "./routes/usage.js";
import { noSuchHostedInvoice, routes as hostedInvoiceRoutes } from "./routes/hosted_invoices.js";
import { Subscriptions } from "./subscriptions.js";
import { Usage } from "./usage.js";
import { routes as invoiceRoutes } from "./routes/invoices.js";
import { routes as transactionRoutes } from "./routes/transactions.js";
import { recoveries as orderRecoveries, routes as orderRoutes } from "./routes/orders.js";
import { routes as checkoutRoutes } from "./routes/checkouts.js";
import { routes as balanceRoutes } from "./routes/balance_transactions.js";
import { routes as creditRoutes } from "./routes/credit.js";
import { routes as applicationRoutes } from "./routes/applications.js";
import { routes as dashboardRoutes } from "./routes/dashboard.js";
import { Orders } from "./orders.js";
import { Credit } from "./credit.js";
import { Balances } from "./balances.js";
import { Terms } from "./terms.js";
import { Checkouts } from "./checkouts.js";
import { Webhooks } from "./webhooks.js";
import { routes as webhookRoutes } from "./routes/webhooks.js";

/**
 * Route table entries: [method, pattern, handler, options]. `options.scope(params, principal)` names the scope a
 * restricted token needs; without it only secret keys may call the route. `options.token`: the path's token is the
 * route's only credential (a hosted invoice's), checked by its handler; such a route takes no key.
 */
/** Path segments that name an object, and where it lives: a route naming one that does not exist is a 404 before
 * anything else is looked at (a body's problems say nothing about whose object it is). */
const OBJECTS = { plans: ["plans", "guid"], customers: ["customers", "guid"], subscriptions: ["subscriptions", "guid"], coupons: ["coupons", "guid"], metrics: ["metrics", "guid"],
  invoices: ["invoices", "guid"], transactions: ["transactions", "guid"], orders: ["orders", "guid"],
  checkouts: ["checkouts", "guid"], balance_transactions: ["balance_transactions", "id"], applications: ["applications", "guid"],
  webhook_endpoints: ["webhook_endpoints", "guid"] };

const ROUTES = [...companyRoutes, ...planRoutes, ...customerRoutes, ...subscriptionRoutes, ...couponRoutes, ...usageRoutes, ...invoiceRoutes,
  ...transactionRoutes, ...orderRoutes, ...checkoutRoutes, ...balanceRoutes, ...creditRoutes, ...applicationRoutes,
  ...dashboardRoutes, ...webhookRoutes, ...hostedInvoiceRoutes].map(([method, pattern, handler, options = {}]) => ({
  method,
  // "/v1/plans/:guid/invoices" → /^\/v1\/plans\/([^/]+)\/invoices$/
  regex: new RegExp("^" + pattern.replace(/:[a-z_]+/g, "([^/]+)") + "/?$"),
  /** For each path parameter, the object it names (or null: a token, a company). */
  objects: [...pattern.matchAll(/\/([a-z_]+)\/:[a-z_]+/g)].map((m) => OBJECTS[m[1]] ?? (m[1] === "companies" ? "company" : null)),
  handler,
  scope: options.scope || null,
  token: Boolean(options.token),
}));

export class Company extends DurableObject {
  /** @param {DurableObjectState} ctx @param {any} env */
  constructor(ctx, env) {
    super(ctx, env);
    const db = new Db(ctx.storage);
    this.db = db;
    // An object is only ever given storage by company creation: a request with a made-up key for a company that
    // does not exist must not leave a database behind. Existing companies are migrated to the latest schema.
    this.exists = db.hasSchema();
    // The built-in processor, with its ledger in this company's database (www/simulator.js).
    this.simulator = new Simulator(ctx.storage.sql, Number(env.SIMULATOR_LATENCY_MS) || 0);
    if (this.exists) {
      ctx.blockConcurrencyWhile(async () => {
        db.migrate();
        const guid = db.companyRow()?.guid;
        if (guid && env.SIMULATOR) await this.simulator.importLegacy(env.SIMULATOR.get(env.SIMULATOR.idFromName(`sim:${guid}`)));
      });
    }
    const now = () => this.now();
    // One adapter per version of the company row (its processor settings live there), not one per call.
    let adapter = null;
    const processor = () => {
      const row = this.company();
      if (adapter?.row !== row) adapter = { row, processor: processorFor(env, row, this.simulator) };
      return adapter.processor;
    };
    this.scheduler = new Scheduler({ db, core, now, testClock: () => Boolean(this.company()?.clock),
      concurrency: () => this.company().processor_concurrency,
      storage: ctx.storage, sources: () => dueWork(this.services) });
    const webhooks = new Webhooks({ db, core, now });
    const payments = new Payments({ db, core, now, processor,
      maxAttempts: () => this.company().max_retry_attempts, beforeCall: () => this.scheduler.watchdog(),
      notify: (type, row, at) => webhooks.emit(type, () => views.transaction(row, []), at) });
    const credit = new Credit({ db, core, webhooks });
    const balances = new Balances({ db, core });
    // Terms invoices are shown by the invoicing service's view (their hosted page's token), made just below.
    const terms = new Terms({ db, core, payments, credit, balances, webhooks, invoiceView: (row) => invoicing.invoiceView(row) });
    const invoicing = new Invoicing({ db, core, payments, terms, webhooks });
    const usage = new Usage({ db, core });
    /** What routes and due work use; each names what it needs. */
    this.services = { env, db, core, now, processor, payments, scheduler: this.scheduler, credit, balances, terms, webhooks,
      invoicing, usage, subscriptions: new Subscriptions({ db, core, invoicing, balances, webhooks, usage }), orders: new Orders({ db, core, payments, webhooks }),
      checkouts: new Checkouts({ db, core, payments, credit, balances, terms, webhooks }), keys: new Keys({ db, core, now }),
      idempotency: new Idempotency({ db, core, abandonedMs: Number(env.IDEMPOTENCY_ABANDONED_MS) || undefined }) };
  }

  /** The company row (null before creation). */
  company() {
    return this.exists ? this.db.companyRow() : null;
  }

  /** The company's current time: its frozen test clock, or the host's clock. The core never reads a clock. */
  now() {
    const row = this.company();
    return row && row.clock ? row.clock : core.formatTime(Date.now());
  }

  /**
   * RPC from the worker: creates this company with its first secret key. Returns the company view with the key,
   * the only time it is shown.
   * @param {{ guid: string, name?: string|null, processor_key: string|null, test_mode: boolean, clock: string|null,
   *   max_retry_attempts: number, processor_concurrency: number }} input
   */
  async create(input) {
    if (this.company()) return { error: { status: 409, code: "company_exists", message: "Company already exists" } };
    // The company's own time from its first instant: a frozen test clock, else the host's clock.
    const now = input.clock || core.formatTime(Date.now());
    const { key, row } = await this.services.keys.issue(input.guid, N.KeyKind.secret, [], null, now);
    this.db.migrate();
    this.exists = true;
    this.db.tx(() => {
      // The hosted-invoice secret: every invoice's page token is derived under it (src/hosted_invoice.rs).
      this.db.insert("company", { guid: input.guid, name: input.name ?? null, hosted_invoice_secret: core.hostedInvoiceSecret(),
        processor: input.processor, processor_key: input.processor_key,
        processor_key_last4: input.processor_key_last4, stripe_webhook_secret: input.stripe_webhook_secret,
        test_mode: input.test_mode ? 1 : 0, clock: input.clock, max_retry_attempts: input.max_retry_attempts,
        processor_concurrency: input.processor_concurrency,
        created_at: now, updated_at: now });
      this.services.keys.insert(row);
      this.simulator.nothingToImport();
    });
    return { company: { ...views.company(this.company()), api_key: key } };
  }

  /**
   * RPC from the worker: an event from Stripe. Its signature is checked against the company's webhook secret
   * (within 5 minutes of now, in constant time); each event id is applied once. A payment intent that succeeded or
   * failed sends its transaction to be polled now, so the outcome recorded is what Stripe's API says, not what a
   * webhook body claims; the scheduler's polling stays the safety net.
   * @param {string} text @param {string|null} signature
   */
  async stripeWebhook(text, signature) {
    const company = this.company();
    const fail = (status, code, message, field = null) => ({ error: { status, code, message, field } });
    if (!company) return fail(404, "not_found", "No such company");
    if (company.processor !== N.ProcessorName.stripe || !company.stripe_webhook_secret) {
      return fail(404, "not_found", "This company takes no Stripe webhooks (no stripe_webhook_secret is set)");
    }
    try {
      const header = core.stripeSignatureHeader(signature, Math.floor(Date.now() / 1000));
      const secret = await unseal(sealSecret(this.env), company.stripe_webhook_secret, `${company.guid}:stripe_webhook_secret`);
      const expected = await hmacSha256Hex(secret, `${header.timestamp}.${text}`);
      if (!header.signatures.some((s) => constantTimeEqual(s, expected))) {
        return fail(400, "invalid_signature", "Stripe-Signature does not match the body under this company's webhook secret", "Stripe-Signature");
      }
    } catch (e) {
      const err = /** @type {any} */ (e);
      if (err.status) return fail(err.status, err.code, err.message, err.field);
      throw e;
    }
    let event;
    try { event = JSON.parse(text); } catch { return fail(400, "invalid_json", "The event is not JSON"); }
    if (typeof event?.id !== "string" || typeof event?.type !== "string") return fail(400, "invalid_event", "The event has no id or type");
    const now = this.now();
    const fresh = this.db.tx(() => this.db.run("INSERT OR IGNORE INTO stripe_events (id, type, received_at) VALUES (?, ?, ?)",
      event.id, event.type, now) > 0);
    if (!fresh) return { received: true, duplicate: true };
    const guid = event.data?.object?.metadata?.billy_transaction;
    let applied = false;
    if (typeof guid === "string" && /^payment_intent\.|^charge\.|^refund\./.test(event.type)) {
      const tx = this.db.one("SELECT guid, status FROM transactions WHERE guid = ?", guid);
      if (tx && tx.status === N.TransactionStatus.pending) {
        await this.services.payments.poll(guid);
        applied = true;
      }
    }
    return { received: true, duplicate: false, applied };
  }

  /** RPC from the cron safety net: one scheduler pass. */
  async tick() {
    if (!this.exists) return;
    // When the cron last reached this object (in memory: a report for operators and the sweep's test).
    this.scheduler.sweptAt = core.formatTime(Date.now());
    await this.scheduler.run();
  }

  async alarm() {
    if (!this.exists) return;
    if (this.company().advance_to) return this.scheduler.continueAdvance();
    await this.scheduler.run();
  }

  /**
   * RPC from the worker: one API request with the key it carried. Always answers (errors become JSON responses),
   * because an exception crossing RPC loses its status and code. `key` null: a request whose path carries its own
   * credential (a hosted invoice's token); only routes marked `token` answer it.
   * @param {Request} request @param {string|null} key
   */
  async handle(request, key) {
    try {
      if (!this.exists) throw key === null ? noSuchHostedInvoice() : new ApiError(401, "invalid_api_key", "Invalid or missing API key");
      const principal = key === null ? null : await this.services.keys.authenticate(key);
      const company = this.company();
      const url = new URL(request.url);
      const method = request.method === "HEAD" ? "GET" : request.method;
      const allowed = [];
      for (const route of ROUTES) {
        const m = route.regex.exec(url.pathname);
        if (!m) continue;
        allowed.push(route.method);
        if (route.method !== method) continue;
        const params = m.slice(1).map(decodeParam);
        if (!route.token) {
          if (principal === null) throw new ApiError(401, "invalid_api_key", "Invalid or missing API key");
          this.services.keys.authorize(principal, route.scope ? route.scope(params, principal) : null);
        }
        route.objects.forEach((o, i) => {
          const missing = o === "company" ? params[i] !== company.guid
            : o && this.db.one(`SELECT 1 AS x FROM ${o[0]} WHERE ${o[1]} = ?`, params[i]) === null;
          if (missing) throw new ApiError(404, "not_found", `No such object: ${params[i]}`);
        });
        const r = { ...this.services, company, principal, url, query: query(url), params, body: {} };
        if (method === "GET") return await route.handler(r);
        const text = await readText(request);
        // Writes may carry an Idempotency-Key; 4xx answers are part of the stored result, as with Stripe.
        return await this.services.idempotency.run(request, text, this.#idempotencyScope(principal, params), async ({ recover }) => {
          try {
            const body = method === "DELETE" ? {} : await parseBody(text, request.headers);
            return await route.handler({ ...r, body, recover });
          } catch (err) {
            return errorResponse(err);
          }
        }, (point) => this.#answer(point, r));
      }
      if (allowed.length) throw methodNotAllowed(request.method, url.pathname, allowed);
      throw new ApiError(404, "not_found", `No route for ${url.pathname}`);
    } catch (err) {
      await drain(request);
      return errorResponse(err);
    }
  }

  /**
   * Whose Idempotency-Keys a request's key is one of. The company's secret keys share one namespace (a retry sent
   * with the new key after a rotation still replays); each restricted token or dashboard session has its own, and so
   * does each hosted invoice: a key a buyer sends can never meet, replay or block one the merchant sends.
   * @param {import("./keys.js").Principal | null} principal @param {string[]} params
   */
  #idempotencyScope(principal, params) {
    if (principal === null) return `hosted:${this.services.invoicing.hostedInvoiceOf(params[0]) ?? ""}`;
    return principal.kind === N.KeyKind.secret ? "" : principal.guid;
  }

  /**
   * The answer for a recovery point: `["get", path]` is that GET as the caller (its own view of the object as it
   * now stands), anything else a named renderer.
   * @param {unknown[]} point @param {any} r
   */
  async #answer([name, ...args], r) {
    try {
      if (name !== "get") return await RECOVERIES[String(name)](r, ...args);
      const url = new URL(String(args[0]), r.url);
      for (const route of ROUTES) {
        const m = route.method === "GET" && route.regex.exec(url.pathname);
        if (m) return await route.handler({ ...r, url, query: query(url), params: m.slice(1).map(decodeParam) });
      }
      throw new Error(`no GET route for recovery point ${url.pathname}`);
    } catch (err) {
      return errorResponse(err);
    }
  }
}

/** How a recovery point of an abandoned request is answered (www/idempotency.js); see `r.recover` in routes. */
const RECOVERIES = { ...orderRecoveries };

/** A path segment; a malformed escape cannot name any object, so it is a 404, not a crash. */
function decodeParam(s) {
  try { return decodeURIComponent(s); } catch { throw new ApiError(404, "not_found", `No such object: ${s}`); }
}

