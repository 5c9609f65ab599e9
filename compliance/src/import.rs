//! The inventory from the spreadsheets agencies keep today (CSV, XLSX): one row per system,
//! headers in Vietnamese or English. Every bad cell is reported by its row and column, and
//! a sheet with any error imports nothing.
//!
//! Lists in a cell are separated by `;`. Zones are `DMZ: 203.0.113.0/28, 10.0.0.0/24; Máy
//! chủ: 10.10.1.0/24` (private and public ranges told apart by the address); devices
//! `name | kind | location | purpose; …`; applications `name | server | OS | purpose; …`.

use std::collections::HashSet;
use std::io::Cursor;
use std::net::IpAddr;

use calamine::{Data, Reader};

use crate::system::{
    Application, Device, InformationClass, InformationSystem, InfrastructureScope, IpRange, PublicService, SystemType,
    Unit, Zone,
};

/// A bad cell.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("row {row}, column {column}: {message}")]
pub struct CellError {
    /// The sheet's row number (the header is row 1).
    pub row: usize,
    /// The column's header as written in the sheet.
    pub column: String,
    pub message: String,
}

/// A sheet that could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Unreadable(String),
    #[error("{} error(s), nothing imported:\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Cells(Vec<CellError>),
}

/// What a sheet gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub systems: Vec<InformationSystem>,
    /// Headers Canh does not know (STT, Ghi chú …), ignored.
    pub ignored_columns: Vec<String>,
}

/// The fields a column can fill, and the headers that name them (compared lower-case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Code,
    Name,
    Org,
    Owner,
    Operator,
    CybersecurityUnit,
    Type,
    Information,
    Purpose,
    Users,
    BasicSubjects,
    SensitiveSubjects,
    Procedures,
    Conditional,
    PublicService,
    InfrastructureScope,
    Infrastructure,
    Connected,
    Zones,
    Devices,
    Applications,
}

const HEADERS: &[(Field, &[&str])] = &[
    (Field::Code, &["code", "mã", "mã hệ thống"]),
    (Field::Name, &["name", "tên", "tên hệ thống", "tên hệ thống thông tin"]),
    (Field::Org, &["org", "organization", "đơn vị", "tổ chức", "cơ quan"]),
    (Field::Owner, &["owner", "chủ quản"]),
    (Field::Operator, &["operator", "operating unit", "đơn vị vận hành"]),
    (Field::CybersecurityUnit, &["cybersecurity unit", "đơn vị chuyên trách", "đơn vị chuyên trách về an ninh mạng"]),
    (Field::Type, &["type", "system type", "loại", "loại hệ thống"]),
    (Field::Information, &["information", "information types", "loại thông tin"]),
    (Field::Purpose, &["purpose", "function", "chức năng", "mục đích"]),
    (Field::Users, &["users", "users served", "số người dùng", "số người sử dụng"]),
    (Field::BasicSubjects, &["basic subjects", "chủ thể cơ bản", "số chủ thể dữ liệu cơ bản"]),
    (Field::SensitiveSubjects, &["sensitive subjects", "chủ thể nhạy cảm", "số chủ thể dữ liệu nhạy cảm"]),
    (Field::Procedures, &["administrative procedures", "procedures", "thủ tục hành chính"]),
    (
        Field::Conditional,
        &["conditional business line", "ngành nghề có điều kiện", "ngành, nghề kinh doanh có điều kiện"],
    ),
    (Field::PublicService, &["online public service", "dịch vụ công trực tuyến"]),
    (Field::InfrastructureScope, &["infrastructure scope", "phạm vi hạ tầng", "phạm vi phục vụ"]),
    (Field::Infrastructure, &["infrastructure", "hạ tầng"]),
    (Field::Connected, &["connected systems", "hệ thống kết nối"]),
    (Field::Zones, &["zones", "network zones", "vùng mạng"]),
    (Field::Devices, &["devices", "main devices", "thiết bị", "thiết bị chính"]),
    (Field::Applications, &["applications", "ứng dụng", "ứng dụng, dịch vụ"]),
];

fn field_of(header: &str) -> Option<Field> {
    let h = header.trim().to_lowercase();
    HEADERS.iter().find(|(_, names)| names.contains(&h.as_str())).map(|(f, _)| *f)
}

/// Read a CSV sheet (UTF-8, a header row, comma or semicolon separated).
pub fn from_csv(bytes: &[u8], default_org: Option<&str>) -> Result<Imported, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes); // Excel's UTF-8 mark
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter =
        if first_line.iter().filter(|b| **b == b';').count() > first_line.iter().filter(|b| **b == b',').count() {
            b';'
        } else {
            b','
        };
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).has_headers(false).from_reader(bytes);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ImportError::Unreadable(format!("row {}: {e}", i + 1)))?;
        rows.push(record.iter().map(str::to_string).collect::<Vec<_>>());
    }
    from_rows(rows, default_org)
}

/// Read the first sheet of an XLSX (or XLS, ODS) workbook.
pub fn from_workbook(bytes: &[u8], default_org: Option<&str>) -> Result<Imported, ImportError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| ImportError::Unreadable(format!("not a workbook: {e}")))?;
    let sheet = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| ImportError::Unreadable("the workbook has no sheet".into()))?;
    let range = book.worksheet_range(&sheet).map_err(|e| ImportError::Unreadable(format!("sheet {sheet}: {e}")))?;
    let rows = range.rows().map(|row| row.iter().map(cell_text).collect()).collect();
    from_rows(rows, default_org)
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        other => other.to_string(),
    }
}

fn from_rows(rows: Vec<Vec<String>>, default_org: Option<&str>) -> Result<Imported, ImportError> {
    let mut rows = rows.into_iter();
    let header = rows.next().ok_or_else(|| ImportError::Unreadable("the sheet is empty".into()))?;
    let columns: Vec<(String, Option<Field>)> = header.iter().map(|h| (h.trim().to_string(), field_of(h))).collect();
    let ignored_columns =
        columns.iter().filter(|(h, f)| f.is_none() && !h.is_empty()).map(|(h, _)| h.clone()).collect();
    let header_of = |field: Field| columns.iter().find(|(_, f)| *f == Some(field)).map(|(h, _)| h.clone());
    let mut errors = Vec::new();
    for required in [Field::Code, Field::Name, Field::Type, Field::Information] {
        if header_of(required).is_none() {
            let names = HEADERS.iter().find(|(f, _)| *f == required).map(|(_, n)| n.join(" / ")).unwrap_or_default();
            errors.push(CellError { row: 1, column: names, message: "this column is missing".into() });
        }
    }
    if default_org.is_none() && header_of(Field::Org).is_none() {
        errors.push(CellError {
            row: 1,
            column: "org / đơn vị".into(),
            message: "this column is missing (or give the organization for the whole sheet)".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ImportError::Cells(errors));
    }
    let mut systems = Vec::new();
    let mut seen = HashSet::new();
    for (i, row) in rows.enumerate() {
        let number = i + 2;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut system = InformationSystem { org: default_org.unwrap_or_default().to_string(), ..Default::default() };
        let before = errors.len();
        for (j, (header, field)) in columns.iter().enumerate() {
            let Some(field) = field else { continue };
            let value = row.get(j).map(|s| s.trim()).unwrap_or("");
            if let Err(message) = fill(&mut system, *field, value) {
                errors.push(CellError { row: number, column: header.clone(), message });
            }
        }
        if !system.administrative_procedures.is_empty() {
            system.profile.handles_administrative_procedures = true;
        }
        for (field, message) in system.problems() {
            let column = match field {
                "code" => header_of(Field::Code),
                "name" => header_of(Field::Name),
                "org" => header_of(Field::Org),
                "information" => header_of(Field::Information),
                _ => None,
            }
            .unwrap_or_else(|| field.to_string());
            // A cell already reported explains the problem; say it once.
            if !errors[before..].iter().any(|e| e.column == column) {
                errors.push(CellError { row: number, column, message });
            }
        }
        if !system.code.is_empty() && !seen.insert((system.org.clone(), system.code.clone())) {
            errors.push(CellError {
                row: number,
                column: header_of(Field::Code).unwrap_or_default(),
                message: format!("`{}` appears twice", system.code),
            });
        }
        systems.push(system);
    }
    if errors.is_empty() { Ok(Imported { systems, ignored_columns }) } else { Err(ImportError::Cells(errors)) }
}

fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(';').map(str::trim).filter(|s| !s.is_empty())
}

fn count(value: &str) -> Result<u64, String> {
    if value.is_empty() {
        return Ok(0);
    }
    let digits: String = value.chars().filter(|c| !matches!(c, '.' | ',' | ' ' | '\u{a0}')).collect();
    digits.parse().map_err(|_| format!("`{value}` is not a count"))
}

fn yes(value: &str) -> Result<bool, String> {
    match value.to_lowercase().as_str() {
        "" | "no" | "không" | "false" | "0" | "x không" => Ok(false),
        "yes" | "có" | "true" | "1" | "x" => Ok(true),
        _ => Err(format!("`{value}`: write có / không (yes / no)")),
    }
}

fn fill(s: &mut InformationSystem, field: Field, value: &str) -> Result<(), String> {
    let unit = |name: &str| Unit { name: name.to_string(), ..Default::default() };
    match field {
        Field::Code => s.code = value.to_string(),
        Field::Name => s.name = value.to_string(),
        Field::Org => {
            if !value.is_empty() {
                s.org = value.to_string();
            }
        }
        Field::Owner => s.owner = unit(value),
        Field::Operator => s.operator = unit(value),
        Field::CybersecurityUnit => s.cybersecurity_unit = unit(value),
        Field::Type => s.profile.system_type = system_type(value)?,
        Field::Information => {
            for item in value.split([';', ',']).map(str::trim).filter(|s| !s.is_empty()) {
                s.profile.information.insert(information(item)?);
            }
        }
        Field::Purpose => s.purpose = value.to_string(),
        Field::Users => s.users_served = count(value)?,
        Field::BasicSubjects => s.profile.basic_subjects = count(value)?,
        Field::SensitiveSubjects => s.profile.sensitive_subjects = count(value)?,
        Field::Procedures => match value.to_lowercase().as_str() {
            "có" | "yes" => s.profile.handles_administrative_procedures = true,
            "" | "không" | "no" => {}
            _ => s.administrative_procedures = list(value).map(str::to_string).collect(),
        },
        Field::Conditional => s.profile.conditional_business_line = yes(value)?,
        Field::PublicService => s.profile.public_service = public_service(value)?,
        Field::InfrastructureScope => s.profile.infrastructure_scope = infrastructure_scope(value)?,
        Field::Infrastructure => s.infrastructure = value.to_string(),
        Field::Connected => s.connected_systems = list(value).map(str::to_string).collect(),
        Field::Zones => s.zones = list(value).map(zone).collect::<Result<_, _>>()?,
        Field::Devices => s.devices = list(value).map(device).collect(),
        Field::Applications => s.applications = list(value).map(application).collect(),
    }
    Ok(())
}

/// A device written `name | kind | location | purpose`.
pub fn device(entry: &str) -> Device {
    let p = parts(entry);
    Device { name: p[0].clone(), kind: p[1].clone(), location: p[2].clone(), purpose: p[3].clone() }
}

/// An application written `name | server | OS | purpose`.
pub fn application(entry: &str) -> Application {
    let p = parts(entry);
    Application { name: p[0].clone(), server: p[1].clone(), os: p[2].clone(), purpose: p[3].clone() }
}

fn parts(entry: &str) -> [String; 4] {
    let mut p = entry.split('|').map(|s| s.trim().to_string());
    std::array::from_fn(|_| p.next().unwrap_or_default())
}

/// A zone written `name: 10.0.0.0/24, 203.0.113.0/28` (private and public told apart).
pub fn zone(entry: &str) -> Result<Zone, String> {
    let (name, ranges) =
        entry.split_once(':').ok_or_else(|| format!("`{entry}`: write a zone as `name: 10.0.0.0/24, …`"))?;
    let mut zone = Zone { name: name.trim().to_string(), ..Default::default() };
    for r in ranges.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let range: IpRange = r.parse()?;
        if is_private(range.network) { zone.private_ranges.push(range) } else { zone.public_ranges.push(range) }
    }
    Ok(zone)
}

fn is_private(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => {
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.octets()[0] == 100 && (a.octets()[1] & 0xc0) == 64
        }
        IpAddr::V6(a) => (a.segments()[0] & 0xfe00) == 0xfc00 || a.is_loopback(),
    }
}

fn system_type(value: &str) -> Result<SystemType, String> {
    let v = value.to_lowercase();
    let found = match v.as_str() {
        "a" | "internal" | "nội bộ" | "phục vụ hoạt động nội bộ" => Some(SystemType::Internal),
        "b" | "citizen_service" | "citizen service" | "người dân, doanh nghiệp" | "phục vụ người dân, doanh nghiệp" => {
            Some(SystemType::CitizenService)
        }
        "c" | "infrastructure" | "hạ tầng" | "cơ sở hạ tầng thông tin" => Some(SystemType::Infrastructure),
        "d" | "industrial_control" | "industrial control" | "điều khiển công nghiệp" => {
            Some(SystemType::IndustrialControl)
        }
        "đ" | "other" | "khác" | "loại khác" => Some(SystemType::Other),
        _ => None,
    };
    found.ok_or_else(|| format!("`{value}` is not a system type (a nội bộ, b người dân–doanh nghiệp, c hạ tầng, d điều khiển công nghiệp, đ khác)"))
}

fn information(value: &str) -> Result<InformationClass, String> {
    match value.to_lowercase().as_str() {
        "public" | "công cộng" | "thông tin công cộng" => Ok(InformationClass::Public),
        "private" | "riêng" | "thông tin riêng" => Ok(InformationClass::Private),
        "personal" | "cá nhân" | "thông tin cá nhân" => Ok(InformationClass::Personal),
        "state_secret" | "state secret" | "bí mật nhà nước" => Ok(InformationClass::StateSecret),
        _ => Err(format!("`{value}` is not an information class (công cộng, riêng, cá nhân, bí mật nhà nước)")),
    }
}

fn public_service(value: &str) -> Result<PublicService, String> {
    match value.to_lowercase().as_str() {
        "" | "none" | "không" => Ok(PublicService::None),
        "information" | "thông tin" | "1" | "2" | "mức độ 2" => Ok(PublicService::Information),
        "partial" | "một phần" | "3" | "mức độ 3" => Ok(PublicService::Partial),
        "end_to_end" | "toàn trình" | "4" | "mức độ 4" => Ok(PublicService::EndToEnd),
        _ => Err(format!("`{value}` is not an online public service (không, thông tin, một phần, toàn trình)")),
    }
}

fn infrastructure_scope(value: &str) -> Result<Option<InfrastructureScope>, String> {
    match value.to_lowercase().as_str() {
        "" => Ok(None),
        "one_body" | "một cơ quan" | "một cơ quan, tổ chức" => Ok(Some(InfrastructureScope::OneBody)),
        "province_or_sector" | "tỉnh" | "một tỉnh" | "ngành" | "bộ, ngành, tỉnh" => {
            Ok(Some(InfrastructureScope::ProvinceOrSector))
        }
        "nationwide" | "toàn quốc" => Ok(Some(InfrastructureScope::Nationwide)),
        "international" | "quốc tế" | "kết nối quốc tế" => Ok(Some(InfrastructureScope::International)),
        _ => Err(format!("`{value}` is not a scope (một cơ quan, tỉnh, toàn quốc, quốc tế)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\u{feff}STT,Mã,Tên hệ thống,Loại hệ thống,Loại thông tin,Số chủ thể dữ liệu cơ bản,Thủ tục hành chính,Vùng mạng,Thiết bị chính\n\
1,mot-cua,Hệ thống thông tin giải quyết TTHC,b,cá nhân; riêng,\"250.000\",Cấp giấy phép xây dựng; Đăng ký kinh doanh,\"DMZ: 203.0.113.0/28, 10.10.0.0/24; Máy chủ: 10.10.1.0/24\",FW-01 | Tường lửa | Phòng máy chủ | Bảo vệ biên\n\
2,qlvb,Quản lý văn bản và điều hành,nội bộ,riêng,,,,\n";

    #[test]
    fn a_sheet_in_vietnamese() {
        let got = from_csv(GOOD.as_bytes(), Some("so-tc")).unwrap();
        assert_eq!(got.ignored_columns, ["STT"]);
        let [portal, office] = got.systems.as_slice() else { panic!("{:?}", got.systems) };
        assert_eq!((portal.code.as_str(), portal.org.as_str()), ("mot-cua", "so-tc"));
        assert_eq!(portal.profile.system_type, SystemType::CitizenService);
        assert_eq!(portal.profile.basic_subjects, 250_000);
        assert!(portal.profile.handles_administrative_procedures);
        assert_eq!(portal.administrative_procedures.len(), 2);
        assert_eq!(portal.zones[0].public_ranges[0].to_string(), "203.0.113.0/28");
        assert_eq!(portal.zones[0].private_ranges[0].to_string(), "10.10.0.0/24");
        assert_eq!(portal.devices[0].kind, "Tường lửa");
        assert_eq!(office.profile.system_type, SystemType::Internal);
    }

    #[test]
    fn every_bad_cell_is_named_and_nothing_is_imported() {
        let bad = "code,name,type,information,basic subjects,zones\n\
ok-1,Good,a,private,,\n\
Bad Code,,z,secretish,12a,DMZ 10.0.0.0/8\n\
ok-1,Twice,a,public,,\n";
        let Err(ImportError::Cells(errors)) = from_csv(bad.as_bytes(), Some("org")) else { panic!() };
        let at: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(
            at,
            [
                (3, "type"),
                (3, "information"),
                (3, "basic subjects"),
                (3, "zones"),
                (3, "code"),
                (3, "name"),
                (4, "code")
            ],
            "{errors:#?}"
        );
        assert!(errors[0].to_string().starts_with("row 3, column type: `z` is not a system type"));
    }

    #[test]
    fn missing_columns_are_named() {
        let Err(ImportError::Cells(errors)) = from_csv(b"name,type\nx,a\n", None) else { panic!() };
        let columns: Vec<&str> = errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(
            columns,
            ["code / mã / mã hệ thống", "information / information types / loại thông tin", "org / đơn vị"]
        );
        assert!(errors.iter().all(|e| e.row == 1));
    }

    #[test]
    fn semicolon_separated_sheets() {
        let got = from_csv("code;name;type;information;org\nx;X;c;private;so-a\n".as_bytes(), None).unwrap();
        assert_eq!(got.systems[0].profile.system_type, SystemType::Infrastructure);
        assert_eq!(got.systems[0].org, "so-a");
    }
}
