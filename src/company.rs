//! Companies: creation, settings and the test clock.
//!
//! A company starts in test mode unless told otherwise. `max_retry_attempts` (1..=50) caps how often a failed
//! invoice is submitted; absent means the default of [`crate::retry`]. In test mode a company's clock can be
//! advanced, never moved back, so schedules and retries are tested without sleeping.

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::time;

crate::json_struct! {
    /// A validated company creation request.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Company {
        /// The name buyers see on the company's hosted invoice pages (at most [`MAX_NAME_LEN`] characters).
        pub name: Option<String>,
        pub processor_key: Option<String>,
        pub test_mode: bool,
        /// What a new company starts with ([`crate::retry::DEFAULT_MAX_ATTEMPTS`]).
        pub max_retry_attempts: i64,
        /// Processor calls a company may have in flight at once ([`DEFAULT_PROCESSOR_CONCURRENCY`]).
        pub processor_concurrency: i64,
    }
}

/// Processor calls in flight at once per company, unless it says otherwise: enough to hide a real processor's
/// latency (64 calls of 250 ms is 256 a second), few enough not to flood it.
pub const DEFAULT_PROCESSOR_CONCURRENCY: i64 = 64;

/// The longest company name.
pub const MAX_NAME_LEN: usize = 255;

/// Validates `{name?, processor_key?, test_mode?}`; `test_mode` defaults to true.
pub fn validate_company(raw: &Raw) -> Result<Company> {
    input::object(raw, "input")?;
    Ok(Company {
        name: input::opt_string(raw, "name", MAX_NAME_LEN)?,
        processor_key: input::opt_string(raw, "processor_key", 255)?,
        test_mode: input::opt_bool(raw, "test_mode")?.unwrap_or(true),
        max_retry_attempts: crate::retry::DEFAULT_MAX_ATTEMPTS,
        processor_concurrency: DEFAULT_PROCESSOR_CONCURRENCY,
    })
}

crate::json_struct! {
    /// Validated company settings.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Settings {
        /// A new name (`None`: unchanged).
        pub name: Option<String>,
        pub max_retry_attempts: Option<i64>,
        pub processor_concurrency: Option<i64>,
    }
}

/// Validates `{name?, max_retry_attempts?, processor_concurrency?}` (name at most 255 characters, max_retry_attempts
/// an integer 1..=50, processor_concurrency 1..=256; each `null` when absent).
pub fn validate_settings(raw: &Raw) -> Result<Settings> {
    input::object(raw, "input")?;
    Ok(Settings {
        name: input::opt_string(raw, "name", MAX_NAME_LEN)?,
        max_retry_attempts: input::opt_int(raw, "max_retry_attempts", 1, 50)?,
        processor_concurrency: input::opt_int(raw, "processor_concurrency", 1, 256)?,
    })
}

crate::json_struct! {
    /// A validated clock advance.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Clock {
        pub advance_to: String,
        /// At most this many due times are stepped through (1..=[`MAX_CLOCK_STEPS`], default the maximum); an advance
        /// that needs more stops early and says so.
        pub max_steps: i64,
        /// How long the request may run before the advance goes on in the background (ms, 0..=[`MAX_CLOCK_BUDGET_MS`]);
        /// `None` with `max_steps` given: the request does exactly that much and stops.
        pub budget_ms: Option<i64>,
    }
}

/// The longest a clock advance holds its request before finishing in the background.
pub const MAX_CLOCK_BUDGET_MS: i64 = 10_000;

/// The most due times one clock advance steps through.
pub const MAX_CLOCK_STEPS: i64 = 10_000;

/// Validates `{advance_to}` against the company's `current` time: required, and not before it.
pub fn validate_clock(raw: &Raw, current: &str) -> Result<Clock> {
    input::object(raw, "input")?;
    let current = time::parse(current, "current")?;
    let advance_to =
        time::opt_field(raw, "advance_to")?.ok_or_else(|| CoreError::missing("advance_to"))?;
    if advance_to < current {
        return Err(CoreError::ClockBackwards {
            advance_to: time::format(advance_to),
            current: time::format(current),
        });
    }
    Ok(Clock {
        advance_to: time::format(advance_to),
        max_steps: input::opt_int(raw, "max_steps", 1, MAX_CLOCK_STEPS)?.unwrap_or(MAX_CLOCK_STEPS),
        budget_ms: match (
            input::opt_int(raw, "budget_ms", 0, MAX_CLOCK_BUDGET_MS)?,
            input::present(raw, "max_steps"),
        ) {
            (Some(ms), _) => Some(ms),
            (None, Some(_)) => None,
            (None, None) => Some(MAX_CLOCK_BUDGET_MS),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_defaults_to_test_mode() {
        assert_eq!(
            validate_company(&Raw::Null).unwrap(),
            Company {
                name: None,
                processor_key: None,
                test_mode: true,
                max_retry_attempts: 10,
                processor_concurrency: 64
            }
        );
        let c = validate_company(&Raw::object([
            ("processor_key", Raw::from("sk_1")),
            ("test_mode", Raw::from("false")),
        ]))
        .unwrap();
        assert_eq!(
            c,
            Company {
                name: None,
                processor_key: Some("sk_1".into()),
                test_mode: false,
                max_retry_attempts: 10,
                processor_concurrency: 64
            }
        );
        assert!(
            !validate_company(&Raw::object([("test_mode", Raw::Bool(false))]))
                .unwrap()
                .test_mode
        );
        let e = validate_company(&Raw::object([("test_mode", Raw::from("maybe"))])).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("invalid_field", Some("test_mode"))
        );
        let e = validate_company(&Raw::object([(
            "processor_key",
            Raw::from("k".repeat(256)),
        )]))
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("processor_key"));
    }

    #[test]
    fn settings_bounds() {
        assert_eq!(
            validate_settings(&Raw::Null).unwrap().max_retry_attempts,
            None
        );
        assert_eq!(
            validate_settings(&Raw::object([("max_retry_attempts", Raw::from("50"))]))
                .unwrap()
                .max_retry_attempts,
            Some(50)
        );
        let named =
            validate_settings(&Raw::object([("name", Raw::from("Acme Supplies Ltd."))])).unwrap();
        assert_eq!(
            (named.name.as_deref(), named.max_retry_attempts),
            (Some("Acme Supplies Ltd."), None)
        );
        assert_eq!(
            validate_settings(&Raw::object([("name", Raw::from("n".repeat(255)))]))
                .unwrap()
                .name
                .map(|n| n.len()),
            Some(255)
        );
        for bad in [Raw::from("n".repeat(256)), Raw::from(5i64), Raw::Bool(true)] {
            let e = validate_settings(&Raw::object([("name", bad)])).unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("invalid_field", Some("name"))
            );
        }
        assert_eq!(
            validate_company(&Raw::object([("name", Raw::from("Acme"))]))
                .unwrap()
                .name
                .as_deref(),
            Some("Acme")
        );
        for bad in ["0", "51", "x", "2.5"] {
            let e = validate_settings(&Raw::object([("max_retry_attempts", Raw::from(bad))]))
                .unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("invalid_field", Some("max_retry_attempts")),
                "{bad}"
            );
        }
    }

    #[test]
    fn clock_moves_forward_only() {
        let current = "2024-01-01T00:00:00.000000+00:00";
        let c = validate_clock(
            &Raw::object([("advance_to", Raw::from("2024-02-01"))]),
            current,
        )
        .unwrap();
        assert_eq!(c.advance_to, "2024-02-01T00:00:00.000000+00:00");
        assert_eq!(c.max_steps, MAX_CLOCK_STEPS);
        assert_eq!(
            c.budget_ms,
            Some(MAX_CLOCK_BUDGET_MS),
            "at most 10 s in the request, then in the background"
        );
        let c = validate_clock(
            &Raw::object([
                ("advance_to", Raw::from("2024-02-01")),
                ("budget_ms", Raw::from("0")),
            ]),
            current,
        )
        .unwrap();
        assert_eq!(c.budget_ms, Some(0));
        assert!(validate_clock(
            &Raw::object([
                ("advance_to", Raw::from("2024-02-01")),
                ("budget_ms", Raw::from("10001"))
            ]),
            current
        )
        .is_err());
        let c = validate_clock(
            &Raw::object([
                ("advance_to", Raw::from("2024-02-01")),
                ("max_steps", Raw::from("5")),
            ]),
            current,
        )
        .unwrap();
        assert_eq!(
            (c.max_steps, c.budget_ms),
            (5, None),
            "an explicit step count stops, never goes on alone"
        );
        for bad in ["0", "10001", "x"] {
            let e = validate_clock(
                &Raw::object([
                    ("advance_to", Raw::from("2024-02-01")),
                    ("max_steps", Raw::from(bad)),
                ]),
                current,
            )
            .unwrap_err();
            assert_eq!(e.field().as_deref(), Some("max_steps"));
        }
        assert_eq!(
            validate_clock(&Raw::object([("advance_to", Raw::from(current))]), current)
                .unwrap()
                .advance_to,
            current
        );
        let e = validate_clock(
            &Raw::object([("advance_to", Raw::from("2023-12-31T23:59:59Z"))]),
            current,
        )
        .unwrap_err();
        assert_eq!(
            (e.code(), e.status(), e.field().as_deref()),
            ("clock_backwards", 400, Some("advance_to"))
        );
        assert!(
            e.to_string().contains("2023-12-31T23:59:59.000000+00:00")
                && e.to_string().contains(current)
        );
        let e = validate_clock(&Raw::Null, current).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("missing_field", Some("advance_to"))
        );
        let e =
            validate_clock(&Raw::object([("advance_to", Raw::from("soon"))]), current).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("invalid_time", Some("advance_to"))
        );
    }
}
