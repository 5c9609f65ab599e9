//! Detection inside a replay: the sensor hands each batch of records to [`AlertLog`], which
//! runs the detectors (Sigma on records, IOCs, YARA on artifacts) and writes `alerts.json` (one alert per line) beside the
//! logs.

use std::collections::BTreeMap;
use std::sync::Mutex;

use canh_sensor::app::Output;
use canh_sensor::output::Inspector;

use crate::ioc::IocDetector;
use crate::sigma::SigmaDetector;
use crate::yara::YaraDetector;

pub struct AlertLog {
    sigma: SigmaDetector,
    iocs: IocDetector,
    yara: Option<YaraDetector>,
    /// (rule id, title) → alerts, for the replay summary.
    counts: Mutex<BTreeMap<(String, String), u64>>,
}

impl AlertLog {
    pub fn new(sigma: SigmaDetector, iocs: IocDetector, yara: Option<YaraDetector>) -> Self {
        Self { sigma, iocs, yara, counts: Mutex::new(BTreeMap::new()) }
    }

    /// True when artifacts must be kept for YARA.
    pub fn needs_artifacts(&self) -> bool {
        self.yara.is_some()
    }

    /// Alerts per rule, most frequent first.
    pub fn counts(&self) -> Vec<(String, String, u64)> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<(String, String, u64)> =
            counts.iter().map(|((id, title), n)| (id.clone(), title.clone(), *n)).collect();
        v.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

impl Inspector for AlertLog {
    fn log_name(&self) -> &str {
        "alerts.json"
    }

    fn inspect(&self, output: &Output, lines: &mut Vec<u8>) -> u64 {
        let mut alerts = Vec::new();
        for rec in &output.records {
            self.sigma.detect(rec, &mut alerts);
            self.iocs.detect(rec, &mut alerts);
        }
        if let Some(y) = &self.yara {
            y.scan(&output.artifacts, &mut alerts);
        }
        if alerts.is_empty() {
            return 0;
        }
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        for a in &alerts {
            if serde_json::to_writer(&mut *lines, a).is_ok() {
                lines.push(b'\n');
            }
            *counts.entry((a.rule_id.clone(), a.title.clone())).or_default() += 1;
        }
        alerts.len() as u64
    }
}
