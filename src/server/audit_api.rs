//! `/audit` and `/audit/verify` (admin or auditor keys).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::auth::authorize;
use super::App;
use crate::audit::verify::{export_line, verify_store};
use crate::identity::Role;
use crate::pipeline::Refusal;
use crate::store::AuditFilter;

const READERS: &[Role] = &[Role::Admin, Role::Auditor];
const MAX_LIMIT: u32 = 1000;

/// Parses `/audit`'s query, naming the parameter at fault.
pub fn parse_filter(q: &HashMap<String, String>) -> Result<AuditFilter, Refusal> {
    const KNOWN: &[&str] = &["agent_id", "event_type", "since", "limit", "after_seq"];
    if let Some(k) = q.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(Refusal::invalid(
            k,
            format!(
                "unknown query parameter (expected one of: {})",
                KNOWN.join(", ")
            ),
        ));
    }
    let since = match q.get("since") {
        None => None,
        Some(s) => {
            let t = chrono::DateTime::parse_from_rfc3339(s).map_err(|_| {
                Refusal::invalid(
                    "since",
                    "must be an RFC 3339 timestamp, e.g. 2026-01-31T00:00:00Z",
                )
            })?;
            Some(
                t.with_timezone(&chrono::Utc)
                    .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                    .to_string(),
            )
        }
    };
    let limit = match q.get("limit") {
        None => 100,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(Refusal::invalid(
                    "limit",
                    format!("must be an integer from 1 to {MAX_LIMIT}"),
                ))
            }
        },
    };
    let after_seq = match q.get("after_seq") {
        None => None,
        Some(s) => Some(
            s.parse::<u64>()
                .map_err(|_| Refusal::invalid("after_seq", "must be a non-negative integer"))?,
        ),
    };
    Ok(AuditFilter {
        agent_id: q.get("agent_id").cloned(),
        event_type: q.get("event_type").cloned(),
        since,
        after_seq,
        limit,
    })
}

pub async fn list(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    authorize(&app, &headers, READERS).await?;
    let filter = parse_filter(&q)?;
    let rows = app.store.audit_query(&filter).await?;
    let next = (rows.len() as u32 == filter.limit)
        .then(|| rows.last().map(|r| r.seq))
        .flatten();
    let events: Vec<Value> = rows
        .iter()
        .filter_map(|r| export_line(&r.canonical, &r.hash).ok())
        .filter_map(|line| serde_json::from_str(&line).ok())
        .collect();
    Ok(Json(json!({"events": events, "next_after_seq": next})).into_response())
}

pub async fn verify(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, Refusal> {
    authorize(&app, &headers, READERS).await?;
    let report = verify_store(&app.store).await?;
    Ok(Json(report).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_normalized_since() {
        let f = parse_filter(&q(&[("since", "2026-01-31T01:00:00+01:00")])).unwrap();
        assert_eq!(f.limit, 100);
        assert_eq!(f.since.as_deref(), Some("2026-01-31T00:00:00.000000Z"));
    }

    #[test]
    fn bad_parameters_are_named() {
        for (k, v) in [
            ("since", "yesterday"),
            ("limit", "0"),
            ("limit", "5000"),
            ("after_seq", "-1"),
            ("colour", "red"),
        ] {
            let err = parse_filter(&q(&[(k, v)])).unwrap_err();
            assert_eq!(err.param(), Some(k));
            assert_eq!(err.status(), 400);
        }
    }
}
