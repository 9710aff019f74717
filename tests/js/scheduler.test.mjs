// The real-time scheduler: a company without a test clock is driven by its Durable Object alarm, and the cron
// handler wakes every company. These tests wait for real time (a second or two); every other schedule test uses
// the test clock.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { newCompany, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w.stop(); });

async function until(fn, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("the alarm invoices a subscription when its start time comes, without any request", async () => {
  const c = await newCompany(w.base);
  const plan = (await c.api.post("/v1/plans", { plan_type: "debit", amount: "700", frequency: "daily" })).body;
  const customer = (await c.api.post("/v1/customers", {})).body;
  const startedAt = new Date(Date.now() + 1500).toISOString();
  const sub = await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid,
    funding_instrument_uri: "/v1/cards/ok", started_at: startedAt });
  assert.equal(sub.status, 200, JSON.stringify(sub.body));
  assert.equal(sub.body.invoice_count, 0);
  const invoices = await until(async () => {
    const res = await c.api.get(`/v1/subscriptions/${sub.body.guid}/invoices`);
    return res.body.items.length ? res.body.items : null;
  });
  assert.ok(invoices, "the alarm fired and created the first invoice");
  assert.equal(invoices.length, 1);
  assert.equal(invoices[0].status, "settled");
  assert.equal(invoices[0].effective_amount, 700);
  const after = (await c.api.get(`/v1/subscriptions/${sub.body.guid}`)).body;
  assert.equal(after.invoice_count, 1);
  assert.ok(after.next_invoice_at > invoices[0].scheduled_at);
});

test("the cron handler wakes every company's scheduler", async () => {
  const c = await newCompany(w.base);
  const worker = await w.mf.getWorker();
  const result = await worker.scheduled({ cron: "*/15 * * * *", scheduledTime: new Date() });
  assert.equal(result.outcome, "ok");
  // The company still answers normally afterwards.
  assert.equal((await c.api.get(`/v1/companies/${c.guid}`)).status, 200);
});

test("the cron fans out in pages (SWEEP_PAGE_SIZE 3 here; 500 in production): every company is reached once per run", async () => {
  const small = await startWorker({ bindings: { SWEEP_PAGE_SIZE: "3" } });
  try {
    const companies = [];
    for (let i = 0; i < 10; i++) companies.push(await newCompany(small.base));
    const swept = async () => Promise.all(companies.map(async (c) =>
      (await c.api.get(`/v1/companies/${c.guid}/scheduler`)).body.last_sweep_at));
    assert.deepEqual(await swept(), companies.map(() => null), "no sweep has run yet");
    const worker = await small.mf.getWorker();
    const result = await worker.scheduled({ cron: "*/15 * * * *", scheduledTime: new Date() });
    assert.equal(result.outcome, "ok");
    // 10 companies in pages of 3 are 4 sweepers; the last page is partial. Every company was woken.
    const times = await until(async () => { const t = await swept(); return t.every(Boolean) ? t : null; });
    assert.ok(times, `every company was swept: ${JSON.stringify(await swept())}`);
  } finally {
    await small.stop();
  }
});

test("a schedule that runs past the year 9999 stops cleanly (next_invoice_at null, never a 500)", async () => {
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const plan = (await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "yearly",
    interval: "1000" })).body;
  const customer = (await c.api.post("/v1/customers", {})).body;
  const sub = (await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid })).body;
  assert.equal(sub.next_invoice_at, "3024-01-01T00:00:00.000000+00:00");
  const adv = await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "9999-12-31T23:59:59Z" });
  assert.equal(adv.status, 200, JSON.stringify(adv.body));
  const after = (await c.api.get(`/v1/subscriptions/${sub.guid}`)).body;
  assert.equal(after.invoice_count, 8); // 2024, 3024, …, 9024
  assert.equal(after.next_invoice_at, null);
  const invoices = (await c.api.get(`/v1/subscriptions/${sub.guid}/invoices`)).body;
  assert.equal(invoices.total_count, 8);
  assert.equal(invoices.items[0].scheduled_at, "9024-01-01T00:00:00.000000+00:00");
});
