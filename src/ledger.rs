//! The ledger: one fold over an owner's money movements, and the counting rules every limit is built on.
//!
//! Each transaction is a movement `{kind, amount, state}`, its state read from the lifecycle ([`state_of`]):
//!
//! | lifecycle | state |
//! |---|---|
//! | staged | planned |
//! | retrying, done/pending, canceled or failed awaiting reconciliation | in flight (money may move) |
//! | done/succeeded | settled |
//! | failed, done/failed (certain) | failed |
//! | canceled (certain) | canceled |
//!
//! The rules are conservative in the direction that protects money: what is going **out** (refunds, credits,
//! reversals) counts as soon as it is planned, because it may already have moved; what comes **in** (debits)
//! counts only once settled.
//!
//! - refunded = refunds planned + in flight + settled; refundable = debits settled − refunded
//! - held (escrow) = debits settled − refunded − credits going out + reversals settled
//! - reversible = credits settled − reversals planned + in flight + settled
//! - credited = credits going out − reversals settled, so held = (debits settled − refunded) − credited
//!
//! Refund limits use it now; escrow balances, credit used and customer balances use the same fold, and stored
//! running totals are checked against it.

use crate::error::Result;
use crate::money;
use crate::transaction::{Kind, Status, SubmitStatus, Tx};

crate::names! {
    /// Where a movement's money is.
    pub enum State as "MovementState" {
        Planned = "planned",
        InFlight = "in_flight",
        Settled = "settled",
        Failed = "failed",
        Canceled = "canceled",
    }
}

/// One money movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Movement {
    pub kind: Kind,
    pub amount: i64,
    pub state: State,
}

/// The state of a transaction's money, from its lifecycle (see the module table).
pub fn state_of(tx: &Tx) -> State {
    match (tx.submit_status, tx.status) {
        (SubmitStatus::Staged, _) => State::Planned,
        (SubmitStatus::Retrying, _) => State::InFlight,
        (SubmitStatus::Done, Some(Status::Succeeded)) => State::Settled,
        (SubmitStatus::Done, Some(Status::Failed)) => State::Failed,
        (SubmitStatus::Done, _) => State::InFlight,
        // A last attempt without an answer fails the transaction but keeps `reconcile_at`: an earlier attempt whose
        // answer was lost may have moved the money, and until the processor is asked it counts as in flight (an
        // outgoing refund, credit or reversal stays counted, so it can never be asked for a second time meanwhile).
        (SubmitStatus::Failed | SubmitStatus::Canceled, _) if tx.reconcile_at.is_some() => {
            State::InFlight
        }
        (SubmitStatus::Failed, _) => State::Failed,
        (SubmitStatus::Canceled, _) => State::Canceled,
    }
}

impl From<&Tx> for Movement {
    fn from(tx: &Tx) -> Movement {
        Movement {
            kind: tx.kind,
            amount: tx.amount,
            state: state_of(tx),
        }
    }
}

crate::json_struct! {
    /// Amounts of one kind by state.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Sums {
        pub planned: i64,
        pub in_flight: i64,
        pub settled: i64,
    }
}

impl Sums {
    fn add(&mut self, state: State, amount: i64) -> Result<()> {
        let slot = match state {
            State::Planned => &mut self.planned,
            State::InFlight => &mut self.in_flight,
            State::Settled => &mut self.settled,
            State::Failed | State::Canceled => return Ok(()),
        };
        *slot = money::add(*slot, amount)?;
        Ok(())
    }

    /// Gone or possibly going: planned + in flight + settled.
    pub fn outgoing(&self) -> Result<i64> {
        money::sum([self.planned, self.in_flight, self.settled])
    }
}

crate::json_struct! {
    /// The fold of an owner's movements.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Ledger {
        pub debit: Sums,
        pub credit: Sums,
        pub refund: Sums,
        pub reversal: Sums,
    }
}

impl Ledger {
    /// Folds movements (checked arithmetic: a sum beyond ±(2^53−1) is an error, never a wrong number).
    pub fn fold<'a>(movements: impl IntoIterator<Item = &'a Movement>) -> Result<Ledger> {
        let mut l = Ledger::default();
        for m in movements {
            let sums = match m.kind {
                Kind::Debit => &mut l.debit,
                Kind::Credit => &mut l.credit,
                Kind::Refund => &mut l.refund,
                Kind::Reversal => &mut l.reversal,
            };
            sums.add(m.state, m.amount)?;
        }
        Ok(l)
    }

    /// Money that came in and stays in: debits settled.
    pub fn captured(&self) -> i64 {
        self.debit.settled
    }

    /// Refunds that count against a refund limit.
    pub fn refunded(&self) -> Result<i64> {
        self.refund.outgoing()
    }

    /// What may still be refunded.
    pub fn refundable(&self) -> Result<i64> {
        money::sub(self.debit.settled, self.refunded()?)
    }

    /// Funds held (escrow): in, minus everything going back out, plus reversals that came back.
    pub fn held(&self) -> Result<i64> {
        let out = money::add(self.refunded()?, self.credit.outgoing()?)?;
        money::add(money::sub(self.debit.settled, out)?, self.reversal.settled)
    }

    /// Money brought in, net of refunds (an order's `amount`): what may still be refunded.
    pub fn amount(&self) -> Result<i64> {
        self.refundable()
    }

    /// Money paid out, net of reversals that came back (an order's `amount_credited`).
    pub fn credited(&self) -> Result<i64> {
        money::sub(self.credit.outgoing()?, self.reversal.settled)
    }

    /// Credits that may still be reversed.
    pub fn reversible(&self) -> Result<i64> {
        money::sub(self.credit.settled, self.reversal.outgoing()?)
    }
}

crate::json_struct! {
    /// The summary the worker shows and checks: every figure of the fold.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Summary {
        pub sums: Ledger,
        pub captured: i64,
        pub refunded: i64,
        pub refundable: i64,
        pub held: i64,
        pub reversible: i64,
    }
}

/// All figures of `movements`.
pub fn summary(movements: &[Movement]) -> Result<Summary> {
    let l = Ledger::fold(movements)?;
    Ok(Summary {
        captured: l.captured(),
        refunded: l.refunded()?,
        refundable: l.refundable()?,
        held: l.held()?,
        reversible: l.reversible()?,
        sums: l,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;

    fn m(kind: Kind, amount: i64, state: State) -> Movement {
        Movement {
            kind,
            amount,
            state,
        }
    }

    #[test]
    fn state_from_lifecycle() {
        let tx = |s, st, reconcile: bool| Tx {
            kind: Kind::Debit,
            amount: 1,
            submit_status: s,
            status: st,
            failure_count: 0,
            unwanted: false,
            next_attempt_at: None,
            reconcile_at: reconcile.then(|| "2024-01-01T00:00:00.000000+00:00".to_string()),
            processor_uri: None,
        };
        use SubmitStatus as S;
        assert_eq!(state_of(&tx(S::Staged, None, false)), State::Planned);
        assert_eq!(state_of(&tx(S::Retrying, None, false)), State::InFlight);
        assert_eq!(
            state_of(&tx(S::Done, Some(Status::Pending), false)),
            State::InFlight
        );
        assert_eq!(
            state_of(&tx(S::Done, Some(Status::Succeeded), false)),
            State::Settled
        );
        assert_eq!(
            state_of(&tx(S::Done, Some(Status::Failed), false)),
            State::Failed
        );
        assert_eq!(
            state_of(&tx(S::Failed, Some(Status::Failed), false)),
            State::Failed
        );
        assert_eq!(state_of(&tx(S::Canceled, None, false)), State::Canceled);
        assert_eq!(
            state_of(&tx(S::Canceled, None, true)),
            State::InFlight,
            "uncertain until reconciled"
        );
        // A last attempt that got no answer: failed, but an earlier attempt may have moved the money.
        assert_eq!(
            state_of(&tx(S::Failed, None, true)),
            State::InFlight,
            "a failure awaiting reconciliation is uncertain too"
        );
    }

    #[test]
    fn refunds_count_as_soon_as_planned_debits_only_when_settled() {
        let l = Ledger::fold(&[
            m(Kind::Debit, 1000, State::Settled),
            m(Kind::Debit, 500, State::InFlight),
            m(Kind::Refund, 100, State::Planned),
            m(Kind::Refund, 200, State::InFlight),
            m(Kind::Refund, 300, State::Settled),
            m(Kind::Refund, 400, State::Failed),
            m(Kind::Refund, 50, State::Canceled),
        ])
        .unwrap();
        assert_eq!(l.captured(), 1000);
        assert_eq!(l.refunded().unwrap(), 600);
        assert_eq!(l.refundable().unwrap(), 400);
    }

    #[test]
    fn escrow_held_and_reversible() {
        let l = Ledger::fold(&[
            m(Kind::Debit, 10_000, State::Settled),
            m(Kind::Refund, 1_000, State::Settled),
            m(Kind::Credit, 6_000, State::Settled),
            m(Kind::Credit, 1_000, State::InFlight),
            m(Kind::Reversal, 2_000, State::Settled),
            m(Kind::Reversal, 500, State::Planned),
        ])
        .unwrap();
        // 10000 − 1000 − (6000 + 1000) + 2000
        assert_eq!(l.held().unwrap(), 4_000);
        // 6000 − (2000 + 500)
        assert_eq!(l.reversible().unwrap(), 3_500);
    }

    #[test]
    fn overflow_is_an_error_not_a_wrong_number() {
        let big = crate::money::MAX_AMOUNT;
        assert!(Ledger::fold(&[
            m(Kind::Debit, big, State::Settled),
            m(Kind::Debit, 1, State::Settled)
        ])
        .is_err());
    }

    #[test]
    fn property_fold_equals_running_totals() {
        // A running total kept movement by movement (as stored totals are) always equals the fold.
        let kinds = [Kind::Debit, Kind::Credit, Kind::Refund, Kind::Reversal];
        let states = State::ALL;
        let mut rng = XorShift::new(11);
        for _ in 0..200 {
            let n = (rng.next() % 30) as usize;
            let ms: Vec<Movement> = (0..n)
                .map(|_| {
                    m(
                        kinds[(rng.next() % 4) as usize],
                        (rng.next() % 10_000) as i64,
                        states[(rng.next() % 5) as usize],
                    )
                })
                .collect();
            let mut held: i128 = 0;
            for x in &ms {
                let counts_in = x.kind == Kind::Debit && x.state == State::Settled;
                let counts_back = x.kind == Kind::Reversal && x.state == State::Settled;
                let goes_out = matches!(x.kind, Kind::Refund | Kind::Credit)
                    && matches!(x.state, State::Planned | State::InFlight | State::Settled);
                if counts_in || counts_back {
                    held += i128::from(x.amount);
                }
                if goes_out {
                    held -= i128::from(x.amount);
                }
            }
            assert_eq!(i128::from(Ledger::fold(&ms).unwrap().held().unwrap()), held);
            let s = summary(&ms).unwrap();
            assert_eq!(s.refundable, s.captured - s.refunded);
        }
    }
}
