//! Host logs into the store: syslog over UDP, TCP and TLS ([`listen`]) and JSON lines from
//! agents over the sensors' mutual-TLS listener (`POST /v1/logs/{kind}`), as records
//! ([`event`]), with Sigma's host rules run on them ([`canh_analyzer::hostlog`]) and their
//! alerts beside them. A syslog sender is mapped to the organization whose information system
//! holds its address (the inventory's zones, most specific range first; the address a message
//! names as its host first, for relays); an agent's events are
//! its certificate's organization's. Lines that are not syslog, or not JSON, are kept raw and
//! counted: nothing is dropped unsaid.

pub mod event;
pub mod listen;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use canh_analyzer::hostlog::{EventHead, HostLogDetector};
use canh_compliance::system::IpRange;
use serde::Serialize;
use tokio::sync::mpsc;

use super::ingest::committer::Committer;
use super::routes::App;
use event::Event;

/// The `_sensor` of what the server's own receivers take.
pub const RECEIVER: &str = "canh-server";
/// The `_org` of a syslog sender no information system's range holds.
pub const UNMAPPED: &str = "unmapped";

/// What the receivers took, for the operator (and `/metrics`).
#[derive(Debug, Default, Serialize)]
pub struct Counts {
    pub received: AtomicU64,
    /// Lines kept raw: not syslog, not JSON.
    pub malformed: AtomicU64,
    /// Events from senders no organization's range holds.
    pub unmapped: AtomicU64,
    /// Datagrams not taken because the queue to the store was full (UDP cannot wait).
    pub dropped: AtomicU64,
    pub alerts: AtomicU64,
}

pub struct HostLogs {
    app: Arc<App>,
    committer: Committer,
    detector: Arc<HostLogDetector>,
    ranges: RwLock<Vec<(IpRange, String)>>,
    queue: mpsc::Sender<(Event, Option<(String, String)>)>,
    pub counts: Counts,
}

/// Events waiting for the store at most (a burst of UDP beyond it is counted as dropped).
const QUEUE: usize = 100_000;
/// Events written together at most, and how long one waits for others.
const BATCH: usize = 10_000;
const WAIT: Duration = Duration::from_millis(300);

impl HostLogs {
    pub fn start(app: Arc<App>, committer: Committer, detector: HostLogDetector) -> Arc<Self> {
        let (queue, events) = mpsc::channel(QUEUE);
        let logs = Arc::new(Self {
            app,
            committer,
            detector: Arc::new(detector),
            ranges: RwLock::default(),
            queue,
            counts: Counts::default(),
        });
        logs.refresh_ranges();
        tokio::spawn(logs.clone().write(events));
        let again = logs.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                again.refresh_ranges();
            }
        });
        logs
    }

    /// The organizations' address ranges, from the information systems' zones.
    pub fn refresh_ranges(&self) {
        let read = || -> anyhow::Result<Vec<(IpRange, String)>> {
            let systems = crate::state::inventory::list(&*self.app.read()?, &None)?;
            let mut ranges: Vec<(IpRange, String)> = systems
                .iter()
                .flat_map(|s| {
                    s.system.zones.iter().flat_map(move |z| {
                        z.private_ranges.iter().chain(&z.public_ranges).map(move |r| (*r, s.system.org.clone()))
                    })
                })
                .collect();
            // The most specific range first.
            ranges.sort_by_key(|r| std::cmp::Reverse(r.0.prefix));
            Ok(ranges)
        };
        match read() {
            Ok(r) => *self.ranges.write().unwrap_or_else(|p| p.into_inner()) = r,
            Err(e) => tracing::warn!("host logs: the organizations' ranges: {e:#}"),
        }
    }

    pub fn org_of(&self, addr: IpAddr) -> Option<String> {
        let ranges = self.ranges.read().unwrap_or_else(|p| p.into_inner());
        ranges.iter().find(|(r, _)| r.contains(addr)).map(|(_, org)| org.clone())
    }

    /// Queues an event from the server's own receivers (its org found by its sender), waiting
    /// for room.
    pub async fn take(&self, e: Event) {
        self.counts.received.fetch_add(1, Ordering::Relaxed);
        let _ = self.queue.send((e, None)).await;
    }

    /// Queues an event without waiting (UDP): false when the queue is full (counted).
    pub fn offer(&self, e: Event) -> bool {
        self.counts.received.fetch_add(1, Ordering::Relaxed);
        let taken = self.queue.try_send((e, None)).is_ok();
        if !taken {
            self.counts.dropped.fetch_add(1, Ordering::Relaxed);
        }
        taken
    }

    /// Writes agents' events (sensor and org from their certificate) and waits for the commit
    /// that holds them and their alerts.
    pub async fn write_now(&self, events: Vec<Event>, sensor: &str, org: &str) -> Result<u64, String> {
        self.counts.received.fetch_add(events.len() as u64, Ordering::Relaxed);
        let mut ndjson = Vec::new();
        let alerts =
            self.serialize(events.into_iter().map(|e| (e, Some((sensor.to_string(), org.to_string())))), &mut ndjson);
        self.committer.commit(ndjson).await?;
        Ok(alerts)
    }

    /// Records and their alerts as NDJSON; returns the alerts.
    fn serialize(&self, events: impl Iterator<Item = (Event, Option<(String, String)>)>, out: &mut Vec<u8>) -> u64 {
        let mut alerts = Vec::new();
        for (mut e, origin) in events {
            let (sensor, org) = match origin {
                Some(o) => o,
                None => {
                    // A relay forwards others' messages: the host a message names by address
                    // comes first, then the address it came from.
                    let named = e.fields.get("host").and_then(|h| h.as_str()?.parse::<IpAddr>().ok());
                    let org = named.and_then(|a| self.org_of(a)).or_else(|| e.sender.and_then(|a| self.org_of(a)));
                    let org = org.unwrap_or_else(|| {
                        self.counts.unmapped.fetch_add(1, Ordering::Relaxed);
                        UNMAPPED.to_string()
                    });
                    (RECEIVER.to_string(), org)
                }
            };
            e.fields.insert("_sensor".into(), sensor.clone().into());
            e.fields.insert("_org".into(), org.clone().into());
            // The record as stored; its store id tells its alerts apart.
            let start = out.len();
            if serde_json::to_writer(&mut *out, &e.fields).is_err() {
                out.truncate(start);
                continue;
            }
            let line = std::str::from_utf8(&out[start..]).unwrap_or_default();
            let id = format!("{:032x}", canh_analyzer::store::writer::record_id(line));
            out.push(b'\n');
            let head = EventHead { id, ts: e.ts, sensor, org, host: e.sender };
            self.detector.detect(&e.fields, &e.source, &head, &mut alerts);
        }
        for a in &alerts {
            if serde_json::to_writer(&mut *out, a).is_ok() {
                out.push(b'\n');
            }
        }
        self.counts.alerts.fetch_add(alerts.len() as u64, Ordering::Relaxed);
        alerts.len() as u64
    }

    async fn write(self: Arc<Self>, mut events: mpsc::Receiver<(Event, Option<(String, String)>)>) {
        while let Some(first) = events.recv().await {
            let mut batch = vec![first];
            let deadline = tokio::time::Instant::now() + WAIT;
            while batch.len() < BATCH {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Ok(Some(e)) => batch.push(e),
                    _ => break,
                }
            }
            let mut ndjson = Vec::new();
            self.serialize(batch.into_iter(), &mut ndjson);
            // The store could not commit: try again, the events wait meanwhile (TCP senders
            // feel it as backpressure).
            let mut pause = Duration::from_millis(200);
            while let Err(e) = self.committer.commit(ndjson.clone()).await {
                tracing::error!("host logs: the store: {e}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(10));
            }
        }
    }
}
