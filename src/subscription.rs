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

/// A due subscription as the scheduler reads it, with its plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Billable {
    pub started_at: crate::time::Instant,
    pub frequency: crate::schedule::Frequency,
    pub interval: i64,
    pub invoice_count: i64,
    pub amount: Option<i64>,
    pub plan_amount: i64,
    pub has_instrument: bool,
}

impl Billable {
    /// Reads `{started_at, frequency, interval, invoice_count, amount, plan_amount, funding_instrument_uri}`.
    pub fn from_raw(raw: &Raw) -> Result<Billable> {
        let started = input::req_string(raw, "started_at", 40)?;
        let frequency = input::req_string(raw, "frequency", 16)?;
        Ok(Billable {
            started_at: time::parse(&started, "started_at")?,
            frequency: crate::schedule::Frequency::parse(&frequency, "frequency")?,
            interval: input::opt_int(raw, "interval", 1, crate::money::MAX_AMOUNT)?.unwrap_or(1),
            invoice_count: input::opt_int(raw, "invoice_count", 0, crate::money::MAX_AMOUNT)?
                .unwrap_or(0),
            amount: input::opt_amount(raw, "amount", 0)?,
            plan_amount: input::req_amount(raw, "plan_amount", 0)?,
            has_instrument: input::present(raw, "funding_instrument_uri").is_some(),
        })
    }
}

/// What a due subscription bills now: its due periods, its next invoice time, the amount of each invoice and how
/// each opens (the same rules as one at a time: [`crate::schedule::due_periods`], [`subscription_amount`],
/// [`crate::invoice::opening`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bill {
    pub periods: Vec<crate::schedule::DuePeriod>,
    pub next_invoice_at: Option<String>,
    pub amount: i64,
    pub opening: crate::invoice::Opening,
}

/// The bill of one due subscription at `now`, at most `max` periods.
pub fn bill(b: &Billable, now: crate::time::Instant, max: usize) -> Result<Bill> {
    let due = crate::schedule::due_periods(
        b.started_at,
        b.frequency,
        b.interval,
        b.invoice_count,
        now,
        max,
    )?;
    let amount = subscription_amount(b.amount, b.plan_amount);
    Ok(Bill {
        periods: due.periods,
        next_invoice_at: due.next_invoice_at,
        amount,
        opening: crate::invoice::opening(amount, b.has_instrument)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bills_match_the_single_rules() {
        let raw = Raw::object([
            ("started_at", Raw::from("2024-01-31T10:00:00Z")),
            ("frequency", Raw::from("monthly")),
            ("interval", Raw::from(1i64)),
            ("invoice_count", Raw::from(0i64)),
            ("amount", Raw::Null),
            ("plan_amount", Raw::from(500i64)),
            ("funding_instrument_uri", Raw::from("/c")),
        ]);
        let b = Billable::from_raw(&raw).unwrap();
        let now = time::parse("2024-03-31T10:00:00Z", "now").unwrap();
        let bill = bill(&b, now, 100).unwrap();
        assert_eq!(bill.periods.len(), 3);
        assert_eq!(
            bill.periods[1].scheduled_at,
            "2024-02-29T10:00:00.000000+00:00"
        );
        assert_eq!(
            bill.next_invoice_at.as_deref(),
            Some("2024-04-30T10:00:00.000000+00:00")
        );
        assert_eq!(
            (bill.amount, bill.opening.status, bill.opening.charge),
            (500, "processing", true)
        );
    }

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
