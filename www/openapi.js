// @ts-check
// The OpenAPI 3.1 description of the API, served at /openapi.json. One entry per route: a test checks that every
// route the worker has is described here, and the API suites validate every response they get against it.
// Built from the core's names (`names()`: every status and kind is spelled once, in the core), so the worker and the
// Node tests make the same document from the same wasm.

const str = { type: "string" };
const nstr = { type: ["string", "null"] };
const int = { type: "integer" };
const nint = { type: ["integer", "null"] };
const bool = { type: "boolean" };
const time = { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}\\+00:00$" };
const ntime = { type: ["string", "null"], pattern: time.pattern };
const meta = { type: "object", additionalProperties: { type: "string" } };
const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
/**
 * An object whose listed properties are required with these types; further properties are allowed. `metadata` and
 * `hosted_invoice_url` are always there in answers made now, but optional here: a replayed Idempotency-Key answer
 * stored before they existed has none.
 */
const LATER = new Set(["metadata", "hosted_invoice_url"]);
const obj = (props, extra = {}) => ({ type: "object", required: Object.keys(props).filter((k) => !LATER.has(k)),
  properties: props, ...extra });

/** The names of one of the core's closed sets, as a JSON Schema enum. */
const oneOf = (set, ...extra) => ({ enum: [...new Set([...Object.keys(set), ...extra])].sort() });

/** @param {Record<string, Record<string, string>>} N the core's `names()` */
function schemasOf(N) {
  const INVOICE = { guid: str, invoice_type: { enum: ["customer", "subscription", "terms"] }, transaction_type: str, customer_guid: str,
    amount: int, total_adjustment_amount: int, effective_amount: int, title: nstr, external_id: nstr, appears_on_statement_as: nstr,
    status: oneOf({ ...N.InvoiceStatus, ...N.TermsInvoiceStatus }),
    items: { type: "array" }, adjustments: { type: "array", items: obj({ amount: int, reason: nstr }) },
    hosted_invoice_url: { type: "string", pattern: "^/i/[^/]+$" }, created_at: time, updated_at: time };
  const schemas = {
  Error: obj({ error: obj({ code: str, message: str }), error_class: str, error_message: str }),
  Company: obj({ guid: str, name: nstr, created_at: time, updated_at: time, test_mode: bool, clock: ntime, clock_status: { enum: ["ready", "advancing"] },
    max_retry_attempts: int, processor: oneOf(N.ProcessorName), processor_key_last4: nstr,
    stripe_webhook_secret_set: bool }),
  Plan: obj({ guid: str, company_guid: str, plan_type: { enum: ["debit", "credit"] }, frequency: str, amount: int, interval: int,
    metered_items: { type: "array", items: obj({ metric_code: str, unit_amount_decimal: nstr, tiers: { type: ["array", "null"] } }) },
    deleted: bool, metadata: meta, created_at: time, updated_at: time }),
  Customer: obj({ guid: str, company_guid: str, processor_uri: nstr, deleted: bool, metadata: meta, created_at: time, updated_at: time }),
  Subscription: obj({ guid: str, plan_guid: str, customer_guid: str, amount: nint, effective_amount: int,
    status: oneOf(N.SubscriptionStatus), funding_instrument_uri: nstr,
    appears_on_statement_as: nstr, started_at: time, invoice_count: int, next_invoice_at: ntime, canceled: bool, canceled_at: ntime,
    billing_cycle_anchor: time, cancel_at: ntime, cancel_at_period_end: bool, trial_end: ntime, paused_at: ntime, resumes_at: ntime, coupon: nstr,
    coupon_applied_count: int, pending_adjustments: { type: "array", items: obj({ amount: int, reason: nstr }) },
    metadata: meta, created_at: time, updated_at: time }),
  UpcomingInvoice: obj({ object: { const: "upcoming_invoice" }, subscription_guid: str, customer_guid: str,
    invoice_type: { const: "subscription" }, transaction_type: str, period_start: time, period_end: ntime, scheduled_at: time,
    amount: int, items: { type: "array" }, adjustments: { type: "array", items: obj({ amount: int, reason: nstr }) }, total_adjustment_amount: int,
    effective_amount: { type: "integer", minimum: 0 }, balance_applied: { type: "integer", minimum: 0 }, coupon: nstr,
    currency: str, funding_instrument_uri: nstr, previewed_at: time }),
  Metric: obj({ code: str, name: str, aggregation: oneOf(N.UsageAggregation), created_at: time, updated_at: time }),
  UsageEvent: obj({ event_id: str, subscription_guid: str, metric_code: str, value: int, timestamp: time, duplicate: bool }),
  UsageEventBatch: obj({ object: { const: "usage_event_batch" }, accepted: int, duplicates: int,
    events: { type: "array", items: ref("UsageEvent") } }),
  UsageEventResult: { oneOf: [ref("UsageEvent"), ref("UsageEventBatch")] },
  UsageLine: obj({ name: str, metric_code: str, quantity: int, unit_amount_decimal: nstr, amount: int, period_start: time, period_end: time }),
  Usage: obj({ object: { const: "usage" }, subscription_guid: str, period_start: ntime, period_end: ntime,
    lines: { type: "array", items: ref("UsageLine") }, amount: int }),
  Coupon: obj({ code: str, name: nstr, percent_off: nstr, amount_off: nint, currency: nstr,
    duration: { enum: ["once", "repeating", "forever"] }, duration_in_periods: nint, max_redemptions: nint,
    times_redeemed: { type: "integer", minimum: 0 }, redeem_by: ntime, deleted: bool, created_at: time, updated_at: time }),
  Invoice: obj({ ...INVOICE, funding_instrument_uri: nstr, metadata: meta }),
  // The buyer's view of an invoice by its hosted token: the invoice (without the merchant's metadata and the stored
  // instrument), and what its page shows besides.
  HostedInvoice: { allOf: [obj(INVOICE), { required: ["hosted_invoice_url"] }, obj({ object: { const: "hosted_invoice" },
    company_name: nstr, currency: str, due_at: ntime, payable: bool,
    transactions: { type: "array", items: obj({ guid: str, transaction_type: oneOf(N.TransactionKind), amount: int,
      status: oneOf(N.TransactionStatus, null), submit_status: oneOf(N.SubmitStatus), reason: nstr, failure_code: nstr,
      failure_message: nstr, created_at: time, updated_at: time }) } })] },
  Transaction: obj({ guid: str, invoice_guid: nstr, order_guid: nstr, checkout_guid: nstr,
    transaction_type: oneOf(N.TransactionKind), currency: nstr, amount: int, funding_instrument_uri: nstr,
    submit_status: oneOf(N.SubmitStatus), status: oneOf(N.TransactionStatus, null),
    failure_count: int, failures: { type: "array", items: obj({ guid: str, error_code: nstr, error_message: nstr, created_at: time }) },
    processor_uri: nstr, reference_guid: nstr, reason: nstr, next_retry_at: ntime, metadata: meta, created_at: time, updated_at: time }),
  Order: obj({ guid: str, merchant_guid: str, description: nstr, delivery_address: nstr, currency: str, amount: int,
    amount_escrowed: { type: "integer", minimum: 0 }, amount_credited: int, metadata: meta, created_at: time, updated_at: time }),
  Allocation: obj({ total: int, balance_applied: int, terms_amount: int, card_amount: int, carried_to_balance: int }),
  Checkout: obj({ guid: str, customer_guid: str, currency: str, amount: int, items: { type: "array" }, terms_days: nint,
    status: oneOf(N.CheckoutStatus), expires_at: time, invoice_guid: nstr,
    transaction_guid: nstr, metadata: meta, created_at: time, updated_at: time }),
  Credit: obj({ status: oneOf(N.CreditStatus), risk_tier: nint, currency: str, credit_limit: int, credit_used: int,
    available_credit: int, terms_days_allowed: { type: "array", items: int } }),
  BalanceTransaction: obj({ id: str, object: { const: "balance_transaction" }, amount: int, currency: str, ending_balance_amount: int,
    transaction_type: oneOf(N.BalanceTransactionType),
    balance: { type: ["string", "object"] }, customer: { type: ["string", "object"] }, checkout: { type: ["string", "object", "null"] },
    created_at: int, updated_at: int }, { additionalProperties: false }),
  Application: obj({ guid: str, customer_guid: str, status: oneOf(N.ApplicationStatus), metadata: meta, created_at: time, updated_at: time }),
  Key: obj({ guid: str, kind: oneOf(N.KeyKind), scopes: { type: "array" }, hint: str,
    status: oneOf(N.KeyStatus), created_at: time, expires_at: ntime, revoked_at: ntime }),
  WebhookEndpoint: obj({ guid: str, url: str, events: { type: "array", items: str }, enabled: bool, created_at: time, updated_at: time }),
  WebhookDelivery: obj({ guid: str, event_id: str, status: oneOf(N.WebhookDeliveryStatus), attempts: int, history: { type: "array" } }),
  Object: { type: "object" },
  };
  const list = (item) => obj({ items: { type: "array", items: ref(item) }, offset: int, limit: int, total_count: int });
  for (const name of ["Plan", "Customer", "Subscription", "Coupon", "Metric", "Invoice", "Transaction", "Order", "Checkout", "BalanceTransaction",
    "Application", "Key", "WebhookEndpoint", "WebhookDelivery"]) schemas[`${name}List`] = list(name);
  return schemas;
}

const LIST = ["offset", "limit", "created_after", "created_before"];
/** [summary, response schema, query parameters, request body fields] by "METHOD path". */
const OPS = {
  "POST /v1/companies": ["Create a company (no key needed; limited per client address, 429 with Retry-After); answers its API key once", "Company", [], ["name", "processor", "processor_key", "stripe_webhook_secret", "test_mode", "clock"]],
  "GET /v1/companies/:guid": ["Retrieve the company", "Company"],
  "PUT /v1/companies/:guid": ["Change settings (the name buyers see), or switch the processor", "Company", [], ["name", "max_retry_attempts", "processor_concurrency", "processor", "processor_key", "stripe_webhook_secret"]],
  "POST /v1/companies/:guid": ["Change settings (the name buyers see), or switch the processor", "Company", [], ["name", "max_retry_attempts", "processor_concurrency", "processor", "processor_key", "stripe_webhook_secret"]],
  "POST /v1/companies/:guid/clock": ["Advance the test clock", "Company", [], ["advance_to", "max_steps", "budget_ms"]],
  "GET /v1/companies/:guid/scheduler": ["The scheduler's next due time and failures", "Object"],
  "GET /v1/companies/:guid/simulator": ["The built-in processor's ledger", "Object"],
  "GET /v1/companies/:guid/keys": ["List the company's credentials", "KeyList", LIST],
  "POST /v1/companies/:guid/keys/rotate": ["Rotate the secret key", "Object", [], ["expires_in"]],
  "POST /v1/plans": ["Create a plan (optionally with metered items)", "Plan", [], ["plan_type", "frequency", "amount", "interval", "metered_item_metric1", "metered_item_unit_amount_decimal1", "metered_item_tiers1"]],
  "GET /v1/plans": ["List plans", "PlanList", LIST],
  "GET /v1/plans/:guid": ["Retrieve a plan", "Plan"],
  "PUT /v1/plans/:guid": ["Update a plan's metadata", "Plan", [], []],
  "DELETE /v1/plans/:guid": ["Delete a plan (cancels its subscriptions)", "Plan"],
  "GET /v1/plans/:guid/customers": ["The plan's customers", "CustomerList", [...LIST, "processor_uri"]],
  "GET /v1/plans/:guid/subscriptions": ["The plan's subscriptions", "SubscriptionList", LIST],
  "GET /v1/plans/:guid/invoices": ["The plan's invoices", "InvoiceList", [...LIST, "external_id", "status"]],
  "GET /v1/plans/:guid/transactions": ["The plan's transactions", "TransactionList", LIST],
  "POST /v1/customers": ["Create a customer", "Customer", [], ["processor_uri"]],
  "GET /v1/customers": ["List customers", "CustomerList", [...LIST, "processor_uri"]],
  "GET /v1/customers/:guid": ["Retrieve a customer", "Customer"],
  "PUT /v1/customers/:guid": ["Update a customer's metadata", "Customer", [], []],
  "DELETE /v1/customers/:guid": ["Delete a customer (cancels its subscriptions)", "Customer"],
  "GET /v1/customers/:guid/subscriptions": ["The customer's subscriptions", "SubscriptionList", LIST],
  "GET /v1/customers/:guid/invoices": ["The customer's invoices", "InvoiceList", [...LIST, "external_id", "status"]],
  "GET /v1/customers/:guid/transactions": ["The customer's transactions", "TransactionList", LIST],
  "GET /v1/customers/:guid/orders": ["The merchant's orders", "OrderList", LIST],
  "POST /v1/customers/:guid/orders": ["Create an order for this merchant", "Order", [], ["description", "delivery_address", "currency"]],
  "GET /v1/customers/:guid/credit": ["The customer's credit profile", "Credit"],
  "GET /v1/customers/:guid/credit/events": ["The history the credit limit replays", "Object"],
  "POST /v1/customers/:guid/assessments": ["Assess the customer", "Credit", [], ["years_in_business", "annual_revenue_band", "employees_band", "industry_risk"]],
  "POST /v1/subscriptions": ["Subscribe a customer to a plan (optionally with a trial and a coupon)", "Subscription", [], ["plan_guid", "customer_guid", "funding_instrument_uri", "amount", "started_at", "appears_on_statement_as", "trial_days", "trial_end", "coupon"]],
  "GET /v1/subscriptions": ["List subscriptions", "SubscriptionList", LIST],
  "GET /v1/subscriptions/:guid": ["Retrieve a subscription", "Subscription"],
  "PUT /v1/subscriptions/:guid": ["Update a subscription: plan or amount (prorated), instrument, coupon, trial end, cancel at period end, metadata", "Subscription", [], ["plan_guid", "amount", "funding_instrument_uri", "appears_on_statement_as", "coupon", "trial_end", "cancel_at_period_end", "proration_behavior"]],
  "POST /v1/subscriptions/:guid/cancel": ["Cancel a subscription now (prorate=true credits the unused part) or at the period's end (at_period_end=true)", "Subscription", [], ["at_period_end", "prorate"]],
  "POST /v1/subscriptions/:guid/pause": ["Pause a subscription (periods starting while paused are skipped)", "Subscription", [], ["resumes_at"]],
  "POST /v1/subscriptions/:guid/resume": ["Resume a paused subscription (its anchor is kept)", "Subscription"],
  "GET /v1/subscriptions/:guid/upcoming_invoice": ["The next invoice as it would be made now (nothing is written)", "UpcomingInvoice"],
  "POST /v1/metrics": ["Create a metric (what usage events measure, and how they aggregate)", "Metric", [], ["code", "name", "aggregation"]],
  "GET /v1/metrics": ["List metrics", "MetricList", LIST],
  "GET /v1/metrics/:guid": ["Retrieve a metric by its code", "Metric"],
  "POST /v1/usage_events": ["Record one usage event, or up to 1,000 as {events: [...]} (accepted or refused whole; each event_id counted once)", "UsageEventResult", [], ["event_id", "subscription_guid", "metric_code", "value", "timestamp"]],
  "GET /v1/subscriptions/:guid/usage": ["The open period's usage per metric, priced", "Usage"],
  "POST /v1/coupons": ["Create a coupon", "Coupon", [], ["code", "name", "percent_off", "amount_off", "currency", "duration", "duration_in_periods", "max_redemptions", "redeem_by"]],
  "GET /v1/coupons": ["List coupons", "CouponList", LIST],
  "GET /v1/coupons/:guid": ["Retrieve a coupon by its code", "Coupon"],
  "DELETE /v1/coupons/:guid": ["Delete a coupon (no new redemptions; applied ones keep going)", "Coupon"],
  "GET /v1/subscriptions/:guid/invoices": ["The subscription's invoices", "InvoiceList", [...LIST, "external_id"]],
  "GET /v1/subscriptions/:guid/transactions": ["The subscription's transactions", "TransactionList", LIST],
  "POST /v1/invoices": ["Invoice a customer", "Invoice", [], ["customer_guid", "amount", "title", "external_id", "funding_instrument_uri", "appears_on_statement_as", "coupon"]],
  "GET /v1/invoices": ["List invoices", "InvoiceList", [...LIST, "external_id", "status", "invoice_type", "customer_guid"]],
  "GET /v1/invoices/:guid": ["Retrieve an invoice", "Invoice"],
  "PUT /v1/invoices/:guid": ["A new funding instrument, or metadata", "Invoice", [], ["funding_instrument_uri"]],
  "POST /v1/invoices/:guid/refund": ["Refund a settled invoice", "Invoice", [], ["amount"]],
  "POST /v1/invoices/:guid/cancel": ["Cancel an invoice", "Invoice"],
  "POST /v1/invoices/:guid/payments": ["Record a payment of a terms invoice", "Invoice", [], ["amount", "paid_at"]],
  "GET /v1/invoices/:guid/transactions": ["The invoice's transactions", "TransactionList", LIST],
  "GET /v1/hosted_invoices/:token": ["The buyer's view of an invoice (no key: its hosted token, from hosted_invoice_url, is the credential)", "HostedInvoice"],
  "POST /v1/hosted_invoices/:token/pay": ["The buyer pays the invoice with a funding instrument, as PUT /v1/invoices/{guid} does (no key: its hosted token)", "HostedInvoice", [], ["funding_instrument_uri"]],
  "GET /v1/transactions": ["List transactions", "TransactionList", [...LIST, "transaction_type", "status", "submit_status", "reference_guid", "customer_guid"]],
  "GET /v1/transactions/:guid": ["Retrieve a transaction", "Transaction"],
  "PUT /v1/transactions/:guid": ["Update a transaction's metadata", "Transaction", [], []],
  "POST /v1/transactions/:guid/refunds": ["Refund an order debit", "Transaction", [], ["amount", "description"]],
  "POST /v1/transactions/:guid/reversals": ["Reverse an order credit", "Transaction", [], ["amount", "description"]],
  "POST /v1/orders": ["Create an order", "Order", [], ["merchant_guid", "description", "delivery_address", "currency"]],
  "GET /v1/orders": ["List orders", "OrderList", LIST],
  "GET /v1/orders/:guid": ["Retrieve an order", "Order"],
  "PUT /v1/orders/:guid": ["Update an order", "Order", [], ["description", "delivery_address"]],
  "POST /v1/orders/:guid/debits": ["Debit a buyer into the order", "Transaction", [], ["customer_guid", "funding_instrument_uri", "amount", "description"]],
  "POST /v1/orders/:guid/credits": ["Pay out of the order", "Transaction", [], ["amount", "destination", "funding_instrument_uri"]],
  "POST /v1/orders/:guid/payout": ["Pay out with a fee", "Object", [], ["amount", "fee_rate", "fee_amount"]],
  "GET /v1/orders/:guid/transactions": ["The order's movements", "TransactionList", LIST],
  "GET /v1/orders/:guid/debits": ["The order's debits", "TransactionList", LIST],
  "GET /v1/orders/:guid/credits": ["The order's credits", "TransactionList", LIST],
  "GET /v1/orders/:guid/refunds": ["The order's refunds", "TransactionList", LIST],
  "GET /v1/orders/:guid/reversals": ["The order's reversals", "TransactionList", LIST],
  "GET /v1/orders/:guid/buyers": ["The order's buyers", "CustomerList", LIST],
  "POST /v1/checkouts": ["Create a split-payment checkout; answers its client_secret once", "Checkout", [], ["customer_guid", "currency", "amount", "terms_days"]],
  "GET /v1/checkouts": ["List checkouts", "CheckoutList", LIST],
  "GET /v1/checkouts/:guid": ["Retrieve a checkout", "Checkout"],
  "GET /v1/checkouts/:guid/allocation": ["Preview a checkout's split", "Object", ["terms_days"]],
  "POST /v1/checkouts/:guid/confirm": ["Confirm a checkout", "Checkout", [], ["terms_days", "funding_instrument_uri", "terms_funding_instrument_uri"]],
  "POST /v1/balance_transactions": ["Adjust a customer's balance", "BalanceTransaction"],
  "GET /v1/balance_transactions": ["List balance transactions", "BalanceTransactionList", [...LIST, "customer", "checkout"]],
  "GET /v1/balance_transactions/:id": ["Retrieve a balance transaction", "BalanceTransaction"],
  "POST /v1/applications": ["Create a pre-filled credit application", "Application", [], ["customer_guid", "legal_name", "city", "country", "contact_email"]],
  "GET /v1/applications": ["List applications", "ApplicationList", LIST],
  "GET /v1/applications/:guid": ["Retrieve an application", "Application"],
  "GET /v1/applications/by_token/:token": ["The buyer's view of an application", "Application"],
  "PUT /v1/applications/by_token/:token": ["The buyer edits an application", "Application", [], ["legal_name", "city", "country"]],
  "POST /v1/applications/by_token/:token/submit": ["The buyer submits an application", "Application"],
  "POST /v1/dashboard/sessions": ["Open a dashboard session", "Object", [], ["expires_in"]],
  "DELETE /v1/dashboard/sessions/current": ["Sign a dashboard session out", "Object"],
  "GET /v1/dashboard/overview": ["The dashboard's figures", "Object", ["days"]],
  "POST /v1/processors/stripe/webhooks/:guid": ["An event from Stripe (no key: signed with the company's stripe_webhook_secret)", "Object"],
  "POST /v1/webhook_endpoints": ["Create a webhook endpoint; answers its secret once", "WebhookEndpoint", [], ["url", "events", "description"]],
  "GET /v1/webhook_endpoints": ["List webhook endpoints", "WebhookEndpointList", LIST],
  "GET /v1/webhook_endpoints/:guid": ["Retrieve a webhook endpoint", "WebhookEndpoint"],
  "PUT /v1/webhook_endpoints/:guid": ["Change or re-enable a webhook endpoint", "WebhookEndpoint", [], ["url", "events", "enabled"]],
  "DELETE /v1/webhook_endpoints/:guid": ["Delete a webhook endpoint", "WebhookEndpoint"],
  "GET /v1/webhook_endpoints/:guid/deliveries": ["The endpoint's deliveries and attempts", "WebhookDeliveryList", LIST],
};

/** The route keys described ("METHOD /v1/…/:param"). */
export const DESCRIBED = Object.keys(OPS);

/** `/v1/plans/:guid` → `/v1/plans/{guid}` */
const oaPath = (p) => p.replace(/:([a-z_]+)/g, "{$1}");

/** The document. @param {Record<string, Record<string, string>>} names the core's `names()` */
export function openapiDocument(names) {
  const schemas = schemasOf(names);
  const paths = {};
  for (const [key, [summary, schema, query = [], body = null]] of Object.entries(OPS)) {
    const [method, path] = key.split(" ");
    const params = [...path.matchAll(/:([a-z_]+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    const op = {
      summary,
      operationId: `${method.toLowerCase()}${path.replace(/[/:{}_]+(\w)/g, (_, c) => c.toUpperCase())}`,
      parameters: [...params, ...query.map((q) => ({ name: q, in: "query", required: false, schema: { type: "string" } }))],
      responses: {
        200: { description: "OK", content: { "application/json": { schema: ref(schema) } } },
        default: { description: "An error: 400, 401, 403, 404, 405, 409, 413, 415, 422, 429 or 503", content: { "application/json": { schema: ref("Error") } } },
      },
    };
    if (body) {
      const props = Object.fromEntries(body.map((f) => [f, { type: "string" }]));
      op.requestBody = { required: false, content: {
        "application/x-www-form-urlencoded": { schema: { type: "object", properties: props } },
        "application/json": { schema: { type: "object", properties: props } } } };
    }
    if (key !== "POST /v1/companies" && !path.includes("by_token") && !path.includes("/processors/") &&
      !path.startsWith("/v1/hosted_invoices/")) op.security = [{ basic: [] }, { bearer: [] }];
    (paths[oaPath(path)] ||= {})[method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: "Billy Edge", version: "0.2.0", description: "Recurring billing, marketplace escrow and B2B net terms; the Billy v1 API and its extensions. Amounts are integers in minor units." },
    servers: [{ url: "/" }],
    components: { schemas, securitySchemes: { basic: { type: "http", scheme: "basic", description: "The API key as the username, blank password" },
      bearer: { type: "http", scheme: "bearer" } } },
    paths,
  };
}

