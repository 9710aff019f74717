//! Customers: a Billy customer only carries an optional processor reference.

use crate::error::Result;
use crate::input::{self, Raw};

crate::json_struct! {
    /// A validated customer.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Customer {
        pub processor_uri: Option<String>,
    }
}

/// Validates a customer creation request: `processor_uri` optional, at most 255 characters.
pub fn validate_customer(raw: &Raw) -> Result<Customer> {
    input::object(raw, "input")?;
    Ok(Customer {
        processor_uri: input::opt_string(raw, "processor_uri", 255)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processor_uri_is_optional_and_bounded() {
        assert_eq!(validate_customer(&Raw::Null).unwrap().processor_uri, None);
        assert_eq!(
            validate_customer(&Raw::object([("processor_uri", Raw::from(""))]))
                .unwrap()
                .processor_uri,
            None
        );
        let c = validate_customer(&Raw::object([(
            "processor_uri",
            Raw::from("/v1/customers/CU1"),
        )]))
        .unwrap();
        assert_eq!(c.processor_uri.as_deref(), Some("/v1/customers/CU1"));
        let e = validate_customer(&Raw::object([(
            "processor_uri",
            Raw::from("x".repeat(256)),
        )]))
        .unwrap_err();
        assert_eq!(
            (e.code(), e.field().as_deref()),
            ("invalid_field", Some("processor_uri"))
        );
        let e = validate_customer(&Raw::object([("processor_uri", Raw::from(3i64))])).unwrap_err();
        assert_eq!(e.code(), "invalid_field");
    }
}
