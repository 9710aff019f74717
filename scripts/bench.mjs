// `npm run bench`: throughput and latency of the API in workerd over loopback HTTP, and of the core alone.
// Ceilings on a 2-core box (../shared/DESIGN.md): trivial worker ~3,900 req/s, Durable Object read ~2,750 req/s,
// Durable Object SQLite insert ~600 req/s. Targets: each endpoint within reach of its ceiling (printed as a ratio).
//   BENCH_SECONDS (default 5) per scenario, BENCH_CONNECTIONS (default 10).
import { Miniflare } from "miniflare";
import { readFileSync } from "node:fs";
import path from "node:path";
import { miniflareOptions, ROOT } from "./miniflare.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS || 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 10);

async function load(name, ceiling, makeRequest) {
  const latencies = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const res = await makeRequest();
      await res.arrayBuffer();
      if (res.status >= 400) errors++;
      latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const secs = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(2);
  const rps = latencies.length / secs;
  console.log(`${name.padEnd(34)} ${rps.toFixed(0).padStart(6)} req/s  p50 ${pct(0.5)} ms  p99 ${pct(0.99)} ms` +
    `  errors ${errors}${ceiling ? `  (${Math.round((100 * rps) / ceiling)}% of the ${ceiling} req/s platform ceiling)` : ""}`);
  return { name, rps, errors };
}

function coreBench() {
  // The same pkg/ the worker uses, loaded in Node.
  return import(path.join(ROOT, "pkg/billy_edge.js")).then((core) => {
    core.initSync({ module: readFileSync(path.join(ROOT, "pkg/billy_edge_bg.wasm")) });
    const cases = {
      "core validateInvoice (3 items, 2 adj)": () => core.validateInvoice({ customer_guid: "CUabc", amount: "1000",
        item_name1: "A", item_amount1: "1000", item_name2: "B", item_amount2: "200", item_name3: "C", item_amount3: "5",
        adjustment_amount1: "-100", adjustment_reason1: "coupon", adjustments_amount2: "20" }),
      "core duePeriods (12 monthly)": () => core.duePeriods("2024-01-31T10:00:00.000000+00:00", "monthly", 1, 0,
        "2024-12-31T10:00:00.000000+00:00", 100),
      "core guid": () => core.guid("IV"),
    };
    for (const [name, fn] of Object.entries(cases)) {
      for (let i = 0; i < 1000; i++) fn();
      const n = 50_000, t0 = performance.now();
      for (let i = 0; i < n; i++) fn();
      const us = ((performance.now() - t0) * 1000) / n;
      console.log(`${name.padEnd(34)} ${us.toFixed(2).padStart(6)} µs/call`);
    }
  });
}

// Baseline with the same load generator: a trivial worker, and a Durable Object doing one SQLite read / insert.
// Our endpoints are compared with these (and the DESIGN.md ceilings), so the bench tells whether the core or the
// routing limits us rather than the platform or the load generator.
const baseline = new Miniflare({
  modules: true, compatibilityDate: "2025-04-01", port: 0, host: "127.0.0.1",
  durableObjects: { D: { className: "D", useSQLite: true } },
  script: `import { DurableObject } from "cloudflare:workers";
    export class D extends DurableObject {
      constructor(ctx, env) { super(ctx, env); ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)"); }
      async fetch(req) {
        const sql = this.ctx.storage.sql;
        if (req.method === "POST") { sql.exec("INSERT INTO t (v) VALUES (?)", "x"); return new Response("ok"); }
        return Response.json(sql.exec("SELECT count(*) AS n FROM t").one());
      }
    }
    export default { fetch(req, env) {
      const p = new URL(req.url).pathname;
      if (p === "/") return new Response("ok");
      return env.D.get(env.D.idFromName("x")).fetch(req);
    } };`,
});
const bbase = (await baseline.ready).origin;
console.log(`${CONNECTIONS} connections, ${SECONDS} s per scenario, loopback HTTP into workerd (Miniflare)`);
const trivial = await load("baseline: trivial worker", 3900, () => fetch(bbase + "/"));
const doRead = await load("baseline: Durable Object read", 2750, () => fetch(bbase + "/do"));
const doInsert = await load("baseline: Durable Object insert", 600, () => fetch(bbase + "/do", { method: "POST" }));
await baseline.dispose();

const mf = new Miniflare(miniflareOptions({ port: 0 }));
const base = (await mf.ready).origin;
const post = (p, body, key) => fetch(base + p, { method: "POST", body: new URLSearchParams(body),
  headers: key ? { authorization: "Basic " + Buffer.from(key + ":").toString("base64") } : {} });
const company = await (await post("/v1/companies", { clock: "2024-01-01T00:00:00Z" })).json();
const key = company.api_key;
const auth = { authorization: "Basic " + Buffer.from(key + ":").toString("base64") };
const plan = await (await post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly" }, key)).json();
const customer = await (await post("/v1/customers", {}, key)).json();

const results = [];
const vs = (r, b) => console.log(`  → ${Math.round((100 * r.rps) / b.rps)}% of ${b.name}`);
const scenario = async (name, ceiling, b, fn) => { const r = await load(name, ceiling, fn); results.push(r); vs(r, b); };
await scenario("GET / (no Durable Object)", 3900, trivial, () => fetch(base + "/"));
await scenario("GET /v1/plans/<guid> (DO read)", 2750, doRead, () => fetch(`${base}/v1/plans/${plan.guid}`, { headers: auth }));
await scenario("GET /v1/invoices?limit=20 (DO list)", 2750, doRead, () => fetch(`${base}/v1/invoices?limit=20`, { headers: auth }));
await scenario("POST /v1/customers (DO insert)", 600, doInsert, () => post("/v1/customers", {}, key));
await scenario("POST /v1/invoices + charge", 600, doInsert, () => post("/v1/invoices", { customer_guid: customer.guid,
  amount: "1000", funding_instrument_uri: "/v1/cards/ok", item_name1: "Hosting", item_amount1: "1000" }, key));
await coreBench();
await mf.dispose();
if (results.some((r) => r.errors > 0)) { console.error("errors during the benchmark"); process.exit(1); }
