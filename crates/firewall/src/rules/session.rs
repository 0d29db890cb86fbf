//! Session fixation: a request that plants a session id chosen by the attacker. A fixation
//! link carries the victim to the application with a session cookie's *name* as a
//! parameter (`/login?jsessionid=ATTACKER`, `/app;jsessionid=..`); the victim follows it
//! from the attacker's page (an off-site `Referer`) or from a mail or chat client (no
//! `Referer` at all). Whether the request came from the application's own pages decides:
//!
//! - `session-001`: a session cookie name that belongs to one server framework
//!   (`JSESSIONID`, `PHPSESSID`, `ASPSESSIONID…`, `laravel_session`, `connect.sid`,
//!   `ci_session`, `next-auth.session-token`, ColdFusion `CFID` / `CFTOKEN`, a Rails-style
//!   `_app_session` …) used as a query, form or JSON key or as a `;jsessionid=` path
//!   parameter, unless the `Referer` is the application itself (a legacy app that rewrites
//!   its own links with the id passes). An API never asks for these names.
//! - `session-002`: a *generic* cookie-style spelling (`sessionid`, `session-id`, `sessid`,
//!   written all lower or all upper case) as a key, only with an off-site `Referer`. Without
//!   a `Referer` it passes (API clients send none), and so do the spellings APIs use for
//!   their own ids: `session_id` (Stripe Checkout returns `?session_id=` from
//!   checkout.stripe.com), camel-case `sessionId` (Adyen), `sid`.
//! - `session-101`: a value that sets a cookie (`.cookie=…;expires=`, `<meta
//!   http-equiv=set-cookie`).

use http::request::Parts;

use super::{Category::Session, Detector, Hit, PatternDef, RuleInfo, Severity::*, Subject, p};
use crate::location::Part;
use crate::normalize::Variant::{Decoded, Lower};

/// Pattern rules.
pub const PATTERNS: &[PatternDef] = &[
    // A value that sets a cookie with attributes, in script or markup: `x.cookie="sid=1;
    // expires=..."`, `.cookie;expires=`, `<meta http-equiv="Set-Cookie" content=...>`.
    p(
        "session-101",
        Session,
        Critical,
        Lower,
        r#"\.\s*cookie\b[^\n]{0,60};\s*(expires|max-age|domain|path)\s*=|<\s*meta\b[^>]*http-equiv\s*=\s*['"]?\s*set-cookie"#,
    ),
];

const SESSION_KEY: RuleInfo = RuleInfo {
    id: "session-001",
    category: Session,
    severity: Critical,
};

const GENERIC_SESSION_KEY: RuleInfo = RuleInfo {
    id: "session-002",
    category: Session,
    severity: Critical,
};

/// Where the request came from, judged once per request from `Referer` and the host the
/// request is addressed to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RefererSite {
    /// No `Referer` header.
    #[default]
    Absent,
    /// The `Referer` host is the request's host or a subdomain of it.
    SameSite,
    /// The `Referer` names another host.
    OffSite,
    /// A `Referer` without a readable host (`Referer: http`), or no host to compare with.
    Unknown,
}

/// The host part of an absolute URL or authority (`https://user@Host:443/x` → `host`),
/// lower-cased, without port; `None` if there is none.
fn host_of(url: &str) -> Option<String> {
    let rest = url.trim();
    let rest = match rest.find("://") {
        Some(i) => rest.get(i.saturating_add(3)..)?,
        None => rest,
    };
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty() && host.bytes().all(|b| b.is_ascii_graphic())).then_some(host)
}

/// Classifies the request's `Referer` against its own host (the URI authority, else the
/// `Host` header). A subdomain of the host counts as the same site; a sibling subdomain
/// (`attacker.example.com` for `app.example.com`) does not.
pub fn referer_site(parts: &Parts) -> RefererSite {
    let Some(referer) = parts.headers.get(http::header::REFERER) else {
        return RefererSite::Absent;
    };
    let own = parts.uri.host().map(str::to_owned).or_else(|| {
        parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(host_of)
    });
    let from = referer
        .to_str()
        .ok()
        .filter(|r| r.contains("://"))
        .and_then(host_of);
    match (from, own) {
        (Some(from), Some(own)) => {
            let own = own
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim_end_matches('.')
                .to_ascii_lowercase();
            let same = from == own
                || from
                    .strip_suffix(own.as_str())
                    .is_some_and(|sub| sub.ends_with('.'));
            if same {
                RefererSite::SameSite
            } else {
                RefererSite::OffSite
            }
        }
        _ => RefererSite::Unknown,
    }
}

/// Session cookie names of one server framework or library (compared ASCII
/// case-insensitively, after a `__Host-` / `__Secure-` cookie prefix).
const FRAMEWORK_SESSION_NAMES: &[&str] = &[
    // Java servlet containers, WebLogic, JServ.
    "jsessionid",
    "jsessionidsso",
    "jservsession",
    "jwsession",
    "weblogicsession",
    // PHP and its frameworks.
    "phpsessid",
    "phpsession",
    "laravel_session",
    "ci_session",
    "cakephp",
    "zend_session_id",
    "symfony",
    // ASP / ASP.NET.
    "asp.net_sessionid",
    // ColdFusion.
    "cfid",
    "cftoken",
    "cfsid",
    // Node.js (Express, Sails, Koa, NextAuth, Meteor).
    "connect.sid",
    "express.sid",
    "sails.sid",
    "koa.sess",
    "koa:sess",
    "koa.sess.sig",
    "next-auth.session-token",
    "authjs.session-token",
    "meteor_login_token",
    // Ruby (Rack, Rails' old default), Python (Flask), Play, Shiny.
    "rack.session",
    "_session_id",
    "_flask_session",
    "play_session",
    "shiny-token",
];

/// Whether `key` names a framework session cookie.
fn is_framework_session_name(key: &str) -> bool {
    let key = key.trim();
    let lower = key.to_ascii_lowercase();
    let name = lower
        .strip_prefix("__host-")
        .or_else(|| lower.strip_prefix("__secure-"))
        .unwrap_or(&lower);
    FRAMEWORK_SESSION_NAMES.contains(&name)
        || name.starts_with("aspsessionid")
        || is_rails_session_name(name)
}

/// Rails' default cookie name: `_<app>_session` (`_rails_session`, `_shop_session`).
fn is_rails_session_name(name: &str) -> bool {
    name.strip_prefix('_')
        .and_then(|n| n.strip_suffix("_session"))
        .is_some_and(|app| {
            !app.is_empty()
                && app.len() <= 40
                && app
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// Generic cookie-style session parameter names, as cookies spell them: all lower or all
/// upper case, no `_` between the words (`session_id` and camel-case `sessionId` are how
/// APIs name their own ids).
fn is_generic_session_name(key: &str) -> bool {
    let key = key.trim();
    let one_case = key == key.to_ascii_lowercase() || key == key.to_ascii_uppercase();
    one_case
        && ["sessionid", "session-id", "sessid", "sess-id"]
            .iter()
            .any(|n| key.eq_ignore_ascii_case(n))
}

/// A Java `;jsessionid=` path parameter (URL rewriting) in the request path.
fn has_jsessionid_path_param(path: &str) -> bool {
    path.to_ascii_lowercase().contains(";jsessionid=")
}

/// Flags a session cookie name used as a parameter or JSON key (`?jsessionid=…`,
/// `{"PHPSESSID": …}`, `/app;jsessionid=…`) depending on where the request came from.
#[derive(Debug, Default)]
pub struct SessionKeyDetector;

impl Detector for SessionKeyDetector {
    fn rules(&self) -> &'static [RuleInfo] {
        &[SESSION_KEY, GENERIC_SESSION_KEY]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        let part = subject.location.part;
        let text = &subject.norm.decoded;
        let rule = if part.is_key() {
            if is_framework_session_name(text) {
                (subject.referer != RefererSite::SameSite).then_some(SESSION_KEY)
            } else if is_generic_session_name(text) {
                (subject.referer == RefererSite::OffSite).then_some(GENERIC_SESSION_KEY)
            } else {
                None
            }
        } else if part == Part::Path && subject.location.name.is_empty() {
            (has_jsessionid_path_param(text) && subject.referer != RefererSite::SameSite)
                .then_some(SESSION_KEY)
        } else {
            None
        };
        if let Some(rule) = rule {
            hits.push(Hit {
                rule,
                variant: Decoded,
                span: (0, text.len()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{
        RefererSite, host_of, is_framework_session_name, is_generic_session_name, referer_site,
    };

    #[test]
    fn framework_names_only() {
        assert!(is_framework_session_name("JSESSIONID"));
        assert!(is_framework_session_name("ASPSESSIONIDQQGGGNCU"));
        assert!(is_framework_session_name("__Host-next-auth.session-token"));
        assert!(is_framework_session_name("_shop_session"));
        assert!(is_framework_session_name("connect.sid"));
        assert!(!is_framework_session_name("session_id"));
        assert!(!is_framework_session_name("aspsession"));
        assert!(!is_framework_session_name("_session"));
        assert!(!is_framework_session_name("__session"));
        assert!(!is_framework_session_name("sid"));
    }

    #[test]
    fn generic_names_in_cookie_spelling_only() {
        assert!(is_generic_session_name("sessionid"));
        assert!(is_generic_session_name("SESSION-ID"));
        assert!(!is_generic_session_name("sessionId"));
        assert!(!is_generic_session_name("session_id"));
        assert!(!is_generic_session_name("SessionId"));
    }

    fn site(host: &str, referer: Option<&str>) -> RefererSite {
        let mut b = http::Request::builder().uri("/login").header("host", host);
        if let Some(r) = referer {
            b = b.header("referer", r);
        }
        referer_site(&b.body(()).unwrap().into_parts().0)
    }

    #[test]
    fn referer_classes() {
        assert_eq!(site("app.example.com", None), RefererSite::Absent);
        assert_eq!(
            site("app.example.com:8443", Some("https://app.example.com/x")),
            RefererSite::SameSite
        );
        assert_eq!(
            site("example.com", Some("https://www.example.com/")),
            RefererSite::SameSite
        );
        assert_eq!(
            site("app.example.com", Some("https://attacker.example.com/")),
            RefererSite::OffSite
        );
        assert_eq!(
            site("example.com", Some("https://evilexample.com/")),
            RefererSite::OffSite
        );
        assert_eq!(
            site("app.example.com", Some("https://app.example.com.evil.net/")),
            RefererSite::OffSite
        );
        assert_eq!(
            site("APP.example.com", Some("HTTPS://App.Example.COM/x")),
            RefererSite::SameSite
        );
        assert_eq!(site("example.com", Some("http")), RefererSite::Unknown);
        assert_eq!(host_of("https://u:p@[::1]:80/x"), Some("::1".to_owned()));
    }
}
