//! Timestamps: microseconds since the Unix epoch, the resolution Zeek logs carry.

pub type Micros = u64;

pub const SECOND: Micros = 1_000_000;

/// Seconds as Zeek writes `ts` and `duration`: a float with microsecond precision.
pub fn as_secs_f64(t: Micros) -> f64 {
    t as f64 / 1e6
}
