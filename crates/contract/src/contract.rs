//! Loading an OpenAPI document into a [`Contract`]: operations, compiled schemas and the
//! (method, path) matcher.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use http::Method;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::errors::LoadError;
use crate::load::{Docs, FileId, join_pointer};
use crate::operation::{
    Body, Kind, Media, Operation, OperationId, Param, ParamIn, is_constrained_schema,
};
use crate::schema::SchemaSet;
use crate::spec::OpenApiSpec;

/// Methods an OpenAPI path item may declare, in the order `Allow` lists them.
const METHODS: [(&str, Method); 8] = [
    ("get", Method::GET),
    ("head", Method::HEAD),
    ("post", Method::POST),
    ("put", Method::PUT),
    ("patch", Method::PATCH),
    ("delete", Method::DELETE),
    ("options", Method::OPTIONS),
    ("trace", Method::TRACE),
];
/// Deepest body schema nesting analysed for constrained locations.
const MAX_CONSTRAINT_DEPTH: usize = 12;

/// One path template and its operations.
#[derive(Debug)]
struct PathEntry {
    ops: Vec<(Method, OperationId)>,
    allow: String,
}

/// A loaded, compiled OpenAPI document: the positive model requests are checked against.
/// Built once per config version and shared by every request (`Arc<Contract>`).
pub struct Contract {
    pub(crate) file: PathBuf,
    pub(crate) strict: bool,
    base_path: String,
    router: matchit::Router<usize>,
    paths: Vec<PathEntry>,
    pub(crate) operations: Vec<Operation>,
}

impl std::fmt::Debug for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contract")
            .field("file", &self.file)
            .field("strict", &self.strict)
            .field("base_path", &self.base_path)
            .field("operations", &self.operations.len())
            .finish()
    }
}

/// The result of matching a request's method and path against the contract.
#[derive(Debug)]
pub enum Lookup<'a> {
    /// The operation, with the decoded path parameters.
    Found(Matched<'a>),
    /// No path template of the spec matches (outside the base path, or unknown path).
    NotInContract,
    /// The path exists, the method does not: answer 405 with this `Allow` value.
    MethodNotAllowed {
        /// Comma-separated declared methods.
        allow: String,
    },
}

/// A matched operation.
#[derive(Debug)]
pub struct Matched<'a> {
    /// Its id, to find it again in the body phase.
    pub id: OperationId,
    /// The operation.
    pub operation: &'a Operation,
    /// Percent-decoded path parameters.
    pub path_params: Vec<(String, String)>,
}

// === impl Contract ===

impl Contract {
    /// Loads and compiles the spec named by the config.
    pub fn load(spec: &OpenApiSpec) -> Result<Self, LoadError> {
        if spec.validate_responses {
            return Err(LoadError::Invalid {
                file: spec.file.clone(),
                pointer: String::new(),
                reason: "validate_responses is not implemented yet; set it to false".into(),
            });
        }
        let docs = Docs::load_root(&spec.file)?;
        let file = spec.file.clone();
        let invalid = |pointer: &str, reason: &str| LoadError::Invalid {
            file: file.clone(),
            pointer: pointer.to_owned(),
            reason: reason.to_owned(),
        };
        let version = docs
            .root()
            .get("openapi")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let openapi_30 = if version.starts_with("3.0") {
            true
        } else if version.starts_with("3.1") {
            false
        } else {
            return Err(invalid(
                "/openapi",
                "only OpenAPI 3.0.x and 3.1.x are supported",
            ));
        };
        let base_path = match &spec.base_path {
            Some(b) => normalize_base(b),
            None => server_base_path(docs.root()),
        };
        let templates: Vec<String> = match docs.root().get("paths") {
            Some(Value::Object(m)) => m.keys().cloned().collect(),
            Some(_) => return Err(invalid("/paths", "must be an object")),
            None => Vec::new(),
        };
        let mut builder = Builder {
            docs,
            schemas: SchemaSet::new(spec.strict, openapi_30),
        };
        let mut router = matchit::Router::new();
        let mut paths = Vec::new();
        let mut operations = Vec::new();
        for template in templates {
            let item_ptr = join_pointer("/paths", &template);
            let (f, p) = builder.docs.deref(0, item_ptr)?;
            let mut ops = Vec::new();
            for (key, method) in &METHODS {
                if builder
                    .docs
                    .get(f, &p)
                    .and_then(|item| item.get(*key))
                    .is_none()
                {
                    continue;
                }
                let id = OperationId(operations.len());
                operations.push(builder.operation(f, &p, key, method.clone(), &template)?);
                ops.push((method.clone(), id));
            }
            let mut allow: Vec<&str> = ops.iter().map(|(m, _)| m.as_str()).collect();
            if allow.contains(&"GET") && !allow.contains(&"HEAD") {
                allow.insert(1, "HEAD");
            }
            let allow = allow.join(", ");
            router
                .insert(template.clone(), paths.len())
                .map_err(|e| LoadError::Route {
                    file: file.clone(),
                    path: template.clone(),
                    reason: e.to_string(),
                })?;
            paths.push(PathEntry { ops, allow });
        }
        Ok(Self {
            file,
            strict: spec.strict,
            base_path,
            router,
            paths,
            operations,
        })
    }

    /// Whether unknown parameters, fields, bodies and paths are refused.
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// The spec file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The base path stripped from request paths before matching (`""` for none).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// Every operation, indexed by [`OperationId`].
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The operation with this id.
    pub fn operation(&self, id: OperationId) -> Option<&Operation> {
        self.operations.get(id.0)
    }

    /// The constrained request locations of an operation (see
    /// [`Operation::constrained_locations`]), as a predicate for the firewall's detectors.
    pub fn constrained_locations(&self, id: OperationId) -> impl Fn(&str) -> bool + '_ {
        let op = self.operation(id);
        move |loc| op.is_some_and(|op| op.is_constrained(loc))
    }

    /// Matches a method and a request path (without query) to an operation. Literal segments
    /// win over templates (`/pets/mine` before `/pets/{id}`). `HEAD` falls back to `GET`.
    pub fn find(&self, method: &Method, path: &str) -> Lookup<'_> {
        let Some(rest) = strip_base(path, &self.base_path) else {
            return Lookup::NotInContract;
        };
        let Ok(m) = self.router.at(rest) else {
            return Lookup::NotInContract;
        };
        let Some(entry) = self.paths.get(*m.value) else {
            return Lookup::NotInContract;
        };
        let found = entry.ops.iter().find(|(om, _)| om == method).or_else(|| {
            (method == Method::HEAD)
                .then(|| entry.ops.iter().find(|(om, _)| om == Method::GET))
                .flatten()
        });
        let Some((_, id)) = found else {
            return Lookup::MethodNotAllowed {
                allow: entry.allow.clone(),
            };
        };
        let Some(operation) = self.operations.get(id.0) else {
            return Lookup::NotInContract;
        };
        let path_params = m
            .params
            .iter()
            .map(|(k, v)| {
                (
                    k.to_owned(),
                    percent_decode_str(v).decode_utf8_lossy().into_owned(),
                )
            })
            .collect();
        Lookup::Found(Matched {
            id: *id,
            operation,
            path_params,
        })
    }
}

/// Loading state: the files and the shared schema definitions.
struct Builder {
    docs: Docs,
    schemas: SchemaSet,
}

impl Builder {
    fn operation(
        &mut self,
        item_file: FileId,
        item_ptr: &str,
        key: &str,
        method: Method,
        template: &str,
    ) -> Result<Operation, LoadError> {
        let op_ptr = join_pointer(item_ptr, key);
        let op = self
            .docs
            .get(item_file, &op_ptr)
            .cloned()
            .unwrap_or_default();
        if !op.is_object() {
            return Err(LoadError::Invalid {
                file: self.docs.shown(item_file),
                pointer: op_ptr,
                reason: "operation must be an object".into(),
            });
        }
        // Path-level parameters first; operation-level ones override by (name, in).
        let mut params: Vec<Param> = Vec::new();
        let mut constrained = BTreeSet::new();
        for list_ptr in [
            join_pointer(item_ptr, "parameters"),
            join_pointer(&op_ptr, "parameters"),
        ] {
            let count = self
                .docs
                .get(item_file, &list_ptr)
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for i in 0..count {
                let Some((param, is_constrained)) =
                    self.param(item_file, join_pointer(&list_ptr, &i.to_string()))?
                else {
                    continue;
                };
                let loc = format!("{}:{}", param.location.as_str(), param.name);
                if is_constrained {
                    constrained.insert(loc);
                } else {
                    constrained.remove(&loc);
                }
                params.retain(|p| !(p.name == param.name && p.location == param.location));
                params.push(param);
            }
        }
        let body = match op.get("requestBody") {
            Some(_) => Some(self.body(
                item_file,
                join_pointer(&op_ptr, "requestBody"),
                &mut constrained,
            )?),
            None => None,
        };
        Ok(Operation {
            method,
            template: template.to_owned(),
            operation_id: op
                .get("operationId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            params,
            body,
            constrained,
        })
    }

    /// One parameter, or `None` for header parameters OpenAPI says to ignore (`Accept`,
    /// `Content-Type`, `Authorization`: described elsewhere in the spec).
    fn param(&mut self, file: FileId, ptr: String) -> Result<Option<(Param, bool)>, LoadError> {
        let (f, p) = self.docs.deref(file, ptr)?;
        let obj = self.docs.get(f, &p).cloned().unwrap_or_default();
        let invalid = |reason: &str| LoadError::Invalid {
            file: self.docs.shown(f),
            pointer: p.clone(),
            reason: reason.to_owned(),
        };
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("parameter without a name"))?
            .to_owned();
        let location = match obj.get("in").and_then(Value::as_str) {
            Some("path") => ParamIn::Path,
            Some("query") => ParamIn::Query,
            Some("header") => ParamIn::Header,
            Some("cookie") => ParamIn::Cookie,
            _ => {
                return Err(invalid(
                    "parameter `in` must be path, query, header or cookie",
                ));
            }
        };
        let name = if location == ParamIn::Header {
            name.to_ascii_lowercase()
        } else {
            name
        };
        if location == ParamIn::Header
            && matches!(name.as_str(), "accept" | "content-type" | "authorization")
        {
            return Ok(None);
        }
        let required = location == ParamIn::Path
            || obj
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false);
        let explode = obj
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(matches!(location, ParamIn::Query | ParamIn::Cookie));
        // A parameter has `schema`, or `content` with one media type holding the schema.
        let schema_ptr = if obj.get("schema").is_some() {
            Some(join_pointer(&p, "schema"))
        } else {
            obj.get("content")
                .and_then(Value::as_object)
                .and_then(|c| c.iter().next())
                .filter(|(_, m)| m.get("schema").is_some())
                .map(|(media, _)| {
                    join_pointer(&join_pointer(&join_pointer(&p, "content"), media), "schema")
                })
        };
        let (schema, kind, constrained) = match schema_ptr {
            Some(sp) => {
                let converted = self.schemas.convert(&mut self.docs, f, &sp)?;
                let compiled = self.compile(f, &sp, &converted)?;
                let kind = kind_of(&self.schemas, &converted, 0);
                let constrained = self.is_constrained(&converted);
                (Some(compiled), kind, constrained)
            }
            None => (None, Kind::String, false),
        };
        Ok(Some((
            Param {
                name,
                location,
                required,
                explode,
                kind,
                schema,
            },
            constrained,
        )))
    }

    fn body(
        &mut self,
        file: FileId,
        ptr: String,
        constrained: &mut BTreeSet<String>,
    ) -> Result<Body, LoadError> {
        let (f, p) = self.docs.deref(file, ptr)?;
        let obj = self.docs.get(f, &p).cloned().unwrap_or_default();
        let required = obj
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let content_ptr = join_pointer(&p, "content");
        let mut media = Vec::new();
        if let Some(content) = obj.get("content").and_then(Value::as_object) {
            for (range, m) in content {
                let range_lc = range
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                let mut entry = Media {
                    range: range_lc.clone(),
                    schema: None,
                    form_kinds: Vec::new(),
                };
                if m.get("schema").is_some() {
                    let sp = join_pointer(&join_pointer(&content_ptr, range), "schema");
                    let converted = self.schemas.convert(&mut self.docs, f, &sp)?;
                    entry.schema = Some(self.compile(f, &sp, &converted)?);
                    let target = self.schemas.deref(&converted).clone();
                    if let Some(props) = target.get("properties").and_then(Value::as_object) {
                        entry.form_kinds = props
                            .iter()
                            .map(|(k, s)| (k.clone(), kind_of(&self.schemas, s, 0)))
                            .collect();
                    }
                    if crate::validate::is_json(&range_lc) {
                        self.collect_body_constraints(&converted, String::new(), constrained, 0);
                    }
                }
                media.push(entry);
            }
        }
        Ok(Body { required, media })
    }

    fn compile(
        &self,
        file: FileId,
        pointer: &str,
        converted: &Value,
    ) -> Result<std::sync::Arc<jsonschema::Validator>, LoadError> {
        self.schemas
            .compile(converted)
            .map_err(|reason| LoadError::Schema {
                file: self.docs.shown(file),
                pointer: pointer.to_owned(),
                reason,
            })
    }

    fn is_constrained(&self, schema: &Value) -> bool {
        let deref = |v: &Value| self.schemas.deref(v).clone();
        is_constrained_schema(schema, &deref)
    }

    fn collect_body_constraints(
        &self,
        schema: &Value,
        prefix: String,
        out: &mut BTreeSet<String>,
        depth: usize,
    ) {
        if depth > MAX_CONSTRAINT_DEPTH {
            return;
        }
        let s = self.schemas.deref(schema);
        if self.is_constrained(s) {
            out.insert(format!("body:{prefix}"));
            return;
        }
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (name, sub) in props {
                self.collect_body_constraints(sub, join_pointer(&prefix, name), out, depth + 1);
            }
        }
        if let Some(items) = s.get("items") {
            self.collect_body_constraints(items, format!("{prefix}/*"), out, depth + 1);
        }
        if let Some(Value::Array(members)) = s.get("allOf") {
            for m in members {
                self.collect_body_constraints(m, prefix.clone(), out, depth + 1);
            }
        }
    }
}

/// How values of a (converted) schema are coerced from strings.
pub(crate) fn kind_of(set: &SchemaSet, schema: &Value, depth: usize) -> Kind {
    let s = set.deref(schema);
    let ty = match s.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    };
    match ty {
        Some("integer") => Kind::Integer,
        Some("number") => Kind::Number,
        Some("boolean") => Kind::Boolean,
        Some("string") => Kind::String,
        Some("array") if depth < 4 => Kind::Array(Box::new(
            s.get("items")
                .map_or(Kind::String, |i| kind_of(set, i, depth + 1)),
        )),
        _ => Kind::Other,
    }
}

/// The path of the first `servers` URL (`https://api.example.com/v1` → `/v1`). URLs with
/// server variables in the path give no base path.
fn server_base_path(root: &Value) -> String {
    let Some(url) = root
        .get("servers")
        .and_then(Value::as_array)
        .and_then(|s| s.first())
        .and_then(|s| s.get("url"))
        .and_then(Value::as_str)
    else {
        return String::new();
    };
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| rest.get(i..).unwrap_or("")),
        None => url,
    };
    if path.contains('{') {
        return String::new();
    }
    normalize_base(path)
}

fn normalize_base(b: &str) -> String {
    let trimmed = b.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else if trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    }
}

fn strip_base<'a>(path: &'a str, base: &str) -> Option<&'a str> {
    if base.is_empty() {
        return Some(path);
    }
    let rest = path.strip_prefix(base)?;
    if rest.is_empty() {
        Some("/")
    } else if rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths() {
        let root = serde_json::json!({"servers": [{"url": "https://api.example.com/v1/"}]});
        assert_eq!(server_base_path(&root), "/v1");
        let root = serde_json::json!({"servers": [{"url": "/api"}]});
        assert_eq!(server_base_path(&root), "/api");
        let root = serde_json::json!({"servers": [{"url": "https://x.example"}]});
        assert_eq!(server_base_path(&root), "");
        assert_eq!(strip_base("/v1/pets", "/v1"), Some("/pets"));
        assert_eq!(strip_base("/v10/pets", "/v1"), None);
        assert_eq!(strip_base("/v1", "/v1"), Some("/"));
    }
}
