//! Sigma on host logs: syslog lines and JSON events (Windows event records flattened by the
//! Windows field map) meet the rules written for their logsource — a rule applies when each of
//! its `product`, `category` and `service` is absent or the event's — through the same literal
//! prefilter as records. Network records never come here; these events never meet the Zeek
//! and generic network rules.

use canh_rules::prefilter::RecordText;
use canh_rules::sigma::{Logsource, SigmaRule, SigmaSet, event_from_fields};
use serde_json::{Map, Value};

use crate::alert::Alert;

/// What a host log event is, for routing: `linux`/`sshd`, `windows`/`security`, …
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub product: Option<String>,
    /// Every category the event is (a Sysmon registry deletion is `registry_event` and
    /// `registry_delete`).
    pub categories: Vec<String>,
    pub service: Option<String>,
}

impl Source {
    /// A syslog message's: `linux`, and the service its program is (SigmaHQ's Linux services:
    /// sshd, cron, sudo, auth, vsftpd, clamav, guacamole, auditd), auth for the auth facilities.
    pub fn of_syslog(app_name: Option<&str>, facility: u8) -> Self {
        let service =
            app_name.and_then(|a| syslog_service(a, facility)).or((facility == 4 || facility == 10).then_some("auth"));
        Self { product: Some("linux".into()), categories: Vec::new(), service: service.map(str::to_string) }
    }

    /// The logsource of a Windows event by its channel and id (the categories Sigma's Windows
    /// rules are written for).
    pub fn of_windows(fields: &Map<String, Value>) -> Self {
        let channel = fields.get("Channel").and_then(Value::as_str).unwrap_or_default();
        let id = fields.get("EventID").and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(0);
        let registry = |kind: &str| -> Vec<&'static str> {
            let what = fields.get("EventType").and_then(Value::as_str).unwrap_or_default();
            let specific = match (kind, what) {
                ("12", "CreateKey") => "registry_add",
                ("12", _) => "registry_delete",
                ("13", _) => "registry_set",
                _ => "registry_rename",
            };
            vec!["registry_event", specific]
        };
        let (mut categories, mut service): (Vec<&str>, Option<&str>) = (Vec::new(), None);
        match channel {
            "Security" => {
                service = Some("security");
                if id == 4688 {
                    categories.push("process_creation");
                }
            }
            "System" => service = Some("system"),
            "Application" => service = Some("application"),
            "Microsoft-Windows-Sysmon/Operational" => {
                categories = match id {
                    1 => vec!["process_creation"],
                    3 => vec!["network_connection"],
                    5 => vec!["process_termination"],
                    6 => vec!["driver_load"],
                    7 => vec!["image_load"],
                    8 => vec!["create_remote_thread"],
                    10 => vec!["process_access"],
                    11 => vec!["file_event"],
                    12 => registry("12"),
                    13 => registry("13"),
                    14 => registry("14"),
                    15 => vec!["create_stream_hash"],
                    17 | 18 => vec!["pipe_created"],
                    22 => vec!["dns_query"],
                    23 | 26 => vec!["file_delete"],
                    _ => Vec::new(),
                };
                service = Some("sysmon");
            }
            "Microsoft-Windows-PowerShell/Operational" => {
                service = Some("powershell");
                if id == 4104 {
                    categories.push("ps_script");
                }
            }
            "Windows PowerShell" => service = Some("powershell-classic"),
            "Microsoft-Windows-Windows Defender/Operational" => service = Some("windefend"),
            "Microsoft-Windows-TaskScheduler/Operational" => service = Some("taskscheduler"),
            "Microsoft-Windows-WMI-Activity/Operational" => service = Some("wmi"),
            "Microsoft-Windows-DNS-Client/Operational" => service = Some("dns-client"),
            "Microsoft-Windows-Bits-Client/Operational" => service = Some("bits-client"),
            _ => {}
        }
        Source {
            product: Some("windows".into()),
            categories: categories.into_iter().map(str::to_string).collect(),
            service: service.map(str::to_string),
        }
    }

    fn admits(&self, rule: &Logsource) -> bool {
        let fits = |want: &Option<String>, have: &Option<String>| {
            want.as_ref().is_none_or(|w| have.as_ref().is_some_and(|h| h.eq_ignore_ascii_case(w)))
        };
        // A rule for no product at all is a network or generic rule: not for host logs.
        rule.product.is_some()
            && fits(&rule.product, &self.product)
            && rule.category.as_ref().is_none_or(|c| self.categories.iter().any(|have| have.eq_ignore_ascii_case(c)))
            && fits(&rule.service, &self.service)
    }
}

/// The Sigma service of a syslog program (SigmaHQ's Linux services), by its name.
fn syslog_service(app: &str, facility: u8) -> Option<&'static str> {
    let app = app.to_ascii_lowercase();
    Some(match app.as_str() {
        "sshd" => "sshd",
        "cron" | "crond" | "anacron" => "cron",
        "sudo" => "sudo",
        "su" => "auth",
        "vsftpd" => "vsftpd",
        "clamd" | "freshclam" | "clamav" => "clamav",
        "guacd" | "guacamole" => "guacamole",
        "auditd" | "audit" => "auditd",
        // auth and authpriv
        _ if facility == 4 || facility == 10 => "auth",
        _ => return None,
    })
}

/// The host products whose rules are taken.
const HOST_PRODUCTS: &[&str] = &["linux", "windows", "unix"];

pub struct HostLogDetector {
    set: SigmaSet,
}

impl HostLogDetector {
    /// Keeps the rules of host products (`linux`, `windows`, `unix`) of `rules`.
    pub fn new(rules: Vec<SigmaRule>) -> Self {
        let host = rules
            .into_iter()
            .filter(|r| {
                r.logsource.product.as_deref().is_some_and(|p| HOST_PRODUCTS.iter().any(|h| p.eq_ignore_ascii_case(h)))
            })
            .collect();
        Self { set: SigmaSet::new(host) }
    }

    pub fn rules(&self) -> usize {
        self.set.rules.len()
    }

    /// The rules `fields` (a flat event) of `source` matches.
    pub fn matching(&self, fields: &Map<String, Value>, source: &Source) -> Vec<&SigmaRule> {
        let (mut text, mut candidates) = (RecordText::default(), Vec::new());
        self.set.prefilter.text_of(fields, &mut text);
        self.set.prefilter.candidates(&mut text, &mut candidates);
        let mut event = None;
        self.set
            .rules
            .iter()
            .zip(candidates)
            .filter(|(r, c)| *c && source.admits(&r.logsource))
            .filter(|(r, _)| r.rule.is_match(event.get_or_insert_with(|| event_from_fields(fields))))
            .map(|(r, _)| r)
            .collect()
    }

    /// Alerts for an event: `id` tells the event apart (its store id), `ts` its time.
    pub fn detect(&self, fields: &Map<String, Value>, source: &Source, head: &EventHead, out: &mut Vec<Alert>) {
        for r in self.matching(fields, source) {
            let digest = <sha2::Sha256 as sha2::Digest>::digest(format!("{}\0{}", r.id, head.id).as_bytes());
            let shown = ["message", "CommandLine", "Image", "ScriptBlockText"]
                .iter()
                .find_map(|k| fields.get(*k).and_then(Value::as_str))
                .unwrap_or_default();
            let mut evidence: String = shown.chars().take(240).collect();
            if evidence.len() < shown.len() {
                evidence.push('…');
            }
            out.push(Alert {
                id: format!("L{}", &hex::encode(digest)[..17]),
                ts: head.ts,
                record_type: "alert",
                engine: "sigma",
                rule_id: r.id.clone(),
                title: r.title.clone(),
                severity: r.level.clone().unwrap_or_else(|| "medium".into()),
                tags: r.tags.clone(),
                sensor: head.sensor.clone(),
                org: head.org.clone(),
                uids: Vec::new(),
                community_id: String::new(),
                orig_h: head.host,
                orig_p: None,
                resp_h: None,
                resp_p: None,
                evidence,
            });
        }
    }
}

/// Where an event came from, for its alerts.
#[derive(Debug, Clone)]
pub struct EventHead {
    /// What tells this event apart from every other (its store id).
    pub id: String,
    pub ts: f64,
    pub sensor: String,
    pub org: String,
    /// The host that sent it.
    pub host: Option<std::net::IpAddr>,
}
