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
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
        let local = listener.local_addr()?;
        announce(&format!("https://{local}/"), &cert);
        // Alerts that writers add to the store while the server runs reach triage.
        tokio::spawn(server::feed::keep_in_step(app.clone()));
        let sensors = match sensor_listener(data, sc, &app).await? {
            Some((listener, tls, router)) => {
                eprintln!("sensors: https://{}/ (client certificates of the province CA)", listener.local_addr()?);
                Some(tokio::spawn(server::serve(listener, tls, router, server::stop_signal())))
            }
            None => None,
        };
        server::serve(listener, tls, server::routes::router(app), server::stop_signal()).await?;
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
) -> Result<Option<(tokio::net::TcpListener, std::sync::Arc<rustls::ServerConfig>, axum::Router)>> {
    let ca = data.join("ca").join("ca.crt");
    if !ca.is_file() {
        tracing::info!("no province CA ({}): sensors are not served", ca.display());
        return Ok(None);
    }
    let (cert, key) = server::ca::listener_pair(data, &sc.sensor_names)?;
    let tls = server::tls::sensor_config(&cert, &key, &ca)?;
    let store = canh_analyzer::store::Store::open(data)?;
    let committer = server::ingest::committer::Committer::start(store, 1);
    let ingest = std::sync::Arc::new(server::ingest::Ingest { app: app.clone(), committer });
    tokio::spawn(server::ingest::health::watch(ingest.clone(), sc.sensor_limits()));
    let listener = tokio::net::TcpListener::bind(sc.sensor_listen)
        .await
        .with_context(|| format!("listening for sensors on {}", sc.sensor_listen))?;
    Ok(Some((listener, tls, server::ingest::router(ingest))))
}
