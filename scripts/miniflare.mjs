// Builds the Miniflare options that run www/worker.js in workerd exactly as wrangler.toml deploys it:
// same entry, same Durable Object classes (SQLite-backed), same module rules. Used by the Node host and tests.
import path from "node:path";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { Response } from "miniflare";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * A secret of the deployment: the environment's if set, else one made on first start and kept beside the data (it
 * must never change while the data lives), else, for in-memory state, a fresh one.
 *   COMPANY_ID_SECRET signs company guids; PROCESSOR_KEY_SECRET seals the companies' Stripe keys.
 * @param {string} name @param {string|null} dataDir
 */
function deploymentSecret(name, dataDir) {
  if (process.env[name]) return process.env[name];
  if (!dataDir) return randomBytes(32).toString("base64url");
  const file = path.join(path.resolve(dataDir), name.toLowerCase().replaceAll("_", "-"));
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" });
  }
  return readFileSync(file, "utf8").trim();
}

const STATIC_DIR = path.join(ROOT, "www/static");
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm", ".png": "image/png", ".svg": "image/svg+xml", ".json": "application/json", ".ts": "text/plain; charset=utf-8" };

/** A file of www/static by its URL path (404 for anything else, including a path that climbs out). */
async function serveStatic(request) {
  let file;
  try { file = path.join(STATIC_DIR, path.normalize(decodeURIComponent(new URL(request.url).pathname)).replace(/^([/\\])+/, "")); }
  catch { return new Response("Not Found", { status: 404 }); }
  if (!file.startsWith(STATIC_DIR + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
    return new Response("Not Found", { status: 404 });
  }
  const body = request.method === "HEAD" ? null : readFileSync(file);
  return new Response(body, { headers: { "content-type": TYPES[path.extname(file)] || "application/octet-stream" } });
}

/**
 * @param {{ port?: number, host?: string, dataDir?: string|null }} opts dataDir null = in-memory state
 */
export function miniflareOptions({ port = 8787, host = "127.0.0.1", dataDir = null, bindings = {} } = {}) {
  const opts = {
    rootPath: ROOT,
    scriptPath: path.join(ROOT, "www/worker.js"),
    modules: true,
    modulesRoot: ROOT,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "Text", include: ["**/*.sql"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-04-01",
    durableObjects: {
      COMPANY: { className: "Company", useSQLite: true },
      SIMULATOR: { className: "Simulator", useSQLite: true },
      REGISTRY: { className: "Registry", useSQLite: true },
      SWEEPER: { className: "Sweeper", useSQLite: true },
      LIMITER: { className: "Limiter", useSQLite: true },
    },
    // The buyer and merchant pages (www/static, with a copy of pkg/) as the worker's ASSETS binding, served from
    // Node. Not Miniflare's asset router: it would put two more workers in front of every API request (measured:
    // a quarter of the throughput, and more memory per request); the worker asks ASSETS for the few paths it
    // does not answer itself, as Cloudflare's asset-first routing would have served them.
    serviceBindings: { ASSETS: serveStatic },
    // SIMULATOR_LATENCY_MS: how long the built-in processor takes to answer (benchmarks; default 0).
    // IDEMPOTENCY_ABANDONED_MS: how long a key whose request died unanswered stays "in use" (default 60 s).
    bindings: { SIMULATOR_LATENCY_MS: process.env.SIMULATOR_LATENCY_MS || "0",
      COMPANY_ID_SECRET: deploymentSecret("COMPANY_ID_SECRET", dataDir),
      PROCESSOR_KEY_SECRET: deploymentSecret("PROCESSOR_KEY_SECRET", dataDir),
      // STRIPE_API_BASE: where the Stripe adapter sends its requests (default https://api.stripe.com).
      ...(process.env.STRIPE_API_BASE ? { STRIPE_API_BASE: process.env.STRIPE_API_BASE } : {}),
      ...(process.env.IDEMPOTENCY_ABANDONED_MS ? { IDEMPOTENCY_ABANDONED_MS: process.env.IDEMPOTENCY_ABANDONED_MS } : {}),
      // COMPANY_CREATION_LIMIT: "<count>/<seconds>" per client address (default 20/3600), or "off".
      ...(process.env.COMPANY_CREATION_LIMIT ? { COMPANY_CREATION_LIMIT: process.env.COMPANY_CREATION_LIMIT } : {}),
      ...bindings },
    port,
    host,
  };
  if (dataDir) opts.durableObjectsPersist = path.resolve(dataDir);
  return opts;
}
