//! The whole sensor engine from hostile frames: the input is a sequence of frames, each
//! `[link type selector][length: u16][bytes]` (the selector picks among all the link types
//! the decoder opens), so flows, reassembly and the protocol parsers
//! behind the decoder all see attacker-controlled data.
#![no_main]

use canh_sensor::decode::linktype;
use canh_sensor::engine::{Engine, EngineConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut cfg = EngineConfig::default();
    cfg.app.keep_artifacts = true;
    cfg.max_flows = 64;
    cfg.reassembly_memcap = 1 << 16;
    let mut engine = Engine::new(cfg);
    let mut rest = data;
    let mut ts = 1_700_000_000_000_000u64;
    while rest.len() >= 3 {
        // Every link type the decoder opens is reachable.
        let linktype = linktype::ALL[usize::from(rest[0]) % linktype::ALL.len()];
        let len = usize::from(u16::from_le_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let frame = &rest[3..3 + len];
        // Time mostly advances, sometimes jumps, sometimes steps back.
        ts = match rest[0] >> 6 {
            0 => ts + 1_000,
            1 => ts + 400_000_000,
            2 => ts.saturating_sub(5_000),
            _ => ts,
        };
        engine.packet(ts, linktype, frame, frame.len() as u32);
        let _ = engine.drain();
        rest = &rest[3 + len..];
    }
    engine.finish();
    let _ = engine.drain();
});
