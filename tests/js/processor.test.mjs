// The processor boundary: a charge whose answer is lost is retried with the same idempotency key and recorded
// once — the double-charge scenario of every payments system.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { advance, newCompany, ok, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w.stop(); });

test("a lost processor answer is retried with the same key and charges exactly once", async () => {
  const c = await newCompany(w.base, { clock: "2024-05-01T12:00:00Z" });
  const customer = ok(await c.api.post("/v1/customers", {}));
  const inv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "4200",
    funding_instrument_uri: "/v1/cards/lost_response" }));
  assert.equal(inv.status, "processing", "the answer was lost, so the invoice is not settled yet");
  let [tx] = ok(await c.api.get(`/v1/invoices/${inv.guid}/transactions`)).items;
  assert.equal(tx.submit_status, "retrying");
  assert.equal(tx.failure_count, 1);
  assert.equal(tx.next_retry_at, "2024-05-01T13:00:00.000000+00:00");
  let ledger = ok(await c.api.get(`/v1/companies/${c.guid}/simulator`));
  assert.equal(ledger.charges.length, 1, "the processor did take the money on the first attempt");

  await advance(c, "2024-05-01T13:00:00Z");
  [tx] = ok(await c.api.get(`/v1/invoices/${inv.guid}/transactions`)).items;
  assert.equal(tx.submit_status, "done");
  assert.equal(tx.status, "succeeded");
  assert.equal(ok(await c.api.get(`/v1/invoices/${inv.guid}`)).status, "settled");
  ledger = ok(await c.api.get(`/v1/companies/${c.guid}/simulator`));
  assert.equal(ledger.charges.length, 1, "the retry replayed the first charge instead of charging again");
  assert.equal(ledger.charges[0].idempotency_key, tx.guid);
  assert.equal(ledger.charges[0].amount, 4200);
  assert.equal(ledger.attempts.find((a) => a.idempotency_key === tx.guid).count, 1,
    "the replay is answered from the ledger, not as a new attempt");
});

test("replacing the instrument of an invoice whose charge went through unseen finds that charge: no second one", async () => {
  const c = await newCompany(w.base, { clock: "2024-05-01T12:00:00Z" });
  const customer = ok(await c.api.post("/v1/customers", {}));
  const inv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "4300",
    funding_instrument_uri: "/v1/cards/lost_response" }));
  assert.equal(inv.status, "processing");
  const put = await c.api.put(`/v1/invoices/${inv.guid}`, { funding_instrument_uri: "/v1/cards/other" });
  assert.equal(put.status, 409, JSON.stringify(put.body));
  assert.equal(put.body.error.code, "invalid_state");
  const after = ok(await c.api.get(`/v1/invoices/${inv.guid}`));
  assert.equal(after.status, "settled", "the lost charge was found and recorded");
  const txs = ok(await c.api.get(`/v1/invoices/${inv.guid}/transactions`)).items;
  assert.equal(txs.length, 1);
  assert.equal(txs[0].status, "succeeded");
  const ledger = ok(await c.api.get(`/v1/companies/${c.guid}/simulator`));
  assert.equal(ledger.charges.length, 1);
  const cancel = await c.api.post(`/v1/invoices/${inv.guid}/cancel`, {});
  assert.equal(cancel.status, 409, "a paid invoice cannot be canceled either");
});

test("replacing the instrument after a transient failure that charged nothing submits the new one once", async () => {
  const c = await newCompany(w.base, { clock: "2024-05-01T12:00:00Z" });
  const customer = ok(await c.api.post("/v1/customers", {}));
  const inv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "4400",
    funding_instrument_uri: "/v1/cards/always_error" }));
  assert.equal(inv.status, "processing");
  const put = ok(await c.api.put(`/v1/invoices/${inv.guid}`, { funding_instrument_uri: "/v1/cards/other" }));
  assert.equal(put.status, "settled");
  const txs = ok(await c.api.get(`/v1/invoices/${inv.guid}/transactions`)).items;
  assert.deepEqual(txs.map((t) => [t.funding_instrument_uri, t.submit_status]).sort(),
    [["/v1/cards/always_error", "canceled"], ["/v1/cards/other", "done"]]);
  const ledger = ok(await c.api.get(`/v1/companies/${c.guid}/simulator`));
  assert.deepEqual(ledger.charges.map((x) => [x.funding_instrument_uri, x.amount]), [["/v1/cards/other", 4400]]);
});
