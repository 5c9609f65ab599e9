//! Capture filters as classic BPF programs, in the text `tcpdump -ddd` prints: the number of
//! instructions on the first line, then `code jt jf k` per instruction, in decimal.
//!
//! Canh does not compile filter expressions itself (that is libpcap's grammar, and no
//! well-kept pure-Rust compiler of it exists): `--filter 'not port 22'` is compiled by the
//! `tcpdump` on the machine when there is one (`tcpdump -ddd -y EN10MB`), and `--filter-bpf
//! FILE` takes a program compiled elsewhere.

use std::io;

/// Parses `tcpdump -ddd` text; errors name the line.
pub fn parse(text: &str) -> Result<Vec<libc::sock_filter>, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = lines.next().ok_or("an empty BPF program")?;
    let count: usize =
        first.trim().parse().map_err(|_| format!("line 1: `{}` is not an instruction count", first.trim()))?;
    let mut program = Vec::with_capacity(count);
    for (i, line) in lines {
        let n: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("line {}: `{}` is not `code jt jf k`", i + 1, line.trim());
        let [code, jt, jf, k] = n.as_slice() else { return Err(bad()) };
        program.push(libc::sock_filter {
            code: code.parse().map_err(|_| bad())?,
            jt: jt.parse().map_err(|_| bad())?,
            jf: jf.parse().map_err(|_| bad())?,
            k: k.parse().map_err(|_| bad())?,
        });
    }
    if program.len() != count || count == 0 || count > 4096 {
        return Err(format!("line 1 says {count} instructions; {} follow (1 to 4096 allowed)", program.len()));
    }
    Ok(program)
}

/// Compiles a filter expression for Ethernet with the machine's `tcpdump`.
pub fn compile(expression: &str) -> io::Result<Vec<libc::sock_filter>> {
    let out = std::process::Command::new("tcpdump")
        .args(["-ddd", "-y", "EN10MB", "--", expression])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "compiling the filter needs tcpdump ({e}); or give the program with --filter-bpf (tcpdump -ddd)"
                ),
            )
        })?;
    if !out.status.success() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("filter `{expression}`: {}", String::from_utf8_lossy(&out.stderr).trim()),
        ));
    }
    parse(&String::from_utf8_lossy(&out.stdout)).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `tcpdump -ddd -y EN10MB ip` prints.
    const IP: &str = "4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n";

    #[test]
    fn tcpdump_text_is_read_and_mistakes_named() {
        let p = parse(IP).unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!((p[1].code, p[1].jt, p[1].jf, p[1].k), (21, 0, 1, 2048));
        assert_eq!(parse("2\n40 0 0 12\n21 x 3 1\n").unwrap_err(), "line 3: `21 x 3 1` is not `code jt jf k`");
        assert_eq!(parse("3\n40 0 0 12\n").unwrap_err(), "line 1 says 3 instructions; 1 follow (1 to 4096 allowed)");
        assert_eq!(parse("ip\n").unwrap_err(), "line 1: `ip` is not an instruction count");
        assert!(parse("").is_err());
    }
}
