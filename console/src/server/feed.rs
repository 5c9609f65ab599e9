//! Keeps the triage table in step with the event store: alerts that `canh replay --index`,
//! `canh ingest` or the sensors add while the server runs reach the queue within a poll.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use canh_analyzer::store::feed::AlertFeed;

use super::routes::App;
use crate::state::alerts::{self, Incoming, Taken};
use crate::state::now_unix;

/// How often the store is looked at.
pub const EVERY: Duration = Duration::from_secs(2);

/// The feed's memory, and the store ids the triage table holds.
pub struct AlertSync {
    feed: AlertFeed,
    held: Option<HashSet<u128>>,
}

impl Default for AlertSync {
    fn default() -> Self {
        Self { feed: AlertFeed::new(), held: None }
    }
}

/// Takes what the store has that triage has not. One at a time (the sync's lock).
pub fn sync(app: &App) -> anyhow::Result<Taken> {
    let mut sync = app.alert_sync.lock().unwrap_or_else(|p| p.into_inner());
    let sync = &mut *sync;
    let held = match &mut sync.held {
        Some(h) => h,
        None => sync.held.insert(alerts::held(&*app.read()?)?),
    };
    let store = app.store()?;
    store.forget_gone_days();
    let fed = sync.feed.poll(store, |id| held.contains(&id))?;
    if fed.is_empty() {
        return Ok(Taken::default());
    }
    let incoming: Vec<Incoming<'_>> = fed.iter().map(|f| Incoming { store_id: f.store_id, raw: &f.raw }).collect();
    let taken = app.lock().change(|tx| alerts::take(tx, &incoming, now_unix()))?;
    held.extend(fed.iter().map(|f| f.store_id));
    if taken.added > 0 {
        app.triage_changed();
        tracing::info!(added = taken.added, suppressed = taken.suppressed, "alerts taken into triage");
    }
    if taken.unreadable > 0 {
        tracing::warn!(unreadable = taken.unreadable, "alerts in the store that triage cannot read");
    }
    Ok(taken)
}

/// Polls the store until the process ends.
pub async fn keep_in_step(app: Arc<App>) {
    loop {
        let worker = app.clone();
        match tokio::task::spawn_blocking(move || sync(&worker)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("taking alerts from the store: {e:#}"),
            Err(e) => tracing::error!("alert sync task: {e}"),
        }
        tokio::time::sleep(EVERY).await;
    }
}
