// @ts-check
// /v1/subscriptions: create (invoices at once when started now, none during a trial), retrieve, update (plan,
// amount, instrument, coupon, trial end, cancel at period end: prorated by the core), cancel (now, prorated, or at
// period end), pause, resume, the upcoming invoice, list, nested lists. The money of every change is the core's
// decision (www/subscriptions.js asks it); each change is one storage transaction.
import { ApiError, json } from "../http.js";
import * as views from "../views.js";
import { OWNER } from "../invoicing.js";
import { findSubscription, referenced } from "./find.js";
import { listPage } from "./list.js";
import { mergedMetadata } from "./metadata.js";
import { redeem } from "./coupons.js";
import { transactionPage } from "./transactions.js";

/** The API view of a stored subscription row. */
export function subscriptionView(r, row) {
  return r.subscriptions.view(row, r.now());
}

const E = (r) => r.core.N.WebhookEventType;

/** A subscription row joined with its plan (404 when unknown). */
function billable(r, guid) {
  findSubscription(r, guid);
  return r.subscriptions.row(guid);
}

/** After a change: charge the invoices it opened, re-arm the scheduler, answer the subscription. */
async function settle(r, guid, invoices) {
  for (const iv of invoices) await r.payments.submitOwner(OWNER, iv);
  await r.scheduler.arm();
  return json(subscriptionView(r, findSubscription(r, guid)));
}

/** Changes of plan or amount, decided by the core; returns the invoices written. */
function changePlan(r, row, u, now) {
  const newPlan = u.plan_guid ? referenced(r, "plans", "plan", u.plan_guid, "plan_guid")
    : r.db.one("SELECT * FROM plans WHERE guid = ?", row.plan_guid);
  const newAmount = u.amount_given ? u.amount : row.amount;
  if (newPlan.guid === row.plan_guid && newAmount === row.amount) return [];
  const inv = r.subscriptions.periodInvoice(row);
  const invoiced = inv !== null;
  const change = r.core.planChange(row, inv, inv ? r.payments.rowsOf(OWNER, inv.guid) : [], newPlan, newAmount,
    u.proration_behavior, now);
  for (const line of change.prorations) {
    r.db.insert("subscription_adjustments", { guid: r.core.guid("SA"), subscription_guid: row.guid, amount: line.amount,
      reason: line.reason, invoice_guid: null, created_at: now });
  }
  // A net credit for the period is given back on its invoice: refunds of it then count it (the core's `credited`).
  if (change.credited > 0) {
    r.db.update("invoices", inv.guid, { credited_amount: r.core.addAmounts(inv.credited_amount, change.credited), updated_at: now });
  }
  // Usage of a metric the new plan does not meter is billed now at the old plan's price (else it would never be);
  // a metric both plans meter goes on counting and is priced by the plan in force when its period is invoiced.
  const kept = new Set(JSON.parse(newPlan.metered_items || "[]").map((i) => i.metric_code));
  const dropped = JSON.parse(row.metered_items || "[]").filter((i) => !kept.has(i.metric_code));
  const usageNow = dropped.length ? r.subscriptions.usageInvoice(row, dropped, "Usage to date", now) : null;
  const changes = { plan_guid: newPlan.guid, amount: newAmount, updated_at: now };
  if (change.reset_anchor) {
    // The new schedule starts now when the current period was paid for, else where the next period would have.
    const anchor = invoiced ? now : row.next_invoice_at;
    Object.assign(changes, { anchor_at: anchor, anchor_period: row.next_period, next_invoice_at: anchor });
  }
  r.db.update("subscriptions", row.guid, changes);
  const fresh = r.subscriptions.row(row.guid);
  let written = usageNow ? [usageNow] : [];
  if (change.reset_anchor) {
    if (fresh.next_invoice_at <= now) written.push(...r.subscriptions.bill(fresh, now));
    // Cancel at period end follows the period: it is now the new one's end.
    const after = r.subscriptions.row(row.guid);
    if (after.cancel_at && !after.canceled) r.db.update("subscriptions", row.guid, { cancel_at: after.next_invoice_at });
  } else if (change.invoice_now) {
    const iv = r.subscriptions.invoiceNow(fresh, now);
    if (iv) written.push(iv);
  }
  return written;
}

export const routes = [
  ["POST", "/v1/subscriptions", async (r) => {
    const now = r.now();
    const s = r.core.validateSubscription(r.body, now);
    const guid = r.core.guid("SU");
    const invoices = r.db.tx(() => {
      referenced(r, "plans", "plan", s.plan_guid, "plan_guid");
      referenced(r, "customers", "customer", s.customer_guid, "customer_guid");
      if (s.coupon) redeem(r, s.coupon, now);
      // The schedule's anchor is the trial's end when there is one: nothing is invoiced before it.
      const anchor = s.trial_end ?? s.started_at;
      r.db.insert("subscriptions", { guid, plan_guid: s.plan_guid, customer_guid: s.customer_guid,
        funding_instrument_uri: s.funding_instrument_uri, amount: s.amount,
        appears_on_statement_as: s.appears_on_statement_as, started_at: s.started_at, invoice_count: 0,
        next_invoice_at: anchor, anchor_at: anchor, anchor_period: 0, next_period: 0, trial_end: s.trial_end,
        trial_notice_at: s.trial_notice_at, coupon_code: s.coupon, coupon_applied: 0, canceled: 0, canceled_at: null,
        metadata: mergedMetadata(r), created_at: now, updated_at: now });
      r.subscriptions.announce(guid, E(r)["customer.subscription.created"], now);
      // Started now: the core finds the first period due at once and it is invoiced in this same transaction.
      const written = anchor <= now ? r.subscriptions.bill(r.subscriptions.row(guid), now) : [];
      r.recover(["get", `/v1/subscriptions/${guid}`]);
      return written;
    });
    return settle(r, guid, invoices);
  }],
  ["GET", "/v1/subscriptions", (r) => listPage(r, { table: "subscriptions", view: (row) => subscriptionView(r, row) })],
  ["GET", "/v1/subscriptions/:guid", (r) => json(subscriptionView(r, findSubscription(r, r.params[0])))],
  // Update: any of plan_guid, amount, funding_instrument_uri, appears_on_statement_as, coupon, trial_end,
  // cancel_at_period_end, proration_behavior, metadata.
  ["PUT", "/v1/subscriptions/:guid", async (r) => {
    const guid = r.params[0];
    findSubscription(r, guid);
    const now = r.now();
    const u = r.core.validateSubscriptionUpdate(r.body, now);
    const invoices = r.db.tx(() => {
      let row = billable(r, guid);
      r.core.refuseCanceled(row);
      const written = [];
      const direct = { metadata: mergedMetadata(r, row.metadata), updated_at: now };
      if (u.funding_instrument_uri !== null) direct.funding_instrument_uri = u.funding_instrument_uri;
      if (u.appears_on_statement_as !== null) direct.appears_on_statement_as = u.appears_on_statement_as;
      if (u.coupon !== null) {
        redeem(r, u.coupon, now);
        Object.assign(direct, { coupon_code: u.coupon, coupon_applied: 0 });
      } else if (u.remove_coupon) {
        Object.assign(direct, { coupon_code: null, coupon_applied: 0 });
      }
      if (u.trial_end !== null) {
        const trialing = r.core.subscriptionStatus(row, null, now) === r.core.N.SubscriptionStatus.trialing;
        if (!trialing) throw new ApiError(409, "not_trialing", `Subscription ${guid} is not in a trial`, "trial_end");
        r.core.checkTrialEnd(u.trial_end, row.started_at);
        Object.assign(direct, { trial_end: u.trial_end, anchor_at: u.trial_end, next_invoice_at: u.trial_end,
          trial_notice_at: u.trial_end > now ? r.core.trialNoticeAt(u.trial_end, now) : null });
      }
      r.db.update("subscriptions", guid, direct);
      row = billable(r, guid);
      if (u.trial_end !== null && row.next_invoice_at <= now) written.push(...r.subscriptions.bill(row, now));
      if (u.plan_guid !== null || u.amount_given) written.push(...changePlan(r, billable(r, guid), u, now));
      if (u.cancel_at_period_end !== null) {
        row = billable(r, guid);
        if (u.cancel_at_period_end && row.next_invoice_at === null) {
          throw new ApiError(409, "no_period_end", `Subscription ${guid} has no further period`, "cancel_at_period_end");
        }
        r.db.update("subscriptions", guid, { cancel_at: u.cancel_at_period_end ? row.next_invoice_at : null });
      }
      r.subscriptions.announce(guid, E(r)["customer.subscription.updated"], now);
      r.recover(["get", `/v1/subscriptions/${guid}`]);
      return written;
    });
    return settle(r, guid, invoices);
  }],
  // Cancel: now (Billy's behaviour), now with the unused part credited (`prorate=true`), or at the period's end
  // (`at_period_end=true`: no further invoice; undone by PUT cancel_at_period_end=false).
  ["POST", "/v1/subscriptions/:guid/cancel", async (r) => {
    const guid = r.params[0];
    const now = r.now();
    const options = r.core.cancelOptions(r.body);
    r.db.tx(() => {
      const row = billable(r, guid);
      if (row.canceled) throw new ApiError(409, "already_canceled", `Subscription ${guid} is already canceled`);
      if (options.at_period_end) {
        if (row.next_invoice_at === null) throw new ApiError(409, "no_period_end", `Subscription ${guid} has no further period`, "at_period_end");
        r.db.update("subscriptions", guid, { cancel_at: row.next_invoice_at, updated_at: now });
        r.subscriptions.announce(guid, E(r)["customer.subscription.updated"], now);
      } else {
        r.subscriptions.cancelNow(row, options.prorate, now);
      }
      r.recover(["get", `/v1/subscriptions/${guid}`]);
    });
    return settle(r, guid, []);
  }],
  // Pause: periods that start while paused are skipped (not owed); `resumes_at` ends the pause by itself.
  ["POST", "/v1/subscriptions/:guid/pause", async (r) => {
    const guid = r.params[0];
    const now = r.now();
    r.db.tx(() => {
      const row = billable(r, guid);
      const p = r.core.pauseSubscription(row, r.body, now);
      r.db.update("subscriptions", guid, { paused_at: p.paused_at, resumes_at: p.resumes_at, updated_at: now });
      r.subscriptions.announce(guid, E(r)["customer.subscription.paused"], now);
      r.recover(["get", `/v1/subscriptions/${guid}`]);
    });
    return settle(r, guid, []);
  }],
  // Resume: the original anchor is kept; periods that started while paused stay skipped, the next invoice is at the
  // next anchor period (one starting this very instant is invoiced now).
  ["POST", "/v1/subscriptions/:guid/resume", async (r) => {
    const guid = r.params[0];
    const now = r.now();
    const invoices = r.db.tx(() => {
      const row = billable(r, guid);
      r.core.checkResume(row, now);
      const from = r.core.resumeFrom(row, now);
      r.db.update("subscriptions", guid, { resumes_at: now, updated_at: now,
        ...(from === null ? {} : { next_period: from, next_invoice_at: now }) });
      const written = r.subscriptions.bill(r.subscriptions.row(guid), now);
      // The bill ended the pause (its resumes_at came) and announced it.
      r.recover(["get", `/v1/subscriptions/${guid}`]);
      return written;
    });
    return settle(r, guid, invoices);
  }],
  ["GET", "/v1/subscriptions/:guid/upcoming_invoice", (r) => {
    const row = billable(r, r.params[0]);
    const next = row.canceled ? null : r.subscriptions.upcoming(row, r.now());
    if (!next) throw new ApiError(404, "no_upcoming_invoice", `Subscription ${row.guid} has no upcoming invoice`);
    return json(next);
  }],
  ["GET", "/v1/subscriptions/:guid/invoices", (r) => {
    const sub = findSubscription(r, r.params[0]);
    return listPage(r, { table: "invoices", where: "subscription_guid = ?", args: [sub.guid],
      order: "invoices.scheduled_at DESC, invoices.seq DESC", view: (row) => r.invoicing.invoiceView(row) });
  }],
  ["GET", "/v1/subscriptions/:guid/transactions", (r) => {
    const sub = findSubscription(r, r.params[0]);
    return transactionPage(r, "i.subscription_guid = ?", [sub.guid]);
  }],
];
