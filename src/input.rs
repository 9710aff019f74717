//! Raw API input and the helpers every validator reads it with, so field naming and type rules are uniform.
//!
//! Input comes from form bodies (every value a string) or JSON bodies (string, number, boolean, null, array,
//! object). The rules:
//! - absent, `null` and `""` are the same thing: absent;
//! - `"500"` and `500` are the same integer; `"5.00"`, `"1e3"`, `" 5"`, `"+5"`, `5.5`, booleans are not integers;
//! - a string field must be a string (a JSON number is a wrong type), its length is counted in characters;
//! - unknown keys are ignored.

use crate::sorted::SortedMap;

use rust_decimal::Decimal;

use crate::error::{CoreError, Result};
use crate::money::MAX_AMOUNT;

/// A raw input value, independent of where it came from (JS object, form body, test).
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    /// `null`, `undefined` or a missing value.
    Null,
    Bool(bool),
    /// A JS number as decimal text in fixed notation ([`number_text`]): `"5"`, `"-0.25"`, `"0.00000015"`,
    /// `"1000000000000000000000"`; or `"NaN"`, `"Infinity"`, `"-Infinity"` for a number that is none. The readers
    /// take integers and decimals from the text exactly, so the core never formats or parses a float.
    Number(String),
    String(String),
    Array(Vec<Raw>),
    Object(SortedMap<String, Raw>),
    /// A value JSON cannot express (bigint, function, symbol, a too deeply nested value); names its kind.
    Unsupported(&'static str),
}

impl Raw {
    /// An object from key/value pairs (handy in tests and for building inputs).
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Raw)>) -> Raw {
        Raw::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The value under `key` when `self` is an object.
    pub fn get(&self, key: &str) -> Option<&Raw> {
        match self {
            Raw::Object(map) => map.get(key),
            _ => None,
        }
    }

    /// Absent in the API sense: `null` or `""`.
    pub fn is_absent(&self) -> bool {
        matches!(self, Raw::Null) || matches!(self, Raw::String(s) if s.is_empty())
    }

    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Raw::Null => "null",
            Raw::Bool(_) => "a boolean",
            Raw::Number(_) => "a number",
            Raw::String(_) => "a string",
            Raw::Array(_) => "an array",
            Raw::Object(_) => "an object",
            Raw::Unsupported(kind) => kind,
        }
    }
}

impl From<&str> for Raw {
    fn from(s: &str) -> Raw {
        Raw::String(s.to_string())
    }
}

impl From<String> for Raw {
    fn from(s: String) -> Raw {
        Raw::String(s)
    }
}

impl From<i64> for Raw {
    fn from(n: i64) -> Raw {
        Raw::Number(n.to_string())
    }
}

/// Tests write JS numbers as f64 literals; Rust prints a finite one as JS does, with any exponent written out.
#[cfg(test)]
impl From<f64> for Raw {
    fn from(n: f64) -> Raw {
        Raw::Number(match n {
            _ if n.is_nan() => "NaN".into(),
            _ if n.is_infinite() => (if n > 0.0 { "Infinity" } else { "-Infinity" }).into(),
            _ if n == 0.0 => "0".into(),
            _ => format!("{n}"),
        })
    }
}

/// The longest number text kept: a double's longest fixed notation is 326 characters (`5e-324`).
const MAX_NUMBER_TEXT: usize = 400;

/// A JSON number (`-?digits[.digits][(e|E)[+-]digits]`, as JS writes one) in fixed notation, without leading or
/// trailing zeros: `1.5e-7` → `0.00000015`, `1e+21` → `1000000000000000000000`, `2.50` → `2.5`, `-0` → `0`.
/// `None` for text that is no such number, or whose fixed notation would be longer than 400 characters (no double
/// needs more).
pub fn number_text(text: &str) -> Option<String> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    // The common case, an integer as JS writes it, as it stands.
    if !body.is_empty()
        && body.len() <= MAX_NUMBER_TEXT
        && body.bytes().all(|b| b.is_ascii_digit())
        && (body == "0" || !body.starts_with('0'))
    {
        return Some(if body == "0" {
            body.into()
        } else {
            text.into()
        });
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) {
        return None;
    }
    if mantissa.ends_with('.') || whole.len() + fraction.len() > MAX_NUMBER_TEXT {
        return None;
    }
    let shift: i64 = match exponent {
        None => 0,
        Some(e) => {
            let (minus, digits) = match e.as_bytes().first() {
                Some(b'-') => (true, &e[1..]),
                Some(b'+') => (false, &e[1..]),
                _ => (false, e),
            };
            if digits.is_empty() || digits.len() > 4 || !digits_only(digits) {
                return None;
            }
            let n: i64 = digits.bytes().fold(0, |n, b| n * 10 + i64::from(b - b'0'));
            if minus {
                -n
            } else {
                n
            }
        }
    };
    // The significant digits, and where the point falls among them.
    let all: Vec<u8> = whole.bytes().chain(fraction.bytes()).collect();
    let Some(first) = all.iter().position(|&d| d != b'0') else {
        return Some("0".into());
    };
    let last = all
        .iter()
        .rposition(|&d| d != b'0')
        .map_or(first, |l| l + 1);
    let significant = &all[first..last];
    let point = whole.len() as i64 + shift - first as i64;
    let len = significant.len() as i64;
    if point > MAX_NUMBER_TEXT as i64 || -point > MAX_NUMBER_TEXT as i64 {
        return None;
    }
    let mut out = String::with_capacity((len + point.abs() + 3) as usize);
    if negative {
        out.push('-');
    }
    let push = |out: &mut String, ds: &[u8]| ds.iter().for_each(|&d| out.push(char::from(d)));
    if point <= 0 {
        out.push_str("0.");
        (0..-point).for_each(|_| out.push('0'));
        push(&mut out, significant);
    } else if point < len {
        push(&mut out, &significant[..point as usize]);
        out.push('.');
        push(&mut out, &significant[point as usize..]);
    } else {
        push(&mut out, significant);
        (0..point - len).for_each(|_| out.push('0'));
    }
    Some(out)
}

/// Whether a number's text is a finite number (`NaN` and the infinities end in a letter).
pub fn is_finite(text: &str) -> bool {
    text.bytes().last().is_some_and(|b| b.is_ascii_digit())
}

impl From<bool> for Raw {
    fn from(b: bool) -> Raw {
        Raw::Bool(b)
    }
}

/// The top-level input must be an object; `null`/absent counts as an empty one.
pub fn object<'a>(raw: &'a Raw, field: &str) -> Result<Option<&'a SortedMap<String, Raw>>> {
    match raw {
        Raw::Object(map) => Ok(Some(map)),
        Raw::Null => Ok(None),
        other => Err(CoreError::invalid(
            field,
            format!("must be an object, got {}", other.kind()),
        )),
    }
}

/// The value of `key` unless it is absent (missing, `null` or `""`).
pub fn present<'a>(raw: &'a Raw, key: &str) -> Option<&'a Raw> {
    raw.get(key).filter(|v| !v.is_absent())
}

/// A string value of at most `max_len` characters; `field` names it in errors.
pub fn string_value(v: &Raw, field: &str, max_len: usize) -> Result<String> {
    match v {
        Raw::String(s) => {
            let len = s.chars().count();
            if len > max_len {
                Err(CoreError::invalid(
                    field,
                    format!("must be at most {max_len} characters long (got {len})"),
                ))
            } else {
                Ok(s.clone())
            }
        }
        other => Err(CoreError::invalid(
            field,
            format!("must be a string, got {}", other.kind()),
        )),
    }
}

/// Optional string field of at most `max_len` characters.
pub fn opt_string(raw: &Raw, key: &str, max_len: usize) -> Result<Option<String>> {
    present(raw, key)
        .map(|v| string_value(v, key, max_len))
        .transpose()
}

/// Required non-empty string field of at most `max_len` characters.
pub fn req_string(raw: &Raw, key: &str, max_len: usize) -> Result<String> {
    opt_string(raw, key, max_len)?.ok_or_else(|| CoreError::missing(key))
}

/// Short rendering of a raw value for messages (bounded, so a huge input cannot blow up a message).
pub fn show(v: &Raw) -> String {
    match v {
        Raw::String(s) => {
            let cut: String = s.chars().take(40).collect();
            if cut.len() < s.len() {
                format!("\"{cut}…\"")
            } else {
                format!("\"{cut}\"")
            }
        }
        Raw::Number(n) => {
            let cut: String = n.chars().take(40).collect();
            if cut.len() < n.len() {
                format!("{cut}…")
            } else {
                cut
            }
        }
        Raw::Bool(b) => format!("{b}"),
        other => other.kind().to_string(),
    }
}

/// Reads an integer: a JSON number without fraction or a string of an optional `-` and ASCII digits.
/// Values beyond i128 saturate, so callers can still report "out of range" rather than "not an integer".
fn integer(v: &Raw, field: &str) -> Result<i128> {
    let not_integer = || CoreError::invalid(field, format!("must be an integer, got {}", show(v)));
    match v {
        // A number's text has no fraction unless it is not whole (no trailing zeros), so it reads as a string does.
        Raw::Number(s) | Raw::String(s) => {
            let (negative, digits) = match s.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, s.as_str()),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(not_integer());
            }
            let trimmed = digits.trim_start_matches('0');
            if trimmed.len() > 30 {
                return Ok(if negative { i128::MIN } else { i128::MAX });
            }
            let magnitude: i128 = trimmed
                .bytes()
                .fold(0, |acc, b| acc * 10 + i128::from(b - b'0'));
            Ok(if negative { -magnitude } else { magnitude })
        }
        other => Err(CoreError::invalid(
            field,
            format!("must be an integer, got {}", other.kind()),
        )),
    }
}

/// An integer in `min..=max`; outside → `invalid_field` naming the bounds.
pub fn int_value(v: &Raw, field: &str, min: i64, max: i64) -> Result<i64> {
    let n = integer(v, field)?;
    if n < i128::from(min) || n > i128::from(max) {
        return Err(CoreError::invalid(
            field,
            format!("must be an integer from {min} to {max}, got {}", show(v)),
        ));
    }
    Ok(n as i64)
}

/// Optional integer field in `min..=max`.
pub fn opt_int(raw: &Raw, key: &str, min: i64, max: i64) -> Result<Option<i64>> {
    present(raw, key)
        .map(|v| int_value(v, key, min, max))
        .transpose()
}

/// An amount in minor units, at least `min` and within ±[`MAX_AMOUNT`]; outside → `amount_out_of_range`.
pub fn amount_value(v: &Raw, field: &str, min: i64) -> Result<i64> {
    let n = integer(v, field)?;
    if n < i128::from(min) {
        let reason = if min == -MAX_AMOUNT {
            format!("{} is below the minimum amount -{MAX_AMOUNT}", show(v))
        } else {
            format!("must be at least {min}, got {}", show(v))
        };
        return Err(CoreError::AmountOutOfRange {
            field: Some(field.into()),
            reason,
        });
    }
    if n > i128::from(MAX_AMOUNT) {
        return Err(CoreError::AmountOutOfRange {
            field: Some(field.into()),
            reason: format!("{} is above the maximum amount {MAX_AMOUNT}", show(v)),
        });
    }
    Ok(n as i64)
}

/// Optional amount field (see [`amount_value`]).
pub fn opt_amount(raw: &Raw, key: &str, min: i64) -> Result<Option<i64>> {
    present(raw, key)
        .map(|v| amount_value(v, key, min))
        .transpose()
}

/// Required amount field (see [`amount_value`]).
pub fn req_amount(raw: &Raw, key: &str, min: i64) -> Result<i64> {
    opt_amount(raw, key, min)?.ok_or_else(|| CoreError::missing(key))
}

/// A boolean: JSON `true`/`false`, or the strings `true`/`false`/`1`/`0` (any case) from forms and queries.
pub fn bool_value(v: &Raw, field: &str) -> Result<bool> {
    match v {
        Raw::Bool(b) => Ok(*b),
        Raw::String(s) if s.eq_ignore_ascii_case("true") || s == "1" => Ok(true),
        Raw::String(s) if s.eq_ignore_ascii_case("false") || s == "0" => Ok(false),
        Raw::Number(n) if n == "1" => Ok(true),
        Raw::Number(n) if n == "0" => Ok(false),
        other => Err(CoreError::invalid(
            field,
            format!("must be true or false, got {}", show(other)),
        )),
    }
}

/// Optional boolean field.
pub fn opt_bool(raw: &Raw, key: &str) -> Result<Option<bool>> {
    present(raw, key).map(|v| bool_value(v, key)).transpose()
}

/// A nested object under `key`: a JSON object `{key: {...}}`, or form fields `key[field]=…` gathered into one.
/// `None` when neither is given; another type under `key` is `invalid_field`.
pub fn nested(raw: &Raw, key: &str) -> Result<Option<Raw>> {
    match raw.get(key) {
        Some(v @ Raw::Object(_)) => Ok(Some(v.clone())),
        Some(Raw::Null) | None => {
            let prefix = format!("{key}[");
            let map: SortedMap<String, Raw> = match raw {
                Raw::Object(m) => m
                    .iter()
                    .filter_map(|(k, v)| {
                        k.strip_prefix(prefix.as_str())
                            .and_then(|r| r.strip_suffix(']'))
                            .map(|f| (f.to_string(), v.clone()))
                    })
                    .collect(),
                _ => SortedMap::new(),
            };
            Ok((!map.is_empty()).then_some(Raw::Object(map)))
        }
        Some(Raw::String(s)) if s.is_empty() => Ok(None),
        Some(other) => Err(CoreError::invalid(
            key,
            format!("must be an object, got {}", other.kind()),
        )),
    }
}

/// A decimal rate in `min..=max`: a string of digits with an optional fraction (`"0.10"`, `"1"`), or a JSON number
/// (read through its shortest decimal form, so `0.1` is exactly 0.1). At most 10 fraction digits.
pub fn decimal_value(v: &Raw, field: &str, min: Decimal, max: Decimal) -> Result<Decimal> {
    let bad = || {
        CoreError::invalid(
            field,
            format!(
                "must be a decimal number from {min} to {max}, got {}",
                show(v)
            ),
        )
    };
    let text = match v {
        Raw::String(s) => s.clone(),
        Raw::Number(n) if is_finite(n) => n.clone(),
        _ => return Err(bad()),
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > 10
        || whole.len() > 15
        || (text.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let value: Decimal = text.parse().map_err(|_| bad())?;
    if value < min || value > max {
        return Err(bad());
    }
    Ok(value)
}

/// Optional decimal field (see [`decimal_value`]).
pub fn opt_decimal(raw: &Raw, key: &str, min: Decimal, max: Decimal) -> Result<Option<Decimal>> {
    present(raw, key)
        .map(|v| decimal_value(v, key, min, max))
        .transpose()
}

/// Appears-on-statement text as card networks accept it: at most 18 characters, printable ASCII
/// (0x20–0x7E) only, and no `*` (networks use it to separate the merchant prefix).
pub fn statement_descriptor(raw: &Raw, key: &str) -> Result<Option<String>> {
    let Some(text) = opt_string(raw, key, 18)? else {
        return Ok(None);
    };
    if let Some(c) = text.chars().find(|c| !(' '..='~').contains(c)) {
        let reason = if c.is_ascii() {
            format!(
                "must contain printable ASCII characters only (found control character U+{:04X})",
                c as u32
            )
        } else {
            format!("must contain ASCII characters only (found '{c}')")
        };
        return Err(CoreError::invalid(key, reason));
    }
    if text.contains('*') {
        return Err(CoreError::invalid(key, "must not contain '*'"));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(key: &str, v: Raw) -> Raw {
        Raw::object([(key, v)])
    }

    #[test]
    fn absent_values() {
        for v in [Raw::Null, Raw::from("")] {
            assert_eq!(opt_string(&one("a", v.clone()), "a", 5).unwrap(), None);
            assert_eq!(
                req_string(&one("a", v), "a", 5).unwrap_err().code(),
                "missing_field"
            );
        }
        assert_eq!(opt_int(&Raw::object::<&str>([]), "a", 0, 5).unwrap(), None);
    }

    #[test]
    fn strings_are_strict_about_type_and_length() {
        assert_eq!(
            req_string(&one("a", "héllo".into()), "a", 5).unwrap(),
            "héllo"
        );
        let e = req_string(&one("a", "toolong".into()), "a", 5).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("invalid_field", Some("a"))
        );
        assert!(e.to_string().contains("at most 5"));
        assert_eq!(
            req_string(&one("a", 5i64.into()), "a", 5)
                .unwrap_err()
                .code(),
            "invalid_field"
        );
    }

    #[test]
    fn integers_from_strings_and_numbers() {
        for (v, want) in [
            (Raw::from("500"), 500),
            (Raw::from(500i64), 500),
            (Raw::from("-7"), -7),
            (Raw::from(-0.0), 0),
        ] {
            assert_eq!(int_value(&v, "n", -10, 1000).unwrap(), want);
        }
        for bad in [
            Raw::from("5.00"),
            Raw::from("1e3"),
            Raw::from(" 5"),
            Raw::from("5 "),
            Raw::from("+5"),
            Raw::from("-"),
            Raw::from("0x10"),
            Raw::from(5.5),
            Raw::from(f64::NAN),
            Raw::from(f64::INFINITY),
            Raw::Bool(true),
            Raw::Array(vec![]),
            Raw::Unsupported("a bigint"),
        ] {
            let e = int_value(&bad, "n", -10, 1000).unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("invalid_field", Some("n")),
                "{bad:?}"
            );
        }
        assert!(int_value(&Raw::from("1001"), "n", -10, 1000)
            .unwrap_err()
            .to_string()
            .contains("from -10 to 1000"));
    }

    #[test]
    fn amounts_out_of_range() {
        assert_eq!(
            amount_value(&Raw::from("9007199254740991"), "amount", 0).unwrap(),
            MAX_AMOUNT
        );
        assert_eq!(
            amount_value(&Raw::from(-9007199254740991.0), "amount", -MAX_AMOUNT).unwrap(),
            -MAX_AMOUNT
        );
        for bad in [
            Raw::from("9007199254740992"),
            Raw::from(9007199254740992.0),
            Raw::from(1e300),
            Raw::from("123456789012345678901234567890123456789012345"),
            Raw::from("-9007199254740992"),
        ] {
            let e = amount_value(&bad, "amount", -MAX_AMOUNT).unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("amount_out_of_range", Some("amount")),
                "{bad:?}"
            );
        }
        let e = amount_value(&Raw::from("49"), "amount", 50).unwrap_err();
        assert_eq!(e.code(), "amount_out_of_range");
        assert_eq!(e.to_string(), "amount must be at least 50, got \"49\"");
        assert_eq!(
            amount_value(&Raw::from("5.00"), "amount", 0)
                .unwrap_err()
                .code(),
            "invalid_field"
        );
    }

    #[test]
    fn booleans() {
        for (v, want) in [
            (Raw::Bool(false), false),
            (Raw::from("TRUE"), true),
            (Raw::from("0"), false),
            (Raw::from(1i64), true),
        ] {
            assert_eq!(bool_value(&v, "b").unwrap(), want);
        }
        assert_eq!(
            bool_value(&Raw::from("yes please"), "b")
                .unwrap_err()
                .code(),
            "invalid_field"
        );
    }

    #[test]
    fn nested_objects_from_json_or_form() {
        let json = Raw::object([("a", Raw::object([("x", Raw::from("1"))]))]);
        assert_eq!(
            nested(&json, "a").unwrap(),
            Some(Raw::object([("x", Raw::from("1"))]))
        );
        let form = Raw::object([
            ("a[x]", Raw::from("1")),
            ("a[y]", Raw::from("2")),
            ("b", Raw::from("3")),
        ]);
        assert_eq!(
            nested(&form, "a").unwrap(),
            Some(Raw::object([("x", Raw::from("1")), ("y", Raw::from("2"))]))
        );
        assert_eq!(nested(&form, "c").unwrap(), None);
        assert_eq!(
            nested(&Raw::object([("a", Raw::from(5i64))]), "a")
                .unwrap_err()
                .field()
                .as_deref(),
            Some("a")
        );
    }

    /// JS writes a double with its shortest digits and an exponent past 1e21 or below 1e-6; Rust's `{:e}` writes the
    /// same digits with an exponent always, `{}` in fixed notation: the text of the one is the other.
    #[test]
    fn number_text_is_the_fixed_notation_of_the_shortest_digits() {
        let mut rng = crate::testutil::XorShift::new(5);
        for i in 0..20_000 {
            let x = match i % 3 {
                0 => f64::from_bits(rng.next()),
                1 => rng.range(-1_000_000_000, 1_000_000_000) as f64 / 1000.0,
                _ => rng.range(-9_007_199_254_740_991, 9_007_199_254_740_991) as f64,
            };
            if !x.is_finite() {
                continue;
            }
            let fixed = if x == 0.0 {
                "0".to_string()
            } else {
                format!("{x}")
            };
            assert_eq!(
                number_text(&format!("{x:e}")).as_deref(),
                Some(fixed.as_str()),
                "{x:e}"
            );
            assert_eq!(
                number_text(&format!("{x:E}")).as_deref(),
                Some(fixed.as_str()),
                "{x:E}"
            );
            assert_eq!(number_text(&fixed).as_deref(), Some(fixed.as_str()));
        }
        for (js, fixed) in [
            ("1e+21", "1000000000000000000000"),
            ("1.5e-7", "0.00000015"),
            ("-1.25e+2", "-125"),
            ("2.50", "2.5"),
            ("-0", "0"),
            ("0.000", "0"),
            ("007", "7"),
            ("5e-324", &format!("0.{}5", "0".repeat(323))),
            (
                "1.7976931348623157e+308",
                &format!("17976931348623157{}", "0".repeat(292)),
            ),
        ] {
            assert_eq!(number_text(js).as_deref(), Some(fixed), "{js}");
        }
        for bad in [
            "", "-", "1.", ".5", "1e", "1e+", "--1", "1x", "0x10", "1e99999", "1e401", "NaN",
            "Infinity",
        ] {
            assert_eq!(number_text(bad), None, "{bad}");
        }
        assert!(
            is_finite("-0.5") && is_finite("7") && !is_finite("NaN") && !is_finite("-Infinity")
        );
    }

    #[test]
    fn decimals() {
        let one = Decimal::ONE;
        let d = |v: Raw| decimal_value(&v, "r", Decimal::ZERO, one);
        assert_eq!(d("0.10".into()).unwrap().to_string(), "0.10");
        assert_eq!(d(Raw::from(0.1)).unwrap().to_string(), "0.1");
        assert_eq!(d("1".into()).unwrap(), one);
        assert_eq!(d("0".into()).unwrap(), Decimal::ZERO);
        for bad in [
            "1.01",
            "-0.1",
            ".5",
            "5.",
            "0.1e1",
            " 0.1",
            "0,1",
            "abc",
            "0.12345678901",
        ] {
            assert_eq!(
                d(bad.into()).unwrap_err().field().as_deref(),
                Some("r"),
                "{bad}"
            );
        }
        assert!(d(Raw::Bool(true)).is_err());
        assert!(d(Raw::from(f64::NAN)).is_err());
    }

    #[test]
    fn statement_descriptor_rules() {
        let ok = |s: &str| statement_descriptor(&one("d", s.into()), "d");
        assert_eq!(
            ok("BILLY EDGE #1").unwrap().as_deref(),
            Some("BILLY EDGE #1")
        );
        assert_eq!(ok("").unwrap(), None);
        assert_eq!(
            ok("123456789012345678").unwrap().as_deref(),
            Some("123456789012345678")
        );
        assert!(ok("1234567890123456789")
            .unwrap_err()
            .to_string()
            .contains("at most 18"));
        assert!(ok("A*B").unwrap_err().to_string().contains("'*'"));
        assert!(ok("A\tB")
            .unwrap_err()
            .to_string()
            .contains("control character U+0009"));
        assert!(ok("A\0B").unwrap_err().to_string().contains("U+0000"));
        assert!(ok("A\nB").unwrap_err().to_string().contains("U+000A"));
        assert!(ok("café")
            .unwrap_err()
            .to_string()
            .contains("ASCII characters only"));
        assert_eq!(ok("A\u{7f}").unwrap_err().code(), "invalid_field");
    }

    #[test]
    fn top_level_object() {
        assert!(object(&Raw::Null, "input").unwrap().is_none());
        assert_eq!(
            object(&Raw::from("x"), "input")
                .unwrap_err()
                .field()
                .as_deref(),
            Some("input")
        );
    }
}
