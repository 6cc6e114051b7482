//! `tappass agents …`: the admin API from the command line.
//!
//! Talks to the running daemon (which owns validation and the audit trail) rather than to the
//! database. The admin key comes from `TAPPASS_ADMIN_API_KEY`, else `--admin-key-file`, else
//! `<state_dir>/admin.key`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::{runtime, ConfigArgs};
use crate::identity::bootstrap::ADMIN_KEY_FILE;

#[derive(Debug, Args)]
pub struct AgentsArgs {
    /// The gateway's URL.
    #[arg(long, env = "TAPPASS_URL", default_value = "http://127.0.0.1:9620")]
    pub url: String,
    /// File holding an admin key (default: <state_dir>/admin.key).
    #[arg(long, value_name = "FILE")]
    pub admin_key_file: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: AgentsCommand,
}

#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    /// Register an agent; prints its first key (shown once).
    Create {
        /// The new agent's id: 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or
        /// digit.
        agent_id: String,
        /// Free text stored with the agent.
        #[arg(long, default_value = "")]
        description: String,
        /// Flags the agent may loosen below the server's values (mode, pii, secrets, email,
        /// budget, tools, files); repeat or separate with commas. Default: none.
        #[arg(long = "grant", value_name = "FLAG", value_delimiter = ',')]
        grants: Vec<String>,
    },
    /// Set the flags an agent may loosen (replaces its list; none takes every grant back).
    Grant {
        /// The agent's id.
        agent_id: String,
        /// Flag names (mode, pii, secrets, email, budget, tools, files), space- or
        /// comma-separated.
        #[arg(value_name = "FLAG", value_delimiter = ',')]
        flags: Vec<String>,
    },
    /// List agents.
    List,
    /// Show an agent and its keys.
    Get {
        /// The agent's id.
        agent_id: String,
    },
    /// Disable an agent: its keys stop working.
    Disable {
        /// The agent's id.
        agent_id: String,
    },
    /// Issue, rotate or revoke an agent's keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Create, rotate or revoke control-plane (admin, auditor) keys.
    #[command(subcommand, name = "control-keys")]
    ControlKeys(ControlKeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum ControlKeysCommand {
    /// Create a control-plane key (shown once).
    Create {
        /// `admin` or `auditor`.
        #[arg(long)]
        role: String,
    },
    /// Replace a control-plane key with a new one of the same role (shown once).
    Rotate {
        /// The key's id.
        key_id: String,
    },
    /// Revoke a control-plane key (refused for the last admin key: rotate it instead).
    Revoke {
        /// The key's id.
        key_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Issue an additional key (shown once).
    Issue {
        /// The agent's id.
        agent_id: String,
    },
    /// Replace a key with a new one (shown once); the old key is revoked.
    Rotate {
        /// The agent's id.
        agent_id: String,
        /// The key's id, as `tappass agents get` lists it.
        key_id: String,
    },
    /// Revoke a key.
    Revoke {
        /// The agent's id.
        agent_id: String,
        /// The key's id, as `tappass agents get` lists it.
        key_id: String,
    },
}

fn admin_key(args: &AgentsArgs) -> Result<String, String> {
    if let Ok(k) = std::env::var("TAPPASS_ADMIN_API_KEY") {
        if !k.is_empty() {
            return Ok(k);
        }
    }
    let path = match &args.admin_key_file {
        Some(p) => p.clone(),
        None => args
            .config
            .load(None)
            .map_err(|e| e.to_string())?
            .state_dir()
            .join(ADMIN_KEY_FILE),
    };
    std::fs::read_to_string(&path)
        .map(|s| s.trim().to_string())
        .map_err(|e| {
            format!(
                "no admin key: set TAPPASS_ADMIN_API_KEY or pass --admin-key-file ({}: {e})",
                path.display()
            )
        })
}

pub fn run(args: AgentsArgs) -> ExitCode {
    let key = match admin_key(&args) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let base = args.url.trim_end_matches('/').to_string();
    let (method, path, body) = match &args.command {
        AgentsCommand::Create {
            agent_id,
            description,
            grants,
        } => (
            reqwest::Method::POST,
            "/admin/agents".to_string(),
            Some(json!({"agent_id": agent_id, "description": description, "flag_grants": grants})),
        ),
        AgentsCommand::Grant { agent_id, flags } => (
            reqwest::Method::PATCH,
            format!("/admin/agents/{agent_id}"),
            Some(json!({ "flag_grants": flags })),
        ),
        AgentsCommand::ControlKeys(ControlKeysCommand::Create { role }) => (
            reqwest::Method::POST,
            "/admin/keys".to_string(),
            Some(json!({ "role": role })),
        ),
        AgentsCommand::ControlKeys(ControlKeysCommand::Rotate { key_id }) => (
            reqwest::Method::POST,
            format!("/admin/keys/{key_id}/rotate"),
            None,
        ),
        AgentsCommand::ControlKeys(ControlKeysCommand::Revoke { key_id }) => (
            reqwest::Method::POST,
            format!("/admin/keys/{key_id}/revoke"),
            None,
        ),
        AgentsCommand::List => (reqwest::Method::GET, "/admin/agents".into(), None),
        AgentsCommand::Get { agent_id } => (
            reqwest::Method::GET,
            format!("/admin/agents/{agent_id}"),
            None,
        ),
        AgentsCommand::Disable { agent_id } => (
            reqwest::Method::POST,
            format!("/admin/agents/{agent_id}/disable"),
            None,
        ),
        AgentsCommand::Keys(KeysCommand::Issue { agent_id }) => (
            reqwest::Method::POST,
            format!("/admin/agents/{agent_id}/keys"),
            None,
        ),
        AgentsCommand::Keys(KeysCommand::Rotate { agent_id, key_id }) => (
            reqwest::Method::POST,
            format!("/admin/agents/{agent_id}/keys/{key_id}/rotate"),
            None,
        ),
        AgentsCommand::Keys(KeysCommand::Revoke { agent_id, key_id }) => (
            reqwest::Method::POST,
            format!("/admin/agents/{agent_id}/keys/{key_id}/revoke"),
            None,
        ),
    };
    let result = runtime().block_on(async move {
        let client = reqwest::Client::new();
        let mut req = client
            .request(method, format!("{base}{path}"))
            .bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("cannot reach {base}: {e}"))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        Ok::<_, String>((status, body))
    });
    match result {
        Ok((status, body)) if status.is_success() => {
            println!(
                "{}",
                serde_json::to_string_pretty(&body).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Ok((status, body)) => {
            let msg = body["error"]["message"]
                .as_str()
                .unwrap_or("request failed");
            eprintln!("error: HTTP {}: {msg}", status.as_u16());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
