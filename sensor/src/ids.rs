//! Stable ids: a connection's `uid`, a file's `fuid`, and the digest every other id of Canh
//! (alerts, the event store's record ids) is cut from.
//!
//! Ids are computed by a specified function of the thing they name, never by a hasher whose
//! algorithm may change (`std`'s `DefaultHasher` may change in any Rust release): replaying a
//! capture after a toolchain upgrade must give the same ids, or the event store, which keeps a
//! record once by its content, would keep every record twice. The function is SHA-256 over a
//! versioned, length-unambiguous byte string; anyone can recompute an id with any SHA-256
//! (the tests pin values computed with Python's `hashlib`).
//!
//! - **uid** (`C` + 17 base62 digits, as Zeek's): SHA-256 of
//!   `"canh-uid-v1" 0x00 orig_addr orig_port resp_addr resp_port proto ts_micros`, where an
//!   address is 16 bytes (IPv4 mapped into IPv6, `::ffff:a.b.c.d`), a port 2 bytes big-endian,
//!   `proto` the IP protocol number (1 byte), and `ts_micros` the first packet's time in
//!   microseconds since the epoch (8 bytes big-endian).
//! - **fuid** (`F` + 17 base62 digits): SHA-256 of
//!   `"canh-fuid-v1" 0x00 uid 0x00 kind 0x00 index`, `index` 8 bytes big-endian: the
//!   `index`-th artifact of `kind` (`http-req`, `http-resp`, `stream`) in connection `uid`.
//! - 17 base62 digits of a digest: its first 16 bytes read as a big-endian integer, written
//!   in base62 (`0-9A-Za-z`), the last 17 digits kept (zeros in front when shorter), about 101
//!   bits.

use std::net::IpAddr;

use sha2::{Digest, Sha256};

/// Digits of base62, in order of value.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base62 digits kept of a digest (Zeek's uids are `C` and 17 characters).
const ID_DIGITS: usize = 17;

/// SHA-256 of the parts, the domain (`canh-uid-v1`, …) first and a NUL after it: one id's
/// input can never be another kind's.
pub fn digest(domain: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(domain.as_bytes());
    h.update([0]);
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The 17 base62 digits of a digest, after `prefix`.
pub fn base62_id(prefix: char, digest: &[u8; 32]) -> String {
    let n = u128::from_be_bytes(digest[..16].try_into().expect("16 bytes"));
    let mut n = n % 62u128.pow(ID_DIGITS as u32);
    let mut digits = [b'0'; ID_DIGITS];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    let mut id = String::with_capacity(1 + ID_DIGITS);
    id.push(prefix);
    id.push_str(std::str::from_utf8(&digits).expect("ascii"));
    id
}

/// An address as 16 bytes (IPv4 mapped into IPv6).
fn addr_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// A connection's uid, from its originator, responder, protocol and first packet's time.
pub fn uid(orig: (IpAddr, u16), resp: (IpAddr, u16), proto: u8, ts_micros: u64) -> String {
    let d = digest(
        "canh-uid-v1",
        &[
            &addr_bytes(orig.0),
            &orig.1.to_be_bytes(),
            &addr_bytes(resp.0),
            &resp.1.to_be_bytes(),
            &[proto],
            &ts_micros.to_be_bytes(),
        ],
    );
    base62_id('C', &d)
}

/// The file id of the `index`-th artifact of `kind` in connection `uid`.
pub fn fuid(uid: &str, kind: &str, index: u64) -> String {
    let d = digest("canh-fuid-v1", &[uid.as_bytes(), &[0], kind.as_bytes(), &[0], &index.to_be_bytes()]);
    base62_id('F', &d)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each value was computed apart from this code, with Python's hashlib, from the byte
    // strings the module documentation specifies.

    #[test]
    fn uid_vectors() {
        let a = "10.10.1.5".parse().unwrap();
        let b = "203.0.113.7".parse().unwrap();
        assert_eq!(uid((a, 51234), (b, 443), 6, 1_764_633_600_123_456), "C8hvtJcEjqcFKL0ZIK");
        let a6 = "2001:db8::1".parse().unwrap();
        let b6 = "2001:db8::53".parse().unwrap();
        assert_eq!(uid((a6, 40000), (b6, 53), 17, 0), "Cov1wniqCo8zc2H8kY");
    }

    #[test]
    fn fuid_vectors() {
        assert_eq!(fuid("C8hvtJcEjqcFKL0ZIK", "http-resp", 1), "FkgOPLsRGgcCL6O8rq");
        assert_eq!(fuid("C8hvtJcEjqcFKL0ZIK", "tcp-orig", 0), "FG9helYmsVWpSsVypm");
    }

    #[test]
    fn digits_are_the_last_seventeen() {
        // A digest of zeros is 0: seventeen zero digits.
        assert_eq!(base62_id('X', &[0; 32]), "X00000000000000000");
        let mut d = [0; 32];
        d[15] = 61;
        assert_eq!(base62_id('X', &d), "X0000000000000000z");
        d[15] = 62;
        assert_eq!(base62_id('X', &d), "X00000000000000010");
    }
}
