//! Where the generator's citizens come from: the provinces that issue CCCD numbers and the
//! mobile networks of their phone numbers.
//!
//! Written from the sources themselves, apart from the analyzer's lists
//! (`canh_analyzer::pii`), so that a test planting these numbers and counting them with the
//! analyzer checks one transcription against the other, not a list against itself.

/// CCCD (citizen identity card) province codes, the first three digits of a number: the
/// appendix of Circular 07/2016/TT-BCA, by province as they stood before the 2025 mergers
/// (cards already issued keep their code).
pub const CCCD_PROVINCES: [(&str, &str); 63] = [
    ("001", "Hà Nội"),
    ("002", "Hà Giang"),
    ("004", "Cao Bằng"),
    ("006", "Bắc Kạn"),
    ("008", "Tuyên Quang"),
    ("010", "Lào Cai"),
    ("011", "Điện Biên"),
    ("012", "Lai Châu"),
    ("014", "Sơn La"),
    ("015", "Yên Bái"),
    ("017", "Hòa Bình"),
    ("019", "Thái Nguyên"),
    ("020", "Lạng Sơn"),
    ("022", "Quảng Ninh"),
    ("024", "Bắc Giang"),
    ("025", "Phú Thọ"),
    ("026", "Vĩnh Phúc"),
    ("027", "Bắc Ninh"),
    ("030", "Hải Dương"),
    ("031", "Hải Phòng"),
    ("033", "Hưng Yên"),
    ("034", "Thái Bình"),
    ("035", "Hà Nam"),
    ("036", "Nam Định"),
    ("037", "Ninh Bình"),
    ("038", "Thanh Hóa"),
    ("040", "Nghệ An"),
    ("042", "Hà Tĩnh"),
    ("044", "Quảng Bình"),
    ("045", "Quảng Trị"),
    ("046", "Thừa Thiên Huế"),
    ("048", "Đà Nẵng"),
    ("049", "Quảng Nam"),
    ("051", "Quảng Ngãi"),
    ("052", "Bình Định"),
    ("054", "Phú Yên"),
    ("056", "Khánh Hòa"),
    ("058", "Ninh Thuận"),
    ("060", "Bình Thuận"),
    ("062", "Kon Tum"),
    ("064", "Gia Lai"),
    ("066", "Đắk Lắk"),
    ("067", "Đắk Nông"),
    ("068", "Lâm Đồng"),
    ("070", "Bình Phước"),
    ("072", "Tây Ninh"),
    ("074", "Bình Dương"),
    ("075", "Đồng Nai"),
    ("077", "Bà Rịa - Vũng Tàu"),
    ("079", "Hồ Chí Minh"),
    ("080", "Long An"),
    ("082", "Tiền Giang"),
    ("083", "Bến Tre"),
    ("084", "Trà Vinh"),
    ("086", "Vĩnh Long"),
    ("087", "Đồng Tháp"),
    ("089", "An Giang"),
    ("091", "Kiên Giang"),
    ("092", "Cần Thơ"),
    ("093", "Hậu Giang"),
    ("094", "Sóc Trăng"),
    ("095", "Bạc Liêu"),
    ("096", "Cà Mau"),
];

/// Mobile prefixes by network, as numbered since the 2018 renumbering (Decision 798/QĐ-BTTTT
/// and the carriers' announcements).
pub const MOBILE_NETWORKS: [(&str, &[&str]); 8] = [
    ("Viettel", &["032", "033", "034", "035", "036", "037", "038", "039", "086", "096", "097", "098"]),
    ("VinaPhone", &["081", "082", "083", "084", "085", "088", "091", "094"]),
    ("MobiFone", &["070", "076", "077", "078", "079", "089", "090", "093"]),
    ("Vietnamobile", &["052", "056", "058", "092"]),
    ("Gmobile", &["059", "099"]),
    ("Reddi", &["055"]),
    ("iTel", &["087"]),
    // S-Fone's range: the network closed in 2012, the range is still numbered for mobiles.
    ("S-Fone", &["095"]),
];

/// Every mobile prefix, in the order of [`MOBILE_NETWORKS`].
pub fn mobile_prefixes() -> impl Iterator<Item = &'static str> {
    MOBILE_NETWORKS.iter().flat_map(|(_, prefixes)| prefixes.iter().copied())
}

/// Whether a CCCD number's first three digits are a province's code.
pub fn is_province(code: &str) -> bool {
    CCCD_PROVINCES.iter().any(|(c, _)| *c == code)
}
