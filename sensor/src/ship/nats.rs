//! The scale-out transport: for a province that outgrows one server, sensors publish their
//! spool's batches to a replicated NATS JetStream stream, and any number of indexers
//! (`canh indexer`) take them from it as one durable consumer. The direct mutual-TLS path to
//! `canh server` stays the default; this one is chosen with `canh sensor --nats`.
//!
//! Exactly once, end to end:
//!
//! - a sensor publishes batch `seq` with the message id `ORG.SENSOR.SEQ` and forgets it only
//!   when JetStream acknowledges it stored (on every replica the stream's quorum needs); a
//!   resend after a lost acknowledgement is dropped by the stream's duplicate window;
//! - an indexer claims a batch in a replicated stream that keeps one message per batch id
//!   ([`DONE_STREAM`]: a key-value bucket in all but name; the client's key-value API needs a
//!   newer server than Debian's 2.9 to make one) by a compare-and-set publish, stores it,
//!   commits, and marks it done there before it acknowledges the message; a batch delivered
//!   again (an acknowledgement lost with a node, a consumer's leader moved) is put back while
//!   another indexer holds its claim and only acknowledged once it is done, whichever indexer
//!   gets it; and each indexer's store keeps a record once anyway (its content id).
//!
//! The subject says whose batch it is (`canh.batches.ORG.SENSOR`): who may publish on which
//! subject is the NATS server's authorization (a sensor's certificate mapped to its user, its
//! user allowed its own subject only), as the certificate is the server's on the direct path.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;

use super::client::ShipStats;
use super::spool::SharedSpool;
use super::wire;

/// The stream every sensor publishes to.
pub const STREAM: &str = "CANH_BATCHES";
/// The durable consumer every indexer pulls from: together they are one consumer group.
pub const CONSUMER: &str = "canh-indexers";
/// Batch ids stored and committed by some indexer: the last message of subject
/// `canh.done.ID` (its body names the indexer).
pub const DONE_STREAM: &str = "CANH_DONE";
/// How long JetStream remembers message ids to drop a resent batch (a sensor that was cut
/// off longer resends into the done stream's check instead).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);
/// How long the done stream remembers a batch.
pub const DONE_FOR: Duration = Duration::from_secs(14 * 86_400);

/// The subject of a sensor's batches.
pub fn subject(org: &str, sensor: &str) -> String {
    format!("canh.batches.{org}.{sensor}")
}

/// The organization and sensor a subject names.
pub fn parse_subject(subject: &str) -> Option<(&str, &str)> {
    let rest = subject.strip_prefix("canh.batches.")?;
    let (org, sensor) = rest.split_once('.')?;
    (!org.is_empty() && !sensor.is_empty() && !sensor.contains('.')).then_some((org, sensor))
}

/// A batch's id: the stream's message id and, in the done stream, its subject's last token.
pub fn batch_id(org: &str, sensor: &str, seq: u64) -> String {
    format!("{org}.{sensor}.{seq}")
}

/// The stream, as sensors and indexers both declare it (whoever comes first makes it).
pub fn stream_config(replicas: usize) -> jetstream::stream::Config {
    jetstream::stream::Config {
        name: STREAM.to_string(),
        subjects: vec!["canh.batches.>".to_string()],
        // Work queue: a batch leaves the stream once an indexer acknowledged it.
        retention: jetstream::stream::RetentionPolicy::WorkQueue,
        storage: jetstream::stream::StorageType::File,
        num_replicas: replicas,
        duplicate_window: DUPLICATE_WINDOW,
        ..Default::default()
    }
}

/// The done stream's configuration.
pub fn done_config(replicas: usize) -> jetstream::stream::Config {
    jetstream::stream::Config {
        name: DONE_STREAM.to_string(),
        subjects: vec!["canh.done.>".to_string()],
        max_messages_per_subject: 1,
        max_age: DONE_FOR,
        storage: jetstream::stream::StorageType::File,
        num_replicas: replicas,
        ..Default::default()
    }
}

/// The done stream's subject for a batch.
pub fn done_subject(batch_id: &str) -> String {
    format!("canh.done.{batch_id}")
}

/// Connects to any of `urls` (comma-separated), reconnecting to the others for as long as
/// the process runs; with `tls`, the sensor's certificate is shown.
pub async fn connect(urls: &str, tls: Option<rustls::ClientConfig>) -> Result<async_nats::Client, String> {
    let addrs: Vec<async_nats::ServerAddr> = urls
        .split(',')
        .map(|u| u.trim().parse::<async_nats::ServerAddr>().map_err(|e| format!("{u}: {e}")))
        .collect::<Result<_, _>>()?;
    let mut options = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .max_reconnects(None);
    if let Some(tls) = tls {
        options = options.tls_client_config(tls);
    }
    options.connect(addrs).await.map_err(|e| format!("{urls}: {e}"))
}

/// Publishes the spool's batches, oldest first.
pub struct NatsShipper {
    pub spool: SharedSpool,
    pub urls: String,
    pub tls: Option<rustls::ClientConfig>,
    pub replicas: usize,
    pub org: String,
    pub sensor: String,
    pub stats: Arc<ShipStats>,
}

const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long a publish may wait for JetStream's acknowledgement (a node lost means a new
/// stream leader is elected meanwhile).
const ACK_WITHIN: Duration = Duration::from_secs(10);

impl NatsShipper {
    /// Publishes on a thread of its own until `stop` is set.
    pub fn spawn(self, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name("canh-ship-nats".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                rt.block_on(self.run(stop));
            })
            .expect("a thread")
    }

    async fn run(self, stop: Arc<AtomicBool>) {
        let client = loop {
            match connect(&self.urls, self.tls.clone()).await {
                Ok(c) => break c,
                Err(e) => {
                    self.stats.failed(format!("NATS: {e}"));
                    if pause(Duration::from_secs(2), &stop).await {
                        return;
                    }
                }
            }
        };
        let js = jetstream::new(client);
        let subject = subject(&self.org, &self.sensor);
        let mut declared = false;
        let mut backoff = Duration::from_secs(1);
        while !stop.load(Ordering::Relaxed) {
            if !declared {
                match js.get_or_create_stream(stream_config(self.replicas)).await {
                    Ok(_) => declared = true,
                    Err(e) => {
                        self.stats.failed(format!("NATS: the stream {STREAM}: {e}"));
                        if pause(backoff, &stop).await {
                            break;
                        }
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                        continue;
                    }
                }
            }
            let next = match self.spool.update(|s| s.take_oldest()) {
                Ok(n) => n,
                Err(e) => {
                    self.stats.failed(format!("reading the spool: {e}"));
                    if pause(backoff, &stop).await {
                        break;
                    }
                    continue;
                }
            };
            let Some((entry, body)) = next else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let dropped = self.spool.lock().dropped();
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", batch_id(&self.org, &self.sensor, entry.seq).as_str());
            headers.insert(wire::SEQUENCE, entry.seq.to_string().as_str());
            headers.insert(wire::RECORDS, entry.records.to_string().as_str());
            headers.insert(wire::DROPPED_BATCHES, dropped.batches.to_string().as_str());
            headers.insert(wire::DROPPED_RECORDS, dropped.records.to_string().as_str());
            let published = async {
                let ack = js
                    .publish_with_headers(subject.clone(), headers, Bytes::from(body))
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::time::timeout(ACK_WITHIN, ack)
                    .await
                    .map_err(|_| format!("no acknowledgement within {ACK_WITHIN:?}"))?
                    .map_err(|e| e.to_string())
            }
            .await;
            match published {
                Ok(ack) => {
                    backoff = Duration::from_secs(1);
                    self.stats.batches.fetch_add(1, Ordering::Relaxed);
                    self.stats.records.fetch_add(entry.records, Ordering::Relaxed);
                    if ack.duplicate {
                        self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Err(e) = self.spool.update(|s| s.ack(entry.seq)) {
                        self.stats.failed(format!("removing batch {} from the spool: {e}", entry.seq));
                    }
                }
                Err(why) if why.contains("maximum payload") => {
                    let why = format!("larger than the NATS server's max_payload: {why}");
                    if let Err(e) = self.spool.update(|s| s.reject(entry.seq, &why)) {
                        self.stats.failed(format!("setting batch {} aside: {e}", entry.seq));
                    }
                }
                Err(why) => {
                    self.spool.update(|s| s.release());
                    self.stats.failed(format!("NATS: batch {}: {why}", entry.seq));
                    if pause(backoff, &stop).await {
                        break;
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        self.spool.update(|s| s.release());
    }
}

/// Sleeps `d` in steps, so that a stop is seen; true when stopped.
async fn pause(d: Duration, stop: &AtomicBool) -> bool {
    let until = tokio::time::Instant::now() + d;
    while tokio::time::Instant::now() < until {
        if stop.load(Ordering::Relaxed) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_the_org_and_sensor() {
        assert_eq!(parse_subject(&subject("so-a", "s1")), Some(("so-a", "s1")));
        for bad in ["canh.batches.so-a", "canh.batches..s1", "canh.batches.so-a.s1.x", "other.so-a.s1"] {
            assert_eq!(parse_subject(bad), None, "{bad}");
        }
        assert_eq!(batch_id("so-a", "s1", 7), "so-a.s1.7");
    }
}
