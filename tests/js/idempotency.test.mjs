// Idempotency-Key on writes (Stripe semantics): one effect per key, the first answer replayed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { call, newCompany, startWorker } from "./harness.mjs";

let w, c, plan, customer;
before(async () => {
  w = await startWorker();
  c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  plan = (await c.api.post("/v1/plans", { plan_type: "debit", amount: "900", frequency: "monthly" })).body;
  customer = (await c.api.post("/v1/customers", {})).body;
});
after(async () => { await w.stop(); });

const withKey = (key) => ({ headers: { "idempotency-key": key } });

test("a retried invoice creation with the same key charges once and replays the first answer", async () => {
  const form = { customer_guid: customer.guid, amount: "1200", funding_instrument_uri: "/v1/cards/ok" };
  const first = await c.api.post("/v1/invoices", form, withKey("inv-1"));
  assert.equal(first.status, 200);
  assert.equal(first.body.status, "settled");
  const again = await c.api.post("/v1/invoices", form, withKey("inv-1"));
  assert.equal(again.status, 200);
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.deepEqual(again.body, first.body);
  const list = (await c.api.get(`/v1/customers/${customer.guid}/invoices`)).body;
  assert.equal(list.items.filter((i) => i.amount === 1200).length, 1);
  const ledger = (await c.api.get(`/v1/companies/${c.guid}/simulator`)).body;
  assert.equal(ledger.charges.filter((x) => x.amount === 1200).length, 1);
});

test("concurrent requests with one key: one runs, the others wait their turn or replay it", async () => {
  const form = { customer_guid: customer.guid, amount: "1300", funding_instrument_uri: "/v1/cards/ok" };
  const results = await Promise.all(Array.from({ length: 6 }, () => c.api.post("/v1/invoices", form, withKey("inv-2"))));
  for (const r of results) assert.ok(r.status === 200 || r.status === 409, `${r.status} ${JSON.stringify(r.body)}`);
  const guids = new Set(results.filter((r) => r.status === 200).map((r) => r.body.guid));
  assert.equal(guids.size, 1);
  const list = (await c.api.get(`/v1/customers/${customer.guid}/invoices`)).body;
  assert.equal(list.items.filter((i) => i.amount === 1300).length, 1);
});

test("the same key with other parameters is refused", async () => {
  await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "weekly" }, withKey("plan-1"));
  const res = await c.api.post("/v1/plans", { plan_type: "debit", amount: "600", frequency: "weekly" }, withKey("plan-1"));
  assert.equal(res.status, 400);
  assert.equal(res.body.error.code, "idempotency_key_reused");
  assert.equal(res.body.error.field, "Idempotency-Key");
});

test("validation errors are replayed too; a new key runs anew", async () => {
  const bad = { plan_type: "debit", amount: "10", frequency: "weekly" };
  const a = await c.api.post("/v1/plans", bad, withKey("plan-bad"));
  const b = await c.api.post("/v1/plans", bad, withKey("plan-bad"));
  assert.equal(a.status, 400);
  assert.equal(b.status, 400);
  assert.equal(b.headers.get("idempotent-replayed"), "true");
  assert.deepEqual(a.body, b.body);
});

test("refunds with a key are applied once", async () => {
  const inv = (await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000",
    funding_instrument_uri: "/v1/cards/ok" })).body;
  for (let i = 0; i < 3; i++) {
    const r = await c.api.post(`/v1/invoices/${inv.guid}/refund`, { amount: "400" }, withKey(`refund-${inv.guid}`));
    assert.equal(r.status, 200);
  }
  const txs = (await c.api.get(`/v1/invoices/${inv.guid}/transactions`)).body.items;
  assert.equal(txs.filter((t) => t.transaction_type === "refund").length, 1);
});

test("keys are per company and malformed keys are 400", async () => {
  const other = await newCompany(w.base);
  const r = await other.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "weekly" }, withKey("plan-1"));
  assert.equal(r.status, 200, "another company's key space is separate");
  const long = await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "weekly" }, withKey("x".repeat(256)));
  assert.equal(long.status, 400);
  assert.equal(long.body.error.field, "Idempotency-Key");
});

test("a buyer's keys live apart from the merchant's: a hosted page, a dashboard session and the secret key may send one key", async () => {
  // The merchant's invoice, declined, and its hosted page's token (the buyer's only credential).
  const inv = (await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1400",
    funding_instrument_uri: "/v1/cards/hard_decline" })).body;
  assert.equal(inv.status, "failed");
  const token = encodeURIComponent(inv.hosted_invoice_url.slice("/i/".length));
  const shared = withKey("same-key-everywhere");
  // The merchant uses the key first, for a plan.
  const merchant = await c.api.post("/v1/plans", { plan_type: "debit", amount: "700", frequency: "weekly" }, shared);
  assert.equal(merchant.status, 200);
  // The buyer's pay with that key is its own request: it runs (no 400 for a reused key, no replay of the plan).
  const pay = (headers) => call(w.base, "POST", `/v1/hosted_invoices/${token}/pay`,
    { json: { funding_instrument_uri: "/v1/cards/ok" }, headers });
  const paid = await pay(shared.headers);
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.equal(paid.headers.get("idempotent-replayed"), null);
  assert.equal(paid.body.status, "settled");
  // Within the buyer's own scope the key still means "once": the retry replays, nothing is charged twice.
  const again = await pay(shared.headers);
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.deepEqual(again.body, paid.body);
  const ledger = (await c.api.get(`/v1/companies/${c.guid}/simulator`)).body;
  assert.equal(ledger.charges.filter((x) => x.amount === 1400 && x.status === "succeeded").length, 1);
  // A dashboard session (a restricted credential of the merchant's) has a scope of its own as well.
  const session = (await c.api.post("/v1/dashboard/sessions", {})).body.token;
  const viaSession = await call(w.base, "POST", "/v1/plans", { key: session,
    form: { plan_type: "debit", amount: "800", frequency: "weekly" }, headers: shared.headers });
  assert.equal(viaSession.status, 200);
  assert.notEqual(viaSession.body.guid, merchant.body.guid);
  // And the merchant's own retry still replays its plan, untouched by the other two.
  const merchantAgain = await c.api.post("/v1/plans", { plan_type: "debit", amount: "700", frequency: "weekly" }, shared);
  assert.equal(merchantAgain.headers.get("idempotent-replayed"), "true");
  assert.equal(merchantAgain.body.guid, merchant.body.guid);
});

test("GET requests ignore the header", async () => {
  const r = await c.api.get(`/v1/plans/${plan.guid}`, withKey("whatever"));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("idempotent-replayed"), null);
});
