// The Billy v1 API over HTTP, subscriptions and the schedule: create (form exactly like the reference's curl, and
// JSON), every validation error, start now vs. future start, Billy's schedule rule (month ends, leap days, no drift),
// catch-up through the test clock, never two invoices for one period (scheduler run twice, or concurrently),
// cancel (twice → error), list and nested lists.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, T, TIME, advance, call, err, newCompany, ok, show, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const company = (clock = "2024-01-31T10:00:00Z") => newCompany(w.base, clock ? { clock } : {});
const SUB_KEYS = ["amount", "appears_on_statement_as", "canceled", "canceled_at", "created_at", "customer_guid",
  "effective_amount", "funding_instrument_uri", "guid", "invoice_count", "next_invoice_at", "plan_guid", "started_at",
  "updated_at"];

async function setup(clock = "2024-01-31T10:00:00Z", planForm = { plan_type: "debit", amount: "500", frequency: "monthly" }) {
  const c = await company(clock);
  const plan = ok(await c.api.post("/v1/plans", planForm));
  const customer = ok(await c.api.post("/v1/customers", {}));
  return { c, plan, customer };
}
const invoicesOf = async (c, sub) => ok(await c.api.get(`/v1/subscriptions/${sub.guid}/invoices?limit=100`)).items;

test("subscribe form-encoded exactly like the reference's curl: first invoice at once, charged", async () => {
  const { c, plan, customer } = await setup();
  const sub = ok(await c.api.post("/v1/subscriptions", { customer_guid: customer.guid, plan_guid: plan.guid,
    funding_instrument_uri: CARD }));
  for (const k of SUB_KEYS) assert.ok(k in sub, `subscription has ${k}`);
  assert.match(sub.guid, /^SU[1-9A-HJ-NP-Za-km-z]{20,22}$/);
  assert.equal(sub.amount, null);
  assert.equal(sub.appears_on_statement_as, null);
  assert.equal(sub.canceled, false);
  assert.equal(sub.canceled_at, null);
  assert.equal(sub.customer_guid, customer.guid);
  assert.equal(sub.plan_guid, plan.guid);
  assert.equal(sub.effective_amount, 500);
  assert.equal(sub.funding_instrument_uri, CARD);
  assert.equal(sub.invoice_count, 1);
  assert.equal(sub.started_at, T("2024-01-31"));
  assert.equal(sub.next_invoice_at, T("2024-02-29"));
  assert.match(sub.created_at, TIME);
  assert.deepEqual(ok(await c.api.get(`/v1/subscriptions/${sub.guid}`)), sub);

  const [iv] = await invoicesOf(c, sub);
  assert.equal(iv.invoice_type, "subscription");
  assert.equal(iv.subscription_guid, sub.guid);
  assert.equal(iv.scheduled_at, T("2024-01-31"));
  assert.equal(iv.customer_guid, customer.guid);
  assert.equal(iv.amount, 500);
  assert.equal(iv.effective_amount, 500);
  assert.equal(iv.total_adjustment_amount, 0);
  assert.equal(iv.transaction_type, "debit");
  assert.equal(iv.funding_instrument_uri, CARD);
  assert.equal(iv.status, "settled");
  const txs = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/transactions`));
  assert.equal(txs.total_count, 1);
  assert.equal(txs.items[0].invoice_guid, iv.guid);
  assert.equal(txs.items[0].amount, 500);
  assert.equal(txs.items[0].submit_status, "done");
  assert.equal(txs.items[0].status, "succeeded");
});

test("subscribe with JSON: amount override, appears_on_statement_as, no instrument → staged invoice", async () => {
  const { c, plan, customer } = await setup();
  const sub = ok(await c.api.postJson("/v1/subscriptions", { customer_guid: customer.guid, plan_guid: plan.guid,
    amount: 300, appears_on_statement_as: "BILLY EDGE #1" }));
  assert.equal(sub.amount, 300);
  assert.equal(sub.effective_amount, 300);
  assert.equal(sub.appears_on_statement_as, "BILLY EDGE #1");
  assert.equal(sub.funding_instrument_uri, null);
  assert.equal(sub.invoice_count, 1);
  const [iv] = await invoicesOf(c, sub);
  assert.equal(iv.amount, 300);
  assert.equal(iv.effective_amount, 300);
  assert.equal(iv.status, "staged");
  assert.equal(iv.funding_instrument_uri, null);
  assert.equal(iv.appears_on_statement_as, "BILLY EDGE #1");
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${sub.guid}/transactions`)).total_count, 0);
  // The staged subscription invoice is paid later by updating its instrument.
  const paid = ok(await c.api.put(`/v1/invoices/${iv.guid}`, { funding_instrument_uri: CARD }));
  assert.equal(paid.status, "settled");
  const [tx] = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/transactions`)).items;
  assert.equal(tx.amount, 300);
  assert.equal(tx.appears_on_statement_as, "BILLY EDGE #1");
  // The minimum override is 50.
  assert.equal(ok(await c.api.post("/v1/subscriptions", { customer_guid: customer.guid, plan_guid: plan.guid, amount: "50" }))
    .effective_amount, 50);
});

test("subscription validation: each bad field is a 400 (or 404 for unknown references) naming it", async () => {
  const { c, plan, customer } = await setup();
  const base = { plan_guid: plan.guid, customer_guid: customer.guid };
  const cases = [
    [{ plan_guid: "" }, 400, "plan_guid"], [{ customer_guid: "" }, 400, "customer_guid"],
    [{ plan_guid: "PLnope" }, 404, "plan_guid"], [{ customer_guid: "CUnope" }, 404, "customer_guid"],
    [{ amount: "49" }, 400, "amount"], [{ amount: "0" }, 400, "amount"], [{ amount: "-100" }, 400, "amount"],
    [{ amount: "12.50" }, 400, "amount"], [{ amount: "lots" }, 400, "amount"], [{ amount: "9007199254740993" }, 400, "amount"],
    [{ started_at: "garbage" }, 400, "started_at"], [{ started_at: "2024-02-30T00:00:00Z" }, 400, "started_at"],
    [{ started_at: "2024-03-01T25:00:00Z" }, 400, "started_at"], [{ started_at: "2024-03-01T00:00:00+25:00" }, 400, "started_at"],
    [{ started_at: "99999-01-01T00:00:00Z" }, 400, "started_at"], [{ started_at: "03/01/2024" }, 400, "started_at"],
    [{ started_at: "2024-01-31T09:59:59Z" }, 400, "started_at"], [{ started_at: "2020-01-01" }, 400, "started_at"],
    [{ appears_on_statement_as: "1234567890123456789" }, 400, "appears_on_statement_as"],
    [{ appears_on_statement_as: "TAB\there" }, 400, "appears_on_statement_as"],
    [{ appears_on_statement_as: "NUL\u0000here" }, 400, "appears_on_statement_as"],
    [{ appears_on_statement_as: "STAR*HERE" }, 400, "appears_on_statement_as"],
    [{ appears_on_statement_as: "NEW\nLINE" }, 400, "appears_on_statement_as"],
  ];
  for (const [patch, status, field] of cases) err(await c.api.post("/v1/subscriptions", { ...base, ...patch }), status, field);
  const jsonCases = [
    [{ amount: 1e30 }, "amount"], [{ amount: 500.5 }, "amount"], [{ amount: true }, "amount"],
    [{ started_at: 1e30 }, "started_at"], [{ started_at: true }, "started_at"], [{ started_at: ["2030-01-01"] }, "started_at"],
    [{ plan_guid: 12 }, "plan_guid"], [{ customer_guid: { guid: customer.guid } }, "customer_guid"],
    [{ funding_instrument_uri: 42 }, "funding_instrument_uri"], [{ appears_on_statement_as: 7 }, "appears_on_statement_as"],
  ];
  for (const [patch, field] of jsonCases) err(await c.api.postJson("/v1/subscriptions", { ...base, ...patch }), 400, field);
  const past = err(await c.api.post("/v1/subscriptions", { ...base, started_at: "2024-01-30T10:00:00Z" }), 400, "started_at");
  assert.equal(past.code, "started_in_past");
  const missing = await c.api.post("/v1/subscriptions", {});
  err(missing, 400);
  assert.ok(["plan_guid", "customer_guid"].includes(missing.body.error.field), show(missing));
  assert.equal(ok(await c.api.get("/v1/subscriptions")).total_count, 0, "no subscription was created");
  assert.equal(ok(await c.api.get("/v1/invoices")).total_count, 0);
  // 18 printable characters is fine.
  const s = ok(await c.api.post("/v1/subscriptions", { ...base, appears_on_statement_as: "123456789012345678" }));
  assert.equal(s.appears_on_statement_as, "123456789012345678");
});

test("started_at: no zone = UTC, offsets converted, exactly now invoices at once", async () => {
  const { c, plan, customer } = await setup();
  const base = { plan_guid: plan.guid, customer_guid: customer.guid };
  const now = ok(await c.api.post("/v1/subscriptions", { ...base, started_at: "2024-01-31T12:00:00+02:00" }));
  assert.equal(now.started_at, T("2024-01-31"));
  assert.equal(now.invoice_count, 1, "started_at equal to now is not in the past");
  const noZone = ok(await c.api.post("/v1/subscriptions", { ...base, started_at: "2030-06-01T08:30:00" }));
  assert.equal(noZone.started_at, T("2030-06-01", "08:30:00"));
  assert.equal(noZone.next_invoice_at, noZone.started_at);
  const frac = ok(await c.api.postJson("/v1/subscriptions", { ...base, started_at: "2030-06-01T08:30:00.123456789-05:00" }));
  assert.equal(frac.started_at, "2030-06-01T13:30:00.123456+00:00");
});

test("future start: invoice_count 0, no invoice until the clock reaches started_at, then invoiced", async () => {
  const { c, plan, customer } = await setup();
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid,
    funding_instrument_uri: CARD, started_at: "2024-02-15T00:00:00Z" }));
  assert.equal(sub.invoice_count, 0);
  assert.equal(sub.started_at, T("2024-02-15", "00:00:00"));
  assert.equal(sub.next_invoice_at, T("2024-02-15", "00:00:00"));
  assert.deepEqual(await invoicesOf(c, sub), []);
  await advance(c, "2024-02-14T23:59:59Z");
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${sub.guid}`)).invoice_count, 0);
  assert.deepEqual(await invoicesOf(c, sub), []);
  await advance(c, "2024-02-15T00:00:00Z");
  const got = ok(await c.api.get(`/v1/subscriptions/${sub.guid}`));
  assert.equal(got.invoice_count, 1);
  assert.equal(got.next_invoice_at, T("2024-03-15", "00:00:00"));
  const [iv] = await invoicesOf(c, sub);
  assert.equal(iv.scheduled_at, T("2024-02-15", "00:00:00"));
  assert.equal(iv.status, "settled");
  assert.equal(iv.created_at, T("2024-02-15", "00:00:00"), "invoiced at its due time");
});

test("catch-up over month ends (leap year): Jan 31 → Feb 29 → Mar 31, each its own invoice", async () => {
  const { c, plan, customer } = await setup("2024-01-31T10:00:00Z");
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid,
    funding_instrument_uri: CARD }));
  await advance(c, "2024-03-31T10:00:00Z");
  const invoices = await invoicesOf(c, sub);
  assert.deepEqual(invoices.map((x) => x.scheduled_at), [T("2024-03-31"), T("2024-02-29"), T("2024-01-31")],
    "subscription invoice lists are by scheduled_at, newest first");
  assert.equal(new Set(invoices.map((x) => x.guid)).size, 3);
  for (const iv of invoices) {
    assert.equal(iv.amount, 500);
    assert.equal(iv.status, "settled");
  }
  const got = ok(await c.api.get(`/v1/subscriptions/${sub.guid}`));
  assert.equal(got.invoice_count, 3);
  assert.equal(got.next_invoice_at, T("2024-04-30"));
  const txs = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/transactions`));
  assert.equal(txs.total_count, 3, "one charge per period");
  assert.deepEqual(new Set(txs.items.map((t) => t.invoice_guid)), new Set(invoices.map((x) => x.guid)));
});

test("catch-up over month ends (common year): Jan 31 2023 → Feb 28 → Mar 31", async () => {
  const { c, plan, customer } = await setup("2023-01-31T10:00:00Z");
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid }));
  await advance(c, "2023-03-31T10:00:00Z");
  const invoices = await invoicesOf(c, sub);
  assert.deepEqual(invoices.map((x) => x.scheduled_at), [T("2023-03-31"), T("2023-02-28"), T("2023-01-31")]);
  for (const iv of invoices) assert.equal(iv.status, "staged", "no instrument: staged, not charged");
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${sub.guid}`)).next_invoice_at, T("2023-04-30"));
  // One second before Mar 31 would have given only two.
  const b = await setup("2023-01-31T10:00:00Z");
  const s2 = ok(await b.c.api.post("/v1/subscriptions", { plan_guid: b.plan.guid, customer_guid: b.customer.guid }));
  await advance(b.c, "2023-03-31T09:59:59Z");
  assert.equal((await invoicesOf(b.c, s2)).length, 2);
});

test("the reference's example: started 2013-01-30 → 2013-02-28, 2013-03-30 (time of day kept)", async () => {
  const { c, plan, customer } = await setup("2013-01-30T08:22:11.782000Z");
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid }));
  assert.equal(sub.next_invoice_at, "2013-02-28T08:22:11.782000+00:00");
  await advance(c, "2013-04-01T00:00:00Z");
  assert.deepEqual((await invoicesOf(c, sub)).map((x) => x.scheduled_at).reverse(),
    ["2013-01-30T08:22:11.782000+00:00", "2013-02-28T08:22:11.782000+00:00", "2013-03-30T08:22:11.782000+00:00"]);
});

test("no drift: monthly from Jan 31 over 13 months is computed from the start, not the previous date", async () => {
  const { c, plan, customer } = await setup("2024-01-31T10:00:00Z");
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid }));
  await advance(c, "2025-01-31T10:00:00Z");
  const days = (await invoicesOf(c, sub)).map((x) => x.scheduled_at.slice(0, 10)).reverse();
  assert.deepEqual(days, ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30",
    "2024-07-31", "2024-08-31", "2024-09-30", "2024-10-31", "2024-11-30", "2024-12-31", "2025-01-31"]);
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${sub.guid}`)).invoice_count, 13);
});

test("daily, weekly with interval, yearly from a leap day", async () => {
  const w2 = await setup("2024-02-27T23:59:59Z", { plan_type: "debit", amount: "100", frequency: "weekly", interval: "2" });
  const s = ok(await w2.c.api.post("/v1/subscriptions", { plan_guid: w2.plan.guid, customer_guid: w2.customer.guid }));
  assert.equal(s.next_invoice_at, "2024-03-12T23:59:59.000000+00:00");
  await w2.c.api.post(`/v1/companies/${w2.c.guid}/clock`, { advance_to: "2024-04-09T23:59:59Z" });
  assert.deepEqual((await invoicesOf(w2.c, s)).map((x) => x.scheduled_at.slice(0, 10)).reverse(),
    ["2024-02-27", "2024-03-12", "2024-03-26", "2024-04-09"]);

  const d3 = await setup("2024-02-27T23:59:59Z", { plan_type: "credit", amount: "100", frequency: "daily", interval: "3" });
  const sd = ok(await d3.c.api.post("/v1/subscriptions", { plan_guid: d3.plan.guid, customer_guid: d3.customer.guid }));
  await advance(d3.c, "2024-03-07T00:00:00Z");
  assert.deepEqual((await invoicesOf(d3.c, sd)).map((x) => x.scheduled_at.slice(0, 10)).reverse(),
    ["2024-02-27", "2024-03-01", "2024-03-04"]);

  const y = await setup("2024-02-29T08:00:00Z", { plan_type: "debit", amount: "100", frequency: "yearly" });
  const sy = ok(await y.c.api.post("/v1/subscriptions", { plan_guid: y.plan.guid, customer_guid: y.customer.guid }));
  await advance(y.c, "2028-03-01T00:00:00Z");
  assert.deepEqual((await invoicesOf(y.c, sy)).map((x) => x.scheduled_at.slice(0, 10)).reverse(),
    ["2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"]);
});

test("credit plans produce credit invoices and credit (payout) transactions", async () => {
  const { c, plan, customer } = await setup("2024-01-31T10:00:00Z",
    { plan_type: "credit", amount: "2500", frequency: "monthly" });
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid,
    funding_instrument_uri: "/v1/bank_accounts/BA123" }));
  const [iv] = await invoicesOf(c, sub);
  assert.equal(iv.transaction_type, "credit");
  assert.equal(iv.status, "settled");
  const [tx] = ok(await c.api.get(`/v1/invoices/${iv.guid}/transactions`)).items;
  assert.equal(tx.transaction_type, "credit");
  assert.equal(tx.amount, 2500);
  const ledger = ok(await c.api.get(`/v1/companies/${c.guid}/simulator`));
  const charge = ledger.charges.find((x) => x.idempotency_key === tx.guid);
  assert.equal(charge.kind, "credit");
  assert.equal(charge.amount, 2500);
});

test("never two invoices for one period: the scheduler run twice, and concurrently", async () => {
  const { c, plan, customer } = await setup();
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid,
    funding_instrument_uri: CARD }));
  await advance(c, "2024-02-29T10:00:00Z");
  await advance(c, "2024-02-29T10:00:00Z");
  await advance(c, "2024-02-29T10:00:00Z");
  assert.equal((await invoicesOf(c, sub)).length, 2);
  // Many clock requests at once, all to the same target.
  const results = await Promise.all(Array.from({ length: 8 }, () =>
    c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-05-31T10:00:00Z" })));
  for (const r of results) assert.ok(r.status < 500, show(r));
  assert.ok(results.some((r) => r.status === 200));
  const invoices = await invoicesOf(c, sub);
  assert.deepEqual(invoices.map((x) => x.scheduled_at.slice(0, 10)),
    ["2024-05-31", "2024-04-30", "2024-03-31", "2024-02-29", "2024-01-31"]);
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${sub.guid}`)).invoice_count, 5);
  const txs = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/transactions?limit=100`)).items;
  assert.equal(txs.length, 5, "one transaction per period");
  const ledger = ok(await c.api.get(`/v1/companies/${c.guid}/simulator`));
  assert.equal(ledger.charges.length, 5, "charged once per period");
  assert.equal(ledger.charges.reduce((s, x) => s + x.amount, 0), 2500);
});

test("cancel: canceled + canceled_at, no invoice afterwards, second cancel 409, unknown 404", async () => {
  const { c, plan, customer } = await setup();
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid,
    funding_instrument_uri: CARD }));
  await advance(c, "2024-02-10T00:00:00Z");
  // Like the reference's curl: POST with no body.
  const canceled = ok(await call(w.base, "POST", `/v1/subscriptions/${sub.guid}/cancel`, { key: c.key }));
  assert.equal(canceled.canceled, true);
  assert.equal(canceled.canceled_at, T("2024-02-10", "00:00:00"));
  assert.equal(canceled.invoice_count, 1);
  assert.equal(canceled.guid, sub.guid);
  const again = err(await c.api.post(`/v1/subscriptions/${sub.guid}/cancel`, {}), 409);
  assert.equal(typeof again.code, "string");
  err(await c.api.post("/v1/subscriptions/SUnope/cancel", {}), 404);
  await advance(c, "2024-12-31T00:00:00Z");
  const got = ok(await c.api.get(`/v1/subscriptions/${sub.guid}`));
  assert.equal(got.canceled, true);
  assert.equal(got.invoice_count, 1);
  assert.equal(got.canceled_at, T("2024-02-10", "00:00:00"), "second cancel did not move canceled_at");
  assert.equal((await invoicesOf(c, sub)).length, 1);
  // The already issued invoice stays settled.
  assert.equal((await invoicesOf(c, sub))[0].status, "settled");
  // A future-start subscription canceled before it starts never invoices.
  const fut = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid,
    started_at: "2025-01-01T00:00:00Z" }));
  ok(await c.api.post(`/v1/subscriptions/${fut.guid}/cancel`, {}));
  await advance(c, "2025-03-01T00:00:00Z");
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${fut.guid}`)).invoice_count, 0);
});

test("subscription list newest first, and /invoices, /transactions per subscription", async () => {
  const { c, plan, customer } = await setup();
  const s1 = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid,
    funding_instrument_uri: CARD }));
  await advance(c, "2024-02-01T00:00:00Z");
  const s2 = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid, amount: "700",
    funding_instrument_uri: CARD }));
  const list = ok(await c.api.get("/v1/subscriptions"));
  assert.deepEqual(list.items.map((x) => x.guid), [s2.guid, s1.guid]);
  assert.equal(list.total_count, 2);
  assert.equal(list.items[0].effective_amount, 700);
  assert.equal(list.items[1].effective_amount, 500);
  const i2 = await invoicesOf(c, s2);
  assert.equal(i2.length, 1);
  assert.equal(i2[0].amount, 700);
  const t2 = ok(await c.api.get(`/v1/subscriptions/${s2.guid}/transactions`)).items;
  assert.equal(t2.length, 1);
  assert.equal(t2[0].invoice_guid, i2[0].guid);
  assert.equal(t2[0].amount, 700);
  err(await c.api.get("/v1/subscriptions/SUnope/invoices"), 404);
  err(await c.api.get("/v1/subscriptions/SUnope/transactions"), 404);
});

test("a batch of due subscriptions larger than SQLite's 100 bound parameters is invoiced as one batch, not one by one", async () => {
  // The scheduler's batch path falls back to one item at a time when a batch throws (one bad row must not block the
  // rest); a batch query that always threw once hid here as a 4× slower scheduler with every test still green.
  const { c, plan, customer } = await setup("2024-01-01T00:00:00Z");
  const subs = [];
  for (let i = 0; i < 150; i += 25) {
    subs.push(...await Promise.all(Array.from({ length: 25 }, () => c.api.post("/v1/subscriptions", { plan_guid: plan.guid,
      customer_guid: customer.guid, funding_instrument_uri: CARD, started_at: "2024-01-02T00:00:00Z" }).then(ok))));
  }
  await advance(c, "2024-01-02T00:00:00Z");
  const report = ok(await c.api.get(`/v1/companies/${c.guid}/scheduler`));
  assert.equal(report.batch_fallbacks, null, JSON.stringify(report.batch_fallbacks));
  assert.deepEqual(report.failures, []);
  const settled = ok(await c.api.get("/v1/invoices?status=settled&limit=1"));
  assert.equal(settled.total_count, 150);
  for (const sub of subs.slice(0, 3)) assert.equal(ok(await c.api.get(`/v1/subscriptions/${sub.guid}`)).invoice_count, 1);
});
