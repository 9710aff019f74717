// Metered usage over HTTP through the test clock: metrics, plans with metered items (per unit and graduated tiers),
// events one at a time and in batches of 1,000 (each event id counted once, also under 50 concurrent copies), a batch
// refused whole with every failure listed, late and future events, the invoice's usage lines, the open period's
// usage, the upcoming invoice, a canceled subscription's final usage invoice, and another company's key → 404.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, T, advance, err, newCompany, ok, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const DAY = "00:00:00";
const TIERS = [{ up_to: 1000, unit_amount_decimal: "0" }, { up_to: 10000, unit_amount_decimal: "0.5" },
  { up_to: null, unit_amount_decimal: "0.1", flat_amount: 500 }];

/** A company at 2024-04-01 with metrics and a 1000 monthly plan metering API calls at 0.05 and seats by tiers. */
async function setup() {
  const c = await newCompany(w.base, { clock: T("2024-04-01", DAY) });
  ok(await c.api.post("/v1/metrics", { code: "api_calls", name: "API calls", aggregation: "sum" }));
  ok(await c.api.post("/v1/metrics", { code: "gb_stored", name: "Storage", aggregation: "max" }));
  const plan = ok(await c.api.postJson("/v1/plans", { plan_type: "debit", amount: 1000, frequency: "monthly",
    metered_items: [{ metric_code: "api_calls", unit_amount_decimal: "0.05" }, { metric_code: "gb_stored", tiers: TIERS }] }));
  const customer = ok(await c.api.post("/v1/customers", {}));
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid,
    funding_instrument_uri: CARD }));
  const send = (body) => c.api.postJson("/v1/usage_events", body);
  return { c, plan, customer, sub, send };
}
const invoicesOf = async (c, sub) => ok(await c.api.get(`/v1/subscriptions/${sub.guid}/invoices?limit=100`)).items.reverse();

test("metrics and metered plans: validation names the field; form and JSON encodings", async () => {
  const { c } = await setup();
  err(await c.api.post("/v1/metrics", { code: "API", name: "x", aggregation: "sum" }), 400, "code");
  err(await c.api.post("/v1/metrics", { code: "x", name: "x", aggregation: "median" }), 400, "aggregation");
  err(await c.api.post("/v1/metrics", { code: "api_calls", name: "again", aggregation: "sum" }), 409, "code");
  assert.equal(ok(await c.api.get("/v1/metrics/api_calls")).aggregation, "sum");
  assert.equal(ok(await c.api.get("/v1/metrics")).total_count, 2);
  // Numbered form fields, as Billy's clients send them.
  const form = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly",
    metered_item_metric1: "api_calls", metered_item_unit_amount_decimal1: "0.05",
    metered_item_metric2: "gb_stored", metered_item_tiers2: JSON.stringify(TIERS) }));
  assert.deepEqual(form.metered_items.map((i) => i.metric_code), ["api_calls", "gb_stored"]);
  assert.equal(form.metered_items[1].tiers.length, 3);
  const bad = (items) => c.api.postJson("/v1/plans", { plan_type: "debit", amount: 500, frequency: "monthly", metered_items: items });
  err(await bad([{ metric_code: "api_calls", unit_amount_decimal: "-1" }]), 400, "metered_items[0].unit_amount_decimal");
  err(await bad([{ metric_code: "gb_stored", tiers: [{ up_to: 10, unit_amount_decimal: "1" }, { up_to: 5, unit_amount_decimal: "1" }, { up_to: null, unit_amount_decimal: "1" }] }]),
    400, "metered_items[0].tiers[1].up_to");
  err(await bad([{ metric_code: "gb_stored", tiers: [{ up_to: 10, unit_amount_decimal: "1" }] }]), 400);
  err(await bad([{ metric_code: "unknown_metric", unit_amount_decimal: "1" }]), 404, "metered_items[0].metric_code");
});

test("10,000 events with 500 repeated ids: the next invoice bills exactly the 9,500 distinct ones", async () => {
  const { c, sub, send } = await setup();
  await advance(c, T("2024-04-02", DAY));
  let accepted = 0, duplicates = 0;
  for (let b = 0; b < 10; b++) {
    // Each batch: 950 new ids and 50 repeats (of the batch before, or of itself for the first): 500 repeats in all.
    const ids = [...Array.from({ length: 950 }, (_, i) => b * 950 + i), ...Array.from({ length: 50 }, (_, i) => Math.max(0, b - 1) * 950 + i)];
    const events = ids.map((n) => ({ event_id: `evt_${n}`, subscription_guid: sub.guid, metric_code: "api_calls", value: 3,
      timestamp: T("2024-04-02", DAY) }));
    const res = ok(await send({ events }));
    assert.equal(res.events.length, 1000);
    accepted += res.accepted;
    duplicates += res.duplicates;
  }
  assert.deepEqual([accepted, duplicates], [9500, 500]);
  const usage = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/usage`));
  const calls = usage.lines.find((l) => l.metric_code === "api_calls");
  // 9,500 × 3 = 28,500 calls × 0.05 = 1,425.
  assert.deepEqual([calls.quantity, calls.amount], [28500, 1425]);
  await advance(c, T("2024-05-01", DAY));
  const [, may] = await invoicesOf(c, sub);
  const line = may.items.find((i) => i.metric_code === "api_calls");
  assert.equal(line.quantity, 28500);
  assert.equal(line.amount, calls.amount);
  assert.equal(may.amount, 1000 + line.amount + may.items.find((i) => i.metric_code === "gb_stored").amount);
  assert.equal(may.status, "settled");
});

test("graduated tiers and max aggregation price the worked example; the preview matches the invoice", async () => {
  const { c, sub, send } = await setup();
  ok(await send({ events: [{ event_id: "g1", subscription_guid: sub.guid, metric_code: "gb_stored", value: 12000 },
    { event_id: "g2", subscription_guid: sub.guid, metric_code: "gb_stored", value: 25000 },
    { event_id: "g3", subscription_guid: sub.guid, metric_code: "gb_stored", value: 20000 }] }));
  const up = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/upcoming_invoice`));
  const gb = up.items.find((i) => i.metric_code === "gb_stored");
  // max 25,000: 1,000 × 0 + 9,000 × 0.5 + (15,000 × 0.1 + 500) = 6,500.
  assert.deepEqual([gb.quantity, gb.amount, gb.unit_amount_decimal], [25000, 6500, null]);
  assert.equal(up.amount, 1000 + 6500);
  await advance(c, T("2024-05-01", DAY));
  const [, may] = await invoicesOf(c, sub);
  assert.deepEqual(may.items.map((i) => [i.metric_code, i.quantity, i.amount]), [["api_calls", 0, 0], ["gb_stored", 25000, 6500]]);
  assert.equal(may.effective_amount, 7500);
  assert.deepEqual([may.items[1].period_start, may.items[1].period_end], [T("2024-04-01", DAY), T("2024-05-01", DAY)]);
});

test("a batch is refused whole, each failure listed; late and future events are 422; nothing half-written", async () => {
  const { c, sub, send } = await setup();
  const res = await send({ events: [
    { event_id: "ok1", subscription_guid: sub.guid, metric_code: "api_calls" },
    { event_id: "bad1", subscription_guid: sub.guid, metric_code: "nope" },
    { event_id: "bad2", subscription_guid: sub.guid, metric_code: "api_calls", value: 1.5 },
    { event_id: "bad3", subscription_guid: "SUnope", metric_code: "api_calls" },
  ] });
  const e = err(res, 400, "events");
  assert.equal(e.code, "invalid_batch");
  assert.deepEqual(e.errors.map((x) => [x.index, x.field]).sort(), [[1, "events[1].metric_code"], [2, "events[2].value"], [3, "events[3].subscription_guid"]].sort());
  assert.equal(ok(await c.api.get(`/v1/subscriptions/${sub.guid}/usage`)).amount, 0, "ok1 was not recorded either");
  assert.equal(ok(await send({ event_id: "ok1", subscription_guid: sub.guid, metric_code: "api_calls" })).duplicate, false);
  await advance(c, T("2024-05-01", DAY));
  const late = err(await send({ event_id: "late", subscription_guid: sub.guid, metric_code: "api_calls", timestamp: T("2024-04-30", DAY) }), 422, "timestamp");
  assert.equal(late.code, "period_closed");
  const future = err(await send({ event_id: "soon", subscription_guid: sub.guid, metric_code: "api_calls", timestamp: T("2024-05-01", "00:06:00") }), 422, "timestamp");
  assert.equal(future.code, "event_in_future");
  err(await send({ events: [] }), 400, "events");
  err(await send({ events: Array.from({ length: 1001 }, (_, i) => ({ event_id: `x${i}`, subscription_guid: sub.guid, metric_code: "api_calls" })) }), 400, "events");
});

test("50 concurrent copies of one event id are counted once", async () => {
  const { c, sub, send } = await setup();
  const all = await Promise.all(Array.from({ length: 50 }, () => send({ event_id: "same", subscription_guid: sub.guid,
    metric_code: "api_calls", value: 40 })));
  assert.ok(all.every((r) => r.status === 200));
  assert.equal(all.filter((r) => r.body.duplicate === false).length, 1);
  const usage = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/usage`));
  assert.equal(usage.lines.find((l) => l.metric_code === "api_calls").quantity, 40);
});

test("a subscription canceled mid-period gets a final usage invoice at cancel", async () => {
  const { c, sub, send } = await setup();
  ok(await send({ events: [{ event_id: "u1", subscription_guid: sub.guid, metric_code: "api_calls", value: 10000 }] }));
  await advance(c, T("2024-04-20", DAY));
  ok(await c.api.post(`/v1/subscriptions/${sub.guid}/cancel`, {}));
  const ivs = await invoicesOf(c, sub);
  assert.equal(ivs.length, 2);
  assert.equal(ivs[1].title, "Final usage");
  assert.equal(ivs[1].amount, 500);
  assert.deepEqual(ivs[1].items.map((i) => [i.metric_code, i.quantity]), [["api_calls", 10000], ["gb_stored", 0]]);
  await advance(c, T("2024-04-20", "00:00:01"));
  assert.equal((await invoicesOf(c, sub))[1].status, "settled");
  // Events for a canceled subscription are refused.
  err(await send({ event_id: "u2", subscription_guid: sub.guid, metric_code: "api_calls" }), 409, "subscription_guid");
});

test("every new usage path answers 404 to another company's key", async () => {
  const a = await setup();
  const b = await newCompany(w.base, {});
  err(await b.api.get("/v1/metrics/api_calls"), 404);
  err(await b.api.get(`/v1/subscriptions/${a.sub.guid}/usage`), 404);
  err(await b.api.postJson("/v1/usage_events", { event_id: "z", subscription_guid: a.sub.guid, metric_code: "api_calls" }), 404);
  assert.equal(ok(await a.c.api.get(`/v1/subscriptions/${a.sub.guid}/usage`)).amount, 0);
});

test("review fixes: usage survives a plan change, ends with the subscription, never overflows an invoice, retries stay duplicates", async () => {
  const { c, customer, sub, send } = await setup();
  // A plan that meters nothing: the calls so far are billed now at the old price.
  ok(await send({ event_id: "p1", subscription_guid: sub.guid, metric_code: "api_calls", value: 10000 }));
  const flat = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "1000", frequency: "monthly" }));
  ok(await c.api.put(`/v1/subscriptions/${sub.guid}`, { plan_guid: flat.guid, proration_behavior: "none" }));
  const [, toDate] = await invoicesOf(c, sub);
  assert.deepEqual([toDate.title, toDate.amount, toDate.items.map((i) => [i.metric_code, i.quantity])],
    ["Usage to date", 500, [["api_calls", 10000], ["gb_stored", 0]]]);
  assert.equal(err(await send({ event_id: "p2", subscription_guid: sub.guid, metric_code: "api_calls" }), 422, "metric_code").code, "metric_not_on_plan");
  // Another subscription: cancel at period end refuses usage after the end; a pause refuses usage while paused.
  const plan = ok(await c.api.get(`/v1/plans?limit=100`)).items.find((p) => p.metered_items.length === 2);
  ok(await c.api.post("/v1/coupons", { code: "HALF", percent_off: "50", duration: "forever" }));
  const s2 = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid,
    funding_instrument_uri: CARD, coupon: "HALF" }));
  ok(await c.api.post(`/v1/subscriptions/${s2.guid}/cancel`, { at_period_end: "true" }));
  await advance(c, T("2024-04-30", "23:58:00"));
  const after = err(await send({ event_id: "late-2", subscription_guid: s2.guid, metric_code: "api_calls", timestamp: T("2024-05-01", "00:02:00") }), 409, "timestamp");
  assert.equal(after.code, "subscription_canceled");
  ok(await send({ event_id: "s2-1", subscription_guid: s2.guid, metric_code: "api_calls", value: 8000 }));
  // The retried batch after its period is invoiced is still only a repeat.
  await advance(c, T("2024-05-01", DAY));
  const retry = ok(await send({ events: [{ event_id: "s2-1", subscription_guid: s2.guid, metric_code: "api_calls", value: 8000 }] }));
  assert.deepEqual([retry.accepted, retry.duplicates], [0, 1]);
  // Its final usage invoice has the coupon: 8,000 × 0.05 = 400, half off → 200.
  const final = (await invoicesOf(c, s2)).find((i) => i.title === "Final usage");
  assert.deepEqual([final.amount, final.effective_amount], [400, 200]);
  // A third: paused usage is refused; an event that would overflow an invoice is refused, nothing stuck.
  const dear = ok(await c.api.postJson("/v1/plans", { plan_type: "debit", amount: 1000, frequency: "monthly",
    metered_items: [{ metric_code: "api_calls", unit_amount_decimal: "1" }] }));
  const s3 = ok(await c.api.post("/v1/subscriptions", { plan_guid: dear.guid, customer_guid: customer.guid, funding_instrument_uri: CARD }));
  // 2^53 − 1 calls at 1 plus the fixed 1000 would not fit one invoice.
  const huge = err(await send({ event_id: "huge", subscription_guid: s3.guid, metric_code: "api_calls", value: 9007199254740991 }), 422, "value");
  assert.equal(huge.code, "amount_out_of_range");
  ok(await c.api.post(`/v1/subscriptions/${s3.guid}/pause`, {}));
  assert.equal(err(await send({ event_id: "paused", subscription_guid: s3.guid, metric_code: "api_calls" }), 409, "timestamp").code, "subscription_paused");
  // Many distinct metrics in one batch: listed, never a 500.
  const many = await send({ events: Array.from({ length: 150 }, (_, i) => ({ event_id: `m${i}`, subscription_guid: s3.guid, metric_code: `metric_${i}` })) });
  assert.equal(err(many, 400, "events").errors.length, 150);
});
