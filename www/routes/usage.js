// @ts-check
// /v1/metrics and /v1/usage_events: metered usage (filled in by the usage change).
export const routes = [];
