// Subscriptions in depth, over HTTP through the test clock (never by sleeping): trials, plan changes with exact
// proration (create_prorations, always_invoice, a downgrade to the customer balance, a frequency change that moves
// the anchor), cancel at period end (and undo), prorated cancel, pause and resume, the upcoming invoice, coupons
// (repeating N, max_redemptions under concurrency, deleted), status, and another company's key on every new path.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, T, advance, err, newCompany, ok, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const DAY = "00:00:00";
/** A company at 2024-04-01 (April has 30 days: its half is April 16, 00:00), a 3000 and a 6000 monthly plan. */
async function setup(clock = T("2024-04-01", DAY)) {
  const c = await newCompany(w.base, { clock });
  const small = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "3000", frequency: "monthly" }));
  const big = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "6000", frequency: "monthly" }));
  const customer = ok(await c.api.post("/v1/customers", {}));
  const subscribe = async (form = {}) => ok(await c.api.post("/v1/subscriptions", { plan_guid: small.guid,
    customer_guid: customer.guid, funding_instrument_uri: CARD, ...form }));
  return { c, small, big, customer, subscribe };
}
const invoicesOf = async (c, sub) => ok(await c.api.get(`/v1/subscriptions/${sub.guid}/invoices?limit=100`)).items.reverse();
const balanceOf = async (c, customer) => ok(await c.api.get(`/v1/balance_transactions?customer=${customer.guid}&limit=100`));
const sub = async (c, s) => ok(await c.api.get(`/v1/subscriptions/${s.guid}`));

test("a trial: no invoice and no charge until trial_end, then the first charge exactly then", async () => {
  const { c, subscribe } = await setup();
  const s = await subscribe({ trial_days: "14" });
  assert.equal(s.status, "trialing");
  assert.equal(s.trial_end, T("2024-04-15", DAY));
  assert.equal(s.next_invoice_at, T("2024-04-15", DAY));
  assert.equal(s.invoice_count, 0);
  await advance(c, T("2024-04-14", "23:59:59"));
  assert.equal((await invoicesOf(c, s)).length, 0);
  await advance(c, T("2024-04-15", DAY));
  const [iv] = await invoicesOf(c, s);
  assert.equal(iv.scheduled_at, T("2024-04-15", DAY));
  assert.equal(iv.status, "settled");
  const after = await sub(c, s);
  assert.equal(after.status, "active");
  // The schedule's anchor is the trial's end.
  assert.equal(after.next_invoice_at, T("2024-05-15", DAY));
  // trial_end and trial_days are checked.
  err(await c.api.post("/v1/subscriptions", { plan_guid: s.plan_guid, customer_guid: s.customer_guid, trial_days: "731" }), 400, "trial_days");
  err(await c.api.post("/v1/subscriptions", { plan_guid: s.plan_guid, customer_guid: s.customer_guid,
    trial_end: T("2024-04-01", DAY) }), 400, "trial_end");
  // A trial can no longer be ended once it is over.
  err(await c.api.put(`/v1/subscriptions/${s.guid}`, { trial_end: "now" }), 409, "trial_end");
});

test("PUT trial_end=now ends a trial early: the first invoice at once", async () => {
  const { c, subscribe } = await setup();
  const s = await subscribe({ trial_end: T("2024-05-01", DAY) });
  await advance(c, T("2024-04-10", DAY));
  const ended = ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { trial_end: "now" }));
  assert.equal(ended.status, "active");
  assert.equal(ended.invoice_count, 1);
  assert.equal(ended.next_invoice_at, T("2024-05-10", DAY));
  const [iv] = await invoicesOf(c, s);
  assert.equal(iv.scheduled_at, T("2024-04-10", DAY));
  assert.equal(iv.status, "settled");
});

test("an upgrade at half of a 30-day period (create_prorations): the next invoice carries exactly −1500 and +3000", async () => {
  const { c, big, subscribe } = await setup();
  const s = await subscribe();
  await advance(c, T("2024-04-16", DAY));
  const changed = ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: big.guid }));
  assert.equal(changed.effective_amount, 6000);
  assert.deepEqual(changed.pending_adjustments.map((a) => a.amount), [-1500, 3000]);
  assert.equal(changed.invoice_count, 1, "no invoice now");
  // The preview shows what the next invoice will be; nothing is written.
  const up = ok(await c.api.get(`/v1/subscriptions/${s.guid}/upcoming_invoice`));
  assert.equal(up.period_start, T("2024-05-01", DAY));
  assert.equal(up.period_end, T("2024-06-01", DAY));
  assert.deepEqual(up.adjustments.map((a) => a.amount), [-1500, 3000]);
  assert.equal(up.effective_amount, 7500);
  assert.equal((await invoicesOf(c, s)).length, 1);
  await advance(c, T("2024-05-01", DAY));
  const [, next] = await invoicesOf(c, s);
  assert.equal(next.amount, 6000);
  assert.deepEqual(next.adjustments.map((a) => a.amount), [-1500, 3000]);
  assert.match(next.adjustments[0].reason, /^Unused time on plan /);
  assert.equal(next.effective_amount, 7500);
  assert.equal(next.status, "settled");
  assert.deepEqual((await sub(c, s)).pending_adjustments, [], "applied once");
  await advance(c, T("2024-06-01", DAY));
  assert.equal((await invoicesOf(c, s))[2].effective_amount, 6000);
});

test("always_invoice: an invoice now for the net; a downgrade's credit goes to the balance and pays the next invoice", async () => {
  const { c, small, big, customer, subscribe } = await setup();
  const s = await subscribe();
  await advance(c, T("2024-04-16", DAY));
  ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: big.guid, proration_behavior: "always_invoice" }));
  let ivs = await invoicesOf(c, s);
  assert.equal(ivs.length, 2);
  assert.equal(ivs[1].amount, 0);
  assert.equal(ivs[1].effective_amount, 1500);
  assert.equal(ivs[1].status, "settled");
  // Back down the next day: 6000 → 3000 with 15 of 30 days left… at April 17, 14/30 left: −2800 + 1400 = −1400.
  await advance(c, T("2024-04-17", DAY));
  ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: small.guid, proration_behavior: "always_invoice" }));
  ivs = await invoicesOf(c, s);
  assert.equal(ivs.length, 2, "no negative invoice");
  const bal = await balanceOf(c, customer);
  assert.deepEqual(bal.items.map((e) => [e.amount, e.transaction_type]), [[-1400, "subscription_credit"]]);
  // The next period's invoice uses the credit.
  await advance(c, T("2024-05-01", DAY));
  ivs = await invoicesOf(c, s);
  assert.equal(ivs[2].amount, 3000);
  assert.deepEqual(ivs[2].adjustments.map((a) => a.amount), [-1400]);
  assert.equal(ivs[2].effective_amount, 1600);
  const after = await balanceOf(c, customer);
  assert.deepEqual(after.items.map((e) => [e.amount, e.ending_balance_amount]).sort(), [[-1400, -1400], [1400, 0]].sort());
  for (const iv of ivs) assert.ok(iv.effective_amount >= 0);
});

test("proration_behavior=none changes only future invoices", async () => {
  const { c, big, subscribe } = await setup();
  const s = await subscribe();
  await advance(c, T("2024-04-16", DAY));
  const changed = ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: big.guid, proration_behavior: "none" }));
  assert.deepEqual(changed.pending_adjustments, []);
  await advance(c, T("2024-05-01", DAY));
  const [, next] = await invoicesOf(c, s);
  assert.deepEqual([next.amount, next.effective_amount, next.adjustments], [6000, 6000, []]);
  // An override, then cleared with an empty string: the plan's amount again.
  assert.equal(ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { amount: "7000", proration_behavior: "none" })).effective_amount, 7000);
  const cleared = ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { amount: "", proration_behavior: "none" }));
  assert.deepEqual([cleared.amount, cleared.effective_amount], [null, 6000]);
  err(await c.api.put(`/v1/subscriptions/${s.guid}`, { proration_behavior: "sometimes" }), 400, "proration_behavior");
  err(await c.api.put(`/v1/subscriptions/${s.guid}`, { amount: "49" }), 400, "amount");
  err(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: "PLnope" }), 404, "plan_guid");
  const credit = ok(await c.api.post("/v1/plans", { plan_type: "credit", amount: "3000", frequency: "monthly" }));
  err(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: credit.guid }), 400, "plan_guid");
});

test("a change of frequency moves the anchor to now and invoices the new period at once, crediting the old", async () => {
  const { c, subscribe } = await setup();
  const yearly = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "30000", frequency: "yearly" }));
  const s = await subscribe();
  await advance(c, T("2024-04-16", DAY));
  const changed = ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: yearly.guid }));
  assert.equal(changed.next_invoice_at, T("2025-04-16", DAY));
  assert.equal(changed.billing_cycle_anchor, T("2024-04-16", DAY));
  const ivs = await invoicesOf(c, s);
  assert.equal(ivs.length, 2);
  assert.equal(ivs[1].scheduled_at, T("2024-04-16", DAY));
  assert.equal(ivs[1].amount, 30000);
  assert.deepEqual(ivs[1].adjustments.map((a) => a.amount), [-1500]);
  assert.equal(ivs[1].effective_amount, 28500);
  // The next period follows the new anchor, and (subscription, period) stays unique.
  await advance(c, T("2025-04-16", DAY));
  const later = await invoicesOf(c, s);
  assert.equal(later.length, 3);
  assert.equal(later[2].scheduled_at, T("2025-04-16", DAY));
});

test("cancel at period end: no further invoice, canceled at the boundary; undo before then", async () => {
  const { c, subscribe } = await setup();
  const s = await subscribe();
  const pending = ok(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, { at_period_end: "true" }));
  assert.equal(pending.cancel_at, T("2024-05-01", DAY));
  assert.equal(pending.cancel_at_period_end, true);
  assert.equal(pending.canceled, false);
  assert.equal(pending.status, "active");
  assert.equal(pending.next_invoice_at, null, "no invoice will come");
  // Undo, then ask again through PUT.
  const undone = ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { cancel_at_period_end: "false" }));
  assert.equal(undone.cancel_at, null);
  ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { cancel_at_period_end: "true" }));
  await advance(c, T("2024-05-01", DAY));
  const ended = await sub(c, s);
  assert.equal(ended.canceled, true);
  assert.equal(ended.canceled_at, T("2024-05-01", DAY));
  assert.equal(ended.status, "canceled");
  assert.equal(ended.next_invoice_at, null);
  await advance(c, T("2024-07-01", DAY));
  assert.equal((await invoicesOf(c, s)).length, 1);
  err(await c.api.put(`/v1/subscriptions/${s.guid}`, { amount: "700" }), 409);
  // Undone: it bills on.
  const other = await subscribe();
  ok(await c.api.post(`/v1/subscriptions/${other.guid}/cancel`, { at_period_end: "true" }));
  ok(await c.api.put(`/v1/subscriptions/${other.guid}`, { cancel_at_period_end: "false" }));
  await advance(c, T("2024-08-01", DAY));
  assert.equal((await invoicesOf(c, other)).length, 2);
  assert.equal((await sub(c, other)).canceled, false);
});

test("an immediate cancel with prorate=true credits the unused part of the paid period to the balance", async () => {
  const { c, customer, subscribe } = await setup();
  const s = await subscribe();
  await advance(c, T("2024-04-16", DAY));
  const canceled = ok(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, { prorate: "true" }));
  assert.equal(canceled.canceled, true);
  const bal = await balanceOf(c, customer);
  assert.deepEqual(bal.items.map((e) => [e.amount, e.transaction_type]), [[-1500, "subscription_credit"]]);
  err(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, {}), 409);
  err(await c.api.post(`/v1/subscriptions/${s.guid}/pause`, {}), 409);
});

test("a prorated cancel after an upgrade credits the unused time at the current price, not the invoice's total", async () => {
  const { c, big, customer, subscribe } = await setup();
  const s = await subscribe();
  await advance(c, T("2024-04-16", DAY));
  ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: big.guid }));
  await advance(c, T("2024-05-01", DAY));
  assert.equal((await invoicesOf(c, s))[1].effective_amount, 7500);
  // Half of May (31 days: 15.5 days left at 6000) → 3000.
  await advance(c, T("2024-05-16", "12:00:00"));
  ok(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, { prorate: "true" }));
  const bal = await balanceOf(c, customer);
  assert.deepEqual(bal.items.map((e) => e.amount), [-3000]);
});

test("deleting a customer ends its subscriptions the way a cancel does: pending credit to the balance, event, no cancel_at", async () => {
  const { c, small, big, customer, subscribe } = await setup();
  const s = await subscribe({ plan_guid: big.guid });
  await advance(c, T("2024-04-16", DAY));
  ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: small.guid }));
  ok(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, { at_period_end: "true" }));
  ok(await c.api.del(`/v1/customers/${customer.guid}`));
  const ended = await sub(c, s);
  assert.deepEqual([ended.canceled, ended.cancel_at, ended.pending_adjustments], [true, null, []]);
  // −3000 + 1500 pending → −1500 to the balance.
  assert.deepEqual((await balanceOf(c, customer)).items.map((e) => e.amount), [-1500]);
});

test("pause across two periods: nothing invoiced; resume keeps the anchor, the next invoice at the next anchor period", async () => {
  const { c, subscribe } = await setup(T("2024-01-10", DAY));
  const s = await subscribe();
  await advance(c, T("2024-01-20", DAY));
  const paused = ok(await c.api.post(`/v1/subscriptions/${s.guid}/pause`, {}));
  assert.equal(paused.status, "paused");
  assert.equal(paused.next_invoice_at, null, "none until resumed");
  err(await c.api.post(`/v1/subscriptions/${s.guid}/pause`, {}), 409);
  err(await c.api.get(`/v1/subscriptions/${s.guid}/upcoming_invoice`), 404);
  await advance(c, T("2024-03-20", DAY));
  assert.equal((await invoicesOf(c, s)).length, 1, "Feb 10 and Mar 10 skipped");
  const resumed = ok(await c.api.post(`/v1/subscriptions/${s.guid}/resume`, {}));
  assert.equal(resumed.status, "active");
  assert.equal(resumed.next_invoice_at, T("2024-04-10", DAY));
  err(await c.api.post(`/v1/subscriptions/${s.guid}/resume`, {}), 409);
  await advance(c, T("2024-04-10", DAY));
  const ivs = await invoicesOf(c, s);
  assert.deepEqual(ivs.map((i) => i.scheduled_at), [T("2024-01-10", DAY), T("2024-04-10", DAY)]);
});

test("a pause with resumes_at ends by itself; the period starting at that instant is invoiced", async () => {
  const { c, subscribe } = await setup(T("2024-01-10", DAY));
  const s = await subscribe();
  ok(await c.api.post(`/v1/subscriptions/${s.guid}/pause`, { resumes_at: T("2024-03-10", DAY) }));
  err(await c.api.post(`/v1/subscriptions/${s.guid}/pause`, {}), 409);
  err(await c.api.post(`/v1/subscriptions/${other(s)}/pause`, {}), 404);
  await advance(c, T("2024-03-10", DAY));
  const after = await sub(c, s);
  assert.equal(after.status, "active");
  assert.equal(after.paused_at, null);
  assert.deepEqual((await invoicesOf(c, s)).map((i) => i.scheduled_at), [T("2024-01-10", DAY), T("2024-03-10", DAY)]);
});
const other = (s) => s.guid.replace(/.$/, (ch) => (ch === "a" ? "b" : "a"));

test("a repeating coupon for 3 periods discounts exactly 3 invoices; percent rounds half-to-even", async () => {
  const { c, subscribe } = await setup();
  ok(await c.api.post("/v1/coupons", { code: "THIRD-OFF", percent_off: "12.5", duration: "repeating", duration_in_periods: "3" }));
  const s = await subscribe({ coupon: "THIRD-OFF", amount: "1004" });
  await advance(c, T("2024-08-01", DAY));
  const ivs = await invoicesOf(c, s);
  assert.equal(ivs.length, 5);
  // 12.5 % of 1004 = 125.5 → 126 (half to even).
  assert.deepEqual(ivs.map((i) => i.effective_amount), [878, 878, 878, 1004, 1004]);
  assert.deepEqual(ivs[0].adjustments, [{ amount: -126, reason: "coupon THIRD-OFF" }]);
  assert.equal((await sub(c, s)).coupon_applied_count, 3);
  // A forever coupon, then removed with an empty value: the next invoice is not discounted.
  ok(await c.api.post("/v1/coupons", { code: "ALWAYS", percent_off: "50", duration: "forever" }));
  ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { coupon: "ALWAYS" }));
  await advance(c, T("2024-09-01", DAY));
  const removed = ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { coupon: "" }));
  assert.equal(removed.coupon, null);
  await advance(c, T("2024-10-01", DAY));
  assert.deepEqual((await invoicesOf(c, s)).slice(5).map((i) => i.effective_amount), [502, 1004]);
  const coupon = ok(await c.api.get("/v1/coupons/THIRD-OFF"));
  assert.equal(coupon.times_redeemed, 1);
});

test("coupons: validation, duplicates, an invoice's coupon, amount_off never below zero, delete", async () => {
  const { c, customer, subscribe } = await setup();
  err(await c.api.post("/v1/coupons", { code: "bad code", percent_off: "10", duration: "once" }), 400, "code");
  err(await c.api.post("/v1/coupons", { code: "X", percent_off: "0", duration: "once" }), 400, "percent_off");
  err(await c.api.post("/v1/coupons", { code: "X", percent_off: "101", duration: "once" }), 400, "percent_off");
  err(await c.api.post("/v1/coupons", { code: "X", percent_off: "10", amount_off: "100", currency: "USD", duration: "once" }), 400, "amount_off");
  err(await c.api.post("/v1/coupons", { code: "X", amount_off: "100", duration: "once" }), 400, "currency");
  err(await c.api.post("/v1/coupons", { code: "X", percent_off: "10", duration: "repeating" }), 400, "duration_in_periods");
  err(await c.api.post("/v1/coupons", { code: "X", percent_off: "10", duration: "weekly" }), 400, "duration");
  ok(await c.api.post("/v1/coupons", { code: "BIG", amount_off: "5000", currency: "USD", duration: "forever" }));
  err(await c.api.post("/v1/coupons", { code: "BIG", percent_off: "10", duration: "once" }), 409, "code");
  // On an invoice: never below zero.
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "3000", coupon: "BIG" }));
  assert.deepEqual([iv.effective_amount, iv.adjustments], [0, [{ amount: -3000, reason: "coupon BIG" }]]);
  err(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "3000", coupon: "NOPE" }), 404, "coupon");
  // Deleted: not newly applied; where applied it keeps going.
  ok(await c.api.post("/v1/coupons", { code: "ONCE", percent_off: "50", duration: "forever" }));
  const s = await subscribe({ coupon: "ONCE" });
  const gone = ok(await c.api.del("/v1/coupons/ONCE"));
  assert.equal(gone.deleted, true);
  err(await subscribeRaw(c, s, { coupon: "ONCE" }), 409, "coupon");
  await advance(c, T("2024-05-01", DAY));
  assert.deepEqual((await invoicesOf(c, s)).map((i) => i.effective_amount), [1500, 1500]);
  const list = ok(await c.api.get("/v1/coupons"));
  assert.deepEqual(list.items.map((x) => x.code).sort(), ["BIG", "ONCE"]);
  // redeem_by passed: 409.
  ok(await c.api.post("/v1/coupons", { code: "SOON", percent_off: "10", duration: "once", redeem_by: T("2024-05-02", DAY) }));
  await advance(c, T("2024-05-02", DAY));
  err(await subscribeRaw(c, s, { coupon: "SOON" }), 409, "coupon");
});
const subscribeRaw = (c, s, form) => c.api.post("/v1/subscriptions", { plan_guid: s.plan_guid, customer_guid: s.customer_guid, ...form });

test("max_redemptions 5 under 20 concurrent redemptions: exactly 5", async () => {
  const { c, small, customer } = await setup();
  ok(await c.api.post("/v1/coupons", { code: "FIVE", percent_off: "10", duration: "once", max_redemptions: "5" }));
  const all = await Promise.all(Array.from({ length: 20 }, () => c.api.post("/v1/subscriptions",
    { plan_guid: small.guid, customer_guid: customer.guid, coupon: "FIVE" })));
  assert.equal(all.filter((r) => r.status === 200).length, 5);
  for (const r of all.filter((x) => x.status !== 200)) assert.equal(err(r, 409, "coupon").code, "coupon_exhausted");
  assert.equal(ok(await c.api.get("/v1/coupons/FIVE")).times_redeemed, 5);
  assert.equal(ok(await c.api.get("/v1/subscriptions?limit=100")).total_count, 5, "nothing half-written");
});

test("a failed latest invoice makes the subscription past_due", async () => {
  const { c, small, customer } = await setup();
  const s = ok(await c.api.post("/v1/subscriptions", { plan_guid: small.guid, customer_guid: customer.guid,
    funding_instrument_uri: "/v1/cards/hard_decline" }));
  assert.equal(s.status, "past_due", JSON.stringify(s));
});

test("every new path answers 404 to another company's key", async () => {
  const a = await setup();
  const b = await newCompany(w.base, {});
  const s = await a.subscribe();
  ok(await a.c.api.post("/v1/coupons", { code: "MINE", percent_off: "10", duration: "once" }));
  for (const [method, p] of [["PUT", `/v1/subscriptions/${s.guid}`], ["POST", `/v1/subscriptions/${s.guid}/pause`],
    ["POST", `/v1/subscriptions/${s.guid}/resume`], ["GET", `/v1/subscriptions/${s.guid}/upcoming_invoice`],
    ["GET", "/v1/coupons/MINE"], ["DELETE", "/v1/coupons/MINE"]]) {
    const res = method === "GET" ? await b.api.get(p) : method === "DELETE" ? await b.api.del(p) : method === "PUT"
      ? await b.api.put(p, { amount: "700" }) : await b.api.post(p, {});
    err(res, 404);
  }
  err(await b.api.post("/v1/subscriptions", { plan_guid: a.small.guid, customer_guid: a.customer.guid }), 404, "plan_guid");
  assert.equal(ok(await a.c.api.get("/v1/coupons/MINE")).deleted, false);
  assert.equal((await sub(a.c, s)).amount, null);
});

/** The customer's balance now (0 before any entry). */
const endingBalance = async (c, customer) => (await balanceOf(c, customer)).items[0]?.ending_balance_amount ?? 0;

test("a prorated cancel credits only what was paid for the period: refunded, free by a coupon, or credited before (either order)", async () => {
  // Refunded in full, then canceled at half: nothing of the 3000 was kept, nothing is credited.
  {
    const { c, customer, subscribe } = await setup();
    const s = await subscribe();
    const [iv] = await invoicesOf(c, s);
    ok(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "3000" }));
    await advance(c, T("2024-04-16", DAY));
    ok(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, { prorate: "true" }));
    assert.equal(await endingBalance(c, customer), 0);
  }
  // Canceled at half first (1500 back), then a refund: only the 1500 not given back yet can be refunded.
  {
    const { c, customer, subscribe } = await setup();
    const s = await subscribe();
    const [iv] = await invoicesOf(c, s);
    await advance(c, T("2024-04-16", DAY));
    ok(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, { prorate: "true" }));
    assert.equal(await endingBalance(c, customer), -1500);
    err(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "3000" }), 400, "amount");
    ok(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "1500" }));
    const back = ok(await c.api.get(`/v1/invoices/${iv.guid}/transactions`)).items
      .filter((t) => t.transaction_type === "refund").reduce((sum, t) => sum + t.amount, 0);
    assert.equal(back - (await endingBalance(c, customer)), 3000, "refunds and credit together: what was paid, no more");
  }
  // Half refunded: the unused half of what was kept.
  {
    const { c, customer, subscribe } = await setup();
    const s = await subscribe();
    const [iv] = await invoicesOf(c, s);
    ok(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "1000" }));
    await advance(c, T("2024-04-16", DAY));
    ok(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, { prorate: "true" }));
    assert.equal(await endingBalance(c, customer), -1000);
  }
  // A period made free by a 100 % coupon: nothing paid, nothing credited.
  {
    const { c, customer, subscribe } = await setup();
    ok(await c.api.post("/v1/coupons", { code: "FREE", percent_off: "100", duration: "once" }));
    const s = await subscribe({ coupon: "FREE" });
    const [iv] = await invoicesOf(c, s);
    assert.equal(iv.effective_amount, 0);
    await advance(c, T("2024-04-16", DAY));
    ok(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, { prorate: "true" }));
    assert.equal(await endingBalance(c, customer), 0);
  }
});

test("the customer's credit: a canceled invoice gives back what it used, and a payout never spends it", async () => {
  const { c, customer, subscribe } = await setup();
  ok(await c.api.postJson("/v1/balance_transactions", { balance_transaction: { amount: -1000, currency: "usd", customer: customer.guid } }));
  const s = await subscribe({ funding_instrument_uri: "/v1/cards/hard_decline" });
  const [iv] = await invoicesOf(c, s);
  assert.deepEqual([iv.status, iv.effective_amount], ["failed", 2000]);
  assert.equal(await endingBalance(c, customer), 0, "the invoice used the 1000 of credit");
  ok(await c.api.post(`/v1/invoices/${iv.guid}/cancel`, {}));
  const entries = (await balanceOf(c, customer)).items;
  assert.deepEqual([entries[0].transaction_type, entries[0].amount, entries[0].ending_balance_amount],
    ["unapplied_from_invoice", -1000, -1000]);
  // A payout plan pays its amount whatever the customer's balance, and its cancel credits nothing back.
  const payout = ok(await c.api.post("/v1/plans", { plan_type: "credit", amount: "3000", frequency: "monthly" }));
  const p = ok(await c.api.post("/v1/subscriptions", { plan_guid: payout.guid, customer_guid: customer.guid,
    funding_instrument_uri: "/v1/bank_accounts/ok" }));
  const [paid] = await invoicesOf(c, p);
  assert.deepEqual([paid.effective_amount, paid.adjustments], [3000, []]);
  await advance(c, T("2024-04-16", DAY));
  ok(await c.api.post(`/v1/subscriptions/${p.guid}/cancel`, { prorate: "true" }));
  assert.equal(await endingBalance(c, customer), -1000, "the credit is untouched by the payout and its cancel");
});

test("a plan change credits only time that was paid: a declined period's downgrade gives no credit to spend elsewhere", async () => {
  const { c, customer } = await setup();
  const big = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "6000", frequency: "monthly" }));
  const tiny = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "50", frequency: "monthly" }));
  const declined = ok(await c.api.post("/v1/subscriptions", { plan_guid: big.guid, customer_guid: customer.guid,
    funding_instrument_uri: "/v1/cards/hard_decline" }));
  assert.equal((await invoicesOf(c, declined))[0].status, "failed");
  await advance(c, T("2024-04-16", DAY));
  ok(await c.api.put(`/v1/subscriptions/${declined.guid}`, { plan_guid: tiny.guid, proration_behavior: "always_invoice" }));
  assert.equal(await endingBalance(c, customer), 0, "no credit for a period never paid");
  const [, prorations] = await invoicesOf(c, declined);
  assert.deepEqual(prorations.adjustments.map((a) => a.amount), [25], "the new plan's remaining half is still charged");
  // Paid in full, the same downgrade credits the unused half of what was paid.
  const paid = ok(await c.api.post("/v1/subscriptions", { plan_guid: big.guid, customer_guid: customer.guid, funding_instrument_uri: CARD }));
  await advance(c, T("2024-04-23", DAY));
  ok(await c.api.put(`/v1/subscriptions/${paid.guid}`, { plan_guid: tiny.guid, proration_behavior: "create_prorations" }));
  const view = await sub(c, paid);
  assert.deepEqual(view.pending_adjustments.map((a) => a.amount), [-4600, 38], "6000 and 50 × 23 of 30 days unused, half to even");
});

test("a prorated cancel counts prorations, usage and coupons on the period's invoice, and waits for a payment in flight", async () => {
  // A create_prorations downgrade paid part of May with April's overpayment: May counts as paid in full.
  for (const behavior of ["create_prorations", "always_invoice"]) {
    const { c, customer, big, small } = await setup();
    const s = ok(await c.api.post("/v1/subscriptions", { plan_guid: big.guid, customer_guid: customer.guid, funding_instrument_uri: CARD }));
    await advance(c, T("2024-04-16", DAY));
    ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: small.guid, proration_behavior: behavior }));
    await advance(c, T("2024-05-16", "12:00:00"));
    ok(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, { prorate: "true" }));
    const credits = (await balanceOf(c, customer)).items.filter((e) => e.transaction_type === "subscription_credit").map((e) => e.amount);
    assert.equal(credits[0], -1500, `${behavior}: the unused half of May's 3000 (${credits})`);
  }
  // May's invoice carries April's usage (5000) and a 50 % coupon on 1000 + 5000: the period's fixed part cost 500.
  {
    const { c, customer } = await setup();
    ok(await c.api.post("/v1/metrics", { code: "api_calls", name: "API calls", aggregation: "sum" }));
    const p = ok(await c.api.postJson("/v1/plans", { plan_type: "debit", amount: 1000, frequency: "monthly",
      metered_items: [{ metric_code: "api_calls", unit_amount_decimal: "0.05" }] }));
    ok(await c.api.post("/v1/coupons", { code: "HALF", percent_off: "50", duration: "forever" }));
    const s = ok(await c.api.post("/v1/subscriptions", { plan_guid: p.guid, customer_guid: customer.guid, funding_instrument_uri: CARD, coupon: "HALF" }));
    ok(await c.api.postJson("/v1/usage_events", { event_id: "u1", subscription_guid: s.guid, metric_code: "api_calls", value: 100000 }));
    await advance(c, T("2024-05-16", "12:00:00"));
    assert.equal((await invoicesOf(c, s)).at(-1).effective_amount, 3000);
    ok(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, { prorate: "true" }));
    assert.equal(await endingBalance(c, customer), -250);
  }
  // The period's payment still at the processor: a prorated cancel waits for its answer (409), a plain one does not.
  {
    const { c, customer, subscribe } = await setup();
    const s = await subscribe({ funding_instrument_uri: "/v1/cards/pending" });
    await advance(c, T("2024-04-01", "00:30:00"));
    const waiting = await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, { prorate: "true" });
    assert.deepEqual([waiting.status, waiting.body.error.code], [409, "payment_pending"]);
    await advance(c, T("2024-04-02", DAY));
    ok(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, { prorate: "true" }));
    assert.ok(await endingBalance(c, customer) < -2800, "paid, then credited its unused 29 days");
  }
});

test("a payout's downgrade never credits the payee: what they were overpaid comes off their next payout", async () => {
  const { c, customer } = await setup();
  const big = ok(await c.api.post("/v1/plans", { plan_type: "credit", amount: "6000", frequency: "monthly" }));
  const small = ok(await c.api.post("/v1/plans", { plan_type: "credit", amount: "3000", frequency: "monthly" }));
  const s = ok(await c.api.post("/v1/subscriptions", { plan_guid: big.guid, customer_guid: customer.guid, funding_instrument_uri: CARD }));
  await advance(c, T("2024-04-16", DAY));
  ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: small.guid, proration_behavior: "always_invoice" }));
  assert.equal(await endingBalance(c, customer), 0, "no credit for the payee");
  assert.equal((await sub(c, s)).pending_adjustments.reduce((sum, a) => sum + a.amount, 0), -1500, "overpaid 1500, kept pending");
  await advance(c, T("2024-05-01", DAY));
  const paidOut = ok(await c.api.get(`/v1/companies/${c.guid}/simulator`)).charges
    .filter((x) => x.status === "succeeded").reduce((sum, x) => sum + x.amount, 0);
  assert.equal(paidOut, 6000 + 1500, "April's 6000, then May's 3000 less the 1500 overpaid");
  // Ending with an overpayment pending: it lapses, never credit for the payee.
  await advance(c, T("2024-05-16", DAY));
  ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: big.guid, proration_behavior: "create_prorations" }));
  ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: small.guid, proration_behavior: "create_prorations" }));
  ok(await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, {}));
  assert.equal(await endingBalance(c, customer), 0);
});

test("resuming at the instant a period starts invoices that period; a trial never ends before its subscription starts", async () => {
  const { c, subscribe } = await setup();
  const a = await subscribe(), b = await subscribe();
  await advance(c, T("2024-04-20", DAY));
  ok(await c.api.post(`/v1/subscriptions/${a.guid}/pause`, {}));
  ok(await c.api.post(`/v1/subscriptions/${b.guid}/pause`, { resumes_at: T("2024-06-01", DAY) }));
  await advance(c, T("2024-06-01", DAY));
  ok(await c.api.post(`/v1/subscriptions/${a.guid}/resume`, {}));
  for (const s of [a, b]) {
    assert.deepEqual((await invoicesOf(c, s)).map((i) => i.scheduled_at), [T("2024-04-01", DAY), T("2024-06-01", DAY)]);
  }
  assert.equal((await sub(c, a)).next_invoice_at, T("2024-07-01", DAY));
  // trial_end before started_at (or `now` before it) is refused, as at creation; nothing is invoiced early.
  const later = await subscribe({ started_at: T("2024-08-01", DAY), trial_days: "10" });
  err(await c.api.put(`/v1/subscriptions/${later.guid}`, { trial_end: T("2024-07-15", DAY) }), 400, "trial_end");
  err(await c.api.put(`/v1/subscriptions/${later.guid}`, { trial_end: "now" }), 400, "trial_end");
  await advance(c, T("2024-07-20", DAY));
  assert.equal((await invoicesOf(c, later)).length, 0);
});

test("a pause whose resumes_at has come is over at once: the status reads active and it may be paused again", async () => {
  const { c, subscribe } = await setup();
  const s = await subscribe();
  await advance(c, T("2024-04-20", DAY));
  ok(await c.api.post(`/v1/subscriptions/${s.guid}/pause`, { resumes_at: T("2024-05-10", DAY) }));
  await advance(c, T("2024-05-15", DAY));
  assert.equal((await sub(c, s)).status, "active");
  err(await c.api.post(`/v1/subscriptions/${s.guid}/resume`, {}), 409);
  ok(await c.api.post(`/v1/subscriptions/${s.guid}/pause`, {}));
  assert.equal((await sub(c, s)).status, "paused");
  await advance(c, T("2024-06-02", DAY));
  assert.deepEqual((await invoicesOf(c, s)).map((i) => i.scheduled_at), [T("2024-04-01", DAY)], "May and June skipped");
});

test("no credit at a price never paid: while a prorations invoice is unpaid, prorating is 409; credits and refunds never return more than was paid", async () => {
  // A declined upgrade (always_invoice), then back down: refused until the prorations are paid.
  {
    const { c, customer, subscribe, big, small } = await setup();
    const s = await subscribe();
    await advance(c, T("2024-04-16", DAY));
    ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: big.guid, proration_behavior: "always_invoice",
      funding_instrument_uri: "/v1/cards/hard_decline" }));
    const back = await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: small.guid, proration_behavior: "always_invoice",
      funding_instrument_uri: CARD });
    assert.deepEqual([back.status, back.body.error.code], [409, "prorations_unpaid"]);
    const cancel = await c.api.post(`/v1/subscriptions/${s.guid}/cancel`, { prorate: "true" });
    assert.deepEqual([cancel.status, cancel.body.error.code], [409, "prorations_unpaid"]);
    assert.equal(await endingBalance(c, customer), 0);
  }
  // A downgrade's credit counts against the period invoice's refunds: 3000 paid, 1450 credited, 1550 refundable.
  {
    const { c, customer, subscribe } = await setup();
    const tiny = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "100", frequency: "monthly" }));
    const s = await subscribe();
    const [april] = await invoicesOf(c, s);
    await advance(c, T("2024-04-16", DAY));
    ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: tiny.guid, proration_behavior: "always_invoice" }));
    assert.equal(await endingBalance(c, customer), -1450);
    err(await c.api.post(`/v1/invoices/${april.guid}/refund`, { amount: "1551" }), 400, "amount");
    ok(await c.api.post(`/v1/invoices/${april.guid}/refund`, { amount: "1550" }));
  }
  // A downgrade's credit carried by an invoice that is then canceled is pending again, not lost.
  {
    const { c, customer, big, small } = await setup();
    const s = ok(await c.api.post("/v1/subscriptions", { plan_guid: big.guid, customer_guid: customer.guid, funding_instrument_uri: CARD }));
    await advance(c, T("2024-04-16", DAY));
    ok(await c.api.put(`/v1/subscriptions/${s.guid}`, { plan_guid: small.guid, funding_instrument_uri: "/v1/cards/hard_decline" }));
    await advance(c, T("2024-05-01", DAY));
    const may = (await invoicesOf(c, s)).at(-1);
    assert.deepEqual([may.status, may.effective_amount], ["failed", 1500]);
    ok(await c.api.post(`/v1/invoices/${may.guid}/cancel`, {}));
    assert.deepEqual((await sub(c, s)).pending_adjustments.map((a) => a.amount), [-3000, 1500]);
  }
});
