// Net terms over HTTP: the customer balance in its published shape, assessments and growing limits, split-payment
// checkouts with browser-safe client secrets, terms invoices paid on time, late or charged at their due date, credit
// applications with pre-fill, metadata, and concurrent confirms against one credit line.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, advance, call, client, err, newCompany, ok, show, startWorker } from "./harness.mjs";
import { creditReplay } from "./core.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const company = () => newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
const bearer = (key) => ({ authorization: `Bearer ${key}` });
const SMALL_BUSINESS = { years_in_business: "0", annual_revenue_band: "0-100k", employees_band: "1-10", industry_risk: "high" };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function buyer(c, facts = SMALL_BUSINESS) {
  const cu = ok(await c.api.post("/v1/customers", {}));
  if (facts) ok(await c.api.post(`/v1/customers/${cu.guid}/assessments`, facts));
  return cu;
}

/** The stored limit equals the core's replay of the profile's events; credit used equals what terms invoices owe. */
async function credit(c, cu) {
  const p = ok(await c.api.get(`/v1/customers/${cu.guid}/credit`));
  const ev = ok(await c.api.get(`/v1/customers/${cu.guid}/credit/events`));
  if (ev.currency) assert.equal(p.credit_limit, creditReplay(ev.items, ev.currency).credit_limit, "stored = replayed");
  const invoices = ok(await c.api.get(`/v1/customers/${cu.guid}/invoices?limit=100`)).items
    .filter((i) => i.invoice_type === "terms" && ["open", "overdue"].includes(i.status));
  assert.equal(p.credit_used, invoices.reduce((s, i) => s + i.effective_amount - i.amount_paid, 0), "used = owed");
  return p;
}

test("balance transactions in the published shape: the seed's body and response, running totals, lists, expand", async () => {
  const c = await company();
  const cu = ok(await c.api.post("/v1/customers", {}));
  const res = await call(w.base, "POST", "/v1/balance_transactions", { headers: bearer(c.key),
    json: { balance_transaction: { amount: 5000, currency: "usd", customer: cu.guid } } });
  const bt = ok(res);
  assert.deepEqual(Object.keys(bt), ["id", "object", "amount", "currency", "ending_balance_amount", "transaction_type",
    "balance", "customer", "checkout", "created_at", "updated_at"]);
  assert.match(bt.id, UUID);
  assert.match(bt.balance, UUID);
  assert.deepEqual([bt.object, bt.amount, bt.currency, bt.ending_balance_amount, bt.transaction_type, bt.customer, bt.checkout],
    ["balance_transaction", 5000, "usd", 5000, "adjustment", cu.guid, null]);
  assert.equal(bt.created_at, Date.parse("2024-01-01T00:00:00Z") / 1000);
  assert.equal(bt.updated_at, bt.created_at);
  // A credit, form-encoded: the same balance, the running total below zero.
  const credited = ok(await c.api.post("/v1/balance_transactions", { "balance_transaction[amount]": "-7000",
    "balance_transaction[currency]": "USD", "balance_transaction[customer]": cu.guid }));
  assert.deepEqual([credited.ending_balance_amount, credited.balance], [-2000, bt.balance]);
  const eur = ok(await c.api.postJson("/v1/balance_transactions", { balance_transaction: { amount: 100, currency: "eur", customer: cu.guid } }));
  assert.notEqual(eur.balance, bt.balance, "one balance per customer and currency");
  assert.equal(eur.ending_balance_amount, 100);
  assert.deepEqual(ok(await c.api.get(`/v1/balance_transactions/${bt.id}`)), bt);
  const list = ok(await c.api.get(`/v1/balance_transactions?customer=${cu.guid}&limit=2`));
  assert.deepEqual([list.total_count, list.items.length, list.items[0].id], [3, 2, eur.id]);
  const expanded = ok(await c.api.get(`/v1/balance_transactions/${bt.id}?expand[]=customer&expand[]=balance`));
  assert.equal(expanded.customer.guid, cu.guid);
  assert.deepEqual([expanded.balance.id, expanded.balance.amount, expanded.balance.currency], [bt.balance, -2000, "usd"]);
  err(await c.api.get(`/v1/balance_transactions/${bt.id}?expand[]=everything`), 400, "expand[]");
  // Errors name the nested field; nothing is written.
  const bad = (body) => c.api.postJson("/v1/balance_transactions", body);
  err(await bad({ balance_transaction: { currency: "usd", customer: cu.guid } }), 400, "balance_transaction[amount]");
  err(await bad({ balance_transaction: { amount: 0, currency: "usd", customer: cu.guid } }), 400, "balance_transaction[amount]");
  err(await bad({ balance_transaction: { amount: 1.5, currency: "usd", customer: cu.guid } }), 400, "balance_transaction[amount]");
  err(await bad({ balance_transaction: { amount: 5, currency: "qqq", customer: cu.guid } }), 400, "balance_transaction[currency]");
  err(await bad({ balance_transaction: { amount: 5, currency: "usd", customer: "CUnope" } }), 404, "balance_transaction[customer]");
  err(await bad({}), 400, "balance_transaction");
  assert.equal(ok(await c.api.get("/v1/balance_transactions")).total_count, 3);
  err(await call(w.base, "GET", "/v1/balance_transactions", {}), 401);
  const other = await company();
  err(await other.api.get(`/v1/balance_transactions/${bt.id}`), 404);
});

test("assessments never decline: a risky new business gets tier 5 and 500.00; the profile shows how it grows", async () => {
  const c = await company();
  const cu = ok(await c.api.post("/v1/customers", {}));
  const none = await credit(c, cu);
  assert.deepEqual([none.status, none.credit_limit, none.available_credit, none.terms_days_allowed], ["none", 0, 0, []]);
  const p = ok(await c.api.post(`/v1/customers/${cu.guid}/assessments`, SMALL_BUSINESS));
  assert.deepEqual([p.status, p.risk_tier, p.credit_limit, p.credit_used, p.available_credit, p.currency, p.terms_days_allowed],
    ["active", 5, 50000, 0, 50000, "USD", [15, 30]]);
  assert.deepEqual([p.growth.step, p.growth.split_step, p.growth.next_limit, p.growth.ceiling], [25000, 37500, 75000, 500000]);
  const big = ok(await c.api.post("/v1/customers", {}));
  const q = ok(await c.api.post(`/v1/customers/${big.guid}/assessments`, { years_in_business: 20,
    annual_revenue_band: "10m+", employees_band: "500+", industry_risk: "low" }));
  assert.deepEqual([q.risk_tier, q.credit_limit, q.terms_days_allowed], [1, 5000000, [15, 30, 60, 90]]);
  for (const [k, v] of [["years_in_business", "-1"], ["annual_revenue_band", "lots"], ["employees_band", ""], ["industry_risk", "none"]]) {
    err(await c.api.post(`/v1/customers/${cu.guid}/assessments`, { ...SMALL_BUSINESS, [k]: v }), 400, k);
  }
  err(await c.api.post("/v1/customers/CUnope/assessments", SMALL_BUSINESS), 404);
  await credit(c, big);
});

test("the whole story: assess → split checkout → card fails once and retries → terms paid on time → limit grows → next checkout needs no card", async () => {
  const c = await company();
  const cu = await buyer(c);
  const ch = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, item_name0: "Pallet of widgets",
    item_quantity0: "4", item_unit_amount0: "20000", terms_days: "30", "metadata[cart]": "C-77" }));
  assert.ok(ch.guid.startsWith("CH"));
  assert.ok(ch.client_secret.startsWith(`${c.guid}_`));
  assert.deepEqual([ch.status, ch.amount, ch.currency, ch.expires_at, ch.metadata], ["open", 80000, "USD",
    "2024-01-02T00:00:00.000000+00:00", { cart: "C-77" }]);
  assert.deepEqual(ch.allocation, { total: 80000, balance_applied: 0, terms_amount: 50000, card_amount: 30000, carried_to_balance: 0 });
  // The buyer's browser holds only the client secret.
  const browser = { get: (p) => call(w.base, "GET", p, { headers: bearer(ch.client_secret) }),
    post: (p, form) => call(w.base, "POST", p, { headers: bearer(ch.client_secret), form }) };
  const preview = ok(await browser.get(`/v1/checkouts/${ch.guid}/allocation?terms_days=15`));
  assert.deepEqual([preview.terms_days, preview.due_at, preview.available_credit, preview.minimum_charge],
    [15, "2024-01-16T00:00:00.000000+00:00", 50000, 50]);
  err(await browser.get(`/v1/checkouts/${ch.guid}/allocation?terms_days=60`), 400, "terms_days");
  err(await browser.post(`/v1/checkouts/${ch.guid}/confirm`, { terms_days: "30" }), 400, "funding_instrument_uri");
  const confirmed = ok(await browser.post(`/v1/checkouts/${ch.guid}/confirm`, { terms_days: "30",
    funding_instrument_uri: "/v1/cards/fail_once", "metadata[po_number]": "PO-1234" }));
  assert.equal(confirmed.status, "processing", "the card's first attempt failed; it is retried");
  err(await browser.post(`/v1/checkouts/${ch.guid}/confirm`, { terms_days: "30", funding_instrument_uri: CARD }), 409);
  let p = await credit(c, cu);
  assert.deepEqual([p.credit_used, p.available_credit], [50000, 0], "the terms part is reserved");
  const terms = ok(await c.api.get(`/v1/invoices/${confirmed.invoice_guid}`));
  assert.deepEqual([terms.invoice_type, terms.status, terms.effective_amount, terms.terms_days, terms.due_at, terms.checkout_guid,
    terms.metadata], ["terms", "open", 50000, 30, "2024-01-31T00:00:00.000000+00:00", ch.guid, { po_number: "PO-1234" }]);
  await advance(c, "2024-01-01T01:00:00Z");
  const done = ok(await browser.get(`/v1/checkouts/${ch.guid}`));
  assert.equal(done.status, "completed");
  const cardTx = ok(await c.api.get(`/v1/transactions/${done.transaction_guid}`));
  assert.deepEqual([cardTx.amount, cardTx.status, cardTx.failure_count, cardTx.checkout_guid], [30000, "succeeded", 1, ch.guid]);
  // The merchant records the buyer's bank transfer in two parts, the last on the 20th: paid in full, on time.
  await advance(c, "2024-01-20T00:00:00Z");
  const part = ok(await c.api.post(`/v1/invoices/${terms.guid}/payments`, { amount: "20000", paid_at: "2024-01-10T00:00:00Z" }));
  assert.deepEqual([part.status, part.amount_paid], ["open", 20000]);
  assert.equal((await credit(c, cu)).credit_used, 30000, "a partial payment releases its part");
  err(await c.api.post(`/v1/invoices/${terms.guid}/payments`, { amount: "30001" }), 409, "amount");
  const paid = ok(await c.api.post(`/v1/invoices/${terms.guid}/payments`, {}));
  assert.deepEqual([paid.status, paid.amount_paid], ["settled", 50000]);
  p = await credit(c, cu);
  assert.deepEqual([p.credit_used, p.credit_limit], [0, 87500], "500.00 + 1.5 × 250.00: the order was split");
  const payments = ok(await c.api.get(`/v1/invoices/${terms.guid}/transactions`)).items;
  assert.deepEqual(payments.map((t) => [t.amount, t.reason, t.status]), [[30000, "external_payment", "succeeded"],
    [20000, "external_payment", "succeeded"]]);
  err(await c.api.post(`/v1/invoices/${terms.guid}/payments`, { amount: "1" }), 409);
  // The next checkout fits the grown limit: no card at all.
  const next = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "80000", terms_days: "15" }));
  assert.deepEqual([next.allocation.terms_amount, next.allocation.card_amount], [80000, 0]);
  const nextDone = ok(await c.api.post(`/v1/checkouts/${next.guid}/confirm`, {}));
  assert.deepEqual([nextDone.status, nextDone.transaction_guid], ["completed", null]);
  assert.equal((await credit(c, cu)).credit_used, 80000);
});

test("an overdue story: unpaid at its due date → overdue, growth frozen; paid late → limit lowered", async () => {
  const c = await company();
  const cu = await buyer(c);
  const ch = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "40000", terms_days: "15" }));
  const conf = ok(await c.api.post(`/v1/checkouts/${ch.guid}/confirm`, {}));
  assert.equal(conf.status, "completed");
  await advance(c, "2024-01-16T00:00:00Z");
  const inv = ok(await c.api.get(`/v1/invoices/${conf.invoice_guid}`));
  assert.equal(inv.status, "overdue");
  let p = await credit(c, cu);
  assert.deepEqual([p.status, p.frozen_until, p.credit_used], ["frozen", "2024-04-15T00:00:00.000000+00:00", 40000]);
  assert.equal(p.growth.next_limit, p.credit_limit, "no growth while frozen");
  await advance(c, "2024-01-20T00:00:00Z");
  ok(await c.api.post(`/v1/invoices/${inv.guid}/payments`, {}));
  assert.equal(ok(await c.api.get(`/v1/invoices/${inv.guid}`)).status, "settled");
  p = await credit(c, cu);
  assert.deepEqual([p.credit_used, p.credit_limit, p.status], [0, 37500, "frozen"], "75 % of 500.00");
  const events = ok(await c.api.get(`/v1/customers/${cu.guid}/credit/events`)).items.map((e) => e.kind);
  assert.deepEqual(events, ["assessed", "overdue", "paid_late"]);
});

test("a terms invoice with an instrument is charged at its due date; a failed card part undoes the checkout", async () => {
  const c = await company();
  const cu = await buyer(c);
  const ch = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "30000" }));
  const conf = ok(await c.api.post(`/v1/checkouts/${ch.guid}/confirm`, { terms_days: "15", terms_funding_instrument_uri: CARD }));
  await advance(c, "2024-01-16T00:00:00Z");
  const inv = ok(await c.api.get(`/v1/invoices/${conf.invoice_guid}`));
  assert.deepEqual([inv.status, inv.amount_paid], ["settled", 30000], "charged at its due date, on time");
  assert.equal((await credit(c, cu)).credit_limit, 75000, "on time, not split: one step");

  // A buyer with a credit balance and a card that is declined: everything comes back.
  const b = await buyer(c);
  ok(await c.api.postJson("/v1/balance_transactions", { balance_transaction: { amount: -1000, currency: "usd", customer: b.guid } }));
  const big = ok(await c.api.post("/v1/checkouts", { customer_guid: b.guid, amount: "70000", terms_days: "30" }));
  assert.deepEqual(big.allocation, { total: 70000, balance_applied: 1000, terms_amount: 50000, card_amount: 19000, carried_to_balance: 0 });
  const failed = ok(await c.api.post(`/v1/checkouts/${big.guid}/confirm`, { funding_instrument_uri: "/v1/cards/hard_decline" }));
  assert.equal(failed.status, "failed");
  assert.equal(ok(await c.api.get(`/v1/invoices/${failed.invoice_guid}`)).status, "canceled");
  assert.equal((await credit(c, b)).credit_used, 0, "the reservation is released");
  const entries = ok(await c.api.get(`/v1/balance_transactions?checkout=${big.guid}`)).items;
  assert.deepEqual(entries.map((e) => [e.transaction_type, e.amount, e.ending_balance_amount]),
    [["checkout_credit", -1000, -1000], ["applied_to_checkout", 1000, 0]]);
});

test("a card part below the currency minimum moves to terms when it fits, else is carried to the balance", async () => {
  const c = await company();
  const cu = await buyer(c);
  const carried = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "50030", terms_days: "15" }));
  assert.deepEqual(carried.allocation, { total: 50030, balance_applied: 0, terms_amount: 50000, card_amount: 0, carried_to_balance: 30 });
  const conf = ok(await c.api.post(`/v1/checkouts/${carried.guid}/confirm`, {}));
  assert.equal(conf.status, "completed");
  const [entry] = ok(await c.api.get(`/v1/balance_transactions?checkout=${carried.guid}`)).items;
  assert.deepEqual([entry.transaction_type, entry.amount, entry.ending_balance_amount], ["checkout_below_currency_minimum", 30, 30]);
  // What is owed is collected with the next checkout: its parts pay its total and the 30.
  const next = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "1000" }));
  assert.deepEqual(next.allocation, { total: 1000, balance_applied: -30, terms_amount: 0, card_amount: 1030, carried_to_balance: 0 });
  // Confirmed as the checkout page confirms it: with the split it was shown.
  ok(await c.api.postJson(`/v1/checkouts/${next.guid}/confirm`, { funding_instrument_uri: CARD, expected_allocation: next.allocation }));
  const [collected] = ok(await c.api.get(`/v1/balance_transactions?checkout=${next.guid}`)).items;
  assert.deepEqual([collected.transaction_type, collected.amount, collected.ending_balance_amount], ["applied_to_checkout", -30, 0]);
  // A buyer without credit gets at most one checkout below the minimum on the balance: the next one is charged, debt and all.
  const tiny = ok(await c.api.post("/v1/customers", {}));
  const kwd = async () => ok(await c.api.post("/v1/checkouts", { customer_guid: tiny.guid, amount: "499", currency: "KWD" }));
  const first = await kwd();
  assert.equal(first.allocation.carried_to_balance, 499);
  assert.equal(ok(await c.api.post(`/v1/checkouts/${first.guid}/confirm`, {})).status, "completed");
  const second = await kwd();
  assert.deepEqual([second.allocation.balance_applied, second.allocation.card_amount], [-499, 998]);
  err(await c.api.post(`/v1/checkouts/${second.guid}/confirm`, {}), 400, "funding_instrument_uri");
  // No credit at all: a card-only checkout.
  const plain = ok(await c.api.post("/v1/customers", {}));
  const cardOnly = ok(await c.api.post("/v1/checkouts", { customer_guid: plain.guid, amount: "2500" }));
  assert.deepEqual([cardOnly.allocation.terms_amount, cardOnly.allocation.card_amount], [0, 2500]);
  assert.equal(ok(await c.api.post(`/v1/checkouts/${cardOnly.guid}/confirm`, { funding_instrument_uri: CARD })).status, "completed");
  // Validation.
  err(await c.api.post("/v1/checkouts", { customer_guid: plain.guid }), 400, "amount");
  err(await c.api.post("/v1/checkouts", { customer_guid: plain.guid, amount: "5", terms_days: "45" }), 400, "terms_days");
  err(await c.api.post("/v1/checkouts", { customer_guid: "CUnope", amount: "5" }), 404, "customer_guid");
  err(await c.api.post("/v1/checkouts", { customer_guid: plain.guid, amount: "5", "metadata[x\"y]": "1" }), 400);
});

test("a client secret opens its own checkout only; an expired checkout cannot be confirmed", async () => {
  const c = await company();
  const cu = await buyer(c);
  const a = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "1000", terms_days: "15" }));
  const b = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "1000", terms_days: "15" }));
  const h = bearer(a.client_secret);
  ok(await call(w.base, "GET", `/v1/checkouts/${a.guid}`, { headers: h }));
  assert.ok(!("client_secret" in ok(await call(w.base, "GET", `/v1/checkouts/${a.guid}`, { headers: h }))), "shown once");
  for (const [method, path] of [["GET", `/v1/checkouts/${b.guid}`], ["POST", `/v1/checkouts/${b.guid}/confirm`],
    ["GET", "/v1/customers"], ["GET", `/v1/customers/${cu.guid}/credit`], ["GET", "/v1/checkouts"],
    ["POST", "/v1/checkouts"], ["GET", `/v1/companies/${c.guid}`], ["POST", "/v1/balance_transactions"],
    ["GET", `/v1/companies/${c.guid}/keys`], ["GET", "/v1/transactions"]]) {
    err(await call(w.base, method, path, { headers: h, ...(method === "POST" ? { form: {} } : {}) }), 403);
  }
  await advance(c, "2024-01-02T00:00:00Z");
  assert.equal(ok(await c.api.get(`/v1/checkouts/${b.guid}`)).status, "expired");
  assert.match(err(await c.api.post(`/v1/checkouts/${b.guid}/confirm`, {}), 409).message, /expired/);
  err(await call(w.base, "GET", `/v1/checkouts/${a.guid}`, { headers: h }), 401, undefined);
});

test("concurrency: 20 simultaneous confirms against one credit line never exceed its limit", async () => {
  const c = await company();
  const cu = await buyer(c);
  const checkouts = [];
  for (let i = 0; i < 20; i++) checkouts.push(ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "10000", terms_days: "15" })));
  const results = await Promise.all(checkouts.map((ch) => c.api.post(`/v1/checkouts/${ch.guid}/confirm`, { funding_instrument_uri: CARD })));
  assert.ok(results.every((r) => r.status === 200), results.map(show).join("\n"));
  const terms = results.map((r) => r.body.allocation.terms_amount);
  assert.equal(terms.reduce((s, x) => s + x, 0), 50000, "exactly the limit, never more");
  assert.equal(results.filter((r) => r.body.allocation.card_amount === 10000).length, 15);
  const p = await credit(c, cu);
  assert.deepEqual([p.credit_used, p.available_credit], [50000, 0]);
});

test("applications: pre-filled by the merchant, edited and submitted by the buyer with its token alone", async () => {
  const c = await company();
  const cu = ok(await c.api.post("/v1/customers", {}));
  const app = ok(await c.api.post("/v1/applications", { customer_guid: cu.guid, legal_name: "Acme Supplies LLC",
    city: "Springfield", country: "US", contact_email: "ap@acme.example", years_in_business: "4" }));
  assert.ok(app.guid.startsWith("AP"));
  assert.equal(app.url, `/apply/${app.token}`);
  assert.deepEqual([app.status, app.legal_name, app.city, app.years_in_business], ["draft", "Acme Supplies LLC", "Springfield", "4"]);
  const t = encodeURIComponent(app.token);
  const asBuyer = (method, p, form) => call(w.base, method, p, { form });
  assert.equal(ok(await asBuyer("GET", `/v1/applications/by_token/${t}`)).legal_name, "Acme Supplies LLC");
  const edited = ok(await asBuyer("PUT", `/v1/applications/by_token/${t}`, { trade_name: "Acme", city: "Shelbyville",
    address_line1: "1 Main St", postal_code: "12345", contact_name: "Jo Doe" }));
  assert.deepEqual([edited.trade_name, edited.city], ["Acme", "Shelbyville"]);
  err(await asBuyer("POST", `/v1/applications/by_token/${t}/submit`, {}), 400, "annual_revenue_band");
  err(await asBuyer("POST", `/v1/applications/by_token/${t}/submit`, { annual_revenue_band: "100k-1m", employees_band: "11-50",
    industry_risk: "medium", contact_email: "not-an-email" }), 400, "contact_email");
  err(await asBuyer("POST", `/v1/applications/by_token/${t}/submit`, { country: "USA" }), 400, "country");
  const done = ok(await asBuyer("POST", `/v1/applications/by_token/${t}/submit`, { annual_revenue_band: "100k-1m",
    employees_band: "11-50", industry_risk: "medium" }));
  assert.deepEqual([done.status, done.credit.risk_tier, done.credit.credit_limit], ["approved", 4, 200000]);
  err(await asBuyer("POST", `/v1/applications/by_token/${t}/submit`, {}), 409);
  err(await asBuyer("PUT", `/v1/applications/by_token/${t}`, { city: "Elsewhere" }), 409);
  assert.equal(ok(await c.api.get(`/v1/customers/${cu.guid}/credit`)).risk_tier, 4);
  // The token is good for its application only.
  err(await call(w.base, "GET", "/v1/customers", { headers: bearer(app.token) }), 403);
  err(await call(w.base, "GET", `/v1/applications/${app.guid}`, { headers: bearer(app.token) }), 403);
  err(await asBuyer("GET", `/v1/applications/by_token/${encodeURIComponent(c.guid + "_" + "x".repeat(44))}`), 401);
  err(await c.api.post("/v1/applications", { legal_name: "x" }), 400, "customer_guid");
  err(await c.api.post("/v1/applications", { customer_guid: cu.guid, legal_name: "x".repeat(201) }), 400, "legal_name");
  assert.equal(ok(await c.api.get("/v1/applications")).total_count, 1);
});

test("metadata on every object: set, merge, delete, filter lists by it; bad keys and values are 400s", async () => {
  const c = await company();
  const cu = ok(await c.api.post("/v1/customers", { "metadata[crm_id]": "42", "metadata[tier]": "gold" }));
  assert.deepEqual(cu.metadata, { crm_id: "42", tier: "gold" });
  ok(await c.api.post("/v1/customers", { "metadata[tier]": "silver" }));
  const merged = ok(await c.api.put(`/v1/customers/${cu.guid}`, { "metadata[tier]": "", "metadata[region]": "eu" }));
  assert.deepEqual(merged.metadata, { crm_id: "42", region: "eu" });
  assert.deepEqual(ok(await c.api.get("/v1/customers?metadata[region]=eu")).items.map((x) => x.guid), [cu.guid]);
  assert.equal(ok(await c.api.get("/v1/customers?metadata[tier]=silver")).total_count, 1);
  const plan = ok(await c.api.postJson("/v1/plans", { plan_type: "debit", frequency: "monthly", amount: 500, metadata: { sku: "P-1" } }));
  assert.deepEqual(plan.metadata, { sku: "P-1" });
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "100", "metadata[job]": "J-9" }));
  assert.deepEqual(iv.metadata, { job: "J-9" });
  assert.deepEqual(ok(await c.api.put(`/v1/invoices/${iv.guid}`, { "metadata[job]": "J-10" })).metadata, { job: "J-10" });
  assert.equal(ok(await c.api.get(`/v1/invoices/${iv.guid}`)).status, "staged", "a metadata update changes nothing else");
  assert.equal(ok(await c.api.get(`/v1/customers/${cu.guid}/invoices?metadata[job]=J-10`)).total_count, 1);
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: cu.guid, "metadata[seat]": "7" }));
  assert.deepEqual(ok(await c.api.put(`/v1/subscriptions/${sub.guid}`, { "metadata[seat]": "8" })).metadata, { seat: "8" });
  err(await c.api.post("/v1/customers", { [`metadata[${"k".repeat(41)}]`]: "v" }), 400, `metadata[${"k".repeat(41)}]`);
  err(await c.api.post("/v1/customers", { "metadata[k]": "v".repeat(501) }), 400, "metadata[k]");
  err(await c.api.postJson("/v1/customers", { metadata: ["x"] }), 400, "metadata");
  const fifty = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`metadata[k${i}]`, "v"]));
  err(await c.api.post("/v1/customers", fifty), 400, "metadata");
  err(await c.api.get("/v1/customers?metadata[a]b]=x"), 400);
  assert.equal(ok(await c.api.get("/v1/customers")).total_count, 2, "nothing half-written");
});

/** The customer's balance now (0 before any entry). */
const balanceOf = async (c, cu) =>
  ok(await c.api.get(`/v1/balance_transactions?customer=${cu.guid}&limit=100`)).items[0]?.ending_balance_amount ?? 0;
/** What the processor took and gave back, by kind. */
const processorNet = async (c) => ok(await c.api.get(`/v1/companies/${c.guid}/simulator`)).charges
  .filter((x) => x.status === "succeeded").reduce((s, x) => s + (x.kind === "debit" ? x.amount : -x.amount), 0);

test("a card part that fails after its terms invoice was paid: the payment goes back to the buyer, credit used never below zero", async () => {
  const c = await company();
  const cu = await buyer(c); // tier 5: 50000 of credit
  const ch = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "80000", terms_days: "15" }));
  const conf = ok(await c.api.post(`/v1/checkouts/${ch.guid}/confirm`, {
    funding_instrument_uri: "/v1/cards/always_error", terms_funding_instrument_uri: "/v1/cards/ok" }));
  assert.deepEqual([conf.status, conf.allocation.terms_amount, conf.allocation.card_amount], ["processing", 50000, 30000]);
  // Day 15: the terms invoice is charged and settled, on time. Weeks later the card part runs out of retries.
  await advance(c, "2024-03-01T00:00:00Z");
  assert.equal(ok(await c.api.get(`/v1/checkouts/${ch.guid}`)).status, "failed");
  const inv = ok(await c.api.get(`/v1/invoices/${conf.invoice_guid}`));
  assert.deepEqual([inv.status, inv.amount_paid], ["canceled", 50000]);
  // The 50000 the buyer paid for a checkout that failed is theirs again, as a balance credit; the credit line is
  // whole (its payment gave the credit back once, the undo gives back nothing more), and the buyer can go on.
  assert.equal(await balanceOf(c, cu), -50000);
  assert.equal(await processorNet(c), 50000, "the processor holds the terms charge: the balance credit stands for it");
  const p = await credit(c, cu);
  assert.equal(p.credit_used, 0);
  const next = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "1000" }));
  assert.equal(next.allocation.balance_applied, 1000, "the returned payment pays the next checkout");
});

test("a terms invoice is never paid twice: no recorded payment while its charge is at the processor; a late charge goes back", async () => {
  const c = await company();
  const cu = await buyer(c);
  const ch = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "30000" }));
  const conf = ok(await c.api.post(`/v1/checkouts/${ch.guid}/confirm`, { terms_days: "15", terms_funding_instrument_uri: "/v1/cards/pending" }));
  await advance(c, "2024-01-16T00:00:00Z"); // the due-date charge is pending at the processor
  const rec = await c.api.post(`/v1/invoices/${conf.invoice_guid}/payments`, {});
  assert.deepEqual([rec.status, rec.body.error.code], [409, "payment_pending"]);
  await advance(c, "2024-01-16T02:00:00Z"); // the pending charge succeeds
  const inv = ok(await c.api.get(`/v1/invoices/${conf.invoice_guid}`));
  assert.deepEqual([inv.status, inv.amount_paid], ["settled", 30000]);
  assert.equal((await credit(c, cu)).credit_used, 0);
  assert.equal(await balanceOf(c, cu), 0);
  // A charge still in flight when its checkout fails finds the invoice canceled. With 7 attempts the card part fails
  // at day 16 + 7 h; the terms charge, staged at day 15 on a card that always errs, is retrying then: the checkout's
  // undo releases the whole line, and the charge's own failure later changes nothing. (Had it succeeded, its money
  // would go back whole as `invoice_overpaid`: the core's `after_terms_payment` test covers that.)
  ok(await c.api.put(`/v1/companies/${c.guid}`, { max_retry_attempts: "7" }));
  const cu2 = await buyer(c);
  const ch2 = ok(await c.api.post("/v1/checkouts", { customer_guid: cu2.guid, amount: "60000", terms_days: "15" }));
  const conf2 = ok(await c.api.post(`/v1/checkouts/${ch2.guid}/confirm`, {
    funding_instrument_uri: "/v1/cards/always_error", terms_funding_instrument_uri: "/v1/cards/always_error" }));
  await advance(c, "2024-02-01T12:00:00Z");
  assert.equal(ok(await c.api.get(`/v1/checkouts/${ch2.guid}`)).status, "failed");
  const inv2 = ok(await c.api.get(`/v1/invoices/${conf2.invoice_guid}`));
  const charges = ok(await c.api.get(`/v1/invoices/${inv2.guid}/transactions`)).items;
  assert.equal(inv2.status, "canceled");
  assert.equal(charges.length, 1, "the terms charge was staged at the due date");
  assert.equal((await credit(c, cu2)).credit_used, 0);
  await advance(c, "2024-04-01T00:00:00Z"); // the terms charge gives up too
  assert.equal(ok(await c.api.get(`/v1/invoices/${inv2.guid}/transactions`)).items[0].status, "failed");
  assert.deepEqual([ok(await c.api.get(`/v1/invoices/${inv2.guid}`)).status, (await credit(c, cu2)).credit_used], ["canceled", 0]);
  assert.equal(await balanceOf(c, cu2), 0);
});

test("a credit line changes currency only while none of it is used: neither the merchant nor the buyer's application can move used credit", async () => {
  const c = await company();
  const cu = await buyer(c);
  const a = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "50000", terms_days: "30" }));
  const conf = ok(await c.api.post(`/v1/checkouts/${a.guid}/confirm`, {})); // all 500.00 USD of credit used
  const moved = await c.api.post(`/v1/customers/${cu.guid}/assessments`, { ...SMALL_BUSINESS, currency: "KWD" });
  assert.deepEqual([moved.status, moved.body.error.code, moved.body.error.field], [409, "credit_in_use", "currency"]);
  const app = ok(await c.api.post("/v1/applications", { customer_guid: cu.guid, legal_name: "Acme LLC" }));
  const submit = await call(w.base, "POST", `/v1/applications/by_token/${encodeURIComponent(app.token)}/submit`, {
    headers: bearer(app.token), form: { ...SMALL_BUSINESS, currency: "KWD", address_line1: "1 Main St", city: "X",
      postal_code: "1", country: "US", contact_name: "Jo", contact_email: "a@b.co" } });
  assert.deepEqual([submit.status, submit.body.error.code], [409, "credit_in_use"]);
  assert.equal(ok(await c.api.get(`/v1/applications/${app.guid}`)).status, "draft", "nothing of the submission was kept");
  const p = await credit(c, cu);
  assert.deepEqual([p.currency, p.credit_used], ["USD", 50000]);
  // The same currency is a plain re-assessment; once the invoice is paid the line may move.
  ok(await c.api.post(`/v1/customers/${cu.guid}/assessments`, SMALL_BUSINESS));
  ok(await c.api.post(`/v1/invoices/${conf.invoice_guid}/payments`, {}));
  const kwd = ok(await c.api.post(`/v1/customers/${cu.guid}/assessments`, { ...SMALL_BUSINESS, currency: "KWD" }));
  assert.deepEqual([kwd.currency, kwd.credit_used], ["KWD", 0]);
});

test("no recorded payment while a terms charge that lost its answer awaits reconciliation", async () => {
  const c = await company();
  ok(await c.api.put(`/v1/companies/${c.guid}`, { max_retry_attempts: "1" }));
  const cu = await buyer(c);
  const ch = ok(await c.api.post("/v1/checkouts", { customer_guid: cu.guid, amount: "20000", terms_days: "15" }));
  const conf = ok(await c.api.post(`/v1/checkouts/${ch.guid}/confirm`, { terms_funding_instrument_uri: "/v1/cards/lost_response" }));
  await advance(c, "2024-01-16T00:00:01Z");
  const rec = await c.api.post(`/v1/invoices/${conf.invoice_guid}/payments`, {});
  assert.deepEqual([rec.status, rec.body.error?.code], [409, "payment_pending"]);
  await advance(c, "2024-01-17T00:00:00Z"); // reconciliation finds the charge: paid once
  const inv = ok(await c.api.get(`/v1/invoices/${conf.invoice_guid}`));
  assert.deepEqual([inv.status, inv.amount_paid], ["settled", 20000]);
  assert.equal(await balanceOf(c, cu), 0);
});
