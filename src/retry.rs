//! Retries of failed submissions (the backoff [`crate::transaction::apply`] schedules).
//!
//! After the k-th failed submission of a transaction (k counts this failure too) the next attempt waits:
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
//! transaction has been submitted `max_attempts` times (the company's `max_retry_attempts`, default
//! [`DEFAULT_MAX_ATTEMPTS`]). Either way the transaction's `submit_status` becomes `failed`.

use chrono::TimeDelta;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_schedule() {
        let hours: Vec<i64> = (1..=8).map(|k| backoff(k).num_hours()).collect();
        assert_eq!(hours, vec![1, 6, 24, 72, 120, 168, 168, 168]);
    }
}
