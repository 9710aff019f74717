// The buyer's credit application: /apply/<token>. The token in the path is the page's only credential. Every field
// the merchant pre-filled is shown and editable; each is checked as the buyer types by the same core the server uses
// (field types and lengths), and the whole form before it is sent (required fields, email, country).
import init, * as core from "./pkg/billy_edge.js";

const app = document.getElementById("app");
const token = location.pathname.split("/")[2] || "";
const base = `/v1/applications/by_token/${token}`;

const GROUPS = [
  ["Business", [["legal_name", "Legal name"], ["trade_name", "Trade name (if different)"], ["tax_id", "Tax ID"],
    ["business_type", "Type of business"]]],
  ["Address", [["address_line1", "Address"], ["address_line2", "Address, line 2"], ["city", "City"],
    ["region", "State or region"], ["postal_code", "Postal code"], ["country", "Country (2-letter code, e.g. US)"]]],
  ["Contact", [["contact_name", "Contact name"], ["contact_email", "Contact email", "email"],
    ["contact_phone", "Contact phone", "tel"]]],
  ["Finances", [["years_in_business", "Years in business", "number"],
    ["annual_revenue_band", "Annual revenue", ["0-100k", "100k-1m", "1m-10m", "10m+"]],
    ["employees_band", "Employees", ["1-10", "11-50", "51-500", "500+"]],
    ["industry_risk", "Industry risk", ["low", "medium", "high"]]]],
];
const REQUIRED = new Set(["legal_name", "address_line1", "city", "postal_code", "country", "contact_name", "contact_email",
  "years_in_business", "annual_revenue_band", "employees_band", "industry_risk"]);

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function field([key, label, kind], value) {
  const req = REQUIRED.has(key) ? ` <span aria-hidden="true">*</span>` : "";
  const common = `id="f-${key}" name="${key}" aria-describedby="e-${key}" ${REQUIRED.has(key) ? "aria-required=\"true\"" : ""}`;
  const input = Array.isArray(kind)
    ? `<select ${common}><option value="">Choose…</option>${kind.map((o) => `<option ${o === value ? "selected" : ""}>${o}</option>`).join("")}</select>`
    : `<input ${common} type="${kind === "number" ? "text" : kind || "text"}" ${kind === "number" ? "inputmode=\"numeric\"" : ""} value="${esc(value)}">`;
  return `<div><label for="f-${key}">${label}${req}</label>${input}<p class="field-error" id="e-${key}"></p></div>`;
}

/** Shows the core's message for a field, in the buyer's words: "contact_email must be…" → "This must be…". */
function showError(key, message) {
  const input = document.getElementById(`f-${key}`);
  const slot = document.getElementById(`e-${key}`);
  if (!input || !slot) return false;
  input.setAttribute("aria-invalid", message ? "true" : "false");
  slot.textContent = message ? message.replace(new RegExp(`^${key} (is|must)`), (_, verb) => `This field ${verb}`) : "";
  return true;
}

const values = () => Object.fromEntries([...document.querySelectorAll("#form [name]")].map((el) => [el.name, el.value.trim()]));

/** The field's own rules (type, length), from the core, as the buyer types. */
function checkField(key, value) {
  try { core.mergeApplication({}, { [key]: value }); showError(key, ""); return true; }
  catch (e) { showError(key, e.message); return false; }
}

function render(application) {
  app.setAttribute("aria-busy", "false");
  app.innerHTML = `
    <h1>Apply for payment terms</h1>
    <p>${esc(application.legal_name || "Your business")}: check the details below, correct anything that is wrong,
      and submit. Fields marked * are required.</p>
    <form id="form" novalidate>
      ${GROUPS.map(([legend, fields]) => `<fieldset><legend>${legend}</legend><div class="grid">
        ${fields.map((f) => field(f, application[f[0]] ?? "")).join("")}</div></fieldset>`).join("")}
      <div id="message" aria-live="assertive"></div>
      <div class="actions"><button type="submit" id="submit">Submit application</button></div>
    </form>`;
  const form = document.getElementById("form");
  form.addEventListener("input", (e) => checkField(e.target.name, e.target.value.trim()));
  form.addEventListener("submit", submit);
}

async function submit(e) {
  e.preventDefault();
  const fields = values();
  const message = document.getElementById("message");
  message.innerHTML = "";
  // The same rules the server applies on submit, in the browser first.
  try {
    core.validateApplicationSubmission("draft", core.mergeApplication({}, fields));
  } catch (err) {
    if (!showError(err.field, err.message)) message.innerHTML = `<div class="notice error" role="alert">${esc(err.message)}</div>`;
    document.getElementById(`f-${err.field}`)?.focus();
    return;
  }
  const button = document.getElementById("submit");
  button.disabled = true;
  const res = await fetch(`${base}/submit`, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify(fields) });
  const data = await res.json().catch(() => ({}));
  button.disabled = false;
  if (res.status !== 200) {
    const err = data.error || {};
    if (!showError(err.field, err.message)) {
      message.innerHTML = `<div class="notice error" role="alert">${esc(err.message || "The application could not be sent.")}</div>`;
    }
    return;
  }
  approved(data);
}

function approved(application) {
  const c = application.credit;
  const money = core.formatMoney(c.credit_limit, c.currency);
  const longest = Math.max(...c.terms_days_allowed);
  app.innerHTML = `
    <h1>You are approved</h1>
    <div class="notice ok" role="status" id="result" tabindex="-1">
      You can buy up to <strong>${esc(money)}</strong> on ${longest}-day terms now; your limit grows as you pay on time.
    </div>
    <section class="card">
      <dl class="split">
        <dt>Credit limit</dt><dd id="limit">${esc(money)}</dd>
        <dt>Payment terms</dt><dd>${c.terms_days_allowed.join(", ")} days</dd>
        <dt>Next limit after an on-time payment</dt><dd>${esc(core.formatMoney(c.growth.next_limit, c.currency))}</dd>
      </dl>
    </section>`;
  document.getElementById("result").focus();
}

try {
  await init();
  const res = await fetch(base);
  if (res.status === 401 || res.status === 404) {
    app.innerHTML = `<h1>Application</h1><div class="notice error" role="alert">This application link is not valid or has
      expired. Ask the merchant for a new one.</div>`;
  } else {
    const application = await res.json();
    if (application.status === "approved") {
      app.innerHTML = `<h1>Application</h1><div class="notice ok" role="status">This application was approved already.</div>`;
    } else {
      render(application);
    }
  }
} catch (err) {
  app.innerHTML = `<div class="notice error" role="alert">The application could not be loaded: ${esc(err.message)}</div>`;
}
