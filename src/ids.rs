//! Identifiers: GUIDs and API keys.
//!
//! A GUID is a two-letter uppercase prefix naming the resource (`CP` company, `CU` customer, `PL` plan, `SU`
//! subscription, `IV` invoice, `TX` transaction, …) followed by 22 base58 (Bitcoin alphabet) digits of 16 bytes:
//! the host's time in milliseconds (6 bytes, big-endian) and 10 random bytes. Time first, like a ULID or a version 7
//! UUID, so that guids made later sort later (to the millisecond, as text: the alphabet is in ASCII order and the width
//! fixed) and every index keyed by a guid grows at its end: a Durable Object's SQLite keeps a fixed number of pages in
//! memory, and random keys sent each insert of a bulk run to a different page of every such index (measured: the
//! largest cost of a 100,000-subscription run; docs/performance.md). 80 random bits keep a guid unguessable; the time
//! it shows is the object's `created_at`, which the API shows anyway. The core never reads a clock: the host passes
//! the time. Guids made before are 20–22 random digits and stay valid. An API key is `<company guid>_<base58 of 32 random bytes>`: the worker finds the company from
//! the key itself, without a global lookup, and the company's Durable Object checks the secret's hash.

use crate::error::{CoreError, Result};

/// The Bitcoin base58 alphabet (no 0, O, I, l).
const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Base58 encoding of `bytes`; each leading zero byte becomes a leading `1`.
pub fn base58(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    // Little-endian base-58 digits of the big-endian number in `bytes`.
    let mut digits: Vec<u8> = Vec::with_capacity(bytes.len() * 138 / 100 + 1);
    for &byte in &bytes[zeros..] {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(digits.iter().rev().map(|&d| ALPHABET[d as usize] as char));
    out
}

fn is_base58(s: &str) -> bool {
    s.bytes().all(|b| ALPHABET.contains(&b))
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| CoreError::RandomUnavailable {
        reason: e.to_string(),
    })?;
    Ok(buf)
}

/// Base58 digits of a guid's 16 bytes: always this many (58^22 > 2^128), so guids sort as their bytes do.
const GUID_DIGITS: usize = 22;

/// A new GUID made at `now_ms` (the host's epoch milliseconds; outside 0..2^48 is clamped): `prefix` (exactly two
/// uppercase ASCII letters) + 22 base58 digits of the time (6 bytes) and 10 random bytes.
pub fn guid(prefix: &str, now_ms: i64) -> Result<String> {
    if prefix.len() != 2 || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(CoreError::invalid(
            "prefix",
            "must be exactly two uppercase ASCII letters",
        ));
    }
    Ok(format!("{prefix}{}", guid_body(now_ms, random::<10>()?)))
}

fn guid_body(now_ms: i64, random: [u8; 10]) -> String {
    let ms = now_ms.clamp(0, (1 << 48) - 1) as u64;
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(&random);
    // Leading zero digits ('1') to the fixed width: the same number, and text order = numeric order.
    format!("{:1>GUID_DIGITS$}", base58(&bytes).trim_start_matches('1'))
}

/// A new random (version 4) UUID in its canonical lowercase form, for resources whose published shape uses UUIDs
/// (balance transactions and balances).
pub fn uuid() -> Result<String> {
    let mut b = random::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// Width of a signed company guid's random body and of its tag, in base58 digits (58^17 > 2^96 holds 12 random
/// bytes; 58^8 ≈ 2^46.9 is the tag's strength against guessing).
const SIGNED_BODY_DIGITS: usize = 17;
const SIGNED_TAG_DIGITS: usize = 8;
/// `CP` + body + tag. Guids made before signing are `CP` + base58 of 16 bytes: at most 24 characters.
pub const SIGNED_COMPANY_GUID_LEN: usize = 2 + SIGNED_BODY_DIGITS + SIGNED_TAG_DIGITS;

/// `value mod 58^width` as exactly `width` base58 digits, most significant first.
fn base58_fixed(mut value: u128, width: usize) -> String {
    let mut out = vec![b'1'; width];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value % 58) as usize];
        value /= 58;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The random part of a new signed company guid: `CP` + 17 base58 digits of 12 random bytes. The worker appends
/// [`company_guid_tag`] of its HMAC, so that the edge can tell a real company from a made-up one without asking
/// any storage (a forged key then costs no Durable Object at all).
pub fn company_guid_body() -> Result<String> {
    let mut wide = [0u8; 16];
    wide[4..].copy_from_slice(&random::<12>()?);
    Ok(format!(
        "CP{}",
        base58_fixed(u128::from_be_bytes(wide), SIGNED_BODY_DIGITS)
    ))
}

/// The tag of a signed company guid: the first 6 bytes of the body's HMAC-SHA256 (hex, computed by the host),
/// reduced mod 58^8 to 8 base58 digits (about 46.9 bits against guessing).
pub fn company_guid_tag(mac_hex: &str) -> Result<String> {
    let bytes = mac_hex
        .get(..12)
        .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
    let value = bytes
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .ok_or_else(|| CoreError::invalid("mac", "must be at least 12 hex digits"))?;
    Ok(base58_fixed(u128::from(value), SIGNED_TAG_DIGITS))
}

/// A company guid's body and tag when it has the signed shape, else `None` (a guid from before signing, or not a
/// company guid at all).
pub fn signed_company_guid_parts(guid: &str) -> Option<(&str, &str)> {
    (guid.len() == SIGNED_COMPANY_GUID_LEN && check_company_guid(guid).is_ok())
        .then(|| guid.split_at(2 + SIGNED_BODY_DIGITS))
}

/// A new API key for a company: `"<company_guid>_<base58 of 32 random bytes>"`.
pub fn api_key(company_guid: &str) -> Result<String> {
    check_company_guid(company_guid)
        .map_err(|reason| CoreError::invalid("company_guid", reason))?;
    Ok(format!("{company_guid}_{}", base58(&random::<32>()?)))
}

fn check_company_guid(guid: &str) -> std::result::Result<(), &'static str> {
    if !guid.starts_with("CP") {
        return Err("company guid must start with CP");
    }
    if !(10..=30).contains(&guid.len()) {
        return Err("company guid must be 10 to 30 characters long");
    }
    if !is_base58(&guid[2..]) {
        return Err("company guid must be base58 after its prefix");
    }
    Ok(())
}

/// The company guid an API key belongs to; anything not shaped like a key → `invalid_api_key` (401).
/// Whether the secret is right is for the company's Durable Object to decide.
pub fn company_of_key(key: &str) -> Result<String> {
    let bad = |reason: &str| CoreError::InvalidApiKey {
        reason: reason.to_string(),
    };
    if key.len() > 200 {
        return Err(bad("key is too long"));
    }
    let (guid, secret) = key
        .split_once('_')
        .ok_or_else(|| bad("expected <company guid>_<secret>"))?;
    check_company_guid(guid).map_err(bad)?;
    if secret.len() < 40 || !is_base58(secret) {
        return Err(bad("secret must be at least 40 base58 characters"));
    }
    Ok(guid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let u = uuid().unwrap();
        assert_eq!(u.len(), 36);
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            vec![8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"));
        assert_ne!(uuid().unwrap(), u);
    }

    #[test]
    fn base58_known_vectors() {
        assert_eq!(base58(b""), "");
        assert_eq!(base58(&[0]), "1");
        assert_eq!(base58(&[0, 0, 1]), "112");
        assert_eq!(base58(b"hello world"), "StV1DL6CwTryKyV");
        assert_eq!(base58(&[0xff; 4]), "7YXq9G");
        assert_eq!(base58(&[0x00, 0x00, 0x28, 0x7f, 0xb4, 0xcd]), "11233QC4");
    }

    const NOW: i64 = 1_764_633_600_000; // 2025-12-02T00:00:00Z

    #[test]
    fn guids_have_prefix_and_are_unique() {
        let a = guid("CU", NOW).unwrap();
        let b = guid("CU", NOW).unwrap();
        assert!(
            a.starts_with("CU") && is_base58(&a[2..]) && a.len() == 2 + GUID_DIGITS,
            "{a}"
        );
        assert_ne!(a, b, "80 random bits within one millisecond");
        for bad in ["", "C", "cu", "CUS", "C1", "ÄB"] {
            let e = guid(bad, NOW).unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("invalid_field", Some("prefix")),
                "{bad}"
            );
        }
    }

    #[test]
    fn guids_sort_by_the_time_they_were_made() {
        // Later (by a millisecond or more) sorts later as text, whatever the random bytes; the width never varies.
        let times = [
            0,
            1,
            999,
            NOW - 1,
            NOW,
            NOW + 1,
            NOW + 86_400_000,
            (1 << 48) - 1,
        ];
        for w in times.windows(2) {
            for (lo, hi) in [
                ([0xff; 10], [0; 10]),
                ([0; 10], [0xff; 10]),
                ([0x5a; 10], [0x5a; 10]),
            ] {
                let (a, b) = (guid_body(w[0], lo), guid_body(w[1], hi));
                assert_eq!((a.len(), b.len()), (GUID_DIGITS, GUID_DIGITS), "{a} {b}");
                assert!(a < b, "{} → {a} should sort before {} → {b}", w[0], w[1]);
            }
        }
        // Within one millisecond the random bytes order them, still as numbers.
        assert!(guid_body(NOW, [0; 10]) < guid_body(NOW, [1; 10]));
        // Out of range times are clamped, never wrapped.
        assert_eq!(guid_body(-5, [3; 10]), guid_body(0, [3; 10]));
        assert_eq!(
            guid_body(i64::MAX, [3; 10]),
            guid_body((1 << 48) - 1, [3; 10])
        );
        // Older guids (20–22 random digits) keep their shape; the new ones are exactly 22.
        assert!(guid_body(0, [0; 10]).chars().all(|c| c == '1'));
    }

    #[test]
    fn api_keys_round_trip() {
        let company = guid("CP", NOW).unwrap();
        let key = api_key(&company).unwrap();
        assert_eq!(company_of_key(&key).unwrap(), company);
        assert_eq!(
            api_key("CU123456789").unwrap_err().field().as_deref(),
            Some("company_guid")
        );
    }

    #[test]
    fn signed_company_guids_have_a_fixed_shape_that_earlier_guids_never_have() {
        for _ in 0..200 {
            let body = company_guid_body().unwrap();
            assert_eq!(body.len(), 2 + SIGNED_BODY_DIGITS);
            let tag = company_guid_tag("ffffffffffff00").unwrap();
            let guid = format!("{body}{tag}");
            assert_eq!(
                signed_company_guid_parts(&guid),
                Some((body.as_str(), tag.as_str()))
            );
            assert!(company_of_key(&format!("{guid}_{}", base58(&[9u8; 32]))).is_ok());
            // Guids from before: CP + base58 of 16 bytes, never 27 characters long.
            let legacy = guid_from(&random::<16>().unwrap());
            assert!(legacy.len() <= 24, "{legacy}");
            assert_eq!(signed_company_guid_parts(&legacy), None);
        }
        // Always 8 digits: the largest 6-byte value wraps mod 58^8; the smallest is all ones.
        assert_eq!(company_guid_tag("ffffffffffff").unwrap().len(), 8);
        assert_eq!(company_guid_tag("000000000000").unwrap(), "11111111");
        assert_ne!(
            company_guid_tag("000000000001").unwrap(),
            company_guid_tag("000000000002").unwrap()
        );
        assert!(company_guid_tag("xyz").is_err());
        assert!(company_guid_tag("12345").is_err());
        assert_eq!(
            signed_company_guid_parts("CP0000000000000000000000000"),
            None,
            "not base58"
        );
    }

    fn guid_from(bytes: &[u8]) -> String {
        format!("CP{}", base58(bytes))
    }

    #[test]
    fn malformed_keys_are_401() {
        let secret = base58(&[7u8; 32]);
        let company = "CP123456789abcde";
        for bad in [
            String::new(),
            "nounderscore".to_string(),
            format!("CU123456789abcde_{secret}"),
            format!("CP12_{secret}"),
            format!("CP0OIl567890abcd_{secret}"),
            format!("{company}_short"),
            format!("{company}_{}0", &secret),
            format!("{company}_{secret}_{secret}"),
            format!("{company}_{}", "1".repeat(300)),
        ] {
            let e = company_of_key(&bad).unwrap_err();
            assert_eq!(
                (e.code(), e.status(), e.field()),
                ("invalid_api_key", 401, None),
                "{bad}"
            );
        }
        assert_eq!(
            company_of_key(&format!("{company}_{secret}")).unwrap(),
            company
        );
    }
}
