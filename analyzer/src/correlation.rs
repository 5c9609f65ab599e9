//! Sigma correlation rules, evaluated as base rules match: `event_count` (at least N matches),
//! `value_count` (at least N distinct values of a field), `temporal` (all the rules matched)
//! and `temporal_ordered` (all, in order) — within the time span, per group-by values. A
//! window that fires is cleared, so a burst raises one alert, not one per further match.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use canh_rules::correlation::{CorrelationRule, Kind};
use canh_sensor::record::Record;

use crate::alert::Alert;

/// Uids kept on a correlation alert.
const MAX_UIDS: usize = 20;
/// Groups tracked at once. Past this, windows that can no longer fire are dropped; if the
/// table is still full, a new group is not tracked — many source addresses must not grow
/// the analyzer without bound.
const MAX_WINDOWS: usize = 100_000;

#[derive(Default)]
struct Window {
    /// (time, uid, value of the counted field) of each match in the span.
    events: VecDeque<(f64, String, String)>,
    /// For the temporal kinds: when each listed rule last matched.
    seen: Vec<Option<f64>>,
}

pub struct Correlator {
    rules: Vec<CorrelationRule>,
    windows: Mutex<HashMap<(usize, Vec<String>), Window>>,
}

impl Correlator {
    pub fn new(rules: Vec<CorrelationRule>) -> Self {
        Self { rules, windows: Mutex::new(HashMap::new()) }
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// A base rule (`id`, or its `name`) matched `rec`.
    pub fn observe(&self, id: &str, name: Option<&str>, rec: &Record, out: &mut Vec<Alert>) {
        let text = |f: &str| rec.text_of(f).unwrap_or_default();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        for (ci, c) in self.rules.iter().enumerate() {
            let Some(pos) = c.rules.iter().position(|r| r == id || Some(r.as_str()) == name) else { continue };
            let key: Vec<String> = c.group_by.iter().map(|f| text(f)).collect();
            let ts = rec.head.ts;
            if windows.len() >= MAX_WINDOWS && !windows.contains_key(&(ci, key.clone())) {
                let rules = &self.rules;
                windows.retain(|(i, _), w| w.events.back().is_some_and(|(t, _, _)| ts - t <= rules[*i].timespan));
                if windows.len() >= MAX_WINDOWS {
                    continue;
                }
            }
            let w = windows
                .entry((ci, key.clone()))
                .or_insert_with(|| Window { events: VecDeque::new(), seen: vec![None; c.rules.len()] });
            while w.events.front().is_some_and(|(t, _, _)| ts - t > c.timespan) {
                w.events.pop_front();
            }
            let value = c.field.as_deref().map(text).unwrap_or_default();
            w.events.push_back((ts, rec.head.uid.to_string(), value));
            let fired = match c.kind {
                Kind::EventCount => c.op.holds(w.events.len() as u64, c.limit),
                Kind::ValueCount => {
                    let distinct: HashSet<&str> = w.events.iter().map(|(_, _, v)| v.as_str()).collect();
                    c.op.holds(distinct.len() as u64, c.limit)
                }
                Kind::Temporal | Kind::TemporalOrdered => {
                    for s in w.seen.iter_mut() {
                        if s.is_some_and(|t| ts - t > c.timespan) {
                            *s = None;
                        }
                    }
                    // In order: a rule counts only once every rule before it has matched.
                    if c.kind == Kind::Temporal || w.seen[..pos].iter().all(Option::is_some) {
                        w.seen[pos] = Some(ts);
                    }
                    w.seen.iter().all(Option::is_some)
                }
            };
            if fired {
                let mut alert =
                    Alert::for_record("sigma", &c.id, &c.title, c.level.as_deref().unwrap_or("medium"), &c.tags, rec);
                let mut uids: Vec<String> = w.events.iter().map(|(_, u, _)| u.clone()).collect();
                uids.dedup();
                uids.truncate(MAX_UIDS);
                alert.evidence = format!(
                    "{} matches of {} within {}s, group {}",
                    w.events.len(),
                    c.rules.join(", "),
                    c.timespan,
                    key.join(",")
                );
                alert.uids = uids;
                out.push(alert);
                *w = Window { events: VecDeque::new(), seen: vec![None; c.rules.len()] };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canh_rules::correlation::Op;
    use canh_sensor::record::{Body, Dns, Head, Origin};
    use std::sync::Arc;

    #[test]
    fn groups_are_bounded_and_expired_ones_make_room() {
        let rule = CorrelationRule {
            id: "c".into(),
            title: "t".into(),
            level: None,
            tags: vec![],
            kind: Kind::EventCount,
            rules: vec!["base".into()],
            group_by: vec!["id.orig_h".into()],
            timespan: 60.0,
            op: Op::Gte,
            limit: 1_000,
            field: None,
        };
        let c = Correlator::new(vec![rule]);
        let mut out = Vec::new();
        for i in 0..(MAX_WINDOWS as u32 + 5_000) {
            let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            // The first MAX_WINDOWS groups all fall in one minute; the rest come an hour later.
            let ts = if (i as usize) < MAX_WINDOWS { 0.0 } else { 3_600.0 };
            let head = Head {
                ts,
                uid: Arc::from("C"),
                orig_h: ip.into(),
                orig_p: 1,
                resp_h: ip.into(),
                resp_p: 2,
                community_id: Arc::from("1:x"),
                origin: Origin::default(),
            };
            let rec = Record { head, body: Body::Dns(Dns::default()) };
            c.observe("base", None, &rec, &mut out);
            assert!(c.windows.lock().unwrap().len() <= MAX_WINDOWS);
        }
        // The hour-old groups were dropped to make room for the new ones.
        assert_eq!(c.windows.lock().unwrap().len(), 5_000);
        assert!(out.is_empty());
    }
}
