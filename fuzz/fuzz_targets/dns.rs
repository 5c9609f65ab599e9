//! DNS message parsing: names, compression pointers, record data.
#![no_main]

use canh_sensor::proto::dns;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = dns::parse(data) {
        for q in &m.questions {
            let _ = dns::qtype_name(q.qtype);
        }
    }
    let _ = dns::looks_like_dns(data);
    for start in 0..data.len().min(64) {
        let _ = dns::read_name(data, start);
    }
});
