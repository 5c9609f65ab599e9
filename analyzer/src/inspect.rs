//! Detection inside a replay: the sensor hands each batch of records and artifacts to
//! [`AlertLog`], which runs Sigma and IOCs on the records at once and YARA on the artifacts in
//! its scanner pool, and writes `alerts.json` (one alert per line) beside the logs.
//!
//! The rules can be reloaded while it runs ([`AlertLog::reload`], on SIGHUP in `canh replay`):
//! the packs are read again and, only if none of them has an error, the new rules replace the
//! old ones between two batches. A bad pack leaves the running rules in place and says why.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use canh_rules::fieldmap::FieldMap;
use canh_rules::pack::{PackFile, load_packs};
use canh_rules::sigma::{SigmaOptions, SigmaSet};
use canh_rules::{Problem, Severity};
use canh_sensor::files::Artifact;
use canh_sensor::output::Inspector;
use canh_sensor::record::Record;

use crate::alert::Alert;
use crate::ioc::IocDetector;
use crate::scan_pool::ScanPool;
use crate::sigma::SigmaDetector;
use crate::yara::YaraDetector;

/// Every detector of a set of packs.
pub struct Detectors {
    pub sigma: SigmaDetector,
    pub iocs: IocDetector,
    pub yara: Option<Arc<YaraDetector>>,
    pub loaded: Loaded,
}

/// What a load gave, for the operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loaded {
    pub sigma_rules: usize,
    pub sigma_prefiltered: usize,
    pub correlations: usize,
    pub indicators: usize,
    pub yara_files: usize,
}

impl fmt::Display for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} Sigma rules ({} behind the literal prefilter), {} correlations, {} indicators, {} YARA files",
            self.sigma_rules, self.sigma_prefiltered, self.correlations, self.indicators, self.yara_files
        )
    }
}

impl Detectors {
    /// Loads the packs. Problems are returned; what is usable is loaded regardless.
    pub fn load(packs: &[PathBuf], options: &SigmaOptions) -> (Self, Vec<Problem>) {
        let (loaded, mut problems) = load_packs(packs, options);
        let yara_files: Vec<PackFile> = loaded.iter().flat_map(|p| p.yara.clone()).collect();
        let before = problems.len();
        let yara = YaraDetector::compile(&yara_files, &mut problems).map(Arc::new);
        let yara_rejected = problems.len() - before;
        let mut sigma = Vec::new();
        let mut correlations = Vec::new();
        let mut iocs = Vec::new();
        for pack in loaded {
            iocs.push((pack.manifest.name.clone(), pack.iocs));
            sigma.extend(pack.sigma);
            correlations.extend(pack.correlations);
        }
        let iocs = IocDetector::new(iocs);
        let set = SigmaSet::new(sigma);
        let loaded = Loaded {
            sigma_rules: set.rules.len(),
            sigma_prefiltered: set.rules.len() - set.prefilter.always(),
            correlations: correlations.len(),
            indicators: iocs.indicators(),
            yara_files: yara_files.len().saturating_sub(yara_rejected),
        };
        let sigma = SigmaDetector::new(set, FieldMap::bundled()).with_correlations(correlations);
        (Self { sigma, iocs, yara, loaded }, problems)
    }
}

pub struct AlertLog {
    packs: Vec<PathBuf>,
    options: SigmaOptions,
    detectors: RwLock<Arc<Detectors>>,
    pool: ScanPool,
    /// (rule id, title) → alerts, for the replay summary.
    counts: Mutex<BTreeMap<(String, String), u64>>,
}

impl AlertLog {
    /// Loads the packs; YARA scans run on `scan_threads` threads.
    pub fn load(packs: &[PathBuf], options: SigmaOptions, scan_threads: usize) -> (Self, Vec<Problem>) {
        let (detectors, problems) = Detectors::load(packs, &options);
        let log = Self {
            packs: packs.to_vec(),
            options,
            detectors: RwLock::new(Arc::new(detectors)),
            pool: ScanPool::new(scan_threads),
            counts: Mutex::new(BTreeMap::new()),
        };
        (log, problems)
    }

    /// True when artifacts must be kept for YARA.
    pub fn needs_artifacts(&self) -> bool {
        self.detectors().yara.is_some()
    }

    /// The running detectors.
    pub fn detectors(&self) -> Arc<Detectors> {
        self.detectors.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the packs again. With no error among them, the new rules replace the running ones
    /// (for every batch from now on) and what was loaded is returned, with the problems that
    /// are not errors (unsupported rules); otherwise the running rules stay and every problem
    /// is returned.
    pub fn reload(&self) -> Result<(Loaded, Vec<Problem>), Vec<Problem>> {
        let (detectors, problems) = Detectors::load(&self.packs, &self.options);
        if problems.iter().any(|p| p.severity == Severity::Error) {
            return Err(problems);
        }
        let loaded = detectors.loaded;
        *self.detectors.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(detectors);
        Ok((loaded, problems))
    }

    /// Alerts per rule, most frequent first.
    pub fn counts(&self) -> Vec<(String, String, u64)> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<(String, String, u64)> =
            counts.iter().map(|((id, title), n)| (id.clone(), title.clone(), *n)).collect();
        v.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        v
    }

    fn write(&self, alerts: &[Alert], lines: &mut Vec<u8>) -> u64 {
        if alerts.is_empty() {
            return 0;
        }
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        for a in alerts {
            if serde_json::to_writer(&mut *lines, a).is_ok() {
                lines.push(b'\n');
            }
            *counts.entry((a.rule_id.clone(), a.title.clone())).or_default() += 1;
        }
        alerts.len() as u64
    }
}

impl Inspector for AlertLog {
    fn log_name(&self) -> &str {
        "alerts.json"
    }

    fn inspect(&self, records: &[Record], artifacts: Vec<Artifact>, lines: &mut Vec<u8>) -> u64 {
        let detectors = self.detectors();
        let mut alerts = Vec::new();
        for rec in records {
            detectors.sigma.detect(rec, &mut alerts);
            detectors.iocs.detect(rec, &mut alerts);
        }
        if let Some(yara) = &detectors.yara {
            self.pool.submit(yara.clone(), artifacts);
        }
        self.write(&alerts, lines)
    }

    fn collect(&self, lines: &mut Vec<u8>, wait: bool) -> u64 {
        let mut alerts = Vec::new();
        self.pool.collect(&mut alerts, wait);
        self.write(&alerts, lines)
    }
}
