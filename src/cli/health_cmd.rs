//! `tappass health`: probe the running daemon's `/health/ready` (what `tappass-health.timer`
//! runs every 5 minutes). Exit 0 when ready, 1 when it answers but is not ready, 2 when it does
//! not answer at all.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::ConfigArgs;

#[derive(Debug, Clone, Args)]
pub struct HealthArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Base URL of the daemon (default: http:// + server.listen from the configuration).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub timeout: u64,
}

/// The URL the daemon answers on, from `server.listen` (a wildcard address means loopback).
pub fn base_url(listen: std::net::SocketAddr) -> String {
    let ip = match listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{ip}:{}", listen.port())
}

/// `GET <base>/health/ready`: the status and the body (`{"status", "checks"}`).
pub async fn probe_ready(
    client: &reqwest::Client,
    base: &str,
) -> Result<(reqwest::StatusCode, serde_json::Value), reqwest::Error> {
    let resp = client.get(format!("{base}/health/ready")).send().await?;
    let status = resp.status();
    Ok((status, resp.json().await.unwrap_or_default()))
}

pub fn run(args: HealthArgs) -> ExitCode {
    let base = match args.url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => match args.config.load(None) {
            Ok(c) => base_url(c.server.listen),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let url = format!("{base}/health/ready");
    let result = super::runtime().block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(args.timeout))
            .build()?;
        probe_ready(&client, &base).await
    });
    match result {
        Ok((status, body)) => {
            let checks = body["checks"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("?")))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            if status.is_success() {
                println!("tappass is ready at {base}: {checks}");
                ExitCode::SUCCESS
            } else {
                println!(
                    "tappass at {base} is NOT ready (HTTP {}): {checks}",
                    status.as_u16()
                );
                ExitCode::from(1)
            }
        }
        Err(e) => {
            let why = if e.is_timeout() {
                format!("no answer within {} s", args.timeout)
            } else if e.is_connect() {
                "connection refused or unreachable".to_owned()
            } else {
                e.to_string()
            };
            println!("tappass is not answering at {url}: {why} — is tappass.service running? (systemctl status tappass)");
            ExitCode::from(2)
        }
    }
}
