//! Black-box tests of the gateway core, each run against SQLite and PostgreSQL.

mod common;

use common::{database, Gateway, GatewayOpts, Upstream, UPSTREAM_KEY};
use serde_json::{json, Value};

/// Generates `sqlite_<name>` and `postgres_<name>` from `async fn <name>(backend: &str)`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name("sqlite").await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name("postgres").await })*
        }
    };
}

both_backends!(
    chat_both_formats_plain_and_streaming,
    keys_revoke_rotate_and_disable,
    routing_and_upstream_failures,
    bad_requests_are_named,
    audit_verifies_and_detects_tampering,
    cli_agents_export_and_offline_verify,
);

async fn setup(backend: &str) -> Option<(Upstream, Gateway, Option<common::PgDb>)> {
    let (db, pg) = database(backend).await?;
    let upstream = Upstream::start(&[]);
    let gw = Gateway::start(GatewayOpts::new(db, &upstream)).await;
    Some((upstream, gw, pg))
}

async fn chat_both_formats_plain_and_streaming(backend: &str) {
    let Some((upstream, gw, _pg)) = setup(backend).await else {
        return;
    };
    let (key, _) = gw.agent("research-bot").await;

    // OpenAI, non-streaming
    let (status, body) = gw.chat(&key, "gpt-4o-mini", "hello there").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "echo: hello there"
    );
    assert_eq!(body["tappass"]["blocked"], false);
    assert!(body["tappass"]["audit_id"]
        .as_str()
        .unwrap()
        .starts_with("aud_"));
    // The provider got the server's key, never the agent's.
    let last = upstream.last_request().await;
    assert_eq!(
        last["headers"]["authorization"],
        format!("Bearer {UPSTREAM_KEY}")
    );
    assert!(
        !last.to_string().contains(&key),
        "agent key leaked upstream"
    );
    assert_eq!(last["body"]["model"], "gpt-4o-mini");

    // OpenAI, streaming
    let resp = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(&key)
        .json(&json!({"model": "openai/gpt-4o-mini", "stream": true,
                      "messages": [{"role": "user", "content": "stream me"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let text = common::body_text(resp).await;
    assert!(text.contains("chat.completion.chunk"));
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    let content: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(content, "echo: stream me");

    // Anthropic, non-streaming (x-api-key like the SDK's default header)
    let resp = gw
        .http
        .post(format!("{}/v1/messages", gw.url))
        .header("x-api-key", &key)
        .header("anthropic-version", "2023-06-01")
        .json(
            &json!({"model": "claude-3-5-haiku-latest", "max_tokens": 50,
                      "messages": [{"role": "user", "content": "bonjour"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["content"][0]["text"], "echo: bonjour");
    let last = upstream.last_request().await;
    assert_eq!(last["headers"]["x-api-key"], UPSTREAM_KEY);
    assert_eq!(last["headers"]["anthropic-version"], "2023-06-01");

    // Anthropic, streaming
    let resp = gw
        .http
        .post(format!("{}/v1/messages", gw.url))
        .bearer_auth(&key)
        .json(
            &json!({"model": "claude-3-5-haiku-latest", "max_tokens": 50, "stream": true,
                      "messages": [{"role": "user", "content": "stream bonjour"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = common::body_text(resp).await;
    assert!(text.contains("event: message_start"));
    assert!(text.contains("event: message_stop"), "{text}");

    // Every call is on record: 4 requests + 2 stream completions, with token counts.
    let events = gw.audit_all().await;
    let calls: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "llm_call")
        .collect();
    assert_eq!(calls.len(), 4);
    assert!(calls.iter().all(|e| e["agent_id"] == "research-bot"));
    let completions: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "llm_stream_completed")
        .collect();
    assert_eq!(completions.len(), 2);
    assert!(completions
        .iter()
        .all(|e| e["details"]["outcome"] == "completed"));
    let anthropic_done = completions
        .iter()
        .find(|e| e["provider"] == "anthropic")
        .unwrap();
    assert!(
        anthropic_done["cost"]["completion_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(gw.verify().await["verified"], true);

    // /v1/models for the agent; health shows the backend.
    let (status, models) = gw.get("/v1/models", &key).await;
    assert_eq!(status, 200);
    assert_eq!(models["object"], "list");
    let (_, health) = gw.get("/health", "").await;
    let expected = if backend == "sqlite" {
        "sqlite"
    } else {
        "postgresql"
    };
    assert_eq!(health["storage"], expected);
    assert_eq!(health["status"], "healthy");
    assert!(
        health.get("details").is_none(),
        "no internals without an admin key"
    );
}

async fn keys_revoke_rotate_and_disable(backend: &str) {
    let Some((_upstream, gw, _pg)) = setup(backend).await else {
        return;
    };
    let (key, key_id) = gw.agent("bot").await;
    assert_eq!(gw.chat(&key, "gpt-4o-mini", "hi").await.0, 200);

    // No key / a wrong key / an admin key on the data plane.
    assert_eq!(gw.chat("", "gpt-4o-mini", "hi").await.0, 401);
    let (status, body) = gw
        .chat(
            "tp_zzzzzzzzzzzz_0123456789abcdef0123456789abcdef",
            "gpt-4o-mini",
            "hi",
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("invalid_api_key"))
    );
    assert_eq!(gw.chat(&gw.admin_key, "gpt-4o-mini", "hi").await.0, 403);
    // An agent key on the control plane.
    assert_eq!(gw.get("/admin/agents", &key).await.0, 403);
    assert_eq!(gw.get("/audit", &key).await.0, 403);

    // Rotating a key under an agent that does not exist is 404, not a storage error (found by
    // schemathesis: the new key's row was inserted before the old one was looked up).
    let (status, body) = gw
        .post(
            &format!("/admin/agents/nobody/keys/{key_id}/rotate"),
            &gw.admin_key,
            &json!({}),
        )
        .await;
    assert_eq!(status, 404, "{body}");

    // Rotate: the new key works, the old one is revoked (and says so).
    let (status, rotated) = gw
        .post(
            &format!("/admin/agents/bot/keys/{key_id}/rotate"),
            &gw.admin_key,
            &json!({}),
        )
        .await;
    assert_eq!(status, 201, "{rotated}");
    let new_key = rotated["api_key"].as_str().unwrap().to_string();
    assert_eq!(gw.chat(&new_key, "gpt-4o-mini", "hi").await.0, 200);
    let (status, body) = gw.chat(&key, "gpt-4o-mini", "hi").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "key_revoked");

    // Issue a second key, revoke it.
    let (status, issued) = gw
        .post("/admin/agents/bot/keys", &gw.admin_key, &json!({}))
        .await;
    assert_eq!(status, 201);
    let k2 = issued["api_key"].as_str().unwrap();
    let k2_id = issued["key_id"].as_str().unwrap();
    assert_eq!(gw.chat(k2, "gpt-4o-mini", "hi").await.0, 200);
    let (status, _) = gw
        .post(
            &format!("/admin/agents/bot/keys/{k2_id}/revoke"),
            &gw.admin_key,
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = gw.chat(k2, "gpt-4o-mini", "hi").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("key_revoked"))
    );
    // Revoking again: 404, nothing changes.
    let (status, _) = gw
        .post(
            &format!("/admin/agents/bot/keys/{k2_id}/revoke"),
            &gw.admin_key,
            &json!({}),
        )
        .await;
    assert_eq!(status, 404);

    // Get shows the keys without secrets or hashes.
    let (status, agent) = gw.get("/admin/agents/bot", &gw.admin_key).await;
    assert_eq!(status, 200);
    assert_eq!(agent["keys"].as_array().unwrap().len(), 3);
    assert!(!agent.to_string().contains("key_hash"));

    // Disable: every key of the agent stops working.
    let (status, body) = gw
        .post("/admin/agents/bot/disable", &gw.admin_key, &json!({}))
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("disabled")));
    let (status, body) = gw.chat(&new_key, "gpt-4o-mini", "hi").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("agent_disabled"))
    );

    // Duplicate agent id → 409; list shows it once.
    let (status, _) = gw
        .post("/admin/agents", &gw.admin_key, &json!({"agent_id": "bot"}))
        .await;
    assert_eq!(status, 409);
    let (_, list) = gw.get("/admin/agents", &gw.admin_key).await;
    assert_eq!(list["agents"].as_array().unwrap().len(), 1);

    // An auditor key reads the audit but cannot administer.
    let (status, auditor) = gw
        .post("/admin/keys", &gw.admin_key, &json!({"role": "auditor"}))
        .await;
    assert_eq!(status, 201);
    let auditor = auditor["api_key"].as_str().unwrap();
    assert_eq!(gw.get("/audit/verify", auditor).await.0, 200);
    assert_eq!(gw.get("/admin/agents", auditor).await.0, 403);

    let events = gw.audit_all().await;
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    for t in [
        "admin_key_generated",
        "agent_registered",
        "key_rotated",
        "key_issued",
        "key_revoked",
        "agent_disabled",
        "auth_failed",
    ] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }
    assert_eq!(gw.verify().await["verified"], true);
}

async fn routing_and_upstream_failures(backend: &str) {
    let Some((db, _pg)) = database(backend).await else {
        return;
    };
    let upstream = Upstream::start(&[]);
    let dead = format!("http://127.0.0.1:{}/v1", common::free_port());
    let gw = Gateway::start(
        GatewayOpts::new(db, &upstream)
            .env("TAPPASS_PROVIDERS__OPENAI__TIMEOUT_SECS", "2")
            .env("TAPPASS_PROVIDERS__DOWN__KIND", "openai")
            .env("TAPPASS_PROVIDERS__DOWN__BASE_URL", &dead),
    )
    .await;
    let (key, _) = gw.agent("bot").await;

    let (status, body) = gw.chat(&key, "nosuch/gpt-4o", "hi").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("model_not_found"))
    );
    let (status, body) = gw
        .chat(&key, "anthropic/claude-3-5-haiku-latest", "hi")
        .await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("model"))
    );

    let (status, body) = gw.chat(&key, "down/gpt-4o", "hi").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("upstream_unavailable"))
    );
    let (status, body) = gw.chat(&key, "gpt-4o-mini", "fake:status=500").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("upstream_error"))
    );
    let (status, body) = gw.chat(&key, "gpt-4o-mini", "fake:malformed").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("upstream_malformed"))
    );
    let (status, body) = gw.chat(&key, "gpt-4o-mini", "fake:hang").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (504, Some("upstream_timeout"))
    );
    // A provider's own 4xx passes through, with Retry-After, and never shows our provider key.
    let resp = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .bearer_auth(&key)
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "fake:status=429"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "1");
    assert!(!resp.text().await.unwrap().contains(UPSTREAM_KEY));

    // Failures are audited as such.
    let events = gw.audit_all().await;
    let failed = events
        .iter()
        .filter(|e| e["event_type"] == "llm_call_failed")
        .count();
    assert_eq!(failed, 7);
    assert_eq!(gw.verify().await["verified"], true);
}

async fn bad_requests_are_named(backend: &str) {
    let Some((_upstream, gw, _pg)) = setup(backend).await else {
        return;
    };
    let (key, _) = gw.agent("bot").await;
    let url = format!("{}/v1/chat/completions", gw.url);

    // 413 before reading an oversized body (default cap 5 MB).
    let big = "x".repeat(6 * 1024 * 1024);
    let resp = gw
        .http
        .post(&url)
        .bearer_auth(&key)
        .body(format!("{{\"model\":\"gpt-4o-mini\",\"messages\":[{{\"role\":\"user\",\"content\":\"{big}\"}}]}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request_too_large");

    for (raw, param) in [
        ("not json", "body"),
        (r#"{"messages":[{"role":"user","content":"x"}]}"#, "model"),
        (r#"{"model":"gpt-4o-mini"}"#, "messages"),
        (
            r#"{"model":"gpt-4o-mini","messages":[{"content":"x"}]}"#,
            "messages[0].role",
        ),
    ] {
        let resp = gw
            .http
            .post(&url)
            .bearer_auth(&key)
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{raw}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["param"], param, "{raw}: {body}");
    }
    // Anthropic envelope on /v1/messages.
    let resp = gw
        .http
        .post(format!("{}/v1/messages", gw.url))
        .header("x-api-key", "nope")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");

    // Admin API: fields named.
    let (status, body) = gw
        .post("/admin/agents", &gw.admin_key, &json!({"agent_id": "a b"}))
        .await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("agent_id"))
    );
    let (status, body) = gw
        .post(
            "/admin/agents",
            &gw.admin_key,
            &json!({"agent_id": "ok", "colour": 1}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("colour"))
    );
    let (status, body) = gw.get("/audit?since=yesterday", &gw.admin_key).await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("since"))
    );
    // Nothing was stored by the refused admin calls.
    let (_, list) = gw.get("/admin/agents", &gw.admin_key).await;
    assert_eq!(list["agents"].as_array().unwrap().len(), 1);
}

async fn audit_verifies_and_detects_tampering(backend: &str) {
    let Some((_upstream, gw, _pg)) = setup(backend).await else {
        return;
    };
    let (key, _) = gw.agent("bot").await;
    for i in 0..5 {
        assert_eq!(
            gw.chat(&key, "gpt-4o-mini", &format!("msg {i}")).await.0,
            200
        );
    }
    let report = gw.verify().await;
    assert_eq!(report["verified"], true);
    assert_eq!(report["chain_intact"], true);
    assert_eq!(report["events_checked"], 7);
    let out = gw.cli(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Filters.
    let (_, page) = gw
        .get(
            "/audit?event_type=llm_call&agent_id=bot&limit=2",
            &gw.admin_key,
        )
        .await;
    assert_eq!(page["events"].as_array().unwrap().len(), 2);
    let next = page["next_after_seq"].as_u64().unwrap();
    let (_, page2) = gw
        .get(
            &format!("/audit?event_type=llm_call&after_seq={next}"),
            &gw.admin_key,
        )
        .await;
    assert_eq!(page2["events"].as_array().unwrap().len(), 3);
    let (_, none) = gw
        .get("/audit?since=2999-01-01T00:00:00Z", &gw.admin_key)
        .await;
    assert!(none["events"].as_array().unwrap().is_empty());

    // A one-byte edit of event 4 is detected and named.
    gw.sql(r#"UPDATE audit_events SET canonical = replace(canonical, '"status":200', '"status":201') WHERE seq = 4"#)
        .await;
    let report = gw.verify().await;
    assert_eq!(report["verified"], false);
    assert_eq!(report["first_broken_seq"], 4);
    assert!(report["first_broken_event"]
        .as_str()
        .unwrap()
        .starts_with("aud_"));
    let out = gw.cli(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("seq 4"), "{stdout}");

    // Undo, then delete a row: detected too.
    gw.sql(r#"UPDATE audit_events SET canonical = replace(canonical, '"status":201', '"status":200') WHERE seq = 4"#)
        .await;
    assert_eq!(gw.verify().await["verified"], true);
    gw.sql("DELETE FROM audit_events WHERE seq = 5").await;
    let report = gw.verify().await;
    assert_eq!(report["verified"], false);
    assert_eq!(report["first_broken_seq"], 5);
}

async fn cli_agents_export_and_offline_verify(backend: &str) {
    let Some((_upstream, gw, _pg)) = setup(backend).await else {
        return;
    };
    let out = gw.cli(&[
        "agents",
        "create",
        "cli-bot",
        "--description",
        "from the CLI",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = created["api_key"].as_str().unwrap().to_string();
    assert_eq!(gw.chat(&key, "gpt-4o-mini", "via cli").await.0, 200);
    let out = gw.cli(&["agents", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("cli-bot"));
    let key_id = created["key_id"].as_str().unwrap();
    let out = gw.cli(&["agents", "keys", "revoke", "cli-bot", key_id]);
    assert!(out.status.success());
    assert_eq!(gw.chat(&key, "gpt-4o-mini", "via cli").await.0, 401);
    // Errors from the API come back as a non-zero exit with the message.
    let out = gw.cli(&["agents", "get", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("404"));

    let dir = common::tempdir();
    let file = dir.path().join("audit.jsonl");
    let out = gw.cli(&[
        "audit",
        "export",
        "--format",
        "jsonl",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), gw.audit_all().await.len());
    let out = gw.cli(&["audit", "verify", "--file", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Tamper with the export: offline verify fails and names the event.
    assert!(text.contains(r#""status":200"#));
    std::fs::write(
        &file,
        text.replacen(r#""status":200"#, r#""status":201"#, 1),
    )
    .unwrap();
    let out = gw.cli(&["audit", "verify", "--file", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}
