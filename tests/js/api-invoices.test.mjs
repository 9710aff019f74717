// The Billy v1 API over HTTP, customer invoices: create (form exactly like the reference's curl, and JSON arrays),
// items and adjustments (both spellings), totals, every validation error, external_id (unique per customer,
// ?external_id= filter), update of the funding instrument in every state, refunds up to and past the limit
// (also concurrently), cancel in every state.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, TIME, advance, call, err, newCompany, ok, show, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const company = (clock = "2024-01-31T10:00:00Z") => newCompany(w.base, clock ? { clock } : {});
const putJson = (c, path, json) => call(w.base, "PUT", path, { key: c.key, json });
const INVOICE_KEYS = ["adjustments", "amount", "appears_on_statement_as", "created_at", "customer_guid", "effective_amount",
  "external_id", "funding_instrument_uri", "guid", "invoice_type", "items", "status", "title", "total_adjustment_amount",
  "transaction_type", "updated_at"];

async function setup() {
  const c = await company();
  const customer = ok(await c.api.post("/v1/customers", {}));
  return { c, customer };
}
const txsOf = async (c, iv) => ok(await c.api.get(`/v1/invoices/${iv.guid}/transactions?limit=100`)).items;
const ledgerOf = async (c) => ok(await c.api.get(`/v1/companies/${c.guid}/simulator`));

/** A settled debit invoice of `amount`. */
async function settled(c, customer, amount = 900) {
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: String(amount), funding_instrument_uri: CARD }));
  assert.equal(iv.status, "settled");
  return iv;
}

test("create an invoice form-encoded exactly like the reference's curl example", async () => {
  const { c, customer } = await setup();
  const iv = ok(await c.api.post("/v1/invoices", {
    customer_guid: customer.guid, amount: "1000", appears_on_statement_as: "FooBar Hosting",
    item_name1: "Hosting Service A", item_amount1: "1000", adjustments_amount1: "-100", adjustments_reason1: "Coupon discount",
  }));
  for (const k of INVOICE_KEYS) assert.ok(k in iv, `invoice has ${k}`);
  assert.match(iv.guid, /^IV[1-9A-HJ-NP-Za-km-z]{20,22}$/);
  assert.deepEqual(iv.adjustments, [{ amount: -100, reason: "Coupon discount" }]);
  assert.equal(iv.amount, 1000);
  assert.equal(iv.appears_on_statement_as, "FooBar Hosting");
  assert.equal(iv.customer_guid, customer.guid);
  assert.equal(iv.effective_amount, 900);
  assert.equal(iv.external_id, null);
  assert.equal(iv.funding_instrument_uri, null);
  assert.equal(iv.invoice_type, "customer");
  assert.deepEqual(iv.items, [{ amount: 1000, name: "Hosting Service A", quantity: null, type: null, unit: null, volume: null }]);
  assert.equal(iv.status, "staged");
  assert.equal(iv.title, null);
  assert.equal(iv.total_adjustment_amount, -100);
  assert.equal(iv.transaction_type, "debit");
  assert.match(iv.created_at, TIME);
  assert.deepEqual(ok(await c.api.get(`/v1/invoices/${iv.guid}`)), iv);
  assert.deepEqual(await txsOf(c, iv), [], "no instrument: no transaction");
});

test("items and adjustments: both spellings, many of each, JSON arrays; items never change the total", async () => {
  const { c, customer } = await setup();
  const form = ok(await c.api.post("/v1/invoices", {
    customer_guid: customer.guid, amount: "5000", title: "March hosting",
    item_name1: "Hosting Service A", item_amount1: "1000", item_type1: "Bandwidth", item_quantity1: "3",
    item_volume1: "10", item_unit1: "GB",
    item_name2: "Hosting Service B", item_amount2: "3000",
    adjustment_amount1: "-1000", adjustment_reason1: "Coupon discount",
    adjustment_amount2: "200", adjustment_reason2: "Setup fee",
  }));
  assert.equal(form.title, "March hosting");
  assert.equal(form.items.length, 2);
  assert.equal(form.items[0].name, "Hosting Service A");
  assert.equal(form.items[0].amount, 1000);
  assert.equal(form.items[0].type, "Bandwidth");
  assert.equal(form.items[0].unit, "GB");
  assert.ok(form.items[0].quantity == 3, `quantity ${form.items[0].quantity}`);
  assert.ok(form.items[0].volume == 10, `volume ${form.items[0].volume}`);
  assert.equal(form.items[1].name, "Hosting Service B");
  assert.equal(form.items[1].amount, 3000);
  assert.deepEqual(form.adjustments, [{ amount: -1000, reason: "Coupon discount" }, { amount: 200, reason: "Setup fee" }]);
  assert.equal(form.total_adjustment_amount, -800);
  assert.equal(form.effective_amount, 4200, "5000 - 1000 + 200; the items' 4000 does not count");

  const json = ok(await c.api.postJson("/v1/invoices", {
    customer_guid: customer.guid, amount: 1000,
    items: [{ name: "Widget", amount: 99999 }, { name: "Gadget", amount: 1, type: "thing", unit: "pcs" }],
    adjustments: [{ amount: -250, reason: "loyalty" }, { amount: 50 }],
  }));
  assert.equal(json.items.length, 2);
  assert.equal(json.items[0].name, "Widget");
  assert.equal(json.items[0].amount, 99999);
  assert.equal(json.items[1].unit, "pcs");
  assert.equal(json.adjustments.length, 2);
  assert.equal(json.adjustments[0].amount, -250);
  assert.equal(json.adjustments[0].reason, "loyalty");
  assert.equal(json.adjustments[1].amount, 50);
  assert.equal(json.adjustments[1].reason ?? null, null);
  assert.equal(json.total_adjustment_amount, -200);
  assert.equal(json.effective_amount, 800);

  const none = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "700" }));
  assert.deepEqual(none.items, []);
  assert.deepEqual(none.adjustments, []);
  assert.equal(none.total_adjustment_amount, 0);
  assert.equal(none.effective_amount, 700);
});

test("effective amount: below 0 rejected (message states the numbers), exactly 0 settles with no transaction", async () => {
  const { c, customer } = await setup();
  const e = err(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "100",
    adjustment_amount1: "-150" }), 400, "adjustments");
  assert.match(e.message, /150/);
  assert.match(e.message, /100/);
  assert.match(e.message, /-50/);
  err(await c.api.postJson("/v1/invoices", { customer_guid: customer.guid, amount: 100,
    adjustments: [{ amount: -60 }, { amount: -41 }] }), 400, "adjustments");
  assert.equal(ok(await c.api.get("/v1/invoices")).total_count, 0);

  const zero = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "100", adjustment_amount1: "-100",
    funding_instrument_uri: CARD }));
  assert.equal(zero.effective_amount, 0);
  assert.equal(zero.status, "settled");
  assert.deepEqual(await txsOf(c, zero), [], "nothing to charge");
  const free = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "0" }));
  assert.equal(free.status, "settled");
  assert.deepEqual(await txsOf(c, free), []);
  assert.deepEqual((await ledgerOf(c)).charges, []);
  // A settled zero invoice has nothing to refund.
  const r = await c.api.post(`/v1/invoices/${zero.guid}/refund`, { amount: "1" });
  assert.ok(r.status === 400 || r.status === 409, show(r));
});

test("with an instrument: processing → one transaction for the effective amount → settled", async () => {
  const { c, customer } = await setup();
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000", adjustments_amount1: "-100",
    appears_on_statement_as: "FooBar Hosting", funding_instrument_uri: CARD }));
  assert.equal(iv.status, "settled");
  assert.equal(iv.funding_instrument_uri, CARD);
  const [tx] = await txsOf(c, iv);
  assert.equal(tx.amount, 900);
  assert.equal(tx.transaction_type, "debit");
  assert.equal(tx.funding_instrument_uri, CARD);
  assert.equal(tx.appears_on_statement_as, "FooBar Hosting");
  assert.equal(tx.submit_status, "done");
  assert.equal(tx.status, "succeeded");
  assert.equal(tx.invoice_guid, iv.guid);
  const ledger = await ledgerOf(c);
  assert.equal(ledger.charges.length, 1);
  assert.equal(ledger.charges[0].idempotency_key, tx.guid);
  assert.equal(ledger.charges[0].amount, 900);
  assert.equal(ledger.charges[0].processor_uri, tx.processor_uri);
  // A pending instrument leaves the invoice processing.
  const p = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "500",
    funding_instrument_uri: "/v1/cards/pending" }));
  assert.equal(p.status, "processing");
});

test("invoice validation: each bad field is a 400 naming it; unknown customer 404", async () => {
  const { c, customer } = await setup();
  const base = { customer_guid: customer.guid, amount: "1000" };
  const cases = [
    [{ customer_guid: "" }, 400, "customer_guid"], [{ customer_guid: "CUnope" }, 404, "customer_guid"],
    [{ amount: "" }, 400, "amount"], [{ amount: "-1" }, 400, "amount"], [{ amount: "10.5" }, 400, "amount"],
    [{ amount: "ten" }, 400, "amount"], [{ amount: "9007199254740993" }, 400, "amount"],
    [{ title: "t".repeat(129) }, 400, "title"],
    [{ appears_on_statement_as: "1234567890123456789" }, 400, "appears_on_statement_as"],
    [{ appears_on_statement_as: "A\tB" }, 400, "appears_on_statement_as"],
    [{ appears_on_statement_as: "A\u0000B" }, 400, "appears_on_statement_as"],
    [{ appears_on_statement_as: "A*B" }, 400, "appears_on_statement_as"],
  ];
  for (const [patch, status, field] of cases) {
    const form = { ...base, ...patch };
    err(await c.api.post("/v1/invoices", form), status, field);
  }
  const { amount: _, ...noAmount } = base;
  err(await c.api.post("/v1/invoices", noAmount), 400, "amount");
  err(await c.api.post("/v1/invoices", { amount: "1000" }), 400, "customer_guid");
  const jsonCases = [
    [{ amount: 1e30 }, "amount"], [{ amount: 10.5 }, "amount"], [{ amount: false }, "amount"],
    [{ title: 12 }, "title"], [{ external_id: ["x"] }, "external_id"], [{ funding_instrument_uri: 1 }, "funding_instrument_uri"],
    [{ customer_guid: 5 }, "customer_guid"],
  ];
  for (const [patch, field] of jsonCases) err(await c.api.postJson("/v1/invoices", { ...base, amount: 1000, ...patch }), 400, field);
  // Malformed items / adjustments: 400 naming an item or adjustment field.
  const badParts = [
    { item_name1: "A", item_amount1: "ten" },
    { adjustment_amount1: "ten" },
    { adjustments_amount1: "1.5" },
  ];
  for (const patch of badParts) {
    const r = await c.api.post("/v1/invoices", { ...base, ...patch });
    err(r, 400);
    assert.match(String(r.body.error.field), /item|adjustment/, show(r));
  }
  for (const patch of [{ items: "nope" }, { items: [{ name: "A", amount: "x" }] }, { adjustments: [{ amount: 1.5 }] },
    { adjustments: { amount: 1 } }, { items: [5] }]) {
    const r = await c.api.postJson("/v1/invoices", { ...base, amount: 1000, ...patch });
    err(r, 400);
    assert.match(String(r.body.error.field), /item|adjustment/, show(r));
  }
  assert.equal(ok(await c.api.get("/v1/invoices")).total_count, 0, "nothing was created");
  assert.equal(ok(await c.api.post("/v1/invoices", { ...base, title: "t".repeat(128) })).title.length, 128);
});

test("external_id: unique per customer (409 naming it), reusable across customers, ?external_id= filter", async () => {
  const { c, customer } = await setup();
  const other = ok(await c.api.post("/v1/customers", {}));
  const a = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000", external_id: "order-1" }));
  assert.equal(a.external_id, "order-1");
  const dup = err(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "2000", external_id: "order-1" }),
    409, "external_id");
  assert.match(dup.message, /order-1/);
  const b = ok(await c.api.post("/v1/invoices", { customer_guid: other.guid, amount: "1000", external_id: "order-1" }));
  ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000", external_id: "order-2" }));
  ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000" }));
  const f = ok(await c.api.get("/v1/invoices?external_id=order-1"));
  assert.deepEqual(f.items.map((x) => x.guid), [b.guid, a.guid]);
  assert.equal(f.total_count, 2);
  const none = ok(await c.api.get("/v1/invoices?external_id=order-9"));
  assert.deepEqual(none.items, []);
  assert.equal(none.total_count, 0);
  assert.equal(ok(await c.api.get("/v1/invoices")).total_count, 4);
  // Concurrent creates with one new external_id: exactly one wins.
  const results = await Promise.all(Array.from({ length: 6 }, () =>
    c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "100", external_id: "race" })));
  assert.equal(results.filter((r) => r.status === 200 || r.status === 201).length, 1, results.map(show).join("\n"));
  for (const r of results) if (r.status >= 300) err(r, 409, "external_id");
  assert.equal(ok(await c.api.get("/v1/invoices?external_id=race")).total_count, 1);
});

test("form lines numbered from 0 (as Billy's clients send them), any number, ordered by it; bad suffix 400", async () => {
  const { c, customer } = await setup();
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000",
    item_name12: "Twelve", item_amount12: "12", item_name0: "Zero", item_amount0: "0", item_name3: "Three", item_amount3: "3",
    adjustment_amount0: "-100", adjustment_reason0: "coupon", adjustment_amount7: "25" }));
  assert.deepEqual(iv.items.map((i) => i.name), ["Zero", "Three", "Twelve"]);
  assert.deepEqual(iv.adjustments, [{ amount: -100, reason: "coupon" }, { amount: 25, reason: null }]);
  assert.equal(iv.effective_amount, 925);
  err(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000", item_name0: "A",
    "item_amount-1": "5" }), 400, "item_amount-1");
  const many = { customer_guid: customer.guid, amount: "1000" };
  for (let n = 0; n <= 100; n++) { many[`item_name${n}`] = `n${n}`; many[`item_amount${n}`] = "1"; }
  const tooMany = err(await c.api.post("/v1/invoices", many), 400, "items");
  assert.match(tooMany.message, /at most 100/);
  assert.equal(ok(await c.api.get("/v1/invoices")).total_count, 1, "refused invoices wrote nothing");
});

test("every invoice list honours ?external_id= and every customer list ?processor_uri=, nested or not", async () => {
  const { c, customer } = await setup();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", frequency: "monthly", amount: "500" }));
  const other = ok(await c.api.post("/v1/customers", { processor_uri: "/v1/customers/other" }));
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: other.guid }));
  const a = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "100", external_id: "x" }));
  ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "100", external_id: "y" }));
  ok(await c.api.post("/v1/invoices", { customer_guid: other.guid, amount: "100", external_id: "x" }));
  const guids = async (p) => ok(await c.api.get(p)).items.map((x) => x.guid);
  assert.deepEqual(await guids(`/v1/customers/${customer.guid}/invoices?external_id=x`), [a.guid]);
  assert.equal((await guids(`/v1/customers/${customer.guid}/invoices`)).length, 2);
  assert.deepEqual(await guids(`/v1/customers/${other.guid}/invoices?external_id=nope`), []);
  // Subscription invoices have no external_id: the filter finds none, without it there is the first period.
  assert.deepEqual(await guids(`/v1/subscriptions/${sub.guid}/invoices?external_id=x`), []);
  assert.equal((await guids(`/v1/subscriptions/${sub.guid}/invoices`)).length, 1);
  assert.deepEqual(await guids(`/v1/plans/${plan.guid}/invoices?external_id=x`), []);
  assert.equal((await guids("/v1/invoices?external_id=x")).length, 2);
  assert.deepEqual(await guids(`/v1/plans/${plan.guid}/customers?processor_uri=/v1/customers/other`), [other.guid]);
  assert.deepEqual(await guids(`/v1/plans/${plan.guid}/customers?processor_uri=/v1/customers/none`), []);
  assert.deepEqual(await guids("/v1/customers?processor_uri=/v1/customers/other"), [other.guid]);
});

test("invoice list newest first; retrieve unknown 404", async () => {
  const { c, customer } = await setup();
  const a = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "100" }));
  await advance(c, "2024-02-01T00:00:00Z");
  const b = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "200" }));
  const c3 = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "300" }));
  const list = ok(await c.api.get("/v1/invoices"));
  assert.deepEqual(list.items.map((x) => x.guid), [c3.guid, b.guid, a.guid]);
  assert.equal(list.total_count, 3);
  err(await c.api.get("/v1/invoices/IVnope"), 404);
  err(await c.api.get("/v1/invoices/IVnope/transactions"), 404);
});

// ---- update the funding instrument -------------------------------------------------------------------------

test("PUT funding_instrument_uri on a staged invoice (form like the reference's curl, and JSON) charges it", async () => {
  const { c, customer } = await setup();
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000", adjustments_amount1: "-100" }));
  await advance(c, "2024-02-01T00:00:00Z");
  const up = ok(await c.api.put(`/v1/invoices/${iv.guid}`, { funding_instrument_uri: CARD }));
  assert.equal(up.funding_instrument_uri, CARD);
  assert.equal(up.status, "settled");
  assert.equal(up.effective_amount, 900);
  assert.equal(up.updated_at, "2024-02-01T00:00:00.000000+00:00");
  const [tx] = await txsOf(c, iv);
  assert.equal(tx.amount, 900);
  assert.equal(tx.funding_instrument_uri, CARD);
  assert.equal(tx.status, "succeeded");
  // Settled → error, and nothing new is charged.
  err(await c.api.put(`/v1/invoices/${iv.guid}`, { funding_instrument_uri: "/v1/cards/other" }), 409);
  assert.equal((await txsOf(c, iv)).length, 1);
  assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).funding_instrument_uri, CARD);

  const j = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "700" }));
  const upj = ok(await putJson(c, `/v1/invoices/${j.guid}`, { funding_instrument_uri: CARD }));
  assert.equal(upj.status, "settled");
});

test("PUT validation: funding_instrument_uri required, a string, ≤ 255; unknown invoice 404", async () => {
  const { c, customer } = await setup();
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000" }));
  err(await c.api.put(`/v1/invoices/${iv.guid}`, {}), 400, "funding_instrument_uri");
  err(await c.api.put(`/v1/invoices/${iv.guid}`, { funding_instrument_uri: "" }), 400, "funding_instrument_uri");
  err(await c.api.put(`/v1/invoices/${iv.guid}`, { funding_instrument_uri: "x".repeat(256) }), 400, "funding_instrument_uri");
  err(await putJson(c, `/v1/invoices/${iv.guid}`, { funding_instrument_uri: 5 }), 400, "funding_instrument_uri");
  err(await putJson(c, `/v1/invoices/${iv.guid}`, { funding_instrument_uri: null }), 400, "funding_instrument_uri");
  err(await c.api.put("/v1/invoices/IVnope", { funding_instrument_uri: CARD }), 404);
  const still = ok(await c.api.get(`/v1/invoices/${iv.guid}`));
  assert.equal(still.status, "staged");
  assert.equal(still.funding_instrument_uri, null);
  assert.deepEqual(await txsOf(c, iv), []);
});

test("PUT on a failed invoice (hard decline) submits a new transaction with the new instrument", async () => {
  const { c, customer } = await setup();
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000",
    funding_instrument_uri: "/v1/cards/hard_decline" }));
  assert.equal(iv.status, "failed");
  const up = ok(await c.api.put(`/v1/invoices/${iv.guid}`, { funding_instrument_uri: CARD }));
  assert.equal(up.status, "settled");
  assert.equal(up.funding_instrument_uri, CARD);
  const txs = await txsOf(c, iv);
  assert.equal(txs.length, 2);
  assert.equal(txs[0].funding_instrument_uri, CARD);
  assert.equal(txs[0].status, "succeeded");
  assert.equal(txs[1].funding_instrument_uri, "/v1/cards/hard_decline");
  assert.equal(txs[1].submit_status, "failed");
  assert.equal(txs[1].status, "failed");
});

test("PUT on a processing invoice cancels this invoice's retrying transaction only, and submits a new one", async () => {
  const { c, customer } = await setup();
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000",
    funding_instrument_uri: "/v1/cards/fail_once" }));
  const bystander = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "2000",
    funding_instrument_uri: "/v1/cards/fail_once/other" }));
  assert.equal(iv.status, "processing");
  const [old] = await txsOf(c, iv);
  assert.equal(old.submit_status, "retrying");
  const up = ok(await c.api.put(`/v1/invoices/${iv.guid}`, { funding_instrument_uri: CARD }));
  assert.equal(up.status, "settled");
  const txs = await txsOf(c, iv);
  assert.equal(txs.length, 2);
  const oldNow = txs.find((t) => t.guid === old.guid);
  assert.equal(oldNow.submit_status, "canceled");
  const fresh = txs.find((t) => t.guid !== old.guid);
  assert.equal(fresh.funding_instrument_uri, CARD);
  assert.equal(fresh.status, "succeeded");
  assert.equal(fresh.amount, 1000);
  const [b] = await txsOf(c, bystander);
  assert.equal(b.submit_status, "retrying", "the other invoice's transaction is untouched");
  // The canceled transaction is never retried: after its retry time only the bystander is charged.
  await advance(c, "2024-02-02T00:00:00Z");
  assert.equal((await txsOf(c, iv)).find((t) => t.guid === old.guid).submit_status, "canceled");
  assert.equal(ok(await c.api.get(`/v1/invoices/${bystander.guid}`)).status, "settled");
  const ledger = await ledgerOf(c);
  assert.ok(!ledger.charges.some((x) => x.idempotency_key === old.guid), "canceled transaction never charged");
  assert.equal(ledger.charges.filter((x) => x.idempotency_key === fresh.guid).length, 1);
});

test("PUT on an invoice whose charge is pending at the processor never leads to a double charge", async () => {
  const { c, customer } = await setup();
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000",
    funding_instrument_uri: "/v1/cards/pending" }));
  assert.equal(iv.status, "processing");
  const put = await c.api.put(`/v1/invoices/${iv.guid}`, { funding_instrument_uri: CARD });
  assert.equal(err(put, 409).code, "payment_pending");
  await advance(c, "2024-02-01T00:00:00Z");
  const final = ok(await c.api.get(`/v1/invoices/${iv.guid}`));
  assert.equal(final.status, "settled");
  const txs = await txsOf(c, iv);
  const ledger = await ledgerOf(c);
  const moved = ledger.charges.filter((x) => txs.some((t) => t.guid === x.idempotency_key) && x.status === "succeeded")
    .reduce((s, x) => s + x.amount, 0);
  assert.equal(moved, 1000, `charged ${moved} for a 1000 invoice`);
});

// ---- refunds -----------------------------------------------------------------------------------------------

test("refunds up to the effective amount; past it → 400 whose message states the numbers", async () => {
  const { c, customer } = await setup();
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000", adjustments_amount1: "-100",
    funding_instrument_uri: CARD }));
  assert.equal(iv.effective_amount, 900);
  // Like the reference's curl: amount=1000 on a 900 invoice is too much.
  const tooMuch = err(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "1000" }), 400, "amount");
  assert.match(tooMuch.message, /\b1000\b/);
  assert.match(tooMuch.message, /\b900\b/);
  const r1 = ok(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "500" }));
  assert.equal(r1.guid, iv.guid);
  assert.equal(r1.status, "settled", "a refund leaves the invoice settled");
  const r2 = ok(await c.api.postJson(`/v1/invoices/${iv.guid}/refund`, { amount: 400 }));
  assert.equal(r2.status, "settled");
  const over = err(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "1" }), 400, "amount");
  assert.equal(over.code, "refund_exceeds_amount");
  for (const n of ["900", "901"]) assert.match(over.message, new RegExp(`\\b${n}\\b`), over.message);
  const txs = await txsOf(c, iv);
  assert.deepEqual(txs.map((t) => [t.transaction_type, t.amount]), [["refund", 400], ["refund", 500], ["debit", 900]]);
  const debit = txs[2];
  for (const r of txs.slice(0, 2)) {
    assert.equal(r.reference_guid, debit.guid, "the refund references the debit");
    assert.equal(r.invoice_guid, iv.guid);
    assert.equal(r.submit_status, "done");
    assert.equal(r.status, "succeeded");
    assert.equal(r.funding_instrument_uri, CARD);
  }
  const ledger = await ledgerOf(c);
  const refunds = ledger.charges.filter((x) => x.kind === "refund");
  assert.equal(refunds.length, 2);
  assert.equal(refunds.reduce((s, x) => s + x.amount, 0), 900);
  for (const r of refunds) assert.equal(r.reference_processor_uri, debit.processor_uri);
});

test("refund validation and states: amount required, ≥ 1, integer; only settled debit invoices", async () => {
  const { c, customer } = await setup();
  const iv = await settled(c, customer, 900);
  for (const amount of [undefined, "", "0", "-5", "1.5", "abc", "1e30", "9007199254740993"]) {
    err(await c.api.post(`/v1/invoices/${iv.guid}/refund`, amount === undefined ? {} : { amount }), 400, "amount");
  }
  err(await c.api.postJson(`/v1/invoices/${iv.guid}/refund`, { amount: 1e30 }), 400, "amount");
  err(await c.api.postJson(`/v1/invoices/${iv.guid}/refund`, { amount: true }), 400, "amount");
  assert.equal((await txsOf(c, iv)).length, 1, "no refund was created");
  err(await c.api.post("/v1/invoices/IVnope/refund", { amount: "1" }), 404);

  const staged = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "900" }));
  err(await c.api.post(`/v1/invoices/${staged.guid}/refund`, { amount: "100" }), 409);
  const processing = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "900",
    funding_instrument_uri: "/v1/cards/pending" }));
  err(await c.api.post(`/v1/invoices/${processing.guid}/refund`, { amount: "100" }), 409);
  const failed = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "900",
    funding_instrument_uri: "/v1/cards/hard_decline" }));
  err(await c.api.post(`/v1/invoices/${failed.guid}/refund`, { amount: "100" }), 409);
  const canceled = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "900" }));
  ok(await c.api.post(`/v1/invoices/${canceled.guid}/cancel`, {}));
  err(await c.api.post(`/v1/invoices/${canceled.guid}/refund`, { amount: "100" }), 409);
  for (const x of [staged, processing, failed, canceled]) {
    assert.ok(!(await txsOf(c, x)).some((t) => t.transaction_type === "refund"));
  }
  // A credit (payout) invoice is never refunded.
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "credit", amount: "900", frequency: "monthly" }));
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid,
    funding_instrument_uri: "/v1/bank_accounts/BA1" }));
  const [credit] = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/invoices`)).items;
  assert.equal(credit.status, "settled");
  const r = await c.api.post(`/v1/invoices/${credit.guid}/refund`, { amount: "100" });
  assert.equal(err(r, 409).code, "invalid_state");
  assert.ok(!(await txsOf(c, credit)).some((t) => t.transaction_type === "refund"));
});

test("a settled subscription invoice can be refunded too", async () => {
  const { c, customer } = await setup();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly" }));
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid, funding_instrument_uri: CARD }));
  const [iv] = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/invoices`)).items;
  ok(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "500" }));
  err(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "1" }), 400, "amount");
  const txs = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/transactions`)).items;
  assert.deepEqual(txs.map((t) => t.transaction_type), ["refund", "debit"]);
});

test("concurrency: 10 parallel refunds of 100 on a 900 invoice → exactly 9 accepted, Σ refunds = 900", async () => {
  const { c, customer } = await setup();
  const iv = await settled(c, customer, 900);
  const results = await Promise.all(Array.from({ length: 10 }, () =>
    c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "100" })));
  const accepted = results.filter((r) => r.status >= 200 && r.status < 300);
  const refused = results.filter((r) => r.status >= 300);
  assert.equal(accepted.length, 9, results.map(show).join("\n"));
  assert.equal(refused.length, 1);
  err(refused[0], 400, "amount");
  const refunds = (await txsOf(c, iv)).filter((t) => t.transaction_type === "refund");
  assert.equal(refunds.length, 9);
  assert.equal(refunds.reduce((s, t) => s + t.amount, 0), 900);
  const ledger = await ledgerOf(c);
  const moved = ledger.charges.filter((x) => x.kind === "refund").reduce((s, x) => s + x.amount, 0);
  assert.ok(moved <= 900, `refunded ${moved}`);
  assert.equal(moved, 900);
});

test("concurrency: mixed parallel refunds never exceed the effective amount", async () => {
  const { c, customer } = await setup();
  const iv = await settled(c, customer, 1000);
  const amounts = [300, 300, 300, 300, 250, 150, 99, 1, 700, 50];
  const results = await Promise.all(amounts.map((a) => c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: String(a) })));
  for (const r of results) assert.ok(r.status === 200 || r.status === 400, show(r));
  const refunds = (await txsOf(c, iv)).filter((t) => t.transaction_type === "refund");
  const total = refunds.reduce((s, t) => s + t.amount, 0);
  assert.ok(total <= 1000, `Σ refunds ${total} > 1000`);
  assert.equal(refunds.length, results.filter((r) => r.status === 200).length);
});

// ---- cancel ------------------------------------------------------------------------------------------------

test("cancel: staged, processing (retrying) and failed invoices; settled and canceled → 409", async () => {
  const { c, customer } = await setup();
  const staged = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "100" }));
  const c1 = ok(await call(w.base, "POST", `/v1/invoices/${staged.guid}/cancel`, { key: c.key }));
  assert.equal(c1.status, "canceled");
  err(await c.api.post(`/v1/invoices/${staged.guid}/cancel`, {}), 409);
  err(await c.api.put(`/v1/invoices/${staged.guid}`, { funding_instrument_uri: CARD }), 409);
  assert.deepEqual(await txsOf(c, staged), []);

  const retrying = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "200",
    funding_instrument_uri: "/v1/cards/fail_once" }));
  assert.equal(retrying.status, "processing");
  const [rt] = await txsOf(c, retrying);
  assert.equal(rt.submit_status, "retrying");
  assert.equal(ok(await c.api.post(`/v1/invoices/${retrying.guid}/cancel`, {})).status, "canceled");
  assert.equal((await txsOf(c, retrying))[0].submit_status, "canceled");
  await advance(c, "2024-02-10T00:00:00Z");
  assert.equal(ok(await c.api.get(`/v1/invoices/${retrying.guid}`)).status, "canceled", "no retry after cancel");
  assert.equal((await txsOf(c, retrying))[0].submit_status, "canceled");
  assert.ok(!(await ledgerOf(c)).charges.some((x) => x.idempotency_key === rt.guid), "never charged");

  const failed = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "300",
    funding_instrument_uri: "/v1/cards/hard_decline" }));
  assert.equal(failed.status, "failed");
  assert.equal(ok(await c.api.post(`/v1/invoices/${failed.guid}/cancel`, {})).status, "canceled");

  const done = await settled(c, customer, 400);
  err(await c.api.post(`/v1/invoices/${done.guid}/cancel`, {}), 409);
  assert.equal(ok(await c.api.get(`/v1/invoices/${done.guid}`)).status, "settled");
  err(await c.api.post("/v1/invoices/IVnope/cancel", {}), 404);
});
