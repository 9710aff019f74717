// @ts-check
// Edge entry point: routes a request to its company's Durable Object. The API key names its company
// (`<company guid>_<secret>`), so there is no global lookup on the hot path; the object checks the secret.
import * as core from "./core.js";
import { ApiError, apiKeyOf, drain, errorResponse, json, methodNotAllowed, readBody, readText } from "./http.js";
import { openapiDocument } from "./openapi.js";
import { companyMayExist, newCompanyGuid, remember } from "./identity.js";
import { limitCompanyCreation } from "./limiter.js";
import { processorColumns } from "./processor.js";
import { registryOf, sweepAll } from "./registry.js";

export { Company } from "./company.js";
// The simulator's old Durable Object, under the class name wrangler.toml has always bound (read once per old company).
export { LegacySimulator as Simulator } from "./simulator.js";
export { Registry, Sweeper } from "./registry.js";
export { Limiter } from "./limiter.js";

const VERSION = "0.1.0";
const OPENAPI = openapiDocument(core.names());

/** @param {any} env @param {string} guid */
const companyStub = (env, guid) => env.COMPANY.get(env.COMPANY.idFromName(guid));

async function createCompany(request, env) {
  await limitCompanyCreation(request, env);
  const input = await readBody(request);
  const settings = core.validateCompany(input);
  const guid = await newCompanyGuid(env);
  const clock = input.clock !== undefined && input.clock !== "" && input.clock !== null
    ? core.parseTime(String(input.clock), "clock") : null;
  if (clock && !settings.test_mode) throw new ApiError(400, "invalid_field", "clock needs test_mode", "clock");
  const processor = await processorColumns(env, guid, core.validateProcessorSettings(input, settings.test_mode, null));
  const created = await companyStub(env, guid).create({ guid, ...settings, ...processor, clock });
  if (created.error) throw new ApiError(created.error.status, created.error.code, created.error.message);
  // The registry feeds the cron safety net (and the existence check of guids made before signing).
  await registryOf(env).add(guid);
  remember(guid);
  return json(created.company);
}

/**
 * CORS: browsers may call the API from any origin with an explicit Authorization header. `*` never lets a browser
 * attach stored credentials, so a page can only use a key it was given.
 */
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, idempotency-key",
  "access-control-expose-headers": "idempotent-replayed",
  "access-control-max-age": "86400",
};

/**
 * A 401 names the scheme the caller used: `Basic` for Basic auth (Billy's clients), else `Bearer`. A browser that
 * gets `Basic` back for a fetch would stop and prompt for a password instead of letting the page say what is wrong.
 */
function challenge(request, response) {
  if (response.status !== 401 || /^basic\s/i.test(request.headers.get("authorization") || "")) return response;
  const out = new Response(response.body, response);
  out.headers.set("www-authenticate", 'Bearer realm="billy"');
  return out;
}

function withCors(response) {
  const out = new Response(response.body, response);
  for (const [k, v] of Object.entries(CORS)) out.headers.set(k, v);
  return out;
}

export default {
  /** @param {Request} request @param {any} env */
  async fetch(request, env) {
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
    return withCors(challenge(request, await route(request, env)));
  },

  /** Cron safety net: wake every company's scheduler in case an alarm was lost, in pages (www/registry.js). */
  async scheduled(_event, env, ctx) {
    ctx.waitUntil(sweepAll(env).then((s) => console.log(`cron: ${s.companies} companies woken in ${s.pages} pages`)));
  },
};

/** The pages the worker serves from its static assets, by path (`/i/<token>`: an invoice's hosted page). */
const PAGES = [[/^\/checkout\/[^/]+$/, "/checkout.html"], [/^\/apply\/[^/]+$/, "/apply.html"],
  [/^\/dashboard$/, "/dashboard.html"], [/^\/i\/[^/]+$/, "/invoice.html"]];
const pageFor = (path) => PAGES.find(([re]) => re.test(path))?.[1] ?? null;

/**
 * A page: its HTML from the assets, with headers that keep its credential where it belongs (no referrer, no
 * framing, scripts only from this origin; `wasm-unsafe-eval` lets it compile the core).
 */
async function servePage(request, env, page) {
  const res = await env.ASSETS.fetch(new Request(new URL(page, request.url)));
  const out = new Response(res.body, res);
  out.headers.set("content-security-policy", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
    "style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'");
  out.headers.set("referrer-policy", "no-referrer");
  out.headers.set("x-content-type-options", "nosniff");
  out.headers.set("cache-control", "no-store");
  return out;
}

/**
 * HTTP lets a GET carry a body, and clients (and fuzzers) send one; a GET means nothing by it here, and a Request
 * with a GET body cannot be handed to a Durable Object, so it is dropped at the edge.
 * @param {Request} request
 */
function bodyless(request) {
  if ((request.method !== "GET" && request.method !== "HEAD") || request.body === null) return request;
  request.body.cancel().catch(() => {});
  return new Request(request.url, { method: request.method, headers: request.headers });
}

/** @param {Request} request @param {any} env */
async function route(request, env) {
  try {
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path === "/") return json({ name: "billy-edge", version: VERSION, api: "/v1", openapi: "/openapi.json" });
    if (path === "/openapi.json") return json(OPENAPI);
    const page = pageFor(path);
    if (page) return await servePage(request, env, page);
    if (!path.startsWith("/v1/")) {
      // A page's script, style or the core it loads. On Cloudflare these are served before the worker runs; the
      // Node host has the worker ask for them (no asset router in front of every API request).
      if (request.method === "GET" || request.method === "HEAD") {
        const asset = await env.ASSETS.fetch(new Request(url, { method: request.method }));
        if (asset.status !== 404) return asset;
      }
      throw new ApiError(404, "not_found", `No route for ${url.pathname}`);
    }
    if (path === "/v1/companies") {
      if (request.method === "POST") return await createCompany(request, env);
      throw methodNotAllowed(request.method, url.pathname, ["POST"]);
    }
    // Stripe's webhooks carry no key: the company is in the path, the event is signed with its webhook secret.
    const hook = /^\/v1\/processors\/stripe\/webhooks\/([^/]+)$/.exec(path);
    if (hook) {
      if (request.method !== "POST") throw methodNotAllowed(request.method, url.pathname, ["POST"]);
      if (!(await companyMayExist(env, hook[1]))) throw new ApiError(404, "not_found", `No such company: ${hook[1]}`);
      const text = await readText(request);
      const answer = await companyStub(env, hook[1]).stripeWebhook(text, request.headers.get("stripe-signature"));
      if (answer.error) throw new ApiError(answer.error.status, answer.error.code, answer.error.message, answer.error.field);
      return json(answer);
    }
    // A hosted invoice's token is its own credential (no API key is asked or used): it names its company, whose
    // guid's signature is checked as a key's is, so a forged token wakes no Durable Object; the company checks the
    // token's MAC. Whatever is wrong with a token, the answer is the same 404.
    const hosted = /^\/v1\/hosted_invoices\/([^/]+)(?:\/|$)/.exec(path);
    if (hosted) {
      let token = null;
      try { token = decodeURIComponent(hosted[1]); } catch { /* not a token */ }
      const guid = token === null ? null : core.companyOfHostedInvoiceToken(token);
      if (guid === null || !(await companyMayExist(env, guid))) throw new ApiError(404, "not_found", "No such hosted invoice");
      return await companyStub(env, guid).handle(bodyless(request), null);
    }
    // An application's token is its own credential, carried in its path (/v1/applications/by_token/<token>).
    const key = apiKeyOf(request) ?? /^\/v1\/applications\/by_token\/([^/]+)/.exec(path)?.[1] ?? null;
    if (!key) throw new ApiError(401, "invalid_api_key", "Missing API key: pass it as the Basic-auth username");
    let guid;
    try { guid = core.companyOfKey(key); } catch { throw new ApiError(401, "invalid_api_key", "Invalid API key"); }
    // A made-up company is refused here, before any Durable Object is woken.
    if (!(await companyMayExist(env, guid))) throw new ApiError(401, "invalid_api_key", "Invalid API key");
    return await companyStub(env, guid).handle(bodyless(request), key);
  } catch (err) {
    await drain(request);
    return errorResponse(err);
  }
}
