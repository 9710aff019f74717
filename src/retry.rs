//! Retries of failed invoice submissions.
//!
//! After the k-th failed submission of an invoice (k counts this failure too) the next attempt waits:
//!
//! | k | wait |
//! |---|------|
//! | 1 | 1 hour |
//! | 2 | 6 hours |
//! | 3 | 1 day |
//! | 4 | 3 days |
//! | 5 | 5 days |
//! | 6 and more | 7 days |
//!
//! A hard decline (card reported stolen, account closed, …) is never retried, and neither is a failure once the
//! invoice has been submitted `max_attempts` times (the company's `max_retry_attempts`, default
//! [`DEFAULT_MAX_ATTEMPTS`]). Either way the invoice's `submit_status` becomes `failed`.

use chrono::TimeDelta;
use serde::Serialize;

use crate::error::{CoreError, Result};
use crate::time::{self, Instant};

/// Attempts when the company set no `max_retry_attempts`.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 10;

/// Wait before the next attempt after the `k`-th failure (k ≥ 1).
pub fn backoff(k: i64) -> TimeDelta {
    match k {
        i64::MIN..=1 => TimeDelta::hours(1),
        2 => TimeDelta::hours(6),
        3 => TimeDelta::days(1),
        4 => TimeDelta::days(3),
        5 => TimeDelta::days(5),
        _ => TimeDelta::days(7),
    }
}

/// What happens to an invoice after a failed submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryDecision {
    /// `retrying` or `failed`.
    pub submit_status: &'static str,
    /// When to submit again (canonical); `None` when not retrying.
    pub next_retry_at: Option<String>,
}

/// Decides after the `failure_count`-th failure (≥ 1) at `now`, with at most `max_attempts` (≥ 1) submissions.
pub fn retry_decision(
    failure_count: i64,
    max_attempts: i64,
    hard: bool,
    now: Instant,
) -> Result<RetryDecision> {
    if failure_count < 1 {
        return Err(CoreError::invalid("failure_count", "must be at least 1"));
    }
    if max_attempts < 1 {
        return Err(CoreError::invalid("max_attempts", "must be at least 1"));
    }
    if hard || failure_count >= max_attempts {
        return Ok(RetryDecision {
            submit_status: "failed",
            next_retry_at: None,
        });
    }
    let at = time::add(now, backoff(failure_count)).map_err(|e| e.in_field("now"))?;
    Ok(RetryDecision {
        submit_status: "retrying",
        next_retry_at: Some(time::format(at)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Instant {
        time::parse("2024-03-10T10:00:00Z", "now").unwrap()
    }

    #[test]
    fn backoff_schedule() {
        let hours: Vec<i64> = (1..=8).map(|k| backoff(k).num_hours()).collect();
        assert_eq!(hours, vec![1, 6, 24, 72, 120, 168, 168, 168]);
    }

    #[test]
    fn decisions() {
        let d = retry_decision(1, 4, false, now()).unwrap();
        assert_eq!(
            d,
            RetryDecision {
                submit_status: "retrying",
                next_retry_at: Some("2024-03-10T11:00:00.000000+00:00".into())
            }
        );
        let d = retry_decision(3, 4, false, now()).unwrap();
        assert_eq!(
            d.next_retry_at.as_deref(),
            Some("2024-03-11T10:00:00.000000+00:00")
        );
        let d = retry_decision(7, 50, false, now()).unwrap();
        assert_eq!(
            d.next_retry_at.as_deref(),
            Some("2024-03-17T10:00:00.000000+00:00")
        );
        assert_eq!(
            retry_decision(4, 4, false, now()).unwrap(),
            RetryDecision {
                submit_status: "failed",
                next_retry_at: None
            }
        );
        assert_eq!(
            retry_decision(9, 4, false, now()).unwrap().submit_status,
            "failed"
        );
        assert_eq!(
            retry_decision(1, 4, true, now()).unwrap(),
            RetryDecision {
                submit_status: "failed",
                next_retry_at: None
            }
        );
        assert_eq!(
            retry_decision(1, 1, false, now()).unwrap().submit_status,
            "failed"
        );
    }

    #[test]
    fn bad_arguments() {
        assert_eq!(
            retry_decision(0, 4, false, now())
                .unwrap_err()
                .field()
                .as_deref(),
            Some("failure_count")
        );
        assert_eq!(
            retry_decision(1, 0, false, now())
                .unwrap_err()
                .field()
                .as_deref(),
            Some("max_attempts")
        );
        let late = time::parse("9999-12-31T23:30:00Z", "now").unwrap();
        assert_eq!(
            retry_decision(1, 4, false, late).unwrap_err().code(),
            "schedule_out_of_range"
        );
    }
}
