//! The customer balance: a ledger per customer and currency of what the customer owes (positive) or is owed
//! (negative, a credit), in the published shape of balance transactions.
//!
//! Each entry's `ending_balance_amount` is the running total of its balance after it. Entries created through the
//! API are `adjustment`s; checkouts write `applied_to_checkout` (a credit used up: a positive entry),
//! `checkout_below_currency_minimum` (a card part too small to charge, owed for the next checkout: positive) and
//! `checkout_credit` (a failed checkout gives back what it took: the negation of its entries).

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::money;

crate::names! {
    /// Why a balance changed.
    pub enum EntryType as "BalanceTransactionType" {
        Adjustment = "adjustment",
        AppliedToCheckout = "applied_to_checkout",
        CheckoutBelowCurrencyMinimum = "checkout_below_currency_minimum",
        CheckoutCredit = "checkout_credit",
        /// A subscription's invoice used up some of the customer's credit (a positive entry).
        AppliedToInvoice = "applied_to_invoice",
        /// A subscription credited the customer: a downgrade invoiced at once, an excess proration credit, a
        /// prorated cancel (a negative entry).
        SubscriptionCredit = "subscription_credit",
        /// A payment came to a terms invoice that no longer took it: more than was outstanding, or after the
        /// invoice was settled or canceled (a charge in flight when its checkout failed). It goes back to the buyer
        /// (a negative entry).
        InvoiceOverpaid = "invoice_overpaid",
        /// A canceled invoice gave back the customer credit it had used (a negative entry).
        UnappliedFromInvoice = "unapplied_from_invoice",
    }
}

crate::json_struct! {
    /// A validated `POST /v1/balance_transactions`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct EntryInput {
        pub amount: i64,
        /// Lowercase, as the published shape has it.
        pub currency: String,
        pub customer: String,
        pub transaction_type: EntryType,
    }
}

/// Reads the published body `{"balance_transaction": {amount, currency, customer}}` (JSON), or the form fields
/// `balance_transaction[amount]` etc. Errors name `balance_transaction[field]`. A zero amount changes nothing and is
/// refused.
pub fn validate_entry(raw: &Raw) -> Result<EntryInput> {
    input::object(raw, "input")?;
    let nested = input::nested(raw, "balance_transaction")?
        .ok_or_else(|| CoreError::missing("balance_transaction"))?;
    let f = |name: &str| format!("balance_transaction[{name}]");
    let amount = input::req_amount(&nested, "amount", -money::MAX_AMOUNT)
        .map_err(|e| e.in_field(&f("amount")))?;
    if amount == 0 {
        return Err(CoreError::invalid(f("amount"), "must not be 0"));
    }
    let currency =
        input::req_string(&nested, "currency", 3).map_err(|e| e.in_field(&f("currency")))?;
    let currency = money::currency(&currency).map_err(|_| {
        CoreError::invalid(
            f("currency"),
            format!("\"{currency}\" is not a supported ISO 4217 currency code"),
        )
    })?;
    Ok(EntryInput {
        amount,
        currency: currency.code.to_ascii_lowercase(),
        customer: input::req_string(&nested, "customer", 64)
            .map_err(|e| e.in_field(&f("customer")))?,
        transaction_type: EntryType::Adjustment,
    })
}

/// The balance after an entry of `amount` on a balance of `current` (checked: never beyond ±(2^53−1)).
pub fn ending(current: i64, amount: i64) -> Result<i64> {
    money::add(current, amount).map_err(|e| e.in_field("amount"))
}

/// How much of a customer's credit (a negative balance) a checkout of `total` uses up: the entry's amount.
pub fn applicable(balance: i64, total: i64) -> i64 {
    if balance >= 0 {
        0
    } else {
        total.min(balance.saturating_neg())
    }
}

/// What a checkout of `total` settles of the customer's `balance` (the `applied_to_checkout` entry): a credit (a
/// negative balance) pays for it up to the total (a positive amount: the credit used); what the customer owes (a
/// positive balance) is collected with it (a negative amount: the debt cleared, the checkout's parts pay it).
pub fn settled_by_checkout(balance: i64, total: i64) -> i64 {
    if balance > 0 {
        -balance
    } else {
        applicable(balance, total)
    }
}

/// The credit an invoice still holds of the customer's balance: the sum of its `applied_to_invoice` (positive) and
/// `unapplied_from_invoice` (negative) entries, never below zero.
pub fn held_by_invoice(entries: &[i64]) -> Result<i64> {
    Ok(money::sum(entries.iter().copied())?.max(0))
}

/// The entry a canceled invoice writes (`unapplied_from_invoice`, ≤ 0): the customer credit it used comes back, once;
/// 0 when it holds none (or gave it back already).
pub fn unapplied_on_cancel(entries: &[i64]) -> Result<i64> {
    money::neg(held_by_invoice(entries)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_canceled_invoice_gives_back_the_credit_it_used_once() {
        assert_eq!(unapplied_on_cancel(&[1000]).unwrap(), -1000);
        assert_eq!(
            unapplied_on_cancel(&[1000, -1000]).unwrap(),
            0,
            "given back already"
        );
        assert_eq!(unapplied_on_cancel(&[]).unwrap(), 0);
        assert_eq!(held_by_invoice(&[700, 300]).unwrap(), 1000);
    }

    #[test]
    fn the_published_body() {
        let raw = Raw::object([(
            "balance_transaction",
            Raw::object([
                ("amount", Raw::from(5000i64)),
                ("currency", Raw::from("usd")),
                ("customer", Raw::from("CU1")),
            ]),
        )]);
        let e = validate_entry(&raw).unwrap();
        assert_eq!(
            (
                e.amount,
                e.currency.as_str(),
                e.customer.as_str(),
                e.transaction_type
            ),
            (5000, "usd", "CU1", EntryType::Adjustment)
        );
        let form = Raw::object([
            ("balance_transaction[amount]", Raw::from("-250")),
            ("balance_transaction[currency]", Raw::from("EUR")),
            ("balance_transaction[customer]", Raw::from("CU2")),
        ]);
        let e = validate_entry(&form).unwrap();
        assert_eq!((e.amount, e.currency.as_str()), (-250, "eur"));
    }

    #[test]
    fn errors_name_the_nested_field() {
        let body =
            |pairs: Vec<(&str, Raw)>| Raw::object([("balance_transaction", Raw::object(pairs))]);
        let field = |raw: Raw| validate_entry(&raw).unwrap_err().field();
        assert_eq!(
            field(body(vec![
                ("currency", "usd".into()),
                ("customer", "C".into())
            ]))
            .as_deref(),
            Some("balance_transaction[amount]")
        );
        assert_eq!(
            field(body(vec![
                ("amount", 0i64.into()),
                ("currency", "usd".into()),
                ("customer", "C".into())
            ]))
            .as_deref(),
            Some("balance_transaction[amount]")
        );
        assert_eq!(
            field(body(vec![
                ("amount", 1.5.into()),
                ("currency", "usd".into()),
                ("customer", "C".into())
            ]))
            .as_deref(),
            Some("balance_transaction[amount]")
        );
        assert_eq!(
            field(body(vec![
                ("amount", 5i64.into()),
                ("currency", "qqq".into()),
                ("customer", "C".into())
            ]))
            .as_deref(),
            Some("balance_transaction[currency]")
        );
        assert_eq!(
            field(body(vec![
                ("amount", 5i64.into()),
                ("currency", "usd".into())
            ]))
            .as_deref(),
            Some("balance_transaction[customer]")
        );
        assert_eq!(
            field(Raw::object::<&str>([])).as_deref(),
            Some("balance_transaction")
        );
        assert_eq!(
            field(Raw::object([("balance_transaction", Raw::from("x"))])).as_deref(),
            Some("balance_transaction")
        );
    }

    #[test]
    fn running_totals_and_application() {
        assert_eq!(ending(5000, -7000).unwrap(), -2000);
        assert!(ending(money::MAX_AMOUNT, 1).is_err());
        assert_eq!(applicable(-2000, 1500), 1500);
        assert_eq!(applicable(-2000, 5000), 2000);
        assert_eq!(applicable(300, 5000), 0);
        assert_eq!(applicable(0, 5000), 0);
    }
}
