//! The one error type of the core.
//!
//! Every rule returns `Result<T, CoreError>`; nothing panics. Each variant has a stable snake_case
//! [`code`](CoreError::code) for machines, an HTTP [`status`](CoreError::status), the offending
//! [`field`](CoreError::field) when one is at fault, and a human message (`Display`) that names the field and,
//! where numbers decide the outcome, states them.

use std::fmt;

/// Result of every fallible rule in the core.
pub type Result<T> = std::result::Result<T, CoreError>;

/// Why the core refused an input or an action.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// A required field is absent, `null` or the empty string.
    MissingField { field: String },
    /// A field has the wrong type, format or value (the reason says which).
    InvalidField { field: String, reason: String },
    /// An amount (minor units) lies outside the range its field allows, at most ±(2^53−1).
    AmountOutOfRange {
        field: Option<String>,
        reason: String,
    },
    /// A time that is not an ISO 8601 instant between the years 1970 and 9999.
    InvalidTime {
        field: Option<String>,
        value: String,
    },
    /// A subscription's `started_at` lies before the company's current time.
    StartedInPast { started_at: String, now: String },
    /// A test clock may only move forward.
    ClockBackwards { advance_to: String, current: String },
    /// Adjustments would make an invoice's effective amount negative.
    NegativeEffectiveAmount {
        amount: i64,
        total_adjustment_amount: i64,
        effective_amount: i64,
    },
    /// A refund would bring the refunded total above the invoice's effective amount.
    RefundExceedsAmount {
        amount: i64,
        refunded_amount: i64,
        effective_amount: i64,
    },
    /// A currency code that is not in the ISO 4217 table of the core.
    UnknownCurrency { code: String },
    /// Money would leave an escrow beyond what it holds (HTTP 409).
    InsufficientFunds { requested: i64, available: i64 },
    /// A refund beyond what remains of its debit, or a reversal beyond what remains of its credit (HTTP 409).
    ExceedsRemaining {
        requested: i64,
        remaining: i64,
        /// `debit` or `credit`: what the remainder is of.
        of: &'static str,
    },
    /// The action is not allowed in the resource's current state (HTTP 409).
    InvalidState { reason: String },
    /// An object the request names does not exist in this company (HTTP 404).
    NotFound {
        field: Option<String>,
        reason: String,
    },
    /// The action conflicts with the resource's state, with a code of its own (HTTP 409): `coupon_exhausted`,
    /// `subscription_paused`, … `field` names the input at fault when one is.
    Conflict {
        code: &'static str,
        field: Option<String>,
        reason: String,
    },
    /// The company's processor cannot do what was asked (Stripe pays out only to connected accounts).
    Unsupported { reason: String },
    /// A well-formed request the core will not process as it stands, with a code of its own (HTTP 422):
    /// `event_in_future`, `period_closed`, … Unlike a [`CoreError::Conflict`] nothing stored is in the way; the
    /// input itself (a time, say) is unacceptable. The reason names the field.
    Unprocessable {
        code: &'static str,
        field: Option<String>,
        reason: String,
    },
    /// Some entries of a batch are invalid (HTTP 400); the batch is taken whole or not at all. `field` names the
    /// batch (`events`), the reason lists every failing entry as `events[i].field: reason`.
    InvalidBatch { field: String, reason: String },
    /// An API key that is not of the form `<company guid>_<secret>`.
    InvalidApiKey { reason: String },
    /// A schedule date beyond the year 9999 (or an interval so large it overflows).
    ScheduleOutOfRange {
        field: Option<String>,
        reason: String,
    },
    /// An intermediate result that does not fit the core's number types.
    ArithmeticOverflow {
        field: Option<String>,
        reason: String,
    },
    /// The host could not supply random bytes (no `crypto.getRandomValues`).
    RandomUnavailable { reason: String },
    /// A bug in the core, reported instead of panicking.
    Internal { reason: String },
}

impl CoreError {
    /// Stable machine-readable code; clients switch on it, so it never changes for a given variant.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::MissingField { .. } => "missing_field",
            CoreError::InvalidField { .. } => "invalid_field",
            CoreError::AmountOutOfRange { .. } => "amount_out_of_range",
            CoreError::InvalidTime { .. } => "invalid_time",
            CoreError::StartedInPast { .. } => "started_in_past",
            CoreError::ClockBackwards { .. } => "clock_backwards",
            CoreError::NegativeEffectiveAmount { .. } => "negative_effective_amount",
            CoreError::RefundExceedsAmount { .. } => "refund_exceeds_amount",
            CoreError::UnknownCurrency { .. } => "unknown_currency",
            CoreError::InsufficientFunds { .. } => "insufficient_funds",
            CoreError::ExceedsRemaining { .. } => "exceeds_remaining",
            CoreError::InvalidState { .. } => "invalid_state",
            CoreError::Conflict { code, .. } => code,
            CoreError::NotFound { .. } => "not_found",
            CoreError::Unsupported { .. } => "processor_unsupported",
            CoreError::Unprocessable { code, .. } => code,
            CoreError::InvalidBatch { .. } => "invalid_batch",
            CoreError::InvalidApiKey { .. } => "invalid_api_key",
            CoreError::ScheduleOutOfRange { .. } => "schedule_out_of_range",
            CoreError::ArithmeticOverflow { .. } => "arithmetic_overflow",
            CoreError::RandomUnavailable { .. } => "random_unavailable",
            CoreError::Internal { .. } => "internal_error",
        }
    }

    /// HTTP status the worker answers with.
    pub fn status(&self) -> u16 {
        match self {
            CoreError::InvalidState { .. }
            | CoreError::Conflict { .. }
            | CoreError::InsufficientFunds { .. }
            | CoreError::ExceedsRemaining { .. } => 409,
            CoreError::InvalidApiKey { .. } => 401,
            CoreError::NotFound { .. } => 404,
            CoreError::Unsupported { .. } | CoreError::Unprocessable { .. } => 422,
            CoreError::RandomUnavailable { .. } | CoreError::Internal { .. } => 500,
            _ => 400,
        }
    }

    /// The input field at fault, if one is.
    pub fn field(&self) -> Option<String> {
        match self {
            CoreError::MissingField { field } | CoreError::InvalidField { field, .. } => {
                Some(field.clone())
            }
            CoreError::AmountOutOfRange { field, .. }
            | CoreError::InvalidTime { field, .. }
            | CoreError::ScheduleOutOfRange { field, .. }
            | CoreError::ArithmeticOverflow { field, .. }
            | CoreError::Conflict { field, .. }
            | CoreError::Unprocessable { field, .. }
            | CoreError::NotFound { field, .. } => field.clone(),
            CoreError::InvalidBatch { field, .. } => Some(field.clone()),
            CoreError::StartedInPast { .. } => Some("started_at".into()),
            CoreError::ClockBackwards { .. } => Some("advance_to".into()),
            CoreError::NegativeEffectiveAmount { .. } => Some("adjustments".into()),
            CoreError::RefundExceedsAmount { .. } => Some("amount".into()),
            CoreError::UnknownCurrency { .. } => Some("currency".into()),
            CoreError::InsufficientFunds { .. } | CoreError::ExceedsRemaining { .. } => {
                Some("amount".into())
            }
            CoreError::InvalidState { .. }
            | CoreError::Unsupported { .. }
            | CoreError::InvalidApiKey { .. }
            | CoreError::RandomUnavailable { .. }
            | CoreError::Internal { .. } => None,
        }
    }

    /// Shorthand for [`CoreError::InvalidField`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        CoreError::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`CoreError::MissingField`].
    pub fn missing(field: impl Into<String>) -> Self {
        CoreError::MissingField {
            field: field.into(),
        }
    }

    /// The same error attributed to `field` (for errors raised by helpers that do not know the field name).
    pub fn in_field(self, field: &str) -> Self {
        match self {
            CoreError::AmountOutOfRange { reason, .. } => CoreError::AmountOutOfRange {
                field: Some(field.into()),
                reason,
            },
            CoreError::InvalidTime { value, .. } => CoreError::InvalidTime {
                field: Some(field.into()),
                value,
            },
            CoreError::ScheduleOutOfRange { reason, .. } => CoreError::ScheduleOutOfRange {
                field: Some(field.into()),
                reason,
            },
            CoreError::ArithmeticOverflow { reason, .. } => CoreError::ArithmeticOverflow {
                field: Some(field.into()),
                reason,
            },
            CoreError::InvalidField { reason, .. } => CoreError::InvalidField {
                field: field.into(),
                reason,
            },
            CoreError::MissingField { .. } => CoreError::MissingField {
                field: field.into(),
            },
            other => other,
        }
    }
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::MissingField { field } => write!(f, "{field} is required"),
            CoreError::InvalidField { field, reason } => write!(f, "{field} {reason}"),
            CoreError::Conflict { reason, .. }
            | CoreError::Unprocessable { reason, .. }
            | CoreError::NotFound { reason, .. }
            | CoreError::InvalidBatch { reason, .. } => write!(f, "{reason}"),
            CoreError::AmountOutOfRange { field: Some(field), reason } => write!(f, "{field} {reason}"),
            CoreError::AmountOutOfRange { field: None, reason } => write!(f, "amount {reason}"),
            CoreError::InvalidTime { field, value } => write!(
                f,
                "{} must be an ISO 8601 time between the years 1970 and 9999 (for example \
                 2014-02-08T08:22:10.629000+00:00), got \"{value}\"",
                field.as_deref().unwrap_or("time")
            ),
            CoreError::StartedInPast { started_at, now } => {
                write!(f, "started_at {started_at} is in the past (now is {now})")
            }
            CoreError::ClockBackwards { advance_to, current } => write!(
                f,
                "advance_to {advance_to} is before the company's current time {current}; the clock only moves forward"
            ),
            CoreError::NegativeEffectiveAmount { amount, total_adjustment_amount, effective_amount } => write!(
                f,
                "adjustments totalling {total_adjustment_amount} would bring the invoice amount {amount} to \
                 {effective_amount}, below 0"
            ),
            CoreError::RefundExceedsAmount { amount, refunded_amount, effective_amount } => write!(
                f,
                "refund of {amount} would bring refunds to {}, above the invoice's effective amount \
                 {effective_amount} (already refunded {refunded_amount})",
                i128::from(*amount) + i128::from(*refunded_amount)
            ),
            CoreError::UnknownCurrency { code } => {
                write!(f, "currency \"{code}\" is not a supported ISO 4217 currency code")
            }
            CoreError::InvalidState { reason } => f.write_str(reason),
            CoreError::Unsupported { reason } => f.write_str(reason),
            CoreError::InsufficientFunds { requested, available } => write!(
                f,
                "insufficient funds: {requested} requested, {available} available in escrow"
            ),
            CoreError::ExceedsRemaining { requested, remaining, of } => write!(
                f,
                "{requested} requested, but only {remaining} remains of this {of}"
            ),
            CoreError::InvalidApiKey { reason } => write!(f, "invalid API key: {reason}"),
            CoreError::ScheduleOutOfRange { field, reason } => match field {
                Some(field) => write!(f, "{field}: {reason}"),
                None => f.write_str(reason),
            },
            CoreError::ArithmeticOverflow { field, reason } => match field {
                Some(field) => write!(f, "{field}: {reason}"),
                None => f.write_str(reason),
            },
            CoreError::RandomUnavailable { reason } => write!(f, "no random source available: {reason}"),
            CoreError::Internal { reason } => write!(f, "internal error: {reason}"),
        }
    }
}

impl std::error::Error for CoreError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_statuses_and_fields() {
        let e = CoreError::missing("amount");
        assert_eq!(
            (e.code(), e.status(), e.field().as_deref()),
            ("missing_field", 400, Some("amount"))
        );
        assert_eq!(e.to_string(), "amount is required");
        let e = CoreError::InvalidState {
            reason: "cannot cancel an invoice that is settled".into(),
        };
        assert_eq!(
            (e.code(), e.status(), e.field()),
            ("invalid_state", 409, None)
        );
        let e = CoreError::InvalidApiKey { reason: "x".into() };
        assert_eq!((e.code(), e.status()), ("invalid_api_key", 401));
        let e = CoreError::UnknownCurrency { code: "QQQ".into() };
        assert_eq!(e.field().as_deref(), Some("currency"));
        let e = CoreError::Unprocessable {
            code: "period_closed",
            field: Some("timestamp".into()),
            reason: "timestamp is before the open period".into(),
        };
        assert_eq!(
            (e.code(), e.status(), e.field().as_deref()),
            ("period_closed", 422, Some("timestamp"))
        );
        assert_eq!(e.to_string(), "timestamp is before the open period");
        let e = CoreError::InvalidBatch {
            field: "events".into(),
            reason: "1 of 2 events is invalid: events[1].value: must be an integer".into(),
        };
        assert_eq!(
            (e.code(), e.status(), e.field().as_deref()),
            ("invalid_batch", 400, Some("events"))
        );
    }

    #[test]
    fn refund_message_states_every_number() {
        let e = CoreError::RefundExceedsAmount {
            amount: 600,
            refunded_amount: 500,
            effective_amount: 900,
        };
        assert_eq!(
            e.to_string(),
            "refund of 600 would bring refunds to 1100, above the invoice's effective amount 900 (already refunded 500)"
        );
        assert_eq!(
            (e.code(), e.status(), e.field().as_deref()),
            ("refund_exceeds_amount", 400, Some("amount"))
        );
    }

    #[test]
    fn in_field_attributes_helper_errors() {
        let e = CoreError::AmountOutOfRange {
            field: None,
            reason: "x".into(),
        }
        .in_field("total");
        assert_eq!(e.field().as_deref(), Some("total"));
        let e = CoreError::InvalidState { reason: "x".into() }.in_field("total");
        assert_eq!(e.field(), None);
    }

    #[test]
    fn every_code_is_snake_case() {
        let all = [
            CoreError::missing("a"),
            CoreError::invalid("a", "b"),
            CoreError::AmountOutOfRange {
                field: None,
                reason: "r".into(),
            },
            CoreError::InvalidTime {
                field: None,
                value: "v".into(),
            },
            CoreError::StartedInPast {
                started_at: "a".into(),
                now: "b".into(),
            },
            CoreError::ClockBackwards {
                advance_to: "a".into(),
                current: "b".into(),
            },
            CoreError::NegativeEffectiveAmount {
                amount: 1,
                total_adjustment_amount: -2,
                effective_amount: -1,
            },
            CoreError::RefundExceedsAmount {
                amount: 1,
                refunded_amount: 1,
                effective_amount: 1,
            },
            CoreError::UnknownCurrency { code: "X".into() },
            CoreError::InsufficientFunds {
                requested: 2,
                available: 1,
            },
            CoreError::ExceedsRemaining {
                requested: 2,
                remaining: 1,
                of: "debit",
            },
            CoreError::InvalidState { reason: "r".into() },
            CoreError::Unprocessable {
                code: "event_in_future",
                field: Some("timestamp".into()),
                reason: "r".into(),
            },
            CoreError::InvalidBatch {
                field: "events".into(),
                reason: "r".into(),
            },
            CoreError::InvalidApiKey { reason: "r".into() },
            CoreError::ScheduleOutOfRange {
                field: None,
                reason: "r".into(),
            },
            CoreError::ArithmeticOverflow {
                field: None,
                reason: "r".into(),
            },
            CoreError::RandomUnavailable { reason: "r".into() },
            CoreError::Internal { reason: "r".into() },
        ];
        for e in all {
            assert!(
                e.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                e.code()
            );
            assert!(!e.to_string().is_empty());
        }
    }
}
