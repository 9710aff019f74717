//! Net terms credit: the risk scorecard, the five tiers, and limits that grow with behaviour.
//!
//! **Scorecard** (deterministic; points add up):
//!
//! | fact | points |
//! |---|---|
//! | `years_in_business` | 0 → 0, 1–2 → 1, 3–5 → 2, 6–10 → 3, 11+ → 4 |
//! | `annual_revenue_band` | `0-100k` 0, `100k-1m` 1, `1m-10m` 2, `10m+` 3 |
//! | `employees_band` | `1-10` 0, `11-50` 1, `51-500` 2, `500+` 3 |
//! | `industry_risk` | `low` +1, `medium` 0, `high` −2 |
//! | history with us | +1 per terms invoice paid on time (at most +3), −2 per late one (at most −4) |
//!
//! Score ≥ 9 → tier 1, 7–8 → 2, 5–6 → 3, 3–4 → 4, otherwise tier 5. **No assessment declines**: a buyer that would
//! have been declined gets tier 5, a small limit that grows.
//!
//! **Tiers** (in major units of the profile's currency; stored in minor units):
//!
//! | tier | initial limit | growth step | ceiling | terms days |
//! |---|---|---|---|---|
//! | 1 | 50,000 | 10,000 | 250,000 | 15, 30, 60, 90 |
//! | 2 | 20,000 | 5,000 | 100,000 | 15, 30, 60, 90 |
//! | 3 | 5,000 | 2,000 | 40,000 | 15, 30, 60 |
//! | 4 | 2,000 | 1,000 | 15,000 | 15, 30 |
//! | 5 | 500 | 250 | 5,000 | 15, 30 |
//!
//! **Growth**, replayed from the profile's events in order: an assessment sets the tier and its initial limit; a terms
//! invoice paid in full by its due date raises the limit by the tier's step — one and a half steps when its checkout
//! used split payment — up to the ceiling, unless growth is frozen; a late payment or an invoice falling overdue
//! freezes growth for 90 days, and a late payment also lowers the limit to max(credit used then, 75 % of the limit,
//! rounded down to a whole minor unit). The stored limit is always this replay's result.

use chrono::TimeDelta;
use rust_decimal::Decimal;

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::money;
use crate::time::{self, Instant};

crate::names! {
    /// Annual revenue.
    pub enum RevenueBand as "RevenueBand" {
        UpTo100k = "0-100k",
        UpTo1m = "100k-1m",
        UpTo10m = "1m-10m",
        Over10m = "10m+",
    }
}

crate::names! {
    /// Head count.
    pub enum EmployeesBand as "EmployeesBand" {
        UpTo10 = "1-10",
        UpTo50 = "11-50",
        UpTo500 = "51-500",
        Over500 = "500+",
    }
}

crate::names! {
    /// How risky the buyer's industry is.
    pub enum IndustryRisk as "IndustryRisk" {
        Low = "low",
        Medium = "medium",
        High = "high",
    }
}

crate::names! {
    /// A credit profile's state.
    pub enum ProfileStatus as "CreditStatus" {
        /// Not assessed yet: no terms.
        None = "none",
        Active = "active",
        /// Growth is frozen (a late payment or an overdue invoice in the last 90 days); terms still available.
        Frozen = "frozen",
    }
}

crate::names! {
    /// What happened to a credit profile.
    pub enum EventKind as "CreditEventKind" {
        Assessed = "assessed",
        PaidOnTime = "paid_on_time",
        PaidLate = "paid_late",
        Overdue = "overdue",
    }
}

crate::json_struct! {
    /// Business facts an assessment scores.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Facts {
        pub years_in_business: i64,
        pub annual_revenue_band: RevenueBand,
        pub employees_band: EmployeesBand,
        pub industry_risk: IndustryRisk,
    }
}

/// Reads the scorecard facts (all required); errors name the field.
pub fn validate_facts(raw: &Raw) -> Result<Facts> {
    input::object(raw, "input")?;
    let band = |key: &str| input::req_string(raw, key, 16);
    Ok(Facts {
        years_in_business: input::opt_int(raw, "years_in_business", 0, 1000)?
            .ok_or_else(|| CoreError::missing("years_in_business"))?,
        annual_revenue_band: RevenueBand::parse(
            &band("annual_revenue_band")?,
            "annual_revenue_band",
        )?,
        employees_band: EmployeesBand::parse(&band("employees_band")?, "employees_band")?,
        industry_risk: IndustryRisk::parse(&band("industry_risk")?, "industry_risk")?,
    })
}

crate::json_struct! {
    /// The payment history with us that a (re-)assessment counts.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct History {
        pub paid_on_time: i64,
        pub paid_late: i64,
    }
}

/// The scorecard's points (see the module table).
pub fn score(f: &Facts, h: History) -> i64 {
    let years = match f.years_in_business {
        0 => 0,
        1..=2 => 1,
        3..=5 => 2,
        6..=10 => 3,
        _ => 4,
    };
    let revenue = match f.annual_revenue_band {
        RevenueBand::UpTo100k => 0,
        RevenueBand::UpTo1m => 1,
        RevenueBand::UpTo10m => 2,
        RevenueBand::Over10m => 3,
    };
    let employees = match f.employees_band {
        EmployeesBand::UpTo10 => 0,
        EmployeesBand::UpTo50 => 1,
        EmployeesBand::UpTo500 => 2,
        EmployeesBand::Over500 => 3,
    };
    let industry = match f.industry_risk {
        IndustryRisk::Low => 1,
        IndustryRisk::Medium => 0,
        IndustryRisk::High => -2,
    };
    let history = h.paid_on_time.clamp(0, 3) - 2 * h.paid_late.clamp(0, 2);
    years + revenue + employees + industry + history
}

/// The tier of a score: 1 (best) to 5.
pub fn tier_of(score: i64) -> i64 {
    match score {
        9.. => 1,
        7..=8 => 2,
        5..=6 => 3,
        3..=4 => 4,
        _ => 5,
    }
}

crate::json_struct! {
    /// A tier's terms, in major units.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Tier {
        pub tier: i64,
        pub initial: i64,
        pub step: i64,
        pub ceiling: i64,
        pub terms_days: &'static [i64],
    }
}

const TIERS: [Tier; 5] = [
    Tier {
        tier: 1,
        initial: 50_000,
        step: 10_000,
        ceiling: 250_000,
        terms_days: &[15, 30, 60, 90],
    },
    Tier {
        tier: 2,
        initial: 20_000,
        step: 5_000,
        ceiling: 100_000,
        terms_days: &[15, 30, 60, 90],
    },
    Tier {
        tier: 3,
        initial: 5_000,
        step: 2_000,
        ceiling: 40_000,
        terms_days: &[15, 30, 60],
    },
    Tier {
        tier: 4,
        initial: 2_000,
        step: 1_000,
        ceiling: 15_000,
        terms_days: &[15, 30],
    },
    Tier {
        tier: 5,
        initial: 500,
        step: 250,
        ceiling: 5_000,
        terms_days: &[15, 30],
    },
];

/// Every terms length the product offers.
pub const TERMS_DAYS: [i64; 4] = [15, 30, 60, 90];
/// How long growth stays frozen after a late payment or an overdue invoice.
pub const FREEZE_DAYS: i64 = 90;

/// The tier table row of `tier` (1..=5).
pub fn tier(tier: i64) -> Result<Tier> {
    TIERS
        .iter()
        .find(|t| t.tier == tier)
        .copied()
        .ok_or_else(|| CoreError::invalid("risk_tier", "must be from 1 to 5"))
}

/// Major units → minor units of `currency`.
fn minor(major: i64, currency: &str) -> Result<i64> {
    let exp = money::currency(currency)?.exponent;
    money::check(i128::from(major) * 10_i128.pow(u32::from(exp)))
}

/// One event of a profile's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub at: Instant,
    /// Assessed: the tier given.
    pub tier: Option<i64>,
    /// Paid on time: whether its checkout used split payment.
    pub split: bool,
    /// Paid late: credit used at that moment.
    pub credit_used: i64,
}

impl Event {
    /// Reads a stored event `{kind, at, tier?, split?, credit_used?}`.
    pub fn from_raw(raw: &Raw) -> Result<Event> {
        let kind = input::req_string(raw, "kind", 32)?;
        let at = time::opt_field(raw, "at")?.ok_or_else(|| CoreError::missing("at"))?;
        Ok(Event {
            kind: EventKind::parse(&kind, "kind")?,
            at,
            tier: input::opt_int(raw, "tier", 1, 5)?,
            split: input::opt_bool(raw, "split")?.unwrap_or(false),
            credit_used: input::opt_amount(raw, "credit_used", 0)?.unwrap_or(0),
        })
    }
}

crate::json_struct! {
    /// The state a profile's history replays to.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Standing {
        pub risk_tier: Option<i64>,
        pub credit_limit: i64,
        /// Growth frozen until then (canonical), if it is.
        pub frozen_until: Option<String>,
        pub paid_on_time: i64,
        pub paid_late: i64,
    }
}

/// Replays `events` (in order) for a profile in `currency`.
pub fn replay(events: &[Event], currency: &str) -> Result<Standing> {
    let mut tier_row: Option<Tier> = None;
    let mut limit = 0i64;
    let mut frozen_until: Option<Instant> = None;
    let (mut on_time, mut late) = (0, 0);
    let freeze = |at: Instant| time::add(at, TimeDelta::days(FREEZE_DAYS));
    for e in events {
        match e.kind {
            EventKind::Assessed => {
                let t = tier(e.tier.ok_or_else(|| CoreError::missing("tier"))?)?;
                limit = minor(t.initial, currency)?;
                tier_row = Some(t);
            }
            EventKind::PaidOnTime => {
                on_time += 1;
                let Some(t) = tier_row else { continue };
                if frozen_until.is_some_and(|f| e.at < f) {
                    continue;
                }
                let step = minor(t.step, currency)?;
                let step = if e.split {
                    money::apply_rate(step, Decimal::new(15, 1))?
                } else {
                    step
                };
                limit = money::add(limit, step)?.min(minor(t.ceiling, currency)?);
            }
            EventKind::PaidLate => {
                late += 1;
                frozen_until = Some(freeze(e.at)?);
                // 75 % rounded down (exact in integers: limits are within 2^53), never below what is used, never up.
                limit = (limit * 3 / 4).max(e.credit_used).min(limit);
            }
            EventKind::Overdue => {
                frozen_until = Some(freeze(e.at)?.max(frozen_until.unwrap_or(e.at)));
            }
        }
    }
    Ok(Standing {
        risk_tier: tier_row.map(|t| t.tier),
        credit_limit: limit,
        frozen_until: frozen_until.map(time::format),
        paid_on_time: on_time,
        paid_late: late,
    })
}

crate::json_struct! {
    /// What the next good payment earns.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Growth {
        pub step: i64,
        pub split_step: i64,
        pub next_limit: i64,
        pub ceiling: i64,
        pub earned_by: &'static str,
    }
}

crate::json_struct! {
    /// A credit profile as the API shows it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Profile {
        pub status: ProfileStatus,
        pub risk_tier: Option<i64>,
        pub currency: String,
        pub credit_limit: i64,
        pub credit_used: i64,
        pub available_credit: i64,
        pub terms_days_allowed: Vec<i64>,
        pub frozen_until: Option<String>,
        pub growth: Option<Growth>,
    }
}

/// The profile of a replayed standing with `credit_used` at `now`.
pub fn profile(
    standing: &Standing,
    credit_used: i64,
    currency: &str,
    now: Instant,
) -> Result<Profile> {
    let Some(t) = standing.risk_tier else {
        return Ok(Profile {
            status: ProfileStatus::None,
            risk_tier: None,
            currency: currency.to_ascii_uppercase(),
            credit_limit: 0,
            credit_used,
            available_credit: 0,
            terms_days_allowed: vec![],
            frozen_until: None,
            growth: None,
        });
    };
    let row = tier(t)?;
    let frozen = match &standing.frozen_until {
        Some(f) => time::parse(f, "frozen_until")? > now,
        None => false,
    };
    let step = minor(row.step, currency)?;
    let ceiling = minor(row.ceiling, currency)?;
    Ok(Profile {
        status: if frozen {
            ProfileStatus::Frozen
        } else {
            ProfileStatus::Active
        },
        risk_tier: Some(t),
        currency: currency.to_ascii_uppercase(),
        credit_limit: standing.credit_limit,
        credit_used,
        available_credit: money::sub(standing.credit_limit, credit_used)?.max(0),
        terms_days_allowed: row.terms_days.to_vec(),
        frozen_until: if frozen {
            standing.frozen_until.clone()
        } else {
            None
        },
        growth: Some(Growth {
            step,
            split_step: money::apply_rate(step, Decimal::new(15, 1))?,
            next_limit: if frozen {
                standing.credit_limit
            } else {
                money::add(standing.credit_limit, step)?.min(ceiling)
            },
            ceiling,
            earned_by: if frozen {
                "growth is frozen after a late payment or an overdue invoice; it resumes when the freeze ends"
            } else {
                "each terms invoice paid in full by its due date (one and a half steps if its checkout was split)"
            },
        }),
    })
}

/// The tier an assessment gives: the scorecard over the facts and the history so far.
pub fn assess(facts: &Facts, history: History) -> Result<Tier> {
    tier(tier_of(score(facts, history)))
}

/// Whether a profile kept in `current` (its currency and the credit used, in that currency's minor units) may be
/// assessed in `currency`: a profile changes currency only while none of its credit is used (409 `credit_in_use`).
/// Credit used is counted in the profile's currency; moving the limit to another one would leave it in the old
/// units, and open terms invoices would owe in a currency the line no longer counts.
pub fn check_currency(current: Option<(&str, i64)>, currency: &str) -> Result<()> {
    match current {
        Some((stored, used)) if used != 0 && !stored.eq_ignore_ascii_case(currency) => Err(CoreError::Conflict {
            code: "credit_in_use",
            field: Some("currency".into()),
            reason: format!(
                "{used} of this buyer's credit is used in {stored}; the profile moves to {currency} once its terms invoices are paid"
            ),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_changes_currency_only_while_no_credit_is_used() {
        assert!(check_currency(None, "KWD").is_ok());
        assert!(check_currency(Some(("USD", 0)), "KWD").is_ok());
        assert!(check_currency(Some(("USD", 50_000)), "USD").is_ok());
        let e = check_currency(Some(("USD", 50_000)), "KWD").unwrap_err();
        assert_eq!(
            (e.code(), e.status(), e.field().as_deref()),
            ("credit_in_use", 409, Some("currency"))
        );
    }

    fn at(s: &str) -> Instant {
        time::parse(s, "t").unwrap()
    }

    fn facts(years: i64, rev: RevenueBand, emp: EmployeesBand, ind: IndustryRisk) -> Facts {
        Facts {
            years_in_business: years,
            annual_revenue_band: rev,
            employees_band: emp,
            industry_risk: ind,
        }
    }

    fn ev(kind: EventKind, when: &str) -> Event {
        Event {
            kind,
            at: at(when),
            tier: None,
            split: false,
            credit_used: 0,
        }
    }

    #[test]
    fn documented_profiles_get_their_tiers() {
        use EmployeesBand as E;
        use IndustryRisk as I;
        use RevenueBand as R;
        let h = History::default();
        // An established manufacturer: 4 + 3 + 3 + 1 = 11.
        assert_eq!(
            assess(&facts(20, R::Over10m, E::Over500, I::Low), h)
                .unwrap()
                .tier,
            1
        );
        // A growing distributor: 3 + 2 + 2 + 0 = 7.
        assert_eq!(
            assess(&facts(8, R::UpTo10m, E::UpTo500, I::Medium), h)
                .unwrap()
                .tier,
            2
        );
        // A young shop: 1 + 1 + 1 + 0 = 3.
        assert_eq!(
            assess(&facts(2, R::UpTo1m, E::UpTo50, I::Medium), h)
                .unwrap()
                .tier,
            4
        );
        // A brand-new business in a risky industry, which a classic model declines: 0 + 0 + 0 − 2 → tier 5, approved.
        let t = assess(&facts(0, R::UpTo100k, E::UpTo10, I::High), h).unwrap();
        assert_eq!((t.tier, t.initial, t.terms_days), (5, 500, &[15, 30][..]));
        // History counts: three on-time payments lift the young shop to tier 3; late ones lower it.
        let good = History {
            paid_on_time: 5,
            paid_late: 0,
        };
        assert_eq!(
            assess(&facts(2, R::UpTo1m, E::UpTo50, I::Medium), good)
                .unwrap()
                .tier,
            3
        );
        let bad = History {
            paid_on_time: 0,
            paid_late: 1,
        };
        assert_eq!(
            assess(&facts(8, R::UpTo10m, E::UpTo500, I::Medium), bad)
                .unwrap()
                .tier,
            3
        );
    }

    #[test]
    fn limits_grow_with_on_time_payments_up_to_the_ceiling() {
        let mut events = vec![Event {
            tier: Some(5),
            ..ev(EventKind::Assessed, "2024-01-01")
        }];
        assert_eq!(
            replay(&events, "USD").unwrap().credit_limit,
            50_000,
            "500.00 USD"
        );
        events.push(ev(EventKind::PaidOnTime, "2024-02-01"));
        assert_eq!(replay(&events, "USD").unwrap().credit_limit, 75_000);
        events.push(Event {
            split: true,
            ..ev(EventKind::PaidOnTime, "2024-03-01")
        });
        assert_eq!(
            replay(&events, "USD").unwrap().credit_limit,
            112_500,
            "a split order earns 1.5 steps"
        );
        for _ in 0..100 {
            events.push(ev(EventKind::PaidOnTime, "2024-04-01"));
        }
        assert_eq!(
            replay(&events, "USD").unwrap().credit_limit,
            500_000,
            "the ceiling"
        );
        assert_eq!(
            replay(&events[..1], "JPY").unwrap().credit_limit,
            500,
            "major units of the currency"
        );
    }

    #[test]
    fn a_late_payment_lowers_and_freezes() {
        let events = vec![
            Event {
                tier: Some(3),
                ..ev(EventKind::Assessed, "2024-01-01")
            },
            Event {
                credit_used: 100_000,
                ..ev(EventKind::PaidLate, "2024-02-01")
            },
            ev(EventKind::PaidOnTime, "2024-03-01"),
            ev(EventKind::PaidOnTime, "2024-05-01T00:00:00Z"),
        ];
        let s = replay(&events[..2], "USD").unwrap();
        assert_eq!(s.credit_limit, 375_000, "75 % of 5,000.00");
        assert_eq!(
            s.frozen_until.as_deref(),
            Some("2024-05-01T00:00:00.000000+00:00")
        );
        assert_eq!(
            replay(&events[..3], "USD").unwrap().credit_limit,
            375_000,
            "frozen: no growth"
        );
        assert_eq!(
            replay(&events, "USD").unwrap().credit_limit,
            575_000,
            "the freeze ended"
        );
        // Never below what is used.
        let used = vec![
            events[0].clone(),
            Event {
                credit_used: 450_000,
                ..ev(EventKind::PaidLate, "2024-02-01")
            },
        ];
        assert_eq!(replay(&used, "USD").unwrap().credit_limit, 450_000);
        // Odd limits round down.
        let odd = vec![
            events[0].clone(),
            ev(EventKind::PaidOnTime, "2024-01-02"),
            ev(EventKind::PaidLate, "2024-01-03"),
        ];
        assert_eq!(
            replay(&odd, "JPY").unwrap().credit_limit,
            5250,
            "75 % of 7,000"
        );
    }

    #[test]
    fn profiles() {
        let events = vec![
            Event {
                tier: Some(4),
                ..ev(EventKind::Assessed, "2024-01-01")
            },
            ev(EventKind::Overdue, "2024-02-01"),
        ];
        let s = replay(&events, "USD").unwrap();
        let p = profile(&s, 50_000, "usd", at("2024-03-01")).unwrap();
        assert_eq!(
            (
                p.status,
                p.credit_limit,
                p.available_credit,
                p.currency.as_str()
            ),
            (ProfileStatus::Frozen, 200_000, 150_000, "USD")
        );
        assert_eq!(p.growth.as_ref().unwrap().next_limit, 200_000);
        let later = profile(&s, 0, "USD", at("2024-06-01")).unwrap();
        assert_eq!(
            (later.status, later.growth.unwrap().next_limit),
            (ProfileStatus::Active, 300_000)
        );
        let none = profile(&replay(&[], "USD").unwrap(), 0, "USD", at("2024-01-01")).unwrap();
        assert_eq!(
            (
                none.status,
                none.available_credit,
                none.terms_days_allowed.len()
            ),
            (ProfileStatus::None, 0, 0)
        );
        // Over-used credit (a limit lowered below use) shows 0 available, never negative.
        assert_eq!(
            profile(
                &replay(&events[..1], "USD").unwrap(),
                900_000,
                "USD",
                at("2024-01-02")
            )
            .unwrap()
            .available_credit,
            0
        );
    }

    #[test]
    fn facts_validate() {
        let raw = Raw::object([
            ("years_in_business", Raw::from("3")),
            ("annual_revenue_band", Raw::from("100k-1m")),
            ("employees_band", Raw::from("1-10")),
            ("industry_risk", Raw::from("low")),
        ]);
        assert_eq!(validate_facts(&raw).unwrap().years_in_business, 3);
        for (key, bad) in [
            ("years_in_business", "-1"),
            ("annual_revenue_band", "lots"),
            ("employees_band", "2"),
            ("industry_risk", "none"),
        ] {
            let mut m = match raw.clone() {
                Raw::Object(m) => m,
                _ => unreachable!(),
            };
            m.insert(key.into(), Raw::from(bad));
            assert_eq!(
                validate_facts(&Raw::Object(m))
                    .unwrap_err()
                    .field()
                    .as_deref(),
                Some(key)
            );
        }
    }
}
