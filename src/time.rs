//! Time: one canonical text form, and a lenient ISO 8601 reader.
//!
//! Canonical form: `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` — UTC, always six fraction digits, always `+00:00`
//! (e.g. `2014-02-08T08:22:10.629000+00:00`, the form of the Billy reference). Canonical strings of the
//! supported years (1970..=9999) all have the same length, so they sort lexicographically in time order and the
//! worker stores and compares them as TEXT.
//!
//! Accepted input: `2014-02-08T08:22:10.629000+00:00`, `…Z`, any `±HH:MM` (or `±HHMM`, `±HH`) offset (converted
//! to UTC), no zone (taken as UTC), a date alone `2014-02-08` (midnight UTC), a space (or lowercase `t`) instead
//! of `T`, seconds optional, 1 to 9 fraction digits (truncated to microseconds). Nothing else.
//!
//! The core never reads the clock: `now` always comes from the host.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};

use crate::error::{CoreError, Result};

/// An instant in UTC, microsecond precision, years 1970..=9999.
pub type Instant = NaiveDateTime;

/// First instant the core accepts.
pub const MIN_YEAR: i32 = 1970;
/// Last year the core accepts (the canonical form has four year digits).
pub const MAX_YEAR: i32 = 9999;

fn in_range(t: Instant) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&t.year())
}

/// The canonical text of an instant.
pub fn format(t: Instant) -> String {
    // Written by hand rather than with chrono's strftime machinery: faster, and keeps the wasm small.
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 1_000
    )
}

/// Canonical text of epoch milliseconds; outside 1970..=9999 → `invalid_time`.
pub fn format_millis(ms: i64) -> Result<String> {
    let invalid = || CoreError::InvalidTime {
        field: Some("ms".into()),
        value: ms.to_string(),
    };
    let t = DateTime::from_timestamp_millis(ms)
        .ok_or_else(invalid)?
        .naive_utc();
    if !in_range(t) {
        return Err(invalid());
    }
    Ok(format(t))
}

/// Epoch milliseconds of an instant (floor; instants are never before 1970).
pub fn instant_millis(t: Instant) -> i64 {
    t.and_utc().timestamp_millis()
}

/// Epoch milliseconds of a time string (canonical or any accepted form).
pub fn millis(s: &str) -> Result<i64> {
    Ok(instant_millis(parse(s, "time")?))
}

/// Reads `s` as an instant; `field` names it in the error.
pub fn parse(s: &str, field: &str) -> Result<Instant> {
    parse_inner(s.as_bytes())
        .filter(|t| in_range(*t))
        .ok_or_else(|| CoreError::InvalidTime {
            field: Some(field.into()),
            value: s.chars().take(64).collect(),
        })
}

/// Reads `s` and returns its canonical text.
pub fn canonical(s: &str, field: &str) -> Result<String> {
    parse(s, field).map(format)
}

/// Optional time field `key` of raw input; a value of the wrong type is `invalid_time` too, naming `key`.
pub fn opt_field(raw: &crate::input::Raw, key: &str) -> Result<Option<Instant>> {
    use crate::input::{present, Raw};
    match present(raw, key) {
        None => Ok(None),
        Some(Raw::String(s)) => parse(s, key).map(Some),
        Some(other) => Err(CoreError::InvalidTime {
            field: Some(key.into()),
            value: other.kind().to_string(),
        }),
    }
}

/// `t + delta`, or `schedule_out_of_range` past the year 9999.
pub fn add(t: Instant, delta: TimeDelta) -> Result<Instant> {
    t.checked_add_signed(delta)
        .filter(|t| in_range(*t))
        .ok_or_else(|| CoreError::ScheduleOutOfRange {
            field: None,
            reason: format!(
                "{} plus {} seconds is beyond the year {MAX_YEAR}",
                format(t),
                delta.num_seconds()
            ),
        })
}

/// Cursor over ASCII bytes for the hand-written ISO 8601 reader.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Exactly `n` ASCII digits as a number.
    fn digits(&mut self, n: usize) -> Option<u32> {
        let slice = self.bytes.get(self.pos..self.pos + n)?;
        if !slice.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.pos += n;
        Some(
            slice
                .iter()
                .fold(0, |acc, b| acc * 10 + u32::from(b - b'0')),
        )
    }

    fn done(&self) -> bool {
        self.pos == self.bytes.len()
    }
}

fn parse_inner(bytes: &[u8]) -> Option<Instant> {
    let mut c = Cursor { bytes, pos: 0 };
    let year = c.digits(4)?;
    if !c.eat(b'-') {
        return None;
    }
    let month = c.digits(2)?;
    if !c.eat(b'-') {
        return None;
    }
    let day = c.digits(2)?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    if c.done() {
        return Some(date.and_time(NaiveTime::MIN));
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return None;
    }
    let hour = c.digits(2)?;
    if !c.eat(b':') {
        return None;
    }
    let minute = c.digits(2)?;
    let mut second = 0;
    let mut micros = 0;
    if c.eat(b':') {
        second = c.digits(2)?;
        if c.eat(b'.') {
            let start = c.pos;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.pos += 1;
            }
            let frac = &bytes[start..c.pos];
            if frac.is_empty() || frac.len() > 9 {
                return None;
            }
            micros = (0..6).fold(0, |acc, i| {
                acc * 10 + frac.get(i).map_or(0, |b| u32::from(b - b'0'))
            });
        }
    }
    let time = NaiveTime::from_hms_micro_opt(hour, minute, second, micros)?;
    let local = date.and_time(time);
    let offset_seconds: i64 = match c.peek() {
        None => 0,
        Some(b'Z' | b'z') => {
            c.pos += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            c.pos += 1;
            let hh = c.digits(2)?;
            let mm = if c.eat(b':') {
                c.digits(2)?
            } else if c.done() {
                0
            } else {
                c.digits(2)?
            };
            if hh > 23 || mm > 59 {
                return None;
            }
            let seconds = i64::from(hh * 3600 + mm * 60);
            if sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        Some(_) => return None,
    };
    if !c.done() {
        return None;
    }
    local.checked_sub_signed(TimeDelta::seconds(offset_seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        canonical(s, "t").unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn accepted_forms() {
        let want = "2014-02-08T08:22:10.629000+00:00";
        for s in [
            "2014-02-08T08:22:10.629000+00:00",
            "2014-02-08T08:22:10.629Z",
            "2014-02-08T08:22:10.629z",
            "2014-02-08T08:22:10.629",
            "2014-02-08 08:22:10.629",
            "2014-02-08t08:22:10.629000000",
            "2014-02-08T13:52:10.629+05:30",
            "2014-02-08T13:52:10.629+0530",
            "2014-02-08T03:22:10.629-05",
            "2014-02-08T08:22:10.629999+00:00"
                .replace("629999", "629000")
                .as_str(),
        ] {
            assert_eq!(canon(s), want, "{s}");
        }
        assert_eq!(canon("2014-02-08"), "2014-02-08T00:00:00.000000+00:00");
        assert_eq!(
            canon("2014-02-08T08:22"),
            "2014-02-08T08:22:00.000000+00:00"
        );
        assert_eq!(
            canon("2014-02-08T08:22:10.1234567"),
            "2014-02-08T08:22:10.123456+00:00"
        );
        assert_eq!(
            canon("2014-02-08T00:30:00+01:00"),
            "2014-02-07T23:30:00.000000+00:00"
        );
        assert_eq!(
            canon("2012-02-29T12:00:00Z"),
            "2012-02-29T12:00:00.000000+00:00"
        );
        assert_eq!(
            canon("9999-12-31T23:59:59.999999Z"),
            "9999-12-31T23:59:59.999999+00:00"
        );
        assert_eq!(canon("1970-01-01"), "1970-01-01T00:00:00.000000+00:00");
    }

    #[test]
    fn rejected_forms() {
        for s in [
            "",
            " 2014-02-08",
            "2014-02-08 ",
            "2014-2-08",
            "14-02-08",
            "2014/02/08",
            "2014-02-30",
            "2013-02-29",
            "2014-13-01",
            "2014-02-08T25:00:00",
            "2014-02-08T08:60:00",
            "2014-02-08T08:22:60",
            "2014-02-08T08",
            "2014-02-08T08:22:10.",
            "2014-02-08T08:22:10.1234567890",
            "2014-02-08T08:22:10+24:00",
            "2014-02-08T08:22:10+05:",
            "2014-02-08T08:22:10 +00:00",
            "2014-02-08T08:22:10ZZ",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:30:00+01:00",
            "10000-01-01",
            "yesterday",
            "1391847730",
            "２０１４-02-08",
        ] {
            let e = parse(s, "started_at").unwrap_err();
            assert_eq!(
                (e.code(), e.status(), e.field().as_deref()),
                ("invalid_time", 400, Some("started_at")),
                "{s:?}"
            );
        }
        let msg = parse("nope", "started_at").unwrap_err().to_string();
        assert!(
            msg.starts_with("started_at must be an ISO 8601 time") && msg.contains("\"nope\""),
            "{msg}"
        );
    }

    #[test]
    fn millis_round_trip() {
        assert_eq!(
            format_millis(0).unwrap(),
            "1970-01-01T00:00:00.000000+00:00"
        );
        assert_eq!(
            format_millis(1_391_847_730_629).unwrap(),
            "2014-02-08T08:22:10.629000+00:00"
        );
        assert_eq!(
            millis("2014-02-08T08:22:10.629000+00:00").unwrap(),
            1_391_847_730_629
        );
        assert_eq!(
            millis("2014-02-08T08:22:10.629999+00:00").unwrap(),
            1_391_847_730_629
        );
        assert_eq!(format_millis(-1).unwrap_err().code(), "invalid_time");
        assert_eq!(
            format_millis(253_402_300_800_000).unwrap_err().code(),
            "invalid_time"
        );
        assert_eq!(format_millis(i64::MAX).unwrap_err().code(), "invalid_time");
        assert_eq!(millis("junk").unwrap_err().code(), "invalid_time");
    }

    #[test]
    fn canonical_strings_sort_in_time_order() {
        let mut ms: Vec<i64> = vec![
            0,
            1,
            999,
            1000,
            59_999,
            86_400_000,
            951_782_400_000,
            1_391_847_730_629,
            253_402_300_799_999,
        ];
        let mut rng = crate::testutil::XorShift::new(7);
        ms.extend((0..500).map(|_| (rng.next() % 253_402_300_800_000) as i64));
        let mut by_text: Vec<String> = ms.iter().map(|&m| format_millis(m).unwrap()).collect();
        by_text.sort();
        ms.sort();
        let by_time: Vec<String> = ms.iter().map(|&m| format_millis(m).unwrap()).collect();
        assert_eq!(by_text, by_time);
        assert!(by_time.iter().all(|s| s.len() == 32));
        for (s, m) in by_time.iter().zip(&ms) {
            assert_eq!(millis(s).unwrap(), *m);
        }
    }

    #[test]
    fn time_fields_of_raw_input() {
        use crate::input::Raw;
        let raw = Raw::object([
            ("a", Raw::from("2014-02-08")),
            ("b", Raw::from(5i64)),
            ("c", Raw::from("")),
        ]);
        assert_eq!(
            opt_field(&raw, "a").unwrap().map(format).as_deref(),
            Some("2014-02-08T00:00:00.000000+00:00")
        );
        let e = opt_field(&raw, "b").unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("invalid_time", Some("b"))
        );
        assert_eq!(opt_field(&raw, "c").unwrap(), None);
        assert_eq!(opt_field(&raw, "missing").unwrap(), None);
    }

    #[test]
    fn add_stays_in_range() {
        let t = parse("9999-12-31T00:00:00Z", "t").unwrap();
        assert!(add(t, TimeDelta::hours(23)).is_ok());
        assert_eq!(
            add(t, TimeDelta::days(1)).unwrap_err().code(),
            "schedule_out_of_range"
        );
    }
}
