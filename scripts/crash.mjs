// `npm run crash`: kills the Node host (its whole process group, workerd included, with SIGKILL) in the middle of
// billing, restarts it on the same data directory, and checks the books after every restart:
//   - no money moved twice: every processor charge has its own idempotency key, and each key is one of our
//     transactions (the transaction guid is the key), with the same amount;
//   - no money lost: every charge the processor made is recorded as ours, once the company has caught up;
//   - nothing billed twice or skipped: each subscription has exactly one invoice per period up to the clock;
//   - no invoice collects more than it is owed.
// Work in flight when the host dies (a charge the processor made whose answer we never stored) must be found again
// by the company's own reconciliation after the restart, with no help from this script.
//   CRASH_RUNS (default 20), --short (3 kills, for `npm test`), CRASH_SEED for the kill delays.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startHost } from "./host-process.mjs";

const SHORT = process.argv.includes("--short");
const RUNS = SHORT ? 3 : Number(process.env.CRASH_RUNS || 20);
const SUBSCRIPTIONS = SHORT ? 24 : 200;
const DAYS_PER_RUN = SHORT ? 3 : 2;
const POSTS_PER_RUN = 8;
const DAY = 86_400_000;
// Cards that exercise every path a crash can interrupt: plain success, a transient failure then success, pending
// then success, a success whose answer is lost, a hard decline, and a lookup that fails once.
const CARDS = ["ok", "fail_once", "pending", "lost_response", "hard_decline", "lookup_fails_once"]
  .map((c) => `/v1/marketplaces/TEST-MP/cards/${c}`);

let seed = Number(process.env.CRASH_SEED || Date.now() % 100_000);
const random = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dataDir = mkdtempSync(path.join(os.tmpdir(), "billy-crash-"));
let host = null;
let recovered = 0;

/** Starts the host on the run's data directory. */
async function start() {
  host = await startHost({ BILLY_DATA: dataDir, SIMULATOR_LATENCY_MS: "80",
    // A key whose request died with the host is recovered after half a second instead of a minute.
    IDEMPOTENCY_ABANDONED_MS: "500" });
  return host.origin;
}

/** SIGKILL to the host's process group: no handler runs, nothing is flushed, workerd dies with it. */
async function kill() {
  const h = host;
  host = null;
  await h.kill();
}

async function api(method, p, key, body, headers = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(host.origin + p, { method, body: body ? new URLSearchParams(body) : undefined,
        headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } });
      const json = await res.json();
      if (res.status >= 500) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
      return { status: res.status, body: json };
    } catch (e) {
      if (attempt > 20 || /: \d{3} /.test(String(e.message))) throw e;
      await sleep(100);
    }
  }
}
const ok = async (...a) => {
  const res = await api(...a);
  assert.ok(res.status < 300, `${a[0]} ${a[1]}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
};

async function all(p, key) {
  const items = [];
  for (let offset = 0; ; offset += 100) {
    const page = await ok("GET", `${p}${p.includes("?") ? "&" : "?"}limit=100&offset=${offset}`, key);
    items.push(...page.items);
    if (offset + 100 >= page.total_count) return items;
  }
}

/** Waits until the company's clock has reached its target (the advance resumes by itself after a restart). */
async function settled(co) {
  for (let i = 0; i < 1200; i++) {
    const state = await ok("GET", `/v1/companies/${co.guid}`, co.key);
    if (state.clock_status === "ready") return state;
    await sleep(50);
  }
  throw new Error("the clock advance never finished after the restart");
}

/**
 * The books, checked against the processor's own ledger: returns the problems found, by kind. `caughtUp`: the
 * company has had time to finish everything, so nothing may be in flight any more.
 */
async function audit(co, subs, posted, clock, caughtUp) {
  const txns = await all("/v1/transactions", co.key);
  const invoices = await all("/v1/invoices", co.key);
  const ledger = await ok("GET", `/v1/companies/${co.guid}/simulator`, co.key);
  const problems = { duplicates: [], lost: [], stuck: [] };
  const ours = new Map(txns.map((t) => [t.guid, t]));
  const keys = new Set();
  for (const charge of ledger.charges) {
    if (keys.has(charge.idempotency_key)) problems.duplicates.push(`processor key ${charge.idempotency_key} charged twice`);
    keys.add(charge.idempotency_key);
    const t = ours.get(charge.idempotency_key);
    if (!t) { problems.lost.push(`processor charge ${charge.idempotency_key} is none of our transactions`); continue; }
    if (charge.amount !== t.amount) problems.lost.push(`${t.guid}: processor ${charge.amount}, ours ${t.amount}`);
    if (caughtUp && charge.status === "succeeded" && t.status !== "succeeded") {
      problems.lost.push(`money moved for ${t.guid} but we record ${t.submit_status}/${t.status}`);
    }
  }
  for (const t of txns) {
    if (t.status === "succeeded" && !keys.has(t.guid)) problems.duplicates.push(`${t.guid} succeeded without a charge`);
    if (caughtUp && !["done", "failed"].includes(t.submit_status)) problems.stuck.push(`${t.guid} left ${t.submit_status}`);
  }
  const collected = new Map();
  for (const t of txns) {
    if (t.transaction_type === "debit" && t.status === "succeeded" && t.invoice_guid) {
      collected.set(t.invoice_guid, (collected.get(t.invoice_guid) || 0) + t.amount);
    }
  }
  for (const inv of invoices) {
    if ((collected.get(inv.guid) || 0) > inv.effective_amount) problems.duplicates.push(`${inv.guid} collected more than it owes`);
    // Final, or explainable: a declining card fails its invoice; everything else settles.
    const declines = inv.funding_instrument_uri.includes("hard_decline");
    if (caughtUp && inv.status !== (declines ? "failed" : "settled")) problems.stuck.push(`${inv.guid} left ${inv.status}`);
  }
  // Daily plans started at the company's first instant: periods 0..days, one invoice each, whatever the crashes.
  const days = Math.floor((Date.parse(clock) - Date.parse("2024-01-01T00:00:00Z")) / DAY);
  const perSub = new Map();
  for (const inv of invoices) if (inv.subscription_guid) perSub.set(inv.subscription_guid, (perSub.get(inv.subscription_guid) || 0) + 1);
  for (const sub of subs) {
    const n = perSub.get(sub) || 0;
    if (n > days + 1) problems.duplicates.push(`${sub}: ${n} invoices for ${days + 1} periods`);
    if (n < days + 1) problems.lost.push(`${sub}: ${n} invoices for ${days + 1} periods`);
  }
  // Invoices POSTed with an Idempotency-Key while the host died: each key made exactly one invoice (its title),
  // and the answer the client finally got is that invoice.
  const byTitle = new Map();
  for (const inv of invoices) if (inv.title?.startsWith("crash-")) byTitle.set(inv.title, [...(byTitle.get(inv.title) || []), inv]);
  for (const [key, answer] of posted) {
    const made = byTitle.get(key) || [];
    if (made.length > 1) problems.duplicates.push(`Idempotency-Key ${key} made ${made.length} invoices`);
    if (answer && made.length === 0) problems.lost.push(`Idempotency-Key ${key} answered ${answer} but no invoice exists`);
    if (answer && made.length === 1 && made[0].guid !== answer) problems.duplicates.push(`${key} answered ${answer}, made ${made[0].guid}`);
  }
  return { problems, transactions: txns.length, invoices: invoices.length, charges: ledger.charges.length };
}

/**
 * POSTs an invoice with an Idempotency-Key until it has an answer: across a kill (the connection drops) and while
 * the key is still held by a request that died (409 until it is abandoned and recovered).
 */
async function postInvoice(co, customer, key, card) {
  for (;;) {
    let res;
    try {
      res = await fetch(host.origin + "/v1/invoices", { method: "POST",
        headers: { authorization: `Bearer ${co.key}`, "idempotency-key": key },
        body: new URLSearchParams({ customer_guid: customer, amount: "1234", title: key, funding_instrument_uri: card }) });
    } catch {
      await sleep(100); // the host is down: the client retries with the same key, as it should
      while (!host) await sleep(50);
      continue;
    }
    const body = await res.json();
    if (res.status === 409 && body.error?.code === "idempotency_key_in_use") { await sleep(100); continue; }
    assert.ok(res.status < 300, `POST /v1/invoices (${key}): ${res.status} ${JSON.stringify(body)}`);
    // Answered from the stored response or the recovery point of a request that died with the host.
    if (res.headers.get("idempotent-replayed") === "true") recovered++;
    return body.guid;
  }
}

try {
  await start();
  const created = await ok("POST", "/v1/companies", null, { clock: "2024-01-01T00:00:00Z",
    // Few processor calls at once, each taking 80 ms: an advance lasts long enough (~0.8 s for 72 charges) to be
    // killed in the middle even now that the simulator answers from inside the company.
    processor_concurrency: "4" });
  const co = { guid: created.guid, key: created.api_key };
  const plan = await ok("POST", "/v1/plans", co.key, { plan_type: "debit", frequency: "daily", amount: "700" });
  const subs = [];
  const customers = [];
  for (let i = 0; i < SUBSCRIPTIONS; i++) {
    const cu = await ok("POST", "/v1/customers", co.key, {});
    customers.push(cu.guid);
    subs.push((await ok("POST", "/v1/subscriptions", co.key, { plan_guid: plan.guid, customer_guid: cu.guid,
      funding_instrument_uri: CARDS[i % CARDS.length] })).guid);
  }
  /** Idempotency-Key → the invoice guid its POST finally answered. */
  const posted = new Map();
  let midAdvance = 0, midPost = 0;
  let clock = Date.parse("2024-01-01T00:00:00Z");
  const started = performance.now();
  const report = (books) => Object.entries(books.problems).map(([k, v]) => `${k}: ${v.length}`).join(", ");
  for (let run = 1; run <= RUNS; run++) {
    clock += DAYS_PER_RUN * DAY;
    const target = new Date(clock).toISOString();
    await ok("POST", `/v1/companies/${co.guid}/clock`, co.key, { advance_to: target, budget_ms: "0" });
    // Clients keep creating invoices (each charged at once) while the scheduler bills.
    const posts = Array.from({ length: POSTS_PER_RUN }, (_, i) => {
      const key = `crash-${run}-${i}`;
      posted.set(key, null);
      return postInvoice(co, customers[i % customers.length], key, CARDS[i % 4]).then((guid) => posted.set(key, guid));
    });
    let answered = 0;
    posts.forEach((p) => p.then(() => answered++));
    const delay = Math.floor(20 + random() * 400);
    await sleep(delay);
    const before = await ok("GET", `/v1/companies/${co.guid}`, co.key);
    if (before.clock_status === "advancing") midAdvance++;
    const unanswered = POSTS_PER_RUN - answered;
    if (unanswered > 0) midPost++;
    await kill();
    await start();
    await Promise.all(posts);
    await settled(co);
    const books = await audit(co, subs, posted, target, false);
    const bad = Object.values(books.problems).flat();
    assert.deepEqual(bad, [], `after kill ${run}`);
    console.log(`crash ${run}/${RUNS}: killed after ${delay} ms ${before.clock_status === "advancing"
      ? `mid-advance (clock at ${before.clock.slice(0, 16)})` : "after the advance"} with ${unanswered} POSTs unanswered; ` +
      `restarted; ${books.invoices} invoices, ${books.transactions} transactions, ${books.charges} processor charges, ${report(books)}`);
  }
  // A kill that only ever lands after the work is done proves nothing.
  assert.ok(midAdvance >= Math.ceil(RUNS / 2), `only ${midAdvance} of ${RUNS} kills landed in the middle of an advance`);
  // Catch up without a crash (pending charges polled, lost answers reconciled, retries run), then hold the books
  // to the stricter rule: every charge the processor made is a success of ours, nothing is left in flight.
  clock += 3 * DAY + DAY / 2; // past the day's retries (the first comes an hour after a failure)
  const final = new Date(clock).toISOString();
  await ok("POST", `/v1/companies/${co.guid}/clock`, co.key, { advance_to: final, budget_ms: "0" });
  await settled(co);
  const books = await audit(co, subs, posted, final, true);
  const p = books.problems;
  console.log(`crash runs: ${RUNS}, kills: ${RUNS} (${midAdvance} mid-advance, ${midPost} mid-POST, ${recovered} POSTs answered after a kill from what the first attempt committed), ` +
    `duplicates: ${p.duplicates.length}, lost: ${p.lost.length}, stuck: ${p.stuck.length} ` +
    `(${books.charges} processor charges, ${books.invoices} invoices, ${Math.round((performance.now() - started) / 1000)} s)`);
  for (const line of Object.values(p).flat().slice(0, 20)) console.log(`  ${line}`);
  const failed = Object.values(p).flat().length;
  console.log(`checks: ${RUNS + 1 - (failed ? 1 : 0)} passed, ${failed ? 1 : 0} failed`);
  process.exitCode = failed ? 1 : 0;
} finally {
  if (host) await kill().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
}
