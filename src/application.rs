//! Credit applications with pre-fill: the merchant fills in what it knows, the buyer edits and submits, and the
//! submission runs the assessment ([`crate::credit`]).
//!
//! Every field is optional while the application is a draft (pre-fill and edits merge; an empty string clears a
//! field). On submit these are required: `legal_name`, `address_line1`, `city`, `postal_code`, `country`,
//! `contact_name`, `contact_email` and the scorecard facts; `contact_email` must look like an address
//! (`local@domain.tld`), `country` must be an ISO 3166-1 alpha-2 code. Each problem is a 400 naming its field.

use crate::sorted::SortedMap;

use crate::credit::{self, Facts};
use crate::error::{CoreError, Result};
use crate::input::{self, Raw};

crate::names! {
    /// Where an application is.
    pub enum Status as "ApplicationStatus" {
        Draft = "draft",
        Approved = "approved",
    }
}

/// The business details an application holds, with their longest length.
pub const FIELDS: [(&str, usize); 18] = [
    ("legal_name", 200),
    ("trade_name", 200),
    ("tax_id", 64),
    ("address_line1", 200),
    ("address_line2", 200),
    ("city", 100),
    ("region", 100),
    ("postal_code", 32),
    ("country", 2),
    ("contact_name", 200),
    ("contact_email", 254),
    ("contact_phone", 32),
    ("business_type", 64),
    ("years_in_business", 4),
    ("annual_revenue_band", 16),
    ("employees_band", 16),
    ("industry_risk", 16),
    ("currency", 3),
];

const REQUIRED: [&str; 7] = [
    "legal_name",
    "address_line1",
    "city",
    "postal_code",
    "country",
    "contact_name",
    "contact_email",
];

/// ISO 3166-1 alpha-2 country codes.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS \
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK \
FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM \
JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS \
MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM \
US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// A validated application creation: the buyer it is for, and the pre-filled fields.
pub fn validate_application(raw: &Raw) -> Result<(String, SortedMap<String, String>)> {
    input::object(raw, "input")?;
    let customer_guid = input::req_string(raw, "customer_guid", 64)?;
    Ok((customer_guid, merge(&SortedMap::new(), raw)?))
}

/// The application's fields after merging a request into `stored` (a draft edit or the pre-fill). Values are kept
/// as the text given; types are checked now so a draft never holds what a submit would refuse for its type.
pub fn merge(stored: &SortedMap<String, String>, raw: &Raw) -> Result<SortedMap<String, String>> {
    input::object(raw, "input")?;
    let mut out = stored.clone();
    for (key, max) in FIELDS {
        let Some(v) = raw.get(key) else { continue };
        if v.is_absent() {
            if matches!(v, Raw::String(_)) {
                out.remove(key);
            }
            continue;
        }
        let text = match (key, v) {
            ("years_in_business", _) => input::int_value(v, key, 0, 1000)?.to_string(),
            _ => input::string_value(v, key, max)?,
        };
        out.insert(key.to_string(), text);
    }
    Ok(out)
}

fn email_ok(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// What a submission yields: the facts to assess, and the fields as they stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub facts: Facts,
    pub currency: &'static str,
}

/// Validates a draft for submission (see the module docs).
pub fn validate_submission(
    status: Status,
    fields: &SortedMap<String, String>,
) -> Result<Submission> {
    if status != Status::Draft {
        return Err(CoreError::InvalidState {
            reason: format!("this application is already {status}"),
        });
    }
    for key in REQUIRED {
        if !fields.contains_key(key) {
            return Err(CoreError::missing(key));
        }
    }
    let email = &fields["contact_email"];
    if !email_ok(email) {
        return Err(CoreError::invalid(
            "contact_email",
            format!("must be an email address, got \"{email}\""),
        ));
    }
    let country = &fields["country"];
    if country.len() != 2 || !COUNTRIES.split(' ').any(|c| c == country) {
        return Err(CoreError::invalid(
            "country",
            format!("must be an ISO 3166-1 alpha-2 code (uppercase, like US), got \"{country}\""),
        ));
    }
    let raw = Raw::Object(
        fields
            .iter()
            .map(|(k, v)| (k.clone(), Raw::String(v.clone())))
            .collect(),
    );
    let facts = credit::validate_facts(&raw)?;
    let currency = match fields.get("currency") {
        Some(c) => crate::money::currency(c)?.code,
        None => "USD",
    };
    Ok(Submission { facts, currency })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> SortedMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn complete() -> SortedMap<String, String> {
        fields(&[
            ("legal_name", "Acme Supplies LLC"),
            ("address_line1", "1 Main St"),
            ("city", "Springfield"),
            ("postal_code", "12345"),
            ("country", "US"),
            ("contact_name", "Jo Doe"),
            ("contact_email", "jo@acme.example"),
            ("years_in_business", "4"),
            ("annual_revenue_band", "100k-1m"),
            ("employees_band", "11-50"),
            ("industry_risk", "medium"),
        ])
    }

    #[test]
    fn prefill_merges_and_clears() {
        let m = merge(
            &fields(&[("city", "Old")]),
            &Raw::object([
                ("legal_name", Raw::from("Acme")),
                ("city", Raw::from("")),
                ("unknown", Raw::from("x")),
            ]),
        )
        .unwrap();
        assert_eq!(m, fields(&[("legal_name", "Acme")]));
        let e = merge(
            &SortedMap::new(),
            &Raw::object([("legal_name", Raw::from("x".repeat(201)))]),
        )
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("legal_name"));
        let e = merge(
            &SortedMap::new(),
            &Raw::object([("years_in_business", Raw::from("four"))]),
        )
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("years_in_business"));
        assert_eq!(
            merge(
                &SortedMap::new(),
                &Raw::object([("years_in_business", Raw::from(7i64))])
            )
            .unwrap()["years_in_business"],
            "7"
        );
    }

    #[test]
    fn submission_names_each_problem() {
        let s = validate_submission(Status::Draft, &complete()).unwrap();
        assert_eq!((s.facts.years_in_business, s.currency), (4, "USD"));
        for key in REQUIRED {
            let mut f = complete();
            f.remove(key);
            assert_eq!(
                validate_submission(Status::Draft, &f)
                    .unwrap_err()
                    .field()
                    .as_deref(),
                Some(key)
            );
        }
        for bad in [
            "jo",
            "jo@",
            "@acme.example",
            "jo@acme",
            "jo @acme.example",
            "jo@acme.example.",
        ] {
            let mut f = complete();
            f.insert("contact_email".into(), bad.into());
            assert_eq!(
                validate_submission(Status::Draft, &f)
                    .unwrap_err()
                    .field()
                    .as_deref(),
                Some("contact_email"),
                "{bad}"
            );
        }
        for bad in ["us", "USA", "XX"] {
            let mut f = complete();
            f.insert("country".into(), bad.into());
            assert_eq!(
                validate_submission(Status::Draft, &f)
                    .unwrap_err()
                    .field()
                    .as_deref(),
                Some("country"),
                "{bad}"
            );
        }
        let mut f = complete();
        f.remove("industry_risk");
        assert_eq!(
            validate_submission(Status::Draft, &f)
                .unwrap_err()
                .field()
                .as_deref(),
            Some("industry_risk")
        );
        assert_eq!(
            validate_submission(Status::Approved, &complete())
                .unwrap_err()
                .status(),
            409
        );
        assert_eq!(COUNTRIES.split(' ').count(), 249);
    }
}
