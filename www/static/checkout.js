// The buyer's checkout page: /checkout/<checkout guid>#<client_secret>. The secret stays in the fragment (never sent
// to a server, never in a log) and is the page's only credential. The split is recomputed here, by the same wasm
// core the server enforces, on every change, with no request; the confirm sends the split the buyer saw, and if the
// server's differs (credit or balance moved meanwhile) the page shows the new one and asks again.
import init, * as core from "./pkg/billy_edge.js";
import { cardAdapter } from "./card.js";

const app = document.getElementById("app");
const guid = decodeURIComponent(location.pathname.split("/")[2] || "");
const secret = decodeURIComponent(location.hash.slice(1));

const api = async (method, path, body) => {
  const res = await fetch(path, { method, headers: { authorization: `Bearer ${secret}`,
    ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  return { status: res.status, data };
};

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const day = (t) => new Date(t).toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });

let state = null;

function fatal(message) {
  app.setAttribute("aria-busy", "false");
  app.innerHTML = `<h1>Checkout</h1><div class="notice error" role="alert">${esc(message)}</div>`;
}

/** Everything the page shows, computed by the core from the cart, the balance and the available credit. */
function compute() {
  const s = state;
  const money = (a) => core.formatMoney(a, s.currency);
  const cart = core.requantifyCart(s.items, s.items.length ? { quantities: s.quantities } : {}, s.adjustable, s.amount);
  const allocation = core.allocateCheckout(cart.total, s.balance, s.available, s.currency);
  let terms = { terms_days: null, due_at: null };
  let termsError = null;
  try {
    terms = core.previewTerms({ terms_days: s.termsDays }, allocation, null, s.allowed, s.now);
  } catch (e) { termsError = e.message; }
  return { cart, allocation, terms, termsError, money };
}

/** For tests and tools: the page's own allocation, from the same core. */
window.billy = {
  allocate: (total, balance, available, currency) => core.allocateCheckout(total, balance, available, currency),
  compute: () => compute().allocation,
};

function renderSplit() {
  const { cart, allocation: a, terms, termsError, money } = compute();
  // The core keeps the lines in order and drops those with quantity 0: line i's amount is the next kept line's.
  let kept = 0;
  const lineAmount = state.quantities.map((q) => (q > 0 ? cart.items[kept++].amount : 0));
  const rows = state.items.map((item, i) => `
    <tr>
      <td>${esc(item.name)}</td>
      <td class="num">${state.adjustable
        ? `<label class="sr-only" for="qty-${i}">Quantity of ${esc(item.name)}</label>
           <input type="number" id="qty-${i}" min="0" max="1000000" value="${state.quantities[i]}" data-i="${i}">`
        : state.quantities[i]}</td>
      <td class="num">${money(item.unit_amount)}</td>
      <td class="num">${money(lineAmount[i])}</td>
    </tr>`).join("");
  document.getElementById("cart").innerHTML = `
    <table>
      <caption class="sr-only">Your order</caption>
      <thead><tr><th scope="col">Item</th><th scope="col" class="num">Qty</th><th scope="col" class="num">Price</th>
        <th scope="col" class="num">Amount</th></tr></thead>
      <tbody>${rows}</tbody>
      <tfoot><tr><td colspan="3">Total</td><td class="num" id="total">${money(cart.total)}</td></tr></tfoot>
    </table>`;
  const line = (id, label, amount, extra = "") => amount > 0
    ? `<dt>${label}</dt><dd id="${id}">${money(amount)}${extra}</dd>` : "";
  document.getElementById("split").innerHTML = `
    <dl class="split">
      ${line("balance-applied", "Your credit balance", a.balance_applied)}
      ${line("balance-owed", "Owed from an earlier order", -a.balance_applied)}
      ${line("terms-part", `On terms${terms.terms_days ? ` (${terms.terms_days} days)` : ""}`, a.terms_amount,
        terms.due_at ? `<br><span class="hint">due ${esc(day(terms.due_at))}</span>` : "")}
      ${line("card-part", "By card now", a.card_amount)}
      ${line("carried", "Added to your balance (below the card minimum)", a.carried_to_balance)}
      <dt class="total">Total</dt><dd class="total">${money(a.total)}</dd>
    </dl>
    ${termsError ? `<p class="field-error" role="alert">${esc(termsError)}</p>` : ""}`;
  document.getElementById("card-box").hidden = a.card_amount === 0;
  document.getElementById("terms-box").hidden = a.terms_amount === 0;
}

function renderForm() {
  const s = state;
  app.setAttribute("aria-busy", "false");
  app.innerHTML = `
    <h1>Your order</h1>
    <section class="card" id="cart" aria-label="Cart"></section>
    <section class="card">
      <h2>Payment</h2>
      <p>Available credit on terms: <strong id="available">${core.formatMoney(s.available, s.currency)}</strong></p>
      <div id="terms-box">
        <label for="terms">Pay the terms part in</label>
        <select id="terms">${s.allowed.map((d) => `<option value="${d}" ${d === s.termsDays ? "selected" : ""}>${d} days</option>`).join("")}</select>
      </div>
      <div id="split" aria-live="polite" aria-atomic="true"></div>
      <div id="card-box"></div>
      <div id="message" aria-live="assertive"></div>
      <div class="actions"><button id="confirm" type="button">Confirm and pay</button></div>
    </section>`;
  cardAdapter.render(document.getElementById("card-box"));
  renderSplit();
  document.getElementById("terms").addEventListener("change", (e) => { state.termsDays = Number(e.target.value); renderSplit(); });
  document.getElementById("cart").addEventListener("input", (e) => {
    const i = e.target.dataset?.i;
    if (i === undefined) return;
    const q = Number.parseInt(e.target.value, 10);
    state.quantities[Number(i)] = Number.isInteger(q) && q >= 0 ? q : 0;
    try { renderSplit(); } catch (err) { document.getElementById("message").innerHTML = `<p class="notice warn">${esc(err.message)}</p>`; }
  });
  document.getElementById("confirm").addEventListener("click", confirm);
}

async function confirm() {
  const button = document.getElementById("confirm");
  const message = document.getElementById("message");
  const { allocation, terms } = compute();
  button.disabled = true;
  message.innerHTML = "";
  const body = { terms_days: terms.terms_days ?? undefined, expected_allocation: allocation };
  if (allocation.card_amount > 0) body.funding_instrument_uri = cardAdapter.token();
  if (state.adjustable) body.quantities = state.quantities;
  const res = await api("POST", `/v1/checkouts/${encodeURIComponent(guid)}/confirm`, body);
  if (res.status === 200) return showResult(res.data);
  button.disabled = false;
  const err = res.data?.error || {};
  if (res.status === 409 && /split changed/.test(err.message || "")) {
    await load(false);
    document.getElementById("message").innerHTML = `<div class="notice warn" role="alert">Your available credit or balance
      changed since this page was opened. Here is the new split: please review it and confirm again.</div>`;
    return;
  }
  if (res.status === 409 && /expired/.test(err.message || "")) return fatal("This checkout has expired. Ask the merchant for a new link.");
  const words = err.field === "funding_instrument_uri" ? "Enter a card to pay the card part."
    : err.field === "terms_days" ? err.message : err.message || "Something went wrong; nothing was charged.";
  message.innerHTML = `<div class="notice error" role="alert">${esc(words)}</div>`;
}

function showResult(checkout) {
  const money = (a) => core.formatMoney(a, checkout.currency);
  const t = checkout.terms_invoice;
  const card = checkout.card;
  const status = checkout.status;
  let headline, tone;
  if (status === "completed") { headline = "Thank you, your order is confirmed."; tone = "ok"; }
  else if (status === "failed") {
    headline = card?.failure_code === "card-declined"
      ? "Your card was declined. Nothing was charged, and your credit is released."
      : "The card payment did not go through. Nothing was charged, and your credit is released.";
    tone = "error";
  } else { headline = "Your card payment is being processed…"; tone = "warn"; }
  app.innerHTML = `
    <h1>${status === "failed" ? "Payment failed" : "Order confirmed"}</h1>
    <div class="notice ${tone}" role="status" id="result">${esc(headline)}</div>
    <section class="card">
      <h2>Summary</h2>
      <dl class="split">
        ${t ? `<dt>On terms, due ${esc(day(t.due_at))}</dt><dd id="result-terms">${money(t.amount)} <span class="badge">${esc(t.status)}</span></dd>` : ""}
        ${card ? `<dt>By card</dt><dd id="result-card">${money(card.amount)} <span class="badge ${card.status === "succeeded" ? "good" : card.submit_status === "failed" ? "bad" : ""}">${esc(card.status === "succeeded" ? "paid" : card.submit_status === "failed" ? "failed" : "processing")}</span></dd>` : ""}
        <dt class="total">Total</dt><dd class="total">${money(checkout.allocation.total)}</dd>
      </dl>
      <p class="hint">${status === "failed" ? "You can go back to the merchant and try another card."
        : t ? "You will receive the terms invoice by email; pay it by its due date to grow your credit limit."
        : "A receipt is on its way."}</p>
    </section>`;
  document.getElementById("result").focus?.();
  if (status === "processing") setTimeout(poll, 1000);
}

async function poll() {
  const res = await api("GET", `/v1/checkouts/${encodeURIComponent(guid)}`);
  if (res.status === 200) showResult(res.data);
}

async function load(render = true) {
  const [c, p] = await Promise.all([api("GET", `/v1/checkouts/${encodeURIComponent(guid)}`),
    api("GET", `/v1/checkouts/${encodeURIComponent(guid)}/allocation`)]);
  if (c.status === 401) return fatal("This checkout link is no longer valid (it may have expired). Ask the merchant for a new one.");
  if (c.status !== 200) return fatal("This checkout could not be found. Check the link the merchant sent you.");
  if (c.data.status === "expired") return fatal("This checkout has expired. Ask the merchant for a new link.");
  if (c.data.status !== "open") return showResult(c.data);
  const prev = state;
  state = { currency: c.data.currency, amount: c.data.amount, items: p.data.items, adjustable: p.data.adjustable_quantities,
    quantities: prev?.quantities ?? p.data.items.map((i) => i.quantity), balance: p.data.balance,
    available: p.data.available_credit, allowed: p.data.terms_days_allowed, now: p.data.now,
    termsDays: prev?.termsDays ?? p.data.terms_days ?? p.data.terms_days_allowed.at(-1) ?? null };
  if (render || !document.getElementById("split")) renderForm();
  else { document.getElementById("available").textContent = core.formatMoney(state.available, state.currency); renderSplit(); }
}

try {
  if (!guid || !secret) fatal("This checkout link is incomplete. Open the full link the merchant sent you.");
  else { await init(); await load(); }
} catch (err) {
  fatal(`The checkout could not be loaded: ${err.message}`);
}
