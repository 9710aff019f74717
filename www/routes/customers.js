// @ts-check
// /v1/customers: create, retrieve, delete (cancels the customer's subscriptions), list, nested lists.
import { ApiError, json } from "../http.js";
import * as views from "../views.js";
import { findCustomer } from "./find.js";
import { listPage } from "./list.js";
import { mergedMetadata, metadataRoute } from "./metadata.js";
import { subscriptionView } from "./subscriptions.js";
import { transactionPage } from "./transactions.js";

export const routes = [
  metadataRoute("/v1/customers/:guid", "customers", findCustomer, (r, row) => views.customer(row, r.company.guid)),
  ["POST", "/v1/customers", (r) => {
    const c = r.core.validateCustomer(r.body);
    const now = r.now();
    const guid = r.core.guid("CU");
    r.db.tx(() => r.db.insert("customers", { guid, processor_uri: c.processor_uri, deleted: 0, metadata: mergedMetadata(r), created_at: now,
      updated_at: now }));
    return json(views.customer(findCustomer(r, guid), r.company.guid));
  }],
  ["GET", "/v1/customers", (r) => listPage(r, { table: "customers",
    view: (row) => views.customer(row, r.company.guid) })],
  ["GET", "/v1/customers/:guid", (r) => json(views.customer(findCustomer(r, r.params[0]), r.company.guid))],
  ["DELETE", "/v1/customers/:guid", (r) => {
    const guid = r.params[0];
    const now = r.now();
    r.db.tx(() => {
      const c = findCustomer(r, guid);
      if (c.deleted) throw new ApiError(409, "already_deleted", `Customer ${guid} is already deleted`);
      r.db.update("customers", guid, { deleted: 1, updated_at: now });
      r.subscriptions.cancelAllOf("customer_guid", guid, now);
    });
    return json(views.customer(findCustomer(r, guid), r.company.guid));
  }],
  ["GET", "/v1/customers/:guid/subscriptions", (r) => {
    const c = findCustomer(r, r.params[0]);
    return listPage(r, { table: "subscriptions", where: "customer_guid = ?", args: [c.guid],
      view: (row) => subscriptionView(r, row) });
  }],
  ["GET", "/v1/customers/:guid/invoices", (r) => {
    const c = findCustomer(r, r.params[0]);
    return listPage(r, { table: "invoices", where: "customer_guid = ?", args: [c.guid], view: (row) => r.invoicing.invoiceView(row) });
  }],
  ["GET", "/v1/customers/:guid/transactions", (r) => {
    const c = findCustomer(r, r.params[0]);
    return transactionPage(r, "i.customer_guid = ?", [c.guid]);
  }],
];
