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
use serde::Serialize;

use crate::error::{CoreError, Result};

/// Largest amount in minor units: 2^53 − 1, the largest integer a JavaScript number holds exactly.
pub const MAX_AMOUNT: i64 = (1 << 53) - 1;

/// An ISO 4217 currency and the number of digits of its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Currency {
    pub code: &'static str,
    pub exponent: u8,
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
        Err(CoreError::AmountOutOfRange {
            field: None,
            reason: format!("{amount} is outside the supported range ±{MAX_AMOUNT}"),
        })
    } else {
        Ok(amount as i64)
    }
}

/// `a + b`, or `amount_out_of_range` when the sum leaves ±[`MAX_AMOUNT`].
pub fn add(a: i64, b: i64) -> Result<i64> {
    check(i128::from(a) + i128::from(b))
}

/// `a − b`, or `amount_out_of_range` when the difference leaves ±[`MAX_AMOUNT`].
pub fn sub(a: i64, b: i64) -> Result<i64> {
    check(i128::from(a) - i128::from(b))
}

/// `−a`, or `amount_out_of_range` when `a` itself was out of range.
pub fn neg(a: i64) -> Result<i64> {
    check(-i128::from(a))
}

/// Σ amounts, checked against ±[`MAX_AMOUNT`] at every step.
pub fn sum(amounts: impl IntoIterator<Item = i64>) -> Result<i64> {
    amounts.into_iter().try_fold(0i64, add)
}

/// Splits `total` into parts proportional to `weights` by largest remainder (ties to the lower index).
/// The parts sum exactly to `total`; a negative total is split by its absolute value and negated.
/// Zero weights get zero. Errors when `weights` is empty or all zero, or `total` is out of range.
pub fn allocate(total: i64, weights: &[u64]) -> Result<Vec<i64>> {
    check(i128::from(total)).map_err(|e| e.in_field("total"))?;
    if weights.is_empty() {
        return Err(CoreError::invalid(
            "weights",
            "must contain at least one weight",
        ));
    }
    let weight_sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if weight_sum == 0 {
        return Err(CoreError::invalid("weights", "must not all be zero"));
    }
    let magnitude = u128::from(total.unsigned_abs());
    // |total| < 2^53 and w < 2^64, so magnitude * w < 2^117 fits u128.
    let mut parts: Vec<u128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    let mut given: u128 = 0;
    for (i, &w) in weights.iter().enumerate() {
        let exact = magnitude * u128::from(w);
        let part = exact / weight_sum;
        given += part;
        parts.push(part);
        remainders.push((exact % weight_sum, i));
    }
    // Fewer units are left than there are non-zero remainders, since Σ remainder / weight_sum = left.
    let left = (magnitude - given) as usize;
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in remainders.iter().take(left) {
        parts[i] += 1;
    }
    let sign = if total < 0 { -1 } else { 1 };
    Ok(parts.into_iter().map(|p| sign * p as i64).collect())
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
