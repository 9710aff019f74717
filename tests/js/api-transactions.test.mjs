// The Billy v1 API over HTTP, transactions and the processor: the resource's fields and lists, the outcome → invoice
// state mapping, retries with the backoff schedule to `failed` through the test clock, hard declines (never
// retried), pending payments polled to success, max_retry_attempts, and the idempotency proof on the simulator's
// ledger (one charge per transaction guid, however often it was submitted or the scheduler ran).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, T, TIME, advance, err, newCompany, ok, show, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const company = (clock = "2024-01-31T10:00:00Z") => newCompany(w.base, clock ? { clock } : {});
const HOUR = 3600_000, DAY = 24 * HOUR;
const ms = (t) => Date.parse(t);
const TX_KEYS = ["amount", "appears_on_statement_as", "created_at", "failure_count", "failures", "funding_instrument_uri",
  "guid", "invoice_guid", "processor_uri", "status", "submit_status", "transaction_type", "updated_at"];

async function setup() {
  const c = await company();
  const customer = ok(await c.api.post("/v1/customers", {}));
  return { c, customer };
}
const invoice = async (c, customer, instrument, amount = "1000") =>
  ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount, funding_instrument_uri: instrument }));
const txOf = async (c, iv) => {
  const items = ok(await c.api.get(`/v1/invoices/${iv.guid}/transactions`)).items;
  assert.equal(items.length, 1, JSON.stringify(items));
  return items[0];
};
const ledgerOf = async (c) => ok(await c.api.get(`/v1/companies/${c.guid}/simulator`));
const attemptsOf = (ledger, key) => ledger.attempts.find((a) => a.idempotency_key === key)?.count ?? 0;

/** The idempotency proof: at most one charge per key, and one per transaction the processor accepted or declined. */
async function assertOneChargePerTransaction(c) {
  const ledger = await ledgerOf(c);
  const keys = ledger.charges.map((x) => x.idempotency_key);
  assert.equal(new Set(keys).size, keys.length, `duplicate charge keys: ${keys}`);
  const txs = ok(await c.api.get("/v1/transactions?limit=100")).items;
  const byGuid = new Map(txs.map((t) => [t.guid, t]));
  for (const k of keys) assert.ok(byGuid.has(k), `charge ${k} belongs to a transaction of this company`);
  for (const t of txs) {
    const n = keys.filter((k) => k === t.guid).length;
    if (t.submit_status === "done") assert.equal(n, 1, `done transaction ${t.guid} charged ${n} times`);
    if (t.submit_status === "canceled" || t.submit_status === "staged") assert.ok(n <= 1);
    if (n === 1) assert.equal(ledger.charges.find((x) => x.idempotency_key === t.guid).amount, t.amount);
  }
  return ledger;
}

test("a successful debit: every field of the transaction, retrieve and list", async () => {
  const { c, customer } = await setup();
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1000",
    appears_on_statement_as: "FooBar Hosting", funding_instrument_uri: CARD }));
  const tx = await txOf(c, iv);
  for (const k of TX_KEYS) assert.ok(k in tx, `transaction has ${k}`);
  assert.match(tx.guid, /^TX[1-9A-HJ-NP-Za-km-z]{20,22}$/);
  assert.equal(tx.amount, 1000);
  assert.equal(tx.appears_on_statement_as, "FooBar Hosting");
  assert.equal(tx.failure_count, 0);
  assert.deepEqual(tx.failures, []);
  assert.equal(tx.funding_instrument_uri, CARD);
  assert.equal(tx.invoice_guid, iv.guid);
  assert.equal(typeof tx.processor_uri, "string");
  assert.ok(tx.processor_uri.length > 0);
  assert.equal(tx.status, "succeeded");
  assert.equal(tx.submit_status, "done");
  assert.equal(tx.transaction_type, "debit");
  assert.match(tx.created_at, TIME);
  assert.match(tx.updated_at, TIME);
  assert.deepEqual(ok(await c.api.get(`/v1/transactions/${tx.guid}`)), tx);
  const list = ok(await c.api.get("/v1/transactions"));
  assert.equal(list.total_count, 1);
  assert.deepEqual(list.items[0], tx);
  err(await c.api.get("/v1/transactions/TXnope"), 404);
  const ledger = await assertOneChargePerTransaction(c);
  assert.equal(ledger.charges[0].processor_uri, tx.processor_uri);
  assert.equal(ledger.charges[0].funding_instrument_uri, CARD);
  assert.equal(ledger.charges[0].kind, "debit");
});

test("transaction list: newest first across invoices, paginated", async () => {
  const { c, customer } = await setup();
  const made = [];
  for (let i = 0; i < 5; i++) made.push((await txOf(c, await invoice(c, customer, CARD, String(100 + i)))).guid);
  const list = ok(await c.api.get("/v1/transactions?limit=2&offset=1"));
  assert.equal(list.total_count, 5);
  assert.deepEqual(list.items.map((t) => t.guid), [made[3], made[2]]);
  assert.deepEqual(ok(await c.api.get("/v1/transactions")).items.map((t) => t.guid), [...made].reverse());
});

test("hard decline: failed at once, never retried; the invoice fails", async () => {
  const { c, customer } = await setup();
  const iv = await invoice(c, customer, "/v1/cards/hard_decline");
  assert.equal(iv.status, "failed");
  const tx = await txOf(c, iv);
  assert.equal(tx.submit_status, "failed");
  assert.equal(tx.status, "failed");
  assert.equal(tx.failure_count, 1);
  assert.equal(tx.failures.length, 1);
  const [f] = tx.failures;
  assert.equal(typeof f.guid, "string");
  assert.equal(f.error_code, "card-declined");
  assert.match(f.error_message, /declined/);
  assert.equal(f.created_at, T("2024-01-31"));
  assert.equal(tx.next_retry_at ?? null, null);
  await advance(c, "2024-03-31T00:00:00Z");
  const later = await txOf(c, iv);
  assert.equal(later.failure_count, 1, "a hard decline is never retried");
  assert.equal(later.submit_status, "failed");
  assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status, "failed");
  const ledger = await ledgerOf(c);
  assert.equal(attemptsOf(ledger, tx.guid), 1);
  assert.equal(ledger.charges.filter((x) => x.idempotency_key === tx.guid).length, 1);
  assert.equal(ledger.charges[0].status, "declined");
});

test("transient failure then success: retrying after 1 h, then done; one charge for two attempts", async () => {
  const { c, customer } = await setup();
  const iv = await invoice(c, customer, "/v1/cards/fail_once");
  assert.equal(iv.status, "processing");
  const tx = await txOf(c, iv);
  assert.equal(tx.submit_status, "retrying");
  assert.equal(tx.status, null);
  assert.equal(tx.failure_count, 1);
  assert.equal(tx.failures.length, 1);
  assert.equal(tx.failures[0].created_at, T("2024-01-31"));
  assert.equal(typeof tx.failures[0].error_code, "string");
  assert.equal(typeof tx.failures[0].error_message, "string");
  assert.equal(tx.next_retry_at, T("2024-01-31", "11:00:00"), "first retry 1 h later");
  await advance(c, "2024-01-31T10:59:59Z");
  assert.equal((await txOf(c, iv)).submit_status, "retrying", "not before its time");
  assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status, "processing");
  await advance(c, "2024-01-31T11:00:00Z");
  const done = await txOf(c, iv);
  assert.equal(done.guid, tx.guid, "the same transaction is retried, not a new one");
  assert.equal(done.submit_status, "done");
  assert.equal(done.status, "succeeded");
  assert.equal(done.failure_count, 1);
  assert.equal(done.updated_at, T("2024-01-31", "11:00:00"));
  assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status, "settled");
  const ledger = await assertOneChargePerTransaction(c);
  assert.equal(attemptsOf(ledger, tx.guid), 2);
  assert.equal(ledger.charges.filter((x) => x.idempotency_key === tx.guid).length, 1);
  // Running the scheduler again changes nothing.
  await advance(c, "2024-02-15T00:00:00Z");
  await advance(c, "2024-02-15T00:00:00Z");
  assert.equal(attemptsOf(await ledgerOf(c), tx.guid), 2);
  assert.equal((await assertOneChargePerTransaction(c)).charges.length, 1);
});

test("retries to failed: backoff 1 h, 6 h, 1 d, … until max_retry_attempts, then the invoice fails", async () => {
  const { c, customer } = await setup();
  ok(await c.api.put(`/v1/companies/${c.guid}`, { max_retry_attempts: "4" }));
  const iv = await invoice(c, customer, "/v1/cards/always_error");
  const tx = await txOf(c, iv);
  assert.equal(tx.submit_status, "retrying");
  assert.equal(tx.next_retry_at, T("2024-01-31", "11:00:00"));
  await advance(c, "2024-01-31T11:00:00Z");
  let t = await txOf(c, iv);
  assert.equal(t.failure_count, 2);
  assert.equal(t.next_retry_at, T("2024-01-31", "17:00:00"), "second retry 6 h after the first");
  await advance(c, "2024-01-31T17:00:00Z");
  t = await txOf(c, iv);
  assert.equal(t.failure_count, 3);
  assert.equal(t.next_retry_at, T("2024-02-01", "17:00:00"), "third retry 1 d after the second");
  assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status, "processing", "still processing while retrying");
  await advance(c, "2024-03-01T00:00:00Z");
  t = await txOf(c, iv);
  assert.equal(t.submit_status, "failed");
  assert.equal(t.status, "failed");
  assert.equal(t.failure_count, 4, "4 attempts in all");
  assert.equal(t.next_retry_at ?? null, null);
  assert.deepEqual(t.failures.map((f) => f.created_at),
    [T("2024-01-31"), T("2024-01-31", "11:00:00"), T("2024-01-31", "17:00:00"), T("2024-02-01", "17:00:00")]);
  assert.equal(new Set(t.failures.map((f) => f.guid)).size, 4);
  assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status, "failed");
  const ledger = await assertOneChargePerTransaction(c);
  assert.equal(attemptsOf(ledger, tx.guid), 4);
  assert.equal(ledger.charges.length, 0, "no money moved");
  // A failed invoice can be paid with a new instrument.
  assert.equal(ok(await c.api.put(`/v1/invoices/${iv.guid}`, { funding_instrument_uri: CARD })).status, "settled");
});

test("default max_retry_attempts 10 and the full backoff schedule (1h, 6h, 1d, 3d, 5d, then 7d)", async () => {
  const { c, customer } = await setup();
  const iv = await invoice(c, customer, "/v1/cards/always_error");
  await advance(c, "2024-06-01T00:00:00Z");
  const t = await txOf(c, iv);
  assert.equal(t.submit_status, "failed");
  assert.equal(t.failure_count, 10);
  const times = t.failures.map((f) => ms(f.created_at));
  const gaps = times.slice(1).map((x, i) => x - times[i]);
  assert.deepEqual(gaps, [HOUR, 6 * HOUR, DAY, 3 * DAY, 5 * DAY, 7 * DAY, 7 * DAY, 7 * DAY, 7 * DAY]);
  assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status, "failed");
  assert.equal(attemptsOf(await ledgerOf(c), t.guid), 10);
});

test("max_retry_attempts applies to transactions failing after it changed", async () => {
  const { c, customer } = await setup();
  ok(await c.api.put(`/v1/companies/${c.guid}`, { max_retry_attempts: "1" }));
  const iv = await invoice(c, customer, "/v1/cards/always_error");
  const t = await txOf(c, iv);
  assert.equal(t.submit_status, "failed", "1 attempt allowed: no retry");
  assert.equal(t.failure_count, 1);
  assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status, "failed");
  ok(await c.api.put(`/v1/companies/${c.guid}`, { max_retry_attempts: "2" }));
  const iv2 = await invoice(c, customer, "/v1/cards/always_error");
  assert.equal((await txOf(c, iv2)).submit_status, "retrying");
  await advance(c, "2024-02-10T00:00:00Z");
  const t2 = await txOf(c, iv2);
  assert.equal(t2.submit_status, "failed");
  assert.equal(t2.failure_count, 2);
});

test("pending: invoice processing, polled 1 h later → succeeded → settled", async () => {
  const { c, customer } = await setup();
  const iv = await invoice(c, customer, "/v1/cards/pending");
  assert.equal(iv.status, "processing");
  const tx = await txOf(c, iv);
  assert.equal(tx.submit_status, "done");
  assert.equal(tx.status, "pending");
  assert.equal(tx.failure_count, 0);
  await advance(c, "2024-01-31T10:59:00Z");
  assert.equal((await txOf(c, iv)).status, "pending");
  assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status, "processing");
  await advance(c, "2024-01-31T11:00:00Z");
  const done = await txOf(c, iv);
  assert.equal(done.status, "succeeded");
  assert.equal(done.submit_status, "done");
  assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status, "settled");
  const ledger = await assertOneChargePerTransaction(c);
  assert.equal(ledger.charges[0].status, "succeeded");
  // Now it can be refunded.
  ok(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "1000" }));
});

test("subscription charges go through the same retries: fail_once then settled an hour later", async () => {
  const { c, customer } = await setup();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "monthly" }));
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid,
    funding_instrument_uri: "/v1/cards/fail_once" }));
  let [iv] = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/invoices`)).items;
  assert.equal(iv.status, "processing");
  await advance(c, "2024-01-31T11:00:00Z");
  [iv] = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/invoices`)).items;
  assert.equal(iv.status, "settled");
  // Each later period's charge is a new transaction (new key): its first attempt fails transiently again.
  await advance(c, "2024-02-29T10:00:00Z");
  const feb = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/invoices`)).items[0];
  assert.equal(feb.scheduled_at, T("2024-02-29"));
  assert.equal(feb.status, "processing");
  await advance(c, "2024-02-29T11:00:00Z");
  assert.equal(ok(await c.api.get(`/v1/invoices/${feb.guid}`)).status, "settled");
  const ledger = await assertOneChargePerTransaction(c);
  assert.equal(ledger.charges.length, 2);
  assert.ok(ledger.attempts.every((a) => a.count === 2));
});

test("idempotency under load: catch-up, retries, pending polls and repeated/concurrent clock runs charge once per key", async () => {
  const { c, customer } = await setup();
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "500", frequency: "weekly" }));
  for (const fi of [CARD, "/v1/cards/fail_once", "/v1/cards/pending", "/v1/cards/hard_decline", "/v1/cards/always_error"]) {
    ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid, funding_instrument_uri: fi }));
  }
  const runs = ["2024-02-14T10:00:00Z", "2024-02-14T10:00:00Z", "2024-03-01T00:00:00Z"];
  for (const to of runs) await advance(c, to);
  const parallel = await Promise.all(Array.from({ length: 5 }, () =>
    c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-03-20T10:00:00Z" })));
  for (const r of parallel) assert.ok(r.status < 500, show(r));
  const ledger = await assertOneChargePerTransaction(c);
  const txs = ok(await c.api.get("/v1/transactions?limit=100")).items;
  const invoices = ok(await c.api.get("/v1/invoices?limit=100")).items;
  // Weekly from Jan 31: Jan 31, Feb 7, 14, 21, 28, Mar 6, 13, 20 → 8 periods × 5 subscriptions.
  assert.equal(invoices.length, 40);
  const periods = new Set(invoices.map((x) => `${x.subscription_guid} ${x.scheduled_at}`));
  assert.equal(periods.size, 40, "one invoice per subscription period");
  assert.equal(txs.length, 40, "one transaction per invoice");
  const retrying = txs.filter((t) => t.submit_status === "retrying");
  assert.ok(retrying.every((t) => /fail_once|always_error/.test(t.funding_instrument_uri)));
  assert.equal(retrying.filter((t) => t.funding_instrument_uri.includes("fail_once")).length, 1, "only Mar 20's");
  const succeeded = txs.filter((t) => t.status === "succeeded");
  const charged = ledger.charges.filter((x) => x.status === "succeeded").reduce((s, x) => s + x.amount, 0);
  assert.equal(charged, succeeded.reduce((s, t) => s + t.amount, 0), "the ledger matches the transactions");
  for (const a of ledger.attempts) {
    const t = txs.find((x) => x.guid === a.idempotency_key);
    assert.ok(t, "every attempt is for a known transaction");
    // fail_once: two attempts, except the last period's, whose retry (1 h later) is still ahead.
    if (t.funding_instrument_uri.includes("fail_once")) assert.equal(a.count, t.submit_status === "retrying" ? 1 : 2);
    if (t.funding_instrument_uri.includes("hard_decline") || t.funding_instrument_uri === CARD) assert.equal(a.count, 1);
  }
});
