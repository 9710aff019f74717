// `npm run soak`: a mixed workload against the Node host (what `npm start` runs) for SOAK_SECONDS (default 600):
// customers, invoices charged at once, partial refunds, subscriptions billed by test-clock advances that run in the
// background, escrow orders with debits, refunds and payouts, reads and lists. Then the books are checked against
// the processor's own ledger, and the script prints requests, errors (must be 0), latency percentiles, and the
// host's memory (host + workerd) sampled through the run (must level off, not grow with the request count).
//   SOAK_SECONDS (600), SOAK_CLIENTS (8 concurrent clients), SOAK_SEED, --short (20 s, for a quick look)
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { groupRssMb, startHost } from "./host-process.mjs";

const SHORT = process.argv.includes("--short");
const SECONDS = SHORT ? 20 : Number(process.env.SOAK_SECONDS || 600);
const CLIENTS = Number(process.env.SOAK_CLIENTS || 8);
const DAY = 86_400_000;
const CARDS = { ok: "/v1/cards/ok", pending: "/v1/cards/pending", fail_once: "/v1/cards/fail_once" };

let seed = Number(process.env.SOAK_SEED || Date.now() % 100_000);
const random = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
const pick = (items) => items[Math.floor(random() * items.length)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dataDir = mkdtempSync(path.join(os.tmpdir(), "billy-soak-"));
const host = await startHost({ BILLY_DATA: dataDir });
const latencies = [];
const errors = [];
let requests = 0;

/** One request; anything but the expected status is an error of the run (recorded, not thrown). */
async function api(method, p, key, body, expect = 200) {
  const started = performance.now();
  requests++;
  let status = 0, json = null;
  try {
    const res = await fetch(host.origin + p, { method, body: body ? new URLSearchParams(body) : undefined,
      headers: key ? { authorization: `Bearer ${key}` } : {} });
    status = res.status;
    json = await res.json();
  } catch (e) {
    json = { network: String(e) };
  }
  latencies.push(performance.now() - started);
  if (status !== expect) {
    errors.push(`${method} ${p}: ${status} ${JSON.stringify(json).slice(0, 300)}`);
    if (errors.length <= 5) console.log(`  error: ${errors.at(-1)}`);
  }
  return status === expect ? json : null;
}

async function all(p, key) {
  const items = [];
  for (let offset = 0; ; offset += 100) {
    const page = await api("GET", `${p}${p.includes("?") ? "&" : "?"}limit=100&offset=${offset}`, key);
    if (!page) throw new Error(`listing ${p} failed: ${errors.at(-1)}`);
    items.push(...page.items);
    if (offset + 100 >= page.total_count) return items;
  }
}

// ---- the company and what each client owns (each client works on its own objects, one request at a time) ---
const company = await api("POST", "/v1/companies", null, { clock: "2024-01-01T00:00:00Z" });
assert.ok(company, errors[0]);
const key = company.api_key;
const plan = await api("POST", "/v1/plans", key, { plan_type: "debit", frequency: "daily", amount: "700" });
const merchant = await api("POST", "/v1/customers", key, { processor_uri: "/v1/bank_accounts/merchant" });
/** What the clients did that the books must show. */
const expected = { refunds: 0, payouts: 0, subscriptions: [] };

/** Subscriptions each client keeps active: billing volume stays steady instead of growing with the run. */
const ACTIVE_SUBSCRIPTIONS = 12;

function client() {
  const mine = { customers: [], settled: [], orders: [], subscriptions: [] };
  return async function step() {
    const r = random();
    if (r < 0.12 || mine.customers.length === 0) {
      const c = await api("POST", "/v1/customers", key, {});
      if (c) mine.customers.push(c.guid);
    } else if (r < 0.30) {
      const card = random() < 0.8 ? CARDS.ok : CARDS.pending;
      const inv = await api("POST", "/v1/invoices", key, { customer_guid: pick(mine.customers),
        amount: String(100 + Math.floor(random() * 9900)), funding_instrument_uri: card });
      if (inv && inv.status === "settled") mine.settled.push({ guid: inv.guid, left: inv.effective_amount });
    } else if (r < 0.38 && mine.settled.length) {
      const inv = pick(mine.settled);
      if (inv.left > 0) {
        const amount = Math.max(1, Math.floor(inv.left * random() * 0.6));
        if (await api("POST", `/v1/invoices/${inv.guid}/refund`, key, { amount: String(amount) })) {
          inv.left -= amount;
          expected.refunds += amount;
        }
      }
    } else if (r < 0.44 && mine.subscriptions.length >= ACTIVE_SUBSCRIPTIONS) {
      await api("POST", `/v1/subscriptions/${mine.subscriptions.shift()}/cancel`, key);
    } else if (r < 0.44) {
      const card = pick([CARDS.ok, CARDS.ok, CARDS.pending, CARDS.fail_once]);
      const sub = await api("POST", "/v1/subscriptions", key, { plan_guid: plan.guid, customer_guid: pick(mine.customers),
        funding_instrument_uri: card });
      if (sub) { expected.subscriptions.push(sub.guid); mine.subscriptions.push(sub.guid); }
    } else if (r < 0.52) {
      // Escrow: an order, a buyer's debit into it, sometimes a partial refund, then a payout of what it holds.
      const order = await api("POST", `/v1/customers/${merchant.guid}/orders`, key, { description: "soak" });
      if (!order) return;
      const debit = await api("POST", `/v1/orders/${order.guid}/debits`, key, { customer_guid: pick(mine.customers),
        amount: String(500 + Math.floor(random() * 5000)), funding_instrument_uri: CARDS.ok });
      if (!debit) return;
      if (random() < 0.3) await api("POST", `/v1/transactions/${debit.guid}/refunds`, key, { amount: String(Math.floor(debit.amount / 4)) });
      const held = await api("GET", `/v1/orders/${order.guid}`, key);
      if (held && held.amount_escrowed > 0) {
        if (await api("POST", `/v1/orders/${order.guid}/payout`, key, { fee_rate: "0.05" })) expected.payouts++;
      }
      mine.orders.push(order.guid);
    } else if (r < 0.62) {
      await api("GET", pick(["/v1/invoices?limit=20", "/v1/transactions?limit=20", "/v1/customers?limit=20",
        "/v1/subscriptions?limit=20", "/v1/orders?limit=20"]), key);
    } else if (r < 0.80 && mine.settled.length) {
      const inv = pick(mine.settled).guid;
      await api("GET", pick([`/v1/invoices/${inv}`, `/v1/invoices/${inv}/transactions`]), key);
    } else if (mine.orders.length) {
      await api("GET", `/v1/orders/${pick(mine.orders)}/transactions`, key);
    } else {
      await api("GET", `/v1/companies/${company.guid}`, key);
    }
  };
}

/** Advances the test clock a day at a time; the advance runs in the background while the clients go on. */
let clock = Date.parse("2024-01-01T00:00:00Z");
async function advanceClock() {
  const state = await api("GET", `/v1/companies/${company.guid}`, key);
  if (!state || state.clock_status !== "ready") return;
  clock += DAY;
  await api("POST", `/v1/companies/${company.guid}/clock`, key, { advance_to: new Date(clock).toISOString() });
}

async function waitReady() {
  for (let i = 0; i < 6000; i++) {
    const state = await api("GET", `/v1/companies/${company.guid}`, key);
    if (state?.clock_status === "ready") return state;
    await sleep(50);
  }
  throw new Error("the clock advance never finished");
}

// ---- the run -----------------------------------------------------------------------------------------------
const memory = [];
const sampleMemory = () => memory.push({ at: Math.round((performance.now() - t0) / 1000), requests, mb: groupRssMb(/** @type {number} */ (host.child.pid)) });
const t0 = performance.now();
const end = t0 + SECONDS * 1000;
sampleMemory();
const sampler = setInterval(sampleMemory, Math.max(1000, (SECONDS * 1000) / 20));
let progress = 0;
try {
  await Promise.all([
    ...Array.from({ length: CLIENTS }, async () => {
      const step = client();
      while (performance.now() < end) await step();
    }),
    (async () => {
      while (performance.now() < end) {
        await advanceClock();
        await sleep(Math.max(500, (SECONDS * 1000) / 40));
        if (!SHORT && performance.now() - t0 > (progress + 1) * 60_000) {
          progress++;
          console.log(`soak: ${progress} min, ${requests} requests, ${errors.length} errors, ${memory.at(-1).mb} MB`);
        }
      }
    })(),
  ]);
  clearInterval(sampler);
  sampleMemory();
  const seconds = (performance.now() - t0) / 1000;

  // ---- quiesce: a last advance past every retry and poll, then the books ----------------------------------
  const booksStarted = performance.now();
  await waitReady();
  clock += 4 * DAY + DAY / 2; // half a day past the last period, so its first retry (an hour) has run too
  await api("POST", `/v1/companies/${company.guid}/clock`, key, { advance_to: new Date(clock).toISOString() });
  await waitReady();
  const txns = await all("/v1/transactions", key);
  const invoices = await all("/v1/invoices", key);
  const orders = await all("/v1/orders", key);
  const subs = await all("/v1/subscriptions", key);
  const ledger = await api("GET", `/v1/companies/${company.guid}/simulator`, key);
  const problems = [];
  const ours = new Map(txns.map((t) => [t.guid, t]));
  const keys = new Set();
  for (const charge of ledger.charges) {
    if (keys.has(charge.idempotency_key)) problems.push(`processor key ${charge.idempotency_key} used twice`);
    keys.add(charge.idempotency_key);
    const t = ours.get(charge.idempotency_key);
    if (!t) { problems.push(`processor ${charge.kind} ${charge.idempotency_key} is none of our transactions`); continue; }
    if (charge.amount !== t.amount || charge.kind !== t.transaction_type) problems.push(`${t.guid}: processor ${charge.kind} ${charge.amount}, ours ${t.transaction_type} ${t.amount}`);
    if (charge.status === "succeeded" && t.status !== "succeeded") problems.push(`money moved for ${t.guid} but we record ${t.status}`);
  }
  for (const t of txns) {
    if (t.status === "succeeded" && !keys.has(t.guid)) problems.push(`${t.guid} succeeded without the processor`);
    if (!["done", "failed"].includes(t.submit_status)) problems.push(`${t.guid} left ${t.submit_status}`);
  }
  // Succeeded amounts by owner and kind, in one pass (the books hold tens of thousands of rows).
  const totals = new Map();
  const add = (owner, type, amount) => {
    const k = `${owner} ${type}`;
    totals.set(k, (totals.get(k) || 0) + amount);
  };
  for (const t of txns) {
    if (t.status !== "succeeded") continue;
    if (t.invoice_guid) add(t.invoice_guid, t.transaction_type, t.amount);
    if (t.order_guid) add(t.order_guid, t.transaction_type, t.amount);
    if (t.invoice_guid && t.transaction_type === "refund") add("all invoices", "refund", t.amount);
  }
  const total = (owner, type) => totals.get(`${owner} ${type}`) || 0;
  // Invoices: each collected at most what it owes, refunded at most what it collected; the clients' refunds all there.
  for (const inv of invoices) {
    if (total(inv.guid, "debit") > inv.effective_amount) problems.push(`${inv.guid} collected ${total(inv.guid, "debit")} of ${inv.effective_amount}`);
    if (total(inv.guid, "refund") > total(inv.guid, "debit")) problems.push(`${inv.guid} refunded more than it collected`);
    if (!["settled", "failed"].includes(inv.status)) problems.push(`${inv.guid} left ${inv.status}`);
  }
  const invoiceRefunds = total("all invoices", "refund");
  if (invoiceRefunds !== expected.refunds) problems.push(`invoice refunds: the clients made ${expected.refunds}, the books show ${invoiceRefunds}`);
  // Orders: what an order holds is its debits less refunds less credits plus reversals, never below zero.
  for (const o of orders) {
    const held = total(o.guid, "debit") - total(o.guid, "refund") - total(o.guid, "credit") + total(o.guid, "reversal");
    if (held < 0 || held !== o.amount_escrowed) problems.push(`${o.guid} holds ${o.amount_escrowed}, its movements say ${held}`);
  }
  // Subscriptions: one invoice per daily period from its start up to the clock, whatever ran concurrently; a
  // canceled one none after its cancellation (the period due at the very instant it was canceled may or may not
  // have run first).
  const perSub = new Map();
  for (const inv of invoices) if (inv.subscription_guid) perSub.set(inv.subscription_guid, (perSub.get(inv.subscription_guid) || 0) + 1);
  for (const s of subs) {
    const until = s.canceled_at ? Date.parse(s.canceled_at) : clock;
    const periods = Math.floor((until - Date.parse(s.started_at)) / DAY) + 1;
    const n = perSub.get(s.guid) || 0;
    const fine = s.canceled_at ? n <= periods && n >= periods - 1 : n === periods;
    if (!fine) problems.push(`${s.guid}: ${n} invoices for ${periods} periods${s.canceled_at ? " before its cancellation" : ""}`);
  }
  if (subs.length !== expected.subscriptions.length) problems.push(`${subs.length} subscriptions, the clients made ${expected.subscriptions.length}`);

  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))].toFixed(1);
  // Memory levels off: V8 grows its heap before it collects, so memory rises at first; what must not happen is
  // growth that goes on at the same pace. The second half of the run may add at most half of what the first half
  // added (or 64 MB), while requests and stored data kept growing at the same rate. A 20-second run (--short, in
  // `npm test`) is all warm-up (workerd was still growing at 20 s in runs whose ten minutes levelled off), so it
  // only checks that memory stays within 512 MB of the start; levelling off is the ten-minute run's to show.
  const mid = memory[Math.floor(memory.length / 2)].mb;
  const firstHalf = mid - memory[0].mb;
  const secondHalf = memory.at(-1).mb - mid;
  const bounded = SHORT ? memory.at(-1).mb - memory[0].mb <= 512 : secondHalf <= Math.max(firstHalf / 2, 64);
  console.log(`soak: ${Math.round(seconds)} s, ${CLIENTS} clients, requests: ${requests} (${Math.round(requests / seconds)}/s), ` +
    `errors: ${errors.length}, p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${latencies.at(-1).toFixed(0)} ms`);
  console.log(`soak books (checked in ${Math.round((performance.now() - booksStarted) / 1000)} s): ${invoices.length} invoices, ${txns.length} transactions, ${orders.length} orders (${expected.payouts} paid out), ` +
    `${subs.length} subscriptions over ${Math.round((clock - Date.parse("2024-01-01")) / DAY)} days, ${ledger.charges.length} processor entries, problems: ${problems.length}`);
  console.log(`soak memory (host + workerd): start ${memory[0].mb} MB, end ${memory.at(-1).mb} MB, ` +
    `samples ${memory.map((m) => m.mb).join(" ")} MB; +${firstHalf} MB in the first half, +${secondHalf} MB in the second: ` +
    (SHORT ? (bounded ? "within 512 MB of the start" : "MORE THAN 512 MB ABOVE THE START") : (bounded ? "levels off" : "KEEPS GROWING")));
  for (const line of [...errors.slice(0, 10), ...problems.slice(0, 20)]) console.log(`  ${line}`);
  const failed = [errors.length > 0, problems.length > 0, !bounded].filter(Boolean).length;
  console.log(`checks: ${3 - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
} finally {
  clearInterval(sampler);
  await host.kill();
  rmSync(dataDir, { recursive: true, force: true });
}
