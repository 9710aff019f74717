// @ts-check
// Metered usage: ingesting events (each event id counted once, a batch accepted or refused whole, its running
// aggregates updated in the same storage transaction and folded by the core in one boundary crossing) and the
// usage lines of an invoice, priced by the core from the running aggregates only: invoicing never scans raw events.
// Inside a transaction unless said otherwise.
import { ApiError } from "./http.js";

export class Usage {
  /** @param {{ db: import("./db.js").Db, core: typeof import("./core.js") }} deps */
  constructor({ db, core }) {
    this.db = db;
    this.core = core;
  }

  /** The metered items of a plan (as the core validated them). */
  items(planGuid) {
    const plan = this.db.one("SELECT metered_items FROM plans WHERE guid = ?", planGuid);
    return plan ? JSON.parse(plan.metered_items) : [];
  }

  /** `{code: name}` of the metrics named by `items`. */
  names(items) {
    if (items.length === 0) return {};
    const codes = items.map((i) => i.metric_code);
    return Object.fromEntries(this.db.all(`SELECT guid, name FROM metrics WHERE guid IN (${codes.map(() => "?").join(", ")})`,
      ...codes).map((m) => [m.guid, m.name]));
  }

  /**
   * Records one request of usage events (one event, or `{events: [...]}` of up to 1,000). What the core needs is
   * read here (the subscriptions and metrics the events name, the event ids already stored, the unbilled running
   * aggregates), the core decides everything in one call (validation, the period of each event, duplicates, the
   * folded aggregates), and what it answered is written: events first-wins by id, aggregates by key. A refusal
   * writes nothing. Returns the events with `duplicate`.
   * @param {any} body @param {string} now @param {(guid: string) => any} subscriptionRow
   */
  ingest(body, now, subscriptionRow) {
    const raw = Array.isArray(body?.events) ? body.events : [body];
    const named = (key) => [...new Set(raw.map((e) => e?.[key]).filter((v) => typeof v === "string"))];
    const subscriptions = {};
    for (const guid of named("subscription_guid")) {
      const row = subscriptionRow(guid);
      if (row) subscriptions[guid] = row;
    }
    const codes = named("metric_code");
    const metrics = Object.fromEntries(this.db.allIn(codes, (marks, chunk) => this.db.all(
      `SELECT guid, aggregation FROM metrics WHERE guid IN (${marks})`, ...chunk)).map((m) => [m.guid, m.aggregation]));
    const ids = named("event_id");
    const known = this.db.allIn(ids, (marks, chunk) => this.db.all(`SELECT event_id FROM usage_events
      WHERE event_id IN (${marks})`, ...chunk)).map((r) => r.event_id);
    const states = this.db.allIn(Object.keys(subscriptions), (marks, chunk) => this.db.all(`SELECT subscription_guid,
      metric_code, period, state FROM usage_aggregates WHERE invoice_guid IS NULL AND subscription_guid IN (${marks})`, ...chunk));
    const x = this.core.ingestUsage(body, now, { subscriptions, metrics, known, states });
    if (!x.ok) {
      const single = !Array.isArray(body?.events);
      throw Object.assign(new ApiError(x.status, x.code, x.message, x.field), single ? {} : { errors: x.errors });
    }
    for (const e of x.events) {
      if (e.duplicate) continue;
      this.db.run(`INSERT INTO usage_events (event_id, subscription_guid, metric_code, value, timestamp, period, received_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)`, e.event_id, e.subscription_guid, e.metric_code, e.value, e.timestamp, e.period, now);
    }
    for (const a of x.states) {
      const written = this.db.run(`INSERT INTO usage_aggregates (subscription_guid, metric_code, period, period_start,
        period_end, state) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (subscription_guid, metric_code, period)
        DO UPDATE SET state = excluded.state WHERE usage_aggregates.invoice_guid IS NULL`,
        a.subscription_guid, a.metric_code, a.period, a.period_start, a.period_end, JSON.stringify(a.state));
      // A billed aggregate never moves: an event for it would be lost, so the whole request is undone instead.
      if (written === 0) throw new ApiError(422, "period_closed", `The usage of period ${a.period} of ${a.subscription_guid} is already invoiced`, "timestamp");
    }
    return x.events.map((e) => ({ event_id: e.event_id, subscription_guid: e.subscription_guid, metric_code: e.metric_code,
      value: e.value, timestamp: e.timestamp, duplicate: e.duplicate }));
  }

  /**
   * The usage lines of a subscription's unbilled periods before `beforePeriod` (all when null), priced by the core;
   * with `zeroFor`, that period's lines appear even when nothing was used (a customer sees 0 calls).
   * @returns {{ lines: any[], periods: number[] }}
   */
  lines(sub, items, beforePeriod, zeroFor = null) {
    if (items.length === 0) return { lines: [], periods: [] };
    const rows = this.db.all(`SELECT metric_code, period, period_start, period_end, state FROM usage_aggregates
      WHERE subscription_guid = ? AND invoice_guid IS NULL ${beforePeriod === null ? "" : "AND period < ?"} ORDER BY period`,
      ...[sub.guid, ...(beforePeriod === null ? [] : [beforePeriod])]);
    const byPeriod = new Map();
    const priced = new Set(items.map((i) => i.metric_code));
    for (const r of rows) {
      // Only what these items price: another plan's metric is billed by that plan's turn (a plan change).
      if (!priced.has(r.metric_code)) continue;
      if (!byPeriod.has(r.period)) byPeriod.set(r.period, { start: r.period_start, end: r.period_end, aggregates: {} });
      byPeriod.get(r.period).aggregates[r.metric_code] = JSON.parse(r.state);
    }
    if (zeroFor && !byPeriod.has(zeroFor.period)) {
      byPeriod.set(zeroFor.period, { start: zeroFor.period_start, end: zeroFor.period_end, aggregates: {} });
    }
    const names = this.names(items);
    const lines = [];
    for (const [, p] of [...byPeriod].sort((a, b) => a[0] - b[0])) {
      lines.push(...this.core.priceUsage(items, p.aggregates, names, p.start, p.end));
    }
    return { lines, periods: [...byPeriod.keys()] };
  }

  /** Marks the aggregates of `periods` that `items` priced billed by `invoiceGuid`. */
  billed(sub, periods, invoiceGuid, items) {
    for (const period of periods) {
      for (const { metric_code } of items) {
        this.db.run(`UPDATE usage_aggregates SET invoice_guid = ? WHERE subscription_guid = ? AND period = ? AND metric_code = ?
          AND invoice_guid IS NULL`, invoiceGuid, sub.guid, period, metric_code);
      }
    }
  }
}

/** A usage line as an invoice item: it counts towards the invoice's amount. */
export const usageItem = (l) => ({ name: l.name, amount: l.amount, type: "usage", quantity: l.quantity, volume: null,
  unit: null, metric_code: l.metric_code, unit_amount_decimal: l.unit_amount_decimal, period_start: l.period_start,
  period_end: l.period_end });
