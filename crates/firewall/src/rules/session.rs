//! Session fixation: a request that plants a session id chosen by the attacker. Two
//! shapes: a *framework* session cookie name (`JSESSIONID`, `PHPSESSID`, `ASPSESSIONID…`,
//! `ASP.NET_SessionId`) used as a query, form or JSON key, which an API never asks for,
//! and a value that sets a cookie (`.cookie=…;expires=`, `<meta http-equiv=set-cookie`).
//! Generic names (`session_id`, `sid`) are left alone: APIs use them for their own ids.

use super::{Category::Session, Detector, Hit, PatternDef, RuleInfo, Severity::*, Subject, p};
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

/// Session cookie names of server frameworks (compared ASCII case-insensitively; the
/// `aspsessionid` family carries a random suffix).
const FRAMEWORK_SESSION_NAMES: &[&str] = &["jsessionid", "phpsessid", "asp.net_sessionid"];

/// Whether `key` names a framework session cookie.
fn is_framework_session_name(key: &str) -> bool {
    let key = key.trim();
    FRAMEWORK_SESSION_NAMES
        .iter()
        .any(|n| key.eq_ignore_ascii_case(n))
        || key
            .get(..12)
            .is_some_and(|p| p.eq_ignore_ascii_case("aspsessionid"))
}

/// Flags a framework session cookie name used as a parameter or JSON key
/// (`?jsessionid=…`, `{"PHPSESSID": …}`): the way a fixation link plants an id.
#[derive(Debug, Default)]
pub struct SessionKeyDetector;

impl Detector for SessionKeyDetector {
    fn rules(&self) -> &'static [RuleInfo] {
        &[SESSION_KEY]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        if subject.location.part.is_key() && is_framework_session_name(&subject.norm.decoded) {
            hits.push(Hit {
                rule: SESSION_KEY,
                variant: Decoded,
                span: (0, subject.norm.decoded.len()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_framework_session_name;

    #[test]
    fn framework_names_only() {
        assert!(is_framework_session_name("JSESSIONID"));
        assert!(is_framework_session_name("ASPSESSIONIDQQGGGNCU"));
        assert!(!is_framework_session_name("session_id"));
        assert!(!is_framework_session_name("aspsession"));
    }
}
