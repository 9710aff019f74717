//! The lifecycle of every money movement (debit, credit, refund, reversal), whatever owns it.
//!
//! A transaction is staged (its intent committed), submitted to the processor with its guid as idempotency key,
//! and moved by each processor answer through one pure function, [`apply`]:
//!
//! | state \ outcome | succeeded | pending | declined (hard) | error (transient) |
//! |---|---|---|---|---|
//! | staged, retrying | done/succeeded → owner `succeeded` | done/pending, poll in 1 h → owner `pending` | failed/failed → owner `failed` | failure recorded; retry with backoff, or failed/failed after the last attempt → owner `failed` |
//! | done/pending (a poll) | done/succeeded → owner `succeeded` | poll again in 1 h | done/failed → owner `failed` | poll again in 1 h |
//! | failed (the processor finds a charge after all) | done/succeeded → owner `succeeded` | done/pending | ignored | ignored |
//! | canceled | done/succeeded → **refund required** | done/pending (polled) | ignored | ignored |
//! | done/succeeded, done/failed | ignored | ignored | ignored | ignored |
//!
//! The processor is the truth about money: a success is always recorded, even for a transaction its owner gave up
//! on. When the owner had let go of it (`unwanted`: a canceled invoice), the answer is [`Effect::RefundRequired`]
//! and the worker stages a compensating movement (a refund for a debit, a reversal for a credit) with its own
//! idempotency key, so the buyer is repaid and every step is visible. An `unwanted` pending payment that succeeds
//! takes the same path. Stale or repeated answers are [`Effect::Ignored`], never errors.
//!
//! [`release`] is how an owner lets go (cancel, new instrument): staged and retrying transactions are canceled,
//! a pending one stays with the processor (it is polled on) but is marked unwanted. A transaction released without
//! certainty that no earlier attempt charged is kept for reconciliation (`reconcile_at`): the scheduler asks the
//! processor by idempotency key later ([`reconciled`]).

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::money::MAX_AMOUNT;
use crate::retry;
use crate::time::{self, Instant};

crate::names! {
    /// What a transaction does with money.
    pub enum Kind as "TransactionKind" {
        /// Takes money from a funding instrument.
        Debit = "debit",
        /// Pays money out to a funding instrument.
        Credit = "credit",
        /// Returns (part of) a debit.
        Refund = "refund",
        /// Takes back (part of) a credit.
        Reversal = "reversal",
    }
}

crate::names! {
    /// Where the submission of a transaction is.
    pub enum SubmitStatus as "SubmitStatus" {
        /// Committed, not yet answered by the processor.
        Staged = "staged",
        /// Failed transiently; submitted again at `next_attempt_at`.
        Retrying = "retrying",
        /// The processor accepted it (its `status` says how it ended).
        Done = "done",
        /// Declined, or out of attempts.
        Failed = "failed",
        /// Let go by its owner before the processor accepted it.
        Canceled = "canceled",
    }
}

crate::names! {
    /// What the processor says happened to the money.
    pub enum Status as "TransactionStatus" {
        Pending = "pending",
        Succeeded = "succeeded",
        Failed = "failed",
    }
}

crate::names! {
    /// A processor adapter's answer (`not_found` only from a lookup by idempotency key).
    pub enum Outcome as "ProcessorOutcome" {
        Succeeded = "succeeded",
        Pending = "pending",
        /// Final: never retried.
        Declined = "declined",
        /// Transient: retried with backoff.
        Error = "error",
        NotFound = "not_found",
    }
}

crate::names! {
    /// What an answer means for the transaction's owner.
    pub enum Effect as "TransactionEffect" {
        /// Stale or repeated: nothing is written.
        Ignored = "ignored",
        /// The transaction changed; its owner is not concerned (a retry scheduled, a poll postponed).
        Recorded = "recorded",
        /// The money moved.
        Succeeded = "succeeded",
        /// The processor holds it as pending.
        Pending = "pending",
        /// It will not move.
        Failed = "failed",
        /// The money moved for an owner that had let go of it: a compensating movement must be staged.
        RefundRequired = "refund_required",
    }
}

crate::names! {
    /// What a transaction belongs to: the object whose money it moves and that follows its effects.
    pub enum OwnerType as "OwnerType" {
        Invoice = "invoice",
        /// An escrow order ([`crate::escrow`]).
        Order = "order",
        /// A split-payment checkout's card part ([`crate::checkout`]).
        Checkout = "checkout",
    }
}

crate::names! {
    /// Why the core created a transaction on its own.
    pub enum Reason as "TransactionReason" {
        /// Repays a success that arrived after its owner let go of it.
        LateSuccess = "late_success",
        /// Money the merchant received outside the processor (a bank transfer against a terms invoice).
        ExternalPayment = "external_payment",
    }
}

/// How long a pending transaction waits before the processor is asked again.
pub const PENDING_POLL_SECONDS: i64 = 3_600;
/// How long a reconciliation whose lookup failed waits before asking again.
pub const RECONCILE_RETRY_SECONDS: i64 = 3_600;

/// The lifecycle fields of a stored transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tx {
    pub kind: Kind,
    pub amount: i64,
    pub submit_status: SubmitStatus,
    pub status: Option<Status>,
    pub failure_count: i64,
    /// Its owner let go of it (canceled): a success must be repaid.
    pub unwanted: bool,
    /// Retry time (retrying) or poll time (pending).
    pub next_attempt_at: Option<String>,
    /// When to ask the processor whether an attempt of a released transaction charged after all.
    pub reconcile_at: Option<String>,
    pub processor_uri: Option<String>,
}

impl Tx {
    /// Reads a stored row `{transaction_type, amount, submit_status, status, failure_count, unwanted,
    /// next_attempt_at, reconcile_at, processor_uri}`; errors name `transaction.<field>` (a malformed row is a worker bug).
    pub fn from_raw(raw: &Raw) -> Result<Tx> {
        let f = |name: &str| format!("transaction.{name}");
        input::object(raw, "transaction")?;
        let kind = input::req_string(raw, "transaction_type", 16)
            .map_err(|e| e.in_field(&f("transaction_type")))?;
        let submit = input::req_string(raw, "submit_status", 16)
            .map_err(|e| e.in_field(&f("submit_status")))?;
        let status = input::opt_string(raw, "status", 16).map_err(|e| e.in_field(&f("status")))?;
        Ok(Tx {
            kind: Kind::parse(&kind, &f("transaction_type"))?,
            amount: input::req_amount(raw, "amount", 0).map_err(|e| e.in_field(&f("amount")))?,
            submit_status: SubmitStatus::parse(&submit, &f("submit_status"))?,
            status: status
                .map(|s| Status::parse(&s, &f("status")))
                .transpose()?,
            failure_count: input::opt_int(raw, "failure_count", 0, MAX_AMOUNT)
                .map_err(|e| e.in_field(&f("failure_count")))?
                .unwrap_or(0),
            unwanted: input::opt_bool(raw, "unwanted")
                .map_err(|e| e.in_field(&f("unwanted")))?
                .unwrap_or(false),
            next_attempt_at: input::opt_string(raw, "next_attempt_at", 40)
                .map_err(|e| e.in_field(&f("next_attempt_at")))?,
            reconcile_at: input::opt_string(raw, "reconcile_at", 40)
                .map_err(|e| e.in_field(&f("reconcile_at")))?,
            processor_uri: input::opt_string(raw, "processor_uri", 1024)
                .map_err(|e| e.in_field(&f("processor_uri")))?,
        })
    }

    /// Still able to move money: not yet answered, retrying, or pending at the processor.
    pub fn is_open(&self) -> bool {
        matches!(
            self.submit_status,
            SubmitStatus::Staged | SubmitStatus::Retrying
        ) || (self.submit_status == SubmitStatus::Done && self.status == Some(Status::Pending))
    }
}

/// A processor answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub outcome: Outcome,
    pub processor_uri: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

impl Answer {
    /// Reads `{outcome, processor_uri?, error_code?, error_message?}`; errors name `answer.<field>`. An answer that
    /// is not one of these (a broken processor) is refused, so it is recorded as the scheduler's failure.
    pub fn from_raw(raw: &Raw) -> Result<Answer> {
        let f = |name: &str| format!("answer.{name}");
        input::object(raw, "answer")?;
        let outcome =
            input::req_string(raw, "outcome", 32).map_err(|e| e.in_field(&f("outcome")))?;
        // Processor texts are stored as they come, cut to a length a row can hold.
        let text = |key: &str| match input::present(raw, key) {
            Some(Raw::String(s)) => Some(s.chars().take(500).collect::<String>()),
            Some(other) => Some(input::show(other)),
            None => None,
        };
        Ok(Answer {
            outcome: Outcome::parse(&outcome, &f("outcome"))?,
            processor_uri: input::opt_string(raw, "processor_uri", 1024)
                .map_err(|e| e.in_field(&f("processor_uri")))?,
            error_code: text("error_code"),
            error_message: text("error_message"),
        })
    }
}

crate::json_struct! {
    /// The lifecycle columns of a transaction after a step; written as a whole.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Changes {
        pub submit_status: SubmitStatus,
        pub status: Option<Status>,
        pub failure_count: i64,
        /// Retry time (retrying) or poll time (pending); `None` otherwise.
        pub next_attempt_at: Option<String>,
        pub processor_uri: Option<String>,
        pub unwanted: bool,
        pub reconcile_at: Option<String>,
    }
}

impl Changes {
    fn from(tx: &Tx) -> Changes {
        Changes {
            submit_status: tx.submit_status,
            status: tx.status,
            failure_count: tx.failure_count,
            next_attempt_at: tx.next_attempt_at.clone(),
            processor_uri: tx.processor_uri.clone(),
            unwanted: tx.unwanted,
            reconcile_at: tx.reconcile_at.clone(),
        }
    }
}

crate::json_struct! {
    /// A failed attempt, for the transaction's `failures` list.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Failure {
        pub error_code: Option<String>,
        pub error_message: Option<String>,
    }
}

crate::json_struct! {
    /// A movement the core asks for: it repays a success nobody wanted.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Compensation {
        pub transaction_type: Kind,
        pub amount: i64,
        pub reason: Reason,
    }
}

crate::json_struct! {
    /// The result of one processor answer.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Step {
        pub effect: Effect,
        /// `None` when the answer is ignored.
        pub changes: Option<Changes>,
        pub failure: Option<Failure>,
        pub compensation: Option<Compensation>,
    }
}

impl Step {
    fn ignored() -> Step {
        Step {
            effect: Effect::Ignored,
            changes: None,
            failure: None,
            compensation: None,
        }
    }
}

fn after(now: Instant, seconds: i64) -> Result<String> {
    Ok(time::format(
        time::add(now, chrono::TimeDelta::seconds(seconds)).map_err(|e| e.in_field("now"))?,
    ))
}

/// What repays a success of `kind`: a refund for a debit, a reversal for a credit; refunds and reversals are
/// never let go of, so their late successes need nothing.
pub fn compensation_kind(kind: Kind) -> Option<Kind> {
    match kind {
        Kind::Debit => Some(Kind::Refund),
        Kind::Credit => Some(Kind::Reversal),
        Kind::Refund | Kind::Reversal => None,
    }
}

/// The initial lifecycle of a new transaction staged at `now`: due for submission at once (the scheduler submits
/// it if the request that staged it does not live to).
pub fn staged(now: Instant) -> Changes {
    Changes {
        submit_status: SubmitStatus::Staged,
        status: None,
        failure_count: 0,
        next_attempt_at: Some(time::format(now)),
        processor_uri: None,
        unwanted: false,
        reconcile_at: None,
    }
}

/// The lifecycle of a payment the merchant received outside the processor, recorded at `now`: done and succeeded.
pub fn recorded() -> Changes {
    Changes {
        submit_status: SubmitStatus::Done,
        status: Some(Status::Succeeded),
        failure_count: 0,
        next_attempt_at: None,
        processor_uri: None,
        unwanted: false,
        reconcile_at: None,
    }
}

/// Applies one processor answer (of a submission, a poll or a lookup) to `tx` at `now`; the company allows
/// `max_attempts` submissions. See the module table.
pub fn apply(tx: &Tx, answer: &Answer, now: Instant, max_attempts: i64) -> Result<Step> {
    use SubmitStatus as S;
    if max_attempts < 1 {
        return Err(CoreError::invalid("max_attempts", "must be at least 1"));
    }
    let unanswered = matches!(tx.submit_status, S::Staged | S::Retrying);
    let pending = tx.submit_status == S::Done && tx.status == Some(Status::Pending);
    let mut changes = Changes::from(tx);
    if answer.processor_uri.is_some() {
        changes.processor_uri = answer.processor_uri.clone();
    }
    match answer.outcome {
        Outcome::Succeeded => {
            if tx.submit_status == S::Done && tx.status != Some(Status::Pending) {
                return Ok(Step::ignored());
            }
            changes.submit_status = S::Done;
            changes.status = Some(Status::Succeeded);
            changes.next_attempt_at = None;
            changes.reconcile_at = None;
            let unwanted = tx.unwanted || tx.submit_status == S::Canceled;
            changes.unwanted = unwanted;
            let compensation = match (unwanted, compensation_kind(tx.kind)) {
                (true, Some(kind)) => Some(Compensation {
                    transaction_type: kind,
                    amount: tx.amount,
                    reason: Reason::LateSuccess,
                }),
                _ => None,
            };
            let effect = match (&compensation, unwanted) {
                (Some(_), _) => Effect::RefundRequired,
                (None, true) => Effect::Recorded,
                (None, false) => Effect::Succeeded,
            };
            Ok(Step {
                effect,
                changes: Some(changes),
                failure: None,
                compensation,
            })
        }
        Outcome::Pending => {
            if !(unanswered || pending || matches!(tx.submit_status, S::Failed | S::Canceled)) {
                return Ok(Step::ignored());
            }
            let unwanted = tx.unwanted || tx.submit_status == S::Canceled;
            changes.submit_status = S::Done;
            changes.status = Some(Status::Pending);
            changes.unwanted = unwanted;
            changes.reconcile_at = None;
            changes.next_attempt_at = Some(after(now, PENDING_POLL_SECONDS)?);
            let effect = if pending || unwanted {
                Effect::Recorded
            } else {
                Effect::Pending
            };
            // A pending answer that says why it waits (Stripe: the buyer must authenticate) is listed with the
            // transaction's failures, once, when it starts waiting.
            let failure = (!pending && answer.error_code.is_some()).then(|| failure_of(answer));
            Ok(Step {
                effect,
                changes: Some(changes),
                failure,
                compensation: None,
            })
        }
        Outcome::Declined | Outcome::Error if pending => {
            if answer.outcome == Outcome::Error {
                // The processor could not say; it still holds the payment. Ask again later.
                changes.next_attempt_at = Some(after(now, PENDING_POLL_SECONDS)?);
                return Ok(Step {
                    effect: Effect::Recorded,
                    changes: Some(changes),
                    failure: None,
                    compensation: None,
                });
            }
            changes.status = Some(Status::Failed);
            changes.next_attempt_at = None;
            let effect = if tx.unwanted {
                Effect::Recorded
            } else {
                Effect::Failed
            };
            Ok(Step {
                effect,
                changes: Some(changes),
                failure: Some(failure_of(answer)),
                compensation: None,
            })
        }
        Outcome::Declined | Outcome::Error if unanswered => {
            let failure_count = tx
                .failure_count
                .checked_add(1)
                .ok_or_else(|| CoreError::invalid("failure_count", "overflows"))?;
            changes.failure_count = failure_count;
            let hard = answer.outcome == Outcome::Declined;
            if hard || failure_count >= max_attempts {
                changes.submit_status = S::Failed;
                changes.status = Some(Status::Failed);
                changes.next_attempt_at = None;
                // A last attempt that could not be answered (not a decline) leaves open whether an earlier one
                // whose answer was lost went through: the scheduler asks the processor later, as for a release.
                if !hard {
                    changes.reconcile_at = Some(after(now, RECONCILE_RETRY_SECONDS)?);
                }
                return Ok(Step {
                    effect: Effect::Failed,
                    changes: Some(changes),
                    failure: Some(failure_of(answer)),
                    compensation: None,
                });
            }
            changes.submit_status = S::Retrying;
            changes.next_attempt_at =
                Some(after(now, retry::backoff(failure_count).num_seconds())?);
            Ok(Step {
                effect: Effect::Recorded,
                changes: Some(changes),
                failure: Some(failure_of(answer)),
                compensation: None,
            })
        }
        // A failure for a transaction that is final or canceled changes nothing; "not found" says nothing moved.
        Outcome::Declined | Outcome::Error | Outcome::NotFound => Ok(Step::ignored()),
    }
}

fn failure_of(answer: &Answer) -> Failure {
    Failure {
        error_code: answer.error_code.clone(),
        error_message: answer.error_message.clone(),
    }
}

/// Whether letting go of `tx` must first ask the processor if an earlier attempt charged: a staged transaction may
/// have been submitted by a host that died before recording the answer, a retrying one may have had its answer lost,
/// and a failed one awaiting reconciliation ended on an attempt without an answer.
pub fn needs_lookup(tx: &Tx) -> bool {
    matches!(
        tx.submit_status,
        SubmitStatus::Staged | SubmitStatus::Retrying
    ) || (tx.submit_status == SubmitStatus::Failed && tx.reconcile_at.is_some())
}

/// The owner lets go of `tx` at `now`. `certain`: the processor confirmed (lookup) that nothing was charged, or
/// the transaction was never sent. Returns `None` when `tx` is not open (nothing to let go of).
pub fn release(tx: &Tx, certain: bool, now: Instant) -> Option<Changes> {
    let mut changes = Changes::from(tx);
    changes.unwanted = true;
    match (tx.submit_status, tx.status) {
        (SubmitStatus::Staged | SubmitStatus::Retrying, _) => {
            changes.submit_status = SubmitStatus::Canceled;
            changes.next_attempt_at = None;
            changes.reconcile_at = if certain {
                None
            } else {
                Some(time::format(now))
            };
            Some(changes)
        }
        // Still with the processor: it is polled on as before, and repaid if it succeeds.
        (SubmitStatus::Done, Some(Status::Pending)) => Some(changes),
        // Failed on an attempt without an answer: reconciled as before, and repaid if it turns out to have moved
        // money the owner no longer wants; a lookup that found nothing (`certain`) closes the question.
        (SubmitStatus::Failed, _) if tx.reconcile_at.is_some() => {
            if certain {
                changes.reconcile_at = None;
            }
            Some(changes)
        }
        _ => None,
    }
}

/// The answer to a reconciliation lookup of a released transaction: found → as [`apply`] (a success is repaid);
/// not found → certain nothing moved; the lookup failed → ask again later.
pub fn reconciled(tx: &Tx, answer: &Answer, now: Instant, max_attempts: i64) -> Result<Step> {
    let mut changes = Changes::from(tx);
    match answer.outcome {
        Outcome::NotFound | Outcome::Declined => {
            changes.reconcile_at = None;
            Ok(Step {
                effect: Effect::Recorded,
                changes: Some(changes),
                failure: None,
                compensation: None,
            })
        }
        Outcome::Error => {
            changes.reconcile_at = Some(after(now, RECONCILE_RETRY_SECONDS)?);
            Ok(Step {
                effect: Effect::Recorded,
                changes: Some(changes),
                failure: None,
                compensation: None,
            })
        }
        Outcome::Succeeded | Outcome::Pending => apply(tx, answer, now, max_attempts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Instant {
        time::parse("2024-03-10T10:00:00Z", "now").unwrap()
    }

    fn tx(submit_status: SubmitStatus, status: Option<Status>) -> Tx {
        Tx {
            kind: Kind::Debit,
            amount: 900,
            submit_status,
            status,
            failure_count: 0,
            unwanted: false,
            next_attempt_at: None,
            reconcile_at: None,
            processor_uri: None,
        }
    }

    fn answer(outcome: Outcome) -> Answer {
        Answer {
            outcome,
            processor_uri: Some("/debits/1".into()),
            error_code: Some("e".into()),
            error_message: Some("m".into()),
        }
    }

    #[test]
    fn a_last_attempt_without_an_answer_is_reconciled_later_a_decline_is_not() {
        let mut t = tx(SubmitStatus::Retrying, None);
        t.failure_count = 9;
        let s = apply(&t, &answer(Outcome::Error), now(), 10).unwrap();
        let c = s.changes.unwrap();
        assert_eq!(
            (s.effect, c.submit_status),
            (Effect::Failed, SubmitStatus::Failed)
        );
        assert_eq!(
            c.reconcile_at.as_deref(),
            Some("2024-03-10T11:00:00.000000+00:00")
        );
        let d = apply(&t, &answer(Outcome::Declined), now(), 10)
            .unwrap()
            .changes
            .unwrap();
        assert_eq!(
            (d.submit_status, d.reconcile_at),
            (SubmitStatus::Failed, None)
        );
        // What the lookup then finds: a charge after all is recorded; nothing found settles the question.
        let mut failed = t.clone();
        failed.submit_status = SubmitStatus::Failed;
        failed.status = Some(Status::Failed);
        failed.failure_count = 10;
        failed.reconcile_at = c.reconcile_at.clone();
        let found = reconciled(&failed, &answer(Outcome::Succeeded), now(), 10).unwrap();
        assert_eq!(found.effect, Effect::Succeeded);
        assert_eq!(found.changes.unwrap().reconcile_at, None);
        let none = reconciled(&failed, &answer(Outcome::NotFound), now(), 10).unwrap();
        assert_eq!(none.changes.unwrap().reconcile_at, None);
    }

    #[test]
    fn success_settles_once() {
        let s = apply(
            &tx(SubmitStatus::Staged, None),
            &answer(Outcome::Succeeded),
            now(),
            10,
        )
        .unwrap();
        assert_eq!(s.effect, Effect::Succeeded);
        let c = s.changes.unwrap();
        assert_eq!(
            (c.submit_status, c.status, c.next_attempt_at),
            (SubmitStatus::Done, Some(Status::Succeeded), None)
        );
        assert_eq!(c.processor_uri.as_deref(), Some("/debits/1"));
        // The same answer again is ignored, never an error.
        let done = tx(SubmitStatus::Done, Some(Status::Succeeded));
        for o in [
            Outcome::Succeeded,
            Outcome::Pending,
            Outcome::Declined,
            Outcome::Error,
            Outcome::NotFound,
        ] {
            assert_eq!(
                apply(&done, &answer(o), now(), 10).unwrap(),
                Step::ignored(),
                "{o}"
            );
        }
    }

    #[test]
    fn transient_errors_retry_with_backoff_until_the_last_attempt() {
        let mut t = tx(SubmitStatus::Staged, None);
        let mut waits = vec![];
        loop {
            let s = apply(&t, &answer(Outcome::Error), now(), 4).unwrap();
            assert!(s.failure.is_some());
            let c = s.changes.unwrap();
            t.failure_count = c.failure_count;
            t.submit_status = c.submit_status;
            if c.submit_status == SubmitStatus::Failed {
                assert_eq!(s.effect, Effect::Failed);
                assert_eq!(c.status, Some(Status::Failed));
                break;
            }
            assert_eq!(s.effect, Effect::Recorded);
            waits.push(c.next_attempt_at.unwrap());
        }
        assert_eq!(t.failure_count, 4);
        assert_eq!(
            waits,
            [
                "2024-03-10T11:00:00.000000+00:00",
                "2024-03-10T16:00:00.000000+00:00",
                "2024-03-11T10:00:00.000000+00:00"
            ]
        );
    }

    #[test]
    fn a_hard_decline_is_final_at_once() {
        let s = apply(
            &tx(SubmitStatus::Retrying, None),
            &answer(Outcome::Declined),
            now(),
            10,
        )
        .unwrap();
        assert_eq!(s.effect, Effect::Failed);
        assert_eq!(s.changes.unwrap().submit_status, SubmitStatus::Failed);
    }

    #[test]
    fn pending_is_polled_until_it_ends() {
        let s = apply(
            &tx(SubmitStatus::Staged, None),
            &answer(Outcome::Pending),
            now(),
            10,
        )
        .unwrap();
        assert_eq!(s.effect, Effect::Pending);
        let c = s.changes.unwrap();
        assert_eq!(
            c.next_attempt_at.as_deref(),
            Some("2024-03-10T11:00:00.000000+00:00")
        );
        let p = tx(SubmitStatus::Done, Some(Status::Pending));
        let again = apply(&p, &answer(Outcome::Pending), now(), 10).unwrap();
        assert_eq!(again.effect, Effect::Recorded);
        let err = apply(&p, &answer(Outcome::Error), now(), 10).unwrap();
        assert_eq!(
            (err.effect, err.failure.is_none()),
            (Effect::Recorded, true)
        );
        assert!(err.changes.unwrap().next_attempt_at.is_some());
        let ok = apply(&p, &answer(Outcome::Succeeded), now(), 10).unwrap();
        assert_eq!(ok.effect, Effect::Succeeded);
        let no = apply(&p, &answer(Outcome::Declined), now(), 10).unwrap();
        assert_eq!(no.effect, Effect::Failed);
        let c = no.changes.unwrap();
        assert_eq!(
            (c.submit_status, c.status),
            (SubmitStatus::Done, Some(Status::Failed))
        );
    }

    #[test]
    fn a_success_for_a_released_transaction_must_be_repaid() {
        let canceled = tx(SubmitStatus::Canceled, None);
        let s = apply(&canceled, &answer(Outcome::Succeeded), now(), 10).unwrap();
        assert_eq!(s.effect, Effect::RefundRequired);
        assert_eq!(
            s.compensation,
            Some(Compensation {
                transaction_type: Kind::Refund,
                amount: 900,
                reason: Reason::LateSuccess
            })
        );
        let c = s.changes.unwrap();
        assert_eq!(
            (c.submit_status, c.status, c.unwanted),
            (SubmitStatus::Done, Some(Status::Succeeded), true)
        );
        // Repaid once: the repeated answer is ignored.
        let after = Tx {
            submit_status: c.submit_status,
            status: c.status,
            unwanted: true,
            ..canceled.clone()
        };
        assert_eq!(
            apply(&after, &answer(Outcome::Succeeded), now(), 10).unwrap(),
            Step::ignored()
        );
        // A pending payment released by its owner, then succeeding: repaid too; a credit is reversed.
        let mut pending = tx(SubmitStatus::Done, Some(Status::Pending));
        pending.unwanted = true;
        pending.kind = Kind::Credit;
        let s = apply(&pending, &answer(Outcome::Succeeded), now(), 10).unwrap();
        assert_eq!(s.compensation.unwrap().transaction_type, Kind::Reversal);
        // Failures of a canceled transaction change nothing.
        for o in [Outcome::Declined, Outcome::Error, Outcome::NotFound] {
            assert_eq!(
                apply(&canceled, &answer(o), now(), 10).unwrap(),
                Step::ignored()
            );
        }
    }

    #[test]
    fn a_charge_found_after_the_last_attempt_failed_counts() {
        let mut failed = tx(SubmitStatus::Failed, Some(Status::Failed));
        failed.failure_count = 10;
        let s = apply(&failed, &answer(Outcome::Succeeded), now(), 10).unwrap();
        assert_eq!(s.effect, Effect::Succeeded);
    }

    #[test]
    fn release_cancels_what_has_not_reached_the_processor() {
        let c = release(&tx(SubmitStatus::Retrying, None), true, now()).unwrap();
        assert_eq!(
            (c.submit_status, c.unwanted, c.reconcile_at),
            (SubmitStatus::Canceled, true, None)
        );
        let c = release(&tx(SubmitStatus::Staged, None), false, now()).unwrap();
        assert_eq!(
            c.reconcile_at.as_deref(),
            Some("2024-03-10T10:00:00.000000+00:00")
        );
        let mut p = tx(SubmitStatus::Done, Some(Status::Pending));
        p.next_attempt_at = Some("2024-03-10T11:00:00.000000+00:00".into());
        let c = release(&p, true, now()).unwrap();
        assert_eq!((c.submit_status, c.unwanted), (SubmitStatus::Done, true));
        assert_eq!(
            c.next_attempt_at, p.next_attempt_at,
            "the poll goes on as planned"
        );
        assert_eq!(
            release(
                &tx(SubmitStatus::Done, Some(Status::Succeeded)),
                true,
                now()
            ),
            None
        );
        assert_eq!(
            release(&tx(SubmitStatus::Failed, Some(Status::Failed)), true, now()),
            None
        );
        assert!(needs_lookup(&tx(SubmitStatus::Staged, None)));
        assert!(!needs_lookup(&tx(
            SubmitStatus::Done,
            Some(Status::Pending)
        )));
    }

    /// A transaction that failed on an attempt without an answer may still have moved money: letting go of it asks
    /// the processor first, keeps it for reconciliation unless the processor said nothing moved, and a success found
    /// later is repaid, as for a canceled one.
    #[test]
    fn letting_go_of_a_failure_awaiting_reconciliation() {
        let mut unanswered = tx(SubmitStatus::Failed, None);
        unanswered.reconcile_at = Some("2024-03-10T11:00:00.000000+00:00".into());
        assert!(needs_lookup(&unanswered));
        let kept = release(&unanswered, false, now()).unwrap();
        assert!(kept.unwanted && kept.reconcile_at.is_some());
        let closed = release(&unanswered, true, now()).unwrap();
        assert!(closed.unwanted && closed.reconcile_at.is_none());
        let released = Tx {
            unwanted: true,
            ..unanswered
        };
        let found = reconciled(&released, &answer(Outcome::Succeeded), now(), 10).unwrap();
        assert_eq!(found.effect, Effect::RefundRequired);
        assert_eq!(found.compensation.unwrap().reason, Reason::LateSuccess);
    }

    #[test]
    fn reconciliation() {
        let mut t = tx(SubmitStatus::Canceled, None);
        t.unwanted = true;
        t.reconcile_at = Some("2024-03-10T10:00:00.000000+00:00".into());
        let s = reconciled(&t, &answer(Outcome::NotFound), now(), 10).unwrap();
        assert_eq!(
            (s.effect, s.changes.unwrap().reconcile_at),
            (Effect::Recorded, None)
        );
        let s = reconciled(&t, &answer(Outcome::Error), now(), 10).unwrap();
        assert_eq!(
            s.changes.unwrap().reconcile_at.as_deref(),
            Some("2024-03-10T11:00:00.000000+00:00")
        );
        let s = reconciled(&t, &answer(Outcome::Succeeded), now(), 10).unwrap();
        assert_eq!(s.effect, Effect::RefundRequired);
        assert_eq!(s.changes.unwrap().reconcile_at, None);
    }

    #[test]
    fn staged_is_due_at_once() {
        let c = staged(now());
        assert_eq!(
            (c.submit_status, c.status, c.failure_count),
            (SubmitStatus::Staged, None, 0)
        );
        assert_eq!(
            c.next_attempt_at.as_deref(),
            Some("2024-03-10T10:00:00.000000+00:00")
        );
    }

    #[test]
    fn open_transactions() {
        assert!(tx(SubmitStatus::Staged, None).is_open());
        assert!(tx(SubmitStatus::Retrying, None).is_open());
        assert!(tx(SubmitStatus::Done, Some(Status::Pending)).is_open());
        assert!(!tx(SubmitStatus::Done, Some(Status::Succeeded)).is_open());
        assert!(!tx(SubmitStatus::Canceled, None).is_open());
    }

    #[test]
    fn rows_and_answers_from_raw() {
        let row = Raw::object([
            ("transaction_type", Raw::from("refund")),
            ("amount", Raw::from(5i64)),
            ("submit_status", Raw::from("done")),
            ("status", Raw::from("pending")),
            ("failure_count", Raw::from(2i64)),
            ("unwanted", Raw::from(1i64)),
            ("reconcile_at", Raw::Null),
            ("processor_uri", Raw::from("/r/1")),
        ]);
        let t = Tx::from_raw(&row).unwrap();
        assert_eq!(
            (t.kind, t.status, t.unwanted, t.reconcile_at),
            (Kind::Refund, Some(Status::Pending), true, None)
        );
        let bad = Raw::object([
            ("transaction_type", Raw::from("debit")),
            ("amount", Raw::from(5i64)),
            ("submit_status", Raw::from("Done")),
        ]);
        assert_eq!(
            Tx::from_raw(&bad).unwrap_err().field().as_deref(),
            Some("transaction.submit_status")
        );
        let e = Answer::from_raw(&Raw::object([("outcome", Raw::from("weird"))])).unwrap_err();
        assert_eq!(e.field().as_deref(), Some("answer.outcome"));
        let a = Answer::from_raw(&Raw::object([
            ("outcome", Raw::from("error")),
            ("error_code", Raw::from(502i64)),
        ]))
        .unwrap();
        assert_eq!(a.error_code.as_deref(), Some("502"));
    }

    #[test]
    fn property_every_state_and_outcome_is_decided_without_error() {
        let statuses = [
            None,
            Some(Status::Pending),
            Some(Status::Succeeded),
            Some(Status::Failed),
        ];
        for &s in SubmitStatus::ALL {
            for &st in &statuses {
                for &unwanted in &[false, true] {
                    for &o in Outcome::ALL {
                        let mut t = tx(s, st);
                        t.unwanted = unwanted;
                        let step = apply(&t, &answer(o), now(), 10).unwrap();
                        // A compensation is asked for exactly when an unwanted debit first succeeds.
                        let wanted_repay = o == Outcome::Succeeded
                            && (unwanted || s == SubmitStatus::Canceled)
                            && !(s == SubmitStatus::Done && st != Some(Status::Pending));
                        assert_eq!(
                            step.compensation.is_some(),
                            wanted_repay,
                            "{s} {st:?} {unwanted} {o}"
                        );
                        // Nothing ever leaves a success: the processor's truth is kept.
                        if s == SubmitStatus::Done && st == Some(Status::Succeeded) {
                            assert_eq!(step, Step::ignored());
                        }
                    }
                }
            }
        }
    }
}
