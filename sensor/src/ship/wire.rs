//! The batch protocol between a sensor and its server, written down once for both sides.
//!
//! `POST /v1/batches` over mutual TLS; the body is NDJSON (one record or alert per line),
//! zstd-compressed; the headers say which batch it is and what the sensor lost before it:
//!
//! | header | meaning |
//! |---|---|
//! | `canh-sequence` | the batch's number, from 1, never reused by that sensor |
//! | `canh-records` | lines in the body (checked: a truncated batch is refused) |
//! | `canh-dropped-batches`, `canh-dropped-records` | what the sensor's full spool dropped so far |
//!
//! `POST /v1/heartbeat` carries the sensor's health as JSON (see [`HEARTBEAT_PATH`]).
//!
//! Answers: `200` with `{"sequence", "records", "stored", "duplicates"}` once the commit that
//! holds the batch is done; `409` when the server holds that sequence already (a replay, or a
//! resend after a lost answer: either way the sensor may forget it); `400` malformed, `413` too
//! large, `403` a sensor the server no longer accepts, `503` the store could not commit.

pub const PATH: &str = "/v1/batches";
/// A sensor's health, every [`HEARTBEAT_EVERY`]: a JSON object (`sent_at` its clock, in Unix
/// seconds; the server answers `{"server_time"}` and keeps the offset).
pub const HEARTBEAT_PATH: &str = "/v1/heartbeat";
pub const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(10);
/// A sensor's certificate renewed before it expires: the body is a certificate signing
/// request (PEM) for a new key; the answer, the certificate (PEM) for the same sensor and org.
pub const RENEW_PATH: &str = "/v1/renew";
/// The packets behind an alert ([`crate::packets`]). The sensor asks `GET /v1/packets` every
/// [`PACKETS_POLL_EVERY`] (the server cannot reach a sensor behind an agency's NAT): the answer
/// is a JSON array of [`PacketRequest`]s, those console users made for this sensor and it has
/// not answered. It answers each with `POST /v1/packets/{id}`: the pcap, zstd-compressed,
/// [`PACKETS`] the number of frames and [`TRUNCATED`] `1` when [`MAX_PACKETS`] cut it; or an
/// empty body with [`PACKETS_ERROR`] saying why there is none.
pub const PACKETS_PATH: &str = "/v1/packets";
pub const PACKETS_POLL_EVERY: std::time::Duration = std::time::Duration::from_secs(2);
pub const PACKETS: &str = "canh-packets";
pub const TRUNCATED: &str = "canh-truncated";
pub const PACKETS_ERROR: &str = "canh-error";
/// Largest pcap a sensor sends for one request (uncompressed; under [`MAX_DECOMPRESSED`]).
pub const MAX_PACKETS: usize = 32 << 20;

/// One request for the frames of a flow: its Community ID and the window, in Unix seconds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PacketRequest {
    pub id: i64,
    pub community_id: String,
    pub from: f64,
    pub to: f64,
}

/// Largest heartbeat the server reads.
pub const MAX_HEARTBEAT: usize = 64 << 10;
pub const SEQUENCE: &str = "canh-sequence";
pub const RECORDS: &str = "canh-records";
pub const DROPPED_BATCHES: &str = "canh-dropped-batches";
pub const DROPPED_RECORDS: &str = "canh-dropped-records";

/// Largest body the server reads (compressed).
pub const MAX_COMPRESSED: usize = 16 << 20;
/// Largest batch once decompressed: a bomb stops here.
pub const MAX_DECOMPRESSED: usize = 64 << 20;
/// The sensor seals a batch at this many bytes of NDJSON (or after `SEAL_AFTER`).
pub const BATCH_BYTES: usize = 4 << 20;
/// A batch is sealed at the latest this long after its first line.
pub const SEAL_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// The zstd level of batches: fast, and NDJSON compresses 6–10× at it.
pub const ZSTD_LEVEL: i32 = 3;

/// Compresses a batch's NDJSON.
pub fn compress(ndjson: &[u8]) -> std::io::Result<Vec<u8>> {
    zstd::bulk::compress(ndjson, ZSTD_LEVEL)
}

/// Decompresses a batch, refusing one larger than [`MAX_DECOMPRESSED`].
pub fn decompress(body: &[u8]) -> Result<Vec<u8>, DecompressError> {
    use std::io::Read as _;
    let decoder =
        zstd::stream::read::Decoder::with_buffer(body).map_err(|e| DecompressError::Malformed(e.to_string()))?;
    let mut out = Vec::new();
    decoder
        .take(MAX_DECOMPRESSED as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecompressError::Malformed(e.to_string()))?;
    if out.len() > MAX_DECOMPRESSED {
        return Err(DecompressError::TooLarge);
    }
    Ok(out)
}

#[derive(Debug, thiserror::Error)]
pub enum DecompressError {
    #[error("not a zstd stream: {0}")]
    Malformed(String),
    #[error("larger than {MAX_DECOMPRESSED} bytes once decompressed")]
    TooLarge,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bomb_stops_at_the_limit() {
        let big = vec![b'a'; MAX_DECOMPRESSED + 10];
        let small = compress(&big).unwrap();
        assert!(small.len() < 1 << 20);
        assert!(matches!(decompress(&small), Err(DecompressError::TooLarge)));
        assert_eq!(decompress(&compress(b"{\"ts\":1}\n").unwrap()).unwrap(), b"{\"ts\":1}\n");
        assert!(matches!(decompress(b"not zstd"), Err(DecompressError::Malformed(_))));
    }
}
