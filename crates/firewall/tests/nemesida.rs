//! Measurement on the payloads of nemesida-waf/waf-bypass, a WAF test tool whose corpus is
//! sorted by attack class (SQLi, XSS, RCE, LFI, RFI, SSRF, SSTI, SSI, LDAP, NoSQLi, ...)
//! with a folder of false-positive tests (`FP`, `"BLOCKED": false`).
//!
//! The corpus is not committed: put its `payload/` tree under `/tmp/nemesida` (or point
//! `FW_NEMESIDA_DIR` at the directory holding `payload/`); the test prints "skipped"
//! without it. Requests are built the way the tool's `payloads.py` / `bypass.py` build them:
//!
//! * every zone of a payload object is one request: `URL` (joined to `http://host/` like
//!   Python's `urljoin`: dot segments resolved, a `#` ends it), `ARGS` (the query string as
//!   written), `BODY` (POST, no `Content-Type`; `application/json` with `"JSON": true` or in
//!   the `API` folder; multipart with `BOUNDARY` or in the `MFD` folder), `COOKIE`
//!   (`Cookie: WBC-<hex>=<value>`), `USER-AGENT`, `REFERER`, `HEADER` (`WBH-<hex>: <value>`);
//!   `%RND%` becomes six hex digits; `METHOD` overrides the method;
//! * every `ENCODE` value (`Base64`, `UTF-16` = each character as the text `\u00XX`,
//!   `HTML-ENTITY` = `& < > " '` as entities, then percent-encoded) adds one request per
//!   `ARGS`, `BODY`, `COOKIE` and `HEADER` zone, encoding only the values of `k=v` pairs in
//!   `ARGS` and `BODY` (not in `API` and `MFD`);
//! * the HTTP client's own escaping: space, `"<>\^`{|}`, controls and non-ASCII in the URL
//!   are percent-encoded and a `%` not starting an escape becomes `%25`; a header value with
//!   a line break or a character outside Latin-1 cannot be sent ("unsent").
//!
//! Older versions of the files (`{"req": [...]}` with `Body`, `Cookie`, `UA`, `Headers`,
//! `Referer`, `Blocked`) are read too, with those names mapped to the current ones: the
//! tool itself only reads `{"payload": [...]}`, but the payloads in them are the same kind.
//!
//! Only the firewall's inspection is measured here (default settings, blocking mode). The
//! gateway refuses more before inspection (unknown methods such as the `CM` folder's `SPST`,
//! paths outside the routes, `/.git` from `UWA`), which this test does not count.
//! `FW_NEM_DEBUG=<folder or file substring>` prints the misses and false positives.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use serde_json::Value;

/// Share of attack requests that must be blocked when the corpus is present.
const FLOOR_PCT: usize = 93;
/// Share of the false-positive tests that may be refused.
const FP_CEILING_PCT: usize = 10;

fn corpus_dir() -> PathBuf {
    PathBuf::from(std::env::var("FW_NEMESIDA_DIR").unwrap_or_else(|_| "/tmp/nemesida".to_owned()))
        .join("payload")
}

/// One request to send, with what the corpus expects of it.
struct Probe {
    zone: String,
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    blocked_expected: bool,
    shown: String,
}

/// Deterministic stand-in for `secrets.token_hex(3)`.
fn rnd(n: usize) -> String {
    format!("{:06x}", (n.wrapping_mul(2_654_435_761)) & 0xff_ffff)
}

/// Python `requests`' `requote_uri`, roughly: keep valid `%XX`, quote what may not appear.
fn requote(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let valid_escape = c == b'%'
            && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if valid_escape {
            out.push('%');
        } else if c == b'%'
            || c <= 0x20
            || c >= 0x7f
            || matches!(
                c,
                b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            )
        {
            out.push_str(&format!("%{c:02X}"));
        } else {
            out.push(char::from(c));
        }
        i += 1;
    }
    out
}

/// `urljoin("http://host/", payload)` for the path part: dot segments resolved, fragment cut.
fn url_join(payload: &str) -> String {
    let p = payload.split('#').next().unwrap_or("");
    let (path, query) = match p.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (p, None),
    };
    let mut segs: Vec<&str> = Vec::new();
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segs.pop();
            }
            s => segs.push(s),
        }
    }
    let mut out = format!("/{}", segs.join("/"));
    if trailing && out.len() > 1 {
        out.push('/');
    }
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn enc_base64(v: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(v.as_bytes())
}

fn enc_utf16(v: &str) -> String {
    v.chars()
        .map(|c| format!("\\u{:04x}", u32::from(c)))
        .collect()
}

fn enc_html_entity(v: &str) -> String {
    let e = v
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;");
    common::pct_all(&e)
}

fn encode_value(encoding: &str, v: &str) -> String {
    match encoding {
        "base64" => enc_base64(v),
        "utf-16" => enc_utf16(v),
        "html-entity" => enc_html_entity(v),
        _ => v.to_owned(),
    }
}

/// Encodes only the values of `k=v` pairs (the whole string when it has no `=`).
fn encode_pairs(encoding: &str, s: &str) -> String {
    if !s.contains('=') {
        return encode_value(encoding, s);
    }
    s.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => format!("{k}={}", encode_value(encoding, v)),
            None => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn field<'a>(obj: &'a serde_json::Map<String, Value>, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .and_then(|(_, v)| v.as_str())
            .filter(|s| !s.is_empty())
    })
}

fn expected_blocked(obj: &serde_json::Map<String, Value>) -> bool {
    match obj.iter().find(|(k, _)| k.eq_ignore_ascii_case("blocked")) {
        Some((_, Value::Bool(b))) => *b,
        Some((_, Value::String(s))) => !s.eq_ignore_ascii_case("false"),
        _ => true,
    }
}

fn probes_of(folder: &str, obj: &serde_json::Map<String, Value>, seq: &mut usize) -> Vec<Probe> {
    let blocked_expected = expected_blocked(obj);
    let json = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("json"))
        .is_some_and(|(_, v)| v.as_bool() == Some(true) || v.as_str() == Some("True"))
        || folder == "API";
    let boundary = field(obj, &["BOUNDARY"]).map(str::to_owned);
    let mfd = folder == "MFD" || boundary.is_some();
    let method = field(obj, &["METHOD"]).map(str::to_ascii_uppercase);
    let encodings: Vec<String> = if folder == "API" || folder == "MFD" {
        Vec::new()
    } else {
        field(obj, &["ENCODE"])
            .unwrap_or("")
            .split([',', ' '])
            .filter(|e| !e.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    };
    let mut out = Vec::new();
    let zones: [(&str, &[&str]); 7] = [
        ("URL", &["URL"]),
        ("ARGS", &["ARGS"]),
        ("BODY", &["BODY"]),
        ("COOKIE", &["COOKIE"]),
        ("USER-AGENT", &["USER-AGENT", "UA"]),
        ("REFERER", &["REFERER"]),
        ("HEADER", &["HEADER", "HEADERS"]),
    ];
    for (zone, names) in zones {
        let Some(raw) = field(obj, names) else {
            continue;
        };
        let mut variants = vec![("plain".to_owned(), raw.to_owned())];
        if matches!(zone, "ARGS" | "BODY" | "COOKIE" | "HEADER") {
            for e in &encodings {
                let v = if matches!(zone, "ARGS" | "BODY") {
                    encode_pairs(e, raw)
                } else {
                    encode_value(e, raw)
                };
                variants.push((e.clone(), v));
            }
        }
        for (enc, value) in variants {
            *seq += 1;
            let value = value.replace("%RND%", &rnd(*seq));
            let tag = rnd(*seq + 7);
            let mut headers = vec![("user-agent".to_owned(), "python-requests/2.31.0".to_owned())];
            let mut uri = "/".to_owned();
            let mut body = Vec::new();
            let default_method = if zone == "BODY" { "POST" } else { "GET" };
            match zone {
                "URL" => uri = requote(&url_join(&value)),
                "ARGS" => uri = format!("/?{}", requote(&value)),
                "BODY" => {
                    body = value.clone().into_bytes();
                    if mfd {
                        let b = boundary
                            .clone()
                            .unwrap_or_else(|| "nemesidaboundary".into());
                        if boundary.is_none() {
                            body = format!(
                                "--{b}\r\nContent-Disposition: form-data; name=\"{tag}\"\r\n\r\n{value}\r\n--{b}--\r\n"
                            )
                            .into_bytes();
                        }
                        headers.push((
                            "content-type".into(),
                            format!("multipart/form-data; boundary={b}"),
                        ));
                    } else if json {
                        headers.push(("content-type".into(), "application/json".into()));
                    }
                }
                "COOKIE" => headers.push(("cookie".into(), format!("WBC-{tag}={value}"))),
                "USER-AGENT" => headers[0].1 = value.clone(),
                "REFERER" => headers.push(("referer".into(), value.clone())),
                _ => headers.push((format!("wbh-{tag}"), value.clone())),
            }
            out.push(Probe {
                zone: format!("{zone}/{enc}"),
                method: method.clone().unwrap_or_else(|| default_method.to_owned()),
                uri,
                headers,
                body,
                blocked_expected,
                shown: value,
            });
        }
    }
    out
}

/// Builds the request head, or `None` when the client could not send it.
fn head(p: &Probe) -> Option<http::request::Parts> {
    let uri: Uri = format!("http://localhost{}", p.uri).parse().ok()?;
    let mut req = Request::builder()
        .method(Method::from_bytes(p.method.as_bytes()).ok()?)
        .uri(uri);
    for (k, v) in &p.headers {
        if v.contains(['\r', '\n']) || v.chars().any(|c| u32::from(c) > 0xff) {
            return None;
        }
        let bytes: Vec<u8> = v
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect();
        let name = HeaderName::from_bytes(k.as_bytes()).ok()?;
        req = req.header(name, HeaderValue::from_bytes(&bytes).ok()?);
    }
    req = req.header("host", "localhost");
    Some(req.body(()).ok()?.into_parts().0)
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for sub in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = sub.path();
        if p.is_dir() {
            for f in std::fs::read_dir(&p).into_iter().flatten().flatten() {
                let f = f.path();
                if f.extension().is_some_and(|e| e == "json") {
                    v.push(f);
                }
            }
        }
    }
    v.sort();
    v
}

#[test]
fn nemesida_waf_bypass_payloads() {
    let dir = corpus_dir();
    let files = json_files(&dir);
    if files.is_empty() {
        println!("nemesida: skipped ({} has no payload files)", dir.display());
        return;
    }
    let debug = std::env::var("FW_NEM_DEBUG").ok();
    let fw = common::shared();
    // folder -> (attacks, blocked, benign, refused, unsent)
    let mut per: BTreeMap<String, [usize; 5]> = BTreeMap::new();
    let mut per_zone: BTreeMap<String, [usize; 2]> = BTreeMap::new();
    let mut seq = 0usize;
    for file in &files {
        let folder = file
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = format!(
            "{folder}/{}",
            file.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let Ok(Value::Object(top)) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        for list in top.values() {
            for obj in list
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
            {
                for p in probes_of(&folder, obj, &mut seq) {
                    let row = per.entry(folder.clone()).or_default();
                    let Some(parts) = head(&p) else {
                        row[4] += 1;
                        continue;
                    };
                    let v = fw.inspect(&parts, &p.body);
                    if p.blocked_expected {
                        row[0] += 1;
                        row[1] += usize::from(v.blocked);
                        let z = per_zone.entry(p.zone.clone()).or_default();
                        z[0] += 1;
                        z[1] += usize::from(v.blocked);
                    } else {
                        row[2] += 1;
                        row[3] += usize::from(v.blocked);
                    }
                    if debug.as_deref().is_some_and(|d| name.contains(d))
                        && v.blocked != p.blocked_expected
                    {
                        println!(
                            "  {} {name} {} {:?} {} {:?}",
                            if p.blocked_expected { "MISS" } else { "FP" },
                            p.zone,
                            v.rule_ids(),
                            p.uri,
                            p.shown.chars().take(160).collect::<String>()
                        );
                    }
                }
            }
        }
    }
    println!("==== nemesida waf-bypass: requests per folder ====");
    println!(
        "{:<14} {:>16} {:>16} {:>7}",
        "folder", "attacks blocked", "benign refused", "unsent"
    );
    let mut t = [0usize; 5];
    for (f, r) in &per {
        print_row(f, r);
        for (sum, v) in t.iter_mut().zip(r) {
            *sum += v;
        }
    }
    print_row("TOTAL", &t);
    println!("-- attacks per zone / encoding --");
    for (z, r) in &per_zone {
        println!("{z:<24} {:>5}/{:<5} {:>5.1}%", r[1], r[0], pct(r[1], r[0]));
    }
    println!(
        "nemesida: attacks blocked {}/{} = {:.1}%, false-positive tests refused {}/{}, unsent {}",
        t[1],
        t[0],
        pct(t[1], t[0]),
        t[3],
        t[2],
        t[4]
    );
    assert!(
        t[1] * 100 >= t[0] * FLOOR_PCT,
        "nemesida attacks blocked {}/{}: under the {FLOOR_PCT}% floor",
        t[1],
        t[0]
    );
    assert!(
        t[3] * 100 <= t[2] * FP_CEILING_PCT,
        "nemesida false-positive tests refused {}/{}: over {FP_CEILING_PCT}%",
        t[3],
        t[2]
    );
}

/// One line of the per-folder table: attacks blocked, benign refused, unsent.
fn print_row(name: &str, r: &[usize; 5]) {
    println!(
        "{name:<14} {:>5}/{:<5} {:>5.1}% {:>5}/{:<5} {:>7}",
        r[1],
        r[0],
        pct(r[1], r[0]),
        r[3],
        r[2],
        r[4]
    );
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}
