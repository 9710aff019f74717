// @ts-check
// /v1/subscriptions: create (invoices at once when started now), retrieve, cancel, list, nested lists.
import { ApiError, json } from "../http.js";
import * as views from "../views.js";
import { OWNER } from "../invoicing.js";
import { findSubscription, referenced } from "./find.js";
import { listPage } from "./list.js";
import { mergedMetadata, metadataRoute } from "./metadata.js";
import { transactionPage } from "./transactions.js";

/** The API view; effective_amount (override or plan amount) is the core's decision. */
export function subscriptionView(r, row) {
  const plan = r.db.one("SELECT amount FROM plans WHERE guid = ?", row.plan_guid);
  return views.subscription(row, r.core.subscriptionAmount(row.amount, plan.amount));
}

export const routes = [
  metadataRoute("/v1/subscriptions/:guid", "subscriptions", findSubscription, (r, row) => subscriptionView(r, row)),
  ["POST", "/v1/subscriptions", async (r) => {
    const now = r.now();
    const s = r.core.validateSubscription(r.body, now);
    const guid = r.core.guid("SU");
    r.db.tx(() => {
      const plan = referenced(r, "plans", "plan", s.plan_guid, "plan_guid");
      referenced(r, "customers", "customer", s.customer_guid, "customer_guid");
      r.db.insert("subscriptions", { guid, plan_guid: s.plan_guid, customer_guid: s.customer_guid,
        funding_instrument_uri: s.funding_instrument_uri, amount: s.amount,
        appears_on_statement_as: s.appears_on_statement_as, started_at: s.started_at, invoice_count: 0,
        next_invoice_at: s.started_at, canceled: 0, canceled_at: null, metadata: mergedMetadata(r), created_at: now,
        updated_at: now });
      // Started now: the core finds the first period due at once and it is invoiced in this same transaction.
      r.invoicing.invoiceDuePeriods(findSubscription(r, guid), plan, now);
      r.recover(["get", `/v1/subscriptions/${guid}`]);
    });
    const invoices = r.db.all("SELECT guid FROM invoices WHERE subscription_guid = ?", guid);
    for (const { guid: iv } of invoices) await r.payments.submitOwner(OWNER, iv);
    await r.scheduler.arm();
    return json(subscriptionView(r, findSubscription(r, guid)));
  }],
  ["GET", "/v1/subscriptions", (r) => listPage(r, { table: "subscriptions", view: (row) => subscriptionView(r, row) })],
  ["GET", "/v1/subscriptions/:guid", (r) => json(subscriptionView(r, findSubscription(r, r.params[0])))],
  ["POST", "/v1/subscriptions/:guid/cancel", async (r) => {
    const guid = r.params[0];
    const now = r.now();
    r.db.tx(() => {
      const sub = findSubscription(r, guid);
      if (sub.canceled) throw new ApiError(409, "already_canceled", `Subscription ${guid} is already canceled`);
      r.db.update("subscriptions", guid, { canceled: 1, canceled_at: now, updated_at: now });
    });
    await r.scheduler.arm();
    return json(subscriptionView(r, findSubscription(r, guid)));
  }],
  ["GET", "/v1/subscriptions/:guid/invoices", (r) => {
    const sub = findSubscription(r, r.params[0]);
    return listPage(r, { table: "invoices", where: "subscription_guid = ?", args: [sub.guid],
      order: "invoices.scheduled_at DESC, invoices.seq DESC", view: views.invoice });
  }],
  ["GET", "/v1/subscriptions/:guid/transactions", (r) => {
    const sub = findSubscription(r, r.params[0]);
    return transactionPage(r, "i.subscription_guid = ?", [sub.guid]);
  }],
];
