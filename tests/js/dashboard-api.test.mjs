// The dashboard's API: sessions act as their merchant but never on its keys, end at their expiry on the company's
// clock or when signed out; the overview's figures; the list filters the dashboard uses.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { CARD, advance, call, client, err, newCompany, ok, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

test("a dashboard session acts as its merchant, never on its keys, and ends", async () => {
  const c = await newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });
  const s = ok(await c.api.post("/v1/dashboard/sessions", { expires_in: "3600" }));
  assert.deepEqual([s.expires_at, s.company_guid, s.key.kind], ["2024-01-01T01:00:00.000000+00:00", c.guid, "session"]);
  const dash = { get: (p) => call(w.base, "GET", p, { headers: { authorization: `Bearer ${s.token}` } }),
    post: (p, form) => call(w.base, "POST", p, { headers: { authorization: `Bearer ${s.token}` }, form }) };
  ok(await dash.post("/v1/customers", {}));
  assert.equal(ok(await dash.get("/v1/customers")).total_count, 1);
  err(await dash.get(`/v1/companies/${c.guid}/keys`), 403);
  err(await dash.post(`/v1/companies/${c.guid}/keys/rotate`, {}), 403);
  err(await dash.post("/v1/dashboard/sessions", {}), 403);
  err(await c.api.post("/v1/dashboard/sessions", { expires_in: "86401" }), 400, "expires_in");
  err(await call(w.base, "DELETE", "/v1/dashboard/sessions/current", { key: c.key }), 400);
  await advance(c, "2024-01-01T01:00:00Z");
  assert.match(err(await dash.get("/v1/customers"), 401).message, /expired/);
  const again = ok(await c.api.post("/v1/dashboard/sessions", {}));
  assert.equal(again.expires_at, "2024-01-01T09:00:00.000000+00:00", "8 hours by default");
  const h = { headers: { authorization: `Bearer ${again.token}` } };
  ok(await call(w.base, "DELETE", "/v1/dashboard/sessions/current", h));
  assert.match(err(await call(w.base, "GET", "/v1/customers", h), 401).message, /revoked/);
  assert.equal((await call(w.base, "GET", "/v1/customers", h)).headers.get("www-authenticate"), 'Bearer realm="billy"');
  assert.equal((await c.api.get("/v1/customers?limit=0")).headers.get("www-authenticate"), null);
  assert.equal((await call(w.base, "GET", "/v1/customers", { key: "nope" })).headers.get("www-authenticate"), 'Basic realm="billy"');
});

test("the overview's figures and the dashboard's list filters", async () => {
  const c = await newCompany(w.base, { clock: "2024-01-10T00:00:00Z" });
  const cu = ok(await c.api.post("/v1/customers", {}));
  ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "1000", funding_instrument_uri: CARD }));
  await advance(c, "2024-01-11T00:00:00Z");
  ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "2000", funding_instrument_uri: CARD }));
  ok(await c.api.post("/v1/invoices", { customer_guid: cu.guid, amount: "3000", funding_instrument_uri: "/v1/cards/hard_decline" }));
  const o = ok(await c.api.get("/v1/dashboard/overview?days=7"));
  assert.deepEqual(o.settled.map((x) => [x.day, x.amount]), [["2024-01-10", 1000], ["2024-01-11", 2000]]);
  assert.deepEqual(o.invoices_by_status, [{ status: "failed", count: 1 }, { status: "settled", count: 2 }]);
  assert.equal(o.attention.failed_transactions.length, 1);
  err(await c.api.get("/v1/dashboard/overview?days=1000"), 400);
  const page = async (q) => ok(await c.api.get(`/v1/transactions?${q}`)).total_count;
  assert.equal(await page("submit_status=failed"), 1);
  assert.equal(await page("status=succeeded"), 2);
  assert.equal(await page(`customer_guid=${cu.guid}`), 3);
  assert.equal(await page("created_after=2024-01-11T00:00:00Z"), 2);
  assert.equal(await page("created_before=2024-01-11T00:00:00Z"), 1);
  err(await c.api.get("/v1/transactions?created_after=soon"), 400, "created_after");
  assert.equal(ok(await c.api.get("/v1/invoices?status=failed")).total_count, 1);
});
