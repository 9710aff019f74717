// The merchant dashboard: /dashboard, one page with deep links (#/invoices/IV…). The API key is exchanged for a
// dashboard session at sign-in and never kept; the session token lives in sessionStorage and goes out as Bearer.
// Amounts are formatted and schedules computed by the same wasm core as the server.
import init, * as core from "./pkg/billy_edge.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const STORE = "billy.dashboard.session";

// ---- plumbing ---------------------------------------------------------------------------------------------------

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const money = (amount, currency = "USD") => amount === null || amount === undefined ? "—" : core.formatMoney(amount, currency);
/** A time in the viewer's zone, its UTC form on hover. */
const when = (t) => t ? `<time datetime="${esc(t)}" title="${esc(new Date(t).toISOString())} UTC">${esc(new Date(t).toLocaleString())}</time>` : "—";
const link = (guid) => {
  if (!guid) return "—";
  const kinds = { TX: "transactions", IV: "invoices", CU: "customers", SU: "subscriptions", PL: "plans", OR: "orders", CH: "checkouts" };
  const kind = kinds[guid.slice(0, 2)];
  return kind ? `<a href="#/${kind}/${esc(guid)}">${esc(guid)}</a>` : esc(guid);
};
const badge = (s) => `<span class="badge ${["succeeded", "settled", "completed", "done", "active", "approved"].includes(s) ? "good"
  : ["failed", "overdue", "canceled", "expired", "past_due"].includes(s) ? "bad" : ""}">${esc(s ?? "—")}</span>`;
const fields = (pairs) => `<dl class="fields">${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("")}</dl>`;
const meta = (m) => m && Object.keys(m).length
  ? fields(Object.entries(m).map(([k, v]) => [k, esc(v)])) : "<p class=\"hint\">No metadata.</p>";

function session() {
  try { return JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch { return null; }
}

class SessionEnded extends Error {}

async function api(method, path, body) {
  const s = session();
  const res = await fetch(path, { method, headers: { authorization: `Bearer ${s?.token}`,
    ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) {
    sessionStorage.removeItem(STORE);
    throw new SessionEnded(data?.error?.message || "Signed out");
  }
  if (res.status >= 400) {
    const err = new Error(data?.error?.message || `The request failed (${res.status})`);
    err.status = res.status;
    throw err;
  }
  return data;
}

function page(title, body) {
  main.setAttribute("aria-busy", "false");
  main.innerHTML = `<h1>${title}</h1>${body}`;
  document.title = `${title.replace(/<[^>]+>/g, "")} · Billy Edge`;
}

/** The hash route: `#/invoices/IV…?status=failed` → ["invoices", "IV…"], {status: "failed"}. */
function route() {
  const [path, search = ""] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: Object.fromEntries(new URLSearchParams(search)) };
}

const qs = (params) => {
  const clean = Object.entries(params).filter(([, v]) => v !== "" && v !== undefined && v !== null);
  return clean.length ? `?${new URLSearchParams(clean)}` : "";
};

/** A paginated list with its filters, each filter a form field that rewrites the hash. */
async function listPage({ title, base, apiPath, filters = [], columns, params }) {
  const limit = 20;
  const offset = Number(params.offset || 0);
  const query = { ...Object.fromEntries(filters.map((f) => [f.api || f.name, params[f.name]])), limit, offset };
  if (params.from) query.created_after = params.from;
  if (params.to) query.created_before = params.to;
  const data = await api("GET", `${apiPath}${qs(query)}`);
  const filterForm = filters.length ? `
    <form class="filters card" id="filters">
      ${filters.map((f) => `<div><label for="flt-${f.name}">${esc(f.label)}</label>${f.options
        ? `<select id="flt-${f.name}" name="${f.name}"><option value="">Any</option>${f.options.map((o) =>
          `<option ${params[f.name] === o ? "selected" : ""}>${o}</option>`).join("")}</select>`
        : `<input id="flt-${f.name}" name="${f.name}" type="${f.type || "text"}" value="${esc(params[f.name] || "")}">`}</div>`).join("")}
      <div><button type="submit">Filter</button></div>
    </form>` : "";
  const rows = data.items.map((item) => `<tr>${columns.map((c) => `<td class="${c.num ? "num" : ""}">${c.cell(item)}</td>`).join("")}</tr>`).join("");
  page(title, `${filterForm}
    <div class="card table-wrap">
      <table class="list"><caption class="sr-only">${esc(title)}</caption>
        <thead><tr>${columns.map((c) => `<th scope="col" class="${c.num ? "num" : ""}">${esc(c.label)}</th>`).join("")}</tr></thead>
        <tbody>${rows || `<tr><td colspan="${columns.length}">Nothing here yet.</td></tr>`}</tbody>
      </table>
      <div class="pager"><span id="count">${data.total_count} in all</span>
        ${offset > 0 ? `<a href="#/${base}${qs({ ...params, offset: Math.max(0, offset - limit) })}">Previous</a>` : ""}
        ${offset + limit < data.total_count ? `<a href="#/${base}${qs({ ...params, offset: offset + limit })}">Next</a>` : ""}
      </div>
    </div>`);
  document.getElementById("filters")?.addEventListener("submit", (e) => {
    e.preventDefault();
    const values = Object.fromEntries(new FormData(e.target));
    location.hash = `#/${base}${qs(values)}`;
  });
}

/** An action button that asks for confirmation inline, then calls `run`; the API's error is shown in words. */
function action(container, { label, confirmText, run, inputs = "" }) {
  const id = `act-${Math.random().toString(36).slice(2, 8)}`;
  container.insertAdjacentHTML("beforeend", `
    <form class="inline-form" id="${id}">${inputs}<button type="submit">${esc(label)}</button>
      <span class="confirm" hidden><span>${esc(confirmText)}</span> <button type="button" class="yes">Yes, ${esc(label.toLowerCase())}</button>
      <button type="button" class="secondary no">Cancel</button></span></form>
    <div class="result" id="${id}-result" aria-live="assertive"></div>`);
  const form = document.getElementById(id);
  const confirmBox = form.querySelector(".confirm");
  form.addEventListener("submit", (e) => { e.preventDefault(); confirmBox.hidden = false; form.querySelector(".yes").focus(); });
  form.querySelector(".no").addEventListener("click", () => { confirmBox.hidden = true; });
  form.querySelector(".yes").addEventListener("click", async () => {
    confirmBox.hidden = true;
    const out = document.getElementById(`${id}-result`);
    try {
      await run(Object.fromEntries(new FormData(form)));
      out.innerHTML = `<div class="notice ok" role="status">Done.</div>`;
      setTimeout(render, 300);
    } catch (err) {
      if (err instanceof SessionEnded) return signIn(err.message);
      out.innerHTML = `<div class="notice error" role="alert">${esc(err.message)}</div>`;
    }
  });
}

// ---- pages ------------------------------------------------------------------------------------------------------

async function overview(params) {
  const days = Number(params.days || 30);
  const o = await api("GET", `/v1/dashboard/overview?days=${days}`);
  const byDay = new Map(o.settled.filter((x) => x.currency === "USD").map((x) => [x.day, x.amount]));
  const start = Date.parse(o.since);
  const series = Array.from({ length: days }, (_, i) => {
    const d = new Date(start + (i + 1) * 86_400_000).toISOString().slice(0, 10);
    return [d, byDay.get(d) || 0];
  });
  const max = Math.max(1, ...series.map(([, v]) => v));
  const bar = 100 / days;
  const chart = `<svg viewBox="0 0 100 50" preserveAspectRatio="none" role="img"
      aria-label="Amount settled per day over the last ${days} days, in US dollars">
    ${series.map(([d, v], i) => `<rect x="${i * bar + bar * 0.1}" width="${bar * 0.8}" y="${50 - (v / max) * 46}"
      height="${(v / max) * 46}"><title>${d}: ${money(v)}</title></rect>`).join("")}</svg>`;
  const total = series.reduce((s, [, v]) => s + v, 0);
  const list = (rows, f) => rows.length ? `<ul>${rows.map(f).join("")}</ul>` : "<p class=\"hint\">Nothing.</p>";
  page("Overview", `
    <div class="cards">
      <section class="card"><h2>Settled, last ${days} days</h2><p class="figure" id="settled-total">${money(total)}</p>
        <p><a href="#/?days=30">30 days</a> · <a href="#/?days=90">90 days</a></p></section>
      <section class="card"><h2>In escrow</h2><p class="figure">${o.escrow.map((e) => money(e.amount, e.currency)).join(" · ") || money(0)}</p></section>
      <section class="card"><h2>Terms credit outstanding</h2><p class="figure">${o.terms_outstanding.map((e) => money(e.amount, e.currency)).join(" · ") || money(0)}</p></section>
    </div>
    <section class="card chart"><h2>Settled per day</h2>${chart}
      <p class="hint">${esc(series[0][0])} to ${esc(series.at(-1)[0])} (UTC days); the highest day: ${money(max === 1 && total === 0 ? 0 : max)}.</p></section>
    <div class="cards">
      <section class="card"><h2>Invoices by status</h2>${list(o.invoices_by_status, (x) =>
        `<li><a href="#/invoices?status=${esc(x.status)}">${esc(x.status)}</a>: ${x.count}</li>`)}</section>
      <section class="card"><h2>Transactions by status</h2>${list(o.transactions_by_status, (x) => `<li>${esc(x.status)}: ${x.count}</li>`)}</section>
      <section class="card" id="attention"><h2>Needs attention</h2>
        <h3>Failed transactions</h3>
        ${list(o.attention.failed_transactions, (t) => `<li>Failed ${esc(t.transaction_type)} ${link(t.guid)} of ${money(t.amount, t.currency)}</li>`)}
        <h3>Overdue terms invoices</h3>
        ${list(o.attention.overdue_invoices, (i) => `<li>${link(i.guid)}: ${money(i.effective_amount, i.currency || "USD")} due ${when(i.due_at)}</li>`)}
      </section>
    </div>`);
}

const TX_COLUMNS = [
  { label: "Transaction", cell: (t) => link(t.guid) },
  { label: "Type", cell: (t) => esc(t.transaction_type) },
  { label: "Amount", num: true, cell: (t) => money(t.amount, t.currency) },
  { label: "Status", cell: (t) => `${badge(t.status ?? t.submit_status)}` },
  { label: "For", cell: (t) => link(t.invoice_guid || t.order_guid || t.checkout_guid) },
  { label: "Created", cell: (t) => when(t.created_at) },
];

const transactions = (params) => listPage({ title: "Transactions", base: "transactions", apiPath: "/v1/transactions", params,
  filters: [
    { name: "type", api: "transaction_type", label: "Type", options: ["debit", "credit", "refund", "reversal"] },
    { name: "status", label: "Status", options: ["pending", "succeeded", "failed"] },
    { name: "submit_status", label: "Submission", options: ["staged", "retrying", "done", "failed", "canceled"] },
    { name: "customer", api: "customer_guid", label: "Customer" },
    { name: "from", label: "Created from", type: "date" }, { name: "to", label: "Created before", type: "date" },
  ], columns: TX_COLUMNS });

async function transaction(guid) {
  const t = await api("GET", `/v1/transactions/${encodeURIComponent(guid)}`);
  const related = await api("GET", `/v1/transactions?reference_guid=${encodeURIComponent(guid)}&limit=100`);
  const owner = t.invoice_guid ? await api("GET", `/v1/invoices/${t.invoice_guid}`) : null;
  page(`Transaction <code>${esc(t.guid)}</code>`, `
    <section class="card"><h2>${esc(t.transaction_type)} of ${money(t.amount, t.currency)} ${badge(t.status ?? t.submit_status)}</h2>
      ${fields([
        ["Type", esc(t.transaction_type)], ["Amount", `<span id="tx-amount">${money(t.amount, t.currency)}</span>`],
        ["Currency", esc(t.currency)], ["Status", badge(t.status)], ["Submit status", badge(t.submit_status)],
        ["Payment method", `<code>${esc(t.funding_instrument_uri || "—")}</code>`],
        ["Invoice", link(t.invoice_guid)], ["Order", link(t.order_guid)], ["Checkout", link(t.checkout_guid)],
        ["Terms", owner?.invoice_type === "terms" ? `${owner.terms_days} days, due ${when(owner.due_at)}` : "—"],
        ["Customer", link(t.customer_guid || owner?.customer_guid)], ["Returns", link(t.reference_guid)],
        ["Reason", esc(t.reason || "—")], ["Next retry", when(t.next_retry_at)],
        ["Processor reference", `<code>${esc(t.processor_uri || "—")}</code>`],
        ["Created", when(t.created_at)], ["Updated", when(t.updated_at)],
      ])}</section>
    <section class="card"><h2>Failures (${t.failure_count})</h2>${t.failures.length ? `<ul id="failures">${t.failures.map((f) =>
      `<li>${when(f.created_at)}: <code>${esc(f.error_code)}</code> ${esc(f.error_message)}</li>`).join("")}</ul>` : "<p class=\"hint\">None.</p>"}</section>
    <section class="card"><h2>Refunds and reversals of it</h2>${related.items.length ? `<ul id="related">${related.items.map((r) =>
      `<li>${link(r.guid)}: ${esc(r.transaction_type)} ${money(r.amount, r.currency)} ${badge(r.status ?? r.submit_status)}</li>`).join("")}</ul>` : "<p class=\"hint\">None.</p>"}</section>
    <section class="card"><h2>Metadata</h2>${meta(t.metadata)}</section>`);
}

const invoices = (params) => listPage({ title: "Invoices", base: "invoices", apiPath: "/v1/invoices", params,
  filters: [
    { name: "status", label: "Status", options: ["staged", "processing", "settled", "failed", "canceled", "open", "overdue"] },
    { name: "type", api: "invoice_type", label: "Type", options: ["customer", "subscription", "terms"] },
    { name: "customer", api: "customer_guid", label: "Customer" },
    { name: "from", label: "Created from", type: "date" }, { name: "to", label: "Created before", type: "date" },
  ], columns: [
    { label: "Invoice", cell: (i) => link(i.guid) }, { label: "Type", cell: (i) => esc(i.invoice_type) },
    { label: "Customer", cell: (i) => link(i.customer_guid) },
    { label: "Amount", num: true, cell: (i) => money(i.effective_amount, i.currency || "USD") },
    { label: "Status", cell: (i) => badge(i.status) }, { label: "Created", cell: (i) => when(i.created_at) },
  ] });

async function invoice(guid) {
  const i = await api("GET", `/v1/invoices/${encodeURIComponent(guid)}`);
  const txs = (await api("GET", `/v1/invoices/${encodeURIComponent(guid)}/transactions?limit=100`)).items;
  const cur = i.currency || "USD";
  const history = [[i.created_at, `created (${i.invoice_type})`], ...txs.map((t) => [t.created_at, `${t.transaction_type} of ${money(t.amount, t.currency)} started`]),
    ...txs.filter((t) => t.status).map((t) => [t.updated_at, `${t.transaction_type} ${t.status}`]), [i.updated_at, `now ${i.status}`]]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  page(`Invoice <code>${esc(i.guid)}</code>`, `
    <section class="card"><h2>${money(i.effective_amount, cur)} ${badge(i.status)}</h2>
      ${fields([
        ["Type", esc(i.invoice_type)], ["Customer", link(i.customer_guid)], ["Subscription", link(i.subscription_guid)],
        ["Status", `<span id="inv-status">${badge(i.status)}</span>`], ["Amount", money(i.amount, cur)],
        ["Adjustments", money(i.total_adjustment_amount, cur)], ["Effective amount", `<span id="inv-effective">${money(i.effective_amount, cur)}</span>`],
        ["Title", esc(i.title || "—")], ["External ID", esc(i.external_id || "—")], ["Statement text", esc(i.appears_on_statement_as || "—")],
        ["Payment method", `<code>${esc(i.funding_instrument_uri || "—")}</code>`], ["Scheduled", when(i.scheduled_at)],
        ...(i.invoice_type === "terms" ? [["Terms", `${i.terms_days} days`], ["Due", when(i.due_at)], ["Paid", money(i.amount_paid, cur)],
          ["Checkout", link(i.checkout_guid)]] : []),
        ["Created", when(i.created_at)], ["Updated", when(i.updated_at)],
      ])}</section>
    <section class="card"><h2>Items</h2>${i.items.length ? `<table><thead><tr><th>Name</th><th class="num">Qty</th><th class="num">Amount</th></tr></thead>
      <tbody id="items">${i.items.map((it) => `<tr><td>${esc(it.name)}</td><td class="num">${esc(it.quantity ?? "")}</td><td class="num">${money(it.amount ?? (it.unit_amount * it.quantity), cur)}</td></tr>`).join("")}</tbody></table>` : "<p class=\"hint\">No items.</p>"}
      <h2>Adjustments</h2>${i.adjustments.length ? `<ul>${i.adjustments.map((a) => `<li>${money(a.amount, cur)} ${esc(a.reason || "")}</li>`).join("")}</ul>` : "<p class=\"hint\">None.</p>"}</section>
    <section class="card"><h2>Payments, refunds and other transactions</h2><div class="table-wrap"><table class="list">
      <thead><tr>${TX_COLUMNS.map((c) => `<th class="${c.num ? "num" : ""}">${c.label}</th>`).join("")}</tr></thead>
      <tbody id="inv-transactions">${txs.map((t) => `<tr>${TX_COLUMNS.map((c) => `<td class="${c.num ? "num" : ""}">${c.cell(t)}</td>`).join("")}</tr>`).join("") || "<tr><td colspan=\"6\">None.</td></tr>"}</tbody></table></div></section>
    <section class="card"><h2>History</h2><ol>${history.map(([t, what]) => `<li>${when(t)}: ${esc(what)}</li>`).join("")}</ol></section>
    <section class="card" id="actions"><h2>Actions</h2></section>
    <section class="card"><h2>Metadata</h2>${meta(i.metadata)}</section>`);
  const box = document.getElementById("actions");
  const id = encodeURIComponent(i.guid);
  if (i.status === "settled" && i.transaction_type === "debit" && i.invoice_type !== "terms") {
    action(box, { label: "Refund", confirmText: "Refund this amount to the customer?",
      inputs: `<div><label for="refund-amount">Amount (minor units)</label><input id="refund-amount" name="amount" inputmode="numeric" required></div>`,
      run: (v) => api("POST", `/v1/invoices/${id}/refund`, { amount: v.amount }) });
  }
  if (["staged", "processing", "failed"].includes(i.status)) {
    action(box, { label: "Cancel invoice", confirmText: "Cancel this invoice?", run: () => api("POST", `/v1/invoices/${id}/cancel`, {}) });
    action(box, { label: "Charge a new instrument", confirmText: "Charge this instrument now?",
      inputs: `<div><label for="new-fi">Funding instrument</label><input id="new-fi" name="funding_instrument_uri" required></div>`,
      run: (v) => api("PUT", `/v1/invoices/${id}`, { funding_instrument_uri: v.funding_instrument_uri }) });
  }
  if (i.invoice_type === "terms" && ["open", "overdue"].includes(i.status)) {
    action(box, { label: "Record a payment", confirmText: "Record this payment as received?",
      inputs: `<div><label for="pay-amount">Amount (minor units, empty = all)</label><input id="pay-amount" name="amount" inputmode="numeric"></div>`,
      run: (v) => api("POST", `/v1/invoices/${id}/payments`, v.amount ? { amount: v.amount } : {}) });
  }
  if (!box.querySelector("form")) box.insertAdjacentHTML("beforeend", "<p class=\"hint\">Nothing can be done to this invoice in its state.</p>");
}

const customers = (params) => listPage({ title: "Customers", base: "customers", apiPath: "/v1/customers", params,
  filters: [{ name: "processor_uri", label: "Processor URI" }],
  columns: [{ label: "Customer", cell: (c) => link(c.guid) }, { label: "Processor URI", cell: (c) => esc(c.processor_uri || "—") },
    { label: "Deleted", cell: (c) => (c.deleted ? "yes" : "no") }, { label: "Created", cell: (c) => when(c.created_at) }] });

async function customer(guid) {
  const id = encodeURIComponent(guid);
  const [c, subs, invs, credit, balance] = await Promise.all([api("GET", `/v1/customers/${id}`),
    api("GET", `/v1/customers/${id}/subscriptions?limit=100`), api("GET", `/v1/customers/${id}/invoices?limit=100`),
    api("GET", `/v1/customers/${id}/credit`), api("GET", `/v1/balance_transactions?customer=${id}&limit=100`)]);
  page(`Customer <code>${esc(c.guid)}</code>`, `
    <section class="card">${fields([["Processor URI", esc(c.processor_uri || "—")], ["Deleted", c.deleted ? "yes" : "no"], ["Created", when(c.created_at)]])}</section>
    <section class="card"><h2>Credit ${badge(credit.status)}</h2>${credit.status === "none" ? "<p class=\"hint\">Not assessed.</p>" : fields([
      ["Risk tier", esc(credit.risk_tier)], ["Limit", money(credit.credit_limit, credit.currency)], ["Used", money(credit.credit_used, credit.currency)],
      ["Available", money(credit.available_credit, credit.currency)], ["Terms", `${credit.terms_days_allowed.join(", ")} days`],
      ["Next limit", money(credit.growth?.next_limit, credit.currency)]])}</section>
    <section class="card"><h2>Balance</h2>${balance.items.length ? `<ul>${balance.items.map((b) => `<li>${esc(b.transaction_type)} ${money(b.amount, b.currency.toUpperCase())} → ${money(b.ending_balance_amount, b.currency.toUpperCase())}</li>`).join("")}</ul>` : "<p class=\"hint\">No entries.</p>"}</section>
    <section class="card"><h2>Subscriptions</h2>${subs.items.length ? `<ul>${subs.items.map((s) => `<li>${link(s.guid)} ${money(s.effective_amount)} ${subStatus(s)}</li>`).join("")}</ul>` : "<p class=\"hint\">None.</p>"}</section>
    <section class="card"><h2>Invoices</h2>${invs.items.length ? `<ul>${invs.items.map((i) => `<li>${link(i.guid)} ${money(i.effective_amount, i.currency || "USD")} ${badge(i.status)}</li>`).join("")}</ul>` : "<p class=\"hint\">None.</p>"}</section>
    <section class="card"><h2>Metadata</h2>${meta(c.metadata)}</section>`);
}

/** A subscription's status; a cancel at the period's end is said next to it. */
const subStatus = (s) => `${badge(s.status)}${s.cancel_at && !s.canceled ? ` <span class="hint">ends ${when(s.cancel_at)}</span>` : ""}`;

const subscriptions = (params) => listPage({ title: "Subscriptions", base: "subscriptions", apiPath: "/v1/subscriptions", params,
  columns: [{ label: "Subscription", cell: (s) => link(s.guid) }, { label: "Customer", cell: (s) => link(s.customer_guid) },
    { label: "Plan", cell: (s) => link(s.plan_guid) }, { label: "Amount", num: true, cell: (s) => money(s.effective_amount) },
    { label: "Next invoice", cell: (s) => when(s.next_invoice_at) }, { label: "Status", cell: subStatus }] });

/** A coupon in words: "12.5% off, for 3 invoices". */
const couponTerms = (k) => `${k.percent_off !== null && k.percent_off !== undefined ? `${esc(k.percent_off)}% off` : `${money(k.amount_off, k.currency || "USD")} off`}, ${
  k.duration === "repeating" ? `for ${esc(k.duration_in_periods)} invoice${k.duration_in_periods === 1 ? "" : "s"}` : esc(k.duration)}${k.deleted ? " (deleted)" : ""}`;

/** The API's 404 for an upcoming invoice (none will come) is an answer, not a failure. */
const orNone = (p) => p.catch((err) => { if (err.status === 404) return null; throw err; });

async function subscription(guid) {
  const id = encodeURIComponent(guid);
  const s = await api("GET", `/v1/subscriptions/${id}`);
  const [plan, upcoming, coupon] = await Promise.all([api("GET", `/v1/plans/${s.plan_guid}`),
    orNone(api("GET", `/v1/subscriptions/${id}/upcoming_invoice`)),
    s.coupon ? orNone(api("GET", `/v1/coupons/${encodeURIComponent(s.coupon)}`)) : null]);
  // The next 12 invoices, computed here by the core's schedule (the same rule the scheduler bills by): anchored at
  // the trial's end when there was one; periods that start while paused are skipped; none from a cancel's date on.
  const paused = (t) => s.paused_at && t >= s.paused_at && (!s.resumes_at || t < s.resumes_at);
  const upTo = (t) => !s.cancel_at || t < s.cancel_at;
  const periods = (anchor, first) => {
    const out = [];
    for (let n = first; out.length < 12 && n < first + 600; n++) {
      let t;
      try { t = core.periodAt(anchor, plan.frequency, plan.interval, n); } catch { break; }
      if (!upTo(t)) break;
      if (t >= s.next_invoice_at && !paused(t)) out.push(t);
    }
    return out;
  };
  let schedule = [];
  if (!s.canceled && s.next_invoice_at && !(s.paused_at && !s.resumes_at)) {
    schedule = periods(s.trial_end || s.started_at, s.invoice_count);
    // A change of frequency moved the anchor to next_invoice_at itself.
    if (schedule.length && schedule[0] !== s.next_invoice_at && !paused(s.next_invoice_at)) schedule = periods(s.next_invoice_at, 0);
  }
  const noSchedule = s.canceled ? "None: canceled." : s.paused_at && !s.resumes_at ? "None while paused."
    : s.cancel_at ? "None: it ends when its period does." : "None.";
  const trialing = s.status === "trialing";
  const pending = s.pending_adjustments || [];
  const upCur = upcoming?.currency || "USD";
  page(`Subscription <code>${esc(s.guid)}</code>`, `
    <section class="card">${fields([["Customer", link(s.customer_guid)], ["Plan", `${link(s.plan_guid)} (${esc(plan.frequency)} × ${plan.interval})`],
      ["Amount", money(s.effective_amount)], ["Status", `<span id="sub-status">${badge(s.status)}</span>`],
      ...(trialing || s.trial_end ? [[trialing ? "Trial ends" : "Trial ended", `<span id="sub-trial">${when(s.trial_end)}</span>`]] : []),
      ...(s.cancel_at && !s.canceled ? [["Cancels at period end", `<span id="sub-cancel-at">${when(s.cancel_at)}</span>`]] : []),
      ...(s.paused_at ? [["Paused since", `<span id="sub-paused">${when(s.paused_at)}</span>`],
        ["Resumes", `<span id="sub-resumes">${s.resumes_at ? when(s.resumes_at) : "when resumed"}</span>`]] : []),
      ["Coupon", s.coupon ? `<span id="sub-coupon"><code>${esc(s.coupon)}</code>${coupon ? ` (${couponTerms(coupon)})` : ""}: applied to ${
        esc(s.coupon_applied_count)} invoice${s.coupon_applied_count === 1 ? "" : "s"} so far</span>` : "—"],
      ["Started", when(s.started_at)], ["Invoices so far", esc(s.invoice_count)],
      ["Next invoice", s.paused_at && !s.resumes_at ? "None while paused" : when(s.next_invoice_at)], ["Canceled", when(s.canceled_at)]])}</section>
    <section class="card"><h2>Pending prorations</h2>${pending.length ? `<p class="hint">Added to the next invoice.</p>
      <ul id="pending">${pending.map((a) => `<li>${money(a.amount)} ${esc(a.reason || "")}</li>`).join("")}</ul>` : "<p class=\"hint\">None.</p>"}</section>
    <section class="card" id="upcoming"><h2>Upcoming invoice</h2>${upcoming ? `${fields([
      ["Period", `${when(upcoming.period_start)} to ${when(upcoming.period_end)}`], ["Amount", money(upcoming.amount, upCur)],
      ["Adjustments", upcoming.adjustments.length ? `<ul id="up-adjustments">${upcoming.adjustments.map((a) =>
        `<li>${money(a.amount, upCur)} ${esc(a.reason || "")}</li>`).join("")}</ul>` : "None."],
      ["Total adjustments", money(upcoming.total_adjustment_amount, upCur)], ["Balance applied", money(upcoming.balance_applied, upCur)],
      ["Coupon", upcoming.coupon ? `<code>${esc(upcoming.coupon)}</code>` : "—"],
      ["Effective amount", `<span id="up-effective">${money(upcoming.effective_amount, upCur)}</span>`]])}
      <p class="hint">A preview: nothing is written until it is invoiced.</p>` : "<p class=\"hint\" id=\"up-none\">No upcoming invoice.</p>"}</section>
    <section class="card"><h2>The next 12 invoices</h2>${schedule.length ? `<ol id="schedule">${schedule.map((t) => `<li>${when(t)} <span class="hint">${esc(t)}</span></li>`).join("")}</ol>` : `<p class="hint">${noSchedule}</p>`}</section>
    <section class="card" id="actions"><h2>Actions</h2></section>
    <section class="card"><h2>Metadata</h2>${meta(s.metadata)}</section>`);
  const box = document.getElementById("actions");
  if (s.canceled) return box.insertAdjacentHTML("beforeend", "<p class=\"hint\">Nothing can be done to a canceled subscription.</p>");
  action(box, { label: "Cancel subscription", confirmText: "Cancel this subscription? No further invoices.",
    run: () => api("POST", `/v1/subscriptions/${id}/cancel`, {}) });
  if (s.cancel_at) {
    action(box, { label: "Keep subscription", confirmText: "Keep billing this subscription after its period ends?",
      run: () => api("PUT", `/v1/subscriptions/${id}`, { cancel_at_period_end: false }) });
  } else {
    action(box, { label: "Cancel at period end", confirmText: "Cancel when the current period ends? No further invoices.",
      run: () => api("POST", `/v1/subscriptions/${id}/cancel`, { at_period_end: true }) });
  }
  if (s.paused_at) {
    action(box, { label: "Resume", confirmText: "Resume billing? The next invoice follows the original schedule.",
      run: () => api("POST", `/v1/subscriptions/${id}/resume`, {}) });
  } else {
    action(box, { label: "Pause", confirmText: "Pause billing? Periods that start while paused are not invoiced.",
      inputs: `<div><label for="pause-resumes">Resume on (optional, your time)</label><input id="pause-resumes" name="resumes_at" type="datetime-local"></div>`,
      run: (v) => api("POST", `/v1/subscriptions/${id}/pause`, v.resumes_at ? { resumes_at: new Date(v.resumes_at).toISOString() } : {}) });
  }
}

const plans = (params) => listPage({ title: "Plans", base: "plans", apiPath: "/v1/plans", params,
  columns: [{ label: "Plan", cell: (p) => esc(p.guid) }, { label: "Type", cell: (p) => esc(p.plan_type) },
    { label: "Every", cell: (p) => `${p.interval} ${esc(p.frequency)}` }, { label: "Amount", num: true, cell: (p) => money(p.amount) },
    { label: "Deleted", cell: (p) => (p.deleted ? "yes" : "no") }] });

const orders = (params) => listPage({ title: "Orders", base: "orders", apiPath: "/v1/orders", params,
  columns: [{ label: "Order", cell: (o) => link(o.guid) }, { label: "Merchant", cell: (o) => link(o.merchant_guid) },
    { label: "Brought in", num: true, cell: (o) => money(o.amount, o.currency) },
    { label: "In escrow", num: true, cell: (o) => money(o.amount_escrowed, o.currency) },
    { label: "Paid out", num: true, cell: (o) => money(o.amount_credited, o.currency) }] });

async function order(guid) {
  const id = encodeURIComponent(guid);
  const [o, txs] = await Promise.all([api("GET", `/v1/orders/${id}`), api("GET", `/v1/orders/${id}/transactions?limit=100`)]);
  page(`Order <code>${esc(o.guid)}</code>`, `
    <section class="card">${fields([["Merchant", link(o.merchant_guid)], ["Description", esc(o.description || "—")],
      ["Brought in", money(o.amount, o.currency)], ["In escrow", money(o.amount_escrowed, o.currency)], ["Paid out", money(o.amount_credited, o.currency)],
      ["Created", when(o.created_at)]])}</section>
    <section class="card"><h2>Debits, credits, refunds, reversals</h2><div class="table-wrap"><table class="list"><tbody>
      ${txs.items.map((t) => `<tr>${TX_COLUMNS.map((c) => `<td class="${c.num ? "num" : ""}">${c.cell(t)}</td>`).join("")}</tr>`).join("")}</tbody></table></div></section>
    <section class="card"><h2>Metadata</h2>${meta(o.metadata)}</section>`);
}

const checkouts = (params) => listPage({ title: "Checkouts", base: "checkouts", apiPath: "/v1/checkouts", params,
  columns: [{ label: "Checkout", cell: (c) => link(c.guid) }, { label: "Customer", cell: (c) => link(c.customer_guid) },
    { label: "Amount", num: true, cell: (c) => money(c.amount, c.currency) }, { label: "Status", cell: (c) => badge(c.status) },
    { label: "Created", cell: (c) => when(c.created_at) }] });

async function checkout(guid) {
  const c = await api("GET", `/v1/checkouts/${encodeURIComponent(guid)}`);
  const a = c.allocation || {};
  page(`Checkout <code>${esc(c.guid)}</code>`, `
    <section class="card">${fields([["Customer", link(c.customer_guid)], ["Status", badge(c.status)], ["Total", money(c.amount, c.currency)],
      ["Balance applied", money(a.balance_applied, c.currency)], ["On terms", money(a.terms_amount, c.currency)],
      ["By card", money(a.card_amount, c.currency)], ["Carried to balance", money(a.carried_to_balance, c.currency)],
      ["Terms invoice", link(c.invoice_guid)], ["Card transaction", link(c.transaction_guid)], ["Expires", when(c.expires_at)]])}</section>
    <section class="card"><h2>Metadata</h2>${meta(c.metadata)}</section>`);
}

const PAGES = {
  "": overview, transactions: (p, id) => (id ? transaction(id) : transactions(p)), invoices: (p, id) => (id ? invoice(id) : invoices(p)),
  customers: (p, id) => (id ? customer(id) : customers(p)), subscriptions: (p, id) => (id ? subscription(id) : subscriptions(p)),
  plans: (p) => plans(p), orders: (p, id) => (id ? order(id) : orders(p)), checkouts: (p, id) => (id ? checkout(id) : checkouts(p)),
};

async function render() {
  if (!session()) return signIn();
  nav.hidden = false;
  const { parts, params } = route();
  const [section = "", id] = parts;
  for (const a of nav.querySelectorAll("a")) {
    if (a.getAttribute("href").slice(2) === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  main.setAttribute("aria-busy", "true");
  try {
    const view = PAGES[section];
    if (!view) return page("Not found", "<p>There is no such page.</p>");
    await view(params, id);
    main.focus({ preventScroll: true });
  } catch (err) {
    if (err instanceof SessionEnded) return signIn(/expired|revoked/.test(err.message)
      ? "Your session has ended. Sign in again." : err.message);
    page("Something went wrong", `<div class="notice error" role="alert">${esc(err.status === 404 ? "This object does not exist in your company." : err.message)}</div>`);
  }
}

function signIn(message = "") {
  nav.hidden = true;
  page("Sign in", `
    <form class="card" id="signin">
      <p>Sign in with one of your company's secret API keys. It is exchanged for a session that lasts 8 hours; the key
        itself is not kept in this browser.</p>
      <label for="api-key">API key</label>
      <input id="api-key" name="key" type="password" autocomplete="off" required>
      <div id="signin-message" aria-live="assertive">${message ? `<div class="notice warn" role="alert">${esc(message)}</div>` : ""}</div>
      <div class="actions"><button type="submit">Sign in</button></div>
    </form>`);
  document.getElementById("api-key").focus();
  document.getElementById("signin").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = document.getElementById("api-key");
    const key = input.value.trim();
    const out = document.getElementById("signin-message");
    const res = await fetch("/v1/dashboard/sessions", { method: "POST",
      // Bearer, not Basic: a 401 then never makes the browser prompt for a password itself.
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: "{}" });
    input.value = "";
    const data = await res.json().catch(() => ({}));
    if (res.status !== 200) {
      out.innerHTML = `<div class="notice error" role="alert">${esc(res.status === 401
        ? "That API key is not valid. Check it and try again." : data?.error?.message || "Sign-in failed.")}</div>`;
      return;
    }
    sessionStorage.setItem(STORE, JSON.stringify({ token: data.token, company: data.company_guid, expires_at: data.expires_at }));
    render();
  });
}

document.getElementById("signout").addEventListener("click", async () => {
  try { await api("DELETE", "/v1/dashboard/sessions/current"); } catch { /* signed out either way */ }
  sessionStorage.removeItem(STORE);
  location.hash = "#/";
  signIn("You are signed out.");
});

window.addEventListener("hashchange", render);
await init();
render();
