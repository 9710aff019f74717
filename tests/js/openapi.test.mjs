// The OpenAPI document: it describes every route the worker has (read off the route files, so a new endpoint without
// a description fails here), it is served at /openapi.json, and it drives a tenant-isolation check that covers every
// path by itself: company B's key against each of company A's objects is a 404, and A's data is unchanged.
// (Every response of every API suite is also validated against it, in tests/js/harness.mjs.)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CARD, call, newCompany, ok, startWorker } from "./harness.mjs";
import { DESCRIBED, openapiDocument } from "../../www/openapi.js";
import { names } from "./core.mjs";

const OPENAPI = openapiDocument(names());

const ROUTES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../www/routes");
let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

test("every route is described, and the document is served", async () => {
  // Answered by the worker itself (no company key): company creation and Stripe's webhooks.
  const routes = new Set(["POST /v1/companies", "POST /v1/processors/stripe/webhooks/:guid"]);
  for (const f of readdirSync(ROUTES_DIR)) {
    const src = readFileSync(path.join(ROUTES_DIR, f), "utf8");
    for (const m of src.matchAll(/\[\s*"(GET|POST|PUT|DELETE)",\s*"(\/v1\/[^"]+)"/g)) routes.add(`${m[1]} ${m[2]}`);
    for (const m of src.matchAll(/metadataRoute\("(\/v1\/[^"]+)"/g)) routes.add(`PUT ${m[1]}`);
  }
  assert.deepEqual([...routes].filter((r) => !DESCRIBED.includes(r)), [], "routes without a description");
  assert.deepEqual(DESCRIBED.filter((r) => !routes.has(r)), [], "descriptions of routes that do not exist");
  const served = ok(await call(w.base, "GET", "/openapi.json"));
  assert.deepEqual(served, JSON.parse(JSON.stringify(OPENAPI)));
  assert.equal(served.openapi, "3.1.0");
});

test("tenant isolation, generated from the document: B's key on A's objects is a 404 on every path", async () => {
  const a = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const b = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const plan = ok(await a.api.post("/v1/plans", { plan_type: "debit", frequency: "monthly", amount: "500" }));
  const customer = ok(await a.api.post("/v1/customers", {}));
  const sub = ok(await a.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid, funding_instrument_uri: CARD }));
  const invoice = ok(await a.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "900", funding_instrument_uri: CARD }));
  const [tx] = ok(await a.api.get(`/v1/invoices/${invoice.guid}/transactions`)).items;
  const order = ok(await a.api.post(`/v1/customers/${customer.guid}/orders`, {}));
  ok(await a.api.post(`/v1/customers/${customer.guid}/assessments`, { years_in_business: "3", annual_revenue_band: "100k-1m",
    employees_band: "1-10", industry_risk: "low" }));
  const checkout = ok(await a.api.post("/v1/checkouts", { customer_guid: customer.guid, amount: "1000", terms_days: "15" }));
  const bt = ok(await a.api.postJson("/v1/balance_transactions", { balance_transaction: { amount: 100, currency: "usd", customer: customer.guid } }));
  const app = ok(await a.api.post("/v1/applications", { customer_guid: customer.guid }));
  const hook = ok(await a.api.post("/v1/webhook_endpoints", { url: "http://127.0.0.1:9/hooks" }));
  const ids = { companies: a.guid, plans: plan.guid, customers: customer.guid, subscriptions: sub.guid, invoices: invoice.guid,
    transactions: tx.guid, orders: order.guid, checkouts: checkout.guid, balance_transactions: bt.id, applications: app.guid,
    webhook_endpoints: hook.guid, by_token: app.token };
  const snapshot = async () => Promise.all(["/v1/plans", "/v1/customers", "/v1/subscriptions", "/v1/invoices", "/v1/transactions",
    "/v1/orders", "/v1/checkouts", "/v1/balance_transactions", "/v1/applications", "/v1/webhook_endpoints",
    `/v1/customers/${customer.guid}/credit`, `/v1/companies/${a.guid}`, `/v1/companies/${a.guid}/keys`].map(async (p) => ok(await a.api.get(p))));
  const before = await snapshot();
  let checked = 0;
  for (const [template, ops] of Object.entries(OPENAPI.paths)) {
    if (!template.includes("{")) continue;
    // A hosted invoice's token is its own credential and takes no key (any key is ignored): these paths are checked
    // by token below, and in tests/js/hosted-invoice.test.mjs.
    if (template.startsWith("/v1/hosted_invoices/")) continue;
    const p = template.replace(/\/([a-z_]+)\/\{[a-z_]+\}/g, (_, res) => `/${res}/${encodeURIComponent(ids[res])}`);
    for (const method of Object.keys(ops)) {
      const res = await call(w.base, method.toUpperCase(), p, { key: b.key, ...(method === "get" || method === "delete" ? {} : { form: {} }) });
      assert.equal(res.status, 404, `${method.toUpperCase()} ${p} with another company's key: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      checked++;
    }
  }
  assert.ok(checked >= 60, `${checked} operations checked`);
  // Tokens, on every hosted invoice path: B's token, and every mix of B's and A's parts, never open A's invoice.
  const cuB = ok(await b.api.post("/v1/customers", {}));
  const ib = ok(await b.api.post("/v1/invoices", { customer_guid: cuB.guid, amount: "700" }));
  const [coA, ivA, macA] = invoice.hosted_invoice_url.slice(3).split(".");
  const [coB, ivB, macB] = ib.hosted_invoice_url.slice(3).split(".");
  const hosted = Object.entries(OPENAPI.paths).filter(([t]) => t.startsWith("/v1/hosted_invoices/"));
  assert.ok(hosted.length >= 1, "the hosted invoice paths are described");
  for (const [template, ops] of hosted) {
    for (const method of Object.keys(ops)) {
      for (const token of [`${coA}.${ivA}.${macB}`, `${coB}.${ivA}.${macB}`, `${coB}.${ivA}.${macA}`, `${coA}.${ivB}.${macB}`]) {
        const p = template.replace("{token}", encodeURIComponent(token));
        const res = await call(w.base, method.toUpperCase(), p, { key: b.key, ...(method === "get" ? {} : { form: { funding_instrument_uri: CARD } }) });
        assert.equal(res.status, 404, `${method.toUpperCase()} ${p}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        checked++;
      }
    }
  }
  // B's own token opens B's invoice only.
  assert.equal(ok(await call(w.base, "GET", `/v1/hosted_invoices/${coB}.${ivB}.${macB}`)).guid, ib.guid);
  assert.deepEqual(await snapshot(), before, "A's data is unchanged");
});
