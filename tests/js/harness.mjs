// Test harness: the real worker in workerd (Miniflare), reached over real HTTP on a loopback port.
import { Miniflare } from "miniflare";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { miniflareOptions } from "../../scripts/miniflare.mjs";

/** Temporary directories of this test file, removed when its process exits (workers are stopped by then). */
const made = [];
process.on("exit", () => { for (const d of made) rmSync(d, { recursive: true, force: true }); });
export const tmpDir = (prefix = "billy-") => {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
};

/** Starts the worker on a free port. @returns {Promise<{base: string, mf: Miniflare, stop: () => Promise<void>}>} */
export async function startWorker({ dataDir = null, bindings = {} } = {}) {
  // The suites create hundreds of companies from one address: the creation limit has its own test.
  const mf = new Miniflare(miniflareOptions({ port: 0, dataDir, bindings: { COMPANY_CREATION_LIMIT: "off", ...bindings } }));
  const url = await mf.ready;
  return { base: url.origin, mf, stop: () => mf.dispose() };
}

// ---- every response the suites get is checked against the OpenAPI document -------------------------------------
import Ajv2020 from "ajv/dist/2020.js";
import { openapiDocument } from "../../www/openapi.js";
import { names } from "./core.mjs";

const OPENAPI = openapiDocument(names());

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema({ $id: "billy", components: OPENAPI.components });
const OPERATIONS = Object.entries(OPENAPI.paths).flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => ({
  method: m.toUpperCase(), op, regex: new RegExp("^" + p.replace(/\{[a-z_]+\}/g, "[^/]+") + "/?$") })));
const validators = new Map();
const validator = (ref) => {
  if (!validators.has(ref)) validators.set(ref, ajv.compile({ $ref: `billy${ref}` }));
  return validators.get(ref);
};

/** Throws when a JSON response of the API does not match the document (a described operation, its schema). */
export function checkAgainstOpenApi(method, url, status, body) {
  const pathname = new URL(url, "http://x").pathname;
  if (!pathname.startsWith("/v1/") || method === "OPTIONS" || method === "HEAD" || body === null || typeof body !== "object") return;
  const found = OPERATIONS.find((o) => o.method === method && o.regex.test(pathname));
  if (!found) {
    if (status === 404 || status === 405 || status === 401) return; // no such route: the error shape is checked below
    throw new Error(`OpenAPI: ${method} ${pathname} is not described`);
  }
  const response = found.op.responses[status === 200 ? 200 : "default"];
  const ref = response.content["application/json"].schema.$ref.replace("#", "#");
  const validate = validator(ref.slice(ref.indexOf("#")));
  if (!validate(body)) {
    throw new Error(`OpenAPI: ${method} ${pathname} ${status} does not match ${ref}: ${ajv.errorsText(validate.errors)}`);
  }
}

/**
 * A small client. `form` sends urlencoded like Billy's curl examples; `json` sends JSON.
 * @returns {Promise<{status: number, body: any, headers: Headers}>}
 */
export async function call(base, method, p, { key, form, json, headers = {}, raw } = {}) {
  const h = { ...headers };
  if (key !== undefined) h.authorization = "Basic " + Buffer.from(`${key}:`).toString("base64");
  let body;
  if (form) { body = new URLSearchParams(form).toString(); h["content-type"] = "application/x-www-form-urlencoded"; }
  if (json !== undefined) { body = JSON.stringify(json); h["content-type"] = "application/json"; }
  if (raw !== undefined) body = raw;
  const res = await fetch(base + p, { method, headers: h, body });
  const text = await res.text();
  let parsed;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
  checkAgainstOpenApi(method, base + p, res.status, parsed);
  return { status: res.status, body: parsed, headers: res.headers };
}

/** A bound client for one company. */
export function client(base, key) {
  return {
    get: (p, o = {}) => call(base, "GET", p, { key, ...o }),
    post: (p, form, o = {}) => call(base, "POST", p, { key, form, ...o }),
    postJson: (p, json, o = {}) => call(base, "POST", p, { key, json, ...o }),
    put: (p, form, o = {}) => call(base, "PUT", p, { key, form, ...o }),
    del: (p, o = {}) => call(base, "DELETE", p, { key, ...o }),
  };
}

/** Creates a company; returns {guid, key, api: client}. */
export async function newCompany(base, form = {}) {
  const res = await call(base, "POST", "/v1/companies", { form });
  if (res.status !== 200) throw new Error(`company create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { guid: res.body.guid, key: res.body.api_key, body: res.body, api: client(base, res.body.api_key) };
}

// ---- assertions shared by the API suites ----------------------------------------------------------------------
import assert from "node:assert/strict";

/** Billy's time format: ISO 8601 UTC with microseconds. */
export const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
/** The card URI of the Billy reference's examples (the simulator charges it successfully). */
export const CARD = "/v1/marketplaces/TEST-MP6lD3dBpta7OAXJsN766qA/cards/CCBXYdbpYDwX68hv69UH1eS";
/** "2024-01-31" + "10:00:00" → canonical time. */
export const T = (day, time = "10:00:00") => `${day}T${time}.000000+00:00`;

export const show = (res) => `${res.status} ${JSON.stringify(res.body)?.slice(0, 600)}`;

/** Asserts a 2xx and returns the body. */
export function ok(res) {
  assert.ok(res.status >= 200 && res.status < 300, show(res));
  return res.body;
}

/** Asserts a JSON error of `status` (naming `field` when given) in both error formats; returns `error`. */
export function err(res, status, field) {
  assert.equal(res.status, status, show(res));
  assert.equal(typeof res.body?.error?.code, "string", show(res));
  assert.equal(typeof res.body.error.message, "string");
  assert.ok(res.body.error.message.length > 0);
  assert.equal(res.body.error_message, res.body.error.message);
  assert.equal(typeof res.body.error_class, "string");
  if (field !== undefined) assert.equal(res.body.error.field, field, show(res));
  return res.body.error;
}

/**
 * Moves a test-mode company's clock (runs its scheduler on the way); an advance that went on in the background is
 * waited for, so the caller sees its result either way.
 */
export async function advance(c, to) {
  let body = ok(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: to }));
  while (body.clock_status === "advancing") {
    await new Promise((r) => setTimeout(r, 50));
    body = ok(await c.api.get(`/v1/companies/${c.guid}`));
  }
  return body;
}
