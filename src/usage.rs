//! Metered usage: metrics, the metered items of a plan, usage events, their aggregation over a period, and the
//! price of that usage on the period's invoice.
//!
//! **Metrics.** A metric is something a company counts: a `code` (1–64 of `a–z 0–9 _`, how events name it), a
//! `name` (shown on invoices as "<name> usage", at most 255 characters) and an `aggregation`, how one period's
//! events become one quantity:
//! - `sum`: Σ values (a value may be negative, a correction), kept within ±(2^53−1) at every step;
//! - `max`: the largest value;
//! - `count`: the number of events (their values are ignored);
//! - `last`: the value of the latest event by `timestamp`; among equal timestamps the later arrival wins.
//!
//! **Metered items.** A plan prices at most [`MAX_ITEMS`] metrics, each once, either per unit
//! (`unit_amount_decimal`) or by graduated `tiers` (`[{up_to, unit_amount_decimal, flat_amount}]`), never both.
//! A unit price is a decimal of *minor units* ≥ 0 with at most [`UNIT_SCALE`] decimal places, so sub-cent prices
//! (`"0.05"` = a twentieth of a cent) are exact; `flat_amount` is whole minor units ≥ 0 (default 0); `up_to` are
//! strictly ascending positive integers and only the last tier's is null (it takes every unit above the tier
//! before it). Items come as a JSON array `metered_items: [{metric_code, …}]` or, in a form body, as numbered keys
//! `metered_item_metric<n>`, `metered_item_unit_amount_decimal<n>`, `metered_item_tiers<n>` (the JSON text of the
//! tiers array), numbered like invoice items ([`crate::invoice`]: any n ≥ 0, gaps allowed, ordered by n). A
//! validated item serialises to the JSON shape it is read back from ([`MeteredItem::from_stored`]).
//!
//! **Events.** One usage event: `event_id` (1–64 characters, the idempotency key: the worker stores an id once,
//! the first wins, and folds only events it stored), `subscription_guid`, `metric_code`, `value` (an integer within
//! ±(2^53−1), default 1) and `timestamp` (default now). A timestamp more than [`FUTURE_TOLERANCE_SECONDS`] after
//! now is 422 `event_in_future` (five minutes allow for the sender's clock skew); one before the subscription's open
//! period is 422 `period_closed`, since that period is invoiced ([`check_period`]). A batch (`{events: [...]}`,
//! 1..=[`MAX_BATCH`]) is taken whole or not at all: one failing event refuses the batch with 400 `invalid_batch`,
//! listing every failing index.
//!
//! **Aggregation.** The worker keeps one running [`Aggregate`] per subscription and metric and [`fold`]s each stored
//! event into it as it arrives (many at once with [`fold_batch`]); [`aggregate_all`] computes the same state from
//! the raw events again, for audits and repairs. The two agree (a property test checks it).
//!
//! **Pricing**, with one rounding: a line's amount is computed exactly in decimal and rounded once, half to even,
//! to a whole minor unit ([`money::round_half_even`], as every rate in the core):
//! - per unit: `amount = round(quantity × unit_amount_decimal)`;
//! - graduated: `amount = round(Σ over tiers of (units in the tier × its unit_amount_decimal + its flat_amount if at
//!   least one unit falls in it))`, the whole line rounded once, never tier by tier;
//! - the quantity is the aggregate's value, but a negative aggregate (a `sum` of corrections) is billed as 0:
//!   metered usage never pays the customer (a credit is an adjustment);
//! - an amount beyond 2^53−1 is `amount_out_of_range`.
//!
//! Worked examples, with the tiers `[{up_to: 1000, unit_amount_decimal: "0"}, {up_to: 10000,
//! unit_amount_decimal: "0.5"}, {up_to: null, unit_amount_decimal: "0.1", flat_amount: 500}]`:
//!
//! | price | quantity | exact amount | amount |
//! |---|---|---|---|
//! | `"0.05"` per unit | 1,234,567 | 61,728.35 | 61,728 |
//! | `"0.05"` per unit | 1,234,570 | 61,728.5 (a half: to even) | 61,728 |
//! | `"0.05"` per unit | 1,234,590 | 61,729.5 (a half: to even) | 61,730 |
//! | tiers | 25,000 | 1,000 × 0 + 9,000 × 0.5 + (15,000 × 0.1 + 500) = 0 + 4,500 + 2,000 | 6,500 |
//! | tiers | 1,000 | 1,000 × 0 | 0 |
//! | tiers | 1,001 | 0 + 1 × 0.5 = 0.5 (a half: to even) | 0 |
//! | tiers | 1,003 | 0 + 3 × 0.5 = 1.5 (a half: to even) | 2 |
//! | tiers | 10,001 | 0 + 4,500 + (1 × 0.1 + 500) = 5,000.1 | 5,000 |
//! | tiers | 0 | no unit falls in any tier, so no flat amount either | 0 |
//! | tiers | −5 (a `sum` of corrections) | billed as quantity 0 | 0 |

use crate::sorted::SortedMap;
use std::cell::RefCell;

use crate::to_json::ToJson;
use chrono::TimeDelta;
use rust_decimal::Decimal;

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::invoice;
use crate::money::{self, MAX_AMOUNT};
use crate::time::{self, Instant};

/// Longest metric code, in characters.
pub const MAX_CODE_LEN: usize = 64;
/// Longest metric name, in characters.
pub const MAX_NAME_LEN: usize = 255;
/// Most metered items on one plan.
pub const MAX_ITEMS: usize = 20;
/// Most tiers of one metered item.
pub const MAX_TIERS: usize = 50;
/// Most decimal places of a unit price (trailing zeros do not count).
pub const UNIT_SCALE: u32 = 12;
/// Longest `event_id` and `subscription_guid`, in characters.
pub const MAX_ID_LEN: usize = 64;
/// Most events in one batch.
pub const MAX_BATCH: usize = 1000;
/// How far after `now` an event's timestamp may lie (the sender's clock may run ahead).
pub const FUTURE_TOLERANCE_SECONDS: i64 = 300;
/// Most entries of one [`fold_batch`] (ten full event batches).
pub const MAX_FOLD_ENTRIES: usize = 10 * MAX_BATCH;
/// Longest key of a [`fold_batch`] entry (the worker's `subscription:metric`), in characters.
pub const MAX_KEY_LEN: usize = 256;

crate::names! {
    /// How one period's events of a metric become one quantity.
    pub enum Aggregation as "UsageAggregation" {
        /// Σ values.
        Sum = "sum",
        /// The largest value.
        Max = "max",
        /// The number of events.
        Count = "count",
        /// The value of the latest event (by timestamp, then arrival).
        Last = "last",
    }
}

// ---- metrics ----------------------------------------------------------------------------------------------------

crate::json_struct! {
    /// A validated metric creation request.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct MetricInput {
        pub code: String,
        pub name: String,
        pub aggregation: Aggregation,
    }
}

/// A metric code: 1–[`MAX_CODE_LEN`] characters of `a–z 0–9 _` (lowercase only, so one metric has one spelling).
fn metric_code(v: &Raw, field: &str) -> Result<String> {
    let code = input::string_value(v, field, MAX_CODE_LEN)?;
    if let Some(c) = code
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(CoreError::invalid(
            field,
            format!("must contain only a–z, 0–9 and '_' (found '{c}')"),
        ));
    }
    Ok(code)
}

/// The required metric code under `key`.
fn req_metric_code(raw: &Raw, key: &str) -> Result<String> {
    let v = input::present(raw, key).ok_or_else(|| CoreError::missing(key))?;
    metric_code(v, key)
}

/// Validates a metric creation request `{code, name, aggregation}` (aggregation in any case in, lowercase out).
pub fn validate_metric(raw: &Raw) -> Result<MetricInput> {
    input::object(raw, "input")?;
    let code = req_metric_code(raw, "code")?;
    let name = input::req_string(raw, "name", MAX_NAME_LEN)?;
    let aggregation = input::req_string(raw, "aggregation", 64)?;
    let aggregation = Aggregation::parse(&aggregation.to_ascii_lowercase(), "aggregation")?;
    Ok(MetricInput {
        code,
        name,
        aggregation,
    })
}

// ---- metered items ----------------------------------------------------------------------------------------------

crate::json_struct! {
    /// One graduated tier: the units above the tier before it, up to and including `up_to` (null: all the rest).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Tier {
        pub up_to: Option<i64>,
        /// Price of one unit in this tier, in minor units (normalized decimal text on the wire).
        pub unit_amount_decimal: Decimal,
        /// Added once when at least one unit falls in this tier, in minor units.
        pub flat_amount: i64,
    }
}

/// How a metered item prices its quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pricing {
    /// One price per unit, in minor units.
    PerUnit(Decimal),
    /// Graduated tiers: each unit at the price of the tier it falls in.
    Graduated(Vec<Tier>),
}

/// One metric a plan bills by usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeteredItem {
    pub metric_code: String,
    pub pricing: Pricing,
}

/// Stored and answered as `{metric_code, unit_amount_decimal: string | null, tiers: Tier[] | null}`, exactly one of
/// the two set: the shape [`MeteredItem::from_stored`] reads.
impl ToJson for MeteredItem {
    fn write_json(&self, out: &mut String) {
        crate::json_struct! {
            struct Stored<'a> {
                metric_code: &'a str,
                unit_amount_decimal: Option<Decimal>,
                tiers: Option<&'a [Tier]>,
            }
        }
        let (unit_amount_decimal, tiers) = match &self.pricing {
            Pricing::PerUnit(unit) => (Some(*unit), None),
            Pricing::Graduated(tiers) => (None, Some(tiers.as_slice())),
        };
        Stored {
            metric_code: &self.metric_code,
            unit_amount_decimal,
            tiers,
        }
        .write_json(out)
    }
}

impl MeteredItem {
    /// Reads one stored item (the JSON shape it serialises to); errors name its fields (`tiers[1].up_to`).
    pub fn from_stored(raw: &Raw) -> Result<MeteredItem> {
        stored_item(raw, "")
    }
}

/// Reads stored items: an array of stored items, or the JSON text of one (as a TEXT column holds it); null is none.
/// Errors name `metered_items[i].…`.
pub fn items_from_stored(raw: &Raw) -> Result<Vec<MeteredItem>> {
    let parsed;
    let raw = match raw {
        Raw::Null => return Ok(Vec::new()),
        Raw::String(text) => {
            parsed = crate::json::parse(text, 8).ok_or_else(|| {
                CoreError::invalid(
                    "metered_items",
                    "must be the JSON text of an array of items",
                )
            })?;
            &parsed
        }
        other => other,
    };
    let Raw::Array(elements) = raw else {
        return Err(CoreError::invalid(
            "metered_items",
            format!("must be an array of items, got {}", raw.kind()),
        ));
    };
    elements
        .iter()
        .enumerate()
        .map(|(i, e)| stored_item(e, &format!("metered_items[{i}].")))
        .collect()
}

fn stored_item(raw: &Raw, prefix: &str) -> Result<MeteredItem> {
    let Raw::Object(_) = raw else {
        let field = match prefix.trim_end_matches('.') {
            "" => "metered_item",
            p => p,
        };
        return Err(CoreError::invalid(
            field,
            format!("must be an object, got {}", raw.kind()),
        ));
    };
    item_from(
        &|f| input::present(raw, f).map(|v| (v, format!("{prefix}{f}"))),
        &|f| format!("{prefix}{f}"),
        "metric_code",
    )
}

/// A unit price: a decimal of minor units from 0 to [`MAX_AMOUNT`] with at most [`UNIT_SCALE`] decimal places
/// (trailing zeros do not count), as a string of digits with an optional fraction (`"0.05"`, `"2"`) or a JSON number
/// (read through its shortest decimal form). Normalized (`"0.050"` → `0.05`).
fn unit_amount(v: &Raw, field: &str) -> Result<Decimal> {
    let bad = || {
        CoreError::invalid(
            field,
            format!(
                "must be a decimal number of minor units from 0 to {MAX_AMOUNT} with at most {UNIT_SCALE} \
                 decimal places (for example \"0.05\"), got {}",
                input::show(v)
            ),
        )
    };
    let text = match v {
        Raw::String(s) => s.clone(),
        Raw::Number(n) if input::is_finite(n) => n.clone(),
        _ => return Err(bad()),
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits(whole)
        || !digits(fraction)
        || (text.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    // Cut to the significant digits before reading, so the decimal is exact (≤ 16 + 12 digits fit its 28).
    let whole = match whole.trim_start_matches('0') {
        "" => "0",
        w => w,
    };
    let fraction = fraction.trim_end_matches('0');
    if whole.len() > 16 || fraction.len() > UNIT_SCALE as usize {
        return Err(bad());
    }
    let value: Decimal = if fraction.is_empty() {
        whole.parse()
    } else {
        format!("{whole}.{fraction}").parse()
    }
    .map_err(|_| bad())?;
    if value > Decimal::from(MAX_AMOUNT) {
        return Err(bad());
    }
    Ok(value.normalize())
}

/// Tiers under `field`: an array, or the JSON text of one (a form field). Errors in an array name the tier's field
/// (`metered_items[0].tiers[1].up_to`); errors in JSON text name `field` and say which tier (`tiers[1].up_to …`).
fn tiers_from(v: &Raw, field: &str) -> Result<Vec<Tier>> {
    match v {
        Raw::Array(elements) => tiers_array(elements, field),
        Raw::String(text) => {
            let parsed = crate::json::parse(text, 4).ok_or_else(|| {
                CoreError::invalid(
                    field,
                    format!(
                        "must be the JSON text of an array of tiers (for example \
                         [{{\"up_to\":1000,\"unit_amount_decimal\":\"0\"}},{{\"up_to\":null,\"unit_amount_decimal\":\"0.1\"}}]), got {}",
                        input::show(v)
                    ),
                )
            })?;
            let Raw::Array(elements) = &parsed else {
                return Err(CoreError::invalid(
                    field,
                    format!(
                        "must be the JSON text of an array of tiers, got {}",
                        parsed.kind()
                    ),
                ));
            };
            tiers_array(elements, "tiers")
                .map_err(|e| CoreError::invalid(field, format!("is invalid: {e}")))
        }
        other => Err(CoreError::invalid(
            field,
            format!("must be an array of tiers, got {}", other.kind()),
        )),
    }
}

fn tiers_array(elements: &[Raw], base: &str) -> Result<Vec<Tier>> {
    if elements.is_empty() {
        return Err(CoreError::invalid(base, "must hold at least one tier"));
    }
    if elements.len() > MAX_TIERS {
        return Err(CoreError::invalid(
            base,
            format!(
                "may hold at most {MAX_TIERS} tiers (got {})",
                elements.len()
            ),
        ));
    }
    let last = elements.len() - 1;
    let mut below = 0i64;
    let mut tiers = Vec::with_capacity(elements.len());
    for (i, element) in elements.iter().enumerate() {
        let name = |f: &str| format!("{base}[{i}].{f}");
        if !matches!(element, Raw::Object(_)) {
            return Err(CoreError::invalid(
                format!("{base}[{i}]"),
                format!("must be an object, got {}", element.kind()),
            ));
        }
        let up_to = match (input::present(element, "up_to"), i == last) {
            (Some(_), true) => {
                return Err(CoreError::invalid(
                    name("up_to"),
                    "must be null on the last tier, which takes every unit above the tier before it",
                ))
            }
            (None, true) => None,
            (None, false) => {
                return Err(CoreError::invalid(
                    name("up_to"),
                    "is required on every tier but the last (only the last tier is unbounded, with up_to null)",
                ))
            }
            (Some(v), false) => {
                let n = input::int_value(v, &name("up_to"), 1, MAX_AMOUNT)?;
                if n <= below {
                    return Err(CoreError::invalid(
                        name("up_to"),
                        format!("must be greater than the previous tier's up_to {below}, got {n}"),
                    ));
                }
                below = n;
                Some(n)
            }
        };
        let unit = input::present(element, "unit_amount_decimal")
            .map(|v| unit_amount(v, &name("unit_amount_decimal")))
            .transpose()?;
        let flat = input::present(element, "flat_amount")
            .map(|v| input::amount_value(v, &name("flat_amount"), 0))
            .transpose()?;
        if unit.is_none() && flat.is_none() {
            return Err(CoreError::missing(name("unit_amount_decimal")));
        }
        tiers.push(Tier {
            up_to,
            unit_amount_decimal: unit.unwrap_or(Decimal::ZERO),
            flat_amount: flat.unwrap_or(0),
        });
    }
    Ok(tiers)
}

/// One item from its fields: `get(f)` gives a present field and its name in errors, `name_of(f)` the name of a
/// missing one; `code_key` is `metric_code` (JSON) or `metric` (form).
fn item_from<'a>(
    get: &dyn Fn(&str) -> Option<(&'a Raw, String)>,
    name_of: &dyn Fn(&str) -> String,
    code_key: &str,
) -> Result<MeteredItem> {
    let metric_code = match get(code_key) {
        Some((v, n)) => self::metric_code(v, &n)?,
        None => return Err(CoreError::missing(name_of(code_key))),
    };
    let unit = get("unit_amount_decimal")
        .map(|(v, n)| unit_amount(v, &n))
        .transpose()?;
    let tiers = get("tiers").map(|(v, n)| tiers_from(v, &n)).transpose()?;
    let pricing = match (unit, tiers) {
        (Some(_), Some(_)) => {
            return Err(CoreError::invalid(
                name_of("tiers"),
                "cannot be combined with unit_amount_decimal: an item is priced per unit or by tiers, not both",
            ))
        }
        (None, None) => return Err(CoreError::missing(name_of("unit_amount_decimal"))),
        (Some(unit), None) => Pricing::PerUnit(unit),
        (None, Some(tiers)) => Pricing::Graduated(tiers),
    };
    Ok(MeteredItem {
        metric_code,
        pricing,
    })
}

/// Fields of a metered item line. A JSON item names its metric `metric_code`, a form line `metered_item_metric<n>`
/// (each reads only its own). `metric_code` comes before `metric`: a form key matches the first field its rest
/// starts with, so `metered_item_metric_code1` is not read as `metric` + `_code1`.
const ITEM_FIELDS: [&str; 4] = ["metric_code", "metric", "unit_amount_decimal", "tiers"];

/// The metered items of a plan request: a JSON array `metered_items` or numbered form keys `metered_item_…<n>`
/// (none is an empty list). At most [`MAX_ITEMS`], each metric once.
pub fn parse_metered_items(raw: &Raw) -> Result<Vec<MeteredItem>> {
    let too_many = |n: usize| {
        CoreError::invalid(
            "metered_items",
            format!("may hold at most {MAX_ITEMS} items (got {n})"),
        )
    };
    let json = input::present(raw, "metered_items");
    if let Some(Raw::Array(elements)) = json {
        if elements.len() > MAX_ITEMS {
            return Err(too_many(elements.len()));
        }
    }
    let code_key = if json.is_some() {
        "metric_code"
    } else {
        "metric"
    };
    let seen: RefCell<Vec<String>> = RefCell::new(Vec::new());
    let items = invoice::parse_lines(
        raw,
        "metered_items",
        &["metered_item_"],
        &ITEM_FIELDS,
        |line, name_of| {
            let item = item_from(
                &|f| line.get(f).map(|(v, n)| (v, n.to_string())),
                name_of,
                code_key,
            )?;
            let mut seen = seen.borrow_mut();
            if seen.contains(&item.metric_code) {
                return Err(CoreError::invalid(
                    name_of(code_key),
                    format!(
                        "\"{}\" is priced twice on this plan (each metric at most once)",
                        item.metric_code
                    ),
                ));
            }
            seen.push(item.metric_code.clone());
            if seen.len() > MAX_ITEMS {
                return Err(too_many(seen.len()));
            }
            Ok(item)
        },
    )?;
    Ok(items)
}

// ---- events -----------------------------------------------------------------------------------------------------

crate::json_struct! {
    /// A validated usage event, as the worker stores it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct EventInput {
        pub event_id: String,
        pub subscription_guid: String,
        pub metric_code: String,
        pub value: i64,
        pub timestamp: Instant,
    }
}

/// Validates one usage event at the company's `now`.
pub fn validate_event(raw: &Raw, now: Instant) -> Result<EventInput> {
    input::object(raw, "input")?;
    event_named(raw, now, "")
}

/// Renames a reader's error to `{prefix}{key}` (`events[3].value`).
fn named<'a>(prefix: &'a str, key: &'a str) -> impl FnOnce(CoreError) -> CoreError + 'a {
    move |e| e.in_field(&format!("{prefix}{key}"))
}

/// One event whose fields are named `{prefix}{key}` in errors (`events[3].value`).
fn event_named(raw: &Raw, now: Instant, prefix: &str) -> Result<EventInput> {
    let named = |key: &'static str| named(prefix, key);
    let event_id = input::req_string(raw, "event_id", MAX_ID_LEN).map_err(named("event_id"))?;
    let subscription_guid = input::req_string(raw, "subscription_guid", MAX_ID_LEN)
        .map_err(named("subscription_guid"))?;
    let metric_code = req_metric_code(raw, "metric_code").map_err(named("metric_code"))?;
    let value = input::opt_amount(raw, "value", -MAX_AMOUNT)
        .map_err(named("value"))?
        .unwrap_or(1);
    let timestamp = time::opt_field(raw, "timestamp")
        .map_err(named("timestamp"))?
        .unwrap_or(now);
    if timestamp - now > TimeDelta::seconds(FUTURE_TOLERANCE_SECONDS) {
        let field = format!("{prefix}timestamp");
        return Err(CoreError::Unprocessable {
            code: "event_in_future",
            reason: format!(
                "{field} {} is more than {} minutes after now ({}); an event is recorded when it happens",
                time::format(timestamp),
                FUTURE_TOLERANCE_SECONDS / 60,
                time::format(now)
            ),
            field: Some(field),
        });
    }
    Ok(EventInput {
        event_id,
        subscription_guid,
        metric_code,
        value,
        timestamp,
    })
}

crate::json_struct! {
    /// Why one entry of a batch was refused: its index (null when the batch itself is malformed) and its error.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct EntryError {
        pub index: Option<usize>,
        pub code: &'static str,
        pub status: u16,
        pub field: Option<String>,
        pub message: String,
    }
}

impl EntryError {
    pub(crate) fn of(index: Option<usize>, e: &CoreError) -> EntryError {
        EntryError {
            index,
            code: e.code(),
            status: e.status(),
            field: e.field(),
            message: e.to_string(),
        }
    }
}

/// A refused batch: the one error it is refused with, and every entry's own error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFailure {
    pub error: CoreError,
    pub errors: Vec<EntryError>,
}

impl BatchFailure {
    fn whole(error: CoreError) -> BatchFailure {
        BatchFailure {
            errors: vec![EntryError::of(None, &error)],
            error,
        }
    }
}

/// Checks one event object, or a batch `{events: [...]}` of 1..=[`MAX_BATCH`], without stopping at the first bad
/// event: every failing index is reported. A lone event refused is refused with its own error (index 0); a batch
/// with failing events is refused with `invalid_batch` (field `events`) whose message lists each
/// `events[i].field: reason`.
pub fn check_events_batch(
    raw: &Raw,
    now: Instant,
) -> std::result::Result<Vec<EventInput>, BatchFailure> {
    let Some(events) = input::present(raw, "events") else {
        return validate_event(raw, now)
            .map(|e| vec![e])
            .map_err(|error| BatchFailure {
                errors: vec![EntryError::of(Some(0), &error)],
                error,
            });
    };
    let Raw::Array(events) = events else {
        return Err(BatchFailure::whole(CoreError::invalid(
            "events",
            format!("must be an array of events, got {}", events.kind()),
        )));
    };
    if events.is_empty() || events.len() > MAX_BATCH {
        return Err(BatchFailure::whole(CoreError::invalid(
            "events",
            format!("must hold 1 to {MAX_BATCH} events (got {})", events.len()),
        )));
    }
    let mut good = Vec::with_capacity(events.len());
    let mut errors = Vec::new();
    for (i, result) in each_event(events, now).into_iter().enumerate() {
        match result {
            Ok(e) => good.push(e),
            Err(e) => errors.push(EntryError::of(Some(i), &e)),
        }
    }
    if errors.is_empty() {
        return Ok(good);
    }
    Err(batch_failure(errors, events.len()))
}

/// A batch of `total` events refused for these entries' errors: `invalid_batch` (field `events`) whose message lists
/// each `events[i].field: reason`.
pub fn batch_failure(errors: Vec<EntryError>, total: usize) -> BatchFailure {
    let listed: Vec<String> = errors
        .iter()
        .map(|e| match &e.field {
            Some(field) => match e.message.strip_prefix(&format!("{field} ")) {
                Some(rest) => format!("{field}: {rest}"),
                None => format!("{field}: {}", e.message),
            },
            None => e.message.clone(),
        })
        .collect();
    let reason = format!(
        "{} of {} events {} invalid, so none was recorded: {}",
        errors.len(),
        total,
        if errors.len() == 1 { "is" } else { "are" },
        listed.join("; ")
    );
    BatchFailure {
        error: CoreError::InvalidBatch {
            field: "events".into(),
            reason,
        },
        errors,
    }
}

/// Each event of a batch validated on its own (fields named `events[i].…`), in order.
pub fn each_event(events: &[Raw], now: Instant) -> Vec<Result<EventInput>> {
    events
        .iter()
        .enumerate()
        .map(|(i, event)| match event {
            Raw::Object(_) => event_named(event, now, &format!("events[{i}].")),
            other => Err(CoreError::invalid(
                format!("events[{i}]"),
                format!("must be an object, got {}", other.kind()),
            )),
        })
        .collect()
}

/// [`check_events_batch`] as one error.
pub fn validate_events_batch(raw: &Raw, now: Instant) -> Result<Vec<EventInput>> {
    check_events_batch(raw, now).map_err(|f| f.error)
}

/// An event may only count in the subscription's open period: one before `open_period_start` belongs to a period
/// already invoiced, and is refused with 422 `period_closed` (field `timestamp`).
pub fn check_period(timestamp: Instant, open_period_start: Instant) -> Result<()> {
    if timestamp < open_period_start {
        return Err(CoreError::Unprocessable {
            code: "period_closed",
            field: Some("timestamp".into()),
            reason: format!(
                "timestamp {} is before the subscription's open period, which started at {}; the period it falls \
                 in is closed (invoiced)",
                time::format(timestamp),
                time::format(open_period_start)
            ),
        });
    }
    Ok(())
}

// ---- aggregation ------------------------------------------------------------------------------------------------

crate::json_struct! {
    /// The running aggregate of one metric of one subscription over the open period.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Aggregate {
        /// The quantity so far: the sum, max, count or last value, by the metric's aggregation (0 before any event).
        pub value: i64,
        /// Events folded in.
        pub count: i64,
        /// Timestamp of the latest event (the later arrival among equal timestamps), and its value.
        pub last_timestamp: Option<Instant>,
        pub last_value: Option<i64>,
    }
}

impl Aggregate {
    /// Reads a state as [`Aggregate`] serialises it (null: no events yet); errors name `{field}.value` and so on.
    pub fn from_raw(raw: &Raw, field: &str) -> Result<Aggregate> {
        if raw.is_absent() {
            return Ok(Aggregate::default());
        }
        input::object(raw, field)?;
        let prefix = format!("{field}.");
        let named = |key: &'static str| named(&prefix, key);
        let value = input::opt_amount(raw, "value", -MAX_AMOUNT)
            .map_err(named("value"))?
            .unwrap_or(0);
        let count = input::opt_int(raw, "count", 0, MAX_AMOUNT)
            .map_err(named("count"))?
            .unwrap_or(0);
        let last_timestamp =
            time::opt_field(raw, "last_timestamp").map_err(named("last_timestamp"))?;
        let last_value =
            input::opt_amount(raw, "last_value", -MAX_AMOUNT).map_err(named("last_value"))?;
        if last_timestamp.is_some() != last_value.is_some() {
            return Err(CoreError::invalid(
                format!("{field}.last_value"),
                "and last_timestamp are given together or not at all",
            ));
        }
        if (count == 0) != last_value.is_none() || (count == 0 && value != 0) {
            return Err(CoreError::invalid(
                format!("{field}.count"),
                format!(
                    "{count} does not fit the rest of the state: an aggregate of no events has value 0 and no last \
                     event, one of some events has a last event"
                ),
            ));
        }
        Ok(Aggregate {
            value,
            count,
            last_timestamp,
            last_value,
        })
    }
}

/// `state` with one more event of `value` at `timestamp`, for a metric aggregated by `aggregation`.
/// `sum` leaving ±(2^53−1) is `amount_out_of_range` (field `value`).
pub fn fold(
    state: Aggregate,
    aggregation: Aggregation,
    value: i64,
    timestamp: Instant,
) -> Result<Aggregate> {
    money::check(i128::from(value)).map_err(|e| e.in_field("value"))?;
    let count = money::add(state.count, 1).map_err(|e| e.in_field("count"))?;
    // Ties go to the later arrival: the event folded now.
    let latest = state.last_timestamp.is_none_or(|t| timestamp >= t);
    let (last_timestamp, last_value) = if latest {
        (Some(timestamp), value)
    } else {
        (state.last_timestamp, state.last_value.unwrap_or(value))
    };
    let aggregated = match aggregation {
        Aggregation::Sum => money::add(state.value, value).map_err(|e| e.in_field("value"))?,
        Aggregation::Max if state.count == 0 => value,
        Aggregation::Max => state.value.max(value),
        Aggregation::Count => count,
        Aggregation::Last => last_value,
    };
    Ok(Aggregate {
        value: aggregated,
        count,
        last_timestamp,
        last_value: Some(last_value),
    })
}

/// One stored event's value and time, for [`aggregate_all`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub value: i64,
    pub timestamp: Instant,
}

impl Sample {
    /// Reads `{value, timestamp}` (a stored event row; other fields are ignored), naming `{field}.value` in errors.
    pub fn from_raw(raw: &Raw, field: &str) -> Result<Sample> {
        input::object(raw, field)?;
        let prefix = format!("{field}.");
        let named = |key: &'static str| named(&prefix, key);
        Ok(Sample {
            value: input::req_amount(raw, "value", -MAX_AMOUNT).map_err(named("value"))?,
            timestamp: time::opt_field(raw, "timestamp")
                .map_err(named("timestamp"))?
                .ok_or_else(|| CoreError::missing(format!("{field}.timestamp")))?,
        })
    }
}

/// The aggregate of `events` (in arrival order) computed from scratch: the re-aggregation [`fold`] must agree with.
/// Written independently of `fold` on purpose, so the property test compares two implementations.
pub fn aggregate_all(aggregation: Aggregation, events: &[Sample]) -> Result<Aggregate> {
    for (i, e) in events.iter().enumerate() {
        money::check(i128::from(e.value))
            .map_err(|err| err.in_field(&format!("events[{i}].value")))?;
    }
    let count = money::check(events.len() as i128).map_err(|e| e.in_field("events"))?;
    // The latest timestamp; among equals the highest index, i.e. the later arrival.
    let last = events
        .iter()
        .enumerate()
        .max_by_key(|(i, e)| (e.timestamp, *i))
        .map(|(_, e)| *e);
    let value = match aggregation {
        Aggregation::Sum => {
            money::sum(events.iter().map(|e| e.value)).map_err(|e| e.in_field("events"))?
        }
        Aggregation::Max => events.iter().map(|e| e.value).max().unwrap_or(0),
        Aggregation::Count => count,
        Aggregation::Last => last.map_or(0, |e| e.value),
    };
    Ok(Aggregate {
        value,
        count,
        last_timestamp: last.map(|e| e.timestamp),
        last_value: last.map(|e| e.value),
    })
}

/// One event to fold into the state of `key` (the worker's `subscription:metric`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldEntry {
    pub key: String,
    pub aggregation: Aggregation,
    pub value: i64,
    pub timestamp: Instant,
    /// The stored state of `key` before this batch; read from the key's first entry only (later entries of the
    /// key continue from the running state, whatever they carry).
    pub state: Option<Aggregate>,
}

impl FoldEntry {
    /// Reads `{key, aggregation, value, timestamp, state}`, naming `{field}.key` and so on in errors.
    pub fn from_raw(raw: &Raw, field: &str) -> Result<FoldEntry> {
        input::object(raw, field)?;
        let name = |key: &str| format!("{field}.{key}");
        let prefix = format!("{field}.");
        let named = |key: &'static str| named(&prefix, key);
        let key = input::req_string(raw, "key", MAX_KEY_LEN).map_err(named("key"))?;
        let aggregation =
            input::req_string(raw, "aggregation", 16).map_err(named("aggregation"))?;
        let aggregation = Aggregation::parse(&aggregation, &name("aggregation"))?;
        let value = input::req_amount(raw, "value", -MAX_AMOUNT).map_err(named("value"))?;
        let timestamp = time::opt_field(raw, "timestamp")
            .map_err(named("timestamp"))?
            .ok_or_else(|| CoreError::missing(name("timestamp")))?;
        let state = match input::present(raw, "state") {
            Some(s) => Some(Aggregate::from_raw(s, &name("state"))?),
            None => None,
        };
        Ok(FoldEntry {
            key,
            aggregation,
            value,
            timestamp,
            state,
        })
    }
}

/// Reads the entries of a [`fold_batch`]: an array of at most [`MAX_FOLD_ENTRIES`], errors naming `entries[i].…`.
pub fn fold_entries(raw: &Raw) -> Result<Vec<FoldEntry>> {
    let Raw::Array(elements) = raw else {
        return Err(CoreError::invalid(
            "entries",
            format!("must be an array of entries, got {}", raw.kind()),
        ));
    };
    if elements.len() > MAX_FOLD_ENTRIES {
        return Err(CoreError::invalid(
            "entries",
            format!(
                "may hold at most {MAX_FOLD_ENTRIES} entries (got {})",
                elements.len()
            ),
        ));
    }
    elements
        .iter()
        .enumerate()
        .map(|(i, e)| FoldEntry::from_raw(e, &format!("entries[{i}]")))
        .collect()
}

/// Folds many events of many keys in arrival order → the new state of every key seen. A key starts from the
/// `state` of its first entry (none: no events yet) and keeps one aggregation throughout.
pub fn fold_batch(entries: &[FoldEntry]) -> Result<SortedMap<String, Aggregate>> {
    let mut states: SortedMap<String, (Aggregation, Aggregate)> = SortedMap::new();
    for (i, e) in entries.iter().enumerate() {
        let (aggregation, state) = states
            .entry(e.key.clone())
            .or_insert_with(|| (e.aggregation, e.state.unwrap_or_default()));
        if *aggregation != e.aggregation {
            return Err(CoreError::invalid(
                format!("entries[{i}].aggregation"),
                format!(
                    "must be the same for every entry of key \"{}\" ({aggregation} before, {} here)",
                    e.key, e.aggregation
                ),
            ));
        }
        *state = fold(*state, e.aggregation, e.value, e.timestamp)
            .map_err(|err| err.in_field(&format!("entries[{i}].value")))?;
    }
    Ok(states.into_iter().map(|(k, (_, s))| (k, s)).collect())
}

// ---- pricing ----------------------------------------------------------------------------------------------------

/// The quantity billed for an aggregate value: a negative aggregate (a `sum` of corrections) is billed as 0, since
/// metered usage never pays the customer.
pub fn billed_quantity(aggregate: i64) -> i64 {
    aggregate.max(0)
}

crate::json_struct! {
    /// The price of one metered item for one period.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Line {
        /// The billed quantity ([`billed_quantity`] of the aggregate).
        pub quantity: i64,
        /// The unit price of a per-unit item; null for tiers (each tier has its own).
        pub unit_amount_decimal: Option<Decimal>,
        /// Minor units, rounded once, half to even.
        pub amount: i64,
    }
}

/// The price of `item` for an aggregate value of `quantity` (see the module doc for the rule and examples).
pub fn price(item: &MeteredItem, quantity: i64) -> Result<Line> {
    money::check(i128::from(quantity)).map_err(|e| e.in_field("quantity"))?;
    let q = billed_quantity(quantity);
    let too_large = || CoreError::AmountOutOfRange {
        field: Some("quantity".into()),
        reason: format!(
            "{q} of {} would cost more than the maximum amount {MAX_AMOUNT}",
            item.metric_code
        ),
    };
    // Every term is ≥ 0, so a partial sum past MAX_AMOUNT + 1 can only grow: stop there, before any decimal could
    // overflow (a product that overflows 28 digits is far beyond it too).
    let limit = Decimal::from(MAX_AMOUNT) + Decimal::ONE;
    let (exact, unit_amount_decimal) = match &item.pricing {
        Pricing::PerUnit(unit) => {
            let exact = Decimal::from(q)
                .checked_mul(*unit)
                .filter(|d| *d < limit)
                .ok_or_else(too_large)?;
            (exact, Some(*unit))
        }
        Pricing::Graduated(tiers) => {
            let mut total = Decimal::ZERO;
            let mut below = 0i64;
            for tier in tiers {
                if q <= below {
                    break;
                }
                let top = tier.up_to.map_or(q, |up_to| up_to.min(q));
                if top > below {
                    total = Decimal::from(top - below)
                        .checked_mul(tier.unit_amount_decimal)
                        .and_then(|d| d.checked_add(Decimal::from(tier.flat_amount)))
                        .and_then(|d| d.checked_add(total))
                        .filter(|d| *d < limit)
                        .ok_or_else(too_large)?;
                    below = top;
                }
            }
            (total, None)
        }
    };
    let amount = money::round_half_even(exact).map_err(|_| too_large())?;
    Ok(Line {
        quantity: q,
        unit_amount_decimal,
        amount,
    })
}

crate::json_struct! {
    /// One usage line of an invoice.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct UsageLine {
        /// "<metric name> usage".
        pub name: String,
        pub metric_code: String,
        pub quantity: i64,
        pub unit_amount_decimal: Option<Decimal>,
        pub amount: i64,
        pub period_start: Instant,
        pub period_end: Instant,
    }
}

/// The usage lines of the period `[period_start, period_end)`, one per item in item order, zero lines included (a
/// customer sees that they made 0 calls). A metric without an aggregate had no events (quantity 0); one without a
/// name in `metric_names` is named by its code.
pub fn usage_lines(
    items: &[MeteredItem],
    aggregates: &SortedMap<String, Aggregate>,
    metric_names: &SortedMap<String, String>,
    period_start: Instant,
    period_end: Instant,
) -> Result<Vec<UsageLine>> {
    if period_end <= period_start {
        return Err(CoreError::invalid(
            "period_end",
            format!(
                "must be after period_start {} (got {})",
                time::format(period_start),
                time::format(period_end)
            ),
        ));
    }
    items
        .iter()
        .map(|item| {
            let quantity = aggregates.get(&item.metric_code).map_or(0, |a| a.value);
            let line = price(item, quantity)?;
            let name = metric_names
                .get(&item.metric_code)
                .map_or(item.metric_code.as_str(), String::as_str);
            Ok(UsageLine {
                name: format!("{name} usage"),
                metric_code: item.metric_code.clone(),
                quantity: line.quantity,
                unit_amount_decimal: line.unit_amount_decimal,
                amount: line.amount,
                period_start,
                period_end,
            })
        })
        .collect()
}

/// Reads `{metric_code: state | null}` (null or absent: none), naming `aggregates.<code>` in errors.
pub fn aggregates_from_raw(raw: &Raw) -> Result<SortedMap<String, Aggregate>> {
    match raw {
        Raw::Null => Ok(SortedMap::new()),
        Raw::Object(map) => map
            .iter()
            .map(|(k, v)| {
                Ok((
                    k.clone(),
                    Aggregate::from_raw(v, &format!("aggregates.{k}"))?,
                ))
            })
            .collect(),
        other => Err(CoreError::invalid(
            "aggregates",
            format!(
                "must be an object of aggregates by metric code, got {}",
                other.kind()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sorted::SortedSet;
    use crate::testutil::XorShift;

    fn t(s: &str) -> Instant {
        time::parse(s, "t").unwrap()
    }

    fn obj(pairs: &[(&str, Raw)]) -> Raw {
        Raw::object(pairs.iter().cloned())
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn err(r: Result<impl std::fmt::Debug>) -> (&'static str, u16, Option<String>) {
        let e = r.unwrap_err();
        (e.code(), e.status(), e.field())
    }

    // ---- metrics ----

    #[test]
    fn metrics() {
        let m = validate_metric(&obj(&[
            ("code", "api_calls".into()),
            ("name", "API calls".into()),
            ("aggregation", "SUM".into()),
        ]))
        .unwrap();
        assert_eq!(
            m,
            MetricInput {
                code: "api_calls".into(),
                name: "API calls".into(),
                aggregation: Aggregation::Sum
            }
        );
        assert_eq!(
            crate::to_json::to_string(&m),
            r#"{"code":"api_calls","name":"API calls","aggregation":"sum"}"#
        );
        let base = [
            ("code", Raw::from("seats_2")),
            ("name", "Seats".into()),
            ("aggregation", "max".into()),
        ];
        assert!(validate_metric(&obj(&base)).is_ok());
        let with = |k: &str, v: Raw| {
            let mut pairs: Vec<(&str, Raw)> =
                base.iter().filter(|(key, _)| *key != k).cloned().collect();
            pairs.push((k, v));
            err(validate_metric(&obj(&pairs)))
        };
        for (field, value, code) in [
            ("code", Raw::Null, "missing_field"),
            ("code", "API_calls".into(), "invalid_field"),
            ("code", "api-calls".into(), "invalid_field"),
            ("code", "a".repeat(65).into(), "invalid_field"),
            ("code", 5i64.into(), "invalid_field"),
            ("name", "".into(), "missing_field"),
            ("name", "n".repeat(256).into(), "invalid_field"),
            ("aggregation", "avg".into(), "invalid_field"),
            ("aggregation", Raw::Null, "missing_field"),
        ] {
            assert_eq!(
                with(field, value.clone()),
                (code, 400, Some(field.into())),
                "{field} {value:?}"
            );
        }
        assert!(validate_metric(&obj(&[
            ("code", "a".repeat(64).into()),
            ("name", "n".repeat(255).into()),
            ("aggregation", "last".into()),
        ]))
        .is_ok());
        let msg = validate_metric(&obj(&[
            ("code", "x".into()),
            ("name", "x".into()),
            ("aggregation", "avg".into()),
        ]))
        .unwrap_err()
        .to_string();
        assert!(msg.contains("sum, max, count, last"), "{msg}");
    }

    // ---- metered items ----

    fn per_unit(code: &str, unit: &str) -> MeteredItem {
        MeteredItem {
            metric_code: code.into(),
            pricing: Pricing::PerUnit(d(unit)),
        }
    }

    fn example_tiers() -> Vec<Tier> {
        vec![
            Tier {
                up_to: Some(1000),
                unit_amount_decimal: d("0"),
                flat_amount: 0,
            },
            Tier {
                up_to: Some(10000),
                unit_amount_decimal: d("0.5"),
                flat_amount: 0,
            },
            Tier {
                up_to: None,
                unit_amount_decimal: d("0.1"),
                flat_amount: 500,
            },
        ]
    }

    fn tiered(code: &str) -> MeteredItem {
        MeteredItem {
            metric_code: code.into(),
            pricing: Pricing::Graduated(example_tiers()),
        }
    }

    const EXAMPLE_TIERS_JSON: &str = r#"[{"up_to":1000,"unit_amount_decimal":"0"},{"up_to":10000,"unit_amount_decimal":"0.5"},{"up_to":null,"unit_amount_decimal":"0.1","flat_amount":500}]"#;

    fn json(text: &str) -> Raw {
        crate::json::parse(text, 16).unwrap()
    }

    #[test]
    fn metered_items_from_json() {
        let raw = json(&format!(
            r#"{{"metered_items":[{{"metric_code":"api_calls","unit_amount_decimal":"0.050"}},
                {{"metric_code":"storage_gb","tiers":{EXAMPLE_TIERS_JSON}}}]}}"#
        ));
        let items = parse_metered_items(&raw).unwrap();
        assert_eq!(
            items,
            vec![per_unit("api_calls", "0.05"), tiered("storage_gb")]
        );
        assert_eq!(
            crate::to_json::to_string(&items[0]),
            r#"{"metric_code":"api_calls","unit_amount_decimal":"0.05","tiers":null}"#
        );
        assert_eq!(
            crate::to_json::to_string(&items[1]),
            r#"{"metric_code":"storage_gb","unit_amount_decimal":null,"tiers":[{"up_to":1000,"unit_amount_decimal":"0","flat_amount":0},{"up_to":10000,"unit_amount_decimal":"0.5","flat_amount":0},{"up_to":null,"unit_amount_decimal":"0.1","flat_amount":500}]}"#
        );
        // None is an empty list; so is an empty array.
        assert_eq!(parse_metered_items(&obj(&[])).unwrap(), vec![]);
        assert_eq!(
            parse_metered_items(&json(r#"{"metered_items":[]}"#)).unwrap(),
            vec![]
        );
        // A JSON number as a unit price, and one tier alone (unbounded).
        let items = parse_metered_items(&json(
            r#"{"metered_items":[{"metric_code":"a","unit_amount_decimal":0.25},
               {"metric_code":"b","tiers":[{"up_to":null,"flat_amount":"900"}]}]}"#,
        ))
        .unwrap();
        assert_eq!(items[0], per_unit("a", "0.25"));
        assert_eq!(
            items[1].pricing,
            Pricing::Graduated(vec![Tier {
                up_to: None,
                unit_amount_decimal: Decimal::ZERO,
                flat_amount: 900
            }])
        );
    }

    #[test]
    fn metered_items_from_form() {
        let raw = obj(&[
            ("metered_item_metric1", "api_calls".into()),
            ("metered_item_unit_amount_decimal1", "0.05".into()),
            ("metered_item_metric2", "storage_gb".into()),
            ("metered_item_tiers2", EXAMPLE_TIERS_JSON.into()),
            // An empty row, as HTML forms send them, is skipped.
            ("metered_item_metric3", "".into()),
            ("metered_item_unit_amount_decimal3", "".into()),
        ]);
        assert_eq!(
            parse_metered_items(&raw).unwrap(),
            vec![per_unit("api_calls", "0.05"), tiered("storage_gb")]
        );
        // Numbered from 0 too, ordered by number.
        let raw = obj(&[
            ("metered_item_metric10", "b".into()),
            ("metered_item_unit_amount_decimal10", "2".into()),
            ("metered_item_metric0", "a".into()),
            ("metered_item_unit_amount_decimal0", "1".into()),
        ]);
        assert_eq!(
            parse_metered_items(&raw).unwrap(),
            vec![per_unit("a", "1"), per_unit("b", "2")]
        );
        // Errors name the form key.
        let e = |pairs: &[(&str, Raw)]| err(parse_metered_items(&obj(pairs)));
        assert_eq!(
            e(&[("metered_item_unit_amount_decimal1", "0.05".into())]),
            ("missing_field", 400, Some("metered_item_metric1".into()))
        );
        assert_eq!(
            e(&[
                ("metered_item_metric1", "a".into()),
                ("metered_item_unit_amount_decimal1", "-1".into())
            ]),
            (
                "invalid_field",
                400,
                Some("metered_item_unit_amount_decimal1".into())
            )
        );
        assert_eq!(
            e(&[
                ("metered_item_metric1", "a".into()),
                ("metered_item_tiers1", "[oops".into())
            ]),
            ("invalid_field", 400, Some("metered_item_tiers1".into()))
        );
        let bad_tiers = r#"[{"up_to":1000,"unit_amount_decimal":"0"},{"up_to":500,"unit_amount_decimal":"1"},{"up_to":null,"unit_amount_decimal":"1"}]"#;
        let raw = obj(&[
            ("metered_item_metric1", "a".into()),
            ("metered_item_tiers1", bad_tiers.into()),
        ]);
        let error = parse_metered_items(&raw).unwrap_err();
        assert_eq!(error.field().as_deref(), Some("metered_item_tiers1"));
        assert_eq!(
            error.to_string(),
            "metered_item_tiers1 is invalid: tiers[1].up_to must be greater than the previous tier's up_to 1000, got 500"
        );
        assert_eq!(
            e(&[("metered_item_metric_1", "a".into())]),
            ("invalid_field", 400, Some("metered_item_metric_1".into()))
        );
        // Both forms at once.
        let raw = obj(&[
            ("metered_items", Raw::Array(vec![])),
            ("metered_item_metric1", "a".into()),
        ]);
        assert_eq!(
            err(parse_metered_items(&raw)).2.as_deref(),
            Some("metered_items")
        );
    }

    #[test]
    fn metered_item_refusals_name_the_path() {
        let e = |items: &str| {
            err(parse_metered_items(&json(&format!(
                r#"{{"metered_items":{items}}}"#
            ))))
        };
        let cases: &[(&str, &str, &str)] = &[
            (
                r#"[{"unit_amount_decimal":"1"}]"#,
                "missing_field",
                "metered_items[0].metric_code",
            ),
            (
                r#"[{"metric_code":"a"}]"#,
                "missing_field",
                "metered_items[0].unit_amount_decimal",
            ),
            (
                r#"[{"metric_code":"a","unit_amount_decimal":"1","tiers":[{"up_to":null,"unit_amount_decimal":"1"}]}]"#,
                "invalid_field",
                "metered_items[0].tiers",
            ),
            (
                r#"[{"metric_code":"a","unit_amount_decimal":"0.0000000000001"}]"#,
                "invalid_field",
                "metered_items[0].unit_amount_decimal",
            ),
            (
                r#"[{"metric_code":"a","unit_amount_decimal":"-0.5"}]"#,
                "invalid_field",
                "metered_items[0].unit_amount_decimal",
            ),
            (
                r#"[{"metric_code":"a","unit_amount_decimal":"1e3"}]"#,
                "invalid_field",
                "metered_items[0].unit_amount_decimal",
            ),
            (
                r#"[{"metric_code":"a","unit_amount_decimal":".5"}]"#,
                "invalid_field",
                "metered_items[0].unit_amount_decimal",
            ),
            (
                r#"[{"metric_code":"a","unit_amount_decimal":"5."}]"#,
                "invalid_field",
                "metered_items[0].unit_amount_decimal",
            ),
            (
                r#"[{"metric_code":"a","unit_amount_decimal":"9007199254740992"}]"#,
                "invalid_field",
                "metered_items[0].unit_amount_decimal",
            ),
            (
                r#"[{"metric_code":"a","unit_amount_decimal":true}]"#,
                "invalid_field",
                "metered_items[0].unit_amount_decimal",
            ),
            (
                r#"[{"metric_code":"a","tiers":[]}]"#,
                "invalid_field",
                "metered_items[0].tiers",
            ),
            (
                r#"[{"metric_code":"a","tiers":{}}]"#,
                "invalid_field",
                "metered_items[0].tiers",
            ),
            (
                r#"[{"metric_code":"a","tiers":[5]}]"#,
                "invalid_field",
                "metered_items[0].tiers[0]",
            ),
            (
                r#"[{"metric_code":"a","tiers":[{"up_to":10,"unit_amount_decimal":"1"},{"up_to":10,"unit_amount_decimal":"1"},{"unit_amount_decimal":"1"}]}]"#,
                "invalid_field",
                "metered_items[0].tiers[1].up_to",
            ),
            (
                r#"[{"metric_code":"a","tiers":[{"up_to":10,"unit_amount_decimal":"1"},{"up_to":20,"unit_amount_decimal":"1"}]}]"#,
                "invalid_field",
                "metered_items[0].tiers[1].up_to",
            ),
            (
                r#"[{"metric_code":"a","tiers":[{"unit_amount_decimal":"1"},{"unit_amount_decimal":"1"}]}]"#,
                "invalid_field",
                "metered_items[0].tiers[0].up_to",
            ),
            (
                r#"[{"metric_code":"a","tiers":[{"up_to":0,"unit_amount_decimal":"1"},{"unit_amount_decimal":"1"}]}]"#,
                "invalid_field",
                "metered_items[0].tiers[0].up_to",
            ),
            (
                r#"[{"metric_code":"a","tiers":[{"up_to":1.5,"unit_amount_decimal":"1"},{"unit_amount_decimal":"1"}]}]"#,
                "invalid_field",
                "metered_items[0].tiers[0].up_to",
            ),
            (
                r#"[{"metric_code":"a","tiers":[{"up_to":null}]}]"#,
                "missing_field",
                "metered_items[0].tiers[0].unit_amount_decimal",
            ),
            (
                r#"[{"metric_code":"a","tiers":[{"up_to":null,"flat_amount":-1}]}]"#,
                "amount_out_of_range",
                "metered_items[0].tiers[0].flat_amount",
            ),
            (
                r#"[{"metric_code":"a","tiers":[{"up_to":null,"flat_amount":"1.5"}]}]"#,
                "invalid_field",
                "metered_items[0].tiers[0].flat_amount",
            ),
            (
                r#"[{"metric_code":"a","unit_amount_decimal":"1"},{"metric_code":"a","unit_amount_decimal":"2"}]"#,
                "invalid_field",
                "metered_items[1].metric_code",
            ),
            (r#"{"metric_code":"a"}"#, "invalid_field", "metered_items"),
            (r#"[5]"#, "invalid_field", "metered_items[0]"),
        ];
        for (items, code, field) in cases {
            assert_eq!(e(items), (*code, 400, Some(field.to_string())), "{items}");
        }
        // The 12th decimal place is fine; trailing zeros do not count.
        let ok = |u: &str| {
            parse_metered_items(&json(&format!(
                r#"{{"metered_items":[{{"metric_code":"a","unit_amount_decimal":"{u}"}}]}}"#
            )))
            .map(|items| items[0].clone())
        };
        assert_eq!(
            ok("0.000000000001").unwrap(),
            per_unit("a", "0.000000000001")
        );
        assert_eq!(
            ok("0.0500000000000000000000000000000").unwrap(),
            per_unit("a", "0.05")
        );
        assert_eq!(
            ok("0009007199254740991").unwrap(),
            per_unit("a", "9007199254740991")
        );
        assert_eq!(ok("0").unwrap(), per_unit("a", "0"));
        assert!(ok("1234567890123456.0000000000001").is_err());
        // At most 20 items, in either form.
        let many = |n: usize| {
            (0..n)
                .map(|i| format!(r#"{{"metric_code":"m{i}","unit_amount_decimal":"1"}}"#))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(
            parse_metered_items(&json(&format!(r#"{{"metered_items":[{}]}}"#, many(20))))
                .unwrap()
                .len(),
            20
        );
        assert_eq!(
            e(&format!("[{}]", many(21))),
            ("invalid_field", 400, Some("metered_items".into()))
        );
        let form: Vec<(String, Raw)> = (0..21)
            .flat_map(|i| {
                [
                    (
                        format!("metered_item_metric{i}"),
                        Raw::from(format!("m{i}")),
                    ),
                    (
                        format!("metered_item_unit_amount_decimal{i}"),
                        Raw::from("1"),
                    ),
                ]
            })
            .collect();
        let e = parse_metered_items(&Raw::object(form)).unwrap_err();
        assert_eq!(e.field().as_deref(), Some("metered_items"));
        assert!(e.to_string().contains("at most 20"), "{e}");
    }

    #[test]
    fn stored_items_read_back_what_they_serialise() {
        let items = vec![
            per_unit("api_calls", "0.000000000001"),
            tiered("storage_gb"),
            per_unit("x", "9007199254740991"),
        ];
        let text = crate::to_json::to_string(&items);
        assert_eq!(items_from_stored(&Raw::from(text.clone())).unwrap(), items);
        assert_eq!(items_from_stored(&json(&text)).unwrap(), items);
        for (i, item) in items.iter().enumerate() {
            let one = crate::to_json::to_string(item);
            assert_eq!(MeteredItem::from_stored(&json(&one)).unwrap(), items[i]);
        }
        assert_eq!(items_from_stored(&Raw::Null).unwrap(), vec![]);
        assert_eq!(
            err(items_from_stored(&Raw::from("{not json"))).2.as_deref(),
            Some("metered_items")
        );
        assert_eq!(
            err(items_from_stored(&json(
                r#"[{"metric_code":"a","tiers":[{"up_to":5,"unit_amount_decimal":"1"}]}]"#
            )))
            .2
            .as_deref(),
            Some("metered_items[0].tiers[0].up_to")
        );
        assert_eq!(
            err(MeteredItem::from_stored(&json(
                r#"{"metric_code":"a","unit_amount_decimal":null,"tiers":null}"#
            )))
            .2
            .as_deref(),
            Some("unit_amount_decimal")
        );
        assert_eq!(
            err(MeteredItem::from_stored(&Raw::from(5i64))).2.as_deref(),
            Some("metered_item")
        );
        assert_eq!(
            err(items_from_stored(&json("[5]"))).2.as_deref(),
            Some("metered_items[0]")
        );
    }

    // ---- events ----

    const NOW: &str = "2024-05-01T12:00:00Z";

    fn event(pairs: &[(&str, Raw)]) -> Raw {
        let mut all = vec![
            ("event_id", Raw::from("ev_1")),
            ("subscription_guid", "SU1".into()),
            ("metric_code", "api_calls".into()),
        ];
        for (k, v) in pairs {
            all.retain(|(key, _)| key != k);
            all.push((k, v.clone()));
        }
        obj(&all)
    }

    #[test]
    fn events() {
        let now = t(NOW);
        let e = validate_event(&event(&[]), now).unwrap();
        assert_eq!(
            e,
            EventInput {
                event_id: "ev_1".into(),
                subscription_guid: "SU1".into(),
                metric_code: "api_calls".into(),
                value: 1,
                timestamp: now
            }
        );
        assert_eq!(
            crate::to_json::to_string(&e),
            r#"{"event_id":"ev_1","subscription_guid":"SU1","metric_code":"api_calls","value":1,"timestamp":"2024-05-01T12:00:00.000000+00:00"}"#
        );
        // Form strings and JSON numbers alike; negative values (corrections) and 0 too.
        for (v, want) in [
            (Raw::from("-40"), -40),
            (Raw::from(0i64), 0),
            (Raw::from("9007199254740991"), MAX_AMOUNT),
        ] {
            assert_eq!(
                validate_event(&event(&[("value", v)]), now).unwrap().value,
                want
            );
        }
        // Up to five minutes ahead is clock skew.
        let e =
            validate_event(&event(&[("timestamp", "2024-05-01T12:05:00Z".into())]), now).unwrap();
        assert_eq!(e.timestamp, t("2024-05-01T12:05:00Z"));
        let e = validate_event(
            &event(&[("timestamp", "2024-05-01T12:05:00.000001Z".into())]),
            now,
        )
        .unwrap_err();
        assert_eq!(
            (e.code(), e.status(), e.field().as_deref()),
            ("event_in_future", 422, Some("timestamp"))
        );
        assert_eq!(
            e.to_string(),
            "timestamp 2024-05-01T12:05:00.000001+00:00 is more than 5 minutes after now \
             (2024-05-01T12:00:00.000000+00:00); an event is recorded when it happens"
        );
        for (field, value, code) in [
            ("event_id", Raw::Null, "missing_field"),
            ("event_id", "e".repeat(65).into(), "invalid_field"),
            ("subscription_guid", "".into(), "missing_field"),
            ("subscription_guid", "s".repeat(65).into(), "invalid_field"),
            ("metric_code", "Api".into(), "invalid_field"),
            ("metric_code", Raw::Null, "missing_field"),
            ("value", "1.5".into(), "invalid_field"),
            ("value", 1.5.into(), "invalid_field"),
            ("value", "9007199254740992".into(), "amount_out_of_range"),
            ("value", "-9007199254740992".into(), "amount_out_of_range"),
            ("value", Raw::Bool(true), "invalid_field"),
            ("timestamp", "yesterday".into(), "invalid_time"),
            ("timestamp", 1714564800i64.into(), "invalid_time"),
        ] {
            assert_eq!(
                err(validate_event(&event(&[(field, value.clone())]), now)),
                (code, 400, Some(field.into())),
                "{field} {value:?}"
            );
        }
        assert!(validate_event(&event(&[("event_id", "e".repeat(64).into())]), now).is_ok());
        assert_eq!(
            err(validate_event(&Raw::from("x"), now)).2.as_deref(),
            Some("input")
        );
    }

    #[test]
    fn event_batches_are_taken_whole() {
        let now = t(NOW);
        let one = |id: &str, extra: &[(&str, Raw)]| {
            let mut pairs = vec![("event_id", Raw::from(id))];
            pairs.extend(extra.iter().cloned());
            event(&pairs)
        };
        let batch = obj(&[(
            "events",
            Raw::Array(vec![one("a", &[]), one("b", &[("value", "7".into())])]),
        )]);
        let events = validate_events_batch(&batch, now).unwrap();
        assert_eq!(
            events
                .iter()
                .map(|e| (e.event_id.as_str(), e.value))
                .collect::<Vec<_>>(),
            vec![("a", 1), ("b", 7)]
        );
        // A lone event is a batch of one, refused with its own error.
        assert_eq!(validate_events_batch(&one("a", &[]), now).unwrap().len(), 1);
        let f =
            check_events_batch(&one("a", &[("timestamp", "2030-01-01".into())]), now).unwrap_err();
        assert_eq!(
            (f.error.code(), f.error.status(), f.error.field().as_deref()),
            ("event_in_future", 422, Some("timestamp"))
        );
        assert_eq!(f.errors.len(), 1);
        assert_eq!(
            (f.errors[0].index, f.errors[0].code),
            (Some(0), "event_in_future")
        );
        // Every failing index is listed; none of the batch is taken.
        let batch = obj(&[(
            "events",
            Raw::Array(vec![
                one("a", &[("value", "x".into())]),
                one("b", &[]),
                Raw::from(5i64),
                one("d", &[("timestamp", "2030-01-01".into())]),
                one("", &[]),
            ]),
        )]);
        let f = check_events_batch(&batch, now).unwrap_err();
        assert_eq!(
            (f.error.code(), f.error.status(), f.error.field().as_deref()),
            ("invalid_batch", 400, Some("events"))
        );
        assert_eq!(
            f.errors
                .iter()
                .map(|e| (e.index, e.code, e.status, e.field.as_deref()))
                .collect::<Vec<_>>(),
            vec![
                (Some(0), "invalid_field", 400, Some("events[0].value")),
                (Some(2), "invalid_field", 400, Some("events[2]")),
                (Some(3), "event_in_future", 422, Some("events[3].timestamp")),
                (Some(4), "missing_field", 400, Some("events[4].event_id")),
            ]
        );
        assert_eq!(
            f.errors[0].message,
            "events[0].value must be an integer, got \"x\""
        );
        assert_eq!(
            f.error.to_string(),
            "4 of 5 events are invalid, so none was recorded: events[0].value: must be an integer, got \"x\"; \
             events[2]: must be an object, got a number; events[3].timestamp: 2030-01-01T00:00:00.000000+00:00 is \
             more than 5 minutes after now (2024-05-01T12:00:00.000000+00:00); an event is recorded when it \
             happens; events[4].event_id: is required"
        );
        assert_eq!(validate_events_batch(&batch, now).unwrap_err(), f.error);
        // The batch itself malformed: index null.
        for events in [
            Raw::Array(vec![]),
            Raw::Array(vec![one("a", &[]); 1001]),
            Raw::from(5i64),
            obj(&[]),
        ] {
            let f = check_events_batch(&obj(&[("events", events)]), now).unwrap_err();
            assert_eq!(
                (f.error.code(), f.error.field().as_deref()),
                ("invalid_field", Some("events"))
            );
            assert_eq!(f.errors.len(), 1);
            assert_eq!(f.errors[0].index, None);
        }
        assert_eq!(
            validate_events_batch(
                &obj(&[("events", Raw::Array(vec![one("a", &[]); 1000]))]),
                now
            )
            .unwrap()
            .len(),
            1000
        );
    }

    #[test]
    fn periods_close() {
        let start = t("2024-05-01");
        assert!(check_period(start, start).is_ok());
        assert!(check_period(t("2024-06-01"), start).is_ok());
        let e = check_period(t("2024-04-30T23:59:59.999999"), start).unwrap_err();
        assert_eq!(
            (e.code(), e.status(), e.field().as_deref()),
            ("period_closed", 422, Some("timestamp"))
        );
        assert!(
            e.to_string().contains("2024-05-01T00:00:00.000000+00:00"),
            "{e}"
        );
    }

    // ---- aggregation ----

    fn s(value: i64, at: &str) -> Sample {
        Sample {
            value,
            timestamp: t(at),
        }
    }

    fn fold_all(aggregation: Aggregation, events: &[Sample]) -> Result<Aggregate> {
        events.iter().try_fold(Aggregate::default(), |state, e| {
            fold(state, aggregation, e.value, e.timestamp)
        })
    }

    #[test]
    fn each_aggregation() {
        let events = [
            s(5, "2024-05-02"),
            s(-2, "2024-05-04"),
            s(9, "2024-05-03"),
            s(4, "2024-05-04"),
        ];
        for (aggregation, want) in [
            (Aggregation::Sum, 16),
            (Aggregation::Max, 9),
            (Aggregation::Count, 4),
            // The latest timestamp is shared by -2 and 4: the later arrival wins.
            (Aggregation::Last, 4),
        ] {
            let folded = fold_all(aggregation, &events).unwrap();
            assert_eq!(folded.value, want, "{aggregation}");
            assert_eq!(
                (folded.count, folded.last_timestamp, folded.last_value),
                (4, Some(t("2024-05-04")), Some(4))
            );
            assert_eq!(aggregate_all(aggregation, &events).unwrap(), folded);
        }
        // Max of negatives is the largest negative, not 0; an empty aggregate is 0.
        assert_eq!(
            fold_all(
                Aggregation::Max,
                &[s(-7, "2024-05-01"), s(-3, "2024-05-01")]
            )
            .unwrap()
            .value,
            -3
        );
        for aggregation in Aggregation::ALL {
            assert_eq!(
                aggregate_all(*aggregation, &[]).unwrap(),
                Aggregate::default()
            );
        }
        // An older event arriving late does not become the last one.
        let late = fold_all(Aggregation::Last, &[s(1, "2024-05-05"), s(2, "2024-05-01")]).unwrap();
        assert_eq!(
            (late.value, late.last_timestamp),
            (1, Some(t("2024-05-05")))
        );
        // Sums stay within ±(2^53−1).
        let e = fold_all(Aggregation::Sum, &[s(MAX_AMOUNT, NOW), s(1, NOW)]).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("amount_out_of_range", Some("value"))
        );
        assert_eq!(
            aggregate_all(Aggregation::Sum, &[s(MAX_AMOUNT, NOW), s(1, NOW)])
                .unwrap_err()
                .code(),
            "amount_out_of_range"
        );
        assert_eq!(
            fold_all(Aggregation::Sum, &[s(-MAX_AMOUNT, NOW)])
                .unwrap()
                .value,
            -MAX_AMOUNT
        );
        assert_eq!(
            fold(
                Aggregate::default(),
                Aggregation::Count,
                MAX_AMOUNT + 1,
                t(NOW)
            )
            .unwrap_err()
            .code(),
            "amount_out_of_range"
        );
    }

    #[test]
    fn states_cross_as_json_and_back() {
        let state = fold_all(Aggregation::Sum, &[s(5, "2024-05-02"), s(6, "2024-05-03")]).unwrap();
        let text = crate::to_json::to_string(&state);
        assert_eq!(
            text,
            r#"{"value":11,"count":2,"last_timestamp":"2024-05-03T00:00:00.000000+00:00","last_value":6}"#
        );
        assert_eq!(Aggregate::from_raw(&json(&text), "state").unwrap(), state);
        assert_eq!(
            Aggregate::from_raw(&Raw::Null, "state").unwrap(),
            Aggregate::default()
        );
        assert_eq!(
            crate::to_json::to_string(&Aggregate::default()),
            r#"{"value":0,"count":0,"last_timestamp":null,"last_value":null}"#
        );
        for (bad, field) in [
            (r#"{"value":1,"count":0}"#, "state.count"),
            (r#"{"value":1,"count":1}"#, "state.count"),
            (
                r#"{"value":1,"count":1,"last_value":1}"#,
                "state.last_value",
            ),
            (r#"{"value":1.5,"count":1}"#, "state.value"),
            (r#"{"count":-1}"#, "state.count"),
            (
                r#"{"count":1,"last_value":1,"last_timestamp":"soon"}"#,
                "state.last_timestamp",
            ),
            (r#"5"#, "state"),
        ] {
            assert_eq!(
                err(Aggregate::from_raw(&json(bad), "state")).2.as_deref(),
                Some(field),
                "{bad}"
            );
        }
    }

    #[test]
    fn batch_folds() {
        let entry = |key: &str,
                     aggregation: Aggregation,
                     value: i64,
                     at: &str,
                     state: Option<Aggregate>| FoldEntry {
            key: key.into(),
            aggregation,
            value,
            timestamp: t(at),
            state,
        };
        let stored = fold_all(Aggregation::Sum, &[s(100, "2024-05-01")]).unwrap();
        let states = fold_batch(&[
            entry("SU1:calls", Aggregation::Sum, 5, "2024-05-02", Some(stored)),
            entry("SU1:seats", Aggregation::Max, 3, "2024-05-02", None),
            // Later entries of a key continue from the running state, whatever state they carry.
            entry(
                "SU1:calls",
                Aggregation::Sum,
                7,
                "2024-05-03",
                Some(Aggregate::default()),
            ),
            entry("SU1:seats", Aggregation::Max, 2, "2024-05-03", None),
        ])
        .unwrap();
        assert_eq!(states.len(), 2);
        assert_eq!(
            (states["SU1:calls"].value, states["SU1:calls"].count),
            (112, 3)
        );
        assert_eq!(
            (states["SU1:seats"].value, states["SU1:seats"].count),
            (3, 2)
        );
        let e = fold_batch(&[
            entry("k", Aggregation::Sum, 1, NOW, None),
            entry("k", Aggregation::Max, 1, NOW, None),
        ])
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("entries[1].aggregation"));
        let e = fold_batch(&[
            entry("k", Aggregation::Sum, MAX_AMOUNT, NOW, None),
            entry("k", Aggregation::Sum, 1, NOW, None),
        ])
        .unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("amount_out_of_range", Some("entries[1].value"))
        );
        // From raw entries, as the worker sends them.
        let raw = json(
            r#"[{"key":"SU1:calls","aggregation":"sum","value":5,"timestamp":"2024-05-02",
                 "state":{"value":100,"count":1,"last_timestamp":"2024-05-01","last_value":100}},
                {"key":"SU1:calls","aggregation":"sum","value":"7","timestamp":"2024-05-03","state":null}]"#,
        );
        let entries = fold_entries(&raw).unwrap();
        assert_eq!(fold_batch(&entries).unwrap()["SU1:calls"].value, 112);
        for (bad, field) in [
            (
                r#"[{"aggregation":"sum","value":1,"timestamp":"2024-05-01"}]"#,
                "entries[0].key",
            ),
            (
                r#"[{"key":"k","aggregation":"avg","value":1,"timestamp":"2024-05-01"}]"#,
                "entries[0].aggregation",
            ),
            (
                r#"[{"key":"k","aggregation":"sum","timestamp":"2024-05-01"}]"#,
                "entries[0].value",
            ),
            (
                r#"[{"key":"k","aggregation":"sum","value":1}]"#,
                "entries[0].timestamp",
            ),
            (
                r#"[{"key":"k","aggregation":"sum","value":1,"timestamp":"2024-05-01","state":{"count":2}}]"#,
                "entries[0].state.count",
            ),
            (r#"[7]"#, "entries[0]"),
            (r#"{}"#, "entries"),
        ] {
            assert_eq!(
                err(fold_entries(&json(bad))).2.as_deref(),
                Some(field),
                "{bad}"
            );
        }
    }

    /// Random event streams with repeated ids (resent events): the store keeps the first of each id and the worker
    /// folds only those. Folding one by one, folding in batches and aggregating the kept raw events all agree.
    #[test]
    fn property_folding_agrees_with_reaggregation() {
        let mut rng = XorShift::new(0x05A6_E0F0);
        let base = t("2024-05-01");
        for round in 0..1_500 {
            let n = rng.range(0, 60) as usize;
            let ids = rng.range(1, 80);
            let stream: Vec<(i64, Sample)> = (0..n)
                .map(|_| {
                    let value = match rng.next() % 4 {
                        0 => rng.range(-1_000, 1_000),
                        1 => rng.range(0, 3),
                        _ => rng.range(-1_000_000_000_000, 1_000_000_000_000),
                    };
                    // Few distinct instants, so equal timestamps (the tie rule) are common.
                    let at = base + TimeDelta::seconds(rng.range(0, 20));
                    (
                        rng.range(0, ids),
                        Sample {
                            value,
                            timestamp: at,
                        },
                    )
                })
                .collect();
            let mut seen = SortedSet::new();
            let kept: Vec<Sample> = stream
                .iter()
                .filter(|(id, _)| seen.insert(*id))
                .map(|(_, e)| *e)
                .collect();
            for &aggregation in Aggregation::ALL {
                let one_by_one = fold_all(aggregation, &kept).unwrap();
                assert_eq!(
                    one_by_one,
                    aggregate_all(aggregation, &kept).unwrap(),
                    "round {round} {aggregation}"
                );
                // The same events in random batches, each batch one crossing starting from the stored state.
                let mut stored: Option<Aggregate> = None;
                let mut rest = &kept[..];
                while !rest.is_empty() {
                    let size = (rng.range(1, 10) as usize).min(rest.len());
                    let (batch, after) = rest.split_at(size);
                    let entries: Vec<FoldEntry> = batch
                        .iter()
                        .map(|e| FoldEntry {
                            key: "k".into(),
                            aggregation,
                            value: e.value,
                            timestamp: e.timestamp,
                            state: stored,
                        })
                        .collect();
                    stored = Some(fold_batch(&entries).unwrap()["k"]);
                    rest = after;
                }
                assert_eq!(
                    stored.unwrap_or_default(),
                    one_by_one,
                    "round {round} {aggregation} in batches"
                );
                // And the line priced from either is the same.
                for item in [per_unit("k", "0.05"), tiered("k")] {
                    assert_eq!(
                        price(&item, one_by_one.value).unwrap(),
                        price(&item, aggregate_all(aggregation, &kept).unwrap().value).unwrap()
                    );
                }
            }
        }
    }

    // ---- pricing ----

    #[test]
    fn worked_examples() {
        let calls = per_unit("api_calls", "0.05");
        let line = price(&calls, 1_234_567).unwrap();
        assert_eq!(
            line,
            Line {
                quantity: 1_234_567,
                unit_amount_decimal: Some(d("0.05")),
                amount: 61_728
            }
        );
        assert_eq!(
            crate::to_json::to_string(&line),
            r#"{"quantity":1234567,"unit_amount_decimal":"0.05","amount":61728}"#
        );
        // Halves go to the even neighbour.
        assert_eq!(price(&calls, 1_234_570).unwrap().amount, 61_728);
        assert_eq!(price(&calls, 1_234_590).unwrap().amount, 61_730);
        let tiers = tiered("storage_gb");
        for (quantity, amount) in [
            (25_000, 6_500),
            (1_000, 0),
            (1_001, 0),
            (1_003, 2),
            (10_000, 4_500),
            (10_001, 5_000),
            (0, 0),
        ] {
            let line = price(&tiers, quantity).unwrap();
            assert_eq!(
                (line.quantity, line.amount),
                (quantity, amount),
                "{quantity}"
            );
            assert_eq!(line.unit_amount_decimal, None);
        }
        // A negative aggregate is billed as 0.
        assert_eq!(
            price(&tiers, -5).unwrap(),
            Line {
                quantity: 0,
                unit_amount_decimal: None,
                amount: 0
            }
        );
        assert_eq!(price(&calls, -5).unwrap().amount, 0);
    }

    #[test]
    fn tiers_round_once_for_the_whole_line() {
        // Two tiers each worth half a unit: rounded tier by tier 0 + 0 = 0; rounded once 0.5 + 0.5 = 1.
        let item = MeteredItem {
            metric_code: "a".into(),
            pricing: Pricing::Graduated(vec![
                Tier {
                    up_to: Some(1),
                    unit_amount_decimal: d("0.5"),
                    flat_amount: 0,
                },
                Tier {
                    up_to: None,
                    unit_amount_decimal: d("0.5"),
                    flat_amount: 0,
                },
            ]),
        };
        assert_eq!(price(&item, 2).unwrap().amount, 1);
        // The flat amount of a tier counts once at least one unit falls in it.
        let item = MeteredItem {
            metric_code: "a".into(),
            pricing: Pricing::Graduated(vec![
                Tier {
                    up_to: Some(10),
                    unit_amount_decimal: d("0"),
                    flat_amount: 1000,
                },
                Tier {
                    up_to: None,
                    unit_amount_decimal: d("1"),
                    flat_amount: 200,
                },
            ]),
        };
        assert_eq!(
            [0, 1, 10, 11, 12].map(|q| price(&item, q).unwrap().amount),
            [0, 1000, 1000, 1201, 1202]
        );
    }

    #[test]
    fn prices_beyond_the_maximum_are_refused() {
        let e = price(&per_unit("a", "2"), MAX_AMOUNT).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("amount_out_of_range", Some("quantity"))
        );
        assert!(e.to_string().contains("of a would cost more than"), "{e}");
        assert_eq!(
            price(&per_unit("a", "1"), MAX_AMOUNT).unwrap().amount,
            MAX_AMOUNT
        );
        // The largest price times the largest quantity overflows any decimal: still just out of range.
        assert_eq!(
            price(&per_unit("a", "9007199254740991.999999999999"), MAX_AMOUNT)
                .unwrap_err()
                .code(),
            "amount_out_of_range"
        );
        // A quantity beyond the range is refused as such.
        let e = price(&per_unit("a", "0.5"), MAX_AMOUNT + 1).unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("amount_out_of_range", Some("quantity"))
        );
        // MAX + 0.4 rounds down into range; MAX + 0.5 rounds to the even MAX + 1, out of range.
        let edge = |unit: &str| MeteredItem {
            metric_code: "a".into(),
            pricing: Pricing::Graduated(vec![
                Tier {
                    up_to: Some(1),
                    unit_amount_decimal: d("0"),
                    flat_amount: MAX_AMOUNT,
                },
                Tier {
                    up_to: None,
                    unit_amount_decimal: d(unit),
                    flat_amount: 0,
                },
            ]),
        };
        assert_eq!(price(&edge("0.4"), 2).unwrap().amount, MAX_AMOUNT);
        assert_eq!(
            price(&edge("0.5"), 2).unwrap_err().code(),
            "amount_out_of_range"
        );
        let item = MeteredItem {
            metric_code: "a".into(),
            pricing: Pricing::Graduated(vec![
                Tier {
                    up_to: Some(1),
                    unit_amount_decimal: d("0"),
                    flat_amount: MAX_AMOUNT,
                },
                Tier {
                    up_to: None,
                    unit_amount_decimal: d("0"),
                    flat_amount: 1,
                },
            ]),
        };
        assert_eq!(price(&item, 1).unwrap().amount, MAX_AMOUNT);
        assert_eq!(price(&item, 2).unwrap_err().code(), "amount_out_of_range");
    }

    #[test]
    fn invoice_lines() {
        let items = vec![
            per_unit("api_calls", "0.05"),
            tiered("storage_gb"),
            per_unit("seats", "1000"),
        ];
        let aggregates: SortedMap<String, Aggregate> = [
            (
                "api_calls".to_string(),
                fold_all(Aggregation::Sum, &[s(1_234_567, NOW)]).unwrap(),
            ),
            (
                "storage_gb".to_string(),
                fold_all(Aggregation::Max, &[s(25_000, NOW)]).unwrap(),
            ),
            (
                "unused".to_string(),
                fold_all(Aggregation::Sum, &[s(5, NOW)]).unwrap(),
            ),
        ]
        .into();
        let names: SortedMap<String, String> =
            [("api_calls".to_string(), "API calls".to_string())].into();
        let (start, end) = (t("2024-05-01"), t("2024-06-01"));
        let lines = usage_lines(&items, &aggregates, &names, start, end).unwrap();
        assert_eq!(
            lines
                .iter()
                .map(|l| (
                    l.name.as_str(),
                    l.metric_code.as_str(),
                    l.quantity,
                    l.amount
                ))
                .collect::<Vec<_>>(),
            vec![
                ("API calls usage", "api_calls", 1_234_567, 61_728),
                ("storage_gb usage", "storage_gb", 25_000, 6_500),
                // No events: a zero line all the same.
                ("seats usage", "seats", 0, 0),
            ]
        );
        assert_eq!(
            crate::to_json::to_string(&lines[0]),
            r#"{"name":"API calls usage","metric_code":"api_calls","quantity":1234567,"unit_amount_decimal":"0.05","amount":61728,"period_start":"2024-05-01T00:00:00.000000+00:00","period_end":"2024-06-01T00:00:00.000000+00:00"}"#
        );
        assert_eq!(
            err(usage_lines(&items, &aggregates, &names, end, start))
                .2
                .as_deref(),
            Some("period_end")
        );
        assert_eq!(
            aggregates_from_raw(&json(r#"{"api_calls":{"value":3,"count":3,"last_timestamp":"2024-05-01","last_value":1},"b":null}"#))
                .unwrap()["api_calls"]
                .value,
            3
        );
        assert_eq!(
            err(aggregates_from_raw(&json(r#"{"a":{"value":"x"}}"#)))
                .2
                .as_deref(),
            Some("aggregates.a.value")
        );
    }
}
