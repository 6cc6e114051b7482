//! `tappass config check FILE`.

use std::path::Path;
use std::process::ExitCode;

pub fn check(file: &Path) -> ExitCode {
    match crate::config::check_file(file) {
        Ok(cfg) => {
            println!(
                "{}: ok (listen {}, database {})",
                file.display(),
                cfg.server.listen,
                cfg.database_url_redacted()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
