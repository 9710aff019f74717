// @ts-check
// /v1/invoices: customer invoices (items, adjustments), retrieve, update the funding instrument, refund,
// cancel, list (?external_id=), transactions. Subscription invoices are created by the scheduler.
// The payments of an invoice go through the payments core (www/payments.js); the invoice is their owner.
import { ApiError, json } from "../http.js";
import { CURRENCY, OWNER, TERMS } from "../invoicing.js";
import { findInvoice, referenced } from "./find.js";
import { listPage } from "./list.js";
import { mergedMetadata } from "./metadata.js";
import { refuseTerms } from "../checkouts.js";
import { transactionPage } from "./transactions.js";
import { redeem } from "./coupons.js";

const show = (r, guid) => json(r.invoicing.invoiceView(findInvoice(r, guid)));

/**
 * Pays an invoice with a new funding instrument: lets go of the unfinished charge and submits a new one. First asks
 * the processor whether an earlier attempt charged after all; if it cannot say, nothing changes (503), so this never
 * charges twice. A payment pending at the processor may still succeed: 409 until it ends. A terms invoice is refused
 * (409), as is one that cannot take an instrument (settled, canceled: 409). Shared by `PUT /v1/invoices/<guid>` and
 * the buyer's `POST /v1/hosted_invoices/<token>/pay`.
 * @param {any} r @param {string} guid
 * @param {{ metadata: ((inv: any) => string) | null, recover: string }} how `metadata`: the invoice's new metadata
 *   (null: unchanged, as for the buyer); `recover`: the GET that answers for the change (www/idempotency.js)
 */
export async function payInvoice(r, guid, { metadata, recover }) {
  refuseTerms(findInvoice(r, guid));
  const { funding_instrument_uri } = r.core.validateFundingInstrument(r.body);
  await r.payments.lookUpOpen(OWNER, guid, { strict: true });
  const now = r.now();
  r.db.tx(() => {
    const inv = findInvoice(r, guid);
    const status = r.core.invoiceTransition(inv.status, r.core.N.InvoiceEvent.update_instrument);
    if (r.payments.hasPending(OWNER, guid)) {
      throw new ApiError(409, "payment_pending",
        "A payment for this invoice is pending at the processor; retry after it settles");
    }
    r.payments.release(OWNER, guid, new Set(), now);
    r.db.update("invoices", guid, { funding_instrument_uri, status, ...(metadata ? { metadata: metadata(inv) } : {}),
      updated_at: now });
    r.invoicing.changed(guid, now);
    r.invoicing.charge(guid, { ...inv, funding_instrument_uri }, now);
    r.recover(["get", recover]);
  });
  await r.payments.submitOwner(OWNER, guid);
}

export const routes = [
  ["POST", "/v1/invoices", async (r) => {
    const v = r.core.validateInvoice(r.body);
    const now = r.now();
    const guid = r.db.tx(() => {
      referenced(r, "customers", "customer", v.customer_guid, "customer_guid");
      if (v.external_id !== null && r.db.one("SELECT 1 AS x FROM invoices WHERE customer_guid = ? AND external_id = ?",
        v.customer_guid, v.external_id)) {
        throw new ApiError(409, "duplicate_external_id",
          `An invoice with external_id ${v.external_id} already exists for customer ${v.customer_guid}`, "external_id");
      }
      if (v.coupon !== null) {
        // The coupon's discount joins the adjustments (a percent of the amount, never below zero).
        const coupon = redeem(r, v.coupon, now);
        const { adjustment } = r.core.couponAdjustment(coupon, 0, v.amount, v.total_adjustment_amount);
        if (adjustment) {
          v.adjustments.push(adjustment);
          Object.assign(v, r.core.invoiceTotals(v.amount, v.adjustments));
        }
      }
      const created = r.invoicing.insert({ invoice_type: "customer", transaction_type: "debit",
        customer_guid: v.customer_guid, subscription_guid: null, period: null, scheduled_at: null, amount: v.amount,
        total_adjustment_amount: v.total_adjustment_amount, effective_amount: v.effective_amount, title: v.title,
        external_id: v.external_id, appears_on_statement_as: v.appears_on_statement_as,
        funding_instrument_uri: v.funding_instrument_uri, items: v.items, adjustments: v.adjustments,
        coupon_code: v.coupon, metadata: mergedMetadata(r) }, now);
      r.recover(["get", `/v1/invoices/${created}`]);
      return created;
    });
    await r.payments.submitOwner(OWNER, guid);
    return show(r, guid);
  }],
  ["GET", "/v1/invoices", (r) => listPage(r, { table: "invoices", view: (row) => r.invoicing.invoiceView(row) })],
  ["GET", "/v1/invoices/:guid", (r) => show(r, r.params[0])],
  // New funding instrument (payInvoice above), or metadata alone.
  ["PUT", "/v1/invoices/:guid", async (r) => {
    const guid = r.params[0];
    findInvoice(r, guid);
    // Metadata alone: merged, nothing else changes.
    if (r.body.funding_instrument_uri === undefined && r.core.hasMetadata(r.body)) {
      const now = r.now();
      r.db.tx(() => r.db.update("invoices", guid, { metadata: mergedMetadata(r, findInvoice(r, guid).metadata), updated_at: now }));
      return show(r, guid);
    }
    await payInvoice(r, guid, { metadata: (inv) => mergedMetadata(r, inv.metadata), recover: `/v1/invoices/${guid}` });
    return show(r, guid);
  }],
  ["POST", "/v1/invoices/:guid/refund", async (r) => {
    const guid = r.params[0];
    refuseTerms(findInvoice(r, guid));
    await r.payments.quiesce(OWNER, guid);
    const now = r.now();
    r.db.tx(() => {
      const inv = findInvoice(r, guid);
      const plan = r.core.planRefund(r.body, inv, r.payments.rowsOf(OWNER, guid));
      r.payments.stage({ owner_type: OWNER, owner_guid: guid, currency: CURRENCY, transaction_type: plan.transaction_type,
        amount: plan.amount, funding_instrument_uri: plan.funding_instrument_uri,
        appears_on_statement_as: inv.appears_on_statement_as, reference_guid: plan.reference_guid }, now);
      r.recover(["get", `/v1/invoices/${guid}`]);
    });
    await r.payments.submitOwner(OWNER, guid);
    return show(r, guid);
  }],
  // Cancel: lets go of the unfinished charge. A charge that succeeds anyway (pending at the processor, or an
  // answer lost and not yet confirmed) is repaid automatically by the payments core.
  ["POST", "/v1/invoices/:guid/cancel", async (r) => {
    const guid = r.params[0];
    refuseTerms(findInvoice(r, guid));
    const uncertain = await r.payments.lookUpOpen(OWNER, guid, { strict: false });
    const now = r.now();
    r.db.tx(() => {
      const inv = findInvoice(r, guid);
      const status = r.core.invoiceTransition(inv.status, r.core.N.InvoiceEvent.cancel);
      r.payments.release(OWNER, guid, uncertain, now);
      r.db.update("invoices", guid, { status, updated_at: now });
      r.subscriptions.invoiceCanceled(inv, now);
      r.invoicing.changed(guid, now);
      r.recover(["get", `/v1/invoices/${guid}`]);
    });
    await r.scheduler.arm();
    return show(r, guid);
  }],
  // A payment the merchant received for a terms invoice (a bank transfer): partial allowed.
  ["POST", "/v1/invoices/:guid/payments", (r) => {
    const guid = r.params[0];
    const now = r.now();
    r.db.tx(() => {
      const inv = findInvoice(r, guid);
      if (inv.invoice_type !== TERMS) {
        throw new ApiError(409, "invalid_state", "Only terms invoices take recorded payments; pay this one with PUT funding_instrument_uri");
      }
      const charging = r.payments.inFlight(OWNER, inv.guid);
      r.terms.record(inv, r.core.validateTermsPayment(r.body, inv.status, r.terms.outstanding(inv), charging, now), now);
    });
    return show(r, guid);
  }],
  ["GET", "/v1/invoices/:guid/transactions", (r) => {
    const inv = findInvoice(r, r.params[0]);
    return transactionPage(r, "i.guid = ?", [inv.guid]);
  }],
];
