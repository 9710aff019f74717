// Escrow orders over HTTP: the seed's crowdfunding walkthrough, Balanced's own cases, every rejection, concurrency
// that never pays out more than came in, and another company's key seeing nothing. After every step the stored
// balances equal the core's fold over the order's listed transactions.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, advance, client, err, newCompany, ok, show, startWorker } from "./harness.mjs";
import { escrowBalances } from "./core.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const company = () => newCompany(w.base, { clock: "2024-05-01T12:00:00Z" });

async function setup() {
  const c = await company();
  const merchant = ok(await c.api.post("/v1/customers", { processor_uri: "/v1/bank_accounts/joe" }));
  const buyer = ok(await c.api.post("/v1/customers", {}));
  const order = ok(await c.api.post(`/v1/customers/${merchant.guid}/orders`, { description: "Joe's campaign" }));
  return { c, merchant, buyer, order };
}

/** The order as stored, checked against the core's fold over every one of its transactions. */
async function balances(c, order) {
  const o = ok(await c.api.get(`/v1/orders/${order.guid}`));
  const txs = ok(await c.api.get(`/v1/orders/${order.guid}/transactions?limit=100`)).items;
  const fold = escrowBalances(txs);
  assert.deepEqual({ amount: o.amount, amount_escrowed: o.amount_escrowed, amount_credited: o.amount_credited }, fold,
    "stored balances = recomputed from the movements");
  assert.ok(o.amount_escrowed >= 0);
  return o;
}

const debit = (c, order, buyer, amount, fi = CARD) =>
  c.api.post(`/v1/orders/${order.guid}/debits`, { customer_guid: buyer.guid, amount: String(amount), funding_instrument_uri: fi });

test("the seed's walkthrough: a campaign's order, buyers' debits, a refund, a 10% payout, nothing more to pay", async () => {
  const { c, merchant, order } = await setup();
  assert.deepEqual([order.merchant_guid, order.currency, order.amount, order.amount_escrowed, order.amount_credited],
    [merchant.guid, "USD", 0, 0, 0]);
  assert.ok(order.guid.startsWith("OR"));
  const buyers = [];
  for (let i = 0; i < 4; i++) buyers.push(ok(await c.api.post("/v1/customers", {})));
  const a = ok(await debit(c, order, buyers[0], 1000));
  assert.deepEqual([a.transaction_type, a.order_guid, a.customer_guid, a.status, a.currency, a.description],
    ["debit", order.guid, buyers[0].guid, "succeeded", "USD", "Joe's campaign"]);
  const b = ok(await debit(c, order, buyers[1], 2000, "/v1/cards/pending"));
  assert.equal(b.status, "pending");
  const declined = ok(await debit(c, order, buyers[2], 500, "/v1/cards/hard_decline"));
  assert.equal(declined.submit_status, "failed");
  const d = ok(await debit(c, order, buyers[3], 1500));
  let o = await balances(c, order);
  assert.deepEqual([o.amount, o.amount_escrowed], [2500, 2500], "the pending debit holds nothing yet, the declined never");
  await advance(c, "2024-05-01T13:00:00Z");
  o = await balances(c, order);
  assert.deepEqual([o.amount, o.amount_escrowed], [4500, 4500], "the pending debit settled through the test clock");
  const refund = ok(await c.api.post(`/v1/transactions/${d.guid}/refunds`, { amount: "500" }));
  assert.deepEqual([refund.transaction_type, refund.reference_guid, refund.order_guid, refund.amount, refund.status],
    ["refund", d.guid, order.guid, 500, "succeeded"]);
  o = await balances(c, order);
  assert.deepEqual([o.amount, o.amount_escrowed], [4000, 4000]);
  const payout = ok(await c.api.post(`/v1/orders/${order.guid}/payout`, { fee_rate: "0.10" }));
  assert.deepEqual(payout.credits.map((x) => [x.destination, x.amount, x.transaction_type]),
    [["marketplace", 400, "credit"], ["merchant", 3600, "credit"]]);
  assert.equal(payout.credits[1].customer_guid, merchant.guid);
  assert.equal(payout.credits[1].funding_instrument_uri, "/v1/bank_accounts/joe", "the merchant's own account");
  assert.deepEqual([payout.order.amount_escrowed, payout.order.amount_credited], [0, 4000]);
  o = await balances(c, order);
  assert.equal(o.amount_escrowed, 0);
  const more = err(await c.api.post(`/v1/orders/${order.guid}/credits`, { amount: "1" }), 409, "amount");
  assert.equal(more.code, "insufficient_funds");
  assert.equal(more.message, "insufficient funds: 1 requested, 0 available in escrow");
  assert.equal(err(await c.api.post(`/v1/orders/${order.guid}/payout`, { fee_rate: "0.1" }), 409).code, "insufficient_funds");
  // The lists.
  const list = async (p) => ok(await c.api.get(`/v1/orders/${order.guid}/${p}`));
  assert.equal((await list("debits")).total_count, 4);
  assert.equal((await list("credits")).total_count, 2);
  assert.equal((await list("refunds")).items[0].guid, refund.guid);
  assert.equal((await list("reversals")).total_count, 0);
  assert.equal((await list("transactions")).total_count, 7);
  assert.deepEqual((await list("buyers")).items.map((x) => x.guid).sort(),
    [buyers[0].guid, buyers[1].guid, buyers[3].guid].sort(), "the declined buyer never debited");
  assert.deepEqual(ok(await c.api.get(`/v1/customers/${merchant.guid}/orders`)).items.map((x) => x.guid), [order.guid]);
  // The processor moved exactly what we recorded.
  const ledger = ok(await c.api.get(`/v1/companies/${c.guid}/simulator`)).charges;
  const moved = (kind) => ledger.filter((x) => x.kind === kind && x.status === "succeeded").reduce((s, x) => s + x.amount, 0);
  assert.deepEqual([moved("debit"), moved("refund"), moved("credit")], [4500, 500, 4000]);
});

test("Balanced's cases: over-credit refused, credit to zero, reversal restores, refund after payout, full refund, failed credit", async () => {
  const { c, buyer, order } = await setup();
  ok(await debit(c, order, buyer, 1234));
  const e = err(await c.api.post(`/v1/orders/${order.guid}/credits`, { amount: "2000" }), 409, "amount");
  assert.equal(e.message, "insufficient funds: 2000 requested, 1234 available in escrow");

  const s2 = await setup();
  const d2 = ok(await debit(s2.c, s2.order, s2.buyer, 10000));
  const cr = ok(await s2.c.api.post(`/v1/orders/${s2.order.guid}/credits`, { amount: "10000" }));
  assert.equal((await balances(s2.c, s2.order)).amount_escrowed, 0);
  // Refund after a full payout: the money is no longer in the order.
  assert.equal(err(await s2.c.api.post(`/v1/transactions/${d2.guid}/refunds`, {}), 409, "amount").code, "insufficient_funds");
  const rv = ok(await s2.c.api.post(`/v1/transactions/${cr.guid}/reversals`, {}));
  assert.deepEqual([rv.transaction_type, rv.amount, rv.reference_guid, rv.status], ["reversal", 10000, cr.guid, "succeeded"]);
  let o = await balances(s2.c, s2.order);
  assert.deepEqual([o.amount_escrowed, o.amount_credited], [10000, 0], "a full reversal restores the escrow");
  assert.equal(err(await s2.c.api.post(`/v1/transactions/${cr.guid}/reversals`, {}), 409).code, "invalid_state",
    "a fully reversed credit");

  const s3 = await setup();
  const d3 = ok(await debit(s3.c, s3.order, s3.buyer, 800));
  ok(await s3.c.api.post(`/v1/transactions/${d3.guid}/refunds`, {}));
  o = await balances(s3.c, s3.order);
  assert.deepEqual([o.amount, o.amount_escrowed], [0, 0], "a full refund");
  assert.equal(err(await s3.c.api.post(`/v1/transactions/${d3.guid}/refunds`, {}), 409).code, "invalid_state",
    "a fully refunded debit");

  const s4 = await setup();
  ok(await debit(s4.c, s4.order, s4.buyer, 900));
  const failed = ok(await s4.c.api.post(`/v1/orders/${s4.order.guid}/credits`,
    { amount: "600", funding_instrument_uri: "/v1/bank_accounts/hard_decline" }));
  assert.equal(failed.submit_status, "failed");
  o = await balances(s4.c, s4.order);
  assert.deepEqual([o.amount_escrowed, o.amount_credited], [900, 0], "a failed credit returns its amount");
  // A retrying credit counts until it ends; when it finally fails, the amount returns.
  const retrying = ok(await s4.c.api.post(`/v1/orders/${s4.order.guid}/credits`,
    { amount: "700", funding_instrument_uri: "/v1/bank_accounts/always_error" }));
  assert.equal(retrying.submit_status, "retrying");
  assert.equal((await balances(s4.c, s4.order)).amount_escrowed, 200);
  ok(await s4.c.api.put(`/v1/companies/${s4.c.guid}`, { max_retry_attempts: "2" }));
  await advance(s4.c, "2024-05-02T12:00:00Z");
  assert.equal((await balances(s4.c, s4.order)).amount_escrowed, 900);
});

test("rejections: each a clear 4xx naming the field; nothing half-written", async () => {
  const { c, merchant, buyer, order } = await setup();
  err(await c.api.post("/v1/orders", {}), 400, "merchant_guid");
  err(await c.api.post("/v1/orders", { merchant_guid: "CUnope" }), 404, "merchant_guid");
  err(await c.api.post("/v1/customers/CUnope/orders", {}), 404);
  err(await c.api.post("/v1/orders", { merchant_guid: merchant.guid, currency: "QQQ" }), 400, "currency");
  err(await c.api.post("/v1/orders", { merchant_guid: merchant.guid, description: "x".repeat(256) }), 400, "description");
  const jpy = ok(await c.api.post("/v1/orders", { merchant_guid: merchant.guid, currency: "jpy" }));
  assert.equal(jpy.currency, "JPY");
  const jd = ok(await debit(c, jpy, buyer, 500));
  assert.equal(jd.currency, "JPY");
  for (const amount of ["0", "-1", "1.5", "", "9007199254740992", "ten"]) {
    err(await c.api.post(`/v1/orders/${order.guid}/debits`, { customer_guid: buyer.guid, amount, funding_instrument_uri: CARD }),
      400, "amount");
    err(await c.api.post(`/v1/orders/${order.guid}/credits`, { amount }), amount === "" ? 400 : 400, "amount");
  }
  err(await c.api.post(`/v1/orders/${order.guid}/debits`, { customer_guid: merchant.guid, amount: "5", funding_instrument_uri: CARD }),
    400, "customer_guid");
  err(await c.api.post(`/v1/orders/${order.guid}/debits`, { customer_guid: "CUnope", amount: "5", funding_instrument_uri: CARD }),
    404, "customer_guid");
  err(await c.api.post(`/v1/orders/${order.guid}/debits`, { customer_guid: buyer.guid, amount: "5" }), 400,
    "funding_instrument_uri");
  err(await c.api.post(`/v1/orders/${order.guid}/credits`, { amount: "5", destination: "bob" }), 400, "destination");
  err(await c.api.post(`/v1/orders/${order.guid}/payout`, { fee_rate: "1.5" }), 400, "fee_rate");
  err(await c.api.post(`/v1/orders/${order.guid}/payout`, { fee_rate: "0.1", fee_amount: "5" }), 400, "fee_rate");
  const pending = ok(await debit(c, order, buyer, 300, "/v1/cards/pending"));
  assert.equal(err(await c.api.post(`/v1/transactions/${pending.guid}/refunds`, {}), 409).code, "invalid_state");
  const settled = ok(await debit(c, order, buyer, 300));
  const over = err(await c.api.post(`/v1/transactions/${settled.guid}/refunds`, { amount: "301" }), 409, "amount");
  assert.equal(over.code, "exceeds_remaining");
  assert.equal(over.message, "301 requested, but only 300 remains of this debit");
  assert.equal(err(await c.api.post(`/v1/transactions/${settled.guid}/reversals`, {}), 409).code, "invalid_state");
  // An invoice's payment is refunded through its invoice.
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: buyer.guid, amount: "900", funding_instrument_uri: CARD }));
  const [ivTx] = ok(await c.api.get(`/v1/invoices/${iv.guid}/transactions`)).items;
  assert.match(err(await c.api.post(`/v1/transactions/${ivTx.guid}/refunds`, {}), 409).message, /invoice/);
  err(await c.api.post("/v1/transactions/TXnope/refunds", {}), 404);
  err(await c.api.get("/v1/orders/ORnope"), 404);
  err(await c.api.get("/v1/orders/ORnope/debits"), 404);
  // Update: description and delivery address only.
  const upd = ok(await c.api.put(`/v1/orders/${order.guid}`, { delivery_address: "1 Main St, Springfield", amount: "99999" }));
  assert.deepEqual([upd.delivery_address, upd.description, upd.amount], ["1 Main St, Springfield", "Joe's campaign", 300]);
  err(await c.api.put(`/v1/orders/${order.guid}`, { delivery_address: "x".repeat(501) }), 400, "delivery_address");
  // A deleted merchant takes no new debits and no new orders.
  ok(await c.api.del(`/v1/customers/${merchant.guid}`));
  assert.equal(err(await debit(c, order, buyer, 5), 409).code, "merchant_deleted");
  err(await c.api.post(`/v1/customers/${merchant.guid}/orders`, {}), 409);
  err(await c.api.post("/v1/orders", { merchant_guid: merchant.guid }), 409, "merchant_guid");
  await balances(c, order);
});

test("concurrency: 50 credits of 100 against 1,000 → exactly 10; 20 refunds on one debit never exceed it", async () => {
  const { c, buyer, order } = await setup();
  ok(await debit(c, order, buyer, 1000));
  const results = await Promise.all(Array.from({ length: 50 }, () =>
    c.api.post(`/v1/orders/${order.guid}/credits`, { amount: "100" })));
  assert.ok(results.every((r) => r.status === 200 || r.status === 409), results.map(show).join("\n"));
  assert.equal(results.filter((r) => r.status === 200).length, 10);
  for (const r of results.filter((x) => x.status === 409)) assert.equal(r.body.error.code, "insufficient_funds");
  assert.equal((await balances(c, order)).amount_escrowed, 0);

  const s = await setup();
  const d = ok(await debit(s.c, s.order, s.buyer, 1000));
  const refunds = await Promise.all(Array.from({ length: 20 }, () =>
    s.c.api.post(`/v1/transactions/${d.guid}/refunds`, { amount: "100" })));
  assert.ok(refunds.every((r) => r.status === 200 || r.status === 409), refunds.map(show).join("\n"));
  assert.equal(refunds.filter((r) => r.status === 200).length, 10);
  const o = await balances(s.c, s.order);
  assert.deepEqual([o.amount, o.amount_escrowed], [0, 0]);
  const ledger = ok(await s.c.api.get(`/v1/companies/${s.c.guid}/simulator`)).charges;
  assert.equal(ledger.filter((x) => x.kind === "refund").reduce((t, x) => t + x.amount, 0), 1000);
});

test("a payout replayed with its Idempotency-Key pays once", async () => {
  const { c, buyer, order } = await setup();
  ok(await debit(c, order, buyer, 1000));
  const h = { headers: { "idempotency-key": "payout-1" } };
  const [a, b] = [await c.api.post(`/v1/orders/${order.guid}/payout`, { fee_rate: "0.25" }, h),
    await c.api.post(`/v1/orders/${order.guid}/payout`, { fee_rate: "0.25" }, h)];
  assert.deepEqual(ok(b), ok(a));
  assert.equal(b.headers.get("idempotent-replayed"), "true");
  assert.equal(ok(await c.api.get(`/v1/orders/${order.guid}/credits`)).total_count, 2);
  assert.deepEqual(ok(a).credits.map((x) => x.amount), [250, 750]);
});

test("another company's key sees none of it: every order endpoint is 404 and nothing changes", async () => {
  const { c, buyer, order, merchant } = await setup();
  const d = ok(await debit(c, order, buyer, 1000));
  const cr = ok(await c.api.post(`/v1/orders/${order.guid}/credits`, { amount: "100" }));
  const other = await company();
  const o = other.api;
  const gets = [`/v1/orders/${order.guid}`, `/v1/customers/${merchant.guid}/orders`,
    ...["debits", "credits", "refunds", "reversals", "transactions", "buyers"].map((x) => `/v1/orders/${order.guid}/${x}`)];
  for (const p of gets) err(await o.get(p), 404);
  err(await o.put(`/v1/orders/${order.guid}`, { description: "mine" }), 404);
  err(await o.post(`/v1/orders/${order.guid}/debits`, { customer_guid: buyer.guid, amount: "5", funding_instrument_uri: CARD }), 404);
  err(await o.post(`/v1/orders/${order.guid}/credits`, { amount: "5" }), 404);
  err(await o.post(`/v1/orders/${order.guid}/payout`, {}), 404);
  err(await o.post(`/v1/transactions/${d.guid}/refunds`, {}), 404);
  err(await o.post(`/v1/transactions/${cr.guid}/reversals`, {}), 404);
  err(await o.post("/v1/orders", { merchant_guid: merchant.guid }), 404, "merchant_guid");
  const after = await balances(c, order);
  assert.deepEqual([after.amount, after.amount_escrowed, after.description], [1000, 900, "Joe's campaign"]);
  assert.equal(ok(await o.get("/v1/orders")).total_count, 0);
});

/** Money the processor moved, by kind, from its own ledger. */
const moved = async (c, kind) => ok(await c.api.get(`/v1/companies/${c.guid}/simulator`)).charges
  .filter((x) => x.kind === kind && x.status === "succeeded").reduce((s, x) => s + x.amount, 0);

test("money going out whose last attempt got no answer stays counted until the processor is asked: nothing is paid out, refunded or reversed twice", async () => {
  const c = await newCompany(w.base, { clock: "2024-05-01T12:00:00Z" });
  ok(await c.api.put(`/v1/companies/${c.guid}`, { max_retry_attempts: "1" }));
  const merchant = ok(await c.api.post("/v1/customers", { processor_uri: "/v1/bank_accounts/joe" }));
  const buyer = ok(await c.api.post("/v1/customers", {}));
  const o = ok(await c.api.post(`/v1/customers/${merchant.guid}/orders`, {}));
  ok(await c.api.post(`/v1/orders/${o.guid}/debits`, { customer_guid: buyer.guid, amount: "1000", funding_instrument_uri: CARD }));
  // The credit's only attempt took the money but its answer was lost: failed, to be reconciled.
  const lost = ok(await c.api.post(`/v1/orders/${o.guid}/credits`, { amount: "1000", funding_instrument_uri: "/v1/bank_accounts/lost_response" }));
  assert.equal(lost.status, "failed");
  assert.equal(ok(await c.api.get(`/v1/orders/${o.guid}`)).amount_escrowed, 0, "still counted as going out");
  const second = await c.api.post(`/v1/orders/${o.guid}/credits`, { amount: "1000" });
  assert.equal(second.status, 409);
  await advance(c, "2024-05-01T15:00:00Z");
  assert.equal(await moved(c, "credit"), 1000);
  const order = ok(await c.api.get(`/v1/orders/${o.guid}`));
  assert.deepEqual([order.amount_escrowed, order.amount_credited], [0, 1000], "the reconciliation found the payout");
  assert.deepEqual(ok(await c.api.get(`/v1/companies/${c.guid}/scheduler`)).failures ?? [], []);
  // The same for an invoice's refund, whose instrument loses the answer of its only attempt.
  const cu = ok(await c.api.post("/v1/customers", {}));
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "1000", funding_instrument_uri: "/v1/cards/lost_response" }));
  await advance(c, "2024-05-01T16:00:00Z");
  assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status, "settled");
  ok(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "1000" }));
  err(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "1000" }), 400, "amount");
  await advance(c, "2024-05-01T19:00:00Z");
  assert.equal(await moved(c, "refund"), 1000);
});

test("a debit whose success could not be recorded is refused before the processor is called", async () => {
  const c = await newCompany(w.base, { clock: "2024-05-01T12:00:00Z" });
  const merchant = ok(await c.api.post("/v1/customers", {}));
  const buyer = ok(await c.api.post("/v1/customers", {}));
  const o = ok(await c.api.post(`/v1/customers/${merchant.guid}/orders`, {}));
  const max = { customer_guid: buyer.guid, amount: "9007199254740991", funding_instrument_uri: CARD };
  ok(await c.api.post(`/v1/orders/${o.guid}/debits`, max));
  err(await c.api.post(`/v1/orders/${o.guid}/debits`, { ...max, amount: "1" }), 400, "amount");
  await advance(c, "2024-05-01T13:00:00Z");
  assert.equal(ok(await c.api.get(`/v1/companies/${c.guid}/simulator`)).charges.length, 1, "charged once");
  assert.equal(ok(await c.api.get(`/v1/orders/${o.guid}`)).amount_escrowed, 9007199254740991);
});
