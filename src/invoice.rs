//! Invoices: validation, totals, the status machine and refund limits.
//!
//! - Totals: `effective_amount = amount + Σ adjustments`; items are descriptive and never change the total.
//!   A negative effective amount is refused (`negative_effective_amount`, field `adjustments`).
//! - Items come either as form keys `item_<field><n>` (n any non-negative integer: Billy's clients number
//!   from 0; gaps allowed, ordered by n; rows whose every field is empty are skipped, as HTML forms send them) or as a JSON array `items`; adjustments likewise as
//!   `adjustment_amount<n>`/`adjustment_reason<n>` (or the reference's spelling `adjustments_amount<n>`/
//!   `adjustments_reason<n>`) or a JSON array `adjustments`. At most 100 of each. Errors name the exact key
//!   (`item_amount2`) or path (`items[1].amount`).
//! - Status machine, a pure `(status, event) → status`:
//!
//! | event | from | to |
//! |---|---|---|
//! | submit, update_instrument | staged, processing, failed | processing |
//! | settle_zero | staged | settled |
//! | succeeded | processing | settled |
//! | pending | processing | processing |
//! | failed | processing | failed |
//! | cancel | staged, processing, failed | canceled |
//!
//!   Anything else is `invalid_state` (409).
//! - Payments: an invoice follows the effects of its own transactions ([`on_payment`]); a canceled one never
//!   moves (a payment it let go of is repaid by the payments core instead).
//! - Refunds: only settled debit invoices, a positive amount, and refunds in total (the [`crate::ledger`] fold of its
//!   transactions) never above the effective
//!   amount.

use crate::sorted::SortedMap;

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::ledger::{state_of, Ledger, Movement, State};
use crate::money::{self, MAX_AMOUNT};
use crate::transaction::{Effect, Kind, Tx};

/// Most items and most adjustments on one invoice.
pub const MAX_LINES: usize = 100;

crate::json_struct! {
    /// A descriptive invoice line (never changes the total).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Item {
        pub name: String,
        pub amount: i64,
        pub r#type: Option<String>,
        pub quantity: Option<i64>,
        pub volume: Option<i64>,
        pub unit: Option<String>,
    }
}

crate::json_struct! {
    /// An adjustment (discount when negative, surcharge when positive) added to the invoice amount.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Adjustment {
        pub amount: i64,
        pub reason: Option<String>,
    }
}

crate::json_struct! {
    /// A validated invoice creation request with its totals.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Invoice {
        pub customer_guid: String,
        pub amount: i64,
        pub title: Option<String>,
        pub external_id: Option<String>,
        pub appears_on_statement_as: Option<String>,
        pub funding_instrument_uri: Option<String>,
        pub items: Vec<Item>,
        pub adjustments: Vec<Adjustment>,
        pub total_adjustment_amount: i64,
        pub effective_amount: i64,
        /// A coupon code to apply (its discount is added by [`crate::coupon::adjustment`] once redeemed).
        pub coupon: Option<String>,
    }
}

crate::json_struct! {
    /// An invoice's totals.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Totals {
        pub total_adjustment_amount: i64,
        pub effective_amount: i64,
    }
}

const ITEM_FIELDS: [&str; 6] = ["name", "amount", "type", "quantity", "volume", "unit"];
const ADJUSTMENT_FIELDS: [&str; 2] = ["amount", "reason"];

/// One line's fields, looked up by field name, with the name each field has in errors.
pub(crate) struct Line<'a> {
    values: SortedMap<&'static str, (&'a Raw, String)>,
}

impl<'a> Line<'a> {
    pub(crate) fn get(&self, field: &str) -> Option<(&'a Raw, &str)> {
        self.values
            .get(field)
            .filter(|(v, _)| !v.is_absent())
            .map(|(v, name)| (*v, name.as_str()))
    }

    fn is_empty(&self) -> bool {
        self.values.values().all(|(v, _)| v.is_absent())
    }
}

fn item_from(line: &Line, name_of: impl Fn(&str) -> String) -> Result<Item> {
    let string = |f: &str, max: usize| {
        line.get(f)
            .map(|(v, n)| input::string_value(v, n, max))
            .transpose()
    };
    let count = |f: &str| {
        line.get(f)
            .map(|(v, n)| input::int_value(v, n, 0, MAX_AMOUNT))
            .transpose()
    };
    let name = string("name", 128)?.ok_or_else(|| CoreError::missing(name_of("name")))?;
    let amount = line
        .get("amount")
        .map(|(v, n)| input::amount_value(v, n, -MAX_AMOUNT))
        .transpose()?
        .ok_or_else(|| CoreError::missing(name_of("amount")))?;
    Ok(Item {
        name,
        amount,
        r#type: string("type", 64)?,
        quantity: count("quantity")?,
        volume: count("volume")?,
        unit: string("unit", 64)?,
    })
}

fn adjustment_from(line: &Line, name_of: impl Fn(&str) -> String) -> Result<Adjustment> {
    let amount = line
        .get("amount")
        .map(|(v, n)| input::amount_value(v, n, -MAX_AMOUNT))
        .transpose()?
        .ok_or_else(|| CoreError::missing(name_of("amount")))?;
    let reason = line
        .get("reason")
        .map(|(v, n)| input::string_value(v, n, 255))
        .transpose()?;
    Ok(Adjustment { amount, reason })
}

/// The number of a form line: any non-negative integer, as Billy's server read it (`int(suffix)`); its clients
/// number from 0. Held as its digits without leading zeros, ordered by value (shorter is smaller, then by text),
/// so no suffix is too long to compare and `item_name01` is the same line as `item_name1`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LineNo(String);

impl LineNo {
    fn parse(digits: &str) -> LineNo {
        let trimmed = digits.trim_start_matches('0');
        LineNo(if trimmed.is_empty() { "0" } else { trimmed }.to_string())
    }
}

impl Ord for LineNo {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0.len(), &self.0).cmp(&(other.0.len(), &other.0))
    }
}

impl PartialOrd for LineNo {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for LineNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lines given as form keys `<prefix><field><n>`, by n. `prefixes` are alternative spellings of one prefix.
/// A key with no number (`item_name`) is not a line and is ignored, as Billy did; a key whose suffix is not a
/// number (`item_name_1`, `item_amount-1`) is a mistake worth saying so.
fn form_lines<'a>(
    map: &'a SortedMap<String, Raw>,
    prefixes: &[&'static str],
    fields: &[&'static str],
) -> Result<SortedMap<LineNo, (Line<'a>, &'static str)>> {
    let mut lines: SortedMap<LineNo, (Line<'a>, &'static str)> = SortedMap::new();
    for (key, value) in map {
        for &prefix in prefixes {
            let Some(rest) = key.strip_prefix(prefix) else {
                continue;
            };
            // No field name is a prefix of another, so at most one matches.
            let Some(field) = fields.iter().find(|f| rest.starts_with(**f)) else {
                continue;
            };
            let digits = &rest[field.len()..];
            if digits.is_empty() {
                continue;
            }
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CoreError::invalid(
                    key.as_str(),
                    format!(
                        "must end in a line number (a non-negative integer, as in {prefix}{field}0), got \"{}\"",
                        digits.chars().take(20).collect::<String>()
                    ),
                ));
            }
            // Keep the spelling used, so a "missing" error names the key the caller would have sent.
            let spelling = prefix;
            let entry = lines.entry(LineNo::parse(digits)).or_insert_with(|| {
                (
                    Line {
                        values: SortedMap::new(),
                    },
                    spelling,
                )
            });
            if let Some((earlier, earlier_key)) = entry.0.values.get(field) {
                if !earlier.is_absent() && !value.is_absent() {
                    return Err(CoreError::invalid(
                        key.as_str(),
                        format!("is given twice (also as {earlier_key}); use one spelling"),
                    ));
                }
                if value.is_absent() {
                    continue;
                }
            }
            if !value.is_absent() {
                entry.1 = spelling;
            }
            entry.0.values.insert(field, (value, key.clone()));
        }
    }
    Ok(lines)
}

/// Lines given as a JSON array under `key`, each an object.
fn json_lines<'a>(value: &'a Raw, key: &str, fields: &[&'static str]) -> Result<Vec<Line<'a>>> {
    let Raw::Array(elements) = value else {
        return Err(CoreError::invalid(
            key,
            format!("must be an array of objects, got {}", value.kind()),
        ));
    };
    if elements.len() > MAX_LINES {
        return Err(CoreError::invalid(
            key,
            format!(
                "may hold at most {MAX_LINES} entries (got {})",
                elements.len()
            ),
        ));
    }
    elements
        .iter()
        .enumerate()
        .map(|(i, element)| {
            let Raw::Object(map) = element else {
                return Err(CoreError::invalid(
                    format!("{key}[{i}]"),
                    format!("must be an object, got {}", element.kind()),
                ));
            };
            let values = fields
                .iter()
                .filter_map(|f| map.get(*f).map(|v| (*f, (v, format!("{key}[{i}].{f}")))))
                .collect();
            Ok(Line { values })
        })
        .collect()
}

pub(crate) fn parse_lines<T>(
    raw: &Raw,
    json_key: &str,
    prefixes: &[&'static str],
    fields: &[&'static str],
    build: impl Fn(&Line, &dyn Fn(&str) -> String) -> Result<T>,
) -> Result<Vec<T>> {
    let form = match raw {
        Raw::Object(map) => form_lines(map, prefixes, fields)?,
        _ => SortedMap::new(),
    };
    let form: Vec<(LineNo, (Line, &str))> = form
        .into_iter()
        .filter(|(_, (line, _))| !line.is_empty())
        .collect();
    if form.len() > MAX_LINES {
        return Err(CoreError::invalid(
            json_key,
            format!("may hold at most {MAX_LINES} entries (got {})", form.len()),
        ));
    }
    match input::present(raw, json_key) {
        Some(value) => {
            if let Some((n, (_, spelling))) = form.first() {
                return Err(CoreError::invalid(
                    json_key,
                    format!("is given both as an array and as {spelling}…{n} keys; use one form"),
                ));
            }
            json_lines(value, json_key, fields)?
                .iter()
                .enumerate()
                .map(|(i, line)| build(line, &|f| format!("{json_key}[{i}].{f}")))
                .collect()
        }
        None => form
            .iter()
            .map(|(n, (line, spelling))| build(line, &|f| format!("{spelling}{f}{n}")))
            .collect(),
    }
}

/// Items of an invoice request (form keys or JSON array).
pub fn parse_items(raw: &Raw) -> Result<Vec<Item>> {
    parse_lines(raw, "items", &["item_"], &ITEM_FIELDS, |line, name_of| {
        item_from(line, name_of)
    })
}

/// Adjustments of an invoice request (form keys in either spelling, or JSON array).
pub fn parse_adjustments(raw: &Raw) -> Result<Vec<Adjustment>> {
    parse_lines(
        raw,
        "adjustments",
        &["adjustment_", "adjustments_"],
        &ADJUSTMENT_FIELDS,
        |line, name_of| adjustment_from(line, name_of),
    )
}

/// Adjustments given directly as an array `[{amount, reason}]` (errors name `adjustments[i].…`).
pub fn adjustments_from_array(value: &Raw) -> Result<Vec<Adjustment>> {
    json_lines(value, "adjustments", &ADJUSTMENT_FIELDS)?
        .iter()
        .enumerate()
        .map(|(i, line)| adjustment_from(line, |f| format!("adjustments[{i}].{f}")))
        .collect()
}

/// `total_adjustment_amount = Σ adjustments`, `effective_amount = amount + total`; effective < 0 is refused.
pub fn invoice_totals(amount: i64, adjustments: &[Adjustment]) -> Result<Totals> {
    let total =
        money::sum(adjustments.iter().map(|a| a.amount)).map_err(|e| e.in_field("adjustments"))?;
    totals_with(amount, total)
}

/// [`invoice_totals`] once `Σ adjustments` is known: the batch export sums a shared list once, not per invoice.
pub fn totals_with(amount: i64, total: i64) -> Result<Totals> {
    let effective = money::add(amount, total).map_err(|e| e.in_field("adjustments"))?;
    if effective < 0 {
        return Err(CoreError::NegativeEffectiveAmount {
            amount,
            total_adjustment_amount: total,
            effective_amount: effective,
        });
    }
    Ok(Totals {
        total_adjustment_amount: total,
        effective_amount: effective,
    })
}

/// Validates an invoice creation request and computes its totals.
pub fn validate_invoice(raw: &Raw) -> Result<Invoice> {
    input::object(raw, "input")?;
    let customer_guid = input::req_string(raw, "customer_guid", 64)?;
    let amount = input::req_amount(raw, "amount", 0)?;
    let title = input::opt_string(raw, "title", 128)?;
    let external_id = input::opt_string(raw, "external_id", 255)?;
    let appears_on_statement_as = input::statement_descriptor(raw, "appears_on_statement_as")?;
    let funding_instrument_uri = input::opt_string(raw, "funding_instrument_uri", 255)?;
    let items = parse_items(raw)?;
    let adjustments = parse_adjustments(raw)?;
    let totals = invoice_totals(amount, &adjustments)?;
    let coupon = crate::subscription::coupon_field(raw)?;
    Ok(Invoice {
        coupon,
        customer_guid,
        amount,
        title,
        external_id,
        appears_on_statement_as,
        funding_instrument_uri,
        items,
        adjustments,
        total_adjustment_amount: totals.total_adjustment_amount,
        effective_amount: totals.effective_amount,
    })
}

crate::json_struct! {
    /// A validated funding instrument update.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct FundingInstrument {
        pub funding_instrument_uri: String,
    }
}

/// Validates `{funding_instrument_uri}`: required, non-empty, at most 255 characters.
pub fn validate_funding_instrument(raw: &Raw) -> Result<FundingInstrument> {
    input::object(raw, "input")?;
    Ok(FundingInstrument {
        funding_instrument_uri: input::req_string(raw, "funding_instrument_uri", 255)?,
    })
}

crate::names! {
    /// Where an invoice is in its life.
    pub enum Status as "InvoiceStatus" {
        Staged = "staged",
        Processing = "processing",
        Settled = "settled",
        Failed = "failed",
        Canceled = "canceled",
    }
}

crate::names! {
    /// Something that happens to an invoice.
    pub enum Event as "InvoiceEvent" {
        /// The invoice is (re)submitted to the processor.
        Submit = "submit",
        /// A new funding instrument is attached, which resubmits.
        UpdateInstrument = "update_instrument",
        /// A zero effective amount settles without a charge.
        SettleZero = "settle_zero",
        /// The processor reports success.
        Succeeded = "succeeded",
        /// The processor reports the charge still pending.
        Pending = "pending",
        /// The processor reports failure.
        Failed = "failed",
        /// The merchant cancels the invoice.
        Cancel = "cancel",
    }
}

impl Event {
    fn verb(self) -> &'static str {
        match self {
            Event::Submit => "submit",
            Event::UpdateInstrument => "update the funding instrument of",
            Event::SettleZero => "settle without a charge",
            Event::Succeeded => "record a successful charge for",
            Event::Pending => "record a pending charge for",
            Event::Failed => "record a failed charge for",
            Event::Cancel => "cancel",
        }
    }
}

/// The status after `event`, or `invalid_state` (409) when the event is not allowed in `status`.
pub fn transition(status: Status, event: Event) -> Result<Status> {
    use Event as E;
    use Status as S;
    let next = match (event, status) {
        (E::Submit | E::UpdateInstrument, S::Staged | S::Processing | S::Failed) => {
            Some(S::Processing)
        }
        (E::SettleZero, S::Staged) => Some(S::Settled),
        (E::Succeeded, S::Processing) => Some(S::Settled),
        (E::Pending, S::Processing) => Some(S::Processing),
        (E::Failed, S::Processing) => Some(S::Failed),
        (E::Cancel, S::Staged | S::Processing | S::Failed) => Some(S::Canceled),
        _ => None,
    };
    next.ok_or_else(|| CoreError::InvalidState {
        reason: format!(
            "cannot {} an invoice that is {}",
            event.verb(),
            status.as_str()
        ),
    })
}

/// [`transition`] on names, as the worker stores them.
pub fn transition_names(status: &str, event: &str) -> Result<&'static str> {
    transition(
        Status::parse(status, "status")?,
        Event::parse(event, "event")?,
    )
    .map(Status::as_str)
}

crate::json_struct! {
    /// A validated refund.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Refund {
        pub amount: i64,
    }
}

/// The invoice facts a refund is judged against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundableInvoice {
    pub status: Status,
    /// `debit` or `credit`.
    pub transaction_type: String,
    pub effective_amount: i64,
    pub refunded_amount: i64,
    /// Given back already as a customer balance credit (a prorated cancel's unused time): it counts as refunded.
    pub credited_amount: i64,
}

impl RefundableInvoice {
    /// Reads `{status, transaction_type, effective_amount, refunded_amount, credited_amount}` (the last two absent =
    /// 0).
    pub fn from_raw(raw: &Raw) -> Result<RefundableInvoice> {
        let field = |f: &str| format!("invoice.{f}");
        input::object(raw, "invoice")?;
        let status =
            input::req_string(raw, "status", 32).map_err(|e| e.in_field(&field("status")))?;
        let transaction_type = input::req_string(raw, "transaction_type", 32)
            .map_err(|e| e.in_field(&field("transaction_type")))?;
        let effective_amount = input::req_amount(raw, "effective_amount", 0)
            .map_err(|e| e.in_field(&field("effective_amount")))?;
        let refunded_amount = input::opt_amount(raw, "refunded_amount", 0)
            .map_err(|e| e.in_field(&field("refunded_amount")))?
            .unwrap_or(0);
        let credited_amount = input::opt_amount(raw, "credited_amount", 0)
            .map_err(|e| e.in_field(&field("credited_amount")))?
            .unwrap_or(0);
        Ok(RefundableInvoice {
            status: Status::parse(&status, &field("status"))?,
            transaction_type: transaction_type.to_ascii_lowercase(),
            effective_amount,
            refunded_amount,
            credited_amount,
        })
    }
}

/// Validates a refund request `{amount}` against the invoice: settled debit invoices only, amount > 0, and
/// `refunded_amount + credited_amount + amount ≤ effective_amount` (credit given back for the invoice counts as
/// refunded, and the error's `already refunded` includes it).
pub fn validate_refund(raw: &Raw, invoice: &RefundableInvoice) -> Result<Refund> {
    input::object(raw, "input")?;
    if invoice.status != Status::Settled {
        return Err(CoreError::InvalidState {
            reason: format!(
                "only settled invoices can be refunded (this one is {})",
                invoice.status.as_str()
            ),
        });
    }
    if invoice.transaction_type != "debit" {
        return Err(CoreError::InvalidState {
            reason: format!(
                "only debit invoices can be refunded (this one is {})",
                invoice.transaction_type
            ),
        });
    }
    let amount = input::req_amount(raw, "amount", 1)?;
    let given = money::add(invoice.refunded_amount, invoice.credited_amount)?;
    if i128::from(given) + i128::from(amount) > i128::from(invoice.effective_amount) {
        return Err(CoreError::RefundExceedsAmount {
            amount,
            refunded_amount: given,
            effective_amount: invoice.effective_amount,
        });
    }
    Ok(Refund { amount })
}

crate::json_struct! {
    /// How a new invoice opens.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Opening {
        /// `settled`, `processing` or `staged`.
        pub status: &'static str,
        /// Whether one transaction for the effective amount is created with the invoice.
        pub charge: bool,
    }
}

/// Nothing to pay → `settled` with no transaction; a funding instrument → `processing` and one transaction for
/// the effective amount; otherwise `staged`, waiting for an instrument (`PUT` on the invoice).
pub fn opening(effective_amount: i64, has_instrument: bool) -> Result<Opening> {
    if effective_amount < 0 {
        return Err(CoreError::invalid(
            "effective_amount",
            "must not be negative",
        ));
    }
    let (status, charge) = if effective_amount == 0 {
        (transition(Status::Staged, Event::SettleZero)?, false)
    } else if has_instrument {
        (transition(Status::Staged, Event::Submit)?, true)
    } else {
        (Status::Staged, false)
    };
    Ok(Opening {
        status: status.as_str(),
        charge,
    })
}

/// A stored transaction of an invoice, as refunds need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedTx {
    pub guid: String,
    pub funding_instrument_uri: Option<String>,
    /// The transaction a refund or reversal returns.
    pub reference_guid: Option<String>,
    pub tx: Tx,
}

impl OwnedTx {
    /// Reads a stored transaction row (see [`Tx::from_raw`]) with its `guid`, `funding_instrument_uri` and
    /// `reference_guid`.
    pub fn from_raw(raw: &Raw) -> Result<OwnedTx> {
        Ok(OwnedTx {
            guid: input::req_string(raw, "guid", 64).map_err(|e| e.in_field("transaction.guid"))?,
            funding_instrument_uri: input::opt_string(raw, "funding_instrument_uri", 255)
                .map_err(|e| e.in_field("transaction.funding_instrument_uri"))?,
            reference_guid: input::opt_string(raw, "reference_guid", 64)
                .map_err(|e| e.in_field("transaction.reference_guid"))?,
            tx: Tx::from_raw(raw)?,
        })
    }
}

crate::json_struct! {
    /// A refund the worker stages: how much, and which debit it returns.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RefundPlan {
        pub transaction_type: Kind,
        pub amount: i64,
        pub reference_guid: String,
        pub funding_instrument_uri: Option<String>,
    }
}

/// Plans a refund request `{amount}` on an invoice with its transactions (stored order): the limit counts every
/// refund planned, in flight or done ([`ledger`]), and the refund returns the latest settled debit the invoice
/// kept (not one already repaid as a late success).
pub fn plan_refund(raw: &Raw, invoice: &RefundableInvoice, txs: &[OwnedTx]) -> Result<RefundPlan> {
    // A charge the invoice did not want (one that succeeded after a cancel, or a second payment racing the first) is
    // repaid by a refund that references it: that repayment is no refund of what the invoice kept.
    let unwanted = |guid: &Option<String>| {
        txs.iter().any(|d| {
            d.tx.kind == Kind::Debit && d.tx.unwanted && guid.as_deref() == Some(d.guid.as_str())
        })
    };
    let movements: Vec<Movement> = txs
        .iter()
        .filter(|t| !(t.tx.kind == Kind::Refund && unwanted(&t.reference_guid)))
        .map(|t| Movement::from(&t.tx))
        .collect();
    let refunded_amount = Ledger::fold(&movements)?.refunded()?;
    let judged = RefundableInvoice {
        refunded_amount,
        ..invoice.clone()
    };
    let Refund { amount } = validate_refund(raw, &judged)?;
    let debit = txs
        .iter()
        .rev()
        .find(|t| t.tx.kind == Kind::Debit && state_of(&t.tx) == State::Settled && !t.tx.unwanted)
        .ok_or_else(|| CoreError::InvalidState {
            reason: "This invoice has no settled payment to refund".into(),
        })?;
    Ok(RefundPlan {
        transaction_type: Kind::Refund,
        amount,
        reference_guid: debit.guid.clone(),
        funding_instrument_uri: debit.funding_instrument_uri.clone(),
    })
}

/// How an invoice follows what happened to one of its payments:
///
/// | effect | from | to |
/// |---|---|---|
/// | succeeded | processing, failed (a charge found after all) | settled |
/// | failed | processing | failed |
/// | anything else | any | unchanged |
///
/// A canceled invoice never moves: the payment it let go of is repaid instead (the effect is `refund_required`).
/// Only the invoice's own payments move it ([`is_own_payment`]): a refund's success is no payment of the invoice.
pub fn on_payment(status: Status, effect: Effect) -> Status {
    match (effect, status) {
        (Effect::Succeeded, Status::Processing | Status::Failed) => Status::Settled,
        (Effect::Failed, Status::Processing) => Status::Failed,
        _ => status,
    }
}

/// Whether a transaction of `tx_kind` pays an invoice of `invoice_kind` (`debit` or `credit`): a debit invoice is
/// paid by debits, a payout invoice by credits; refunds and reversals (a repayment of a charge found after a cancel,
/// say) never count as its payment.
pub fn is_own_payment(invoice_kind: &str, tx_kind: Kind) -> bool {
    match tx_kind {
        Kind::Debit => invoice_kind.eq_ignore_ascii_case("debit"),
        Kind::Credit => invoice_kind.eq_ignore_ascii_case("credit"),
        Kind::Refund | Kind::Reversal => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;

    #[test]
    fn only_its_own_payments_move_an_invoice() {
        assert!(is_own_payment("debit", Kind::Debit));
        assert!(is_own_payment("credit", Kind::Credit));
        assert!(!is_own_payment("debit", Kind::Refund));
        assert!(!is_own_payment("credit", Kind::Reversal));
        assert!(!is_own_payment("debit", Kind::Credit));
    }

    #[test]
    fn opening_status_follows_the_amount_and_the_instrument() {
        let o = |amount, fi| opening(amount, fi).unwrap();
        assert_eq!(
            o(0, false),
            Opening {
                status: "settled",
                charge: false
            }
        );
        assert_eq!(
            o(0, true),
            Opening {
                status: "settled",
                charge: false
            }
        );
        assert_eq!(
            o(900, true),
            Opening {
                status: "processing",
                charge: true
            }
        );
        assert_eq!(
            o(900, false),
            Opening {
                status: "staged",
                charge: false
            }
        );
        assert_eq!(opening(-1, true).unwrap_err().code(), "invalid_field");
    }

    fn obj(pairs: &[(&str, Raw)]) -> Raw {
        Raw::object(pairs.iter().cloned())
    }

    fn base(extra: &[(&str, Raw)]) -> Raw {
        let mut pairs = vec![
            ("customer_guid", Raw::from("CU1")),
            ("amount", Raw::from("1000")),
        ];
        pairs.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        pairs.extend(extra.iter().cloned());
        obj(&pairs)
    }

    fn err(raw: &Raw) -> (String, u16, Option<String>) {
        let e = validate_invoice(raw).unwrap_err();
        (e.code().to_string(), e.status(), e.field())
    }

    fn item(name: &str, amount: i64) -> Item {
        Item {
            name: name.into(),
            amount,
            r#type: None,
            quantity: None,
            volume: None,
            unit: None,
        }
    }

    #[test]
    fn minimal_invoice() {
        let inv = validate_invoice(&base(&[])).unwrap();
        assert_eq!(
            inv,
            Invoice {
                customer_guid: "CU1".into(),
                amount: 1000,
                title: None,
                external_id: None,
                appears_on_statement_as: None,
                funding_instrument_uri: None,
                items: vec![],
                adjustments: vec![],
                total_adjustment_amount: 0,
                effective_amount: 1000,
                coupon: None,
            }
        );
        assert_eq!(
            validate_invoice(&base(&[("amount", "0".into())]))
                .unwrap()
                .effective_amount,
            0
        );
    }

    #[test]
    fn form_items_sorted_with_gaps_and_empty_rows() {
        let inv = validate_invoice(&base(&[
            ("item_name10", "Ten".into()),
            ("item_amount10", "-5".into()),
            ("item_name2", "Two".into()),
            ("item_amount2", "200".into()),
            ("item_type2", "hours".into()),
            ("item_quantity2", "3".into()),
            ("item_volume2", 7i64.into()),
            ("item_unit2", "h".into()),
            ("item_name5", "".into()),
            ("item_amount5", "".into()),
        ]))
        .unwrap();
        assert_eq!(
            inv.items,
            vec![
                Item {
                    name: "Two".into(),
                    amount: 200,
                    r#type: Some("hours".into()),
                    quantity: Some(3),
                    volume: Some(7),
                    unit: Some("h".into())
                },
                item("Ten", -5),
            ]
        );
        // Items never change totals.
        assert_eq!(inv.effective_amount, 1000);
    }

    #[test]
    fn json_items() {
        let items = Raw::Array(vec![
            obj(&[("name", "A".into()), ("amount", 100i64.into())]),
            obj(&[
                ("name", "B".into()),
                ("amount", "7".into()),
                ("quantity", Raw::Null),
                ("unit", "".into()),
            ]),
        ]);
        let inv = validate_invoice(&base(&[("items", items)])).unwrap();
        assert_eq!(inv.items, vec![item("A", 100), item("B", 7)]);
    }

    #[test]
    fn item_errors_name_the_key_or_path() {
        let e = |extra: &[(&str, Raw)]| err(&base(extra));
        assert_eq!(
            e(&[("item_name2", "x".into())]),
            ("missing_field".into(), 400, Some("item_amount2".into()))
        );
        assert_eq!(
            e(&[("item_amount2", "5".into())]),
            ("missing_field".into(), 400, Some("item_name2".into()))
        );
        assert_eq!(
            e(&[("item_name2", "x".into()), ("item_amount2", "5.5".into())])
                .2
                .as_deref(),
            Some("item_amount2")
        );
        assert_eq!(
            e(&[
                ("item_name2", "x".into()),
                ("item_amount2", "5".into()),
                ("item_quantity2", "-1".into())
            ])
            .2
            .as_deref(),
            Some("item_quantity2")
        );
        assert_eq!(
            e(&[
                ("item_name2", "x".repeat(129).into()),
                ("item_amount2", "5".into())
            ])
            .2
            .as_deref(),
            Some("item_name2")
        );
        // Any number is a line number; a line still needs its name and amount.
        assert_eq!(
            e(&[("item_name101", "x".into())]),
            ("missing_field".into(), 400, Some("item_amount101".into()))
        );
        assert_eq!(
            e(&[("item_name0", "x".into())]),
            ("missing_field".into(), 400, Some("item_amount0".into()))
        );
        // A suffix that is not a number is refused, naming the key.
        for bad in [
            "item_amount-1",
            "item_amountx",
            "item_amount_1",
            "item_amount1.5",
            "item_amount 1",
        ] {
            assert_eq!(
                e(&[("item_name1", "x".into()), (bad, "5".into())]),
                ("invalid_field".into(), 400, Some(bad.into())),
                "{bad}"
            );
        }
        // The same line twice (leading zeros name the same number).
        assert_eq!(
            e(&[
                ("item_name1", "x".into()),
                ("item_name01", "y".into()),
                ("item_amount1", "5".into())
            ])
            .0,
            "invalid_field"
        );
        assert_eq!(
            e(&[
                ("item_name1", "x".into()),
                ("item_amount1", "9007199254740992".into())
            ]),
            (
                "amount_out_of_range".into(),
                400,
                Some("item_amount1".into())
            )
        );
        let items = Raw::Array(vec![
            obj(&[("name", "A".into()), ("amount", 1i64.into())]),
            obj(&[("name", "B".into()), ("amount", Raw::Bool(true))]),
        ]);
        assert_eq!(e(&[("items", items)]).2.as_deref(), Some("items[1].amount"));
        assert_eq!(
            e(&[("items", Raw::Array(vec![Raw::from("A")]))])
                .2
                .as_deref(),
            Some("items[0]")
        );
        assert_eq!(
            e(&[("items", Raw::Array(vec![obj(&[])]))]),
            ("missing_field".into(), 400, Some("items[0].name".into()))
        );
        assert_eq!(e(&[("items", "A".into())]).2.as_deref(), Some("items"));
        let too_many = Raw::Array(
            (0..101)
                .map(|_| obj(&[("name", "A".into()), ("amount", 1i64.into())]))
                .collect(),
        );
        assert_eq!(e(&[("items", too_many)]).2.as_deref(), Some("items"));
        let both = [
            ("items", Raw::Array(vec![])),
            ("item_name1", "A".into()),
            ("item_amount1", "1".into()),
        ];
        assert_eq!(e(&both).2.as_deref(), Some("items"));
        // Unnumbered or unknown keys are ignored.
        assert!(validate_invoice(&base(&[
            ("item_name", "x".into()),
            ("item_colour1", "red".into())
        ]))
        .unwrap()
        .items
        .is_empty());
    }

    #[test]
    fn form_items_numbered_from_zero_as_billy_clients_send_them() {
        // billy-client 0.0.8 numbers with Python's enumerate: item_name0, item_amount0, item_name1, …
        let inv = validate_invoice(&base(&[
            ("item_name0", "Zero".into()),
            ("item_amount0", "100".into()),
            ("item_name1", "One".into()),
            ("item_amount1", "200".into()),
            ("adjustment_amount0", "-50".into()),
            ("adjustment_reason0", "coupon".into()),
        ]))
        .unwrap();
        assert_eq!(inv.items, vec![item("Zero", 100), item("One", 200)]);
        assert_eq!(inv.total_adjustment_amount, -50);
        assert_eq!(inv.effective_amount, 950);
    }

    #[test]
    fn form_line_numbers_order_by_value_at_any_size() {
        let big = "123456789012345678901234567890";
        let inv = validate_invoice(&base(&[
            (&format!("item_name{big}"), "Big".into()),
            (&format!("item_amount{big}"), "3".into()),
            ("item_name10", "Ten".into()),
            ("item_amount10", "2".into()),
            ("item_name9", "Nine".into()),
            ("item_amount9", "1".into()),
            ("item_name007", "Seven".into()),
            ("item_amount7", "0".into()),
        ]))
        .unwrap();
        let names: Vec<&str> = inv.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["Seven", "Nine", "Ten", "Big"]);
    }

    #[test]
    fn more_than_a_hundred_form_lines_refused() {
        let mut pairs: Vec<(String, Raw)> = vec![
            ("customer_guid".into(), "CU1".into()),
            ("amount".into(), "1".into()),
        ];
        for n in 0..=100 {
            pairs.push((format!("item_name{n}"), format!("item {n}").into()));
            pairs.push((format!("item_amount{n}"), Raw::from(n as i64)));
        }
        let e = validate_invoice(&Raw::object(pairs)).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("invalid_field", Some("items"))
        );
        assert!(e.to_string().contains("at most 100"), "{e}");
    }

    #[test]
    fn hundred_form_items_accepted() {
        let mut pairs: Vec<(String, Raw)> = vec![
            ("customer_guid".into(), "CU1".into()),
            ("amount".into(), "1".into()),
        ];
        for n in 1..=100 {
            pairs.push((format!("item_name{n}"), format!("item {n}").into()));
            pairs.push((format!("item_amount{n}"), Raw::from(n as i64)));
        }
        let inv = validate_invoice(&Raw::object(pairs)).unwrap();
        assert_eq!(inv.items.len(), 100);
        assert_eq!(inv.items[99], item("item 100", 100));
        assert_eq!(inv.items[9].name, "item 10");
    }

    #[test]
    fn adjustments_both_spellings_and_json() {
        let inv = validate_invoice(&base(&[
            ("adjustment_amount1", "-100".into()),
            ("adjustment_reason1", "loyalty".into()),
            ("adjustments_amount3", "50".into()),
            ("adjustments_reason2", "".into()),
        ]))
        .unwrap();
        assert_eq!(
            inv.adjustments,
            vec![
                Adjustment {
                    amount: -100,
                    reason: Some("loyalty".into())
                },
                Adjustment {
                    amount: 50,
                    reason: None
                }
            ]
        );
        assert_eq!(
            (inv.total_adjustment_amount, inv.effective_amount),
            (-50, 950)
        );
        let json = Raw::Array(vec![obj(&[
            ("amount", (-1000i64).into()),
            ("reason", "free".into()),
        ])]);
        let inv = validate_invoice(&base(&[("adjustments", json)])).unwrap();
        assert_eq!(
            (inv.total_adjustment_amount, inv.effective_amount),
            (-1000, 0)
        );
    }

    #[test]
    fn adjustment_errors() {
        let e = |extra: &[(&str, Raw)]| err(&base(extra));
        assert_eq!(
            e(&[("adjustments_reason2", "x".into())]).2.as_deref(),
            Some("adjustments_amount2")
        );
        assert_eq!(
            e(&[("adjustment_reason2", "x".into())]).2.as_deref(),
            Some("adjustment_amount2")
        );
        assert_eq!(
            e(&[
                ("adjustment_amount1", "1".into()),
                ("adjustments_amount1", "2".into())
            ])
            .0,
            "invalid_field"
        );
        assert_eq!(
            e(&[
                ("adjustment_amount1", "1".into()),
                ("adjustment_reason1", "r".repeat(256).into())
            ])
            .2
            .as_deref(),
            Some("adjustment_reason1")
        );
        assert_eq!(
            e(&[("adjustment_amount1", "-1001".into())]),
            (
                "negative_effective_amount".into(),
                400,
                Some("adjustments".into())
            )
        );
        let big = [
            ("amount", Raw::from(MAX_AMOUNT)),
            ("adjustment_amount1", Raw::from("1")),
        ];
        assert_eq!(
            e(&big),
            (
                "amount_out_of_range".into(),
                400,
                Some("adjustments".into())
            )
        );
        let json = Raw::Array(vec![obj(&[("reason", "x".into())])]);
        assert_eq!(
            e(&[("adjustments", json)]).2.as_deref(),
            Some("adjustments[0].amount")
        );
        let msg = validate_invoice(&base(&[("adjustment_amount1", "-1500".into())]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "adjustments totalling -1500 would bring the invoice amount 1000 to -500, below 0"
        );
    }

    #[test]
    fn top_level_fields() {
        let e = |extra: &[(&str, Raw)]| err(&base(extra));
        assert_eq!(
            e(&[("customer_guid", Raw::Null)]).2.as_deref(),
            Some("customer_guid")
        );
        assert_eq!(
            e(&[("amount", "".into())]),
            ("missing_field".into(), 400, Some("amount".into()))
        );
        assert_eq!(
            e(&[("amount", "-1".into())]),
            ("amount_out_of_range".into(), 400, Some("amount".into()))
        );
        assert_eq!(
            e(&[("title", "t".repeat(129).into())]).2.as_deref(),
            Some("title")
        );
        assert_eq!(
            e(&[("external_id", "t".repeat(256).into())]).2.as_deref(),
            Some("external_id")
        );
        assert_eq!(
            e(&[("funding_instrument_uri", "t".repeat(256).into())])
                .2
                .as_deref(),
            Some("funding_instrument_uri")
        );
        assert_eq!(
            e(&[("appears_on_statement_as", "BAD*".into())])
                .2
                .as_deref(),
            Some("appears_on_statement_as")
        );
        let inv = validate_invoice(&base(&[
            ("title", "March".into()),
            ("external_id", "ext-1".into()),
            ("appears_on_statement_as", "ACME".into()),
            ("funding_instrument_uri", "/v1/cards/1".into()),
        ]))
        .unwrap();
        assert_eq!(
            (
                inv.title.as_deref(),
                inv.external_id.as_deref(),
                inv.appears_on_statement_as.as_deref(),
                inv.funding_instrument_uri.as_deref()
            ),
            (
                Some("March"),
                Some("ext-1"),
                Some("ACME"),
                Some("/v1/cards/1")
            )
        );
    }

    #[test]
    fn totals() {
        let adj = |a: i64| Adjustment {
            amount: a,
            reason: None,
        };
        assert_eq!(
            invoice_totals(500, &[]).unwrap(),
            Totals {
                total_adjustment_amount: 0,
                effective_amount: 500
            }
        );
        assert_eq!(
            invoice_totals(500, &[adj(-200), adj(50)]).unwrap(),
            Totals {
                total_adjustment_amount: -150,
                effective_amount: 350
            }
        );
        assert_eq!(
            invoice_totals(500, &[adj(-500)]).unwrap().effective_amount,
            0
        );
        assert_eq!(
            invoice_totals(500, &[adj(-501)]).unwrap_err().code(),
            "negative_effective_amount"
        );
        assert_eq!(
            invoice_totals(0, &[adj(MAX_AMOUNT), adj(1)])
                .unwrap_err()
                .code(),
            "amount_out_of_range"
        );
        let from_array = adjustments_from_array(&Raw::Array(vec![obj(&[
            ("amount", "-3".into()),
            ("reason", "r".into()),
        ])]))
        .unwrap();
        assert_eq!(
            from_array,
            vec![Adjustment {
                amount: -3,
                reason: Some("r".into())
            }]
        );
    }

    #[test]
    fn funding_instrument() {
        let ok = validate_funding_instrument(&obj(&[(
            "funding_instrument_uri",
            "/v1/cards/CC1".into(),
        )]))
        .unwrap();
        assert_eq!(ok.funding_instrument_uri, "/v1/cards/CC1");
        for bad in [Raw::Null, "".into(), "x".repeat(256).into()] {
            let e =
                validate_funding_instrument(&obj(&[("funding_instrument_uri", bad)])).unwrap_err();
            assert_eq!(e.field().as_deref(), Some("funding_instrument_uri"));
        }
    }

    #[test]
    fn status_machine_table() {
        use Event as E;
        use Status as S;
        let allowed = [
            (S::Staged, E::Submit, S::Processing),
            (S::Processing, E::Submit, S::Processing),
            (S::Failed, E::Submit, S::Processing),
            (S::Staged, E::UpdateInstrument, S::Processing),
            (S::Processing, E::UpdateInstrument, S::Processing),
            (S::Failed, E::UpdateInstrument, S::Processing),
            (S::Staged, E::SettleZero, S::Settled),
            (S::Processing, E::Succeeded, S::Settled),
            (S::Processing, E::Pending, S::Processing),
            (S::Processing, E::Failed, S::Failed),
            (S::Staged, E::Cancel, S::Canceled),
            (S::Processing, E::Cancel, S::Canceled),
            (S::Failed, E::Cancel, S::Canceled),
        ];
        for &status in Status::ALL {
            for &event in Event::ALL {
                let want = allowed
                    .iter()
                    .find(|(s, e, _)| *s == status && *e == event)
                    .map(|t| t.2);
                match (transition(status, event), want) {
                    (Ok(got), Some(want)) => assert_eq!(got, want),
                    (Err(e), None) => {
                        assert_eq!(
                            (e.code(), e.status(), e.field()),
                            ("invalid_state", 409, None)
                        );
                        assert!(e
                            .to_string()
                            .ends_with(&format!("an invoice that is {}", status.as_str())));
                    }
                    (got, want) => panic!("{status:?} + {event:?}: got {got:?}, want {want:?}"),
                }
            }
        }
        assert_eq!(
            transition(S::Settled, E::Cancel).unwrap_err().to_string(),
            "cannot cancel an invoice that is settled"
        );
        // Settled and canceled are final.
        for &event in Event::ALL {
            assert!(
                transition(S::Settled, event).is_err() && transition(S::Canceled, event).is_err()
            );
        }
    }

    #[test]
    fn status_machine_by_name() {
        assert_eq!(transition_names("staged", "submit").unwrap(), "processing");
        assert_eq!(
            transition_names("processing", "succeeded").unwrap(),
            "settled"
        );
        // Names are the core's own: written by it, read back exactly.
        assert_eq!(
            transition_names("PROCESSING", "succeeded")
                .unwrap_err()
                .code(),
            "invalid_field"
        );
        assert_eq!(
            transition_names("bogus", "submit")
                .unwrap_err()
                .field()
                .as_deref(),
            Some("status")
        );
        assert_eq!(
            transition_names("staged", "explode")
                .unwrap_err()
                .field()
                .as_deref(),
            Some("event")
        );
        assert_eq!(
            transition_names("canceled", "submit").unwrap_err().code(),
            "invalid_state"
        );
    }

    #[test]
    fn invoices_follow_their_payments() {
        use Effect as E;
        use Status as S;
        assert_eq!(on_payment(S::Processing, E::Succeeded), S::Settled);
        assert_eq!(
            on_payment(S::Failed, E::Succeeded),
            S::Settled,
            "a charge found after all pays it"
        );
        assert_eq!(on_payment(S::Processing, E::Failed), S::Failed);
        assert_eq!(on_payment(S::Processing, E::Pending), S::Processing);
        for effect in Effect::ALL {
            assert_eq!(
                on_payment(S::Canceled, *effect),
                S::Canceled,
                "a canceled invoice never moves"
            );
            assert_eq!(
                on_payment(S::Settled, *effect),
                S::Settled,
                "a settled invoice never moves"
            );
        }
        assert_eq!(on_payment(S::Processing, E::RefundRequired), S::Processing);
        assert_eq!(on_payment(S::Processing, E::Ignored), S::Processing);
    }

    fn owned(
        guid: &str,
        kind: Kind,
        amount: i64,
        submit: &str,
        status: Option<&str>,
        unwanted: bool,
    ) -> OwnedTx {
        let mut pairs = vec![
            ("guid", Raw::from(guid)),
            ("transaction_type", Raw::from(kind.as_str())),
            ("amount", Raw::from(amount)),
            ("submit_status", Raw::from(submit)),
            ("unwanted", Raw::Bool(unwanted)),
            (
                "funding_instrument_uri",
                Raw::from(format!("/cards/{guid}")),
            ),
        ];
        if let Some(st) = status {
            pairs.push(("status", Raw::from(st)));
        }
        OwnedTx::from_raw(&Raw::object(pairs)).unwrap()
    }

    #[test]
    fn refund_plans_count_the_ledger_and_return_the_kept_debit() {
        let inv = settled(900, 0);
        let req = |a: &str| obj(&[("amount", a.into())]);
        let txs = vec![
            owned("TX1", Kind::Debit, 900, "done", Some("succeeded"), true),
            owned("TX2", Kind::Refund, 900, "done", Some("succeeded"), false),
            owned("TX3", Kind::Debit, 900, "done", Some("succeeded"), false),
            owned("TX4", Kind::Debit, 900, "canceled", None, true),
        ];
        // TX2 repaid TX1, a charge the invoice did not want (a late success): no refund of the 900 it kept (TX3).
        let mut txs = txs;
        txs[1].reference_guid = Some("TX1".into());
        assert_eq!(
            plan_refund(&req("900"), &inv, &txs).unwrap().reference_guid,
            "TX3"
        );
        assert_eq!(
            plan_refund(&req("901"), &inv, &txs).unwrap_err().code(),
            "refund_exceeds_amount"
        );
        // A refund of a kept payment counts: with TX2 a refund of TX3, nothing is left.
        let mut merchant = txs.clone();
        merchant[1].reference_guid = Some("TX3".into());
        assert_eq!(
            plan_refund(&req("1"), &inv, &merchant).unwrap_err().code(),
            "refund_exceeds_amount"
        );
        let kept = vec![
            txs[0].clone(),
            txs[2].clone(),
            owned("TX5", Kind::Refund, 300, "staged", None, false),
        ];
        let plan = plan_refund(&req("600"), &inv, &kept).unwrap();
        assert_eq!(
            plan,
            RefundPlan {
                transaction_type: Kind::Refund,
                amount: 600,
                reference_guid: "TX3".into(),
                funding_instrument_uri: Some("/cards/TX3".into())
            }
        );
        assert_eq!(
            plan_refund(&req("601"), &inv, &kept).unwrap_err().code(),
            "refund_exceeds_amount"
        );
        // A failed refund gave nothing back and does not count.
        let failed = vec![
            txs[2].clone(),
            owned("TX6", Kind::Refund, 900, "failed", Some("failed"), false),
        ];
        assert_eq!(plan_refund(&req("900"), &inv, &failed).unwrap().amount, 900);
        let none = vec![txs[3].clone()];
        assert_eq!(
            plan_refund(&req("1"), &inv, &none).unwrap_err().code(),
            "invalid_state"
        );
    }

    fn settled(effective: i64, refunded: i64) -> RefundableInvoice {
        RefundableInvoice {
            status: Status::Settled,
            transaction_type: "debit".into(),
            effective_amount: effective,
            refunded_amount: refunded,
            credited_amount: 0,
        }
    }

    /// Credit a prorated cancel gave back for the invoice's period counts as refunded: 3000 paid, 1500 credited
    /// leaves 1500 to refund, in either order.
    #[test]
    fn credit_given_back_counts_as_refunded() {
        let req = |a: &str| obj(&[("amount", a.into())]);
        let mut inv = settled(3000, 0);
        inv.credited_amount = 1500;
        assert_eq!(
            validate_refund(&req("1500"), &inv).unwrap(),
            Refund { amount: 1500 }
        );
        let e = validate_refund(&req("1501"), &inv).unwrap_err();
        assert_eq!(e.code(), "refund_exceeds_amount");
        assert!(e.to_string().contains("already refunded 1500"), "{e}");
    }

    #[test]
    fn refunds() {
        let req = |a: &str| obj(&[("amount", a.into())]);
        assert_eq!(
            validate_refund(&req("400"), &settled(900, 500)).unwrap(),
            Refund { amount: 400 }
        );
        let e = validate_refund(&req("600"), &settled(900, 500)).unwrap_err();
        assert_eq!(
            (e.code(), e.status(), e.field().as_deref()),
            ("refund_exceeds_amount", 400, Some("amount"))
        );
        assert_eq!(e.to_string(), "refund of 600 would bring refunds to 1100, above the invoice's effective amount 900 (already refunded 500)");
        for bad in ["0", "-5"] {
            assert_eq!(
                validate_refund(&req(bad), &settled(900, 0))
                    .unwrap_err()
                    .code(),
                "amount_out_of_range"
            );
        }
        assert_eq!(
            validate_refund(&req("1.5"), &settled(900, 0))
                .unwrap_err()
                .code(),
            "invalid_field"
        );
        assert_eq!(
            validate_refund(&obj(&[]), &settled(900, 0))
                .unwrap_err()
                .code(),
            "missing_field"
        );
        let mut inv = settled(900, 0);
        inv.status = Status::Processing;
        let e = validate_refund(&req("1"), &inv).unwrap_err();
        assert_eq!(
            (e.code(), e.status(), e.field()),
            ("invalid_state", 409, None)
        );
        assert!(e
            .to_string()
            .starts_with("only settled invoices can be refunded"));
        let mut inv = settled(900, 0);
        inv.transaction_type = "credit".into();
        assert_eq!(
            validate_refund(&req("1"), &inv).unwrap_err().code(),
            "invalid_state"
        );
    }

    #[test]
    fn refundable_invoice_from_raw() {
        let raw = obj(&[
            ("status", "settled".into()),
            ("transaction_type", "DEBIT".into()),
            ("effective_amount", 900i64.into()),
            ("refunded_amount", Raw::Null),
        ]);
        assert_eq!(RefundableInvoice::from_raw(&raw).unwrap(), settled(900, 0));
        let e = RefundableInvoice::from_raw(&obj(&[("status", "settled".into())])).unwrap_err();
        assert_eq!(e.field().as_deref(), Some("invoice.transaction_type"));
        let raw = obj(&[
            ("status", "odd".into()),
            ("transaction_type", "debit".into()),
            ("effective_amount", 1i64.into()),
        ]);
        assert_eq!(
            RefundableInvoice::from_raw(&raw)
                .unwrap_err()
                .field()
                .as_deref(),
            Some("invoice.status")
        );
    }

    #[test]
    fn property_refunds_never_exceed_effective_amount() {
        let mut rng = XorShift::new(0x00EF_00D5);
        for _ in 0..2_000 {
            let effective = rng.range(0, 100_000);
            let mut refunded = 0i64;
            for _ in 0..20 {
                let ask = match rng.next() % 4 {
                    0 => rng.range(-10, 10),
                    1 => effective - refunded + rng.range(-2, 2),
                    _ => rng.range(1, effective.max(1)),
                };
                match validate_refund(
                    &obj(&[("amount", Raw::from(ask))]),
                    &settled(effective, refunded),
                ) {
                    Ok(r) => {
                        assert!(r.amount > 0);
                        refunded += r.amount;
                    }
                    Err(e) => assert!(
                        matches!(e.code(), "refund_exceeds_amount" | "amount_out_of_range"),
                        "{e}"
                    ),
                }
                assert!(
                    refunded <= effective,
                    "refunded {refunded} > effective {effective}"
                );
            }
        }
    }
}
