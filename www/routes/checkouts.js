// @ts-check
// /v1/checkouts: split-payment checkouts. The merchant creates one (secret key) and gets its client_secret once;
// the buyer's browser, with only that secret as Bearer, may read it, preview its allocation and confirm it.
import { json } from "../http.js";
import * as views from "../views.js";
import { N } from "../core.js";
import { find, referenced } from "./find.js";
import { listPage } from "./list.js";

const findCheckout = (r, guid) => find(r, "checkouts", "checkout", guid);
/** A checkout's own routes are open to its client_secret (a token scoped to it) and to secret keys. */
const own = { scope: (params) => `checkout:${params[0]}` };

/** The checkout with what its buyer needs to see: the split, the card part's progress and the terms invoice. */
function show(r, row, extra = {}) {
  const allocation = row.allocation ? JSON.parse(row.allocation)
    : r.checkouts.allocation(row, r.now());
  const card = row.transaction_guid ? r.db.one("SELECT * FROM transactions WHERE guid = ?", row.transaction_guid) : null;
  const lastFailure = card?.failure_count
    ? r.db.one("SELECT error_code, error_message FROM failures WHERE transaction_guid = ? ORDER BY seq DESC LIMIT 1", card.guid) : null;
  const invoice = row.invoice_guid ? r.db.one("SELECT * FROM invoices WHERE guid = ?", row.invoice_guid) : null;
  return json({ ...views.checkout(row, r.core.checkoutStatusAt(row.status, row.expires_at, r.now()), allocation),
    card: card && { amount: card.amount, submit_status: card.submit_status, status: card.status,
      failure_code: lastFailure?.error_code ?? null, failure_message: lastFailure?.error_message ?? null },
    terms_invoice: invoice && { guid: invoice.guid, amount: invoice.effective_amount, due_at: invoice.due_at,
      terms_days: invoice.terms_days, status: invoice.status },
    ...extra });
}

export const routes = [
  ["POST", "/v1/checkouts", async (r) => {
    const now = r.now();
    const v = r.core.validateCheckout(r.body, now);
    const metadata = JSON.stringify(r.core.mergeMetadata({}, r.body));
    const guid = r.core.guid("CH");
    const secret = await r.keys.issue(r.company.guid, N.KeyKind.restricted, [`checkout:${guid}`], v.expires_at, now);
    r.db.tx(() => {
      referenced(r, "customers", "customer", v.customer_guid, "customer_guid");
      r.keys.insert(secret.row);
      r.db.insert("checkouts", { guid, customer_guid: v.customer_guid, currency: v.currency, total: v.total,
        items: JSON.stringify(v.items), terms_days: v.terms_days, status: N.CheckoutStatus.open, expires_at: v.expires_at,
        allocation: null, invoice_guid: null, transaction_guid: null, key_guid: secret.row.guid, metadata,
        adjustable_quantities: v.adjustable_quantities ? 1 : 0,
        created_at: now, updated_at: now });
    });
    // The page to send the buyer to: the secret rides in the fragment, which browsers never send to a server.
    return show(r, findCheckout(r, guid), { client_secret: secret.key, url: `/checkout/${guid}#${secret.key}` });
  }],
  ["GET", "/v1/checkouts", (r) => listPage(r, { table: "checkouts",
    view: (row) => views.checkout(row, r.core.checkoutStatusAt(row.status, row.expires_at, r.now()),
      row.allocation ? JSON.parse(row.allocation) : null) })],
  ["GET", "/v1/checkouts/:guid", (r) => show(r, findCheckout(r, r.params[0])), own],
  // A preview: the split as it would be confirmed now, and whether the terms length asked for is allowed.
  ["GET", "/v1/checkouts/:guid/allocation", (r) => {
    const row = findCheckout(r, r.params[0]);
    const now = r.now();
    const { allowed, profile } = r.checkouts.creditFor(row, now);
    const allocation = row.allocation ? JSON.parse(row.allocation) : r.checkouts.allocation(row, now);
    const terms = r.core.previewTerms(r.query, allocation, row.terms_days, allowed, now);
    // Everything the browser needs to recompute the split itself with the same core.
    return json({ allocation, terms_days: terms.terms_days, due_at: terms.due_at, terms_days_allowed: allowed,
      available_credit: profile.currency === row.currency ? profile.available_credit : 0, currency: row.currency,
      balance: r.balances.amount(row.customer_guid, row.currency), minimum_charge: r.core.minimumCharge(row.currency),
      adjustable_quantities: Boolean(row.adjustable_quantities), items: JSON.parse(row.items), now });
  }, own],
  ["POST", "/v1/checkouts/:guid/confirm", async (r) => {
    const guid = r.params[0];
    findCheckout(r, guid);
    const now = r.now();
    const card = r.db.tx(() => {
      const staged = r.checkouts.confirm(guid, r.body, JSON.stringify(r.core.mergeMetadata({}, r.body)), now);
      r.recover(["get", `/v1/checkouts/${guid}`]);
      return staged;
    });
    if (card) {
      try { await r.payments.submit(card); } catch (err) { console.error("submit", card, err?.message || err); }
    }
    await r.scheduler.arm();
    return show(r, findCheckout(r, guid));
  }, own],
];
