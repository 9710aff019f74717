//! Checkouts with split payment, and the terms invoices they open.
//!
//! **Allocation** of a checkout's total, in this order:
//! 1. the customer's balance is settled first: a credit (a negative balance) pays for the checkout up to its total;
//!    what the customer owes (a positive balance) is collected with it (`balance_applied` is then negative, and
//!    what remains to pay is the total plus what was owed);
//! 2. the terms part is the least of what remains and the available credit;
//! 3. the card part is the rest;
//! 4. a card part above zero but below the currency's minimum charge moves to terms when the credit allows, otherwise
//!    it is carried to the customer's balance (`checkout_below_currency_minimum`), owed with the next checkout. Since
//!    the next checkout collects it, what a customer can owe this way stays below one minimum charge.
//!
//! `balance_applied + terms_amount + card_amount + carried_to_balance = total`, always.
//!
//! **Checkout status**: `open` → (confirm) `processing` while its card part is with the processor → `completed`, or
//! `failed` (the card part failed: the credit reservation is released, the balance entries reversed, the terms
//! invoice canceled); a confirm with no card part completes at once. An open checkout past `expires_at` (24 hours
//! after creation) is `expired`.
//!
//! **Terms invoices**: `open` until paid in full (→ `settled`, a growth event on time or late) or past `due_at`
//! (→ `overdue`, growth frozen); an overdue invoice paid in full is `settled` too (a late payment).

use chrono::TimeDelta;

use crate::credit;
use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::invoice::{parse_lines, Line};
use crate::money::{self, MAX_AMOUNT};
use crate::time::{self, Instant};
use crate::transaction::Effect;

crate::names! {
    /// Where a checkout is.
    pub enum Status as "CheckoutStatus" {
        Open = "open",
        Processing = "processing",
        Completed = "completed",
        Failed = "failed",
        Expired = "expired",
    }
}

crate::names! {
    /// Where a terms invoice is (besides the invoice statuses it shares: settled, canceled).
    pub enum TermsStatus as "TermsInvoiceStatus" {
        Open = "open",
        Overdue = "overdue",
        Settled = "settled",
        Canceled = "canceled",
    }
}

/// How long a checkout stays open.
pub const TTL_HOURS: i64 = 24;

crate::json_struct! {
    /// A cart line: the core totals quantity × unit amount.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CartItem {
        pub name: String,
        pub quantity: i64,
        pub unit_amount: i64,
        pub amount: i64,
    }
}

crate::json_struct! {
    /// A validated checkout creation.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct CheckoutInput {
        pub customer_guid: String,
        pub currency: &'static str,
        pub total: i64,
        pub items: Vec<CartItem>,
        pub terms_days: Option<i64>,
        pub expires_at: String,
        /// The buyer may change quantities (or remove lines) before confirming.
        pub adjustable_quantities: bool,
    }
}

fn item_from(line: &Line, name_of: &dyn Fn(&str) -> String) -> Result<CartItem> {
    let name = line
        .get("name")
        .map(|(v, n)| input::string_value(v, n, 128))
        .transpose()?
        .ok_or_else(|| CoreError::missing(name_of("name")))?;
    let quantity = line
        .get("quantity")
        .map(|(v, n)| input::int_value(v, n, 1, 1_000_000))
        .transpose()?
        .unwrap_or(1);
    let unit_amount = line
        .get("unit_amount")
        .map(|(v, n)| input::amount_value(v, n, 0))
        .transpose()?
        .ok_or_else(|| CoreError::missing(name_of("unit_amount")))?;
    let amount = money::check(i128::from(quantity) * i128::from(unit_amount))
        .map_err(|e| e.in_field(&name_of("quantity")))?;
    Ok(CartItem {
        name,
        quantity,
        unit_amount,
        amount,
    })
}

/// Validates a checkout `{customer_guid, currency?, amount | items, terms_days?}` created at `now`. Items come as a
/// JSON array `items: [{name, quantity, unit_amount}]` or form keys `item_name<n>`, `item_quantity<n>`,
/// `item_unit_amount<n>`; the total is their sum. Giving both `amount` and items, or neither, is a 400.
pub fn validate_checkout(raw: &Raw, now: Instant) -> Result<CheckoutInput> {
    input::object(raw, "input")?;
    let customer_guid = input::req_string(raw, "customer_guid", 64)?;
    let currency = match input::opt_string(raw, "currency", 3)? {
        Some(c) => money::currency(&c)?.code,
        None => "USD",
    };
    let items = parse_lines(
        raw,
        "items",
        &["item_"],
        &["name", "quantity", "unit_amount"],
        |line, name_of| item_from(line, name_of),
    )?;
    let amount = input::opt_amount(raw, "amount", 1)?;
    let total = match (amount, items.is_empty()) {
        (Some(_), false) => {
            return Err(CoreError::invalid(
                "amount",
                "give amount or items, not both",
            ))
        }
        (None, true) => return Err(CoreError::missing("amount")),
        (Some(a), true) => a,
        (None, false) => {
            money::sum(items.iter().map(|i| i.amount)).map_err(|e| e.in_field("items"))?
        }
    };
    if total < 1 {
        return Err(CoreError::AmountOutOfRange {
            field: Some("amount".into()),
            reason: "the total must be at least 1".into(),
        });
    }
    let terms_days = input::opt_int(raw, "terms_days", 1, 365)?;
    if let Some(d) = terms_days {
        terms_length(d)?;
    }
    Ok(CheckoutInput {
        customer_guid,
        currency,
        total,
        items,
        terms_days,
        expires_at: time::format(time::add(now, TimeDelta::hours(TTL_HOURS))?),
        adjustable_quantities: input::opt_bool(raw, "adjustable_quantities")?.unwrap_or(false),
    })
}

fn terms_length(days: i64) -> Result<()> {
    if !credit::TERMS_DAYS.contains(&days) {
        return Err(CoreError::invalid(
            "terms_days",
            "must be one of 15, 30, 60, 90",
        ));
    }
    Ok(())
}

/// The cart with the buyer's quantities `{quantities: [n, …]}` (JSON) or `item_quantity<i>` (form, 0-based as the
/// items are listed): 0 removes a line; a checkout that does not allow changes keeps its quantities, and a request
/// to change them is a 400. Returns the lines kept and the new total (at least 1). A checkout made with an amount and
/// no items keeps its `amount`.
pub fn requantify(
    items: &[CartItem],
    raw: &Raw,
    adjustable: bool,
    amount: i64,
) -> Result<(Vec<CartItem>, i64)> {
    if items.is_empty() {
        return Ok((vec![], amount));
    }
    let mut quantities: Vec<Option<i64>> = vec![None; items.len()];
    if let Some(v) = input::present(raw, "quantities") {
        let Raw::Array(list) = v else {
            return Err(CoreError::invalid(
                "quantities",
                "must be an array of integers, one per item",
            ));
        };
        if list.len() != items.len() {
            return Err(CoreError::invalid(
                "quantities",
                format!("must have {} entries, one per item", items.len()),
            ));
        }
        for (i, q) in list.iter().enumerate() {
            quantities[i] = Some(input::int_value(
                q,
                &format!("quantities[{i}]"),
                0,
                1_000_000,
            )?);
        }
    }
    for (i, slot) in quantities.iter_mut().enumerate() {
        if let Some(q) = input::opt_int(raw, &format!("item_quantity{i}"), 0, 1_000_000)? {
            *slot = Some(q);
        }
    }
    let changed = quantities
        .iter()
        .zip(items)
        .any(|(q, item)| q.is_some_and(|q| q != item.quantity));
    if changed && !adjustable {
        return Err(CoreError::invalid(
            "quantities",
            "this checkout's quantities cannot be changed",
        ));
    }
    let mut kept = vec![];
    for (item, q) in items.iter().zip(quantities) {
        let quantity = q.unwrap_or(item.quantity);
        if quantity == 0 {
            continue;
        }
        let amount = money::check(i128::from(quantity) * i128::from(item.unit_amount))?;
        kept.push(CartItem {
            quantity,
            amount,
            ..item.clone()
        });
    }
    let total = money::sum(kept.iter().map(|i| i.amount))?;
    if total < 1 {
        return Err(CoreError::invalid("quantities", "the cart would be empty"));
    }
    Ok((kept, total))
}

/// Whether the allocation a buyer saw (`expected_allocation` with `terms_amount`, `card_amount`,
/// `balance_applied`, `carried_to_balance`, any given) is the one the server computes now. Absent: nothing to compare.
pub fn check_expected(raw: &Raw, actual: &Allocation) -> Result<()> {
    let Some(expected) = input::nested(raw, "expected_allocation")? else {
        return Ok(());
    };
    let parts = [
        ("total", actual.total),
        ("balance_applied", actual.balance_applied),
        ("terms_amount", actual.terms_amount),
        ("card_amount", actual.card_amount),
        ("carried_to_balance", actual.carried_to_balance),
    ];
    for (key, value) in parts {
        // balance_applied is negative when the checkout collects what the customer owed.
        let min = if key == "balance_applied" {
            -MAX_AMOUNT
        } else {
            0
        };
        if let Some(want) = input::opt_amount(&expected, key, min)
            .map_err(|e| e.in_field(&format!("expected_allocation[{key}]")))?
        {
            if want != value {
                return Err(CoreError::InvalidState {
                    reason: format!(
                        "the split changed: {key} is now {value}, not {want}; review the new split and confirm again"
                    ),
                });
            }
        }
    }
    Ok(())
}

crate::json_struct! {
    /// A checkout's split.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Allocation {
        pub total: i64,
        pub balance_applied: i64,
        pub terms_amount: i64,
        pub card_amount: i64,
        pub carried_to_balance: i64,
    }
}

/// Allocates `total` against the customer's `balance` (negative: a credit), the `available` credit and the
/// currency's `minimum` card charge (see the module docs).
pub fn allocate(total: i64, balance: i64, available: i64, minimum: i64) -> Result<Allocation> {
    if !(0..=MAX_AMOUNT).contains(&total) {
        return Err(CoreError::invalid("total", "must be from 0 to 2^53−1"));
    }
    let balance_applied = crate::balance::settled_by_checkout(balance, total);
    let rest = money::sub(total, balance_applied)?;
    let available = available.max(0);
    let mut terms = rest.min(available);
    let mut card = rest - terms;
    let mut carried = 0;
    if card > 0 && card < minimum {
        if available - terms >= card {
            terms += card;
        } else {
            carried = card;
        }
        card = 0;
    }
    Ok(Allocation {
        total,
        balance_applied,
        terms_amount: terms,
        card_amount: card,
        carried_to_balance: carried,
    })
}

crate::json_struct! {
    /// A validated confirmation.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Confirmation {
        pub terms_days: Option<i64>,
        pub funding_instrument_uri: Option<String>,
        pub terms_funding_instrument_uri: Option<String>,
        /// When the terms invoice falls due.
        pub due_at: Option<String>,
    }
}

/// Validates `{terms_days?, funding_instrument_uri?, terms_funding_instrument_uri?}` for `allocation` at `now`:
/// `terms_days` (default: the checkout's) must be one the buyer is allowed when there is a terms part; an
/// instrument is required when there is a card part.
pub fn validate_confirm(
    raw: &Raw,
    allocation: &Allocation,
    default_days: Option<i64>,
    allowed: &[i64],
    now: Instant,
) -> Result<Confirmation> {
    input::object(raw, "input")?;
    let days = input::opt_int(raw, "terms_days", 1, 365)?.or(default_days);
    let funding_instrument_uri = input::opt_string(raw, "funding_instrument_uri", 255)?;
    let terms_funding_instrument_uri = input::opt_string(raw, "terms_funding_instrument_uri", 255)?;
    if allocation.card_amount > 0 && funding_instrument_uri.is_none() {
        return Err(CoreError::invalid(
            "funding_instrument_uri",
            format!(
                "is required: {} of this checkout is paid by card",
                allocation.card_amount
            ),
        ));
    }
    let (terms_days, due_at) = terms_choice(days, allocation, allowed, now)?;
    Ok(Confirmation {
        terms_days,
        funding_instrument_uri,
        terms_funding_instrument_uri,
        due_at,
    })
}

/// The terms length chosen (`days`, already defaulted) for `allocation` and the due date it gives, when there is
/// a terms part: one of 15/30/60/90 that the buyer is allowed.
pub fn terms_choice(
    days: Option<i64>,
    allocation: &Allocation,
    allowed: &[i64],
    now: Instant,
) -> Result<(Option<i64>, Option<String>)> {
    if allocation.terms_amount == 0 {
        return Ok((None, None));
    }
    let days = days.ok_or_else(|| CoreError::missing("terms_days"))?;
    terms_length(days)?;
    if !allowed.contains(&days) {
        let list: Vec<String> = allowed.iter().map(|d| d.to_string()).collect();
        return Err(CoreError::invalid(
            "terms_days",
            format!("must be one of {} for this buyer", list.join(", ")),
        ));
    }
    Ok((
        Some(days),
        Some(time::format(time::add(now, TimeDelta::days(days))?)),
    ))
}

/// The status a stored checkout has at `now` (an open one past its expiry is expired).
pub fn status_at(status: Status, expires_at: Instant, now: Instant) -> Status {
    if status == Status::Open && now >= expires_at {
        Status::Expired
    } else {
        status
    }
}

/// Whether a checkout may be confirmed: open and not expired, else 409.
pub fn can_confirm(status: Status, expires_at: Instant, now: Instant) -> Result<()> {
    match status_at(status, expires_at, now) {
        Status::Open => Ok(()),
        Status::Expired => Err(CoreError::InvalidState {
            reason: "this checkout has expired".into(),
        }),
        other => Err(CoreError::InvalidState {
            reason: format!("this checkout is already {other}"),
        }),
    }
}

/// A checkout after an effect of its card payment: succeeded → completed, failed → failed (undone by the worker as
/// the core says), anything else unchanged.
pub fn after_payment(status: Status, effect: Effect) -> Status {
    match (status, effect) {
        (Status::Processing, Effect::Succeeded) => Status::Completed,
        (Status::Processing, Effect::Failed) => Status::Failed,
        (s, _) => s,
    }
}

crate::json_struct! {
    /// What a failed checkout gives back: the credit its terms invoice still holds, and a balance credit for what it
    /// took from or added to the customer's balance and for what the buyer already paid of its terms invoice
    /// (`checkout_credit`: the negation of its entries, less those payments).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Undo {
        pub release_credit: i64,
        pub balance_credit: i64,
    }
}

/// The undo of a confirmed `allocation` whose terms invoice has `terms_paid` of its amount paid (each payment already
/// gave back its own amount of credit, so only the rest is released; the payments themselves go back to the buyer).
pub fn undo(allocation: &Allocation, terms_paid: i64) -> Result<Undo> {
    if terms_paid < 0 {
        return Err(CoreError::invalid(
            "terms_paid",
            format!("must be at least 0, got {terms_paid}"),
        ));
    }
    // A stored `amount_paid` above the amount (written before payments were capped) counts as the amount: the
    // excess was a second payment, not part of the checkout's terms part.
    let terms_paid = terms_paid.min(allocation.terms_amount);
    Ok(Undo {
        release_credit: allocation.terms_amount - terms_paid,
        balance_credit: money::neg(money::add(
            money::add(allocation.balance_applied, allocation.carried_to_balance)?,
            terms_paid,
        )?)?,
    })
}

crate::json_struct! {
    /// A payment recorded against a terms invoice.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PaymentInput {
        pub amount: i64,
        pub paid_at: String,
    }
}

/// Validates `{amount?, paid_at?}` (default: all that is outstanding, now) for a terms invoice with `outstanding` left.
/// While a charge of the invoice is in flight (`charging`: staged, retrying or pending at the processor) nothing is
/// recorded (409 `payment_pending`): the charge may still take the money, and the buyer would pay twice.
pub fn validate_payment(
    raw: &Raw,
    status: TermsStatus,
    outstanding: i64,
    charging: bool,
    now: Instant,
) -> Result<PaymentInput> {
    input::object(raw, "input")?;
    if !matches!(status, TermsStatus::Open | TermsStatus::Overdue) {
        return Err(CoreError::InvalidState {
            reason: format!("this terms invoice is {status}: nothing to pay"),
        });
    }
    if charging {
        return Err(CoreError::Conflict {
            code: "payment_pending",
            field: None,
            reason: "a charge of this terms invoice is still at the processor; record a payment once it has an answer"
                .into(),
        });
    }
    let amount = input::opt_amount(raw, "amount", 1)?.unwrap_or(outstanding);
    if amount > outstanding {
        return Err(CoreError::ExceedsRemaining {
            requested: amount,
            remaining: outstanding,
            of: "invoice",
        });
    }
    let paid_at = time::opt_field(raw, "paid_at")?.unwrap_or(now);
    if paid_at > now {
        return Err(CoreError::invalid("paid_at", "must not be in the future"));
    }
    Ok(PaymentInput {
        amount,
        paid_at: time::format(paid_at),
    })
}

crate::json_struct! {
    /// What a terms invoice becomes when a payment comes in, the last at `paid_at`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TermsOutcome {
        pub status: TermsStatus,
        /// The invoice's `amount_paid` now: never more than its amount.
        pub amount_paid: i64,
        /// What of the payment counts toward the invoice (and gives back as much of the buyer's credit).
        pub applied: i64,
        /// What of the payment goes back to the buyer, as a balance credit: all of it when the invoice is canceled
        /// or settled already (a charge that was in flight when its checkout failed), else what exceeds the amount.
        pub returned: i64,
        /// Paid in full just now: whether by its due date (the growth event to record); `None` otherwise.
        pub paid_on_time: Option<bool>,
    }
}

/// A terms invoice of `amount`, `paid` of it so far, after a `payment` at `paid_at`.
pub fn after_terms_payment(
    status: TermsStatus,
    amount: i64,
    paid: i64,
    payment: i64,
    due_at: Instant,
    paid_at: Instant,
) -> Result<TermsOutcome> {
    if payment < 0 {
        return Err(CoreError::invalid(
            "payment",
            format!("must be at least 0, got {payment}"),
        ));
    }
    // A stored `amount_paid` above the amount (written before this rule returned the excess) counts as the amount.
    let paid = paid.clamp(0, amount);
    let open = matches!(status, TermsStatus::Open | TermsStatus::Overdue);
    let applied = if open { payment.min(amount - paid) } else { 0 };
    let amount_paid = paid + applied;
    let settles = open && amount_paid == amount;
    Ok(TermsOutcome {
        status: if settles {
            TermsStatus::Settled
        } else {
            status
        },
        amount_paid,
        applied,
        returned: payment - applied,
        paid_on_time: settles.then_some(paid_at <= due_at),
    })
}

/// Whether an open terms invoice has fallen due at `now` (→ overdue).
pub fn falls_overdue(status: TermsStatus, due_at: Instant, now: Instant) -> bool {
    status == TermsStatus::Open && now >= due_at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;

    fn at(s: &str) -> Instant {
        time::parse(s, "t").unwrap()
    }

    #[test]
    fn allocation_order_and_minimums() {
        let a = allocate(10_000, -1_500, 5_000, 50).unwrap();
        assert_eq!(
            (
                a.balance_applied,
                a.terms_amount,
                a.card_amount,
                a.carried_to_balance
            ),
            (1_500, 5_000, 3_500, 0)
        );
        // Within credit: all terms.
        assert_eq!(allocate(4_000, 0, 5_000, 50).unwrap().terms_amount, 4_000);
        // No credit at all: all card.
        assert_eq!(allocate(4_000, 0, 0, 50).unwrap().card_amount, 4_000);
        // A positive balance (owed) is collected with the checkout: the parts pay the total and the debt.
        let a = allocate(4_000, 700, 1_000, 50).unwrap();
        assert_eq!(
            (a.balance_applied, a.terms_amount, a.card_amount),
            (-700, 1_000, 3_700)
        );
        // A card part below the minimum that the credit has no room for is carried to the balance.
        let a = allocate(5_030, 0, 5_000, 50).unwrap();
        assert_eq!(
            (a.terms_amount, a.card_amount, a.carried_to_balance),
            (5_000, 0, 30)
        );
    }

    #[test]
    fn below_minimum_goes_to_terms_when_there_is_room() {
        let a = allocate(5_030, 0, 6_000, 50).unwrap();
        assert_eq!(a.terms_amount, 5_030, "all within credit");
        // 10 of balance, then 5,020 of credit for 5,030: the 10 left is below the minimum and there is no room.
        let a = allocate(5_040, -10, 5_020, 50).unwrap();
        assert_eq!(
            (
                a.balance_applied,
                a.terms_amount,
                a.card_amount,
                a.carried_to_balance
            ),
            (10, 5_020, 0, 10)
        );
    }

    #[test]
    fn property_allocations_always_sum_and_respect_credit() {
        let mut rng = XorShift::new(5);
        for _ in 0..20_000 {
            let total = rng.range(0, 1_000_000);
            let balance = rng.range(-500_000, 500_000);
            let available = rng.range(-1_000, 600_000);
            let minimum = rng.range(1, 500);
            let a = allocate(total, balance, available, minimum).unwrap();
            assert_eq!(
                a.balance_applied + a.terms_amount + a.card_amount + a.carried_to_balance,
                total
            );
            assert!(a.terms_amount <= available.max(0));
            assert!(a.card_amount == 0 || a.card_amount >= minimum);
            let settled = if balance > 0 {
                -balance
            } else {
                total.min(-balance)
            };
            assert_eq!(a.balance_applied, settled, "balance first");
            assert!(a.terms_amount >= 0 && a.card_amount >= 0 && a.carried_to_balance >= 0);
            assert!(a.carried_to_balance < minimum);
        }
    }

    /// Checkouts below the minimum charge, with no credit: each carries its total to the balance only while the
    /// debt stays below one minimum; the next checkout collects it. No run of checkouts completes for free beyond that.
    #[test]
    fn what_a_customer_owes_from_tiny_checkouts_stays_below_one_minimum() {
        let mut rng = XorShift::new(23);
        for _ in 0..500 {
            let minimum = rng.range(1, 500);
            let mut balance = 0;
            let (mut bought, mut charged) = (0, 0);
            for _ in 0..50 {
                let total = rng.range(0, 2 * minimum);
                let a = allocate(total, balance, 0, minimum).unwrap();
                // The entries a confirm writes: the balance settled, then what is carried.
                balance += a.balance_applied + a.carried_to_balance;
                bought += total;
                charged += a.card_amount;
                assert!(
                    (0..minimum).contains(&balance),
                    "owed {balance} with a minimum of {minimum}"
                );
                assert_eq!(
                    bought,
                    charged + balance,
                    "every unit bought is charged or owed"
                );
            }
        }
    }

    #[test]
    fn checkouts_validate_and_total_their_items() {
        let now = at("2024-01-01T00:00:00Z");
        let raw = Raw::object([
            ("customer_guid", Raw::from("CU1")),
            ("item_name0", Raw::from("Widget")),
            ("item_quantity0", Raw::from("3")),
            ("item_unit_amount0", Raw::from("1250")),
            ("item_name1", Raw::from("Gadget")),
            ("item_unit_amount1", Raw::from("99")),
            ("terms_days", Raw::from("30")),
        ]);
        let c = validate_checkout(&raw, now).unwrap();
        assert_eq!(
            (c.total, c.items.len(), c.currency, c.terms_days),
            (3_849, 2, "USD", Some(30))
        );
        assert_eq!(c.expires_at, "2024-01-02T00:00:00.000000+00:00");
        let e = |pairs: Vec<(&str, Raw)>| {
            validate_checkout(&Raw::object(pairs), now)
                .unwrap_err()
                .field()
        };
        assert_eq!(
            e(vec![("customer_guid", "CU1".into())]).as_deref(),
            Some("amount")
        );
        assert_eq!(
            e(vec![
                ("customer_guid", "CU1".into()),
                ("amount", "5".into()),
                ("item_name1", "A".into()),
                ("item_unit_amount1", "5".into())
            ])
            .as_deref(),
            Some("amount")
        );
        assert_eq!(
            e(vec![
                ("customer_guid", "CU1".into()),
                ("amount", "5".into()),
                ("terms_days", "45".into())
            ])
            .as_deref(),
            Some("terms_days")
        );
        assert_eq!(
            e(vec![
                ("customer_guid", "CU1".into()),
                ("amount", "0".into())
            ])
            .as_deref(),
            Some("amount")
        );
        assert_eq!(
            e(vec![
                ("customer_guid", "CU1".into()),
                ("item_name1", "A".into())
            ])
            .as_deref(),
            Some("item_unit_amount1")
        );
        assert_eq!(
            e(vec![("amount", "5".into())]).as_deref(),
            Some("customer_guid")
        );
    }

    #[test]
    fn confirmation_rules() {
        let now = at("2024-01-01T00:00:00Z");
        let split = allocate(10_000, 0, 5_000, 50).unwrap();
        let c = validate_confirm(
            &Raw::object([("funding_instrument_uri", Raw::from("/c"))]),
            &split,
            Some(30),
            &[15, 30],
            now,
        )
        .unwrap();
        assert_eq!(
            (c.terms_days, c.due_at.as_deref()),
            (Some(30), Some("2024-01-31T00:00:00.000000+00:00"))
        );
        let e = validate_confirm(&Raw::Null, &split, Some(30), &[15, 30], now).unwrap_err();
        assert_eq!(e.field().as_deref(), Some("funding_instrument_uri"));
        let e = validate_confirm(
            &Raw::object([
                ("funding_instrument_uri", Raw::from("/c")),
                ("terms_days", Raw::from("60")),
            ]),
            &split,
            None,
            &[15, 30],
            now,
        )
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("terms_days"));
        assert!(e.to_string().contains("15, 30"));
        let card_only = allocate(10_000, 0, 0, 50).unwrap();
        assert_eq!(
            validate_confirm(
                &Raw::object([("funding_instrument_uri", Raw::from("/c"))]),
                &card_only,
                None,
                &[],
                now
            )
            .unwrap()
            .terms_days,
            None
        );
        let terms_only = allocate(100, 0, 5_000, 50).unwrap();
        assert_eq!(
            validate_confirm(&Raw::Null, &terms_only, None, &[15], now)
                .unwrap_err()
                .field()
                .as_deref(),
            Some("terms_days")
        );
    }

    #[test]
    fn a_failed_checkout_gives_everything_back() {
        let a = allocate(10_000, -1_500, 5_000, 50).unwrap();
        assert_eq!(
            undo(&a, 0).unwrap(),
            Undo {
                release_credit: 5_000,
                balance_credit: -1_500
            }
        );
        let a = allocate(5_030, 0, 5_000, 50).unwrap();
        assert_eq!(
            undo(&a, 0).unwrap(),
            Undo {
                release_credit: 5_000,
                balance_credit: -30
            }
        );
    }

    /// The card part can fail after the terms invoice was (partly) paid: each payment already released its credit,
    /// so only the rest is released, and the payments go back to the buyer; credit used never goes below zero.
    #[test]
    fn a_failed_checkout_returns_what_its_terms_invoice_was_paid() {
        let a = allocate(80_000, -1_000, 50_000, 50).unwrap();
        assert_eq!((a.terms_amount, a.card_amount), (50_000, 29_000));
        for (paid, release, credit) in [
            (0, 50_000, -1_000),
            (20_000, 30_000, -21_000),
            (50_000, 0, -51_000),
        ] {
            let u = undo(&a, paid).unwrap();
            assert_eq!((u.release_credit, u.balance_credit), (release, credit));
            // What was used (terms) = what payments released + what the undo releases.
            assert_eq!(paid + u.release_credit, a.terms_amount);
        }
        assert_eq!(
            undo(&a, 60_000).unwrap(),
            undo(&a, 50_000).unwrap(),
            "an old overpayment counts as the amount"
        );
        assert_eq!(
            undo(&a, -1).unwrap_err().field().as_deref(),
            Some("terms_paid")
        );
    }

    /// Payments never make `amount_paid` exceed the amount; what does not count goes back to the buyer, and a
    /// payment of a canceled or settled invoice (a charge that was in flight) goes back whole.
    #[test]
    fn terms_payments_count_up_to_the_amount_and_return_the_rest() {
        let due = at("2024-02-01T00:00:00Z");
        let o = after_terms_payment(TermsStatus::Open, 900, 400, 600, due, due).unwrap();
        assert_eq!(
            (
                o.status,
                o.amount_paid,
                o.applied,
                o.returned,
                o.paid_on_time
            ),
            (TermsStatus::Settled, 900, 500, 100, Some(true))
        );
        for status in [TermsStatus::Canceled, TermsStatus::Settled] {
            let o = after_terms_payment(status, 900, 400, 600, due, due).unwrap();
            assert_eq!(
                (
                    o.status,
                    o.amount_paid,
                    o.applied,
                    o.returned,
                    o.paid_on_time
                ),
                (status, 400, 0, 600, None)
            );
        }
        // A stored overpayment (before this rule) counts as the amount: nothing more is applied.
        let o = after_terms_payment(TermsStatus::Open, 900, 1_800, 50, due, due).unwrap();
        assert_eq!((o.amount_paid, o.applied, o.returned), (900, 0, 50));
        assert!(after_terms_payment(TermsStatus::Open, 900, 0, -1, due, due).is_err());
        let mut rng = XorShift::new(17);
        for _ in 0..2_000 {
            let amount = rng.range(1, 10_000);
            let paid = rng.range(0, amount);
            let payment = rng.range(0, 20_000);
            let status = [
                TermsStatus::Open,
                TermsStatus::Overdue,
                TermsStatus::Canceled,
            ][rng.range(0, 2) as usize];
            let o = after_terms_payment(status, amount, paid, payment, due, due).unwrap();
            assert_eq!(o.applied + o.returned, payment);
            assert!(o.amount_paid <= amount && o.amount_paid == paid + o.applied);
            assert_eq!(o.status == TermsStatus::Settled, o.paid_on_time.is_some());
        }
    }

    /// The split a buyer who owes is shown (balance_applied negative) is the split they may confirm.
    #[test]
    fn an_expected_split_may_collect_a_debt() {
        let a = allocate(5_000, 30, 0, 50).unwrap();
        assert_eq!(a.balance_applied, -30);
        let shown = Raw::object([(
            "expected_allocation",
            Raw::object([
                ("balance_applied", Raw::from(-30i64)),
                ("card_amount", Raw::from(5_030i64)),
            ]),
        )]);
        assert!(check_expected(&shown, &a).is_ok());
    }

    #[test]
    fn quantities_and_expected_splits() {
        let items = vec![
            CartItem {
                name: "A".into(),
                quantity: 2,
                unit_amount: 1000,
                amount: 2000,
            },
            CartItem {
                name: "B".into(),
                quantity: 1,
                unit_amount: 500,
                amount: 500,
            },
        ];
        let (kept, total) = requantify(
            &items,
            &Raw::object([(
                "quantities",
                Raw::Array(vec![Raw::from(3i64), Raw::from(0i64)]),
            )]),
            true,
            2500,
        )
        .unwrap();
        assert_eq!((kept.len(), kept[0].amount, total), (1, 3000, 3000));
        let (_, total) = requantify(
            &items,
            &Raw::object([("item_quantity1", Raw::from("4"))]),
            true,
            2500,
        )
        .unwrap();
        assert_eq!(total, 4000);
        assert_eq!(requantify(&items, &Raw::Null, false, 2500).unwrap().1, 2500);
        let e = requantify(
            &items,
            &Raw::object([("item_quantity1", Raw::from("4"))]),
            false,
            2500,
        )
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("quantities"));
        let e = requantify(
            &items,
            &Raw::object([(
                "quantities",
                Raw::Array(vec![Raw::from(0i64), Raw::from(0i64)]),
            )]),
            true,
            2500,
        )
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("quantities"));
        assert_eq!(
            requantify(&[], &Raw::Null, false, 777).unwrap(),
            (vec![], 777),
            "an amount, no items"
        );
        let a = allocate(2500, 0, 1000, 50).unwrap();
        assert!(check_expected(&Raw::Null, &a).is_ok());
        assert!(check_expected(
            &Raw::object([("expected_allocation[card_amount]", Raw::from("1500"))]),
            &a
        )
        .is_ok());
        let e = check_expected(
            &Raw::object([(
                "expected_allocation",
                Raw::object([("card_amount", Raw::from(1000i64))]),
            )]),
            &a,
        )
        .unwrap_err();
        assert_eq!(e.status(), 409);
        assert!(
            e.to_string().contains("card_amount is now 1500, not 1000"),
            "{e}"
        );
    }

    #[test]
    fn states() {
        let exp = at("2024-01-02T00:00:00Z");
        assert!(can_confirm(Status::Open, exp, at("2024-01-01T23:59:59Z")).is_ok());
        assert_eq!(
            can_confirm(Status::Open, exp, exp).unwrap_err().to_string(),
            "this checkout has expired"
        );
        assert_eq!(
            can_confirm(Status::Completed, exp, at("2024-01-01"))
                .unwrap_err()
                .status(),
            409
        );
        assert_eq!(
            after_payment(Status::Processing, Effect::Succeeded),
            Status::Completed
        );
        assert_eq!(
            after_payment(Status::Processing, Effect::Failed),
            Status::Failed
        );
        assert_eq!(
            after_payment(Status::Processing, Effect::Recorded),
            Status::Processing
        );
        assert_eq!(
            after_payment(Status::Completed, Effect::Failed),
            Status::Completed
        );
        let due = at("2024-02-01T00:00:00Z");
        assert_eq!(
            after_terms_payment(TermsStatus::Open, 900, 0, 500, due, at("2024-01-15"))
                .unwrap()
                .status,
            TermsStatus::Open
        );
        assert_eq!(
            after_terms_payment(TermsStatus::Open, 900, 500, 400, due, due)
                .unwrap()
                .paid_on_time,
            Some(true)
        );
        assert_eq!(
            after_terms_payment(TermsStatus::Overdue, 900, 0, 900, due, at("2024-02-02"))
                .unwrap()
                .paid_on_time,
            Some(false)
        );
        assert!(falls_overdue(TermsStatus::Open, due, due));
        assert!(!falls_overdue(TermsStatus::Settled, due, due));
        let now = at("2024-01-10");
        assert_eq!(
            validate_payment(&Raw::Null, TermsStatus::Open, 900, false, now)
                .unwrap()
                .amount,
            900
        );
        assert_eq!(
            validate_payment(&Raw::Null, TermsStatus::Open, 900, true, now)
                .unwrap_err()
                .code(),
            "payment_pending"
        );
        assert_eq!(
            validate_payment(
                &Raw::object([("amount", Raw::from("901"))]),
                TermsStatus::Open,
                900,
                false,
                now
            )
            .unwrap_err()
            .code(),
            "exceeds_remaining"
        );
        assert_eq!(
            validate_payment(&Raw::Null, TermsStatus::Settled, 0, false, now)
                .unwrap_err()
                .code(),
            "invalid_state"
        );
        assert_eq!(
            validate_payment(
                &Raw::object([("paid_at", Raw::from("2024-01-11"))]),
                TermsStatus::Open,
                9,
                false,
                now
            )
            .unwrap_err()
            .field()
            .as_deref(),
            Some("paid_at")
        );
    }
}
