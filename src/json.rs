//! A small JSON reader into [`Raw`], for the boundary: a JS object crosses as one `JSON.stringify`d string instead of
//! one call per field, which is what made every export slow.
//!
//! It reads exactly RFC 8259 JSON (what `JSON.stringify` writes). Values nested deeper than the limit become
//! [`Raw::Unsupported`] and are skipped without recursion, so no input can exhaust the stack. Malformed text is an
//! error (it cannot come from `JSON.stringify`, but the reader never panics on it).

use crate::sorted::SortedMap;

use crate::input::Raw;

/// Reads `text` as one JSON value; values deeper than `max_depth` are unsupported.
pub fn parse(text: &str, max_depth: u32) -> Option<Raw> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        max_depth,
    };
    let v = p.value(0)?;
    p.ws();
    (p.i == p.s.len()).then_some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    max_depth: u32,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: u32) -> Option<Raw> {
        self.ws();
        match *self.s.get(self.i)? {
            b'{' | b'[' if depth >= self.max_depth => {
                self.skip()?;
                Some(Raw::Unsupported("a too deeply nested value"))
            }
            b'{' => {
                self.i += 1;
                // Gathered, then sorted once: a body's keys may come in any order (see `SortedMap::from_pairs`).
                let mut pairs = Vec::new();
                self.ws();
                if self.eat(b'}') {
                    return Some(Raw::Object(SortedMap::new()));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.ws();
                    if !self.eat(b':') {
                        return None;
                    }
                    let v = self.value(depth + 1)?;
                    pairs.push((key, v));
                    self.ws();
                    if self.eat(b'}') {
                        return Some(Raw::Object(SortedMap::from_pairs(pairs)));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = vec![];
                self.ws();
                if self.eat(b']') {
                    return Some(Raw::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat(b']') {
                        return Some(Raw::Array(items));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'"' => self.string().map(Raw::String),
            b't' => self.word("true", Raw::Bool(true)),
            b'f' => self.word("false", Raw::Bool(false)),
            b'n' => self.word("null", Raw::Null),
            _ => self.number(),
        }
    }

    fn word(&mut self, w: &str, v: Raw) -> Option<Raw> {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Some(v)
        } else {
            None
        }
    }

    fn number(&mut self) -> Option<Raw> {
        let start = self.i;
        while matches!(
            self.s.get(self.i),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        if text.is_empty() {
            return None;
        }
        crate::input::number_text(text).map(Raw::Number)
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
        self.i += 4;
        u32::from_str_radix(h, 16).ok()
    }

    fn string(&mut self) -> Option<String> {
        if !self.eat(b'"') {
            return None;
        }
        let mut out = String::new();
        loop {
            // Copy the run up to the next quote or escape in one go.
            let start = self.i;
            while !matches!(self.s.get(self.i), Some(b'"' | b'\\') | None) {
                self.i += 1;
            }
            out.push_str(std::str::from_utf8(&self.s[start..self.i]).ok()?);
            match *self.s.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(out);
                }
                _ => {
                    self.i += 1;
                    let c = *self.s.get(self.i)?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            // A lone surrogate (JSON.stringify escapes them) becomes U+FFFD, as a JS string decoded to UTF-8 does.
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                        _ => return None,
                    }
                }
            }
        }
    }

    /// Skips one object or array without building it (and without recursion).
    fn skip(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match *self.s.get(self.i)? {
                b'{' | b'[' => {
                    depth += 1;
                    self.i += 1;
                }
                b'}' | b']' => {
                    depth -= 1;
                    self.i += 1;
                    if depth == 0 {
                        return Some(());
                    }
                }
                b'"' => {
                    self.string()?;
                }
                _ => self.i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_json_stringify_writes() {
        let v = parse(
            r#"{"a":"x\"y\\z\u00e9\ud83d\ude00","n":-12.5e2,"b":[true,false,null],"o":{}}"#,
            16,
        )
        .unwrap();
        assert_eq!(v.get("a"), Some(&Raw::from("x\"y\\zé😀")));
        assert_eq!(v.get("n"), Some(&Raw::from(-1250i64)));
        assert_eq!(
            v.get("b"),
            Some(&Raw::Array(vec![
                Raw::Bool(true),
                Raw::Bool(false),
                Raw::Null
            ]))
        );
        assert_eq!(v.get("o"), Some(&Raw::Object(SortedMap::new())));
        assert_eq!(
            parse(" [ 1 , 2 ] ", 16),
            Some(Raw::Array(vec![Raw::from(1i64), Raw::from(2i64)]))
        );
        assert_eq!(parse(r#""\ud800""#, 16), Some(Raw::from("\u{FFFD}")));
    }

    #[test]
    fn deep_values_are_unsupported_without_recursion() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let v = parse(&format!(r#"{{"items":{deep}}}"#), 3).unwrap();
        let Raw::Array(outer) = v.get("items").unwrap() else {
            panic!()
        };
        let Raw::Array(inner) = &outer[0] else {
            panic!()
        };
        assert_eq!(inner[0], Raw::Unsupported("a too deeply nested value"));
    }

    #[test]
    fn malformed_text_is_refused() {
        for bad in [
            "",
            "{",
            "[1,]",
            r#"{"a" 1}"#,
            "tru",
            r#""\x""#,
            "1 2",
            r#"{"a":1,}"#,
            "[",
            r#""abc"#,
        ] {
            assert_eq!(parse(bad, 16), None, "{bad}");
        }
    }
}
