//! Community ID v1 (https://github.com/corelight/community-id-spec): a flow hash that Zeek,
//! Suricata and Arkime compute alike, so analysts can pivot between tools.

use std::net::IpAddr;

use base64::Engine as _;
use sha1::{Digest, Sha1};

use crate::decode::{PROTO_ICMP, PROTO_ICMPV6, icmp_counterpart};

/// Community ID v1 with seed 0. For ICMP, `sport` is the type and `dport` the code.
pub fn community_id(src: IpAddr, dst: IpAddr, proto: u8, sport: u16, dport: u16) -> String {
    let (mut sport, mut dport) = (sport, dport);
    let mut one_way = false;
    if proto == PROTO_ICMP || proto == PROTO_ICMPV6 {
        match icmp_counterpart(proto, sport) {
            Some(other) => dport = other,
            None => one_way = true,
        }
    }
    let has_ports = matches!(proto, 6 | 17 | 132 | PROTO_ICMP | PROTO_ICMPV6);
    let (mut a, mut b) = (src, dst);
    if !one_way && (b, dport) < (a, sport) {
        std::mem::swap(&mut a, &mut b);
        std::mem::swap(&mut sport, &mut dport);
    }
    let mut h = Sha1::new();
    h.update(0u16.to_be_bytes());
    for ip in [a, b] {
        match ip {
            IpAddr::V4(v) => h.update(v.octets()),
            IpAddr::V6(v) => h.update(v.octets()),
        }
    }
    h.update([proto, 0]);
    if has_ports {
        h.update(sport.to_be_bytes());
        h.update(dport.to_be_bytes());
    }
    format!("1:{}", base64::engine::general_purpose::STANDARD.encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from the spec's baseline (community-id-spec/baseline/baseline_deflt.json).
    #[test]
    fn spec_vectors() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            community_id(ip("128.232.110.120"), ip("66.35.250.204"), 6, 34855, 80),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
        assert_eq!(
            community_id(ip("66.35.250.204"), ip("128.232.110.120"), 6, 80, 34855),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
        assert_eq!(community_id(ip("192.168.1.52"), ip("8.8.8.8"), 17, 54585, 53), "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
        assert_eq!(community_id(ip("192.168.0.89"), ip("192.168.0.1"), 1, 8, 0), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
        assert_eq!(community_id(ip("192.168.0.1"), ip("192.168.0.89"), 1, 0, 0), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
        assert_eq!(
            community_id(ip("fe80::200:86ff:fe05:80da"), ip("fe80::260:97ff:fe07:69ea"), 58, 135, 0),
            "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="
        );
    }
}
