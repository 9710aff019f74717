//! Proration: what a plan change (or a cancel) in the middle of a billing period credits and charges.
//!
//! The rule, for a change at instant `at` inside the period `[start, end)`:
//! - the period must be non-empty (`end > start`) and contain `at` (`start ≤ at < end`): a change at `end`
//!   already belongs to the next period;
//! - the **unused share** is `unused = (end − at) / (end − start)`, a ratio of microsecond counts (the precision
//!   of [`Instant`]), so it is exact: no day counting, no floats;
//! - `credit = −round(old_amount × unused)` gives back the unused part of what was billed for the period, and
//!   `charge = round(new_amount × unused)` bills the new price for the same remainder;
//! - each product is rounded once, **half to even**, to a whole minor unit (the amounts are already minor units),
//!   like [`crate::money::apply_rate`]: rounding errors do not drift in one direction over many changes.
//!
//! The products are computed as exact fractions in 128-bit integers (`amount × (end − at)` is below 2^53 × 2^58),
//! rather than through a 28-digit decimal quotient that could round a value just above one half down to exactly
//! one half. `unused` is also reported as a normalized decimal (`"0.5"`) for display.
//!
//! Amounts are non-negative: a negative amount is refused (`invalid_field` on `amount`).

use rust_decimal::Decimal;

use crate::error::{CoreError, Result};
use crate::money;
use crate::time::{self, Instant};

crate::json_struct! {
    /// What a change at one instant credits for the old price and charges for the new one.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Proration {
        /// The unused share of the period, a normalized decimal (`"0.5"`, `"1"`), to at most 28 digits.
        pub unused: String,
        /// `−round(old_amount × unused)`, ≤ 0.
        pub credit: i64,
        /// `round(new_amount × unused)`, ≥ 0.
        pub charge: i64,
    }
}

/// The unused share as an exact fraction `(end − at) / (end − start)` of microseconds, after checking the period.
fn unused_fraction(start: Instant, end: Instant, at: Instant) -> Result<(i128, i128)> {
    if end <= start {
        return Err(CoreError::invalid(
            "end",
            format!(
                "must be after start {} (got {})",
                time::format(start),
                time::format(end)
            ),
        ));
    }
    if at < start || at >= end {
        return Err(CoreError::invalid(
            "at",
            format!(
                "must lie in the period [{}, {}), got {}",
                time::format(start),
                time::format(end),
                time::format(at)
            ),
        ));
    }
    let micros = |from: Instant, to: Instant| {
        (to - from)
            .num_microseconds()
            .map(i128::from)
            .ok_or_else(|| CoreError::ArithmeticOverflow {
                field: Some("end".into()),
                reason: "the period is too long to count in microseconds".into(),
            })
    };
    Ok((micros(at, end)?, micros(start, end)?))
}

/// `n / d` rounded half to even, for `n ≥ 0`, `d > 0`.
fn div_half_even(n: i128, d: i128) -> i128 {
    let (q, r) = (n / d, n % d);
    // r < d < 2^59, so 2r cannot overflow.
    if 2 * r > d || (2 * r == d && q % 2 == 1) {
        q + 1
    } else {
        q
    }
}

/// `round_half_even(amount × num / den)` for a share `num / den` in `[0, 1]`, after checking the amount.
fn share(amount: i64, (num, den): (i128, i128)) -> Result<i64> {
    money::check(i128::from(amount)).map_err(|e| e.in_field("amount"))?;
    if amount < 0 {
        return Err(CoreError::invalid(
            "amount",
            format!("must not be negative, got {amount}"),
        ));
    }
    // amount < 2^53 and num ≤ den < 2^58: the product fits an i128 and the share never exceeds the amount.
    money::check(div_half_even(i128::from(amount) * num, den))
}

/// The credit of the old price and the charge of the new one for a change at `at` in `[start, end)`.
/// @example a 30-day period, 3000 → 6000 at its middle: `{unused: "0.5", credit: -1500, charge: 3000}`.
pub fn prorate(
    old_amount: i64,
    new_amount: i64,
    start: Instant,
    end: Instant,
    at: Instant,
) -> Result<Proration> {
    let fraction = unused_fraction(start, end, at)?;
    let credit = money::neg(share(old_amount, fraction)?)?;
    let charge = share(new_amount, fraction)?;
    let (num, den) = fraction;
    // Both counts are below 2^63, so they are exact decimals; the quotient is ≤ 1 and den ≠ 0.
    let unused = Decimal::try_from_i128_with_scale(num, 0)
        .ok()
        .zip(Decimal::try_from_i128_with_scale(den, 0).ok())
        .and_then(|(n, d)| n.checked_div(d))
        .ok_or_else(|| CoreError::Internal {
            reason: "the unused share does not fit a decimal".into(),
        })?
        .normalize();
    Ok(Proration {
        unused: unused.to_string(),
        credit,
        charge,
    })
}

/// Just the unused share's amount of one amount (used for a prorated cancel credit):
/// `round_half_even(amount × (end − at) / (end − start))`.
pub fn unused_amount(amount: i64, start: Instant, end: Instant, at: Instant) -> Result<i64> {
    share(amount, unused_fraction(start, end, at)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::MAX_AMOUNT;
    use crate::testutil::XorShift;
    use chrono::TimeDelta;
    use rust_decimal::RoundingStrategy;

    fn t(s: &str) -> Instant {
        time::parse(s, "t").unwrap()
    }

    fn plus_micros(s: Instant, us: i64) -> Instant {
        s + TimeDelta::microseconds(us)
    }

    #[test]
    fn monthly_upgrade_at_half_of_a_30_day_period() {
        let (start, end) = (t("2024-04-01"), t("2024-05-01"));
        let p = prorate(3000, 6000, start, end, t("2024-04-16")).unwrap();
        assert_eq!(
            p,
            Proration {
                unused: "0.5".into(),
                credit: -1500,
                charge: 3000
            }
        );
    }

    #[test]
    fn at_start_the_whole_period_is_unused() {
        let (start, end) = (t("2024-04-01"), t("2024-05-01"));
        let p = prorate(3000, 6000, start, end, start).unwrap();
        assert_eq!((p.unused.as_str(), p.credit, p.charge), ("1", -3000, 6000));
        assert_eq!(
            unused_amount(MAX_AMOUNT, start, end, start).unwrap(),
            MAX_AMOUNT
        );
        let p = prorate(0, 0, start, end, start).unwrap();
        assert_eq!((p.credit, p.charge), (0, 0));
    }

    #[test]
    fn thirds_round_half_to_even_once() {
        // A 3-microsecond period: unused 2/3 at start + 1µs.
        let start = t("2024-01-01");
        let end = plus_micros(start, 3);
        let at = plus_micros(start, 1);
        let p = prorate(100, 1, start, end, at).unwrap();
        assert_eq!((p.credit, p.charge), (-67, 1));
        assert!(p.unused.starts_with("0.6666666666"), "{}", p.unused);
        // Half a unit: 1 × 1/2 → 0 (even), 3 × 1/2 = 1.5 → 2, 5 × 1/2 = 2.5 → 2.
        let end = plus_micros(start, 2);
        let at = plus_micros(start, 1);
        for (amount, want) in [(1, 0), (3, 2), (5, 2), (7, 4)] {
            assert_eq!(
                unused_amount(amount, start, end, at).unwrap(),
                want,
                "{amount}"
            );
        }
    }

    #[test]
    fn instants_outside_the_period_are_refused() {
        let (start, end) = (t("2024-04-01"), t("2024-05-01"));
        for at in [end, t("2024-05-02"), t("2024-03-31T23:59:59.999999")] {
            let e = prorate(1, 1, start, end, at).unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("invalid_field", Some("at"))
            );
            assert_eq!(
                unused_amount(1, start, end, at)
                    .unwrap_err()
                    .field()
                    .as_deref(),
                Some("at")
            );
        }
        for bad_end in [start, t("2024-03-01")] {
            let e = prorate(1, 1, start, bad_end, start).unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("invalid_field", Some("end"))
            );
        }
    }

    #[test]
    fn negative_or_out_of_range_amounts_are_refused() {
        let (start, end) = (t("2024-04-01"), t("2024-05-01"));
        for (old, new) in [(-1, 0), (0, -1)] {
            let e = prorate(old, new, start, end, start).unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("invalid_field", Some("amount"))
            );
        }
        let e = unused_amount(MAX_AMOUNT + 1, start, end, start).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("amount_out_of_range", Some("amount"))
        );
        assert_eq!(
            unused_amount(-5, start, end, start).unwrap_err().code(),
            "invalid_field"
        );
    }

    #[test]
    fn the_longest_period_is_exact() {
        let (start, end) = (t("1970-01-01"), t("9999-12-31T23:59:59.999999"));
        let p = prorate(MAX_AMOUNT, MAX_AMOUNT, start, end, plus_micros(end, -1)).unwrap();
        assert_eq!((p.credit, p.charge), (0, 0));
        assert_eq!(
            unused_amount(MAX_AMOUNT, start, end, start).unwrap(),
            MAX_AMOUNT
        );
    }

    #[test]
    fn property_credit_is_within_one_unit_of_the_exact_share() {
        let mut rng = XorShift::new(0x9A0_4A7E);
        let base = t("2020-01-01");
        for _ in 0..4_000 {
            let amount = rng.range(0, 1_000_000_000_000);
            let length = match rng.next() % 3 {
                0 => rng.range(1, 1_000),
                1 => rng.range(1, 31 * 86_400_000_000),
                _ => rng.range(1, 400 * 86_400_000_000),
            };
            let used = rng.range(0, length - 1);
            let (start, end) = (base, plus_micros(base, length));
            let at = plus_micros(start, used);
            let p = prorate(amount, amount, start, end, at).unwrap();
            let exact =
                Decimal::from(amount) * Decimal::from(length - used) / Decimal::from(length);
            let diff = (Decimal::from(p.credit) + exact).abs();
            assert!(
                diff <= Decimal::new(5, 1) + Decimal::new(1, 12),
                "{amount} {length} {used}: {diff}"
            );
            assert_eq!(p.charge, -p.credit);
            assert!(p.credit <= 0 && p.charge <= amount);
            // The decimal share, rounded the same way, agrees away from exact halves.
            let via_decimal = (Decimal::from(amount) * p.unused.parse::<Decimal>().unwrap())
                .round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
            assert!((via_decimal - Decimal::from(p.charge)).abs() <= Decimal::ONE);
        }
    }

    #[test]
    fn property_the_two_parts_of_a_period_add_to_the_whole() {
        let mut rng = XorShift::new(0x5111_7FED);
        let base = t("2021-06-15T12:00:00");
        for _ in 0..4_000 {
            let amount = rng.range(0, 1_000_000_000_000);
            let length = rng.range(1, 366 * 86_400_000_000);
            let split = rng.range(0, length - 1);
            let (start, end) = (base, plus_micros(base, length));
            let at = plus_micros(start, split);
            let unused = unused_amount(amount, start, end, at).unwrap();
            // The used part [start, at), rounded the same way, as a share of the whole period.
            let used = (Decimal::from(amount) * Decimal::from(split) / Decimal::from(length))
                .round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
            let whole = Decimal::from(unused) + used;
            assert!(
                (whole - Decimal::from(amount)).abs() <= Decimal::ONE,
                "{amount} {length} {split}"
            );
        }
    }
}
