//! Subscriptions: a customer on a plan, optionally with its own amount and start.
//!
//! `started_at` defaults to the company's `now` and may not lie before it (a subscription never bills for
//! the past at creation); `amount`, when given, overrides the plan's amount for this subscription only.

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::money;
use crate::plan::MIN_CHARGE;
use crate::time::{self, Instant};

crate::json_struct! {
    /// A validated subscription request.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Subscription {
        pub plan_guid: String,
        pub customer_guid: String,
        pub funding_instrument_uri: Option<String>,
        /// Override of the plan amount; `None` bills the plan's amount.
        pub amount: Option<i64>,
        pub started_at: String,
        pub appears_on_statement_as: Option<String>,
        /// End of a free trial (no invoice before it; the schedule's anchor), from `trial_days` or `trial_end`.
        pub trial_end: Option<String>,
        /// When to tell the merchant the trial ends soon: [`TRIAL_NOTICE_DAYS`] before, or at once if sooner.
        pub trial_notice_at: Option<String>,
        /// The coupon code to apply (checked and redeemed by [`crate::coupon`]).
        pub coupon: Option<String>,
    }
}

/// The longest trial, in days (two years).
pub const MAX_TRIAL_DAYS: i64 = 730;
/// `customer.subscription.trial_ending` goes out this many days before a trial ends.
pub const TRIAL_NOTICE_DAYS: i64 = 3;

/// The trial of a subscription starting at `started_at`: `trial_days` (0–730, 0 = none) or `trial_end` (after `now`
/// and not before `started_at`), not both.
pub fn trial(raw: &Raw, started_at: Instant, now: Instant) -> Result<Option<Instant>> {
    let days = input::opt_int(raw, "trial_days", 0, MAX_TRIAL_DAYS)?;
    let end = time::opt_field(raw, "trial_end")?;
    match (days, end) {
        (Some(_), Some(_)) => Err(CoreError::invalid(
            "trial_end",
            "cannot be given with trial_days",
        )),
        (Some(0), None) | (None, None) => Ok(None),
        (Some(d), None) => time::add(started_at, chrono::TimeDelta::days(d))
            .map(Some)
            .map_err(|e| e.in_field("trial_days")),
        (None, Some(t)) => {
            if t <= now {
                return Err(CoreError::invalid("trial_end", "must be in the future"));
            }
            check_trial_end(t, started_at)?;
            Ok(Some(t))
        }
    }
}

/// A trial never ends before its subscription starts (at creation, and for `PUT trial_end`, `now` included): else
/// the subscription would be invoiced before `started_at`.
pub fn check_trial_end(trial_end: Instant, started_at: Instant) -> Result<()> {
    if trial_end < started_at {
        return Err(CoreError::invalid(
            "trial_end",
            format!(
                "must not be before started_at ({})",
                time::format(started_at)
            ),
        ));
    }
    Ok(())
}

/// When the trial-ending notice is due: [`TRIAL_NOTICE_DAYS`] before the trial ends, or `now` if that has passed.
pub fn trial_notice_at(trial_end: Instant, now: Instant) -> Instant {
    let before = trial_end - chrono::TimeDelta::days(TRIAL_NOTICE_DAYS);
    before.max(now)
}

/// The coupon code field of a request: 1–64 of `A–Z a–z 0–9 _ -` (absent or empty: none).
pub fn coupon_field(raw: &Raw) -> Result<Option<String>> {
    let code = input::opt_string(raw, "coupon", 64)?;
    if let Some(c) = &code {
        if !c
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(CoreError::invalid(
                "coupon",
                "must be 1–64 of A–Z a–z 0–9 _ -",
            ));
        }
    }
    Ok(code)
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
    let trial_end = trial(raw, started_at, now)?;
    let coupon = coupon_field(raw)?;
    Ok(Subscription {
        trial_end: trial_end.map(time::format),
        trial_notice_at: trial_end.map(|t| time::format(trial_notice_at(t, now))),
        coupon,
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

crate::names! {
    /// Where a subscription is, as the API shows it (decided by [`status`], never written by the worker).
    pub enum Status as "SubscriptionStatus" {
        Trialing = "trialing",
        Active = "active",
        PastDue = "past_due",
        Paused = "paused",
        Canceled = "canceled",
    }
}

/// A subscription's status: canceled, else paused, else trialing (until `trial_end`), else past due when its latest
/// invoice failed, else active.
pub fn status(
    canceled: bool,
    paused: bool,
    trial_end: Option<Instant>,
    latest_invoice_failed: bool,
    now: Instant,
) -> Status {
    if canceled {
        Status::Canceled
    } else if paused {
        Status::Paused
    } else if trial_end.is_some_and(|t| t > now) {
        Status::Trialing
    } else if latest_invoice_failed {
        Status::PastDue
    } else {
        Status::Active
    }
}

/// A due subscription as the scheduler reads it, with its plan.
///
/// The schedule runs from an anchor: period `anchor_period + n` starts at `anchor_at + n × interval × unit`
/// ([`crate::schedule::period_at`]). The anchor is `started_at` (or `trial_end`) until a change of frequency or
/// interval moves it; `anchor_period` keeps the period numbers growing across a move, so the unique
/// (subscription, period) index still holds. `next_period` is the next period to bill or skip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Billable {
    pub anchor_at: Instant,
    pub anchor_period: i64,
    pub next_period: i64,
    pub frequency: crate::schedule::Frequency,
    pub interval: i64,
    pub amount: Option<i64>,
    pub plan_amount: i64,
    pub has_instrument: bool,
    /// Paused since (periods starting from then on are skipped) …
    pub paused_at: Option<Instant>,
    /// … until (exclusive; `None`: until resumed).
    pub resumes_at: Option<Instant>,
    /// Canceled at this instant, with no invoice from then on (cancel at period end).
    pub cancel_at: Option<Instant>,
    /// A payout plan (`plan_type` `credit`): its invoices pay the customer.
    pub payout: bool,
}

fn opt_time(raw: &Raw, key: &str) -> Result<Option<Instant>> {
    match input::opt_string(raw, key, 40)? {
        None => Ok(None),
        Some(s) => time::parse(&s, key).map(Some),
    }
}

impl Billable {
    /// Reads a subscription row joined with its plan: `{started_at, anchor_at, anchor_period, next_period,
    /// invoice_count, frequency, interval, amount, plan_amount, funding_instrument_uri, paused_at, resumes_at,
    /// cancel_at}`. Absent schedule fields fall back to Billy's: anchor `started_at`, next period `invoice_count`.
    pub fn from_raw(raw: &Raw) -> Result<Billable> {
        let frequency = input::req_string(raw, "frequency", 16)?;
        let anchor_at = match opt_time(raw, "anchor_at")? {
            Some(t) => t,
            None => time::parse(&input::req_string(raw, "started_at", 40)?, "started_at")?,
        };
        let max = crate::money::MAX_AMOUNT;
        let next_period = match input::opt_int(raw, "next_period", 0, max)? {
            Some(n) => n,
            None => input::opt_int(raw, "invoice_count", 0, max)?.unwrap_or(0),
        };
        let anchor_period = input::opt_int(raw, "anchor_period", 0, max)?.unwrap_or(0);
        if anchor_period > next_period {
            return Err(CoreError::invalid(
                "anchor_period",
                "must not be after next_period",
            ));
        }
        Ok(Billable {
            anchor_at,
            anchor_period,
            next_period,
            frequency: crate::schedule::Frequency::parse(&frequency, "frequency")?,
            interval: input::opt_int(raw, "interval", 1, max)?.unwrap_or(1),
            amount: input::opt_amount(raw, "amount", 0)?,
            plan_amount: input::req_amount(raw, "plan_amount", 0)?,
            has_instrument: input::present(raw, "funding_instrument_uri").is_some(),
            paused_at: opt_time(raw, "paused_at")?,
            resumes_at: opt_time(raw, "resumes_at")?,
            cancel_at: opt_time(raw, "cancel_at")?,
            payout: input::opt_string(raw, "plan_type", 16)?
                .is_some_and(|t| t.eq_ignore_ascii_case("credit")),
        })
    }

    /// Does a period starting at `t` fall while paused (skipped, not owed)?
    pub fn paused_at_time(&self, t: Instant) -> bool {
        self.paused_at
            .is_some_and(|p| t >= p && self.resumes_at.is_none_or(|r| t < r))
    }

    /// Start of the subscription's period `period` (global numbering).
    pub fn period_start(&self, period: i64) -> Result<Instant> {
        crate::schedule::period_at(
            self.anchor_at,
            self.frequency,
            self.interval,
            period - self.anchor_period,
        )
    }

    /// The period under way at the anchor's side of `next_period`: `(period, start, end)` of the last period
    /// begun, or `None` before the first one (trialing, not started) or when the anchor just moved.
    pub fn current_period(&self) -> Result<Option<(i64, Instant, Instant)>> {
        if self.next_period <= self.anchor_period {
            return Ok(None);
        }
        let period = self.next_period - 1;
        Ok(Some((
            period,
            self.period_start(period)?,
            self.period_start(self.next_period)?,
        )))
    }

    /// The next period that will be invoiced (paused periods skipped), or `None` when none will be: paused
    /// without an end, canceled at period end first, or beyond the year 9999.
    pub fn next_billed_period(&self) -> Result<Option<(i64, Instant)>> {
        // Enough for any pause: a daily plan paused for 10 years is ~3,650 periods.
        for period in self.next_period..self.next_period.saturating_add(100_000) {
            let t = match self.period_start(period) {
                Ok(t) => t,
                Err(CoreError::ScheduleOutOfRange { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            if self.cancel_at.is_some_and(|c| t >= c) {
                return Ok(None);
            }
            if !self.paused_at_time(t) {
                return Ok(Some((period, t)));
            }
            if self.resumes_at.is_none() {
                return Ok(None);
            }
        }
        Ok(None)
    }
}

crate::json_struct! {
    /// What a due subscription does now: the periods it invoices (its due periods, in order, less those that start
    /// while paused, which are skipped), the schedule after them, the amount of each invoice and how each opens
    /// (the same rules as one at a time: [`crate::schedule::due_periods`], [`subscription_amount`],
    /// [`crate::invoice::opening`]), whether it is canceled now (its `cancel_at` came) and whether a pause ended.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Bill {
        pub periods: Vec<crate::schedule::DuePeriod>,
        /// Periods that started while paused: not invoiced, not owed.
        pub skipped: i64,
        pub next_period: i64,
        pub next_invoice_at: Option<String>,
        pub amount: i64,
        pub opening: crate::invoice::Opening,
        /// `canceled_at` when the subscription ends now (cancel at period end).
        pub cancel: Option<String>,
        /// The pause's `resumes_at` has come: the subscription is active again.
        pub resumed: bool,
    }
}

/// The bill of one due subscription at `now`, at most `max` periods.
pub fn bill(b: &Billable, now: Instant, max: usize) -> Result<Bill> {
    let due = crate::schedule::due_periods(
        b.anchor_at,
        b.frequency,
        b.interval,
        b.next_period - b.anchor_period,
        now,
        max,
    )?;
    let amount = subscription_amount(b.amount, b.plan_amount);
    let mut periods = Vec::new();
    let (mut skipped, mut consumed, mut cancel) = (0, 0, None);
    for p in due.periods {
        let t = time::parse(&p.scheduled_at, "scheduled_at")?;
        if let Some(c) = b.cancel_at.filter(|c| t >= *c) {
            cancel = Some(time::format(c));
            break;
        }
        consumed += 1;
        let period = b.anchor_period + p.period;
        if b.paused_at_time(t) {
            skipped += 1;
        } else {
            periods.push(crate::schedule::DuePeriod {
                period,
                scheduled_at: p.scheduled_at,
            });
        }
    }
    if cancel.is_none() {
        cancel = b.cancel_at.filter(|c| *c <= now).map(time::format);
    }
    Ok(Bill {
        periods,
        skipped,
        next_period: b.next_period + consumed,
        next_invoice_at: if cancel.is_some() {
            None
        } else {
            due.next_invoice_at
        },
        amount,
        opening: crate::invoice::opening(amount, b.has_instrument)?,
        cancel,
        resumed: b.paused_at.is_some() && b.resumes_at.is_some_and(|r| r <= now),
    })
}

/// The period a usage event at `timestamp` counts in: the open (current) period, or the next one when the event is
/// already past the open period's end (the scheduler has not yet invoiced it). Before the open period, or with no
/// open period (trialing, not started), the event is refused: 422 `period_closed`.
pub fn usage_period(b: &Billable, timestamp: Instant) -> Result<(i64, Instant, Instant)> {
    let Some((period, start, end)) = b.current_period()? else {
        return Err(CoreError::Unprocessable {
            code: "period_closed",
            field: Some("timestamp".into()),
            reason:
                "the subscription has no open period (trialing or not started): usage is not billed"
                    .into(),
        });
    };
    crate::usage::check_period(timestamp, start)?;
    if timestamp < end {
        return Ok((period, start, end));
    }
    Ok((period + 1, end, b.period_start(period + 2)?))
}

/// A canceled subscription refuses every change (409 `subscription_canceled`).
pub fn refuse_canceled(canceled: bool, guid: &str) -> Result<()> {
    if canceled {
        return Err(CoreError::Conflict {
            code: "subscription_canceled",
            field: None,
            reason: format!("Subscription {guid} is canceled"),
        });
    }
    Ok(())
}

/// A pause starting `now`: `resumes_at` (optional) must be after `now`. Pausing a paused or canceled
/// subscription is a 409. Returns `(paused_at, resumes_at)`.
pub fn pause(
    canceled: bool,
    paused: bool,
    raw: &Raw,
    now: Instant,
    guid: &str,
) -> Result<(String, Option<String>)> {
    input::object(raw, "input")?;
    refuse_canceled(canceled, guid)?;
    if paused {
        return Err(CoreError::Conflict {
            code: "already_paused",
            field: None,
            reason: format!("Subscription {guid} is already paused"),
        });
    }
    let resumes_at = time::opt_field(raw, "resumes_at")?;
    if resumes_at.is_some_and(|r| r <= now) {
        return Err(CoreError::invalid("resumes_at", "must be in the future"));
    }
    Ok((time::format(now), resumes_at.map(time::format)))
}

/// Resuming needs a paused subscription (else 409 `not_paused`).
pub fn resume(canceled: bool, paused: bool, guid: &str) -> Result<()> {
    refuse_canceled(canceled, guid)?;
    if !paused {
        return Err(CoreError::Conflict {
            code: "not_paused",
            field: None,
            reason: format!("Subscription {guid} is not paused"),
        });
    }
    Ok(())
}

/// Whether a stored subscription row (`paused_at`, `resumes_at`) is paused at `now`: from `paused_at` until
/// `resumes_at` when one is set. A pause whose `resumes_at` has come is over, even before the scheduler, at the next
/// period, clears it: the status reads `active`, and it may be paused again.
pub fn paused_now(raw: &Raw, now: Instant) -> Result<bool> {
    let paused_at = opt_time(raw, "paused_at")?;
    let resumes_at = opt_time(raw, "resumes_at")?;
    Ok(paused_at.is_some() && resumes_at.is_none_or(|r| now < r))
}

/// A resume at `now`: the period that started at this very instant was skipped if the scheduler reached it while the
/// subscription was still paused; it is invoiced all the same (a period starting at the resume instant is owed, as
/// with `resumes_at`). Answers the period to invoice from again, or `None`.
pub fn resume_from(b: &Billable, now: Instant) -> Result<Option<i64>> {
    let last = b.next_period - 1;
    if last < b.anchor_period {
        return Ok(None);
    }
    Ok((b.period_start(last)? == now).then_some(last))
}

/// How a cancel request reads: `at_period_end` and `prorate` (both default false; not together).
pub fn cancel_options(raw: &Raw) -> Result<(bool, bool)> {
    input::object(raw, "input")?;
    let at_period_end = input::opt_bool(raw, "at_period_end")?.unwrap_or(false);
    let prorate = input::opt_bool(raw, "prorate")?.unwrap_or(false);
    if at_period_end && prorate {
        return Err(CoreError::invalid(
            "prorate",
            "applies to an immediate cancel only (nothing is unused at the period's end)",
        ));
    }
    Ok((at_period_end, prorate))
}

/// The invoice of a subscription's current period, as far as what was paid for the period goes.
///
/// Such an invoice bills the period's price in advance (its fixed part) and, beside it, older things: the usage of
/// the period before (its items, billed in arrears) and prorations of earlier changes (pending lines: charges and
/// credits, and the line that carried an excess credit to the balance). Its coupon discounts the fixed part and the
/// usage alike. What the customer paid toward it: what the processor kept (settled debits less refunds), the customer
/// credit it used, and the credit its proration lines brought. That money pays the older things first; what is left
/// paid the period's fixed part, at most that part after the coupon. (Credit already given back for the period, by
/// earlier prorations, is not taken off here: those lines were prorations of their own, at their own prices; it
/// counts against the invoice's refunds instead, `invoices.credited_amount`.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodInvoice {
    pub settled: bool,
    /// A payment of it is staged, retrying or pending at the processor: what was paid is not known yet.
    pub in_flight: bool,
    /// An invoice of earlier prorations of the subscription is not paid (declined, or still with the processor):
    /// the price it charged for (an upgrade) was not paid, so no unused time of it can be credited.
    pub unpaid_prorations: bool,
    /// The invoice's amount: the fixed part plus its usage lines.
    pub amount: i64,
    /// Σ of its usage lines.
    pub usage: i64,
    /// Its coupon line (≤ 0; 0 without one).
    pub coupon: i64,
    /// Σ of its proration lines and of the line carrying an excess credit to the balance.
    pub prorations: i64,
    /// What the processor kept of its payments ([`crate::ledger::Ledger::refundable`]); for a payout invoice, what it
    /// paid out and was not reversed.
    pub kept: i64,
    /// The customer credit it used (applied less given back).
    pub balance_applied: i64,
}

impl PeriodInvoice {
    /// Reads a stored subscription invoice `{status, transaction_type, amount, coupon_code, items, adjustments,
    /// credited_amount, balance_entries}` (items and adjustments as arrays; `balance_entries` the amounts of its `applied_to_invoice`
    /// and `unapplied_from_invoice` entries) with its `transactions`. Its lines are told apart by the reasons the core
    /// wrote them with: the coupon's, the customer credit's, and the rest (prorations and carried credit).
    pub fn from_raw(raw: &Raw, txs: &[crate::invoice::OwnedTx]) -> Result<PeriodInvoice> {
        let status =
            crate::invoice::Status::parse(&input::req_string(raw, "status", 32)?, "status")?;
        let amounts = |key: &str| -> Result<Vec<(i64, Option<String>)>> {
            match raw.get(key) {
                None | Some(Raw::Null) => Ok(Vec::new()),
                Some(Raw::Array(lines)) => lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        let amount = input::req_amount(l, "amount", -crate::money::MAX_AMOUNT)
                            .map_err(|e| e.in_field(&format!("{key}[{i}].amount")))?;
                        Ok((amount, input::opt_string(l, "reason", 1000).ok().flatten()))
                    })
                    .collect(),
                Some(other) => Err(CoreError::invalid(
                    key,
                    format!("must be an array, got {}", other.kind()),
                )),
            }
        };
        let coupon_reason =
            input::opt_string(raw, "coupon_code", 64)?.map(|c| format!("coupon {c}"));
        let (mut coupon, mut prorations) = (0, 0);
        for (amount, reason) in amounts("adjustments")? {
            if reason.is_some() && reason == coupon_reason {
                coupon = money::add(coupon, amount)?;
            } else if reason.as_deref() != Some(crate::next_invoice::BALANCE_APPLIED) {
                prorations = money::add(prorations, amount)?;
            }
        }
        let usage = money::sum(amounts("items")?.into_iter().map(|(a, _)| a))?;
        let entries = match raw.get("balance_entries") {
            Some(Raw::Array(a)) => a
                .iter()
                .map(|v| input::amount_value(v, "balance_entries", -crate::money::MAX_AMOUNT))
                .collect::<Result<Vec<i64>>>()?,
            _ => Vec::new(),
        };
        let movements: Vec<crate::ledger::Movement> = txs
            .iter()
            .map(|t| crate::ledger::Movement::from(&t.tx))
            .collect();
        let ledger = crate::ledger::Ledger::fold(&movements)?;
        // A payout invoice (`credit`) was paid to the payee: what its credits paid out, less reversals.
        let payout = input::opt_string(raw, "transaction_type", 16)?
            .is_some_and(|t| t.eq_ignore_ascii_case("credit"));
        let (moving, kept) = if payout {
            (
                ledger.credit,
                money::sub(ledger.credit.settled, ledger.reversal.outgoing()?)?,
            )
        } else {
            (ledger.debit, ledger.refundable()?)
        };
        Ok(PeriodInvoice {
            unpaid_prorations: input::opt_bool(raw, "unpaid_prorations")?.unwrap_or(false),
            settled: status == crate::invoice::Status::Settled,
            in_flight: money::add(moving.planned, moving.in_flight)? > 0,
            amount: input::req_amount(raw, "amount", 0)?,
            usage,
            coupon,
            prorations,
            kept,
            balance_applied: crate::balance::held_by_invoice(&entries)?,
        })
    }

    /// What was paid for the period's fixed part (see the type's docs); 0 when the invoice is not settled.
    pub fn paid_for_period(&self) -> Result<i64> {
        if !self.settled {
            return Ok(0);
        }
        let fixed = money::sub(self.amount, self.usage)?.max(0);
        // The coupon's share of each part: part × (amount + coupon) / amount, rounded down (never more than paid).
        let after_coupon = |part: i64| -> i64 {
            if self.amount <= 0 {
                return 0;
            }
            let discounted = (i128::from(self.amount) + i128::from(self.coupon)).max(0);
            (i128::from(part) * discounted / i128::from(self.amount)) as i64
        };
        let older = money::add(after_coupon(self.usage), self.prorations)?;
        let collected = money::sub(money::add(self.kept, self.balance_applied)?, older)?;
        Ok(collected.clamp(0, after_coupon(fixed)))
    }

    /// `amount` (a price of the period) scaled by the share of the period's fixed part that was paid, rounded down:
    /// the whole of it when the period was paid in full, nothing when it was not paid, refunded or free by a coupon.
    /// Unused time is credited on this, so no credit is ever given for time that was not paid for.
    pub fn paid_share_of(&self, amount: i64) -> Result<i64> {
        let fixed = money::sub(self.amount, self.usage)?;
        if fixed <= 0 {
            return Ok(0);
        }
        let paid = self.paid_for_period()?;
        Ok((i128::from(amount.max(0)) * i128::from(paid) / i128::from(fixed)) as i64)
    }
}

/// A prorated change while the period's payment is at the processor would count what was paid before it is known;
/// one while an earlier prorations invoice is unpaid would credit unused time at a price never paid.
pub fn refuse_in_flight(inv: Option<&PeriodInvoice>) -> Result<()> {
    if inv.is_some_and(|i| i.in_flight) {
        return Err(CoreError::Conflict {
            code: "payment_pending",
            field: None,
            reason: "this period's payment is still at the processor; prorate once it has an answer (or do not prorate)"
                .into(),
        });
    }
    if inv.is_some_and(|i| i.unpaid_prorations) {
        return Err(CoreError::Conflict {
            code: "prorations_unpaid",
            field: None,
            reason: "an invoice of this subscription's earlier prorations is not paid; pay it (PUT a funding instrument) or change without prorating"
                .into(),
        });
    }
    Ok(())
}

/// The credit (≥ 0) an immediate cancel with `prorate=true` gives back: the unused part of the current period at the
/// subscription's current price, scaled by the share of the period that was paid ([`PeriodInvoice::paid_share_of`]),
/// less what the subscription still owes in pending prorations (`pending_net` > 0: an upgrade's remaining time,
/// which the cancel lets lapse). A pending credit (`pending_net` < 0) is not in it: the worker gives that to the
/// balance as for any ending subscription. Nothing when there is no current period (trialing, paused) or invoice,
/// and for a payout plan: its payee was paid in advance, and nothing they were paid comes back to them as credit.
/// While the period's payment is at the processor, 409 `payment_pending`.
pub fn cancel_credit(
    b: &Billable,
    inv: Option<&PeriodInvoice>,
    pending_net: i64,
    at: Instant,
) -> Result<i64> {
    let (Some(inv), Some((_, start, end))) = (inv, b.current_period()?) else {
        return Ok(0);
    };
    if b.payout || at < start || at >= end {
        return Ok(0);
    }
    refuse_in_flight(Some(inv))?;
    let base = inv.paid_share_of(subscription_amount(b.amount, b.plan_amount))?;
    let unused = crate::proration::unused_amount(base, start, end, at)?;
    Ok(money::sub(unused, pending_net.max(0))?.max(0))
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
                trial_end: None,
                trial_notice_at: None,
                coupon: None,
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

    fn monthly(pairs: &[(&str, Raw)]) -> Billable {
        let mut all: Vec<(&str, Raw)> = vec![
            ("started_at", Raw::from("2024-01-01T00:00:00Z")),
            ("frequency", Raw::from("monthly")),
            ("plan_amount", Raw::from(1000i64)),
            ("funding_instrument_uri", Raw::from("/c")),
        ];
        all.extend(pairs.iter().cloned());
        Billable::from_raw(&Raw::object(all)).unwrap()
    }

    fn at(s: &str) -> Instant {
        time::parse(s, "t").unwrap()
    }

    #[test]
    fn periods_started_while_paused_are_skipped() {
        // Paused Jan 15 until Apr 1: Feb and Mar are skipped, Apr 1 (the resume instant) is billed.
        let b = monthly(&[
            ("next_period", Raw::from(1i64)),
            ("invoice_count", Raw::from(1i64)),
            ("paused_at", Raw::from("2024-01-15T00:00:00Z")),
            ("resumes_at", Raw::from("2024-04-01T00:00:00Z")),
        ]);
        let x = bill(&b, at("2024-04-01T00:00:00Z"), 100).unwrap();
        assert_eq!(x.skipped, 2);
        assert_eq!(
            x.periods.iter().map(|p| p.period).collect::<Vec<_>>(),
            vec![3]
        );
        assert_eq!(x.next_period, 4);
        assert!(x.resumed);
        let x = bill(&b, at("2024-03-01T00:00:00Z"), 100).unwrap();
        assert_eq!((x.skipped, x.periods.len(), x.resumed), (2, 0, false));
        assert_eq!(b.next_billed_period().unwrap().map(|p| p.0), Some(3));
        // Paused without an end: no upcoming invoice.
        let b = monthly(&[
            ("next_period", Raw::from(1i64)),
            ("paused_at", Raw::from("2024-01-15T00:00:00Z")),
        ]);
        assert_eq!(b.next_billed_period().unwrap(), None);
    }

    #[test]
    fn cancel_at_period_end_stops_at_the_boundary() {
        let b = monthly(&[
            ("next_period", Raw::from(1i64)),
            ("cancel_at", Raw::from("2024-02-01T00:00:00Z")),
        ]);
        let x = bill(&b, at("2024-02-01T00:00:00Z"), 100).unwrap();
        assert!(x.periods.is_empty());
        assert_eq!(
            x.cancel.as_deref(),
            Some("2024-02-01T00:00:00.000000+00:00")
        );
        assert_eq!(x.next_invoice_at, None);
        let x = bill(&b, at("2024-01-31T23:59:59Z"), 100).unwrap();
        assert_eq!(x.cancel, None);
        assert_eq!(b.next_billed_period().unwrap(), None);
    }

    #[test]
    fn a_moved_anchor_keeps_period_numbers_growing() {
        let b = monthly(&[
            ("anchor_at", Raw::from("2024-03-10T12:00:00Z")),
            ("anchor_period", Raw::from(5i64)),
            ("next_period", Raw::from(5i64)),
        ]);
        assert_eq!(b.current_period().unwrap(), None);
        let x = bill(&b, at("2024-04-10T12:00:00Z"), 100).unwrap();
        assert_eq!(
            x.periods.iter().map(|p| p.period).collect::<Vec<_>>(),
            vec![5, 6]
        );
        assert_eq!(
            x.periods[0].scheduled_at,
            "2024-03-10T12:00:00.000000+00:00"
        );
    }

    #[test]
    fn statuses() {
        let now = at("2024-05-01T00:00:00Z");
        let later = Some(at("2024-05-02T00:00:00Z"));
        assert_eq!(status(true, true, later, true, now), Status::Canceled);
        assert_eq!(status(false, true, later, true, now), Status::Paused);
        assert_eq!(status(false, false, later, true, now), Status::Trialing);
        assert_eq!(status(false, false, Some(now), true, now), Status::PastDue);
        assert_eq!(status(false, false, None, false, now), Status::Active);
    }

    #[test]
    fn trials() {
        let now = at(NOW);
        let t = |pairs: Vec<(&str, Raw)>| trial(&Raw::object(pairs), now, now);
        assert_eq!(
            t(vec![("trial_days", Raw::from("14"))])
                .unwrap()
                .map(time::format)
                .as_deref(),
            Some("2024-05-15T12:00:00.000000+00:00")
        );
        assert_eq!(t(vec![("trial_days", Raw::from("0"))]).unwrap(), None);
        for (pairs, field) in [
            (vec![("trial_days", Raw::from("731"))], "trial_days"),
            (vec![("trial_end", Raw::from(NOW))], "trial_end"),
            (
                vec![
                    ("trial_end", Raw::from("2024-06-01T00:00:00Z")),
                    ("trial_days", Raw::from("3")),
                ],
                "trial_end",
            ),
        ] {
            assert_eq!(t(pairs).unwrap_err().field().as_deref(), Some(field));
        }
        // The notice goes three days before, or at once for a shorter trial.
        assert_eq!(
            time::format(trial_notice_at(at("2024-05-15T12:00:00Z"), now)),
            "2024-05-12T12:00:00.000000+00:00"
        );
        assert_eq!(trial_notice_at(at("2024-05-02T12:00:00Z"), now), now);
    }

    #[test]
    fn pause_resume_cancel_rules() {
        let now = at(NOW);
        let empty = Raw::object(Vec::<(&str, Raw)>::new());
        assert_eq!(
            pause(false, true, &empty, now, "SU1").unwrap_err().code(),
            "already_paused"
        );
        assert_eq!(
            pause(true, false, &empty, now, "SU1").unwrap_err().code(),
            "subscription_canceled"
        );
        let e = pause(
            false,
            false,
            &Raw::object([("resumes_at", Raw::from(NOW))]),
            now,
            "SU1",
        )
        .unwrap_err();
        assert_eq!(
            (e.status(), e.field().as_deref()),
            (400, Some("resumes_at"))
        );
        assert_eq!(
            pause(false, false, &empty, now, "SU1").unwrap(),
            (NOW.to_string(), None)
        );
        assert_eq!(resume(false, false, "SU1").unwrap_err().status(), 409);
        assert!(resume(false, true, "SU1").is_ok());
        let both = Raw::object([
            ("at_period_end", Raw::from("true")),
            ("prorate", Raw::from("true")),
        ]);
        assert_eq!(
            cancel_options(&both).unwrap_err().field().as_deref(),
            Some("prorate")
        );
        // Prorated cancel at half of a 30-day April period paid 3000 → 1500 back; unpaid → nothing.
        let b = monthly(&[
            ("anchor_at", Raw::from("2024-04-01T00:00:00Z")),
            ("next_period", Raw::from(1i64)),
            ("plan_amount", Raw::from(3000i64)),
        ]);
        let half = at("2024-04-16T00:00:00Z");
        assert_eq!(cancel_credit(&b, Some(&paid(3000)), 0, half).unwrap(), 1500);
        assert_eq!(cancel_credit(&b, None, 0, half).unwrap(), 0);
    }

    /// A settled invoice of a 3000 period that the processor kept `kept` of, and nothing else.
    fn paid(kept: i64) -> PeriodInvoice {
        PeriodInvoice {
            settled: true,
            in_flight: false,
            unpaid_prorations: false,
            amount: 3000,
            usage: 0,
            coupon: 0,
            prorations: 0,
            kept,
            balance_applied: 0,
        }
    }

    /// Credit for unused time never exceeds what was paid for the period: refunds, a coupon, an unpaid invoice or
    /// credit already given back lower it; the customer credit the invoice used and the credit its proration lines
    /// brought count as paid; older things on the invoice (usage, earlier prorations) are paid first; a payout gives
    /// none; a payment at the processor is 409.
    #[test]
    fn a_cancel_credits_only_time_that_was_paid_for() {
        let b = monthly(&[
            ("anchor_at", Raw::from("2024-04-01T00:00:00Z")),
            ("next_period", Raw::from(1i64)),
            ("plan_amount", Raw::from(3000i64)),
        ]);
        let half = at("2024-04-16T00:00:00Z");
        let credit = |inv: PeriodInvoice| cancel_credit(&b, Some(&inv), 0, half).unwrap();
        assert_eq!(credit(paid(3000)), 1500, "paid in full");
        assert_eq!(credit(paid(0)), 0, "refunded in full");
        assert_eq!(credit(paid(2000)), 1000, "refunded 1000");
        assert_eq!(
            credit(PeriodInvoice {
                kept: 2000,
                balance_applied: 1000,
                ..paid(0)
            }),
            1500,
            "1000 of it paid with the customer's credit"
        );
        assert_eq!(
            credit(PeriodInvoice {
                settled: false,
                ..paid(3000)
            }),
            0,
            "not settled: nothing paid"
        );
        assert_eq!(
            credit(PeriodInvoice {
                prorations: 3000,
                ..paid(1000)
            }),
            0,
            "never below zero"
        );
        // A 100 % coupon: the fixed part cost nothing; a 50 % one: half of it.
        assert_eq!(
            credit(PeriodInvoice {
                coupon: -3000,
                ..paid(0)
            }),
            0
        );
        assert_eq!(
            credit(PeriodInvoice {
                coupon: -1500,
                ..paid(1500)
            }),
            750
        );
        // An earlier upgrade's +3000 proration on the invoice, paid in full: the period was paid; refunded 4000 of
        // 6000, what is left paid the older charge first.
        assert_eq!(
            credit(PeriodInvoice {
                prorations: 3000,
                ..paid(6000)
            }),
            1500
        );
        assert_eq!(
            credit(PeriodInvoice {
                prorations: 3000,
                ..paid(2000)
            }),
            0
        );
        // A downgrade's −1500 carried to this invoice: 1500 in cash and 1500 of credit paid the period in full.
        assert_eq!(
            credit(PeriodInvoice {
                prorations: -1500,
                ..paid(1500)
            }),
            1500
        );
        // Last period's usage (5000) and a 50 % coupon on a 1000 period: 6000 − 3000; the fixed part cost 500.
        let small = monthly(&[
            ("anchor_at", Raw::from("2024-04-01T00:00:00Z")),
            ("next_period", Raw::from(1i64)),
            ("plan_amount", Raw::from(1000i64)),
        ]);
        let usage = PeriodInvoice {
            amount: 6000,
            usage: 5000,
            coupon: -3000,
            ..paid(3000)
        };
        assert_eq!(cancel_credit(&small, Some(&usage), 0, half).unwrap(), 250);
        let e = cancel_credit(
            &b,
            Some(&PeriodInvoice {
                in_flight: true,
                ..paid(0)
            }),
            0,
            half,
        )
        .unwrap_err();
        assert_eq!((e.code(), e.status()), ("payment_pending", 409));
        let unpaid = PeriodInvoice {
            unpaid_prorations: true,
            ..paid(3000)
        };
        let e = cancel_credit(&b, Some(&unpaid), 0, half).unwrap_err();
        assert_eq!((e.code(), e.status()), ("prorations_unpaid", 409));
        let payout = monthly(&[
            ("anchor_at", Raw::from("2024-04-01T00:00:00Z")),
            ("next_period", Raw::from(1i64)),
            ("plan_amount", Raw::from(3000i64)),
            ("plan_type", Raw::from("credit")),
        ]);
        assert_eq!(
            cancel_credit(&payout, Some(&paid(3000)), 0, half).unwrap(),
            0
        );
        // An upgrade from 3000 to 6000 at a quarter of the period left +2250 pending (−2250 + 4500): at half, the
        // unused 3000 at the current price less the 2250 still owed is 750 (paid 3000, used 750 + 1500).
        let upgraded = monthly(&[
            ("anchor_at", Raw::from("2024-04-01T00:00:00Z")),
            ("next_period", Raw::from(1i64)),
            ("plan_amount", Raw::from(6000i64)),
        ]);
        assert_eq!(
            cancel_credit(&upgraded, Some(&paid(3000)), 2250, half).unwrap(),
            750
        );
    }

    #[test]
    fn usage_counts_in_the_open_period() {
        let b = monthly(&[("next_period", Raw::from(1i64))]);
        let (p, start, end) = usage_period(&b, at("2024-01-15T00:00:00Z")).unwrap();
        assert_eq!(
            (p, time::format(start), time::format(end)),
            (
                0,
                time::format(at("2024-01-01T00:00:00Z")),
                time::format(at("2024-02-01T00:00:00Z"))
            )
        );
        assert_eq!(usage_period(&b, at("2024-02-01T00:01:00Z")).unwrap().0, 1);
        assert_eq!(
            usage_period(&b, at("2023-12-31T23:59:59Z"))
                .unwrap_err()
                .code(),
            "period_closed"
        );
        let trial = monthly(&[("next_period", Raw::from(0i64))]);
        assert_eq!(
            usage_period(&trial, at("2024-01-15T00:00:00Z"))
                .unwrap_err()
                .status(),
            422
        );
    }
}
