//! Scope and role requirements: all-of and any-of sets, per route and per method.

use std::collections::HashMap;

use http::Method;
use portcullis_config::{AuthorizeSpec, RequirementSpec};

/// A compiled set requirement.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Requirement {
    all_of: Vec<String>,
    any_of: Vec<String>,
}

impl Requirement {
    /// From the config form.
    pub fn compile(spec: Option<&RequirementSpec>) -> Self {
        spec.map(|s| Self {
            all_of: s.all_of.clone(),
            any_of: s.any_of.clone(),
        })
        .unwrap_or_default()
    }

    /// Whether `held` satisfies the requirement.
    pub fn satisfied_by(&self, held: &[String]) -> bool {
        self.all_of.iter().all(|r| held.contains(r))
            && (self.any_of.is_empty() || self.any_of.iter().any(|r| held.contains(r)))
    }

    /// No constraint at all.
    pub fn is_empty(&self) -> bool {
        self.all_of.is_empty() && self.any_of.is_empty()
    }
}

/// Scopes and roles for one request: the route's plus its method's.
#[derive(Clone, Debug, Default)]
pub struct Requirements {
    scopes: Requirement,
    roles: Requirement,
    per_method: HashMap<Method, (Requirement, Requirement)>,
}

/// Why a caller was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// A required scope is missing.
    Scope,
    /// A required role is missing.
    Role,
}

impl Requirements {
    /// Compiles the scope and role parts of an authorize block.
    pub fn compile(spec: &AuthorizeSpec) -> Self {
        let per_method = spec
            .methods
            .iter()
            .filter_map(|(m, r)| {
                let method = Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok()?;
                Some((
                    method,
                    (
                        Requirement::compile(r.scopes.as_ref()),
                        Requirement::compile(r.roles.as_ref()),
                    ),
                ))
            })
            .collect();
        Self {
            scopes: Requirement::compile(spec.scopes.as_ref()),
            roles: Requirement::compile(spec.roles.as_ref()),
            per_method,
        }
    }

    /// Checks a caller holding `scopes` and `roles` calling with `method`. HEAD is held to
    /// GET's requirements, since it reads the same thing.
    pub fn check(
        &self,
        method: &Method,
        scopes: &[String],
        roles: &[String],
    ) -> Result<(), Missing> {
        if !self.scopes.satisfied_by(scopes) {
            return Err(Missing::Scope);
        }
        if !self.roles.satisfied_by(roles) {
            return Err(Missing::Role);
        }
        let method = if method == Method::HEAD && !self.per_method.contains_key(&Method::HEAD) {
            &Method::GET
        } else {
            method
        };
        if let Some((s, r)) = self.per_method.get(method) {
            if !s.satisfied_by(scopes) {
                return Err(Missing::Scope);
            }
            if !r.satisfied_by(roles) {
                return Err(Missing::Role);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn all_of_and_any_of() {
        let r = Requirement {
            all_of: v(&["a", "b"]),
            any_of: v(&["x", "y"]),
        };
        assert!(r.satisfied_by(&v(&["a", "b", "y"])));
        assert!(!r.satisfied_by(&v(&["a", "b"])));
        assert!(!r.satisfied_by(&v(&["a", "x"])));
        assert!(Requirement::default().satisfied_by(&[]));
    }
}
