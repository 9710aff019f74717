//! Changing a subscription: what `PUT /v1/subscriptions/<guid>` may ask, and what a change of plan or amount does
//! to the money.
//!
//! A change at instant `t` inside the current, invoiced period [start, end) is prorated
//! ([`crate::proration::prorate`]): the unused part of the old amount is credited, the same part of the new amount
//! charged, each rounded half-to-even once. The credit is for time that was paid: the old amount is first scaled by
//! the share of the period that was paid ([`crate::subscription::PeriodInvoice::paid_share_of`]), so an unpaid,
//! refunded or coupon-free period credits nothing. While the period's payment is at the processor a prorated change
//! is 409 `payment_pending`. `proration_behavior` says where the two lines go:
//! - `create_prorations` (default): pending adjustments of the subscription, applied to its next invoice;
//! - `always_invoice`: an invoice now for their net (a negative net is a credit to the customer balance instead:
//!   never a negative invoice or charge);
//! - `none`: nothing now; only future invoices change.
//!
//! A change of frequency or interval moves the billing anchor to `t` and invoices the new period at once
//! (Stripe's rule), crediting the unused part of the old period unless `proration_behavior` is `none`. A period that
//! was never invoiced (trialing, paused, not started) has nothing to prorate.

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::invoice::Adjustment;
use crate::plan::MIN_CHARGE;
use crate::schedule::Frequency;
use crate::subscription::{self, Billable};
use crate::time::{self, Instant};

crate::names! {
    /// Where the prorations of a change go.
    pub enum ProrationBehavior as "ProrationBehavior" {
        CreateProrations = "create_prorations",
        AlwaysInvoice = "always_invoice",
        None = "none",
    }
}

crate::json_struct! {
    /// A validated `PUT /v1/subscriptions/<guid>`: `None` leaves a field as it is.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Update {
        pub plan_guid: Option<String>,
        /// The amount field was given: `amount` is then the new override (`None`: cleared by an empty string).
        pub amount_given: bool,
        pub amount: Option<i64>,
        pub funding_instrument_uri: Option<String>,
        pub appears_on_statement_as: Option<String>,
        pub coupon: Option<String>,
        /// `coupon=""`: the subscription's coupon is removed (its future invoices are not discounted).
        pub remove_coupon: bool,
        /// A new trial end (`"now"` ends the trial at once).
        pub trial_end: Option<String>,
        pub cancel_at_period_end: Option<bool>,
        pub proration_behavior: ProrationBehavior,
    }
}

/// Validates an update at the company's time `now`. Errors name the field (400).
pub fn validate_update(raw: &Raw, now: &str) -> Result<Update> {
    input::object(raw, "input")?;
    let now = time::parse(now, "now")?;
    let amount_given = input::present(raw, "amount").is_some() || is_empty_string(raw, "amount");
    let amount = if is_empty_string(raw, "amount") {
        None
    } else {
        input::opt_amount(raw, "amount", MIN_CHARGE)?
    };
    let trial_end = match input::opt_string(raw, "trial_end", 40)? {
        None => None,
        Some(s) if s == "now" => Some(time::format(now)),
        Some(_) => {
            let t = time::opt_field(raw, "trial_end")?
                .ok_or_else(|| CoreError::missing("trial_end"))?;
            if t < now {
                return Err(CoreError::invalid(
                    "trial_end",
                    "must not be in the past (use \"now\" to end the trial)",
                ));
            }
            Some(time::format(t))
        }
    };
    let proration_behavior = match input::opt_string(raw, "proration_behavior", 32)? {
        None => ProrationBehavior::CreateProrations,
        Some(s) => ProrationBehavior::parse(&s, "proration_behavior")?,
    };
    Ok(Update {
        plan_guid: input::opt_string(raw, "plan_guid", 64)?,
        amount_given,
        amount,
        funding_instrument_uri: input::opt_string(raw, "funding_instrument_uri", 255)?,
        appears_on_statement_as: input::statement_descriptor(raw, "appears_on_statement_as")?,
        coupon: subscription::coupon_field(raw)?,
        remove_coupon: is_empty_string(raw, "coupon"),
        trial_end,
        cancel_at_period_end: input::opt_bool(raw, "cancel_at_period_end")?,
        proration_behavior,
    })
}

fn is_empty_string(raw: &Raw, key: &str) -> bool {
    matches!(raw.get(key), Some(Raw::String(s)) if s.is_empty())
}

/// One side of a change: what the subscription bills per period, how often, and what it is called in reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    pub amount: i64,
    pub frequency: Frequency,
    pub interval: i64,
    pub plan_type: String,
    pub label: String,
}

crate::json_struct! {
    /// What a change does now.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Change {
        /// The anchor moves to the change instant and the new period is invoiced at once.
        pub reset_anchor: bool,
        /// Lines for the subscription's pending adjustments (credit first, then charge; zero lines left out).
        pub prorations: Vec<Adjustment>,
        /// The pending adjustments are invoiced now rather than with the next period.
        pub invoice_now: bool,
        /// What the lines give back, net, for the current period (≥ 0): it counts as refunded on the period's
        /// invoice (`credited_amount`), so refunds and these credits together never return more than was paid.
        pub credited: i64,
    }
}

/// What changing `b` from `old` to `new` at `at` does; `current` is the invoice of its current period, if it has one.
pub fn change(
    b: &Billable,
    current: Option<&subscription::PeriodInvoice>,
    old: &Side,
    new: &Side,
    behavior: ProrationBehavior,
    at: Instant,
) -> Result<Change> {
    if old.plan_type != new.plan_type {
        return Err(CoreError::invalid(
            "plan_guid",
            format!("must be a plan of the same plan_type ({})", old.plan_type),
        ));
    }
    let period = if current.is_some() {
        b.current_period()?
            .filter(|(_, start, end)| at >= *start && at < *end)
    } else {
        None
    };
    let reschedule = old.frequency != new.frequency || old.interval != new.interval;
    let mut prorations = Vec::new();
    if let (Some((_, start, end)), Some(inv)) = (
        period.filter(|_| behavior != ProrationBehavior::None),
        current,
    ) {
        subscription::refuse_in_flight(Some(inv))?;
        let paid_old = inv.paid_share_of(old.amount)?;
        let p = crate::proration::prorate(paid_old, new.amount, start, end, at)?;
        let (from, until) = (time::format(at), time::format(end));
        if p.credit != 0 {
            prorations.push(Adjustment {
                amount: p.credit,
                reason: Some(format!(
                    "Unused time on {} from {from} until {until}",
                    old.label
                )),
            });
        }
        if p.charge != 0 && !reschedule {
            prorations.push(Adjustment {
                amount: p.charge,
                reason: Some(format!(
                    "Remaining time on {} from {from} until {until}",
                    new.label
                )),
            });
        }
        if !reschedule && old.amount == new.amount {
            prorations.clear();
        }
    }
    let net = crate::money::sum(prorations.iter().map(|a| a.amount))?;
    Ok(Change {
        reset_anchor: reschedule,
        invoice_now: reschedule || behavior == ProrationBehavior::AlwaysInvoice,
        credited: crate::money::neg(net)?.max(0),
        prorations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Instant {
        time::parse(s, "t").unwrap()
    }

    fn side(amount: i64, frequency: Frequency) -> Side {
        Side {
            amount,
            frequency,
            interval: 1,
            plan_type: "debit".into(),
            label: format!("plan at {amount}"),
        }
    }

    /// A daily-anchored 30-day schedule: monthly from 2024-04-01 puts period 0 at [Apr 1, May 1), 30 days.
    fn april() -> Billable {
        Billable {
            anchor_at: t("2024-04-01T00:00:00Z"),
            anchor_period: 0,
            next_period: 1,
            frequency: Frequency::Monthly,
            interval: 1,
            amount: None,
            plan_amount: 3000,
            has_instrument: true,
            paused_at: None,
            resumes_at: None,
            cancel_at: None,
            payout: false,
        }
    }

    /// A period invoice of `amount`, paid in full.
    fn paid(amount: i64) -> subscription::PeriodInvoice {
        subscription::PeriodInvoice {
            settled: true,
            in_flight: false,
            unpaid_prorations: false,
            amount,
            usage: 0,
            coupon: 0,
            prorations: 0,
            kept: amount,
            balance_applied: 0,
        }
    }

    #[test]
    fn upgrade_at_half_of_a_thirty_day_period() {
        let c = change(
            &april(),
            Some(&paid(3000)),
            &side(3000, Frequency::Monthly),
            &side(6000, Frequency::Monthly),
            ProrationBehavior::CreateProrations,
            t("2024-04-16T00:00:00Z"),
        )
        .unwrap();
        let amounts: Vec<i64> = c.prorations.iter().map(|a| a.amount).collect();
        assert_eq!(amounts, vec![-1500, 3000]);
        assert!(!c.invoice_now && !c.reset_anchor);
        assert_eq!(
            c.prorations[0].reason.as_deref(),
            Some("Unused time on plan at 3000 from 2024-04-16T00:00:00.000000+00:00 until 2024-05-01T00:00:00.000000+00:00")
        );
    }

    #[test]
    fn behaviors() {
        let at = t("2024-04-16T00:00:00Z");
        let (old, new) = (
            side(6000, Frequency::Monthly),
            side(3000, Frequency::Monthly),
        );
        let c = change(
            &april(),
            Some(&paid(6000)),
            &old,
            &new,
            ProrationBehavior::AlwaysInvoice,
            at,
        )
        .unwrap();
        assert_eq!(c.prorations.iter().map(|a| a.amount).sum::<i64>(), -1500);
        assert!(c.invoice_now);
        assert_eq!(
            c.credited, 1500,
            "a net credit counts against the period invoice's refunds"
        );
        let c = change(
            &april(),
            Some(&paid(6000)),
            &old,
            &new,
            ProrationBehavior::None,
            at,
        )
        .unwrap();
        assert!(c.prorations.is_empty() && !c.invoice_now);
        // Never invoiced (a trial, a skipped period): nothing to prorate.
        let c = change(
            &april(),
            None,
            &old,
            &new,
            ProrationBehavior::CreateProrations,
            at,
        )
        .unwrap();
        assert!(c.prorations.is_empty());
        // Same amount: nothing.
        let c = change(
            &april(),
            Some(&paid(6000)),
            &old,
            &old,
            ProrationBehavior::AlwaysInvoice,
            at,
        )
        .unwrap();
        assert!(c.prorations.is_empty());
    }

    #[test]
    fn a_new_frequency_moves_the_anchor_and_credits_the_old_period() {
        let c = change(
            &april(),
            Some(&paid(3000)),
            &side(3000, Frequency::Monthly),
            &side(30000, Frequency::Yearly),
            ProrationBehavior::CreateProrations,
            t("2024-04-16T00:00:00Z"),
        )
        .unwrap();
        assert!(c.reset_anchor && c.invoice_now);
        assert_eq!(
            c.prorations.iter().map(|a| a.amount).collect::<Vec<_>>(),
            vec![-1500]
        );
    }

    /// A downgrade credits only time that was paid for: the period's invoice declined, refunded or free by a coupon
    /// credits nothing (the new plan's remaining time is still charged); paid with the customer's credit, in full.
    #[test]
    fn a_change_credits_only_time_that_was_paid_for() {
        let at = t("2024-04-16T00:00:00Z");
        let (old, new) = (side(6000, Frequency::Monthly), side(50, Frequency::Monthly));
        let lines = |inv: subscription::PeriodInvoice| -> Vec<i64> {
            change(
                &april(),
                Some(&inv),
                &old,
                &new,
                ProrationBehavior::AlwaysInvoice,
                at,
            )
            .unwrap()
            .prorations
            .iter()
            .map(|a| a.amount)
            .collect()
        };
        assert_eq!(lines(paid(6000)), vec![-3000, 25]);
        assert_eq!(
            lines(subscription::PeriodInvoice {
                settled: false,
                kept: 0,
                ..paid(6000)
            }),
            vec![25]
        );
        assert_eq!(
            lines(subscription::PeriodInvoice {
                kept: 0,
                ..paid(6000)
            }),
            vec![25],
            "refunded"
        );
        assert_eq!(
            lines(subscription::PeriodInvoice {
                coupon: -6000,
                kept: 0,
                ..paid(6000)
            }),
            vec![25],
            "free"
        );
        assert_eq!(
            lines(subscription::PeriodInvoice {
                kept: 3000,
                balance_applied: 3000,
                ..paid(6000)
            }),
            vec![-3000, 25]
        );
        let pending = subscription::PeriodInvoice {
            in_flight: true,
            ..paid(6000)
        };
        let e = change(
            &april(),
            Some(&pending),
            &old,
            &new,
            ProrationBehavior::CreateProrations,
            at,
        )
        .unwrap_err();
        assert_eq!(e.code(), "payment_pending");
        assert!(change(
            &april(),
            Some(&pending),
            &old,
            &new,
            ProrationBehavior::None,
            at
        )
        .is_ok());
    }

    #[test]
    fn another_plan_type_is_refused() {
        let mut credit = side(3000, Frequency::Monthly);
        credit.plan_type = "credit".into();
        let e = change(
            &april(),
            Some(&paid(3000)),
            &side(3000, Frequency::Monthly),
            &credit,
            ProrationBehavior::None,
            t("2024-04-16T00:00:00Z"),
        )
        .unwrap_err();
        assert_eq!((e.status(), e.field().as_deref()), (400, Some("plan_guid")));
    }

    #[test]
    fn updates() {
        let now = "2024-04-16T00:00:00.000000+00:00";
        let u = validate_update(
            &Raw::object([
                ("amount", Raw::from("")),
                ("trial_end", Raw::from("now")),
                ("cancel_at_period_end", Raw::from("true")),
                ("proration_behavior", Raw::from("always_invoice")),
            ]),
            now,
        )
        .unwrap();
        assert!(u.amount_given && u.amount.is_none());
        assert!(!u.remove_coupon);
        assert!(
            validate_update(&Raw::object([("coupon", Raw::from(""))]), now)
                .unwrap()
                .remove_coupon
        );
        assert_eq!(u.trial_end.as_deref(), Some(now));
        assert_eq!(u.cancel_at_period_end, Some(true));
        assert_eq!(u.proration_behavior, ProrationBehavior::AlwaysInvoice);
        let u = validate_update(&Raw::object([("amount", Raw::from("700"))]), now).unwrap();
        assert_eq!((u.amount_given, u.amount), (true, Some(700)));
        let u = validate_update(&Raw::object(Vec::<(&str, Raw)>::new()), now).unwrap();
        assert!(!u.amount_given && u.plan_guid.is_none());
        for (field, value) in [
            ("amount", "49"),
            ("proration_behavior", "sometimes"),
            ("trial_end", "2024-04-15T00:00:00Z"),
            ("trial_end", "soon"),
            ("cancel_at_period_end", "maybe"),
            ("coupon", "no spaces"),
        ] {
            let e = validate_update(&Raw::object([(field, Raw::from(value))]), now).unwrap_err();
            assert_eq!(
                (e.status(), e.field().as_deref()),
                (400, Some(field)),
                "{field}={value}"
            );
        }
    }
}
