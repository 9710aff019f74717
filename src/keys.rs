//! API keys and restricted tokens: kinds, scopes, expiry and rotation.
//!
//! Every credential is `<company guid>_<secret>` (see [`crate::ids`]), so it leads to its company without a global
//! lookup; the company stores only its SHA-256 hash. A **secret** key may do everything its company may. A
//! **restricted** token may do only what its scopes name (`checkout:CH…`, `application:AP…`, `dashboard`), which is
//! what a browser is given; a merchant's secret key never reaches a buyer's browser.
//!
//! Rotation issues a new secret key and keeps the previous ones valid for an overlap (default 24 hours, at most 7
//! days, 0 to stop them at once), so a deployment can switch keys without downtime. Expiry is judged against the
//! company's clock (its test clock in test mode).

use chrono::TimeDelta;

use crate::error::{CoreError, Result};
use crate::input::{self, Raw};
use crate::time::{self, Instant};

crate::names! {
    /// What a credential may do.
    pub enum Kind as "KeyKind" {
        /// Everything its company may (the merchant's server).
        Secret = "secret",
        /// Only what its scopes name (a browser).
        Restricted = "restricted",
        /// A merchant's dashboard session: what a secret key may, but the keys themselves; short-lived, revocable.
        Session = "session",
    }
}

crate::names! {
    /// Whether a credential works now.
    pub enum KeyStatus as "KeyStatus" {
        Active = "active",
        /// Works until its `expires_at` (a rotated key in its overlap, a token).
        Expiring = "expiring",
        Expired = "expired",
        Revoked = "revoked",
    }
}

/// How long rotated keys keep working when the request does not say.
pub const DEFAULT_OVERLAP_SECONDS: i64 = 24 * 3_600;
/// The longest overlap a rotation may ask for.
pub const MAX_OVERLAP_SECONDS: i64 = 7 * 24 * 3_600;

crate::json_struct! {
    /// A validated rotation: the previous secret keys expire at `expires_at`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Rotation {
        pub expires_in: i64,
        pub expires_at: String,
    }
}

/// Validates `{expires_in?}` (seconds, 0..=7 days, default 24 h) at `now`.
pub fn validate_rotation(raw: &Raw, now: Instant) -> Result<Rotation> {
    input::object(raw, "input")?;
    let expires_in = input::opt_int(raw, "expires_in", 0, MAX_OVERLAP_SECONDS)?
        .unwrap_or(DEFAULT_OVERLAP_SECONDS);
    let at =
        time::add(now, TimeDelta::seconds(expires_in)).map_err(|e| e.in_field("expires_in"))?;
    Ok(Rotation {
        expires_in,
        expires_at: time::format(at),
    })
}

/// The expiry of a token issued at `now` for `ttl_seconds` (1 second to `max_seconds`).
pub fn token_expiry(now: Instant, ttl_seconds: i64, max_seconds: i64) -> Result<String> {
    if ttl_seconds < 1 || ttl_seconds > max_seconds {
        return Err(CoreError::invalid(
            "expires_in",
            format!("must be from 1 to {max_seconds} seconds"),
        ));
    }
    Ok(time::format(
        time::add(now, TimeDelta::seconds(ttl_seconds)).map_err(|e| e.in_field("expires_in"))?,
    ))
}

/// A stored credential's status at `now`.
pub fn status(expires_at: Option<Instant>, revoked: bool, now: Instant) -> KeyStatus {
    match (revoked, expires_at) {
        (true, _) => KeyStatus::Revoked,
        (false, None) => KeyStatus::Active,
        (false, Some(at)) if at > now => KeyStatus::Expiring,
        (false, Some(_)) => KeyStatus::Expired,
    }
}

/// The scope of the company's credentials themselves (listing, rotating, opening sessions): secret keys only.
pub const KEYS_SCOPE: &str = "keys";

/// Whether a credential of `kind` with `scopes` may act on `required` (`None`: what a merchant may).
/// A scope is exact (`checkout:CH123`) or a family prefix ending in `:*`. A dashboard session may do what a secret
/// key may, but manage keys; a restricted token only what its scopes name.
pub fn allows(kind: Kind, scopes: &[String], required: Option<&str>) -> bool {
    match (kind, required) {
        (Kind::Secret, _) => true,
        (Kind::Session, Some(KEYS_SCOPE)) => false,
        (Kind::Session, _) => true,
        (Kind::Restricted, None) => false,
        (Kind::Restricted, Some(need)) => scopes.iter().any(|s| match s.strip_suffix('*') {
            Some(prefix) => prefix.ends_with(':') && need.starts_with(prefix),
            None => s == need,
        }),
    }
}

/// Whether a credential of `kind` in `status` may manage what outlives it: the company's credentials (rotate, open
/// a dashboard session), its processor and its webhook endpoints. A secret key may not once it is being rotated out
/// (`expiring`): else whoever holds a leaked key could, during the overlap, rotate to a key of their own and expire
/// the merchant's new one, point the company at their own processor account, or keep an endpoint receiving its
/// events (409 `key_expiring`). Sessions and restricted tokens expire by nature; their scopes say what they may do.
pub fn check_manages_keys(kind: Kind, status: KeyStatus) -> Result<()> {
    match (kind, status) {
        (Kind::Secret, KeyStatus::Expiring | KeyStatus::Expired | KeyStatus::Revoked) => Err(CoreError::Conflict {
            code: "key_expiring",
            field: None,
            reason: format!(
                "this key is {status}: managing keys, sessions, the processor and webhook endpoints needs the newest key"
            ),
        }),
        _ => Ok(()),
    }
}

/// The last four characters of a credential, all that is ever shown of it again.
pub fn hint(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        time::parse(s, "t").unwrap()
    }

    #[test]
    fn rotation_overlap() {
        let now = at("2024-01-01T00:00:00Z");
        assert_eq!(
            validate_rotation(&Raw::Null, now).unwrap().expires_at,
            "2024-01-02T00:00:00.000000+00:00"
        );
        let r =
            validate_rotation(&Raw::object([("expires_in", Raw::from("604800"))]), now).unwrap();
        assert_eq!(r.expires_at, "2024-01-08T00:00:00.000000+00:00");
        assert_eq!(
            validate_rotation(&Raw::object([("expires_in", Raw::from(0i64))]), now)
                .unwrap()
                .expires_in,
            0
        );
        for bad in ["604801", "-1", "1.5", "day"] {
            let e =
                validate_rotation(&Raw::object([("expires_in", Raw::from(bad))]), now).unwrap_err();
            assert_eq!(e.field().as_deref(), Some("expires_in"), "{bad}");
        }
    }

    #[test]
    fn only_the_newest_keys_manage_keys() {
        assert!(check_manages_keys(Kind::Secret, KeyStatus::Active).is_ok());
        let e = check_manages_keys(Kind::Secret, KeyStatus::Expiring).unwrap_err();
        assert_eq!((e.code(), e.status()), ("key_expiring", 409));
        assert!(check_manages_keys(Kind::Session, KeyStatus::Expiring).is_ok());
    }

    #[test]
    fn statuses() {
        let now = at("2024-01-01T12:00:00Z");
        assert_eq!(status(None, false, now), KeyStatus::Active);
        assert_eq!(
            status(Some(at("2024-01-01T12:00:01Z")), false, now),
            KeyStatus::Expiring
        );
        assert_eq!(
            status(Some(now), false, now),
            KeyStatus::Expired,
            "an expiry is the first instant it fails"
        );
        assert_eq!(status(None, true, now), KeyStatus::Revoked);
    }

    #[test]
    fn scopes() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(allows(Kind::Secret, &[], None));
        assert!(allows(Kind::Secret, &[], Some("checkout:CH1")));
        assert!(!allows(Kind::Restricted, &s(&["checkout:CH1"]), None));
        assert!(allows(
            Kind::Restricted,
            &s(&["checkout:CH1"]),
            Some("checkout:CH1")
        ));
        assert!(!allows(
            Kind::Restricted,
            &s(&["checkout:CH1"]),
            Some("checkout:CH12")
        ));
        assert!(allows(
            Kind::Restricted,
            &s(&["dashboard:*"]),
            Some("dashboard:read")
        ));
        assert!(
            !allows(Kind::Restricted, &s(&["*"]), Some("dashboard:read")),
            "no bare wildcard"
        );
    }

    #[test]
    fn tokens_and_hints() {
        let now = at("2024-01-01T00:00:00Z");
        assert_eq!(
            token_expiry(now, 60, 3600).unwrap(),
            "2024-01-01T00:01:00.000000+00:00"
        );
        assert_eq!(
            token_expiry(now, 0, 3600).unwrap_err().field().as_deref(),
            Some("expires_in")
        );
        assert_eq!(hint("CPabc_secretWXYZ"), "…WXYZ");
        assert_eq!(hint("ab"), "…ab");
    }
}
