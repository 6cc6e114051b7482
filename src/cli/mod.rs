//! The command line: `Cli { command }`, one file per subcommand. Doc comments are the help text.

mod agents;
mod audit;
mod backup_cmd;
mod config_cmd;
mod doctor;
pub mod generate;
mod health_cmd;
mod progress;
mod sandbox_cmd;
pub mod serve;
mod upgrade_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// TapPass: the governance gateway between AI agents and LLM providers.
#[derive(Debug, Parser)]
#[command(name = "tappass", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway daemon.
    Serve(ServeArgs),
    /// Validate configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage agents and their keys (through the running daemon's admin API).
    Agents(agents::AgentsArgs),
    /// Verify and export the audit trail (reads the database directly).
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Back up the database (a consistent snapshot, gzip-compressed SQL with a manifest), then
    /// remove backups older than backup.retention_days. Run daily by tappass-backup.timer.
    Backup(backup_cmd::BackupArgs),
    /// Replace the database with a backup, then verify the audit chain. Refuses while the daemon
    /// runs (unless --stop-service); the current database is backed up first.
    Restore(backup_cmd::RestoreArgs),
    /// Check the host: the daemon's readiness, the units, disk, certificates, database, Redis,
    /// external URLs, the newest backup and the audit chain since the last run. Alerts (journal,
    /// Slack-compatible webhook) only when the problems change; <state_dir>/tappass.down exists
    /// while unhealthy. Exit 0 healthy, 1 degraded, 2 down. Run every 5 minutes by
    /// tappass-health.timer.
    Health(health_cmd::HealthArgs),
    /// Upgrade (or downgrade) to VERSION through apt or dnf, rolling back by itself: keeps the
    /// installed version's package, stops the service, backs up the database, installs, starts
    /// and waits for /health/ready; if it does not come, reinstalls the kept package (restoring
    /// the pre-upgrade backup if the schema moved) and starts that. Exit 0 upgraded, 1 rolled
    /// back (healthy), 2 failed. Run as root.
    Upgrade(upgrade_cmd::UpgradeArgs),
    /// Check configuration, state directory, database, kernel confinement support and the
    /// running daemon.
    Doctor(ConfigArgs),
    /// Self-confinement tools.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Print a shell completion script (bash, zsh or fish) to standard output. The .deb and
    /// .rpm packages install all three.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: generate::CompletionShell,
    },
    /// Print the manual page tappass(1), in roff, to standard output (used by packaging).
    #[command(hide = true)]
    Manpage,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Confine this process exactly as `serve` does, then prove it: reading /etc/shadow,
    /// writing under /usr, executing /bin/sh and connecting to an unconfigured port must be
    /// denied; the daemon's own needs must still work. Exit 1 if any probe fails.
    Check(ConfigArgs),
}

/// Where the configuration comes from; shared by every command that reads it.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Configuration file (default: /etc/tappass/tappass.toml when it exists).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// State directory (overrides storage.state_dir).
    #[arg(long, value_name = "DIR", global = true)]
    pub state_dir: Option<PathBuf>,
    /// Database URL (overrides database.url), e.g. postgres://tappass@localhost/tappass.
    #[arg(long, value_name = "URL", global = true)]
    pub database_url: Option<String>,
}

impl ConfigArgs {
    /// Loads the configuration with these flags on top (flag > env > file > default).
    pub fn load(
        &self,
        listen: Option<std::net::SocketAddr>,
    ) -> Result<crate::config::Config, crate::config::ConfigError> {
        let overrides = crate::config::Overrides {
            listen,
            state_dir: self.state_dir.clone(),
            database_url: self.database_url.clone(),
        };
        crate::config::load(self.config.as_deref(), &overrides)
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Address to listen on (overrides server.listen), e.g. 127.0.0.1:9620.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file (plus TAPPASS_* environment) without starting anything.
    Check {
        /// The file to check.
        file: PathBuf,
    },
}

/// Runs the parsed command and returns the process exit status.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Config(ConfigCommand::Check { file }) => config_cmd::check(&file),
        Command::Agents(args) => agents::run(args),
        Command::Audit(cmd) => audit::run(cmd),
        Command::Backup(args) => backup_cmd::run(args),
        Command::Restore(args) => backup_cmd::restore(args),
        Command::Health(args) => health_cmd::run(args),
        Command::Upgrade(args) => upgrade_cmd::run(args),
        Command::Doctor(args) => doctor::run(&args),
        Command::Sandbox(SandboxCommand::Check(args)) => sandbox_cmd::check(&args),
        Command::Completions { shell } => generate::completions(shell),
        Command::Manpage => generate::manpage(),
    }
}

/// A current-thread runtime for short CLI commands.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot start the async runtime")
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks (unique names, valid requirements), which otherwise only
    /// fire when the broken subcommand is first run.
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
