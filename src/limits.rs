//! Rate limits: how often one client may do a costly thing (create a company), decided by GCRA.
//!
//! The generic cell rate algorithm keeps a single number per client, the theoretical arrival time (TAT): when
//! the client's allowance would be back to full if it stopped now. A limit of `count` per `window` lets a burst of
//! `count` through at once and then one more every `window / count`, with no fixed window edge to game (two bursts
//! either side of a window boundary) and no log of past requests to store.
//!
//! Time is counted in units of 1/`count` milliseconds so that `window / count` is exact for every limit: the
//! emission interval is then `window_ms` units and the burst tolerance `window_ms · (count − 1)` units. A refusal
//! says when the next request would pass, rounded up to the whole second (`Retry-After` counts seconds).
//!
//! Over any span of time `s`, at most `count − 1 + s · count / window` requests pass after the first: the burst,
//! then the steady rate (so a client can get up to `2 · count − 1` into one sliding window by spending its burst
//! at the window's start; over longer spans the average is `count` per window).
//!
//! The configuration is `"<count>/<seconds>"` (for example `"20/60"`: twenty per minute) or `"off"`.

use crate::error::{CoreError, Result};

/// The most requests a window may allow: `now_ms · count` stays inside i64 for every instant up to [`MAX_NOW_MS`].
pub const MAX_COUNT: i64 = 10_000;
/// The latest instant a decision accepts: 9999-12-31T23:59:59.999Z.
pub const MAX_NOW_MS: i64 = 253_402_300_799_999;
/// The longest window: one day.
pub const MAX_WINDOW_SECONDS: i64 = 86_400;

/// `count` requests per `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: i64,
    pub window_seconds: i64,
}

/// Parses a limit setting; `None` means the limit is off. `setting` names the configuration in errors.
pub fn parse(text: &str, setting: &str) -> Result<Option<Rate>> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let invalid = || {
        CoreError::InvalidField {
        field: setting.to_string(),
        reason: format!("must be \"off\" or \"<count>/<seconds>\" with 1 ≤ count ≤ {MAX_COUNT} and 1 ≤ seconds ≤ {MAX_WINDOW_SECONDS}, not {text:?}"),
    }
    };
    let (count, seconds) = text.split_once('/').ok_or_else(invalid)?;
    let number = |s: &str| -> Option<i64> {
        let s = s.trim();
        (!s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())?
    };
    match (number(count), number(seconds)) {
        (Some(count), Some(window_seconds))
            if (1..=MAX_COUNT).contains(&count)
                && (1..=MAX_WINDOW_SECONDS).contains(&window_seconds) =>
        {
            Ok(Some(Rate {
                count,
                window_seconds,
            }))
        }
        _ => Err(invalid()),
    }
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The TAT to store (unchanged when refused), in units of 1/`count` ms.
    pub tat: i64,
    /// Whole seconds until a request would pass (0 when allowed).
    pub retry_after_seconds: i64,
}

/// Decides one request at `now_ms` given the stored TAT (`None` for a client never seen, or stored for another
/// rate: a change of configuration starts every client afresh).
pub fn decide(rate: Rate, stored_tat: Option<i64>, now_ms: i64) -> Result<Decision> {
    let overflow = || CoreError::Internal {
        reason: "rate limit arithmetic overflowed".into(),
    };
    let now = now_ms.checked_mul(rate.count).ok_or_else(overflow)?;
    let window_ms = rate.window_seconds * 1000;
    let interval = window_ms; // window_ms / count ms, in 1/count-ms units
    let tolerance = window_ms * (rate.count - 1);
    let tat = stored_tat.unwrap_or(now).max(now);
    let early = tat - now; // how far ahead of time the allowance already is
    if early > tolerance {
        let wait_units = early - tolerance;
        let wait_ms = (wait_units + rate.count - 1) / rate.count;
        return Ok(Decision {
            allowed: false,
            tat,
            retry_after_seconds: ((wait_ms + 999) / 1000).max(1),
        });
    }
    Ok(Decision {
        allowed: true,
        tat: tat.checked_add(interval).ok_or_else(overflow)?,
        retry_after_seconds: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_764_633_600_000; // 2025-12-02T00:00:00Z

    fn run(rate: Rate, times_ms: &[i64]) -> Vec<(bool, i64)> {
        let mut tat = None;
        times_ms
            .iter()
            .map(|&t| {
                let d = decide(rate, tat, T0 + t).unwrap();
                tat = Some(d.tat);
                (d.allowed, d.retry_after_seconds)
            })
            .collect()
    }

    #[test]
    fn parses_settings() {
        assert_eq!(
            parse("20/60", "L").unwrap(),
            Some(Rate {
                count: 20,
                window_seconds: 60
            })
        );
        assert_eq!(
            parse(" 3 / 1 ", "L").unwrap(),
            Some(Rate {
                count: 3,
                window_seconds: 1
            })
        );
        assert_eq!(parse("OFF", "L").unwrap(), None);
        for bad in [
            "",
            "20",
            "0/60",
            "20/0",
            "-1/60",
            "20/86401",
            "10001/60",
            "1.5/60",
            "a/b",
            "20/60/2",
            "9999999999999999999/1",
        ] {
            let err = parse(bad, "COMPANY_CREATION_LIMIT").unwrap_err();
            assert_eq!(
                err.field().as_deref(),
                Some("COMPANY_CREATION_LIMIT"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_burst_of_count_then_one_per_interval() {
        let rate = Rate {
            count: 3,
            window_seconds: 60,
        };
        // Three at once pass, the fourth waits for one interval (20 s).
        assert_eq!(
            run(rate, &[0, 0, 0, 0]),
            vec![(true, 0), (true, 0), (true, 0), (false, 20)]
        );
        // After 20 s one more passes, not two.
        assert_eq!(
            run(rate, &[0, 0, 0, 20_000, 20_000]),
            vec![(true, 0), (true, 0), (true, 0), (true, 0), (false, 20)]
        );
        // Retry-After counts down and rounds up to the second.
        assert_eq!(run(rate, &[0, 0, 0, 19_001])[3], (false, 1));
        assert_eq!(run(rate, &[0, 0, 0, 5_500])[3], (false, 15));
        // A quiet window restores the whole burst.
        assert_eq!(
            run(rate, &[0, 0, 0, 60_000, 60_000, 60_000, 60_000])
                .iter()
                .filter(|d| d.0)
                .count(),
            6
        );
    }

    #[test]
    fn refusals_do_not_consume_allowance() {
        let rate = Rate {
            count: 2,
            window_seconds: 10,
        };
        // Hammering while refused does not push the allowance further away.
        let decisions = run(rate, &[0, 0, 1, 2, 3, 4, 5_000]);
        assert_eq!(
            decisions.iter().map(|d| d.0).collect::<Vec<_>>(),
            vec![true, true, false, false, false, false, true]
        );
    }

    #[test]
    fn never_more_than_the_rate_allows_over_any_span() {
        // Property (GCRA's bound): between any two allowed requests i < j, j − i ≤ (count − 1) + span · count /
        // window. So a span shorter than one interval holds at most the burst, and a long run averages count per
        // window. Checked for a request every 137 ms over ten minutes.
        for count in [1, 2, 7, 20] {
            let rate = Rate {
                count,
                window_seconds: 60,
            };
            let times: Vec<i64> = (0..4_380).map(|i| i * 137).collect();
            let allowed: Vec<i64> = times
                .iter()
                .zip(run(rate, &times))
                .filter(|(_, d)| d.0)
                .map(|(t, _)| *t)
                .collect();
            for i in 0..allowed.len() {
                for j in i + 1..allowed.len() {
                    let bound = (count - 1) + (allowed[j] - allowed[i]) * count / 60_000;
                    assert!(
                        (j - i) as i64 <= bound,
                        "count {count}: {} allowed in {} ms",
                        j - i + 1,
                        allowed[j] - allowed[i]
                    );
                }
            }
            // And it is not stingier than the rate: ten minutes allow the burst plus one per interval.
            let expected = count + (times[times.len() - 1] * count) / 60_000;
            assert!(
                (allowed.len() as i64 - expected).abs() <= 1,
                "count {count}: {} allowed, {expected} expected",
                allowed.len()
            );
        }
    }

    #[test]
    fn a_clock_that_steps_back_is_not_a_gift() {
        let rate = Rate {
            count: 1,
            window_seconds: 60,
        };
        assert_eq!(
            run(rate, &[10_000, 0, 5_000]),
            vec![(true, 0), (false, 70), (false, 65)]
        );
    }
}
