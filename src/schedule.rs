//! Subscription schedules, Billy's rule.
//!
//! Period `n` of a subscription starts at `started_at + n × interval × unit`:
//! - daily: `n × interval` days; weekly: `n × interval × 7` days;
//! - monthly: `n × interval` months; yearly: `n × interval × 12` months. For months the day of month is clamped
//!   to the target month's length (started Jan 31 → Feb 28 or 29, Mar 31, Apr 30, …).
//!
//! Time of day is kept, everything is UTC, and period `n` is always computed from `started_at`, never from
//! period `n − 1`, so a clamped February never drags later periods to the 28th (no drift). Dates past the year
//! 9999 are `schedule_out_of_range`.

use chrono::{Datelike, NaiveDate, TimeDelta};

use crate::error::{CoreError, Result};
use crate::time::{self, Instant, MAX_YEAR};

/// How often a plan bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Frequency {
    /// Parses `daily|weekly|monthly|yearly` in any letter case; `field` names it in the error.
    pub fn parse(s: &str, field: &str) -> Result<Frequency> {
        match s.to_ascii_lowercase().as_str() {
            "daily" => Ok(Frequency::Daily),
            "weekly" => Ok(Frequency::Weekly),
            "monthly" => Ok(Frequency::Monthly),
            "yearly" => Ok(Frequency::Yearly),
            _ => Err(CoreError::invalid(
                field,
                "must be one of daily, weekly, monthly, yearly",
            )),
        }
    }

    /// Lowercase name, as the API returns it.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
            Frequency::Yearly => "yearly",
        }
    }
}

fn out_of_range(started_at: Instant, n: i64) -> CoreError {
    CoreError::ScheduleOutOfRange {
        field: None,
        reason: format!(
            "period {n} of a schedule started at {} is beyond the year {MAX_YEAR}",
            time::format(started_at)
        ),
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`), in i32: wasm has no
/// high-word multiply, and V8 turns an i32 division by a constant into a multiply where an i64 one stays a divide.
#[inline]
fn epoch_days(year: i32, month: u32, day: u32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[inline]
fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The periods of one schedule as epoch milliseconds, [`period_at`] with the anchor taken apart once: the batch
/// export's path, a million periods without a calendar type per period. Anything off its easy range (huge steps,
/// past the year 9999, bad arguments) is answered by [`period_at`] itself, so the two cannot disagree.
pub struct PeriodMillis {
    started_at: Instant,
    frequency: Frequency,
    interval: i64,
    year: i32,
    month0: i32,
    day: u32,
    epoch_day: i64,
    time_ms: i64,
}

const DAY_MS: i64 = 86_400_000;
/// 9999-12-31 in days from 1970-01-01 (time's `MAX_YEAR`; asserted in the tests).
const LAST_DAY: i64 = 2_932_896;

impl PeriodMillis {
    pub fn new(started_at: Instant, frequency: Frequency, interval: i64) -> PeriodMillis {
        let midnight = started_at.date().and_hms_opt(0, 0, 0).unwrap_or(started_at);
        PeriodMillis {
            started_at,
            frequency,
            interval,
            year: started_at.year(),
            month0: started_at.month0() as i32,
            day: started_at.day(),
            epoch_day: i64::from(epoch_days(
                started_at.year(),
                started_at.month(),
                started_at.day(),
            )),
            time_ms: (started_at - midnight).num_milliseconds(),
        }
    }

    /// Epoch milliseconds of period `n`, exactly `instant_millis(period_at(..., n)?)`.
    pub fn at(&self, n: i64) -> Result<i64> {
        match self.easy(n) {
            Some(t) => Ok(t),
            None => period_at(self.started_at, self.frequency, self.interval, n)
                .map(time::instant_millis),
        }
    }

    /// Periods `first .. first + count` pushed onto `out` as epoch milliseconds, stopping before the first one past
    /// the year 9999 (exactly [`Self::at`] for each `n`). When the whole range is easy (periods only grow with `n`,
    /// so the last one being easy makes them all easy) it is one loop over locals: no `Result`, no fallback and no
    /// re-read of `self` per period, which is what kept the wasm loop at 1.5× native (it spilled to the shadow stack
    /// every period).
    pub fn extend_millis(&self, first: i64, count: i64, out: &mut Vec<f64>) -> Result<()> {
        let last = first.saturating_add(count.max(1) - 1);
        if count > 0 && first >= 0 && self.easy(last).is_some() {
            let (time_ms, day) = (self.time_ms, self.day);
            match self.frequency {
                Frequency::Daily | Frequency::Weekly => {
                    let step = self.interval
                        * if self.frequency == Frequency::Weekly {
                            7
                        } else {
                            1
                        };
                    let mut d = self.epoch_day + first * step;
                    for _ in 0..count {
                        out.push((d * DAY_MS + time_ms) as f64);
                        d += step;
                    }
                }
                Frequency::Monthly | Frequency::Yearly => {
                    // Easy bounds keep every index within i32 (months ≤ 120,000 past a year ≤ 9999).
                    let step = (self.interval
                        * if self.frequency == Frequency::Yearly {
                            12
                        } else {
                            1
                        }) as i32;
                    let mut index = self.year * 12 + self.month0 + first as i32 * step;
                    for _ in 0..count {
                        let (year, month) = (index / 12, (index % 12) as u32 + 1);
                        let d = epoch_days(year, month, day.min(month_length(year, month)));
                        out.push((i64::from(d) * DAY_MS + time_ms) as f64);
                        index += step;
                    }
                }
            }
            return Ok(());
        }
        for n in first..first.saturating_add(count) {
            match self.at(n) {
                Ok(t) => out.push(t as f64),
                Err(CoreError::ScheduleOutOfRange { .. }) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Period `n` by day arithmetic when it is in the easy range (bounds that keep every product in range without a
    /// checked multiply, a 128-bit one on wasm32, and a date up to 9999-12-31); `None` leaves it to [`period_at`].
    #[inline]
    fn easy(&self, n: i64) -> Option<i64> {
        if !((1..=120_000).contains(&self.interval) && (0..=120_000).contains(&n)) {
            return None;
        }
        let steps = n * self.interval;
        let epoch_day = match self.frequency {
            Frequency::Daily | Frequency::Weekly => {
                let days = if self.frequency == Frequency::Weekly {
                    steps * 7
                } else {
                    steps
                };
                (days <= 10_000_000).then_some(self.epoch_day + days)
            }
            Frequency::Monthly | Frequency::Yearly => {
                let months = if self.frequency == Frequency::Yearly {
                    steps * 12
                } else {
                    steps
                };
                (months <= 120_000).then(|| {
                    let index = self.year * 12 + self.month0 + months as i32;
                    let (year, month) = (index / 12, (index % 12) as u32 + 1);
                    i64::from(epoch_days(
                        year,
                        month,
                        self.day.min(month_length(year, month)),
                    ))
                })
            }
        };
        epoch_day
            .filter(|d| *d <= LAST_DAY)
            .map(|d| d * DAY_MS + self.time_ms)
    }
}

#[inline]
fn month_length(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Start of period `n` (n ≥ 0; interval ≥ 1).
pub fn period_at(
    started_at: Instant,
    frequency: Frequency,
    interval: i64,
    n: i64,
) -> Result<Instant> {
    if interval < 1 {
        return Err(CoreError::invalid("interval", "must be at least 1"));
    }
    if n < 0 {
        return Err(CoreError::invalid("n", "must be at least 0"));
    }
    let steps = n
        .checked_mul(interval)
        .ok_or_else(|| out_of_range(started_at, n))?;
    let at = match frequency {
        Frequency::Daily | Frequency::Weekly => {
            let days = if frequency == Frequency::Weekly {
                steps.checked_mul(7)
            } else {
                Some(steps)
            };
            // 10^7 days is past the year 9999 from any supported start; TimeDelta::days panics beyond ~10^14.
            let days = days
                .filter(|d| *d <= 10_000_000)
                .ok_or_else(|| out_of_range(started_at, n))?;
            started_at.checked_add_signed(TimeDelta::days(days))
        }
        Frequency::Monthly | Frequency::Yearly => {
            let months = if frequency == Frequency::Yearly {
                steps.checked_mul(12)
            } else {
                Some(steps)
            };
            let months = months
                .filter(|m| *m <= 120_000)
                .ok_or_else(|| out_of_range(started_at, n))?;
            let index = i64::from(started_at.year()) * 12 + i64::from(started_at.month0()) + months;
            let (year, month) = ((index / 12) as i32, (index % 12) as u32 + 1);
            let day = started_at.day().min(days_in_month(year, month));
            NaiveDate::from_ymd_opt(year, month, day).map(|d| d.and_time(started_at.time()))
        }
    };
    at.filter(|t| t.year() <= MAX_YEAR)
        .ok_or_else(|| out_of_range(started_at, n))
}

crate::json_struct! {
    /// One period that is due: its number and when it was scheduled (canonical).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct DuePeriod {
        pub period: i64,
        pub scheduled_at: String,
    }
}

crate::json_struct! {
    /// Periods to invoice now, and when the next one falls due.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Due {
        pub periods: Vec<DuePeriod>,
        /// Start of the first period not returned; `None` when that lies past the year 9999 (never bills again).
        pub next_invoice_at: Option<String>,
    }
}

/// Every period `n ≥ invoice_count` whose start is `≤ now`, in order, at most `max` of them (catch-up yields one
/// invoice per missed period), and the start of period `invoice_count + periods.len()`.
pub fn due_periods(
    started_at: Instant,
    frequency: Frequency,
    interval: i64,
    invoice_count: i64,
    now: Instant,
    max: usize,
) -> Result<Due> {
    if interval < 1 {
        return Err(CoreError::invalid("interval", "must be at least 1"));
    }
    if invoice_count < 0 {
        return Err(CoreError::invalid("invoice_count", "must be at least 0"));
    }
    let mut periods = Vec::new();
    let mut n = invoice_count;
    let next = loop {
        let at = match period_at(started_at, frequency, interval, n) {
            Ok(at) => at,
            Err(CoreError::ScheduleOutOfRange { .. }) => break None,
            Err(e) => return Err(e),
        };
        if at > now || periods.len() >= max {
            break Some(time::format(at));
        }
        periods.push(DuePeriod {
            period: n,
            scheduled_at: time::format(at),
        });
        n += 1;
    };
    Ok(Due {
        periods,
        next_invoice_at: next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse;

    fn t(s: &str) -> Instant {
        parse(s, "t").unwrap()
    }

    fn at(start: &str, f: Frequency, interval: i64, n: i64) -> String {
        time::format(period_at(t(start), f, interval, n).unwrap())
    }

    #[test]
    fn frequency_parsing() {
        assert_eq!(
            Frequency::parse("MONTHLY", "frequency").unwrap(),
            Frequency::Monthly
        );
        assert_eq!(
            Frequency::parse("Weekly", "frequency").unwrap().as_str(),
            "weekly"
        );
        let e = Frequency::parse("fortnightly", "frequency").unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("invalid_field", Some("frequency"))
        );
    }

    #[test]
    fn billy_reference_example() {
        let s = "2013-01-30T00:00:00Z";
        assert_eq!(
            at(s, Frequency::Monthly, 1, 0),
            "2013-01-30T00:00:00.000000+00:00"
        );
        assert_eq!(
            at(s, Frequency::Monthly, 1, 1),
            "2013-02-28T00:00:00.000000+00:00"
        );
        assert_eq!(
            at(s, Frequency::Monthly, 1, 2),
            "2013-03-30T00:00:00.000000+00:00"
        );
    }

    #[test]
    fn month_end_clamps_without_drift() {
        let s = "2013-01-31T10:20:30.123456Z";
        let want = [
            "2013-01-31",
            "2013-02-28",
            "2013-03-31",
            "2013-04-30",
            "2013-05-31",
            "2013-06-30",
        ];
        for (n, day) in want.iter().enumerate() {
            assert_eq!(
                at(s, Frequency::Monthly, 1, n as i64),
                format!("{day}T10:20:30.123456+00:00")
            );
        }
        assert_eq!(
            at("2024-01-31T00:00:00Z", Frequency::Monthly, 1, 1),
            "2024-02-29T00:00:00.000000+00:00"
        );
        assert_eq!(
            at("2024-01-31T00:00:00Z", Frequency::Monthly, 3, 1),
            "2024-04-30T00:00:00.000000+00:00"
        );
    }

    #[test]
    fn leap_day_yearly() {
        let s = "2012-02-29T08:00:00Z";
        assert_eq!(
            at(s, Frequency::Yearly, 1, 1),
            "2013-02-28T08:00:00.000000+00:00"
        );
        assert_eq!(
            at(s, Frequency::Yearly, 1, 3),
            "2015-02-28T08:00:00.000000+00:00"
        );
        assert_eq!(
            at(s, Frequency::Yearly, 1, 4),
            "2016-02-29T08:00:00.000000+00:00"
        );
        assert_eq!(
            at(s, Frequency::Yearly, 2, 2),
            "2016-02-29T08:00:00.000000+00:00"
        );
    }

    #[test]
    fn daily_and_weekly() {
        let s = "2024-02-27T23:59:59Z";
        assert_eq!(
            at(s, Frequency::Daily, 1, 2),
            "2024-02-29T23:59:59.000000+00:00"
        );
        assert_eq!(
            at(s, Frequency::Daily, 3, 1),
            "2024-03-01T23:59:59.000000+00:00"
        );
        assert_eq!(
            at(s, Frequency::Weekly, 2, 1),
            "2024-03-12T23:59:59.000000+00:00"
        );
        assert_eq!(
            at(s, Frequency::Weekly, 2, 3),
            "2024-04-09T23:59:59.000000+00:00"
        );
        assert_eq!(
            at(s, Frequency::Weekly, 1, 0),
            "2024-02-27T23:59:59.000000+00:00"
        );
    }

    #[test]
    fn bad_arguments_and_out_of_range() {
        let s = t("2024-01-01T00:00:00Z");
        assert_eq!(
            period_at(s, Frequency::Daily, 0, 1)
                .unwrap_err()
                .field()
                .as_deref(),
            Some("interval")
        );
        assert_eq!(
            period_at(s, Frequency::Daily, 1, -1)
                .unwrap_err()
                .field()
                .as_deref(),
            Some("n")
        );
        for (f, n) in [
            (Frequency::Yearly, 7976),
            (Frequency::Monthly, 12 * 7976),
            (Frequency::Daily, 3_000_000),
            (Frequency::Weekly, i64::MAX),
        ] {
            assert_eq!(
                period_at(s, f, 1, n).unwrap_err().code(),
                "schedule_out_of_range",
                "{f:?} {n}"
            );
        }
        assert_eq!(
            period_at(s, Frequency::Monthly, i64::MAX, 2)
                .unwrap_err()
                .code(),
            "schedule_out_of_range"
        );
        assert_eq!(
            time::format(period_at(s, Frequency::Yearly, 1, 7975).unwrap()),
            "9999-01-01T00:00:00.000000+00:00"
        );
    }

    #[test]
    fn catch_up_after_leap_february() {
        let due = due_periods(
            t("2024-01-31T09:30:00Z"),
            Frequency::Monthly,
            1,
            1,
            t("2024-03-31T09:30:00Z"),
            100,
        )
        .unwrap();
        assert_eq!(
            due.periods,
            vec![
                DuePeriod {
                    period: 1,
                    scheduled_at: "2024-02-29T09:30:00.000000+00:00".into()
                },
                DuePeriod {
                    period: 2,
                    scheduled_at: "2024-03-31T09:30:00.000000+00:00".into()
                },
            ]
        );
        assert_eq!(
            due.next_invoice_at.as_deref(),
            Some("2024-04-30T09:30:00.000000+00:00")
        );
    }

    #[test]
    fn due_periods_limits() {
        let start = t("2024-01-01T00:00:00Z");
        // Nothing due yet: next is the first period not yet invoiced.
        let due =
            due_periods(start, Frequency::Daily, 1, 3, t("2024-01-03T23:59:59Z"), 10).unwrap();
        assert!(due.periods.is_empty());
        assert_eq!(
            due.next_invoice_at.as_deref(),
            Some("2024-01-04T00:00:00.000000+00:00")
        );
        // Exactly at the boundary counts as due; max caps the batch and next points at the first left over.
        let due = due_periods(start, Frequency::Daily, 1, 0, t("2024-01-10T00:00:00Z"), 4).unwrap();
        assert_eq!(
            due.periods.iter().map(|p| p.period).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        assert_eq!(
            due.next_invoice_at.as_deref(),
            Some("2024-01-05T00:00:00.000000+00:00")
        );
        let due = due_periods(start, Frequency::Daily, 1, 0, t("2024-01-10T00:00:00Z"), 0).unwrap();
        assert!(due.periods.is_empty());
        assert_eq!(
            due.next_invoice_at.as_deref(),
            Some("2024-01-01T00:00:00.000000+00:00")
        );
        // A schedule whose next period lies past 9999 never bills again.
        let late = t("9999-06-01T00:00:00Z");
        let due =
            due_periods(late, Frequency::Yearly, 1, 0, t("9999-12-31T00:00:00Z"), 10).unwrap();
        assert_eq!(due.periods.len(), 1);
        assert_eq!(due.next_invoice_at, None);
        assert_eq!(
            due_periods(start, Frequency::Daily, 1, -1, start, 1)
                .unwrap_err()
                .field()
                .as_deref(),
            Some("invoice_count")
        );
    }

    #[test]
    fn property_monthly_periods_never_drift() {
        let mut rng = crate::testutil::XorShift::new(0x5C4E_D01E);
        for _ in 0..40 {
            let year = 1970 + (rng.next() % 300) as i32;
            let month = 1 + (rng.next() % 12) as u32;
            let day = [28, 29, 30, 31][(rng.next() % 4) as usize].min(days_in_month(year, month));
            let start = NaiveDate::from_ymd_opt(year, month, day)
                .unwrap()
                .and_hms_micro_opt(13, 14, 15, 161_718)
                .unwrap();
            let interval = 1 + (rng.next() % 3) as i64;
            for n in 0..1_200i64 {
                let got = period_at(start, Frequency::Monthly, interval, n).unwrap();
                let months = i64::from(year) * 12 + i64::from(month - 1) + n * interval;
                let (y, m) = ((months / 12) as i32, (months % 12) as u32 + 1);
                assert_eq!((got.year(), got.month()), (y, m));
                assert_eq!(
                    got.day(),
                    day.min(days_in_month(y, m)),
                    "start {start} n {n}"
                );
                assert_eq!(got.time(), start.time());
                if interval == 1 && n % 12 == 0 {
                    assert_eq!(
                        (got.month(), got.day()),
                        (month, day.min(days_in_month(y, m)))
                    );
                }
            }
        }
        // Started on the 31st: every 12th period lands on the 31st of the same month.
        let start = t("2001-01-31T00:00:00Z");
        for n in (0..1_200).step_by(12) {
            let got = period_at(start, Frequency::Monthly, 1, n).unwrap();
            assert_eq!((got.month(), got.day()), (1, 31));
        }
    }

    #[test]
    fn property_due_periods_partition_time() {
        // Catching up in batches yields the same periods as one big catch-up, each exactly once.
        let mut rng = crate::testutil::XorShift::new(99);
        for _ in 0..50 {
            let start = t("2020-01-31T06:00:00Z");
            let f = [
                Frequency::Daily,
                Frequency::Weekly,
                Frequency::Monthly,
                Frequency::Yearly,
            ][(rng.next() % 4) as usize];
            let interval = 1 + (rng.next() % 4) as i64;
            let now = t("2031-06-30T06:00:00Z");
            let all = due_periods(start, f, interval, 0, now, 100_000).unwrap();
            let mut count = 0;
            let mut seen = Vec::new();
            loop {
                let batch = due_periods(
                    start,
                    f,
                    interval,
                    count,
                    now,
                    1 + (rng.next() % 7) as usize,
                )
                .unwrap();
                if batch.periods.is_empty() {
                    assert_eq!(batch.next_invoice_at, all.next_invoice_at);
                    break;
                }
                count += batch.periods.len() as i64;
                seen.extend(batch.periods);
            }
            assert_eq!(seen, all.periods);
        }
    }

    #[test]
    fn period_millis_is_period_at_in_milliseconds() {
        use crate::testutil::XorShift;
        assert_eq!(
            i64::from(epoch_days(9999, 12, 31)),
            LAST_DAY,
            "LAST_DAY is the last day of MAX_YEAR"
        );
        assert_eq!(MAX_YEAR, 9999);
        let mut rng = XorShift::new(0x09E2_10D5);
        let frequencies = [
            Frequency::Daily,
            Frequency::Weekly,
            Frequency::Monthly,
            Frequency::Yearly,
        ];
        let mut starts: Vec<Instant> = [
            "1970-01-01T00:00:00Z",
            "2024-01-31T10:00:00.123456Z",
            "2024-02-29T23:59:59.999999Z",
            "2000-02-29T00:00:00Z",
            "2100-03-31T12:00:00Z",
            "9999-12-31T23:59:59Z",
            "9998-01-31T00:00:00Z",
        ]
        .iter()
        .map(|s| t(s))
        .collect();
        for _ in 0..300 {
            let days = rng.range(0, 2_932_896);
            let secs = rng.range(0, 86_399);
            starts.push(
                NaiveDate::from_num_days_from_ce_opt(719_163 + days as i32)
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    + TimeDelta::seconds(secs)
                    + TimeDelta::microseconds(rng.range(0, 999_999)),
            );
        }
        for start in starts {
            for f in frequencies {
                for interval in [1, 2, 3, 6, 12, 13, 119_999, 120_000, 120_001, 1 << 40] {
                    let fast = PeriodMillis::new(start, f, interval);
                    let mut ns = vec![0, 1, 2, 11, 12, 59, 119_999, 120_000, 120_001, i64::MAX];
                    ns.extend((0..20).map(|_| rng.range(0, 200_000)));
                    // A range at a time is `at` one period at a time, ending before the first past 9999.
                    let first = [0, 1, 119_990, 120_000][rng.range(0, 3) as usize];
                    let count = rng.range(0, 40);
                    let mut range = vec![-1.0];
                    fast.extend_millis(first, count, &mut range).unwrap();
                    let mut want = vec![-1.0];
                    for n in first..first + count {
                        match fast.at(n) {
                            Ok(t) => want.push(t as f64),
                            Err(CoreError::ScheduleOutOfRange { .. }) => break,
                            Err(e) => panic!("{e}"),
                        }
                    }
                    assert_eq!(range, want, "{start} {f:?} × {interval}, {first} + {count}");
                    for n in ns {
                        let want = period_at(start, f, interval, n).map(time::instant_millis);
                        assert_eq!(
                            fast.at(n).map_err(|e| e.code()),
                            want.map_err(|e| e.code()),
                            "{start} {f:?} × {interval}, n = {n}"
                        );
                    }
                }
            }
        }
    }
}
