//! The configuration file (`canh.toml`) and where each setting comes from: a command-line flag
//! first, then the environment, then the file, then Canh's default.
//!
//! ```toml
//! # Where Canh keeps its data: the event store under `events/`. Default: `canh-data`.
//! # `--data DIR` and the CANH_DATA environment variable come first.
//! data = "/var/lib/canh"
//!
//! [store]
//! # Commit (and acknowledge) after this many records or seconds, whichever comes first.
//! commit_records = 200000
//! commit_seconds = 10
//! # Gigabytes the event store may take; the oldest days are dropped beyond it. Default: none.
//! disk_budget_gb = 500
//! # Days kept for records of an org not listed below. Default: 31 (level 2's month).
//! default_retention_days = 31
//!
//! # Days kept per record type, in every org, before the org's own days. Default: none.
//! [store.retention_days]
//! alert = 366
//!
//! # Agencies (orgs), by the `_org` their sensors put in records.
//! [[org]]
//! id = "so-khcn"
//! name = "Sở Khoa học và Công nghệ"
//! # The highest security level (cấp độ) of its information systems: its records are kept
//! # for that level's minimum log retention (level 3: 3 months, 92 days).
//! level = 3
//! # Days, instead of the level's minimum (a warning is printed when it is shorter).
//! # retention_days = 120
//!
//! [server]
//! # Address and port of the console (HTTPS). Default: 127.0.0.1:8443. Env: CANH_LISTEN.
//! listen = "0.0.0.0:8443"
//! # Certificate chain and key (PEM). Default: a self-signed pair made on first start under
//! # DATA/tls/.
//! # cert = "/etc/canh/console.crt"
//! # key = "/etc/canh/console.key"
//! # Minutes a session may sit unused, and hours it may last. Defaults: 30 and 12.
//! session_idle_minutes = 30
//! session_hours = 12
//! # Address and port where sensors send their batches (mutual TLS; served once the province
//! # CA exists: `canh ca init`). Default: 127.0.0.1:8444. Env: CANH_SERVER_SENSOR_LISTEN.
//! sensor_listen = "0.0.0.0:8444"
//! # Names (DNS or IP) sensors reach the server by, in the certificate it shows them
//! # (localhost, loopback and the host's name are always in it). Default: none.
//! sensor_names = ["canh.lamdong.gov.vn", "10.10.0.5"]
//! # A sensor's health raises an alert when it sends no heartbeat for this many seconds, when
//! # the kernel drops more than this percentage of its traffic, or when its clock is this
//! # many seconds off the server's. Defaults: 300, 1.0 and 5.
//! sensor_silent_seconds = 300
//! sensor_max_drop_percent = 1.0
//! sensor_max_clock_skew_seconds = 5
//! # Syslog listeners (RFC 5424 and RFC 3164; TCP and TLS framed by octet counting or lines).
//! # Default: none. TLS shows the server certificate of the province CA.
//! syslog_udp = "0.0.0.0:514"
//! syslog_tcp = "0.0.0.0:601"
//! syslog_tls = "0.0.0.0:6514"
//! # Rule packs run on host logs (their Sigma rules for linux and windows). Default: none.
//! rules = ["bundled:vn-gov", "/etc/canh/rules/linux"]
//! ```
//!
//! The file is `--config FILE`, else `CANH_CONFIG`, else `canh.toml` in the working directory
//! when there is one; without a file every setting has its default. Every key of `[server]`
//! and `[store]` is overridden by its environment variable, `CANH_<TABLE>_<KEY>`
//! (`CANH_SERVER_SESSION_HOURS=8`, `CANH_STORE_COMMIT_SECONDS=5`; see [`ENV_KEYS`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use canh_analyzer::store::retention::Retention;
use canh_analyzer::store::writer::CommitPolicy;
use canh_compliance::level::Level;
use canh_compliance::log_retention::minimum_log_retention;
use clap::Args;
use serde::Deserialize;

/// The data directory when nothing names one.
pub const DEFAULT_DATA: &str = "canh-data";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data: Option<PathBuf>,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default, rename = "org")]
    pub orgs: Vec<OrgConfig>,
    #[serde(default)]
    pub server: ServerConfig,
}

/// `[server]`: the console.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: std::net::SocketAddr,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub session_idle_minutes: u32,
    pub session_hours: u32,
    pub sensor_listen: std::net::SocketAddr,
    pub sensor_names: Vec<String>,
    pub sensor_silent_seconds: u64,
    pub sensor_max_drop_percent: f64,
    pub sensor_max_clock_skew_seconds: u64,
    pub syslog_udp: Option<std::net::SocketAddr>,
    pub syslog_tcp: Option<std::net::SocketAddr>,
    pub syslog_tls: Option<std::net::SocketAddr>,
    pub rules: Vec<PathBuf>,
}

impl ServerConfig {
    /// When a sensor's health raises an alert.
    pub fn sensor_limits(&self) -> crate::server::ingest::health::Limits {
        crate::server::ingest::health::Limits {
            silent: Duration::from_secs(self.sensor_silent_seconds.max(1)),
            drop_rate: self.sensor_max_drop_percent / 100.0,
            clock_skew: Duration::from_secs(self.sensor_max_clock_skew_seconds),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8443)),
            cert: None,
            key: None,
            // The session limits are the sign-in policy's own defaults.
            session_idle_minutes: (crate::state::session::Policy::default().idle / 60) as u32,
            session_hours: (crate::state::session::Policy::default().absolute / 3600) as u32,
            sensor_listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8444)),
            sensor_names: Vec::new(),
            sensor_silent_seconds: 300,
            sensor_max_drop_percent: 1.0,
            sensor_max_clock_skew_seconds: 5,
            syslog_udp: None,
            syslog_tcp: None,
            syslog_tls: None,
            rules: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub commit_records: usize,
    pub commit_seconds: u64,
    pub disk_budget_gb: Option<f64>,
    pub default_retention_days: u32,
    pub retention_days: BTreeMap<String, u32>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        let policy = CommitPolicy::default();
        Self {
            commit_records: policy.records,
            commit_seconds: policy.interval.as_secs(),
            disk_budget_gb: None,
            default_retention_days: minimum_log_retention(Level::new(2).expect("level 2")).days,
            retention_days: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgConfig {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub level: u8,
    #[serde(default)]
    pub retention_days: Option<u32>,
}

/// The flags every command that touches the store takes.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Data directory (the event store is under `events/`) [default: the config file's `data`,
    /// else `canh-data`].
    #[arg(long, env = "CANH_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Configuration file [default: `canh.toml` in the working directory, if there is one].
    #[arg(long, env = "CANH_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl DataArgs {
    /// The configuration these flags point at: the file's (if any), each key overridden by its environment
    /// variable ([`ENV_KEYS`]).
    pub fn load(&self) -> Result<Config> {
        let env = |name: &str| std::env::var(name).ok();
        match &self.config {
            Some(path) => Config::read_with(path, env),
            None if Path::new("canh.toml").is_file() => Config::read_with(Path::new("canh.toml"), env),
            None => Config::parse("", "the defaults", env),
        }
    }

    /// The data directory: the flag (or CANH_DATA), the file's, the default.
    pub fn data_dir(&self, config: &Config) -> PathBuf {
        self.data.clone().or_else(|| config.data.clone()).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA))
    }
}

/// The keys the environment overrides, by table: `CANH_SERVER_LISTEN`,
/// `CANH_STORE_COMMIT_SECONDS`, … (the table and the key in capitals). A value is read as TOML
/// (`8443`, `true`, `"text"`), else as text (`0.0.0.0:8443`, a path).
pub const ENV_KEYS: &[(&str, &[&str])] = &[
    (
        "server",
        &[
            "listen",
            "cert",
            "key",
            "session_idle_minutes",
            "session_hours",
            "sensor_listen",
            "sensor_silent_seconds",
            "sensor_max_drop_percent",
            "sensor_max_clock_skew_seconds",
        ],
    ),
    ("store", &["commit_records", "commit_seconds", "disk_budget_gb", "default_retention_days"]),
];

/// The environment variable of a key.
pub fn env_name(table: &str, key: &str) -> String {
    format!("CANH_{}_{}", table.to_uppercase(), key.to_uppercase())
}

impl Config {
    pub fn read(path: &Path) -> Result<Self> {
        Self::read_with(path, |_| None)
    }

    /// The file, then the environment (`env` gives a variable's value).
    pub fn read_with(path: &Path, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text, &path.display().to_string(), env)
    }

    /// A configuration's text (from `origin`) with the environment's overrides.
    pub fn parse(text: &str, origin: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        // toml's message names the line and column already; say which file.
        let mut table: toml::Table = toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        let mut overridden = Vec::new();
        for (name, keys) in ENV_KEYS {
            for key in *keys {
                let var = env_name(name, key);
                let Some(raw) = env(&var) else { continue };
                let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
                    .ok()
                    .and_then(|mut t| t.remove("v"))
                    .unwrap_or(toml::Value::String(raw));
                let section = table.entry(name.to_string()).or_insert_with(|| toml::Value::Table(Default::default()));
                let Some(section) = section.as_table_mut() else { bail!("{origin}: `{name}` is not a table") };
                section.insert(key.to_string(), value);
                overridden.push(var);
            }
        }
        let config: Config = toml::Value::Table(table).try_into().map_err(|e| {
            if overridden.is_empty() {
                anyhow::anyhow!("{origin}: {e}")
            } else {
                anyhow::anyhow!("{origin} with {}: {e}", overridden.join(", "))
            }
        })?;
        for org in &config.orgs {
            if Level::new(org.level).is_none() {
                bail!("{origin}: org `{}`: level {} is not a security level (1 to 5)", org.id, org.level);
            }
        }
        config.check().map_err(|(key, why)| {
            let from_env = overridden.iter().find(|v| v.ends_with(&format!("_{}", key.to_uppercase())));
            match from_env {
                Some(var) => anyhow::anyhow!("{var}: `{key}` {why}"),
                None => anyhow::anyhow!("{origin}:{}: `{key}` {why}", line_of(text, key)),
            }
        })?;
        Ok(config)
    }

    /// Values a parser accepts but Canh cannot use: the key and why. (Zero records or seconds
    /// between commits would commit after every record or spin; a budget of nothing or less
    /// would delete every day.)
    fn check(&self) -> Result<(), (&str, &'static str)> {
        let st = &self.store;
        if st.commit_records == 0 {
            return Err(("commit_records", "must be at least 1"));
        }
        if st.commit_seconds == 0 {
            return Err(("commit_seconds", "must be at least 1"));
        }
        if st.disk_budget_gb.is_some_and(|gb| !(gb.is_finite() && gb > 0.0)) {
            return Err(("disk_budget_gb", "must be a positive number of gigabytes (leave it out for no budget)"));
        }
        if st.default_retention_days == 0 {
            return Err(("default_retention_days", "must be at least 1"));
        }
        if let Some((t, _)) = st.retention_days.iter().find(|(_, d)| **d == 0) {
            return Err((t.as_str(), "is 0 days: records must be kept at least a day"));
        }
        if self.orgs.iter().any(|o| o.retention_days == Some(0)) {
            return Err(("retention_days", "is 0 days: records must be kept at least a day"));
        }
        if self.server.session_idle_minutes == 0 {
            return Err(("session_idle_minutes", "must be at least 1"));
        }
        if self.server.session_hours == 0 {
            return Err(("session_hours", "must be at least 1"));
        }
        if self.server.cert.is_some() != self.server.key.is_some() {
            return Err(("cert", "and `key` go together: give both, or neither for a self-signed pair"));
        }
        Ok(())
    }

    pub fn commit_policy(&self) -> CommitPolicy {
        CommitPolicy { records: self.store.commit_records, interval: Duration::from_secs(self.store.commit_seconds) }
    }

    /// Retention as configured: each org's days from its level unless it names its own.
    pub fn retention(&self) -> Retention {
        Retention {
            orgs: self
                .orgs
                .iter()
                .map(|o| {
                    let level = Level::new(o.level).expect("checked on reading");
                    (o.id.clone(), o.retention_days.unwrap_or(minimum_log_retention(level).days))
                })
                .collect(),
            types: self.store.retention_days.clone(),
            default_days: self.store.default_retention_days,
            disk_budget: self.store.disk_budget_gb.map(|gb| (gb * 1e9) as u64),
        }
    }

    /// Settings that keep an org's records for less than its level requires.
    pub fn retention_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for o in &self.orgs {
            let Some(level) = Level::new(o.level) else { continue };
            let min = minimum_log_retention(level);
            let short = |what: &str, days: u32| {
                format!(
                    "org `{}` ({level}): {what} {days} days, shorter than the {} days its level requires ({})",
                    o.id, min.days, min.clause
                )
            };
            if let Some(days) = o.retention_days.filter(|d| *d < min.days) {
                out.push(short("records kept", days));
            }
            for (t, days) in self.store.retention_days.iter().filter(|(_, d)| **d < min.days) {
                out.push(short(&format!("`{t}` records kept"), *days));
            }
        }
        out
    }
}

/// The line (1-based) where `key` is set in a TOML text, or 1.
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('=')))
        .map_or(1, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_reads_and_levels_set_retention() {
        let doc = include_str!("config.rs");
        let example: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.strip_prefix("//! ").unwrap_or("").to_string() + "\n")
            .collect();
        let config: Config = toml::from_str(&example).unwrap();
        let r = config.retention();
        assert_eq!(r.days("conn", "so-khcn"), 92);
        assert_eq!(r.days("alert", "so-khcn"), 366);
        assert_eq!(r.days("conn", "elsewhere"), 31);
        assert_eq!(r.disk_budget, Some(500_000_000_000));
        assert!(config.retention_warnings().is_empty());
        let short: Config =
            toml::from_str("[store.retention_days]\nconn = 7\n[[org]]\nid = \"x\"\nlevel = 4\n").unwrap();
        assert_eq!(short.retention().days("dns", "x"), 184);
        assert_eq!(short.retention_warnings().len(), 1, "{:?}", short.retention_warnings());
        assert!(toml::from_str::<Config>("[store]\ncommit_record = 5\n").is_err(), "unknown keys are refused");
    }

    #[test]
    fn the_environment_overrides_each_key() {
        let env = |name: &str| match name {
            "CANH_SERVER_LISTEN" => Some("0.0.0.0:9443".to_string()),
            "CANH_SERVER_SESSION_HOURS" => Some("8".to_string()),
            "CANH_SERVER_CERT" => Some("/etc/canh/console.crt".to_string()),
            "CANH_SERVER_KEY" => Some("/etc/canh/console.key".to_string()),
            "CANH_STORE_COMMIT_SECONDS" => Some("5".to_string()),
            _ => None,
        };
        let c = Config::parse("[server]\nsession_hours = 10\nsession_idle_minutes = 20\n", "canh.toml", env).unwrap();
        assert_eq!(c.server.listen.to_string(), "0.0.0.0:9443");
        assert_eq!((c.server.session_hours, c.server.session_idle_minutes), (8, 20));
        assert_eq!(c.server.cert.as_deref(), Some(Path::new("/etc/canh/console.crt")));
        assert_eq!(c.store.commit_seconds, 5);
        // A bad value names its variable.
        let bad = |name: &str| (name == "CANH_STORE_COMMIT_SECONDS").then(|| "0".to_string());
        let e = Config::parse("", "the defaults", bad).unwrap_err().to_string();
        assert!(e.starts_with("CANH_STORE_COMMIT_SECONDS: `commit_seconds` must be at least 1"), "{e}");
        let bad = |name: &str| (name == "CANH_SERVER_SESSION_HOURS").then(|| "many".to_string());
        let e = Config::parse("", "the defaults", bad).unwrap_err().to_string();
        assert!(e.contains("CANH_SERVER_SESSION_HOURS"), "{e}");
    }

    #[test]
    fn values_out_of_range_are_refused_with_their_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("canh.toml");
        for (text, said) in [
            ("[store]\ncommit_records = 0\n", ":2: `commit_records` must be at least 1"),
            ("[store]\ncommit_records = 10\ncommit_seconds = 0\n", ":3: `commit_seconds` must be at least 1"),
            ("data = \"x\"\n[store]\ndisk_budget_gb = -5\n", ":3: `disk_budget_gb` must be a positive number"),
            ("[store]\ndisk_budget_gb = 0\n", ":2: `disk_budget_gb` must be a positive number"),
            ("[store.retention_days]\nconn = 0\n", ":2: `conn` is 0 days"),
            ("[[org]]\nid = \"x\"\nlevel = 3\nretention_days = 0\n", ":4: `retention_days` is 0 days"),
        ] {
            std::fs::write(&path, text).unwrap();
            let e = Config::read(&path).unwrap_err().to_string();
            assert!(e.contains(said), "{text}: {e}");
        }
    }
}
