//! List pagination: `offset` (≥ 0, default 0) and `limit` (1..=100, default 20), as query strings or numbers.

use crate::error::Result;
use crate::input::{self, Raw};
use crate::money::MAX_AMOUNT;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 20;
/// Largest page size.
pub const MAX_LIMIT: i64 = 100;

crate::json_struct! {
    /// Validated list parameters.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ListParams {
        pub offset: i64,
        pub limit: i64,
    }
}

/// Validates `{offset?, limit?}`.
pub fn validate_list_params(raw: &Raw) -> Result<ListParams> {
    input::object(raw, "input")?;
    Ok(ListParams {
        offset: input::opt_int(raw, "offset", 0, MAX_AMOUNT)?.unwrap_or(0),
        limit: input::opt_int(raw, "limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_values() {
        assert_eq!(
            validate_list_params(&Raw::Null).unwrap(),
            ListParams {
                offset: 0,
                limit: 20
            }
        );
        let p = validate_list_params(&Raw::object([
            ("offset", Raw::from("40")),
            ("limit", Raw::from(100i64)),
        ]))
        .unwrap();
        assert_eq!(
            p,
            ListParams {
                offset: 40,
                limit: 100
            }
        );
        let p = validate_list_params(&Raw::object([
            ("offset", Raw::from("")),
            ("limit", Raw::from("1")),
        ]))
        .unwrap();
        assert_eq!(
            p,
            ListParams {
                offset: 0,
                limit: 1
            }
        );
    }

    #[test]
    fn bad_values_name_the_field() {
        for (field, bad) in [
            ("offset", "abc"),
            ("offset", "1.5"),
            ("offset", "-1"),
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "abc"),
            ("limit", "-1"),
        ] {
            let e = validate_list_params(&Raw::object([(field, Raw::from(bad))])).unwrap_err();
            assert_eq!(
                (e.code(), e.status(), e.field().as_deref()),
                ("invalid_field", 400, Some(field)),
                "{field}={bad}"
            );
        }
    }
}
