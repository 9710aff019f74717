//! The JavaScript boundary: the only module that knows `JsValue`.
//!
//! Every export takes plain JS values, turns them into [`Raw`] (or checked scalars) without trusting their
//! types, calls a pure rule, and returns a plain JSON-compatible value (`null`, never `undefined`; integers as
//! numbers within ±(2^53−1)). A refusal becomes a thrown JS `Error` with `code`, `status` and `field`
//! properties. Nothing here unwraps input-derived data: a panic would poison the wasm instance.

use crate::sorted::SortedMap;
use crate::to_json::ToJson;

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::money::{self, MAX_AMOUNT};
use crate::schedule::{self, Frequency};
use crate::{
    application, balance, batch, checkout, company, credit, customer, escrow, ids, invoice, keys,
    ledger, limits, list, plan, retry, stripe, subscription, time, transaction,
};

// Exports of the subscription-billing rules (coupons, proration), kept in their own file; they use this module's
// helpers (`to_raw`, `out`, `str_arg`, …).
mod billing;
// Exports of the subscription lifecycle (status, schedule, trials, pause, cancel at period end, plan changes).
mod subscriptions;
// Exports of metered usage (metrics, metered plan items, usage events, their aggregation and price).
mod usage;
// Exports of hosted invoice tokens (the derived credential of an invoice's page, /i/<token>).
mod hosted;

/// Result of every export: a refusal is a thrown JS `Error`.
pub type JsResult<T> = std::result::Result<T, JsValue>;

impl From<CoreError> for JsValue {
    fn from(err: CoreError) -> JsValue {
        let js = js_sys::Error::new(&err.to_string());
        let field = err.field().map_or(JsValue::NULL, |f| JsValue::from_str(&f));
        // Reflect::set on a fresh Error object cannot fail; ignore the Result rather than unwrap.
        let _ = Reflect::set(
            &js,
            &JsValue::from_str("code"),
            &JsValue::from_str(err.code()),
        );
        let _ = Reflect::set(
            &js,
            &JsValue::from_str("status"),
            &JsValue::from(f64::from(err.status())),
        );
        let _ = Reflect::set(&js, &JsValue::from_str("field"), &field);
        js.into()
    }
}

/// Nesting deeper than this is refused (API inputs are at most three levels deep).
const MAX_DEPTH: u32 = 16;

/// A JS value as [`Raw`]. Scalars are read directly; an object or array crosses as one `JSON.stringify` string read by
/// [`crate::json`] (one boundary call instead of one per field). Values JSON cannot express become
/// [`Raw::Unsupported`] (bigints, symbols, functions at the top) and are refused by the readers; a function inside an
/// object is dropped by `JSON.stringify`, so its field reads as absent.
pub fn to_raw(value: &JsValue) -> Raw {
    if let Some(raw) = to_raw_scalar(value) {
        return raw;
    }
    match js_sys::JSON::stringify(value) {
        Ok(text) => crate::json::parse(&String::from(text), MAX_DEPTH)
            .unwrap_or(Raw::Unsupported("a value JSON cannot express")),
        // JSON.stringify throws on a bigint or a cycle somewhere inside: walk the value instead, so the error names
        // the field that holds it. Rare, so the slow way is fine.
        Err(_) => walk(value, 0),
    }
}

/// [`to_raw`] field by field, for values `JSON.stringify` refuses.
fn walk(value: &JsValue, depth: u32) -> Raw {
    use js_sys::{Array, Object};
    use wasm_bindgen::JsCast;
    if depth >= MAX_DEPTH {
        return Raw::Unsupported("a too deeply nested value");
    }
    if !value.is_object() || value.is_function() {
        return match to_raw_scalar(value) {
            Some(raw) => raw,
            None => Raw::Unsupported("an unsupported value"),
        };
    }
    if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        return Raw::Array(array.iter().map(|v| walk(&v, depth + 1)).collect());
    }
    let object: &Object = value.unchecked_ref();
    let mut map = crate::sorted::SortedMap::new();
    for entry in Object::entries(object).iter() {
        let pair: Array = entry.unchecked_into();
        if let Some(key) = pair.get(0).as_string() {
            map.insert(key, walk(&pair.get(1), depth + 1));
        }
    }
    Raw::Object(map)
}

fn to_raw_scalar(value: &JsValue) -> Option<Raw> {
    if value.is_null() || value.is_undefined() {
        return Some(Raw::Null);
    }
    if let Some(s) = value.as_string() {
        return Some(Raw::String(s));
    }
    if let Some(b) = value.as_bool() {
        return Some(Raw::Bool(b));
    }
    if let Some(n) = value.as_f64() {
        // A whole number within ±2^53 is its integer's text; any other is written by JS (`String(n)`: shortest
        // digits, an exponent beyond 1e21 or below 1e-6, `NaN`, `Infinity`) and put in fixed notation. So the
        // core never formats a float, and reads the same text JSON.stringify would have given it.
        if n.fract() == 0.0 && n.abs() <= MAX_AMOUNT as f64 {
            return Some(Raw::Number((n as i64).to_string()));
        }
        let js = String::from(
            js_sys::Number::from(n)
                .to_string_with_radix(10)
                .unwrap_or_default(),
        );
        return Some(Raw::Number(input::number_text(&js).unwrap_or(js)));
    }
    if value.is_bigint() {
        return Some(Raw::Unsupported("a bigint"));
    }
    if value.is_function() {
        return Some(Raw::Unsupported("a function"));
    }
    if value.is_symbol() {
        return Some(Raw::Unsupported("a symbol"));
    }
    None
}

/// A result as a plain JS value: serialised to JSON in the core and parsed once by `JSON.parse` (`null`, never
/// `undefined`; integers as numbers within ±(2^53−1)).
fn out<T: ToJson + ?Sized>(value: &T) -> JsResult<JsValue> {
    let text = crate::to_json::to_string(value);
    js_sys::JSON::parse(&text).map_err(|_| {
        CoreError::Internal {
            reason: "JSON.parse refused the core's own output".into(),
        }
        .into()
    })
}

fn str_arg(value: &JsValue, field: &str) -> Result<String> {
    value.as_string().ok_or_else(|| {
        CoreError::invalid(
            field,
            format!("must be a string, got {}", to_raw(value).kind()),
        )
    })
}

fn required(value: &JsValue, field: &str) -> Result<Raw> {
    let raw = to_raw(value);
    if raw.is_absent() {
        return Err(CoreError::missing(field));
    }
    Ok(raw)
}

fn int_arg(value: &JsValue, field: &str, min: i64, max: i64) -> Result<i64> {
    input::int_value(&required(value, field)?, field, min, max)
}

fn amount_arg(value: &JsValue, field: &str, min: i64) -> Result<i64> {
    input::amount_value(&required(value, field)?, field, min)
}

fn time_arg(value: &JsValue, field: &str) -> Result<time::Instant> {
    time::parse(&str_arg(value, field)?, field)
}

fn frequency_arg(value: &JsValue) -> Result<Frequency> {
    Frequency::parse(&str_arg(value, "frequency")?, "frequency")
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Canonical UTC time, `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`. */
export type CanonicalTime = string;
/** Raw API input: a form body (all strings) or a JSON body. */
export type RawInput = Record<string, unknown>;
export interface CurrencyInfo { code: string; exponent: number }
export interface DuePeriod { period: number; scheduled_at: CanonicalTime }
export interface PlanInput { plan_type: "debit" | "credit"; frequency: "daily" | "weekly" | "monthly" | "yearly"; amount: number; interval: number }
export interface SubscriptionInput {
  plan_guid: string; customer_guid: string; funding_instrument_uri: string | null; amount: number | null;
  started_at: CanonicalTime; appears_on_statement_as: string | null;
}
export interface Item { name: string; amount: number; type: string | null; quantity: number | null; volume: number | null; unit: string | null }
export interface Adjustment { amount: number; reason: string | null }
export interface InvoiceInput {
  customer_guid: string; amount: number; title: string | null; external_id: string | null;
  appears_on_statement_as: string | null; funding_instrument_uri: string | null;
  items: Item[]; adjustments: Adjustment[]; total_adjustment_amount: number; effective_amount: number;
}
export interface RefundableInvoice { status: InvoiceStatus; transaction_type: string; effective_amount: number; credited_amount?: number }
export interface PeriodInvoiceRow { status: InvoiceStatus; amount: number; coupon_code: string | null; items: { amount: number }[]; adjustments: Adjustment[]; credited_amount: number; balance_entries: number[]; unpaid_prorations?: boolean }
/** A stored transaction row, as the worker reads it from SQLite. */
export interface TransactionRow {
  guid?: string; transaction_type: TransactionKind; amount: number; submit_status: SubmitStatus;
  status: TransactionStatus | null; failure_count: number; unwanted: number | boolean;
  next_attempt_at: CanonicalTime | null; reconcile_at: CanonicalTime | null; processor_uri: string | null;
  funding_instrument_uri?: string | null;
}
export interface ProcessorAnswer { outcome: ProcessorOutcome | string; processor_uri?: string | null; error_code?: unknown; error_message?: unknown }
export interface TransactionChanges {
  submit_status: SubmitStatus; status: TransactionStatus | null; failure_count: number; next_attempt_at: CanonicalTime | null;
  processor_uri: string | null; unwanted: boolean; reconcile_at: CanonicalTime | null;
}
export interface TransactionStep {
  effect: TransactionEffect; changes: TransactionChanges | null;
  failure: { error_code: string | null; error_message: string | null } | null;
  compensation: { transaction_type: TransactionKind; amount: number; reason: TransactionReason } | null;
}
export interface RefundPlan { transaction_type: "refund"; amount: number; reference_guid: string; funding_instrument_uri: string | null }
export interface OrderInput { merchant_guid: string; description: string | null; delivery_address: string | null; currency: string }
export interface EscrowBalances { amount: number; amount_escrowed: number; amount_credited: number }
export interface CreditPlan { transaction_type: "credit"; destination: CreditDestination; amount: number; funding_instrument_uri: string | null; description: string | null }
export interface ReturnPlan { transaction_type: "refund" | "reversal"; amount: number; reference_guid: string; description: string | null }
export interface CartItem { name: string; quantity: number; unit_amount: number; amount: number }
export interface Allocation { total: number; balance_applied: number; terms_amount: number; card_amount: number; carried_to_balance: number }
export interface CreditStanding { risk_tier: number | null; credit_limit: number; frozen_until: CanonicalTime | null; paid_on_time: number; paid_late: number }
export interface CreditEventRow { kind: CreditEventKind; at: CanonicalTime; tier?: number | null; split?: number | boolean | null; credit_used?: number | null }
export interface Defaults { max_retry_attempts: number; pending_poll_seconds: number; key_overlap_seconds: number; key_overlap_max_seconds: number; processor_concurrency: number }
/** Thrown by every export on refusal. */
export interface CoreError extends Error { code: string; status: number; field: string | null }
"#;

/// A new GUID made at `now_ms` (the host's epoch milliseconds): `prefix` (two uppercase ASCII letters) + 22 base58
/// digits of the time and 10 random bytes, so later guids sort later (src/ids.rs).
/// @example guid("CU", Date.now()) // "CU1Jx2…"
#[wasm_bindgen(js_name = guid)]
pub fn js_guid(
    #[wasm_bindgen(unchecked_param_type = "string")] prefix: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] now_ms: JsValue,
) -> JsResult<String> {
    let now_ms = int_arg(&now_ms, "now_ms", 0, MAX_AMOUNT)?;
    Ok(ids::guid(&str_arg(&prefix, "prefix")?, now_ms)?)
}

/// A new API key `"<companyGuid>_<base58(32 random bytes)>"`.
#[wasm_bindgen(js_name = apiKey)]
pub fn js_api_key(
    #[wasm_bindgen(unchecked_param_type = "string")] company_guid: JsValue,
) -> JsResult<String> {
    Ok(ids::api_key(&str_arg(&company_guid, "company_guid")?)?)
}

/// The random part of a new signed company guid (`CP` + 17 base58 digits); the host appends its tag.
#[wasm_bindgen(js_name = companyGuidBody)]
pub fn js_company_guid_body() -> JsResult<String> {
    Ok(ids::company_guid_body()?)
}

/// The 8-digit tag of a signed company guid from the body's HMAC-SHA256 in hex.
#[wasm_bindgen(js_name = companyGuidTag)]
pub fn js_company_guid_tag(
    #[wasm_bindgen(unchecked_param_type = "string")] mac_hex: JsValue,
) -> JsResult<String> {
    Ok(ids::company_guid_tag(&str_arg(&mac_hex, "mac")?)?)
}

/// `[body, tag]` of a company guid with the signed shape, else `null` (made before signing, or malformed).
#[wasm_bindgen(js_name = signedCompanyGuidParts, unchecked_return_type = "[string, string] | null")]
pub fn js_signed_company_guid_parts(
    #[wasm_bindgen(unchecked_param_type = "string")] guid: JsValue,
) -> JsValue {
    let guid = guid.as_string().unwrap_or_default();
    match ids::signed_company_guid_parts(&guid) {
        Some((body, tag)) => {
            let pair = js_sys::Array::new();
            pair.push(&JsValue::from_str(body));
            pair.push(&JsValue::from_str(tag));
            pair.into()
        }
        None => JsValue::NULL,
    }
}

/// One request against a rate limit `setting` (`"<count>/<seconds>"` or `"off"`, named `name` in errors) at
/// `now_ms`, given what the limiter stored for this client (`{rate, tat}` or `null`). Returns the decision and
/// what to store next (`state` is `null` when the limit is off). The TAT crosses as a decimal string: in units of
/// 1/count ms it can pass 2^53.
#[wasm_bindgen(js_name = rateDecision, unchecked_return_type = "{ allowed: boolean; retry_after_seconds: number; state: { rate: string; tat: string } | null }")]
pub fn js_rate_decision(
    #[wasm_bindgen(unchecked_param_type = "string")] setting: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    #[wasm_bindgen(unchecked_param_type = "{ rate: string; tat: string } | null")] stored: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] now_ms: JsValue,
) -> JsResult<JsValue> {
    crate::json_struct! {
        struct State {
            rate: String,
            tat: String,
        }
    }
    crate::json_struct! {
        struct Out {
            allowed: bool,
            retry_after_seconds: i64,
            state: Option<State>,
        }
    }
    let name = str_arg(&name, "name")?;
    let now_ms = int_arg(&now_ms, "now_ms", 0, limits::MAX_NOW_MS)?;
    let Some(rate) = limits::parse(&str_arg(&setting, &name)?, &name)? else {
        return out(&Out {
            allowed: true,
            retry_after_seconds: 0,
            state: None,
        });
    };
    let key = format!("{}/{}", rate.count, rate.window_seconds);
    let stored = to_raw(&stored);
    let tat = match (
        input::opt_string(&stored, "rate", 32)?,
        input::opt_string(&stored, "tat", 32)?,
    ) {
        (Some(r), Some(t)) if r == key => t.parse::<i64>().ok(),
        _ => None,
    };
    let d = limits::decide(rate, tat, now_ms)?;
    out(&Out {
        allowed: d.allowed,
        retry_after_seconds: d.retry_after_seconds,
        state: Some(State {
            rate: key,
            tat: d.tat.to_string(),
        }),
    })
}

/// The company guid an API key names; malformed → throws `invalid_api_key` (401).
#[wasm_bindgen(js_name = companyOfKey)]
pub fn js_company_of_key(
    #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
) -> JsResult<String> {
    let key = key.as_string().ok_or_else(|| CoreError::InvalidApiKey {
        reason: "key must be a string".into(),
    })?;
    Ok(ids::company_of_key(&key)?)
}

/// `{code, exponent}` of an ISO 4217 currency (any case); unknown → `unknown_currency`.
#[wasm_bindgen(js_name = currency, unchecked_return_type = "CurrencyInfo")]
pub fn js_currency(
    #[wasm_bindgen(unchecked_param_type = "string")] code: JsValue,
) -> JsResult<JsValue> {
    out(&money::currency(&str_arg(&code, "currency")?)?)
}

/// Splits `total` by `weights` (largest remainder, ties to the lower index); the parts sum to `total`.
/// @example allocate(100, [1, 1, 1]) // [34, 33, 33]
#[wasm_bindgen(js_name = allocate, unchecked_return_type = "number[]")]
pub fn js_allocate(
    #[wasm_bindgen(unchecked_param_type = "number")] total: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number[]")] weights: JsValue,
) -> JsResult<JsValue> {
    let total = amount_arg(&total, "total", -MAX_AMOUNT)?;
    let Raw::Array(items) = to_raw(&weights) else {
        return Err(
            CoreError::invalid("weights", "must be an array of non-negative integers").into(),
        );
    };
    let weights = items
        .iter()
        .enumerate()
        .map(|(i, w)| {
            input::int_value(w, &format!("weights[{i}]"), 0, MAX_AMOUNT).map(|w| w as u64)
        })
        .collect::<Result<Vec<u64>>>()?;
    out(&money::allocate(total, &weights)?)
}

/// Canonical time of epoch milliseconds.
#[wasm_bindgen(js_name = formatTime)]
pub fn js_format_time(
    #[wasm_bindgen(unchecked_param_type = "number")] ms: JsValue,
) -> JsResult<String> {
    Ok(time::format_millis(int_arg(&ms, "ms", 0, MAX_AMOUNT)?)?)
}

/// Canonical time of an ISO 8601 string; bad → `invalid_time` naming `field`.
#[wasm_bindgen(js_name = parseTime)]
pub fn js_parse_time(
    #[wasm_bindgen(unchecked_param_type = "string")] s: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] field: JsValue,
) -> JsResult<String> {
    let field = field.as_string().unwrap_or_else(|| "time".to_string());
    let text = str_arg(&s, &field).map_err(|_| CoreError::InvalidTime {
        field: Some(field.clone()),
        value: to_raw(&s).kind().to_string(),
    })?;
    Ok(time::canonical(&text, &field)?)
}

/// Epoch milliseconds of a time string.
#[wasm_bindgen(js_name = timeMillis)]
pub fn js_time_millis(
    #[wasm_bindgen(unchecked_param_type = "string")] s: JsValue,
) -> JsResult<f64> {
    Ok(time::instant_millis(time_arg(&s, "time")?) as f64)
}

/// Canonical start of period `n` of a schedule.
#[wasm_bindgen(js_name = periodAt)]
pub fn js_period_at(
    #[wasm_bindgen(unchecked_param_type = "string")] started_at: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] frequency: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] interval: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] n: JsValue,
) -> JsResult<String> {
    let started_at = time_arg(&started_at, "started_at")?;
    let frequency = frequency_arg(&frequency)?;
    let interval = int_arg(&interval, "interval", 1, MAX_AMOUNT)?;
    let n = int_arg(&n, "n", 0, MAX_AMOUNT)?;
    Ok(time::format(schedule::period_at(
        started_at, frequency, interval, n,
    )?))
}

/// Validates `{name?, processor_key?, test_mode?}` → `{name, processor_key, test_mode, max_retry_attempts}` (test_mode
/// defaults to true; max_retry_attempts is the default a new company starts with).
#[wasm_bindgen(js_name = validateCompany, unchecked_return_type = "{ name: string | null; processor_key: string | null; test_mode: boolean; max_retry_attempts: number; processor_concurrency: number }")]
pub fn js_validate_company(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&company::validate_company(&to_raw(&input))?)
}

/// Validates `{name?, max_retry_attempts?, processor_concurrency?}` → `{name: ≤ 255 characters | null,
/// max_retry_attempts: 1..=50 | null, processor_concurrency: 1..=256 | null}`.
#[wasm_bindgen(js_name = validateSettings, unchecked_return_type = "{ name: string | null; max_retry_attempts: number | null; processor_concurrency: number | null }")]
pub fn js_validate_settings(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&company::validate_settings(&to_raw(&input))?)
}

/// Validates `{advance_to, max_steps?}` against the company's `current` time; backwards → `clock_backwards`.
#[wasm_bindgen(js_name = validateClock, unchecked_return_type = "{ advance_to: CanonicalTime; max_steps: number; budget_ms: number | null }")]
pub fn js_validate_clock(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] current: JsValue,
) -> JsResult<JsValue> {
    out(&company::validate_clock(
        &to_raw(&input),
        &str_arg(&current, "current")?,
    )?)
}

/// Validates `{offset?, limit?}` → `{offset ≥ 0 (0), limit 1..=100 (20)}`.
#[wasm_bindgen(js_name = validateListParams, unchecked_return_type = "{ offset: number; limit: number }")]
pub fn js_validate_list_params(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&list::validate_list_params(&to_raw(&input))?)
}

/// Validates a plan → `{plan_type, frequency, amount, interval}`.
#[wasm_bindgen(js_name = validatePlan, unchecked_return_type = "PlanInput")]
pub fn js_validate_plan(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&plan::validate_plan(&to_raw(&input))?)
}

/// Validates a customer → `{processor_uri}`.
#[wasm_bindgen(js_name = validateCustomer, unchecked_return_type = "{ processor_uri: string | null }")]
pub fn js_validate_customer(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&customer::validate_customer(&to_raw(&input))?)
}

/// Validates a subscription at the company's `now` → `{plan_guid, customer_guid, funding_instrument_uri, amount,
/// started_at, appears_on_statement_as}`.
#[wasm_bindgen(js_name = validateSubscription, unchecked_return_type = "SubscriptionInput")]
pub fn js_validate_subscription(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    out(&subscription::validate_subscription(
        &to_raw(&input),
        &str_arg(&now, "now")?,
    )?)
}

/// The amount a subscription bills: its override when not null, else the plan's amount.
#[wasm_bindgen(js_name = subscriptionAmount)]
pub fn js_subscription_amount(
    #[wasm_bindgen(unchecked_param_type = "number | null | undefined")] override_amount: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] plan_amount: JsValue,
) -> JsResult<f64> {
    let raw = to_raw(&override_amount);
    let override_amount = if raw.is_absent() {
        None
    } else {
        Some(input::amount_value(&raw, "amount", 0)?)
    };
    let plan_amount = amount_arg(&plan_amount, "plan_amount", 0)?;
    Ok(subscription::subscription_amount(override_amount, plan_amount) as f64)
}

/// Validates an invoice → `{customer_guid, amount, title, external_id, appears_on_statement_as,
/// funding_instrument_uri, items, adjustments, total_adjustment_amount, effective_amount}`.
#[wasm_bindgen(js_name = validateInvoice, unchecked_return_type = "InvoiceInput")]
pub fn js_validate_invoice(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&invoice::validate_invoice(&to_raw(&input))?)
}

/// `{total_adjustment_amount, effective_amount}` of an amount and `[{amount, reason}]`.
#[wasm_bindgen(js_name = invoiceTotals, unchecked_return_type = "{ total_adjustment_amount: number; effective_amount: number }")]
pub fn js_invoice_totals(
    #[wasm_bindgen(unchecked_param_type = "number")] amount: JsValue,
    #[wasm_bindgen(
        unchecked_param_type = "Array<{ amount: number | string; reason?: string | null }> | null | undefined"
    )]
    adjustments: JsValue,
) -> JsResult<JsValue> {
    let amount = amount_arg(&amount, "amount", 0)?;
    let raw = to_raw(&adjustments);
    let adjustments = if raw.is_absent() {
        Vec::new()
    } else {
        invoice::adjustments_from_array(&raw)?
    };
    out(&invoice::invoice_totals(amount, &adjustments)?)
}

/// How a new invoice opens: `{status, charge}` from its effective amount and whether it has an instrument.
#[wasm_bindgen(js_name = invoiceOpening, unchecked_return_type = "{ status: InvoiceStatus; charge: boolean }")]
pub fn js_invoice_opening(
    #[wasm_bindgen(unchecked_param_type = "number")] effective_amount: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | null | undefined")]
    funding_instrument_uri: JsValue,
) -> JsResult<JsValue> {
    let effective_amount = amount_arg(&effective_amount, "effective_amount", 0)?;
    let has_instrument = !to_raw(&funding_instrument_uri).is_absent();
    out(&invoice::opening(effective_amount, has_instrument)?)
}

/// Validates `{funding_instrument_uri}` (required, ≤ 255).
#[wasm_bindgen(js_name = validateFundingInstrument, unchecked_return_type = "{ funding_instrument_uri: string }")]
pub fn js_validate_funding_instrument(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&invoice::validate_funding_instrument(&to_raw(&input))?)
}

/// The invoice status after `event`; not allowed → `invalid_state` (409).
#[wasm_bindgen(js_name = invoiceTransition, unchecked_return_type = "InvoiceStatus")]
pub fn js_invoice_transition(
    #[wasm_bindgen(unchecked_param_type = "InvoiceStatus | string")] status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "InvoiceEvent | string")] event: JsValue,
) -> JsResult<String> {
    let status = str_arg(&status, "status")?;
    let event = str_arg(&event, "event")?;
    Ok(invoice::transition_names(&status, &event)?.to_string())
}

// The TypeScript union type of every closed set of names, generated from the Rust enums (`names!`).
#[wasm_bindgen(typescript_custom_section)]
const TS_TRANSACTION_KIND: &'static str = transaction::Kind::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_SUBMIT_STATUS: &'static str = transaction::SubmitStatus::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_TRANSACTION_STATUS: &'static str = transaction::Status::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_PROCESSOR_OUTCOME: &'static str = transaction::Outcome::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_TRANSACTION_EFFECT: &'static str = transaction::Effect::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_TRANSACTION_REASON: &'static str = transaction::Reason::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_OWNER_TYPE: &'static str = transaction::OwnerType::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_CREDIT_DESTINATION: &'static str = escrow::Destination::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_BALANCE_TYPE: &'static str = balance::EntryType::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_CHECKOUT_STATUS: &'static str = checkout::Status::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_TERMS_STATUS: &'static str = checkout::TermsStatus::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_CREDIT_STATUS: &'static str = credit::ProfileStatus::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_CREDIT_EVENT: &'static str = credit::EventKind::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_APPLICATION_STATUS: &'static str = application::Status::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_REVENUE_BAND: &'static str = credit::RevenueBand::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_WEBHOOK_EVENT: &'static str = crate::webhook::EventType::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_WEBHOOK_DELIVERY: &'static str = crate::webhook::DeliveryStatus::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_EMPLOYEES_BAND: &'static str = credit::EmployeesBand::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_INDUSTRY_RISK: &'static str = credit::IndustryRisk::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_MOVEMENT_STATE: &'static str = ledger::State::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_INVOICE_STATUS: &'static str = invoice::Status::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_INVOICE_EVENT: &'static str = invoice::Event::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_KEY_KIND: &'static str = keys::Kind::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_KEY_STATUS: &'static str = keys::KeyStatus::TS;
#[wasm_bindgen(typescript_custom_section)]
const TS_PROCESSOR_NAME: &'static str = stripe::Processor::TS;

fn names_map(all: &[&'static str]) -> SortedMap<&'static str, &'static str> {
    all.iter().map(|n| (*n, *n)).collect()
}

/// Every closed set of names (statuses, kinds, effects), as `{Set: {name: name}}`: the worker spells none itself.
#[wasm_bindgen(js_name = names, unchecked_return_type = "Record<string, Record<string, string>>")]
pub fn js_names() -> JsResult<JsValue> {
    macro_rules! set {
        ($($name:literal => $ty:ty),+ $(,)?) => {{
            let mut m = SortedMap::new();
            $( m.insert($name, names_map(&<$ty>::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>())); )+
            m
        }};
    }
    out(&set! {
        "TransactionKind" => transaction::Kind,
        "SubmitStatus" => transaction::SubmitStatus,
        "TransactionStatus" => transaction::Status,
        "ProcessorOutcome" => transaction::Outcome,
        "TransactionEffect" => transaction::Effect,
        "TransactionReason" => transaction::Reason,
        "OwnerType" => transaction::OwnerType,
        "CreditDestination" => escrow::Destination,
        "BalanceTransactionType" => balance::EntryType,
        "CheckoutStatus" => checkout::Status,
        "TermsInvoiceStatus" => checkout::TermsStatus,
        "CreditStatus" => credit::ProfileStatus,
        "CreditEventKind" => credit::EventKind,
        "ApplicationStatus" => application::Status,
        "WebhookEventType" => crate::webhook::EventType,
        "WebhookDeliveryStatus" => crate::webhook::DeliveryStatus,
        "MovementState" => ledger::State,
        "InvoiceStatus" => invoice::Status,
        "SubscriptionStatus" => subscription::Status,
        "ProrationBehavior" => crate::plan_change::ProrationBehavior,
        "InvoiceEvent" => invoice::Event,
        "KeyKind" => keys::Kind,
        "KeyStatus" => keys::KeyStatus,
        "ProcessorName" => stripe::Processor,
        "UsageAggregation" => crate::usage::Aggregation,
    })
}

/// The defaults the core decides, each written once here.
#[wasm_bindgen(js_name = defaults, unchecked_return_type = "Defaults")]
pub fn js_defaults() -> JsResult<JsValue> {
    crate::json_struct! {
        struct Defaults {
            max_retry_attempts: i64,
            pending_poll_seconds: i64,
            key_overlap_seconds: i64,
            key_overlap_max_seconds: i64,
            processor_concurrency: i64,
        }
    }
    out(&Defaults {
        processor_concurrency: company::DEFAULT_PROCESSOR_CONCURRENCY,
        max_retry_attempts: retry::DEFAULT_MAX_ATTEMPTS,
        pending_poll_seconds: transaction::PENDING_POLL_SECONDS,
        key_overlap_seconds: keys::DEFAULT_OVERLAP_SECONDS,
        key_overlap_max_seconds: keys::MAX_OVERLAP_SECONDS,
    })
}

fn tx_arg(value: &JsValue) -> Result<transaction::Tx> {
    transaction::Tx::from_raw(&to_raw(value))
}

fn max_attempts_arg(value: &JsValue) -> Result<i64> {
    let raw = to_raw(value);
    if raw.is_absent() {
        return Ok(retry::DEFAULT_MAX_ATTEMPTS);
    }
    input::int_value(&raw, "max_attempts", 1, MAX_AMOUNT)
}

/// The lifecycle columns of a new transaction staged at `now` (nothing attempted, due at once).
#[wasm_bindgen(js_name = stagedTransaction, unchecked_return_type = "TransactionChanges")]
pub fn js_staged_transaction(
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    out(&transaction::staged(time_arg(&now, "now")?))
}

/// One processor answer applied to a stored transaction at `now` (see `src/transaction.rs`): the step's effect, the
/// columns to write (null: ignored), the failure to record and the compensation to stage.
#[wasm_bindgen(js_name = applyAnswer, unchecked_return_type = "TransactionStep")]
pub fn js_apply_answer(
    #[wasm_bindgen(unchecked_param_type = "TransactionRow")] tx: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ProcessorAnswer")] answer: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | null | undefined")] max_attempts: JsValue,
) -> JsResult<JsValue> {
    step(&tx, &answer, &now, &max_attempts, transaction::apply)
}

/// Reads the four arguments of an answer-applying export and runs `rule` on them.
fn step(
    tx: &JsValue,
    answer: &JsValue,
    now: &JsValue,
    max_attempts: &JsValue,
    rule: fn(
        &transaction::Tx,
        &transaction::Answer,
        time::Instant,
        i64,
    ) -> Result<transaction::Step>,
) -> JsResult<JsValue> {
    let tx = tx_arg(tx)?;
    let answer = transaction::Answer::from_raw(&to_raw(answer))?;
    out(&rule(
        &tx,
        &answer,
        time_arg(now, "now")?,
        max_attempts_arg(max_attempts)?,
    )?)
}

/// The answer to a reconciliation lookup of a released transaction.
#[wasm_bindgen(js_name = reconcileAnswer, unchecked_return_type = "TransactionStep")]
pub fn js_reconcile_answer(
    #[wasm_bindgen(unchecked_param_type = "TransactionRow")] tx: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ProcessorAnswer")] answer: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | null | undefined")] max_attempts: JsValue,
) -> JsResult<JsValue> {
    step(&tx, &answer, &now, &max_attempts, transaction::reconciled)
}

/// Whether letting go of a transaction must first ask the processor if an earlier attempt charged.
#[wasm_bindgen(js_name = needsLookup)]
pub fn js_needs_lookup(
    #[wasm_bindgen(unchecked_param_type = "TransactionRow")] tx: JsValue,
) -> JsResult<bool> {
    Ok(transaction::needs_lookup(&tx_arg(&tx)?))
}

/// Its owner lets go of a transaction: the columns to write, or null when it is not open. `certain`: the processor
/// confirmed nothing was charged.
#[wasm_bindgen(js_name = releaseTransaction, unchecked_return_type = "TransactionChanges | null")]
pub fn js_release_transaction(
    #[wasm_bindgen(unchecked_param_type = "TransactionRow")] tx: JsValue,
    #[wasm_bindgen(unchecked_param_type = "boolean")] certain: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    let tx = tx_arg(&tx)?;
    let certain = input::bool_value(&to_raw(&certain), "certain")?;
    out(&transaction::release(&tx, certain, time_arg(&now, "now")?))
}

/// The amounts of an array field `key` of `raw` (absent or null: none), each within ±(2^53−1).
fn amounts_of(raw: &Raw, key: &str) -> Result<Vec<i64>> {
    match raw.get(key) {
        None | Some(Raw::Null) => Ok(Vec::new()),
        Some(Raw::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| input::amount_value(v, &format!("{key}[{i}]"), -MAX_AMOUNT))
            .collect(),
        Some(other) => Err(CoreError::invalid(
            key,
            format!("must be an array of amounts, got {}", other.kind()),
        )),
    }
}

fn rows_arg<T>(value: &JsValue, field: &str, read: impl Fn(&Raw) -> Result<T>) -> Result<Vec<T>> {
    let Raw::Array(items) = to_raw(value) else {
        return Err(CoreError::invalid(field, "must be an array"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            read(item).map_err(|e| CoreError::invalid(format!("{field}[{i}]"), e.to_string()))
        })
        .collect()
}

/// Plans a refund `{amount}` of an invoice `{status, transaction_type, effective_amount}` from its transaction rows
/// (stored order): the amount within the limit and the debit it returns.
#[wasm_bindgen(js_name = planRefund, unchecked_return_type = "RefundPlan")]
pub fn js_plan_refund(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RefundableInvoice")] invoice: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransactionRow[]")] transactions: JsValue,
) -> JsResult<JsValue> {
    let invoice = invoice::RefundableInvoice::from_raw(&to_raw(&invoice))?;
    let txs = rows_arg(&transactions, "transactions", invoice::OwnedTx::from_raw)?;
    out(&invoice::plan_refund(&to_raw(&input), &invoice, &txs)?)
}

/// The invoice status after an effect of one of its payments (a canceled or settled invoice never moves).
/// 409 `processor_changed` when money moved by the processor of `referenceUri` would be returned through `current`.
#[wasm_bindgen(js_name = checkSameProcessor)]
pub fn js_check_same_processor(
    #[wasm_bindgen(unchecked_param_type = "string | null")] reference_uri: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ProcessorName")] current: JsValue,
) -> JsResult<()> {
    let current = stripe::Processor::parse(&str_arg(&current, "current")?, "current")?;
    Ok(stripe::check_same_processor(
        reference_uri.as_string().as_deref(),
        current,
    )?)
}

/// Whether a transaction of `txKind` is a payment of an invoice of `invoiceKind` (refunds and reversals never are).
#[wasm_bindgen(js_name = isOwnPayment)]
pub fn js_is_own_payment(
    #[wasm_bindgen(unchecked_param_type = "string")] invoice_kind: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransactionKind")] tx_kind: JsValue,
) -> JsResult<bool> {
    let kind = transaction::Kind::parse(&str_arg(&tx_kind, "tx_kind")?, "tx_kind")?;
    Ok(invoice::is_own_payment(
        &str_arg(&invoice_kind, "invoice_kind")?,
        kind,
    ))
}

#[wasm_bindgen(js_name = invoiceAfterPayment, unchecked_return_type = "InvoiceStatus")]
pub fn js_invoice_after_payment(
    #[wasm_bindgen(unchecked_param_type = "InvoiceStatus")] status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransactionEffect")] effect: JsValue,
) -> JsResult<String> {
    let status = invoice::Status::parse(&str_arg(&status, "status")?, "status")?;
    let effect = transaction::Effect::parse(&str_arg(&effect, "effect")?, "effect")?;
    Ok(invoice::on_payment(status, effect).as_str().to_string())
}

/// Validates a key rotation `{expires_in?}` at `now` → `{expires_in, expires_at}` for the previous secret keys.
#[wasm_bindgen(js_name = validateRotation, unchecked_return_type = "{ expires_in: number; expires_at: CanonicalTime }")]
pub fn js_validate_rotation(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    out(&keys::validate_rotation(
        &to_raw(&input),
        time_arg(&now, "now")?,
    )?)
}

/// The expiry of a token issued at `now` for `ttl_seconds` (1..=`max_seconds`).
#[wasm_bindgen(js_name = tokenExpiry)]
pub fn js_token_expiry(
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] ttl_seconds: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] max_seconds: JsValue,
) -> JsResult<String> {
    let now = time_arg(&now, "now")?;
    let ttl = int_arg(&ttl_seconds, "expires_in", i64::MIN / 2, MAX_AMOUNT)?;
    let max = int_arg(&max_seconds, "max_seconds", 1, MAX_AMOUNT)?;
    Ok(keys::token_expiry(now, ttl, max)?)
}

/// A stored credential's status at `now` from its `{expires_at, revoked_at}`.
/// 409 `key_expiring` unless a credential of `kind` in `status` may manage what outlives it (keys, sessions, the
/// processor, webhook endpoints).
#[wasm_bindgen(js_name = checkManagesKeys)]
pub fn js_check_manages_keys(
    #[wasm_bindgen(unchecked_param_type = "KeyKind")] kind: JsValue,
    #[wasm_bindgen(unchecked_param_type = "KeyStatus")] status: JsValue,
) -> JsResult<()> {
    let kind = keys::Kind::parse(&str_arg(&kind, "kind")?, "kind")?;
    let status = keys::KeyStatus::parse(&str_arg(&status, "status")?, "status")?;
    Ok(keys::check_manages_keys(kind, status)?)
}

#[wasm_bindgen(js_name = keyStatus, unchecked_return_type = "KeyStatus")]
pub fn js_key_status(
    #[wasm_bindgen(
        unchecked_param_type = "{ expires_at: CanonicalTime | null; revoked_at: CanonicalTime | null }"
    )]
    row: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<String> {
    let raw = to_raw(&row);
    let expires_at = time::opt_field(&raw, "expires_at")?;
    let revoked = input::present(&raw, "revoked_at").is_some();
    Ok(keys::status(expires_at, revoked, time_arg(&now, "now")?)
        .as_str()
        .to_string())
}

/// Whether a credential `{kind, scopes}` may act on `required` (null: only a secret key may).
#[wasm_bindgen(js_name = keyAllows)]
pub fn js_key_allows(
    #[wasm_bindgen(unchecked_param_type = "KeyKind")] kind: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string[]")] scopes: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | null")] required: JsValue,
) -> JsResult<bool> {
    let kind = keys::Kind::parse(&str_arg(&kind, "kind")?, "kind")?;
    let scopes = rows_arg(&scopes, "scopes", |r| input::string_value(r, "scope", 200))?;
    let required = to_raw(&required);
    let required = if required.is_absent() {
        None
    } else {
        Some(input::string_value(&required, "required", 200)?)
    };
    Ok(keys::allows(kind, &scopes, required.as_deref()))
}

/// What is shown of a credential after it is issued: `…` and its last four characters.
#[wasm_bindgen(js_name = keyHint)]
pub fn js_key_hint(
    #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
) -> JsResult<String> {
    Ok(keys::hint(&str_arg(&key, "key")?))
}

fn opt_str_arg(value: &JsValue, field: &str) -> Result<Option<String>> {
    let raw = to_raw(value);
    if raw.is_absent() {
        return Ok(None);
    }
    input::string_value(&raw, field, 1024).map(Some)
}

fn balances_arg(value: &JsValue) -> Result<escrow::Balances> {
    let raw = to_raw(value);
    let f = |k: &str| {
        input::req_amount(&raw, k, -MAX_AMOUNT).map_err(|e| e.in_field(&format!("stored.{k}")))
    };
    Ok(escrow::Balances {
        amount: f("amount")?,
        amount_escrowed: f("amount_escrowed")?,
        amount_credited: f("amount_credited")?,
    })
}

/// Validates an order; `merchant_in_path` (or null) is the merchant named by the path.
#[wasm_bindgen(js_name = validateOrder, unchecked_return_type = "OrderInput")]
pub fn js_validate_order(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | null")] merchant_in_path: JsValue,
) -> JsResult<JsValue> {
    let merchant = opt_str_arg(&merchant_in_path, "merchant_guid")?;
    out(&escrow::validate_order(
        &to_raw(&input),
        merchant.as_deref(),
    )?)
}

/// Validates an order update → `{description, delivery_address}` (null: unchanged).
#[wasm_bindgen(js_name = validateOrderUpdate, unchecked_return_type = "{ description: string | null; delivery_address: string | null }")]
pub fn js_validate_order_update(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&escrow::validate_order_update(&to_raw(&input))?)
}

/// Plans a debit into an order of `merchant_guid` (the buyer is anyone but the merchant) whose `transactions` are
/// listed: all its debits that may still come in must fit 2^53−1 with this one.
#[wasm_bindgen(js_name = planOrderDebit, unchecked_return_type = "{ transaction_type: \"debit\"; customer_guid: string; funding_instrument_uri: string; amount: number; description: string | null; appears_on_statement_as: string | null }")]
pub fn js_plan_order_debit(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] merchant_guid: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | null")] order_description: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransactionRow[]")] transactions: JsValue,
) -> JsResult<JsValue> {
    let merchant = str_arg(&merchant_guid, "merchant_guid")?;
    let description = opt_str_arg(&order_description, "description")?;
    let txs = rows_arg(&transactions, "transactions", invoice::OwnedTx::from_raw)?;
    let movements: Vec<ledger::Movement> =
        txs.iter().map(|t| ledger::Movement::from(&t.tx)).collect();
    let debits = ledger::Ledger::fold(&movements)?.debit;
    let coming_in = money::sum([debits.planned, debits.in_flight, debits.settled])?;
    out(&escrow::plan_debit(
        &to_raw(&input),
        &merchant,
        description.as_deref(),
        coming_in,
    )?)
}

/// Plans a credit out of an order holding `escrowed`; beyond it → `insufficient_funds` (409).
#[wasm_bindgen(js_name = planOrderCredit, unchecked_return_type = "CreditPlan")]
pub fn js_plan_order_credit(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] escrowed: JsValue,
) -> JsResult<JsValue> {
    let escrowed = amount_arg(&escrowed, "escrowed", -MAX_AMOUNT)?;
    out(&escrow::plan_credit(&to_raw(&input), escrowed)?)
}

/// Plans a payout with a fee: the marketplace's credit and the merchant's, summing exactly to the payout.
#[wasm_bindgen(js_name = planOrderPayout, unchecked_return_type = "CreditPlan[]")]
pub fn js_plan_order_payout(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] escrowed: JsValue,
) -> JsResult<JsValue> {
    let escrowed = amount_arg(&escrowed, "escrowed", -MAX_AMOUNT)?;
    out(&escrow::plan_payout(&to_raw(&input), escrowed)?)
}

/// Plans a refund of an order debit (row) among the order's transaction rows.
#[wasm_bindgen(js_name = planOrderRefund, unchecked_return_type = "ReturnPlan")]
pub fn js_plan_order_refund(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransactionRow")] debit: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransactionRow[]")] transactions: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] escrowed: JsValue,
) -> JsResult<JsValue> {
    let debit = escrow::Related::from_raw(&to_raw(&debit))?;
    let all = rows_arg(&transactions, "transactions", escrow::Related::from_raw)?;
    let escrowed = amount_arg(&escrowed, "escrowed", -MAX_AMOUNT)?;
    out(&escrow::plan_refund(
        &to_raw(&input),
        &debit,
        &all,
        escrowed,
    )?)
}

/// Plans a reversal of an order credit (row) among the order's transaction rows.
#[wasm_bindgen(js_name = planOrderReversal, unchecked_return_type = "ReturnPlan")]
pub fn js_plan_order_reversal(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransactionRow")] credit: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransactionRow[]")] transactions: JsValue,
) -> JsResult<JsValue> {
    let credit = escrow::Related::from_raw(&to_raw(&credit))?;
    let all = rows_arg(&transactions, "transactions", escrow::Related::from_raw)?;
    out(&escrow::plan_reversal(&to_raw(&input), &credit, &all)?)
}

/// An order's balances recomputed from its transaction rows.
#[wasm_bindgen(js_name = escrowBalances, unchecked_return_type = "EscrowBalances")]
pub fn js_escrow_balances(
    #[wasm_bindgen(unchecked_param_type = "TransactionRow[]")] transactions: JsValue,
) -> JsResult<JsValue> {
    let txs = rows_arg(&transactions, "transactions", transaction::Tx::from_raw)?;
    out(&escrow::balances(
        &txs.iter().map(ledger::Movement::from).collect::<Vec<_>>(),
    )?)
}

/// The stored balances after one transaction changed from `before` (null: new) to `after`; a result that would
/// break the escrow rule throws (`internal_error`) so it is never written.
#[wasm_bindgen(js_name = escrowAfterChange, unchecked_return_type = "EscrowBalances")]
pub fn js_escrow_after_change(
    #[wasm_bindgen(unchecked_param_type = "EscrowBalances")] stored: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransactionRow | null")] before: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransactionRow")] after: JsValue,
) -> JsResult<JsValue> {
    let stored = balances_arg(&stored)?;
    let before = if to_raw(&before).is_absent() {
        None
    } else {
        Some(ledger::Movement::from(&tx_arg(&before)?))
    };
    let after = ledger::Movement::from(&tx_arg(&after)?);
    let d = escrow::delta(before.as_ref(), &after)?;
    out(&escrow::add(&stored, &d)?)
}

fn map_arg(value: &JsValue, field: &str) -> Result<SortedMap<String, String>> {
    match to_raw(value) {
        Raw::Null => Ok(SortedMap::new()),
        Raw::Object(m) => m
            .into_iter()
            .map(|(k, v)| match v {
                Raw::String(s) => Ok((k, s)),
                other => Err(CoreError::invalid(
                    format!("{field}.{k}"),
                    format!("must be a string, got {}", other.kind()),
                )),
            })
            .collect(),
        other => Err(CoreError::invalid(
            field,
            format!("must be an object, got {}", other.kind()),
        )),
    }
}

fn allocation_arg(value: &JsValue) -> Result<checkout::Allocation> {
    let a = to_raw(value);
    let at_least = |k: &str, min: i64| {
        input::req_amount(&a, k, min).map_err(|e| e.in_field(&format!("allocation.{k}")))
    };
    let f = |k: &str| at_least(k, 0);
    Ok(checkout::Allocation {
        total: f("total")?,
        // Negative when the checkout collects what the customer owed.
        balance_applied: at_least("balance_applied", -MAX_AMOUNT)?,
        terms_amount: f("terms_amount")?,
        card_amount: f("card_amount")?,
        carried_to_balance: f("carried_to_balance")?,
    })
}

/// `a + b` in minor units, checked: never beyond ±(2^53−1) (running totals: credit used, balances).
#[wasm_bindgen(js_name = addAmounts)]
pub fn js_add_amounts(
    #[wasm_bindgen(unchecked_param_type = "number")] a: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] b: JsValue,
) -> JsResult<f64> {
    let a = amount_arg(&a, "a", -MAX_AMOUNT)?;
    let b = amount_arg(&b, "b", -MAX_AMOUNT)?;
    Ok(money::add(a, b)? as f64)
}

/// The lifecycle columns of a payment received outside the processor: done and succeeded.
#[wasm_bindgen(js_name = recordedTransaction, unchecked_return_type = "TransactionChanges")]
pub fn js_recorded_transaction() -> JsResult<JsValue> {
    out(&transaction::recorded())
}

/// What a failed checkout gives back: `{release_credit, balance_credit}` of its confirmed allocation, whose terms
/// invoice has `terms_paid` paid (0 without one).
#[wasm_bindgen(js_name = checkoutUndo, unchecked_return_type = "{ release_credit: number; balance_credit: number }")]
pub fn js_checkout_undo(
    #[wasm_bindgen(unchecked_param_type = "Allocation")] allocation: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] terms_paid: JsValue,
) -> JsResult<JsValue> {
    out(&checkout::undo(
        &allocation_arg(&allocation)?,
        amount_arg(&terms_paid, "terms_paid", 0)?,
    )?)
}

/// A new random UUID (version 4), for resources whose published shape uses them.
#[wasm_bindgen(js_name = uuid)]
pub fn js_uuid() -> JsResult<String> {
    Ok(ids::uuid()?)
}

/// Whole seconds since the Unix epoch of a time (the published shape of balance transactions).
#[wasm_bindgen(js_name = epochSeconds)]
pub fn js_epoch_seconds(
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] t: JsValue,
) -> JsResult<f64> {
    Ok(time::instant_millis(time_arg(&t, "time")?).div_euclid(1000) as f64)
}

/// Metadata after merging a request's `metadata` (object or `metadata[key]` fields) into the stored object.
#[wasm_bindgen(js_name = mergeMetadata, unchecked_return_type = "Record<string, string>")]
pub fn js_merge_metadata(
    #[wasm_bindgen(unchecked_param_type = "Record<string, string> | null")] stored: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    let stored = map_arg(&stored, "stored")?;
    out(&crate::metadata::merge(&stored, &to_raw(&input))?)
}

/// Whether a request carries metadata (`metadata` object or `metadata[key]` fields); malformed → 400.
#[wasm_bindgen(js_name = hasMetadata)]
pub fn js_has_metadata(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<bool> {
    Ok(crate::metadata::changes(&to_raw(&input))?.is_some())
}

/// The `metadata[key]=value` filters of a list query, as `[key, value]` pairs.
#[wasm_bindgen(js_name = metadataFilters, unchecked_return_type = "[string, string][]")]
pub fn js_metadata_filters(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] query: JsValue,
) -> JsResult<JsValue> {
    out(&crate::metadata::filters(&to_raw(&query))?)
}

/// Validates `POST /v1/balance_transactions` in its published shape.
#[wasm_bindgen(js_name = validateBalanceTransaction, unchecked_return_type = "{ amount: number; currency: string; customer: string; transaction_type: BalanceTransactionType }")]
pub fn js_validate_balance_transaction(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&balance::validate_entry(&to_raw(&input))?)
}

/// A balance's amount after an entry (checked).
#[wasm_bindgen(js_name = balanceEnding)]
pub fn js_balance_ending(
    #[wasm_bindgen(unchecked_param_type = "number")] current: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] amount: JsValue,
) -> JsResult<f64> {
    let current = amount_arg(&current, "current", -MAX_AMOUNT)?;
    let amount = amount_arg(&amount, "amount", -MAX_AMOUNT)?;
    Ok(balance::ending(current, amount)? as f64)
}

/// The `unapplied_from_invoice` entry (≤ 0; 0: none) a canceled invoice writes, from the amounts of its
/// `applied_to_invoice` and `unapplied_from_invoice` entries: the customer credit it used comes back, once.
#[wasm_bindgen(js_name = balanceUnappliedOnCancel)]
pub fn js_balance_unapplied_on_cancel(
    #[wasm_bindgen(unchecked_param_type = "number[]")] entries: JsValue,
) -> JsResult<f64> {
    let raw = Raw::object([("entries", to_raw(&entries))]);
    Ok(balance::unapplied_on_cancel(&amounts_of(&raw, "entries")?)? as f64)
}

/// Validates the scorecard facts.
#[wasm_bindgen(js_name = validateFacts, unchecked_return_type = "{ years_in_business: number; annual_revenue_band: RevenueBand; employees_band: EmployeesBand; industry_risk: IndustryRisk }")]
pub fn js_validate_facts(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&credit::validate_facts(&to_raw(&input))?)
}

/// The tier an assessment in `currency` gives from facts and the history so far `{paid_on_time, paid_late}`, for a
/// buyer whose stored profile is `current` (`{currency, credit_used}`, or null): 409 `credit_in_use` when it would
/// change the currency of credit in use.
#[wasm_bindgen(js_name = creditAssess, unchecked_return_type = "{ tier: number; initial: number; step: number; ceiling: number; terms_days: number[] }")]
pub fn js_credit_assess(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] facts: JsValue,
    #[wasm_bindgen(unchecked_param_type = "{ paid_on_time: number; paid_late: number }")]
    history: JsValue,
    #[wasm_bindgen(unchecked_param_type = "{ currency: string; credit_used: number } | null")]
    current: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] currency: JsValue,
) -> JsResult<JsValue> {
    let currency = str_arg(&currency, "currency")?;
    let current = to_raw(&current);
    let stored = match current {
        Raw::Null => None,
        _ => Some((
            input::req_string(&current, "currency", 3)?,
            input::req_amount(&current, "credit_used", -MAX_AMOUNT)?,
        )),
    };
    credit::check_currency(stored.as_ref().map(|(c, u)| (c.as_str(), *u)), &currency)?;
    let facts = credit::validate_facts(&to_raw(&facts))?;
    let h = to_raw(&history);
    let history = credit::History {
        paid_on_time: input::opt_int(&h, "paid_on_time", 0, MAX_AMOUNT)?.unwrap_or(0),
        paid_late: input::opt_int(&h, "paid_late", 0, MAX_AMOUNT)?.unwrap_or(0),
    };
    out(&credit::assess(&facts, history)?)
}

/// Replays a profile's events (in order) for `currency`: its tier, limit and freeze.
#[wasm_bindgen(js_name = creditReplay, unchecked_return_type = "CreditStanding")]
pub fn js_credit_replay(
    #[wasm_bindgen(unchecked_param_type = "CreditEventRow[]")] events: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] currency: JsValue,
) -> JsResult<JsValue> {
    let events = rows_arg(&events, "events", credit::Event::from_raw)?;
    out(&credit::replay(&events, &str_arg(&currency, "currency")?)?)
}

/// The credit profile of a standing with `credit_used`, at `now`.
#[wasm_bindgen(js_name = creditProfile)]
pub fn js_credit_profile(
    #[wasm_bindgen(unchecked_param_type = "CreditStanding")] standing: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] credit_used: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] currency: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    let raw = to_raw(&standing);
    let standing = credit::Standing {
        risk_tier: input::opt_int(&raw, "risk_tier", 1, 5)?,
        credit_limit: input::opt_amount(&raw, "credit_limit", 0)?.unwrap_or(0),
        frozen_until: input::opt_string(&raw, "frozen_until", 40)?,
        paid_on_time: input::opt_int(&raw, "paid_on_time", 0, MAX_AMOUNT)?.unwrap_or(0),
        paid_late: input::opt_int(&raw, "paid_late", 0, MAX_AMOUNT)?.unwrap_or(0),
    };
    let used = amount_arg(&credit_used, "credit_used", 0)?;
    out(&credit::profile(
        &standing,
        used,
        &str_arg(&currency, "currency")?,
        time_arg(&now, "now")?,
    )?)
}

/// Validates a checkout created at `now`.
#[wasm_bindgen(js_name = validateCheckout)]
pub fn js_validate_checkout(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    out(&checkout::validate_checkout(
        &to_raw(&input),
        time_arg(&now, "now")?,
    )?)
}

/// The split of a checkout's `total` against the customer's `balance`, the `available` credit and the currency's
/// minimum card charge.
#[wasm_bindgen(js_name = allocateCheckout, unchecked_return_type = "Allocation")]
pub fn js_allocate_checkout(
    #[wasm_bindgen(unchecked_param_type = "number")] total: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] balance: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] available: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] currency: JsValue,
) -> JsResult<JsValue> {
    let total = amount_arg(&total, "total", 0)?;
    let balance = amount_arg(&balance, "balance", -MAX_AMOUNT)?;
    let available = amount_arg(&available, "available", -MAX_AMOUNT)?;
    let minimum = money::minimum_charge(&str_arg(&currency, "currency")?)?;
    out(&checkout::allocate(total, balance, available, minimum)?)
}

/// Validates a confirmation of `allocation` for a buyer allowed `allowed` terms lengths, at `now`.
#[wasm_bindgen(js_name = validateConfirm)]
pub fn js_validate_confirm(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Allocation")] allocation: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | null")] default_days: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number[]")] allowed: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    let allocation = allocation_arg(&allocation)?;
    let d = to_raw(&default_days);
    let default_days = if d.is_absent() {
        None
    } else {
        Some(input::int_value(&d, "terms_days", 1, 365)?)
    };
    let allowed = rows_arg(&allowed, "allowed", |r| {
        input::int_value(r, "allowed", 1, 365)
    })?;
    out(&checkout::validate_confirm(
        &to_raw(&input),
        &allocation,
        default_days,
        &allowed,
        time_arg(&now, "now")?,
    )?)
}

/// The terms a preview of `allocation` would get with `{terms_days?}` (default `default_days`):
/// `{terms_days, due_at}` (null without a terms part); a length the buyer is not allowed → 400 `terms_days`.
#[wasm_bindgen(js_name = previewTerms, unchecked_return_type = "{ terms_days: number | null; due_at: CanonicalTime | null }")]
pub fn js_preview_terms(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Allocation")] allocation: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | null")] default_days: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number[]")] allowed: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    crate::json_struct! {
        struct Out {
            terms_days: Option<i64>,
            due_at: Option<String>,
        }
    }
    let allocation = allocation_arg(&allocation)?;
    let raw = to_raw(&input);
    let d = to_raw(&default_days);
    let default_days = if d.is_absent() {
        None
    } else {
        Some(input::int_value(&d, "terms_days", 1, 365)?)
    };
    let days = input::opt_int(&raw, "terms_days", 1, 365)?.or(default_days);
    let allowed = rows_arg(&allowed, "allowed", |r| {
        input::int_value(r, "allowed", 1, 365)
    })?;
    let (terms_days, due_at) =
        checkout::terms_choice(days, &allocation, &allowed, time_arg(&now, "now")?)?;
    out(&Out { terms_days, due_at })
}

/// An amount as a buyer reads it: `$1,234.50`, `¥500`, `1,234.500 KWD` (exact, from minor units).
/// @example formatMoney(123450, "USD") // "$1,234.50"
#[wasm_bindgen(js_name = formatMoney)]
pub fn js_format_money(
    #[wasm_bindgen(unchecked_param_type = "number")] amount: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] currency: JsValue,
) -> JsResult<String> {
    let amount = amount_arg(&amount, "amount", -MAX_AMOUNT)?;
    Ok(money::format(amount, &str_arg(&currency, "currency")?)?)
}

/// The cart of a checkout with the buyer's quantities (`{quantities}` or `item_quantity<i>`): `{items, total}`; a
/// checkout made with an amount and no items keeps `amount`.
#[wasm_bindgen(js_name = requantifyCart, unchecked_return_type = "{ items: CartItem[]; total: number }")]
pub fn js_requantify_cart(
    #[wasm_bindgen(unchecked_param_type = "CartItem[]")] items: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "boolean")] adjustable: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] amount: JsValue,
) -> JsResult<JsValue> {
    crate::json_struct! {
        struct Out {
            items: Vec<checkout::CartItem>,
            total: i64,
        }
    }
    let items = rows_arg(&items, "items", |r| {
        Ok(checkout::CartItem {
            name: input::req_string(r, "name", 128)?,
            quantity: input::opt_int(r, "quantity", 1, 1_000_000)?.unwrap_or(1),
            unit_amount: input::req_amount(r, "unit_amount", 0)?,
            amount: input::req_amount(r, "amount", 0)?,
        })
    })?;
    let adjustable = input::bool_value(&to_raw(&adjustable), "adjustable")?;
    let amount = amount_arg(&amount, "amount", 0)?;
    let (items, total) = checkout::requantify(&items, &to_raw(&input), adjustable, amount)?;
    out(&Out { items, total })
}

/// Throws 409 when the buyer's `expected_allocation` differs from `allocation` (the split changed meanwhile).
#[wasm_bindgen(js_name = checkExpectedAllocation)]
pub fn js_check_expected_allocation(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Allocation")] allocation: JsValue,
) -> JsResult<()> {
    Ok(checkout::check_expected(
        &to_raw(&input),
        &allocation_arg(&allocation)?,
    )?)
}

/// The smallest card charge in `currency` (minor units).
#[wasm_bindgen(js_name = minimumCharge)]
pub fn js_minimum_charge(
    #[wasm_bindgen(unchecked_param_type = "string")] currency: JsValue,
) -> JsResult<f64> {
    Ok(money::minimum_charge(&str_arg(&currency, "currency")?)? as f64)
}

/// Validates an application creation → `{customer_guid, fields}`.
#[wasm_bindgen(js_name = validateApplication, unchecked_return_type = "{ customer_guid: string; fields: Record<string, string> }")]
pub fn js_validate_application(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    crate::json_struct! {
        struct Out {
            customer_guid: String,
            fields: SortedMap<String, String>,
        }
    }
    let (customer_guid, fields) = application::validate_application(&to_raw(&input))?;
    out(&Out {
        customer_guid,
        fields,
    })
}

/// The status a stored checkout has at `now`.
#[wasm_bindgen(js_name = checkoutStatusAt, unchecked_return_type = "CheckoutStatus")]
pub fn js_checkout_status_at(
    #[wasm_bindgen(unchecked_param_type = "CheckoutStatus")] status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] expires_at: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<String> {
    let status = checkout::Status::parse(&str_arg(&status, "status")?, "status")?;
    Ok(checkout::status_at(
        status,
        time_arg(&expires_at, "expires_at")?,
        time_arg(&now, "now")?,
    )
    .as_str()
    .into())
}

/// Throws 409 unless the checkout can be confirmed at `now`.
#[wasm_bindgen(js_name = checkCanConfirm)]
pub fn js_check_can_confirm(
    #[wasm_bindgen(unchecked_param_type = "CheckoutStatus")] status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] expires_at: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<()> {
    let status = checkout::Status::parse(&str_arg(&status, "status")?, "status")?;
    Ok(checkout::can_confirm(
        status,
        time_arg(&expires_at, "expires_at")?,
        time_arg(&now, "now")?,
    )?)
}

/// A checkout's status after an effect of its card payment.
#[wasm_bindgen(js_name = checkoutAfterPayment, unchecked_return_type = "CheckoutStatus")]
pub fn js_checkout_after_payment(
    #[wasm_bindgen(unchecked_param_type = "CheckoutStatus")] status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransactionEffect")] effect: JsValue,
) -> JsResult<String> {
    let status = checkout::Status::parse(&str_arg(&status, "status")?, "status")?;
    let effect = transaction::Effect::parse(&str_arg(&effect, "effect")?, "effect")?;
    Ok(checkout::after_payment(status, effect).as_str().into())
}

/// Validates a payment `{amount?, paid_at?}` of a terms invoice with `outstanding` left; `charging`: a charge of it
/// is in flight (409 `payment_pending`).
#[wasm_bindgen(js_name = validateTermsPayment, unchecked_return_type = "{ amount: number; paid_at: CanonicalTime }")]
pub fn js_validate_terms_payment(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TermsInvoiceStatus")] status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] outstanding: JsValue,
    #[wasm_bindgen(unchecked_param_type = "boolean")] charging: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    let status = checkout::TermsStatus::parse(&str_arg(&status, "status")?, "status")?;
    let outstanding = amount_arg(&outstanding, "outstanding", 0)?;
    out(&checkout::validate_payment(
        &to_raw(&input),
        status,
        outstanding,
        input::bool_value(&to_raw(&charging), "charging")?,
        time_arg(&now, "now")?,
    )?)
}

/// A terms invoice of `amount` with `paid` of it paid, after a `payment` at `paid_at`: `{status, amount_paid,
/// applied, returned, paid_on_time}` (what counts, and what goes back to the buyer).
#[wasm_bindgen(js_name = termsAfterPayment, unchecked_return_type = "{ status: TermsInvoiceStatus; amount_paid: number; applied: number; returned: number; paid_on_time: boolean | null }")]
pub fn js_terms_after_payment(
    #[wasm_bindgen(unchecked_param_type = "TermsInvoiceStatus")] status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] amount: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] paid: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] payment: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] due_at: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] paid_at: JsValue,
) -> JsResult<JsValue> {
    let status = checkout::TermsStatus::parse(&str_arg(&status, "status")?, "status")?;
    out(&checkout::after_terms_payment(
        status,
        amount_arg(&amount, "amount", 0)?,
        amount_arg(&paid, "paid", -MAX_AMOUNT)?,
        amount_arg(&payment, "payment", 0)?,
        time_arg(&due_at, "due_at")?,
        time_arg(&paid_at, "paid_at")?,
    )?)
}

/// Whether an open terms invoice has fallen due at `now`.
#[wasm_bindgen(js_name = termsFallsOverdue)]
pub fn js_terms_falls_overdue(
    #[wasm_bindgen(unchecked_param_type = "TermsInvoiceStatus")] status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] due_at: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<bool> {
    let status = checkout::TermsStatus::parse(&str_arg(&status, "status")?, "status")?;
    Ok(checkout::falls_overdue(
        status,
        time_arg(&due_at, "due_at")?,
        time_arg(&now, "now")?,
    ))
}

/// An application's fields after merging a request (pre-fill or edit) into the stored ones.
#[wasm_bindgen(js_name = mergeApplication, unchecked_return_type = "Record<string, string>")]
pub fn js_merge_application(
    #[wasm_bindgen(unchecked_param_type = "Record<string, string> | null")] stored: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&application::merge(
        &map_arg(&stored, "stored")?,
        &to_raw(&input),
    )?)
}

/// Validates an application for submission → `{facts, currency}` to assess.
#[wasm_bindgen(js_name = validateApplicationSubmission)]
pub fn js_validate_application_submission(
    #[wasm_bindgen(unchecked_param_type = "ApplicationStatus")] status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Record<string, string>")] fields: JsValue,
) -> JsResult<JsValue> {
    crate::json_struct! {
        struct Out {
            facts: credit::Facts,
            currency: &'static str,
        }
    }
    let status = application::Status::parse(&str_arg(&status, "status")?, "status")?;
    let s = application::validate_submission(status, &map_arg(&fields, "fields")?)?;
    out(&Out {
        facts: s.facts,
        currency: s.currency,
    })
}

/// The bills of many due subscriptions at once (one crossing for the whole batch): each item
/// `{started_at, frequency, interval, invoice_count, amount, plan_amount, funding_instrument_uri}` gives
/// `{periods, next_invoice_at, amount, opening}` or `{error: {code, message, field}}` for that item alone.
#[wasm_bindgen(js_name = billSubscriptions)]
pub fn js_bill_subscriptions(
    #[wasm_bindgen(unchecked_param_type = "RawInput[]")] items: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] max: JsValue,
) -> JsResult<JsValue> {
    enum Item {
        Bill(subscription::Bill),
        Error { error: ErrorView },
    }
    /// The bill itself, or `{error}`.
    impl ToJson for Item {
        fn write_json(&self, out: &mut String) {
            match self {
                Item::Bill(bill) => bill.write_json(out),
                Item::Error { error } => {
                    out.push('{');
                    crate::to_json::field(out, &mut true, "error", error);
                    out.push('}');
                }
            }
        }
    }
    crate::json_struct! {
        struct ErrorView {
            code: &'static str,
            message: String,
            field: Option<String>,
        }
    }
    let now = time_arg(&now, "now")?;
    let max = int_arg(&max, "max", 0, 10_000)? as usize;
    let Raw::Array(items) = to_raw(&items) else {
        return Err(CoreError::invalid("items", "must be an array").into());
    };
    let out_items: Vec<Item> = items
        .iter()
        .map(|raw| {
            match subscription::Billable::from_raw(raw)
                .and_then(|b| subscription::bill(&b, now, max))
            {
                Ok(b) => Item::Bill(b),
                Err(e) => Item::Error {
                    error: ErrorView {
                        code: e.code(),
                        message: e.to_string(),
                        field: e.field(),
                    },
                },
            }
        })
        .collect();
    out(&out_items)
}

/// `n` new GUIDs with `prefix` made at `now_ms` (one crossing for a batch of rows).
#[wasm_bindgen(js_name = guids, unchecked_return_type = "string[]")]
pub fn js_guids(
    #[wasm_bindgen(unchecked_param_type = "string")] prefix: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] n: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] now_ms: JsValue,
) -> JsResult<JsValue> {
    let prefix = str_arg(&prefix, "prefix")?;
    let n = int_arg(&n, "n", 0, 10_000)?;
    let now_ms = int_arg(&now_ms, "now_ms", 0, MAX_AMOUNT)?;
    let all = (0..n)
        .map(|_| ids::guid(&prefix, now_ms))
        .collect::<Result<Vec<_>>>()?;
    out(&all)
}

// ---- batch exports: one crossing for many values (the scheduler, benchmarks, the dashboard's schedules) ----------

// The batch exports read typed arrays and write their answer into a typed array the caller owns (`out`), returning how
// many values they wrote: wasm-bindgen copies each input across in one memcpy, and the answer goes back in one more
// into memory the caller reuses from batch to batch. Returning a fresh array instead cost a new `ArrayBuffer` per
// batch, a fifth of the periods batch (measured: docs/performance.md); the JSON form cost 6–44× native. So a batch
// costs the rule plus its copies, with nothing built or parsed per value. The batches themselves are plain Rust in
// `crate::batch`, which the native benchmark runs too.

/// Copies `values` into the front of `out` → how many were written (`out` too short: 400 naming `out`).
fn fill_f64(out: &js_sys::Float64Array, values: &[f64]) -> Result<u32> {
    let n = room(out.length(), values.len())?;
    out.subarray(0, n).copy_from(values);
    Ok(n)
}

fn fill_u8(out: &js_sys::Uint8Array, values: &[u8]) -> Result<u32> {
    let n = room(out.length(), values.len())?;
    out.subarray(0, n).copy_from(values);
    Ok(n)
}

fn room(length: u32, needed: usize) -> Result<u32> {
    if (length as usize) < needed {
        return Err(CoreError::invalid(
            "out",
            format!("must have room for {needed} values (it has {length})"),
        ));
    }
    Ok(needed as u32)
}

/// Periods `first .. first + out.length` of a schedule into `out`, as epoch milliseconds → how many were written (a
/// period past the year 9999 ends the list early).
#[wasm_bindgen(js_name = periodsBatch)]
pub fn js_periods_batch(
    out: &js_sys::Float64Array,
    #[wasm_bindgen(unchecked_param_type = "string")] started_at: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] frequency: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] interval: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] first: JsValue,
) -> JsResult<u32> {
    let started_at = time_arg(&started_at, "started_at")?;
    let frequency = frequency_arg(&frequency)?;
    let interval = int_arg(&interval, "interval", 1, MAX_AMOUNT)?;
    let first = int_arg(&first, "first", 0, MAX_AMOUNT)?;
    let count = out.length();
    if count > 10_000_000 {
        return Err(CoreError::invalid("out", "must hold at most 10,000,000 periods").into());
    }
    let all = batch::periods(started_at, frequency, interval, first, i64::from(count))?;
    Ok(fill_f64(out, &all)?)
}

/// Effective amounts of many invoices sharing one list of adjustment amounts, into `out` → how many were written.
#[wasm_bindgen(js_name = totalsBatch)]
pub fn js_totals_batch(
    out: &js_sys::Float64Array,
    amounts: &[f64],
    adjustments: &[f64],
) -> JsResult<u32> {
    Ok(fill_f64(out, &batch::totals(amounts, adjustments)?)?)
}

/// Splits of many totals by the same weights into `out`, flattened (`weights.length` parts per total) → how many
/// parts were written.
#[wasm_bindgen(js_name = allocateBatch)]
pub fn js_allocate_batch(
    out: &js_sys::Float64Array,
    totals: &[f64],
    weights: &[f64],
) -> JsResult<u32> {
    Ok(fill_f64(out, &batch::allocations(totals, weights)?)?)
}

/// Whether each credit `amounts[i]` may leave an order holding `escrowed[i]` (the escrow rule, in bulk), 1 or 0 into
/// `out` → how many were written.
#[wasm_bindgen(js_name = escrowCreditsBatch)]
pub fn js_escrow_credits_batch(
    out: &js_sys::Uint8Array,
    amounts: &[f64],
    escrowed: &[f64],
) -> JsResult<u32> {
    Ok(fill_u8(out, &batch::escrow_credits(amounts, escrowed)?)?)
}

/// Allocations of many checkouts in one currency into `out`, flattened: `[balance_applied, terms_amount,
/// card_amount, carried_to_balance]` per checkout → how many values were written.
#[wasm_bindgen(js_name = allocateCheckoutsBatch)]
pub fn js_allocate_checkouts_batch(
    out: &js_sys::Float64Array,
    totals: &[f64],
    balances: &[f64],
    available: &[f64],
    #[wasm_bindgen(unchecked_param_type = "string")] currency: JsValue,
) -> JsResult<u32> {
    let currency = str_arg(&currency, "currency")?;
    Ok(fill_f64(
        out,
        &batch::checkout_allocations(totals, balances, available, &currency)?,
    )?)
}

/// Validates a webhook endpoint `{url, events?, description?}` → `{url, events, description}`.
#[wasm_bindgen(js_name = validateWebhookEndpoint, unchecked_return_type = "{ url: string; events: string[]; description: string | null }")]
pub fn js_validate_webhook_endpoint(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&crate::webhook::validate_endpoint(&to_raw(&input))?)
}

/// Validates an endpoint update over the stored `{url, events, description}` → `{url, events, description, enabled}`.
#[wasm_bindgen(js_name = validateWebhookUpdate, unchecked_return_type = "{ url: string; events: string[]; description: string | null; enabled: boolean | null }")]
pub fn js_validate_webhook_update(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(
        unchecked_param_type = "{ url: string; events: string[]; description: string | null }"
    )]
    current: JsValue,
) -> JsResult<JsValue> {
    let current = crate::webhook::validate_endpoint(&to_raw(&current))?;
    out(&crate::webhook::validate_update(&to_raw(&input), &current)?)
}

/// Whether an endpoint subscribed to `events` receives an event of `type`.
#[wasm_bindgen(js_name = webhookSubscribed)]
pub fn js_webhook_subscribed(
    #[wasm_bindgen(unchecked_param_type = "string[]")] events: JsValue,
    #[wasm_bindgen(unchecked_param_type = "WebhookEventType")] event_type: JsValue,
) -> JsResult<bool> {
    let events = rows_arg(&events, "events", |r| input::string_value(r, "events", 64))?;
    let t = crate::webhook::EventType::parse(&str_arg(&event_type, "type")?, "type")?;
    Ok(crate::webhook::subscribed(&events, t))
}

/// A delivery after attempt `attempts` answered `ok` at `now`, its endpoint failing since `failing_since` (or null).
#[wasm_bindgen(js_name = webhookAfterAttempt, unchecked_return_type = "{ status: WebhookDeliveryStatus; attempts: number; next_attempt_at: CanonicalTime | null; disable_endpoint: boolean }")]
pub fn js_webhook_after_attempt(
    #[wasm_bindgen(unchecked_param_type = "number")] attempts: JsValue,
    #[wasm_bindgen(unchecked_param_type = "boolean")] ok: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime | null")] failing_since: JsValue,
) -> JsResult<JsValue> {
    let attempts = int_arg(&attempts, "attempts", 1, MAX_AMOUNT)?;
    let ok = input::bool_value(&to_raw(&ok), "ok")?;
    let since = if to_raw(&failing_since).is_absent() {
        None
    } else {
        Some(time_arg(&failing_since, "failing_since")?)
    };
    out(&crate::webhook::after_attempt(
        attempts,
        ok,
        time_arg(&now, "now")?,
        since,
    )?)
}

/// The content a webhook signature covers: `id.timestamp.body`.
#[wasm_bindgen(js_name = webhookSignedContent)]
pub fn js_webhook_signed_content(
    #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] timestamp: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] body: JsValue,
) -> JsResult<String> {
    Ok(crate::webhook::signed_content(
        &str_arg(&id, "id")?,
        int_arg(&timestamp, "timestamp", 0, MAX_AMOUNT)?,
        &str_arg(&body, "body")?,
    ))
}

/// A new endpoint secret, `whsec_` + base64 of 24 random bytes.
#[wasm_bindgen(js_name = webhookSecret)]
pub fn js_webhook_secret() -> JsResult<String> {
    Ok(crate::webhook::new_secret()?)
}

// ---- Stripe ------------------------------------------------------------------------------------------------------

fn processor_settings_arg(value: &JsValue) -> Result<Option<stripe::ProcessorSettings>> {
    let raw = to_raw(value);
    if raw.is_absent() {
        return Ok(None);
    }
    let name = input::req_string(&raw, "processor", 16)?;
    Ok(Some(stripe::ProcessorSettings {
        processor: stripe::Processor::parse(&name, "processor")?,
        processor_key: input::opt_string(&raw, "processor_key", 255)?,
        stripe_webhook_secret: input::opt_string(&raw, "stripe_webhook_secret", 255)?,
    }))
}

/// Validates `{processor?, processor_key?, stripe_webhook_secret?}` for a company in `test_mode`, over its
/// `current` settings (`null` at creation) → the settings to store.
#[wasm_bindgen(js_name = validateProcessorSettings, unchecked_return_type = "{ processor: ProcessorName; processor_key: string | null; stripe_webhook_secret: string | null }")]
pub fn js_validate_processor_settings(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "boolean")] test_mode: JsValue,
    #[wasm_bindgen(
        unchecked_param_type = "{ processor: ProcessorName; processor_key: string | null; stripe_webhook_secret: string | null } | null"
    )]
    current: JsValue,
) -> JsResult<JsValue> {
    let test_mode = input::bool_value(&to_raw(&test_mode), "test_mode")?;
    let current = processor_settings_arg(&current)?;
    out(&stripe::validate_settings(
        &to_raw(&input),
        test_mode,
        current.as_ref(),
    )?)
}

/// The Stripe objects a transaction of `kind` needs from its `funding_instrument_uri` (422 `processor_unsupported`
/// for a credit to anything but a connected account).
#[wasm_bindgen(js_name = stripeInstrument, unchecked_return_type = "{ customer: string | null; payment_method: string | null; destination: string | null }")]
pub fn js_stripe_instrument(
    #[wasm_bindgen(unchecked_param_type = "TransactionKind")] kind: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | null")] uri: JsValue,
) -> JsResult<JsValue> {
    let kind = transaction::Kind::parse(&str_arg(&kind, "kind")?, "kind")?;
    out(&stripe::instrument(kind, uri.as_string().as_deref())?)
}

/// What Stripe's answer (HTTP `status`, 0 for none, and its JSON `body`) means for a transaction of `kind`.
#[wasm_bindgen(js_name = stripeAnswer, unchecked_return_type = "{ outcome: ProcessorOutcome; processor_uri: string | null; error_code: string | null; error_message: string | null }")]
pub fn js_stripe_answer(
    #[wasm_bindgen(unchecked_param_type = "TransactionKind")] kind: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "unknown")] body: JsValue,
) -> JsResult<JsValue> {
    crate::json_struct! {
        struct Out {
            outcome: transaction::Outcome,
            processor_uri: Option<String>,
            error_code: Option<String>,
            error_message: Option<String>,
        }
    }
    let kind = transaction::Kind::parse(&str_arg(&kind, "kind")?, "kind")?;
    let status = int_arg(&status, "status", 0, 999)? as u16;
    let a = stripe::read_answer(kind, status, &to_raw(&body));
    out(&Out {
        outcome: a.outcome,
        processor_uri: a.processor_uri,
        error_code: a.error_code,
        error_message: a.error_message,
    })
}

/// Reads a `Stripe-Signature` header at `now_seconds` → `{timestamp, signatures}`; malformed or stale → 400.
#[wasm_bindgen(js_name = stripeSignatureHeader, unchecked_return_type = "{ timestamp: number; signatures: string[] }")]
pub fn js_stripe_signature_header(
    #[wasm_bindgen(unchecked_param_type = "string | null")] header: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] now_seconds: JsValue,
) -> JsResult<JsValue> {
    let now = int_arg(&now_seconds, "now_seconds", 0, 253_402_300_799)?;
    out(&stripe::signature_header(
        header.as_string().as_deref(),
        now,
    )?)
}
