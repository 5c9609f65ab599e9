//! Indicator lists: domains, IP addresses and CIDR blocks, file hashes — one per line or the
//! first column of a CSV; `#` starts a comment.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::Path;

use crate::problem::Problem;

#[derive(Debug, Default, Clone)]
pub struct IocSet {
    pub domains: HashSet<String>,
    pub ips: HashSet<IpAddr>,
    /// (network, prefix length).
    pub cidrs: Vec<(IpAddr, u8)>,
    /// Lower-case hex md5, sha1 or sha256.
    pub hashes: HashSet<String>,
}

impl IocSet {
    pub fn len(&self) -> usize {
        self.domains.len() + self.ips.len() + self.cidrs.len() + self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds the indicators of one file; lines that are none of the kinds are problems.
    pub fn load(&mut self, file: &Path, text: &str, problems: &mut Vec<Problem>) {
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            let value = line.split(',').next().unwrap_or("").trim().trim_matches('"');
            if value.is_empty()
                || (n == 0
                    && matches!(
                        value.to_ascii_lowercase().as_str(),
                        "indicator" | "ioc" | "value" | "domain" | "ip" | "hash"
                    ))
            {
                continue;
            }
            if let Err(why) = self.add(value) {
                let col = raw.find(value).map_or(1, |c| c + 1);
                problems.push(Problem::error(file, n + 1, col, format!("{why}: {value:?}")));
            }
        }
    }

    fn add(&mut self, value: &str) -> Result<(), &'static str> {
        if let Some((net, len)) = value.split_once('/') {
            let ip: IpAddr = net.parse().map_err(|_| "not a CIDR block")?;
            let len: u8 = len.parse().map_err(|_| "not a CIDR prefix length")?;
            if len > if ip.is_ipv4() { 32 } else { 128 } {
                return Err("prefix length too long");
            }
            self.cidrs.push((ip, len));
        } else if let Ok(ip) = value.parse::<IpAddr>() {
            self.ips.insert(ip);
        } else if matches!(value.len(), 32 | 40 | 64) && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            self.hashes.insert(value.to_ascii_lowercase());
        } else if is_domain(value) {
            self.domains.insert(value.trim_end_matches('.').to_ascii_lowercase());
        } else {
            return Err("not a domain, IP address, CIDR block or md5/sha1/sha256 hash");
        }
        Ok(())
    }
}

fn is_domain(v: &str) -> bool {
    let v = v.trim_end_matches('.');
    v.contains('.')
        && v.len() <= 253
        && v.split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_comments_and_bad_lines() {
        let mut set = IocSet::default();
        let mut problems = Vec::new();
        let text = "indicator,comment\nduckdns.org,dyndns\n10.0.0.0/8\n203.0.113.7 # scanner\nD41D8CD98F00B204E9800998ECF8427E\nnot a thing\n10.0.0.0/40\n";
        set.load(Path::new("p/iocs.csv"), text, &mut problems);
        assert_eq!((set.domains.len(), set.cidrs.len(), set.ips.len(), set.hashes.len()), (1, 1, 1, 1));
        assert!(set.hashes.contains("d41d8cd98f00b204e9800998ecf8427e"));
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(shown.len(), 2);
        assert!(shown[0].starts_with("p/iocs.csv:6:1: error: not a domain"), "{shown:?}");
        assert!(shown[1].starts_with("p/iocs.csv:7:1: error: prefix length too long"), "{shown:?}");
    }
}
