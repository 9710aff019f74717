// Foundation: the worker in workerd over HTTP — companies, authentication, tenancy, persistence, the Node host,
// and the Cloudflare deployment configuration.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import net from "node:net";
import { ROOT } from "../../scripts/miniflare.mjs";
import { call, newCompany, startWorker, tmpDir } from "./harness.mjs";

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
let w;
before(async () => { w = await startWorker(); });
after(async () => { await w.stop(); });

test("GET / names the service", async () => {
  const res = await call(w.base, "GET", "/");
  assert.equal(res.status, 200);
  assert.equal(res.body.name, "billy-edge");
  assert.match(res.body.version, /^\d+\.\d+\.\d+$/);
});

test("POST /v1/companies returns guid, api_key and Billy-format times", async () => {
  const res = await call(w.base, "POST", "/v1/companies", { form: { processor_key: "ef13dce2093b11e388de026ba7d31e6f" } });
  assert.equal(res.status, 200);
  // Signed: CP, 17 random base58 digits, an 8-digit tag (src/ids.rs).
  assert.match(res.body.guid, /^CP[1-9A-HJ-NP-Za-km-z]{25}$/);
  assert.ok(res.body.api_key.startsWith(res.body.guid + "_"));
  assert.ok(res.body.api_key.length >= res.body.guid.length + 41);
  assert.match(res.body.created_at, TIME);
  assert.match(res.body.updated_at, TIME);
});

test("two companies get different guids and keys", async () => {
  const a = await newCompany(w.base), b = await newCompany(w.base);
  assert.notEqual(a.guid, b.guid);
  assert.notEqual(a.key, b.key);
});

test("GET /v1/companies/<guid> with the key as Basic username or Bearer", async () => {
  const c = await newCompany(w.base);
  const basic = await call(w.base, "GET", `/v1/companies/${c.guid}`, { key: c.key });
  assert.equal(basic.status, 200);
  assert.equal(basic.body.guid, c.guid);
  assert.equal(basic.body.created_at, c.body.created_at);
  assert.equal(basic.body.api_key, undefined, "the key is stored hashed and never shown again");
  const bearer = await call(w.base, "GET", `/v1/companies/${c.guid}`, { headers: { authorization: `Bearer ${c.key}` } });
  assert.equal(bearer.status, 200);
  assert.equal(bearer.body.guid, c.guid);
});

test("401 JSON errors without a valid key", async () => {
  const c = await newCompany(w.base);
  const cases = [
    {},
    { key: "" },
    { key: "nonsense" },
    { key: c.key.slice(0, -1) + (c.key.endsWith("a") ? "b" : "a") }, // right company, wrong secret
    { key: `${c.guid}_${"1".repeat(44)}` },
    { headers: { authorization: "Bearer " } },
    { headers: { authorization: "Digest abc" } },
    { headers: { authorization: "Basic %%%" } },
  ];
  for (const opts of cases) {
    const res = await call(w.base, "GET", `/v1/companies/${c.guid}`, opts);
    assert.equal(res.status, 401, JSON.stringify(opts));
    assert.equal(res.body.error.code, "invalid_api_key");
    assert.equal(typeof res.body.error_message, "string");
  }
});

test("another company's guid is 404", async () => {
  const a = await newCompany(w.base), b = await newCompany(w.base);
  const res = await call(w.base, "GET", `/v1/companies/${b.guid}`, { key: a.key });
  assert.equal(res.status, 404);
  assert.equal(res.body.error.code, "not_found");
});

test("unknown routes are JSON 404s, wrong methods 405", async () => {
  const c = await newCompany(w.base);
  assert.equal((await call(w.base, "GET", "/nope")).status, 404);
  const r = await call(w.base, "GET", "/v1/nope", { key: c.key });
  assert.equal(r.status, 404);
  assert.equal(r.body.error.code, "not_found");
  const wrong = await call(w.base, "PATCH", "/v1/plans", { key: c.key });
  assert.deepEqual([wrong.status, wrong.headers.get("allow")], [405, "GET, POST"]);
  const collection = await call(w.base, "GET", "/v1/companies");
  assert.deepEqual([collection.status, collection.headers.get("allow")], [405, "POST"]);
});

/** One raw HTTP/1.1 exchange: fetch refuses to send a GET with a body, clients and fuzzers do not. */
function rawHttp(base, text) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), hostname, () => s.end(text));
    let out = "";
    s.on("data", (d) => { out += d; }).on("end", () => resolve(out)).on("error", reject);
  });
}

test("a GET with a body is answered as a GET (found by the fuzzer: it was a 500)", async () => {
  const c = await newCompany(w.base);
  const auth = `Basic ${Buffer.from(`${c.key}:`).toString("base64")}`;
  for (const [p, status] of [["/v1/plans", 200], ["/v1/invoices/IVnope/refund", 405], ["/v1/companies", 405]]) {
    const res = await rawHttp(w.base, `GET ${p} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\n` +
      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\nConnection: close\r\n\r\namount=");
    assert.equal(Number(res.split(" ")[1]), status, `${p}: ${res.slice(0, 300)}`);
    assert.match(res, /\r\n\r\n\{"/, "a JSON body");
  }
});

test("company creation validates its input", async () => {
  const res = await call(w.base, "POST", "/v1/companies", { json: { processor_key: 12 } });
  assert.equal(res.status, 400);
  assert.equal(res.body.error.field, "processor_key");
  const bad = await call(w.base, "POST", "/v1/companies", { raw: "{not json", headers: { "content-type": "application/json" } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, "invalid_json");
});

test("state persists across a worker restart, and the key is stored only as a hash", async () => {
  const dir = tmpDir();
  let a = await startWorker({ dataDir: dir });
  const c = await newCompany(a.base);
  await a.stop();
  const files = [];
  const walk = (d) => { for (const f of readdirSync(d)) { const p = path.join(d, f); statSync(p).isDirectory() ? walk(p) : files.push(p); } };
  walk(dir);
  assert.ok(files.length > 0, "something was persisted");
  const secret = c.key.split("_")[1];
  for (const f of files) assert.ok(!readFileSync(f).includes(secret), `${f} holds the raw key`);
  a = await startWorker({ dataDir: dir });
  const res = await call(a.base, "GET", `/v1/companies/${c.guid}`, { key: c.key });
  await a.stop();
  assert.equal(res.status, 200);
  assert.equal(res.body.guid, c.guid);
});

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

/** Starts `node scripts/host.mjs` (what `npm start` runs after set-up) and waits for its URL line. */
async function startHost(port, dataDir) {
  const child = spawn(process.execPath, ["scripts/host.mjs"], { cwd: ROOT,
    env: { ...process.env, PORT: String(port), BILLY_DATA: dataDir }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("host did not start: " + out)), 30_000);
    child.stdout.on("data", (d) => { out += d; if (out.includes("listening on")) { clearTimeout(timer); resolve(); } });
    child.stderr.on("data", (d) => { out += d; });
    child.on("exit", (code) => reject(new Error(`host exited ${code}: ${out}`)));
  });
  return { child, out: () => out };
}

test("the Node host serves on PORT, keeps state in BILLY_DATA across restarts, stops cleanly on SIGINT", async () => {
  const port = await freePort();
  const dir = tmpDir();
  let h = await startHost(port, dir);
  assert.match(h.out(), new RegExp(`http://127\\.0\\.0\\.1:${port}`));
  const base = `http://127.0.0.1:${port}`;
  const c = await newCompany(base);
  const exited = new Promise((resolve) => h.child.on("exit", (code) => resolve(code)));
  h.child.kill("SIGINT");
  // Ctrl-C: workerd is shut down and the process exits (0, or 130 — the conventional code for SIGINT).
  assert.ok([0, 130].includes(await exited));
  assert.match(h.out(), /SIGINT: stopping/);
  h = await startHost(port, dir);
  const res = await call(base, "GET", `/v1/companies/${c.guid}`, { key: c.key });
  const exited2 = new Promise((resolve) => h.child.on("exit", (code) => resolve(code)));
  h.child.kill("SIGINT");
  await exited2;
  assert.equal(res.status, 200);
  assert.equal(res.body.guid, c.guid);
});

test("wrangler deploy --dry-run accepts wrangler.toml and bundles the worker with its wasm", async () => {
  const outdir = tmpDir("billy-dry-");
  const { stdout, stderr } = await new Promise((resolve, reject) => {
    execFile(path.join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
      cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" }, timeout: 120_000 },
    (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve({ stdout, stderr })));
  });
  const text = stdout + stderr;
  assert.match(text, /COMPANY/);
  assert.match(text, /--dry-run: exiting now/);
  const files = readdirSync(outdir);
  assert.ok(files.some((f) => f.endsWith(".wasm")), `bundle has the wasm module: ${files}`);
});

test("CORS: preflight answers 204 and responses allow any origin (explicit Authorization only)", async () => {
  const pre = await fetch(w.base + "/v1/plans", { method: "OPTIONS", headers: { origin: "https://shop.example",
    "access-control-request-method": "POST", "access-control-request-headers": "authorization, idempotency-key" } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-origin"), "*");
  assert.match(pre.headers.get("access-control-allow-headers"), /idempotency-key/);
  const c = await newCompany(w.base);
  const res = await call(w.base, "GET", `/v1/companies/${c.guid}`, { key: c.key, headers: { origin: "https://shop.example" } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
});

test("made-up keys are 401 at the edge: no company object is even opened, signed guid or one from before signing", async () => {
  const dir = tmpDir();
  const a = await startWorker({ dataDir: dir });
  const c = await newCompany(a.base);
  const databases = () => {
    const files = [];
    const walk = (d) => { for (const f of readdirSync(d)) { const p = path.join(d, f); statSync(p).isDirectory() ? walk(p) : files.push(p); } };
    walk(dir);
    return files.filter((f) => f.includes("Company") && /[0-9a-f]{64}\.sqlite$/.test(f));
  };
  const before = new Set(databases());
  // A real company's guid with its tag changed in its last digit, and unsigned guids of the shape used before.
  const last = c.guid.at(-1);
  const forgedTag = c.guid.slice(0, -1) + (last === "z" ? "y" : "z");
  const fakes = [forgedTag, ...[0, 1, 2].map((i) => `CP${"abcdefghijkmnopqrstuv".slice(i)}${"x".repeat(i)}`)];
  for (const guid of fakes) {
    const fake = `${guid}_${"2".repeat(44)}`;
    assert.equal((await call(a.base, "GET", "/v1/plans", { key: fake })).status, 401);
    assert.equal((await call(a.base, "POST", "/v1/plans", { key: fake, form: { amount: "500" } })).status, 401);
  }
  // A wrong secret for the real company: that company's object answers (it alone holds the hash).
  assert.equal((await call(a.base, "GET", "/v1/plans", { key: `${c.guid}_${"3".repeat(44)}` })).status, 401);
  assert.equal((await call(a.base, "GET", `/v1/companies/${c.guid}`, { key: c.key })).status, 200);
  await a.stop();
  // workerd opens a file for every object it instantiates: none was opened for a made-up company.
  const written = (f) => { try { return statSync(f + "-wal").size > 0; } catch { return false; } };
  assert.deepEqual(databases().filter((f) => !before.has(f)), []);
  assert.ok([...before].some(written), "the real company's database was written (the check can see files)");
});

test("bodies over 1 MiB are refused with 413 while they stream, declared or chunked, and nothing is written", async () => {
  const c = await newCompany(w.base);
  const big = "name=" + "x".repeat(2 << 20);
  const declared = await call(w.base, "POST", "/v1/customers", { key: c.key, raw: big,
    headers: { "content-type": "application/x-www-form-urlencoded" } });
  assert.deepEqual([declared.status, declared.body.error.code], [413, "body_too_large"]);
  // No Content-Length: a chunked stream over a raw socket (fetch would report the server closing early as an error
  // of its own) that sends 1 MiB + 128 KiB in 64 KiB chunks and then stops, never sending the last chunk. An answer can only
  // come from a server that refused the body while it streamed. Sending little more than the limit matters: a write
  // still pending when the server's reset arrives makes Node drop the socket with the answer's bytes unread.
  const { hostname, port } = new URL(w.base);
  const answer = await new Promise((resolve, reject) => {
    const s = net.connect(Number(port), hostname);
    let answer = "", sent = 0;
    const chunk = `10000\r\n${"x".repeat(65536)}\r\n`;
    const pump = () => {
      while (sent < (1 << 20) + (128 << 10)) { sent += 65536; if (!s.write(chunk)) return s.once("drain", pump); }
    };
    s.on("connect", () => {
      s.write(`POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${c.key}\r\n` +
        "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nname=\r\n");
      pump();
    });
    const answered = () => /\r\n\r\n[\s\S]*\}/.test(answer);
    s.on("data", (d) => { answer += d; if (answered()) { s.destroy(); resolve(answer); } });
    let failure = null;
    s.on("error", (e) => { failure = e; });
    s.on("close", () => { if (answered()) resolve(answer); else reject(failure || new Error(`closed after ${sent} bytes: ${answer}`)); });
    setTimeout(() => { s.destroy(); reject(new Error(`no answer after ${sent} bytes of an unfinished body: ${answer}`)); }, 20000).unref();
  });
  assert.match(answer, /^HTTP\/1\.1 413 /);
  assert.match(answer, /"body_too_large"/);
  const companyBody = await call(w.base, "POST", "/v1/companies", { raw: big, headers: { "content-type": "application/x-www-form-urlencoded" } });
  assert.equal(companyBody.status, 413);
  assert.equal((await call(w.base, "GET", "/v1/customers", { key: c.key })).body.total_count, 0);
});

test("company creation is rate limited per client address (429 with Retry-After), and can be turned off", async () => {
  const limited = await startWorker({ bindings: { COMPANY_CREATION_LIMIT: "3/60" } });
  try {
    const create = (ip, form = {}) => call(limited.base, "POST", "/v1/companies", { form, headers: { "cf-connecting-ip": ip } });
    const first = await Promise.all([1, 2, 3, 4, 5].map(() => create("198.51.100.7")));
    // Five at once from one address: the burst of three passes, exactly, even racing.
    assert.deepEqual(first.map((r) => r.status).sort(), [200, 200, 200, 429, 429]);
    const refused = first.find((r) => r.status === 429);
    assert.equal(refused.body.error.code, "rate_limited");
    const wait = Number(refused.headers.get("retry-after"));
    assert.ok(wait >= 1 && wait <= 20, `Retry-After ${wait} s: one interval of 60 s / 3 at most`);
    // A refusal is decided before the body is read: an invalid body from that address is still a 429.
    assert.equal((await create("198.51.100.7", { test_mode: "maybe" })).status, 429);
    // Another address has its own allowance; the refused address's companies work as usual.
    assert.equal((await create("203.0.113.9")).status, 200);
    const made = first.find((r) => r.status === 200).body;
    assert.equal((await call(limited.base, "GET", `/v1/companies/${made.guid}`, { key: made.api_key })).status, 200);
  } finally {
    await limited.stop();
  }
  // "off" (the suites' setting): no limit at all; a malformed setting is refused loudly, not treated as off.
  for (let i = 0; i < 5; i++) assert.equal((await call(w.base, "POST", "/v1/companies", { form: {}, headers: { "cf-connecting-ip": "198.51.100.8" } })).status, 200);
  const broken = await startWorker({ bindings: { COMPANY_CREATION_LIMIT: "lots" } });
  try {
    const res = await call(broken.base, "POST", "/v1/companies", { form: {} });
    assert.equal(res.status, 500);
    assert.equal(res.body.error.code, "internal_error");
  } finally {
    await broken.stop();
  }
});
