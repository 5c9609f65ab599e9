//! The syslog listeners: UDP (one message per datagram), TCP and TLS (RFC 6587 framing: octet
//! counting or one message per line; TLS as RFC 5425, with the certificate the server shows its
//! sensors). A message that is not syslog is kept raw; a TCP sender waits when the store falls
//! behind, a UDP datagram that finds the queue full is counted as dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use canh_sensor::proto::syslog::{self, Clock};
use tokio::io::{AsyncRead, AsyncReadExt as _};

use super::HostLogs;
use super::event::{self, Event};

/// Longest message taken whole (RFC 5425 asks for 2 KiB at least; Windows events over syslog
/// run long); longer ones are cut into pieces of this size, each kept.
pub const MAX_MESSAGE: usize = 64 << 10;

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64()
}

/// One message (or a line that is not one) as an event.
pub fn to_event(line: &[u8], sender: std::net::IpAddr, transport: &str, logs: &HostLogs) -> Event {
    let received = now();
    let clock = Clock { now: received as i64, offset: Clock::VIETNAM };
    match syslog::parse(line, &clock) {
        Ok(m) => event::syslog(&m, sender, transport, received),
        Err(e) => {
            logs.counts.malformed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            event::raw(line, &e.to_string(), "syslog", Some(sender), transport, received)
        }
    }
}

pub async fn udp(socket: tokio::net::UdpSocket, logs: Arc<HostLogs>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, from)) => {
                let e = to_event(&buf[..n], from.ip(), "udp", &logs);
                logs.offer(e);
            }
            Err(e) => {
                tracing::warn!("syslog over UDP: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Reads a stream's frames until it ends.
async fn stream(mut s: impl AsyncRead + Unpin, from: SocketAddr, transport: &str, logs: &HostLogs) {
    let mut buf: Vec<u8> = Vec::with_capacity(MAX_MESSAGE * 2);
    let mut chunk = vec![0u8; MAX_MESSAGE];
    loop {
        let n = match s.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        let (frames, used) = syslog::frames(&buf, MAX_MESSAGE);
        for f in frames {
            let e = to_event(f, from.ip(), transport, logs);
            logs.take(e).await;
        }
        buf.drain(..used);
    }
    // What the sender left without an end of line is still its message.
    let rest = String::from_utf8_lossy(&buf);
    if !rest.trim().is_empty() {
        let e = to_event(rest.trim_end().as_bytes(), from.ip(), transport, logs);
        logs.take(e).await;
    }
}

pub async fn tcp(listener: tokio::net::TcpListener, logs: Arc<HostLogs>, tls: Option<tokio_rustls::TlsAcceptor>) {
    loop {
        let (conn, from) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("syslog over TCP: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let logs = logs.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => stream(conn, from, "tcp", &logs).await,
                Some(acceptor) => match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(conn)).await {
                    Ok(Ok(s)) => stream(s, from, "tls", &logs).await,
                    Ok(Err(e)) => tracing::debug!(%from, "syslog over TLS: {e}"),
                    Err(_) => tracing::debug!(%from, "syslog over TLS: handshake timed out"),
                },
            }
        });
    }
}
