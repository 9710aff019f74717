//! Outgoing webhooks, signed as Standard Webhooks (<https://www.standardwebhooks.com>).
//!
//! An endpoint subscribes to event types (or `*`). Each event is written to an outbox in the same storage
//! transaction as the change it reports, one delivery per subscribed endpoint, and delivered from the scheduler:
//!
//! - headers `webhook-id` (the event's id, the same on every attempt, so a receiver dedupes by it),
//!   `webhook-timestamp` (epoch seconds of the attempt) and `webhook-signature: v1,<base64 HMAC-SHA256 of
//!   "id.timestamp.body">` with the endpoint's secret (`whsec_` + base64 of 24 random bytes);
//! - a 2xx answer delivers it; anything else (or no answer within 10 s) is retried after 5 s, 5 min, 30 min, 2 h,
//!   5 h, 10 h and 10 h (the reference schedule), then the delivery has failed;
//! - an endpoint whose deliveries have failed without a single success for [`DISABLE_AFTER_DAYS`] days is disabled
//!   (re-enabling it is a `PUT`).

use chrono::TimeDelta;

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::time::{self, Instant};
use crate::to_json::{self, JsonFields, ToJson};

crate::names! {
    /// What an event reports.
    pub enum EventType as "WebhookEventType" {
        InvoiceCreated = "invoice.created",
        InvoiceUpdated = "invoice.updated",
        TransactionCreated = "transaction.created",
        TransactionUpdated = "transaction.updated",
        OrderUpdated = "order.updated",
        CheckoutUpdated = "checkout.updated",
        CreditUpdated = "credit.updated",
        SubscriptionCreated = "customer.subscription.created",
        SubscriptionUpdated = "customer.subscription.updated",
        SubscriptionTrialEnding = "customer.subscription.trial_ending",
        SubscriptionPaused = "customer.subscription.paused",
        SubscriptionResumed = "customer.subscription.resumed",
        SubscriptionCanceled = "customer.subscription.canceled",
    }
}

crate::names! {
    /// Where a delivery is.
    pub enum DeliveryStatus as "WebhookDeliveryStatus" {
        Pending = "pending",
        Delivered = "delivered",
        Failed = "failed",
    }
}

/// Waits before the 2nd, 3rd, … attempt, in seconds.
const RETRIES: [i64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
/// An endpoint failing without a success for this long is disabled.
pub const DISABLE_AFTER_DAYS: i64 = 5;

crate::json_struct! {
    /// A validated endpoint.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Endpoint {
        pub url: String,
        /// The event types it receives (`["*"]` for all).
        pub events: Vec<String>,
        pub description: Option<String>,
    }
}

/// Validates `{url, events?, description?}`: an `http(s)://` URL of at most 2,048 characters; `events` a list (JSON
/// array, or comma-separated text) of event types or `*` (the default).
pub fn validate_endpoint(raw: &Raw) -> Result<Endpoint> {
    input::object(raw, "input")?;
    let url = input::req_string(raw, "url", 2048)?;
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    if !rest
        .is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
    {
        return Err(CoreError::invalid(
            "url",
            "must be an http:// or https:// URL",
        ));
    }
    let listed: Vec<String> = match input::present(raw, "events") {
        None => vec!["*".into()],
        Some(Raw::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| input::string_value(v, &format!("events[{i}]"), 64))
            .collect::<Result<_>>()?,
        Some(Raw::String(s)) => s
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        Some(other) => {
            return Err(CoreError::invalid(
                "events",
                format!("must be a list of event types, got {}", other.kind()),
            ))
        }
    };
    for e in &listed {
        if e != "*" {
            EventType::parse(e, "events")?;
        }
    }
    if listed.is_empty() {
        return Err(CoreError::invalid(
            "events",
            "must name at least one event type, or *",
        ));
    }
    Ok(Endpoint {
        url,
        events: listed,
        description: input::opt_string(raw, "description", 255)?,
    })
}

/// A validated endpoint update: the stored endpoint with the request's `url`, `events`, `description` and `enabled`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUpdate {
    /// Answered as fields of the update itself.
    pub endpoint: Endpoint,
    pub enabled: Option<bool>,
}

/// `{...endpoint, enabled}`.
impl ToJson for EndpointUpdate {
    fn write_json(&self, out: &mut String) {
        out.push('{');
        let first = &mut true;
        self.endpoint.write_fields(out, first);
        to_json::field(out, first, "enabled", &self.enabled);
        out.push('}');
    }
}

/// Validates `PUT /v1/webhook_endpoints/<guid>` over the stored endpoint `current` (given fields replace it).
pub fn validate_update(raw: &Raw, current: &Endpoint) -> Result<EndpointUpdate> {
    input::object(raw, "input")?;
    let mut merged = match raw {
        Raw::Object(m) => m.clone(),
        _ => Default::default(),
    };
    merged
        .entry("url".into())
        .or_insert_with(|| Raw::String(current.url.clone()));
    if input::present(raw, "events").is_none() {
        merged.insert(
            "events".into(),
            Raw::Array(
                current
                    .events
                    .iter()
                    .map(|e| Raw::String(e.clone()))
                    .collect(),
            ),
        );
    }
    if input::present(raw, "description").is_none() {
        merged.insert(
            "description".into(),
            current
                .description
                .clone()
                .map(Raw::String)
                .unwrap_or(Raw::Null),
        );
    }
    Ok(EndpointUpdate {
        endpoint: validate_endpoint(&Raw::Object(merged))?,
        enabled: input::opt_bool(raw, "enabled")?,
    })
}

/// Whether an endpoint subscribed to `events` receives `event`.
pub fn subscribed(events: &[String], event: EventType) -> bool {
    events.iter().any(|e| e == "*" || e == event.as_str())
}

crate::json_struct! {
    /// What one delivery attempt decides.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AttemptOutcome {
        pub status: DeliveryStatus,
        pub attempts: i64,
        pub next_attempt_at: Option<String>,
        /// The endpoint has failed long enough: disable it.
        pub disable_endpoint: bool,
    }
}

/// The delivery after attempt number `attempts` (1 for the first) answered `ok` at `now`; the endpoint's current
/// failure streak began at `failing_since` (`None`: its last delivery succeeded).
pub fn after_attempt(
    attempts: i64,
    ok: bool,
    now: Instant,
    failing_since: Option<Instant>,
) -> Result<AttemptOutcome> {
    if attempts < 1 {
        return Err(CoreError::invalid("attempts", "must be at least 1"));
    }
    if ok {
        return Ok(AttemptOutcome {
            status: DeliveryStatus::Delivered,
            attempts,
            next_attempt_at: None,
            disable_endpoint: false,
        });
    }
    let since = failing_since.unwrap_or(now);
    let disable = now >= time::add(since, TimeDelta::days(DISABLE_AFTER_DAYS))?;
    let wait = RETRIES.get((attempts - 1) as usize);
    Ok(match wait {
        Some(&secs) if !disable => AttemptOutcome {
            status: DeliveryStatus::Pending,
            attempts,
            next_attempt_at: Some(time::format(time::add(now, TimeDelta::seconds(secs))?)),
            disable_endpoint: false,
        },
        _ => AttemptOutcome {
            status: DeliveryStatus::Failed,
            attempts,
            next_attempt_at: None,
            disable_endpoint: disable,
        },
    })
}

/// The content an attempt's signature covers: `id.timestamp.body`.
pub fn signed_content(id: &str, timestamp: i64, body: &str) -> String {
    format!("{id}.{timestamp}.{body}")
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (with padding).
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A new endpoint secret: `whsec_` + base64 of 24 random bytes (the HMAC key is those bytes).
pub fn new_secret() -> Result<String> {
    let mut buf = [0u8; 24];
    getrandom::fill(&mut buf).map_err(|e| CoreError::RandomUnavailable {
        reason: e.to_string(),
    })?;
    Ok(format!("whsec_{}", base64(&buf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        time::parse(s, "t").unwrap()
    }

    #[test]
    fn endpoints_validate() {
        let e = validate_endpoint(&Raw::object([(
            "url",
            Raw::from("https://example.com/hooks"),
        )]))
        .unwrap();
        assert_eq!(e.events, vec!["*".to_string()]);
        let e = validate_endpoint(&Raw::object([
            ("url", Raw::from("http://127.0.0.1:9999/x")),
            ("events", Raw::from("invoice.updated, transaction.created")),
        ]))
        .unwrap();
        assert!(
            subscribed(&e.events, EventType::InvoiceUpdated)
                && !subscribed(&e.events, EventType::OrderUpdated)
        );
        for bad in [
            "ftp://x",
            "https://",
            "https:///x",
            "example.com",
            "https://a b",
        ] {
            let e = validate_endpoint(&Raw::object([("url", Raw::from(bad))])).unwrap_err();
            assert_eq!(e.field().as_deref(), Some("url"), "{bad}");
        }
        let e = validate_endpoint(&Raw::object([
            ("url", Raw::from("https://x.io")),
            ("events", Raw::from("invoice.paid")),
        ]))
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("events"));
    }

    #[test]
    fn retries_follow_the_reference_schedule_then_fail() {
        let now = at("2024-01-01T00:00:00Z");
        let o = after_attempt(1, false, now, None).unwrap();
        assert_eq!(
            (o.status, o.next_attempt_at.as_deref()),
            (
                DeliveryStatus::Pending,
                Some("2024-01-01T00:00:05.000000+00:00")
            )
        );
        assert_eq!(
            after_attempt(2, false, now, Some(now))
                .unwrap()
                .next_attempt_at
                .as_deref(),
            Some("2024-01-01T00:05:00.000000+00:00")
        );
        assert_eq!(
            after_attempt(8, false, now, Some(now)).unwrap().status,
            DeliveryStatus::Failed
        );
        assert_eq!(
            after_attempt(3, true, now, Some(now)).unwrap().status,
            DeliveryStatus::Delivered
        );
        let long = after_attempt(4, false, at("2024-01-06T00:00:00Z"), Some(now)).unwrap();
        assert_eq!(
            (long.status, long.disable_endpoint),
            (DeliveryStatus::Failed, true),
            "five days of failures"
        );
    }

    #[test]
    fn signatures_and_secrets() {
        assert_eq!(
            signed_content("msg_1", 1_700_000_000, "{}"),
            "msg_1.1700000000.{}"
        );
        assert_eq!(base64(b"hello"), "aGVsbG8=");
        assert_eq!(base64(b"hi!"), "aGkh");
        assert_eq!(base64(b""), "");
        let s = new_secret().unwrap();
        assert!(s.starts_with("whsec_") && s.len() == 6 + 32);
    }
}
