// @ts-check
// /v1/plans: create, retrieve, delete (cancels the plan's active subscriptions), list, and nested lists.
import { ApiError, json } from "../http.js";
import * as views from "../views.js";
import { findPlan } from "./find.js";
import { listPage } from "./list.js";
import { mergedMetadata, metadataRoute } from "./metadata.js";
import { subscriptionView } from "./subscriptions.js";
import { transactionPage } from "./transactions.js";

export const routes = [
  metadataRoute("/v1/plans/:guid", "plans", findPlan, (r, row) => views.plan(row, r.company.guid)),
  ["POST", "/v1/plans", (r) => {
    const p = r.core.validatePlan(r.body);
    const metered = r.core.validatePlanMeteredItems(r.body);
    const now = r.now();
    const guid = r.core.guid("PL");
    r.db.tx(() => {
      metered.forEach((item, i) => {
        if (!r.db.one("SELECT 1 AS x FROM metrics WHERE guid = ?", item.metric_code)) {
          throw new ApiError(404, "not_found", `No such metric: ${item.metric_code}`, `metered_items[${i}].metric_code`);
        }
      });
      r.db.insert("plans", { guid, ...p, metered_items: JSON.stringify(metered), deleted: 0, metadata: mergedMetadata(r),
        created_at: now, updated_at: now });
    });
    return json(views.plan(findPlan(r, guid), r.company.guid));
  }],
  ["GET", "/v1/plans", (r) => listPage(r, { table: "plans", view: (row) => views.plan(row, r.company.guid) })],
  ["GET", "/v1/plans/:guid", (r) => json(views.plan(findPlan(r, r.params[0]), r.company.guid))],
  ["DELETE", "/v1/plans/:guid", (r) => {
    const guid = r.params[0];
    const now = r.now();
    r.db.tx(() => {
      const plan = findPlan(r, guid);
      if (plan.deleted) throw new ApiError(409, "already_deleted", `Plan ${guid} is already deleted`);
      r.db.update("plans", guid, { deleted: 1, updated_at: now });
      // A deleted plan bills nobody: its active subscriptions end now.
      r.subscriptions.cancelAllOf("plan_guid", guid, now);
    });
    return json(views.plan(findPlan(r, guid), r.company.guid));
  }],
  ["GET", "/v1/plans/:guid/customers", (r) => {
    const plan = findPlan(r, r.params[0]);
    return listPage(r, { table: "customers", alias: "c",
      where: "c.guid IN (SELECT customer_guid FROM subscriptions WHERE plan_guid = ?)", args: [plan.guid],
      view: (row) => views.customer(row, r.company.guid) });
  }],
  ["GET", "/v1/plans/:guid/subscriptions", (r) => {
    const plan = findPlan(r, r.params[0]);
    return listPage(r, { table: "subscriptions", where: "plan_guid = ?", args: [plan.guid],
      view: (row) => subscriptionView(r, row) });
  }],
  ["GET", "/v1/plans/:guid/invoices", (r) => {
    const plan = findPlan(r, r.params[0]);
    return listPage(r, { table: "invoices", alias: "i",
      where: "i.subscription_guid IN (SELECT guid FROM subscriptions WHERE plan_guid = ?)", args: [plan.guid],
      order: "i.scheduled_at DESC, i.seq DESC", view: (row) => r.invoicing.invoiceView(row) });
  }],
  ["GET", "/v1/plans/:guid/transactions", (r) => {
    const plan = findPlan(r, r.params[0]);
    return transactionPage(r, "i.subscription_guid IN (SELECT guid FROM subscriptions WHERE plan_guid = ?)", [plan.guid]);
  }],
];
