//! Evidence (minh chứng) for requirements and dossiers: files stored by their SHA-256 (a
//! revision is a new file; the same bytes are stored once), dated, with an expiry where the
//! requirement recurs (a pentest report is valid for its cycle); and evidence the SOC itself
//! computes — log retention held, traffic seen from the system's ranges, alerts triaged in
//! time, rule packs current — which turns stale by itself when its condition stops holding.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Date, Duration, OffsetDateTime};

use crate::catalog::Period;
use crate::system::IpRange;

/// Where evidence files live: `<root>/<2 hex>/<64 hex>`, written once, never changed.
#[derive(Debug, Clone)]
pub struct ContentStore {
    root: PathBuf,
}

/// A file's SHA-256, as 64 lower-case hex digits.
pub type Sha256Hex = String;

impl ContentStore {
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    fn path(&self, digest: &str) -> Option<PathBuf> {
        let valid = digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| self.root.join(&digest[..2]).join(digest))
    }

    /// Store what `reader` gives; returns its digest and size. Written to a temporary file
    /// and renamed, so a reader never sees half a file; bytes already held are not rewritten.
    pub fn put(&self, mut reader: impl Read) -> io::Result<(Sha256Hex, u64)> {
        let mut tmp = tempfile::NamedTempFile::new_in(&self.root)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut size = 0u64;
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n])?;
            size += n as u64;
        }
        let digest = hex::encode(hasher.finalize());
        let path = self.path(&digest).expect("a fresh digest is valid");
        if !path.exists() {
            std::fs::create_dir_all(path.parent().expect("two levels"))?;
            tmp.as_file().sync_all()?;
            tmp.persist(&path).map_err(|e| e.error)?;
        }
        Ok((digest, size))
    }

    /// The stored file of a digest, checked against it (a file changed on disk is refused).
    pub fn get(&self, digest: &str) -> io::Result<Vec<u8>> {
        let path =
            self.path(digest).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a SHA-256 digest"))?;
        let bytes = std::fs::read(&path)?;
        if hex::encode(Sha256::digest(&bytes)) != digest {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} no longer matches its digest", path.display()),
            ));
        }
        Ok(bytes)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// How a dated piece of evidence stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "days")]
pub enum Validity {
    /// No expiry, or more than the warning window left.
    Valid,
    /// Expires within the window: days left (0 = expires today).
    ExpiresSoon(i64),
    /// Past its expiry, by so many days.
    Expired(i64),
}

/// The expiry of evidence collected on `collected` for a requirement recurring every `cycle`.
pub fn expiry(collected: Date, cycle: Option<Period>) -> Option<Date> {
    cycle.map(|c| c.after(collected))
}

/// Where evidence expiring on `expires` stands on `today`, warning `window` days ahead.
pub fn validity(expires: Option<Date>, today: Date, window: i64) -> Validity {
    match expires {
        None => Validity::Valid,
        Some(e) => {
            let left = (e - today).whole_days();
            if left < 0 {
                Validity::Expired(-left)
            } else if left <= window {
                Validity::ExpiresSoon(left)
            } else {
                Validity::Valid
            }
        }
    }
}

/// The facts the SOC can vouch for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocCheck {
    /// The event store holds the level's log-retention minimum for the system's organization.
    LogRetention,
    /// Sensors saw traffic from the system's address ranges within the window.
    TrafficSeen,
    /// Alerts on the system were triaged within the set time.
    TriageTime,
    /// Rule packs are loaded and current.
    RulePacksCurrent,
}

impl SocCheck {
    pub const ALL: [SocCheck; 4] =
        [SocCheck::LogRetention, SocCheck::TrafficSeen, SocCheck::TriageTime, SocCheck::RulePacksCurrent];

    pub fn name_vi(self) -> &'static str {
        match self {
            SocCheck::LogRetention => "Thời gian lưu nhật ký thực tế",
            SocCheck::TrafficSeen => "Cảm biến giám sát thấy lưu lượng của hệ thống",
            SocCheck::TriageTime => "Cảnh báo được xử lý đúng hạn",
            SocCheck::RulePacksCurrent => "Bộ luật phát hiện được nạp và cập nhật",
        }
    }
}

/// Alerts on a system in a window, and how fast they were triaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TriageStats {
    pub alerts: u64,
    /// Acknowledged, assigned, escalated or closed within the set time.
    pub in_time: u64,
}

/// What the SOC knows, as the console reads it from the event store, the triage table and
/// the rule packs.
pub trait SocFacts {
    /// Whole days of records the event store holds for an organization and its subtree, from
    /// the oldest day kept through today; None when it holds none.
    fn retention_days_held(&self, org: &str) -> Option<u32>;
    /// The last time sensors saw traffic from any of these ranges.
    fn last_traffic(&self, ranges: &[IpRange]) -> Option<OffsetDateTime>;
    /// Alerts on these ranges since `since`, and how many were triaged within `within`.
    fn triage(&self, org: &str, ranges: &[IpRange], since: OffsetDateTime, within: Duration) -> TriageStats;
    /// The loaded rule packs' version and the time they were last updated.
    fn rule_packs(&self) -> Option<(String, OffsetDateTime)>;
}

/// How strict the SOC checks are (the console's settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocPolicy {
    /// Traffic seen within this window (a day).
    pub traffic_window: Duration,
    /// An alert must be triaged within this time.
    pub triage_within: Duration,
    /// Over this window.
    pub triage_window: Duration,
    /// Rule packs older than this are stale.
    pub rule_pack_max_age: Duration,
    /// A finding older than this is stale even if it held.
    pub finding_max_age: Duration,
}

impl Default for SocPolicy {
    fn default() -> Self {
        Self {
            traffic_window: Duration::days(1),
            triage_within: Duration::hours(24),
            triage_window: Duration::days(30),
            rule_pack_max_age: Duration::days(30),
            finding_max_age: Duration::days(1),
        }
    }
}

/// A computed, dated piece of SOC evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocFinding {
    pub check: SocCheck,
    pub holds: bool,
    /// What was measured, in Vietnamese ("giữ 120 ngày").
    pub measured: String,
    /// What is required ("tối thiểu 92 ngày").
    pub required: String,
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
}

impl SocFinding {
    /// Still evidence on `now`: it held when last checked, and that check is recent.
    pub fn is_current(&self, now: OffsetDateTime, policy: &SocPolicy) -> bool {
        self.holds && now - self.checked_at <= policy.finding_max_age
    }
}

/// What a check needs to know of the system.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub org: &'a str,
    pub ranges: Vec<IpRange>,
    /// The level's log-retention minimum; None where the level states none.
    pub retention: Option<Period>,
}

/// Run one check now.
pub fn evaluate(
    check: SocCheck,
    subject: &Subject<'_>,
    facts: &dyn SocFacts,
    policy: &SocPolicy,
    now: OffsetDateTime,
) -> SocFinding {
    let (holds, measured, required) = match check {
        SocCheck::LogRetention => {
            let held = facts.retention_days_held(subject.org);
            let need = subject.retention.map(|p| p.covering_days());
            let measured = held.map_or("không có dữ liệu".to_string(), |d| format!("giữ {d} ngày"));
            let required = need.map_or("cấp độ không nêu thời hạn tối thiểu".to_string(), |d| {
                format!("tối thiểu {d} ngày")
            });
            (held.is_some_and(|h| need.is_none_or(|n| h >= n)), measured, required)
        }
        SocCheck::TrafficSeen => {
            let last = if subject.ranges.is_empty() { None } else { facts.last_traffic(&subject.ranges) };
            let holds = last.is_some_and(|t| now - t <= policy.traffic_window);
            let measured = match (subject.ranges.is_empty(), last) {
                (true, _) => "hệ thống chưa khai báo dải địa chỉ".to_string(),
                (false, None) => "chưa thấy lưu lượng".to_string(),
                (false, Some(t)) => format!("lần cuối {}", rfc3339(t)),
            };
            (holds, measured, format!("trong {} giờ qua", policy.traffic_window.whole_hours()))
        }
        SocCheck::TriageTime => {
            let stats = facts.triage(subject.org, &subject.ranges, now - policy.triage_window, policy.triage_within);
            let holds = stats.in_time == stats.alerts;
            (
                holds,
                format!(
                    "{}/{} cảnh báo xử lý đúng hạn trong {} ngày",
                    stats.in_time,
                    stats.alerts,
                    policy.triage_window.whole_days()
                ),
                format!("mọi cảnh báo được xử lý trong {} giờ", policy.triage_within.whole_hours()),
            )
        }
        SocCheck::RulePacksCurrent => match facts.rule_packs() {
            Some((version, updated)) => (
                now - updated <= policy.rule_pack_max_age,
                format!("phiên bản {version}, cập nhật {}", rfc3339(updated)),
                format!("cập nhật trong {} ngày", policy.rule_pack_max_age.whole_days()),
            ),
            None => (
                false,
                "chưa nạp bộ luật".to_string(),
                format!("cập nhật trong {} ngày", policy.rule_pack_max_age.whole_days()),
            ),
        },
    };
    SocFinding { check, holds, measured, required, checked_at: now }
}

/// A time as a person reads it in a finding: to the minute, in UTC.
fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn content_addressed_once_and_checked_on_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::open(dir.path()).unwrap();
        let (a, size) = store.put(&b"pentest report v1"[..]).unwrap();
        assert_eq!(size, 17);
        assert_eq!(a, hex::encode(Sha256::digest(b"pentest report v1")));
        let (again, _) = store.put(&b"pentest report v1"[..]).unwrap();
        assert_eq!(a, again);
        assert_eq!(store.get(&a).unwrap(), b"pentest report v1");
        // A file altered on disk is refused; a non-digest never becomes a path.
        std::fs::write(dir.path().join(&a[..2]).join(&a), b"tampered").unwrap();
        assert_eq!(store.get(&a).unwrap_err().kind(), io::ErrorKind::InvalidData);
        assert_eq!(store.get("../../etc/passwd").unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn expiry_follows_the_cycle() {
        let e = expiry(date!(2026 - 06 - 15), Some(Period::months(12)));
        assert_eq!(e, Some(date!(2027 - 06 - 15)));
        assert_eq!(validity(e, date!(2027 - 05 - 20), 30), Validity::ExpiresSoon(26));
        assert_eq!(validity(e, date!(2027 - 06 - 16), 30), Validity::Expired(1));
        assert_eq!(validity(e, date!(2026 - 12 - 03), 30), Validity::Valid);
        assert_eq!(validity(None, date!(2030 - 01 - 01), 30), Validity::Valid);
    }

    struct Facts {
        held: Option<u32>,
        last: Option<OffsetDateTime>,
        triage: TriageStats,
    }

    impl SocFacts for Facts {
        fn retention_days_held(&self, _: &str) -> Option<u32> {
            self.held
        }
        fn last_traffic(&self, _: &[IpRange]) -> Option<OffsetDateTime> {
            self.last
        }
        fn triage(&self, _: &str, _: &[IpRange], _: OffsetDateTime, _: Duration) -> TriageStats {
            self.triage
        }
        fn rule_packs(&self) -> Option<(String, OffsetDateTime)> {
            Some(("vn-gov 2026.11".into(), datetime!(2026-11-20 00:00 UTC)))
        }
    }

    #[test]
    fn soc_evidence_holds_then_turns_stale() {
        let now = datetime!(2026-12-03 08:00 UTC);
        let subject =
            Subject { org: "so-tc", ranges: vec!["10.20.0.0/16".parse().unwrap()], retention: Some(Period::months(3)) };
        let policy = SocPolicy::default();
        let mut facts = Facts {
            held: Some(120),
            last: Some(now - Duration::hours(2)),
            triage: TriageStats { alerts: 4, in_time: 4 },
        };
        for check in SocCheck::ALL {
            let f = evaluate(check, &subject, &facts, &policy, now);
            assert!(f.holds, "{check:?}: {f:?}");
            assert!(f.is_current(now, &policy));
            // A day and a bit later, unchecked, it is no longer current.
            assert!(!f.is_current(now + Duration::hours(25), &policy));
        }
        // The condition stops holding: 60 days held of 92, traffic last seen two days ago,
        // one alert late, rule packs two months old.
        facts = Facts {
            held: Some(60),
            last: Some(now - Duration::days(2)),
            triage: TriageStats { alerts: 4, in_time: 3 },
        };
        let later = now + Duration::days(40);
        for check in SocCheck::ALL {
            assert!(!evaluate(check, &subject, &facts, &policy, later).holds, "{check:?}");
        }
        let f = evaluate(SocCheck::LogRetention, &subject, &facts, &policy, now);
        assert_eq!((f.measured.as_str(), f.required.as_str()), ("giữ 60 ngày", "tối thiểu 92 ngày"));
        // No declared ranges: no traffic evidence.
        let bare = Subject { ranges: vec![], ..subject };
        assert!(!evaluate(SocCheck::TrafficSeen, &bare, &facts, &policy, now).holds);
    }
}
