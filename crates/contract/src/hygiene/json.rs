//! A one-pass structural check of JSON bodies: nesting depth, total members and elements,
//! string length, duplicate keys, UTF-8 and syntax. Nothing is kept but the keys of the
//! objects currently open (to detect duplicates), so memory is bounded by the body.
//!
//! Runs serde_json's parser with a visitor that counts as it goes and stops at the first
//! limit, before deeper recursion or more allocation happens.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::violation::Violation;

/// The limits the JSON checker applies.
#[derive(Clone, Copy, Debug)]
pub struct JsonLimits {
    /// Deepest nesting (capped at 120, below serde_json's own recursion limit).
    pub max_depth: usize,
    /// Most object members plus array elements, in total.
    pub max_keys: usize,
    /// Longest string or key, in bytes after unescaping.
    pub max_string_length: usize,
    /// Accept repeated keys in one object.
    pub allow_duplicate_keys: bool,
}

/// Hard ceiling on depth: serde_json's recursion limit is 128.
const DEPTH_CEILING: usize = 120;

/// Which limit stopped the scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Depth,
    Keys,
    StringLength,
    Duplicate,
}

struct State {
    limits: JsonLimits,
    max_depth: usize,
    count: usize,
    stop: Option<Stop>,
}

impl State {
    fn fail<E: de::Error>(&mut self, stop: Stop) -> E {
        self.stop = Some(stop);
        E::custom("limit")
    }

    fn count_one<E: de::Error>(&mut self) -> Result<(), E> {
        self.count = self.count.saturating_add(1);
        if self.count > self.limits.max_keys {
            return Err(self.fail(Stop::Keys));
        }
        Ok(())
    }

    fn string<E: de::Error>(&mut self, len: usize) -> Result<(), E> {
        if len > self.limits.max_string_length {
            return Err(self.fail(Stop::StringLength));
        }
        Ok(())
    }
}

/// Checks one JSON document. The violation's pointer is always `/body`: the position of the
/// problem is in the request, and echoing keys of a hostile body is pointless.
pub fn check_json(body: &[u8], limits: JsonLimits) -> Result<(), Violation> {
    if std::str::from_utf8(body).is_err() {
        return Err(Violation::new("/body", "utf8", "body is not valid UTF-8"));
    }
    let mut st = State {
        limits,
        max_depth: limits.max_depth.min(DEPTH_CEILING),
        count: 0,
        stop: None,
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = Node {
        st: &mut st,
        depth: 0,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match (parsed, st.stop) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(stop)) => Err(match stop {
            Stop::Depth => Violation::new(
                "/body",
                "maxDepth",
                format!("nesting deeper than {}", st.max_depth),
            ),
            Stop::Keys => Violation::new(
                "/body",
                "maxKeys",
                format!("more than {} members and elements", limits.max_keys),
            ),
            Stop::StringLength => Violation::new(
                "/body",
                "maxStringLength",
                format!("a string is longer than {} bytes", limits.max_string_length),
            ),
            Stop::Duplicate => Violation::new("/body", "duplicateKey", "an object repeats a key"),
        }),
        (Err(e), None) if e.to_string().contains("recursion limit") => Err(Violation::new(
            "/body",
            "maxDepth",
            format!("nesting deeper than {}", st.max_depth),
        )),
        (Err(_), None) => Err(Violation::new("/body", "syntax", "body is not valid JSON")),
    }
}

/// One value at a depth.
struct Node<'s> {
    st: &'s mut State,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.st.string(v.len())
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.st.string(v.len())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.st.string(v.len())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let depth = self.depth + 1;
        if depth > self.st.max_depth {
            return Err(self.st.fail(Stop::Depth));
        }
        loop {
            let next = seq.next_element_seed(Node {
                st: &mut *self.st,
                depth,
            })?;
            if next.is_none() {
                return Ok(());
            }
            self.st.count_one()?;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let depth = self.depth + 1;
        if depth > self.st.max_depth {
            return Err(self.st.fail(Stop::Depth));
        }
        let mut keys: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            self.st.count_one()?;
            self.st.string(key.len())?;
            if !self.st.limits.allow_duplicate_keys && !keys.insert(key) {
                return Err(self.st.fail(Stop::Duplicate));
            }
            map.next_value_seed(Node {
                st: &mut *self.st,
                depth,
            })?;
        }
        Ok(())
    }
}

/// Reads an object key, borrowing it from the body when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: JsonLimits = JsonLimits {
        max_depth: 4,
        max_keys: 10,
        max_string_length: 8,
        allow_duplicate_keys: false,
    };

    fn rule(body: &str) -> Option<String> {
        check_json(body.as_bytes(), L).err().map(|v| v.rule)
    }

    #[test]
    fn limits() {
        assert_eq!(rule(r#"{"a":[1,2,{"b":null}],"c":"short"}"#), None);
        assert_eq!(rule(r#"{"a":1,"a":2}"#).as_deref(), Some("duplicateKey"));
        assert_eq!(rule("[[[[[1]]]]]").as_deref(), Some("maxDepth"));
        assert_eq!(rule("[[[[1]]]]"), None);
        assert_eq!(
            rule("[1,2,3,4,5,6,7,8,9,10,11]").as_deref(),
            Some("maxKeys")
        );
        assert_eq!(rule(r#"["123456789"]"#).as_deref(), Some("maxStringLength"));
        assert_eq!(
            rule(r#"{"123456789":1}"#).as_deref(),
            Some("maxStringLength")
        );
        assert_eq!(rule(r#"{"a":1} x"#).as_deref(), Some("syntax"));
        assert_eq!(rule(r#"{"a":1"#).as_deref(), Some("syntax"));
        assert_eq!(
            check_json(b"[\"\xff\"]", L)
                .err()
                .map(|v| v.rule)
                .as_deref(),
            Some("utf8")
        );
    }

    #[test]
    fn duplicates_allowed_when_configured() {
        let l = JsonLimits {
            allow_duplicate_keys: true,
            ..L
        };
        assert!(check_json(br#"{"a":1,"a":2}"#, l).is_ok());
    }
}
