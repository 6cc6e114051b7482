//! `tappass upgrade` on a booted systemd (issue 12), through apt from a local repository the
//! test makes and signs with its own key:
//!
//! 1. the release is installed from that repository, configured, and given agents and traffic;
//! 2. `tappass upgrade NEXT` (a real newer build) with the installed version's package gone from
//!    apt's cache, so it is kept by `apt-get download`: upgraded, ready, every event kept;
//! 3. `tappass upgrade --rollback`: the kept package is back, the database untouched;
//! 4. `tappass upgrade BROKEN`, a package whose daemon migrates the schema one step beyond what
//!    the release knows and then fails to start: the command rolls back by itself — the release
//!    reinstalled, the pre-upgrade backup restored at the release's schema, the service ready,
//!    every event there and the chain verifying;
//! 5. a version served only from an unsigned repository is refused, and nothing changes.
//!
//! The packages come from `TAPPASS_E2E_DEB` and `TAPPASS_E2E_DEB_NEXT` (`make e2e-packages`);
//! the broken one is repacked from the first inside the container. Without them the test
//! prints SKIP — or fails under `CI=true`.

mod e2e;

use std::path::PathBuf;
use std::time::Duration;

use e2e::container::Container;
use e2e::tappass as tp;
use e2e::{ensure, step, BootOptions, RootfsSpec};

const UNIT: &str = "tappass.service";
const REPO: &str = "/srv/tappass-repo";
const UNSIGNED_REPO: &str = "/srv/unsigned-repo";
const KEYRING: &str = "/etc/apt/keyrings/tappass-e2e.asc";
const KEPT: &str = "/var/lib/tappass-upgrade/packages";
const STATE: &str = "/var/lib/private/tappass";

fn packages() -> Option<(PathBuf, PathBuf)> {
    let get = |var: &str| {
        std::env::var_os(var).map(PathBuf::from).inspect(|p| {
            assert!(p.is_file(), "{var}={} does not exist", p.display());
        })
    };
    match (get("TAPPASS_E2E_DEB"), get("TAPPASS_E2E_DEB_NEXT")) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => {
            let why = "TAPPASS_E2E_DEB and TAPPASS_E2E_DEB_NEXT are not both set (run `make \
                       e2e-packages`)";
            assert!(
                !e2e::in_ci(),
                "the upgrade e2e is required under CI=true, but {why}"
            );
            eprintln!("SKIP: {why}");
            None
        }
    }
}

/// The daemon of the broken version: it migrates the schema beyond what the release knows
/// (a migration row and a table the release has never heard of), then exits 1.
const BROKEN_BINARY: &str = r#"#!/bin/sh
# tappass, deliberately broken for the upgrade e2e test.
if [ "$1" = serve ]; then
	sqlite3 /var/lib/tappass/tappass.db "CREATE TABLE IF NOT EXISTS e2e_future (x TEXT);
	  INSERT OR IGNORE INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time)
	  VALUES (99, 'from the future', CURRENT_TIMESTAMP, 1, x'00', 0);"
	echo "tappass (deliberately broken by the e2e test): cannot start after migrating" >&2
fi
exit 1
"#;

/// Makes the signed repository (the release, NEXT and BROKEN) and an unsigned one (UNSIGNED),
/// and points apt at both, and at nothing else. Returns (release, next, broken, unsigned)
/// versions.
fn make_repositories(ct: &Container) -> Result<[String; 4], String> {
    let script = format!(
        r#"set -eu
release=$(dpkg-deb -f /var/tmp/release.deb Version)
next=$(dpkg-deb -f /var/tmp/next.deb Version)
broken="$release+e2e.broken"
unsigned="$release+e2e.unsigned"
repack() {{ # $1 version, $2 destination
	rm -rf /var/tmp/repack; dpkg-deb -R /var/tmp/release.deb /var/tmp/repack
	sed -i "s/^Version: .*/Version: $1/" /var/tmp/repack/DEBIAN/control
	if [ -n "${{3:-}}" ]; then install -m 0755 "$3" /var/tmp/repack/usr/bin/tappass; fi
	dpkg-deb --root-owner-group -b /var/tmp/repack "$2" >/dev/null
}}
mkdir -p {REPO} {UNSIGNED_REPO}
cp /var/tmp/release.deb /var/tmp/next.deb {REPO}/
repack "$broken" {REPO}/broken.deb /var/tmp/broken-tappass
repack "$unsigned" {UNSIGNED_REPO}/unsigned.deb
export GNUPGHOME=/root/e2e-gnupg
rm -rf "$GNUPGHOME"; mkdir -m 0700 "$GNUPGHOME"
gpg --batch -q --passphrase '' --quick-gen-key 'TapPass e2e repository <e2e@tappass.invalid>' ed25519 sign never
install -d -m 0755 /etc/apt/keyrings
gpg --batch -q --armor --export > {KEYRING}
for d in {REPO} {UNSIGNED_REPO}; do
	(cd $d && apt-ftparchive packages . > Packages && apt-ftparchive release . > Release)
done
(cd {REPO} && gpg --batch -q --yes --clearsign -o InRelease Release)
rm -f /etc/apt/sources.list; rm -rf /etc/apt/sources.list.d; mkdir /etc/apt/sources.list.d
echo "deb [signed-by={KEYRING}] file:{REPO} ./" > /etc/apt/sources.list.d/tappass.list
echo "deb [signed-by={KEYRING}] file:{UNSIGNED_REPO} ./" > /etc/apt/sources.list.d/unsigned.list
chmod -R a+rX {REPO} {UNSIGNED_REPO}
apt-get update -q 2>&1 || true
echo "VERSIONS $release $next $broken $unsigned"
"#
    );
    ct.write_file("/var/tmp/broken-tappass", BROKEN_BINARY.as_bytes(), 0o755)?;
    let out = ct.sh_timeout(&script, Duration::from_secs(180)).check()?;
    ensure(
        out.stdout.contains("is not signed") || out.stdout.contains("NO_PUBKEY"),
        || format!("apt accepted the unsigned repository:\n{out}"),
    )?;
    let line = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("VERSIONS "))
        .ok_or_else(|| format!("no versions: {out}"))?;
    let v: Vec<String> = line.split(' ').map(str::to_owned).collect();
    ensure(v.len() == 4 && v[0] != v[1], || format!("versions: {line}"))?;
    Ok([v[0].clone(), v[1].clone(), v[2].clone(), v[3].clone()])
}

fn installed(ct: &Container) -> String {
    ct.exec(&["dpkg-query", "-W", "--showformat=${Version}", "tappass"])
        .trimmed()
        .to_owned()
}

fn ready(ct: &Container) -> Result<(), String> {
    e2e::wait_for(Duration::from_secs(60), Duration::from_millis(250), || {
        tp::http(ct, "GET", &tp::gateway_url("/health/ready"), None, None)
            .ok()
            .filter(|r| r.status == 200)
    })
    .map(|_| ())
    .map_err(|w| format!("/health/ready not 200 after {w:?}\n{}", ct.diagnose(UNIT)))
}

/// `tappass audit verify`: the number of events verified, when the chain is intact.
fn verified_events(ct: &Container) -> Result<u64, String> {
    let out = ct
        .exec_timeout(
            &["tappass", "audit", "verify", "--json"],
            Duration::from_secs(120),
        )
        .check()?;
    let v: serde_json::Value =
        serde_json::from_str(&out.stdout).map_err(|e| format!("{e}: {out}"))?;
    ensure(v["verified"] == true, || format!("the chain: {out}"))?;
    v["events_checked"]
        .as_u64()
        .ok_or_else(|| format!("no event count: {out}"))
}

fn upgrade(ct: &Container, args: &[&str]) -> e2e::Out {
    let mut v = vec!["tappass", "upgrade"];
    v.extend_from_slice(args);
    ct.exec_timeout(&v, Duration::from_secs(400))
}

#[test]
fn upgrade_rolls_back_a_broken_version_by_itself() {
    if !e2e::preflight() {
        return;
    }
    let Some((release_deb, next_deb)) = packages() else {
        return;
    };
    let ct = Container::boot(&RootfsSpec::UPGRADE, &BootOptions::default())
        .unwrap_or_else(|e| panic!("booting the container failed: {e}"));
    ct.copy_in(
        std::path::Path::new(env!("CARGO_BIN_EXE_tappass-fake-upstream")),
        "/usr/bin/tappass-fake-upstream",
        0o755,
    )
    .unwrap();
    let mut versions = Default::default();
    let mut agent_key = String::new();
    let mut events = 0;

    step(
        "a signed and an unsigned repository; the release installed from the first",
        || {
            ct.copy_in(&release_deb, "/var/tmp/release.deb", 0o644)?;
            ct.copy_in(&next_deb, "/var/tmp/next.deb", 0o644)?;
            versions = make_repositories(&ct)?;
            let [release, ..] = &versions;
            let spec = format!("tappass={release}");
            let out = ct.exec_timeout(
                &[
                    "env",
                    "DEBIAN_FRONTEND=noninteractive",
                    "apt-get",
                    "install",
                    "-y",
                    "-q",
                    &spec,
                ],
                Duration::from_secs(300),
            );
            ensure(out.ok(), || format!("apt-get install {spec}: {out}"))?;
            tp::start_fake_upstream(&ct, 0, "sk-e2e-upgrade")?;
            tp::write_config(&ct, &tp::config_toml(""))?;
            // The provider key as a credential, the way an operator adds secrets.
            ct.write_file(
                "/etc/systemd/system/tappass.service.d/e2e.conf",
                format!(
                    "[Service]\nLoadCredential=openai-api-key:{}\n",
                    tp::UPSTREAM_KEY_FILE
                )
                .as_bytes(),
                0o644,
            )?;
            ct.daemon_reload()?;
            ct.start_unit("restart", UNIT)?;
            ready(&ct)?;
            let admin = ct.read_file(&format!("{STATE}/admin.key"))?;
            agent_key = tp::create_agent(&ct, admin.trim(), "billing")?;
            for i in 0..5 {
                let r = tp::chat(&ct, &agent_key, &format!("before the upgrades {i}"))?;
                ensure(r.status == 200, || format!("chat: {} {}", r.status, r.body))?;
            }
            events = verified_events(&ct)?;
            ensure(events >= 6, || format!("{events} events"))
        },
    );
    let [release, next, broken, unsigned] = versions;

    step(
        "upgrade to the next build: ready, every event kept, the release's package kept",
        || {
            // Not in apt's cache any more: the upgrade must fetch it to keep it.
            ct.sh("rm -f /var/cache/apt/archives/tappass_*.deb")
                .check()?;
            let out = upgrade(&ct, &[&next]);
            ensure(out.code == Some(0), || {
                format!("tappass upgrade {next}: {out}")
            })?;
            ensure(
                out.stdout
                    .contains(&format!("upgraded tappass {release} -> {next}")),
                || format!("{out}"),
            )?;
            ensure(out.stderr.contains("progress task=upgrade"), || {
                format!("{out}")
            })?;
            ensure(installed(&ct) == next, || {
                format!("installed: {}", installed(&ct))
            })?;
            ready(&ct)?;
            let kept = ct.exec(&["ls", KEPT]).check()?.stdout;
            ensure(kept.contains(&format!("tappass_{release}_")), || {
                format!("the release's package was not kept: {kept}")
            })?;
            let r = tp::chat(&ct, &agent_key, "after the upgrade")?;
            ensure(r.status == 200, || format!("chat: {} {}", r.status, r.body))?;
            let now = verified_events(&ct)?;
            ensure(now > events, || {
                format!("{now} events after, {events} before")
            })?;
            events = now;
            Ok(())
        },
    );

    step(
        "upgrade --rollback: the kept release is back, the database untouched",
        || {
            let out = upgrade(&ct, &["--rollback"]);
            ensure(out.code == Some(0), || {
                format!("tappass upgrade --rollback: {out}")
            })?;
            ensure(out.stdout.contains("ROLLED BACK"), || format!("{out}"))?;
            ensure(out.stderr.contains("the database is kept as it is"), || {
                format!("{out}")
            })?;
            ensure(installed(&ct) == release, || {
                format!("installed: {}", installed(&ct))
            })?;
            ready(&ct)?;
            let now = verified_events(&ct)?;
            ensure(now == events, || {
                format!("{now} events after, {events} before")
            })
        },
    );

    step(
        "upgrade to a broken version: rolled back by itself, schema and all",
        || {
            let out = upgrade(&ct, &[&broken, "--timeout", "20"]);
            ensure(out.code == Some(1), || {
                format!("tappass upgrade {broken}: {out}")
            })?;
            eprintln!("{out}");
            // Either the 20 s pass, or systemd's start limit fails the unit first.
            ensure(
                out.stdout.contains("not ready within 20 s")
                    || out.stdout.contains("tappass.service failed"),
                || format!("why the new version was rolled back is not said: {out}"),
            )?;
            for said in [
                "ROLLED BACK",
                &format!("tappass {release} is installed again and ready"),
                "deliberately broken",
                "schema reset from 99",
                "e2e_future",
                "audit chain intact",
            ] {
                ensure(
                    out.stdout.contains(said) || out.stderr.contains(said),
                    || format!("{said:?} missing: {out}"),
                )?;
            }
            ensure(installed(&ct) == release, || {
                format!("installed: {}", installed(&ct))
            })?;
            ready(&ct)?;
            let now = verified_events(&ct)?;
            ensure(now == events, || {
                format!("{now} events after, {events} before")
            })?;
            let r = tp::chat(&ct, &agent_key, "after the rollback")?;
            ensure(r.status == 200, || format!("chat: {} {}", r.status, r.body))?;
            let doctor = ct.exec_timeout(&["tappass", "doctor"], Duration::from_secs(120));
            let line = format!("ok    upgrade        last: {broken} rolled back to {release}");
            ensure(doctor.stdout.contains(&line), || {
                format!("the doctor does not say {line:?}: {doctor}")
            })?;
            let record = ct.read_file("/var/lib/tappass-upgrade/upgrade.json")?;
            ensure(record.contains("\"outcome\": \"rolled_back\""), || {
                record.clone()
            })?;
            let mode = ct
                .exec(&["stat", "-c", "%a %U", "/var/lib/tappass-upgrade"])
                .check()?;
            ensure(mode.trimmed() == "700 root", || {
                format!("the kept packages' directory: {mode}")
            })
        },
    );

    step(
        "a version only an unsigned repository serves is refused; nothing changes",
        || {
            let out = upgrade(&ct, &[&unsigned]);
            ensure(out.code == Some(2), || {
                format!("tappass upgrade {unsigned}: {out}")
            })?;
            eprintln!("{out}");
            ensure(
                out.stderr
                    .contains("is not in the configured apt repositories")
                    && out.stderr.contains("nothing was changed"),
                || format!("{out}"),
            )?;
            ensure(installed(&ct) == release, || {
                format!("installed: {}", installed(&ct))
            })?;
            ensure(ct.active_state(UNIT) == "active", || ct.diagnose(UNIT))
        },
    );
    ct.shutdown();
}
