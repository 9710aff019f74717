// The Billy v1 API over HTTP, customers: create (no body, like the reference's curl; form; JSON), validation,
// retrieve, delete (twice → error; cancels the customer's subscriptions), list with ?processor_uri=, and the
// nested lists, which include the customer's subscription invoices and their transactions.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, TIME, advance, call, err, newCompany, ok, show, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const company = (clock = "2024-01-31T10:00:00Z") => newCompany(w.base, clock ? { clock } : {});
const CUSTOMER_KEYS = ["company_guid", "created_at", "deleted", "guid", "processor_uri", "updated_at"];

test("create a customer like the reference's curl (POST, no body), with a form, and with JSON", async () => {
  const c = await company();
  const bare = ok(await call(w.base, "POST", "/v1/customers", { key: c.key }));
  for (const k of CUSTOMER_KEYS) assert.ok(k in bare, `customer has ${k}`);
  assert.match(bare.guid, /^CU[1-9A-HJ-NP-Za-km-z]{20,22}$/);
  assert.equal(bare.company_guid, c.guid);
  assert.equal(bare.deleted, false);
  assert.equal(bare.processor_uri, null);
  assert.match(bare.created_at, TIME);
  assert.equal(bare.created_at, "2024-01-31T10:00:00.000000+00:00");
  const form = ok(await c.api.post("/v1/customers", { processor_uri: "/v1/customers/CUCChwFzuMRlBGgoBwjRgqr" }));
  assert.equal(form.processor_uri, "/v1/customers/CUCChwFzuMRlBGgoBwjRgqr");
  const json = ok(await c.api.postJson("/v1/customers", { processor_uri: "/v1/customers/CUjson" }));
  assert.equal(json.processor_uri, "/v1/customers/CUjson");
  const empty = ok(await c.api.post("/v1/customers", { processor_uri: "" }));
  assert.equal(empty.processor_uri, null, "empty = absent");
  assert.deepEqual(ok(await c.api.get(`/v1/customers/${form.guid}`)), form);
});

test("customer validation: processor_uri must be a string", async () => {
  const c = await company();
  for (const v of [5, true, ["/v1/customers/x"], { uri: "x" }]) {
    err(await c.api.postJson("/v1/customers", { processor_uri: v }), 400, "processor_uri");
  }
  assert.equal(ok(await c.api.get("/v1/customers")).total_count, 0);
});

test("customer list: newest first, ?processor_uri= filter", async () => {
  const c = await company();
  const a = ok(await c.api.post("/v1/customers", { processor_uri: "/v1/customers/A" }));
  const b = ok(await c.api.post("/v1/customers", { processor_uri: "/v1/customers/B" }));
  const a2 = ok(await c.api.post("/v1/customers", { processor_uri: "/v1/customers/A" }));
  const none = ok(await c.api.post("/v1/customers", {}));
  const all = ok(await c.api.get("/v1/customers"));
  assert.deepEqual(all.items.map((x) => x.guid), [none.guid, a2.guid, b.guid, a.guid]);
  assert.equal(all.total_count, 4);
  const fa = ok(await c.api.get("/v1/customers?processor_uri=" + encodeURIComponent("/v1/customers/A")));
  assert.deepEqual(fa.items.map((x) => x.guid), [a2.guid, a.guid]);
  assert.equal(fa.total_count, 2);
  const fb = ok(await c.api.get("/v1/customers?processor_uri=" + encodeURIComponent("/v1/customers/B") + "&limit=1"));
  assert.deepEqual(fb.items.map((x) => x.guid), [b.guid]);
  assert.equal(fb.total_count, 1);
  const fz = ok(await c.api.get("/v1/customers?processor_uri=nothing"));
  assert.deepEqual(fz.items, []);
  assert.equal(fz.total_count, 0);
});

test("delete a customer: deleted true; twice → 409; unknown → 404; cannot be subscribed or invoiced", async () => {
  const c = await company();
  const cu = ok(await c.api.post("/v1/customers", {}));
  await advance(c, "2024-02-02T00:00:00Z");
  const del = ok(await c.api.del(`/v1/customers/${cu.guid}`));
  assert.equal(del.deleted, true);
  assert.equal(del.guid, cu.guid);
  assert.equal(del.updated_at, "2024-02-02T00:00:00.000000+00:00");
  assert.equal(ok(await c.api.get(`/v1/customers/${cu.guid}`)).deleted, true);
  err(await c.api.del(`/v1/customers/${cu.guid}`), 409);
  err(await c.api.del("/v1/customers/CUnope"), 404);
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly" }));
  const s = await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: cu.guid });
  assert.equal(err(s, 409, "customer_guid").code, "customer_deleted");
  const iv = await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "100" });
  assert.equal(err(iv, 409, "customer_guid").code, "customer_deleted");
  assert.equal(ok(await c.api.get("/v1/subscriptions")).total_count, 0);
  assert.equal(ok(await c.api.get("/v1/invoices")).total_count, 0);
});

test("deleting a customer cancels its subscriptions (and only those); no invoices follow", async () => {
  const c = await company();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly" }));
  const gone = ok(await c.api.post("/v1/customers", {}));
  const stays = ok(await c.api.post("/v1/customers", {}));
  const s1 = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: gone.guid, funding_instrument_uri: CARD }));
  const s2 = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: gone.guid,
    started_at: "2024-02-15T00:00:00Z" }));
  const s3 = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: stays.guid, funding_instrument_uri: CARD }));
  await advance(c, "2024-02-05T00:00:00Z");
  ok(await c.api.del(`/v1/customers/${gone.guid}`));
  for (const s of [s1, s2]) {
    const got = ok(await c.api.get(`/v1/subscriptions/${s.guid}`));
    assert.equal(got.canceled, true, s.guid);
    assert.equal(got.canceled_at, "2024-02-05T00:00:00.000000+00:00");
    err(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, {}), 409);
  }
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${s3.guid}`)).canceled, false);
  await advance(c, "2024-04-30T10:00:00Z");
  assert.equal(ok(await c.api.get(`/v1/customers/${gone.guid}/invoices`)).total_count, 1, "only the Jan 31 invoice");
  assert.equal(ok(await c.api.get(`/v1/customers/${stays.guid}/invoices`)).total_count, 4, "Jan 31, Feb 29, Mar 31, Apr 30");
  // The plan itself is untouched.
  assert.equal(ok(await c.api.get(`/v1/plans/${plan.guid}`)).deleted, false);
});

test("customer lists include subscription invoices and their transactions, not only direct invoices", async () => {
  const c = await company();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly" }));
  const cu = ok(await c.api.post("/v1/customers", {}));
  const other = ok(await c.api.post("/v1/customers", {}));
  const s1 = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: cu.guid, funding_instrument_uri: CARD }));
  const s2 = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: cu.guid }));
  ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: other.guid, funding_instrument_uri: CARD }));
  const direct = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "1000", funding_instrument_uri: CARD }));
  const staged = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "2000" }));
  ok(await c.api.post(`/v1/invoices/${direct.guid}/refund`, { amount: "300" }));

  const subs = ok(await c.api.get(`/v1/customers/${cu.guid}/subscriptions`));
  assert.deepEqual(subs.items.map((x) => x.guid), [s2.guid, s1.guid]);
  assert.equal(subs.total_count, 2);

  const invoices = ok(await c.api.get(`/v1/customers/${cu.guid}/invoices`));
  assert.equal(invoices.total_count, 4, "2 subscription invoices + 2 direct invoices");
  const types = invoices.items.map((x) => x.invoice_type).sort();
  assert.deepEqual(types, ["customer", "customer", "subscription", "subscription"]);
  assert.ok(invoices.items.some((x) => x.guid === staged.guid));
  for (const iv of invoices.items) assert.equal(iv.customer_guid, cu.guid);

  const txs = ok(await c.api.get(`/v1/customers/${cu.guid}/transactions`));
  assert.equal(txs.total_count, 3, "s1's debit, the direct debit and its refund");
  assert.deepEqual(txs.items.map((x) => x.transaction_type).sort(), ["debit", "debit", "refund"]);
  const ivGuids = new Set(invoices.items.map((x) => x.guid));
  for (const t of txs.items) assert.ok(ivGuids.has(t.invoice_guid));
  assert.equal(txs.items[0].transaction_type, "refund", "newest first");

  assert.equal(ok(await c.api.get(`/v1/customers/${other.guid}/transactions`)).total_count, 1);
  for (const l of ["subscriptions", "invoices", "transactions"]) err(await c.api.get(`/v1/customers/CUnope/${l}`), 404);
});
