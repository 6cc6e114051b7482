//! `tappass completions <SHELL>` and the hidden `tappass manpage`: shell completions and the
//! manual page, generated from the clap definition of the command line so that they cannot drift
//! from `--help`. The packages ship both (`make deb`, `make rpm` generate them into
//! `target/assets/`); nothing generated is committed.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Arg, ArgAction, Command, CommandFactory, ValueEnum};
use clap_mangen::roff::{bold, italic, roman, Inline, Roff};

/// The shells the packages install completions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

impl From<CompletionShell> for clap_complete::Shell {
    fn from(shell: CompletionShell) -> Self {
        match shell {
            CompletionShell::Bash => clap_complete::Shell::Bash,
            CompletionShell::Zsh => clap_complete::Shell::Zsh,
            CompletionShell::Fish => clap_complete::Shell::Fish,
        }
    }
}

/// Writes the completion script for `shell` to standard output.
pub fn completions(shell: CompletionShell) -> ExitCode {
    let mut cmd = super::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(
        clap_complete::Shell::from(shell),
        &mut cmd,
        "tappass",
        &mut out,
    );
    write_stdout(&out)
}

/// Writes the manual page tappass(1), in roff, to standard output.
pub fn manpage() -> ExitCode {
    match render_manpage() {
        Ok(page) => write_stdout(&page),
        Err(e) => {
            eprintln!("error: cannot render the manual page: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write_stdout(bytes: &[u8]) -> ExitCode {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`tappass manpage | head`) is not worth a message.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            ExitCode::FAILURE
        }
    }
}

/// tappass(1): clap_mangen's title, NAME, SYNOPSIS, DESCRIPTION and OPTIONS, then one COMMANDS
/// section describing every (sub)command with its options — one page, instead of clap_mangen's
/// default of a page per subcommand — the options the configuration-reading commands share, and
/// the FILES, ENVIRONMENT, EXIT STATUS and SEE ALSO sections a daemon's page needs. The date is
/// `$SOURCE_DATE_EPOCH` when set (reproducible packages), else today.
pub fn render_manpage() -> io::Result<Vec<u8>> {
    let mut cmd = super::Cli::command()
        .disable_help_subcommand(true)
        .long_about(DESCRIPTION);
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone())
        .title("TAPPASS")
        .section("1")
        .date(manpage_date())
        .manual("TapPass manual");

    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;

    let mut roff = Roff::new();
    roff.control("SH", ["COMMANDS"]);
    let mut shared = Vec::new();
    for sub in visible_subcommands(&cmd) {
        render_command(&mut roff, sub, &mut shared);
    }
    if !shared.is_empty() {
        roff.control("SH", ["COMMON OPTIONS"]);
        roff.text([roman(
            "Accepted by every command above whose usage shows [OPTIONS] and that reads the \
             configuration or the database:",
        )]);
        for arg in &shared {
            render_arg(&mut roff, arg);
        }
    }
    roff.control("SH", ["FILES"]);
    for (path, text) in FILES {
        roff.control("TP", []);
        roff.text([italic(*path)]);
        roff.text([roman(*text)]);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, text) in ENVIRONMENT {
        roff.control("TP", []);
        roff.text([bold(*name)]);
        roff.text([roman(*text)]);
    }
    roff.control("SH", ["EXIT STATUS"]);
    roff.text([roman(EXIT_STATUS)]);
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(SEE_ALSO)]);
    roff.to_writer(&mut out)?;
    Ok(dedup_preamble(out))
}

/// `YYYY-MM-DD` of `$SOURCE_DATE_EPOCH`, else of today.
fn manpage_date() -> String {
    let when = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now);
    when.format("%Y-%m-%d").to_string()
}

/// Every roff fragment clap_mangen renders starts with the same two-line string definition;
/// the page needs it once.
fn dedup_preamble(page: Vec<u8>) -> Vec<u8> {
    const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    let page = String::from_utf8_lossy(&page).into_owned();
    match page.find(PREAMBLE) {
        Some(first) => {
            let rest_at = first + PREAMBLE.len();
            let mut out = page[..rest_at].to_owned();
            out.push_str(&page[rest_at..].replace(PREAMBLE, ""));
            out.into_bytes()
        }
        None => page.into_bytes(),
    }
}

const DESCRIPTION: &str = "TapPass is a governance gateway between AI agents and LLM providers. \
Agents call it with the OpenAI or Anthropic API and a tp_ key; TapPass authenticates the agent, \
runs the governance pipeline (rate limits, PII, secret, prompt-injection and unicode detection, \
data classification, tool lists, a Rego policy, budgets, output scanning), calls the provider with \
a key only the server holds, and records every decision in a SHA-256 hash-chained audit trail.

Installed from a package, the daemon runs as tappass.service (a systemd unit with a transient \
user, DynamicUser=yes), listens on 127.0.0.1:9620 and keeps its state in /var/lib/tappass. \
tappass-health.timer probes it every 5 minutes; tappass.socket offers optional socket activation.

On its first start, when no admin key is configured, the daemon generates one and writes it, mode \
0600, to admin.key in its state directory (under systemd /var/lib/private/tappass/admin.key, \
reachable as /var/lib/tappass/admin.key). Read it as root, keep it somewhere safe, then delete the \
file.";

const FILES: &[(&str, &str)] = &[
    (
        "/etc/tappass/tappass.toml",
        "The configuration file (root-owned, mode 0644, no secrets). Every key is described in \
         /usr/share/doc/tappass/configuration.md. Check a change with tappass config check FILE, \
         apply it with systemctl reload tappass.",
    ),
    (
        "/etc/tappass/policies/",
        "Rego policies (*.rego, optional data.json) evaluated for every request.",
    ),
    (
        "/var/lib/tappass/",
        "State directory: the SQLite database tappass.db (unless database.url is set) and the \
         generated first admin key admin.key.",
    ),
    (
        "/etc/systemd/system/tappass.service.d/",
        "Drop-ins for the unit: credentials (provider keys, admin key, Redis URL) through \
         LoadCredentialEncrypted=, an IP allow list. Examples in \
         /usr/share/doc/tappass/examples/.",
    ),
];

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "TAPPASS_<SECTION>__<KEY>",
        "Overrides a configuration key, e.g. TAPPASS_SERVER__LISTEN=127.0.0.1:9620 for \
         server.listen. Precedence: command-line flag, environment, file, built-in default.",
    ),
    (
        "CREDENTIALS_DIRECTORY",
        "Set by systemd: where the daemon reads admin-api-key, <provider>-api-key and redis-url.",
    ),
    (
        "STATE_DIRECTORY",
        "Set by systemd: the state directory when storage.state_dir is not set.",
    ),
    (
        "TAPPASS_URL, TAPPASS_ADMIN_API_KEY",
        "The gateway URL and the admin key used by tappass agents.",
    ),
    ("RUST_LOG", "Log filter; takes precedence over log.level."),
];

const EXIT_STATUS: &str = "0 on success. tappass health exits 1 when the daemon answers but is \
not ready and 2 when it does not answer; tappass audit verify exits 1 when the chain is broken \
and 2 when it could not be checked. Other failures exit 1.";

const SEE_ALSO: &str = "systemctl(1), journalctl(1), systemd-creds(1), systemd.exec(5). \
The documentation in /usr/share/doc/tappass/: README.md, configuration.md, hardening.md.";

fn visible_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

/// One `.SS` block per command that has options or arguments of its own ("tappass agents" for
/// --url, "tappass audit verify" …), with its usage, help and those options. Options shared
/// through `global = true` (the configuration flags) are collected in `shared` instead of being
/// repeated under every command.
fn render_command(roff: &mut Roff, cmd: &Command, shared: &mut Vec<Arg>) {
    let mut own = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if matches!(arg.get_id().as_str(), "help" | "version") {
            continue;
        }
        if arg.is_global_set() {
            if !shared.iter().any(|a| a.get_id() == arg.get_id()) {
                shared.push(arg.clone());
            }
        } else {
            own.push(arg);
        }
    }
    if !cmd.has_subcommands() || !own.is_empty() {
        let usage = cmd.clone().render_usage().to_string();
        let usage = usage.trim_start_matches("Usage:").trim();
        roff.control("SS", [usage]);
        if let Some(about) = cmd.get_long_about().or_else(|| cmd.get_about()) {
            roff.text([roman(about.to_string())]);
        }
        for arg in own {
            render_arg(roff, arg);
        }
    }
    for sub in visible_subcommands(cmd) {
        render_command(roff, sub, shared);
    }
}

/// `.TP` with the option or argument, then its help with default, environment variable and
/// possible values, as `--help` shows them.
fn render_arg(roff: &mut Roff, arg: &Arg) {
    roff.control("TP", []);
    roff.text(arg_spec(arg));
    let mut help = arg
        .get_long_help()
        .or_else(|| arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let takes_value = matches!(arg.get_action(), ArgAction::Set | ArgAction::Append);
    let defaults: Vec<_> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .filter(|v| !v.is_empty())
        .collect();
    if takes_value && !defaults.is_empty() {
        help.push_str(&format!(" [default: {}]", defaults.join(", ")));
    }
    if let Some(env) = arg.get_env() {
        help.push_str(&format!(" [env: {}]", env.to_string_lossy()));
    }
    let values: Vec<_> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_owned())
        .collect();
    if takes_value && !values.is_empty() {
        help.push_str(&format!(" [possible values: {}]", values.join(", ")));
    }
    let help = help.trim();
    if !help.is_empty() {
        roff.text([roman(help)]);
    }
}

/// `--config FILE`, `-o, --output FILE`, `AGENT_ID` in bold/italic, as man pages write them.
fn arg_spec(arg: &Arg) -> Vec<Inline> {
    let value = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map(|n| n.to_string())
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    if arg.is_positional() {
        return vec![italic(value)];
    }
    let mut spec = Vec::new();
    if let Some(short) = arg.get_short() {
        spec.push(bold(format!("-{short}")));
        if arg.get_long().is_some() {
            spec.push(roman(", "));
        }
    }
    if let Some(long) = arg.get_long() {
        spec.push(bold(format!("--{long}")));
    }
    if matches!(arg.get_action(), ArgAction::Set | ArgAction::Append) {
        spec.push(roman(" "));
        spec.push(italic(value));
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manpage_describes_every_command() {
        let page = String::from_utf8(render_manpage().unwrap()).unwrap();
        assert!(page.starts_with(".ie "), "{page}");
        assert!(page.contains("\n.TH TAPPASS 1 "), "{page}");
        assert_eq!(page.matches(".ds Aq").count(), 2, "one preamble:\n{page}");
        for needle in [
            "tappass serve",
            "tappass config check",
            "tappass agents create",
            "tappass agents keys rotate",
            "tappass audit verify",
            "tappass health",
            "tappass completions",
            "--admin-key-file",
            "COMMON OPTIONS",
            "--state-dir",
            "/etc/tappass/tappass.toml",
            "admin.key",
        ] {
            assert!(
                page.replace("\\-", "-").contains(needle),
                "missing {needle:?} in\n{page}"
            );
        }
        assert!(
            !page.contains("tappass manpage"),
            "the hidden command leaked:\n{page}"
        );
    }

    #[test]
    fn completions_name_the_subcommands() {
        for shell in [
            CompletionShell::Bash,
            CompletionShell::Zsh,
            CompletionShell::Fish,
        ] {
            let mut out = Vec::new();
            clap_complete::generate(
                clap_complete::Shell::from(shell),
                &mut super::super::Cli::command(),
                "tappass",
                &mut out,
            );
            let script = String::from_utf8(out).unwrap();
            for sub in ["serve", "audit", "doctor", "completions"] {
                assert!(script.contains(sub), "{shell:?}: no {sub}");
            }
        }
    }
}
