//! `tappass config check FILE`: the configuration, then the policy it names compiled (the
//! `.rego` files of `[policy] dir`, or the built-in default) — so a broken policy is caught
//! before `systemctl reload` or a restart, which would keep or refuse it.

use std::path::Path;
use std::process::ExitCode;

pub fn check(file: &Path) -> ExitCode {
    let cfg = match crate::config::check_file(file) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let p = &cfg.governance.policy;
    let what = match (&p.opa_url, p.dir.is_dir()) {
        _ if !p.enabled => "policy disabled ([policy] enabled = false)".to_owned(),
        (Some(url), _) => format!("policy from OPA at {url} (checked when the daemon asks it)"),
        (None, true) => format!("policy {} compiled", p.dir.display()),
        (None, false) => format!(
            "no policy directory {}: the built-in default policy, compiled",
            p.dir.display()
        ),
    };
    // Loading compiles the Rego (regorus), exactly as start-up and reload do.
    if let Err(e) = crate::governance::Governance::load(&cfg.governance) {
        eprintln!("error: policy.dir {}: {e}", p.dir.display());
        return ExitCode::FAILURE;
    }
    println!(
        "{}: ok (listen {}, database {}; {what})",
        file.display(),
        cfg.server.listen,
        cfg.database_url_redacted()
    );
    ExitCode::SUCCESS
}
