// Signed webhooks over real HTTP: a local receiver verifies every delivery with the `standardwebhooks` package, answers
// 500 twice per event, and still sees each event exactly once by id; deliveries and their attempts are listed; an
// endpoint that keeps failing is disabled; events exist only for changes that committed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { Webhook } from "standardwebhooks";
import { CARD, advance, err, newCompany, ok, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

/** A receiver that verifies signatures with `secret`, fails the first `failures` attempts of each id. */
async function receiver({ failures = 0, status = null } = {}) {
  const seen = new Map(); // id → attempts
  const accepted = [];
  const rejected = [];
  const state = { secret: null };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => { body += d; });
    req.on("end", () => {
      try {
        const event = new Webhook(state.secret).verify(body, req.headers);
        const n = (seen.get(event.id) || 0) + 1;
        seen.set(event.id, n);
        if (status !== null) { res.writeHead(status); return res.end(); }
        if (n <= failures) { res.writeHead(500); return res.end("not yet"); }
        accepted.push(event);
        res.writeHead(204);
        res.end();
      } catch (e) {
        rejected.push(String(e));
        res.writeHead(401);
        res.end();
      }
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/hooks`, seen, accepted, rejected, state,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

test("each event arrives signed and exactly once, even after the endpoint answered 500 twice", async () => {
  const rx = await receiver({ failures: 2 });
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const ep = ok(await c.api.post("/v1/webhook_endpoints", { url: rx.url, events: "invoice.created,invoice.updated,transaction.created,transaction.updated" }));
  assert.match(ep.secret, /^whsec_/);
  rx.state.secret = ep.secret;
  assert.ok(!("secret" in ok(await c.api.get(`/v1/webhook_endpoints/${ep.guid}`))), "the secret is shown once");
  const cu = ok(await c.api.post("/v1/customers", {}));
  const iv = ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "900", funding_instrument_uri: CARD }));
  // A refused request commits nothing and so sends nothing.
  err(await c.api.post(`/v1/invoices/${iv.guid}/refund`, { amount: "901" }), 400);
  // First attempts went out (500), then retries at +5 s and +5 min on the company's clock.
  await advance(c, "2024-01-01T00:00:05Z");
  await advance(c, "2024-01-01T00:10:00Z");
  const types = rx.accepted.map((e) => e.type).sort();
  assert.deepEqual(types, ["invoice.created", "invoice.updated", "transaction.created", "transaction.updated"]);
  assert.equal(new Set(rx.accepted.map((e) => e.id)).size, rx.accepted.length, "each id once");
  assert.ok([...rx.seen.values()].every((n) => n === 3), "two 500s, then the success");
  assert.deepEqual(rx.rejected, [], "every signature verified");
  const settled = rx.accepted.find((e) => e.type === "invoice.updated");
  assert.deepEqual([settled.data.guid, settled.data.status], [iv.guid, "settled"]);
  const deliveries = ok(await c.api.get(`/v1/webhook_endpoints/${ep.guid}/deliveries`)).items;
  assert.equal(deliveries.length, 4);
  for (const d of deliveries) {
    assert.deepEqual([d.status, d.attempts, d.history.map((h) => h.status_code)], ["delivered", 3, [500, 500, 204]]);
  }
  // Nothing more goes out.
  await advance(c, "2024-01-02T00:00:00Z");
  assert.equal(rx.accepted.length, 4);
  await rx.close();
});

test("endpoints: validation, subscriptions, an endpoint failing for five days is disabled, re-enable, delete", async () => {
  const rx = await receiver({ status: 500 });
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  err(await c.api.post("/v1/webhook_endpoints", { url: "ftp://x" }), 400, "url");
  err(await c.api.post("/v1/webhook_endpoints", { url: rx.url, events: "invoice.paid" }), 400, "events");
  const only = ok(await c.api.post("/v1/webhook_endpoints", { url: rx.url, events: "order.updated" }));
  const all = ok(await c.api.post("/v1/webhook_endpoints", { url: rx.url }));
  assert.deepEqual(all.events, ["*"]);
  rx.state.secret = all.secret;
  const cu = ok(await c.api.post("/v1/customers", {}));
  ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "900" }));
  assert.equal(ok(await c.api.get(`/v1/webhook_endpoints/${only.guid}/deliveries`)).total_count, 0, "not subscribed");
  // A new event every day: its deliveries keep failing; the first attempt after five days of that disables it.
  for (const day of ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-06T01:00:00Z"]) {
    await advance(c, day);
    ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "100" }));
  }
  await advance(c, "2024-01-06T02:00:00Z");
  const dead = ok(await c.api.get(`/v1/webhook_endpoints/${all.guid}`));
  assert.equal(dead.enabled, false);
  assert.ok(dead.disabled_at);
  const deliveries = ok(await c.api.get(`/v1/webhook_endpoints/${all.guid}/deliveries?limit=100`)).items;
  const first = deliveries.at(-1);
  assert.deepEqual([first.status, first.attempts], ["failed", 8], "the reference schedule's 8 attempts, then failed");
  assert.ok(deliveries.every((d) => d.status === "failed"), "a disabled endpoint's pending deliveries end too");
  const again = ok(await c.api.put(`/v1/webhook_endpoints/${all.guid}`, { enabled: "true" }));
  assert.deepEqual([again.enabled, again.disabled_at, again.failing_since], [true, null, null]);
  ok(await c.api.del(`/v1/webhook_endpoints/${all.guid}`));
  assert.equal(ok(await c.api.get(`/v1/webhook_endpoints/${all.guid}`)).enabled, false);
  const other = await newCompany(w.base, {});
  err(await other.api.get(`/v1/webhook_endpoints/${only.guid}`), 404);
  await rx.close();
});

test("subscription events: created, trial_ending three days before the trial ends, paused, resumed, updated, canceled", async () => {
  const rx = await receiver();
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const kinds = ["created", "updated", "trial_ending", "paused", "resumed", "canceled"].map((k) => `customer.subscription.${k}`);
  const ep = ok(await c.api.post("/v1/webhook_endpoints", { url: rx.url, events: kinds.join(",") }));
  rx.state.secret = ep.secret;
  const plan = ok(await c.api.post("/v1/plans", { plan_type: "debit", amount: "900", frequency: "monthly" }));
  const cu = ok(await c.api.post("/v1/customers", {}));
  const sub = ok(await c.api.post("/v1/subscriptions", { plan_guid: plan.guid, customer_guid: cu.guid,
    funding_instrument_uri: CARD, trial_days: "10" }));
  const types = () => rx.accepted.map((e) => e.type);
  await advance(c, "2024-01-07T23:59:59Z");
  assert.deepEqual(types(), ["customer.subscription.created"]);
  await advance(c, "2024-01-08T00:00:00Z");
  assert.deepEqual(types(), ["customer.subscription.created", "customer.subscription.trial_ending"]);
  const notice = rx.accepted[1];
  assert.deepEqual([notice.data.guid, notice.data.status, notice.data.trial_end], [sub.guid, "trialing", "2024-01-11T00:00:00.000000+00:00"]);
  ok(await c.api.post(`/v1/subscriptions/${sub.guid}/pause`, {}));
  ok(await c.api.post(`/v1/subscriptions/${sub.guid}/resume`, {}));
  ok(await c.api.put(`/v1/subscriptions/${sub.guid}`, { amount: "1200" }));
  ok(await c.api.post(`/v1/subscriptions/${sub.guid}/cancel`, {}));
  await advance(c, "2024-01-08T00:00:01Z");
  assert.deepEqual(types().slice(2), ["customer.subscription.paused", "customer.subscription.resumed",
    "customer.subscription.updated", "customer.subscription.canceled"]);
  assert.equal(rx.accepted.at(-1).data.status, "canceled");
  // The trial notice went out once; nothing more comes.
  await advance(c, "2024-03-01T00:00:00Z");
  assert.equal(rx.accepted.length, 6);
  assert.deepEqual(rx.rejected, []);
  await rx.close();
});

test("one order.updated per committed state: a payout's two credits are one event, a debit staged is none", async () => {
  const rx = await receiver();
  const c = await newCompany(w.base, { clock: "2024-05-01T12:00:00Z" });
  rx.state.secret = ok(await c.api.post("/v1/webhook_endpoints", { url: rx.url, events: "order.updated" })).secret;
  const merchant = ok(await c.api.post("/v1/customers", { processor_uri: "/v1/bank_accounts/joe" }));
  const buyer = ok(await c.api.post("/v1/customers", {}));
  const o = ok(await c.api.post(`/v1/customers/${merchant.guid}/orders`, {}));
  ok(await c.api.post(`/v1/orders/${o.guid}/debits`, { customer_guid: buyer.guid, amount: "1000", funding_instrument_uri: CARD }));
  await advance(c, "2024-05-01T12:00:01Z");
  const states = () => rx.accepted.map((e) => [e.data.amount, e.data.amount_escrowed, e.data.amount_credited].join("/"));
  assert.deepEqual(states(), ["1000/1000/0"], "the debit's success; its staging moved nothing");
  ok(await c.api.post(`/v1/orders/${o.guid}/payout`, { fee_rate: "0.1" }));
  await advance(c, "2024-05-01T12:00:02Z");
  assert.deepEqual(states(), ["1000/1000/0", "1000/0/1000"], "both credits in one state, never 900/100 alone, and once");
  await rx.close();
});
