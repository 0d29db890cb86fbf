//! Host + path + header + method → route.
//!
//! Paths are matched with `matchit` (a radix tree: cost grows with path length, not with the
//! number of routes). Several routes may share one path pattern and differ by
//! `match_headers` (API versions by header) — they are tried in file order. The outcome says
//! which route serves the request, or why none does (404, or 405 with the methods that would
//! be served).

use std::collections::HashMap;

use http::{HeaderMap, HeaderValue, Method};

/// What the router needs to know about a route.
#[derive(Debug, Clone)]
pub struct RouteKey {
    /// Exact host names (lowercase, no port); empty = any host.
    pub hosts: Vec<String>,
    /// The configured path.
    pub path: String,
    /// Methods served.
    pub methods: Vec<Method>,
    /// Header conditions (lowercase names).
    pub match_headers: Vec<(http::HeaderName, HeaderValue)>,
}

/// The router of one config version. Values are indexes into the route table.
#[derive(Default)]
pub struct Router {
    by_host: HashMap<String, matchit::Router<Vec<usize>>>,
    any_host: matchit::Router<Vec<usize>>,
    keys: Vec<RouteKey>,
}

/// The routing decision.
#[derive(Debug, PartialEq, Eq)]
pub enum RouteMatch {
    /// Route index and path parameters.
    Found(usize, Vec<(String, String)>),
    /// No route for this host and path (or no route whose header conditions hold).
    NotFound,
    /// Routes exist for the path, none serves the method; the `Allow` value.
    MethodNotAllowed(HeaderValue),
}

/// A route could not be added (conflicting templates).
#[derive(Debug, thiserror::Error)]
#[error("route `{route}`: path `{path}` conflicts with another route ({detail})")]
pub struct RouterError {
    /// The route id.
    pub route: String,
    /// Its path.
    pub path: String,
    /// matchit's explanation.
    pub detail: String,
}

/// The matchit patterns a configured path expands to: an exact path is itself; a prefix
/// (`/echo/`) matches itself and everything below; a template is itself.
fn patterns(path: &str) -> Vec<String> {
    if path.ends_with('/') && !path.contains('{') {
        vec![path.to_string(), format!("{path}{{*__portcullis_rest}}")]
    } else {
        vec![path.to_string()]
    }
}

impl Router {
    /// Builds the router. `ids[i]` names route `i` in errors.
    pub fn build(keys: Vec<RouteKey>, ids: &[String]) -> Result<Self, RouterError> {
        // Group route indexes by (host, pattern) in file order, then insert each group once.
        let mut groups: Vec<(Option<String>, String, Vec<usize>)> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let hosts: Vec<Option<String>> = if key.hosts.is_empty() {
                vec![None]
            } else {
                key.hosts
                    .iter()
                    .map(|h| Some(h.to_ascii_lowercase()))
                    .collect()
            };
            for host in hosts {
                for pattern in patterns(&key.path) {
                    match groups
                        .iter_mut()
                        .find(|(h, p, _)| *h == host && *p == pattern)
                    {
                        Some((_, _, v)) => v.push(i),
                        None => groups.push((host.clone(), pattern, vec![i])),
                    }
                }
            }
        }
        let mut router = Router {
            keys,
            ..Router::default()
        };
        for (host, pattern, indexes) in groups {
            let first = indexes.first().copied().unwrap_or(0);
            let target = match host {
                Some(h) => router.by_host.entry(h).or_default(),
                None => &mut router.any_host,
            };
            target
                .insert(pattern.clone(), indexes)
                .map_err(|e| RouterError {
                    route: ids.get(first).cloned().unwrap_or_default(),
                    path: pattern,
                    detail: e.to_string(),
                })?;
        }
        Ok(router)
    }

    /// Routes a request. `host` is lowercase without port.
    pub fn route(
        &self,
        host: Option<&str>,
        path: &str,
        method: &Method,
        headers: &HeaderMap,
    ) -> RouteMatch {
        let found = host
            .and_then(|h| self.by_host.get(h))
            .and_then(|r| r.at(path).ok())
            .or_else(|| self.any_host.at(path).ok());
        let Some(m) = found else {
            return RouteMatch::NotFound;
        };
        let mut allow: Vec<&Method> = Vec::new();
        let mut any_candidate = false;
        for &i in m.value {
            let Some(key) = self.keys.get(i) else {
                continue;
            };
            let headers_hold = key
                .match_headers
                .iter()
                .all(|(name, value)| headers.get(name) == Some(value));
            if !headers_hold {
                continue;
            }
            any_candidate = true;
            // HEAD is GET without a body (RFC 9110 §9.3.2): served wherever GET is.
            let serves = key.methods.contains(method)
                || (*method == Method::HEAD && key.methods.contains(&Method::GET));
            if serves {
                let params = m
                    .params
                    .iter()
                    .filter(|(k, _)| *k != "__portcullis_rest")
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                return RouteMatch::Found(i, params);
            }
            for m in &key.methods {
                if !allow.contains(&m) {
                    allow.push(m);
                }
                if *m == Method::GET && !allow.contains(&&Method::HEAD) {
                    allow.push(&Method::HEAD);
                }
            }
        }
        if !any_candidate {
            return RouteMatch::NotFound;
        }
        let text: Vec<&str> = allow.iter().map(|m| m.as_str()).collect();
        RouteMatch::MethodNotAllowed(
            HeaderValue::from_str(&text.join(", ")).unwrap_or(HeaderValue::from_static("")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(hosts: &[&str], path: &str, methods: &[&str], mh: &[(&str, &str)]) -> RouteKey {
        RouteKey {
            hosts: hosts.iter().map(|s| s.to_string()).collect(),
            path: path.into(),
            methods: methods.iter().map(|m| m.parse().unwrap()).collect(),
            match_headers: mh
                .iter()
                .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
                .collect(),
        }
    }

    fn router() -> Router {
        let keys = vec![
            key(&[], "/echo/", &["GET", "POST"], &[]),
            key(&[], "/users/{id}", &["GET"], &[]),
            key(&[], "/status", &["GET"], &[]),
            key(&["api.example.com"], "/status", &["GET", "DELETE"], &[]),
            key(&[], "/api/", &["GET"], &[("x-api-version", "2")]),
            key(&[], "/api/", &["GET"], &[]),
            key(&[], "/v1/", &["GET"], &[]),
            key(&[], "/v2/", &["GET"], &[]),
        ];
        let ids: Vec<String> = (0..keys.len()).map(|i| format!("r{i}")).collect();
        Router::build(keys, &ids).unwrap()
    }

    fn get(
        r: &Router,
        host: Option<&str>,
        path: &str,
        method: &str,
        h: &[(&str, &str)],
    ) -> RouteMatch {
        let mut headers = HeaderMap::new();
        for (k, v) in h {
            headers.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        r.route(host, path, &method.parse().unwrap(), &headers)
    }

    #[test]
    fn prefix_exact_and_template() {
        let r = router();
        assert_eq!(
            get(&r, None, "/echo/", "GET", &[]),
            RouteMatch::Found(0, vec![])
        );
        assert_eq!(
            get(&r, None, "/echo/a/b", "POST", &[]),
            RouteMatch::Found(0, vec![])
        );
        assert_eq!(get(&r, None, "/echo", "GET", &[]), RouteMatch::NotFound);
        assert_eq!(
            get(&r, None, "/users/42", "GET", &[]),
            RouteMatch::Found(1, vec![("id".into(), "42".into())])
        );
        assert_eq!(
            get(&r, None, "/users/42/x", "GET", &[]),
            RouteMatch::NotFound
        );
        assert_eq!(
            get(&r, None, "/status", "GET", &[]),
            RouteMatch::Found(2, vec![])
        );
        assert_eq!(get(&r, None, "/nope", "GET", &[]), RouteMatch::NotFound);
    }

    #[test]
    fn methods_not_served_get_405_with_allow() {
        let r = router();
        assert_eq!(
            get(&r, None, "/echo/x", "TRACE", &[]),
            RouteMatch::MethodNotAllowed("GET, HEAD, POST".parse().unwrap())
        );
        assert_eq!(
            get(&r, None, "/echo/x", "FOO", &[]),
            RouteMatch::MethodNotAllowed("GET, HEAD, POST".parse().unwrap())
        );
        assert_eq!(
            get(&r, None, "/status", "DELETE", &[]),
            RouteMatch::MethodNotAllowed("GET, HEAD".parse().unwrap())
        );
        // HEAD is served wherever GET is.
        assert_eq!(
            get(&r, None, "/status", "HEAD", &[]),
            RouteMatch::Found(2, vec![])
        );
    }

    #[test]
    fn hosts_take_precedence() {
        let r = router();
        assert_eq!(
            get(&r, Some("api.example.com"), "/status", "DELETE", &[]),
            RouteMatch::Found(3, vec![])
        );
        assert_eq!(
            get(&r, Some("api.example.com"), "/echo/", "GET", &[]),
            RouteMatch::Found(0, vec![])
        );
        assert_eq!(
            get(&r, Some("other"), "/status", "GET", &[]),
            RouteMatch::Found(2, vec![])
        );
    }

    #[test]
    fn versions_by_header_and_by_path() {
        let r = router();
        assert_eq!(
            get(&r, None, "/api/x", "GET", &[("x-api-version", "2")]),
            RouteMatch::Found(4, vec![])
        );
        assert_eq!(
            get(&r, None, "/api/x", "GET", &[("x-api-version", "1")]),
            RouteMatch::Found(5, vec![])
        );
        assert_eq!(
            get(&r, None, "/api/x", "GET", &[]),
            RouteMatch::Found(5, vec![])
        );
        assert_eq!(
            get(&r, None, "/v1/x", "GET", &[]),
            RouteMatch::Found(6, vec![])
        );
        assert_eq!(
            get(&r, None, "/v2/x", "GET", &[]),
            RouteMatch::Found(7, vec![])
        );
    }

    #[test]
    fn conflicting_templates_are_errors() {
        let keys = vec![
            key(&[], "/a/{x}", &["GET"], &[]),
            key(&[], "/a/{y}", &["GET"], &[]),
        ];
        let ids = vec!["one".to_string(), "two".to_string()];
        assert!(Router::build(keys, &ids).is_err());
    }
}
