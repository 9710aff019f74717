//! Exports of the subscription lifecycle: status, the bill of one subscription, trials, pause and resume, cancel
//! (at period end, prorated), plan changes and the composition of a subscription's invoice.
//!
//! A subscription `row` is the stored row joined with its plan (`frequency`, `interval`, `plan_amount`), as the
//! scheduler reads it; see [`crate::subscription::Billable::from_raw`].

use wasm_bindgen::prelude::*;

use super::{int_arg, out, str_arg, time_arg, to_raw, JsResult};
use crate::coupon::Coupon;
use crate::input::{self, Raw};
use crate::invoice::Adjustment;
use crate::plan_change::{self, ProrationBehavior, Side};
use crate::schedule::Frequency;
use crate::subscription::{self, Billable};
use crate::time;

fn billable(row: &JsValue) -> crate::error::Result<Billable> {
    Billable::from_raw(&to_raw(row))
}

fn is_set(raw: &Raw, key: &str) -> bool {
    input::present(raw, key)
        .is_some_and(|v| !matches!(v, Raw::Number(n) if n == "0") && !matches!(v, Raw::Bool(false)))
}

/// The status of a stored subscription row (`canceled`, `paused_at`, `trial_end`) whose latest invoice has
/// `latestInvoiceStatus` (or null), at `now`.
#[wasm_bindgen(js_name = subscriptionStatus, unchecked_return_type = "SubscriptionStatus")]
pub fn js_subscription_status(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] row: JsValue,
    #[wasm_bindgen(unchecked_param_type = "InvoiceStatus | null")] latest_invoice_status: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<String> {
    let raw = to_raw(&row);
    let trial_end = match input::opt_string(&raw, "trial_end", 40)? {
        Some(t) => Some(time::parse(&t, "trial_end")?),
        None => None,
    };
    let failed = latest_invoice_status.as_string().as_deref()
        == Some(crate::invoice::Status::Failed.as_str());
    let now = time_arg(&now, "now")?;
    Ok(subscription::status(
        is_set(&raw, "canceled"),
        subscription::paused_now(&raw, now)?,
        trial_end,
        failed,
        now,
    )
    .as_str()
    .to_string())
}

/// The bill of one due subscription row at `now` (at most `max` periods): `{periods, skipped, next_period,
/// next_invoice_at, amount, opening, cancel, resumed}`.
#[wasm_bindgen(js_name = billSubscription)]
pub fn js_bill_subscription(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] row: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] max: JsValue,
) -> JsResult<JsValue> {
    let max = int_arg(&max, "max", 0, 10_000)? as usize;
    out(&subscription::bill(
        &billable(&row)?,
        time_arg(&now, "now")?,
        max,
    )?)
}

crate::json_struct! {
    struct PeriodView {
        period: i64,
        period_start: String,
        period_end: Option<String>,
    }
}

fn period_view(b: &Billable, period: i64, start: time::Instant) -> PeriodView {
    PeriodView {
        period,
        period_start: time::format(start),
        period_end: b.period_start(period + 1).ok().map(time::format),
    }
}

/// The period under way (`{period, period_start, period_end}`), or null before the first.
#[wasm_bindgen(js_name = currentPeriod)]
pub fn js_current_period(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] row: JsValue,
) -> JsResult<JsValue> {
    let b = billable(&row)?;
    out(&b
        .current_period()?
        .map(|(p, start, _)| period_view(&b, p, start)))
}

/// The next period to be invoiced (`{period, period_start, period_end}`), or null when none will be.
#[wasm_bindgen(js_name = upcomingPeriod)]
pub fn js_upcoming_period(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] row: JsValue,
) -> JsResult<JsValue> {
    let b = billable(&row)?;
    out(&b
        .next_billed_period()?
        .map(|(p, start)| period_view(&b, p, start)))
}

/// When the trial-ending notice of a trial ending at `trialEnd` is due, at `now`.
#[wasm_bindgen(js_name = trialNoticeAt, unchecked_return_type = "CanonicalTime")]
pub fn js_trial_notice_at(
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] trial_end: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<String> {
    Ok(time::format(subscription::trial_notice_at(
        time_arg(&trial_end, "trial_end")?,
        time_arg(&now, "now")?,
    )))
}

/// A pause of a stored row at `now` from a request `{resumes_at?}` → `{paused_at, resumes_at}`; 409 when paused or
/// canceled.
#[wasm_bindgen(js_name = pauseSubscription)]
pub fn js_pause_subscription(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] row: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    crate::json_struct! {
        struct Pause {
            paused_at: String,
            resumes_at: Option<String>,
        }
    }
    let raw = to_raw(&row);
    let guid = input::opt_string(&raw, "guid", 64)?.unwrap_or_default();
    let now = time_arg(&now, "now")?;
    let (paused_at, resumes_at) = subscription::pause(
        is_set(&raw, "canceled"),
        subscription::paused_now(&raw, now)?,
        &to_raw(&input),
        now,
        &guid,
    )?;
    out(&Pause {
        paused_at,
        resumes_at,
    })
}

/// Refuses to resume a row that is not paused (409), or canceled.
#[wasm_bindgen(js_name = checkResume)]
pub fn js_check_resume(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] row: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<()> {
    let raw = to_raw(&row);
    let guid = input::opt_string(&raw, "guid", 64)?.unwrap_or_default();
    Ok(subscription::resume(
        is_set(&raw, "canceled"),
        subscription::paused_now(&raw, time_arg(&now, "now")?)?,
        &guid,
    )?)
}

/// The period a resume at `now` invoices from again (one that started at this very instant and was skipped while
/// still paused), or null.
#[wasm_bindgen(js_name = resumeFrom, unchecked_return_type = "number | null")]
pub fn js_resume_from(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] row: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    Ok(
        subscription::resume_from(&billable(&row)?, time_arg(&now, "now")?)?
            .map_or(JsValue::NULL, |p| JsValue::from_f64(p as f64)),
    )
}

/// Refuses any change to a canceled row (409 `subscription_canceled`).
#[wasm_bindgen(js_name = refuseCanceled)]
pub fn js_refuse_canceled(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] row: JsValue,
) -> JsResult<()> {
    let raw = to_raw(&row);
    let guid = input::opt_string(&raw, "guid", 64)?.unwrap_or_default();
    Ok(subscription::refuse_canceled(
        is_set(&raw, "canceled"),
        &guid,
    )?)
}

/// `{at_period_end, prorate}` of a cancel request.
#[wasm_bindgen(js_name = cancelOptions)]
pub fn js_cancel_options(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
) -> JsResult<JsValue> {
    crate::json_struct! {
        struct Options {
            at_period_end: bool,
            prorate: bool,
        }
    }
    let (at_period_end, prorate) = subscription::cancel_options(&to_raw(&input))?;
    out(&Options {
        at_period_end,
        prorate,
    })
}

/// The invoice of the current period (`PeriodInvoiceRow`, or null) with its `transactions`, for what was paid.
fn period_invoice(
    invoice: &JsValue,
    transactions: &JsValue,
) -> crate::error::Result<Option<subscription::PeriodInvoice>> {
    let raw = to_raw(invoice);
    if matches!(raw, Raw::Null) {
        return Ok(None);
    }
    let txs = super::rows_arg(
        transactions,
        "transactions",
        crate::invoice::OwnedTx::from_raw,
    )?;
    subscription::PeriodInvoice::from_raw(&raw, &txs).map(Some)
}

/// 400 on `trial_end` when a trial would end before its subscription starts.
#[wasm_bindgen(js_name = checkTrialEnd)]
pub fn js_check_trial_end(
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] trial_end: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] started_at: JsValue,
) -> JsResult<()> {
    Ok(subscription::check_trial_end(
        time_arg(&trial_end, "trial_end")?,
        time_arg(&started_at, "started_at")?,
    )?)
}

/// The credit (≥ 0) of a prorated immediate cancel of `row` at `at`: the invoice of its current period (a stored row
/// with `items` and `adjustments` as arrays and `balance_entries`, or null) and that invoice's `transactions` say what
/// was paid; `pendingNet` is the sum of its pending prorations ([`subscription::cancel_credit`]).
#[wasm_bindgen(js_name = cancelCredit)]
pub fn js_cancel_credit(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] row: JsValue,
    #[wasm_bindgen(unchecked_param_type = "PeriodInvoiceRow | null")] invoice: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransactionRow[]")] transactions: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] pending_net: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] at: JsValue,
) -> JsResult<f64> {
    let inv = period_invoice(&invoice, &transactions)?;
    let pending_net = super::amount_arg(&pending_net, "pending_net", -crate::money::MAX_AMOUNT)?;
    Ok(subscription::cancel_credit(
        &billable(&row)?,
        inv.as_ref(),
        pending_net,
        time_arg(&at, "at")?,
    )? as f64)
}

/// The balance entry (≤ 0; 0: none) for a subscription's pending adjustments netting `net` when it ends.
#[wasm_bindgen(js_name = endingCredit)]
pub fn js_ending_credit(
    #[wasm_bindgen(unchecked_param_type = "number")] net: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] plan_type: JsValue,
) -> JsResult<f64> {
    let net = super::amount_arg(&net, "net", -crate::money::MAX_AMOUNT)?;
    let payout = str_arg(&plan_type, "plan_type")?.eq_ignore_ascii_case("credit");
    Ok(crate::next_invoice::ending_credit(net, payout) as f64)
}

/// Validates `PUT /v1/subscriptions/<guid>` at `now`.
#[wasm_bindgen(js_name = validateSubscriptionUpdate)]
pub fn js_validate_subscription_update(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] now: JsValue,
) -> JsResult<JsValue> {
    out(&plan_change::validate_update(
        &to_raw(&input),
        &str_arg(&now, "now")?,
    )?)
}

fn side(raw: &Raw, amount: i64, label: String) -> crate::error::Result<Side> {
    Ok(Side {
        amount,
        frequency: Frequency::parse(&input::req_string(raw, "frequency", 16)?, "frequency")?,
        interval: input::opt_int(raw, "interval", 1, crate::money::MAX_AMOUNT)?.unwrap_or(1),
        plan_type: input::req_string(raw, "plan_type", 16)?,
        label,
    })
}

/// What changing `row` (joined with its current plan, `plan_type` included) to plan `newPlan` (a plan row) with
/// the override `newAmount` (null: the plan's amount) does at `at` → `{reset_anchor, prorations, invoice_now}`.
/// `invoice`: the current period's invoice (as for `cancelCredit`, or null: none), with its `transactions`.
#[wasm_bindgen(js_name = planChange)]
pub fn js_plan_change(
    #[wasm_bindgen(unchecked_param_type = "RawInput")] row: JsValue,
    #[wasm_bindgen(unchecked_param_type = "PeriodInvoiceRow | null")] invoice: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TransactionRow[]")] transactions: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RawInput")] new_plan: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | null")] new_amount: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ProrationBehavior")] behavior: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CanonicalTime")] at: JsValue,
) -> JsResult<JsValue> {
    let raw = to_raw(&row);
    let b = Billable::from_raw(&raw)?;
    let plan = to_raw(&new_plan);
    let old_amount = subscription::subscription_amount(b.amount, b.plan_amount);
    let new_override = match to_raw(&new_amount) {
        Raw::Null => None,
        v => Some(input::amount_value(&v, "amount", 0)?),
    };
    let new_amount =
        subscription::subscription_amount(new_override, input::req_amount(&plan, "amount", 0)?);
    let label = |r: &Raw, key: &str, amount: i64| {
        format!(
            "plan {} ({amount})",
            input::opt_string(r, key, 64)
                .ok()
                .flatten()
                .unwrap_or_default()
        )
    };
    let old = side(&raw, old_amount, label(&raw, "plan_guid", old_amount))?;
    let new = side(&plan, new_amount, label(&plan, "guid", new_amount))?;
    let behavior = ProrationBehavior::parse(
        &str_arg(&behavior, "proration_behavior")?,
        "proration_behavior",
    )?;
    let current = period_invoice(&invoice, &transactions)?;
    out(&plan_change::change(
        &b,
        current.as_ref(),
        &old,
        &new,
        behavior,
        time_arg(&at, "at")?,
    )?)
}

/// Composes a subscription invoice of `amount` with `pending` adjustments, a coupon row (or null) that already
/// covered `couponApplied` invoices, and the customer's `balance` → [`crate::next_invoice::Composed`].
#[wasm_bindgen(js_name = composeInvoice)]
pub fn js_compose_invoice(
    #[wasm_bindgen(unchecked_param_type = "number")] amount: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Adjustment[]")] pending: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RawInput | null")] coupon: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] coupon_applied: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] balance: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] plan_type: JsValue,
) -> JsResult<JsValue> {
    let amount = super::amount_arg(&amount, "amount", 0)?;
    let pending: Vec<Adjustment> = match to_raw(&pending) {
        Raw::Null => Vec::new(),
        raw => crate::invoice::adjustments_from_array(&raw)?,
    };
    let coupon = match to_raw(&coupon) {
        Raw::Null => None,
        raw => Some(Coupon::from_row(&raw)?),
    };
    let applied = int_arg(
        &coupon_applied,
        "coupon_applied",
        0,
        crate::money::MAX_AMOUNT,
    )?;
    let balance = super::amount_arg(&balance, "balance", -crate::money::MAX_AMOUNT)?;
    let payout = str_arg(&plan_type, "plan_type")?.eq_ignore_ascii_case("credit");
    out(&crate::next_invoice::compose(
        amount,
        &pending,
        coupon.as_ref().map(|c| (c, applied)),
        balance,
        payout,
    )?)
}
