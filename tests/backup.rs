//! `tappass backup`, `backup test-restore`, `backup list` and `restore`, black-box, against
//! SQLite and PostgreSQL: a backup → wipe → restore round trip keeps every row and a verifying
//! chain; a test restore touches nothing in production; damaged, cut-short or doctored files
//! change nothing; a running daemon is not restored under; retention removes old backups only.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{bin, Db, Gateway, GatewayOpts, Upstream};
use serde_json::{json, Value};

/// Runs the CLI against `gw`'s database and state directory, with its listen address (so
/// `restore` can tell whether it runs).
fn cli(gw: &Gateway, args: &[&str]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .arg("--state-dir")
        .arg(&gw.state_dir)
        .env("TAPPASS_SERVER__LISTEN", format!("127.0.0.1:{}", gw.port))
        .env_remove("TAPPASS_ADMIN_API_KEY");
    if let Db::Postgres(url) = &gw.opts.db {
        cmd.args(["--database-url", url]);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A gateway with two agents (one with a description full of SQL) and some traffic.
async fn busy_gateway(db: Db, upstream: &Upstream) -> (Gateway, String) {
    let gw = Gateway::start(GatewayOpts::new(db, upstream)).await;
    let (status, body) = gw
        .post(
            "/admin/agents",
            &gw.admin_key,
            &json!({"agent_id": "billing", "description": "it's; -- DROP TABLE agents;\n'quoted'"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let key = body["api_key"].as_str().unwrap().to_string();
    gw.agent("support").await;
    for i in 0..12 {
        let (status, body) = gw.chat(&key, "gpt-4o-mini", &format!("hello {i}")).await;
        assert_eq!(status, 200, "{body}");
    }
    (gw, key)
}

fn backup(gw: &Gateway) -> (PathBuf, Value) {
    let out = cli(gw, &["backup", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = PathBuf::from(v["backup"].as_str().unwrap());
    assert!(path.is_file(), "{}", path.display());
    // Not a terminal: structured progress lines, the last one final.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("progress task=backup unit=rows") && err.contains("finished=true"),
        "{err}"
    );
    (path, v["manifest"].clone())
}

fn manifest_of(data: &Path) -> PathBuf {
    let name = data.file_name().unwrap().to_str().unwrap();
    data.with_file_name(name.replace(".sql.gz", ".manifest.json"))
}

async fn stop(gw: &mut Gateway) {
    let mut p = gw.sigterm();
    p.0.wait().unwrap();
    std::mem::forget(p);
}

async fn wipe(gw: &Gateway) {
    for sql in [
        "DELETE FROM audit_events",
        "DELETE FROM api_keys",
        "DELETE FROM agents",
        "UPDATE audit_head SET seq = 0, hash = NULL WHERE id = 1",
    ] {
        gw.sql(sql).await;
    }
}

async fn round_trip(backend: &str) {
    let Some((db, _pg)) = common::database(backend).await else {
        return;
    };
    let upstream = Upstream::start(&[]);
    let (mut gw, key) = busy_gateway(db, &upstream).await;
    let (file, manifest) = backup(&gw);
    let events = gw.audit_all().await;
    let agents = gw.get("/admin/agents", &gw.admin_key).await.1;
    assert_eq!(manifest["rows"]["audit_events"], json!(events.len()));
    assert_eq!(manifest["rows"]["agents"], json!(2));
    assert_eq!(
        manifest["head_seq"],
        events.last().unwrap()["seq"],
        "{manifest}"
    );
    assert_eq!(
        manifest["backend"],
        json!(if backend == "sqlite" {
            "sqlite"
        } else {
            "postgresql"
        })
    );
    assert!(manifest_of(&file).is_file());

    // The daemon runs: restore refuses and changes nothing.
    let out = cli(&gw, &["restore", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("refusing to restore while tappass runs"),
        "{}",
        text(&out)
    );
    assert_eq!(gw.audit_all().await.len(), events.len());

    stop(&mut gw).await;
    wipe(&gw).await;
    let out = cli(&gw, &["restore", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("matches its manifest"), "{said}");
    assert!(
        said.contains(&format!(
            "audit chain intact: {} events verified",
            events.len()
        )),
        "{said}"
    );
    assert!(said.contains("progress task=restore"), "{said}");
    // The wiped database was kept first.
    assert!(said.contains("the database as it was is kept in"), "{said}");

    gw.spawn().await;
    assert_eq!(
        gw.audit_all().await,
        events,
        "every event comes back, byte for byte"
    );
    assert_eq!(gw.get("/admin/agents", &gw.admin_key).await.1, agents);
    assert_eq!(gw.verify().await["verified"], json!(true));
    let (status, body) = gw.chat(&key, "gpt-4o-mini", "after the restore").await;
    assert_eq!(status, 200, "the restored agent key works: {body}");
    // The chain goes on from the restored head, and the signed checkpoints agree.
    let out = cli(&gw, &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_wipe_restore_keeps_every_row_and_the_chain_sqlite() {
    round_trip("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_wipe_restore_keeps_every_row_and_the_chain_postgres() {
    round_trip("postgres").await;
}

async fn test_restore_untouched(backend: &str) {
    let Some((db, _pg)) = common::database(backend).await else {
        return;
    };
    let upstream = Upstream::start(&[]);
    let (gw, _key) = busy_gateway(db, &upstream).await;
    let (file, manifest) = backup(&gw);
    // Traffic after the backup: production moves on, the backup does not.
    let (k, _) = gw.agent("later").await;
    gw.chat(&k, "gpt-4o-mini", "after").await;
    let before = gw.audit_all().await;

    let out = cli(&gw, &["backup", "test-restore"]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("test restore passed"), "{said}");
    assert!(
        said.contains(&format!(
            "{} audit events; chain head seq {}",
            manifest["rows"]["audit_events"], manifest["head_seq"]
        )),
        "{said}"
    );
    assert_eq!(gw.audit_all().await, before, "production is untouched");
    assert_eq!(gw.verify().await["verified"], json!(true));
    if let Db::Postgres(url) = &gw.opts.db {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.schemata \
             WHERE schema_name LIKE 'tappass_test_restore_%'",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        assert_eq!(left, 0, "the throwaway schema is dropped");
    }

    // A damaged file fails the test restore and names why.
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&file, &bytes).unwrap();
    let out = cli(&gw, &["backup", "test-restore", file.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("does not match its manifest"),
        "{}",
        text(&out)
    );
    assert_eq!(gw.audit_all().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_restore_checks_the_newest_backup_and_leaves_production_untouched_sqlite() {
    test_restore_untouched("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_restore_checks_the_newest_backup_and_leaves_production_untouched_postgres() {
    test_restore_untouched("postgres").await;
}

async fn bad_files_change_nothing(backend: &str) {
    let Some((db, _pg)) = common::database(backend).await else {
        return;
    };
    let upstream = Upstream::start(&[]);
    let (mut gw, _key) = busy_gateway(db, &upstream).await;
    let (file, _) = backup(&gw);
    let before = gw.audit_all().await;
    stop(&mut gw).await;
    let dir = common::tempdir();

    // Cut short (no manifest beside it, so only the file itself can tell): no COMMIT.
    let raw = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&file).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    let gz = |s: &str| {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(s.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let cut = dir.path().join("tappass-2026-01-01T000000.sql.gz");
    std::fs::write(&cut, gz(&raw[..raw.len() * 2 / 3])).unwrap();
    // Doctored: a statement no backup holds, in the middle.
    let doctored = dir.path().join("doctored.sql.gz");
    let evil = raw.replacen(
        "INSERT INTO api_keys",
        "DELETE FROM agents;\nINSERT INTO api_keys",
        1,
    );
    std::fs::write(&doctored, gz(&evil)).unwrap();
    // A manifest that does not match the file.
    let lying = dir.path().join("tappass-2026-01-02T000000.sql.gz");
    std::fs::copy(&file, &lying).unwrap();
    let mut m: Value = serde_json::from_slice(&std::fs::read(manifest_of(&file)).unwrap()).unwrap();
    m["sha256"] = json!("00".repeat(32));
    std::fs::write(manifest_of(&lying), m.to_string()).unwrap();

    for (bad, why) in [
        (&cut, "ends"),
        (&doctored, "not a statement a TapPass backup holds"),
        (&lying, "does not match its manifest"),
    ] {
        let out = cli(
            &gw,
            &["restore", "--no-safety-backup", bad.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains(why), "{why}: {}", text(&out));
    }
    let out = cli(&gw, &["restore", "/nonexistent/tappass-x.sql.gz"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no such backup file"), "{}", text(&out));

    gw.spawn().await;
    assert_eq!(gw.audit_all().await, before, "nothing was changed");
    assert_eq!(gw.verify().await["verified"], json!(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_doctored_or_mismatched_backups_change_nothing_sqlite() {
    bad_files_change_nothing("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_doctored_or_mismatched_backups_change_nothing_postgres() {
    bad_files_change_nothing("postgres").await;
}

/// Retention: backups older than `retention_days` go (with their manifests); the newest complete
/// one and recent ones stay; files that are not backups are never touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_only_old_backups() {
    let upstream = Upstream::start(&[]);
    let gw = Gateway::start(GatewayOpts::new(Db::Sqlite, &upstream)).await;
    let (first, _) = backup(&gw);
    let dir = first.parent().unwrap().to_path_buf();
    let old = chrono::Utc::now() - chrono::Duration::days(40);
    let recent = chrono::Utc::now() - chrono::Duration::days(3);
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H%M%S").to_string();
    for t in [old, recent] {
        let data = dir.join(format!("tappass-{}.sql.gz", stamp(t)));
        std::fs::copy(&first, &data).unwrap();
        std::fs::copy(manifest_of(&first), manifest_of(&data)).unwrap();
    }
    std::fs::write(dir.join("notes.txt"), "keep me").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = cli(&gw, &["backup"]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains(&format!("tappass-{}.sql.gz", stamp(old))),
        "{said}"
    );
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left.len(), 7, "{left:?}"); // 3 backups × 2 files + notes.txt
    assert!(!left.iter().any(|n| n.contains(&stamp(old))), "{left:?}");
    assert!(left.iter().any(|n| n.contains(&stamp(recent))), "{left:?}");

    let out = cli(&gw, &["backup", "list"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);

    // Bad retention settings are refused with the key named.
    let out = Command::new(bin())
        .args(["backup", "--state-dir"])
        .arg(&gw.state_dir)
        .env("TAPPASS_BACKUP__RETENTION_DAYS", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("backup.retention_days"),
        "{}",
        text(&out)
    );
}

/// `tappass doctor` names a missing or stale backup with the command that fixes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_missing_and_stale_backups_with_the_fix() {
    let upstream = Upstream::start(&[]);
    let gw = Gateway::start(GatewayOpts::new(Db::Sqlite, &upstream)).await;
    let doctor = |gw: &Gateway| String::from_utf8_lossy(&cli(gw, &["doctor"]).stdout).into_owned();
    let said = doctor(&gw);
    assert!(
        said.contains("warn  backup ") && said.contains("sudo tappass backup"),
        "{said}"
    );

    let (fresh, _) = backup(&gw);
    let said = doctor(&gw);
    assert!(
        said.contains("ok    backup ") && said.contains("0 hours old"),
        "{said}"
    );

    // Only a three-day-old backup left.
    let old = chrono::Utc::now() - chrono::Duration::days(3);
    let data = fresh.with_file_name(format!("tappass-{}.sql.gz", old.format("%Y-%m-%dT%H%M%S")));
    std::fs::rename(&fresh, &data).unwrap();
    std::fs::rename(manifest_of(&fresh), manifest_of(&data)).unwrap();
    let said = doctor(&gw);
    assert!(
        said.contains("warn  backup ")
            && said.contains("72 hours old")
            && said.contains("journalctl -u tappass-backup"),
        "{said}"
    );
}

/// A newer tappass migrated the database (a migration row beyond this build's, a table of its
/// own), then was rolled back: a plain restore refuses and changes nothing; `--reset-schema`
/// restores the backup at this build's schema, the daemon starts on it, every row is back.
async fn reset_schema(backend: &str) {
    let Some((db, _pg)) = common::database(backend).await else {
        return;
    };
    let upstream = Upstream::start(&[]);
    let (mut gw, key) = busy_gateway(db, &upstream).await;
    let (file, _) = backup(&gw);
    let events = gw.audit_all().await;
    stop(&mut gw).await;
    let checksum = if backend == "sqlite" {
        "x'00'"
    } else {
        "'\\x00'::bytea"
    };
    gw.sql("CREATE TABLE e2e_future (x TEXT)").await;
    gw.sql(&format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99, 'from the future', TRUE, {checksum}, 0)"
    ))
    .await;
    gw.sql("DELETE FROM audit_events WHERE seq > 3").await;

    let out = cli(&gw, &["restore", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("the database is at schema 99, newer than this tappass knows")
            && said.contains("--reset-schema")
            && said.contains("nothing was changed"),
        "{said}"
    );

    let out = cli(&gw, &["restore", "--reset-schema", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("schema reset from 99"), "{said}");
    assert!(
        said.contains("left in place: e2e_future"),
        "the newer version's table is named, not dropped: {said}"
    );
    assert!(said.contains("audit chain intact"), "{said}");
    // The safety backup holds the rows as this build reads them, at this build's schema.
    let safety = said
        .lines()
        .find_map(|l| l.strip_prefix("the database as it was is kept in "))
        .unwrap_or_else(|| panic!("no safety backup named: {said}"));
    let m: Value =
        serde_json::from_slice(&std::fs::read(manifest_of(Path::new(safety.trim()))).unwrap())
            .unwrap();
    assert_eq!(m["schema_version"], json!(2), "{m}");
    assert_eq!(m["rows"]["audit_events"], json!(3), "{m}");

    gw.spawn().await;
    assert_eq!(gw.audit_all().await, events, "every event is back");
    assert_eq!(gw.verify().await["verified"], json!(true));
    let (status, body) = gw.chat(&key, "gpt-4o-mini", "after the downgrade").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_resets_a_schema_a_newer_version_migrated_sqlite() {
    reset_schema("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_resets_a_schema_a_newer_version_migrated_postgres() {
    reset_schema("postgres").await;
}
