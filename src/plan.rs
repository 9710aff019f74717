//! Plans: what a subscription bills, and how often.
//!
//! `plan_type` is `debit` (charge the customer) or `credit` (pay them out); `frequency` is daily, weekly,
//! monthly or yearly (both any case in, lowercase out); `amount` is at least 50 minor units (the smallest
//! charge processors accept); `interval` is how many frequency units one period lasts, 1..=1000, default 1.

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::schedule::Frequency;

/// Smallest amount a plan, subscription override or charge may have (minor units).
pub const MIN_CHARGE: i64 = 50;
/// Largest plan interval.
pub const MAX_INTERVAL: i64 = 1000;

/// Whether money flows from the customer (`debit`) or to them (`credit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanType {
    Debit,
    Credit,
}

impl PlanType {
    /// Parses `debit|credit` in any case; `field` names it in the error.
    pub fn parse(s: &str, field: &str) -> Result<PlanType> {
        match s.to_ascii_lowercase().as_str() {
            "debit" => Ok(PlanType::Debit),
            "credit" => Ok(PlanType::Credit),
            _ => Err(CoreError::invalid(field, "must be debit or credit")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PlanType::Debit => "debit",
            PlanType::Credit => "credit",
        }
    }
}

crate::json_struct! {
    /// A validated plan.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Plan {
        pub plan_type: &'static str,
        pub frequency: &'static str,
        pub amount: i64,
        pub interval: i64,
    }
}

/// Validates a plan creation request.
pub fn validate_plan(raw: &Raw) -> Result<Plan> {
    input::object(raw, "input")?;
    let plan_type = PlanType::parse(&input::req_string(raw, "plan_type", 16)?, "plan_type")?;
    let frequency = Frequency::parse(&input::req_string(raw, "frequency", 16)?, "frequency")?;
    let amount = input::req_amount(raw, "amount", MIN_CHARGE)?;
    let interval = input::opt_int(raw, "interval", 1, MAX_INTERVAL)?.unwrap_or(1);
    Ok(Plan {
        plan_type: plan_type.as_str(),
        frequency: frequency.as_str(),
        amount,
        interval,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(pairs: &[(&str, Raw)]) -> Result<Plan> {
        validate_plan(&Raw::object(pairs.iter().cloned()))
    }

    #[test]
    fn form_and_json_plans() {
        let p = plan(&[
            ("plan_type", "DEBIT".into()),
            ("frequency", "Monthly".into()),
            ("amount", "500".into()),
        ])
        .unwrap();
        assert_eq!(
            p,
            Plan {
                plan_type: "debit",
                frequency: "monthly",
                amount: 500,
                interval: 1
            }
        );
        let p = plan(&[
            ("plan_type", "credit".into()),
            ("frequency", "yearly".into()),
            ("amount", 50i64.into()),
            ("interval", 1000i64.into()),
            ("unknown", Raw::Bool(true)),
        ])
        .unwrap();
        assert_eq!((p.plan_type, p.amount, p.interval), ("credit", 50, 1000));
        let p = plan(&[
            ("plan_type", "debit".into()),
            ("frequency", "daily".into()),
            ("amount", "50".into()),
            ("interval", "".into()),
        ])
        .unwrap();
        assert_eq!(p.interval, 1);
    }

    #[test]
    fn refusals_name_the_field() {
        let base = [
            ("plan_type", Raw::from("debit")),
            ("frequency", "daily".into()),
            ("amount", "500".into()),
        ];
        let with = |k: &str, v: Raw| {
            let mut pairs: Vec<(&str, Raw)> =
                base.iter().filter(|(key, _)| *key != k).cloned().collect();
            pairs.push((k, v));
            plan(&pairs).unwrap_err()
        };
        let cases = [
            ("plan_type", Raw::Null, "missing_field"),
            ("plan_type", "refund".into(), "invalid_field"),
            ("frequency", "hourly".into(), "invalid_field"),
            ("frequency", Raw::Null, "missing_field"),
            ("amount", "".into(), "missing_field"),
            ("amount", "49".into(), "amount_out_of_range"),
            ("amount", "5.00".into(), "invalid_field"),
            ("amount", 5.5.into(), "invalid_field"),
            ("amount", "9007199254740992".into(), "amount_out_of_range"),
            ("interval", "0".into(), "invalid_field"),
            ("interval", "1001".into(), "invalid_field"),
            ("interval", "1.5".into(), "invalid_field"),
        ];
        for (field, value, code) in cases {
            let e = with(field, value.clone());
            assert_eq!(
                (e.code(), e.status(), e.field().as_deref()),
                (code, 400, Some(field)),
                "{field} = {value:?}"
            );
        }
        assert_eq!(
            validate_plan(&Raw::from("x"))
                .unwrap_err()
                .field()
                .as_deref(),
            Some("input")
        );
    }
}
