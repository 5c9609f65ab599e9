//! A sensor's batch as the server checks it (decompressed NDJSON, the announced count): never a
//! panic, and what it accepts is one stamped JSON object per line.
#![no_main]

use canh_sensor::ship::{batch, wire};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let said = data.iter().filter(|b| **b == b'\n').count() as u64;
    if let Ok(out) = batch::stamp(data, "s1", "so-a", said) {
        for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let v: serde_json::Value = serde_json::from_slice(line).expect("stamped lines are JSON");
            assert_eq!(v["_sensor"], "s1");
        }
    }
    // The compressed form too, up to the size limits.
    let _ = wire::decompress(data);
});
