// @ts-check
// Metered usage: /v1/metrics (create, retrieve, list), /v1/usage_events (one event or {"events": [...]} of up to
// 1,000, accepted or refused whole, each event id counted once) and /v1/subscriptions/<guid>/usage (the open period's
// aggregate and amount per metric). Plans carry the metered items; invoices the usage lines (www/subscriptions.js).
import { ApiError, json, notFound } from "../http.js";
import { findSubscription } from "./find.js";
import { listPage } from "./list.js";

const metricView = (row) => ({ code: row.guid, name: row.name, aggregation: row.aggregation, created_at: row.created_at,
  updated_at: row.updated_at });

function findMetric(r, code) {
  const row = r.db.one("SELECT * FROM metrics WHERE guid = ?", code);
  if (!row) throw notFound("metric", code);
  return row;
}

/** A subscription row (joined with its plan) with the plan's metered items, or null. */
function meteredRow(r, guid) {
  const row = r.subscriptions.row(guid);
  return row && { ...row, items: JSON.parse(row.metered_items) };
}

export const routes = [
  ["POST", "/v1/metrics", (r) => {
    const m = r.core.validateMetric(r.body);
    const now = r.now();
    r.db.tx(() => {
      if (r.db.one("SELECT 1 AS x FROM metrics WHERE guid = ?", m.code)) {
        throw new ApiError(409, "duplicate_metric", `A metric with code ${m.code} already exists`, "code");
      }
      r.db.insert("metrics", { guid: m.code, name: m.name, aggregation: m.aggregation, created_at: now, updated_at: now });
    });
    return json(metricView(findMetric(r, m.code)));
  }],
  ["GET", "/v1/metrics", (r) => listPage(r, { table: "metrics", view: metricView })],
  ["GET", "/v1/metrics/:guid", (r) => json(metricView(findMetric(r, r.params[0])))],
  ["POST", "/v1/usage_events", (r) => {
    const now = r.now();
    const events = r.db.tx(() => r.usage.ingest(r.body, now, (guid) => r.subscriptions.row(guid)));
    if (!Array.isArray(r.body?.events)) return json(events[0]);
    const duplicates = events.filter((e) => e.duplicate).length;
    return json({ object: "usage_event_batch", accepted: events.length - duplicates, duplicates, events });
  }],
  ["GET", "/v1/subscriptions/:guid/usage", (r) => {
    findSubscription(r, r.params[0]);
    const row = meteredRow(r, r.params[0]);
    const current = row.canceled ? null : r.core.currentPeriod(row);
    if (!current) {
      return json({ object: "usage", subscription_guid: row.guid, period_start: null, period_end: null, lines: [], amount: 0 });
    }
    const { lines } = r.usage.lines(row, row.items, current.period + 1, current);
    const mine = lines.filter((l) => l.period_start === current.period_start);
    return json({ object: "usage", subscription_guid: row.guid, period_start: current.period_start,
      period_end: current.period_end, lines: mine, amount: mine.reduce((s, l) => r.core.addAmounts(s, l.amount), 0) });
  }],
];
