// @ts-check
// /v1/companies/<guid>: retrieve, settings, the test clock, the scheduler's report, the simulator's ledger, and
// the company's API keys (list, rotate).
import { ApiError, json, notFound } from "../http.js";
import { processorColumns, processorSettingsOf } from "../processor.js";
import * as views from "../views.js";
import { listPage } from "./list.js";

/** The company is the object itself; any other guid is some other company's, hence 404. */
function own(r) {
  if (r.params[0] !== r.company.guid) throw notFound("company", r.params[0]);
  return r.company;
}

const fresh = (r) => views.company(r.db.one("SELECT * FROM company"));
/** The company's credentials are for its secret keys alone (not dashboard sessions, not browser tokens). */
const KEYS = { scope: () => "keys" };

export const routes = [
  ["GET", "/v1/companies/:guid", (r) => {
    own(r);
    return json(fresh(r));
  }],
  // Settings: name (shown to buyers on hosted invoice pages), max_retry_attempts (processor retries per transaction),
  // processor_concurrency (calls in flight), and the processor (processor, processor_key, stripe_webhook_secret).
  ["PUT", "/v1/companies/:guid", (r) => updateSettings(r)],
  ["POST", "/v1/companies/:guid", (r) => updateSettings(r)],
  // Test clock: freeze/advance the company's time and run everything that falls due on the way, as Stripe's test
  // clocks do. The request runs at most `budget_ms` (default 10 s); an advance that needs longer goes on in the
  // background (`clock_status: "advancing"`, `GET` shows `ready` when done). `max_steps` instead does exactly that
  // many due times in the request and stops, saying where (`advance.reached: false`).
  ["POST", "/v1/companies/:guid/clock", async (r) => {
    const company = own(r);
    if (!company.test_mode) throw new ApiError(409, "not_test_mode", "The test clock is only available in test mode");
    if (company.advance_to) throw new ApiError(409, "clock_advancing", `The clock is still advancing to ${company.advance_to}`);
    const { advance_to, max_steps, budget_ms } = r.core.validateClock(r.body, r.now());
    if (budget_ms === null) return json({ ...fresh(r), advance: await r.scheduler.advanceTo(advance_to, max_steps) });
    r.db.run("UPDATE company SET advance_to = ?", advance_to);
    const advance = await r.scheduler.advanceTo(advance_to, max_steps, Date.now() + budget_ms);
    if (advance.reached) r.db.run("UPDATE company SET advance_to = NULL");
    else await r.scheduler.advanceInBackground();
    return json({ ...fresh(r), advance: { ...advance, status: advance.reached ? "ready" : "advancing" } });
  }],
  ["GET", "/v1/companies/:guid/scheduler", (r) => {
    own(r);
    return json(r.scheduler.report());
  }],
  ["GET", "/v1/companies/:guid/simulator", async (r) => {
    own(r);
    return json(await r.processor().ledger());
  }],
  ["GET", "/v1/companies/:guid/keys", (r) => {
    own(r);
    return listPage(r, { table: "keys", view: (row) => r.keys.view(row) });
  }, KEYS],
  // Rotation: a new secret key (shown once); the previous ones keep working for `expires_in` seconds.
  ["POST", "/v1/companies/:guid/keys/rotate", async (r) => {
    const company = own(r);
    const now = r.now();
    const rotation = r.core.validateRotation(r.body, now);
    const { key, row } = await r.keys.rotate(company.guid, rotation, now);
    const expiring = r.db.all("SELECT * FROM keys WHERE guid != ? AND expires_at = ? ORDER BY seq", row.guid,
      rotation.expires_at);
    return json({ api_key: key, key: r.keys.view(row), expiring: expiring.map((k) => r.keys.view(k)) });
  }, KEYS],
];

const PROCESSOR_FIELDS = ["processor", "processor_key", "stripe_webhook_secret"];

/** Settings, and the processor: a switch to Stripe (or back) is one request, validated whole before anything is written. */
async function updateSettings(r) {
  const company = own(r);
  const settings = r.core.validateSettings(r.body);
  let processor = null;
  if (PROCESSOR_FIELDS.some((f) => r.body[f] !== undefined)) {
    // Where the money goes outlives the key that changes it: not a key being rotated out (409 key_expiring).
    r.keys.checkManages(r.principal);
    const current = await processorSettingsOf(r.env, company);
    const next = r.core.validateProcessorSettings(r.body, Boolean(company.test_mode), current);
    // Money in flight stays with the processor it went to: polls, retries and lookups must reach the same account.
    if (next.processor !== current.processor || next.processor_key !== current.processor_key) {
      const open = r.db.one(`SELECT count(*) AS n FROM transactions WHERE submit_status IN (?, ?) OR status = ?
        OR reconcile_at IS NOT NULL`, r.core.N.SubmitStatus.staged, r.core.N.SubmitStatus.retrying,
      r.core.N.TransactionStatus.pending).n;
      if (open > 0) {
        throw new ApiError(409, "processor_busy",
          `${open} transactions are still in flight with the current processor; switch once they are final`, "processor");
      }
    }
    processor = await processorColumns(r.env, company.guid, next);
  }
  const now = r.now();
  r.db.tx(() => {
    if (settings.name !== null) r.db.run("UPDATE company SET name = ?, updated_at = ?", settings.name, now);
    if (settings.max_retry_attempts !== null) {
      r.db.run("UPDATE company SET max_retry_attempts = ?, updated_at = ?", settings.max_retry_attempts, now);
    }
    if (settings.processor_concurrency !== null) {
      r.db.run("UPDATE company SET processor_concurrency = ?, updated_at = ?", settings.processor_concurrency, now);
    }
    if (processor) {
      r.db.run("UPDATE company SET processor = ?, processor_key = ?, processor_key_last4 = ?, stripe_webhook_secret = ?, updated_at = ?",
        processor.processor, processor.processor_key, processor.processor_key_last4, processor.stripe_webhook_secret, now);
    }
  });
  return json(fresh(r));
}
