//! What the SOC knows, for the compliance crate's own evidence ([`SocFacts`]): how many days of
//! an organization's records the event store holds, when sensors last saw a system's
//! addresses, how fast its alerts were triaged, and how current the rule packs are.

use std::net::IpAddr;

use canh_analyzer::store::query::Search;
use canh_compliance::evidence::{SocFacts, TriageStats};
use canh_compliance::system::IpRange;
use time::{Duration, OffsetDateTime};

use super::super::routes::App;
use crate::state::org;

pub struct Soc<'a> {
    pub app: &'a App,
    pub now: OffsetDateTime,
}

fn in_ranges(addr: &str, ranges: &[IpRange]) -> bool {
    addr.parse::<IpAddr>().is_ok_and(|a| ranges.iter().any(|r| r.contains(a)))
}

impl SocFacts for Soc<'_> {
    fn retention_days_held(&self, org_code: &str) -> Option<u32> {
        let store = self.app.store().ok()?;
        let orgs = org::subtree(&*self.app.read().ok()?, org_code).ok()?;
        // The oldest day holding any of the organization's records.
        for day in store.days() {
            let start = canh_analyzer::store::day_start(&day)?;
            let search = Search {
                query: "*".into(),
                since: Some(start),
                until: Some(start + 86_400_000_000),
                limit: 1,
                orgs: Some(orgs.clone()),
                ..Default::default()
            };
            if store.search(&search).ok().is_some_and(|h| h.total > 0) {
                let held = (self.now.unix_timestamp() * 1_000_000 - start) / 86_400_000_000 + 1;
                return u32::try_from(held).ok();
            }
        }
        None
    }

    fn last_traffic(&self, ranges: &[IpRange]) -> Option<OffsetDateTime> {
        let store = self.app.store().ok()?;
        let terms: Vec<String> =
            ranges.iter().flat_map(|r| [format!("id.orig_h:{r}"), format!("id.resp_h:{r}")]).collect();
        let search =
            Search { query: format!("_type:conn AND ({})", terms.join(" OR ")), limit: 1, ..Default::default() };
        let hits = store.search(&search).ok()?;
        let ts = hits.records.first()?.get("ts")?.as_f64()?;
        OffsetDateTime::from_unix_timestamp_nanos((ts * 1e9) as i128).ok()
    }

    fn triage(&self, org_code: &str, ranges: &[IpRange], since: OffsetDateTime, within: Duration) -> TriageStats {
        let Ok(conn) = self.app.read() else { return TriageStats::default() };
        let Ok(orgs) = org::subtree(&conn, org_code) else { return TriageStats::default() };
        let since_micros = since.unix_timestamp() * 1_000_000;
        let Ok(mut stmt) = conn.prepare(
            "SELECT a.ts, a.src, a.dst, a.org, a.status,
                    (SELECT min(h.ts) FROM alert_history h WHERE h.alert = a.id AND h.actor != 'canh')
             FROM alerts a WHERE a.ts >= ?1",
        ) else {
            return TriageStats::default();
        };
        let rows = stmt.query_map([since_micros], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        });
        let mut stats = TriageStats::default();
        let now = self.now.unix_timestamp() * 1_000_000;
        let within = within.whole_microseconds() as i64;
        for (ts, src, dst, org, status, first) in rows.into_iter().flatten().flatten() {
            if !orgs.contains(&org) || !(in_ranges(&src, ranges) || in_ranges(&dst, ranges)) {
                continue;
            }
            let acted = first
                .and_then(|t| OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok())
                .map(|t| t.unix_timestamp() * 1_000_000);
            match acted {
                // Suppressed by a rule the analysts set: handled on arrival.
                _ if status == "suppressed" => {
                    stats.alerts += 1;
                    stats.in_time += 1;
                }
                Some(at) => {
                    stats.alerts += 1;
                    if at - ts <= within {
                        stats.in_time += 1;
                    }
                }
                // Not yet acted on: late once older than the limit, else still in time.
                None if now - ts > within => stats.alerts += 1,
                None => {}
            }
        }
        stats
    }

    fn rule_packs(&self) -> Option<(String, OffsetDateTime)> {
        // The bundled packs come with the binary: as current as it is.
        let exe = std::env::current_exe().ok()?;
        let modified = std::fs::metadata(exe).ok()?.modified().ok()?;
        let names: Vec<&str> = canh_rules::bundled::names().collect();
        Some((format!("{} (canh {})", names.join(", "), env!("CARGO_PKG_VERSION")), OffsetDateTime::from(modified)))
    }
}
