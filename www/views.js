// @ts-check
// Row → API resource, exactly the field names of the Billy reference. Pure mapping, no rules.
import { N } from "./core.js";

const bool = (v) => v === 1 || v === true;
/** Stored metadata (JSON text) as an object; rows from before metadata existed have none. */
const meta = (row) => JSON.parse(row.metadata || "{}");

export function company(row) {
  return { guid: row.guid, name: row.name ?? null, created_at: row.created_at, updated_at: row.updated_at,
    test_mode: bool(row.test_mode), clock: row.clock, clock_status: row.advance_to ? "advancing" : "ready",
    advance_to: row.advance_to ?? null, max_retry_attempts: row.max_retry_attempts,
    processor_concurrency: row.processor_concurrency, processor: row.processor ?? N.ProcessorName.simulator,
    // Never the key itself: its last four characters, as Stripe's dashboard shows them.
    processor_key_last4: row.processor_key_last4 ?? null, stripe_webhook_secret_set: Boolean(row.stripe_webhook_secret) };
}

export function plan(row, companyGuid) {
  return { guid: row.guid, company_guid: companyGuid, plan_type: row.plan_type, frequency: row.frequency,
    amount: row.amount, interval: row.interval, metered_items: JSON.parse(row.metered_items || "[]"),
    deleted: bool(row.deleted), metadata: meta(row),
    created_at: row.created_at, updated_at: row.updated_at };
}

export function customer(row, companyGuid) {
  return { guid: row.guid, company_guid: companyGuid, processor_uri: row.processor_uri, deleted: bool(row.deleted),
    metadata: meta(row), created_at: row.created_at, updated_at: row.updated_at };
}

/** effective_amount and status are decided by the core and passed in, with the pending adjustments. */
export function subscription(row, { effectiveAmount, status, pending }) {
  return { guid: row.guid, plan_guid: row.plan_guid, customer_guid: row.customer_guid, amount: row.amount,
    effective_amount: effectiveAmount, status, funding_instrument_uri: row.funding_instrument_uri,
    appears_on_statement_as: row.appears_on_statement_as, started_at: row.started_at,
    invoice_count: row.invoice_count, next_invoice_at: bool(row.canceled) ? null : row.next_invoice_at,
    billing_cycle_anchor: row.anchor_at, canceled: bool(row.canceled), canceled_at: row.canceled_at, cancel_at: row.cancel_at,
    cancel_at_period_end: row.cancel_at !== null && !bool(row.canceled), trial_end: row.trial_end,
    paused_at: row.paused_at, resumes_at: row.resumes_at, coupon: row.coupon_code,
    coupon_applied_count: row.coupon_applied, pending_adjustments: pending, metadata: meta(row),
    created_at: row.created_at, updated_at: row.updated_at };
}

/** A coupon; its code is its id. */
export function coupon(row) {
  return { code: row.guid, name: row.name, percent_off: row.percent_off, amount_off: row.amount_off,
    currency: row.currency, duration: row.duration, duration_in_periods: row.duration_in_periods,
    max_redemptions: row.max_redemptions, times_redeemed: row.times_redeemed, redeem_by: row.redeem_by,
    deleted: bool(row.deleted), created_at: row.created_at, updated_at: row.updated_at };
}

/**
 * `hostedInvoiceUrl` is the invoice's page, `/i/<token>`: its token is derived under the company's secret, so every
 * view is made by www/invoicing.js `invoiceView`, which has it.
 */
export function invoice(row, hostedInvoiceUrl) {
  const out = { guid: row.guid, invoice_type: row.invoice_type, transaction_type: row.transaction_type,
    customer_guid: row.customer_guid, amount: row.amount, total_adjustment_amount: row.total_adjustment_amount,
    effective_amount: row.effective_amount, title: row.title, external_id: row.external_id,
    appears_on_statement_as: row.appears_on_statement_as, funding_instrument_uri: row.funding_instrument_uri,
    status: row.status, items: JSON.parse(row.items), adjustments: JSON.parse(row.adjustments), metadata: meta(row),
    hosted_invoice_url: hostedInvoiceUrl, created_at: row.created_at, updated_at: row.updated_at };
  if (row.invoice_type === "subscription") {
    out.subscription_guid = row.subscription_guid;
    out.scheduled_at = row.scheduled_at;
  }
  if (row.invoice_type === "terms") {
    Object.assign(out, { currency: row.currency, terms_days: row.terms_days, due_at: row.due_at,
      checkout_guid: row.checkout_guid, amount_paid: row.amount_paid,
      terms_funding_instrument_uri: row.terms_funding_instrument_uri });
  }
  return out;
}

/** `reason` is null for movements an owner asked for, `late_success` for a repayment the payments core made. */
export function transaction(row, failures) {
  return { guid: row.guid, invoice_guid: row.owner_type === N.OwnerType.invoice ? row.owner_guid : null,
    order_guid: row.owner_type === N.OwnerType.order ? row.owner_guid : null, transaction_type: row.transaction_type,
    currency: row.currency, customer_guid: row.customer_guid, destination: row.destination,
    description: row.description,
    amount: row.amount, funding_instrument_uri: row.funding_instrument_uri,
    appears_on_statement_as: row.appears_on_statement_as, submit_status: row.submit_status, status: row.status,
    failure_count: row.failure_count,
    failures: failures.map((f) => ({ guid: f.guid, error_code: f.error_code, error_message: f.error_message,
      created_at: f.created_at })),
    processor_uri: row.processor_uri, reference_guid: row.reference_guid, reason: row.reason, next_retry_at:
      row.submit_status === N.SubmitStatus.retrying ? row.next_attempt_at : null,
    checkout_guid: row.owner_type === N.OwnerType.checkout ? row.owner_guid : null, metadata: meta(row),
    created_at: row.created_at, updated_at: row.updated_at };
}

export function order(row) {
  return { guid: row.guid, merchant_guid: row.merchant_guid, description: row.description,
    delivery_address: row.delivery_address, currency: row.currency, amount: row.amount,
    amount_escrowed: row.amount_escrowed, amount_credited: row.amount_credited, metadata: meta(row),
    created_at: row.created_at, updated_at: row.updated_at };
}

/** `status` is the checkout's status now (expiry read off the clock); `allocation` the confirmed or previewed split. */
export function checkout(row, status, allocation) {
  return { guid: row.guid, customer_guid: row.customer_guid, currency: row.currency, amount: row.total,
    items: JSON.parse(row.items), adjustable_quantities: bool(row.adjustable_quantities), terms_days: row.terms_days,
    status, expires_at: row.expires_at, allocation,
    invoice_guid: row.invoice_guid, transaction_guid: row.transaction_guid, metadata: meta(row),
    created_at: row.created_at, updated_at: row.updated_at };
}

export function application(row) {
  return { guid: row.guid, customer_guid: row.customer_guid, status: row.status, ...JSON.parse(row.fields),
    metadata: meta(row), submitted_at: row.submitted_at, created_at: row.created_at, updated_at: row.updated_at };
}

/** The published shape of a balance transaction: UUIDs, lowercase currency, epoch seconds. */
export function balanceTransaction(row, epochSeconds) {
  return { id: row.id, object: "balance_transaction", amount: row.amount, currency: row.currency,
    ending_balance_amount: row.ending_balance_amount, transaction_type: row.transaction_type, balance: row.balance_id,
    customer: row.customer_guid, checkout: row.checkout_guid, created_at: epochSeconds(row.created_at),
    updated_at: epochSeconds(row.updated_at) };
}

export function balance(row, epochSeconds) {
  return { id: row.id, object: "balance", customer: row.customer_guid, currency: row.currency, amount: row.amount,
    created_at: epochSeconds(row.created_at), updated_at: epochSeconds(row.updated_at) };
}
