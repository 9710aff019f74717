//! Metadata: key/value pairs a merchant attaches to its objects.
//!
//! Keys are 1–40 characters of printable ASCII without `"`, `\`, `[` or `]` (so a key is always safe in a form
//! field name `metadata[key]` and a JSON path); values are strings of at most 500 characters; an object holds at
//! most 50 keys. Given as a JSON object `{"metadata": {...}}` or form fields `metadata[key]=value`. On update the
//! given keys merge into the stored ones and an empty value deletes its key. Errors name `metadata[key]`.

use crate::sorted::SortedMap;

use crate::error::{CoreError, Result};
use crate::input::Raw;

/// Most keys an object holds.
pub const MAX_KEYS: usize = 50;
/// Longest key.
pub const MAX_KEY_LEN: usize = 40;
/// Longest value.
pub const MAX_VALUE_LEN: usize = 500;

/// An object's metadata, ordered by key.
pub type Metadata = SortedMap<String, String>;

fn check_key(key: &str) -> Result<()> {
    let field = format!("metadata[{key}]");
    let len = key.chars().count();
    if len == 0 || len > MAX_KEY_LEN {
        return Err(CoreError::invalid(
            field,
            format!("keys must be 1 to {MAX_KEY_LEN} characters long (got {len})"),
        ));
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(' '..='~').contains(c) || matches!(c, '"' | '\\' | '[' | ']'))
    {
        return Err(CoreError::invalid(
            field,
            format!("keys may not contain {c:?}"),
        ));
    }
    Ok(())
}

/// The changes a request gives: key → new value, `None` to delete. `None` when the request has no metadata.
pub fn changes(raw: &Raw) -> Result<Option<SortedMap<String, Option<String>>>> {
    let mut out = SortedMap::new();
    let mut given = false;
    let mut put = |key: &str, value: &Raw| -> Result<()> {
        check_key(key)?;
        let field = format!("metadata[{key}]");
        let v = match value {
            Raw::Null => None,
            Raw::String(s) if s.is_empty() => None,
            Raw::String(s) => {
                let len = s.chars().count();
                if len > MAX_VALUE_LEN {
                    return Err(CoreError::invalid(
                        field,
                        format!(
                            "values must be at most {MAX_VALUE_LEN} characters long (got {len})"
                        ),
                    ));
                }
                Some(s.clone())
            }
            // A JSON number or boolean is kept as its text, as form values are.
            Raw::Number(n) if crate::input::is_finite(n) => Some(n.clone()),
            Raw::Bool(b) => Some(b.to_string()),
            other => {
                return Err(CoreError::invalid(
                    field,
                    format!("values must be strings, got {}", other.kind()),
                ))
            }
        };
        out.insert(key.to_string(), v);
        Ok(())
    };
    if let Raw::Object(map) = raw {
        match map.get("metadata") {
            Some(Raw::Object(m)) => {
                given = true;
                for (k, v) in m {
                    put(k, v)?;
                }
            }
            Some(Raw::Null) | None => {}
            Some(Raw::String(s)) if s.is_empty() => {}
            Some(other) => {
                return Err(CoreError::invalid(
                    "metadata",
                    format!("must be an object of strings, got {}", other.kind()),
                ))
            }
        }
        for (k, v) in map {
            if let Some(key) = k
                .strip_prefix("metadata[")
                .and_then(|r| r.strip_suffix(']'))
            {
                given = true;
                put(key, v)?;
            }
        }
    }
    Ok(given.then_some(out))
}

/// `stored` with the request's changes merged in; at most [`MAX_KEYS`] keys remain.
pub fn merge(stored: &Metadata, raw: &Raw) -> Result<Metadata> {
    let mut out = stored.clone();
    if let Some(changes) = changes(raw)? {
        for (k, v) in changes {
            match v {
                Some(v) => {
                    out.insert(k, v);
                }
                None => {
                    out.remove(&k);
                }
            }
        }
    }
    if out.len() > MAX_KEYS {
        return Err(CoreError::invalid(
            "metadata",
            format!("may hold at most {MAX_KEYS} keys (got {})", out.len()),
        ));
    }
    Ok(out)
}

/// The `metadata[key]=value` filters of a list query.
pub fn filters(raw: &Raw) -> Result<Vec<(String, String)>> {
    let mut out = vec![];
    if let Raw::Object(map) = raw {
        for (k, v) in map {
            if let Some(key) = k
                .strip_prefix("metadata[")
                .and_then(|r| r.strip_suffix(']'))
            {
                check_key(key)?;
                let Raw::String(value) = v else {
                    return Err(CoreError::invalid(k.as_str(), "must be a string"));
                };
                out.push((key.to_string(), value.clone()));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(pairs: &[(&str, &str)]) -> Metadata {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn form_and_json_merge_and_delete() {
        let raw = Raw::object([
            ("metadata[order_id]", Raw::from("6735")),
            ("metadata[old]", Raw::from("")),
        ]);
        let m = merge(&stored(&[("old", "x"), ("keep", "y")]), &raw).unwrap();
        assert_eq!(m, stored(&[("keep", "y"), ("order_id", "6735")]));
        let json = Raw::object([(
            "metadata",
            Raw::object([
                ("po", Raw::from("PO-1")),
                ("n", Raw::from(5i64)),
                ("keep", Raw::Null),
            ]),
        )]);
        assert_eq!(
            merge(&stored(&[("keep", "y")]), &json).unwrap(),
            stored(&[("n", "5"), ("po", "PO-1")])
        );
        assert_eq!(
            changes(&Raw::object([("amount", Raw::from("5"))])).unwrap(),
            None
        );
        assert_eq!(
            merge(&stored(&[("a", "b")]), &Raw::Null).unwrap(),
            stored(&[("a", "b")])
        );
    }

    #[test]
    fn limits_name_the_key() {
        let long_key = "k".repeat(41);
        let e = merge(
            &Metadata::new(),
            &Raw::object([(format!("metadata[{long_key}]"), Raw::from("v"))]),
        )
        .unwrap_err();
        assert_eq!(e.field(), Some(format!("metadata[{long_key}]")));
        let e = merge(
            &Metadata::new(),
            &Raw::object([("metadata[a]", Raw::from("v".repeat(501)))]),
        )
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("metadata[a]"));
        let e = merge(
            &Metadata::new(),
            &Raw::object([("metadata[a\"b]", Raw::from("v"))]),
        )
        .unwrap_err();
        assert_eq!(e.code(), "invalid_field");
        let many: Vec<(String, Raw)> = (0..51)
            .map(|i| (format!("metadata[k{i}]"), Raw::from("v")))
            .collect();
        let e = merge(&Metadata::new(), &Raw::object(many)).unwrap_err();
        assert_eq!(e.field().as_deref(), Some("metadata"));
        let fifty: Vec<(String, Raw)> = (0..50)
            .map(|i| (format!("metadata[k{i}]"), Raw::from("v")))
            .collect();
        assert_eq!(
            merge(&Metadata::new(), &Raw::object(fifty)).unwrap().len(),
            50
        );
        let e = merge(
            &Metadata::new(),
            &Raw::object([("metadata", Raw::Array(vec![]))]),
        )
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("metadata"));
        let e = merge(
            &Metadata::new(),
            &Raw::object([("metadata", Raw::object([("a", Raw::Array(vec![]))]))]),
        )
        .unwrap_err();
        assert_eq!(e.field().as_deref(), Some("metadata[a]"));
    }

    #[test]
    fn list_filters() {
        let q = Raw::object([
            ("metadata[po]", Raw::from("PO-1")),
            ("limit", Raw::from("5")),
        ]);
        assert_eq!(
            filters(&q).unwrap(),
            vec![("po".to_string(), "PO-1".to_string())]
        );
        assert!(filters(&Raw::object([("metadata[]", Raw::from("x"))])).is_err());
    }
}
