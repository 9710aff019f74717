// The Stripe adapter end to end: the worker in workerd, its STRIPE_API_BASE pointed at localstripe (PyPI: a fake,
// stateful Stripe server; installed by tests/stripe/setup.sh into a virtualenv) through a small proxy that records
// every request, can lose an answer after localstripe acted on it, and answers the Connect endpoints localstripe
// does not have (Transfers and their reversals) with responses of Stripe's documented shape.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { call, client, err, ok, startWorker } from "./harness.mjs";
import { ROOT } from "../../scripts/miniflare.mjs";

const SK = "sk_test_billyedgelocalstripe";
const WHSEC = "whsec_billyedgetestsecret";
let w, stripe, proxy, lsPort;
/** Every request the worker sent to "Stripe": {method, path, idempotencyKey, body}. */
const seen = [];
/** Paths whose next answer the proxy loses (after localstripe has acted on the request). */
const loseNext = new Set();
const transfers = new Map();

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

/** Stripe's own API (localstripe), for the test to set up payment methods and read what the worker did. */
async function ls(method, p, form) {
  const res = await fetch(`http://127.0.0.1:${lsPort}${p}`, { method, headers: { authorization: `Bearer ${SK}`,
    ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}) }, body: form ? new URLSearchParams(form) : undefined });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function card(number) {
  const pm = await ls("POST", "/v1/payment_methods", { type: "card", "card[number]": number, "card[exp_month]": "12",
    "card[exp_year]": "2030", "card[cvc]": "123" });
  assert.equal(pm.status, 200, JSON.stringify(pm.body));
  return pm.body.id;
}

/** Every PaymentIntent localstripe holds for one of our transactions. */
async function intentsFor(txGuid) {
  const all = [];
  for (let after = null; ;) {
    const page = await ls("GET", `/v1/payment_intents?limit=100${after ? `&starting_after=${after}` : ""}`);
    all.push(...page.body.data);
    if (!page.body.has_more) break;
    after = page.body.data.at(-1).id;
  }
  return all.filter((pi) => pi.metadata?.billy_transaction === txGuid);
}

function startProxy(port) {
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString();
    const url = new URL(req.url, "http://x");
    seen.push({ method: req.method, path: url.pathname, idempotencyKey: req.headers["idempotency-key"] ?? null, body });
    const send = (status, json) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(json)); };
    // Connect, which localstripe lacks: a transfer and a transfer reversal as Stripe answers them.
    const form = Object.fromEntries(new URLSearchParams(body));
    if (req.method === "POST" && url.pathname === "/v1/transfers") {
      const t = { id: `tr_${transfers.size + 1}`, object: "transfer", amount: Number(form.amount), currency: form.currency,
        destination: form.destination, reversed: false, amount_reversed: 0, metadata: { billy_transaction: form["metadata[billy_transaction]"] } };
      transfers.set(t.id, t);
      return send(200, t);
    }
    const rev = /^\/v1\/transfers\/(tr_\d+)\/reversals$/.exec(url.pathname);
    if (req.method === "POST" && rev) {
      const t = transfers.get(rev[1]);
      if (!t) return send(404, { error: { type: "invalid_request_error", code: "resource_missing", message: "No such transfer" } });
      t.amount_reversed += Number(form.amount);
      return send(200, { id: `trr_${t.amount_reversed}`, object: "transfer_reversal", amount: Number(form.amount), transfer: t.id,
        metadata: { billy_transaction: form["metadata[billy_transaction]"] } });
    }
    if (req.method === "GET" && url.pathname === "/v1/transfers") return send(200, { object: "list", data: [...transfers.values()].reverse(), has_more: false });
    const upstream = await fetch(`http://127.0.0.1:${port}${req.url}`, { method: req.method,
      headers: { authorization: req.headers.authorization, ...(body ? { "content-type": req.headers["content-type"] } : {}),
        ...(req.headers["idempotency-key"] ? { "idempotency-key": req.headers["idempotency-key"] } : {}),
        ...(req.headers["stripe-version"] ? { "stripe-version": req.headers["stripe-version"] } : {}) },
      body: body || undefined });
    const text = await upstream.text();
    const key = `${req.method} ${url.pathname}`;
    if (loseNext.has(key)) { loseNext.delete(key); req.socket.destroy(); return; } // localstripe acted; the answer is lost
    res.writeHead(upstream.status, { "content-type": "application/json" });
    res.end(text);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

before(async () => {
  const setup = spawnSync("bash", [path.join(ROOT, "tests/stripe/setup.sh")], { stdio: "inherit" });
  assert.equal(setup.status, 0, "tests/stripe/setup.sh installs localstripe");
  lsPort = await freePort();
  stripe = spawn(path.join(ROOT, "tests/.tmp/localstripe/venv/bin/python"), [path.join(ROOT, "tests/stripe/serve.py"), String(lsPort)],
    { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  await new Promise((resolve, reject) => {
    const onData = (d) => { log += d; if (log.includes("listening")) resolve(); };
    stripe.stdout.on("data", onData);
    stripe.stderr.on("data", (d) => { log += d; });
    stripe.on("exit", (code) => reject(new Error(`localstripe exited ${code}: ${log}`)));
  });
  proxy = await startProxy(lsPort);
  w = await startWorker({ bindings: { STRIPE_API_BASE: `http://127.0.0.1:${proxy.address().port}` } });
});

after(async () => {
  await w?.stop();
  proxy?.close();
  stripe?.kill();
});

/** A test-mode company with a frozen clock, switched to Stripe with one request. */
async function stripeCompany() {
  const res = await call(w.base, "POST", "/v1/companies", { form: { clock: "2024-01-01T00:00:00Z" } });
  const c = { guid: res.body.guid, key: res.body.api_key, api: client(w.base, res.body.api_key) };
  const switched = ok(await c.api.put(`/v1/companies/${c.guid}`, { processor: "stripe", processor_key: SK, stripe_webhook_secret: WHSEC }));
  assert.deepEqual([switched.processor, switched.processor_key_last4, switched.stripe_webhook_secret_set], ["stripe", SK.slice(-4), true]);
  assert.ok(!JSON.stringify(switched).includes(SK), "the key is never answered");
  return c;
}

const txOf = async (c, invoice) => ok(await c.api.get(`/v1/invoices/${invoice}/transactions`)).items;

test("a company switches to Stripe with one request; the key is sealed, never shown; live mode needs a live key", async () => {
  const c = await stripeCompany();
  const got = ok(await c.api.get(`/v1/companies/${c.guid}`));
  assert.equal(got.processor, "stripe");
  assert.ok(!JSON.stringify(got).includes(SK));
  err(await c.api.put(`/v1/companies/${c.guid}`, { processor_key: "sk_live_notforatestcompany" }), 400, "processor_key");
  err(await c.api.put(`/v1/companies/${c.guid}`, { stripe_webhook_secret: "nope" }), 400, "stripe_webhook_secret");
  err(await call(w.base, "POST", "/v1/companies", { form: { test_mode: "false" } }), 400, "processor_key");
  err(await call(w.base, "POST", "/v1/companies", { form: { test_mode: "false", processor: "simulator" } }), 400, "processor");
  const live = ok(await call(w.base, "POST", "/v1/companies", { form: { test_mode: "false", processor_key: "sk_live_billyedgetest0001" } }));
  assert.deepEqual([live.test_mode, live.processor, live.processor_key_last4], [false, "stripe", "0001"]);
  // Billy's clients send a processor key of their own: a test-mode company keeps the simulator.
  const billy = ok(await call(w.base, "POST", "/v1/companies", { form: { processor_key: "ef13dce2093b11e388de026ba7d31e6f" } }));
  assert.deepEqual([billy.processor, billy.processor_key_last4], ["simulator", "1e6f"]);
});

test("an invoice is a PaymentIntent confirmed off-session, sent with our transaction guid as Idempotency-Key; a refund is a Stripe Refund", async () => {
  const c = await stripeCompany();
  const pm = await card("4242424242424242");
  const customer = ok(await c.api.post("/v1/customers", {}));
  const inv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "1234", funding_instrument_uri: pm }));
  assert.equal(inv.status, "settled");
  const [debit] = await txOf(c, inv.guid);
  const intents = await intentsFor(debit.guid);
  assert.equal(intents.length, 1);
  assert.deepEqual([intents[0].amount, intents[0].currency, intents[0].status], [1234, "usd", "succeeded"]);
  assert.equal(debit.processor_uri, `/v1/payment_intents/${intents[0].id}`);
  const sent = seen.find((r) => r.method === "POST" && r.path === "/v1/payment_intents" && r.body.includes(debit.guid));
  assert.equal(sent.idempotencyKey, debit.guid);
  const refunded = ok(await c.api.post(`/v1/invoices/${inv.guid}/refund`, { amount: "500" }));
  const refund = (await txOf(c, refunded.guid)).find((t) => t.transaction_type === "refund");
  assert.deepEqual([refund.status, refund.amount], ["succeeded", 500]);
  const stripeRefunds = (await ls("GET", "/v1/refunds?limit=100")).body.data.filter((r) => r.metadata?.billy_transaction === refund.guid);
  assert.equal(stripeRefunds.length, 1);
  assert.deepEqual([stripeRefunds[0].amount, stripeRefunds[0].payment_intent], [500, intents[0].id]);
  assert.equal(seen.find((r) => r.path === "/v1/refunds" && r.body.includes(refund.guid)).idempotencyKey, refund.guid);
});

test("a subscription is charged through PaymentIntents every period, a customer's saved method as cus_…/pm_…", async () => {
  const c = await stripeCompany();
  const cus = (await ls("POST", "/v1/customers", { email: "buyer@example.com" })).body.id;
  const pm = await card("4242424242424242");
  assert.equal((await ls("POST", `/v1/payment_methods/${pm}/attach`, { customer: cus })).status, 200);
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", frequency: "daily", amount: "700" }));
  const customer = ok(await c.api.post("/v1/customers", {}));
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: customer.guid, funding_instrument_uri: `${cus}/${pm}` }));
  ok(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-01-03T00:00:00Z" }));
  const invoices = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/invoices`)).items;
  assert.equal(invoices.length, 3);
  for (const inv of invoices) {
    assert.equal(inv.status, "settled");
    const [debit] = await txOf(c, inv.guid);
    const [pi] = await intentsFor(debit.guid);
    assert.deepEqual([pi.amount, pi.customer, pi.status], [700, cus, "succeeded"]);
  }
});

test("a declined card is a hard decline: the invoice fails at once, Stripe is asked once, nothing is retried", async () => {
  const c = await stripeCompany();
  const pm = await card("4000000000000341");
  const customer = ok(await c.api.post("/v1/customers", {}));
  const inv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "900", funding_instrument_uri: pm }));
  assert.equal(inv.status, "failed");
  const [debit] = await txOf(c, inv.guid);
  assert.deepEqual([debit.submit_status, debit.status, debit.failures.at(-1).error_code], ["failed", "failed", "card_declined"]);
  ok(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-01-20T00:00:00Z" }));
  assert.equal(seen.filter((r) => r.method === "POST" && r.path === "/v1/payment_intents" && r.body.includes(debit.guid)).length, 1);
  // A payment method Stripe has never heard of is no better.
  const ghost = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "900", funding_instrument_uri: "pm_doesnotexist" }));
  assert.equal(ghost.status, "failed");
  // Something that is no Stripe instrument at all.
  const bad = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "900", funding_instrument_uri: "/v1/cards/ok" }));
  assert.equal(bad.status, "failed");
  assert.match((await txOf(c, bad.guid))[0].failures.at(-1).error_message, /payment method \(pm_…\)/);
});

test("a lost answer: the retry finds the first PaymentIntent by its metadata before creating anything, so there is one", async () => {
  const c = await stripeCompany();
  const pm = await card("4242424242424242");
  const customer = ok(await c.api.post("/v1/customers", {}));
  loseNext.add("POST /v1/payment_intents");
  const inv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "4321", funding_instrument_uri: pm }));
  assert.notEqual(inv.status, "settled", "the answer was lost: we do not know yet");
  const [debit] = await txOf(c, inv.guid);
  assert.equal((await intentsFor(debit.guid)).length, 1, "localstripe did take the money");
  ok(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-01-01T02:00:00Z" })); // past the 1 h retry
  assert.equal(ok(await c.api.get(`/v1/invoices/${inv.guid}`)).status, "settled");
  const [after] = await txOf(c, inv.guid);
  assert.deepEqual([after.status, after.processor_uri], ["succeeded", `/v1/payment_intents/${(await intentsFor(debit.guid))[0].id}`]);
  assert.equal((await intentsFor(debit.guid)).length, 1, "still one PaymentIntent: no second charge");
  // The same for a refund whose answer is lost: its retry finds the Refund, so the money goes back once.
  loseNext.add("POST /v1/refunds");
  ok(await c.api.post(`/v1/invoices/${inv.guid}/refund`, { amount: "321" }));
  const refund = (await txOf(c, inv.guid)).find((t) => t.transaction_type === "refund");
  assert.notEqual(refund.status, "succeeded");
  ok(await c.api.post(`/v1/companies/${c.guid}/clock`, { advance_to: "2024-01-01T04:00:00Z" }));
  const refunds = (await ls("GET", "/v1/refunds?limit=100")).body.data.filter((r) => r.metadata?.billy_transaction === refund.guid);
  assert.equal(refunds.length, 1, "one Stripe Refund");
  assert.equal((await txOf(c, inv.guid)).find((t) => t.guid === refund.guid).status, "succeeded");
});

/** A Stripe-signed webhook delivery. */
function signed(event, { secret = WHSEC, at = Math.floor(Date.now() / 1000), tamper = false } = {}) {
  const body = JSON.stringify(event);
  const sig = createHmac("sha256", secret).update(`${at}.${body}`).digest("hex");
  return { raw: tamper ? body.replace("succeeded", "succeeded ") : body,
    headers: { "content-type": "application/json", "stripe-signature": `t=${at},v1=${sig}` } };
}

test("Stripe webhooks: a valid signature is applied once, tampered or stale ones are 400; a 3-D Secure payment settles from its event", async () => {
  const c = await stripeCompany();
  const pm = await card("4000002500003155");
  const customer = ok(await c.api.post("/v1/customers", {}));
  const inv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "2500", funding_instrument_uri: pm }));
  assert.equal(inv.status, "processing", "requires_action: the buyer must authenticate");
  const [debit] = await txOf(c, inv.guid);
  assert.equal(debit.status, "pending");
  assert.match(debit.failures.at(-1)?.error_message ?? "", /authenticate/);
  const [pi] = await intentsFor(debit.guid);
  // The buyer authenticates (localstripe's stand-in for the 3-D Secure page), and Stripe tells us.
  const auth = await ls("POST", `/v1/payment_intents/${pi.id}/_authenticate`, { client_secret: pi.client_secret, success: "true", key: "pk_test_billyedge" });
  assert.equal(auth.status, 200, JSON.stringify(auth.body));
  const event = { id: `evt_${debit.guid}`, object: "event", type: "payment_intent.succeeded", created: Math.floor(Date.now() / 1000),
    data: { object: { id: pi.id, object: "payment_intent", status: "succeeded", metadata: { billy_transaction: debit.guid } } } };
  const hook = `/v1/processors/stripe/webhooks/${c.guid}`;
  const tampered = await call(w.base, "POST", hook, signed(event, { tamper: true }));
  assert.deepEqual([tampered.status, tampered.body.error.code], [400, "invalid_signature"]);
  const stale = await call(w.base, "POST", hook, signed(event, { at: Math.floor(Date.now() / 1000) - 600 }));
  assert.deepEqual([stale.status, stale.body.error.field], [400, "Stripe-Signature"]);
  const wrong = await call(w.base, "POST", hook, signed(event, { secret: "whsec_someoneelse" }));
  assert.equal(wrong.status, 400);
  assert.equal(ok(await c.api.get(`/v1/invoices/${inv.guid}`)).status, "processing", "nothing applied from a bad signature");
  const first = ok(await call(w.base, "POST", hook, signed(event)));
  assert.deepEqual([first.duplicate, first.applied], [false, true]);
  assert.equal(ok(await c.api.get(`/v1/invoices/${inv.guid}`)).status, "settled");
  const again = ok(await call(w.base, "POST", hook, signed(event)));
  assert.equal(again.duplicate, true, "an event id is applied once");
  // A made-up company, a Stripe company without a webhook secret, a simulator company: 404, nothing applied.
  assert.equal((await call(w.base, "POST", `/v1/processors/stripe/webhooks/CPnope`, signed(event))).status, 404);
  const noSecret = ok(await call(w.base, "POST", "/v1/companies", { form: { processor: "stripe", processor_key: SK } }));
  assert.equal((await call(w.base, "POST", `/v1/processors/stripe/webhooks/${noSecret.guid}`, signed(event))).status, 404);
  const sim = ok(await call(w.base, "POST", "/v1/companies", { form: {} }));
  assert.equal((await call(w.base, "POST", `/v1/processors/stripe/webhooks/${sim.guid}`, signed(event))).status, 404);
  // While a payment is in flight at Stripe the company cannot move to another account or processor.
  const waiting = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "700", funding_instrument_uri: pm }));
  assert.equal(waiting.status, "processing");
  const busy = err(await c.api.put(`/v1/companies/${c.guid}`, { processor: "simulator" }), 409, "processor");
  assert.equal(busy.code, "processor_busy");
  ok(await c.api.put(`/v1/companies/${c.guid}`, { stripe_webhook_secret: "whsec_rotatedsecret1" }));
});

test("escrow on Stripe: a payout is a Transfer to the merchant's connected account, a reversal its Transfer Reversal; anything else is 422", async () => {
  const c = await stripeCompany();
  const pm = await card("4242424242424242");
  const merchant = ok(await c.api.post("/v1/customers", { processor_uri: "acct_1MerchantConnected" }));
  const buyer = ok(await c.api.post("/v1/customers", {}));
  const order = ok(await c.api.post(`/v1/customers/${merchant.guid}/orders`, { description: "on Stripe" }));
  const debit = ok(await c.api.post(`/v1/orders/${order.guid}/debits`, { customer_guid: buyer.guid, amount: "10000", funding_instrument_uri: pm }));
  assert.equal(debit.status, "succeeded");
  const credit = ok(await c.api.post(`/v1/orders/${order.guid}/credits`, { amount: "6000" }));
  assert.equal(credit.status, "succeeded");
  const transfer = [...transfers.values()].find((t) => t.metadata.billy_transaction === credit.guid);
  assert.deepEqual([transfer.amount, transfer.destination], [6000, "acct_1MerchantConnected"]);
  assert.equal(seen.find((r) => r.path === "/v1/transfers" && r.body.includes(credit.guid)).idempotencyKey, credit.guid);
  const reversal = ok(await c.api.post(`/v1/transactions/${credit.guid}/reversals`, { amount: "1000" }));
  assert.equal(reversal.status, "succeeded");
  assert.equal(transfer.amount_reversed, 1000);
  const bank = ok(await c.api.post("/v1/customers", { processor_uri: "/v1/bank_accounts/joe" }));
  const order2 = ok(await c.api.post(`/v1/customers/${bank.guid}/orders`, {}));
  ok(await c.api.post(`/v1/orders/${order2.guid}/debits`, { customer_guid: buyer.guid, amount: "5000", funding_instrument_uri: pm }));
  const refused = err(await c.api.post(`/v1/orders/${order2.guid}/credits`, { amount: "100" }), 422);
  assert.equal(refused.code, "processor_unsupported");
});

test("money goes back through the processor that moved it: after a switch to the simulator, a refund of a Stripe payment is 409", async () => {
  const c = await stripeCompany();
  const pm = await card("4242424242424242");
  const customer = ok(await c.api.post("/v1/customers", {}));
  const inv = ok(await c.api.post("/v1/invoices", { customer_guid: customer.guid, amount: "5000", funding_instrument_uri: pm }));
  assert.equal(inv.status, "settled");
  ok(await c.api.put(`/v1/companies/${c.guid}`, { processor: "simulator" }));
  const refused = err(await c.api.post(`/v1/invoices/${inv.guid}/refund`, { amount: "5000" }), 409);
  assert.equal(refused.code, "processor_changed");
  assert.equal((await txOf(c, inv.guid)).filter((t) => t.transaction_type === "refund").length, 0, "nothing recorded");
});
