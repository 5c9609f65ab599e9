//! Syslog messages and stream framing from hostile senders: never a panic, and framing never
//! takes more than it was given.
#![no_main]

use canh_sensor::proto::syslog::{Clock, frames, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let clock = Clock { now: 1_796_284_800, offset: Clock::VIETNAM };
    let _ = parse(data, &clock);
    let (taken, used) = frames(data, 256);
    assert!(used <= data.len());
    for f in taken {
        assert!(f.len() <= 256);
        let _ = parse(f, &clock);
    }
});
