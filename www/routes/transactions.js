// @ts-check
// /v1/transactions: retrieve and list. Transactions are made by their owners (invoices: charges, payouts, refunds)
// and by the payments core (repayments of late successes).
import { json, notFound } from "../http.js";
import * as views from "../views.js";
import { N } from "../core.js";
import { OWNER } from "../invoicing.js";
import { listPage } from "./list.js";
import { metadataRoute } from "./metadata.js";

export function transactionView(r, row) {
  // A pending transaction may say why it waits (a buyer to authenticate) without having failed.
  const failures = row.failure_count || row.status === N.TransactionStatus.pending
    ? r.db.all("SELECT * FROM failures WHERE transaction_guid = ? ORDER BY seq", row.guid) : [];
  return views.transaction(row, failures);
}

/** Transactions owned by the invoices matching an invoice-level condition (invoices are aliased `i`). */
export function transactionPage(r, invoiceWhere, args) {
  return listPage(r, { table: "transactions", alias: "t", join: "JOIN invoices i ON i.guid = t.owner_guid",
    where: `t.owner_type = ? AND ${invoiceWhere}`, args: [OWNER, ...args], view: (row) => transactionView(r, row) });
}

const findTransaction = (r, guid) => {
  const row = r.db.one("SELECT * FROM transactions WHERE guid = ?", guid);
  if (!row) throw notFound("transaction", guid);
  return row;
};

export const routes = [
  metadataRoute("/v1/transactions/:guid", "transactions", findTransaction, transactionView),
  // ?customer_guid= finds a customer's transactions whatever owns them (its invoices', its debits into orders).
  ["GET", "/v1/transactions", (r) => {
    const customer = r.query.customer_guid;
    return listPage(r, { table: "transactions",
      where: customer ? "(transactions.customer_guid = ? OR transactions.owner_guid IN (SELECT guid FROM invoices WHERE customer_guid = ?) OR transactions.owner_guid IN (SELECT guid FROM checkouts WHERE customer_guid = ?))" : "",
      args: customer ? [customer, customer, customer] : [], view: (row) => transactionView(r, row) });
  }],
  ["GET", "/v1/transactions/:guid", (r) => {
    const row = r.db.one("SELECT * FROM transactions WHERE guid = ?", r.params[0]);
    if (!row) throw notFound("transaction", r.params[0]);
    return json(transactionView(r, row));
  }],
];
