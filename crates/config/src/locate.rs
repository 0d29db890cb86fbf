//! Where each key path sits in the YAML source, for semantic errors found after parsing.
//!
//! The source is parsed a second time by serde-saphyr (same budgets) into a tree of
//! [`serde_saphyr::Spanned`] nodes, and every node's key path (`routes[1].upstream`,
//! `routes[0].methods[2]`, `routes[0].match_headers.X-Api-Version`) is mapped to the line and
//! column of its key and of its value. This works for block and flow style, anchors and
//! aliases alike. The file model itself keeps plain types (no `Spanned<T>` fields), so the
//! gateway never sees locations. A path that is not in the file (a defaulted key) falls back
//! to its closest ancestor that is, so a message always points near the problem.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A 1-based (line, column); (0, 0) when unknown.
pub type LineCol = (u64, u64);

#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    key: Option<LineCol>,
    value: LineCol,
}

/// Key path → source locations of one document.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    entries: HashMap<String, Entry>,
}

impl SourceMap {
    /// Maps every node of `source`. YAML that does not parse gives an empty map (every lookup
    /// answers (0, 0)); the real parse reports that error.
    pub fn build(source: &str) -> Self {
        let mut map = Self::default();
        if let Ok(root) = serde_saphyr::from_str_with_options::<Spanned<Node>>(
            source,
            crate::load::parse_options(),
        ) {
            map.add(String::new(), None, &root);
        }
        map
    }

    fn add(&mut self, path: String, key: Option<LineCol>, node: &Spanned<Node>) {
        let value = line_col(&node.referenced);
        match &node.value {
            Node::Map(entries) => {
                for (k, v) in entries {
                    let child = if path.is_empty() {
                        k.value.0.clone()
                    } else {
                        format!("{path}.{}", k.value.0)
                    };
                    self.add(child, Some(line_col(&k.referenced)), v);
                }
            }
            Node::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.add(format!("{path}[{i}]"), None, item);
                }
            }
            Node::Leaf => {}
        }
        self.entries.insert(path, Entry { key, value });
    }

    fn find(&self, path: &str) -> Option<Entry> {
        let mut p = path;
        loop {
            if let Some(e) = self.entries.get(p) {
                return Some(*e);
            }
            if p.is_empty() {
                return None;
            }
            p = parent(p);
        }
    }

    /// Where the value at `path` starts (or its closest ancestor's).
    pub fn value(&self, path: &str) -> LineCol {
        self.find(path).map_or((0, 0), |e| e.value)
    }

    /// Where the key of `path` is written (for problems with a key itself, such as a header
    /// name); the value's location for sequence items and the root.
    pub fn key(&self, path: &str) -> LineCol {
        match self.entries.get(path) {
            Some(Entry { key: Some(k), .. }) => *k,
            _ => self.value(path),
        }
    }
}

/// `a.b[2].c` → `a.b[2]` → `a.b` → `a` → ``.
fn parent(path: &str) -> &str {
    let cut = if path.ends_with(']') {
        path.rfind('[')
    } else {
        path.rfind(['.', '['])
    };
    cut.and_then(|i| path.get(..i)).unwrap_or("")
}

fn line_col(l: &serde_saphyr::Location) -> LineCol {
    (l.line(), l.column())
}

/// The (line, column) of the value at a key path in `source`, or of its closest ancestor that
/// is written in the file; (0, 0) when none is.
pub fn locate(source: &str, path: &str) -> LineCol {
    SourceMap::build(source).value(path)
}

// === the location tree ===

#[derive(Debug)]
enum Node {
    Map(Vec<(Spanned<KeyText>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Leaf,
}

/// A mapping key as text (YAML keys may be numbers or booleans too).
#[derive(Debug)]
struct KeyText(String);

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Node, A::Error> {
        // A tagged node (`!tag value`): keep walking is not worth it, the model has none.
        let (IgnoredAny, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant::<IgnoredAny>(variant)?;
        Ok(Node::Leaf)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = KeyText;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
        Ok(KeyText(String::new()))
    }
}

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "listeners:\n  - id: a\n    address: 127.0.0.1:1\nroutes:\n  - id: one\n    path: /a\n    upstream: x\n  - id: two\n    path: /b\n    methods: [GET, TRACE]\n    upstream: y\n    ip_policy:\n      allow: [1.2.3.4]\n    match_headers: {X-Api.V: \"2\"}\n";

    #[test]
    fn finds_keys_and_values_in_block_and_flow_style() {
        let map = SourceMap::build(SRC);
        assert_eq!(map.key("routes"), (4, 1));
        assert_eq!(map.key("routes[0].upstream"), (7, 5));
        assert_eq!(map.value("routes[0].upstream"), (7, 15));
        assert_eq!(map.value("routes[1].upstream"), (11, 15));
        assert_eq!(map.value("routes[1].methods[1]"), (10, 20));
        assert_eq!(map.value("routes[1].ip_policy.allow[0]"), (13, 15));
        assert_eq!(map.key("routes[1].match_headers.X-Api.V"), (14, 21));
        assert_eq!(map.value("listeners[0].address"), (3, 14));
    }

    #[test]
    fn unknown_paths_fall_back_to_the_closest_node() {
        let map = SourceMap::build(SRC);
        assert_eq!(map.value("routes[1].hosts"), map.value("routes[1]"));
        assert_ne!(map.value("routes[1]"), (0, 0));
        assert_eq!(map.value("upstreams[0].id"), map.value(""));
        assert_eq!(locate("a: b: c", "a"), (0, 0));
        assert_eq!(parent("a.b[2].c"), "a.b[2]");
        assert_eq!(parent("a.b[2]"), "a.b");
        assert_eq!(parent("a"), "");
    }

    #[test]
    fn the_budget_refuses_billion_laughs() {
        let mut lol = String::from("a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let refs = vec![format!("*{}", w[0]); 9].join(",");
            lol.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
        }
        let started = std::time::Instant::now();
        let e = serde_saphyr::from_str_with_options::<Spanned<Node>>(
            &lol,
            crate::load::parse_options(),
        )
        .unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(e.to_string().contains("replay limit"), "{e}");
        assert_eq!(locate(&lol, "i"), (0, 0));
    }

    #[test]
    fn anchors_and_aliases_point_at_the_use() {
        let src = "a: &x {k: 1}\nb: *x\n";
        let map = SourceMap::build(src);
        assert_eq!(map.key("b"), (2, 1));
        assert_ne!(map.value("b.k"), (0, 0));
    }
}
