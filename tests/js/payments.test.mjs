// The payments core over HTTP: a success that arrives after its invoice was canceled is repaid automatically (a
// pending payment; a lost answer the processor could not confirm at cancel time), the processor's ledger and ours
// agree to the cent, and a broken item of due work is recorded and skipped while the rest goes on.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, advance, call, err, newCompany, ok, show, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const company = () => newCompany(w.base, { clock: "2024-05-01T12:00:00Z" });
const txsOf = async (c, iv) => ok(await c.api.get(`/v1/invoices/${iv.guid}/transactions?limit=100`)).items;
const ledgerOf = async (c) => ok(await c.api.get(`/v1/companies/${c.guid}/simulator`));

/**
 * Our ledger and the processor's agree: every movement the processor made is one of our transactions, with the same
 * amount and a final status we recorded; the net money an invoice moved is what its transactions say.
 */
async function assertLedgersAgree(c, iv) {
  const txs = await txsOf(c, iv);
  const { charges } = await ledgerOf(c);
  const ours = new Map(txs.map((t) => [t.guid, t]));
  for (const ch of charges.filter((x) => ours.has(x.idempotency_key))) {
    const t = ours.get(ch.idempotency_key);
    assert.equal(ch.amount, t.amount, `${t.guid} amount`);
    assert.equal(ch.kind, t.transaction_type, `${t.guid} kind`);
    if (ch.status === "succeeded") assert.equal(t.status, "succeeded", `${t.guid}: the processor moved it, we know it`);
  }
  const net = (list, amount, kind) => list.filter((x) => kind(x) === "debit").reduce((s, x) => s + amount(x), 0)
    - list.filter((x) => kind(x) === "refund").reduce((s, x) => s + amount(x), 0);
  const processorNet = net(charges.filter((x) => ours.has(x.idempotency_key) && x.status === "succeeded"),
    (x) => x.amount, (x) => x.kind);
  const ourNet = net(txs.filter((t) => t.status === "succeeded"), (t) => t.amount, (t) => t.transaction_type);
  assert.equal(ourNet, processorNet, "net money moved");
  return { txs, charges, net: ourNet };
}

test("a pending payment that succeeds after its invoice was canceled is repaid at once, and shown", async () => {
  const c = await company();
  const customer = ok(await c.api.post("/v1/customers", {}));
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "900",
    funding_instrument_uri: "/v1/cards/pending" }));
  assert.equal(iv.status, "processing");
  const canceled = ok(await c.api.post(`/v1/invoices/${iv.guid}/cancel`, {}));
  assert.equal(canceled.status, "canceled", "a pending payment no longer blocks a cancel");
  let [debit] = await txsOf(c, iv);
  assert.deepEqual([debit.submit_status, debit.status], ["done", "pending"], "still with the processor");

  await advance(c, "2024-05-01T13:00:00Z"); // the poll: the processor says it succeeded
  const after = ok(await c.api.get(`/v1/invoices/${iv.guid}`));
  assert.equal(after.status, "canceled", "a canceled invoice stays canceled");
  let txs = await txsOf(c, iv);
  assert.equal(txs.length, 2, txs.map((t) => t.transaction_type).join());
  let refund = txs.find((t) => t.transaction_type === "refund");
  debit = txs.find((t) => t.transaction_type === "debit");
  assert.equal(debit.status, "succeeded", "the processor's truth is recorded");
  // The repayment goes back to the same instrument, which (being a "pending" one) holds it as pending first.
  assert.deepEqual([refund.amount, refund.reference_guid, refund.reason, refund.submit_status, refund.status],
    [900, debit.guid, "late_success", "done", "pending"]);
  await advance(c, "2024-05-01T14:00:00Z");
  txs = await txsOf(c, iv);
  refund = txs.find((t) => t.transaction_type === "refund");
  assert.equal(refund.status, "succeeded");
  assert.equal(refund.invoice_guid, iv.guid);
  // Visible in the company's transaction list too, newest first.
  const all = ok(await c.api.get("/v1/transactions")).items;
  assert.deepEqual(all.map((t) => t.guid), [refund.guid, debit.guid]);
  const { net, charges } = await assertLedgersAgree(c, iv);
  assert.equal(net, 0, "the buyer got the money back");
  const ch = charges.find((x) => x.idempotency_key === refund.guid);
  assert.equal(ch.reference_processor_uri, debit.processor_uri, "the refund returns that very debit");
  // Running the scheduler again repays nothing more.
  await advance(c, "2024-05-09T13:00:00Z");
  assert.equal((await txsOf(c, iv)).length, 2);
  // And the canceled invoice cannot be refunded by hand on top.
  assert.equal((await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "1" })).status, 409);
});

test("a lost answer the processor cannot confirm at cancel time is looked up later and repaid", async () => {
  const c = await company();
  const customer = ok(await c.api.post("/v1/customers", {}));
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "4200",
    funding_instrument_uri: "/v1/cards/lost_response+lookup_fails_once" }));
  assert.equal(iv.status, "processing", "the charge went through but its answer was lost");
  assert.equal((await ledgerOf(c)).charges.length, 1);
  // The cancel asks the processor first; it cannot answer, so the cancel goes ahead and the question is kept.
  const canceled = ok(await c.api.post(`/v1/invoices/${iv.guid}/cancel`, {}));
  assert.equal(canceled.status, "canceled");
  let [debit] = await txsOf(c, iv);
  assert.equal(debit.submit_status, "canceled");
  const report = ok(await c.api.get(`/v1/companies/${c.guid}/scheduler`));
  assert.equal(report.next_due, "2024-05-01T12:00:00.000000+00:00", "the reconciliation is due at once");

  await advance(c, "2024-05-01T12:00:01Z");
  let txs = await txsOf(c, iv);
  debit = txs.find((t) => t.transaction_type === "debit");
  const refund = txs.find((t) => t.transaction_type === "refund");
  assert.equal(debit.status, "succeeded", "the lookup found the charge");
  assert.ok(refund, "and a repayment was made");
  assert.deepEqual([refund.amount, refund.reference_guid, refund.reason], [4200, debit.guid, "late_success"]);
  // The refund goes to the same instrument, whose first answer is lost too: it is retried with its own key.
  await advance(c, "2024-05-01T14:00:00Z");
  txs = await txsOf(c, iv);
  assert.deepEqual(txs.map((t) => [t.transaction_type, t.status]).sort(), [["debit", "succeeded"], ["refund", "succeeded"]]);
  const { net, charges } = await assertLedgersAgree(c, iv);
  assert.equal(net, 0);
  assert.equal(charges.length, 2, "one charge, one refund: nothing twice");
  assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status, "canceled");
});

test("a cancel whose lookup finds nothing charged repays nothing and keeps no question open", async () => {
  const c = await company();
  const customer = ok(await c.api.post("/v1/customers", {}));
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "500",
    funding_instrument_uri: "/v1/cards/always_error" }));
  ok(await c.api.post(`/v1/invoices/${iv.guid}/cancel`, {}));
  const report = ok(await c.api.get(`/v1/companies/${c.guid}/scheduler`));
  assert.equal(report.next_due, null, "nothing left to do");
  await advance(c, "2024-06-01T00:00:00Z");
  assert.deepEqual((await txsOf(c, iv)).map((t) => t.submit_status), ["canceled"]);
  assert.equal((await ledgerOf(c)).charges.length, 0);
});

test("a broken item of due work is recorded with its error and skipped; the rest of the company goes on", async () => {
  const c = await company();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", frequency: "daily", amount: "700" }));
  const good = ok(await c.api.post("/v1/customers", {}));
  const bad = ok(await c.api.post("/v1/customers", {}));
  // The processor answers the bad instrument with nonsense: the request still succeeds, the charge stays staged.
  const badSub = await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: bad.guid,
    funding_instrument_uri: "/v1/cards/malformed_answer" });
  assert.equal(badSub.status, 200, show(badSub));
  const goodSub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: good.guid,
    funding_instrument_uri: CARD }));
  const clock = ok(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-05-03T12:00:00Z" }));
  assert.deepEqual(clock.advance, { target: "2024-05-03T12:00:00.000000+00:00", reached: true, steps: clock.advance.steps,
    status: "ready" });
  const goodInvoices = ok(await c.api.get(`/v1/subscriptions/${goodSub.guid}/invoices`)).items;
  assert.deepEqual(goodInvoices.map((i) => i.status), ["settled", "settled", "settled"], "the good one was billed daily");
  const badInvoices = ok(await c.api.get(`/v1/subscriptions/${badSub.body.guid}/invoices`)).items;
  assert.equal(badInvoices.length, 3, "the bad one was invoiced too");
  assert.ok(badInvoices.every((i) => i.status === "processing"));
  const report = ok(await c.api.get(`/v1/companies/${c.guid}/scheduler`));
  assert.equal(report.failures.length, 3, JSON.stringify(report));
  for (const f of report.failures) {
    assert.equal(f.source, "submissions");
    assert.match(f.error, /answer\.outcome/);
    assert.ok(f.count >= 1);
    assert.ok(f.retry_at > f.last_failed_at);
  }
  const txs = ok(await c.api.get(`/v1/subscriptions/${badSub.body.guid}/transactions`)).items;
  assert.ok(txs.every((t) => t.submit_status === "staged"), "nothing was guessed from the broken answer");
});

test("a clock advance that needs more steps than allowed stops early and says where", async () => {
  const c = await company();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", frequency: "daily", amount: "700" }));
  const customer = ok(await c.api.post("/v1/customers", {}));
  ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid, funding_instrument_uri: CARD }));
  const res = ok(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-06-01T12:00:00Z", max_steps: "3" }));
  assert.deepEqual(res.advance, { target: "2024-06-01T12:00:00.000000+00:00", reached: false, steps: 3 });
  assert.ok(res.clock < "2024-06-01T12:00:00.000000+00:00", res.clock);
  const bad = await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-06-01T12:00:00Z", max_steps: "0" });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.field, "max_steps");
  const rest = ok(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-06-01T12:00:00Z" }));
  assert.equal(rest.advance.reached, true);
  assert.equal(rest.clock, "2024-06-01T12:00:00.000000+00:00");
});

test("the transaction list and every transaction carry their owner and reason", async () => {
  const c = await company();
  const customer = ok(await c.api.post("/v1/customers", {}));
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "900", funding_instrument_uri: CARD }));
  ok(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "100" }));
  const txs = await txsOf(c, iv);
  assert.deepEqual(txs.map((t) => [t.transaction_type, t.invoice_guid, t.reason]),
    [["refund", iv.guid, null], ["debit", iv.guid, null]]);
  const one = ok(await call(w.base, "GET", `/v1/transactions/${txs[0].guid}`, { key: c.key }));
  assert.equal(one.reference_guid, txs[1].guid);
  await assertLedgersAgree(c, iv);
});

test("the scheduler submits due charges concurrently, never more at once than the company allows", async () => {
  // A processor that takes 40 ms to answer, as real ones do.
  const slow = await startWorker({ bindings: { SIMULATOR_LATENCY_MS: "40" } });
  try {
    for (const limit of [1, 8]) {
      const c = await newCompany(slow.base, { clock: "2024-05-01T12:00:00Z" });
      ok(await c.api.put(`/v1/companies/${c.guid}`, { processor_concurrency: String(limit) }));
      const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", frequency: "daily", amount: "700" }));
      for (let i = 0; i < 24; i++) {
        const cu = ok(await c.api.post("/v1/customers", {}));
        ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: cu.guid, funding_instrument_uri: CARD,
          started_at: "2024-05-02T00:00:00Z" }));
      }
      ok(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-05-02T00:00:00Z" }));
      const ledger = ok(await c.api.get(`/v1/companies/${c.guid}/simulator`));
      assert.equal(ledger.charges.length, 24, "one charge per subscription");
      assert.equal(new Set(ledger.charges.map((x) => x.idempotency_key)).size, 24);
      assert.equal(ledger.max_in_flight, limit, `at most ${limit} at once, and the limit reached`);
      assert.equal(ok(await c.api.get("/v1/invoices?status=settled")).total_count, 24);
    }
    const c = await newCompany(slow.base, {});
    err(await c.api.put(`/v1/companies/${c.guid}`, { processor_concurrency: "0" }), 400, "processor_concurrency");
    err(await c.api.put(`/v1/companies/${c.guid}`, { processor_concurrency: "257" }), 400, "processor_concurrency");
    assert.equal(ok(await c.api.get(`/v1/companies/${c.guid}`)).processor_concurrency, 64, "the default");
  } finally {
    await slow.stop();
  }
});

test("a long clock advance finishes in the background; the company keeps answering meanwhile", async () => {
  const c = await company();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", frequency: "daily", amount: "700" }));
  for (let i = 0; i < 20; i++) {
    const cu = ok(await c.api.post("/v1/customers", {}));
    ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: cu.guid, funding_instrument_uri: CARD }));
  }
  const started = ok(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-11-01T12:00:00Z", budget_ms: "0" }));
  assert.equal(started.clock_status, "advancing");
  assert.equal(started.advance.status, "advancing");
  assert.equal(started.advance_to, "2024-11-01T12:00:00.000000+00:00");
  // Requests are answered while it runs; a second advance waits its turn.
  ok(await c.api.post("/v1/customers", {}));
  assert.equal(err(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-12-01T00:00:00Z" }), 409).code, "clock_advancing");
  let state;
  for (let i = 0; i < 600; i++) {
    state = ok(await c.api.get(`/v1/companies/${c.guid}`));
    if (state.clock_status === "ready") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual([state.clock_status, state.clock, state.advance_to], ["ready", "2024-11-01T12:00:00.000000+00:00", null]);
  // 20 subscriptions × 185 daily periods (May 1 to Nov 1 inclusive), each invoiced and charged once.
  assert.equal(ok(await c.api.get("/v1/invoices?limit=1")).total_count, 20 * 185);
  assert.equal(ok(await c.api.get("/v1/invoices?status=settled&limit=1")).total_count, 20 * 185);
  const ledger = ok(await c.api.get(`/v1/companies/${c.guid}/simulator`));
  assert.equal(new Set(ledger.charges.map((x) => x.idempotency_key)).size, 20 * 185);
});

/** Money the processor moved and kept, from its own ledger: debits less refunds. */
const keptByProcessor = async (c) => {
  const charges = ok(await c.api.get(`/v1/companies/${c.guid}/simulator`)).charges.filter((x) => x.status === "succeeded");
  return charges.filter((x) => x.kind === "debit").reduce((s, x) => s + x.amount, 0)
    - charges.filter((x) => x.kind === "refund").reduce((s, x) => s + x.amount, 0);
};

test("a charge that failed on an attempt without an answer is asked about before it is let go of, and repaid if it moved money", async () => {
  const oneAttempt = async () => {
    const c = await newCompany(w.base, { clock: "2024-04-01T10:00:00Z" });
    ok(await c.api.put(`/v1/companies/${c.guid}`, { max_retry_attempts: "1" }));
    return { c, cu: ok(await c.api.post("/v1/customers", {})) };
  };
  const LOST = "/v1/cards/lost_response";
  // A new instrument: the lost charge is found first, so the invoice is settled once, never charged twice.
  {
    const { c, cu } = await oneAttempt();
    const iv = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "1000", funding_instrument_uri: LOST }));
    assert.equal(iv.status, "failed");
    await c.api.put(`/v1/invoices/${iv.guid}`, { funding_instrument_uri: CARD });
    await advance(c, "2024-04-02T10:00:00Z");
    assert.equal(await keptByProcessor(c), 1000);
    assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status, "settled");
  }
  // A cancel: the charge reconciliation finds is repaid.
  {
    const { c, cu } = await oneAttempt();
    const iv = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "1000", funding_instrument_uri: LOST }));
    const canceled = await c.api.post(`/v1/invoices/${iv.guid}/cancel`, {});
    await advance(c, "2024-04-02T10:00:00Z");
    const status = ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status;
    assert.equal(await keptByProcessor(c), status === "settled" ? 1000 : 0, `${canceled.status} → ${status}`);
  }
  // A checkout whose card part failed so: undone, and the money found later is repaid.
  {
    const { c, cu } = await oneAttempt();
    const ch = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "5000" }));
    ok(await c.api.post(`/v1/checkouts/${ch.guid}/confirm`, { funding_instrument_uri: LOST }));
    await advance(c, "2024-04-02T10:00:00Z");
    const status = ok(await c.api.get(`/v1/checkouts/${ch.guid}`)).status;
    assert.equal(await keptByProcessor(c), status === "completed" ? 5000 : 0, status);
  }
});
