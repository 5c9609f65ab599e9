//! HTTP/1.x heads and chunked framing, fed whole and in two pieces.
#![no_main]

use canh_sensor::proto::http;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((head, _))) = http::parse_request(data) {
        let _ = http::request_framing(&head);
    }
    if let Ok(Some((head, _))) = http::parse_response(data) {
        let _ = http::response_framing(Some("GET"), &head);
    }
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut chunked = http::Chunked::default();
    let mut total = 0usize;
    if let Ok(used) = chunked.feed(&data[..split], &mut |d| total += d.len()) {
        if used == split {
            let _ = chunked.feed(&data[split..], &mut |d| total += d.len());
        }
    }
    assert!(total <= data.len());
    let _ = http::disposition_filename(&String::from_utf8_lossy(data));
});
