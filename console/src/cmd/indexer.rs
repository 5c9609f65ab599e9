//! `canh indexer --nats URLS --data DIR`: one of the indexers that take sensors' batches from
//! the NATS JetStream stream ([`canh_sensor::ship::nats`]) as one durable consumer group, each
//! into its own event store. Per fetch: each batch is claimed in the replicated done stream —
//! atomically, by a publish that holds only if the batch's subject there is still as this
//! indexer read it — then checked and stamped with the sensor and org its subject names (as the
//! server stamps a batch with its certificate's); the store commits, the batches are marked
//! done, and only then are the messages acknowledged. A batch delivered again while another
//! indexer holds its claim (its acknowledgement was late: a node went down meanwhile) is put
//! back for later rather than stored twice; one found done is only acknowledged. A claim older
//! than [`TAKE_OVER_AFTER`] and still not done is taken over (its indexer died).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use async_nats::jetstream::{self, AckKind, consumer::pull};
use canh_analyzer::store::Store;
use canh_analyzer::store::writer::{CommitPolicy, StoreWriter};
use canh_sensor::ship::{nats, wire};
use clap::Args;
use futures_util::StreamExt as _;

use crate::escape::terminal;

#[derive(Debug, Args)]
pub struct IndexerArgs {
    /// The NATS servers (comma-separated; the others are tried when one is down).
    #[arg(long, env = "CANH_NATS", value_name = "URLS")]
    pub nats: String,
    /// A client certificate of the province CA for `tls://` servers (a directory as `canh
    /// sensor certify --out` writes: sensor.crt, sensor.key, ca.crt).
    #[arg(long, value_name = "DIR")]
    pub identity: Option<PathBuf>,
    /// This indexer's data directory (its own event store).
    #[arg(long, env = "CANH_DATA", value_name = "DIR")]
    pub data: PathBuf,
    /// Its name in the done stream (which indexer stored a batch).
    #[arg(long, default_value_t = default_name())]
    pub name: String,
    /// Replicas of the stream and of the done stream, when this indexer makes them.
    #[arg(long, default_value_t = 3)]
    pub replicas: usize,
    /// Batches taken at once (one commit for all of them).
    #[arg(long, default_value_t = 64)]
    pub fetch: usize,
    /// How long a batch taken by an indexer waits for its acknowledgement before it is
    /// delivered again (to any indexer): longer than a fetch takes to store and commit. Set when
    /// the consumer group is made.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub ack_wait: u64,
    /// Stop when no batch came for this long.
    #[arg(long, value_name = "SECONDS")]
    pub idle_exit: Option<u64>,
}

/// A claim not done after this long is another indexer's to take (its holder died between
/// claiming and committing; a live one commits within seconds).
const TAKE_OVER_AFTER: Duration = Duration::from_secs(600);

fn default_name() -> String {
    format!("indexer-{}", std::process::id())
}

/// What an indexer did.
#[derive(Debug, Default)]
struct Counts {
    batches: u64,
    records: u64,
    /// Batches found done (another indexer's, or this one's before its acknowledgement was lost).
    done_already: u64,
    /// Batches that were no batch (refused for good, and said why).
    refused: u64,
    /// Deliveries put back because another indexer held the batch's claim.
    held_elsewhere: u64,
}

pub fn run(args: IndexerArgs) -> Result<i32> {
    let store = Store::open(&args.data).with_context(|| args.data.display().to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).context("a signal handler")?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut counts = Counts::default();
    let outcome = runtime.block_on(consume(&args, &store, &stop, &mut counts));
    eprintln!(
        "indexer {}: {} batches ({} records) stored, {} done already, {} put back (held elsewhere), {} refused",
        terminal(&args.name),
        counts.batches,
        counts.records,
        counts.done_already,
        counts.held_elsewhere,
        counts.refused
    );
    match outcome {
        Ok(()) => Ok(0),
        // Stopped while waiting on the cluster: what was committed is told above, the rest is
        // delivered again.
        Err(e) if stop.load(Ordering::Relaxed) => {
            eprintln!("stopped while waiting: {e:#}");
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

/// Retries `f` every half second until it succeeds or the indexer is stopped (a NATS node
/// lost: the cluster elects new leaders within seconds).
async fn retry<T, E: std::fmt::Display, F: std::future::Future<Output = Result<T, E>>>(
    what: &str,
    stop: &AtomicBool,
    mut f: impl FnMut() -> F,
) -> Result<T> {
    let mut told = false;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                if !told {
                    tracing::warn!("{what}: {e} (retrying)");
                    told = true;
                }
                anyhow::ensure!(!stop.load(Ordering::Relaxed), "{what}: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

async fn consume(args: &IndexerArgs, store: &Store, stop: &AtomicBool, counts: &mut Counts) -> Result<()> {
    let tls = match &args.identity {
        Some(dir) => {
            use super::sensor_run::{CA, CERT, KEY};
            let config = canh_sensor::ship::client::client_config(&dir.join(CA), &dir.join(CERT), &dir.join(KEY))?;
            Some((*config).clone())
        }
        None => None,
    };
    let client = nats::connect(&args.nats, tls).await.map_err(anyhow::Error::msg)?;
    let js = jetstream::new(client);
    let stream = retry("the stream", stop, || js.get_or_create_stream(nats::stream_config(args.replicas))).await?;
    let consumer_config = pull::Config {
        durable_name: Some(nats::CONSUMER.to_string()),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        // A batch is delivered again only when its indexer, or the node its acknowledgement
        // went through, is gone.
        ack_wait: Duration::from_secs(args.ack_wait),
        max_ack_pending: 4096,
        ..Default::default()
    };
    let consumer: jetstream::consumer::PullConsumer =
        retry("the consumer", stop, || stream.get_or_create_consumer(nats::CONSUMER, consumer_config.clone())).await?;
    let done = retry("the done stream", stop, || js.get_or_create_stream(nats::done_config(args.replicas))).await?;
    eprintln!("indexer {}: consuming {} as {}", terminal(&args.name), nats::STREAM, nats::CONSUMER);
    let mut writer = StoreWriter::new(store, CommitPolicy { records: usize::MAX, interval: Duration::MAX });
    let mut last_batch = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if args.idle_exit.is_some_and(|s| last_batch.elapsed() >= Duration::from_secs(s)) {
            break;
        }
        let fetched = consumer.fetch().max_messages(args.fetch).expires(Duration::from_secs(1)).messages().await;
        let mut messages = Vec::new();
        match fetched {
            Ok(mut batch) => {
                while let Some(m) = batch.next().await {
                    match m {
                        Ok(m) => messages.push(m),
                        Err(e) => tracing::warn!("fetching: {e}"),
                    }
                }
            }
            Err(e) => {
                tracing::warn!("fetching: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        }
        if messages.is_empty() {
            continue;
        }
        last_batch = Instant::now();
        // Stored by this commit: their ids, to be marked done before they are acknowledged.
        let mut taken = Vec::new();
        let mut settled = Vec::new();
        for m in messages {
            match take(&m, &js, &done, &args.name, stop, &mut writer).await? {
                Ok(Taken::Stored { id, records }) => {
                    counts.batches += 1;
                    counts.records += records;
                    taken.push((id, m));
                }
                Ok(Taken::DoneAlready) => {
                    counts.done_already += 1;
                    settled.push(m);
                }
                Ok(Taken::HeldElsewhere) => {
                    counts.held_elsewhere += 1;
                    if let Err(e) = m.ack_with(AckKind::Nak(Some(Duration::from_secs(2)))).await {
                        tracing::warn!("putting a batch back: {e}");
                    }
                }
                Err(why) => {
                    counts.refused += 1;
                    tracing::warn!("batch on {}: refused: {why}", m.subject);
                    retry("refusing a batch", stop, || m.ack_with(AckKind::Term)).await?;
                }
            }
        }
        if !taken.is_empty() {
            writer.commit().context("the event store")?;
        }
        for (id, m) in taken {
            retry("marking a batch done", stop, || async {
                let ack = js
                    .publish(nats::done_subject(&id), format!("done {}", args.name).into())
                    .await
                    .map_err(|e| e.to_string())?;
                ack.await.map_err(|e| e.to_string())
            })
            .await?;
            settled.push(m);
        }
        for m in settled {
            // A lost acknowledgement only means the batch comes again and is found done.
            if let Err(e) = m.ack().await {
                tracing::warn!("acknowledging a batch: {e}");
            }
        }
    }
    Ok(())
}

enum Taken {
    Stored { id: String, records: u64 },
    DoneAlready,
    HeldElsewhere,
}

/// Stores one batch unless it is done already; the inner `Err` for a message that is no batch
/// (refused for good), the outer one when the store fails (nothing is acknowledged then).
async fn take(
    m: &jetstream::Message,
    js: &jetstream::Context,
    done: &jetstream::stream::Stream,
    name: &str,
    stop: &AtomicBool,
    writer: &mut StoreWriter,
) -> Result<Result<Taken, String>> {
    let Some((org, sensor)) = nats::parse_subject(&m.subject) else { return Ok(Err("not a batch subject".into())) };
    let header = |name: &str| -> Result<u64, String> {
        m.headers
            .as_ref()
            .and_then(|h| h.get(name))
            .and_then(|v| v.as_str().parse().ok())
            .ok_or_else(|| format!("header `{name}`: a number is required"))
    };
    let (seq, records) = match (header(wire::SEQUENCE), header(wire::RECORDS)) {
        (Ok(s), Ok(r)) => (s, r),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
    };
    let id = nats::batch_id(org, sensor, seq);
    match claim(js, done, &id, name, stop).await? {
        Claim::Mine => {}
        Claim::Done => return Ok(Ok(Taken::DoneAlready)),
        Claim::Elsewhere => return Ok(Ok(Taken::HeldElsewhere)),
    }
    let checked = wire::decompress(&m.payload)
        .map_err(|e| e.to_string())
        .and_then(|ndjson| canh_sensor::ship::batch::stamp(&ndjson, sensor, org, records).map_err(|e| e.to_string()));
    let lines = match checked {
        Ok(l) => l,
        Err(e) => return Ok(Err(format!("batch {seq}: {e}"))),
    };
    // Checked whole before any line goes in: a refused batch leaves nothing behind.
    for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let line = std::str::from_utf8(line).context("a stamped line")?;
        writer.add_line(line).with_context(|| format!("batch {seq} of {sensor}"))?;
    }
    Ok(Ok(Taken::Stored { id, records }))
}

enum Claim {
    Mine,
    Done,
    Elsewhere,
}

/// Claims batch `id` for indexer `name`: reads its subject in the done stream, and publishes
/// `claim NAME UNIX` expecting that subject's last sequence to be the one read — so of two
/// indexers claiming at once, one wins. Asked until answered: a done stream that cannot be
/// read must not let a batch in twice.
async fn claim(
    js: &jetstream::Context,
    done: &jetstream::stream::Stream,
    id: &str,
    name: &str,
    stop: &AtomicBool,
) -> Result<Claim> {
    use jetstream::stream::LastRawMessageErrorKind as Kind;
    let subject = nats::done_subject(id);
    loop {
        let last = retry("the done stream", stop, || async {
            match done.get_last_raw_message_by_subject(&subject).await {
                Ok(m) => Ok(Some((m.sequence, String::from_utf8_lossy(&m.payload).into_owned()))),
                Err(e) if e.kind() == Kind::NoMessageFound => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        let expected = match &last {
            None => 0,
            Some((_, text)) if text.starts_with("done ") => return Ok(Claim::Done),
            Some((seq, text)) => {
                let mut words = text.split(' ').skip(1);
                let (holder, at) = (words.next().unwrap_or(""), words.next().and_then(|t| t.parse::<u64>().ok()));
                if holder == name {
                    return Ok(Claim::Mine);
                }
                if at.is_some_and(|at| now < at + TAKE_OVER_AFTER.as_secs()) {
                    return Ok(Claim::Elsewhere);
                }
                *seq
            }
        };
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Expected-Last-Subject-Sequence", expected.to_string().as_str());
        let published = async {
            let ack = js
                .publish_with_headers(subject.clone(), headers, format!("claim {name} {now}").into())
                .await
                .map_err(|e| e.to_string())?;
            ack.await.map_err(|e| e.to_string())
        }
        .await;
        match published {
            Ok(_) => return Ok(Claim::Mine),
            // Another indexer claimed it meanwhile (or the cluster is electing): read again.
            Err(e) => {
                tracing::debug!("claiming {id}: {e}");
                anyhow::ensure!(!stop.load(Ordering::Relaxed), "claiming {id}: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}
