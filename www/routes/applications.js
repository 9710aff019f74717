// @ts-check
// /v1/applications: credit applications the merchant pre-fills; the buyer, with only the application's token,
// reads, edits and submits it (/v1/applications/by_token/<token>, the token also its credential). Submitting runs
// the assessment.
import { ApiError, json } from "../http.js";
import * as views from "../views.js";
import { N } from "../core.js";
import { sha256Hex } from "../crypto.js";
import { find, referenced } from "./find.js";
import { listPage } from "./list.js";

/** How long an application's token works, and the longest a merchant may ask for. */
const TOKEN_SECONDS = 30 * 24 * 3600;

const byToken = {
  // The token in the path is the credential: a restricted token may use only its own application.
  scope: (_params, principal) => principal.kind === N.KeyKind.restricted ? principal.scopes[0] ?? "none" : null,
};

/** The application the path's token opens (404 for any other credential). */
async function tokenApplication(r) {
  const key = await r.db.one("SELECT * FROM keys WHERE key_hash = ?", await sha256Hex(r.params[0]));
  const guid = key?.scopes && JSON.parse(key.scopes)[0]?.replace(/^application:/, "");
  if (!key || (r.principal.kind === N.KeyKind.restricted && r.principal.guid !== key.guid) || !guid) {
    throw new ApiError(404, "not_found", "No such application");
  }
  return find(r, "applications", "application", guid);
}

const show = (r, row, extra = {}) => json({ ...views.application(row), ...extra });

export const routes = [
  ["POST", "/v1/applications", async (r) => {
    const now = r.now();
    const { customer_guid: customerGuid, fields } = r.core.validateApplication(r.body);
    const metadata = JSON.stringify(r.core.mergeMetadata({}, r.body));
    const guid = r.core.guid("AP");
    const expires = r.core.tokenExpiry(now, TOKEN_SECONDS, TOKEN_SECONDS);
    const token = await r.keys.issue(r.company.guid, N.KeyKind.restricted, [`application:${guid}`], expires, now);
    r.db.tx(() => {
      referenced(r, "customers", "customer", customerGuid, "customer_guid");
      r.keys.insert(token.row);
      r.db.insert("applications", { guid, customer_guid: customerGuid, status: N.ApplicationStatus.draft,
        fields: JSON.stringify(fields), key_guid: token.row.guid, metadata, submitted_at: null, created_at: now,
        updated_at: now });
    });
    return show(r, find(r, "applications", "application", guid), { token: token.key, url: `/apply/${token.key}`,
      token_expires_at: expires });
  }],
  ["GET", "/v1/applications", (r) => listPage(r, { table: "applications", view: views.application })],
  ["GET", "/v1/applications/:guid", (r) => show(r, find(r, "applications", "application", r.params[0]))],
  ["GET", "/v1/applications/by_token/:token", async (r) => show(r, await tokenApplication(r)), byToken],
  ["PUT", "/v1/applications/by_token/:token", async (r) => {
    const app = await tokenApplication(r);
    const now = r.now();
    r.db.tx(() => {
      const row = find(r, "applications", "application", app.guid);
      if (row.status !== N.ApplicationStatus.draft) {
        throw new ApiError(409, "invalid_state", `This application is already ${row.status}`);
      }
      const fields = r.core.mergeApplication(JSON.parse(row.fields), r.body);
      r.db.update("applications", row.guid, { fields: JSON.stringify(fields), updated_at: now });
    });
    return show(r, find(r, "applications", "application", app.guid));
  }, byToken],
  ["POST", "/v1/applications/by_token/:token/submit", async (r) => {
    const app = await tokenApplication(r);
    const now = r.now();
    r.db.tx(() => {
      const row = find(r, "applications", "application", app.guid);
      const fields = r.core.mergeApplication(JSON.parse(row.fields), r.body);
      const s = r.core.validateApplicationSubmission(row.status, fields);
      r.credit.assess(row.customer_guid, s.facts, s.currency, now);
      r.db.update("applications", row.guid, { status: N.ApplicationStatus.approved, fields: JSON.stringify(fields),
        submitted_at: now, updated_at: now });
    });
    const row = find(r, "applications", "application", app.guid);
    return show(r, row, { credit: r.credit.profile(row.customer_guid, now) });
  }, byToken],
];
