// API keys as rows: rotation issues a new secret key and keeps the previous ones working for the overlap (default
// 24 h, up to 7 days, 0 = stop now), judged on the company's clock; listing never shows a secret.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { advance, client, err, newCompany, ok, startWorker } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { await w?.stop(); });

const company = () => newCompany(w.base, { clock: "2024-01-01T00:00:00Z" });

test("rotation: the new key works at once, the old one for 24 hours, then stops", async () => {
  const c = await company();
  const rotated = ok(await c.api.post(`/v1/companies/${c.guid}/keys/rotate`, {}));
  assert.ok(rotated.api_key.startsWith(`${c.guid}_`));
  assert.notEqual(rotated.api_key, c.key);
  assert.deepEqual([rotated.key.kind, rotated.key.status, rotated.key.expires_at], ["secret", "active", null]);
  assert.deepEqual(rotated.expiring.map((k) => [k.status, k.expires_at]),
    [["expiring", "2024-01-02T00:00:00.000000+00:00"]]);
  const fresh = client(w.base, rotated.api_key);
  ok(await fresh.get(`/v1/companies/${c.guid}`));
  ok(await c.api.get(`/v1/companies/${c.guid}`)); // the old key, within its overlap
  await advance({ guid: c.guid, api: fresh }, "2024-01-01T23:59:59Z");
  ok(await c.api.get(`/v1/companies/${c.guid}`));
  await advance({ guid: c.guid, api: fresh }, "2024-01-02T00:00:00Z");
  const gone = err(await c.api.get(`/v1/companies/${c.guid}`), 401);
  assert.match(gone.message, /expired/);
  ok(await fresh.get(`/v1/companies/${c.guid}`));
  const keys = ok(await fresh.get(`/v1/companies/${c.guid}/keys`));
  assert.deepEqual(keys.items.map((k) => k.status), ["active", "expired"], "newest first");
  assert.equal(keys.total_count, 2);
});

test("rotation with expires_in: 0 stops the old key at once; 7 days is the most; bad values are 400s", async () => {
  const c = await company();
  const week = ok(await c.api.post(`/v1/companies/${c.guid}/keys/rotate`, { expires_in: "604800" }));
  assert.equal(week.expiring[0].expires_at, "2024-01-08T00:00:00.000000+00:00");
  const fresh = client(w.base, week.api_key);
  for (const bad of ["604801", "-1", "1.5", "soon"]) {
    err(await fresh.post(`/v1/companies/${c.guid}/keys/rotate`, { expires_in: bad }), 400, "expires_in");
  }
  const now = ok(await fresh.post(`/v1/companies/${c.guid}/keys/rotate`, { expires_in: "0" }));
  err(await c.api.get(`/v1/companies/${c.guid}`), 401);
  err(await fresh.get(`/v1/companies/${c.guid}`), 401);
  const newest = client(w.base, now.api_key);
  const keys = ok(await newest.get(`/v1/companies/${c.guid}/keys`)).items;
  assert.deepEqual(keys.map((k) => k.status), ["active", "expired", "expired"]);
  // A rotation never extends an overlap already running out: the week-long one was cut to now as well.
  assert.ok(keys.slice(1).every((k) => k.expires_at === "2024-01-01T00:00:00.000000+00:00"));
});

test("key listings show a hint and never a secret or a hash; another company's keys are 404", async () => {
  const c = await company();
  const other = await company();
  const listed = ok(await c.api.get(`/v1/companies/${c.guid}/keys`));
  assert.equal(listed.items.length, 1);
  const [k] = listed.items;
  assert.deepEqual(Object.keys(k).sort(), ["created_at", "expires_at", "guid", "hint", "kind", "revoked_at", "scopes",
    "status"]);
  assert.equal(k.hint, `…${c.key.slice(-4)}`);
  assert.ok(k.guid.startsWith("KY"));
  const secret = c.key.split("_")[1];
  assert.ok(!JSON.stringify(listed).includes(secret.slice(0, 12)));
  err(await c.api.get(`/v1/companies/${other.guid}/keys`), 404);
  err(await c.api.post(`/v1/companies/${other.guid}/keys/rotate`, {}), 404);
  // A rotation replayed with its Idempotency-Key returns the same new key, not a third one.
  const a = ok(await c.api.post(`/v1/companies/${c.guid}/keys/rotate`, {}, { headers: { "idempotency-key": "rot-1" } }));
  const b = ok(await client(w.base, a.api_key).post(`/v1/companies/${c.guid}/keys/rotate`, {},
    { headers: { "idempotency-key": "rot-1" } }));
  assert.equal(b.api_key, a.api_key);
  assert.equal(ok(await client(w.base, a.api_key).get(`/v1/companies/${c.guid}/keys`)).total_count, 2);
});

test("a key being rotated out manages nothing: it cannot rotate again (to a key of its own) or open a session", async () => {
  const c = await company();
  const fresh = client(w.base, ok(await c.api.post(`/v1/companies/${c.guid}/keys/rotate`, { expires_in: "3600" })).api_key);
  const again = await c.api.post(`/v1/companies/${c.guid}/keys/rotate`, { expires_in: "60" });
  assert.deepEqual([again.status, again.body.error.code], [409, "key_expiring"]);
  const session = await c.api.post("/v1/dashboard/sessions", { expires_in: "86400" });
  assert.deepEqual([session.status, session.body.error.code], [409, "key_expiring"]);
  // The old key still does its ordinary work during the overlap; the merchant's new key stays theirs.
  ok(await c.api.get("/v1/customers"));
  await advance({ guid: c.guid, api: fresh }, "2024-01-01T02:00:00Z");
  ok(await fresh.get(`/v1/companies/${c.guid}`));
  err(await c.api.get("/v1/customers"), 401);
});

test("dashboard sessions end with the keys they were opened with: a rotation stops them with the old keys", async () => {
  const c = await company();
  const token = ok(await c.api.post("/v1/dashboard/sessions", { expires_in: "86400" })).token;
  const session = client(w.base, token);
  ok(await session.get("/v1/customers"));
  const rotated = ok(await c.api.post(`/v1/companies/${c.guid}/keys/rotate`, { expires_in: "0" }));
  err(await c.api.get("/v1/customers"), 401);
  err(await session.get("/v1/customers"), 401);
  // With an overlap, a session opened before the rotation lasts as long as the old key, no longer.
  const fresh = client(w.base, rotated.api_key);
  const later = client(w.base, ok(await fresh.post("/v1/dashboard/sessions", { expires_in: "86400" })).token);
  const newest = client(w.base, ok(await fresh.post(`/v1/companies/${c.guid}/keys/rotate`, { expires_in: "3600" })).api_key);
  ok(await later.get("/v1/customers"));
  await advance({ guid: c.guid, api: newest }, "2024-01-01T02:00:00Z");
  err(await later.get("/v1/customers"), 401);
  err(await fresh.get("/v1/customers"), 401);
  ok(await newest.get("/v1/customers"));
});

test("a key being rotated out cannot point the company at another processor or register a webhook endpoint", async () => {
  const c = await company();
  const fresh = client(w.base, ok(await c.api.post(`/v1/companies/${c.guid}/keys/rotate`, { expires_in: "3600" })).api_key);
  const processor = await c.api.put(`/v1/companies/${c.guid}`, { processor: "stripe", processor_key: "sk_test_attacker0000",
    stripe_webhook_secret: "whsec_abcdefghijklmnopqrstuvwxyz012345" });
  assert.deepEqual([processor.status, processor.body.error.code], [409, "key_expiring"]);
  const hook = await c.api.post("/v1/webhook_endpoints", { url: "https://attacker.example/hook", events: "*" });
  assert.deepEqual([hook.status, hook.body.error.code], [409, "key_expiring"]);
  assert.equal(ok(await fresh.get(`/v1/companies/${c.guid}`)).processor, "simulator");
  ok(await c.api.put(`/v1/companies/${c.guid}`, { name: "Still ours" }), "ordinary settings still work with it");
  ok(await fresh.post("/v1/webhook_endpoints", { url: "https://hooks.example/ok", events: "*" }));
});
