//! Turning OpenAPI schema objects into compiled JSON Schema (2020-12) validators.
//!
//! Every schema is rewritten once at load time:
//! - `$ref`s (in-document or to other files) become `#/$defs/<key>` references into one
//!   shared definitions map, so cycles are just recursive references and no remote or file
//!   lookup ever happens inside the JSON Schema engine (it runs offline);
//! - OpenAPI 3.0 dialect becomes 2020-12: `nullable`, boolean `exclusiveMinimum/Maximum`,
//!   array `items`; `example`, `discriminator`, `xml`, `externalDocs` are dropped;
//! - in strict mode, object schemas that declare `properties` but say nothing about extra
//!   members are closed (`additionalProperties: false`, or `unevaluatedProperties: false` when
//!   they compose others with `allOf`/`anyOf`/`oneOf`), which refuses mass assignment.
//!   Members of a composition stay open ("open" variants of definitions), otherwise
//!   `allOf: [A, B]` could never validate. Strict mode also refuses `readOnly` members
//!   (their schema becomes `false`), and `required` never lists them: every schema compiled
//!   here validates requests.

use std::collections::HashMap;
use std::sync::Arc;

use jsonschema::{Draft, PatternOptions, Validator};
use serde_json::{Map, Value, json};

use crate::errors::LoadError;
use crate::load::{Docs, FileId, join_pointer};

/// Prefix of generated definition keys, unlikely to clash with a 3.1 schema's own `$defs`.
const DEF_PREFIX: &str = "__pc";
/// Deepest schema nesting the rewriter follows (specs are trusted, but bounded anyway).
const MAX_SCHEMA_DEPTH: usize = 256;

/// Whether the top level of a definition is closed (strict) or left open (composition member).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Variant {
    Closed,
    Open,
}

/// The shared definitions of one contract, and the settings of the rewrite.
pub(crate) struct SchemaSet {
    strict: bool,
    openapi_30: bool,
    defs: Map<String, Value>,
    keys: HashMap<(FileId, String, Variant), String>,
    queue: Vec<(FileId, String, Variant, String)>,
}

impl SchemaSet {
    pub(crate) fn new(strict: bool, openapi_30: bool) -> Self {
        Self {
            strict,
            openapi_30,
            defs: Map::new(),
            keys: HashMap::new(),
            queue: Vec::new(),
        }
    }

    /// Rewrites the schema at `pointer` in `file` (and, transitively, everything it
    /// references) into 2020-12 form. The result refers into [`SchemaSet::defs`].
    pub(crate) fn convert(
        &mut self,
        docs: &mut Docs,
        file: FileId,
        pointer: &str,
    ) -> Result<Value, LoadError> {
        let value = docs
            .get(file, pointer)
            .cloned()
            .ok_or_else(|| LoadError::Invalid {
                file: docs.shown(file),
                pointer: pointer.to_owned(),
                reason: "schema missing".into(),
            })?;
        let out = self.walk(docs, file, pointer, &value, false, 0)?;
        while let Some((f, p, variant, key)) = self.queue.pop() {
            let target = docs.get(f, &p).cloned().unwrap_or(Value::Bool(true));
            let converted = self.walk(docs, f, &p, &target, variant == Variant::Open, 0)?;
            self.defs.insert(key, converted);
        }
        Ok(out)
    }

    /// Follows generated `$ref`s to the schema they name (for coercion and constraint
    /// analysis, which look at `type`, `enum`, `format` ...).
    pub(crate) fn deref<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..16 {
            let Some(target) = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .and_then(|k| self.defs.get(k))
            else {
                break;
            };
            schema = target;
        }
        schema
    }

    /// Compiles a converted schema with the definitions it reaches.
    pub(crate) fn compile(&self, schema: &Value) -> Result<Arc<Validator>, String> {
        let mut doc = schema.clone();
        if let Value::Object(m) = &mut doc {
            let reachable = self.reachable(schema);
            if !reachable.is_empty() {
                let defs = m
                    .entry("$defs")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(defs) = defs {
                    for key in reachable {
                        if let Some(v) = self.defs.get(&key) {
                            defs.insert(key, v.clone());
                        }
                    }
                }
            }
        }
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .should_ignore_unknown_formats(true)
            .with_pattern_options(PatternOptions::regex())
            .offline()
            .build(&doc)
            .map(Arc::new)
            .map_err(|e| e.to_string())
    }

    /// Generated definition keys reachable from `schema`.
    fn reachable(&self, schema: &Value) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        let mut stack = vec![schema];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(m) => {
                    for (k, sub) in m {
                        if k == "$ref"
                            && let Some(key) = sub.as_str().and_then(|r| r.strip_prefix("#/$defs/"))
                            && key.starts_with(DEF_PREFIX)
                            && !found.iter().any(|f| f == key)
                        {
                            found.push(key.to_owned());
                            if let Some(def) = self.defs.get(key) {
                                stack.push(def);
                            }
                        } else {
                            stack.push(sub);
                        }
                    }
                }
                Value::Array(a) => stack.extend(a.iter()),
                _ => {}
            }
        }
        found
    }

    fn def_key(&mut self, file: FileId, pointer: String, variant: Variant) -> String {
        let variant = if self.strict {
            variant
        } else {
            Variant::Closed
        };
        if let Some(k) = self.keys.get(&(file, pointer.clone(), variant)) {
            return k.clone();
        }
        let suffix = if variant == Variant::Open { "o" } else { "" };
        let key = format!("{DEF_PREFIX}{}{suffix}", self.keys.len());
        self.keys
            .insert((file, pointer.clone(), variant), key.clone());
        self.queue.push((file, pointer, variant, key.clone()));
        key
    }

    /// Rewrites one schema node. `member`: the node is a direct member of a composition, so
    /// its top level stays open in strict mode.
    fn walk(
        &mut self,
        docs: &mut Docs,
        file: FileId,
        ptr: &str,
        v: &Value,
        member: bool,
        depth: usize,
    ) -> Result<Value, LoadError> {
        if depth > MAX_SCHEMA_DEPTH {
            return Err(LoadError::Invalid {
                file: docs.shown(file),
                pointer: ptr.to_owned(),
                reason: "schema nested too deeply".into(),
            });
        }
        let Value::Object(m) = v else {
            return Ok(v.clone());
        };
        let depth = depth + 1;
        if let Some(reference) = m.get("$ref") {
            let Some(reference) = reference.as_str() else {
                return Err(invalid(docs, file, ptr, "$ref must be a string"));
            };
            // 3.0 ignores siblings of $ref; 3.1 schemas may add to it, and then the $ref acts
            // like an allOf member.
            let assertions = m.keys().any(|k| !is_annotation(k) && k != "$ref");
            let at = join_pointer(ptr, "$ref");
            let (f, p) = docs.resolve_ref(file, &at, reference)?;
            if self.openapi_30 || !assertions {
                let variant = if member {
                    Variant::Open
                } else {
                    Variant::Closed
                };
                let key = self.def_key(f, p, variant);
                return Ok(json!({ "$ref": format!("#/$defs/{key}") }));
            }
        }
        let mut out = Map::new();
        let mut composes = false;
        let mut read_only: Vec<String> = Vec::new();
        for (k, sub) in m {
            let p = join_pointer(ptr, k);
            match k.as_str() {
                "$ref" => {
                    let r = sub.as_str().unwrap_or_default();
                    let (f, tp) = docs.resolve_ref(file, &p, r)?;
                    let key = self.def_key(f, tp, Variant::Open);
                    out.insert(k.clone(), Value::String(format!("#/$defs/{key}")));
                    composes = true;
                }
                "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                    let Value::Object(props) = sub else {
                        return Err(invalid(docs, file, &p, "must be an object"));
                    };
                    let mut conv = Map::new();
                    for (name, s) in props {
                        let sp = join_pointer(&p, name);
                        // Request schemas only: a read-only member is the server's to set.
                        // Strict mode refuses it (mass assignment); `required` never
                        // applies to it in a request.
                        if k == "properties" && s.get("readOnly") == Some(&Value::Bool(true)) {
                            read_only.push(name.clone());
                            if self.strict {
                                conv.insert(name.clone(), Value::Bool(false));
                                continue;
                            }
                        }
                        conv.insert(name.clone(), self.walk(docs, file, &sp, s, false, depth)?);
                    }
                    out.insert(k.clone(), Value::Object(conv));
                }
                "items" if sub.is_array() => {
                    let conv = self.walk_array(docs, file, &p, sub, false, depth)?;
                    out.insert("prefixItems".into(), conv);
                }
                "items"
                | "additionalProperties"
                | "unevaluatedProperties"
                | "not"
                | "contains"
                | "propertyNames"
                | "if"
                | "then"
                | "else"
                | "additionalItems"
                | "unevaluatedItems"
                | "contentSchema" => {
                    out.insert(k.clone(), self.walk(docs, file, &p, sub, false, depth)?);
                }
                "allOf" | "anyOf" | "oneOf" => {
                    out.insert(
                        k.clone(),
                        self.walk_array(docs, file, &p, sub, true, depth)?,
                    );
                    composes = true;
                }
                "prefixItems" => {
                    out.insert(
                        k.clone(),
                        self.walk_array(docs, file, &p, sub, false, depth)?,
                    );
                }
                // Identifiers would move the base URI away from the generated `$defs`.
                "$id" | "$schema" | "$anchor" | "$dynamicAnchor" | "$comment" => {}
                "nullable" | "example" | "discriminator" | "xml" | "externalDocs"
                    if self.openapi_30 => {}
                "exclusiveMinimum" | "exclusiveMaximum" if sub.is_boolean() => {}
                _ => {
                    out.insert(k.clone(), sub.clone());
                }
            }
        }
        if !read_only.is_empty()
            && let Some(Value::Array(required)) = out.get_mut("required")
        {
            required.retain(|r| r.as_str().is_none_or(|r| !read_only.iter().any(|n| n == r)));
        }
        if self.openapi_30 {
            for (flag, bound) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if m.get(flag) == Some(&Value::Bool(true))
                    && let Some(limit) = out.remove(bound)
                {
                    out.insert(flag.into(), limit);
                }
            }
        }
        if self.strict
            && !member
            && (out.contains_key("properties") || composes)
            && !out.contains_key("additionalProperties")
            && !out.contains_key("unevaluatedProperties")
        {
            let keyword = if composes {
                "unevaluatedProperties"
            } else {
                "additionalProperties"
            };
            out.insert(keyword.into(), Value::Bool(false));
        }
        if self.openapi_30 && m.get("nullable") == Some(&Value::Bool(true)) {
            return Ok(make_nullable(out));
        }
        Ok(Value::Object(out))
    }

    fn walk_array(
        &mut self,
        docs: &mut Docs,
        file: FileId,
        ptr: &str,
        v: &Value,
        member: bool,
        depth: usize,
    ) -> Result<Value, LoadError> {
        let Value::Array(items) = v else {
            return Err(invalid(docs, file, ptr, "must be an array"));
        };
        let mut conv = Vec::with_capacity(items.len());
        for (i, s) in items.iter().enumerate() {
            let p = join_pointer(ptr, &i.to_string());
            conv.push(self.walk(docs, file, &p, s, member, depth)?);
        }
        Ok(Value::Array(conv))
    }
}

/// Keywords that do not constrain a value (siblings of `$ref` that keep it a plain reference).
fn is_annotation(k: &str) -> bool {
    matches!(
        k,
        "description"
            | "summary"
            | "title"
            | "example"
            | "examples"
            | "deprecated"
            | "readOnly"
            | "writeOnly"
            | "$comment"
            | "externalDocs"
            | "xml"
    )
}

/// OpenAPI 3.0 `nullable: true` as 2020-12: a type union, `null` in an `enum`, or an `anyOf`.
fn make_nullable(mut out: Map<String, Value>) -> Value {
    if let Some(Value::Array(options)) = out.get_mut("enum")
        && !options.contains(&Value::Null)
    {
        options.push(Value::Null);
    }
    match out.get("type").cloned() {
        Some(Value::String(t)) => {
            out.insert("type".into(), json!([t, "null"]));
            Value::Object(out)
        }
        Some(Value::Array(mut ts)) => {
            if !ts.contains(&json!("null")) {
                ts.push(json!("null"));
            }
            out.insert("type".into(), Value::Array(ts));
            Value::Object(out)
        }
        _ => json!({ "anyOf": [Value::Object(out), { "type": "null" }] }),
    }
}

fn invalid(docs: &Docs, file: FileId, ptr: &str, reason: &str) -> LoadError {
    LoadError::Invalid {
        file: docs.shown(file),
        pointer: ptr.to_owned(),
        reason: reason.to_owned(),
    }
}
