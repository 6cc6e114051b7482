//! The system's package manager, as `tappass upgrade` needs it: apt (Debian, Ubuntu) or dnf
//! (Fedora, RHEL). Both install only from signed repositories — apt checks each repository's
//! `InRelease` signature, dnf each package's with `gpgcheck` — which is the seed's "verify the
//! image signature". The one unsigned install is of a package this command kept itself, in a
//! root-only directory, checked against the SHA-256 it recorded.
//!
//! The parsers are pure and tested below; the commands run with no shell, the version checked
//! by [`valid_version`] first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The package's name in both ecosystems.
pub const PACKAGE: &str = "tappass";

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{command}: {message}")]
    Command { command: String, message: String },
    #[error("{0}")]
    Unavailable(String),
}

/// One package manager. Versions are the ecosystem's own strings (`1.2.0-1`, `1:1.2.0-1`).
pub trait PackageManager {
    /// `apt` or `dnf`.
    fn name(&self) -> &'static str;
    /// The installed version of tappass.
    fn installed(&self) -> Result<String, PackageError>;
    /// Refreshes the repository metadata (`apt-get update`, `dnf makecache`).
    fn refresh(&self) -> Result<(), PackageError>;
    /// Every version the configured repositories offer.
    fn available(&self) -> Result<Vec<String>, PackageError>;
    /// Puts the package file of `version` into `dir` (from the local cache, else the
    /// repository) and returns its path.
    fn fetch(&self, version: &str, dir: &Path) -> Result<PathBuf, PackageError>;
    /// The version inside a package file.
    fn file_version(&self, file: &Path) -> Result<String, PackageError>;
    /// Installs `version` from the repositories, upgrading or downgrading.
    fn install_version(&self, version: &str) -> Result<(), PackageError>;
    /// Installs a package file, upgrading or downgrading.
    fn install_file(&self, file: &Path) -> Result<(), PackageError>;
}

/// The package manager of this host: apt where dpkg knows tappass, else dnf where rpm does.
pub fn detect() -> Result<Box<dyn PackageManager>, PackageError> {
    let knows = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if knows("dpkg-query", &["-W", PACKAGE]) {
        return Ok(Box::new(Apt));
    }
    if knows("rpm", &["-q", PACKAGE]) {
        return Ok(Box::new(Dnf));
    }
    Err(PackageError::Unavailable(
        "tappass was not installed by a package manager here (neither dpkg nor rpm knows it): \
         upgrade it the way it was installed"
            .into(),
    ))
}

/// A version string as the package managers write them; anything else is refused before it
/// reaches a command line.
pub fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~:-_".contains(c))
}

fn run(cmd: &mut Command) -> Result<Output, PackageError> {
    let shown = format!("{cmd:?}").replace('"', "");
    let out = cmd.output().map_err(|e| PackageError::Command {
        command: shown.clone(),
        message: e.to_string(),
    })?;
    if out.status.success() {
        Ok(out)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let text = if stderr.trim().is_empty() {
            stdout
        } else {
            stderr
        };
        Err(PackageError::Command {
            command: shown,
            message: format!("{} — {}", out.status, tail(&text, 6)),
        })
    }
}

/// The last `n` non-empty lines of a command's output.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn stdout(out: Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// apt and dpkg.
pub struct Apt;

/// Options for every install: no questions, the administrator's changed configuration files
/// are kept.
const APT_INSTALL: &[&str] = &[
    "install",
    "-y",
    "-q",
    "--allow-downgrades",
    "-o",
    "Dpkg::Options::=--force-confdef",
    "-o",
    "Dpkg::Options::=--force-confold",
];

impl Apt {
    fn apt_get(args: &[&str]) -> Command {
        let mut cmd = Command::new("apt-get");
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    }
}

/// The versions in `apt-cache madison` output (`tappass | 1.2.0-1 | file:/srv/repo ./ Packages`).
pub fn parse_madison(text: &str) -> Vec<String> {
    let mut versions: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split('|').map(str::trim);
            (f.next()? == PACKAGE).then(|| f.next().map(str::to_owned))?
        })
        .filter(|v| !v.is_empty())
        .collect();
    versions.dedup();
    versions
}

/// The name apt gives a downloaded package: the epoch's colon is escaped as `%3a`.
pub fn deb_file_name(version: &str, arch: &str) -> String {
    format!("{PACKAGE}_{}_{arch}.deb", version.replace(':', "%3a"))
}

impl PackageManager for Apt {
    fn name(&self) -> &'static str {
        "apt"
    }

    fn installed(&self) -> Result<String, PackageError> {
        let out = run(Command::new("dpkg-query").args([
            "-W",
            "--showformat=${db:Status-Abbrev} ${Version}",
            PACKAGE,
        ]))?;
        let text = stdout(out);
        match text.split_once(' ') {
            Some((status, version)) if status.starts_with("ii") => Ok(version.trim().to_owned()),
            _ => Err(PackageError::Unavailable(format!(
                "dpkg says tappass is not fully installed ({text}): repair it first with `apt-get \
                 install -f`"
            ))),
        }
    }

    fn refresh(&self) -> Result<(), PackageError> {
        run(&mut Apt::apt_get(&["update", "-q"])).map(|_| ())
    }

    fn available(&self) -> Result<Vec<String>, PackageError> {
        let out = run(Command::new("apt-cache").args(["madison", PACKAGE]))?;
        Ok(parse_madison(&stdout(out)))
    }

    fn fetch(&self, version: &str, dir: &Path) -> Result<PathBuf, PackageError> {
        let arch = stdout(run(Command::new("dpkg").arg("--print-architecture"))?);
        let name = deb_file_name(version, &arch);
        let dest = dir.join(&name);
        let cached = Path::new("/var/cache/apt/archives").join(&name);
        if cached.is_file() {
            std::fs::copy(&cached, &dest).map_err(|e| PackageError::Command {
                command: format!("copying {}", cached.display()),
                message: e.to_string(),
            })?;
        } else {
            // apt's download sandbox user cannot write into a root-only directory.
            let spec = format!("{PACKAGE}={version}");
            run(
                Apt::apt_get(&["download", "-q", "-o", "APT::Sandbox::User=root", &spec])
                    .current_dir(dir),
            )?;
        }
        if dest.is_file() {
            Ok(dest)
        } else {
            Err(PackageError::Unavailable(format!(
                "{version}: no {name} in apt's cache nor from `apt-get download`"
            )))
        }
    }

    fn file_version(&self, file: &Path) -> Result<String, PackageError> {
        let out = run(Command::new("dpkg-deb")
            .args(["-f"])
            .arg(file)
            .args(["Package", "Version"]))?;
        let text = stdout(out);
        let field = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_owned()))
        };
        match (field("Package:"), field("Version:")) {
            (Some(p), Some(v)) if p == PACKAGE => Ok(v),
            _ => Err(PackageError::Unavailable(format!(
                "{} is not a tappass package: {text}",
                file.display()
            ))),
        }
    }

    fn install_version(&self, version: &str) -> Result<(), PackageError> {
        let spec = format!("{PACKAGE}={version}");
        let mut args = APT_INSTALL.to_vec();
        args.push(&spec);
        run(&mut Apt::apt_get(&args)).map(|_| ())
    }

    fn install_file(&self, file: &Path) -> Result<(), PackageError> {
        let path = file.display().to_string();
        let mut args = APT_INSTALL.to_vec();
        args.extend(["-o", "APT::Sandbox::User=root", &path]);
        run(&mut Apt::apt_get(&args)).map(|_| ())
    }
}

/// dnf and rpm.
pub struct Dnf;

/// The versions in `dnf list --showduplicates tappass` output
/// (`tappass.x86_64    1.2.0-1.fc40    tappass-repo`).
pub fn parse_dnf_list(text: &str) -> Vec<String> {
    let mut versions: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let name = f.next()?;
            let (pkg, _arch) = name.rsplit_once('.')?;
            (pkg == PACKAGE).then(|| f.next().map(str::to_owned))?
        })
        .collect();
    versions.dedup();
    versions
}

impl Dnf {
    fn dnf(args: &[&str]) -> Command {
        let mut cmd = Command::new("dnf");
        cmd.args(args);
        cmd
    }
}

impl PackageManager for Dnf {
    fn name(&self) -> &'static str {
        "dnf"
    }

    fn installed(&self) -> Result<String, PackageError> {
        let out = run(Command::new("rpm").args(["-q", "--qf", "%{VERSION}-%{RELEASE}", PACKAGE]))?;
        Ok(stdout(out))
    }

    fn refresh(&self) -> Result<(), PackageError> {
        run(&mut Dnf::dnf(&["makecache", "-q"])).map(|_| ())
    }

    fn available(&self) -> Result<Vec<String>, PackageError> {
        let out = run(&mut Dnf::dnf(&["list", "--showduplicates", "-q", PACKAGE]))?;
        Ok(parse_dnf_list(&stdout(out)))
    }

    fn fetch(&self, version: &str, dir: &Path) -> Result<PathBuf, PackageError> {
        let spec = format!("{PACKAGE}-{version}");
        let d = dir.display().to_string();
        run(&mut Dnf::dnf(&["download", "-q", "--destdir", &d, &spec]))?;
        let found = std::fs::read_dir(dir)
            .map_err(|e| PackageError::Unavailable(format!("{d}: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&spec) && n.ends_with(".rpm"))
            });
        found.ok_or_else(|| {
            PackageError::Unavailable(format!("{version}: `dnf download` wrote no {spec}*.rpm"))
        })
    }

    fn file_version(&self, file: &Path) -> Result<String, PackageError> {
        let out = run(Command::new("rpm")
            .args(["-qp", "--qf", "%{NAME} %{VERSION}-%{RELEASE}"])
            .arg(file))?;
        let text = stdout(out);
        match text.split_once(' ') {
            Some((PACKAGE, v)) => Ok(v.to_owned()),
            _ => Err(PackageError::Unavailable(format!(
                "{} is not a tappass package: {text}",
                file.display()
            ))),
        }
    }

    fn install_version(&self, version: &str) -> Result<(), PackageError> {
        let spec = format!("{PACKAGE}-{version}");
        run(&mut Dnf::dnf(&["install", "-y", "-q", &spec]))?;
        // `dnf install` does not go back to an older version; `dnf downgrade` does.
        if self.installed()? != version {
            run(&mut Dnf::dnf(&["downgrade", "-y", "-q", &spec]))?;
        }
        Ok(())
    }

    fn install_file(&self, file: &Path) -> Result<(), PackageError> {
        run(Command::new("rpm").args(["-U", "--oldpackage"]).arg(file)).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_checked_before_any_command_line() {
        for ok in [
            "1.2.0-1",
            "1:1.2.0-1",
            "0.1.0~rc1+e2e.2",
            "2.0.0-1.fc40",
            "3_1",
        ] {
            assert!(valid_version(ok), "{ok}");
        }
        for bad in [
            "",
            "latest",
            "-o Dpkg::Options::=--force-all",
            "1.0 2.0",
            "1.0;reboot",
            "1.0/../x",
            "1.0\n",
            &"1".repeat(129),
        ] {
            assert!(!valid_version(bad), "{bad:?}");
        }
    }

    #[test]
    fn madison_lists_each_version_once() {
        let text = "  tappass | 0.2.0+e2e.broken | file:/srv/repo ./ Packages\n\
                    \x20 tappass |    0.2.0-1 | file:/srv/repo ./ Packages\n\
                    \x20 tappass |    0.2.0-1 | http://deb.example/ stable/main amd64 Packages\n\
                    tappass-extra | 9.9 | x\n\n";
        assert_eq!(parse_madison(text), vec!["0.2.0+e2e.broken", "0.2.0-1"]);
        assert!(parse_madison("").is_empty());
        assert!(parse_madison("N: Unable to locate package tappass").is_empty());
    }

    #[test]
    fn dnf_list_gives_the_versions() {
        let text = "Installed Packages\n\
                    tappass.x86_64    1.0.0-1.fc40    @tappass\n\
                    Available Packages\n\
                    tappass.x86_64    1.0.0-1.fc40    tappass\n\
                    tappass.x86_64    1.1.0-1.fc40    tappass\n\
                    tappass-debuginfo.x86_64 1.1.0-1.fc40 tappass\n";
        assert_eq!(
            parse_dnf_list(text),
            vec!["1.0.0-1.fc40", "1.1.0-1.fc40"],
            "the installed line and the next available line are the same version"
        );
    }

    #[test]
    fn apt_escapes_the_epoch_in_file_names() {
        assert_eq!(
            deb_file_name("1:2.0.0-1", "amd64"),
            "tappass_1%3a2.0.0-1_amd64.deb"
        );
        assert_eq!(
            deb_file_name("0.2.0-1", "arm64"),
            "tappass_0.2.0-1_arm64.deb"
        );
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\n\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("", 3), "");
    }
}
