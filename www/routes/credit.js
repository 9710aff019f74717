// @ts-check
// A customer's credit profile: GET /v1/customers/<guid>/credit, its event history, and assessments by the merchant.
import { json } from "../http.js";
import { findCustomer } from "./find.js";

export const routes = [
  ["GET", "/v1/customers/:guid/credit", (r) => {
    const c = findCustomer(r, r.params[0]);
    return json({ customer_guid: c.guid, ...r.credit.profile(c.guid, r.now()) });
  }],
  ["GET", "/v1/customers/:guid/credit/events", (r) => {
    const c = findCustomer(r, r.params[0]);
    const events = r.credit.events(c.guid).map((e) => ({ ...e, split: Boolean(e.split) }));
    return json({ customer_guid: c.guid, currency: r.credit.row(c.guid)?.currency ?? null, items: events });
  }],
  // An assessment with the scorecard facts: never a decline, a tier and its limit.
  ["POST", "/v1/customers/:guid/assessments", (r) => {
    const facts = r.core.validateFacts(r.body);
    const currency = r.body.currency ? r.core.currency(String(r.body.currency)).code : "USD";
    const now = r.now();
    const guid = r.params[0];
    r.db.tx(() => {
      findCustomer(r, guid);
      r.credit.assess(guid, facts, currency, now);
    });
    return json({ customer_guid: guid, ...r.credit.profile(guid, now) });
  }],
];
