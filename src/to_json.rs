//! The core's answers as JSON text: every export's result is written here into one string that JS reads with one
//! `JSON.parse` (one crossing instead of one per field).
//!
//! Why not serde + serde_json: their generic machinery (a serializer state per struct, a `Result` through every
//! field, every field type instantiated per serializer) was ~50 KB of the wasm for ~80 answer types; this writer
//! appends to a `String` and cannot fail. The output is the same JSON serde_json wrote: fields in declaration order,
//! `null` for `None`, strings escaped as RFC 8259 asks (`"`, `\`, and control characters; everything else as is).
//!
//! A struct gets its writer from [`json_struct!`], which wraps the definition so the field list can never drift from
//! the struct. Amounts are integers; decimals (rates, usage prices) are written as their exact text, instants as
//! canonical ISO 8601 text: no float ever reaches an answer.

use rust_decimal::Decimal;

use crate::sorted::SortedMap;
use crate::time::{self, Instant};

/// A value the core answers with.
pub trait ToJson {
    /// Appends this value's JSON text to `out`.
    fn write_json(&self, out: &mut String);
}

/// A value that is a JSON object: its fields can be written into an enclosing object (serde's `flatten`).
pub trait JsonFields {
    /// Appends `"name":value` pairs, each preceded by a comma unless `*first`.
    fn write_fields(&self, out: &mut String, first: &mut bool);
}

/// The JSON text of `value`.
pub fn to_string<T: ToJson + ?Sized>(value: &T) -> String {
    let mut out = String::with_capacity(128);
    value.write_json(&mut out);
    out
}

/// Writes one `"name":value` pair of an object. A Rust raw identifier (`r#type`) is written without its `r#`.
pub fn field<T: ToJson + ?Sized>(out: &mut String, first: &mut bool, name: &str, value: &T) {
    key(out, first, name.strip_prefix("r#").unwrap_or(name));
    value.write_json(out);
}

/// Writes the `"name":` of a pair (with its comma); the caller writes the value.
pub fn key(out: &mut String, first: &mut bool, name: &str) {
    if !std::mem::take(first) {
        out.push(',');
    }
    write_str(out, name);
    out.push(':');
}

/// `s` as a JSON string.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// Implements [`ToJson`] and [`JsonFields`] for the struct it wraps: an object of its fields in declaration order.
///
/// ```
/// billy_edge::json_struct! {
///     #[derive(Debug, Clone, PartialEq)]
///     pub struct Totals { pub amount: i64, pub effective_amount: i64 }
/// }
/// let t = Totals { amount: 900, effective_amount: 850 };
/// assert_eq!(billy_edge::to_json::to_string(&t), r#"{"amount":900,"effective_amount":850}"#);
/// ```
#[macro_export]
macro_rules! json_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident $(<$lt:lifetime>)? {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name $(<$lt>)? {
            $( $(#[$fmeta])* $fvis $field : $fty ),*
        }

        impl $(<$lt>)? $crate::to_json::JsonFields for $name $(<$lt>)? {
            fn write_fields(&self, out: &mut String, first: &mut bool) {
                $( $crate::to_json::field(out, first, stringify!($field), &self.$field); )*
            }
        }

        impl $(<$lt>)? $crate::to_json::ToJson for $name $(<$lt>)? {
            fn write_json(&self, out: &mut String) {
                out.push('{');
                $crate::to_json::JsonFields::write_fields(self, out, &mut true);
                out.push('}');
            }
        }
    };
}

impl ToJson for str {
    fn write_json(&self, out: &mut String) {
        write_str(out, self);
    }
}

impl ToJson for String {
    fn write_json(&self, out: &mut String) {
        write_str(out, self);
    }
}

impl ToJson for bool {
    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

/// Writes `n` in decimal, after a `-` when `negative`.
fn write_integer(out: &mut String, negative: bool, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if negative {
        out.push('-');
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

// Integers only: the core's amounts are checked to be within ±(2^53−1) before they are answered.
macro_rules! signed {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn write_json(&self, out: &mut String) {
                write_integer(out, *self < 0, i64::from(*self).unsigned_abs());
            }
        }
    )*};
}
signed!(i64, i32, i16);

macro_rules! unsigned {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn write_json(&self, out: &mut String) {
                write_integer(out, false, u64::from(*self));
            }
        }
    )*};
}
unsigned!(u64, u32, u16, u8);

impl ToJson for usize {
    fn write_json(&self, out: &mut String) {
        write_integer(out, false, *self as u64);
    }
}

/// Decimals are answered as their exact text (`"0.05"`), never as a float.
impl ToJson for Decimal {
    fn write_json(&self, out: &mut String) {
        write_str(out, &self.to_string());
    }
}

/// Instants are answered in the canonical form (`2024-01-31T10:00:00.000000+00:00`).
impl ToJson for Instant {
    fn write_json(&self, out: &mut String) {
        write_str(out, &time::format(*self));
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn write_json(&self, out: &mut String) {
        (**self).write_json(out);
    }
}

impl<T: ToJson + ?Sized> ToJson for Box<T> {
    fn write_json(&self, out: &mut String) {
        (**self).write_json(out);
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn write_json(&self, out: &mut String) {
        match self {
            Some(v) => v.write_json(out),
            None => out.push_str("null"),
        }
    }
}

impl<T: ToJson> ToJson for [T] {
    fn write_json(&self, out: &mut String) {
        out.push('[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            v.write_json(out);
        }
        out.push(']');
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn write_json(&self, out: &mut String) {
        self.as_slice().write_json(out);
    }
}

impl<T: ToJson, const N: usize> ToJson for [T; N] {
    fn write_json(&self, out: &mut String) {
        self.as_slice().write_json(out);
    }
}

/// A pair is a two-element array, as serde writes a tuple.
impl<A: ToJson, B: ToJson> ToJson for (A, B) {
    fn write_json(&self, out: &mut String) {
        out.push('[');
        self.0.write_json(out);
        out.push(',');
        self.1.write_json(out);
        out.push(']');
    }
}

/// A map with string keys is an object, in key order.
impl<K: AsRef<str>, V: ToJson> ToJson for SortedMap<K, V> {
    fn write_json(&self, out: &mut String) {
        out.push('{');
        let mut first = true;
        for (k, v) in self.iter() {
            key(out, &mut first, k.as_ref());
            v.write_json(out);
        }
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;

    json_struct! {
        /// A test struct.
        struct Sample<'a> {
            amount: i64,
            /// A raw identifier is written without its `r#`.
            r#type: &'a str,
            note: Option<String>,
            parts: Vec<(i64, bool)>,
        }
    }

    #[test]
    fn structs_are_objects_in_declaration_order() {
        let s = Sample {
            amount: -9_007_199_254_740_991,
            r#type: "debit",
            note: None,
            parts: vec![(1, true), (0, false)],
        };
        assert_eq!(
            to_string(&s),
            r#"{"amount":-9007199254740991,"type":"debit","note":null,"parts":[[1,true],[0,false]]}"#
        );
    }

    #[test]
    fn strings_are_escaped_as_rfc_8259_asks() {
        let s = "q\"b\\n\nr\rt\tb\u{8}f\u{c}z\u{0}\u{1f} é ✓ \u{7f}";
        assert_eq!(
            to_string(s),
            "\"q\\\"b\\\\n\\nr\\rt\\tb\\bf\\fz\\u0000\\u001f é ✓ \u{7f}\""
        );
    }

    /// Every string reads back as itself through the core's own JSON reader, and every integer as its value.
    #[test]
    fn what_is_written_reads_back() {
        let mut rng = XorShift::new(3);
        for _ in 0..2000 {
            let s: String = (0..rng.range(0, 12))
                .map(|_| match rng.range(0, 4) {
                    0 => char::from(rng.range(0, 0x7f) as u8),
                    1 => ['"', '\\', '\n', '\u{1}'][rng.range(0, 3) as usize],
                    2 => char::from_u32(rng.range(0x80, 0xd7ff) as u32).unwrap(),
                    _ => 'x',
                })
                .collect();
            let back = crate::json::parse(&to_string(&s), 4).unwrap();
            assert_eq!(back, crate::input::Raw::String(s));
            let n = rng.range(-9_007_199_254_740_991, 9_007_199_254_740_991);
            assert_eq!(to_string(&n), n.to_string());
        }
        assert_eq!(to_string(&i64::MIN), i64::MIN.to_string());
        assert_eq!(to_string(&u64::MAX), u64::MAX.to_string());
    }

    #[test]
    fn maps_decimals_and_instants() {
        let m: SortedMap<String, Option<Decimal>> = [
            ("b".to_string(), Some(Decimal::new(5, 2))),
            ("a".to_string(), None),
        ]
        .into_iter()
        .collect();
        assert_eq!(to_string(&m), r#"{"a":null,"b":"0.05"}"#);
        let t = time::parse("2024-01-31T10:00:00Z", "t").unwrap();
        assert_eq!(to_string(&t), r#""2024-01-31T10:00:00.000000+00:00""#);
    }
}
