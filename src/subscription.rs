//! Subscriptions: a customer on a plan, optionally with its own amount and start.
//!
//! `started_at` defaults to the company's `now` and may not lie before it (a subscription never bills for
//! the past at creation); `amount`, when given, overrides the plan's amount for this subscription only.

use serde::Serialize;

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::plan::MIN_CHARGE;
use crate::time;

/// A validated subscription request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscription {
    pub plan_guid: String,
    pub customer_guid: String,
    pub funding_instrument_uri: Option<String>,
    /// Override of the plan amount; `None` bills the plan's amount.
    pub amount: Option<i64>,
    pub started_at: String,
    pub appears_on_statement_as: Option<String>,
}

/// Validates a subscription creation request against the company's current time `now` (canonical).
pub fn validate_subscription(raw: &Raw, now: &str) -> Result<Subscription> {
    input::object(raw, "input")?;
    let now = time::parse(now, "now")?;
    let plan_guid = input::req_string(raw, "plan_guid", 64)?;
    let customer_guid = input::req_string(raw, "customer_guid", 64)?;
    let funding_instrument_uri = input::opt_string(raw, "funding_instrument_uri", 255)?;
    let amount = input::opt_amount(raw, "amount", MIN_CHARGE)?;
    let started_at = match time::opt_field(raw, "started_at")? {
        None => now,
        Some(t) => {
            if t < now {
                return Err(CoreError::StartedInPast {
                    started_at: time::format(t),
                    now: time::format(now),
                });
            }
            t
        }
    };
    let appears_on_statement_as = input::statement_descriptor(raw, "appears_on_statement_as")?;
    Ok(Subscription {
        plan_guid,
        customer_guid,
        funding_instrument_uri,
        amount,
        started_at: time::format(started_at),
        appears_on_statement_as,
    })
}

/// What a subscription bills: its own amount when it has one, else the plan's.
pub fn subscription_amount(override_amount: Option<i64>, plan_amount: i64) -> i64 {
    override_amount.unwrap_or(plan_amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2024-05-01T12:00:00.000000+00:00";

    fn sub(pairs: &[(&str, Raw)]) -> Result<Subscription> {
        let mut all: Vec<(&str, Raw)> =
            vec![("plan_guid", "PL1".into()), ("customer_guid", "CU1".into())];
        all.retain(|(k, _)| !pairs.iter().any(|(p, _)| p == k));
        all.extend(pairs.iter().cloned());
        validate_subscription(&Raw::object(all), NOW)
    }

    #[test]
    fn defaults() {
        let s = sub(&[]).unwrap();
        assert_eq!(
            s,
            Subscription {
                plan_guid: "PL1".into(),
                customer_guid: "CU1".into(),
                funding_instrument_uri: None,
                amount: None,
                started_at: NOW.into(),
                appears_on_statement_as: None,
            }
        );
    }

    #[test]
    fn overrides() {
        let s = sub(&[
            ("amount", "1500".into()),
            ("started_at", "2024-05-01T14:30:00+02:00".into()),
            ("funding_instrument_uri", "/v1/cards/CC1".into()),
            ("appears_on_statement_as", "ACME GYM".into()),
        ])
        .unwrap();
        assert_eq!(s.amount, Some(1500));
        assert_eq!(s.started_at, "2024-05-01T12:30:00.000000+00:00");
        assert_eq!(s.funding_instrument_uri.as_deref(), Some("/v1/cards/CC1"));
        assert_eq!(s.appears_on_statement_as.as_deref(), Some("ACME GYM"));
        assert_eq!(sub(&[("started_at", NOW.into())]).unwrap().started_at, NOW);
    }

    #[test]
    fn refusals() {
        let cases: Vec<(&str, Raw, &str)> = vec![
            ("plan_guid", Raw::Null, "missing_field"),
            ("customer_guid", "".into(), "missing_field"),
            ("customer_guid", "x".repeat(65).into(), "invalid_field"),
            ("plan_guid", Raw::from(12i64), "invalid_field"),
            (
                "funding_instrument_uri",
                "x".repeat(256).into(),
                "invalid_field",
            ),
            ("amount", "49".into(), "amount_out_of_range"),
            ("amount", "abc".into(), "invalid_field"),
            (
                "started_at",
                "2024-05-01T11:59:59.999999Z".into(),
                "started_in_past",
            ),
            ("started_at", "2024-05-01".into(), "started_in_past"),
            ("started_at", "tomorrow".into(), "invalid_time"),
            (
                "started_at",
                Raw::from(1_714_565_000_000i64),
                "invalid_time",
            ),
            ("appears_on_statement_as", "A*B".into(), "invalid_field"),
            (
                "appears_on_statement_as",
                "1234567890123456789".into(),
                "invalid_field",
            ),
        ];
        for (field, value, code) in cases {
            let e = sub(&[(field, value.clone())]).unwrap_err();
            assert_eq!(
                (e.code(), e.status(), e.field().as_deref()),
                (code, 400, Some(field)),
                "{field} = {value:?}"
            );
        }
        let e = sub(&[("started_at", "2024-05-01T11:00:00Z".into())]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("started_at 2024-05-01T11:00:00.000000+00:00 is in the past (now is {NOW})")
        );
        assert_eq!(
            validate_subscription(&Raw::Null, "junk")
                .unwrap_err()
                .field()
                .as_deref(),
            Some("now")
        );
    }

    #[test]
    fn amount_override() {
        assert_eq!(subscription_amount(None, 500), 500);
        assert_eq!(subscription_amount(Some(700), 500), 700);
    }
}
