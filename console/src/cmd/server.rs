//! `canh server`: the web console and its API over HTTPS, on the data directory the other
//! commands use (see `crate::server`).

use anyhow::{Context as _, Result};
use clap::Args;

use crate::config::DataArgs;
use crate::server;
use crate::state::State;
use crate::state::session::Policy;

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address and port to listen on [default: the config's `[server] listen`, else
    /// 127.0.0.1:8443].
    #[arg(long, env = "CANH_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// Address and port for the sensors' batches (mutual TLS) [default: the config's
    /// `[server] sensor_listen`, else 127.0.0.1:8444]. Served once the province CA exists.
    #[arg(long, value_name = "ADDR:PORT")]
    pub sensor_listen: Option<std::net::SocketAddr>,
    /// Take syslog over UDP on this address (`[server] syslog_udp`).
    #[arg(long, value_name = "ADDR:PORT")]
    pub syslog_udp: Option<std::net::SocketAddr>,
    /// Take syslog over TCP on this address (`[server] syslog_tcp`).
    #[arg(long, value_name = "ADDR:PORT")]
    pub syslog_tcp: Option<std::net::SocketAddr>,
    /// Take syslog over TLS on this address (`[server] syslog_tls`).
    #[arg(long, value_name = "ADDR:PORT")]
    pub syslog_tls: Option<std::net::SocketAddr>,
    /// Rule packs whose Sigma host rules (linux, windows) run on host logs (`[server] rules`).
    #[arg(long, value_name = "PACK", num_args = 1..)]
    pub rules: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
}

pub fn run(args: ServerArgs) -> Result<i32> {
    let config = args.data.load()?;
    let data = args.data.data_dir(&config);
    let listen = args.listen.unwrap_or(config.server.listen);
    let mut config = config;
    if let Some(s) = args.sensor_listen {
        config.server.sensor_listen = s;
    }
    config.server.syslog_udp = args.syslog_udp.or(config.server.syslog_udp);
    config.server.syslog_tcp = args.syslog_tcp.or(config.server.syslog_tcp);
    config.server.syslog_tls = args.syslog_tls.or(config.server.syslog_tls);
    if !args.rules.is_empty() {
        config.server.rules = args.rules.clone();
    }
    serve(&data, listen, &config, |url, cert| {
        eprintln!("canh console: {url} (certificate {}); Ctrl-C to stop", cert.display());
    })?;
    Ok(0)
}

/// Serves the console on `data` until Ctrl-C or SIGTERM; `announce` is told the address and the
/// certificate once the server listens.
pub fn serve(
    data: &std::path::Path,
    listen: std::net::SocketAddr,
    config: &crate::config::Config,
    announce: impl FnOnce(&str, &std::path::Path),
) -> Result<()> {
    serve_until(data, listen, config, announce, server::stop_signal())
}

/// [`serve`] until `shutdown` completes (the demo stops when its sensor is done).
pub fn serve_until(
    data: &std::path::Path,
    listen: std::net::SocketAddr,
    config: &crate::config::Config,
    announce: impl FnOnce(&str, &std::path::Path),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let sc = &config.server;
    let state = State::open(data)?;
    let policy = Policy {
        idle: i64::from(sc.session_idle_minutes) * 60,
        absolute: i64::from(sc.session_hours) * 3600,
        ..Policy::default()
    };
    let (cert, key) = server::tls::pair(data, sc.cert.as_deref(), sc.key.as_deref())?;
    let tls = server::tls::server_config(&cert, &key)?;
    let app = server::routes::App::new(state, policy);
    *app.sensor_limits.lock().unwrap_or_else(|p| p.into_inner()) = sc.sensor_limits();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        // One shutdown for both listeners.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let stopped = move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|s| *s).await;
            }
        };
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
        let local = listener.local_addr()?;
        announce(&format!("https://{local}/"), &cert);
        // Alerts that writers add to the store while the server runs reach triage.
        tokio::spawn(server::feed::keep_in_step(app.clone()));
        // One writer of sensors' batches and host logs into the store.
        let committer = server::ingest::committer::Committer::start(canh_analyzer::store::Store::open(data)?, 1);
        let hostlogs = host_logs(sc, &app, &committer).await?;
        let _ = app.hostlogs.set(hostlogs.clone());
        syslog_listeners(data, sc, &hostlogs).await?;
        let sensors = match sensor_listener(data, sc, &app, committer, hostlogs).await? {
            Some((listener, tls, router)) => {
                eprintln!("sensors: https://{}/ (client certificates of the province CA)", listener.local_addr()?);
                Some(tokio::spawn(server::serve(listener, tls, router, stopped())))
            }
            None => None,
        };
        server::serve(listener, tls, server::routes::router(app), stopped()).await?;
        if let Some(s) = sensors {
            s.await.context("the sensors' listener")??;
        }
        eprintln!("canh console stopped");
        anyhow::Ok(())
    })
}

/// The sensors' listener, when the province CA exists (`canh ca init`): its socket, its TLS
/// configuration (client certificates required) and its router.
async fn sensor_listener(
    data: &std::path::Path,
    sc: &crate::config::ServerConfig,
    app: &std::sync::Arc<server::routes::App>,
    committer: server::ingest::committer::Committer,
    hostlogs: std::sync::Arc<server::hostlogs::HostLogs>,
) -> Result<Option<(tokio::net::TcpListener, std::sync::Arc<rustls::ServerConfig>, axum::Router)>> {
    let ca = data.join("ca").join("ca.crt");
    if !ca.is_file() {
        tracing::info!("no province CA ({}): sensors are not served", ca.display());
        return Ok(None);
    }
    let (cert, key) = server::ca::listener_pair(data, &sc.sensor_names)?;
    let tls = server::tls::sensor_config(&cert, &key, &ca)?;
    let ingest = std::sync::Arc::new(server::ingest::Ingest {
        app: app.clone(),
        data: data.to_path_buf(),
        committer,
        hostlogs: Some(hostlogs),
    });
    tokio::spawn(server::ingest::health::watch(ingest.clone(), sc.sensor_limits()));
    let listener = tokio::net::TcpListener::bind(sc.sensor_listen)
        .await
        .with_context(|| format!("listening for sensors on {}", sc.sensor_listen))?;
    Ok(Some((listener, tls, server::ingest::router(ingest))))
}

/// Host logs' detection (the Sigma host rules of `[server] rules`) and their writer.
async fn host_logs(
    sc: &crate::config::ServerConfig,
    app: &std::sync::Arc<server::routes::App>,
    committer: &server::ingest::committer::Committer,
) -> Result<std::sync::Arc<server::hostlogs::HostLogs>> {
    let (packs, problems) = canh_rules::pack::load_packs(&sc.rules, &canh_rules::sigma::SigmaOptions::default());
    for p in problems.iter().filter(|p| p.is_error()) {
        eprintln!("{p}");
    }
    if problems.iter().any(|p| p.is_error()) {
        anyhow::bail!("errors in the server's rule packs (above): not running without the rules they hold");
    }
    let detector = canh_analyzer::hostlog::HostLogDetector::new(packs.into_iter().flat_map(|p| p.sigma).collect());
    if !sc.rules.is_empty() {
        eprintln!("host log rules: {} Sigma rules for linux and windows", detector.rules());
    }
    Ok(server::hostlogs::HostLogs::start(app.clone(), committer.clone(), detector))
}

/// The syslog listeners `[server]` asks for (UDP, TCP, and TLS with the sensors' server
/// certificate, which needs the province CA).
async fn syslog_listeners(
    data: &std::path::Path,
    sc: &crate::config::ServerConfig,
    logs: &std::sync::Arc<server::hostlogs::HostLogs>,
) -> Result<()> {
    use server::hostlogs::listen;
    if let Some(addr) = sc.syslog_udp {
        let socket = tokio::net::UdpSocket::bind(addr).await.with_context(|| format!("syslog over UDP on {addr}"))?;
        eprintln!("syslog: udp://{}", socket.local_addr()?);
        tokio::spawn(listen::udp(socket, logs.clone()));
    }
    if let Some(addr) = sc.syslog_tcp {
        let l = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("syslog over TCP on {addr}"))?;
        eprintln!("syslog: tcp://{}", l.local_addr()?);
        tokio::spawn(listen::tcp(l, logs.clone(), None));
    }
    if let Some(addr) = sc.syslog_tls {
        let (cert, key) = server::ca::listener_pair(data, &sc.sensor_names)
            .context("syslog over TLS shows the server certificate of the province CA (canh ca init)")?;
        let tls = server::tls::server_config(&cert, &key)?;
        let l = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("syslog over TLS on {addr}"))?;
        eprintln!("syslog: tls://{}", l.local_addr()?);
        tokio::spawn(listen::tcp(l, logs.clone(), Some(tokio_rustls::TlsAcceptor::from(tls))));
    }
    Ok(())
}
