//! Many values of one rule at a time, over flat arrays: what the scheduler, the dashboard's schedules and the
//! benchmarks call so that one boundary crossing serves thousands of values.
//!
//! Inputs and outputs are `f64` slices (amounts as JS numbers, instants as epoch milliseconds) because that is what
//! crosses the boundary as a typed array in one copy; each amount is checked to be an integer within ±(2^53−1) and a
//! bad one refuses the whole batch naming `field[i]`. `f64` is only the carrier: every value becomes an exact `i64`
//! on entry (or is refused) and goes back on exit; no rule computes in floating point. These functions are plain Rust so that the native benchmark
//! runs exactly what the wasm export runs (`examples/core_bench.rs`).

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::money::{self, MAX_AMOUNT};
use crate::schedule::{self, Frequency};
use crate::time::Instant;
use crate::{checkout, escrow, invoice};

/// The amounts of a flat array, each an integer within ±(2^53−1) and at least `min`. The common case is one
/// compare per value; only a bad value goes through the full field parser, for its error.
pub fn amounts_of(values: &[f64], field: &str, min: i64) -> Result<Vec<i64>> {
    let (low, high) = (min as f64, MAX_AMOUNT as f64);
    // Plain loops in this module: at opt-level "s" iterator adapters over `Result` (`collect`, `try_fold`) stay a
    // call per element in wasm, which cost the batches a third of their time (measured with names kept).
    let mut all = Vec::with_capacity(values.len());
    for (i, &v) in values.iter().enumerate() {
        if !(v >= low && v <= high && v.fract() == 0.0) {
            return Err(refused(v, field, min, i));
        }
        all.push(v as i64);
    }
    Ok(all)
}

/// Why `values[i]` is no amount: what the field parser says of a whole number (beyond ±2^127 it is read as that
/// bound, out of range all the same); a fraction, `NaN` or an infinity is no integer, and its value is not written
/// out (the core never formats a float).
#[cold]
#[inline(never)]
fn refused(v: f64, field: &str, min: i64, i: usize) -> CoreError {
    let at = format!("{field}[{i}]");
    // NaN and the infinities have a NaN fraction.
    if v.fract() != 0.0 || v.is_nan() {
        return CoreError::invalid(
            at,
            "must be an integer amount, got a number with a fraction (or none)",
        );
    }
    match input::amount_value(&Raw::Number((v as i128).to_string()), field, min) {
        Err(e) => e.in_field(&at),
        // Unreachable: the parser refuses whatever the fast test does (the tests hold them to the same values).
        Ok(_) => CoreError::invalid(at, "must be an integer amount"),
    }
}

/// Periods `first .. first + count` of a schedule, as epoch milliseconds (a period past the year 9999 ends the list).
pub fn periods(
    started_at: Instant,
    frequency: Frequency,
    interval: i64,
    first: i64,
    count: i64,
) -> Result<Vec<f64>> {
    let mut all = Vec::with_capacity(count.max(0) as usize);
    schedule::PeriodMillis::new(started_at, frequency, interval)
        .extend_millis(first, count, &mut all)?;
    Ok(all)
}

/// Effective amounts of many invoices sharing one list of adjustment amounts.
pub fn totals(amounts: &[f64], adjustments: &[f64]) -> Result<Vec<f64>> {
    let amounts = amounts_of(amounts, "amounts", -MAX_AMOUNT)?;
    let adjustments = amounts_of(adjustments, "adjustments", -MAX_AMOUNT)?;
    let mut all = Vec::with_capacity(amounts.len());
    if amounts.is_empty() {
        return Ok(all);
    }
    // Σ adjustments is the same for every invoice (and fails the same way for each), so it is summed once.
    let total = money::sum(adjustments).map_err(|e| e.in_field("adjustments"))?;
    for a in amounts {
        // The effective amount in its range is the common case, one add and one compare; anything else is answered
        // by the rule itself, for its error (a `Result` per invoice went through wasm's shadow stack every time).
        let effective = a + total;
        if !(0..=MAX_AMOUNT).contains(&effective) {
            return Err(invoice::totals_with(a, total).err().unwrap_or_else(|| {
                CoreError::invalid("amounts", "effective amount out of range")
            }));
        }
        all.push(effective as f64);
    }
    Ok(all)
}

/// Splits of many totals by the same weights, flattened (`weights.len()` parts per total), with no allocation per
/// split.
pub fn allocations(totals: &[f64], weights: &[f64]) -> Result<Vec<f64>> {
    let totals = amounts_of(totals, "totals", -MAX_AMOUNT)?;
    let weights: Vec<u64> = amounts_of(weights, "weights", 0)?
        .into_iter()
        .map(|w| w as u64)
        .collect();
    let checked = money::Weights::new(&weights)?;
    let mut parts = Vec::with_capacity(totals.len() * weights.len());
    money::allocate_all_into(&totals, &checked, &mut parts)?;
    Ok(parts.into_iter().map(|p| p as f64).collect())
}

/// Whether each credit `amounts[i]` may leave an order holding `escrowed[i]` (the escrow rule, in bulk): 1 or 0.
pub fn escrow_credits(amounts: &[f64], escrowed: &[f64]) -> Result<Vec<u8>> {
    let amounts = amounts_of(amounts, "amounts", 1)?;
    let escrowed = amounts_of(escrowed, "escrowed", 0)?;
    if amounts.len() != escrowed.len() {
        return Err(CoreError::invalid(
            "escrowed",
            "must have one value per amount",
        ));
    }
    Ok(amounts
        .iter()
        .zip(&escrowed)
        .map(|(&a, &e)| u8::from(escrow::may_spend(a, e)))
        .collect())
}

/// Allocations of many checkouts in one currency, flattened: `[balance_applied, terms_amount, card_amount,
/// carried_to_balance]` per checkout.
pub fn checkout_allocations(
    totals: &[f64],
    balances: &[f64],
    available: &[f64],
    currency: &str,
) -> Result<Vec<f64>> {
    let totals = amounts_of(totals, "totals", 0)?;
    let balances = amounts_of(balances, "balances", -MAX_AMOUNT)?;
    let available = amounts_of(available, "available", 0)?;
    if balances.len() != totals.len() || available.len() != totals.len() {
        return Err(CoreError::invalid(
            "balances",
            "balances and available must have one value per total",
        ));
    }
    let minimum = money::minimum_charge(currency)?;
    let mut all = Vec::with_capacity(totals.len() * 4);
    for ((&t, &b), &a) in totals.iter().zip(&balances).zip(&available) {
        let x = checkout::allocate(t, b, a, minimum)?;
        all.extend(
            [
                x.balance_applied,
                x.terms_amount,
                x.card_amount,
                x.carried_to_balance,
            ]
            .map(|v| v as f64),
        );
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time;

    #[test]
    fn amounts_are_integers_in_range_and_name_the_bad_one() {
        assert_eq!(
            amounts_of(&[0.0, -0.0, 5.0, -7.0], "a", -10).unwrap(),
            vec![0, 0, 5, -7]
        );
        for (bad, code) in [
            (1.5, "invalid_field"),
            (f64::NAN, "invalid_field"),
            (f64::INFINITY, "invalid_field"),
            (9_007_199_254_740_992.0, "amount_out_of_range"),
            (-11.0, "amount_out_of_range"),
        ] {
            let e = amounts_of(&[1.0, bad], "a", -10).unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                (code, Some("a[1]")),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_fast_amount_test_accepts_exactly_what_the_field_parser_accepts() {
        let edges = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            9.0,
            10.0,
            11.0,
            -10.0,
            -11.0,
            1e15,
            1e16,
            9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            -9_007_199_254_740_991.0,
            -9_007_199_254_740_992.0,
            1e300,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for min in [-MAX_AMOUNT, -10, 0, 1, 10] {
            for v in edges {
                let parsed = input::amount_value(&Raw::from(v), "a", min).map_err(|e| e.code());
                let fast = amounts_of(&[v], "a", min)
                    .map(|a| a[0])
                    .map_err(|e| e.code());
                assert_eq!(fast, parsed, "{v} (min {min})");
            }
        }
    }

    #[test]
    fn each_batch_equals_its_rule_one_value_at_a_time() {
        let start = time::parse("2024-01-31T10:00:00Z", "t").unwrap();
        let ms = periods(start, Frequency::Monthly, 1, 0, 3).unwrap();
        let one = |n| {
            time::instant_millis(schedule::period_at(start, Frequency::Monthly, 1, n).unwrap())
                as f64
        };
        assert_eq!(ms, vec![one(0), one(1), one(2)]);
        // Past the year 9999 the list ends instead of failing.
        assert_eq!(
            periods(start, Frequency::Yearly, 1, 7_970, 100)
                .unwrap()
                .len(),
            6
        );

        assert_eq!(
            totals(&[100.0, 20.0], &[-5.0, -10.0]).unwrap(),
            vec![85.0, 5.0]
        );
        assert_eq!(
            totals(&[10.0], &[-11.0]).unwrap_err().code(),
            "negative_effective_amount"
        );

        assert_eq!(
            allocations(&[100.0, -10.0], &[1.0, 1.0, 1.0]).unwrap(),
            vec![34.0, 33.0, 33.0, -4.0, -3.0, -3.0]
        );
        assert_eq!(
            escrow_credits(&[100.0, 100.0], &[100.0, 99.0]).unwrap(),
            vec![1, 0]
        );
        assert_eq!(
            escrow_credits(&[1.0], &[]).unwrap_err().field().as_deref(),
            Some("escrowed")
        );

        let x = checkout::allocate(10_000, -1_500, 5_000, 50).unwrap();
        assert_eq!(
            checkout_allocations(&[10_000.0], &[-1_500.0], &[5_000.0], "USD").unwrap(),
            [
                x.balance_applied,
                x.terms_amount,
                x.card_amount,
                x.carried_to_balance
            ]
            .map(|v| v as f64)
            .to_vec()
        );
        assert_eq!(
            checkout_allocations(&[1.0], &[0.0], &[0.0], "XXQ")
                .unwrap_err()
                .field()
                .as_deref(),
            Some("currency")
        );
    }

    #[test]
    fn totals_batch_is_invoice_totals_for_each_amount() {
        let mut rng = crate::testutil::XorShift::new(0x70_7A15);
        let big = MAX_AMOUNT;
        for _ in 0..2_000 {
            let pick = |rng: &mut crate::testutil::XorShift| match rng.range(0, 3) {
                0 => rng.range(-100, 100),
                1 => rng.range(-big, big),
                _ => [big, -big, big - 1, -big + 1, 0][rng.range(0, 4) as usize],
            };
            let amounts: Vec<i64> = (0..rng.range(0, 4)).map(|_| pick(&mut rng).abs()).collect();
            let adjustments: Vec<i64> = (0..rng.range(0, 6)).map(|_| pick(&mut rng)).collect();
            let list: Vec<invoice::Adjustment> = adjustments
                .iter()
                .map(|&amount| invoice::Adjustment {
                    amount,
                    reason: None,
                })
                .collect();
            let one_by_one: Result<Vec<f64>> = amounts
                .iter()
                .map(|&a| invoice::invoice_totals(a, &list).map(|t| t.effective_amount as f64))
                .collect();
            let f = |v: &[i64]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
            assert_eq!(
                totals(&f(&amounts), &f(&adjustments)).map_err(|e| (e.code(), e.to_string())),
                one_by_one.map_err(|e| (e.code(), e.to_string())),
                "{amounts:?} {adjustments:?}"
            );
        }
    }
}
