// @ts-check
// /v1/companies/<guid>: retrieve, settings, the test clock and the simulator's ledger.
import { ApiError, json, notFound } from "../http.js";
import * as views from "../views.js";

/** The company is the object itself; any other guid is some other company's, hence 404. */
function own(r) {
  if (r.params[0] !== r.company.guid) throw notFound("company", r.params[0]);
  return r.company;
}

const fresh = (r) => views.company(r.db.one("SELECT * FROM company"));

export const routes = [
  ["GET", "/v1/companies/:guid", (r) => {
    own(r);
    return json(fresh(r));
  }],
  // Settings: max_retry_attempts (processor retries per transaction, default 10).
  ["PUT", "/v1/companies/:guid", (r) => updateSettings(r)],
  ["POST", "/v1/companies/:guid", (r) => updateSettings(r)],
  // Test clock: freeze/advance the company's time and run everything that falls due on the way.
  ["POST", "/v1/companies/:guid/clock", async (r) => {
    const company = own(r);
    if (!company.test_mode) throw new ApiError(409, "not_test_mode", "The test clock is only available in test mode");
    const { advance_to } = r.core.validateClock(r.body, r.co.now());
    await r.co.scheduler.advanceTo(advance_to);
    return json(fresh(r));
  }],
  ["GET", "/v1/companies/:guid/simulator", async (r) => {
    own(r);
    return json(await r.co.processor().ledger());
  }],
];

function updateSettings(r) {
  own(r);
  const settings = r.core.validateSettings(r.body);
  const now = r.co.now();
  r.db.tx(() => {
    if (settings.max_retry_attempts !== null) {
      r.db.run("UPDATE company SET max_retry_attempts = ?, updated_at = ?", settings.max_retry_attempts, now);
    }
  });
  return json(fresh(r));
}
