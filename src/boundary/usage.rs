//! Exports of metered usage ([`crate::usage`]): metrics, the metered items of plans, usage events, their
//! aggregation and their price on invoices.
//!
//! Ingestion takes one crossing per step however many events a request carries: `validateUsageEvents` (or
//! `checkUsageEvents`) reads the whole batch of up to 1,000 events, and `foldUsageBatch` folds every stored one into
//! the state of its key.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{amount_arg, map_arg, out, str_arg, time_arg, to_raw, JsResult};
use crate::error::{CoreError, Result};
use crate::input::Raw;
use crate::money::MAX_AMOUNT;
use crate::usage::{self, Aggregate, Aggregation, EntryError, EventInput, Sample};

#[wasm_bindgen(typescript_custom_section)]
const TS_USAGE_AGGREGATION: &'static str = Aggregation::TS;

#[wasm_bindgen(typescript_custom_section)]
const TS_USAGE_TYPES: &'static str = r#"
export interface MetricInput { code: string; name: string; aggregation: UsageAggregation }
/** Unit prices are decimal strings of minor units ("0.05" = a twentieth of a cent). */
export interface UsageTier { up_to: number | null; unit_amount_decimal: string; flat_amount: number }
/** Exactly one of `unit_amount_decimal` and `tiers` is set. Stored as JSON, read back by `priceUsage`. */
export interface MeteredItem { metric_code: string; unit_amount_decimal: string | null; tiers: UsageTier[] | null }
export interface UsageEvent { event_id: string; subscription_guid: string; metric_code: string; value: number; timestamp: CanonicalTime }
/** One refused entry of a batch; `index` is null when the batch itself is malformed. */
export interface UsageEntryError { index: number | null; code: string; status: number; field: string | null; message: string }
/** On failure, `code`/`status`/`field`/`message` are those `validateUsageEvents` would throw. */
export type UsageEventsCheck =
  | { ok: true; events: UsageEvent[] }
  | { ok: false; code: string; status: number; field: string | null; message: string; errors: UsageEntryError[] };
export interface UsageAggregate { value: number; count: number; last_timestamp: CanonicalTime | null; last_value: number | null }
/** `state` is read from a key's first entry only (the stored state before the batch; null: no events yet). */
export interface UsageFoldEntry { key: string; aggregation: UsageAggregation; value: number; timestamp: CanonicalTime; state?: UsageAggregate | null }
export interface UsageSample { value: number; timestamp: CanonicalTime }
export interface UsageLine {
  name: string; metric_code: string; quantity: number; unit_amount_decimal: string | null; amount: number;
  period_start: CanonicalTime; period_end: CanonicalTime;
}
"#;

fn aggregation_arg(value: &JsValue) -> Result<Aggregation> {
    Aggregation::parse(&str_arg(value, "aggregation")?, "aggregation")
}

/// Validates a metric creation request `{code, name, aggregation}` → the row to store. Refusals are 400s naming
/// the field.
#[wasm_bindgen(js_name = validateMetric, unchecked_return_type = "MetricInput")]
pub fn js_validate_metric(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&usage::validate_metric(&to_raw(&input))?)
}

/// The metered items of a plan request (`metered_items: [...]` or form keys `metered_item_metric<n>`,
/// `metered_item_unit_amount_decimal<n>`, `metered_item_tiers<n>`) → the items to store as JSON (`[]` when none).
#[wasm_bindgen(js_name = validatePlanMeteredItems, unchecked_return_type = "MeteredItem[]")]
pub fn js_validate_plan_metered_items(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    out(&usage::parse_metered_items(&to_raw(&input))?)
}

#[derive(Serialize)]
struct Events {
    events: Vec<EventInput>,
}

/// Validates one usage event or a batch `{events: [...]}` (1–1000) at the company's `now` → `{events}`. Throws the
/// lone event's own error, or 400 `invalid_batch` (field `events`) whose message lists every failing
/// `events[i].field: reason`.
#[wasm_bindgen(js_name = validateUsageEvents, unchecked_return_type = "{ events: UsageEvent[] }")]
pub fn js_validate_usage_events(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    let now = time_arg(&now, "now")?;
    out(&Events {
        events: usage::validate_events_batch(&to_raw(&input), now)?,
    })
}

/// [`js_validate_usage_events`] without throwing on the body: `{ok: true, events}` or `{ok: false, code, status,
/// field, message, errors: [{index, code, status, field, message}]}`, for a JSON error body listing every entry.
/// Throws only for a bad `now` (a host bug).
#[wasm_bindgen(js_name = checkUsageEvents, unchecked_return_type = "UsageEventsCheck")]
pub fn js_check_usage_events(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Check {
        Ok {
            ok: bool,
            events: Vec<EventInput>,
        },
        Failed {
            ok: bool,
            code: &'static str,
            status: u16,
            field: Option<String>,
            message: String,
            errors: Vec<EntryError>,
        },
    }
    let now = time_arg(&now, "now")?;
    out(&match usage::check_events_batch(&to_raw(&input), now) {
        Ok(events) => Check::Ok { ok: true, events },
        Err(f) => Check::Failed {
            ok: false,
            code: f.error.code(),
            status: f.error.status(),
            field: f.error.field(),
            message: f.error.to_string(),
            errors: f.errors,
        },
    })
}

/// Throws 422 `period_closed` (field `timestamp`) when an event's `timestamp` lies before the start of the
/// subscription's open period `periodStart`.
#[wasm_bindgen(js_name = checkEventPeriod)]
pub fn js_check_event_period(
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] timestamp: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] period_start: JsValue,
) -> JsResult<()> {
    Ok(usage::check_period(
        time_arg(&timestamp, "timestamp")?,
        time_arg(&period_start, "period_start")?,
    )?)
}

/// `state` (null: no events yet) with one more event of `value` at `timestamp` → the new state.
#[wasm_bindgen(js_name = foldUsage, unchecked_return_type = "UsageAggregate")]
pub fn js_fold_usage(
    #[wasm_bindgen(unchecked_param_type = "UsageAggregate | null")] state: JsValue,
    #[wasm_bindgen(unchecked_param_type = "UsageAggregation")] aggregation: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] value: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] timestamp: JsValue,
) -> JsResult<JsValue> {
    let state = Aggregate::from_raw(&to_raw(&state), "state")?;
    out(&usage::fold(
        state,
        aggregation_arg(&aggregation)?,
        amount_arg(&value, "value", -MAX_AMOUNT)?,
        time_arg(&timestamp, "timestamp")?,
    )?)
}

/// Folds many events of many keys (`subscription:metric`) in one crossing, in array order → `{[key]: state}` for
/// every key seen. Each key starts from the `state` of its first entry; errors name `entries[i].…`.
#[wasm_bindgen(js_name = foldUsageBatch, unchecked_return_type = "Record<string, UsageAggregate>")]
pub fn js_fold_usage_batch(
    #[wasm_bindgen(unchecked_param_type = "UsageFoldEntry[]")] entries: JsValue,
) -> JsResult<JsValue> {
    let entries = usage::fold_entries(&to_raw(&entries))?;
    out(&usage::fold_batch(&entries)?)
}

/// The aggregate of stored events (`{value, timestamp}` in arrival order) computed from scratch → the state
/// `foldUsage` would have reached.
#[wasm_bindgen(js_name = aggregateUsage, unchecked_return_type = "UsageAggregate")]
pub fn js_aggregate_usage(
    #[wasm_bindgen(unchecked_param_type = "UsageAggregation")] aggregation: JsValue,
    #[wasm_bindgen(unchecked_param_type = "UsageSample[]")] events: JsValue,
) -> JsResult<JsValue> {
    let aggregation = aggregation_arg(&aggregation)?;
    let Raw::Array(rows) = to_raw(&events) else {
        return Err(CoreError::invalid("events", "must be an array").into());
    };
    let samples = rows
        .iter()
        .enumerate()
        .map(|(i, r)| Sample::from_raw(r, &format!("events[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    out(&usage::aggregate_all(aggregation, &samples)?)
}

/// The usage lines of a plan's stored metered `items` (an array or its JSON text) for the period
/// `[periodStart, periodEnd)`, from the `aggregates` by metric code (absent or null: no events) and the metrics'
/// names → one line per item, in item order, zero lines included.
#[wasm_bindgen(js_name = priceUsage, unchecked_return_type = "UsageLine[]")]
pub fn js_price_usage(
    #[wasm_bindgen(unchecked_param_type = "MeteredItem[] | string")] items: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Record<string, UsageAggregate | null>")]
    aggregates: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Record<string, string>")] metric_names: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] period_start: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] period_end: JsValue,
) -> JsResult<JsValue> {
    let items = usage::items_from_stored(&to_raw(&items))?;
    let aggregates = usage::aggregates_from_raw(&to_raw(&aggregates))?;
    let names = map_arg(&metric_names, "metric_names")?;
    out(&usage::usage_lines(
        &items,
        &aggregates,
        &names,
        time_arg(&period_start, "period_start")?,
        time_arg(&period_end, "period_end")?,
    )?)
}

/// One request of usage events, decided in one crossing ([`crate::usage_ingest::ingest`]): `context` is what the
/// worker read in the same storage transaction (`{subscriptions, metrics, known, states}`) → `{ok: true, events,
/// states}` to write, or `{ok: false, code, status, field, message, errors}` (nothing to write).
#[wasm_bindgen(js_name = ingestUsage)]
pub fn js_ingest_usage(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RawInput")] context: JsValue,
) -> JsResult<JsValue> {
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Answer {
        Ok {
            ok: bool,
            #[serde(flatten)]
            ingested: crate::usage_ingest::Ingested,
        },
        Failed {
            ok: bool,
            code: &'static str,
            status: u16,
            field: Option<String>,
            message: String,
            errors: Vec<usage::EntryError>,
        },
    }
    let now = time_arg(&now, "now")?;
    let ctx = crate::usage_ingest::Context::from_raw(&to_raw(&context))?;
    out(
        &match crate::usage_ingest::ingest(&to_raw(&input), now, &ctx) {
            Ok(ingested) => Answer::Ok { ok: true, ingested },
            Err(f) => Answer::Failed {
                ok: false,
                code: f.error.code(),
                status: f.error.status(),
                field: f.error.field(),
                message: f.error.to_string(),
                errors: f.errors,
            },
        },
    )
}
