//! Coupons: a discount a subscription's invoices get for some number of periods.
//!
//! - A coupon discounts by exactly one of `percent_off` (a decimal, 0 < p ≤ 100, at most 4 decimal places) or
//!   `amount_off` (minor units ≥ 1, in its own `currency`): a fixed amount means nothing without its currency.
//! - `duration` says how many invoices it covers: `once` the first, `repeating` the first `duration_in_periods`,
//!   `forever` all. Only invoices the coupon actually discounted count ([`covers`]).
//! - A coupon may be newly applied ([`redeem`]) only while it is not deleted, not past `redeem_by`, not used up
//!   (`max_redemptions`) and, for a fixed amount, only to invoices in its currency. Each refusal is a 409
//!   `Conflict` with its own code, since the request was well-formed but the coupon's state forbids it.
//! - The discount ([`adjustment`]) is a percent of the invoice amount before other adjustments, rounded half to
//!   even like every rate ([`money::apply_rate`]), or the fixed amount; it is capped so it never takes the
//!   invoice's effective amount below 0 (a coupon discounts, it never pays the customer).

use rust_decimal::Decimal;

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::invoice::Adjustment;
use crate::money::{self, MAX_AMOUNT};
use crate::time::{self, Instant};

/// Longest coupon code, in characters.
pub const MAX_CODE_LEN: usize = 64;
/// Most periods a `repeating` coupon may cover (a century of monthly invoices).
pub const MAX_PERIODS: i64 = 1200;
/// Most decimal places of `percent_off`.
pub const PERCENT_SCALE: u32 = 4;

/// What a coupon takes off an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discount {
    /// A percent of the invoice amount, 0 < p ≤ 100.
    Percent(Decimal),
    /// A fixed amount in minor units of `currency` (an uppercase ISO 4217 code).
    Amount { amount_off: i64, currency: String },
}

/// How many invoices a coupon covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duration {
    Once,
    /// The first N invoices, 1 ≤ N ≤ [`MAX_PERIODS`].
    Repeating(i64),
    Forever,
}

impl Duration {
    /// The API name of the duration.
    pub fn name(&self) -> &'static str {
        match self {
            Duration::Once => "once",
            Duration::Repeating(_) => "repeating",
            Duration::Forever => "forever",
        }
    }
}

/// A coupon, as validated or as read back from storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    pub code: String,
    pub name: Option<String>,
    pub discount: Discount,
    pub duration: Duration,
    pub max_redemptions: Option<i64>,
    pub redeem_by: Option<Instant>,
}

crate::json_struct! {
    /// A validated coupon creation request, in the shape the worker stores (one column per field, nulls for absent).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CouponInput {
        pub code: String,
        pub name: Option<String>,
        /// Normalized decimal (`"12.5"`, `"100"`).
        pub percent_off: Option<String>,
        pub amount_off: Option<i64>,
        /// Uppercase ISO 4217 code; only with `amount_off`.
        pub currency: Option<String>,
        pub duration: &'static str,
        /// Only with `repeating`.
        pub duration_in_periods: Option<i64>,
        pub max_redemptions: Option<i64>,
        /// Canonical time.
        pub redeem_by: Option<String>,
    }
}

impl From<&Coupon> for CouponInput {
    fn from(c: &Coupon) -> CouponInput {
        let (percent_off, amount_off, currency) = match &c.discount {
            Discount::Percent(p) => (Some(p.normalize().to_string()), None, None),
            Discount::Amount {
                amount_off,
                currency,
            } => (None, Some(*amount_off), Some(currency.clone())),
        };
        CouponInput {
            code: c.code.clone(),
            name: c.name.clone(),
            percent_off,
            amount_off,
            currency,
            duration: c.duration.name(),
            duration_in_periods: match c.duration {
                Duration::Repeating(n) => Some(n),
                _ => None,
            },
            max_redemptions: c.max_redemptions,
            redeem_by: c.redeem_by.map(time::format),
        }
    }
}

/// `code`: 1–64 characters of `A–Z a–z 0–9 _ -` (it appears in URLs and in adjustment reasons).
fn code(raw: &Raw) -> Result<String> {
    let code = input::req_string(raw, "code", MAX_CODE_LEN)?;
    if let Some(c) = code
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(CoreError::invalid(
            "code",
            format!("must contain only letters A–Z and a–z, digits, '_' and '-' (found '{c}')"),
        ));
    }
    Ok(code)
}

/// `percent_off`: 0 < p ≤ 100, at most [`PERCENT_SCALE`] decimal places (trailing zeros do not count).
fn percent(v: &Raw) -> Result<Decimal> {
    let p =
        input::decimal_value(v, "percent_off", Decimal::ZERO, Decimal::ONE_HUNDRED)?.normalize();
    if p.is_zero() {
        return Err(CoreError::invalid(
            "percent_off",
            "must be greater than 0 (a coupon of 0% discounts nothing)",
        ));
    }
    if p.scale() > PERCENT_SCALE {
        return Err(CoreError::invalid(
            "percent_off",
            format!(
                "must have at most {PERCENT_SCALE} decimal places, got {}",
                input::show(v)
            ),
        ));
    }
    Ok(p)
}

/// The discount: exactly one of `percent_off` or `amount_off` (with its `currency`).
fn discount(raw: &Raw) -> Result<Discount> {
    let percent_off = input::present(raw, "percent_off");
    let amount_off = input::opt_amount(raw, "amount_off", 1)?;
    let currency = input::opt_string(raw, "currency", 16)?;
    match (percent_off, amount_off) {
        (Some(_), Some(_)) => Err(CoreError::invalid(
            "amount_off",
            "cannot be combined with percent_off: a coupon has exactly one of them",
        )),
        (None, None) => Err(CoreError::missing("percent_off")),
        (Some(p), None) => {
            if currency.is_some() {
                return Err(CoreError::invalid(
                    "currency",
                    "is only allowed with amount_off (a percent applies in any currency)",
                ));
            }
            Ok(Discount::Percent(percent(p)?))
        }
        (None, Some(amount_off)) => {
            let currency = currency.ok_or_else(|| CoreError::missing("currency"))?;
            Ok(Discount::Amount {
                amount_off,
                currency: money::currency(&currency)?.code.to_string(),
            })
        }
    }
}

/// `duration` and, for `repeating` only, `duration_in_periods`.
fn duration(raw: &Raw) -> Result<Duration> {
    let name = input::req_string(raw, "duration", 16)?;
    let periods = input::opt_int(raw, "duration_in_periods", 1, MAX_PERIODS)?;
    match (name.as_str(), periods) {
        ("repeating", Some(n)) => Ok(Duration::Repeating(n)),
        ("repeating", None) => Err(CoreError::missing("duration_in_periods")),
        ("once" | "forever", Some(_)) => Err(CoreError::invalid(
            "duration_in_periods",
            format!("is only allowed with duration repeating, not {name}"),
        )),
        ("once", None) => Ok(Duration::Once),
        ("forever", None) => Ok(Duration::Forever),
        _ => Err(CoreError::invalid(
            "duration",
            format!(
                "must be one of once, repeating, forever, got {}",
                input::show(&Raw::String(name.clone()))
            ),
        )),
    }
}

/// Every field's own rule (no comparison with `now`).
fn read(raw: &Raw) -> Result<Coupon> {
    Ok(Coupon {
        code: code(raw)?,
        name: input::opt_string(raw, "name", 255)?,
        discount: discount(raw)?,
        duration: duration(raw)?,
        max_redemptions: input::opt_int(raw, "max_redemptions", 1, MAX_AMOUNT)?,
        redeem_by: time::opt_field(raw, "redeem_by")?,
    })
}

/// Validates a coupon creation request at the company's `now`; `redeem_by` must lie after `now` (a coupon that
/// can never be redeemed is a mistake).
pub fn validate_coupon(raw: &Raw, now: Instant) -> Result<CouponInput> {
    input::object(raw, "input")?;
    let coupon = read(raw)?;
    if let Some(by) = coupon.redeem_by {
        if by <= now {
            return Err(CoreError::invalid(
                "redeem_by",
                format!(
                    "must be after now ({}), got {}",
                    time::format(now),
                    time::format(by)
                ),
            ));
        }
    }
    Ok(CouponInput::from(&coupon))
}

impl Coupon {
    /// Reads a stored row {code, name, percent_off, amount_off, currency, duration, duration_in_periods,
    /// max_redemptions, redeem_by} (as the worker reads it from SQLite: nulls for absent). The same rules as at
    /// creation except `redeem_by` may since have passed; errors name `coupon.<field>`.
    pub fn from_row(raw: &Raw) -> Result<Coupon> {
        input::object(raw, "coupon")?;
        read(raw).map_err(|e| match e.field() {
            Some(f) => e.in_field(&format!("coupon.{f}")),
            None => e,
        })
    }
}

fn conflict(code: &'static str, reason: String) -> CoreError {
    CoreError::Conflict {
        code,
        field: Some("coupon".into()),
        reason,
    }
}

/// May the coupon be newly applied now, to an invoice (subscription) in `currency`? Checked in this order:
/// deleted → `coupon_deleted`; `redeem_by ≤ now` → `coupon_expired`; `times_redeemed ≥ max_redemptions` →
/// `coupon_exhausted`; an `amount_off` coupon in another currency → `coupon_currency_mismatch` (all 409, field
/// `coupon`). Returns the new `times_redeemed` (`times_redeemed + 1`).
pub fn redeem(
    c: &Coupon,
    times_redeemed: i64,
    deleted: bool,
    now: Instant,
    currency: &str,
) -> Result<i64> {
    if times_redeemed < 0 {
        return Err(CoreError::invalid(
            "times_redeemed",
            format!("must not be negative, got {times_redeemed}"),
        ));
    }
    if deleted {
        return Err(conflict(
            "coupon_deleted",
            format!("coupon {} has been deleted", c.code),
        ));
    }
    if let Some(by) = c.redeem_by {
        if by <= now {
            return Err(conflict(
                "coupon_expired",
                format!(
                    "coupon {} could be redeemed until {}; now is {}",
                    c.code,
                    time::format(by),
                    time::format(now)
                ),
            ));
        }
    }
    if let Some(max) = c.max_redemptions {
        if times_redeemed >= max {
            return Err(conflict(
                "coupon_exhausted",
                format!(
                    "coupon {} has been redeemed {times_redeemed} times, its maximum is {max}",
                    c.code
                ),
            ));
        }
    }
    if let Discount::Amount {
        currency: own,
        amount_off,
    } = &c.discount
    {
        if !own.eq_ignore_ascii_case(currency) {
            return Err(conflict(
                "coupon_currency_mismatch",
                format!(
                    "coupon {} takes {amount_off} off in {own}, but the invoice is in {}",
                    c.code,
                    currency.chars().take(16).collect::<String>()
                ),
            ));
        }
    }
    money::add(times_redeemed, 1).map_err(|e| e.in_field("times_redeemed"))
}

/// Does the coupon cover the next invoice, given how many invoices it already discounted? `once` → none yet;
/// `repeating N` → fewer than N; `forever` → always.
pub fn covers(d: &Duration, applied: i64) -> bool {
    match d {
        Duration::Once => applied == 0,
        Duration::Repeating(n) => applied < *n,
        Duration::Forever => true,
    }
}

/// The discount adjustment of one covered invoice of `amount` that already has `other_adjustments` (their sum):
/// a percent is `round_half_even(amount × p / 100)` (of the amount before other adjustments), a fixed amount is
/// itself; either is capped at `max(0, amount + other_adjustments)`, so the effective amount never goes below 0.
/// Returns `{amount: −discount, reason: "coupon <code>"}`, or `None` when the discount is 0.
pub fn adjustment(c: &Coupon, amount: i64, other_adjustments: i64) -> Result<Option<Adjustment>> {
    money::check(i128::from(amount)).map_err(|e| e.in_field("amount"))?;
    money::check(i128::from(other_adjustments)).map_err(|e| e.in_field("other_adjustments"))?;
    let wanted = match &c.discount {
        Discount::Percent(p) => {
            // p has at most 4 decimal places, so p / 100 is exact and amount × p / 100 fits a decimal.
            let rate = p
                .checked_div(Decimal::ONE_HUNDRED)
                .ok_or_else(|| CoreError::Internal {
                    reason: format!("{p} / 100 does not fit a decimal"),
                })?;
            money::apply_rate(amount, rate).map_err(|e| e.in_field("amount"))?
        }
        Discount::Amount { amount_off, .. } => *amount_off,
    };
    let room = (i128::from(amount) + i128::from(other_adjustments)).max(0);
    // 0 ≤ discount ≤ wanted ≤ MAX_AMOUNT, so the narrowing cannot fail.
    let discount = i128::from(wanted).min(room).max(0) as i64;
    if discount == 0 {
        return Ok(None);
    }
    Ok(Some(Adjustment {
        amount: -discount,
        reason: Some(format!("coupon {}", c.code)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;

    fn t(s: &str) -> Instant {
        time::parse(s, "t").unwrap()
    }

    fn obj(pairs: &[(&str, Raw)]) -> Raw {
        Raw::object(pairs.iter().cloned())
    }

    fn now() -> Instant {
        t("2024-01-01T00:00:00Z")
    }

    fn percent_coupon(p: &str, duration: Duration) -> Coupon {
        Coupon {
            code: "SAVE".into(),
            name: None,
            discount: Discount::Percent(p.parse().unwrap()),
            duration,
            max_redemptions: None,
            redeem_by: None,
        }
    }

    fn amount_coupon(amount_off: i64, currency: &str) -> Coupon {
        Coupon {
            code: "TENOFF".into(),
            name: None,
            discount: Discount::Amount {
                amount_off,
                currency: currency.into(),
            },
            duration: Duration::Forever,
            max_redemptions: None,
            redeem_by: None,
        }
    }

    fn err_of(pairs: &[(&str, Raw)]) -> (&'static str, Option<String>) {
        let e = validate_coupon(&obj(pairs), now()).unwrap_err();
        (e.code(), e.field())
    }

    #[test]
    fn a_form_body_of_a_percent_coupon() {
        let c = validate_coupon(
            &obj(&[
                ("code", "SPRING-24_a".into()),
                ("name", "Spring sale".into()),
                ("percent_off", "12.50".into()),
                ("duration", "repeating".into()),
                ("duration_in_periods", "3".into()),
                ("max_redemptions", "100".into()),
                ("redeem_by", "2024-03-01".into()),
            ]),
            now(),
        )
        .unwrap();
        assert_eq!(
            c,
            CouponInput {
                code: "SPRING-24_a".into(),
                name: Some("Spring sale".into()),
                percent_off: Some("12.5".into()),
                amount_off: None,
                currency: None,
                duration: "repeating",
                duration_in_periods: Some(3),
                max_redemptions: Some(100),
                redeem_by: Some("2024-03-01T00:00:00.000000+00:00".into()),
            }
        );
    }

    #[test]
    fn a_json_body_of_an_amount_coupon() {
        let c = validate_coupon(
            &obj(&[
                ("code", "TENOFF".into()),
                ("amount_off", 1000i64.into()),
                ("currency", "usd".into()),
                ("duration", "once".into()),
                ("duration_in_periods", Raw::Null),
            ]),
            now(),
        )
        .unwrap();
        assert_eq!(
            (
                c.amount_off,
                c.currency.as_deref(),
                c.percent_off,
                c.duration
            ),
            (Some(1000), Some("USD"), None, "once")
        );
        assert_eq!(
            (c.duration_in_periods, c.max_redemptions, c.redeem_by),
            (None, None, None)
        );
        let c = validate_coupon(
            &obj(&[
                ("code", "ALL".into()),
                ("percent_off", Raw::from(100i64)),
                ("duration", "forever".into()),
            ]),
            now(),
        )
        .unwrap();
        assert_eq!(c.percent_off.as_deref(), Some("100"));
        let c = validate_coupon(
            &obj(&[
                ("code", "X".into()),
                ("percent_off", Raw::from(0.1)),
                ("duration", "once".into()),
            ]),
            now(),
        )
        .unwrap();
        assert_eq!(c.percent_off.as_deref(), Some("0.1"));
    }

    #[test]
    fn code_rules() {
        let base = |code: Raw| {
            validate_coupon(
                &obj(&[
                    ("code", code),
                    ("percent_off", "5".into()),
                    ("duration", "once".into()),
                ]),
                now(),
            )
        };
        assert!(base("a".repeat(64).into()).is_ok());
        for bad in [
            "a".repeat(65),
            "SAVE 10".into(),
            "SAVE/10".into(),
            "café".into(),
        ] {
            let e = base(bad.clone().into()).unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("invalid_field", Some("code")),
                "{bad}"
            );
        }
        assert_eq!(base("".into()).unwrap_err().code(), "missing_field");
        assert_eq!(base(Raw::from(5i64)).unwrap_err().code(), "invalid_field");
    }

    #[test]
    fn exactly_one_of_percent_or_amount() {
        let d = ("duration", Raw::from("once"));
        let c = ("code", Raw::from("C"));
        assert_eq!(
            err_of(&[
                c.clone(),
                d.clone(),
                ("percent_off", "5".into()),
                ("amount_off", "5".into())
            ]),
            ("invalid_field", Some("amount_off".into()))
        );
        assert_eq!(
            err_of(&[c.clone(), d.clone()]),
            ("missing_field", Some("percent_off".into()))
        );
        assert_eq!(
            err_of(&[c.clone(), d.clone(), ("amount_off", "500".into())]),
            ("missing_field", Some("currency".into()))
        );
        assert_eq!(
            err_of(&[
                c.clone(),
                d.clone(),
                ("percent_off", "5".into()),
                ("currency", "USD".into())
            ]),
            ("invalid_field", Some("currency".into()))
        );
        assert_eq!(
            err_of(&[c.clone(), d.clone(), ("currency", "USD".into())]),
            ("missing_field", Some("percent_off".into()))
        );
        assert_eq!(
            err_of(&[
                c.clone(),
                d.clone(),
                ("amount_off", "5".into()),
                ("currency", "QQQ".into())
            ]),
            ("unknown_currency", Some("currency".into()))
        );
        for bad in ["0", "-5", "9007199254740992"] {
            assert_eq!(
                err_of(&[
                    c.clone(),
                    d.clone(),
                    ("amount_off", bad.into()),
                    ("currency", "USD".into())
                ]),
                ("amount_out_of_range", Some("amount_off".into())),
                "{bad}"
            );
        }
        assert_eq!(
            err_of(&[
                c.clone(),
                d.clone(),
                ("amount_off", "5.5".into()),
                ("currency", "USD".into())
            ]),
            ("invalid_field", Some("amount_off".into()))
        );
    }

    #[test]
    fn percent_rules() {
        let p = |v: Raw| {
            validate_coupon(
                &obj(&[
                    ("code", "C".into()),
                    ("percent_off", v),
                    ("duration", "once".into()),
                ]),
                now(),
            )
        };
        for (v, want) in [
            ("0.0001", "0.0001"),
            ("33.3333", "33.3333"),
            ("100.00000", "100"),
            ("7", "7"),
        ] {
            assert_eq!(
                p(v.into()).unwrap().percent_off.as_deref(),
                Some(want),
                "{v}"
            );
        }
        for bad in [
            "0", "0.0000", "100.0001", "33.33333", "-1", "abc", "1e1", " 5",
        ] {
            let e = p(bad.into()).unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("invalid_field", Some("percent_off")),
                "{bad}"
            );
        }
        assert!(p(Raw::Bool(true)).is_err());
        assert!(p(Raw::from(0.00001)).is_err());
    }

    #[test]
    fn duration_rules() {
        let dur = |pairs: &[(&str, Raw)]| {
            let mut all = vec![("code", Raw::from("C")), ("percent_off", Raw::from("5"))];
            all.extend(pairs.iter().cloned());
            validate_coupon(&obj(&all), now())
        };
        assert_eq!(dur(&[]).unwrap_err().field().as_deref(), Some("duration"));
        let e = dur(&[("duration", "weekly".into())]).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("invalid_field", Some("duration"))
        );
        let e = dur(&[("duration", "repeating".into())]).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("missing_field", Some("duration_in_periods"))
        );
        for n in ["0", "1201", "1.5", "-1"] {
            let e = dur(&[
                ("duration", "repeating".into()),
                ("duration_in_periods", n.into()),
            ])
            .unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("invalid_field", Some("duration_in_periods")),
                "{n}"
            );
        }
        assert_eq!(
            dur(&[
                ("duration", "repeating".into()),
                ("duration_in_periods", Raw::from(1200i64))
            ])
            .unwrap()
            .duration_in_periods,
            Some(1200)
        );
        for other in ["once", "forever"] {
            let e = dur(&[
                ("duration", other.into()),
                ("duration_in_periods", "2".into()),
            ])
            .unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("invalid_field", Some("duration_in_periods"))
            );
        }
    }

    #[test]
    fn optional_fields() {
        let with = |pairs: &[(&str, Raw)]| {
            let mut all = vec![
                ("code", Raw::from("C")),
                ("percent_off", Raw::from("5")),
                ("duration", Raw::from("once")),
            ];
            all.extend(pairs.iter().cloned());
            validate_coupon(&obj(&all), now())
        };
        for bad in ["0", "-1", "x"] {
            assert_eq!(
                with(&[("max_redemptions", bad.into())])
                    .unwrap_err()
                    .field()
                    .as_deref(),
                Some("max_redemptions")
            );
        }
        assert_eq!(
            with(&[("name", "n".repeat(255).into())])
                .unwrap()
                .name
                .map(|n| n.len()),
            Some(255)
        );
        assert_eq!(
            with(&[("name", "n".repeat(256).into())])
                .unwrap_err()
                .field()
                .as_deref(),
            Some("name")
        );
        for past in ["2024-01-01T00:00:00Z", "2023-12-31"] {
            let e = with(&[("redeem_by", past.into())]).unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("invalid_field", Some("redeem_by")),
                "{past}"
            );
        }
        let e = with(&[("redeem_by", "soon".into())]).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("invalid_time", Some("redeem_by"))
        );
        let e = with(&[("redeem_by", Raw::from(5i64))]).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("invalid_time", Some("redeem_by"))
        );
        assert_eq!(
            with(&[("redeem_by", "2024-01-01T00:00:00.000001Z".into())])
                .unwrap()
                .redeem_by
                .as_deref(),
            Some("2024-01-01T00:00:00.000001+00:00")
        );
        assert_eq!(
            validate_coupon(&Raw::from("x"), now())
                .unwrap_err()
                .field()
                .as_deref(),
            Some("input")
        );
    }

    #[test]
    fn rows_read_back_what_validation_stored() {
        let row = obj(&[
            ("code", "TENOFF".into()),
            ("name", Raw::Null),
            ("percent_off", Raw::Null),
            ("amount_off", 1000i64.into()),
            ("currency", "USD".into()),
            ("duration", "repeating".into()),
            ("duration_in_periods", 3i64.into()),
            ("max_redemptions", Raw::Null),
            ("redeem_by", "2023-06-01T00:00:00.000000+00:00".into()),
            ("times_redeemed", 7i64.into()),
            ("deleted", 0i64.into()),
        ]);
        let c = Coupon::from_row(&row).unwrap();
        assert_eq!(
            c,
            Coupon {
                code: "TENOFF".into(),
                name: None,
                discount: Discount::Amount {
                    amount_off: 1000,
                    currency: "USD".into()
                },
                duration: Duration::Repeating(3),
                max_redemptions: None,
                // Past redeem_by is fine in a stored row: only redeem() judges it.
                redeem_by: Some(t("2023-06-01")),
            }
        );
        let stored = CouponInput::from(&c);
        assert_eq!(
            stored.redeem_by.as_deref(),
            Some("2023-06-01T00:00:00.000000+00:00")
        );
        let row = obj(&[
            ("code", "P".into()),
            ("percent_off", "12.5".into()),
            ("duration", "forever".into()),
        ]);
        assert_eq!(
            Coupon::from_row(&row).unwrap().discount,
            Discount::Percent("12.5".parse().unwrap())
        );
        let e = Coupon::from_row(&obj(&[("code", "P".into()), ("duration", "once".into())]))
            .unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("missing_field", Some("coupon.percent_off"))
        );
        assert_eq!(
            Coupon::from_row(&Raw::from(1i64))
                .unwrap_err()
                .field()
                .as_deref(),
            Some("coupon")
        );
    }

    #[test]
    fn redeem_refusals_in_order() {
        let mut c = amount_coupon(500, "USD");
        c.max_redemptions = Some(2);
        c.redeem_by = Some(t("2024-02-01"));
        assert_eq!(redeem(&c, 0, false, now(), "usd").unwrap(), 1);
        assert_eq!(redeem(&c, 1, false, now(), "USD").unwrap(), 2);
        let code = |r: Result<i64>| {
            let e = r.unwrap_err();
            assert_eq!((e.status(), e.field().as_deref()), (409, Some("coupon")));
            e.code()
        };
        assert_eq!(code(redeem(&c, 2, false, now(), "USD")), "coupon_exhausted");
        assert_eq!(
            code(redeem(&c, 0, false, t("2024-02-01"), "USD")),
            "coupon_expired"
        );
        assert_eq!(
            code(redeem(&c, 0, false, now(), "EUR")),
            "coupon_currency_mismatch"
        );
        assert_eq!(
            code(redeem(&c, 5, true, t("2030-01-01"), "EUR")),
            "coupon_deleted"
        );
        assert_eq!(
            code(redeem(&c, 5, false, t("2030-01-01"), "EUR")),
            "coupon_expired"
        );
        assert_eq!(code(redeem(&c, 5, false, now(), "EUR")), "coupon_exhausted");
        // A percent coupon applies in any currency; no limits means always redeemable.
        let p = percent_coupon("10", Duration::Once);
        assert_eq!(
            redeem(&p, 1_000_000, false, now(), "JPY").unwrap(),
            1_000_001
        );
        assert_eq!(
            redeem(&p, -1, false, now(), "JPY").unwrap_err().code(),
            "invalid_field"
        );
        assert_eq!(
            redeem(&p, MAX_AMOUNT, false, now(), "JPY")
                .unwrap_err()
                .code(),
            "amount_out_of_range"
        );
    }

    #[test]
    fn durations_cover() {
        assert!(covers(&Duration::Once, 0));
        assert!(!covers(&Duration::Once, 1));
        assert!(covers(&Duration::Repeating(3), 2));
        assert!(!covers(&Duration::Repeating(3), 3));
        assert!(covers(&Duration::Forever, i64::MAX));
    }

    #[test]
    fn property_repeating_n_covers_exactly_n_of_m_invoices() {
        let mut rng = XorShift::new(0xC0_4B0A);
        for _ in 0..2_000 {
            let n = rng.range(1, MAX_PERIODS);
            let m = n + rng.range(0, 50);
            let d = Duration::Repeating(n);
            let mut applied = 0;
            let mut covered = Vec::new();
            for i in 0..m {
                if covers(&d, applied) {
                    applied += 1;
                    covered.push(i);
                }
            }
            assert_eq!(applied, n);
            // The covered invoices are the first N.
            assert_eq!(covered, (0..n).collect::<Vec<_>>());
        }
        let mut applied = 0;
        for _ in 0..10 {
            if covers(&Duration::Once, applied) {
                applied += 1;
            }
        }
        assert_eq!(applied, 1);
    }

    #[test]
    fn percent_discounts_round_half_to_even() {
        let q = percent_coupon("25", Duration::Forever);
        let off = |c: &Coupon, amount: i64| adjustment(c, amount, 0).unwrap().map(|a| a.amount);
        assert_eq!(off(&q, 250), Some(-62)); // 62.5 → 62
        assert_eq!(off(&q, 350), Some(-88)); // 87.5 → 88
        assert_eq!(off(&q, 1), None); // 0.25 → 0: no adjustment at all
        assert_eq!(off(&q, 2), None); // 0.5 → 0
        assert_eq!(off(&q, 6), Some(-2)); // 1.5 → 2
        let all = percent_coupon("100", Duration::Forever);
        for amount in [1, 999, MAX_AMOUNT] {
            assert_eq!(off(&all, amount), Some(-amount));
        }
        let tiny = percent_coupon("0.0001", Duration::Forever);
        assert_eq!(off(&tiny, MAX_AMOUNT), Some(-9_007_199_255));
        let a = adjustment(&q, 1000, 0).unwrap().unwrap();
        assert_eq!(a.reason.as_deref(), Some("coupon SAVE"));
    }

    #[test]
    fn discounts_are_capped_at_the_remaining_amount() {
        let fixed = amount_coupon(1000, "USD");
        let off = |c: &Coupon, amount: i64, other: i64| {
            adjustment(c, amount, other).unwrap().map(|a| a.amount)
        };
        assert_eq!(off(&fixed, 5000, 0), Some(-1000));
        assert_eq!(off(&fixed, 600, 0), Some(-600));
        assert_eq!(off(&fixed, 5000, -4500), Some(-500));
        assert_eq!(off(&fixed, 5000, -5000), None);
        assert_eq!(off(&fixed, 5000, -6000), None);
        assert_eq!(off(&fixed, 0, 0), None);
        // A percent is of the amount before other adjustments, then capped.
        let half = percent_coupon("50", Duration::Once);
        assert_eq!(off(&half, 1000, 200), Some(-500));
        assert_eq!(off(&half, 1000, -800), Some(-200));
        assert_eq!(off(&half, -1000, 5000), None);
        assert_eq!(
            adjustment(&fixed, MAX_AMOUNT + 1, 0)
                .unwrap_err()
                .field()
                .as_deref(),
            Some("amount")
        );
        assert_eq!(
            adjustment(&fixed, 0, -MAX_AMOUNT - 1)
                .unwrap_err()
                .field()
                .as_deref(),
            Some("other_adjustments")
        );
    }

    #[test]
    fn property_a_coupon_never_makes_the_effective_amount_negative() {
        let mut rng = XorShift::new(0xD15C_0047);
        for _ in 0..5_000 {
            let c = if rng.next().is_multiple_of(2) {
                let p = Decimal::new(rng.range(1, 1_000_000), 4);
                percent_coupon(&p.to_string(), Duration::Forever)
            } else {
                amount_coupon(rng.range(1, 1_000_000_000), "USD")
            };
            let amount = match rng.next() % 4 {
                0 => rng.range(0, 100),
                1 => rng.range(-1_000, 1_000),
                _ => rng.range(0, 1_000_000_000_000),
            };
            let other = match rng.next() % 3 {
                0 => 0,
                1 => rng.range(-amount.abs() - 10, 10),
                _ => rng.range(-1_000_000_000, 1_000_000_000),
            };
            let discount = adjustment(&c, amount, other)
                .unwrap()
                .map_or(0, |a| a.amount);
            assert!(discount <= 0);
            let before = amount + other;
            if before >= 0 {
                assert!(before + discount >= 0, "{c:?} {amount} {other} {discount}");
            }
            if before <= 0 {
                assert_eq!(discount, 0, "{c:?} {amount} {other}");
            }
            if let Discount::Amount { amount_off, .. } = c.discount {
                assert_eq!(-discount, amount_off.min(before.max(0)));
            }
        }
    }
}
