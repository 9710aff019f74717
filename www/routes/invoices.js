// @ts-check
// /v1/invoices: customer invoices (items, adjustments), retrieve, update the funding instrument, refund,
// cancel, list (?external_id=), transactions. Subscription invoices are created by the scheduler.
import { ApiError, json, notFound } from "../http.js";
import * as views from "../views.js";
import { listPage } from "./list.js";
import { referenced } from "./subscriptions.js";
import { transactionPage } from "./transactions.js";

export function findInvoice(r, guid) {
  const row = r.db.one("SELECT * FROM invoices WHERE guid = ?", guid);
  if (!row) throw notFound("invoice", guid);
  return row;
}

/**
 * A charge the processor holds as pending may still succeed: replacing or canceling it here could take the money
 * twice or lose track of it, so both wait (409) until the poll settles it.
 */
function refuseWhilePending(r, guid) {
  if (r.db.one(`SELECT 1 AS x FROM transactions WHERE invoice_guid = ? AND submit_status = 'done'
    AND status = 'pending'`, guid)) {
    throw new ApiError(409, "payment_pending", "A payment for this invoice is pending at the processor; retry after it settles");
  }
}

const show = (r, guid) => json(views.invoice(findInvoice(r, guid)));

export const routes = [
  ["POST", "/v1/invoices", async (r) => {
    const v = r.core.validateInvoice(r.body);
    const now = r.co.now();
    const guid = r.db.tx(() => {
      referenced(r, "customers", "customer", v.customer_guid, "customer_guid");
      if (v.external_id !== null && r.db.one("SELECT 1 AS x FROM invoices WHERE customer_guid = ? AND external_id = ?",
        v.customer_guid, v.external_id)) {
        throw new ApiError(409, "duplicate_external_id",
          `An invoice with external_id ${v.external_id} already exists for customer ${v.customer_guid}`, "external_id");
      }
      return r.co.billing.insertInvoice({ invoice_type: "customer", transaction_type: "debit",
        customer_guid: v.customer_guid, subscription_guid: null, period: null, scheduled_at: null, amount: v.amount,
        total_adjustment_amount: v.total_adjustment_amount, effective_amount: v.effective_amount, title: v.title,
        external_id: v.external_id, appears_on_statement_as: v.appears_on_statement_as,
        funding_instrument_uri: v.funding_instrument_uri, items: v.items, adjustments: v.adjustments }, now);
    });
    await r.co.billing.submitStaged(guid);
    return show(r, guid);
  }],
  ["GET", "/v1/invoices", (r) => listPage(r, { table: "invoices", view: views.invoice })],
  ["GET", "/v1/invoices/:guid", (r) => show(r, r.params[0])],
  // New funding instrument: cancels this invoice's unfinished transaction and submits a new one.
  ["PUT", "/v1/invoices/:guid", async (r) => {
    const guid = r.params[0];
    findInvoice(r, guid);
    const { funding_instrument_uri } = r.core.validateFundingInstrument(r.body);
    await r.co.billing.quiesce(guid);
    await r.co.billing.reconcile(guid);
    const now = r.co.now();
    r.db.tx(() => {
      const inv = findInvoice(r, guid);
      const status = r.core.invoiceTransition(inv.status, "update_instrument");
      refuseWhilePending(r, guid);
      r.co.billing.cancelOpenTransactions(guid, now);
      r.db.update("invoices", guid, { funding_instrument_uri, status, updated_at: now });
      r.co.billing.stageTransaction({ invoice_guid: guid, transaction_type: inv.transaction_type,
        amount: inv.effective_amount, funding_instrument_uri, appears_on_statement_as: inv.appears_on_statement_as }, now);
    });
    await r.co.billing.submitStaged(guid);
    return show(r, guid);
  }],
  ["POST", "/v1/invoices/:guid/refund", async (r) => {
    const guid = r.params[0];
    findInvoice(r, guid);
    await r.co.billing.quiesce(guid);
    const now = r.co.now();
    r.db.tx(() => {
      const inv = findInvoice(r, guid);
      const refunded = r.core.refundedAmount(r.db.all(`SELECT amount, submit_status, status FROM transactions
        WHERE invoice_guid = ? AND transaction_type = 'refund'`, guid));
      const { amount } = r.core.validateRefund(r.body, { status: inv.status, transaction_type: inv.transaction_type,
        effective_amount: inv.effective_amount, refunded_amount: refunded });
      const debit = r.db.one(`SELECT * FROM transactions WHERE invoice_guid = ? AND transaction_type = 'debit'
        AND status = 'succeeded' ORDER BY seq DESC LIMIT 1`, guid);
      if (!debit) throw new ApiError(409, "invalid_state", "This invoice has no settled payment to refund");
      r.co.billing.stageTransaction({ invoice_guid: guid, transaction_type: "refund", amount,
        funding_instrument_uri: debit.funding_instrument_uri, appears_on_statement_as: inv.appears_on_statement_as,
        reference_guid: debit.guid }, now);
    });
    await r.co.billing.submitStaged(guid);
    return show(r, guid);
  }],
  ["POST", "/v1/invoices/:guid/cancel", async (r) => {
    const guid = r.params[0];
    findInvoice(r, guid);
    await r.co.billing.quiesce(guid);
    await r.co.billing.reconcile(guid);
    const now = r.co.now();
    r.db.tx(() => {
      const inv = findInvoice(r, guid);
      const status = r.core.invoiceTransition(inv.status, "cancel");
      refuseWhilePending(r, guid);
      r.co.billing.cancelOpenTransactions(guid, now);
      r.db.update("invoices", guid, { status, updated_at: now });
    });
    return show(r, guid);
  }],
  ["GET", "/v1/invoices/:guid/transactions", (r) => {
    const inv = findInvoice(r, r.params[0]);
    return transactionPage(r, "t.invoice_guid = ?", [inv.guid]);
  }],
];
