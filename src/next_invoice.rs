//! What a subscription's invoice holds beyond its amount: pending adjustments (prorations), its coupon, and the
//! customer's credit balance, in that order. The same rule makes the invoice and previews it
//! (`GET /v1/subscriptions/<guid>/upcoming_invoice`).
//!
//! 1. Pending adjustments, as they are. Should they take the invoice below zero (a large credit on a small
//!    invoice), the excess is carried to the customer balance as a credit (a positive line "credit carried to the
//!    customer balance" brings the invoice to exactly 0): never a negative invoice or charge.
//! 2. The coupon, when it covers this invoice ([`crate::coupon::covers`]): a percent of the amount before other
//!    adjustments, capped so the invoice never goes below zero ([`crate::coupon::adjustment`]).
//! 3. The customer's credit (a negative balance), as much of it as the invoice still owes
//!    ([`crate::balance::applicable`]). A positive balance (owed by the customer) is left for checkouts.

use crate::coupon::{self, Coupon};
use crate::error::Result;
use crate::invoice::{self, Adjustment};
use crate::money;

/// Reason of the line that carries an excess credit to the customer balance.
pub const CARRIED: &str = "credit carried to the customer balance";
/// Reason of the line that keeps a payout's excess credit (what the payee was overpaid) for its next payout.
pub const DEFERRED: &str = "overpayment deducted from the next payout";
/// Reason of the line that applies the customer's credit.
pub const BALANCE_APPLIED: &str = "customer balance applied";

crate::json_struct! {
    /// An invoice's adjustments and totals, and what they did to the coupon and the balance.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Composed {
        pub amount: i64,
        pub adjustments: Vec<Adjustment>,
        pub total_adjustment_amount: i64,
        pub effective_amount: i64,
        /// The coupon covered this invoice (count it, even when its discount came to 0).
        pub coupon_applied: bool,
        /// Credit taken from the customer balance (≥ 0): a balance entry of `+balance_applied`.
        pub balance_applied: i64,
        /// Credit moved to the customer balance (≥ 0): a balance entry of `−carried_to_balance`.
        pub carried_to_balance: i64,
        /// A payout's excess credit kept for its next payout (≥ 0): a pending adjustment of `−deferred`.
        pub deferred: i64,
    }
}

/// Composes an invoice of `amount` with the subscription's `pending` adjustments, its coupon (with the number of
/// invoices it already covered) and the customer's `balance` (negative: a credit). A `payout` (an invoice that pays
/// the customer) never takes from the balance: that credit is for what the customer buys, and spending it on a payout
/// would pay them less than the plan says. Nor does a payout's excess credit (the payee was overpaid, say by a
/// downgrade) go to the balance, where it would be credit for the payee: it stays pending (`deferred`), deducted from
/// the next payout.
pub fn compose(
    amount: i64,
    pending: &[Adjustment],
    coupon: Option<(&Coupon, i64)>,
    balance: i64,
    payout: bool,
) -> Result<Composed> {
    let balance = if payout { 0 } else { balance };
    let mut adjustments: Vec<Adjustment> = pending.to_vec();
    let mut total = money::sum(pending.iter().map(|a| a.amount))?;
    let (mut carried, mut deferred) = (0, 0);
    let before = money::add(amount, total)?;
    if before < 0 {
        let excess = money::neg(before)?;
        if payout {
            deferred = excess;
        } else {
            carried = excess;
        }
        adjustments.push(Adjustment {
            amount: excess,
            reason: Some(if payout { DEFERRED } else { CARRIED }.into()),
        });
        total = money::add(total, excess)?;
    }
    let mut coupon_applied = false;
    if let Some((c, applied)) = coupon {
        if coupon::covers(&c.duration, applied) {
            coupon_applied = true;
            if let Some(a) = coupon::adjustment(c, amount, total)? {
                total = money::add(total, a.amount)?;
                adjustments.push(a);
            }
        }
    }
    let owed = money::add(amount, total)?;
    let balance_applied = crate::balance::applicable(balance, owed);
    if balance_applied > 0 {
        adjustments.push(Adjustment {
            amount: money::neg(balance_applied)?,
            reason: Some(BALANCE_APPLIED.into()),
        });
    }
    let totals = invoice::invoice_totals(amount, &adjustments)?;
    Ok(Composed {
        amount,
        adjustments,
        total_adjustment_amount: totals.total_adjustment_amount,
        effective_amount: totals.effective_amount,
        coupon_applied,
        balance_applied,
        carried_to_balance: carried,
        deferred,
    })
}

/// The balance entry (≤ 0) for the pending adjustments left when a subscription ends, netting `net`: a credit goes
/// to the customer's balance, a charge lapses; a payout's leftovers lapse either way (a credit there is what the
/// payee was overpaid, never credit for them).
pub fn ending_credit(net: i64, payout: bool) -> i64 {
    if payout || net >= 0 {
        0
    } else {
        net
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Raw;

    fn adj(amount: i64) -> Adjustment {
        Adjustment {
            amount,
            reason: None,
        }
    }

    fn percent(p: &str, duration: &str) -> Coupon {
        Coupon::from_row(&Raw::object([
            ("code", Raw::from("SAVE")),
            ("percent_off", Raw::from(p)),
            ("duration", Raw::from(duration)),
            (
                "duration_in_periods",
                if duration == "repeating" {
                    Raw::from(3i64)
                } else {
                    Raw::Null
                },
            ),
        ]))
        .unwrap()
    }

    #[test]
    fn prorations_then_coupon_then_balance() {
        let c = percent("10", "forever");
        let x = compose(6000, &[adj(-1500), adj(3000)], Some((&c, 0)), -1000, false).unwrap();
        // 6000 − 1500 + 3000 = 7500; 10 % of 6000 = 600 → 6900; balance credit 1000 → 5900.
        assert_eq!(x.effective_amount, 5900);
        assert_eq!(x.total_adjustment_amount, -100);
        assert_eq!(
            (x.coupon_applied, x.balance_applied, x.carried_to_balance),
            (true, 1000, 0)
        );
        assert_eq!(
            x.adjustments.last().unwrap().reason.as_deref(),
            Some(BALANCE_APPLIED)
        );
    }

    #[test]
    fn an_excess_credit_goes_to_the_balance() {
        let x = compose(1000, &[adj(-2500)], None, 0, false).unwrap();
        assert_eq!((x.effective_amount, x.carried_to_balance), (0, 1500));
        // A carried credit is never applied back to the same invoice.
        let x = compose(1000, &[adj(-2500)], None, -300, false).unwrap();
        assert_eq!((x.effective_amount, x.balance_applied), (0, 0));
    }

    #[test]
    fn the_balance_is_used_up_to_what_is_owed() {
        let x = compose(500, &[], None, -2000, false).unwrap();
        assert_eq!((x.effective_amount, x.balance_applied), (0, 500));
        let x = compose(500, &[], None, 700, false).unwrap();
        assert_eq!((x.effective_amount, x.balance_applied), (500, 0));
        // A payout pays the plan's amount whatever the customer's balance.
        let x = compose(3000, &[], None, -1000, true).unwrap();
        assert_eq!((x.effective_amount, x.balance_applied), (3000, 0));
    }

    /// A payout whose prorations exceed it pays nothing now and keeps the rest for its next payout; the same credit
    /// on a debit invoice goes to the customer's balance. At the end a payout's leftovers lapse.
    #[test]
    fn a_payout_keeps_an_overpayment_for_its_next_payout() {
        let x = compose(0, &[adj(-3000), adj(1500)], None, 0, true).unwrap();
        assert_eq!(
            (x.effective_amount, x.carried_to_balance, x.deferred),
            (0, 0, 1500)
        );
        let x = compose(1000, &[adj(-2500)], None, -300, true).unwrap();
        assert_eq!(
            (
                x.effective_amount,
                x.carried_to_balance,
                x.deferred,
                x.balance_applied
            ),
            (0, 0, 1500, 0)
        );
        let x = compose(1000, &[adj(-2500)], None, 0, false).unwrap();
        assert_eq!((x.carried_to_balance, x.deferred), (1500, 0));
        assert_eq!(ending_credit(-2200, false), -2200);
        assert_eq!(
            (ending_credit(-2200, true), ending_credit(500, false)),
            (0, 0)
        );
    }

    #[test]
    fn a_coupon_beyond_its_periods_does_nothing() {
        let c = percent("50", "repeating");
        assert!(
            compose(1000, &[], Some((&c, 2)), 0, false)
                .unwrap()
                .coupon_applied
        );
        let x = compose(1000, &[], Some((&c, 3)), 0, false).unwrap();
        assert_eq!((x.coupon_applied, x.effective_amount), (false, 1000));
    }

    #[test]
    fn never_negative() {
        // Any pending lines, any percent, any credit: the invoice is ≥ 0 and its totals add up.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..3000 {
            let amount = next(100_000) as i64;
            let pending: Vec<Adjustment> = (0..next(4))
                .map(|_| adj(next(200_000) as i64 - 100_000))
                .collect();
            let c = percent(&format!("{}", 1 + next(100)), "forever");
            let balance = next(200_000) as i64 - 100_000;
            let x = compose(amount, &pending, Some((&c, 0)), balance, false).unwrap();
            assert!(x.effective_amount >= 0);
            assert_eq!(
                x.effective_amount,
                amount + x.adjustments.iter().map(|a| a.amount).sum::<i64>()
            );
            assert!(x.balance_applied <= (-balance).max(0));
        }
    }
}
