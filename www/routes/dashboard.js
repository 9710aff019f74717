// @ts-check
// The merchant dashboard's API: sessions (a secret key exchanged for a short-lived, revocable token the browser
// keeps instead of the key) and the overview's figures.
import { ApiError, json } from "../http.js";
import { N } from "../core.js";
import { TERMS } from "../invoicing.js";

/** Dashboard sessions last 8 hours unless asked for less; 24 hours at most. */
const SESSION_SECONDS = 8 * 3600;
const SESSION_MAX_SECONDS = 24 * 3600;

export const routes = [
  ["POST", "/v1/dashboard/sessions", async (r) => {
    const now = r.now();
    const ttl = r.body.expires_in === undefined || r.body.expires_in === "" ? SESSION_SECONDS : Number(r.body.expires_in);
    const expires = r.core.tokenExpiry(now, Number.isInteger(ttl) ? ttl : -1, SESSION_MAX_SECONDS);
    const session = await r.keys.issue(r.company.guid, N.KeyKind.session, [], expires, now);
    r.db.tx(() => r.keys.insert(session.row));
    return json({ token: session.key, expires_at: expires, company_guid: r.company.guid, key: r.keys.view(session.row) });
  }, { scope: () => "keys" }],
  ["DELETE", "/v1/dashboard/sessions/current", (r) => {
    if (r.principal.kind !== N.KeyKind.session) {
      throw new ApiError(400, "invalid_field", "Only a dashboard session can sign itself out", "authorization");
    }
    r.keys.revoke(r.principal.guid, r.now());
    return json({ revoked: true });
  }],
  // The overview: money settled per day, counts by status, escrow held, terms outstanding, what needs attention.
  ["GET", "/v1/dashboard/overview", (r) => {
    const days = r.core.validateListParams({ limit: r.query.days ?? "30" }).limit;
    const now = r.now();
    const since = r.core.formatTime(r.core.timeMillis(now) - days * 86_400_000);
    const settled = r.db.all(`SELECT substr(updated_at, 1, 10) AS day, currency, sum(amount) AS amount, count(*) AS count
      FROM transactions WHERE transaction_type = ? AND status = ? AND updated_at >= ? GROUP BY day, currency ORDER BY day`,
      N.TransactionKind.debit, N.TransactionStatus.succeeded, since);
    const count = (table, column) => r.db.all(`SELECT ${column} AS status, count(*) AS count FROM ${table}
      GROUP BY ${column} ORDER BY ${column}`);
    const failed = r.db.all(`SELECT guid, transaction_type, amount, currency, updated_at FROM transactions
      WHERE submit_status = ? ORDER BY updated_at DESC LIMIT 10`, N.SubmitStatus.failed);
    const overdue = r.db.all(`SELECT guid, customer_guid, effective_amount, amount_paid, currency, due_at FROM invoices
      WHERE invoice_type = ? AND status = ? ORDER BY due_at LIMIT 10`, TERMS, N.TermsInvoiceStatus.overdue);
    const escrow = r.db.all("SELECT currency, sum(amount_escrowed) AS amount, count(*) AS orders FROM orders GROUP BY currency");
    const terms = r.db.all(`SELECT currency, sum(credit_used) AS amount, count(*) AS buyers FROM credit_profiles
      WHERE credit_used > 0 GROUP BY currency`);
    return json({ now, days, since, settled, invoices_by_status: count("invoices", "status"),
      transactions_by_status: count("transactions", "coalesce(status, submit_status)"), escrow, terms_outstanding: terms,
      attention: { failed_transactions: failed, overdue_invoices: overdue } });
  }],
];
