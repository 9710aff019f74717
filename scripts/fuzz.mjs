// `npm run fuzz`: Schemathesis (PyPI, in a local virtualenv under tests/.tmp, never installed globally) generates
// requests for every operation of /openapi.json and sends them to the worker running in workerd, with a real API key
// of a company holding one of each object. It fails on any 5xx, any response the document does not describe, or a
// hang. Prints the number of cases.
//   FUZZ_EXAMPLES (default 50 per operation), --short (a few hundred cases, for `npm test`), FUZZ_SEED.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";
import { miniflareOptions, ROOT } from "./miniflare.mjs";

const SHORT = process.argv.includes("--short");
const EXAMPLES = SHORT ? 3 : Number(process.env.FUZZ_EXAMPLES || 50);
const VENV = path.join(ROOT, "tests/.tmp/fuzz-venv");
const SCHEMATHESIS = "schemathesis==4.32.5";
const bin = (name) => path.join(VENV, "bin", name);

// Python 3 with venv (Debian splits venv into python3-venv), installed the way tests/billy-client/setup.sh does.
if (spawnSync("python3", ["-c", "import venv, ensurepip"]).status !== 0) {
  const sudo = process.getuid?.() === 0 ? "" : "sudo ";
  const r = spawnSync("bash", ["-c", `${sudo}apt-get update -qq && ${sudo}env DEBIAN_FRONTEND=noninteractive ` +
    "apt-get install -y -qq python3 python3-venv >/dev/null"], { stdio: "inherit" });
  if (r.status !== 0) { console.error("fuzz: could not install python3-venv"); process.exit(2); }
}
if (!existsSync(bin("schemathesis"))) {
  console.error(`fuzz: creating ${path.relative(ROOT, VENV)} with ${SCHEMATHESIS} (once)`);
  for (const [cmd, args] of [["python3", ["-m", "venv", VENV]], [bin("python"), ["-m", "pip", "install", "--quiet", SCHEMATHESIS]]]) {
    const r = spawnSync(cmd, args, { stdio: "inherit" });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}

const mf = new Miniflare(miniflareOptions({ port: 0 }));
const base = (await mf.ready).origin;
const form = (o) => new URLSearchParams(o).toString();
const call = async (method, p, key, body) => (await fetch(base + p, { method, body: body ? form(body) : undefined,
  headers: { "content-type": "application/x-www-form-urlencoded", ...(key ? { authorization: `Bearer ${key}` } : {}) } })).json();
const co = await call("POST", "/v1/companies", null, { clock: "2024-01-01T00:00:00Z" });
const key = co.api_key;
const plan = await call("POST", "/v1/plans", key, { plan_type: "debit", frequency: "monthly", amount: "500" });
const cu = await call("POST", "/v1/customers", key, {});
await call("POST", `/v1/customers/${cu.guid}/assessments`, key,
  { years_in_business: "5", annual_revenue_band: "1m-10m", employees_band: "11-50", industry_risk: "low" });
const sub = await call("POST", "/v1/subscriptions", key, { plan_guid: plan.guid, customer_guid: cu.guid, funding_instrument_uri: "/v1/cards/ok" });
const inv = await call("POST", "/v1/invoices", key, { customer_guid: cu.guid, amount: "900", funding_instrument_uri: "/v1/cards/ok" });
// An unpaid invoice for the hosted invoice paths, whose token (no key) is their credential.
const unpaid = await call("POST", "/v1/invoices", key, { customer_guid: cu.guid, amount: "700" });
const hostedToken = unpaid.hosted_invoice_url?.slice("/i/".length);
const order = await call("POST", `/v1/customers/${cu.guid}/orders`, key, {});
const checkout = await call("POST", "/v1/checkouts", key, { customer_guid: cu.guid, amount: "3000", terms_days: "30" });
const bt = await call("POST", "/v1/balance_transactions", key, { "balance_transaction[amount]": "100",
  "balance_transaction[currency]": "usd", "balance_transaction[customer]": cu.guid });
const app = await call("POST", "/v1/applications", key, { customer_guid: cu.guid, legal_name: "Fuzz LLC" });
const coupon = await call("POST", "/v1/coupons", key, { code: "FUZZ", percent_off: "10", duration: "forever" });
const hook = await call("POST", "/v1/webhook_endpoints", key, { url: "https://hooks.example/fuzz" });
const txn = (await call("GET", "/v1/transactions?limit=1", key)).items?.[0];

// Real identifiers for path parameters, so that operations on one object get past "not found" and their bodies and
// queries are fuzzed too. Destructive operations on them are fine: what follows must still never be a 5xx.
const ids = { companies: co.guid, plans: plan.guid, customers: cu.guid, subscriptions: sub.guid, invoices: inv.guid,
  orders: order.guid, checkouts: checkout.guid, balance_transactions: bt.id, applications: app.guid,
  webhook_endpoints: hook.guid, transactions: txn?.guid, coupons: coupon.code };
for (const [k, v] of Object.entries({ ...ids, hosted_invoices: hostedToken })) if (!v) { console.error(`fuzz: could not create a ${k} object`); process.exit(1); }
const toml = Object.entries(ids).map(([k, v]) => `[[operations]]\ninclude-path-regex = "^/v1/${k}/\\\\{"\n` +
  `parameters = { "path.${k === "balance_transactions" ? "id" : "guid"}" = "${v}" }\n`).join("\n") +
  `\n[[operations]]\ninclude-path-regex = "^/v1/applications/by_token/"\nparameters = { "path.token" = "${app.token}" }\n` +
  `\n[[operations]]\ninclude-path-regex = "^/v1/hosted_invoices/"\nparameters = { "path.token" = "${hostedToken}" }\n`;
const config = path.join(ROOT, "tests/.tmp/schemathesis.toml");
writeFileSync(config, toml);

// One worker: with two threads, Hypothesis describing its lambdas calls `ast.parse` concurrently, which CPython 3.11
// (Debian's) can fail with "AST constructor recursion depth mismatch" (CPython issue 106905): a crash of the tool
// reported as a failed case, not a finding about the API.
const args = ["--config-file", config, "run", `${base}/openapi.json`, "-H", `Authorization: Bearer ${key}`, "--checks",
  "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
  "-n", String(EXAMPLES), "--request-timeout", "10", "--max-response-time", "10", "--workers", "1",
  "--phases", "examples,coverage,fuzzing", "--suppress-health-check", "all", "--continue-on-failure",
  "--exclude-path", "/v1/companies/{guid}/keys/rotate", "--exclude-path", "/v1/dashboard/sessions/current",
  ...(process.env.FUZZ_SEED ? ["--seed", process.env.FUZZ_SEED] : [])];
const child = spawn(bin("schemathesis"), args, { cwd: path.join(ROOT, "tests/.tmp"), stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, NO_COLOR: "1" } });
let out = "";
child.stdout.on("data", (d) => { out += d; process.stdout.write(d); });
const code = await new Promise((resolve) => child.on("close", resolve));
await mf.dispose();
const cases = [...out.matchAll(/(\d+)\s+generated/g)].map((m) => Number(m[1])).reduce((a, b) => Math.max(a, b), 0);
const failed = Number(/(\d+) failed/.exec(out.split("SUMMARY").pop() ?? "")?.[1] || (code === 0 ? 0 : 1));
console.log(`\nfuzz: ${cases || "?"} cases generated, schemathesis exit ${code}`);
console.log(`checks: ${code === 0 ? cases : Math.max(cases - failed, 0)} passed, ${code === 0 ? 0 : failed} failed`);
process.exit(code ?? 1);
