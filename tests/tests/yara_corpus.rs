//! Real third-party YARA rule sets (../shared/corpus/yara) load under YARA-X as Canh compiles
//! packs: every file compiles, with the externals LOKI and THOR define.

mod common;

use canh_analyzer::yara::YaraDetector;
use canh_rules::pack::load_pack;
use canh_rules::sigma::SigmaOptions;

#[test]
#[cfg_attr(not(corpus), ignore = "needs ../shared/corpus")]
fn third_party_rule_sets_load_under_yara_x() {
    let corpus = common::corpus().join("yara");
    // Measured 2026-11-22: every file of both sets compiles (signature-base needs the LOKI/THOR
    // externals, which Canh defines). A file YARA-X refuses is reported with its error.
    for set in ["reversinglabs", "signature-base"] {
        let mut problems = Vec::new();
        let pack = load_pack(&corpus.join(set), &SigmaOptions::default(), &mut problems);
        let before = problems.len();
        let d = YaraDetector::compile(&pack.yara, &mut problems);
        let rejected: Vec<String> = problems[before..].iter().map(|p| p.to_string()).collect();
        eprintln!("{set}: {} files, {} rejected by YARA-X", pack.yara.len(), rejected.len());
        assert!(d.is_some(), "{set}: nothing compiled");
        assert!(pack.yara.len() > 250, "{set}: {} files", pack.yara.len());
        assert!(rejected.is_empty(), "{set}: {}", rejected.join("\n"));
    }
}
