// Requests racing each other over one invoice while the processor takes its time (the simulator answering after
// 100 ms, like a remote processor): a merchant's new instrument, a buyer paying from the hosted page, a cancel and
// the scheduler's retry. Whatever the order, every charge the processor took is on our books, wanted ones kept and
// the others repaid, and only the invoice's own payments move its status.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { advance, call, newCompany, ok, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker({ bindings: { SIMULATOR_LATENCY_MS: "100" } }); });
after(async () => { await w?.stop(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** An invoice whose charge failed once and is retrying: paying it again asks the processor first. */
async function retryingInvoice() {
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const cu = ok(await c.api.post("/v1/customers", {}));
  const inv = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "1000", funding_instrument_uri: "/v1/cards/fail_once" }));
  assert.equal(inv.status, "processing");
  return { c, inv, token: inv.hosted_invoice_url.slice("/i/".length) };
}

/** What the processor kept and what our books say the invoice kept. */
async function books(c, inv) {
  const charges = ok(await c.api.get(`/v1/companies/${c.guid}/simulator`)).charges.filter((x) => x.status === "succeeded");
  const kept = charges.reduce((s, x) => s + (x.kind === "debit" ? x.amount : -x.amount), 0);
  const txs = ok(await c.api.get(`/v1/invoices/${inv.guid}/transactions`)).items;
  const recorded = txs.filter((t) => t.status === "succeeded")
    .reduce((s, t) => s + (t.transaction_type === "debit" ? t.amount : -t.amount), 0);
  return { status: ok(await c.api.get(`/v1/invoices/${inv.guid}`)).status, kept, recorded };
}

const hostedPay = (token, uri) => call(w.base, "POST", `/v1/hosted_invoices/${token}/pay`, { form: { funding_instrument_uri: uri } });

test("a merchant's new instrument (its answer lost) racing a buyer's payment: one payment kept, the other repaid", async () => {
  const { c, inv, token } = await retryingInvoice();
  await Promise.all([
    c.api.put(`/v1/invoices/${inv.guid}`, { funding_instrument_uri: "/v1/cards/lost_response" }),
    sleep(10).then(() => hostedPay(token, "/v1/cards/ok")),
  ]);
  await advance(c, "2024-01-10T00:00:00Z");
  const b = await books(c, inv);
  assert.equal(b.kept, b.recorded, JSON.stringify(b));
  assert.deepEqual([b.status, b.kept], ["settled", 1000]);
});

test("a buyer's payment (its answer lost) racing the merchant's cancel: the money found later is repaid", async () => {
  const { c, inv, token } = await retryingInvoice();
  await Promise.all([
    hostedPay(token, "/v1/cards/lost_response"),
    sleep(10).then(() => c.api.post(`/v1/invoices/${inv.guid}/cancel`, {})),
  ]);
  await advance(c, "2024-01-10T00:00:00Z");
  const b = await books(c, inv);
  assert.equal(b.kept, b.recorded, JSON.stringify(b));
  assert.ok(b.status === "canceled" ? b.kept === 0 : b.kept === 1000, JSON.stringify(b));
});

test("two payments at once: one kept, the duplicate repaid, and the kept one can still be refunded", async () => {
  const { c, inv, token } = await retryingInvoice();
  await Promise.all([
    c.api.put(`/v1/invoices/${inv.guid}`, { funding_instrument_uri: "/v1/cards/ok" }),
    sleep(10).then(() => hostedPay(token, "/v1/cards/ok")),
  ]);
  await advance(c, "2024-01-03T00:00:00Z");
  const b = await books(c, inv);
  assert.deepEqual([b.status, b.kept, b.recorded], ["settled", 1000, 1000]);
  ok(await c.api.post(`/v1/invoices/${inv.guid}/refund`, { amount: "1000" }));
  await advance(c, "2024-01-04T00:00:00Z");
  assert.equal((await books(c, inv)).kept, 0);
});

test("a new instrument racing the scheduler's retry: a repayment never settles the invoice", async () => {
  const { c, inv } = await retryingInvoice();
  const [put] = await Promise.all([
    c.api.put(`/v1/invoices/${inv.guid}`, { funding_instrument_uri: "/v1/cards/hard_decline" }),
    sleep(10).then(() => c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-01-01T01:00:00Z" })),
  ]);
  assert.ok(put.status === 200 || put.status === 409, JSON.stringify(put.body));
  await advance(c, "2024-01-03T00:00:00Z");
  const b = await books(c, inv);
  assert.equal(b.kept, b.recorded, JSON.stringify(b));
  assert.ok(b.status === "settled" ? b.kept === 1000 : b.kept === 0, JSON.stringify(b));
});
