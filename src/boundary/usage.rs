//! Exports of metered usage ([`crate::usage`]): metrics, the metered items of plans, usage events, their
//! aggregation and their price on invoices.
//!
//! Ingestion takes one crossing per request however many events it carries (`ingestUsage`: validation, periods,
//! duplicates and the fold of up to 1,000 events).

use wasm_bindgen::prelude::*;

use super::{map_arg, out, time_arg, to_raw, JsResult};
use crate::to_json::{JsonFields, ToJson};
use crate::usage;

#[wasm_bindgen(typescript_custom_section)]
const TS_USAGE_AGGREGATION: &'static str = usage::Aggregation::TS;

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
export interface UsageAggregate { value: number; count: number; last_timestamp: CanonicalTime | null; last_value: number | null }
export interface UsageLine {
  name: string; metric_code: string; quantity: number; unit_amount_decimal: string | null; amount: number;
  period_start: CanonicalTime; period_end: CanonicalTime;
}
"#;

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
    enum Answer {
        Ok(crate::usage_ingest::Ingested),
        Failed(Failed),
    }
    crate::json_struct! {
        struct Failed {
            ok: bool,
            code: &'static str,
            status: u16,
            field: Option<String>,
            message: String,
            errors: Vec<usage::EntryError>,
        }
    }
    /// `{ok: true, events, states}` or the failure (with `ok: false`).
    impl ToJson for Answer {
        fn write_json(&self, out: &mut String) {
            match self {
                Answer::Ok(ingested) => {
                    out.push('{');
                    let first = &mut true;
                    crate::to_json::field(out, first, "ok", &true);
                    ingested.write_fields(out, first);
                    out.push('}');
                }
                Answer::Failed(failed) => failed.write_json(out),
            }
        }
    }
    let now = time_arg(&now, "now")?;
    let ctx = crate::usage_ingest::Context::from_raw(&to_raw(&context))?;
    out(
        &match crate::usage_ingest::ingest(&to_raw(&input), now, &ctx) {
            Ok(ingested) => Answer::Ok(ingested),
            Err(f) => Answer::Failed(Failed {
                ok: false,
                code: f.error.code(),
                status: f.error.status(),
                field: f.error.field(),
                message: f.error.to_string(),
                errors: f.errors,
            }),
        },
    )
}
