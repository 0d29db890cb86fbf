//! The object-level owner rule (against broken object-level authorization, BOLA): the object
//! a request names must belong to the caller.
//!
//! Where the object is named: a path parameter, a query parameter or a JSON body field.
//! Whom it must belong to: the consumer id, or a claim (a string, or a list the value must be
//! in — e.g. the projects a user belongs to).

use portcullis_config::OwnerRuleSpec;
use portcullis_core::Identity;
use serde_json::Value;

/// Where the owner value is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A path parameter of the route template.
    Path(String),
    /// A query parameter (percent-decoded; the first occurrence; several are refused).
    Query(String),
    /// A JSON pointer into the body.
    Body(String),
}

/// Whom it must belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The consumer id.
    ConsumerId,
    /// A claim at a dotted path.
    Claim(Vec<String>),
}

/// A compiled owner rule.
#[derive(Clone, Debug)]
pub struct OwnerRule {
    /// The value's source.
    pub source: Source,
    /// The attribute it must match.
    pub principal: Principal,
    /// Roles that bypass the rule.
    pub bypass_roles: Vec<String>,
}

impl OwnerRule {
    /// Compiles a validated rule; `None` if it is malformed (validation reports those).
    pub fn compile(spec: &OwnerRuleSpec) -> Option<Self> {
        let source = if let Some(p) = spec.value.strip_prefix("path:") {
            Source::Path(p.to_string())
        } else if let Some(q) = spec.value.strip_prefix("query:") {
            Source::Query(q.to_string())
        } else {
            Source::Body(spec.value.strip_prefix("body:")?.to_string())
        };
        let principal = if spec.owner == "consumer_id" {
            Principal::ConsumerId
        } else {
            let path = spec.owner.strip_prefix("claim:")?;
            Principal::Claim(path.split('.').map(str::to_string).collect())
        };
        Some(Self {
            source,
            principal,
            bypass_roles: spec.bypass_roles.clone(),
        })
    }

    /// The caller may skip the rule.
    pub fn bypassed_by(&self, identity: &Identity) -> bool {
        self.bypass_roles.iter().any(|r| identity.roles.contains(r))
    }

    /// Whether `value` (the object's owner as named in the request) belongs to `identity`.
    pub fn owns(&self, identity: &Identity, value: &str) -> bool {
        match &self.principal {
            Principal::ConsumerId => identity.consumer_id == value,
            Principal::Claim(path) => {
                let Some(claims) = identity.claims.as_deref() else {
                    return false;
                };
                let mut at = claims;
                for part in path {
                    match at.get(part) {
                        Some(next) => at = next,
                        None => return false,
                    }
                }
                match at {
                    Value::String(s) => s == value,
                    Value::Number(n) => n.to_string() == value,
                    Value::Array(items) => items.iter().any(|i| match i {
                        Value::String(s) => s == value,
                        Value::Number(n) => n.to_string() == value,
                        _ => false,
                    }),
                    _ => false,
                }
            }
        }
    }
}

/// A parameter named more than once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ambiguous;

/// The value of query parameter `name`: `Ok(None)` if absent, `Err` if given more than once
/// (parameter pollution would let the upstream read a different one than we checked).
pub fn query_value(query: Option<&str>, name: &str) -> Result<Option<String>, Ambiguous> {
    let mut found = None;
    for pair in query.unwrap_or("").split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode(k);
        if k == name {
            if found.is_some() {
                return Err(Ambiguous);
            }
            found = Some(decode(v));
        }
    }
    Ok(found)
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The string form of the body value at `pointer`: strings as they are, numbers in JSON form.
pub fn body_value(body: &[u8], pointer: &str) -> Option<String> {
    let doc: Value = serde_json::from_slice(body).ok()?;
    match doc.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn claims_lists_and_pollution() {
        let rule = OwnerRule::compile(&OwnerRuleSpec {
            value: "query:project".into(),
            owner: "claim:org.projects".into(),
            bypass_roles: vec![],
        })
        .unwrap();
        let id = Identity {
            consumer_id: "u1".into(),
            claims: Some(Arc::new(
                serde_json::json!({"org": {"projects": ["p1", 7]}}),
            )),
            ..Default::default()
        };
        assert!(rule.owns(&id, "p1"));
        assert!(rule.owns(&id, "7"));
        assert!(!rule.owns(&id, "p2"));
        assert_eq!(
            query_value(Some("a=1&project=p%31"), "project"),
            Ok(Some("p1".into()))
        );
        assert_eq!(
            query_value(Some("project=p1&project=p2"), "project"),
            Err(Ambiguous)
        );
        assert_eq!(body_value(br#"{"o":{"id":5}}"#, "/o/id"), Some("5".into()));
    }
}
