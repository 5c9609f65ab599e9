//! QUIC long headers, Initial unprotection (keys from the packet's own DCID) and frames.
#![no_main]

use canh_sensor::proto::quic;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Some(h) = quic::long_header(rest) {
        assert!(h.end <= rest.len() && h.pn_offset <= h.end);
        if let Some(keys) = quic::InitialKeys::derive(h.version, h.dcid, true) {
            if let Some(plain) = quic::decrypt_initial(rest, &h, &keys) {
                let _ = quic::crypto_frames(&plain);
            }
        }
        if h.end == 0 {
            break;
        }
        rest = &rest[h.end..];
    }
    // The frame walker also sees raw bytes: an attacker controls plaintext too.
    for (offset, bytes) in quic::crypto_frames(data) {
        let _ = (offset, bytes.len());
    }
});
