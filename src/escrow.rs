//! Escrow orders: buyer funds held for exactly one merchant, paid out never beyond what is held.
//!
//! An order's money is the [`crate::ledger`] fold of its transactions:
//!
//! - `amount` = debits settled − refunds not failed (brought in, net of refunds)
//! - `amount_credited` = credits not failed − reversals settled (paid out, net of reversals)
//! - `amount_escrowed` = `amount` − `amount_credited` ≥ 0 (held now)
//!
//! Money going out counts from the moment it is planned: a credit or refund lowers the escrow when it is created
//! and gives it back only if it fails, so two requests can never both spend the same funds. Money coming in counts
//! once settled: a pending or retrying debit holds nothing yet.
//!
//! The worker keeps the three figures as stored columns, updated by [`delta`] in the same transaction as each
//! movement's change; [`balances`] recomputes them from the movements, and tests hold the two equal.
//!
//! Payouts with a fee: the fee is `amount × fee_rate` rounded once, half to even, to a whole minor unit of the
//! order's currency (or a given `fee_amount`); the marketplace's credit is the fee and the merchant's credit the
//! rest, so the two always sum exactly to the payout.

use rust_decimal::Decimal;

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::ledger::{state_of, Ledger, Movement, State};
use crate::money::{self, MAX_AMOUNT};
use crate::transaction::{Kind, Tx};

crate::names! {
    /// Who a credit from an order pays: nobody else can be paid from it.
    pub enum Destination as "CreditDestination" {
        /// The order's merchant.
        Merchant = "merchant",
        /// The marketplace (the company itself): its fee.
        Marketplace = "marketplace",
    }
}

crate::json_struct! {
    /// A validated order creation.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct OrderInput {
        pub merchant_guid: String,
        pub description: Option<String>,
        pub delivery_address: Option<String>,
        pub currency: &'static str,
    }
}

/// Validates an order; `merchant_in_path` is the merchant of `POST /v1/customers/<guid>/orders`.
pub fn validate_order(raw: &Raw, merchant_in_path: Option<&str>) -> Result<OrderInput> {
    input::object(raw, "input")?;
    let merchant_guid = match merchant_in_path {
        Some(guid) => guid.to_string(),
        None => input::req_string(raw, "merchant_guid", 64)?,
    };
    let currency = match input::opt_string(raw, "currency", 3)? {
        Some(code) => money::currency(&code)?.code,
        None => "USD",
    };
    Ok(OrderInput {
        merchant_guid,
        description: input::opt_string(raw, "description", 255)?,
        delivery_address: input::opt_string(raw, "delivery_address", 500)?,
        currency,
    })
}

crate::json_struct! {
    /// A validated order update: the fields given (absent ones stay as they are).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct OrderUpdate {
        pub description: Option<String>,
        pub delivery_address: Option<String>,
    }
}

/// Validates `PUT /v1/orders/<guid>`: `description` (≤ 255) and `delivery_address` (≤ 500).
pub fn validate_order_update(raw: &Raw) -> Result<OrderUpdate> {
    input::object(raw, "input")?;
    Ok(OrderUpdate {
        description: input::opt_string(raw, "description", 255)?,
        delivery_address: input::opt_string(raw, "delivery_address", 500)?,
    })
}

crate::json_struct! {
    /// An order's money.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Balances {
        pub amount: i64,
        pub amount_escrowed: i64,
        pub amount_credited: i64,
    }
}

/// The balances of an order's movements (the fold; see the module docs).
pub fn balances<'a>(movements: impl IntoIterator<Item = &'a Movement>) -> Result<Balances> {
    let l = Ledger::fold(movements)?;
    Ok(Balances {
        amount: l.amount()?,
        amount_escrowed: l.held()?,
        amount_credited: l.credited()?,
    })
}

/// How one movement's change moves the balances: `before` → `after` (`None` before it exists). Adding the deltas
/// of every change to stored columns keeps them equal to [`balances`] of the movements.
pub fn delta(before: Option<&Movement>, after: &Movement) -> Result<Balances> {
    let was = balances(before)?;
    let is = balances([after])?;
    Ok(Balances {
        amount: money::sub(is.amount, was.amount)?,
        amount_escrowed: money::sub(is.amount_escrowed, was.amount_escrowed)?,
        amount_credited: money::sub(is.amount_credited, was.amount_credited)?,
    })
}

/// `stored + delta`, refusing a result that breaks the escrow rule (a bug, never a state to store).
pub fn add(stored: &Balances, d: &Balances) -> Result<Balances> {
    let b = Balances {
        amount: money::add(stored.amount, d.amount)?,
        amount_escrowed: money::add(stored.amount_escrowed, d.amount_escrowed)?,
        amount_credited: money::add(stored.amount_credited, d.amount_credited)?,
    };
    if b.amount_escrowed < 0 || b.amount_escrowed != b.amount - b.amount_credited {
        return Err(CoreError::Internal {
            reason: format!("escrow rule broken: {b:?}"),
        });
    }
    Ok(b)
}

fn positive_amount(raw: &Raw, key: &str) -> Result<Option<i64>> {
    input::opt_amount(raw, key, 1)
}

crate::json_struct! {
    /// A debit into an order, as the worker stages it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct DebitPlan {
        pub transaction_type: Kind,
        pub customer_guid: String,
        pub funding_instrument_uri: String,
        pub amount: i64,
        pub description: Option<String>,
        pub appears_on_statement_as: Option<String>,
    }
}

/// Validates a debit into an order of `merchant_guid`: the buyer is any customer but the merchant.
pub fn plan_debit(
    raw: &Raw,
    merchant_guid: &str,
    order_description: Option<&str>,
    coming_in: i64,
) -> Result<DebitPlan> {
    input::object(raw, "input")?;
    let customer_guid = input::req_string(raw, "customer_guid", 64)?;
    if customer_guid == merchant_guid {
        return Err(CoreError::invalid(
            "customer_guid",
            "must be a buyer, not the order's merchant",
        ));
    }
    let amount = positive_amount(raw, "amount")?.ok_or_else(|| CoreError::missing("amount"))?;
    // Every debit that may still come in (`coming_in`: planned, in flight, settled) must fit the order's totals when
    // it succeeds; else the processor would take money whose success could never be recorded.
    if i128::from(coming_in) + i128::from(amount) > i128::from(MAX_AMOUNT) {
        return Err(CoreError::AmountOutOfRange {
            field: Some("amount".into()),
            reason: format!(
                "{amount} would take the order's debits beyond 2^53−1 ({coming_in} already in or coming in)"
            ),
        });
    }
    Ok(DebitPlan {
        transaction_type: Kind::Debit,
        customer_guid,
        funding_instrument_uri: input::req_string(raw, "funding_instrument_uri", 255)?,
        amount,
        description: input::opt_string(raw, "description", 255)?
            .or_else(|| order_description.map(str::to_string)),
        appears_on_statement_as: input::statement_descriptor(raw, "appears_on_statement_as")?,
    })
}

crate::json_struct! {
    /// A credit out of an order, as the worker stages it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CreditPlan {
        pub transaction_type: Kind,
        pub destination: Destination,
        pub amount: i64,
        pub funding_instrument_uri: Option<String>,
        pub description: Option<String>,
    }
}

/// Whether `requested` may leave an order holding `escrowed`: the escrow rule of [`spend`], as a yes or no (bulk
/// checks: the dashboard's and the benchmark's).
pub fn may_spend(requested: i64, escrowed: i64) -> bool {
    spend(requested, escrowed).is_ok()
}

fn spend(requested: i64, escrowed: i64) -> Result<()> {
    if requested > escrowed {
        return Err(CoreError::InsufficientFunds {
            requested,
            available: escrowed.max(0),
        });
    }
    Ok(())
}

/// Validates a credit `{amount, destination?, funding_instrument_uri?, description?}` against what is escrowed.
pub fn plan_credit(raw: &Raw, escrowed: i64) -> Result<CreditPlan> {
    input::object(raw, "input")?;
    let amount = positive_amount(raw, "amount")?.ok_or_else(|| CoreError::missing("amount"))?;
    let destination = match input::opt_string(raw, "destination", 32)? {
        Some(d) => Destination::parse(&d, "destination")?,
        None => Destination::Merchant,
    };
    let plan = CreditPlan {
        transaction_type: Kind::Credit,
        destination,
        amount,
        funding_instrument_uri: input::opt_string(raw, "funding_instrument_uri", 255)?,
        description: input::opt_string(raw, "description", 255)?,
    };
    spend(amount, escrowed)?;
    Ok(plan)
}

/// Splits a payout of `amount` into the marketplace's fee and the merchant's rest; they sum exactly to `amount`.
/// A zero part is left out.
pub fn split_fee(amount: i64, fee: Fee) -> Result<(i64, i64)> {
    let fee = match fee {
        Fee::Rate(rate) => money::apply_rate(amount, rate)?,
        Fee::Amount(fee) => fee,
    };
    if fee < 0 || fee > amount {
        return Err(CoreError::invalid(
            "fee_amount",
            format!("must be from 0 to the payout amount {amount}"),
        ));
    }
    Ok((fee, amount - fee))
}

/// A payout's fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fee {
    /// A share of the payout, 0..=1.
    Rate(Decimal),
    /// A fixed amount in minor units.
    Amount(i64),
}

/// Validates a payout `{amount?, fee_rate? | fee_amount?, funding_instrument_uri?, fee_funding_instrument_uri?,
/// description?}` against what is escrowed: the marketplace credit (the fee) and the merchant credit (the rest),
/// created together or not at all.
pub fn plan_payout(raw: &Raw, escrowed: i64) -> Result<Vec<CreditPlan>> {
    input::object(raw, "input")?;
    let amount = positive_amount(raw, "amount")?;
    let rate = input::opt_decimal(raw, "fee_rate", Decimal::ZERO, Decimal::ONE)?;
    let fee_amount = input::opt_amount(raw, "fee_amount", 0)?;
    let fee = match (rate, fee_amount) {
        (Some(_), Some(_)) => {
            return Err(CoreError::invalid(
                "fee_rate",
                "give fee_rate or fee_amount, not both",
            ))
        }
        (Some(r), None) => Fee::Rate(r),
        (None, Some(a)) => Fee::Amount(a),
        (None, None) => Fee::Amount(0),
    };
    let description = input::opt_string(raw, "description", 255)?;
    let merchant_instrument = input::opt_string(raw, "funding_instrument_uri", 255)?;
    let fee_instrument = input::opt_string(raw, "fee_funding_instrument_uri", 255)?;
    let amount = match amount {
        Some(a) => a,
        None if escrowed > 0 => escrowed,
        None => {
            return Err(CoreError::InsufficientFunds {
                requested: 0,
                available: 0,
            })
        }
    };
    let (fee, rest) = split_fee(amount, fee)?;
    spend(amount, escrowed)?;
    let credit = |destination, amount, funding_instrument_uri| CreditPlan {
        transaction_type: Kind::Credit,
        destination,
        amount,
        funding_instrument_uri,
        description: description.clone(),
    };
    let mut plans = vec![];
    if fee > 0 {
        plans.push(credit(Destination::Marketplace, fee, fee_instrument));
    }
    if rest > 0 {
        plans.push(credit(Destination::Merchant, rest, merchant_instrument));
    }
    Ok(plans)
}

/// A movement of an order with the guid of the movement it returns (refunds, reversals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub tx: Tx,
    pub reference_guid: Option<String>,
    pub guid: String,
}

impl Related {
    /// Reads a stored row (see [`Tx::from_raw`]) with `guid` and `reference_guid`.
    pub fn from_raw(raw: &Raw) -> Result<Related> {
        Ok(Related {
            guid: input::req_string(raw, "guid", 64).map_err(|e| e.in_field("transaction.guid"))?,
            reference_guid: input::opt_string(raw, "reference_guid", 64)
                .map_err(|e| e.in_field("transaction.reference_guid"))?,
            tx: Tx::from_raw(raw)?,
        })
    }
}

/// What remains of `target` (a debit or credit) after the returns of kind `returns` referencing it that count.
fn remaining(target: &Related, returns: Kind, all: &[Related]) -> Result<i64> {
    let returned = Ledger::fold(
        &all.iter()
            .filter(|r| {
                r.tx.kind == returns && r.reference_guid.as_deref() == Some(target.guid.as_str())
            })
            .map(|r| Movement::from(&r.tx))
            .collect::<Vec<_>>(),
    )?;
    let out = match returns {
        Kind::Refund => returned.refund.outgoing()?,
        _ => returned.reversal.outgoing()?,
    };
    money::sub(target.tx.amount, out)
}

crate::json_struct! {
    /// A refund or reversal, as the worker stages it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ReturnPlan {
        pub transaction_type: Kind,
        pub amount: i64,
        pub reference_guid: String,
        pub description: Option<String>,
    }
}

/// Validates a refund `{amount?, description?}` (default: what remains) of `debit`, an order's settled debit,
/// against the order's other movements `all` and what it holds: money already paid out cannot be refunded.
pub fn plan_refund(
    raw: &Raw,
    debit: &Related,
    all: &[Related],
    escrowed: i64,
) -> Result<ReturnPlan> {
    plan_return(raw, debit, all, Kind::Refund, Some(escrowed))
}

/// Validates a reversal `{amount?, description?}` (default: what remains) of `credit`, an order's settled credit;
/// a reversal brings money back, so the escrow does not bound it.
pub fn plan_reversal(raw: &Raw, credit: &Related, all: &[Related]) -> Result<ReturnPlan> {
    plan_return(raw, credit, all, Kind::Reversal, None)
}

/// A return (`kind` refund or reversal) of `target`: it must have succeeded and have something left; the amount
/// (default: all that is left) may not exceed what is left, nor `escrowed` when that bounds it.
fn plan_return(
    raw: &Raw,
    target: &Related,
    all: &[Related],
    kind: Kind,
    escrowed: Option<i64>,
) -> Result<ReturnPlan> {
    input::object(raw, "input")?;
    let amount = positive_amount(raw, "amount")?;
    let description = input::opt_string(raw, "description", 255)?;
    let (of, done) = match kind {
        Kind::Refund => (Kind::Debit, "refunded"),
        _ => (Kind::Credit, "reversed"),
    };
    if target.tx.kind != of || state_of(&target.tx) != State::Settled {
        return Err(CoreError::InvalidState {
            reason: format!(
                "only a succeeded {of} can be {done} (this is a {} that is {})",
                target.tx.kind,
                state_of(&target.tx)
            ),
        });
    }
    let left = remaining(target, kind, all)?;
    if left <= 0 {
        return Err(CoreError::InvalidState {
            reason: format!("{of} {} is fully {done}", target.guid),
        });
    }
    let amount = amount.unwrap_or(left);
    if amount > left {
        return Err(CoreError::ExceedsRemaining {
            requested: amount,
            remaining: left,
            of: of.as_str(),
        });
    }
    if let Some(escrowed) = escrowed {
        spend(amount, escrowed)?;
    }
    Ok(ReturnPlan {
        transaction_type: kind,
        amount,
        reference_guid: target.guid.clone(),
        description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;
    use crate::transaction::{Status, SubmitStatus};

    fn tx(kind: Kind, amount: i64, submit: SubmitStatus, status: Option<Status>) -> Tx {
        Tx {
            kind,
            amount,
            submit_status: submit,
            status,
            failure_count: 0,
            unwanted: false,
            next_attempt_at: None,
            reconcile_at: None,
            processor_uri: None,
        }
    }

    fn settled(kind: Kind, amount: i64) -> Tx {
        tx(kind, amount, SubmitStatus::Done, Some(Status::Succeeded))
    }

    fn rel(guid: &str, t: Tx, reference: Option<&str>) -> Related {
        Related {
            tx: t,
            reference_guid: reference.map(str::to_string),
            guid: guid.into(),
        }
    }

    fn bal(txs: &[Tx]) -> Balances {
        balances(&txs.iter().map(Movement::from).collect::<Vec<_>>()).unwrap()
    }

    fn obj(pairs: &[(&str, Raw)]) -> Raw {
        Raw::object(pairs.iter().map(|(k, v)| (*k, v.clone())))
    }

    #[test]
    fn balanced_cases() {
        // Debit 10000 + credit 10000 → escrow 0.
        let b = bal(&[settled(Kind::Debit, 10_000), settled(Kind::Credit, 10_000)]);
        assert_eq!(
            b,
            Balances {
                amount: 10_000,
                amount_escrowed: 0,
                amount_credited: 10_000
            }
        );
        // Debit 1234 then credit 2000 → insufficient funds.
        let e = plan_credit(&obj(&[("amount", "2000".into())]), 1234).unwrap_err();
        assert_eq!((e.code(), e.status()), ("insufficient_funds", 409));
        assert_eq!(
            e.to_string(),
            "insufficient funds: 2000 requested, 1234 available in escrow"
        );
        // A full reversal restores escrow.
        let b = bal(&[
            settled(Kind::Debit, 10_000),
            settled(Kind::Credit, 10_000),
            settled(Kind::Reversal, 10_000),
        ]);
        assert_eq!(b.amount_escrowed, 10_000);
        assert_eq!(b.amount_credited, 0);
        // A full refund → amount 0, escrowed 0.
        let b = bal(&[settled(Kind::Debit, 500), settled(Kind::Refund, 500)]);
        assert_eq!((b.amount, b.amount_escrowed), (0, 0));
        // A failed credit returns its amount; a pending debit holds nothing yet; a staged credit counts at once.
        let b = bal(&[
            settled(Kind::Debit, 1000),
            tx(
                Kind::Credit,
                400,
                SubmitStatus::Failed,
                Some(Status::Failed),
            ),
            tx(Kind::Debit, 999, SubmitStatus::Done, Some(Status::Pending)),
            tx(Kind::Credit, 100, SubmitStatus::Staged, None),
        ]);
        assert_eq!(
            b,
            Balances {
                amount: 1000,
                amount_escrowed: 900,
                amount_credited: 100
            }
        );
    }

    #[test]
    fn credits_and_payouts() {
        let c = plan_credit(
            &obj(&[
                ("amount", "300".into()),
                ("destination", "marketplace".into()),
            ]),
            300,
        )
        .unwrap();
        assert_eq!((c.destination, c.amount), (Destination::Marketplace, 300));
        assert_eq!(
            plan_credit(&obj(&[("amount", "1".into())]), 5)
                .unwrap()
                .destination,
            Destination::Merchant
        );
        let e = plan_credit(
            &obj(&[("amount", "1".into()), ("destination", "someone".into())]),
            5,
        )
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("destination"));
        for bad in ["0", "-1", "1.5", "9007199254740992"] {
            assert_eq!(
                plan_credit(&obj(&[("amount", bad.into())]), 5)
                    .unwrap_err()
                    .status(),
                400,
                "{bad}"
            );
        }
        // The seed's 10% example: everything escrowed, fee to the marketplace, the rest to the merchant.
        let p = plan_payout(&obj(&[("fee_rate", "0.10".into())]), 12_345).unwrap();
        assert_eq!(
            p.iter()
                .map(|c| (c.destination, c.amount))
                .collect::<Vec<_>>(),
            vec![
                (Destination::Marketplace, 1_234),
                (Destination::Merchant, 11_111)
            ]
        );
        // Half to even: 0.10 × 125 = 12.5 → 12; × 135 = 13.5 → 14.
        assert_eq!(
            split_fee(125, Fee::Rate("0.10".parse().unwrap())).unwrap(),
            (12, 113)
        );
        assert_eq!(
            split_fee(135, Fee::Rate("0.10".parse().unwrap())).unwrap(),
            (14, 121)
        );
        let p = plan_payout(
            &obj(&[("fee_amount", "0".into()), ("amount", "50".into())]),
            100,
        )
        .unwrap();
        assert_eq!(p.len(), 1, "a zero fee makes no marketplace credit");
        assert_eq!(
            plan_payout(&obj(&[("fee_rate", "1".into())]), 100)
                .unwrap()
                .len(),
            1
        );
        let e = plan_payout(
            &obj(&[("fee_rate", "0.1".into()), ("fee_amount", "1".into())]),
            100,
        )
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("fee_rate"));
        assert_eq!(
            plan_payout(
                &obj(&[("fee_amount", "101".into()), ("amount", "100".into())]),
                100
            )
            .unwrap_err()
            .field()
            .as_deref(),
            Some("fee_amount")
        );
        assert_eq!(
            plan_payout(&obj(&[]), 0).unwrap_err().code(),
            "insufficient_funds"
        );
        assert_eq!(
            plan_payout(&obj(&[("amount", "101".into())]), 100)
                .unwrap_err()
                .code(),
            "insufficient_funds"
        );
        assert_eq!(
            plan_payout(&obj(&[("fee_rate", "1.5".into())]), 100)
                .unwrap_err()
                .field()
                .as_deref(),
            Some("fee_rate")
        );
    }

    #[test]
    fn refunds_and_reversals() {
        let debit = rel("TX1", settled(Kind::Debit, 1000), None);
        let refunds = vec![
            rel("TX2", settled(Kind::Refund, 300), Some("TX1")),
            rel(
                "TX3",
                tx(
                    Kind::Refund,
                    900,
                    SubmitStatus::Failed,
                    Some(Status::Failed),
                ),
                Some("TX1"),
            ),
            rel("TX4", settled(Kind::Refund, 50), Some("OTHER")),
        ];
        assert_eq!(
            plan_refund(&obj(&[]), &debit, &refunds, 10_000)
                .unwrap()
                .amount,
            700,
            "default: what remains"
        );
        let p = plan_refund(&obj(&[("amount", "100".into())]), &debit, &refunds, 10_000).unwrap();
        assert_eq!(
            (p.amount, p.reference_guid.as_str(), p.transaction_type),
            (100, "TX1", Kind::Refund)
        );
        let e =
            plan_refund(&obj(&[("amount", "701".into())]), &debit, &refunds, 10_000).unwrap_err();
        assert_eq!((e.code(), e.status()), ("exceeds_remaining", 409));
        assert_eq!(
            e.to_string(),
            "701 requested, but only 700 remains of this debit"
        );
        // Money already paid out cannot be refunded from the order.
        let e = plan_refund(&obj(&[("amount", "500".into())]), &debit, &refunds, 200).unwrap_err();
        assert_eq!(e.code(), "insufficient_funds");
        assert_eq!(
            plan_refund(&obj(&[]), &debit, &refunds, 0)
                .unwrap_err()
                .code(),
            "insufficient_funds"
        );
        let full = vec![rel("TX2", settled(Kind::Refund, 1000), Some("TX1"))];
        assert_eq!(
            plan_refund(&obj(&[]), &debit, &full, 10_000)
                .unwrap_err()
                .code(),
            "invalid_state"
        );
        let pending = rel(
            "TX9",
            tx(Kind::Debit, 5, SubmitStatus::Done, Some(Status::Pending)),
            None,
        );
        assert_eq!(
            plan_refund(&obj(&[]), &pending, &[], 10)
                .unwrap_err()
                .code(),
            "invalid_state"
        );
        let credit = rel("CR1", settled(Kind::Credit, 800), None);
        let reversals = vec![rel(
            "RV1",
            tx(Kind::Reversal, 300, SubmitStatus::Retrying, None),
            Some("CR1"),
        )];
        assert_eq!(
            plan_reversal(&obj(&[]), &credit, &reversals)
                .unwrap()
                .amount,
            500
        );
        assert_eq!(
            plan_reversal(&obj(&[("amount", "501".into())]), &credit, &reversals)
                .unwrap_err()
                .code(),
            "exceeds_remaining"
        );
        assert_eq!(
            plan_reversal(&obj(&[]), &debit, &[]).unwrap_err().code(),
            "invalid_state"
        );
    }

    #[test]
    fn orders_validate() {
        let o = validate_order(
            &obj(&[("merchant_guid", "CU1".into()), ("currency", "jpy".into())]),
            None,
        )
        .unwrap();
        assert_eq!((o.merchant_guid.as_str(), o.currency), ("CU1", "JPY"));
        assert_eq!(
            validate_order(&obj(&[]), Some("CU2")).unwrap().currency,
            "USD"
        );
        assert_eq!(
            validate_order(&obj(&[]), None)
                .unwrap_err()
                .field()
                .as_deref(),
            Some("merchant_guid")
        );
        assert_eq!(
            validate_order(&obj(&[("currency", "QQQ".into())]), Some("CU2"))
                .unwrap_err()
                .code(),
            "unknown_currency"
        );
        let long = "x".repeat(501);
        assert_eq!(
            validate_order(
                &obj(&[("delivery_address", long.as_str().into())]),
                Some("CU2")
            )
            .unwrap_err()
            .field()
            .as_deref(),
            Some("delivery_address")
        );
        let d = plan_debit(
            &obj(&[
                ("customer_guid", "CU9".into()),
                ("amount", "100".into()),
                ("funding_instrument_uri", "/c".into()),
            ]),
            "CU1",
            Some("Campaign"),
            0,
        )
        .unwrap();
        assert_eq!(
            (d.amount, d.description.as_deref()),
            (100, Some("Campaign"))
        );
        let e = plan_debit(
            &obj(&[
                ("customer_guid", "CU1".into()),
                ("amount", "100".into()),
                ("funding_instrument_uri", "/c".into()),
            ]),
            "CU1",
            None,
            0,
        )
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("customer_guid"));
        // What may still come in must fit 2^53−1 when it all succeeds.
        let max = obj(&[
            ("customer_guid", "CU9".into()),
            ("amount", "9007199254740991".into()),
            ("funding_instrument_uri", "/c".into()),
        ]);
        assert!(plan_debit(&max, "CU1", None, 0).is_ok());
        let e = plan_debit(&max, "CU1", None, 1).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("amount_out_of_range", Some("amount"))
        );
    }

    /// Random sequences of debits, credits, refunds, reversals and their outcomes, each planned through the rules and
    /// each change applied as a delta to stored balances: escrow never goes negative, stored always equals the fold,
    /// and payout splits always sum exactly.
    #[test]
    fn property_escrow_never_negative_and_stored_equals_fold() {
        let mut rng = XorShift::new(42);
        for _round in 0..300 {
            let mut movements: Vec<Related> = vec![];
            let mut stored = Balances::default();
            for step in 0..40 {
                let escrowed = stored.amount_escrowed;
                let amount = rng.range(1, 3_000);
                let new: Option<(Tx, Option<String>)> = match rng.range(0, 5) {
                    0 => Some((tx(Kind::Debit, amount, SubmitStatus::Staged, None), None)),
                    1 => plan_credit(&obj(&[("amount", Raw::from(amount))]), escrowed)
                        .ok()
                        .map(|c| (tx(Kind::Credit, c.amount, SubmitStatus::Staged, None), None)),
                    2 => {
                        let debits: Vec<Related> = movements
                            .iter()
                            .filter(|m| m.tx.kind == Kind::Debit)
                            .cloned()
                            .collect();
                        if debits.is_empty() {
                            None
                        } else {
                            let d = &debits[(rng.next() % debits.len() as u64) as usize];
                            plan_refund(
                                &obj(&[("amount", Raw::from(amount))]),
                                d,
                                &movements,
                                escrowed,
                            )
                            .ok()
                            .map(|p| {
                                (
                                    tx(Kind::Refund, p.amount, SubmitStatus::Staged, None),
                                    Some(p.reference_guid),
                                )
                            })
                        }
                    }
                    3 => {
                        let credits: Vec<Related> = movements
                            .iter()
                            .filter(|m| m.tx.kind == Kind::Credit)
                            .cloned()
                            .collect();
                        if credits.is_empty() {
                            None
                        } else {
                            let c = &credits[(rng.next() % credits.len() as u64) as usize];
                            plan_reversal(&obj(&[("amount", Raw::from(amount))]), c, &movements)
                                .ok()
                                .map(|p| {
                                    (
                                        tx(Kind::Reversal, p.amount, SubmitStatus::Staged, None),
                                        Some(p.reference_guid),
                                    )
                                })
                        }
                    }
                    4 => {
                        let fee = Fee::Rate(Decimal::new(rng.range(0, 100), 2));
                        if escrowed > 0 {
                            let (a, b) = split_fee(escrowed, fee).unwrap();
                            assert_eq!(a + b, escrowed, "a split sums exactly");
                        }
                        None
                    }
                    _ => None,
                };
                if let Some((t, reference)) = new {
                    let d = delta(None, &Movement::from(&t)).unwrap();
                    stored = add(&stored, &d).unwrap();
                    movements.push(Related {
                        tx: t,
                        reference_guid: reference,
                        guid: format!("T{step}"),
                    });
                }
                // Settle or fail a random open movement.
                let open: Vec<usize> = (0..movements.len())
                    .filter(|&i| movements[i].tx.submit_status == SubmitStatus::Staged)
                    .collect();
                if !open.is_empty() {
                    let i = open[(rng.next() % open.len() as u64) as usize];
                    let before = Movement::from(&movements[i].tx);
                    let ok = rng.range(0, 3) > 0;
                    movements[i].tx.submit_status = if ok {
                        SubmitStatus::Done
                    } else {
                        SubmitStatus::Failed
                    };
                    movements[i].tx.status = Some(if ok {
                        Status::Succeeded
                    } else {
                        Status::Failed
                    });
                    let d = delta(Some(&before), &Movement::from(&movements[i].tx)).unwrap();
                    stored = add(&stored, &d).unwrap();
                }
                let fold = balances(
                    &movements
                        .iter()
                        .map(|m| Movement::from(&m.tx))
                        .collect::<Vec<_>>(),
                )
                .unwrap();
                assert_eq!(stored, fold, "stored = recomputed");
                assert!(stored.amount_escrowed >= 0);
            }
        }
    }
}
