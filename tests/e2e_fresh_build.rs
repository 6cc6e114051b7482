//! A fresh machine builds and runs TapPass with nothing but what README.md lists (issue 9).
//!
//! - The README's fresh-machine packages are the ones the test rootfs has, and README,
//!   `rust-version` and CI name one toolchain version.
//! - The default build has no bindgen/libclang in its dependency graph (SQLite compiled in); the
//!   packages' feature links the system SQLite through bindgen instead.
//! - `make test`'s prerequisite check names what is missing and how to install it.
//! - In a minbase Debian rootfs with only the README's packages (no libclang, no -dev package
//!   but libc's) and the host's toolchain bind-mounted read-only, `cargo run --release -- serve`
//!   builds and serves, and `/health/ready` answers 200. The rootfs is not booted (a booted one
//!   would bring systemd and more); its target directory is cached outside the clone.
//!
//! The rootfs test needs root, systemd-nspawn, debootstrap and zstd: otherwise `SKIP` (a failure
//! under CI=true).

mod e2e;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use e2e::chroot::{Chroot, RunOptions};
use e2e::rootfs::{cache_dir, FRESH_INCLUDE};
use e2e::RootfsSpec;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `rust-version` from Cargo.toml.
fn rust_version() -> String {
    read("Cargo.toml")
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("Cargo.toml has rust-version")
        .to_string()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(repo());
    c
}

#[test]
fn readme_names_the_fresh_machine_packages_and_the_toolchain_version() {
    let readme = read("README.md");
    let want = format!("sudo apt install {}", FRESH_INCLUDE.join(" "));
    assert!(
        readme.contains(&want),
        "README.md must tell a fresh Debian/Ubuntu machine `{want}` (the packages the fresh-build \
         test's rootfs has)"
    );
    let version = rust_version();
    assert!(
        readme.contains(&format!("Rust {version}")),
        "README.md must state the toolchain version rust-version says (Rust {version})"
    );
    // CI runs `make test`, whose prerequisite check compares rustc with that same line.
    assert!(
        read("Makefile").contains("\ntest: prereqs") && read(".ci/run").contains("\nmake test\n"),
        "CI must run `make test`, and `make test` its prerequisite check"
    );
    assert!(read("tests/prereqs.sh").contains("rust-version"));
    // No machine-specific paths in the README's fresh-machine instructions.
    for path in ["/work/", "/root/", "/home/"] {
        assert!(
            !readme.contains(path),
            "README.md names a machine-specific path ({path})"
        );
    }
}

/// `cargo tree -e normal,build` (with extra cargo arguments), offline.
fn tree(args: &[&str]) -> String {
    let out = cargo()
        .args([
            "tree",
            "--locked",
            "--offline",
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ])
        .args(args)
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn has_crate(tree: &str, name: &str) -> bool {
    tree.lines()
        .any(|l| l.split_whitespace().next() == Some(name))
}

#[test]
fn default_build_has_no_bindgen_and_packages_link_the_system_sqlite() {
    let default = tree(&[]);
    for name in ["bindgen", "clang-sys"] {
        assert!(
            !has_crate(&default, name),
            "the default build depends on {name}: a fresh machine would need libclang"
        );
    }
    assert!(has_crate(&default, "libsqlite3-sys"));
    let features = tree(&["-e", "features", "-i", "libsqlite3-sys"]);
    assert!(
        features.contains("libsqlite3-sys feature \"bundled\""),
        "the default build compiles SQLite in:\n{features}"
    );

    let pkg = ["--no-default-features", "--features", "system-sqlite"];
    let packaged = tree(&pkg);
    assert!(
        has_crate(&packaged, "bindgen"),
        "system-sqlite generates bindings"
    );
    let mut args = pkg.to_vec();
    args.extend(["-e", "features", "-i", "libsqlite3-sys"]);
    let features = tree(&args);
    assert!(
        !features.contains("libsqlite3-sys feature \"bundled\"")
            && features.contains("libsqlite3-sys feature \"buildtime_bindgen\""),
        "the packages' build must link the system SQLite, not a bundled copy:\n{features}"
    );
}

/// A directory of symlinks to the shell tools the script itself uses and the named host tools
/// only: a PATH on which everything else is missing.
fn path_with(tools: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for t in SHELL_TOOLS.iter().chain(tools) {
        if let Some(p) = host_tool(t) {
            std::os::unix::fs::symlink(p, dir.path().join(t)).unwrap();
        }
    }
    dir
}

/// Where a host tool really is. `python3` may be a shim (pyenv) that needs its own environment:
/// link the interpreter it runs instead.
fn host_tool(name: &str) -> Option<PathBuf> {
    let found = e2e::which(name)?;
    if name != "python3" {
        return Some(found);
    }
    let out = Command::new(&found)
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()?;
    let exe = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    exe.is_file().then_some(exe)
}

fn prereqs(path: &Path, env: &[(&str, &str)], args: &[&str]) -> (bool, String) {
    let out = Command::new("/bin/sh")
        .arg(repo().join("tests/prereqs.sh"))
        .args(args)
        .env_clear()
        .env("PATH", path)
        .envs(env.iter().copied())
        .output()
        .expect("tests/prereqs.sh runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Tools the script itself uses (a POSIX userland).
const SHELL_TOOLS: &[&str] = &[
    "sh", "sed", "head", "awk", "sort", "printf", "dirname", "ls",
];

#[test]
fn make_test_names_each_missing_prerequisite_with_its_install_command() {
    let host_has_all = ["cargo", "rustc", "cc", "python3"]
        .iter()
        .all(|t| host_tool(t).is_some());
    if !host_has_all {
        assert!(
            !e2e::in_ci(),
            "CI machines have cargo, rustc, cc and python3"
        );
        eprintln!("SKIP: this machine lacks one of cargo, rustc, cc, python3");
        return;
    }
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or_default();
    let rustup_home = std::env::var("RUSTUP_HOME").unwrap_or_default();
    let home = std::env::var("HOME").unwrap_or_default();
    let env = [
        ("HOME", home.as_str()),
        ("CARGO_HOME", cargo_home.as_str()),
        ("RUSTUP_HOME", rustup_home.as_str()),
    ];

    // Everything there: passes and says so.
    let all = ["cargo", "rustc", "cc", "python3"];
    let dir = path_with(&all);
    let (ok, text) = prereqs(dir.path(), &env, &[]);
    assert!(ok, "all prerequisites present, yet:\n{text}");
    assert!(text.contains("prerequisites: Rust"), "{text}");

    // No C compiler, no Python: both named, each with its install command, exit 1.
    let dir = path_with(&["cargo", "rustc"]);
    let (ok, text) = prereqs(dir.path(), &env, &[]);
    assert!(!ok, "missing cc and python3 must fail:\n{text}");
    assert!(text.contains("missing: a C compiler (cc)"), "{text}");
    assert!(text.contains("sudo apt install build-essential"), "{text}");
    assert!(text.contains("missing: python3"), "{text}");
    assert!(
        text.contains("sudo apt install python3 python3-venv"),
        "{text}"
    );
    assert!(text.contains("2 prerequisite(s) missing"), "{text}");

    // A Python without venv/ensurepip (as Debian's python3 without python3-venv).
    let fake = tempfile::tempdir().unwrap();
    let py = fake.path().join("python3");
    std::fs::write(
        &py,
        "#!/bin/sh\necho 'No module named ensurepip' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&py, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let dir = path_with(&["cargo", "rustc", "cc"]);
    std::os::unix::fs::symlink(&py, dir.path().join("python3")).unwrap();
    let (ok, text) = prereqs(dir.path(), &env, &[]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("missing: python3 -m venv") && text.contains("sudo apt install python3-venv"),
        "{text}"
    );

    // A toolchain older than rust-version.
    let old = fake.path().join("rustc");
    std::fs::write(
        &old,
        "#!/bin/sh\necho 'rustc 1.70.0 (90c541806 2023-05-31)'\n",
    )
    .unwrap();
    std::fs::set_permissions(&old, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let dir = path_with(&["cargo", "cc", "python3"]);
    std::os::unix::fs::symlink(&old, dir.path().join("rustc")).unwrap();
    let (ok, text) = prereqs(dir.path(), &env, &[]);
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!(
            "missing: Rust {} or newer (rustc is 1.70.0)",
            rust_version()
        )),
        "{text}"
    );

    // The packages' feature also needs the system SQLite headers and libclang.
    let dir = path_with(&all);
    let (ok, text) = prereqs(
        dir.path(),
        &env,
        &["--no-default-features", "--features", "system-sqlite"],
    );
    assert!(
        !ok,
        "no pkg-config on PATH: the system SQLite cannot be found:\n{text}"
    );
    assert!(
        text.contains("sudo apt install libsqlite3-dev pkg-config"),
        "{text}"
    );
}

/// The host toolchain's root (`rustc --print sysroot`): bind-mounted read-only into the rootfs.
fn sysroot() -> PathBuf {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc runs");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME or CARGO_HOME")).join(".cargo")
        })
}

const SRC: &str = "/srv/tappass";

/// What runs inside: the checks that the machine is bare, the prerequisite check, the README's
/// build-and-serve command, and the readiness probe (Python's urllib: curl is not on the list).
const SCRIPT: &str = r#"set -eu
echo "packages installed: $(dpkg-query -W -f '${Package}\n' | wc -l)"
for p in libclang-dev libclang1-14 clang libsqlite3-dev; do
    if dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        echo "FAIL: $p is installed: the rootfs is not a fresh machine" >&2; exit 1
    fi
done
if ls /usr/lib/llvm-* /usr/lib/x86_64-linux-gnu/libclang* >/dev/null 2>&1; then
    echo "FAIL: libclang is present" >&2; exit 1
fi
sh tests/prereqs.sh
cargo --version
start=$(date +%s)
cargo build --release
echo "clean-or-cached release build took $(( $(date +%s) - start ))s"
if ldd target/release/tappass | grep -q sqlite; then
    echo "FAIL: the default build links a shared SQLite" >&2; exit 1
fi
cargo run --release -- serve >/tmp/serve.log 2>&1 &
ok=0
for i in $(seq 120); do
    if python3 - <<'PY'
import sys, urllib.request
try:
    r = urllib.request.urlopen("http://127.0.0.1:9620/health/ready", timeout=2)
    print("GET /health/ready ->", r.status, r.read().decode())
    sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
    then ok=1; break; fi
    sleep 0.5
done
echo "--- serve log"; cat /tmp/serve.log
[ "$ok" = 1 ] || { echo "FAIL: /health/ready did not answer 200" >&2; exit 1; }
echo "FRESH BUILD OK"
"#;

#[test]
fn fresh_debian_builds_and_serves_with_the_readme_command() {
    if !e2e::preflight() {
        return;
    }
    // Every crate the lock file names, in the host's registry cache; the rootfs builds offline
    // from it (it stands for a fresh machine's own download of the same crates).
    let fetch = cargo()
        .args(["fetch", "--locked"])
        .status()
        .expect("cargo fetch");
    assert!(fetch.success(), "cargo fetch --locked failed");

    let mut ch = Chroot::new(&RootfsSpec::FRESH).unwrap_or_else(|e| panic!("{e}"));
    // The source as a clone has it: tracked and untracked-but-not-ignored files.
    let dest = ch.root.join(SRC.trim_start_matches('/'));
    std::fs::create_dir_all(&dest).unwrap();
    let copy = Command::new("sh")
        .arg("-c")
        .arg(
            r#"git ls-files -z --cached --others --exclude-standard |
               tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$1" && chmod 755 "$1""#,
        )
        .arg("sh")
        .arg(&dest)
        .current_dir(repo())
        .status()
        .expect("copying the source");
    assert!(copy.success(), "copying the source into the rootfs failed");

    // Kept between runs, outside the clone, like the CI target directory.
    let target = cache_dir().join("fresh-build-target");
    std::fs::create_dir_all(&target).unwrap();
    let registry = cargo_home().join("registry");
    let opts = RunOptions {
        bind_ro: vec![(sysroot(), "/opt/rust".into())],
        bind: vec![
            (target, format!("{SRC}/target")),
            (registry, "/root/.cargo/registry".into()),
        ],
        env: vec![
            (
                "PATH".into(),
                "/opt/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            ),
            ("HOME".into(), "/root".into()),
            ("CARGO_HOME".into(), "/root/.cargo".into()),
            ("CARGO_NET_OFFLINE".into(), "true".into()),
            ("CARGO_TERM_COLOR".into(), "never".into()),
        ],
        chdir: Some(SRC.into()),
    };
    let out = ch.run(&opts, SCRIPT, Duration::from_secs(45 * 60));
    eprintln!("--- stdout\n{}\n--- stderr\n{}", out.stdout, out.stderr);
    assert!(
        out.ok() && out.stdout.contains("FRESH BUILD OK"),
        "the README's fresh-machine build failed in a rootfs with only {FRESH_INCLUDE:?} \
         (exit {:?}, timed out: {}): see the output above",
        out.code,
        out.timed_out
    );
}
