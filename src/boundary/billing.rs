//! Exports of the subscription-billing rules: coupons ([`crate::coupon`]) and proration ([`crate::proration`]).
//!
//! Thin like the rest of the boundary: read the arguments, call the rule, return its result through `out`.

use wasm_bindgen::prelude::*;

use super::{amount_arg, int_arg, out, str_arg, time_arg, to_raw, JsResult};
use crate::coupon::{self, Coupon};
use crate::input;
use crate::invoice::Adjustment;
use crate::money::MAX_AMOUNT;
use crate::proration;

#[wasm_bindgen(typescript_custom_section)]
const TS_BILLING_TYPES: &'static str = r#"
export interface CouponInput {
  code: string; name: string | null; percent_off: string | null; amount_off: number | null; currency: string | null;
  duration: "once" | "repeating" | "forever"; duration_in_periods: number | null; max_redemptions: number | null;
  redeem_by: CanonicalTime | null;
}
/** A stored coupon row, as the worker reads it from SQLite (nulls for absent). */
export interface CouponRow {
  code: string; name?: string | null; percent_off?: string | number | null; amount_off?: number | null;
  currency?: string | null; duration: "once" | "repeating" | "forever"; duration_in_periods?: number | null;
  max_redemptions?: number | null; redeem_by?: CanonicalTime | null; times_redeemed?: number | null;
  deleted?: number | boolean | null;
}
export interface CouponAdjustment { covers: boolean; adjustment: Adjustment | null }
export interface Proration { unused: string; credit: number; charge: number }
"#;

/// Validates a coupon creation request at the company's `now` → the row to store. Refusals are 400s naming the
/// field (`missing_field`, `invalid_field`, `amount_out_of_range`, `unknown_currency`, `invalid_time`).
#[wasm_bindgen(js_name = validateCoupon, unchecked_return_type = "CouponInput")]
pub fn js_validate_coupon(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    let now = time_arg(&now, "now")?;
    out(&coupon::validate_coupon(&to_raw(&input), now)?)
}

/// Redeems a stored coupon (`row` with `times_redeemed` and `deleted`) at `now` for an invoice in `currency` → the
/// new `times_redeemed`. Throws 409 `coupon_deleted`, `coupon_expired`, `coupon_exhausted` or
/// `coupon_currency_mismatch` (field `coupon`).
#[wasm_bindgen(js_name = redeemCoupon)]
pub fn js_redeem_coupon(
    #[wasm_bindgen(unchecked_param_type = "CouponRow")] row: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] currency: JsValue,
) -> JsResult<f64> {
    let row = to_raw(&row);
    let coupon = Coupon::from_row(&row)?;
    let times_redeemed = input::opt_int(&row, "times_redeemed", 0, MAX_AMOUNT)
        .map_err(|e| e.in_field("coupon.times_redeemed"))?
        .unwrap_or(0);
    let deleted = input::opt_bool(&row, "deleted")
        .map_err(|e| e.in_field("coupon.deleted"))?
        .unwrap_or(false);
    let now = time_arg(&now, "now")?;
    let currency = str_arg(&currency, "currency")?;
    Ok(coupon::redeem(&coupon, times_redeemed, deleted, now, &currency)? as f64)
}

/// Whether a stored coupon covers the next invoice (it has discounted `applied` invoices so far) and, when it does,
/// its discount adjustment of an invoice of `amount` with `otherAdjustments` (their sum) → `{covers, adjustment}`;
/// `adjustment` is `null` when not covered or the discount is 0.
#[wasm_bindgen(js_name = couponAdjustment, unchecked_return_type = "CouponAdjustment")]
pub fn js_coupon_adjustment(
    #[wasm_bindgen(unchecked_param_type = "CouponRow")] row: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] applied: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] amount: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] other_adjustments: JsValue,
) -> JsResult<JsValue> {
    crate::json_struct! {
        struct Out {
            covers: bool,
            adjustment: Option<Adjustment>,
        }
    }
    let coupon = Coupon::from_row(&to_raw(&row))?;
    let applied = int_arg(&applied, "applied", 0, MAX_AMOUNT)?;
    let amount = amount_arg(&amount, "amount", -MAX_AMOUNT)?;
    let other = amount_arg(&other_adjustments, "other_adjustments", -MAX_AMOUNT)?;
    let covers = coupon::covers(&coupon.duration, applied);
    let adjustment = if covers {
        coupon::adjustment(&coupon, amount, other)?
    } else {
        None
    };
    out(&Out { covers, adjustment })
}

/// Credit of the old price and charge of the new one for a change at `at` in the period `[start, end)` →
/// `{unused, credit ≤ 0, charge ≥ 0}`, each rounded half to even.
#[wasm_bindgen(js_name = prorate, unchecked_return_type = "Proration")]
pub fn js_prorate(
    #[wasm_bindgen(unchecked_param_type = "number")] old_amount: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] new_amount: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] start: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] end: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] at: JsValue,
) -> JsResult<JsValue> {
    let old_amount = amount_arg(&old_amount, "old_amount", 0)?;
    let new_amount = amount_arg(&new_amount, "new_amount", 0)?;
    out(&proration::prorate(
        old_amount,
        new_amount,
        time_arg(&start, "start")?,
        time_arg(&end, "end")?,
        time_arg(&at, "at")?,
    )?)
}
