//! Ingesting a batch of usage events as one decision: every event validated ([`crate::usage::check_events_batch`]),
//! checked against its subscription (known, not canceled, the metric one of its plan's metered items, the timestamp
//! in its open period: [`crate::subscription::usage_period`]), de-duplicated by `event_id` (against the ids already
//! stored and within the batch: the first wins), and the fresh ones folded into their running aggregates
//! ([`crate::usage::fold`]). Any failure refuses the whole batch, with every failing index listed (Lago's rule).
//!
//! The worker hands in what it read in the same storage transaction (the subscriptions and metrics the events name,
//! the event ids already stored, the unbilled aggregates of those subscriptions) and writes back what this returns:
//! one boundary crossing for a batch of 1,000.

use crate::sorted::{SortedMap, SortedSet};

use crate::to_json::{self, JsonFields, ToJson};

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::subscription::{self, Billable};
use crate::time::{self, Instant};
use crate::usage::{self, Aggregate, Aggregation, BatchFailure, EntryError, EventInput};

/// A subscription as ingestion needs it.
pub struct Subscription {
    pub billable: Billable,
    pub canceled: bool,
    /// The metric codes of its plan's metered items.
    pub metrics: Vec<String>,
    /// Its plan's metered items, to price what the events add up to.
    pub items: Vec<usage::MeteredItem>,
}

/// What the worker read for a batch.
#[derive(Default)]
pub struct Context {
    pub subscriptions: SortedMap<String, Subscription>,
    /// Metric code → aggregation, for the metrics the events name that exist.
    pub metrics: SortedMap<String, Aggregation>,
    /// Event ids already stored.
    pub known: SortedSet<String>,
    /// Running aggregates by (subscription, metric, period).
    pub states: SortedMap<(String, String, i64), Aggregate>,
}

impl Context {
    /// Reads `{subscriptions: {guid: row}, metrics: {code: aggregation}, known: [event_id], states:
    /// [{subscription_guid, metric_code, period, state}]}`; a subscription `row` is the stored row joined with its plan
    /// (`metered_items` as stored JSON text or an array).
    pub fn from_raw(raw: &Raw) -> Result<Context> {
        let mut ctx = Context::default();
        if let Some(Raw::Object(subs)) = raw.get("subscriptions") {
            for (guid, row) in subs {
                let items = match row.get("metered_items") {
                    Some(Raw::String(text)) => crate::json::parse(text, 8)
                        .ok_or_else(|| CoreError::invalid("metered_items", "must be JSON"))?,
                    Some(other) => other.clone(),
                    None => Raw::Array(Vec::new()),
                };
                let items = usage::items_from_stored(&items)?;
                let metrics = items.iter().map(|i| i.metric_code.clone()).collect();
                let canceled = matches!(row.get("canceled"), Some(Raw::Number(n)) if n != "0")
                    || matches!(row.get("canceled"), Some(Raw::Bool(true)));
                ctx.subscriptions.insert(
                    guid.clone(),
                    Subscription {
                        billable: Billable::from_raw(row)?,
                        canceled,
                        metrics,
                        items,
                    },
                );
            }
        }
        if let Some(Raw::Object(metrics)) = raw.get("metrics") {
            for (code, aggregation) in metrics {
                let name = input::string_value(aggregation, "metrics", 16)?;
                ctx.metrics
                    .insert(code.clone(), Aggregation::parse(&name, "metrics")?);
            }
        }
        if let Some(Raw::Array(ids)) = raw.get("known") {
            for id in ids {
                ctx.known.insert(input::string_value(id, "known", 64)?);
            }
        }
        if let Some(Raw::Array(states)) = raw.get("states") {
            for s in states {
                let key = (
                    input::req_string(s, "subscription_guid", 64)?,
                    input::req_string(s, "metric_code", 64)?,
                    input::opt_int(s, "period", 0, crate::money::MAX_AMOUNT)?.unwrap_or(0),
                );
                let state = match s.get("state") {
                    Some(Raw::String(text)) => crate::json::parse(text, 4)
                        .ok_or_else(|| CoreError::invalid("state", "must be JSON"))?,
                    Some(other) => other.clone(),
                    None => Raw::Null,
                };
                ctx.states
                    .insert(key, Aggregate::from_raw(&state, "state")?);
            }
        }
        Ok(ctx)
    }
}

/// An accepted event: where it counts and whether it was a repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// Answered as fields of the placed event itself.
    pub event: EventInput,
    /// Where it counts (null for a repeat of an event stored before, whose period may be closed by now).
    pub period: Option<i64>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub duplicate: bool,
}

/// `{...event, period, period_start, period_end, duplicate}`.
impl ToJson for Placed {
    fn write_json(&self, out: &mut String) {
        out.push('{');
        let first = &mut true;
        self.event.write_fields(out, first);
        to_json::field(out, first, "period", &self.period);
        to_json::field(out, first, "period_start", &self.period_start);
        to_json::field(out, first, "period_end", &self.period_end);
        to_json::field(out, first, "duplicate", &self.duplicate);
        out.push('}');
    }
}

crate::json_struct! {
    /// A running aggregate to write.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct StateOut {
        pub subscription_guid: String,
        pub metric_code: String,
        pub period: i64,
        pub period_start: String,
        pub period_end: String,
        pub state: Aggregate,
    }
}

crate::json_struct! {
    /// An accepted batch.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Ingested {
        pub events: Vec<Placed>,
        pub states: Vec<StateOut>,
    }
}

fn conflict(code: &'static str, status: u16, field: &str, reason: String) -> CoreError {
    match status {
        404 => CoreError::NotFound {
            field: Some(field.into()),
            reason,
        },
        409 => CoreError::Conflict {
            code,
            field: Some(field.into()),
            reason,
        },
        _ => CoreError::Unprocessable {
            code,
            field: Some(field.into()),
            reason,
        },
    }
}

/// Where one validated event counts, or why it cannot.
fn place(ctx: &Context, e: &EventInput) -> Result<(Aggregation, i64, Instant, Instant)> {
    let sub = ctx.subscriptions.get(&e.subscription_guid).ok_or_else(|| {
        conflict(
            "not_found",
            404,
            "subscription_guid",
            format!("No such subscription: {}", e.subscription_guid),
        )
    })?;
    if sub.canceled {
        return Err(conflict(
            "subscription_canceled",
            409,
            "subscription_guid",
            format!("Subscription {} is canceled", e.subscription_guid),
        ));
    }
    let aggregation = *ctx.metrics.get(&e.metric_code).ok_or_else(|| {
        conflict(
            "not_found",
            404,
            "metric_code",
            format!("No such metric: {}", e.metric_code),
        )
    })?;
    if !sub.metrics.contains(&e.metric_code) {
        return Err(conflict(
            "metric_not_on_plan",
            422,
            "metric_code",
            format!(
                "Metric {} is not a metered item of the subscription's plan",
                e.metric_code
            ),
        ));
    }
    if sub.billable.cancel_at.is_some_and(|c| e.timestamp >= c) {
        return Err(conflict(
            "subscription_canceled",
            409,
            "timestamp",
            format!(
                "Subscription {} ends before this event (cancel at period end)",
                e.subscription_guid
            ),
        ));
    }
    if sub.billable.paused_at.is_some_and(|p| e.timestamp >= p)
        && sub.billable.resumes_at.is_none_or(|r| e.timestamp < r)
    {
        return Err(conflict(
            "subscription_paused",
            409,
            "timestamp",
            format!(
                "Subscription {} is paused at this event's time: nothing is billed then",
                e.subscription_guid
            ),
        ));
    }
    let (period, start, end) = subscription::usage_period(&sub.billable, e.timestamp)?;
    Ok((aggregation, period, start, end))
}

/// Ingests a request body (one event, or `{events: [...]}`) at `now` against what the worker read.
pub fn ingest(
    raw: &Raw,
    now: Instant,
    ctx: &Context,
) -> std::result::Result<Ingested, BatchFailure> {
    let batch = matches!(input::present(raw, "events"), Some(Raw::Array(list)) if !list.is_empty() && list.len() <= usage::MAX_BATCH);
    // A lone event, or a malformed batch: validation decides alone.
    let checked: Vec<Result<EventInput>> = match (batch, input::present(raw, "events")) {
        (true, Some(Raw::Array(list))) => usage::each_event(list, now),
        _ => usage::check_events_batch(raw, now)?
            .into_iter()
            .map(Ok)
            .collect(),
    };
    // Every event is checked, for its fields and against its subscription, so that all failures are listed.
    let mut events = Vec::with_capacity(checked.len());
    let mut placed = Vec::with_capacity(checked.len());
    let mut errors = Vec::new();
    for (i, result) in checked.into_iter().enumerate() {
        // A repeat of an event stored before is answered as a duplicate whatever has happened since (a retried
        // batch after its period was invoiced is still only a repeat).
        let placing = |e: EventInput| {
            if ctx.known.contains(&e.event_id) {
                return Ok((e, None));
            }
            place(ctx, &e)
                .map(|p| (e, Some(p)))
                .map_err(|err| if batch { prefixed(err, i) } else { err })
        };
        // Validation errors already name `events[i]`; placing errors are named here.
        match result.and_then(placing) {
            Ok((e, p)) => {
                events.push(e);
                placed.push(p);
            }
            Err(err) => {
                errors.push(EntryError::of(Some(i), &err));
                if !batch {
                    return Err(BatchFailure { error: err, errors });
                }
            }
        }
    }
    if !errors.is_empty() {
        let total = events.len() + errors.len();
        return Err(usage::batch_failure(errors, total));
    }
    let mut seen: SortedSet<&str> = SortedSet::new();
    let mut states: SortedMap<(String, String, i64), (Aggregate, Instant, Instant)> =
        SortedMap::new();
    let mut out = Vec::with_capacity(events.len());
    for (e, at) in events.iter().zip(placed) {
        let Some((aggregation, period, start, end)) = at else {
            out.push(Placed {
                event: e.clone(),
                period: None,
                period_start: None,
                period_end: None,
                duplicate: true,
            });
            continue;
        };
        let duplicate = !seen.insert(e.event_id.as_str());
        if !duplicate {
            let key = (e.subscription_guid.clone(), e.metric_code.clone(), period);
            let (state, _, _) = states.entry(key.clone()).or_insert_with(|| {
                (
                    ctx.states.get(&key).copied().unwrap_or_default(),
                    start,
                    end,
                )
            });
            *state = usage::fold(*state, aggregation, e.value, e.timestamp).map_err(|err| {
                let err = if batch { prefixed(err, out.len()) } else { err };
                BatchFailure {
                    errors: vec![EntryError::of(Some(out.len()), &err)],
                    error: err,
                }
            })?;
        }
        out.push(Placed {
            event: e.clone(),
            period: Some(period),
            period_start: Some(time::format(start)),
            period_end: Some(time::format(end)),
            duplicate,
        });
    }
    check_billable(ctx, &states)?;
    Ok(Ingested {
        events: out,
        states: states
            .into_iter()
            .map(
                |((subscription_guid, metric_code, period), (state, start, end))| StateOut {
                    subscription_guid,
                    metric_code,
                    period,
                    period_start: time::format(start),
                    period_end: time::format(end),
                    state,
                },
            )
            .collect(),
    })
}

/// Every period the batch touched must still make an invoice that fits ±(2^53−1): the plan's amount plus each
/// metered line priced from its aggregate (else the event is refused now rather than the invoice failing later).
fn check_billable(
    ctx: &Context,
    states: &SortedMap<(String, String, i64), (Aggregate, Instant, Instant)>,
) -> std::result::Result<(), BatchFailure> {
    let touched: SortedSet<(&String, i64)> = states.keys().map(|(s, _, p)| (s, *p)).collect();
    for (guid, period) in touched {
        let Some(sub) = ctx.subscriptions.get(guid) else {
            continue;
        };
        let mut total = sub.billable.amount.unwrap_or(sub.billable.plan_amount);
        for item in &sub.items {
            let key = (guid.clone(), item.metric_code.clone(), period);
            let state = states
                .get(&key)
                .map(|s| s.0)
                .or_else(|| ctx.states.get(&key).copied())
                .unwrap_or_default();
            let fits =
                usage::price(item, state.value).and_then(|l| crate::money::add(total, l.amount));
            match fits {
                Ok(t) => total = t,
                Err(_) => {
                    let error = CoreError::Unprocessable {
                        code: "amount_out_of_range",
                        field: Some("value".into()),
                        reason: format!(
                            "the usage of {} would bill more than 2^53−1 minor units in one invoice",
                            item.metric_code
                        ),
                    };
                    return Err(BatchFailure {
                        errors: vec![EntryError::of(None, &error)],
                        error,
                    });
                }
            }
        }
    }
    Ok(())
}

/// The same error, its field and message naming `events[i]`.
fn prefixed(err: CoreError, i: usize) -> CoreError {
    let field = err.field().map(|f| format!("events[{i}].{f}"));
    let reason = err.to_string();
    match err.status() {
        404 => CoreError::NotFound { field, reason },
        409 => CoreError::Conflict {
            code: err.code(),
            field,
            reason,
        },
        _ => CoreError::Unprocessable {
            code: err.code(),
            field,
            reason,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Instant {
        time::parse("2024-04-10T00:00:00Z", "now").unwrap()
    }

    fn ctx() -> Context {
        let row = Raw::object([
            ("started_at", Raw::from("2024-04-01T00:00:00Z")),
            ("next_period", Raw::from(1i64)),
            ("frequency", Raw::from("monthly")),
            ("plan_amount", Raw::from(1000i64)),
            ("canceled", Raw::from(0i64)),
            (
                "metered_items",
                Raw::from(r#"[{"metric_code":"calls","unit_amount_decimal":"0.05","tiers":null}]"#),
            ),
        ]);
        Context::from_raw(&Raw::object([
            ("subscriptions", Raw::object([("SU1", row)])),
            ("metrics", Raw::object([("calls", Raw::from("sum")), ("seats", Raw::from("max"))])),
            ("known", Raw::Array(vec![Raw::from("old")])),
            ("states", Raw::Array(vec![Raw::object([
                ("subscription_guid", Raw::from("SU1")),
                ("metric_code", Raw::from("calls")),
                ("period", Raw::from(0i64)),
                ("state", Raw::from(r#"{"value":5,"count":1,"last_timestamp":"2024-04-02T00:00:00.000000+00:00","last_value":5}"#)),
            ])])),
        ]))
        .unwrap()
    }

    fn event(id: &str, metric: &str, value: i64) -> Raw {
        Raw::object([
            ("event_id", Raw::from(id)),
            ("subscription_guid", Raw::from("SU1")),
            ("metric_code", Raw::from(metric)),
            ("value", Raw::from(value)),
        ])
    }

    #[test]
    fn a_batch_folds_fresh_events_once_onto_the_stored_state() {
        let body = Raw::object([(
            "events",
            Raw::Array(vec![
                event("a", "calls", 10),
                event("a", "calls", 10),
                event("old", "calls", 99),
                event("b", "calls", 1),
            ]),
        )]);
        let x = ingest(&body, now(), &ctx()).unwrap();
        assert_eq!(
            x.events.iter().map(|e| e.duplicate).collect::<Vec<_>>(),
            vec![false, true, true, false]
        );
        assert_eq!(x.states.len(), 1);
        assert_eq!((x.states[0].state.value, x.states[0].state.count), (16, 3));
        assert_eq!(x.states[0].period_start, "2024-04-01T00:00:00.000000+00:00");
    }

    #[test]
    fn any_bad_event_refuses_the_batch_listing_each() {
        let mut late = event("late", "calls", 1);
        if let Raw::Object(m) = &mut late {
            m.insert("timestamp".into(), Raw::from("2024-03-01T00:00:00Z"));
        }
        let body = Raw::object([(
            "events",
            Raw::Array(vec![
                event("ok", "calls", 1),
                event("x", "nope", 1),
                event("y", "seats", 1),
                late,
            ]),
        )]);
        let f = ingest(&body, now(), &ctx()).unwrap_err();
        assert_eq!((f.error.code(), f.error.status()), ("invalid_batch", 400));
        let listed: Vec<_> = f
            .errors
            .iter()
            .map(|e| (e.index, e.code, e.field.clone()))
            .collect();
        assert_eq!(
            listed,
            vec![
                (Some(1), "not_found", Some("events[1].metric_code".into())),
                (
                    Some(2),
                    "metric_not_on_plan",
                    Some("events[2].metric_code".into())
                ),
                (Some(3), "period_closed", Some("events[3].timestamp".into())),
            ]
        );
        // One event alone is refused with its own error.
        let f = ingest(&event("x", "nope", 1), now(), &ctx()).unwrap_err();
        assert_eq!(
            (f.error.status(), f.error.field().as_deref()),
            (404, Some("metric_code"))
        );
    }
}
