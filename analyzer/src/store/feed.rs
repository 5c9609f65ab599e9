//! The alerts the store has taken since a reader last looked. The console keeps its own table
//! of alerts, because triage makes them mutable (status, assignee, case) while the store is
//! append-only; it fills that table from here, whoever wrote the alerts (`canh replay
//! --index`, `canh ingest`, later the sensors' ingest) and while they write.
//!
//! Tantivy keeps no ingest order to resume from (`_seq` is half a hash), so the feed remembers
//! the segments it has read in each day; a day whose `meta.json` has not changed since is not
//! even opened. A merge makes a new segment out of old documents: its alerts come again, and
//! the caller skips those it holds by their store id, read from the fast columns before any
//! document is.

use std::collections::{HashMap, HashSet};

use tantivy::index::SegmentId;
use tantivy::query::{EnableScoring, Query as _, TermQuery};
use tantivy::schema::{IndexRecordOption, Value as _};
use tantivy::{DocAddress, TantivyDocument, Term};

use super::{Day, MetaStamp, Store, StoreError};
use canh_sensor::record::names;

/// One alert as the store holds it.
#[derive(Debug, Clone)]
pub struct FedAlert {
    /// The store's id of the document (128 bits of its content hash).
    pub store_id: u128,
    /// The alert as JSON, as it was ingested.
    pub raw: String,
}

/// What a day looked like at the last poll.
#[derive(Debug, Default)]
struct DaySeen {
    meta: Option<MetaStamp>,
    segments: HashSet<SegmentId>,
}

/// The reader's memory of what it has read.
#[derive(Debug, Default)]
pub struct AlertFeed {
    days: HashMap<Day, DaySeen>,
}

impl AlertFeed {
    pub fn new() -> Self {
        Self::default()
    }

    /// The alerts in segments not read before, except those whose store id `held` says the
    /// caller has.
    pub fn poll(&mut self, store: &Store, held: impl Fn(u128) -> bool) -> Result<Vec<FedAlert>, StoreError> {
        let days = store.days();
        // Days dropped by retention are forgotten.
        self.days.retain(|d, _| days.contains(d));
        let fields = store.fields();
        let kind = fields.schema.get_field(names::TYPE).expect("`_type` is in every schema");
        let alerts = TermQuery::new(Term::from_field_text(kind, "alert"), IndexRecordOption::Basic);
        let (high, low) = (fields.schema.get_field_name(fields.id), fields.schema.get_field_name(fields.seq));
        let mut out = Vec::new();
        for day in days {
            let meta = store.day_stamp(&day);
            let seen = self.days.entry(day.clone()).or_default();
            if meta.is_some() && seen.meta == meta {
                continue;
            }
            let failed = |source| StoreError::Index { day: day.clone(), source };
            let searcher = store.searcher(&day)?;
            let weight = alerts.weight(EnableScoring::disabled_from_searcher(&searcher)).map_err(failed)?;
            for (ord, segment) in searcher.segment_readers().iter().enumerate() {
                if seen.segments.contains(&segment.segment_id()) {
                    continue;
                }
                let (hi, lo) =
                    (segment.fast_fields().u64(high).map_err(failed)?, segment.fast_fields().u64(low).map_err(failed)?);
                let mut new = Vec::new();
                weight
                    .for_each_no_score(segment, &mut |docs| {
                        for &doc in docs {
                            let id =
                                u128::from(hi.first(doc).unwrap_or(0)) << 64 | u128::from(lo.first(doc).unwrap_or(0));
                            if !held(id) {
                                new.push((doc, id));
                            }
                        }
                    })
                    .map_err(failed)?;
                for (doc, store_id) in new {
                    let doc: TantivyDocument = searcher.doc(DocAddress::new(ord as u32, doc)).map_err(failed)?;
                    if let Some(raw) = doc.get_first(fields.raw).and_then(|v| v.as_str()) {
                        out.push(FedAlert { store_id, raw: raw.to_string() });
                    }
                }
            }
            // Only the segments alive now: those merged away will not come back.
            seen.segments = searcher.segment_readers().iter().map(|s| s.segment_id()).collect();
            seen.meta = meta;
        }
        Ok(out)
    }
}
