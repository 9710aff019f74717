// Upgrades: the current worker opens a company stored by the landed version 0.1.0 (tests/fixtures/landed-v0.1) and
// every object, amount and status reads back as it was; the old API key still works; pending work goes on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { advance, client, ok, startWorker, tmpDir } from "./harness.mjs";

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/landed-v0.1");
const state = JSON.parse(readFileSync(path.join(fixture, "state.json"), "utf8"));

/**
 * The fixture's Idempotency-Key row was stored at 2026-12-01T19:53:39.282Z of real time, and keys expire 24 hours
 * later, so on any later day the worker rightly forgets it. The copy's timestamp is moved to now: the text has the
 * same length and is replaced in place in the row and in its index entry (SQLite pages carry no checksum), so the
 * file stays a valid database and the test checks what it means to, the old row's format, on any date.
 */
function refreshIdempotencyKey(dir) {
  const stored = Buffer.from("2026-12-01T19:53:39.282Z");
  const fresh = Buffer.from(new Date().toISOString());
  assert.equal(fresh.length, stored.length);
  const file = readdirSync(dir).filter((f) => f !== "metadata.sqlite").map((f) => path.join(dir, f))
    .find((f) => readFileSync(f).includes(stored));
  assert.ok(file, "the fixture holds the stored key's timestamp");
  const bytes = readFileSync(file);
  let replaced = 0;
  for (let at = bytes.indexOf(stored); at >= 0; at = bytes.indexOf(stored, at + 1), replaced++) fresh.copy(bytes, at);
  assert.equal(replaced, 2, "the row and its created_at index entry");
  writeFileSync(file, bytes);
}

test("a company stored by version 0.1.0 migrates with nothing lost or changed", async () => {
  const dataDir = tmpDir("billy-upgrade-");
  cpSync(path.join(fixture, "data"), dataDir, { recursive: true });
  refreshIdempotencyKey(path.join(dataDir, "-Company"));
  const w = await startWorker({ dataDir });
  try {
    const api = client(w.base, state.api_key);
    const company = ok(await api.get(`/v1/companies/${state.company}`));
    assert.equal(company.clock, "2024-02-29T10:00:00.000000+00:00");
    assert.equal(company.max_retry_attempts, 10);
    // Every invoice and transaction exactly as version 0.1.0 answered (new fields may be added, none changed).
    const invoices = ok(await api.get("/v1/invoices?limit=100")).items;
    assert.equal(invoices.length, state.invoices.length);
    for (const [i, before] of state.invoices.entries()) {
      for (const [k, v] of Object.entries(before)) assert.deepEqual(invoices[i][k], v, `invoice ${before.guid}.${k}`);
    }
    const txs = ok(await api.get("/v1/transactions?limit=100")).items;
    assert.equal(txs.length, state.transactions.length);
    for (const [i, before] of state.transactions.entries()) {
      for (const [k, v] of Object.entries(before)) assert.deepEqual(txs[i][k], v, `transaction ${before.guid}.${k}`);
      assert.equal(txs[i].reason, null);
    }
    // The old key is now a secret key row, listed without its secret.
    const keys = ok(await api.get(`/v1/companies/${state.company}/keys`)).items;
    assert.deepEqual(keys.map((k) => [k.kind, k.status]), [["secret", "active"]]);
    assert.ok(!JSON.stringify(keys).includes(state.api_key.split("_")[1]));
    // Refund limits read the migrated ledger: 900 effective, 300 refunded.
    const tooMuch = await api.post(`/v1/invoices/${state.invoice}/refund`, { amount: "601" });
    assert.equal(tooMuch.status, 400);
    assert.match(tooMuch.body.error.message, /already refunded 300/);
    ok(await api.post(`/v1/invoices/${state.invoice}/refund`, { amount: "600" }));
    // The Idempotency-Key stored then still replays.
    const replay = await api.post("/v1/customers", {}, { headers: { "idempotency-key": "old-key-1" } });
    assert.equal(replay.headers.get("idempotent-replayed"), "true");
    assert.equal(replay.body.guid, state.idempotent_customer);
    // The simulator's ledger moved into the company (migration 15) with every charge the old simulator object had
    // taken: a resubmitted key is still a replay, and the pending payment below is still known.
    const ledger = ok(await api.get(`/v1/companies/${state.company}/simulator`));
    for (const t of state.transactions.filter((x) => x.processor_uri)) {
      assert.equal(ledger.charges.filter((c) => c.idempotency_key === t.guid).length, 1, `charge ${t.guid} imported`);
    }
    // Pending work goes on: the pending payment is polled to success, the retrying one retried, the schedule billed.
    await advance({ guid: state.company, api }, "2024-03-31T10:00:00Z");
    assert.equal(ok(await api.get(`/v1/invoices/${state.pending}`)).status, "settled");
    const retried = ok(await api.get(`/v1/invoices/${state.retrying}/transactions`)).items[0];
    assert.ok(retried.failure_count > state.transactions.find((t) => t.guid === retried.guid).failure_count);
    const periods = ok(await api.get(`/v1/subscriptions/${state.subscription}/invoices`)).items;
    assert.equal(periods.length, 3);
  } finally {
    await w.stop();
  }
});
