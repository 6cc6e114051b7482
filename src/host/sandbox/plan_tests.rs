use std::path::{Path, PathBuf};

use super::*;
use crate::config::{load_from, Overrides};

fn config(toml: &str) -> Config {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tappass.toml");
    std::fs::write(&file, toml).unwrap();
    load_from(Some(&file), &[], &Overrides::default()).unwrap()
}

fn plan_of(toml: &str) -> Plan {
    plan(
        &config(toml),
        Path::new("/var/lib/tappass"),
        &HostDirs::default(),
        None,
    )
}

#[test]
fn defaults_connect_only_to_https_and_dns_and_bind_the_listen_port() {
    let p = plan_of("");
    assert_eq!(p.connect, BTreeSet::from([53, 443]));
    assert_eq!(p.bind, BTreeSet::from([9620]));
}

#[test]
fn provider_database_redis_and_opa_ports_are_allowed() {
    let mut c = config(
        "[providers.ollama]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:11434/v1\"\n\
         [database]\nurl = \"postgres://u@db.example:6543/tappass\"\n\
         [policy]\nopa_url = \"http://127.0.0.1:8181\"\n\
         [server]\nlisten = \"0.0.0.0:8443\"\n",
    );
    c.governance.policy.enabled = true;
    let p = plan(
        &c,
        Path::new("/s"),
        &HostDirs::default(),
        Some("rediss://:pw@cache:6380/0"),
    );
    assert_eq!(
        p.connect,
        BTreeSet::from([53, 443, 6380, 6543, 8181, 11434])
    );
    assert_eq!(p.bind, BTreeSet::from([8443]));
}

#[test]
fn port_parsing() {
    assert_eq!(url_port("https://api.openai.com/v1"), Some(443));
    assert_eq!(url_port("http://h:8080"), Some(8080));
    assert_eq!(url_port("not a url"), None);
    assert_eq!(postgres_port("postgres://u@h/db"), Some(5432));
    assert_eq!(postgres_port("postgresql://u@h:1/db"), Some(1));
    assert_eq!(postgres_port("postgresql:///db?host=/run/postgresql"), None);
    assert_eq!(postgres_port("postgresql:///db?host=h&port=7"), Some(7));
    assert_eq!(redis_port("redis://127.0.0.1/"), Some(6379));
    assert_eq!(redis_port("redis+unix:///run/redis.sock"), None);
}

#[test]
fn reads_config_dir_credentials_and_system_paths_writes_state_runtime_cache() {
    let c = config("[sandbox]\nread_paths = [\"/opt/ca\"]\nwrite_paths = [\"/srv/spool\"]\n");
    let dirs = HostDirs {
        credentials: Some("/run/credentials/tappass.service".into()),
        runtime: vec!["/run/tappass".into()],
        cache: vec!["/var/cache/tappass".into()],
    };
    let p = plan(&c, Path::new("/var/lib/tappass"), &dirs, None);
    let conf_dir = c.source_file.as_ref().unwrap().parent().unwrap();
    for want in [
        conf_dir,
        Path::new("/run/credentials/tappass.service"),
        Path::new("/etc/ssl/certs"),
        Path::new("/etc/resolv.conf"),
        Path::new("/usr/lib"),
        Path::new("/opt/ca"),
    ] {
        assert!(p.read.iter().any(|r| r == want), "{want:?} not readable");
    }
    let write: Vec<PathBuf> = [
        "/dev/null",
        "/var/lib/tappass",
        "/run/tappass",
        "/var/cache/tappass",
        "/srv/spool",
    ]
    .into_iter()
    .map(PathBuf::from)
    .collect();
    assert_eq!(p.write, write);
    // Nothing that grants more than it should.
    for never in [
        "/", "/etc", "/usr", "/usr/bin", "/bin", "/home", "/root", "/tmp", "/proc",
    ] {
        assert!(
            !p.read.iter().chain(&p.write).any(|r| r == Path::new(never)),
            "{never} must not be allowed"
        );
    }
}

#[test]
fn policy_dir_is_readable_only_for_embedded_rego() {
    let mut c = config("[policy]\ndir = \"/etc/tappass/policies\"\n");
    c.governance.policy.enabled = true;
    let rego = plan(&c, Path::new("/s"), &HostDirs::default(), None);
    assert!(rego.read.contains(&PathBuf::from("/etc/tappass/policies")));
    c.governance.policy.opa_url = Some("http://127.0.0.1:8181".into());
    let opa = plan(&c, Path::new("/s"), &HostDirs::default(), None);
    assert!(!opa.read.contains(&PathBuf::from("/etc/tappass/policies")));
}

#[test]
fn no_config_file_means_the_default_config_dir() {
    let c = load_from(None, &[], &Overrides::default()).unwrap();
    let p = plan(&c, Path::new("/s"), &HostDirs::default(), None);
    assert!(p.read.contains(&PathBuf::from(DEFAULT_CONFIG_DIR)));
}

#[test]
fn a_sqlite_file_outside_the_state_dir_makes_its_directory_writable() {
    let c = config("[database]\nurl = \"sqlite:///srv/db/tappass.db\"\n");
    let p = plan(&c, Path::new("/s"), &HostDirs::default(), None);
    assert!(p.write.contains(&PathBuf::from("/srv/db")));
}
