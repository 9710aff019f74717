// @ts-check
// /v1/webhook_endpoints: where a company's events go. The secret that signs them is shown once, at creation.
import { json } from "../http.js";
import { N } from "../core.js";
import { find } from "./find.js";
import { listPage } from "./list.js";

const findEndpoint = (r, guid) => find(r, "webhook_endpoints", "webhook endpoint", guid);

export function endpointView(row) {
  return { guid: row.guid, url: row.url, events: JSON.parse(row.events), description: row.description,
    enabled: row.enabled === 1, failing_since: row.failing_since, disabled_at: row.disabled_at,
    created_at: row.created_at, updated_at: row.updated_at };
}

export const routes = [
  ["POST", "/v1/webhook_endpoints", (r) => {
    // An endpoint outlives the key that registers it: not a key being rotated out (409 key_expiring).
    r.keys.checkManages(r.principal);
    const v = r.core.validateWebhookEndpoint(r.body);
    const now = r.now();
    const guid = r.core.guid("WE");
    const secret = r.core.webhookSecret();
    r.db.tx(() => r.db.insert("webhook_endpoints", { guid, url: v.url, events: JSON.stringify(v.events),
      description: v.description, secret, enabled: 1, failing_since: null, disabled_at: null, created_at: now, updated_at: now }));
    r.webhooks.changed();
    return json({ ...endpointView(findEndpoint(r, guid)), secret });
  }],
  ["GET", "/v1/webhook_endpoints", (r) => listPage(r, { table: "webhook_endpoints", view: endpointView })],
  ["GET", "/v1/webhook_endpoints/:guid", (r) => json(endpointView(findEndpoint(r, r.params[0])))],
  // Change the URL or events, or re-enable a disabled endpoint (`enabled=true`).
  ["PUT", "/v1/webhook_endpoints/:guid", (r) => {
    r.keys.checkManages(r.principal);
    const guid = r.params[0];
    const now = r.now();
    r.db.tx(() => {
      const row = findEndpoint(r, guid);
      const v = r.core.validateWebhookUpdate(r.body, { url: row.url, events: JSON.parse(row.events), description: row.description });
      const enabled = v.enabled === null ? row.enabled : v.enabled ? 1 : 0;
      r.db.update("webhook_endpoints", guid, { url: v.url, events: JSON.stringify(v.events), description: v.description,
        enabled, disabled_at: enabled ? null : row.disabled_at, failing_since: enabled && !row.enabled ? null : row.failing_since,
        updated_at: now });
    });
    r.webhooks.changed();
    return json(endpointView(findEndpoint(r, guid)));
  }],
  ["DELETE", "/v1/webhook_endpoints/:guid", (r) => {
    const guid = r.params[0];
    const now = r.now();
    r.db.tx(() => {
      findEndpoint(r, guid);
      r.db.run("UPDATE webhook_deliveries SET status = ?, next_attempt_at = NULL, updated_at = ? WHERE endpoint_guid = ? AND status = ?",
        N.WebhookDeliveryStatus.failed, now, guid, N.WebhookDeliveryStatus.pending);
      r.db.run("UPDATE webhook_endpoints SET enabled = 0, disabled_at = ?, updated_at = ? WHERE guid = ?", now, now, guid);
    });
    r.webhooks.changed();
    return json({ ...endpointView(findEndpoint(r, guid)), deleted: true });
  }],
  // Every delivery to the endpoint, newest first, with each attempt.
  ["GET", "/v1/webhook_endpoints/:guid/deliveries", (r) => {
    const e = findEndpoint(r, r.params[0]);
    return listPage(r, { table: "webhook_deliveries", where: "endpoint_guid = ?", args: [e.guid], view: (d) => {
      const ev = r.db.one("SELECT type FROM webhook_events WHERE guid = ?", d.event_guid);
      return { guid: d.guid, event_id: d.event_guid, type: ev?.type ?? null, status: d.status, attempts: d.attempts,
        next_attempt_at: d.next_attempt_at, created_at: d.created_at, updated_at: d.updated_at,
        history: r.db.all("SELECT status_code, error, duration_ms, created_at FROM webhook_attempts WHERE delivery_guid = ? ORDER BY seq", d.guid) };
    } });
  }],
];
