//! Citizens' personal data counted in bytes: CCCD numbers (citizen identity cards) and
//! Vietnamese mobile phone numbers, given to YARA rules as the external variables
//! `cccd_numbers` and `phone_numbers`.
//!
//! Why not YARA regular expressions: a number has no literal to anchor on but its first digits,
//! and in CSV, JSON or a spreadsheet every run of digits starts a candidate that YARA-X's
//! regex engine must verify — the two PII regexes cost more than all other rules together
//! (3,030 MB/s without them, 325 MB/s with, on a generated capture's artifacts). One pass that
//! reads each run of digits once and checks its length and prefix costs almost nothing.
//!
//! A number is a run of ASCII digits with no digit on either side:
//! - CCCD: 12 digits, a province code (Circular 07/2016/TT-BCA: 001 Hà Nội … 096 Cà Mau), then
//!   a century-and-sex digit 0-3 (1900-2099);
//! - mobile: 10 digits starting with a prefix in use since the 2018 renumbering (032-039,
//!   052/055/056/058/059, 070/076-079, 081-089, 090-099), or the same written internationally
//!   as 11 digits after `84` (`+84 912…` without spaces).

/// Province codes of CCCD numbers (Circular 07/2016/TT-BCA, appendix): the first three
/// digits. Sorted (looked up by binary search); the traffic generator plants these too.
pub const PROVINCES: [&str; 63] = [
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020", "022", "024", "025",
    "026", "027", "030", "031", "033", "034", "035", "036", "037", "038", "040", "042", "044", "045", "046", "048",
    "049", "051", "052", "054", "056", "058", "060", "062", "064", "066", "067", "068", "070", "072", "074", "075",
    "077", "079", "080", "082", "083", "084", "086", "087", "089", "091", "092", "093", "094", "095", "096",
];

/// Mobile prefixes in use since the 2018 renumbering. Sorted, as [`PROVINCES`].
pub const MOBILE_PREFIXES: [&str; 37] = [
    "032", "033", "034", "035", "036", "037", "038", "039", "052", "055", "056", "058", "059", "070", "076", "077",
    "078", "079", "081", "082", "083", "084", "085", "086", "087", "088", "089", "090", "091", "092", "093", "094",
    "095", "096", "097", "098", "099",
];

/// What one artifact holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PiiCounts {
    pub cccd: i64,
    pub phone: i64,
}

/// Shortest run of digits that can be a number.
const SHORTEST: usize = 10;

/// Counts the numbers in `data`. Only every tenth byte is looked at until one is a digit: a
/// number is at least ten digits long, so it cannot fit between two non-digits ten bytes apart
/// (most bytes of binary data are not digits: the pass costs a tenth of a read).
pub fn count(data: &[u8]) -> PiiCounts {
    let mut counts = PiiCounts::default();
    // A run cannot start before `floor` (what lies before is seen).
    let (mut probe, mut floor) = (SHORTEST - 1, 0);
    while probe < data.len() {
        if !data[probe].is_ascii_digit() {
            probe += SHORTEST;
            continue;
        }
        let mut start = probe;
        while start > floor && data[start - 1].is_ascii_digit() {
            start -= 1;
        }
        let end = data[probe..].iter().position(|b| !b.is_ascii_digit()).map_or(data.len(), |n| probe + n);
        let run = &data[start..end];
        match run.len() {
            12 if is_cccd(run) => counts.cccd += 1,
            10 if run[0] == b'0' && is_mobile(run[1], run[2]) => counts.phone += 1,
            11 if run.starts_with(b"84") && is_mobile(run[2], run[3]) => counts.phone += 1,
            _ => {}
        }
        // `data[end]` is no digit: the next run starts after it.
        floor = end + 1;
        probe = end + SHORTEST;
    }
    counts
}

fn is_cccd(run: &[u8]) -> bool {
    listed(&PROVINCES, &run[..3]) && run[3] <= b'3'
}

/// Whether `0`, `a`, `b` begin a mobile number.
fn is_mobile(a: u8, b: u8) -> bool {
    listed(&MOBILE_PREFIXES, &[b'0', a, b])
}

fn listed(sorted: &[&str], prefix: &[u8]) -> bool {
    sorted.binary_search_by(|p| p.as_bytes().cmp(prefix)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_whole_runs_with_valid_prefixes() {
        // Binary search needs the lists sorted.
        assert!(PROVINCES.is_sorted() && MOBILE_PREFIXES.is_sorted());
        let c = |s: &str| count(s.as_bytes());
        assert_eq!(c("001203012345"), PiiCounts { cccd: 1, phone: 0 });
        assert_eq!(c("a,079185000123;x"), PiiCounts { cccd: 1, phone: 0 });
        // No such province (003), a century digit past 3, a digit more or less.
        assert_eq!(c("003203012345 001403012345 0012030123456 00120301234"), PiiCounts::default());
        assert_eq!(c("0912345678,0321234567;+84912345678"), PiiCounts { cccd: 0, phone: 3 });
        // Landlines (024, 028), unassigned mobile prefixes (031, 050), a longer run.
        assert_eq!(c("0241234567 0281234567 0311234567 0501234567 09123456789"), PiiCounts::default());
        assert_eq!(c(""), PiiCounts::default());
        assert_eq!(c("0912345678"), PiiCounts { cccd: 0, phone: 1 });
    }

    /// The skipping pass counts what reading every byte counts, wherever the numbers fall.
    #[test]
    fn skipping_misses_nothing() {
        let numbers = ["001203012345", "0912345678", "84912345678", "0241234567", "123"];
        let mut seed = 1u64;
        for _ in 0..2000 {
            let mut data = Vec::new();
            let mut expected = PiiCounts::default();
            for _ in 0..(seed % 7) {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let gap = (seed >> 33) as usize % 23;
                data.extend((0..gap).map(|i| if (seed >> i) & 3 == 0 { b'7' } else { b'x' }));
                data.push(b' ');
                let n = numbers[(seed >> 40) as usize % numbers.len()];
                data.extend_from_slice(n.as_bytes());
                data.push(b';');
                match n.len() {
                    12 => expected.cccd += 1,
                    10 | 11 if n != "0241234567" => expected.phone += 1,
                    _ => {}
                }
            }
            assert_eq!(count(&data), expected, "{:?}", String::from_utf8_lossy(&data));
        }
    }
}
