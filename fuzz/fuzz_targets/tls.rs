//! TLS handshake messages (ClientHello, ServerHello, Certificate) and their fingerprints.
#![no_main]

use canh_sensor::proto::tls::{self, Handshake};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (messages, used) = tls::split_messages(data);
    assert!(used <= data.len());
    for m in messages.iter().chain(std::iter::once(&data)) {
        match tls::parse_handshake(m) {
            Handshake::ClientHello(ch) => {
                let _ = (ch.ja3(), ch.ja4());
            }
            Handshake::ServerHello(sh) => {
                let _ = sh.ja3s(0x0303);
            }
            _ => {}
        }
    }
    let _ = tls::certificate(data);
});
