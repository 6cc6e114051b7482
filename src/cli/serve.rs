//! `tappass serve`: assembles the daemon from config — store, providers, pipeline, server —
//! and runs it until SIGTERM/SIGINT.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ServeArgs;
use crate::audit::AuditWriter;
use crate::config::{Config, ProviderKind};
use crate::governance::reload::Reloader;
use crate::governance::Governance;
use crate::identity::bootstrap::ensure_admin_key;
use crate::limits::{Limiter, MemoryLimiter, RedisLimiter};
use crate::pipeline::steps::{default_steps, Authenticate, StepDeps};
use crate::pipeline::Pipeline;
use crate::providers::{
    HttpProvider, MockProvider, Provider, ProviderSettings, Router, WireFormat,
};
use crate::secrets::{self, Source};
use crate::server::{self, App};
use crate::store::{absolute, Store, StoreError, StoreOptions};
use secrecy::ExposeSecret;

/// How often the store supervisor pings / retries the database.
const SUPERVISE_EVERY: Duration = Duration::from_secs(2);

pub fn run(args: ServeArgs) -> ExitCode {
    let overrides = crate::config::Overrides {
        listen: args.listen,
        state_dir: args.config.state_dir.clone(),
        database_url: args.config.database_url.clone(),
    };
    let config = match args.config.load(args.listen) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    crate::host::logging::init(&config.log);
    // Everything below up to the runtime runs on the main thread alone: the socket systemd
    // passed, then confinement (per thread, inherited by the runtime's workers).
    let activated = match crate::host::listen::take_activated() {
        Ok(l) => l,
        Err(e) => return fail(format_args!("socket activation: {e}")),
    };
    let state_dir = match absolute(&config.state_dir()) {
        Ok(d) => d,
        Err(e) => return fail(format_args!("state directory: {e}")),
    };
    // Counted before landlock hides /sys and /proc from the runtime's own detection.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let sandbox = match crate::host::sandbox::confine(&config, &state_dir) {
        Ok(report) => report,
        Err(e) => return fail(format_args!("sandbox: {e}")),
    };
    crate::host::sandbox::log(&sandbox);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format_args!("cannot start the async runtime: {e}")),
    };
    let host = Host {
        source: (config.source_file.clone(), overrides),
        state_dir,
        activated,
        sandbox,
    };
    match runtime.block_on(serve(config, host)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs and prints a start-up failure.
fn fail(message: std::fmt::Arguments<'_>) -> ExitCode {
    tracing::error!("{message}");
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// What the host layer prepared on the main thread before the runtime started.
struct Host {
    /// Where the configuration came from, for reloads.
    source: (Option<std::path::PathBuf>, crate::config::Overrides),
    /// Absolute; created (0700, owned by the uid we run as) by the sandbox set-up.
    state_dir: std::path::PathBuf,
    /// The socket systemd passed, if any.
    activated: Option<std::net::TcpListener>,
    sandbox: crate::host::sandbox::Report,
}

/// The providers from config, each with its key from the most secure source available; and
/// where each key came from (for the production assessment).
type KeySources = Vec<(String, Option<Source>)>;

fn build_providers(config: &Config) -> anyhow::Result<(Vec<Arc<dyn Provider>>, KeySources)> {
    let mut out: Vec<Arc<dyn Provider>> = Vec::new();
    let mut sources = Vec::new();
    for (name, p) in &config.providers {
        let key = secrets::provider_key(name, p.api_key.as_ref(), p.resolved_api_key_env());
        sources.push((name.clone(), key.as_ref().map(|(_, s)| *s)));
        match &key {
            Some((_, Source::Credential)) => {
                tracing::info!(provider = %name, "provider key from systemd credential")
            }
            Some((_, source)) => tracing::warn!(
                provider = %name,
                "provider key from {}: use a systemd credential in production",
                source.as_str()
            ),
            None => tracing::info!(provider = %name, "no provider key configured"),
        }
        let format = match p.kind() {
            ProviderKind::OpenAi => WireFormat::OpenAi,
            ProviderKind::Anthropic => WireFormat::Anthropic,
        };
        let provider = HttpProvider::new(ProviderSettings {
            name: name.clone(),
            format,
            base_url: p.base_url.clone(),
            api_key: key.map(|(k, _)| k),
            api_key_header: p.auth_header == crate::config::AuthHeader::ApiKey,
            timeout: p.timeout(),
            connect_timeout: p.connect_timeout(),
        })?;
        out.push(Arc::new(provider));
    }
    if config.server.mock_provider {
        out.push(Arc::new(MockProvider));
    }
    Ok((out, sources))
}

/// The limiter: Redis when `[redis] url` (or the credential `redis-url`) is set, else in-process.
fn build_limiter(config: &Config) -> anyhow::Result<Arc<dyn Limiter>> {
    let r = &config.governance.redis;
    let url = secrets::redis_url(r.url.as_deref()).map(|(u, _)| u.expose_secret().to_string());
    Ok(match url {
        Some(url) => {
            tracing::info!(url = %crate::limits::redact_redis_url(&url), "rate limits and budgets in Redis");
            Arc::new(
                RedisLimiter::connect_lazy(
                    &url,
                    &r.key_prefix,
                    Duration::from_millis(r.timeout_ms),
                )
                .map_err(|e| anyhow::anyhow!("redis.url: {e}"))?,
            )
        }
        None => Arc::new(MemoryLimiter::new()),
    })
}

async fn serve(config: Config, host: Host) -> anyhow::Result<()> {
    let source = host.source;
    let state_dir = host.state_dir;
    let started = Instant::now();
    let store = Store::connect_lazy(&StoreOptions::for_config(&config)?)?;

    let admin_key = secrets::admin_key();
    if let Some((_, source)) = &admin_key {
        tracing::info!("admin key from {}", source.as_str());
    }
    let generate_admin_key = admin_key.is_none();

    let (providers, key_sources) = build_providers(&config)?;
    let router = Arc::new(Router::new(
        providers,
        config.models.clone().into_iter().collect(),
    ));
    let production_unsafe = {
        use crate::host::production::{assess, Inputs};
        let reasons = assess(&Inputs {
            environment: config.server.environment,
            provider_keys: key_sources.iter().map(|(n, s)| (n.as_str(), *s)).collect(),
            admin_key: admin_key.as_ref().map(|(k, s)| (*s, k.expose_secret())),
            mock_provider: config.server.mock_provider,
            sandbox: host.sandbox.enforcement,
        });
        for r in &reasons {
            tracing::warn!(kind = r.kind, fix = %r.fix, "PRODUCTION UNSAFE: {}", r.detail);
        }
        reasons
    };
    let spool = if config.audit.spool {
        let dir = state_dir.join("spool");
        let spool = crate::audit::spool::Spool::open(&dir, config.audit.spool_max_mb << 20)
            .map_err(|e| anyhow::anyhow!("audit spool {}: {e}", dir.display()))?;
        Some(spool)
    } else {
        tracing::warn!(
            "audit spool disabled ([audit] spool = false): a database outage stops the data plane"
        );
        None
    };
    let audit = AuditWriter::spawn_with(store.clone(), config.audit.batch_max, spool);
    let (signer, key_source) = crate::audit::checkpoint_file::load_signer(&state_dir)
        .map_err(|e| anyhow::anyhow!("audit signing key: {e}"))?;
    tracing::info!(
        public_key = %signer.public_hex(),
        source = ?key_source,
        "audit checkpoints signed with this key"
    );
    let checkpointer = crate::audit::checkpoint_file::Checkpointer::spawn(
        store.clone(),
        signer,
        &state_dir,
        Duration::from_secs(config.audit.checkpoint_secs),
    );
    let reload_audit = audit.clone();
    let spools = audit.spools();
    let governance =
        Governance::load(&config.governance).map_err(|e| anyhow::anyhow!("policy: {e}"))?;
    let governance = Arc::new(arc_swap::ArcSwap::from_pointee(governance));
    let limiter = build_limiter(&config)?;
    let deps = StepDeps {
        store: store.clone(),
        router: router.clone(),
        audit: audit.clone(),
        limiter: limiter.clone(),
        limits_fail_open: config.governance.redis.fail_open,
    };
    let pipeline = Pipeline::new(default_steps(&deps));

    // First connection attempt inline, so a healthy database is ready before we listen.
    let on_ready = {
        let store = store.clone();
        let state_dir = state_dir.clone();
        move || {
            let store = store.clone();
            let state_dir = state_dir.clone();
            async move {
                if generate_admin_key {
                    if let Err(e) = ensure_admin_key(&store, &state_dir).await {
                        tracing::error!(error = %e, "could not set up the first admin key");
                    }
                }
            }
        }
    };
    match tokio::time::timeout(config.database.connect_timeout(), store.migrate()).await {
        Ok(Ok(())) => {
            store.set_ready();
            on_ready().await;
        }
        Ok(Err(e)) => log_unavailable(&store, &e),
        Err(_) => tracing::error!(
            backend = store.backend().name(),
            "database did not answer in time: serving 503 on the data plane and retrying"
        ),
    }
    let supervisor = crate::store::spawn_supervisor(store.clone(), SUPERVISE_EVERY, on_ready);

    let (listener, origin) = crate::host::listen::listener(host.activated, config.server.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.listen))?;
    let local = listener.local_addr()?;
    let grace = config.server.shutdown_grace();
    let app = Arc::new(App {
        store: store.clone(),
        audit,
        router,
        pipeline,
        governance: governance.clone(),
        limiter,
        reloader: Arc::new(Reloader::new(
            source.0,
            source.1,
            config.clone(),
            governance,
            reload_audit,
        )),
        authenticate: Authenticate::new(store.clone(), spools),
        metrics: Default::default(),
        admin_key: admin_key.map(|(k, _)| k),
        sandbox: Some(host.sandbox),
        production_unsafe,
        started,
        config,
    });
    tracing::info!(
        listen = %local,
        socket = if origin == crate::host::listen::Origin::Systemd { "systemd" } else { "bound" },
        storage = if store.is_ready() { store.backend().name() } else { "unavailable" },
        startup_ms = started.elapsed().as_millis() as u64,
        "TapPass ready"
    );
    let status = {
        let app = app.clone();
        move || status_line(&app, local)
    };
    crate::host::notify::ready(&status());
    let watchdog = tokio::spawn(crate::host::notify::watchdog_loop(status));
    let reloader = app.reloader.clone();
    server::serve(listener, app, shutdown_signal(reloader), grace).await?;
    // After the drain: the shutdown checkpoint covers every event of this run.
    checkpointer.finish().await;
    watchdog.abort();
    supervisor.abort();
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

fn log_unavailable(store: &Store, e: &StoreError) {
    tracing::error!(
        backend = store.backend().name(),
        error = %e,
        "database unavailable: serving 503 on the data plane and retrying"
    );
}

/// The STATUS= line shown by `systemctl status tappass`.
fn status_line(app: &App, local: std::net::SocketAddr) -> String {
    let storage = if app.store.is_ready() {
        format!("storage {} ok", app.store.backend().name())
    } else {
        format!(
            "storage {} UNAVAILABLE, data plane answers 503 while retrying",
            app.store.backend().name()
        )
    };
    let sandbox = app
        .sandbox
        .as_ref()
        .map_or_else(|| "sandbox unknown".to_owned(), |r| r.summary());
    let unsafe_ = crate::host::production::summary(&app.production_unsafe)
        .map(|s| format!("; {s}"))
        .unwrap_or_default();
    format!("Serving on {local}; {storage}; {sandbox}{unsafe_}")
}

/// Resolves on SIGTERM or SIGINT; SIGHUP reloads the configuration, telling systemd
/// RELOADING=1 before and READY=1 after (`systemctl reload` waits for it).
async fn shutdown_signal(reloader: Arc<Reloader>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler");
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                let r = reloader.clone();
                tokio::spawn(async move {
                    crate::host::notify::reloading();
                    let report = r.reload("SIGHUP").await;
                    let status = match (&report.error, report.restart_required.is_empty()) {
                        (Some(e), _) => format!("Reload rejected, previous configuration kept: {e}"),
                        (None, true) => "Configuration reloaded".to_owned(),
                        (None, false) => format!(
                            "Configuration reloaded; restart to apply [{}]",
                            report.restart_required.join(", ")
                        ),
                    };
                    crate::host::notify::ready(&status);
                });
            }
        }
    }
    crate::host::notify::stopping("Stopping: draining in-flight requests");
    tracing::info!("shutting down");
}
