// @ts-check
// Every kind of due work, in one place: each source names its table, which rows are due work at all, the column
// holding their due time, and what running one item does. The scheduler (www/scheduler.js) runs them in this order
// and arms the alarm at the earliest due time among them. A new kind of due work is one more entry here.
import { N } from "./core.js";
import { TERMS } from "./invoicing.js";

/**
 * @param {{ subscriptions: import("./subscriptions.js").Subscriptions, payments: import("./payments.js").Payments,
 *   terms: import("./terms.js").Terms, webhooks: import("./webhooks.js").Webhooks }} services
 * @returns {import("./scheduler.js").Source[]}
 */
export function dueWork({ subscriptions, payments, terms, webhooks }) {
  return [
    // Subscription periods: invoiced (and their charges staged) in one transaction per subscription.
    { name: "subscription_periods", table: "subscriptions", where: "canceled = 0", due: "next_invoice_at",
      batch: 500, runBatch: (guids, now) => subscriptions.billDueBatch(guids, now),
      run: (guid, now) => subscriptions.billDue(guid, now) },
    // Trials ending in three days: the merchant is told once.
    { name: "trial_notices", table: "subscriptions", where: "trial_notice_at IS NOT NULL", due: "trial_notice_at",
      run: (guid, now) => subscriptions.noticeTrial(guid, now) },
    // Submissions: new (or left staged by a crash: same idempotency key, never a second charge) and due retries.
    // Literal statuses (the core's names), exactly as the partial index transactions_submit_due (migration 16)
    // holds them, so that index serves the order without a sort (the same for pending polls below).
    { name: "submissions", table: "transactions", index: "transactions_submit_due",
      where: `submit_status IN (${sqlText(N.SubmitStatus.staged)}, ${sqlText(N.SubmitStatus.retrying)})`,
      due: "next_attempt_at", parallel: true,
      run: (guid) => payments.submit(guid) },
    // Pending payments: ask the processor how they ended.
    { name: "pending_polls", table: "transactions", index: "transactions_poll_due",
      where: `submit_status = ${sqlText(N.SubmitStatus.done)} AND status = ${sqlText(N.TransactionStatus.pending)}`,
      due: "next_attempt_at", parallel: true,
      run: (guid) => payments.poll(guid) },
    // Terms invoices with an instrument: charged at their due date for what is outstanding.
    { name: "terms_charges", table: "invoices", where: "invoice_type = ? AND status = ? AND terms_charged = 0 AND terms_funding_instrument_uri IS NOT NULL",
      args: [TERMS, N.TermsInvoiceStatus.open], due: "due_at", run: (guid, now) => terms.charge(guid, now) },
    // Terms invoices without one: overdue when unpaid at their due date (growth freezes).
    { name: "terms_overdue", table: "invoices", where: "invoice_type = ? AND status = ? AND terms_funding_instrument_uri IS NULL",
      args: [TERMS, N.TermsInvoiceStatus.open], due: "due_at", run: (guid, now) => terms.fallDue(guid, now) },
    // Webhook deliveries: each attempt signed; retried by the core's schedule.
    { name: "webhook_deliveries", table: "webhook_deliveries", where: "status = ?", args: [N.WebhookDeliveryStatus.pending],
      due: "next_attempt_at", parallel: true, run: (guid) => webhooks.deliver(guid) },
    // Released transactions whose earlier attempts may have charged unseen: look them up; repay what is found.
    { name: "reconciliations", table: "transactions", where: "reconcile_at IS NOT NULL", due: "reconcile_at",
      parallel: true, run: (guid) => payments.reconcile(guid) },
  ];
}

/** A name as an SQL string literal. */
function sqlText(name) {
  return `'${String(name).replaceAll("'", "''")}'`;
}
