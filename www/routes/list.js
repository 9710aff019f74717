// @ts-check
// Paginated lists: {items, offset, limit, total_count}; newest first with insertion order as the tie-break.
import { json } from "../http.js";

/** Tables whose rows carry metadata: their lists take `metadata[key]=value` filters. */
const WITH_METADATA = new Set(["customers", "plans", "subscriptions", "invoices", "transactions", "orders", "checkouts",
  "applications"]);

/** The query filters each resource's lists honour, nested or not (as Billy did): column = query value. */
export const FILTERS = {
  invoices: ["external_id", "status", "invoice_type", "customer_guid"],
  customers: ["processor_uri"],
  transactions: ["transaction_type", "status", "submit_status", "reference_guid"],
};

/**
 * @param {any} r request context
 * @param {{ table: string, alias?: string, join?: string, where?: string, args?: any[], order?: string,
 *           view: (row: any) => any }} spec
 */
export function listPage(r, spec) {
  const { offset, limit } = r.core.validateListParams(r.query);
  const a = spec.alias || spec.table;
  const where = spec.where ? [spec.where] : [];
  const args = [...(spec.args || [])];
  for (const column of FILTERS[spec.table] || []) {
    if (r.query[column] === undefined) continue;
    where.push(`${a}.${column} = ?`);
    args.push(r.query[column]);
  }
  // Every list takes a creation-time window.
  for (const [param, op] of [["created_after", ">="], ["created_before", "<"]]) {
    if (r.query[param] === undefined || r.query[param] === "") continue;
    where.push(`${a}.created_at ${op} ?`);
    args.push(r.core.parseTime(r.query[param], param));
  }
  if (WITH_METADATA.has(spec.table)) {
    // Keys are checked by the core (no quote, backslash or bracket), so the JSON path is always well-formed.
    for (const [key, value] of r.core.metadataFilters(r.query)) {
      where.push(`json_extract(${a}.metadata, ?) = ?`);
      args.push(`$."${key}"`, value);
    }
  }
  const from = `${spec.table} ${spec.alias || ""} ${spec.join || ""} ${where.length ? "WHERE " + where.join(" AND ") : ""}`;
  // An unfiltered list's total is the trigger-kept row count: the same cost at a hundred rows and at a million.
  const total = where.length === 0 && !spec.join
    ? r.db.one("SELECT n FROM row_counts WHERE tbl = ?", spec.table)?.n ?? r.db.one(`SELECT count(*) AS n FROM ${from}`).n
    : r.db.one(`SELECT count(*) AS n FROM ${from}`, ...args).n;
  const order = spec.order || `${a}.created_at DESC, ${a}.seq DESC`;
  const rows = r.db.all(`SELECT ${a}.* FROM ${from} ORDER BY ${order} LIMIT ? OFFSET ?`, ...args, limit, offset);
  return json({ items: rows.map(spec.view), offset, limit, total_count: total });
}
