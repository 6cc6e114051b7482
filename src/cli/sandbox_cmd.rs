//! `tappass sandbox check`: confine this process exactly as `tappass serve` would, then prove
//! the confinement by trying what must be denied and what must still work.

use std::process::ExitCode;

use super::ConfigArgs;
use crate::host::sandbox::{self, probe};

pub fn check(args: &ConfigArgs) -> ExitCode {
    let config = match args.load(None) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let state_dir = match crate::store::absolute(&config.state_dir()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: state directory: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match sandbox::confine(&config, &state_dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("sandbox: {}", report.summary());
    if let Some(reason) = &report.landlock.reason {
        println!("  reason: {reason}");
    }
    println!(
        "  landlock ABI {}; bind ports {:?}; connect ports {:?}; core dumps {}; not dumpable: {}",
        report.landlock.kernel_abi,
        report.bind_ports,
        report.connect_ports,
        report.core_dumps,
        !sandbox::process::is_dumpable()
    );
    let outcomes = probe::run(&probe::Target {
        config_file: config.source_file.as_deref(),
        state_dir: &state_dir,
        listen_port: config.server.listen.port(),
        connect_ports: &report.connect_ports,
    });
    for o in &outcomes {
        println!("{}", o.line());
    }
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    if failed == 0 {
        println!("sandbox check passed: {} probes", outcomes.len());
        ExitCode::SUCCESS
    } else {
        println!(
            "sandbox check FAILED: {failed} of {} probes",
            outcomes.len()
        );
        ExitCode::FAILURE
    }
}
