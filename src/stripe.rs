//! Stripe as a company's processor: which settings a company may have, what each of our transactions becomes at
//! Stripe, what each Stripe answer means for the transaction, and whether a Stripe webhook's signature header is
//! acceptable. The worker's adapter (www/stripe.js) only sends the requests and computes the HMAC.
//!
//! | our transaction | Stripe | `funding_instrument_uri` |
//! |---|---|---|
//! | debit | a PaymentIntent, created and confirmed off-session | `pm_…`, or `cus_…/pm_…` (a customer's saved method) |
//! | refund | a Refund of the debit's PaymentIntent | (the debit's) |
//! | credit | a Transfer to a connected account | `acct_…` |
//! | reversal | a Transfer Reversal of the credit's Transfer | (the credit's) |
//!
//! Answers: a PaymentIntent `succeeded` succeeds; `processing` (and `requires_capture`) is pending and polled;
//! `requires_action` is pending too, with the failure saying the buyer must authenticate; `requires_payment_method`
//! or `canceled`, and any 402 (a card error), is a hard decline, never retried. A 400/404 (the request can never
//! succeed as it is: an unknown payment method, say) is a decline too. Rate limits (429), conflicts (409), Stripe's
//! 5xx, authentication trouble (401/403: a key being rotated) and no answer at all are transient: retried with the
//! backoff, with the same idempotency key.

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::transaction::{Answer, Kind, Outcome};

crate::names! {
    /// Which processor moves a company's money.
    pub enum Processor as "ProcessorName" {
        Simulator = "simulator",
        Stripe = "stripe",
    }
}

crate::json_struct! {
    /// A company's processor settings, validated.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ProcessorSettings {
        pub processor: Processor,
        /// The Stripe secret (or restricted) key; `None` for the simulator.
        pub processor_key: Option<String>,
        /// The signing secret of the company's Stripe webhook endpoint (`whsec_…`), if it has one.
        pub stripe_webhook_secret: Option<String>,
    }
}

/// Validates `{processor?, processor_key?, stripe_webhook_secret?}` for a company in `test_mode`, given what it has
/// now (`current`, `None` at creation). A live-mode company needs Stripe with a live key; a test-mode company uses
/// the simulator unless it asks for Stripe (with a test key). Absent fields keep their current values.
pub fn validate_settings(
    raw: &Raw,
    test_mode: bool,
    current: Option<&ProcessorSettings>,
) -> Result<ProcessorSettings> {
    let processor = match input::opt_string(raw, "processor", 16)? {
        Some(p) => Processor::parse(&p, "processor")?,
        // Billy's clients send a `processor_key` of their own (Balanced's) at creation: in test mode it is kept,
        // and the simulator still moves the money, unless `processor=stripe` says otherwise.
        None => match current {
            Some(c) => c.processor,
            None if test_mode => Processor::Simulator,
            None => Processor::Stripe,
        },
    };
    let key = match input::opt_string(raw, "processor_key", 255)? {
        Some(k) => Some(k),
        None => current.and_then(|c| c.processor_key.clone()),
    };
    let webhook = match input::opt_string(raw, "stripe_webhook_secret", 255)? {
        Some(s) if !s.starts_with("whsec_") || s.len() < 10 => {
            return Err(CoreError::invalid(
                "stripe_webhook_secret",
                "must be the endpoint's signing secret (whsec_…)",
            ));
        }
        Some(s) => Some(s),
        None => current.and_then(|c| c.stripe_webhook_secret.clone()),
    };
    match processor {
        Processor::Simulator if !test_mode => Err(CoreError::invalid(
            "processor",
            "must be stripe for a live-mode company (test_mode=false): the simulator moves no real money; \
             give processor=stripe and processor_key=sk_live_…",
        )),
        Processor::Simulator => Ok(ProcessorSettings { processor, processor_key: key, stripe_webhook_secret: None }),
        Processor::Stripe => {
            let key = key.ok_or_else(|| CoreError::invalid("processor_key", "is required with processor=stripe: the company's Stripe secret key (sk_…) or restricted key (rk_…)"))?;
            let (prefix_ok, mode) = match key.get(..8) {
                Some("sk_test_") | Some("rk_test_") => (true, true),
                Some("sk_live_") | Some("rk_live_") => (true, false),
                _ => (false, false),
            };
            if !prefix_ok || key.len() < 16 || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(CoreError::invalid("processor_key", "must be a Stripe secret key (sk_test_…, sk_live_…) or restricted key (rk_…)"));
            }
            if mode != test_mode {
                return Err(CoreError::invalid(
                    "processor_key",
                    if test_mode { "is a live key, and the company is in test mode: use an sk_test_ key" } else { "is a test key, and the company is live: use an sk_live_ key" },
                ));
            }
            Ok(ProcessorSettings { processor, processor_key: Some(key), stripe_webhook_secret: webhook })
        }
    }
}

crate::json_struct! {
    /// Where a Stripe movement goes, read from our `funding_instrument_uri`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Instrument {
        pub customer: Option<String>,
        pub payment_method: Option<String>,
        pub destination: Option<String>,
    }
}

fn stripe_id(s: &str, prefix: &str) -> bool {
    s.len() > prefix.len()
        && s.len() <= 255
        && s.starts_with(prefix)
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The Stripe objects a `kind` of transaction needs from `uri` (refunds and reversals need none: they follow the
/// movement they return). `Err` names `funding_instrument_uri` with the forms accepted.
pub fn instrument(kind: Kind, uri: Option<&str>) -> Result<Instrument> {
    let none = Instrument {
        customer: None,
        payment_method: None,
        destination: None,
    };
    let bad = |what: &str| {
        CoreError::invalid(
            "funding_instrument_uri",
            format!("must be {what} for a Stripe company"),
        )
    };
    match kind {
        Kind::Refund | Kind::Reversal => Ok(none),
        Kind::Debit => {
            let uri = uri.ok_or_else(|| bad("a payment method (pm_…) or a customer's payment method (cus_…/pm_…)"))?;
            match uri.split_once('/') {
                Some((c, p)) if stripe_id(c, "cus_") && stripe_id(p, "pm_") => {
                    Ok(Instrument { customer: Some(c.into()), payment_method: Some(p.into()), ..none })
                }
                None if stripe_id(uri, "pm_") => Ok(Instrument { payment_method: Some(uri.into()), ..none }),
                _ => Err(bad("a payment method (pm_…) or a customer's payment method (cus_…/pm_…)")),
            }
        }
        Kind::Credit => match uri {
            Some(a) if stripe_id(a, "acct_") => Ok(Instrument { destination: Some(a.into()), ..none }),
            _ => Err(CoreError::Unsupported {
                reason: "Stripe pays out only to a connected account: give the merchant's acct_… as funding_instrument_uri (or as the merchant customer's processor_uri)".into(),
            }),
        },
    }
}

fn text<'a>(raw: &'a Raw, path: &[&str]) -> Option<&'a str> {
    let mut at = raw;
    for key in path {
        at = input::present(at, key)?;
    }
    match at {
        Raw::String(s) => Some(s.as_str()),
        _ => None,
    }
}

fn answer(
    outcome: Outcome,
    uri: Option<String>,
    code: Option<&str>,
    message: Option<&str>,
) -> Answer {
    Answer {
        outcome,
        processor_uri: uri,
        error_code: code.map(str::to_string),
        error_message: message.map(|m| m.chars().take(500).collect()),
    }
}

/// What Stripe's answer (`status` 0 = no answer) to a request for a `kind` of transaction means.
pub fn read_answer(kind: Kind, status: u16, body: &Raw) -> Answer {
    let error_code =
        text(body, &["error", "decline_code"]).or_else(|| text(body, &["error", "code"]));
    let error_message = text(body, &["error", "message"]);
    match status {
        200..=299 => {}
        402 => {
            return answer(
                Outcome::Declined,
                None,
                error_code.or(Some("card_declined")),
                error_message,
            )
        }
        400 | 404
            // A transfer right after the charge that funds it meets a balance still pending: that passes.
            if !matches!(
                error_code,
                Some("lock_timeout") | Some("balance_insufficient") | Some("rate_limit")
            ) =>
        {
            return answer(
                Outcome::Declined,
                None,
                error_code.or(Some("invalid_request")),
                error_message,
            )
        }
        0 => {
            return answer(
                Outcome::Error,
                None,
                Some("processor-unreachable"),
                error_message.or(Some("no answer from Stripe")),
            )
        }
        _ => {
            return answer(
                Outcome::Error,
                None,
                error_code.or(Some(&format!("stripe-{status}"))),
                error_message.or(Some("Stripe could not take the request now")),
            )
        }
    }
    // Stripe's ids go into our URIs and back into request paths: only its own alphabet is taken.
    let safe =
        |id: &&str| id.len() <= 255 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let id = text(body, &["id"]).filter(safe).map(str::to_string);
    let object = text(body, &["object"]).unwrap_or("");
    let status_text = text(body, &["status"]).unwrap_or("");
    let path = match object {
        "payment_intent" => "payment_intents",
        "refund" => "refunds",
        "transfer" => "transfers",
        "transfer_reversal" => "transfer_reversals",
        _ => "",
    };
    let uri = match (object, text(body, &["transfer"]).filter(safe)) {
        // A reversal lives under its transfer.
        ("transfer_reversal", Some(tr)) => id
            .as_ref()
            .map(|id| format!("/v1/transfers/{tr}/reversals/{id}")),
        ("transfer_reversal", None) => None,
        _ => id.as_ref().map(|id| format!("/v1/{path}/{id}")),
    };
    let expected = match kind {
        Kind::Debit => "payment_intent",
        Kind::Refund => "refund",
        Kind::Credit => "transfer",
        Kind::Reversal => "transfer_reversal",
    };
    if object != expected || id.is_none() {
        return answer(
            Outcome::Error,
            None,
            Some("processor-malformed"),
            Some("Stripe answered with an object we did not ask for"),
        );
    }
    let last = |k: &str| text(body, &["last_payment_error", k]);
    match (object, status_text) {
        ("payment_intent", "succeeded") | ("refund", "succeeded") => {
            answer(Outcome::Succeeded, uri, None, None)
        }
        // Transfers and their reversals move money between Stripe balances at once.
        ("transfer", _) | ("transfer_reversal", _) => answer(Outcome::Succeeded, uri, None, None),
        ("payment_intent", "processing")
        | ("payment_intent", "requires_capture")
        | ("refund", "pending")
        | ("refund", "requires_action") => answer(Outcome::Pending, uri, None, None),
        ("payment_intent", "requires_action") | ("payment_intent", "requires_confirmation") => {
            answer(
                Outcome::Pending,
                uri,
                Some("authentication_required"),
                Some(
                    "the buyer must authenticate this payment (3-D Secure) before it can complete",
                ),
            )
        }
        ("payment_intent", "requires_payment_method") => answer(
            Outcome::Declined,
            uri,
            last("decline_code")
                .or(last("code"))
                .or(Some("card_declined")),
            last("message").or(Some("the payment method was declined")),
        ),
        ("payment_intent", "canceled") | ("refund", "failed") | ("refund", "canceled") => answer(
            Outcome::Declined,
            uri,
            Some(status_text),
            Some("Stripe reports the movement as not done"),
        ),
        _ => answer(
            Outcome::Error,
            uri,
            Some("processor-malformed"),
            Some("Stripe answered with a status we do not know"),
        ),
    }
}

/// How far a webhook's timestamp may be from now (Stripe's own default).
pub const WEBHOOK_TOLERANCE_SECONDS: i64 = 300;

crate::json_struct! {
    /// A `Stripe-Signature` header, read: its timestamp and the `v1` signatures to compare (hex HMAC-SHA256 of
    /// `"<t>.<body>"`). Refused when malformed or when the timestamp is more than the tolerance from `now_seconds`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SignatureHeader {
        pub timestamp: i64,
        pub signatures: Vec<String>,
    }
}

pub fn signature_header(header: Option<&str>, now_seconds: i64) -> Result<SignatureHeader> {
    let field = "Stripe-Signature";
    let header = header.ok_or_else(|| CoreError::missing(field))?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
                signatures.push(s.to_ascii_lowercase())
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| CoreError::invalid(field, "has no timestamp (t=…)"))?;
    if signatures.is_empty() {
        return Err(CoreError::invalid(field, "has no v1 signature"));
    }
    if now_seconds.abs_diff(timestamp) > WEBHOOK_TOLERANCE_SECONDS as u64 {
        return Err(CoreError::invalid(
            field,
            format!(
                "is {} s from now, more than the {WEBHOOK_TOLERANCE_SECONDS} s allowed (a replay?)",
                now_seconds.abs_diff(timestamp)
            ),
        ));
    }
    Ok(SignatureHeader {
        timestamp,
        signatures,
    })
}

/// The processor that holds a payment, from its `processor_uri`: the simulator's live under its test marketplace,
/// Stripe's are API paths of its objects. `None` when the uri says neither (never sent, or written elsewhere).
pub fn processor_of(processor_uri: &str) -> Option<Processor> {
    if processor_uri.starts_with("/v1/marketplaces/TEST-SIMULATOR/") {
        return Some(Processor::Simulator);
    }
    const STRIPE: [&str; 5] = [
        "/v1/payment_intents/",
        "/v1/refunds/",
        "/v1/transfers/",
        "/v1/charges/",
        "/v1/payouts/",
    ];
    STRIPE
        .iter()
        .any(|p| processor_uri.starts_with(p))
        .then_some(Processor::Stripe)
}

/// A refund or reversal goes to the processor that moved the money it returns: with the company on another one now,
/// it would be recorded there and never reach the payer (409 `processor_changed`; switch back to refund it).
pub fn check_same_processor(reference_uri: Option<&str>, current: Processor) -> Result<()> {
    match reference_uri.and_then(processor_of) {
        Some(held) if held != current => Err(CoreError::Conflict {
            code: "processor_changed",
            field: None,
            reason: format!(
                "this money was moved by {held}, and the company now uses {current}: switch back to {held} to return it"
            ),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_goes_back_through_the_processor_that_moved_it() {
        let sim = "/v1/marketplaces/TEST-SIMULATOR/debits/TX1";
        let pi = "/v1/payment_intents/pi_1";
        assert_eq!(processor_of(sim), Some(Processor::Simulator));
        assert_eq!(processor_of(pi), Some(Processor::Stripe));
        assert_eq!(processor_of("/elsewhere"), None);
        assert!(check_same_processor(Some(pi), Processor::Stripe).is_ok());
        assert!(check_same_processor(None, Processor::Simulator).is_ok());
        let e = check_same_processor(Some(pi), Processor::Simulator).unwrap_err();
        assert_eq!((e.code(), e.status()), ("processor_changed", 409));
    }

    fn raw(pairs: &[(&str, &str)]) -> Raw {
        Raw::object(pairs.iter().map(|(k, v)| (*k, Raw::from(*v))))
    }

    #[test]
    fn settings_follow_the_mode() {
        let sim = validate_settings(&raw(&[]), true, None).unwrap();
        assert_eq!(sim.processor, Processor::Simulator);
        let live = validate_settings(&raw(&[]), false, None).unwrap_err();
        assert_eq!(live.field().as_deref(), Some("processor_key"));
        let sim_live =
            validate_settings(&raw(&[("processor", "simulator")]), false, None).unwrap_err();
        assert_eq!(sim_live.field().as_deref(), Some("processor"));
        // Billy's clients: a Balanced key at creation keeps the simulator in test mode.
        let billy = validate_settings(
            &raw(&[("processor_key", "ef13dce2093b11e388de026ba7d31e6f")]),
            true,
            None,
        )
        .unwrap();
        assert_eq!(billy.processor, Processor::Simulator);
        let stripe = |key: &str, test: bool| {
            validate_settings(
                &raw(&[("processor", "stripe"), ("processor_key", key)]),
                test,
                None,
            )
        };
        let s = stripe("sk_test_1234567890ab", true).unwrap();
        assert_eq!(
            (s.processor, s.processor_key.as_deref()),
            (Processor::Stripe, Some("sk_test_1234567890ab"))
        );
        assert!(stripe("sk_live_1234567890ab", true).is_err());
        assert!(stripe("sk_test_1234567890ab", false).is_err());
        assert!(stripe("pk_test_1234567890ab", true).is_err());
        assert!(
            validate_settings(
                &raw(&[("processor_key", "sk_live_1234567890ab")]),
                false,
                None
            )
            .is_ok(),
            "live defaults to Stripe"
        );
        assert!(validate_settings(&raw(&[("processor", "stripe")]), true, None).is_err());
        // Switching keeps what is not given.
        let switched = validate_settings(
            &raw(&[("stripe_webhook_secret", "whsec_abcdef123")]),
            true,
            Some(&s),
        )
        .unwrap();
        assert_eq!(
            switched.processor_key.as_deref(),
            Some("sk_test_1234567890ab")
        );
        assert_eq!(
            switched.stripe_webhook_secret.as_deref(),
            Some("whsec_abcdef123")
        );
        let back =
            validate_settings(&raw(&[("processor", "simulator")]), true, Some(&switched)).unwrap();
        assert_eq!(
            (back.processor, back.stripe_webhook_secret),
            (Processor::Simulator, None)
        );
    }

    #[test]
    fn instruments() {
        assert_eq!(
            instrument(Kind::Debit, Some("pm_123"))
                .unwrap()
                .payment_method
                .as_deref(),
            Some("pm_123")
        );
        let both = instrument(Kind::Debit, Some("cus_9/pm_1")).unwrap();
        assert_eq!(
            (both.customer.as_deref(), both.payment_method.as_deref()),
            (Some("cus_9"), Some("pm_1"))
        );
        for bad in [
            None,
            Some("/v1/cards/ok"),
            Some("cus_9"),
            Some("pm_"),
            Some("pm_1/cus_9"),
            Some("pm_a b"),
        ] {
            assert_eq!(
                instrument(Kind::Debit, bad).unwrap_err().field().as_deref(),
                Some("funding_instrument_uri")
            );
        }
        assert_eq!(
            instrument(Kind::Credit, Some("acct_1"))
                .unwrap()
                .destination
                .as_deref(),
            Some("acct_1")
        );
        let e = instrument(Kind::Credit, Some("/v1/bank_accounts/x")).unwrap_err();
        assert_eq!((e.code(), e.status()), ("processor_unsupported", 422));
        assert!(instrument(Kind::Refund, None).is_ok());
    }

    fn pi(status: &str) -> Raw {
        raw(&[
            ("id", "pi_1"),
            ("object", "payment_intent"),
            ("status", status),
        ])
    }

    #[test]
    fn answers() {
        let a = read_answer(Kind::Debit, 200, &pi("succeeded"));
        assert_eq!(
            (a.outcome, a.processor_uri.as_deref()),
            (Outcome::Succeeded, Some("/v1/payment_intents/pi_1"))
        );
        assert_eq!(
            read_answer(Kind::Debit, 200, &pi("processing")).outcome,
            Outcome::Pending
        );
        let action = read_answer(Kind::Debit, 200, &pi("requires_action"));
        assert_eq!(
            (action.outcome, action.error_code.as_deref()),
            (Outcome::Pending, Some("authentication_required"))
        );
        assert_eq!(
            read_answer(Kind::Debit, 200, &pi("requires_payment_method")).outcome,
            Outcome::Declined
        );
        let card = Raw::object([(
            "error",
            raw(&[
                ("type", "card_error"),
                ("code", "card_declined"),
                ("decline_code", "insufficient_funds"),
                ("message", "Your card has insufficient funds."),
            ]),
        )]);
        let d = read_answer(Kind::Debit, 402, &card);
        assert_eq!(
            (d.outcome, d.error_code.as_deref()),
            (Outcome::Declined, Some("insufficient_funds"))
        );
        assert_eq!(
            read_answer(Kind::Debit, 404, &Raw::Null).outcome,
            Outcome::Declined
        );
        for transient in [0, 401, 409, 429, 500, 503] {
            assert_eq!(
                read_answer(Kind::Debit, transient, &Raw::Null).outcome,
                Outcome::Error,
                "{transient}"
            );
        }
        let lock = Raw::object([("error", raw(&[("code", "lock_timeout")]))]);
        assert_eq!(read_answer(Kind::Debit, 400, &lock).outcome, Outcome::Error);
        // An object of the wrong kind is never taken for success.
        assert_eq!(
            read_answer(Kind::Refund, 200, &pi("succeeded")).outcome,
            Outcome::Error
        );
        let refund = raw(&[
            ("id", "re_1"),
            ("object", "refund"),
            ("status", "succeeded"),
        ]);
        assert_eq!(
            read_answer(Kind::Refund, 200, &refund)
                .processor_uri
                .as_deref(),
            Some("/v1/refunds/re_1")
        );
        let balance = Raw::object([("error", raw(&[("code", "balance_insufficient")]))]);
        assert_eq!(
            read_answer(Kind::Credit, 400, &balance).outcome,
            Outcome::Error,
            "funds still pending: retried"
        );
        let reversal = raw(&[
            ("id", "trr_1"),
            ("object", "transfer_reversal"),
            ("transfer", "tr_9"),
        ]);
        assert_eq!(
            read_answer(Kind::Reversal, 200, &reversal)
                .processor_uri
                .as_deref(),
            Some("/v1/transfers/tr_9/reversals/trr_1")
        );
        let evil = raw(&[
            ("id", "pi_1/../../v1/charges"),
            ("object", "payment_intent"),
            ("status", "succeeded"),
        ]);
        assert_eq!(
            read_answer(Kind::Debit, 200, &evil).outcome,
            Outcome::Error,
            "an id outside Stripe's alphabet is not used"
        );
        let transfer = raw(&[("id", "tr_1"), ("object", "transfer")]);
        assert_eq!(
            read_answer(Kind::Credit, 200, &transfer).outcome,
            Outcome::Succeeded
        );
    }

    #[test]
    fn signature_headers() {
        let sig = "a".repeat(64);
        let h = signature_header(Some(&format!("t=1000,v1={sig},v0=zz")), 1100).unwrap();
        assert_eq!((h.timestamp, h.signatures.len()), (1000, 1));
        assert!(
            signature_header(Some(&format!("t=1000,v1={sig}")), 1301).is_err(),
            "stale"
        );
        assert!(
            signature_header(Some(&format!("t=1400,v1={sig}")), 1000).is_err(),
            "from the future"
        );
        assert!(signature_header(Some("t=1000"), 1000).is_err());
        assert!(
            signature_header(Some(&format!("t={},v1={sig}", i64::MIN)), 1000).is_err(),
            "no overflow"
        );
        assert!(signature_header(Some(&format!("v1={sig}")), 1000).is_err());
        assert_eq!(
            signature_header(None, 1000).unwrap_err().code(),
            "missing_field"
        );
    }
}
