// @ts-check
// Finding the objects a request names, shared by every route: an unknown guid is a 404 (another company's object is
// unknown here, since each company's data lives only in its own database).
import { ApiError, notFound } from "../http.js";

/** @param {any} r @param {string} table @param {string} what @param {string} guid */
export function find(r, table, what, guid) {
  const row = r.db.one(`SELECT * FROM ${table} WHERE guid = ?`, guid);
  if (!row) throw notFound(what, guid);
  return row;
}

export const findPlan = (r, guid) => find(r, "plans", "plan", guid);
export const findCustomer = (r, guid) => find(r, "customers", "customer", guid);
export const findSubscription = (r, guid) => find(r, "subscriptions", "subscription", guid);
export const findInvoice = (r, guid) => find(r, "invoices", "invoice", guid);

/** A referenced object must exist in this company (else 404 naming the field) and not be deleted (409). */
export function referenced(r, table, what, guid, field) {
  const row = r.db.one(`SELECT * FROM ${table} WHERE guid = ?`, guid);
  if (!row) throw new ApiError(404, "not_found", `No such ${what}: ${guid}`, field);
  if (row.deleted) throw new ApiError(409, `${what}_deleted`, `The ${what} ${guid} is deleted`, field);
  return row;
}
