// The hosted invoice page: /i/<token>. The token in the path is the page's only credential: it may read this one
// invoice and pay it (GET /v1/hosted_invoices/<token>, POST …/pay), nothing else. The page shows who asks for the
// money, the items (any kind of line: name, quantity, amount), the adjustments, the total, the status, the due date of
// a terms invoice, and its payments and refunds; amounts are formatted by the same wasm core the server runs. The pay
// form takes a funding instrument; after paying, the page polls until the payment is final, and says a decline in
// plain words, after which another instrument can be tried.
import init, * as core from "./pkg/billy_edge.js";
import { cardAdapter } from "./card.js";

const app = document.getElementById("app");
const token = decodeURIComponent(location.pathname.split("/")[2] || "");
const base = `/v1/hosted_invoices/${encodeURIComponent(token)}`;
const POLL_MS = 1000;
const POLL_LIMIT = 60;
/** Every status name, from the core (set once it is loaded): the page spells none itself. */
let N;

const api = async (method, path, body) => {
  const res = await fetch(path, { method, headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  return { status: res.status, data };
};

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const day = (t) => new Date(t).toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });

/** The invoice's status in words, and the badge's tone. */
const STATUS = {
  staged: ["Awaiting payment", ""], processing: ["Payment processing", "warn"], settled: ["Paid", "good"],
  failed: ["Payment failed", "bad"], canceled: ["Canceled", ""], open: ["Open", ""], overdue: ["Overdue", "bad"],
};
const KIND = { debit: "Payment", refund: "Refund", credit: "Payout", reversal: "Reversal" };

let invoice = null;

function fatal(message) {
  app.setAttribute("aria-busy", "false");
  app.innerHTML = `<h1>Invoice</h1><div class="notice error" role="alert">${esc(message)}</div>`;
}

/** A transaction's state in words; a decline says so plainly. */
function transactionWords(t) {
  const T = N.TransactionStatus, S = N.SubmitStatus;
  if (t.status === T.succeeded) return ["Succeeded", "good"];
  if (t.status === T.pending) return ["Pending at the processor", "warn"];
  if (t.status === T.failed || t.submit_status === S.failed) return ["Failed", "bad"];
  if (t.submit_status === S.retrying) return ["Being retried", "warn"];
  return ["Processing", "warn"];
}

/** Why the last payment failed, in the buyer's words. */
function declineWords(t) {
  if (t?.failure_code === "card-declined") {
    return "Your card was declined. Nothing was charged. You can pay with another card.";
  }
  return `The payment did not go through${t?.failure_message ? ` (${t.failure_message})` : ""}. Nothing was charged. You can try another card.`;
}

function render() {
  const inv = invoice;
  const money = (a) => core.formatMoney(a, inv.currency);
  const [statusText, tone] = STATUS[inv.status] ?? [inv.status, ""];
  const merchant = inv.company_name || "The merchant";
  document.getElementById("merchant").textContent = inv.company_name || "Invoice";
  document.title = `Invoice${inv.company_name ? ` from ${inv.company_name}` : ""} · ${statusText}`;
  const items = inv.items.length ? inv.items : [{ name: inv.title || "Amount", amount: inv.amount, quantity: null }];
  const itemRows = items.map((item) => {
    const qty = item.quantity ?? "";
    const detail = [item.unit, item.type].filter(Boolean).join(" · ");
    return `<tr><td>${esc(item.name)}${detail ? `<br><span class="hint">${esc(detail)}</span>` : ""}</td>
      <td class="num">${esc(qty)}</td><td class="num">${money(item.amount)}</td></tr>`;
  }).join("");
  const adjustmentRows = inv.adjustments.map((a) => `<tr class="adjustment"><td colspan="2">${esc(a.reason || "Adjustment")}</td>
      <td class="num">${money(a.amount)}</td></tr>`).join("");
  const terms = inv.invoice_type === "terms";
  const paidRows = terms && inv.amount_paid > 0 ? `
      <tr class="adjustment"><td colspan="2">Paid</td><td class="num" id="amount-paid">${money(-inv.amount_paid)}</td></tr>` : "";
  const due = terms ? inv.effective_amount - inv.amount_paid : inv.effective_amount;
  const payments = inv.transactions.map((t) => {
    const [words, tTone] = transactionWords(t);
    const failed = words === "Failed";
    return `<li data-status="${esc(t.status ?? t.submit_status)}">
        <span>${esc(KIND[t.transaction_type] ?? t.transaction_type)} <span class="badge ${tTone}">${esc(words)}</span></span>
        <span class="amount">${money(t.transaction_type === "refund" || t.transaction_type === "reversal" ? -t.amount : t.amount)}</span>
        <span class="when">${esc(day(t.created_at))}</span>
        ${failed && t.failure_message ? `<span class="why">${esc(t.failure_message)}</span>` : ""}
      </li>`;
  }).join("");
  app.setAttribute("aria-busy", "false");
  app.innerHTML = `
    <div class="invoice-head">
      <h1>Invoice from ${esc(merchant)}</h1>
      <span class="badge ${tone}" id="invoice-status" data-status="${esc(inv.status)}">${esc(statusText)}</span>
    </div>
    <section class="card" aria-labelledby="summary-h">
      <h2 id="summary-h">${esc(inv.title || "Summary")}</h2>
      <dl class="facts">
        <dt>Invoice</dt><dd id="invoice-number">${esc(inv.guid)}</dd>
        <dt>Issued</dt><dd>${esc(day(inv.created_at))}</dd>
        ${terms && inv.due_at ? `<dt>Due</dt><dd id="due-date">${esc(day(inv.due_at))}</dd>` : ""}
        <dt>Currency</dt><dd>${esc(inv.currency)}</dd>
      </dl>
      <p class="hint">${inv.status === N.InvoiceStatus.settled ? "Amount paid" : inv.status === N.InvoiceStatus.canceled ? "Amount (canceled)" : "Amount due"}</p>
      <p class="amount-due" id="amount-due">${money(inv.status === N.InvoiceStatus.settled ? inv.effective_amount : due)}</p>
    </section>
    <section class="card" aria-labelledby="items-h">
      <h2 id="items-h">Items</h2>
      <table id="items">
        <thead><tr><th scope="col">Item</th><th scope="col" class="num">Qty</th><th scope="col" class="num">Amount</th></tr></thead>
        <tbody>${itemRows}</tbody>
        <tfoot>
          ${adjustmentRows ? `<tr class="subtotal"><td colspan="2">Subtotal</td><td class="num">${money(inv.amount)}</td></tr>${adjustmentRows}` : ""}
          <tr class="total"><td colspan="2">Total</td><td class="num" id="total">${money(inv.effective_amount)}</td></tr>
          ${paidRows}
        </tfoot>
      </table>
    </section>
    <section class="card" aria-labelledby="payments-h">
      <h2 id="payments-h">Payments and refunds</h2>
      ${payments ? `<ul class="payments" id="payments">${payments}</ul>` : `<p class="hint" id="payments">No payments yet.</p>`}
    </section>
    <div id="status" role="status" aria-live="polite" aria-atomic="true"></div>
    ${inv.payable ? `
    <section class="card no-print" aria-labelledby="pay-h">
      <h2 id="pay-h">Pay this invoice</h2>
      <form id="pay-form" novalidate>
        <div id="card-box"></div>
        <div class="actions"><button id="pay" type="submit">Pay ${money(due)}</button></div>
      </form>
    </section>` : ""}
    <div class="actions no-print"><button id="print" type="button" class="secondary">Print or save as PDF</button></div>`;
  if (inv.payable) {
    cardAdapter.render(document.getElementById("card-box"));
    document.getElementById("pay-form").addEventListener("submit", (e) => { e.preventDefault(); pay(); });
  }
  document.getElementById("print").addEventListener("click", () => window.print());
}

/** Says something in the live region (and, for an error, as an alert). */
function say(message, tone) {
  const box = document.getElementById("status");
  if (!box) return;
  box.innerHTML = message ? `<div class="notice ${tone}" ${tone === "error" ? 'role="alert"' : ""} id="result">${esc(message)}</div>` : "";
}

/** The outcome of a payment as the invoice now stands. */
function announce() {
  const inv = invoice;
  if (inv.status === N.InvoiceStatus.settled) return say("Thank you, this invoice is paid.", "ok");
  if (inv.status === N.InvoiceStatus.failed) {
    const last = inv.transactions.filter((t) => t.transaction_type === "debit").at(-1);
    say(declineWords(last), "error");
    document.getElementById("card")?.focus();
    return;
  }
  if (inv.status === N.InvoiceStatus.processing) return say("Your payment is being processed…", "warn");
}

async function pay() {
  const button = document.getElementById("pay");
  const instrument = cardAdapter.token();
  if (!instrument) {
    say("Enter a card to pay this invoice.", "error");
    document.getElementById("card").focus();
    return;
  }
  button.disabled = true;
  say("Paying…", "warn");
  const res = await api("POST", `${base}/pay`, { funding_instrument_uri: instrument });
  if (res.status !== 200) {
    button.disabled = false;
    const err = res.data?.error || {};
    const words = res.status === 404 ? "This invoice link is not valid any more. Ask the merchant for a new one."
      : res.status === 409 && err.code === "payment_pending" ? "A payment for this invoice is still pending; please wait for it to finish."
      : res.status === 409 ? "This invoice cannot be paid here any more (it may be paid or canceled already). Reload the page to see it."
      : err.field === "funding_instrument_uri" ? "Enter a card to pay this invoice."
      : err.message || "Something went wrong; nothing was charged.";
    say(words, "error");
    return;
  }
  invoice = res.data;
  render();
  announce();
  if (invoice.status === N.InvoiceStatus.processing) poll(0);
}

async function poll(n) {
  await new Promise((r) => setTimeout(r, POLL_MS));
  const res = await api("GET", base);
  if (res.status !== 200) return;
  invoice = res.data;
  if (invoice.status === N.InvoiceStatus.processing && n < POLL_LIMIT) {
    render();
    say("Your payment is being processed…", "warn");
    return poll(n + 1);
  }
  render();
  announce();
}

async function load() {
  const res = await api("GET", base);
  if (res.status === 404) return fatal("This invoice could not be found. Check the link the merchant sent you.");
  if (res.status !== 200) return fatal("This invoice could not be loaded. Please try again later.");
  invoice = res.data;
  render();
  if (invoice.status === N.InvoiceStatus.processing) {
    say("A payment for this invoice is being processed…", "warn");
    poll(0);
  }
}

try {
  if (!token) fatal("This invoice link is incomplete. Open the full link the merchant sent you.");
  else { await init(); N = core.names(); await load(); }
} catch (err) {
  fatal(`The invoice could not be loaded: ${err.message}`);
}
