// @ts-check
// /v1/balance_transactions: the customer balance ledger, in its published shape (ids are UUIDs, times epoch
// seconds, currencies lowercase). Entries made through the API are adjustments; checkouts write the others.
import { ApiError, json, notFound } from "../http.js";
import * as views from "../views.js";
import { N } from "../core.js";
import { listPage } from "./list.js";

const EXPANDABLE = ["customer", "checkout", "balance"];

/** The `expand[]` values of a request (repeated, or comma-separated). */
function expansions(r) {
  const asked = [...r.url.searchParams.getAll("expand[]"), ...r.url.searchParams.getAll("expand")]
    .flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  for (const e of asked) {
    if (!EXPANDABLE.includes(e)) {
      throw new ApiError(400, "invalid_field", `expand[] must be one of ${EXPANDABLE.join(", ")}, got "${e}"`, "expand[]");
    }
  }
  return new Set(asked);
}

function view(r, row, expand) {
  const out = views.balanceTransaction(row, r.core.epochSeconds);
  if (expand.has("customer")) {
    const c = r.db.one("SELECT * FROM customers WHERE guid = ?", row.customer_guid);
    out.customer = c ? views.customer(c, r.company.guid) : row.customer_guid;
  }
  if (expand.has("checkout") && row.checkout_guid) {
    const ch = r.db.one("SELECT * FROM checkouts WHERE guid = ?", row.checkout_guid);
    out.checkout = ch ? views.checkout(ch, r.core.checkoutStatusAt(ch.status, ch.expires_at, r.now()),
      ch.allocation ? JSON.parse(ch.allocation) : null) : row.checkout_guid;
  }
  if (expand.has("balance")) {
    out.balance = views.balance(r.db.one("SELECT * FROM balances WHERE id = ?", row.balance_id), r.core.epochSeconds);
  }
  return out;
}

export const routes = [
  ["POST", "/v1/balance_transactions", (r) => {
    const v = r.core.validateBalanceTransaction(r.body);
    const expand = expansions(r);
    const now = r.now();
    const row = r.db.tx(() => {
      const customer = r.db.one("SELECT * FROM customers WHERE guid = ?", v.customer);
      if (!customer) throw new ApiError(404, "not_found", `No such customer: ${v.customer}`, "balance_transaction[customer]");
      return r.balances.entry({ customer_guid: v.customer, currency: v.currency, amount: v.amount,
        transaction_type: N.BalanceTransactionType.adjustment }, now);
    });
    return json(view(r, row, expand));
  }],
  ["GET", "/v1/balance_transactions", (r) => {
    const expand = expansions(r);
    const where = [], args = [];
    if (r.query.customer !== undefined) { where.push("customer_guid = ?"); args.push(r.query.customer); }
    if (r.query.checkout !== undefined) { where.push("checkout_guid = ?"); args.push(r.query.checkout); }
    return listPage(r, { table: "balance_transactions", where: where.join(" AND "), args,
      view: (row) => view(r, row, expand) });
  }],
  ["GET", "/v1/balance_transactions/:id", (r) => {
    const row = r.db.one("SELECT * FROM balance_transactions WHERE id = ?", r.params[0]);
    if (!row) throw notFound("balance transaction", r.params[0]);
    return json(view(r, row, expansions(r)));
  }],
];
