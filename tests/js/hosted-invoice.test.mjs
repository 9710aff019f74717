// Hosted invoices over real HTTP: every view of an invoice (answers, every list, webhook payloads) carries its
// hosted_invoice_url, whose token is derived, not stored; the token alone (no API key) reads its invoice with what
// the page shows and pays it exactly as PUT /v1/invoices/<guid> does (a decline, paying again, 409 once settled or
// canceled, a terms invoice refused); a forged token, another invoice's or another company's is a 404 that never
// says whether an invoice exists; the company's name is set with PUT /v1/companies/<guid>.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { CARD, advance, call, err, newCompany, ok, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const DECLINE = "/v1/cards/hard_decline";
const URL_SHAPE = /^\/i\/(CP[1-9A-HJ-NP-Za-km-z]+)\.(IV[1-9A-HJ-NP-Za-km-z]+)\.([0-9a-f]{32})$/;
const tokenOf = (invoice) => invoice.hosted_invoice_url.slice("/i/".length);
/** The buyer: no key at all. */
const buyer = {
  get: (token) => call(w.base, "GET", `/v1/hosted_invoices/${encodeURIComponent(token)}`),
  pay: (token, body, headers = {}) => call(w.base, "POST", `/v1/hosted_invoices/${encodeURIComponent(token)}/pay`, { json: body, headers }),
};

/** A receiver that keeps every webhook event it is sent (signatures are webhooks.test.mjs's concern). */
async function receiver() {
  const events = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => { body += d; });
    req.on("end", () => { events.push(JSON.parse(body)); res.writeHead(204); res.end(); });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/hooks`, events,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

test("every view of an invoice carries its hosted_invoice_url: create, get, every list, webhook payloads", async () => {
  const rx = await receiver();
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  ok(await c.api.post("/v1/webhook_endpoints", { url: rx.url, events: "invoice.created,invoice.updated" }));
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", frequency: "monthly", amount: "500" }));
  const cu = ok(await c.api.post("/v1/customers", {}));
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: cu.guid, funding_instrument_uri: CARD }));
  const created = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "900" }));
  const m = URL_SHAPE.exec(created.hosted_invoice_url);
  assert.ok(m, created.hosted_invoice_url);
  assert.deepEqual([m[1], m[2]], [c.guid, created.guid], "the token names its company and its invoice");
  assert.equal(ok(await c.api.get(`/v1/invoices/${created.guid}`)).hosted_invoice_url, created.hosted_invoice_url,
    "derived again, the same");
  const [subInvoice] = ok(await c.api.get(`/v1/subscriptions/${sub.guid}/invoices`)).items;
  const lists = ["/v1/invoices", `/v1/customers/${cu.guid}/invoices`, `/v1/subscriptions/${sub.guid}/invoices`,
    `/v1/plans/${plan.guid}/invoices`];
  const byGuid = new Map();
  for (const p of lists) {
    for (const inv of ok(await c.api.get(p)).items) {
      assert.match(inv.hosted_invoice_url, URL_SHAPE, p);
      assert.equal(URL_SHAPE.exec(inv.hosted_invoice_url)[2], inv.guid, p);
      if (byGuid.has(inv.guid)) assert.equal(inv.hosted_invoice_url, byGuid.get(inv.guid), `${p}: one url per invoice`);
      byGuid.set(inv.guid, inv.hosted_invoice_url);
    }
  }
  assert.deepEqual([...byGuid.keys()].sort(), [created.guid, subInvoice.guid].sort());
  assert.notEqual(tokenOf(created).split(".")[2], tokenOf(subInvoice).split(".")[2]);
  // Updates answer it too (a metadata change, a refund).
  assert.equal(ok(await c.api.put(`/v1/invoices/${created.guid}`, { "metadata[k]": "v" })).hosted_invoice_url, created.hosted_invoice_url);
  assert.equal(ok(await c.api.post(`/v1/invoices/${subInvoice.guid}/refund`, { amount: "100" })).hosted_invoice_url,
    subInvoice.hosted_invoice_url);
  // Webhook payloads: every invoice event's data is the view, with the same url (a frozen clock delivers as it moves).
  await advance(c, "2024-01-01T00:00:01Z");
  for (let i = 0; i < 100 && rx.events.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
  const invoiceEvents = rx.events.filter((e) => e.type.startsWith("invoice."));
  assert.deepEqual(invoiceEvents.map((e) => e.type).sort(), ["invoice.created", "invoice.created", "invoice.updated"]);
  for (const e of invoiceEvents) assert.equal(e.data.hosted_invoice_url, byGuid.get(e.data.guid), e.type);
  await rx.close();
});

test("the token alone reads its invoice with what the page shows; paying declines, pays again, then 409", async () => {
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  ok(await c.api.put(`/v1/companies/${c.guid}`, { name: "Acme Supplies Ltd." }));
  ok(await c.api.post("/v1/coupons", { code: "TEN", percent_off: "10", duration: "once" }));
  const cu = ok(await c.api.post("/v1/customers", {}));
  const inv = ok(await c.api.postJson("/v1/invoices", { customer_guid: cu.guid, amount: 12000, title: "March",
    items: [{ name: "Consulting", amount: 10000, quantity: 4, unit: "hour" }, { name: "Travel", amount: 2000 }],
    adjustments: [{ amount: -1000, reason: "loyalty" }], coupon: "TEN" }));
  assert.equal(inv.status, "staged");
  const token = tokenOf(inv);
  let h = ok(await buyer.get(token));
  assert.equal(h.object, "hosted_invoice");
  assert.equal(h.company_name, "Acme Supplies Ltd.");
  assert.deepEqual([h.guid, h.status, h.currency, h.amount, h.effective_amount, h.title, h.due_at, h.payable],
    [inv.guid, "staged", "USD", 12000, 9800, "March", null, true]);
  assert.deepEqual(h.items.map((i) => [i.name, i.amount, i.quantity]), [["Consulting", 10000, 4], ["Travel", 2000, null]]);
  assert.deepEqual(h.adjustments, [{ amount: -1000, reason: "loyalty" }, { amount: -1200, reason: "coupon TEN" }]);
  assert.equal(h.hosted_invoice_url, inv.hosted_invoice_url);
  assert.deepEqual(h.transactions, []);

  err(await buyer.pay(token, {}), 400, "funding_instrument_uri");
  h = ok(await buyer.pay(token, { funding_instrument_uri: DECLINE }));
  assert.equal(h.status, "failed");
  assert.equal(h.payable, true, "a declined invoice can be paid again");
  assert.ok(!("funding_instrument_uri" in h) && !("metadata" in h), "the page never hands out the stored instrument or metadata");
  assert.equal(h.transactions.length, 1);
  assert.deepEqual([h.transactions[0].transaction_type, h.transactions[0].amount, h.transactions[0].status,
    h.transactions[0].failure_code], ["debit", 9800, "failed", "card-declined"]);
  assert.match(h.transactions[0].failure_message, /declined/);
  assert.equal(ok(await c.api.get(`/v1/invoices/${inv.guid}`)).status, "failed", "the API says the same");

  h = ok(await buyer.pay(token, { funding_instrument_uri: "/v1/cards/ok" }, { "idempotency-key": "pay-1" }));
  assert.deepEqual([h.status, h.payable, h.transactions.map((t) => t.status)], ["settled", false, ["failed", "succeeded"]]);
  const replay = await buyer.pay(token, { funding_instrument_uri: "/v1/cards/ok" }, { "idempotency-key": "pay-1" });
  assert.equal(replay.headers.get("idempotent-replayed"), "true");
  assert.equal(replay.body.status, "settled");
  const api = ok(await c.api.get(`/v1/invoices/${inv.guid}`));
  assert.deepEqual([api.status, api.funding_instrument_uri], ["settled", "/v1/cards/ok"]);
  assert.deepEqual(api.metadata, {}, "the buyer changes no metadata");
  assert.equal(err(await buyer.pay(token, { funding_instrument_uri: CARD }), 409).code, "invalid_state", "settled");
  const txs = ok(await c.api.get(`/v1/invoices/${inv.guid}/transactions`)).items;
  assert.equal(txs.filter((t) => t.status === "succeeded").length, 1, "charged once");

  // A refund shows on the page.
  ok(await c.api.post(`/v1/invoices/${inv.guid}/refund`, { amount: "900" }));
  h = ok(await buyer.get(token));
  assert.deepEqual(h.transactions.map((t) => [t.transaction_type, t.amount, t.status]),
    [["debit", 9800, "failed"], ["debit", 9800, "succeeded"], ["refund", 900, "succeeded"]]);

  // A canceled invoice cannot be paid; the buyer's body carries no metadata into it.
  const other = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "500" }));
  ok(await c.api.post(`/v1/invoices/${other.guid}/cancel`, {}));
  const canceled = ok(await buyer.get(tokenOf(other)));
  assert.deepEqual([canceled.status, canceled.payable], ["canceled", false]);
  assert.equal(err(await buyer.pay(tokenOf(other), { funding_instrument_uri: CARD }), 409).code, "invalid_state");
  const third = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "700" }));
  ok(await buyer.pay(tokenOf(third), { funding_instrument_uri: CARD, metadata: { owner: "buyer" } }));
  assert.deepEqual(ok(await c.api.get(`/v1/invoices/${third.guid}`)).metadata, {});
});

test("a terms invoice shows its due date and is refused for payment as PUT refuses it", async () => {
  const rx = await receiver();
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  ok(await c.api.post("/v1/webhook_endpoints", { url: rx.url, events: "invoice.created" }));
  const cu = ok(await c.api.post("/v1/customers", {}));
  ok(await c.api.post(`/v1/customers/${cu.guid}/assessments`, { years_in_business: "0", annual_revenue_band: "0-100k",
    employees_band: "1-10", industry_risk: "high" }));
  const ch = ok(await c.api.postJson("/v1/checkouts", { customer_guid: cu.guid, terms_days: 30,
    items: [{ name: "Oak desk", quantity: 1, unit_amount: 30000 }] }));
  const conf = ok(await c.api.post(`/v1/checkouts/${ch.guid}/confirm`, {}));
  const inv = ok(await c.api.get(`/v1/invoices/${conf.invoice_guid}`));
  assert.match(inv.hosted_invoice_url, URL_SHAPE);
  const h = ok(await buyer.get(tokenOf(inv)));
  assert.deepEqual([h.invoice_type, h.status, h.currency, h.due_at, h.payable, h.effective_amount],
    ["terms", "open", "USD", "2024-01-31T00:00:00.000000+00:00", false, 30000]);
  assert.deepEqual(h.items.map((i) => [i.name, i.quantity, i.amount]), [["Oak desk", 1, 30000]]);
  const refused = err(await buyer.pay(tokenOf(inv), { funding_instrument_uri: CARD }), 409);
  const put = err(await c.api.put(`/v1/invoices/${inv.guid}`, { funding_instrument_uri: CARD }), 409);
  assert.deepEqual([refused.code, refused.message], [put.code, put.message]);
  // A payment the merchant records shows as one.
  ok(await c.api.post(`/v1/invoices/${inv.guid}/payments`, { amount: "10000" }));
  const after = ok(await buyer.get(tokenOf(inv)));
  assert.deepEqual([after.amount_paid, after.transactions.map((t) => [t.amount, t.status, t.reason])],
    [10000, [[10000, "succeeded", "external_payment"]]]);
  // Its webhook payload (www/terms.js) carries the same url.
  await advance(c, "2024-01-01T00:00:01Z");
  for (let i = 0; i < 100 && rx.events.length < 1; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(rx.events.map((e) => [e.type, e.data.guid, e.data.hosted_invoice_url]),
    [["invoice.created", inv.guid, inv.hosted_invoice_url]]);
  await rx.close();
});

test("forged, altered, another invoice's and another company's tokens are all the same 404", async () => {
  const a = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const b = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const cuA = ok(await a.api.post("/v1/customers", {}));
  const cuB = ok(await b.api.post("/v1/customers", {}));
  const ia = ok(await a.api.post("/v1/invoices", { customer_guid: cuA.guid, amount: "900" }));
  const ia2 = ok(await a.api.post("/v1/invoices", { customer_guid: cuA.guid, amount: "800" }));
  const ib = ok(await b.api.post("/v1/invoices", { customer_guid: cuB.guid, amount: "700" }));
  const [co, iv, mac] = tokenOf(ia).split(".");
  const [coB, ivB, macB] = tokenOf(ib).split(".");
  const flip = (s) => s.slice(0, -1) + (s.at(-1) === "0" ? "1" : "0");
  const forged = [
    `${co}.${iv}.${flip(mac)}`, // a changed MAC
    `${co}.${ia2.guid}.${mac}`, // another invoice of the same company, with this MAC
    `${co}.${ivB}.${macB}`, // B's invoice and MAC under A's company
    `${coB}.${iv}.${mac}`, // A's invoice and MAC under B's company
    `${coB}.${iv}.${macB}`, // B's MAC on A's invoice
    `${co}.${iv}.${mac.toUpperCase()}`, `${co}.${iv}`, `${co}.${iv}.${mac}.x`, `${co}_${iv}.${mac}`, "nonsense",
    `${co.slice(0, -1)}${co.at(-1) === "z" ? "y" : "z"}.${iv}.${mac}`, // a company guid whose signature fails
    `CP${"1".repeat(22)}.${iv}.${mac}`, // an unsigned company guid no one made
    ia.guid, a.key,
  ];
  const bodies = new Set();
  for (const t of forged) {
    for (const res of [await buyer.get(t), await buyer.pay(t, { funding_instrument_uri: CARD })]) {
      const e = err(res, 404);
      bodies.add(`${e.code} ${e.message}`);
    }
  }
  assert.deepEqual([...bodies], ["not_found No such hosted invoice"], "one answer whatever is wrong");
  // Nothing moved: A's invoices are unpaid, no transaction was made.
  for (const inv of [ia, ia2]) assert.equal(ok(await a.api.get(`/v1/invoices/${inv.guid}`)).status, "staged");
  assert.equal(ok(await a.api.get("/v1/transactions")).total_count, 0);
  assert.equal(ok(await b.api.get("/v1/transactions")).total_count, 0);
  // Each real token opens its own invoice, and an API key changes nothing about what it opens.
  assert.equal(ok(await buyer.get(tokenOf(ia2))).guid, ia2.guid);
  assert.equal(ok(await call(w.base, "GET", `/v1/hosted_invoices/${tokenOf(ib)}`, { key: a.key })).guid, ib.guid);
  // The token is no API key: it opens nothing else.
  for (const p of ["/v1/invoices", `/v1/invoices/${ia.guid}`, `/v1/customers/${cuA.guid}`]) {
    assert.equal((await call(w.base, "GET", p, { key: tokenOf(ia) })).status, 401, p);
  }
  assert.equal((await call(w.base, "GET", `/v1/hosted_invoices/${tokenOf(ia)}/transactions`)).status, 404);
  assert.equal((await call(w.base, "PUT", `/v1/hosted_invoices/${tokenOf(ia)}`, { form: {} })).status, 405);
});

test("the company's name: set with PUT /v1/companies/<guid>, at most 255 characters, in the company view", async () => {
  const c = await newCompany(w.base, { name: "Initial Name" });
  assert.equal(c.body.name, "Initial Name");
  assert.equal(ok(await c.api.get(`/v1/companies/${c.guid}`)).name, "Initial Name");
  assert.equal(ok(await c.api.put(`/v1/companies/${c.guid}`, { name: "Ünïcode & <Co>" })).name, "Ünïcode & <Co>");
  assert.equal(ok(await c.api.put(`/v1/companies/${c.guid}`, { max_retry_attempts: "5" })).name, "Ünïcode & <Co>",
    "unchanged when not given");
  err(await c.api.put(`/v1/companies/${c.guid}`, { name: "n".repeat(256) }), 400, "name");
  assert.equal(ok(await c.api.put(`/v1/companies/${c.guid}`, { name: "n".repeat(255) })).name.length, 255);
  const plain = await newCompany(w.base, {});
  assert.equal(plain.body.name, null);
  const cu = ok(await plain.api.post("/v1/customers", {}));
  const inv = ok(await plain.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "900" }));
  assert.equal(ok(await buyer.get(tokenOf(inv))).company_name, null);
});
