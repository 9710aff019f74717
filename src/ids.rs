//! Identifiers: GUIDs and API keys.
//!
//! A GUID is a two-letter uppercase prefix naming the resource (`CP` company, `CU` customer, `PL` plan, `SU`
//! subscription, `IV` invoice, `TX` transaction, …) followed by the base58 (Bitcoin alphabet) encoding of 16
//! random bytes. An API key is `<company guid>_<base58 of 32 random bytes>`: the worker finds the company from
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

/// A new GUID: `prefix` (exactly two uppercase ASCII letters) + base58 of 16 random bytes.
pub fn guid(prefix: &str) -> Result<String> {
    if prefix.len() != 2 || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(CoreError::invalid(
            "prefix",
            "must be exactly two uppercase ASCII letters",
        ));
    }
    Ok(format!("{prefix}{}", base58(&random::<16>()?)))
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

    #[test]
    fn guids_have_prefix_and_are_unique() {
        let a = guid("CU").unwrap();
        let b = guid("CU").unwrap();
        assert!(
            a.starts_with("CU") && is_base58(&a[2..]) && a.len() >= 18 && a.len() <= 24,
            "{a}"
        );
        assert_ne!(a, b);
        for bad in ["", "C", "cu", "CUS", "C1", "ÄB"] {
            let e = guid(bad).unwrap_err();
            assert_eq!(
                (e.code(), e.field().as_deref()),
                ("invalid_field", Some("prefix")),
                "{bad}"
            );
        }
    }

    #[test]
    fn api_keys_round_trip() {
        let company = guid("CP").unwrap();
        let key = api_key(&company).unwrap();
        assert_eq!(company_of_key(&key).unwrap(), company);
        assert_eq!(
            api_key("CU123456789").unwrap_err().field().as_deref(),
            Some("company_guid")
        );
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
