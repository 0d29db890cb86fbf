//! Value extraction: every free-text value of a request, with where it was found.
//!
//! The extractor understands the shapes APIs actually receive (query strings, cookies, JSON,
//! url-encoded and multipart forms, XML) so that each value is inspected on its own: a
//! detector looking at `' OR 1=1--` alone is far more precise than one looking at a whole
//! body. Unknown bodies are inspected as raw text. Every loop is bounded by
//! [`LimitsSpec`]: values past `max_values` are dropped and counted.

use std::borrow::Cow;

use http::request::Parts;
use quick_xml::events::Event;

use crate::location::{Location, Part};
use crate::spec::LimitsSpec;

/// One value to inspect.
#[derive(Clone, Debug)]
pub struct Value<'a> {
    /// Where it was found.
    pub location: Location,
    /// The bytes as sent (query and form values already have `+` as space).
    pub bytes: Cow<'a, [u8]>,
}

/// Headers that carry framing or negotiation, not application data: inspecting them costs
/// time and false positives (`Accept: */*`), and the gateway validates them elsewhere.
/// `Authorization` is skipped so that credentials never end up in a match excerpt.
pub const SKIPPED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "upgrade",
    "accept",
    "accept-encoding",
    "accept-language",
    "accept-charset",
    "authorization",
    "proxy-authorization",
    "cache-control",
    "pragma",
    "if-none-match",
    "if-match",
    "if-modified-since",
    "if-unmodified-since",
    "content-encoding",
    "cookie",
    "sec-fetch-mode",
    "sec-fetch-site",
    "sec-fetch-dest",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
];

/// The result of extraction.
#[derive(Debug, Default)]
pub struct Extracted<'a> {
    /// The values, in request order (path, query, headers, cookies, body).
    pub values: Vec<Value<'a>>,
    /// Values dropped because `max_values` was reached.
    pub dropped: usize,
    /// The body was larger than `max_body_bytes` and only its head was parsed, or was nested
    /// deeper than `max_depth`.
    pub body_truncated: bool,
    /// The body declared a DTD (XML `<!DOCTYPE`), seen by the XML parser.
    pub xml_doctype: Option<String>,
}

struct Sink<'a> {
    out: Extracted<'a>,
    max: usize,
}

impl<'a> Sink<'a> {
    fn push(&mut self, part: Part, name: impl Into<String>, bytes: Cow<'a, [u8]>) {
        if self.out.values.len() >= self.max {
            self.out.dropped = self.out.dropped.saturating_add(1);
            return;
        }
        self.out.values.push(Value {
            location: Location::new(part, name),
            bytes,
        });
    }

    fn full(&self) -> bool {
        self.out.values.len() >= self.max
    }
}

/// Extracts the values of a request. `skip_headers` are lower-case names not inspected in
/// addition to [`SKIPPED_HEADERS`].
pub fn extract<'a>(
    parts: &'a Parts,
    body: &'a [u8],
    limits: &LimitsSpec,
    skip_headers: &[String],
) -> Extracted<'a> {
    let mut sink = Sink {
        out: Extracted::default(),
        max: limits.max_values,
    };
    let path = parts.uri.path();
    if path.len() > 1 {
        sink.push(Part::Path, "", Cow::Borrowed(path.as_bytes()));
        for (i, seg) in path.split('/').filter(|s| !s.is_empty()).enumerate() {
            sink.push(
                Part::Path,
                (i.saturating_add(1)).to_string(),
                Cow::Borrowed(seg.as_bytes()),
            );
        }
    }
    if let Some(q) = parts.uri.query() {
        pairs(&mut sink, q.as_bytes(), Part::Query, Part::QueryKey);
    }
    for (name, value) in &parts.headers {
        let n = name.as_str();
        if n == "cookie" {
            cookies(&mut sink, value.as_bytes());
            continue;
        }
        if SKIPPED_HEADERS.contains(&n) || skip_headers.iter().any(|s| s == n) {
            continue;
        }
        sink.push(Part::Header, n, Cow::Borrowed(value.as_bytes()));
    }
    let truncated = body.len() > limits.max_body_bytes;
    let body = body.get(..limits.max_body_bytes).unwrap_or(body);
    sink.out.body_truncated = truncated;
    if !body.is_empty() {
        extract_body(&mut sink, parts, body, limits);
    }
    sink.out
}

fn content_type(parts: &Parts) -> String {
    parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn extract_body<'a>(sink: &mut Sink<'a>, parts: &'a Parts, body: &'a [u8], limits: &LimitsSpec) {
    let ct = content_type(parts);
    let trimmed = body.trim_ascii_start();
    let looks_json = matches!(trimmed.first(), Some(b'{' | b'['));
    if ct.contains("json") || (ct.is_empty() && looks_json) {
        if json(sink, body, limits) {
            return;
        }
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        pairs(sink, body, Part::Form, Part::FormKey);
        return;
    } else if ct.starts_with("multipart/") {
        if let Some(boundary) = boundary(parts) {
            multipart(sink, body, &boundary);
            return;
        }
    } else if ct.contains("xml") {
        if xml(sink, body, limits) {
            return;
        }
    } else if ct.is_empty() && trimmed.first() == Some(&b'<') {
        // An undeclared body starting with `<` may be XML or an HTML fragment (`<script>`
        // sent bare): its text is inspected as XML and the whole body as markup too,
        // because element names are not values.
        if xml(sink, body, limits) {
            sink.push(Part::Raw, "", Cow::Borrowed(body));
            return;
        }
    } else if ct.is_empty() && looks_like_form(body) {
        // No declared type (common with curl and scanners): a body of `k=v&k=v` is what
        // a form-handling back end will see.
        pairs(sink, body, Part::Form, Part::FormKey);
        return;
    }
    // Undeclared bodies are most often form data: `+` is a space there.
    let raw = if ct.is_empty() {
        plus_to_space(body)
    } else {
        Cow::Borrowed(body)
    };
    sink.push(Part::Raw, "", raw);
}

fn looks_like_form(body: &[u8]) -> bool {
    let first = body.split(|&b| b == b'&').next().unwrap_or(body);
    first.contains(&b'=')
        && first
            .iter()
            .take_while(|&&b| b != b'=')
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']'))
}

/// `k=v&k=v` with `+` as space; names and values are inspected, percent-decoding is left to
/// the normaliser (which also catches double encoding).
fn pairs<'a>(sink: &mut Sink<'a>, data: &'a [u8], value_part: Part, key_part: Part) {
    // Only `&` separates pairs: the `;` of old CGI is not split on by current frameworks,
    // and a payload's `;` (stacked query, shell separator) must stay in its value.
    // Values of a repeated name, for the joined view below.
    let mut seen: Vec<(String, Vec<u8>, usize)> = Vec::new();
    for pair in data.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        if sink.full() {
            sink.out.dropped = sink.out.dropped.saturating_add(1);
            return;
        }
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (
                pair.get(..i).unwrap_or_default(),
                pair.get(i.saturating_add(1)..).unwrap_or_default(),
            ),
            None => (pair, &[][..]),
        };
        let name = String::from_utf8_lossy(&plus_to_space(k)).into_owned();
        let name = crate::normalize::decode(name.as_bytes());
        sink.push(key_part, name.clone(), plus_to_space(k));
        if v.is_empty() {
            continue;
        }
        // A name that is no identifier may be the first half of a payload the first `=`
        // cut in two (`?<img src=x onerror=alert(1)>`, `?' or 'a'='a`): the pair is
        // inspected whole as well.
        if !is_plain_name(k) && !k.is_empty() {
            sink.push(value_part, name.clone(), plus_to_space(pair));
        }
        if let Some((_, joined, count)) = seen.iter_mut().find(|(n, _, _)| *n == name) {
            if joined.len() < MAX_JOINED_BYTES {
                joined.push(b',');
                joined.extend_from_slice(v);
                *count = count.saturating_add(1);
            }
        } else if seen.len() < MAX_JOINED_NAMES {
            seen.push((name.clone(), v.to_vec(), 1));
        }
        sink.push(value_part, name, plus_to_space(v));
    }
    // HTTP parameter pollution: ASP.NET and others join the values of a repeated name with
    // commas, so `id=1/*&id=*/union/*&id=*/select` reaches the application as one
    // statement. Repeated names are inspected joined as well.
    for (name, joined, count) in seen {
        if count > 1 {
            let joined = match plus_to_space(&joined) {
                Cow::Owned(o) => o,
                Cow::Borrowed(_) => joined,
            };
            sink.push(value_part, name, Cow::Owned(joined));
        }
    }
}

/// Bytes of the joined view of a repeated parameter.
const MAX_JOINED_BYTES: usize = 16 * 1024;
/// Distinct names tracked for the joined view.
const MAX_JOINED_NAMES: usize = 64;

fn plus_to_space(b: &[u8]) -> Cow<'_, [u8]> {
    if b.contains(&b'+') {
        Cow::Owned(
            b.iter()
                .map(|&c| if c == b'+' { b' ' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(b)
    }
}

fn cookies<'a>(sink: &mut Sink<'a>, header: &'a [u8]) {
    for c in header.split(|&b| b == b';') {
        let c = c.trim_ascii();
        if c.is_empty() {
            continue;
        }
        match c.iter().position(|&b| b == b'=') {
            Some(i) => {
                let raw_name = c.get(..i).unwrap_or_default();
                let name = String::from_utf8_lossy(raw_name).into_owned();
                let v = c.get(i.saturating_add(1)..).unwrap_or_default();
                // The name is attacker-chosen too (frameworks parse it); plain identifiers
                // cannot carry anything and are not inspected.
                // Mixed-case names of 8+ characters may be encoded payloads (base64).
                if !is_plain_name(raw_name) || looks_encoded(raw_name) {
                    sink.push(Part::Cookie, name.clone(), Cow::Borrowed(raw_name));
                }
                sink.push(Part::Cookie, name, Cow::Borrowed(v));
            }
            None => sink.push(Part::Cookie, "", Cow::Borrowed(c)),
        }
    }
}

/// A name that may be base64 text: 8+ characters mixing upper and lower case.
fn looks_encoded(name: &[u8]) -> bool {
    name.len() >= 8
        && name.iter().filter(|b| b.is_ascii_uppercase()).count() >= 2
        && name.iter().filter(|b| b.is_ascii_lowercase()).count() >= 2
}

/// A name made only of ASCII letters, digits, `_` and `-`: nothing to inspect in it.
fn is_plain_name(name: &[u8]) -> bool {
    name.iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

/// Nesting depth of a JSON text, counted on brackets outside strings, stopping early once
/// past `max`. Lets the extractor refuse to build deep trees before serde does any work.
fn json_depth_exceeds(body: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    for &b in body {
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth = depth.saturating_add(1);
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Walks a JSON body; false if it is not JSON (then it is inspected raw).
fn json(sink: &mut Sink<'_>, body: &[u8], limits: &LimitsSpec) -> bool {
    if json_depth_exceeds(body, limits.max_depth) {
        sink.out.body_truncated = true;
        return false;
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    let mut pointer = String::new();
    walk_json(sink, &v, &mut pointer);
    true
}

fn escape_pointer(key: &str) -> Cow<'_, str> {
    if key.contains(['~', '/']) {
        Cow::Owned(key.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(key)
    }
}

fn walk_json(sink: &mut Sink<'_>, v: &serde_json::Value, pointer: &mut String) {
    if sink.full() {
        sink.out.dropped = sink.out.dropped.saturating_add(1);
        return;
    }
    match v {
        serde_json::Value::String(s) => {
            let name = if pointer.is_empty() { "/" } else { pointer };
            sink.push(
                Part::Body,
                name.to_owned(),
                Cow::Owned(s.clone().into_bytes()),
            );
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                walk_json(sink, item, pointer);
                pointer.truncate(len);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, item) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape_pointer(k));
                sink.push(
                    Part::BodyKey,
                    pointer.clone(),
                    Cow::Owned(k.clone().into_bytes()),
                );
                walk_json(sink, item, pointer);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

fn boundary(parts: &Parts) -> Option<String> {
    // The lower-cased header loses the boundary's case; take it from the original.
    let raw = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())?;
    let idx = raw.to_ascii_lowercase().find("boundary=")?;
    let b = raw.get(idx.saturating_add(9)..)?;
    let b = b.split(';').next()?.trim().trim_matches('"');
    (!b.is_empty() && b.len() <= 200).then(|| b.to_owned())
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p.saturating_add(from))
}

/// A simple multipart parser: parts between `--boundary` lines, headers up to the first
/// blank line. Text parts are inspected as form fields; file parts only by file name and
/// (when declared textual) content.
fn multipart<'a>(sink: &mut Sink<'a>, body: &'a [u8], boundary: &str) {
    let delim = format!("--{boundary}");
    let d = delim.as_bytes();
    let mut pos = match find(body, d, 0) {
        Some(p) => p.saturating_add(d.len()),
        None => {
            sink.push(Part::Raw, "", Cow::Borrowed(body));
            return;
        }
    };
    while !sink.full() {
        if body.get(pos..pos.saturating_add(2)) == Some(b"--") {
            return;
        }
        let end = find(body, d, pos).unwrap_or(body.len());
        let part = body.get(pos..end).unwrap_or_default();
        let (head, content) = match find(part, b"\r\n\r\n", 0) {
            Some(h) => (
                part.get(..h).unwrap_or_default(),
                part.get(h.saturating_add(4)..).unwrap_or_default(),
            ),
            None => match find(part, b"\n\n", 0) {
                Some(h) => (
                    part.get(..h).unwrap_or_default(),
                    part.get(h.saturating_add(2)..).unwrap_or_default(),
                ),
                None => (part, &[][..]),
            },
        };
        let content = content
            .strip_suffix(b"\r\n")
            .or_else(|| content.strip_suffix(b"\n"))
            .unwrap_or(content);
        let head_text = String::from_utf8_lossy(head);
        let lower = head_text.to_ascii_lowercase();
        let name = disposition_param(&head_text, &lower, "name").unwrap_or_default();
        let filename = disposition_param(&head_text, &lower, "filename");
        let textual = !lower.contains("content-type:")
            || lower.contains("content-type: text/")
            || lower.contains("json")
            || lower.contains("xml");
        if let Some(f) = filename {
            sink.push(Part::FormKey, name.clone(), Cow::Owned(f.into_bytes()));
        }
        // The part name is attacker-chosen like a form key (`name="../../etc/passwd"`);
        // a plain identifier carries nothing.
        if !is_plain_name(name.as_bytes()) {
            sink.push(
                Part::FormKey,
                name.clone(),
                Cow::Owned(name.clone().into_bytes()),
            );
        }
        if textual {
            sink.push(Part::Form, name, Cow::Borrowed(content));
        }
        if end >= body.len() {
            return;
        }
        pos = end.saturating_add(d.len());
    }
}

fn disposition_param(head: &str, lower: &str, param: &str) -> Option<String> {
    let line_start = lower.find("content-disposition:")?;
    let line = lower.get(line_start..)?;
    let line_end = line.find('\n').unwrap_or(line.len());
    let key = format!("; {param}=");
    let rel = line.get(..line_end)?.find(&key)?;
    let start = line_start.saturating_add(rel).saturating_add(key.len());
    let rest = head.get(start..)?;
    let v = if let Some(q) = rest.strip_prefix('"') {
        q.split('"').next()?
    } else {
        rest.split([';', '\r', '\n']).next()?
    };
    Some(v.to_owned())
}

/// Walks an XML body with a pull parser: text (with its character references, which the
/// parser reports separately and which are kept as written for the normaliser), CDATA and
/// attribute values are inspected per element; entities are never expanded and the DTD is
/// only recorded (for the XXE rules). Names in the XInclude, XSLT and XML Schema
/// namespaces are inspected too, since they make the parser fetch or execute.
fn xml(sink: &mut Sink<'_>, body: &[u8], limits: &LimitsSpec) -> bool {
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().check_end_names = false;
    let mut stack: Vec<String> = Vec::new();
    let mut buf = Vec::new();
    let mut text: Vec<u8> = Vec::new();
    let mut seen_element = false;
    let cap = limits.max_value_bytes;
    loop {
        if sink.full() {
            return true;
        }
        buf.clear();
        let ev = match reader.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(_) => {
                flush_text(sink, &stack, &mut text);
                return seen_element;
            }
        };
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                flush_text(sink, &stack, &mut text);
                seen_element = true;
                let opens = matches!(ev, Event::Start(_));
                let tag = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let path = format!(
                    "/{}",
                    stack
                        .iter()
                        .chain([&tag])
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("/")
                );
                let lower_tag = tag.to_ascii_lowercase();
                if lower_tag.starts_with("xi:")
                    || lower_tag.starts_with("xsl:")
                    || lower_tag.starts_with("xs:")
                    || lower_tag.starts_with("xsd:")
                {
                    sink.push(
                        Part::Xml,
                        path.clone(),
                        Cow::Owned(format!("<{tag}").into_bytes()),
                    );
                }
                if !is_plain_name(tag.as_bytes()) {
                    // Element names are chosen by the client as much as values are.
                    sink.push(
                        Part::Xml,
                        format!("{path}#name"),
                        Cow::Owned(tag.clone().into_bytes()),
                    );
                }
                for attr in e.attributes().with_checks(false).flatten() {
                    let an = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
                    if !is_plain_name(an.as_bytes()) {
                        sink.push(
                            Part::Xml,
                            format!("{path}@{an}#name"),
                            Cow::Owned(an.clone().into_bytes()),
                        );
                    }
                    sink.push(
                        Part::Xml,
                        format!("{path}@{an}"),
                        Cow::Owned(attr.value.into_owned()),
                    );
                }
                if !opens {
                    continue;
                }
                if stack.len() < limits.max_depth {
                    stack.push(tag);
                } else {
                    sink.out.body_truncated = true;
                    return true;
                }
            }
            Event::End(_) => {
                flush_text(sink, &stack, &mut text);
                stack.pop();
            }
            Event::Text(t) => append_capped(&mut text, t.as_ref(), cap),
            Event::CData(t) => append_capped(&mut text, t.as_ref(), cap),
            Event::GeneralRef(r) => {
                append_capped(&mut text, b"&", cap);
                append_capped(&mut text, r.as_ref(), cap);
                append_capped(&mut text, b";", cap);
            }
            Event::DocType(t) => {
                let dt = format!("<!DOCTYPE {}>", String::from_utf8_lossy(t.as_ref()));
                sink.out.xml_doctype = Some(dt.clone());
                sink.push(Part::Xml, "!doctype", Cow::Owned(dt.into_bytes()));
            }
            Event::PI(p) => {
                let pi = format!("<?{}?>", String::from_utf8_lossy(p.as_ref()));
                sink.push(Part::Xml, "?pi", Cow::Owned(pi.into_bytes()));
            }
            Event::Eof => {
                flush_text(sink, &stack, &mut text);
                return seen_element;
            }
            _ => {}
        }
    }
}

fn append_capped(buf: &mut Vec<u8>, more: &[u8], cap: usize) {
    let room = cap.saturating_sub(buf.len());
    buf.extend_from_slice(more.get(..room).unwrap_or(more));
}

fn flush_text(sink: &mut Sink<'_>, stack: &[String], text: &mut Vec<u8>) {
    if !text.trim_ascii().is_empty() {
        sink.push(
            Part::Xml,
            format!("/{}", stack.join("/")),
            Cow::Owned(std::mem::take(text)),
        );
    }
    text.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<(String, String)> {
        let mut b = http::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let parts = b.body(()).unwrap().into_parts().0;
        let ex = extract(&parts, body, &LimitsSpec::default(), &[]);
        ex.values
            .iter()
            .map(|v| {
                (
                    v.location.to_string(),
                    String::from_utf8_lossy(&v.bytes).into_owned(),
                )
            })
            .collect()
    }

    fn has(v: &[(String, String)], loc: &str, val: &str) -> bool {
        v.iter().any(|(l, x)| l == loc && x == val)
    }

    #[test]
    fn path_query_headers_cookies() {
        let v = run(
            "/api/users/42?q=a+b&user[$ne]=1",
            &[
                ("user-agent", "ua"),
                ("host", "h"),
                ("cookie", "session=abc; theme=dark"),
            ],
            b"",
        );
        assert!(has(&v, "path", "/api/users/42"));
        assert!(has(&v, "path:3", "42"));
        assert!(has(&v, "query:q", "a b"));
        assert!(has(&v, "query-key:user[$ne]", "user[$ne]"));
        assert!(has(&v, "header:user-agent", "ua"));
        assert!(has(&v, "cookie:session", "abc"));
        assert!(has(&v, "cookie:theme", "dark"));
        assert!(!v.iter().any(|(l, _)| l == "header:host"));
    }

    #[test]
    fn json_values_and_keys() {
        let v = run(
            "/",
            &[("content-type", "application/json")],
            br#"{"user":{"name":"bob","$ne":null},"a":[{"b":"x"}],"n":1}"#,
        );
        assert!(has(&v, "body:/user/name", "bob"));
        assert!(has(&v, "body-key:/user/$ne", "$ne"));
        assert!(has(&v, "body:/a/0/b", "x"));
    }

    #[test]
    fn forms_multipart_xml() {
        let v = run(
            "/",
            &[("content-type", "application/x-www-form-urlencoded")],
            b"comment=hi+there&x=1",
        );
        assert!(has(&v, "form:comment", "hi there"));
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\r\n--XyZ--\r\n";
        let v = run(
            "/",
            &[("content-type", "multipart/form-data; boundary=XyZ")],
            body,
        );
        assert!(has(&v, "form:note", "hello"));
        assert!(has(&v, "form-key:f", "a.txt"));
        assert!(!v.iter().any(|(l, _)| l == "form:f"));
        let v = run(
            "/",
            &[("content-type", "application/xml")],
            b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><order id=\"7\"><item>&e;</item><n>pen</n></order>",
        );
        assert!(has(&v, "xml:/order@id", "7"));
        assert!(has(&v, "xml:/order/n", "pen"));
        assert!(has(&v, "xml:/order/item", "&e;"));
        assert!(
            v.iter()
                .any(|(l, x)| l == "xml:!doctype" && x.contains("ENTITY"))
        );
        let v = run(
            "/",
            &[("content-type", "text/xml")],
            b"<a><b>&lt;svg onload=x&gt; &amp; more</b></a>",
        );
        assert!(has(&v, "xml:/a/b", "&lt;svg onload=x&gt; &amp; more"));
    }

    #[test]
    fn names_and_semicolons_stay_inspected() {
        let v = run(
            "/?q=1;ls+-la&a=b",
            &[("cookie", "java.io.File=x; plain=y")],
            b"",
        );
        assert!(has(&v, "query:q", "1;ls -la"));
        assert!(has(&v, "cookie:java.io.File", "java.io.File"));
        assert!(!v.iter().any(|(_, x)| x == "plain"));
        let v = run(
            "/",
            &[("content-type", "application/xml")],
            b"<a><x.y b.c=\"1\" d=\"2\">t</x.y></a>",
        );
        assert!(has(&v, "xml:/a/x.y#name", "x.y"));
        assert!(has(&v, "xml:/a/x.y@b.c#name", "b.c"));
        assert!(!v.iter().any(|(l, _)| l == "xml:/a/x.y@d#name"));
    }

    #[test]
    fn deep_json_is_not_walked() {
        let body = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let mut b = http::Request::builder().uri("/");
        b = b.header("content-type", "application/json");
        let parts = b.body(()).unwrap().into_parts().0;
        let ex = extract(&parts, body.as_bytes(), &LimitsSpec::default(), &[]);
        assert!(ex.body_truncated);
    }
}
