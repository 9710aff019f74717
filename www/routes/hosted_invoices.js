// @ts-check
// /v1/hosted_invoices/<token>: the buyer's view of one invoice, and paying it, with the invoice's hosted token as the
// only credential (no API key; the page /i/<token> calls these). The token is `<company guid>.<invoice guid>.<MAC>`
// (src/hosted_invoice.rs), derived from the invoice guid under the company's secret, so it opens that one invoice and
// nothing else. A token that does not verify, is another company's, or names an invoice this company does not have
// is always the same 404: the answer never says whether an invoice exists.
import { ApiError, json } from "../http.js";
import { CURRENCY, OWNER, TERMS } from "../invoicing.js";
import { payInvoice } from "./invoices.js";

export const noSuchHostedInvoice = () => new ApiError(404, "not_found", "No such hosted invoice");

/** The path's token is the credential, checked here (www/company.js `handle` asks no key of these routes). */
const TOKEN = { token: true };

/** The invoice the path's token opens, or the 404. */
function tokenInvoice(r) {
  const guid = r.invoicing.hostedInvoiceOf(r.params[0]);
  const row = guid === null ? null : r.db.one("SELECT * FROM invoices WHERE guid = ?", guid);
  if (!row) throw noSuchHostedInvoice();
  return row;
}

/** Whether the buyer may pay it now with an instrument, exactly as `PUT /v1/invoices/<guid>` would take one. */
function payable(r, row) {
  // A payout (credit) invoice is money going to the customer: nothing for a buyer to pay.
  if (row.invoice_type === TERMS || row.transaction_type !== r.core.N.TransactionKind.debit || r.payments.hasPending(OWNER, row.guid)) return false;
  try {
    r.core.invoiceTransition(row.status, r.core.N.InvoiceEvent.update_instrument);
    return true;
  } catch {
    return false;
  }
}

/**
 * The invoice view, and what its page shows besides: who asks for the money, the currency, the due date of a terms
 * invoice, whether it can be paid now, and its payments and refunds (each with the processor's last failure).
 */
function show(r, row) {
  const transactions = r.payments.rowsOf(OWNER, row.guid).map((tx) => {
    const failure = tx.failure_count || tx.status === r.core.N.TransactionStatus.pending
      ? r.db.one("SELECT error_code, error_message FROM failures WHERE transaction_guid = ? ORDER BY seq DESC LIMIT 1", tx.guid)
      : null;
    return { guid: tx.guid, transaction_type: tx.transaction_type, amount: tx.amount, status: tx.status,
      submit_status: tx.submit_status, reason: tx.reason, failure_code: failure?.error_code ?? null,
      failure_message: failure?.error_message ?? null, created_at: tx.created_at, updated_at: tx.updated_at };
  });
  // The merchant's metadata is theirs, not the buyer's: left out of the page's view.
  // Nor is the stored card reference: a link that is forwarded must never hand out an instrument that can be charged.
  const { metadata: _merchantOnly, funding_instrument_uri: _instrument, terms_funding_instrument_uri: _termsInstrument,
    ...view } = r.invoicing.invoiceView(row);
  return json({ ...view, object: "hosted_invoice", company_name: r.company.name ?? null,
    currency: row.currency ?? CURRENCY, due_at: row.due_at ?? null, payable: payable(r, row), transactions });
}

export const routes = [
  ["GET", "/v1/hosted_invoices/:token", (r) => show(r, tokenInvoice(r)), TOKEN],
  // `funding_instrument_uri`: what `PUT /v1/invoices/<guid>` does with one (its code path), never the metadata.
  ["POST", "/v1/hosted_invoices/:token/pay", async (r) => {
    const { guid, transaction_type } = tokenInvoice(r);
    if (transaction_type !== r.core.N.TransactionKind.debit) throw new ApiError(409, "not_payable", "This invoice pays money out; there is nothing to pay");
    await payInvoice(r, guid, { metadata: null, recover: `/v1/hosted_invoices/${encodeURIComponent(r.params[0])}` });
    return show(r, tokenInvoice(r));
  }, TOKEN],
];
