// @ts-check
// Row → API resource, exactly the field names of the Billy reference. Pure mapping, no rules.
import { N } from "./core.js";

const bool = (v) => v === 1 || v === true;

export function company(row) {
  return { guid: row.guid, created_at: row.created_at, updated_at: row.updated_at,
    test_mode: bool(row.test_mode), clock: row.clock, max_retry_attempts: row.max_retry_attempts };
}

export function plan(row, companyGuid) {
  return { guid: row.guid, company_guid: companyGuid, plan_type: row.plan_type, frequency: row.frequency,
    amount: row.amount, interval: row.interval, deleted: bool(row.deleted),
    created_at: row.created_at, updated_at: row.updated_at };
}

export function customer(row, companyGuid) {
  return { guid: row.guid, company_guid: companyGuid, processor_uri: row.processor_uri, deleted: bool(row.deleted),
    created_at: row.created_at, updated_at: row.updated_at };
}

/** effective_amount is decided by the core and passed in. */
export function subscription(row, effectiveAmount) {
  return { guid: row.guid, plan_guid: row.plan_guid, customer_guid: row.customer_guid, amount: row.amount,
    effective_amount: effectiveAmount, funding_instrument_uri: row.funding_instrument_uri,
    appears_on_statement_as: row.appears_on_statement_as, started_at: row.started_at,
    invoice_count: row.invoice_count, next_invoice_at: bool(row.canceled) ? null : row.next_invoice_at,
    canceled: bool(row.canceled), canceled_at: row.canceled_at,
    created_at: row.created_at, updated_at: row.updated_at };
}

export function invoice(row) {
  const out = { guid: row.guid, invoice_type: row.invoice_type, transaction_type: row.transaction_type,
    customer_guid: row.customer_guid, amount: row.amount, total_adjustment_amount: row.total_adjustment_amount,
    effective_amount: row.effective_amount, title: row.title, external_id: row.external_id,
    appears_on_statement_as: row.appears_on_statement_as, funding_instrument_uri: row.funding_instrument_uri,
    status: row.status, items: JSON.parse(row.items), adjustments: JSON.parse(row.adjustments),
    created_at: row.created_at, updated_at: row.updated_at };
  if (row.invoice_type === "subscription") {
    out.subscription_guid = row.subscription_guid;
    out.scheduled_at = row.scheduled_at;
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
    created_at: row.created_at, updated_at: row.updated_at };
}

export function order(row) {
  return { guid: row.guid, merchant_guid: row.merchant_guid, description: row.description,
    delivery_address: row.delivery_address, currency: row.currency, amount: row.amount,
    amount_escrowed: row.amount_escrowed, amount_credited: row.amount_credited,
    created_at: row.created_at, updated_at: row.updated_at };
}
