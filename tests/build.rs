//! Decides whether the tests that read `../shared/corpus` run: compiled with `cfg(corpus)`
//! when the corpus is beside the checkout, or when `CANH_REQUIRE_CORPUS=1` (CI sets it: there
//! an absent corpus must fail the run, not skip it). Without either, those tests are compiled
//! `#[ignore]`d and reported as ignored — never as passed.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(corpus)");
    println!("cargo::rerun-if-env-changed=CANH_REQUIRE_CORPUS");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let corpus = Path::new(&manifest).join("../../shared/corpus");
    // A path that does not exist makes cargo run this again at every build, so a corpus that
    // appears later is seen.
    println!("cargo::rerun-if-changed={}", corpus.join("MANIFEST.md").display());
    let required = std::env::var("CANH_REQUIRE_CORPUS").is_ok_and(|v| v == "1");
    if required || corpus.join("MANIFEST.md").is_file() {
        println!("cargo::rustc-cfg=corpus");
    }
}
