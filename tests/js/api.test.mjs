// The Billy v1 API end to end over real HTTP against workerd, part 1: across the API — companies, settings,
// the test clock, auth on every endpoint, cross-company 404s on every resource, pagination edges on every list,
// and "never a 500" for odd input. Resource suites: api-plans, api-customers, api-subscriptions, api-invoices,
// api-transactions.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, TIME, advance, call, client, err, newCompany, ok, show, startWorker } from "./harness.mjs";

const at = (s) => s.replace(/Z$/, "").replace(/(T\d\d:\d\d:\d\d)$/, "$1.000000") + "+00:00";
let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const company = (clock = "2024-01-31T10:00:00Z", extra = {}) => newCompany(w.base, clock ? { clock, ...extra } : extra);

/** A company with one of everything: plan, customer, subscription (invoice + transaction), a refunded invoice. */
async function populated() {
  const c = await company();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly" }));
  const customer = ok(await c.api.post("/v1/customers", {}));
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid,
    funding_instrument_uri: CARD }));
  const invoice = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000",
    funding_instrument_uri: CARD, external_id: "ext-1" }));
  ok(await c.api.post(`/v1/invoices/${invoice.guid}/refund`, { amount: "100" }));
  const txs = ok(await c.api.get("/v1/transactions")).items;
  return { ...c, plan, customer, sub, invoice, tx: txs[txs.length - 1] };
}

// ---- companies ------------------------------------------------------------------------------------------------

test("company create and retrieve form-encoded exactly like the reference's curl examples", async () => {
  const res = await call(w.base, "POST", "/v1/companies", { form: { processor_key: "ef13dce2093b11e388de026ba7d31e6f" } });
  assert.equal(res.status, 200, show(res));
  for (const k of ["api_key", "created_at", "guid", "updated_at"]) assert.ok(k in res.body, k);
  assert.match(res.body.created_at, TIME);
  const got = ok(await call(w.base, "GET", `/v1/companies/${res.body.guid}`, { key: res.body.api_key }));
  assert.equal(got.guid, res.body.guid);
  assert.equal(got.created_at, res.body.created_at);
});

test("company create: test_mode defaults to true, clock freezes the company's time, max_retry_attempts 10", async () => {
  const c = await company("2024-01-31T10:00:00Z");
  const got = ok(await c.api.get(`/v1/companies/${c.guid}`));
  assert.equal(got.test_mode, true);
  assert.equal(got.clock, "2024-01-31T10:00:00.000000+00:00");
  assert.equal(got.max_retry_attempts, 10);
  // Objects are stamped with the frozen time, not the wall clock.
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly" }));
  assert.equal(plan.created_at, "2024-01-31T10:00:00.000000+00:00");
  const live = await newCompany(w.base, { test_mode: "false", processor: "stripe", processor_key: "sk_live_billyedgetest0001" });
  assert.equal(ok(await live.api.get(`/v1/companies/${live.guid}`)).test_mode, false);
});

test("company create: clock in other ISO forms is canonicalised; bad clock / clock without test mode are 400", async () => {
  const c = await company("2024-01-31T12:00:00+02:00");
  assert.equal(ok(await c.api.get(`/v1/companies/${c.guid}`)).clock, "2024-01-31T10:00:00.000000+00:00");
  const n = await company("2024-01-31T10:00:00");
  assert.equal(ok(await n.api.get(`/v1/companies/${n.guid}`)).clock, "2024-01-31T10:00:00.000000+00:00", "no zone = UTC");
  err(await call(w.base, "POST", "/v1/companies", { form: { clock: "yesterday" } }), 400, "clock");
  err(await call(w.base, "POST", "/v1/companies", { json: { clock: "2024-02-30T00:00:00Z" } }), 400, "clock");
  err(await call(w.base, "POST", "/v1/companies", { form: { clock: "2024-01-31T10:00:00Z", test_mode: "false" } }), 400, "clock");
  err(await call(w.base, "POST", "/v1/companies", { json: { test_mode: "maybe" } }), 400, "test_mode");
});

test("company settings: PUT max_retry_attempts (form and JSON), validated 1..50", async () => {
  const c = await company();
  assert.equal(ok(await c.api.put(`/v1/companies/${c.guid}`, { max_retry_attempts: "3" })).max_retry_attempts, 3);
  const j = await call(w.base, "PUT", `/v1/companies/${c.guid}`, { key: c.key, json: { max_retry_attempts: 7 } });
  assert.equal(ok(j).max_retry_attempts, 7);
  for (const bad of ["0", "51", "abc", "1.5", "-1", "1e30"]) {
    err(await c.api.put(`/v1/companies/${c.guid}`, { max_retry_attempts: bad }), 400, "max_retry_attempts");
  }
  err(await call(w.base, "PUT", `/v1/companies/${c.guid}`, { key: c.key, json: { max_retry_attempts: true } }), 400,
    "max_retry_attempts");
  assert.equal(ok(await c.api.get(`/v1/companies/${c.guid}`)).max_retry_attempts, 7, "bad input changed nothing");
  // Absent → unchanged.
  assert.equal(ok(await c.api.put(`/v1/companies/${c.guid}`, {})).max_retry_attempts, 7);
});

test("test clock: advances (form and JSON), only forward, validated, test mode only", async () => {
  const c = await company();
  const moved = await advance(c, "2024-02-01T00:00:00Z");
  assert.equal(moved.clock, "2024-02-01T00:00:00.000000+00:00");
  const j = ok(await call(w.base, "POST", `/v1/companies/${c.guid}/clock`, { key: c.key,
    json: { advance_to: "2024-02-02T00:00:00Z" } }));
  assert.equal(j.clock, "2024-02-02T00:00:00.000000+00:00");
  // Same time again is allowed (no-op), earlier is clock_backwards.
  assert.equal((await advance(c, "2024-02-02T00:00:00Z")).clock, "2024-02-02T00:00:00.000000+00:00");
  const e = err(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-02-01T00:00:00Z" }), 400, "advance_to");
  assert.equal(e.code, "clock_backwards");
  err(await c.api.post(`/v1/companies/${c.guid}/clock`, {}), 400, "advance_to");
  err(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "next tuesday" }), 400, "advance_to");
  err(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-13-01T00:00:00Z" }), 400, "advance_to");
  assert.equal(ok(await c.api.get(`/v1/companies/${c.guid}`)).clock, "2024-02-02T00:00:00.000000+00:00");
  const live = await newCompany(w.base, { test_mode: "false", processor: "stripe", processor_key: "sk_live_billyedgetest0001" });
  err(await live.api.post(`/v1/companies/${live.guid}/clock`, { advance_to: "2099-01-01T00:00:00Z" }), 409);
});

test("test clock on a test-mode company without a frozen clock starts from real time", async () => {
  const c = await newCompany(w.base);
  const far = new Date(Date.now() + 86400_000).toISOString();
  const moved = await advance(c, far);
  assert.match(moved.clock, TIME);
  assert.equal(Date.parse(moved.clock), Date.parse(far));
  err(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2000-01-01T00:00:00Z" }), 400, "advance_to");
});

test("simulator ledger is inspectable per company and starts empty", async () => {
  const c = await company();
  const ledger = ok(await c.api.get(`/v1/companies/${c.guid}/simulator`));
  assert.deepEqual(ledger.charges, []);
  assert.deepEqual(ledger.attempts, []);
  const other = await populated();
  const l2 = ok(await other.api.get(`/v1/companies/${other.guid}/simulator`));
  assert.ok(l2.charges.length >= 3, "subscription charge, invoice charge, refund");
  assert.deepEqual(ok(await c.api.get(`/v1/companies/${c.guid}/simulator`)).charges, [], "ledgers are per company");
});

// ---- auth ------------------------------------------------------------------------------------------------------

test("every endpoint answers 401 JSON without a valid key", async () => {
  const p = await populated();
  const routes = [
    ["GET", `/v1/companies/${p.guid}`], ["PUT", `/v1/companies/${p.guid}`], ["POST", `/v1/companies/${p.guid}/clock`],
    ["GET", `/v1/companies/${p.guid}/simulator`],
    ["POST", "/v1/plans"], ["GET", "/v1/plans"], ["GET", `/v1/plans/${p.plan.guid}`], ["DELETE", `/v1/plans/${p.plan.guid}`],
    ["GET", `/v1/plans/${p.plan.guid}/customers`], ["GET", `/v1/plans/${p.plan.guid}/subscriptions`],
    ["GET", `/v1/plans/${p.plan.guid}/invoices`], ["GET", `/v1/plans/${p.plan.guid}/transactions`],
    ["POST", "/v1/customers"], ["GET", "/v1/customers"], ["GET", `/v1/customers/${p.customer.guid}`],
    ["DELETE", `/v1/customers/${p.customer.guid}`], ["GET", `/v1/customers/${p.customer.guid}/subscriptions`],
    ["GET", `/v1/customers/${p.customer.guid}/invoices`], ["GET", `/v1/customers/${p.customer.guid}/transactions`],
    ["POST", "/v1/subscriptions"], ["GET", "/v1/subscriptions"], ["GET", `/v1/subscriptions/${p.sub.guid}`],
    ["POST", `/v1/subscriptions/${p.sub.guid}/cancel`], ["GET", `/v1/subscriptions/${p.sub.guid}/invoices`],
    ["GET", `/v1/subscriptions/${p.sub.guid}/transactions`],
    ["POST", "/v1/invoices"], ["GET", "/v1/invoices"], ["GET", `/v1/invoices/${p.invoice.guid}`],
    ["PUT", `/v1/invoices/${p.invoice.guid}`], ["POST", `/v1/invoices/${p.invoice.guid}/refund`],
    ["POST", `/v1/invoices/${p.invoice.guid}/cancel`], ["GET", `/v1/invoices/${p.invoice.guid}/transactions`],
    ["GET", "/v1/transactions"], ["GET", `/v1/transactions/${p.tx.guid}`],
  ];
  for (const [method, path] of routes) {
    for (const opts of [{}, { key: "nonsense" }, { key: p.key.slice(0, -2) + "zz" }]) {
      const res = await call(w.base, method, path, { ...opts, form: method === "GET" || method === "DELETE" ? undefined : { amount: "100" } });
      err(res, 401);
      assert.equal(res.body.error.code, "invalid_api_key", `${method} ${path}`);
    }
  }
  // Nothing changed: the plan is not deleted, the subscription not canceled.
  assert.equal(ok(await p.api.get(`/v1/plans/${p.plan.guid}`)).deleted, false);
  assert.equal(ok(await p.api.get(`/v1/subscriptions/${p.sub.guid}`)).canceled, false);
  // Bearer works as well as Basic on the resource endpoints.
  const bearer = await call(w.base, "GET", "/v1/plans", { headers: { authorization: `Bearer ${p.key}` } });
  assert.equal(ok(bearer).total_count, 1);
});

// ---- cross-company 404s --------------------------------------------------------------------------------------

test("another company's objects are 404 on every endpoint, and cannot be referenced", async () => {
  const a = await populated();
  const b = await populated();
  const reads = [
    `/v1/companies/${a.guid}`, `/v1/companies/${a.guid}/simulator`,
    `/v1/plans/${a.plan.guid}`, `/v1/plans/${a.plan.guid}/customers`, `/v1/plans/${a.plan.guid}/subscriptions`,
    `/v1/plans/${a.plan.guid}/invoices`, `/v1/plans/${a.plan.guid}/transactions`,
    `/v1/customers/${a.customer.guid}`, `/v1/customers/${a.customer.guid}/subscriptions`,
    `/v1/customers/${a.customer.guid}/invoices`, `/v1/customers/${a.customer.guid}/transactions`,
    `/v1/subscriptions/${a.sub.guid}`, `/v1/subscriptions/${a.sub.guid}/invoices`,
    `/v1/subscriptions/${a.sub.guid}/transactions`,
    `/v1/invoices/${a.invoice.guid}`, `/v1/invoices/${a.invoice.guid}/transactions`,
    `/v1/transactions/${a.tx.guid}`,
  ];
  for (const path of reads) {
    const e = err(await b.api.get(path), 404);
    assert.equal(e.code, "not_found", path);
  }
  const writes = [
    ["PUT", `/v1/companies/${a.guid}`, { max_retry_attempts: "2" }],
    ["POST", `/v1/companies/${a.guid}/clock`, { advance_to: "2030-01-01T00:00:00Z" }],
    ["DELETE", `/v1/plans/${a.plan.guid}`],
    ["DELETE", `/v1/customers/${a.customer.guid}`],
    ["POST", `/v1/subscriptions/${a.sub.guid}/cancel`, {}],
    ["PUT", `/v1/invoices/${a.invoice.guid}`, { funding_instrument_uri: CARD }],
    ["POST", `/v1/invoices/${a.invoice.guid}/refund`, { amount: "100" }],
    ["POST", `/v1/invoices/${a.invoice.guid}/cancel`, {}],
  ];
  for (const [method, path, form] of writes) err(await call(w.base, method, path, { key: b.key, form }), 404);
  // References to A's objects from B: 404 naming the field.
  err(await b.api.post("/v1/subscriptions", { plan_guid: a.plan.guid, customer_guid: b.customer.guid }), 404, "plan_guid");
  err(await b.api.post("/v1/subscriptions", { plan_guid: b.plan.guid, customer_guid: a.customer.guid }), 404, "customer_guid");
  err(await b.api.post("/v1/invoices", { customer_guid: a.customer.guid, amount: "100" }), 404, "customer_guid");
  // A is untouched, and B's lists never show A's objects.
  const ac = ok(await a.api.get(`/v1/companies/${a.guid}`));
  assert.equal(ac.max_retry_attempts, 10);
  assert.equal(ac.clock, "2024-01-31T10:00:00.000000+00:00");
  assert.equal(ok(await a.api.get(`/v1/plans/${a.plan.guid}`)).deleted, false);
  assert.equal(ok(await a.api.get(`/v1/customers/${a.customer.guid}`)).deleted, false);
  assert.equal(ok(await a.api.get(`/v1/subscriptions/${a.sub.guid}`)).canceled, false);
  assert.equal(ok(await a.api.get(`/v1/invoices/${a.invoice.guid}`)).status, "settled");
  assert.equal(ok(await a.api.get(`/v1/invoices/${a.invoice.guid}/transactions`)).total_count, 2);
  for (const list of ["/v1/plans", "/v1/customers", "/v1/subscriptions", "/v1/invoices", "/v1/transactions"]) {
    const guids = ok(await b.api.get(list + "?limit=100")).items.map((x) => x.guid);
    for (const g of [a.plan.guid, a.customer.guid, a.sub.guid, a.invoice.guid, a.tx.guid]) assert.ok(!guids.includes(g), `${list} leaks ${g}`);
  }
  // Unknown guids are 404 too.
  for (const path of ["/v1/plans/PLnope", "/v1/customers/CUnope", "/v1/subscriptions/SUnope", "/v1/invoices/IVnope",
    "/v1/transactions/TXnope"]) err(await b.api.get(path), 404);
});

// ---- pagination ------------------------------------------------------------------------------------------------

const LISTS = (p) => ["/v1/plans", "/v1/customers", "/v1/subscriptions", "/v1/invoices", "/v1/transactions",
  `/v1/plans/${p.plan.guid}/customers`, `/v1/plans/${p.plan.guid}/subscriptions`, `/v1/plans/${p.plan.guid}/invoices`,
  `/v1/plans/${p.plan.guid}/transactions`, `/v1/customers/${p.customer.guid}/subscriptions`,
  `/v1/customers/${p.customer.guid}/invoices`, `/v1/customers/${p.customer.guid}/transactions`,
  `/v1/subscriptions/${p.sub.guid}/invoices`, `/v1/subscriptions/${p.sub.guid}/transactions`,
  `/v1/invoices/${p.invoice.guid}/transactions`];

test("every list: {items, offset, limit, total_count}, defaults 0/20, bad limit/offset → 400 naming the field", async () => {
  const p = await populated();
  for (const list of LISTS(p)) {
    const page = ok(await p.api.get(list));
    assert.deepEqual(Object.keys(page).sort(), ["items", "limit", "offset", "total_count"], list);
    assert.equal(page.offset, 0);
    assert.equal(page.limit, 20);
    assert.ok(Array.isArray(page.items));
    assert.ok(page.total_count >= 1, list);
    assert.equal(page.items.length, page.total_count, list);
    for (const q of ["limit=0", "limit=101", "limit=abc", "limit=1.5", "limit=-1", "limit=", "limit=1e1",
      "limit=99999999999999999999999"]) {
      if (q === "limit=") {
        // Empty = absent (default), never a 500.
        const r = await p.api.get(`${list}?${q}`);
        assert.equal(r.status, 200, `${list}?${q}: ${show(r)}`);
        assert.equal(r.body.limit, 20);
        continue;
      }
      err(await p.api.get(`${list}?${q}`), 400, "limit");
    }
    for (const q of ["offset=-1", "offset=abc", "offset=1.5", "offset=1e3"]) err(await p.api.get(`${list}?${q}`), 400, "offset");
    const past = ok(await p.api.get(`${list}?offset=1000`));
    assert.deepEqual(past.items, []);
    assert.equal(past.offset, 1000);
    assert.equal(past.total_count, page.total_count, list);
    const edges = ok(await p.api.get(`${list}?limit=1&offset=0`));
    assert.equal(edges.items.length, 1);
    assert.equal(edges.limit, 1);
    assert.equal(edges.items[0].guid, page.items[0].guid);
    assert.equal(ok(await p.api.get(`${list}?limit=100`)).limit, 100);
  }
});

test("pagination walks newest first with a stable tie-break (all created at one frozen instant)", async () => {
  const c = await company();
  const made = [];
  for (let i = 0; i < 7; i++) {
    made.push(ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: String(100 + i), frequency: "daily" })).guid);
  }
  const newestFirst = [...made].reverse();
  const all = ok(await c.api.get("/v1/plans"));
  assert.deepEqual(all.items.map((x) => x.guid), newestFirst);
  assert.equal(all.total_count, 7);
  const seen = [];
  for (let offset = 0; offset < 7; offset += 3) {
    const page = ok(await c.api.get(`/v1/plans?limit=3&offset=${offset}`));
    assert.equal(page.total_count, 7);
    assert.equal(page.offset, offset);
    seen.push(...page.items.map((x) => x.guid));
  }
  assert.deepEqual(seen, newestFirst);
  // Later objects come first even across clock moves.
  await advance(c, "2024-02-01T00:00:00Z");
  const later = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "999", frequency: "daily" }));
  assert.equal(ok(await c.api.get("/v1/plans?limit=1")).items[0].guid, later.guid);
});

// ---- never a 500 -----------------------------------------------------------------------------------------------

const ODD_VALUES = [1e30, -1e30, 0, -1, 1.5, true, false, null, [], [1, 2], {}, { a: { b: [] } }, "", " ", "\u0000",
  "x".repeat(5000), "2024-13-45", "9999-12-31T23:59:59Z", "1e30", "-0", "NaN", "Infinity", "💸", "<script>"];

/** Raw JSON that JavaScript cannot express exactly (2^53 + 1) or at all (huge exponents). */
const RAW_JSON = ['{"amount": 9007199254740993, "interval": 9007199254740993, "limit": 9007199254740993}',
  '{"amount": 1e400}', '{"amount": -0}', '{"amount": 123456789012345678901234567890}', "[1,2,3]", "null", '"a string"',
  "123", "{bad json", '{"a":', '{"__proto__": {"amount": 500}, "constructor": 1}', '{"amount": "500", "amount": 5}'];

function assertNo500(res, what) {
  assert.ok(res.status < 500, `${what} → ${show(res)}`);
  if (res.status >= 400) {
    assert.equal(typeof res.body?.error?.code, "string", `${what} → ${show(res)}`);
    assert.equal(typeof res.body.error_message, "string");
  }
}

test("never a 500: odd values in every field of every write endpoint, raw JSON, wrong content types", async () => {
  const p = await populated();
  // A staged invoice and an extra subscription to point write endpoints at (the populated ones may change state).
  const staged = ok(await p.api.post("/v1/invoices", { customer_guid: p.customer.guid, amount: "700" }));
  const fields = {
    "/v1/plans": ["plan_type", "frequency", "amount", "interval"],
    "/v1/customers": ["processor_uri"],
    "/v1/subscriptions": ["plan_guid", "customer_guid", "funding_instrument_uri", "amount", "started_at",
      "appears_on_statement_as"],
    "/v1/invoices": ["customer_guid", "amount", "title", "external_id", "appears_on_statement_as", "funding_instrument_uri",
      "items", "adjustments", "item_name1", "item_amount1", "adjustment_amount1", "adjustments_amount1"],
    [`/v1/invoices/${staged.guid}/refund`]: ["amount"],
    [`/v1/companies/${p.guid}`]: ["max_retry_attempts"],
    [`/v1/companies/${p.guid}/clock`]: ["advance_to"],
  };
  const valid = {
    "/v1/plans": { plan_type: "debit", frequency: "daily", amount: 500, interval: 1 },
    "/v1/customers": {},
    "/v1/subscriptions": { plan_guid: p.plan.guid, customer_guid: p.customer.guid },
    "/v1/invoices": { customer_guid: p.customer.guid, amount: 100 },
  };
  for (const [path, names] of Object.entries(fields)) {
    const method = path.endsWith(p.guid) ? "PUT" : "POST";
    for (const name of names) {
      for (const v of ODD_VALUES) {
        if (name === "advance_to" && v === "9999-12-31T23:59:59Z") continue; // valid: would walk a monthly plan 8000 years
        const body = { ...(valid[path] || {}), [name]: v };
        assertNo500(await call(w.base, method, path, { key: p.key, json: body }), `${method} ${path} ${name}=${JSON.stringify(v)?.slice(0, 40)}`);
        if (typeof v === "string" || typeof v === "number") {
          const form = Object.fromEntries(Object.entries(body).map(([k, x]) => [k, String(x)]));
          assertNo500(await call(w.base, method, path, { key: p.key, form }), `${method} ${path} form ${name}`);
        }
      }
    }
    for (const raw of RAW_JSON) {
      assertNo500(await call(w.base, method, path, { key: p.key, raw, headers: { "content-type": "application/json" } }), `${path} raw ${raw}`);
    }
    // Unknown fields are ignored.
    if (valid[path]) ok(await call(w.base, method, path, { key: p.key, json: { ...valid[path], bogus: 1, nested: { x: [1] } } }));
  }
  for (const path of [`/v1/invoices/${staged.guid}`]) {
    for (const v of ODD_VALUES) {
      assertNo500(await call(w.base, "PUT", path, { key: p.key, json: { funding_instrument_uri: v } }), `PUT ${path} ${JSON.stringify(v)?.slice(0, 40)}`);
    }
  }
  // Wrong content types: 415 JSON error, never a 500; an empty body is an empty object (→ 400 naming a field).
  for (const type of ["application/xml", "text/csv", "image/png", "application/octet-stream"]) {
    const res = await call(w.base, "POST", "/v1/plans", { key: p.key, raw: "<plan amount='500'/>", headers: { "content-type": type } });
    err(res, 415);
  }
  const mp = await call(w.base, "POST", "/v1/plans", { key: p.key, raw: "garbage", headers: { "content-type": "multipart/form-data" } });
  assertNo500(mp, "multipart without boundary");
  assert.ok(mp.status >= 400);
  const form = await call(w.base, "POST", "/v1/plans", { key: p.key, raw: "plan_type=debit&amount=500&frequency=daily",
    headers: { "content-type": "application/json" } });
  err(form, 400);
  for (const path of ["/v1/plans", "/v1/subscriptions", "/v1/invoices"]) {
    const empty = await call(w.base, "POST", path, { key: p.key, raw: "" });
    err(empty, 400);
    assert.ok(empty.body.error.field, `${path} names a field`);
    const emptyJson = await call(w.base, "POST", path, { key: p.key, json: {} });
    err(emptyJson, 400);
    assert.ok(emptyJson.body.error.field);
  }
  ok(await call(w.base, "POST", "/v1/customers", { key: p.key, raw: "" }));
  // Odd query strings and paths.
  for (const q of ["limit=%00", "offset=%FF", "limit=1&limit=abc", "processor_uri=%E2%82", "external_id=" + "x".repeat(3000)]) {
    for (const list of ["/v1/plans", "/v1/customers", "/v1/invoices"]) assertNo500(await p.api.get(`${list}?${q}`), `${list}?${q}`);
  }
  for (const path of ["/v1/plans/%E2%82", "/v1/invoices/" + "x".repeat(2000), "/v1/customers/%00", "/v1/transactions/'--"]) {
    assertNo500(await p.api.get(path), path);
  }
  // After all that, the company still works and holds only valid objects.
  for (const plan of ok(await p.api.get("/v1/plans?limit=100")).items) {
    assert.ok(["debit", "credit"].includes(plan.plan_type));
    assert.ok(Number.isSafeInteger(plan.amount) && plan.amount >= 50);
    assert.ok(Number.isSafeInteger(plan.interval) && plan.interval >= 1);
  }
});

test("huge numbers: 1e30 and 9007199254740993 are 400 naming the field, 2^53-1 is the largest amount", async () => {
  const c = await company();
  const cases = [
    ["/v1/plans", { plan_type: "debit", frequency: "daily", amount: 1e30 }, "amount"],
    ["/v1/plans", { plan_type: "debit", frequency: "daily", amount: "9007199254740993" }, "amount"],
    ["/v1/plans", { plan_type: "debit", frequency: "daily", amount: 500, interval: 1e30 }, "interval"],
    ["/v1/plans", { plan_type: "debit", frequency: "daily", amount: 500, interval: "9007199254740993" }, "interval"],
  ];
  for (const [path, body, field] of cases) {
    err(await c.api.postJson(path, body), 400, field);
    err(await c.api.post(path, Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]))), 400, field);
  }
  err(await call(w.base, "POST", "/v1/plans", { key: c.key, raw: '{"plan_type":"debit","frequency":"daily","amount":9007199254740993}',
    headers: { "content-type": "application/json" } }), 400, "amount");
  const big = ok(await c.api.post("/v1/plans", { plan_type: "debit", frequency: "daily", amount: "9007199254740991" }));
  assert.equal(big.amount, 9007199254740991);
  const cu = ok(await c.api.post("/v1/customers", {}));
  // Adjustments pushing the effective amount past 2^53-1: a 400, not a 500 or a wrapped number.
  const over = await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "9007199254740991", adjustment_amount1: "1" });
  assertNo500(over, "overflowing adjustments");
  assert.equal(over.status, 400, show(over));
  assert.equal(ok(await c.api.get("/v1/invoices")).total_count, 0);
});

// ---- methods, content types, concurrent state changes ---------------------------------------------------------

test("wrong methods are 405 JSON errors; every write endpoint answers 415 for an unsupported content type", async () => {
  const p = await populated();
  for (const [method, path] of [["DELETE", "/v1/invoices"], ["PATCH", "/v1/plans/" + p.plan.guid], ["DELETE", `/v1/invoices/${p.invoice.guid}`],
    ["GET", `/v1/invoices/${p.invoice.guid}/refund`], ["DELETE", "/v1/transactions/" + p.tx.guid], ["PATCH", "/v1/customers"]]) {
    err(await call(w.base, method, path, { key: p.key }), 405);
  }
  const staged = ok(await p.api.post("/v1/invoices", { customer_guid: p.customer.guid, amount: "700" }));
  for (const [method, path] of [["POST", "/v1/plans"], ["POST", "/v1/customers"], ["POST", "/v1/subscriptions"],
    ["POST", "/v1/invoices"], ["PUT", `/v1/invoices/${staged.guid}`], ["POST", `/v1/invoices/${p.invoice.guid}/refund`],
    ["POST", `/v1/companies/${p.guid}/clock`], ["PUT", `/v1/companies/${p.guid}`]]) {
    err(await call(w.base, method, path, { key: p.key, raw: "<x/>", headers: { "content-type": "application/xml" } }), 415);
  }
  // Nothing changed.
  assert.equal(ok(await p.api.get("/v1/customers")).total_count, 1);
  assert.equal(ok(await p.api.get(`/v1/invoices/${staged.guid}`)).status, "staged");
  assert.equal(ok(await p.api.get(`/v1/invoices/${p.invoice.guid}/transactions`)).total_count, 2);
});

test("concurrent state changes: exactly one cancel / delete wins, the rest are 409", async () => {
  const p = await populated();
  const once = async (method, path) => {
    const rs = await Promise.all(Array.from({ length: 6 }, () => call(w.base, method, path, { key: p.key })));
    assert.equal(rs.filter((r) => r.status === 200).length, 1, rs.map(show).join("\n"));
    for (const r of rs) if (r.status !== 200) err(r, 409);
  };
  await once("POST", `/v1/subscriptions/${p.sub.guid}/cancel`);
  await once("DELETE", `/v1/plans/${p.plan.guid}`);
  await once("DELETE", `/v1/customers/${p.customer.guid}`);
  const other = ok(await p.api.post("/v1/customers", {}));
  const staged = ok(await p.api.post("/v1/invoices", { customer_guid: other.guid, amount: "700" }));
  await once("POST", `/v1/invoices/${staged.guid}/cancel`);
  // Cancel racing a payment: the invoice ends either canceled with nothing charged, or settled and charged once.
  const race = ok(await p.api.post("/v1/invoices", { customer_guid: other.guid, amount: "800" }));
  const [put, cancel] = await Promise.all([p.api.put(`/v1/invoices/${race.guid}`, { funding_instrument_uri: CARD }),
    p.api.post(`/v1/invoices/${race.guid}/cancel`, {})]);
  assert.ok(put.status < 500 && cancel.status < 500, `${show(put)} ${show(cancel)}`);
  const final = ok(await p.api.get(`/v1/invoices/${race.guid}`));
  const txs = ok(await p.api.get(`/v1/invoices/${race.guid}/transactions`)).items;
  const ledger = ok(await p.api.get(`/v1/companies/${p.guid}/simulator`));
  const charged = ledger.charges.filter((x) => txs.some((t) => t.guid === x.idempotency_key) && x.status === "succeeded");
  if (final.status === "canceled") assert.equal(charged.length, 0, "canceled but charged");
  else {
    assert.equal(final.status, "settled");
    assert.equal(charged.length, 1);
  }
});
