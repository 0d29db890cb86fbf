//! Where in a request a value was found.
//!
//! Locations are reported in matches and used by exclusions and schema hints, so their text
//! form (`query:id`, `body:/user/name`) is part of the configuration interface.

use std::fmt;

/// The part of a request a value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// The whole path (`path`) or one segment (`path:2`, 1-based).
    Path,
    /// A query parameter value (`query:id`).
    Query,
    /// A query parameter name (`query-key:a[$ne]`).
    QueryKey,
    /// A header value (`header:user-agent`).
    Header,
    /// A cookie value (`cookie:session`).
    Cookie,
    /// A JSON string value, by JSON pointer (`body:/user/name`).
    Body,
    /// A JSON object key, by the pointer of the member (`body-key:/user/$ne`).
    BodyKey,
    /// A form field value, url-encoded or multipart (`form:comment`).
    Form,
    /// A form field name (`form-key:comment`).
    FormKey,
    /// An XML text or attribute value (`xml:/order/item@id`).
    Xml,
    /// An unparsed body (`raw`).
    Raw,
}

impl Part {
    /// The prefix of the text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::QueryKey => "query-key",
            Self::Header => "header",
            Self::Cookie => "cookie",
            Self::Body => "body",
            Self::BodyKey => "body-key",
            Self::Form => "form",
            Self::FormKey => "form-key",
            Self::Xml => "xml",
            Self::Raw => "raw",
        }
    }

    /// Whether the value is a name chosen by the client (a key) rather than a value.
    pub fn is_key(self) -> bool {
        matches!(self, Self::QueryKey | Self::BodyKey | Self::FormKey)
    }
}

/// A location: the part and a name inside it (empty for the whole path or a raw body).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The part of the request.
    pub part: Part,
    /// Parameter, header (lower case), cookie name, JSON pointer, segment index.
    pub name: String,
}

impl Location {
    /// A location in `part` named `name`.
    pub fn new(part: Part, name: impl Into<String>) -> Self {
        Self {
            part,
            name: name.into(),
        }
    }

    /// Whether this location is selected by `pattern`: the exact text form, or a prefix
    /// ending in `*` (`body:/items/*`, `header:*`).
    pub fn matches_pattern(&self, pattern: &str) -> bool {
        let text = self.to_string();
        match pattern.strip_suffix('*') {
            Some(prefix) => text.starts_with(prefix),
            None => text == pattern,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_empty() {
            f.write_str(self.part.as_str())
        } else {
            write!(f, "{}:{}", self.part.as_str(), self.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_and_patterns() {
        let l = Location::new(Part::Body, "/user/name");
        assert_eq!(l.to_string(), "body:/user/name");
        assert!(l.matches_pattern("body:/user/name"));
        assert!(l.matches_pattern("body:/user/*"));
        assert!(!l.matches_pattern("body:/user"));
        assert_eq!(Location::new(Part::Raw, "").to_string(), "raw");
    }
}
