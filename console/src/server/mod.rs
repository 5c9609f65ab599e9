//! `canh server`: the console over HTTPS. axum routes ([`routes`]) served by hyper-util over
//! rustls ([`tls`]): each connection's TLS handshake has a time limit, its peer address goes
//! to the handlers (for sign-in rate limits and the audit trail), and on shutdown the
//! connections in flight finish their requests before the process ends. Sensors send their
//! batches to a second listener that requires their client certificates ([`ingest`]).

pub mod ca;
pub mod compliance;
pub mod dashboard;
pub mod feed;
pub mod hostlogs;
pub mod i18n;
pub mod ingest;
pub mod metrics;
pub mod openapi;
pub mod permission;
pub mod routes;
pub mod search;
pub mod sensors;
pub mod tls;
pub mod triage;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use axum::Extension;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A TLS handshake that takes longer than this is dropped (a slow client holds nothing).
const HANDSHAKE: Duration = Duration::from_secs(10);
/// On shutdown, requests in flight get this long to finish.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `router` over TLS on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: axum::Router,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, or a connection reset before accept: keep serving.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => return tracing::debug!(%peer, "TLS handshake: {e}"),
                Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
            };
            // The client's certificate, on the sensors' listener (verified in the handshake).
            let client = tls.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| c.clone().into_owned());
            let service =
                router.layer(Extension(routes::Peer(peer))).layer(Extension(ClientCertificate(client.map(Arc::new))));
            let service = hyper_util::service::TowerToHyperService::new(service);
            let builder = auto::Builder::new(TokioExecutor::new());
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, "connection: {e}");
            }
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => tracing::warn!("requests still running after {DRAIN:?}; stopping"),
    }
    Ok(())
}

/// The certificate the client showed in the TLS handshake (the sensors' listener requires one;
/// the console's asks for none).
#[derive(Clone)]
pub struct ClientCertificate(pub Option<Arc<rustls::pki_types::CertificateDer<'static>>>);

/// Completes on Ctrl-C or SIGTERM.
pub async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("a SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
