//! Checks of the access-control blocks of a route: `authorize`, `rate_limits`, `quotas`,
//! `concurrency`.

use super::Sink;
use crate::spec::{PoliciesSpec, RequirementSpec, RouteSpec};
use crate::{KeyPart, parse_key, parse_rate};

pub(super) fn route_access(
    s: &mut Sink<'_>,
    i: usize,
    r: &RouteSpec,
    policies: Option<&PoliciesSpec>,
    tiers: &[&str],
) {
    let authenticated = r.auth.is_some();
    match &r.authorize {
        None if authenticated => s.error(
            format!("routes[{i}].auth"),
            "least privilege: an authenticated route needs an `authorize` block naming scopes or roles, or `authorize: { any_authenticated: true }`",
        ),
        None => {}
        Some(_) if !authenticated => s.error(
            format!("routes[{i}].authorize"),
            "authorization needs an authenticated caller: add an `auth` block",
        ),
        Some(a) => {
            let names_something = requirement_named(a.scopes.as_ref())
                || requirement_named(a.roles.as_ref())
                || a.owner.is_some()
                || a.policy
                || a.methods.values().any(|m| {
                    requirement_named(m.scopes.as_ref()) || requirement_named(m.roles.as_ref())
                });
            if !a.any_authenticated && !names_something {
                s.error(
                    format!("routes[{i}].authorize"),
                    "names no scope, role or owner rule; say `any_authenticated: true` to admit every authenticated caller",
                );
            }
            if a.policy && policies.is_none() {
                s.error(
                    format!("routes[{i}].authorize.policy"),
                    "no policies are configured: add a top-level `policies: { files: [...] }`",
                );
            }
            for m in a.methods.keys() {
                let upper = m.to_ascii_uppercase();
                if !r.methods.iter().any(|x| x.eq_ignore_ascii_case(&upper)) {
                    s.error_at_key(
                        format!("routes[{i}].authorize.methods.{m}"),
                        format!("`{m}` is not one of the route's methods"),
                    );
                }
            }
            if let Some(o) = &a.owner {
                let source_ok = o.value.strip_prefix("path:").is_some_and(|p| {
                    !p.is_empty() && (r.path.contains(&format!("{{{p}}}")) || r.path.contains(&format!("{{*{p}}}")))
                }) || o.value.strip_prefix("query:").is_some_and(|q| !q.is_empty())
                    || o.value.strip_prefix("body:").is_some_and(|b| b.starts_with('/'));
                if !source_ok {
                    s.error(
                        format!("routes[{i}].authorize.owner.value"),
                        format!(
                            "`{}` must be `path:<a parameter of {}>`, `query:<name>` or `body:/<json pointer>`",
                            o.value, r.path
                        ),
                    );
                }
                if o.owner != "consumer_id"
                    && o.owner.strip_prefix("claim:").is_none_or(str::is_empty)
                {
                    s.error(
                        format!("routes[{i}].authorize.owner.owner"),
                        "must be `consumer_id` or `claim:<dotted path>`",
                    );
                }
            }
        }
    }
    for (j, l) in r.rate_limits.iter().enumerate() {
        let at = format!("routes[{i}].rate_limits[{j}]");
        if let Err(e) = parse_rate(&l.rate) {
            s.error(format!("{at}.rate"), e);
        }
        if l.burst == Some(0) {
            s.error(format!("{at}.burst"), "must be at least 1");
        }
        for tier in l.tiers.keys() {
            if !tiers.contains(&tier.as_str()) {
                s.error_at_key(
                    format!("{at}.tiers.{tier}"),
                    format!("no tier named `{tier}` (top-level `tiers`)"),
                );
            }
        }
        for (plan, p) in l.plans.iter().chain(l.tiers.iter()) {
            if let Err(e) = parse_rate(&p.rate) {
                s.error(format!("{at}.plans.{plan}.rate"), e);
            }
            if p.burst == Some(0) {
                s.error(format!("{at}.plans.{plan}.burst"), "must be at least 1");
            }
        }
        key_parts(s, &format!("{at}.key"), &l.key, authenticated);
        if let Some(t) = &l.throttle {
            if t.max_wait.get() > std::time::Duration::from_secs(60) {
                s.error(
                    format!("{at}.throttle.max_wait"),
                    "at most 60s: held requests hold a connection",
                );
            }
            if t.max_queue == 0 {
                s.error(format!("{at}.throttle.max_queue"), "must be at least 1");
            }
        }
    }
    for (j, q) in r.quotas.iter().enumerate() {
        let at = format!("routes[{i}].quotas[{j}]");
        key_parts(s, &format!("{at}.key"), &q.key, authenticated);
        for tier in q.tiers.keys() {
            if !tiers.contains(&tier.as_str()) {
                s.error_at_key(
                    format!("{at}.tiers.{tier}"),
                    format!("no tier named `{tier}` (top-level `tiers`)"),
                );
            }
        }
        if jiff::tz::TimeZone::get(&q.time_zone).is_err() {
            s.error(
                format!("{at}.time_zone"),
                format!("`{}` is not a known IANA time zone", q.time_zone),
            );
        }
        if q.key.is_empty() && !authenticated {
            s.error(
                format!("{at}.key"),
                "a public route has no consumer: name a key such as `[ip]`",
            );
        }
    }
    if let Some(c) = &r.concurrency {
        key_parts(
            s,
            &format!("routes[{i}].concurrency.key"),
            &c.key,
            authenticated,
        );
        if c.max_in_flight == 0 {
            s.error(
                format!("routes[{i}].concurrency.max_in_flight"),
                "must be at least 1",
            );
        }
    }
}

fn requirement_named(r: Option<&RequirementSpec>) -> bool {
    r.is_some_and(|r| !r.all_of.is_empty() || !r.any_of.is_empty())
}

fn key_parts(s: &mut Sink<'_>, at: &str, parts: &[String], authenticated: bool) {
    for (k, part) in parts.iter().enumerate() {
        match parse_key(part) {
            Err(e) => s.error(format!("{at}[{k}]"), e),
            Ok(KeyPart::Consumer | KeyPart::Credential) if !authenticated => s.error(
                format!("{at}[{k}]"),
                format!("`{part}` needs an authenticated route"),
            ),
            Ok(_) => {}
        }
    }
}

pub(super) fn policies(s: &mut Sink<'_>, p: &PoliciesSpec) {
    if p.files.is_empty() {
        s.error(
            "policies.files".into(),
            "name at least one Cedar policy file",
        );
    }
    for (i, f) in p.files.iter().enumerate() {
        if !f.is_file() {
            s.error(
                format!("policies.files[{i}]"),
                format!(
                    "file `{}` does not exist (relative paths are resolved against the config file's directory)",
                    f.display()
                ),
            );
        }
    }
    for (i, h) in p.context_headers.iter().enumerate() {
        if http::HeaderName::from_bytes(h.as_bytes()).is_err() {
            s.error(
                format!("policies.context_headers[{i}]"),
                format!("`{h}` is not a header name"),
            );
        }
    }
    for name in p.claims.keys() {
        if name.is_empty()
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            s.error_at_key(
                format!("policies.claims.{name}"),
                "claim names exposed to policies are identifiers: letters, digits and `_`",
            );
        }
    }
    if jiff::tz::TimeZone::get(&p.time_zone).is_err() {
        s.error(
            "policies.time_zone".into(),
            format!("`{}` is not a known IANA time zone", p.time_zone),
        );
    }
}

pub(super) fn route_contract(s: &mut Sink<'_>, i: usize, r: &RouteSpec) {
    if let Some(o) = &r.openapi {
        if !o.file.is_file() {
            s.error(
                format!("routes[{i}].openapi.file"),
                format!(
                    "file `{}` does not exist (relative paths are resolved against the config file's directory)",
                    o.file.display()
                ),
            );
        }
        if o.validate_responses {
            s.error(
                format!("routes[{i}].openapi.validate_responses"),
                "response validation is not implemented yet; remove it or set false",
            );
        }
    }
    let b = &r.body_limits;
    for (name, v) in [
        ("max_json_depth", b.max_json_depth),
        ("max_json_keys", b.max_json_keys),
        ("max_string_length", b.max_string_length),
    ] {
        if v == 0 {
            s.error(
                format!("routes[{i}].body_limits.{name}"),
                "must be at least 1",
            );
        }
    }
}

pub(super) fn tiers(s: &mut Sink<'_>, spec: &crate::ConfigSpec) {
    let mut seen = std::collections::HashSet::new();
    for (i, t) in spec.tiers.iter().enumerate() {
        if t.name.is_empty() || !seen.insert(t.name.as_str()) {
            s.error(
                format!("tiers[{i}].name"),
                "tier names must be unique and not empty",
            );
        }
        for (j, f) in t.ip_files.iter().enumerate() {
            if !f.is_file() {
                s.error(
                    format!("tiers[{i}].ip_files[{j}]"),
                    format!(
                        "file `{}` does not exist (relative paths are resolved against the config file's directory)",
                        f.display()
                    ),
                );
            }
        }
        for (j, c) in t.countries.iter().enumerate() {
            if portcullis_country(c).is_none() {
                s.error(
                    format!("tiers[{i}].countries[{j}]"),
                    format!("`{c}` is not a two-letter country code"),
                );
            }
        }
        if !t.countries.is_empty() && spec.geoip.is_none() {
            s.error(
                format!("tiers[{i}].countries"),
                "countries need a GeoIP database: add `geoip: { database: ... }`",
            );
        }
        if t.ip_files.is_empty() && t.networks.is_empty() && t.countries.is_empty() {
            s.error(format!("tiers[{i}]"), "names no network, file or country");
        }
    }
    if let Some(g) = &spec.geoip
        && !g.database.is_file()
    {
        s.error(
            "geoip.database".into(),
            format!("file `{}` does not exist", g.database.display()),
        );
    }
}

fn portcullis_country(code: &str) -> Option<()> {
    (code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic())).then_some(())
}

pub(super) fn admin(s: &mut Sink<'_>, spec: &crate::ConfigSpec) {
    if let Some(h) = &spec.admin.token_sha256
        && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        s.error(
            "admin.token_sha256".into(),
            "must be 64 hex digits (the SHA-256 of the token; `portcullis admin-token` prints both)",
        );
    }
    let client_auth = spec
        .admin
        .tls
        .as_ref()
        .is_some_and(|t| t.client_auth.is_some());
    if spec.admin.require_token_and_certificate
        && (spec.admin.token_sha256.is_none() || !client_auth)
    {
        s.error(
            "admin.require_token_and_certificate".into(),
            "needs both admin.token_sha256 and admin.tls.client_auth",
        );
    }
}
