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
    let gov = match crate::governance::Governance::load(&cfg.governance) {
        Ok(g) => std::sync::Arc::new(g),
        Err(e) => {
            eprintln!("error: policy.dir {}: {e}", p.dir.display());
            return ExitCode::FAILURE;
        }
    };
    // A policy that refuses a plain request refuses every one: said, not fatal (it may be a
    // deliberate lock-down). OPA is not asked here.
    if p.opa_url.is_none() {
        let probe =
            super::runtime().block_on(crate::pipeline::steps::probe_policy(gov, "gpt-4o-mini"));
        match probe {
            Some(Ok(d)) if !d.allow => eprintln!(
                "warning: the policy denies a plain request (rule {}: {}): every request would be \
                 refused",
                d.rule.as_deref().unwrap_or("?"),
                d.reason.as_deref().unwrap_or("no reason given")
            ),
            Some(Err(e)) => {
                eprintln!("error: the policy cannot decide a plain request: {e}");
                return ExitCode::FAILURE;
            }
            _ => {}
        }
    }
    println!(
        "{}: ok (listen {}, database {}; {what})",
        file.display(),
        cfg.server.listen,
        cfg.database_url_redacted()
    );
    ExitCode::SUCCESS
}
