//! Money: currencies, amounts in minor units, checked arithmetic, allocation and rates.
//!
//! - An amount is an `i64` count of the currency's minor unit (cents for USD, yen for JPY, fils for KWD) and
//!   always lies within ±[`MAX_AMOUNT`] = ±(2^53−1), so it crosses into JavaScript as an exact number.
//! - [`add`], [`sub`] and [`neg`] fail with `amount_out_of_range` instead of leaving that range.
//! - [`allocate`] splits a total by weights with the largest-remainder method: every part gets the floor of its
//!   exact share, then the units left over go one each to the parts with the largest remainders, ties to the
//!   lower index. The parts always sum exactly to the total.
//! - [`apply_rate`] multiplies an amount by a decimal rate (fees, tax, FX) exactly with `rust_decimal` and rounds
//!   the result once, **half to even** (banker's rounding: 2.5 → 2, 3.5 → 4, −2.5 → −2), so rounding errors do
//!   not drift in one direction over many transactions.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{CoreError, Result};

/// Largest amount in minor units: 2^53 − 1, the largest integer a JavaScript number holds exactly.
pub const MAX_AMOUNT: i64 = (1 << 53) - 1;

crate::json_struct! {
    /// An ISO 4217 currency and the number of digits of its minor unit.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Currency {
        pub code: &'static str,
        pub exponent: u8,
    }
}

/// The currencies the core knows, with their ISO 4217 minor-unit exponents.
pub const CURRENCIES: &[Currency] = &[
    Currency {
        code: "AUD",
        exponent: 2,
    },
    Currency {
        code: "BHD",
        exponent: 3,
    },
    Currency {
        code: "BRL",
        exponent: 2,
    },
    Currency {
        code: "CAD",
        exponent: 2,
    },
    Currency {
        code: "CHF",
        exponent: 2,
    },
    Currency {
        code: "CLP",
        exponent: 0,
    },
    Currency {
        code: "CNY",
        exponent: 2,
    },
    Currency {
        code: "DKK",
        exponent: 2,
    },
    Currency {
        code: "EUR",
        exponent: 2,
    },
    Currency {
        code: "GBP",
        exponent: 2,
    },
    Currency {
        code: "HKD",
        exponent: 2,
    },
    Currency {
        code: "INR",
        exponent: 2,
    },
    Currency {
        code: "JOD",
        exponent: 3,
    },
    Currency {
        code: "JPY",
        exponent: 0,
    },
    Currency {
        code: "KRW",
        exponent: 0,
    },
    Currency {
        code: "KWD",
        exponent: 3,
    },
    Currency {
        code: "MXN",
        exponent: 2,
    },
    Currency {
        code: "NOK",
        exponent: 2,
    },
    Currency {
        code: "NZD",
        exponent: 2,
    },
    Currency {
        code: "OMR",
        exponent: 3,
    },
    Currency {
        code: "SEK",
        exponent: 2,
    },
    Currency {
        code: "SGD",
        exponent: 2,
    },
    Currency {
        code: "TND",
        exponent: 3,
    },
    Currency {
        code: "USD",
        exponent: 2,
    },
];

/// Looks a currency up by its code, in any letter case; unknown → `unknown_currency` (field `currency`).
pub fn currency(code: &str) -> Result<Currency> {
    let upper = code.to_ascii_uppercase();
    CURRENCIES
        .iter()
        .find(|c| c.code == upper)
        .copied()
        .ok_or_else(|| CoreError::UnknownCurrency {
            code: code.chars().take(16).collect(),
        })
}

/// Checks that an amount lies within ±[`MAX_AMOUNT`].
pub fn check(amount: i128) -> Result<i64> {
    if amount > i128::from(MAX_AMOUNT) || amount < -i128::from(MAX_AMOUNT) {
        Err(out_of_range(amount))
    } else {
        Ok(amount as i64)
    }
}

/// The refusal of [`check`], out of line so that the arithmetic around it stays small enough to inline.
#[cold]
#[inline(never)]
fn out_of_range(amount: i128) -> CoreError {
    CoreError::AmountOutOfRange {
        field: None,
        reason: format!("{amount} is outside the supported range ±{MAX_AMOUNT}"),
    }
}

/// `a + b`, or `amount_out_of_range` when the sum leaves ±[`MAX_AMOUNT`].
#[inline]
pub fn add(a: i64, b: i64) -> Result<i64> {
    // In i64 first (wasm has no 128-bit arithmetic; it emulates it): the i128 path only builds the error.
    match a.checked_add(b) {
        Some(s) if (-MAX_AMOUNT..=MAX_AMOUNT).contains(&s) => Ok(s),
        _ => check(i128::from(a) + i128::from(b)),
    }
}

/// `a − b`, or `amount_out_of_range` when the difference leaves ±[`MAX_AMOUNT`].
pub fn sub(a: i64, b: i64) -> Result<i64> {
    match a.checked_sub(b) {
        Some(s) if (-MAX_AMOUNT..=MAX_AMOUNT).contains(&s) => Ok(s),
        _ => check(i128::from(a) - i128::from(b)),
    }
}

/// `−a`, or `amount_out_of_range` when `a` itself was out of range.
pub fn neg(a: i64) -> Result<i64> {
    check(-i128::from(a))
}

/// Σ amounts, checked against ±[`MAX_AMOUNT`] at every step.
pub fn sum(amounts: impl IntoIterator<Item = i64>) -> Result<i64> {
    // A plain loop rather than `try_fold`: at opt-level "s" the adapter stays a call per element in wasm.
    let mut total = 0i64;
    for a in amounts {
        total = add(total, a)?;
    }
    Ok(total)
}

/// Splits `total` into parts proportional to `weights` by largest remainder (ties to the lower index).
/// The parts sum exactly to `total`; a negative total is split by its absolute value and negated.
/// Zero weights get zero. Errors when `weights` is empty or all zero, or `total` is out of range.
pub fn allocate(total: i64, weights: &[u64]) -> Result<Vec<i64>> {
    check(i128::from(total)).map_err(|e| e.in_field("total"))?;
    let weights = Weights::new(weights)?;
    let mut parts = Vec::with_capacity(weights.weights.len());
    allocate_into(total, &weights, &mut parts)?;
    Ok(parts)
}

/// Weights checked once (not empty, not all zero) with what every split by them needs: a batch splits a million
/// totals by the same weights.
#[derive(Debug, Clone)]
pub struct Weights<'a> {
    weights: &'a [u64],
    sum: u128,
    /// `Some(sum)` when it fits u64: then any magnitude up to `narrow_limit` splits in u64 arithmetic.
    narrow_sum: Option<u64>,
    /// `u64::MAX / max weight`: a magnitude at most this times any weight fits u64. Computed once, because a
    /// `checked_mul` per split is a 128-bit multiply (`__multi3`) on wasm32, which has no high-word multiply.
    narrow_limit: u64,
}

impl<'a> Weights<'a> {
    pub fn new(weights: &'a [u64]) -> Result<Self> {
        if weights.is_empty() {
            return Err(CoreError::invalid(
                "weights",
                "must contain at least one weight",
            ));
        }
        let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
        if sum == 0 {
            return Err(CoreError::invalid("weights", "must not all be zero"));
        }
        Ok(Weights {
            weights,
            sum,
            narrow_sum: u64::try_from(sum).ok(),
            narrow_limit: u64::MAX / weights.iter().copied().max().unwrap_or(0).max(1),
        })
    }
}

/// [`allocate`] by checked [`Weights`], appending the parts to `out` (nothing is appended on error): the batch export
/// splits a million totals into one buffer with no allocation per split.
pub fn allocate_into(total: i64, weights: &Weights, out: &mut Vec<i64>) -> Result<()> {
    check(i128::from(total)).map_err(|e| e.in_field("total"))?;
    let magnitude = total.unsigned_abs();
    let start = out.len();
    // Exact in u64 whenever every magnitude × weight fits (any real split: |total| < 2^53, weights of a few digits),
    // which keeps wasm on its native 64-bit division; u128 otherwise (magnitude × w < 2^117). Same parts either way.
    match weights.narrow_sum {
        Some(sum) if magnitude <= weights.narrow_limit => {
            split_narrow(magnitude, weights.weights, sum, out)
        }
        _ => split_wide(magnitude, weights, out),
    }
    if total < 0 {
        for p in &mut out[start..] {
            *p = -*p;
        }
    }
    Ok(())
}

/// [`allocate_into`] for many totals, the parts of all of them appended to `out` in order. When every magnitude splits
/// in u64 (checked once for the batch) the splits run in one loop with nothing returned per total: a `Result` per
/// split kept the wasm loop at 1.3–1.5× native (it went through the shadow stack every time). Otherwise each total
/// goes through [`allocate_into`], errors and all.
pub fn allocate_all_into(totals: &[i64], weights: &Weights, out: &mut Vec<i64>) -> Result<()> {
    let widest = totals.iter().map(|t| t.unsigned_abs()).max().unwrap_or(0);
    match weights.narrow_sum {
        Some(sum) if widest <= weights.narrow_limit && widest <= MAX_AMOUNT as u64 => {
            // `split_narrow` written out over a pre-sized buffer: no push, no closure and no call per split.
            let ws = weights.weights;
            let start = out.len();
            out.resize(start + totals.len() * ws.len(), 0);
            for (parts, &total) in out[start..].chunks_exact_mut(ws.len()).zip(totals) {
                let magnitude = total.unsigned_abs();
                let mut given = 0u64;
                for (p, &w) in parts.iter_mut().zip(ws) {
                    let part = divide(magnitude * w, sum);
                    given += part;
                    *p = part as i64;
                }
                match magnitude - given {
                    0 => {}
                    // One unit to the largest remainder, ties to the lower index (`give_remainders`' common case).
                    1 => {
                        let (mut best, mut at) = (0u64, 0usize);
                        for (i, (&p, &w)) in parts.iter().zip(ws).enumerate() {
                            let r = magnitude * w - p as u64 * sum;
                            if r > best || i == 0 {
                                (best, at) = (r, i);
                            }
                        }
                        parts[at] += 1;
                    }
                    left => {
                        give_by_sort(left, parts, |i, part| magnitude * ws[i] - part as u64 * sum)
                    }
                }
                if total < 0 {
                    for p in parts.iter_mut() {
                        *p = -*p;
                    }
                }
            }
            Ok(())
        }
        _ => {
            for &total in totals {
                allocate_into(total, weights, out)?;
            }
            Ok(())
        }
    }
}

/// The u64 split, kept small so that it inlines into the batch loop (remainders are a multiply, not a second
/// divide).
#[inline]
fn split_narrow(magnitude: u64, ws: &[u64], sum: u64, out: &mut Vec<i64>) {
    let start = out.len();
    let mut given = 0u64;
    for &w in ws {
        let part = divide(magnitude * w, sum);
        given += part;
        out.push(part as i64);
    }
    give_remainders(magnitude - given, &mut out[start..], |i, part| {
        magnitude * ws[i] - part as u64 * sum
    });
}

/// The u128 split for weights or magnitudes whose products pass u64; out of line, it is rare.
#[inline(never)]
fn split_wide(magnitude: u64, weights: &Weights, out: &mut Vec<i64>) {
    let (magnitude, sum, ws) = (u128::from(magnitude), weights.sum, weights.weights);
    let start = out.len();
    let mut given = 0u128;
    for &w in ws {
        let part = magnitude * u128::from(w) / sum;
        given += part;
        out.push(part as i64);
    }
    give_remainders((magnitude - given) as u64, &mut out[start..], |i, part| {
        magnitude * u128::from(ws[i]) - part as u128 * sum
    });
}

/// `a / b` in 32-bit arithmetic when both fit, as x86-64 compilers do for native code on their own: a 64-bit divide
/// costs several times a 32-bit one, and nothing in wasm32 codegen makes that choice for us.
#[inline]
fn divide(a: u64, b: u64) -> u64 {
    if (a | b) >> 32 == 0 {
        u64::from(a as u32 / b as u32)
    } else {
        a / b
    }
}

/// Gives the `left` units still owed, one each, to the parts with the largest remainders (ties to the lower index).
/// `remainder(i, part)` is part `i`'s remainder given its quotient. Fewer units are left than there are non-zero
/// remainders, since Σ remainder / weight_sum = left. One unit (every two-way split) is one pass for the largest;
/// more sort the remainders, out of line.
#[inline]
fn give_remainders<R: Ord + Copy>(
    left: u64,
    parts: &mut [i64],
    remainder: impl Fn(usize, i64) -> R,
) {
    match left {
        0 => {}
        1 => {
            // Strictly greater keeps the lower index on a tie.
            let mut best = (remainder(0, parts[0]), 0);
            for (i, &part) in parts.iter().enumerate().skip(1) {
                let r = remainder(i, part);
                if r > best.0 {
                    best = (r, i);
                }
            }
            parts[best.1] += 1;
        }
        _ => give_by_sort(left, parts, remainder),
    }
}

/// Two or more units left: sort the remainders (largest first, ties to the lower index), on the stack up to 16
/// parts.
#[inline(never)]
fn give_by_sort<R: Ord + Copy>(left: u64, parts: &mut [i64], remainder: impl Fn(usize, i64) -> R) {
    let n = parts.len();
    let by_size = |a: &(R, usize), b: &(R, usize)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
    let fill = (remainder(0, parts[0]), 0usize);
    let mut stack = [fill; 16];
    let mut heap = Vec::new();
    let order: &mut [(R, usize)] = if n <= stack.len() {
        &mut stack[..n]
    } else {
        heap.resize(n, fill);
        &mut heap
    };
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = (remainder(i, parts[i]), i);
    }
    order.sort_unstable_by(by_size);
    for &(_, i) in order.iter().take(left as usize) {
        parts[i] += 1;
    }
}

/// The smallest card charge a processor accepts in `currency`, in minor units: card networks' minimums for the
/// common currencies (0.50 USD, 0.30 GBP, 50 JPY, 3.00 SEK, …), half a major unit for the others.
pub fn minimum_charge(currency: &str) -> Result<i64> {
    let c = self::currency(currency)?;
    let table: &[(&str, i64)] = &[
        ("USD", 50),
        ("EUR", 50),
        ("GBP", 30),
        ("CAD", 50),
        ("AUD", 50),
        ("NZD", 50),
        ("CHF", 50),
        ("SGD", 50),
        ("JPY", 50),
        ("SEK", 300),
        ("NOK", 300),
        ("DKK", 250),
        ("MXN", 1000),
        ("HKD", 400),
        ("BRL", 50),
        ("INR", 50),
    ];
    Ok(table
        .iter()
        .find(|(code, _)| *code == c.code)
        .map(|(_, m)| *m)
        .unwrap_or_else(|| (10_i64.pow(u32::from(c.exponent)) / 2).max(1)))
}

/// An amount as a buyer reads it: the currency's symbol where it has a common one (`$1,234.50`, `€0.50`, `¥500`,
/// `£12.00`), else the amount and its code (`1,234.500 KWD`); the minor unit's digits always shown, thousands
/// grouped with commas. Exact: digits are cut from the integer, never through floating point.
pub fn format(amount: i64, currency: &str) -> Result<String> {
    let c = self::currency(currency)?;
    let exp = usize::from(c.exponent);
    let digits = amount.unsigned_abs().to_string();
    let padded = format!("{digits:0>width$}", width = exp + 1);
    let (whole, fraction) = padded.split_at(padded.len() - exp);
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let number = if exp > 0 {
        format!("{grouped}.{fraction}")
    } else {
        grouped
    };
    let sign = if amount < 0 { "-" } else { "" };
    let symbol = match c.code {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "JPY" => Some("¥"),
        _ => None,
    };
    Ok(match symbol {
        Some(sym) => format!("{sign}{sym}{number}"),
        None => format!("{sign}{number} {}", c.code),
    })
}

/// `amount × rate`, rounded once to a whole minor unit half to even (banker's rounding).
/// Errors with `arithmetic_overflow` if the product does not fit a decimal, `amount_out_of_range` if the
/// rounded result leaves ±[`MAX_AMOUNT`].
pub fn apply_rate(amount: i64, rate: Decimal) -> Result<i64> {
    let overflow = || CoreError::ArithmeticOverflow {
        field: None,
        reason: format!("{amount} × {rate} does not fit the decimal range"),
    };
    let product = Decimal::from(amount)
        .checked_mul(rate)
        .ok_or_else(overflow)?;
    round_half_even(product)
}

/// An exact decimal amount rounded once to a whole minor unit, half to even (the rounding of [`apply_rate`],
/// written once); `amount_out_of_range` if the result leaves ±[`MAX_AMOUNT`].
pub fn round_half_even(exact: Decimal) -> Result<i64> {
    let rounded = exact.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
    // Every Decimal (below 2^96) fits an i128; the fallback only keeps this free of unwraps.
    check(rounded.to_i128().unwrap_or(i128::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;
    use std::str::FromStr;

    #[test]
    fn formatting() {
        assert_eq!(format(123_450, "USD").unwrap(), "$1,234.50");
        assert_eq!(format(5, "usd").unwrap(), "$0.05");
        assert_eq!(format(0, "EUR").unwrap(), "€0.00");
        assert_eq!(format(-50, "GBP").unwrap(), "-£0.50");
        assert_eq!(format(500, "JPY").unwrap(), "¥500");
        assert_eq!(format(1_234_500, "KWD").unwrap(), "1,234.500 KWD");
        assert_eq!(format(MAX_AMOUNT, "USD").unwrap(), "$90,071,992,547,409.91");
        assert_eq!(
            format(-MAX_AMOUNT, "CLP").unwrap(),
            "-9,007,199,254,740,991 CLP"
        );
    }

    #[test]
    fn minimum_charges() {
        assert_eq!(minimum_charge("usd").unwrap(), 50);
        assert_eq!(minimum_charge("GBP").unwrap(), 30);
        assert_eq!(minimum_charge("JPY").unwrap(), 50);
        assert_eq!(minimum_charge("KWD").unwrap(), 500, "half a dinar in fils");
        assert_eq!(minimum_charge("CLP").unwrap(), 1);
        assert!(minimum_charge("QQQ").is_err());
    }

    #[test]
    fn currency_table() {
        assert_eq!(
            currency("usd").unwrap(),
            Currency {
                code: "USD",
                exponent: 2
            }
        );
        for (code, exp) in [
            ("JPY", 0),
            ("KRW", 0),
            ("CLP", 0),
            ("KWD", 3),
            ("BHD", 3),
            ("JOD", 3),
            ("OMR", 3),
            ("TND", 3),
        ] {
            assert_eq!(currency(code).unwrap().exponent, exp, "{code}");
        }
        for code in [
            "EUR", "GBP", "CAD", "AUD", "CHF", "SEK", "NOK", "DKK", "MXN", "BRL", "INR", "CNY",
            "HKD", "SGD", "NZD",
        ] {
            assert_eq!(currency(code).unwrap().exponent, 2, "{code}");
        }
        let e = currency("QQQ").unwrap_err();
        assert_eq!(
            (e.code(), e.status(), e.field().as_deref()),
            ("unknown_currency", 400, Some("currency"))
        );
        assert!(
            CURRENCIES.windows(2).all(|w| w[0].code < w[1].code),
            "table sorted and unique"
        );
    }

    #[test]
    fn checked_arithmetic_stays_in_range() {
        assert_eq!(add(MAX_AMOUNT - 1, 1).unwrap(), MAX_AMOUNT);
        assert_eq!(
            add(MAX_AMOUNT, 1).unwrap_err().code(),
            "amount_out_of_range"
        );
        assert_eq!(
            sub(-MAX_AMOUNT, 1).unwrap_err().code(),
            "amount_out_of_range"
        );
        assert_eq!(neg(-MAX_AMOUNT).unwrap(), MAX_AMOUNT);
        assert_eq!(neg(i64::MIN).unwrap_err().code(), "amount_out_of_range");
        // Operands beyond the range, even where i64 itself overflows: an error, never a wrapped number.
        assert_eq!(add(i64::MAX, 1).unwrap_err().code(), "amount_out_of_range");
        assert_eq!(sub(i64::MIN, 1).unwrap_err().code(), "amount_out_of_range");
        assert_eq!(add(i64::MAX, i64::MIN + 1).unwrap(), 0);
        assert_eq!(sub(-MAX_AMOUNT, -MAX_AMOUNT).unwrap(), 0);
        assert_eq!(sum([1, 2, 3]).unwrap(), 6);
        assert_eq!(
            sum([MAX_AMOUNT, 1, -1]).unwrap_err().code(),
            "amount_out_of_range"
        );
    }

    #[test]
    fn allocate_examples() {
        assert_eq!(allocate(100, &[1, 1, 1]).unwrap(), vec![34, 33, 33]);
        assert_eq!(allocate(-100, &[1, 1, 1]).unwrap(), vec![-34, -33, -33]);
        assert_eq!(allocate(5, &[0, 1, 0, 1]).unwrap(), vec![0, 3, 0, 2]);
        assert_eq!(allocate(10, &[3, 7]).unwrap(), vec![3, 7]);
        assert_eq!(allocate(1, &[1, 2]).unwrap(), vec![0, 1]);
        assert_eq!(allocate(0, &[1, 2]).unwrap(), vec![0, 0]);
        assert_eq!(
            allocate(MAX_AMOUNT, &[u64::MAX, u64::MAX])
                .unwrap()
                .iter()
                .sum::<i64>(),
            MAX_AMOUNT
        );
        assert_eq!(
            allocate(1, &[]).unwrap_err().field().as_deref(),
            Some("weights")
        );
        assert_eq!(allocate(1, &[0, 0]).unwrap_err().code(), "invalid_field");
        assert_eq!(
            allocate(MAX_AMOUNT + 1, &[1]).unwrap_err().code(),
            "amount_out_of_range"
        );
    }

    #[test]
    fn allocate_property_parts_sum_and_are_fair() {
        let mut rng = XorShift::new(0xB111_ED6E);
        for _ in 0..5_000 {
            let total = (rng.next() % (2 * 1_000_000_007)) as i64 - 1_000_000_007;
            let n = 1 + (rng.next() % 12) as usize;
            let weights: Vec<u64> = (0..n)
                .map(|_| {
                    if rng.next().is_multiple_of(4) {
                        0
                    } else {
                        rng.next() % 10_000
                    }
                })
                .collect();
            if weights.iter().all(|&w| w == 0) {
                continue;
            }
            let parts = allocate(total, &weights).unwrap();
            assert_eq!(parts.iter().sum::<i64>(), total);
            let w_sum: u64 = weights.iter().sum();
            for (p, w) in parts.iter().zip(&weights) {
                // Each part is within one unit of its exact share and carries the sign of the total.
                let exact = total as f64 * *w as f64 / w_sum as f64;
                assert!((*p as f64 - exact).abs() < 1.0 + 1e-6, "{p} vs {exact}");
                assert!(*p == 0 || (*p > 0) == (total > 0));
                if *w == 0 {
                    assert_eq!(*p, 0);
                }
            }
        }
    }

    /// The textbook largest-remainder split, in u128 with a sorted remainder list: what `allocate` must equal on
    /// both of its paths (u64 when magnitude × weight fits, u128 otherwise) and for any number of parts.
    fn reference_allocate(total: i64, weights: &[u64]) -> Vec<i64> {
        let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
        let m = u128::from(total.unsigned_abs());
        let mut parts: Vec<u128> = weights.iter().map(|&w| m * u128::from(w) / sum).collect();
        let left = (m - parts.iter().sum::<u128>()) as usize;
        let mut rem: Vec<(u128, usize)> = weights
            .iter()
            .enumerate()
            .map(|(i, &w)| (m * u128::from(w) % sum, i))
            .collect();
        rem.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, i) in rem.iter().take(left) {
            parts[i] += 1;
        }
        let sign = if total < 0 { -1 } else { 1 };
        parts.into_iter().map(|p| sign * p as i64).collect()
    }

    #[test]
    fn allocate_paths_agree_with_the_reference() {
        let mut rng = XorShift::new(0x5EED_A110);
        for round in 0..4_000 {
            let total = (rng.next() % (2 * MAX_AMOUNT as u64)) as i64 - MAX_AMOUNT;
            // Few parts (stack) and many (scratch vector); small weights (u64 path) and huge ones (u128 path).
            let n = 1 + (rng.next() % if round % 2 == 0 { 8 } else { 40 }) as usize;
            let huge = round % 3 == 0;
            let weights: Vec<u64> = (0..n)
                .map(|_| if huge { rng.next() } else { rng.next() % 1_000 })
                .collect();
            if weights.iter().all(|&w| w == 0) {
                continue;
            }
            assert_eq!(
                allocate(total, &weights).unwrap(),
                reference_allocate(total, &weights),
                "{total} {weights:?}"
            );
        }
        // Appends after what the buffer holds; an error appends nothing.
        let mut out = vec![7];
        let thirds = Weights::new(&[1, 1, 1]).unwrap();
        allocate_into(10, &thirds, &mut out).unwrap();
        assert_eq!(out, vec![7, 4, 3, 3]);
        assert!(Weights::new(&[0, 0]).is_err());
        assert!(allocate_into(MAX_AMOUNT + 1, &thirds, &mut out).is_err());
        assert_eq!(out, vec![7, 4, 3, 3]);
    }

    #[test]
    fn allocate_all_into_is_allocate_for_each_total() {
        let mut rng = XorShift::new(0xA11_1470);
        for round in 0..3_000 {
            // Small weights take the one-loop path, huge ones (or a total past the narrow limit) the per-total one;
            // 2 parts leave at most one unit over, more parts leave several (the sorted give).
            let n = 1 + (rng.next() % if round % 2 == 0 { 3 } else { 12 }) as usize;
            let weights: Vec<u64> = (0..n)
                .map(|_| match round % 4 {
                    0 => rng.next(),
                    1 => rng.next() % 3,
                    _ => rng.next() % 1_000,
                })
                .collect();
            let Ok(checked) = Weights::new(&weights) else {
                continue;
            };
            let totals: Vec<i64> = (0..rng.next() % 6)
                .map(|_| match rng.next() % 3 {
                    0 => (rng.next() % 2_000) as i64 - 1_000,
                    1 => (rng.next() % (2 * MAX_AMOUNT as u64)) as i64 - MAX_AMOUNT,
                    _ => [MAX_AMOUNT, -MAX_AMOUNT, 0, 1, -1][(rng.next() % 5) as usize],
                })
                .collect();
            let mut all = vec![-9];
            allocate_all_into(&totals, &checked, &mut all).unwrap();
            let mut want = vec![-9];
            for &t in &totals {
                want.extend(reference_allocate(t, &weights));
            }
            assert_eq!(all, want, "{totals:?} {weights:?}");
        }
        // A total out of range refuses the batch, as allocate_into refuses it alone.
        let halves = Weights::new(&[1, 1]).unwrap();
        assert_eq!(
            allocate_all_into(&[1, MAX_AMOUNT + 1], &halves, &mut Vec::new())
                .unwrap_err()
                .field()
                .as_deref(),
            Some("total")
        );
    }

    #[test]
    fn apply_rate_rounds_half_to_even() {
        let r = |s: &str| Decimal::from_str(s).unwrap();
        assert_eq!(apply_rate(25, r("0.1")).unwrap(), 2); // 2.5 → 2
        assert_eq!(apply_rate(35, r("0.1")).unwrap(), 4); // 3.5 → 4
        assert_eq!(apply_rate(-25, r("0.1")).unwrap(), -2);
        assert_eq!(apply_rate(26, r("0.1")).unwrap(), 3);
        assert_eq!(apply_rate(10_000, r("0.029")).unwrap(), 290);
        assert_eq!(
            apply_rate(MAX_AMOUNT, r("2")).unwrap_err().code(),
            "amount_out_of_range"
        );
        assert_eq!(
            apply_rate(MAX_AMOUNT, Decimal::MAX).unwrap_err().code(),
            "arithmetic_overflow"
        );
    }
}
