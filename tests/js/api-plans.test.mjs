// The Billy v1 API over HTTP, plans: create (form exactly like the reference's curl, and JSON), every validation
// error, retrieve, delete (twice → error; cancels the plan's subscriptions), list, and the nested lists.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, TIME, advance, call, err, newCompany, ok, show, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const company = (clock = "2024-01-31T10:00:00Z") => newCompany(w.base, clock ? { clock } : {});
const PLAN_KEYS = ["amount", "company_guid", "created_at", "deleted", "frequency", "guid", "interval", "plan_type", "updated_at"];

test("create a plan form-encoded exactly like the reference's curl example", async () => {
  const c = await company();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly" }));
  for (const k of PLAN_KEYS) assert.ok(k in plan, `plan has ${k}`);
  assert.match(plan.guid, /^PL[1-9A-HJ-NP-Za-km-z]{20,22}$/);
  assert.equal(plan.amount, 500);
  assert.equal(plan.company_guid, c.guid);
  assert.equal(plan.deleted, false);
  assert.equal(plan.frequency, "monthly");
  assert.equal(plan.interval, 1, "interval defaults to 1");
  assert.equal(plan.plan_type, "debit");
  assert.match(plan.created_at, TIME);
  assert.equal(plan.created_at, "2024-01-31T10:00:00.000000+00:00");
  assert.equal(plan.updated_at, plan.created_at);
  assert.deepEqual(ok(await c.api.get(`/v1/plans/${plan.guid}`)), plan);
});

test("create a plan with a JSON body; frequency and plan_type are case-insensitive; numbers as numbers or strings", async () => {
  const c = await company();
  const p = ok(await c.api.postJson("/v1/plans", { plan_type: "credit", amount: 1200, frequency: "Weekly", interval: 2 }));
  assert.equal(p.plan_type, "credit");
  assert.equal(p.frequency, "weekly");
  assert.equal(p.amount, 1200);
  assert.equal(p.interval, 2);
  for (const f of ["DAILY", "Monthly", "yEARLY"]) {
    assert.equal(ok(await c.api.postJson("/v1/plans", { plan_type: "DEBIT", amount: "50", frequency: f, interval: "3" })).frequency,
      f.toLowerCase());
  }
  const d = ok(await c.api.post("/v1/plans", { plan_type: "Debit", amount: "50", frequency: "daily", interval: "" }));
  assert.equal(d.plan_type, "debit");
  assert.equal(d.amount, 50, "50 is the minimum amount");
  assert.equal(d.interval, 1, "empty interval → 1");
  const n = ok(await c.api.postJson("/v1/plans", { plan_type: "debit", amount: 50, frequency: "daily", interval: null }));
  assert.equal(n.interval, 1, "null interval → 1");
});

test("plan validation: each bad field is a 400 naming it", async () => {
  const c = await company();
  const good = { plan_type: "debit", amount: "500", frequency: "monthly", interval: "1" };
  const cases = [
    [{ plan_type: undefined }, "plan_type"], [{ plan_type: "" }, "plan_type"], [{ plan_type: "refund" }, "plan_type"],
    [{ plan_type: "debits" }, "plan_type"],
    [{ frequency: undefined }, "frequency"], [{ frequency: "" }, "frequency"], [{ frequency: "fortnightly" }, "frequency"],
    [{ frequency: "hourly" }, "frequency"],
    [{ amount: undefined }, "amount"], [{ amount: "" }, "amount"], [{ amount: "49" }, "amount"], [{ amount: "0" }, "amount"],
    [{ amount: "-500" }, "amount"], [{ amount: "5.00" }, "amount"], [{ amount: "500.5" }, "amount"], [{ amount: "abc" }, "amount"],
    [{ amount: "1e3" }, "amount"], [{ amount: " 500" }, "amount"], [{ amount: "9007199254740992" }, "amount"],
    [{ interval: "0" }, "interval"], [{ interval: "-1" }, "interval"], [{ interval: "1.5" }, "interval"],
    [{ interval: "two" }, "interval"],
  ];
  for (const [patch, field] of cases) {
    const form = { ...good, ...patch };
    for (const k of Object.keys(form)) if (form[k] === undefined) delete form[k];
    err(await c.api.post("/v1/plans", form), 400, field);
  }
  const jsonCases = [
    [{ amount: 49 }, "amount"], [{ amount: 500.5 }, "amount"], [{ amount: true }, "amount"], [{ amount: [500] }, "amount"],
    [{ amount: { v: 500 } }, "amount"], [{ interval: 0 }, "interval"], [{ interval: 1.5 }, "interval"],
    [{ plan_type: 1 }, "plan_type"], [{ frequency: ["monthly"] }, "frequency"], [{ frequency: true }, "frequency"],
  ];
  for (const [patch, field] of jsonCases) {
    err(await c.api.postJson("/v1/plans", { plan_type: "debit", amount: 500, frequency: "monthly", ...patch }), 400, field);
  }
  assert.equal(ok(await c.api.get("/v1/plans")).total_count, 0, "no plan was created by a rejected request");
});

test("delete a plan: deleted true, retrievable, listed; deleting twice is a 409", async () => {
  const c = await company();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly" }));
  await advance(c, "2024-02-01T00:00:00Z");
  const del = ok(await c.api.del(`/v1/plans/${plan.guid}`));
  assert.equal(del.deleted, true);
  assert.equal(del.guid, plan.guid);
  assert.equal(del.amount, 500);
  assert.equal(del.created_at, plan.created_at);
  assert.equal(del.updated_at, "2024-02-01T00:00:00.000000+00:00");
  assert.equal(ok(await c.api.get(`/v1/plans/${plan.guid}`)).deleted, true);
  assert.equal(ok(await c.api.get("/v1/plans")).items[0].deleted, true);
  const e = err(await c.api.del(`/v1/plans/${plan.guid}`), 409);
  assert.ok(e.message.includes(plan.guid) || /deleted/i.test(e.message), e.message);
  err(await c.api.del("/v1/plans/PLdoesnotexist"), 404);
  // A deleted plan cannot be subscribed to.
  const cu = ok(await c.api.post("/v1/customers", {}));
  const res = await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: cu.guid });
  assert.equal(err(res, 409, "plan_guid").code, "plan_deleted");
  assert.equal(ok(await c.api.get("/v1/subscriptions")).total_count, 0);
});

test("deleting a plan cancels its active subscriptions (and only those); no invoices follow", async () => {
  const c = await company();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly" }));
  const other = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "700", frequency: "monthly" }));
  const cu = ok(await c.api.post("/v1/customers", {}));
  const s1 = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: cu.guid, funding_instrument_uri: CARD }));
  const s2 = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: cu.guid,
    started_at: "2024-03-01T00:00:00Z" }));
  const keep = ok(await c.api.post("/v1/subscriptions", { plan_guid: other.guid, customer_guid: cu.guid, funding_instrument_uri: CARD }));
  await advance(c, "2024-02-10T00:00:00Z");
  ok(await c.api.del(`/v1/plans/${plan.guid}`));
  for (const s of [s1, s2]) {
    const got = ok(await c.api.get(`/v1/subscriptions/${s.guid}`));
    assert.equal(got.canceled, true);
    assert.equal(got.canceled_at, "2024-02-10T00:00:00.000000+00:00");
  }
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${keep.guid}`)).canceled, false);
  await advance(c, "2024-06-01T00:00:00Z");
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${s1.guid}/invoices`)).total_count, 1,
    "Jan 31 only: the Feb 29 period falls after the delete on Feb 10");
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${s2.guid}/invoices`)).total_count, 0);
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${s1.guid}`)).invoice_count, 1);
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${s1.guid}`)).next_invoice_at, null, "canceled: nothing is next");
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${keep.guid}/invoices`)).total_count, 5, "Jan 31 … May 31");
});

test("plan lists: /customers, /subscriptions, /invoices, /transactions hold only that plan's objects", async () => {
  const c = await company();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly" }));
  const other = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "800", frequency: "monthly" }));
  const [c1, c2, c3] = [ok(await c.api.post("/v1/customers", {})), ok(await c.api.post("/v1/customers", {})),
    ok(await c.api.post("/v1/customers", {}))];
  const s1 = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: c1.guid, funding_instrument_uri: CARD }));
  const s2 = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: c2.guid, funding_instrument_uri: CARD }));
  const s1b = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: c1.guid }));
  const s3 = ok(await c.api.post("/v1/subscriptions", { plan_guid: other.guid, customer_guid: c3.guid, funding_instrument_uri: CARD }));
  ok(await c.api.post("/v1/invoices", { customer_guid: c1.guid, amount: "999", funding_instrument_uri: CARD }));
  await advance(c, "2024-02-29T10:00:00Z");

  const customers = ok(await c.api.get(`/v1/plans/${plan.guid}/customers`));
  assert.equal(customers.total_count, 2, "each subscribed customer once");
  assert.deepEqual(customers.items.map((x) => x.guid).sort(), [c1.guid, c2.guid].sort());

  const subs = ok(await c.api.get(`/v1/plans/${plan.guid}/subscriptions`));
  assert.deepEqual(subs.items.map((x) => x.guid), [s1b.guid, s2.guid, s1.guid], "newest first");
  assert.equal(subs.total_count, 3);

  const invoices = ok(await c.api.get(`/v1/plans/${plan.guid}/invoices`));
  assert.equal(invoices.total_count, 6, "3 subscriptions × 2 periods; no customer invoice, nothing of the other plan");
  for (const iv of invoices.items) {
    assert.equal(iv.invoice_type, "subscription");
    assert.ok([s1.guid, s2.guid, s1b.guid].includes(iv.subscription_guid));
    assert.equal(iv.amount, 500);
  }
  const sched = invoices.items.map((x) => x.scheduled_at);
  assert.deepEqual(sched, [...sched].sort().reverse(), "by scheduled_at, newest first");

  const txs = ok(await c.api.get(`/v1/plans/${plan.guid}/transactions`));
  assert.equal(txs.total_count, 4, "s1b has no funding instrument: its invoices have no transaction");
  const ivGuids = new Set(invoices.items.map((x) => x.guid));
  for (const t of txs.items) {
    assert.ok(ivGuids.has(t.invoice_guid));
    assert.equal(t.amount, 500);
    assert.equal(t.transaction_type, "debit");
  }
  assert.equal(ok(await c.api.get(`/v1/plans/${other.guid}/transactions`)).total_count, 2);
  assert.equal(ok(await c.api.get(`/v1/plans/${other.guid}/customers`)).items[0].guid, c3.guid);
  assert.equal(ok(await c.api.get(`/v1/plans/${other.guid}/subscriptions`)).items[0].guid, s3.guid);
  // A plan with nothing: empty lists.
  const lonely = ok(await c.api.post("/v1/plans", { plan_type: "credit", amount: "100", frequency: "daily" }));
  for (const l of ["customers", "subscriptions", "invoices", "transactions"]) {
    const page = ok(await c.api.get(`/v1/plans/${lonely.guid}/${l}`));
    assert.deepEqual(page.items, []);
    assert.equal(page.total_count, 0);
  }
  err(await c.api.get("/v1/plans/PLnope/invoices"), 404);
});

test("plan list is the company's plans, newest first, deleted ones included", async () => {
  const c = await company();
  const a = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly" }));
  await advance(c, "2024-02-01T00:00:00Z");
  const b = ok(await c.api.post("/v1/plans", { plan_type: "credit", amount: "600", frequency: "yearly" }));
  ok(await c.api.del(`/v1/plans/${a.guid}`));
  const list = ok(await c.api.get("/v1/plans"));
  assert.deepEqual(list.items.map((x) => [x.guid, x.deleted]), [[b.guid, false], [a.guid, true]]);
  assert.equal(list.total_count, 2);
  assert.equal(list.limit, 20);
  assert.equal(list.offset, 0);
});

test("trailing slash and Bearer auth work for plans", async () => {
  const c = await company();
  const res = await call(w.base, "POST", "/v1/plans/", { headers: { authorization: `Bearer ${c.key}` },
    form: { plan_type: "debit", amount: "500", frequency: "daily" } });
  const plan = ok(res);
  assert.equal(ok(await c.api.get(`/v1/plans/${plan.guid}/`)).guid, plan.guid);
});
