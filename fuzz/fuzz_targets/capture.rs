//! A capture file as the server reads one a sensor sent for an alert's packets (pcap or
//! pcapng, hostile if the sensor is): never a panic, whatever the bytes.
#![no_main]

use canh_sensor::capture::CaptureReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::from_reader("fuzz", Box::new(std::io::Cursor::new(data.to_vec()))) else {
        return;
    };
    let mut frames = 0u32;
    while let Ok(true) = reader.advance() {
        frames += 1;
        if frames > 100_000 {
            break;
        }
    }
});
