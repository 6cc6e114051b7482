//! Configuration files from arbitrary text: loading never panics, and a refusal names where
//! the problem is (the file, or the setting).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match tappass::config::load_text(Path::new("/etc/tappass/fuzz.toml"), text.to_owned(), &[]) {
        Ok(cfg) => {
            // What every command derives from a loaded configuration.
            let _ = cfg.state_dir();
            let _ = cfg.backup_dir();
            let _ = cfg.database_kind();
        }
        Err(e) => {
            let shown = e.to_string();
            assert!(!shown.is_empty());
        }
    }
});
