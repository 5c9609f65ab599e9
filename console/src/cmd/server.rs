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
    #[command(flatten)]
    pub data: DataArgs,
}

pub fn run(args: ServerArgs) -> Result<i32> {
    let config = args.data.load()?;
    let data = args.data.data_dir(&config);
    let listen = args.listen.unwrap_or(config.server.listen);
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
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
        let local = listener.local_addr()?;
        announce(&format!("https://{local}/"), &cert);
        // Alerts that writers add to the store while the server runs reach triage.
        tokio::spawn(server::feed::keep_in_step(app.clone()));
        server::serve(listener, tls, server::routes::router(app), server::stop_signal()).await?;
        eprintln!("canh console stopped");
        anyhow::Ok(())
    })
}
