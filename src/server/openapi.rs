//! `GET /openapi.json`: the OpenAPI 3.1 description of the whole HTTP API.
//!
//! The document is written by hand (`openapi.json`, beside this file) rather than derived from
//! types: the data plane reads bodies as the providers' JSON and models only what it governs,
//! so a derived schema would describe our internals, not the API. Two checks keep it true: the
//! unit tests below compare its paths and methods with the route table (`super::table`) and
//! resolve every `$ref`, and CI runs schemathesis against a live server with it (no 5xx, every
//! answer in the status, content type and schema the document gives — `tests/openapi.rs`).

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};

const SOURCE: &str = include_str!("openapi.json");

/// The document with this build's version, serialized once.
fn rendered() -> &'static [u8] {
    static DOC: OnceLock<Vec<u8>> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc: serde_json::Value =
            serde_json::from_str(SOURCE).expect("openapi.json is JSON (unit-tested)");
        doc["info"]["version"] = env!("CARGO_PKG_VERSION").into();
        serde_json::to_vec(&doc).expect("a Value serializes")
    })
}

/// No key: the document says what the API is, nothing about this deployment.
pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], rendered()).into_response()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    fn doc() -> Value {
        serde_json::from_slice(rendered()).unwrap()
    }

    const METHODS: &[&str] = &[
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    #[test]
    fn is_openapi_3_1_with_this_version() {
        let d = doc();
        assert_eq!(d["openapi"], "3.1.0");
        assert_eq!(d["info"]["version"], env!("CARGO_PKG_VERSION"));
    }

    /// Every route the server answers is described, and nothing else is.
    #[test]
    fn paths_and_methods_match_the_route_table() {
        let served: BTreeSet<(String, String)> = super::super::table()
            .iter()
            .map(|r| (r.method.as_str().to_lowercase(), r.path.to_string()))
            .collect();
        let d = doc();
        let mut described = BTreeSet::new();
        for (path, item) in d["paths"].as_object().unwrap() {
            for (key, _) in item.as_object().unwrap() {
                if METHODS.contains(&key.as_str()) {
                    described.insert((key.clone(), path.clone()));
                }
            }
        }
        let missing: Vec<_> = served.difference(&described).collect();
        let extra: Vec<_> = described.difference(&served).collect();
        assert!(
            missing.is_empty(),
            "routes not in openapi.json: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "openapi.json describes routes the server lacks: {extra:?}"
        );
    }

    /// Each path parameter of a route is declared, and each declared one is in the path.
    #[test]
    fn path_parameters_match_the_paths() {
        let d = doc();
        let resolve = |p: &Value| -> Value {
            match p["$ref"].as_str() {
                Some(r) => pointer(&d, r).clone(),
                None => p.clone(),
            }
        };
        for (path, item) in d["paths"].as_object().unwrap() {
            let in_path: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .map(str::to_string)
                .collect();
            for (method, op) in item.as_object().unwrap() {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                let params = item["parameters"]
                    .as_array()
                    .into_iter()
                    .chain(op["parameters"].as_array())
                    .flatten()
                    .map(resolve)
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap().to_string())
                    .collect::<BTreeSet<_>>();
                assert_eq!(params, in_path, "{method} {path}");
                assert!(
                    op["operationId"].is_string(),
                    "{method} {path}: operationId"
                );
                assert!(op["responses"].is_object(), "{method} {path}: responses");
            }
        }
    }

    fn pointer<'a>(d: &'a Value, r: &str) -> &'a Value {
        let p = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        d.pointer(p)
            .unwrap_or_else(|| panic!("$ref {r} resolves to nothing"))
    }

    /// Every `$ref` points at something in the document.
    #[test]
    fn every_ref_resolves() {
        fn walk(d: &Value, v: &Value, n: &mut usize) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        pointer(d, r);
                        *n += 1;
                    }
                    m.values().for_each(|v| walk(d, v, n));
                }
                Value::Array(a) => a.iter().for_each(|v| walk(d, v, n)),
                _ => {}
            }
        }
        let d = doc();
        let mut n = 0;
        walk(&d, &d, &mut n);
        assert!(n > 50, "only {n} $refs: is the document whole?");
    }

    /// The event types the audit filter and events name are exactly `EventType`'s.
    #[test]
    fn event_types_are_the_enums() {
        use crate::audit::event::EventType;
        let d = doc();
        let described: BTreeSet<&str> = d["components"]["schemas"]["EventType"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let actual: BTreeSet<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(described, actual);
    }
}
