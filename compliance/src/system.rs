//! An information system (hệ thống thông tin) as the inventory holds it: who owns and runs it,
//! what it is and handles (the facts its level is decided on), and what it is made of (what
//! the dossier's general description lists: Decree 331 Art. 22.3; regime-2026.md §2.1, §4.1).

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::level::Level;

/// System type, Decree 331 Art. 9.2 a–đ (Decree 85 Art. 6.2 had the same five).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SystemType {
    /// a. Internal operations (nội bộ): e-mail, document management, HR, finance.
    #[default]
    Internal,
    /// b. Serving citizens and businesses (phục vụ người dân, doanh nghiệp): online services.
    CitizenService,
    /// c. Information infrastructure (cơ sở hạ tầng thông tin) shared by bodies: WAN, data
    /// centre, cloud, databases, e-authentication, integration platforms.
    Infrastructure,
    /// d. Industrial control (điều khiển công nghiệp) of construction works.
    IndustrialControl,
    /// đ. Other.
    Other,
}

impl SystemType {
    pub const ALL: [SystemType; 5] = [
        SystemType::Internal,
        SystemType::CitizenService,
        SystemType::Infrastructure,
        SystemType::IndustrialControl,
        SystemType::Other,
    ];

    /// The point of Art. 9.2 (a, b, c, d, đ).
    pub fn point(self) -> &'static str {
        match self {
            SystemType::Internal => "a",
            SystemType::CitizenService => "b",
            SystemType::Infrastructure => "c",
            SystemType::IndustrialControl => "d",
            SystemType::Other => "đ",
        }
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            SystemType::Internal => "Phục vụ hoạt động nội bộ",
            SystemType::CitizenService => "Phục vụ người dân, doanh nghiệp",
            SystemType::Infrastructure => "Cơ sở hạ tầng thông tin",
            SystemType::IndustrialControl => "Điều khiển công nghiệp",
            SystemType::Other => "Loại khác",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            SystemType::Internal => "internal",
            SystemType::CitizenService => "citizen_service",
            SystemType::Infrastructure => "infrastructure",
            SystemType::IndustrialControl => "industrial_control",
            SystemType::Other => "other",
        }
    }
}

/// Information classes, Decree 331 Art. 9.1 (Decree 85 Art. 6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InformationClass {
    /// Công cộng.
    Public,
    /// Riêng: not public, or public only to identified parties.
    Private,
    /// Cá nhân: identifies a person.
    Personal,
    /// Bí mật nhà nước.
    StateSecret,
}

impl InformationClass {
    pub const ALL: [InformationClass; 4] = [
        InformationClass::Public,
        InformationClass::Private,
        InformationClass::Personal,
        InformationClass::StateSecret,
    ];

    pub fn name_vi(self) -> &'static str {
        match self {
            InformationClass::Public => "Thông tin công cộng",
            InformationClass::Private => "Thông tin riêng",
            InformationClass::Personal => "Thông tin cá nhân",
            InformationClass::StateSecret => "Thông tin bí mật nhà nước",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            InformationClass::Public => "public",
            InformationClass::Private => "private",
            InformationClass::Personal => "personal",
            InformationClass::StateSecret => "state_secret",
        }
    }
}

/// Harm to national security if the system is sabotaged (Art. 13.1, 14.1, 15.1): what the
/// criteria key on. A secrecy grade (Mật, Tối mật, Tuyệt mật) is not a level (§2.1 note).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NationalSecurityHarm {
    #[default]
    None,
    /// Gây tổn hại.
    Harm,
    /// Gây tổn hại nghiêm trọng.
    Serious,
    /// Gây tổn hại đặc biệt nghiêm trọng (a strategic system).
    EspeciallySerious,
}

/// Whom shared information infrastructure serves (Art. 12.3, 13.3, 14.2, 15.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InfrastructureScope {
    /// One body or organisation.
    OneBody,
    /// Bodies of one ministry, one sector, one province or several provinces.
    ProvinceOrSector,
    /// Bodies nationwide.
    Nationwide,
    /// Vietnam's international interconnection.
    International,
}

/// Grade of the construction works an industrial-control system runs (Art. 13.4, 14.3, 15.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorksGrade {
    /// Grade II, III or IV.
    GradeTwoToFour,
    GradeOne,
    Special,
    /// Works important to national security.
    NationalSecurity,
}

/// Online public services a type-b system offers, in Decree 85's terms (Art. 8.2.a, 9.2.a:
/// "mức độ 1–4"; since Decree 42/2022 "một phần" and "toàn trình").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PublicService {
    #[default]
    None,
    /// Information and services at level 1–2.
    Information,
    /// Partly online (level 3).
    Partial,
    /// End to end (level 4).
    EndToEnd,
}

/// Who decided a level outside the listed criteria (Art. 11.2, 12.4 … 15.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decider {
    PrimeMinister,
    /// The cybersecurity risk-management framework (khung quản lý rủi ro; not yet issued).
    RiskFramework,
}

/// The signs of a system critical to national security (Art. 16.1–16.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NationalSecurityIndicators {
    /// Serves direction of important works related to national security (16.1).
    pub directs_security_works: bool,
    /// Serves direction or control of important telecom works related to national security (16.2).
    pub directs_security_telecom: bool,
    /// In a field of Law 116 Art. 9.2 (defence, security, energy, finance, …) …
    pub critical_field: bool,
    /// … and an incident would have one of the consequences a–g of Art. 16.3.
    pub critical_consequence: bool,
}

/// The facts a level is decided on: the wizard's answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Profile {
    pub system_type: SystemType,
    pub information: BTreeSet<InformationClass>,
    /// Serves defence or security (phục vụ quốc phòng, an ninh).
    pub serves_defence_security: bool,
    pub national_security_harm: NationalSecurityHarm,
    /// The online service is in the list of conditional business lines (Appendix IV, Law on
    /// Investment 143/2025; Decree 85: the conditional-business list then in force).
    pub conditional_business_line: bool,
    /// Handles administrative procedures (giải quyết thủ tục hành chính), Art. 13.2.b.
    pub handles_administrative_procedures: bool,
    /// Data subjects whose basic personal data it processes (Law 91/2025).
    pub basic_subjects: u64,
    /// Data subjects whose sensitive personal data it processes.
    pub sensitive_subjects: u64,
    /// Decree 85's online public-service level.
    pub public_service: PublicService,
    pub infrastructure_scope: Option<InfrastructureScope>,
    /// A national e-Government system (hệ thống Chính phủ điện tử quốc gia), Art. 14.2.
    pub national_egovernment: bool,
    /// Must run 24/7 and tolerates no unplanned downtime (Art. 14.2).
    pub round_the_clock: bool,
    pub works_grade: Option<WorksGrade>,
    /// Centralised storage of especially important national data (Art. 15.2).
    pub national_data_store: bool,
    /// A level decided by the Prime Minister or the risk framework (type đ and Art. 12.4 …).
    pub decided_level: Option<(Level, Decider)>,
    /// The level the risk assessment points to (Art. 10.5: it may only raise).
    pub risk_assessment_level: Option<Level>,
    pub national_security: NationalSecurityIndicators,
}

/// A unit named in the dossier (owner, operating unit, cybersecurity unit), Art. 22.3.a–b.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Unit {
    pub name: String,
    /// The founding or functional instrument (quyết định thành lập / chức năng nhiệm vụ).
    pub instrument: String,
    pub representative: String,
    pub title: String,
    pub address: String,
    pub phone: String,
    pub email: String,
}

/// A network zone and its address plan (Art. 22.3.d).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Zone {
    pub name: String,
    pub private_ranges: Vec<IpRange>,
    pub public_ranges: Vec<IpRange>,
}

/// A main or network device (name/type, location, purpose).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Device {
    pub name: String,
    pub kind: String,
    pub location: String,
    pub purpose: String,
}

/// An application or service (name, server and location, operating system, purpose).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Application {
    pub name: String,
    pub server: String,
    pub os: String,
    pub purpose: String,
}

/// An information system in the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct InformationSystem {
    /// Short code, unique within its organization (`mot-cua`).
    pub code: String,
    pub name: String,
    /// The organization (console org code) that owns it.
    pub org: String,
    /// Chủ quản.
    pub owner: Unit,
    /// Đơn vị vận hành.
    pub operator: Unit,
    /// Đơn vị chuyên trách về an ninh mạng.
    pub cybersecurity_unit: Unit,
    pub profile: Profile,
    /// What it does (its business function, Art. 7.1).
    pub purpose: String,
    /// Users it serves (người sử dụng), by count.
    pub users_served: u64,
    /// Names of the administrative procedures it handles.
    pub administrative_procedures: Vec<String>,
    /// Scope of the infrastructure it runs on (own server room, provincial data centre, cloud).
    pub infrastructure: String,
    /// Systems it connects to or depends on.
    pub connected_systems: Vec<String>,
    pub zones: Vec<Zone>,
    pub devices: Vec<Device>,
    pub applications: Vec<Application>,
}

impl InformationSystem {
    /// Every address range of its zones, private and public: what the sensors should see.
    pub fn address_ranges(&self) -> impl Iterator<Item = &IpRange> {
        self.zones.iter().flat_map(|z| z.private_ranges.iter().chain(&z.public_ranges))
    }

    /// What is missing or inconsistent, each as (field, problem); empty when it can be filed.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !valid_code(&self.code) {
            out.push(("code", format!("`{}` is not a code (a-z, 0-9, -, _; 1 to 64)", self.code)));
        }
        if self.name.trim().is_empty() {
            out.push(("name", "a system needs a name".to_string()));
        }
        if self.org.trim().is_empty() {
            out.push(("org", "a system belongs to an organization".to_string()));
        }
        if self.profile.information.is_empty() {
            out.push((
                "information",
                "name the information it processes (public, private, personal, state secret)".into(),
            ));
        }
        if self.profile.sensitive_subjects > 0 && !self.profile.information.contains(&InformationClass::Personal) {
            out.push((
                "information",
                "sensitive data subjects are counted but personal information is not ticked".into(),
            ));
        }
        if !self.administrative_procedures.is_empty() && !self.profile.handles_administrative_procedures {
            out.push((
                "administrative_procedures",
                "procedures are listed but the system is not marked as handling them".into(),
            ));
        }
        out
    }
}

fn valid_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// An address range written `10.20.0.0/16` (or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpRange {
    pub network: IpAddr,
    pub prefix: u8,
}

impl IpRange {
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, addr) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl FromStr for IpRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr.parse().map_err(|_| format!("`{s}` is not an address range (10.20.0.0/16)"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}`: the prefix must be 0 to {max}"))?,
            None => max,
        };
        Ok(IpRange { network, prefix })
    }
}

impl Serialize for IpRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Level {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u8::deserialize(d)?;
        Level::new(n).ok_or_else(|| serde::de::Error::custom(format!("{n} is not a security level (1 to 5)")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_contain() {
        let r: IpRange = "10.20.0.0/16".parse().unwrap();
        assert!(r.contains("10.20.3.4".parse().unwrap()) && !r.contains("10.21.0.1".parse().unwrap()));
        let one: IpRange = "203.0.113.7".parse().unwrap();
        assert_eq!(one.prefix, 32);
        assert!("10.0.0.0/33".parse::<IpRange>().is_err() && "ten".parse::<IpRange>().is_err());
        let all: IpRange = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn problems_name_their_field() {
        let s = InformationSystem { code: "Bad Code".into(), ..Default::default() };
        let fields: Vec<&str> = s.problems().iter().map(|p| p.0).collect();
        assert_eq!(fields, ["code", "name", "org", "information"]);
    }
}
