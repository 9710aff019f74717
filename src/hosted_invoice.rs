//! Hosted invoice tokens: the credential of an invoice's page (`/i/<token>`), which may read that invoice and pay
//! it, nothing else.
//!
//! A token is `<company guid>.<invoice guid>.<mac>`, where `mac` is the first [`MAC_HEX_LEN`] lowercase hex digits
//! (128 bits) of HMAC-SHA256 of the invoice guid under the company's own hosted-invoice secret. Nothing is stored per
//! invoice: every view of an invoice derives its token again (synchronously, which is why the MAC is computed here
//! and not by WebCrypto, whose HMAC is asynchronous), and checking one needs the company's secret only, no lookup
//! table. The company guid tells the edge where the token belongs (the edge checks its signature as it does for API
//! keys); the company's Durable Object recomputes the MAC and compares in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{CoreError, Result};
use crate::ids;

/// Hex digits of the MAC kept in a token: 128 bits against guessing.
pub const MAC_HEX_LEN: usize = 32;
/// The separator of a token's three parts (never in a base58 guid, safe in a URL path).
const SEP: char = '.';
/// The longest token that can be well formed (two guids of at most 30 characters, the MAC, two separators).
const MAX_TOKEN_LEN: usize = 30 + 30 + MAC_HEX_LEN + 2;

/// HMAC-SHA256 of `message` under `key` (RFC 2104 with SHA-256; checked against RFC 4231's vectors below).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts a key of any length (longer keys are hashed first), so `new_from_slice` cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0u8; 32],
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Whether `a` and `b` are equal, in time that depends on their lengths only (never on where they differ).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold into an early exit.
    std::hint::black_box(diff) == 0
}

/// A company's new hosted-invoice secret: base58 of 32 random bytes (the core's randomness, as for guids and keys).
pub fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| CoreError::RandomUnavailable {
        reason: e.to_string(),
    })?;
    Ok(ids::base58(&bytes))
}

fn mac_of(invoice_guid: &str, secret: &str) -> String {
    let mut digest = hex(&hmac_sha256(secret.as_bytes(), invoice_guid.as_bytes()));
    digest.truncate(MAC_HEX_LEN);
    digest
}

fn is_guid(guid: &str, prefix: &str) -> bool {
    guid.len() <= 30
        && guid.len() > prefix.len()
        && guid.starts_with(prefix)
        && guid[prefix.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l'))
}

/// The three parts of a well-formed token (`CP…` company guid, `IV…` invoice guid, 32 lowercase hex), else `None`.
pub fn parts(token: &str) -> Option<(&str, &str, &str)> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let mut it = token.split(SEP);
    let (company, invoice, mac) = (it.next()?, it.next()?, it.next()?);
    let mac_ok =
        mac.len() == MAC_HEX_LEN && mac.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    (it.next().is_none() && is_guid(company, "CP") && is_guid(invoice, "IV") && mac_ok)
        .then_some((company, invoice, mac))
}

/// The token of `invoice_guid` of `company_guid`, under the company's hosted-invoice `secret`.
pub fn token(company_guid: &str, invoice_guid: &str, secret: &str) -> Result<String> {
    if !is_guid(company_guid, "CP") {
        return Err(CoreError::invalid("company_guid", "must be a company guid"));
    }
    if !is_guid(invoice_guid, "IV") {
        return Err(CoreError::invalid(
            "invoice_guid",
            "must be an invoice guid",
        ));
    }
    if secret.is_empty() {
        return Err(CoreError::invalid("secret", "must not be empty"));
    }
    Ok(format!(
        "{company_guid}{SEP}{invoice_guid}{SEP}{}",
        mac_of(invoice_guid, secret)
    ))
}

/// The company a token names, when it is well formed (whether its MAC is right is for that company to say).
pub fn company_of(token: &str) -> Option<&str> {
    parts(token).map(|(company, _, _)| company)
}

/// The invoice guid a token opens in the company `company_guid` with hosted-invoice `secret`, or `None` for a token
/// that is malformed, names another company, or whose MAC is wrong (which of these is never told).
pub fn verify<'a>(token: &'a str, company_guid: &str, secret: &str) -> Option<&'a str> {
    let (company, invoice, mac) = parts(token)?;
    if secret.is_empty() {
        return None;
    }
    let expected = mac_of(invoice, secret);
    // Both comparisons always run, so the time taken does not say which part was wrong.
    let same_company = constant_time_eq(company.as_bytes(), company_guid.as_bytes());
    let same_mac = constant_time_eq(mac.as_bytes(), expected.as_bytes());
    (same_company & same_mac).then_some(invoice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 4231 §4: the HMAC-SHA256 test vectors (case 5 is truncated to 128 bits, as tokens are).
    #[test]
    fn rfc_4231_vectors() {
        let cases: [(Vec<u8>, Vec<u8>, &str); 6] = [
            (
                vec![0x0b; 20],
                b"Hi There".to_vec(),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                vec![0xaa; 20],
                vec![0xdd; 50],
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
            ),
            (
                unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
                vec![0xcd; 50],
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                vec![0xaa; 131],
                b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(),
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ];
        for (key, data, expected) in &cases {
            assert_eq!(hex(&hmac_sha256(key, data)), *expected);
        }
        // Test case 5: output truncated to 128 bits.
        let t = hex(&hmac_sha256(&[0x0c; 20], b"Test With Truncation"));
        assert_eq!(&t[..MAC_HEX_LEN], "a3b6167473100ee06e0c796c2955552b");
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"xbc", b"abc"));
    }

    const CO: &str = "CP3q7dWm8Kp2Nx5Vb9Hj4Tfgh2Lw";
    const IV: &str = "IV5Yx2KpQm8Rt3Nv6Bc9Df1Gh";

    #[test]
    fn a_token_opens_its_invoice_only() {
        let secret = new_secret().unwrap();
        assert!(secret.len() >= 40);
        let t = token(CO, IV, &secret).unwrap();
        let (c, i, m) = parts(&t).unwrap();
        assert_eq!((c, i, m.len()), (CO, IV, MAC_HEX_LEN));
        assert_eq!(
            m,
            &hex(&hmac_sha256(secret.as_bytes(), IV.as_bytes()))[..32]
        );
        assert_eq!(company_of(&t), Some(CO));
        assert_eq!(verify(&t, CO, &secret), Some(IV));
        // Derived, not random: the same every time.
        assert_eq!(token(CO, IV, &secret).unwrap(), t);

        // Another company's secret, another company, another invoice with this MAC, a changed MAC: nothing.
        assert_eq!(verify(&t, CO, &new_secret().unwrap()), None);
        assert_eq!(verify(&t, "CP3q7dWm8Kp2Nx5Vb9Hj4Tfgh2Lx", &secret), None);
        let other = format!("{CO}.IV5Yx2KpQm8Rt3Nv6Bc9Df1Gj.{m}");
        assert_eq!(verify(&other, CO, &secret), None);
        let mut flipped = t.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            verify(&String::from_utf8(flipped).unwrap(), CO, &secret),
            None
        );
        assert_eq!(verify(&t, CO, ""), None);
    }

    #[test]
    fn malformed_tokens_name_no_company() {
        let secret = "s3cret";
        let t = token(CO, IV, secret).unwrap();
        let mac = t.rsplit('.').next().unwrap().to_string();
        for bad in [
            String::new(),
            "x".into(),
            format!("{CO}.{IV}"),
            format!("{CO}.{IV}.{mac}.x"),
            format!("{CO}.{IV}.{}", mac.to_uppercase()),
            format!("{CO}.{IV}.{}", &mac[..31]),
            format!("{CO}.{IV}.{mac}0"),
            format!("CU{}.{IV}.{mac}", &CO[2..]),
            format!("{CO}.CU{}.{mac}", &IV[2..]),
            format!("{CO}.IV0OIl.{mac}"),
            format!("{CO}_{IV}.{mac}"),
            format!("CP.{IV}.{mac}"),
            format!("{CO}.{IV}.{}", "g".repeat(32)),
            "a".repeat(10_000),
        ] {
            assert_eq!(company_of(&bad), None, "{bad}");
            assert_eq!(verify(&bad, CO, secret), None, "{bad}");
        }
        assert!(token("CU1", IV, secret).is_err());
        assert!(token(CO, "TX1234", secret).is_err());
        assert!(token(CO, IV, "").is_err());
    }
}
