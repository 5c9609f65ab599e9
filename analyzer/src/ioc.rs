//! IOC matching: the indicators of the loaded packs against DNS queries and answers, HTTP
//! hosts, TLS server names, connection addresses and file hashes. A domain indicator also
//! matches its sub-domains. Alerts are of engine `ioc`, one per indicator and record.

use std::collections::BTreeSet;
use std::net::IpAddr;

use canh_rules::ioc::IocSet;
use canh_sensor::record::{Body, Record};

use crate::alert::Alert;

/// Indicators, each set named by the pack it came from.
pub struct IocDetector {
    sets: Vec<(String, IocSet)>,
}

impl IocDetector {
    pub fn new(sets: Vec<(String, IocSet)>) -> Self {
        Self { sets: sets.into_iter().filter(|(_, s)| !s.is_empty()).collect() }
    }

    pub fn indicators(&self) -> usize {
        self.sets.iter().map(|(_, s)| s.len()).sum()
    }

    pub fn detect(&self, rec: &Record, out: &mut Vec<Alert>) {
        // A weird repeats its connection's endpoints, which the connection's own records carry.
        if self.sets.is_empty() || matches!(rec.body, Body::Weird(_)) {
            return;
        }
        let mut domains: Vec<&str> = Vec::new();
        let mut ips: Vec<IpAddr> = vec![rec.head.orig_h, rec.head.resp_h];
        let mut hashes: Vec<&str> = Vec::new();
        match &rec.body {
            Body::Dns(d) => {
                domains.extend(d.query.as_deref());
                for a in &d.answers {
                    match a.parse::<IpAddr>() {
                        Ok(ip) => ips.push(ip),
                        Err(_) => domains.push(a),
                    }
                }
            }
            Body::Http(h) => {
                if let Some(host) = h.host.as_deref() {
                    // Host may carry a port, or be an address literal.
                    let name = host
                        .rsplit_once(':')
                        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
                        .map_or(host, |(n, _)| n);
                    match name.trim_matches(['[', ']']).parse::<IpAddr>() {
                        Ok(ip) => ips.push(ip),
                        Err(_) => domains.push(name),
                    }
                }
            }
            Body::Ssl(s) => domains.extend(s.server_name.as_deref()),
            Body::Files(f) => hashes.extend([f.md5.as_str(), f.sha1.as_str(), f.sha256.as_str()]),
            Body::Conn(_) | Body::Weird(_) | Body::Tunnel(_) => {}
        }
        let mut hits: BTreeSet<(String, &'static str, String)> = BTreeSet::new();
        for (pack, set) in &self.sets {
            for d in &domains {
                if let Some(hit) = domain_hit(set, d) {
                    hits.insert((pack.clone(), "domain", hit));
                }
            }
            for ip in &ips {
                if set.ips.contains(ip) {
                    hits.insert((pack.clone(), "ip", ip.to_string()));
                }
                for (net, len) in &set.cidrs {
                    if in_cidr(ip, net, *len) {
                        hits.insert((pack.clone(), "cidr", format!("{net}/{len}")));
                    }
                }
            }
            for h in &hashes {
                if set.hashes.contains(*h) {
                    hits.insert((pack.clone(), "hash", h.to_string()));
                }
            }
        }
        for (pack, kind, indicator) in hits {
            let rule_id = format!("ioc:{pack}:{kind}:{indicator}");
            let title = format!("Indicator of compromise ({kind}): {indicator}");
            out.push(Alert::for_record("ioc", &rule_id, &title, "high", &["ioc".to_string()], rec));
        }
    }
}

/// The indicator that `name` or one of its parent domains is, if any.
fn domain_hit(set: &IocSet, name: &str) -> Option<String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let mut rest = name.as_str();
    loop {
        if set.domains.contains(rest) {
            return Some(rest.to_string());
        }
        rest = rest.split_once('.')?.1;
    }
}

fn in_cidr(ip: &IpAddr, net: &IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
            u32::from(*a) & mask == u32::from(*n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
            u128::from(*a) & mask == u128::from(*n) & mask
        }
        _ => false,
    }
}
