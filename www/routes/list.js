// @ts-check
// Paginated lists: {items, offset, limit, total_count}; newest first with insertion order as the tie-break.
import { json } from "../http.js";

/**
 * @param {any} r request context
 * @param {{ table: string, alias?: string, join?: string, where?: string, args?: any[], order?: string,
 *           view: (row: any) => any }} spec
 */
export function listPage(r, spec) {
  const { offset, limit } = r.core.validateListParams(r.query);
  const a = spec.alias || spec.table;
  const from = `${spec.table} ${spec.alias || ""} ${spec.join || ""} ${spec.where ? "WHERE " + spec.where : ""}`;
  const args = spec.args || [];
  const total = r.db.one(`SELECT count(*) AS n FROM ${from}`, ...args).n;
  const order = spec.order || `${a}.created_at DESC, ${a}.seq DESC`;
  const rows = r.db.all(`SELECT ${a}.* FROM ${from} ORDER BY ${order} LIMIT ? OFFSET ?`, ...args, limit, offset);
  return json({ items: rows.map(spec.view), offset, limit, total_count: total });
}
