//! The dossier's documents and the forms of Decree 331, generated from Canh's data as Word
//! files laid out by Decree 30/2020/NĐ-CP ([`layout`]): the general description (Art. 22.3),
//! the level proposal statement (Art. 22.4), the security plan statement with the
//! implementation of each requirement (Art. 22.6), the risk assessment (Art. 10.3), and Forms
//! 01–07 (request for appraisal and approval, request for appraisal, request for the
//! professional opinion, appraisal opinion, submission for approval, decisions approving the
//! level and the security plan); Form 08, the annual report, is [`report`]'s.
//!
//! The wording is Canh's own, following each form's structure; a dossier's owner completes
//! and signs what is generated.

pub mod layout;
pub mod report;

use time::Date;

use crate::assessment::{Assessment, Status};
use crate::catalog::Catalog;
use crate::classify::{Classification, cite_vi};
use crate::dossier::Dossier;
use crate::system::InformationSystem;
pub use layout::{Block, Document};

/// Who the documents name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parties {
    /// The province, as the place of issue (Lâm Đồng).
    pub place: String,
    /// The system owner (chủ quản): UBND tỉnh Lâm Đồng.
    pub owner: String,
    /// The organization that prepares the dossier (the operating unit's agency).
    pub preparer: String,
    /// Its parent, for the header block.
    pub preparer_parent: String,
    pub appraiser: String,
    pub approver: String,
}

/// A system of the dossier with what Canh knows of it.
#[derive(Debug, Clone, Copy)]
pub struct SystemFacts<'a> {
    pub system: &'a InformationSystem,
    pub classification: Option<&'a Classification>,
    pub assessment: Option<&'a Assessment>,
}

/// Everything a dossier's documents are made from.
#[derive(Debug, Clone)]
pub struct DossierFacts<'a> {
    pub id: i64,
    pub parties: Parties,
    pub dossier: &'a Dossier,
    pub systems: Vec<SystemFacts<'a>>,
    pub date: Date,
}

/// The documents a dossier can have generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    GeneralDescription,
    LevelProposal,
    SecurityPlan,
    RiskAssessment,
    Form01,
    Form02,
    Form03,
    Form04,
    Form05,
    Form06,
    Form07,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::GeneralDescription,
        Kind::LevelProposal,
        Kind::SecurityPlan,
        Kind::RiskAssessment,
        Kind::Form01,
        Kind::Form02,
        Kind::Form03,
        Kind::Form04,
        Kind::Form05,
        Kind::Form06,
        Kind::Form07,
    ];

    /// The file name stem (`thuyet-minh-tong-quan`, `mau-04`).
    pub fn key(self) -> &'static str {
        match self {
            Kind::GeneralDescription => "thuyet-minh-tong-quan",
            Kind::LevelProposal => "thuyet-minh-de-xuat-cap-do",
            Kind::SecurityPlan => "thuyet-minh-phuong-an",
            Kind::RiskAssessment => "bao-cao-danh-gia-rui-ro",
            Kind::Form01 => "mau-01",
            Kind::Form02 => "mau-02",
            Kind::Form03 => "mau-03",
            Kind::Form04 => "mau-04",
            Kind::Form05 => "mau-05",
            Kind::Form06 => "mau-06",
            Kind::Form07 => "mau-07",
        }
    }

    pub fn parse(key: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.key() == key)
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Kind::GeneralDescription => "Thuyết minh tổng quan hệ thống",
            Kind::LevelProposal => "Thuyết minh đề xuất cấp độ",
            Kind::SecurityPlan => "Thuyết minh phương án bảo đảm an ninh mạng",
            Kind::RiskAssessment => "Báo cáo đánh giá rủi ro",
            Kind::Form01 => "Mẫu 01 — Đề nghị thẩm định, phê duyệt",
            Kind::Form02 => "Mẫu 02 — Đề nghị thẩm định",
            Kind::Form03 => "Mẫu 03 — Đề nghị cho ý kiến chuyên môn",
            Kind::Form04 => "Mẫu 04 — Ý kiến thẩm định",
            Kind::Form05 => "Mẫu 05 — Tờ trình phê duyệt",
            Kind::Form06 => "Mẫu 06 — Quyết định phê duyệt cấp độ",
            Kind::Form07 => "Mẫu 07 — Quyết định phê duyệt phương án",
        }
    }

    /// Whether a dossier of `level` uses it (forms by level as regime-2026.md §3.2 maps them).
    pub fn applies(self, level: u8) -> bool {
        match self {
            Kind::GeneralDescription
            | Kind::LevelProposal
            | Kind::SecurityPlan
            | Kind::RiskAssessment
            | Kind::Form06 => true,
            Kind::Form01 => level <= 2,
            Kind::Form02 | Kind::Form04 | Kind::Form05 => level >= 3,
            Kind::Form03 => level >= 4,
            Kind::Form07 => level == 5,
        }
    }
}

fn text(s: impl Into<String>) -> Block {
    Block::Text(s.into())
}

fn heading(s: impl Into<String>) -> Block {
    Block::Heading(s.into())
}

fn names(f: &DossierFacts<'_>) -> String {
    f.systems.iter().map(|s| s.system.name.as_str()).collect::<Vec<_>>().join("; ")
}

fn decree(f: &DossierFacts<'_>) -> &'static str {
    f.dossier.regime.decree()
}

/// The bases of a system's level: its decisive criteria, cited.
fn bases(c: Option<&Classification>) -> String {
    match c {
        Some(c) => c.decisive().map(|x| format!("{} ({})", cite_vi(&x.clause), x.vi)).collect::<Vec<_>>().join("; "),
        None => "chưa xác định".to_string(),
    }
}

/// A document of the dossier.
pub fn render(kind: Kind, f: &DossierFacts<'_>) -> Document {
    let level = f.dossier.level.number();
    let p = &f.parties;
    let base = Document {
        parent: p.preparer_parent.clone(),
        issuer: p.preparer.clone(),
        number: "Số:      /".to_string() + &abbreviation(&p.preparer),
        place: p.place.clone(),
        date: f.date,
        title: String::new(),
        summary: String::new(),
        to: None,
        body: Vec::new(),
        recipients: vec!["Như trên".into(), "Lưu: VT".into()],
        signer_title: "Thủ trưởng đơn vị".into(),
        signer_name: String::new(),
    };
    let systems = names(f);
    match kind {
        Kind::GeneralDescription => Document {
            title: "Thuyết minh tổng quan".into(),
            summary: format!("Hệ thống thông tin: {systems}"),
            body: general_description(f),
            ..base
        },
        Kind::LevelProposal => Document {
            title: "Thuyết minh đề xuất cấp độ".into(),
            summary: format!("Hệ thống thông tin: {systems}"),
            body: level_proposal(f),
            ..base
        },
        Kind::SecurityPlan => Document {
            title: "Thuyết minh phương án bảo đảm an ninh mạng".into(),
            summary: format!("theo cấp độ {level}: {systems}"),
            body: security_plan(f),
            ..base
        },
        Kind::RiskAssessment => Document {
            title: "Báo cáo đánh giá rủi ro an ninh mạng".into(),
            summary: systems.clone(),
            body: risk_assessment(f),
            ..base
        },
        Kind::Form01 | Kind::Form02 | Kind::Form03 => {
            let (title, to, ask) = match kind {
                Kind::Form01 => {
                    ("Đề nghị thẩm định, phê duyệt hồ sơ đề xuất cấp độ", p.appraiser.clone(), "thẩm định và phê duyệt")
                }
                Kind::Form02 => ("Đề nghị thẩm định hồ sơ đề xuất cấp độ", p.appraiser.clone(), "thẩm định"),
                _ => (
                    "Đề nghị cho ý kiến chuyên môn về hồ sơ đề xuất cấp độ",
                    "Đơn vị chuyên trách về an ninh mạng".to_string(),
                    "cho ý kiến chuyên môn về",
                ),
            };
            Document {
                title: "Văn bản".into(),
                summary: title.into(),
                to: Some(to),
                body: vec![
                    text(format!("Căn cứ {} của Chính phủ quy định về bảo vệ an ninh mạng đối với hệ thống thông tin;", decree(f))),
                    text(format!("{} đề nghị {ask} hồ sơ đề xuất cấp độ đối với hệ thống thông tin: {systems}, cấp độ đề xuất: cấp độ {level}.", p.preparer)),
                    text("Hồ sơ gửi kèm gồm: thuyết minh tổng quan; tài liệu thiết kế; thuyết minh đề xuất cấp độ; thuyết minh phương án bảo đảm an ninh mạng; báo cáo đánh giá rủi ro.".to_string()),
                    text("Đầu mối liên hệ: ……………… (họ tên, chức vụ, điện thoại, thư điện tử).".to_string()),
                ],
                ..base
            }
        }
        Kind::Form04 => {
            let verdict = match f.dossier.appraisal_suitable {
                Some(true) => "Phù hợp",
                Some(false) => "Chưa phù hợp",
                None => "………………",
            };
            Document {
                issuer: p.appraiser.clone(),
                parent: String::new(),
                number: "Số:      /YKTĐ".into(),
                title: "Ý kiến thẩm định".into(),
                summary: format!("Hồ sơ đề xuất cấp độ: {systems}"),
                body: vec![
                    heading("I. Hồ sơ thẩm định"),
                    text(format!("Hồ sơ do {} gửi, gồm các thành phần theo Điều 21 {}.", p.preparer, decree(f))),
                    heading("II. Căn cứ pháp lý"),
                    text(format!("{}; {}.", decree(f), f.dossier.regime.standard())),
                    heading("III. Tổ chức thẩm định"),
                    text(format!("Đơn vị chủ trì: {}; hình thức: ………………", p.appraiser)),
                    heading("IV. Ý kiến thẩm định"),
                    text(format!(
                        "Về cấp độ đề xuất (cấp độ {level}): {}.",
                        bases(f.systems.first().and_then(|s| s.classification))
                    )),
                    text("Về phương án bảo đảm an ninh mạng trong thiết kế và trong vận hành: ………………".to_string()),
                    heading("V. Kết luận"),
                    text(format!("Hồ sơ đề xuất cấp độ: {verdict}.")),
                ],
                signer_title: "Thủ trưởng đơn vị thẩm định".into(),
                ..base
            }
        }
        Kind::Form05 => {
            let mut attachments = vec![
                "1. Thuyết minh tổng quan".to_string(),
                "2. Tài liệu thiết kế".into(),
                "3. Thuyết minh đề xuất cấp độ".into(),
                "4. Thuyết minh phương án bảo đảm an ninh mạng".into(),
            ];
            if level >= 4 {
                attachments.push("5. Ý kiến chuyên môn của đơn vị chuyên trách về an ninh mạng".into());
            }
            attachments.push(format!("{}. Ý kiến thẩm định của đơn vị chủ trì thẩm định", attachments.len() + 1));
            let mut body = vec![
                text(format!("Căn cứ {} của Chính phủ;", decree(f))),
                text(format!(
                    "{} kính trình phê duyệt hồ sơ đề xuất cấp độ đối với hệ thống thông tin: {systems}, cấp độ {level}.",
                    p.preparer
                )),
                heading("Hồ sơ kèm theo:"),
            ];
            body.extend(attachments.into_iter().map(text));
            Document {
                title: "Tờ trình".into(),
                summary: "Về việc phê duyệt hồ sơ đề xuất cấp độ".into(),
                to: Some(p.approver.clone()),
                body,
                ..base
            }
        }
        Kind::Form06 | Kind::Form07 => {
            let (summary, article1) = if kind == Kind::Form06 {
                (
                    format!("Phê duyệt hồ sơ đề xuất cấp độ hệ thống thông tin: {systems}"),
                    format!(
                        "Điều 1. Phê duyệt cấp độ {level} đối với hệ thống thông tin: {systems}. Phương án bảo đảm an ninh mạng trong thiết kế và trong vận hành đáp ứng yêu cầu của {} theo cấp độ {level}.",
                        f.dossier.regime.standard()
                    ),
                )
            } else {
                (
                    format!("Phê duyệt phương án bảo đảm an ninh mạng hệ thống thông tin: {systems}"),
                    format!("Điều 1. Phê duyệt phương án bảo đảm an ninh mạng đối với hệ thống thông tin: {systems}."),
                )
            };
            let number = match &f.dossier.decision {
                Some(d) => format!("Số: {}", d.number),
                None => "Số:      /QĐ".into(),
            };
            Document {
                parent: String::new(),
                issuer: p.approver.clone(),
                number,
                title: "Quyết định".into(),
                summary,
                body: vec![
                    text(format!(
                        "Căn cứ {} của Chính phủ quy định về bảo vệ an ninh mạng đối với hệ thống thông tin;",
                        decree(f)
                    )),
                    text("Căn cứ ý kiến thẩm định và đề nghị của đơn vị vận hành hệ thống;".to_string()),
                    heading("QUYẾT ĐỊNH:"),
                    text(article1),
                    text(format!(
                        "Điều 2. {} có trách nhiệm triển khai phương án đã được phê duyệt theo Điều 33 {}; đơn vị chuyên trách về an ninh mạng giám sát việc thực hiện.",
                        p.preparer,
                        decree(f)
                    )),
                    text("Điều 3. Quyết định này có hiệu lực kể từ ngày ký.".to_string()),
                ],
                signer_title: "Người có thẩm quyền phê duyệt".into(),
                ..base
            }
        }
    }
}

/// An abbreviation of an organization for the number and symbol (Sở Khoa học và Công nghệ →
/// SKHVCN): the initials of its words, upper-case, without diacritics' base letters lost.
fn abbreviation(name: &str) -> String {
    name.split_whitespace().filter_map(|w| w.chars().next()).flat_map(char::to_uppercase).collect()
}

fn general_description(f: &DossierFacts<'_>) -> Vec<Block> {
    let mut out = Vec::new();
    for (i, s) in f.systems.iter().enumerate() {
        let sys = s.system;
        out.push(heading(format!("{}. {}", i + 1, sys.name)));
        out.push(text(format!(
            "Chủ quản: {}. Đơn vị vận hành: {}. Đơn vị chuyên trách về an ninh mạng: {}.",
            or_dots(&sys.owner.name),
            or_dots(&sys.operator.name),
            or_dots(&sys.cybersecurity_unit.name)
        )));
        out.push(text(format!(
            "Chức năng: {}. Số người sử dụng: {}. Hạ tầng: {}.",
            or_dots(&sys.purpose),
            sys.users_served,
            or_dots(&sys.infrastructure)
        )));
        if !sys.connected_systems.is_empty() {
            out.push(text(format!("Hệ thống kết nối: {}.", sys.connected_systems.join("; "))));
        }
        out.push(heading("Danh mục thiết bị chính"));
        out.push(Block::Table {
            header: vec!["Tên, chủng loại".into(), "Vị trí".into(), "Mục đích".into()],
            rows: sys
                .devices
                .iter()
                .map(|d| vec![format!("{} ({})", d.name, d.kind), d.location.clone(), d.purpose.clone()])
                .collect(),
        });
        out.push(heading("Danh mục ứng dụng, dịch vụ"));
        out.push(Block::Table {
            header: vec!["Tên".into(), "Máy chủ, vị trí".into(), "Hệ điều hành".into(), "Mục đích".into()],
            rows: sys
                .applications
                .iter()
                .map(|a| vec![a.name.clone(), a.server.clone(), a.os.clone(), a.purpose.clone()])
                .collect(),
        });
        out.push(heading("Phân vùng mạng và quy hoạch địa chỉ"));
        out.push(Block::Table {
            header: vec!["Vùng".into(), "Địa chỉ IP nội bộ".into(), "Địa chỉ IP công cộng".into()],
            rows: sys
                .zones
                .iter()
                .map(|z| {
                    let join =
                        |r: &[crate::system::IpRange]| r.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ");
                    vec![z.name.clone(), join(&z.private_ranges), join(&z.public_ranges)]
                })
                .collect(),
        });
    }
    out.push(text(
        "Tài liệu có sơ đồ mạng và địa chỉ IP là thông tin riêng (Điều 9.1.b): quản lý, cung cấp theo quy định."
            .to_string(),
    ));
    out
}

fn or_dots(s: &str) -> &str {
    if s.trim().is_empty() { "………………" } else { s }
}

fn level_proposal(f: &DossierFacts<'_>) -> Vec<Block> {
    let mut out = vec![
        heading("1. Danh mục hệ thống thông tin và cấp độ đề xuất"),
        Block::Table {
            header: vec!["Hệ thống".into(), "Loại (Điều 9.2)".into(), "Cấp độ đề xuất".into(), "Căn cứ".into()],
            rows: f
                .systems
                .iter()
                .map(|s| {
                    let level = s.classification.and_then(|c| c.level).map_or("—".into(), |l| l.number().to_string());
                    vec![
                        s.system.name.clone(),
                        format!("{}. {}", s.system.profile.system_type.point(), s.system.profile.system_type.name_vi()),
                        level,
                        bases(s.classification),
                    ]
                })
                .collect(),
        },
    ];
    for s in &f.systems {
        out.push(heading(format!("2. {}", s.system.name)));
        let info: Vec<&str> = s.system.profile.information.iter().map(|c| c.name_vi()).collect();
        out.push(text(format!("Loại thông tin xử lý (Điều 9.1): {}.", info.join(", "))));
        out.push(text(format!(
            "Số chủ thể dữ liệu cá nhân: {} cơ bản, {} nhạy cảm.",
            s.system.profile.basic_subjects, s.system.profile.sensitive_subjects
        )));
        if let Some(c) = s.classification {
            for fired in &c.fired {
                out.push(text(format!(
                    "- {} {}: {} (cấp độ {}){}",
                    cite_vi(&fired.clause),
                    c.regime.decree(),
                    fired.vi,
                    fired.level.number(),
                    if fired.detail.is_empty() { String::new() } else { format!(" — {}", fired.detail) }
                )));
            }
            for g in &c.grey {
                out.push(text(format!("Lưu ý: {}", g.vi)));
            }
        }
    }
    out.push(heading("3. Nhận diện sơ bộ rủi ro chính và tác động dự kiến"));
    out.push(text("Xem Báo cáo đánh giá rủi ro kèm theo.".to_string()));
    out
}

fn status_vi(s: Status) -> &'static str {
    s.name_vi()
}

fn security_plan(f: &DossierFacts<'_>) -> Vec<Block> {
    let catalog = Catalog::of(f.dossier.regime);
    let level = f.dossier.level;
    let mut out = vec![
        text(format!(
            "Phương án đáp ứng yêu cầu quản lý và kỹ thuật theo cấp độ {} của {} (Điều 22.6, Điều 30 {}), mô tả việc thực hiện đối với từng yêu cầu.",
            level.number(),
            catalog.standard,
            decree(f)
        )),
        heading("Các phần của phương án (Điều 29.2)"),
        text("a) Bảo đảm an ninh mạng trong thiết kế, xây dựng; b) trong vận hành; c) kiểm tra, đánh giá; d) quản lý rủi ro; đ) giám sát; e) dự phòng, ứng phó sự cố, khôi phục; g) kết thúc vận hành, thanh lý, hủy bỏ.".to_string()),
    ];
    for s in &f.systems {
        out.push(heading(format!("Thực hiện các yêu cầu: {}", s.system.name)));
        let rows = catalog
            .items(level)
            .iter()
            .map(|item| {
                let entry = s.assessment.and_then(|a| a.entries.get(&item.key()));
                let status = entry.map_or("Chưa đánh giá", |e| status_vi(e.status));
                let measure = entry
                    .map(|e| if e.status == Status::NotApplicable { e.reason.clone() } else { e.measure.clone() })
                    .unwrap_or_default();
                let due = entry.and_then(|e| e.due).map(|d| d.to_string()).unwrap_or_default();
                vec![item.clause.clone(), item.vi(), status.to_string(), measure, due]
            })
            .collect();
        out.push(Block::Table {
            header: vec![
                "Điều khoản".into(),
                "Yêu cầu".into(),
                "Tình trạng".into(),
                "Biện pháp".into(),
                "Thời hạn".into(),
            ],
            rows,
        });
    }
    out
}

fn risk_assessment(f: &DossierFacts<'_>) -> Vec<Block> {
    let mut out = vec![text(format!("Đánh giá rủi ro theo Điều 10.3 {} gồm bảy nội dung dưới đây.", decree(f)))];
    let elements = [
        "a) Tài sản và mức độ quan trọng",
        "b) Loại thông tin được xử lý",
        "c) Mối đe dọa, điểm yếu, lỗ hổng",
        "d) Khả năng xảy ra và mức độ tác động",
        "đ) Năng lực phòng ngừa, phát hiện, ứng phó hiện có",
        "e) Phương án xử lý rủi ro",
        "g) Trao đổi, báo cáo rủi ro",
    ];
    for s in &f.systems {
        out.push(heading(s.system.name.clone()));
        for e in elements {
            out.push(text(format!("{e}: ………………")));
        }
    }
    if f.dossier.level.number() >= 4 {
        out.push(heading("Nội dung bổ sung đối với cấp độ 4, 5 (Điều 22.5)"));
        out.push(text("Hệ thống liên quan, kết nối; nguy cơ tấn công mạng và tác động; phạm vi, mức độ tác động tới lợi ích công cộng, trật tự an toàn xã hội, an ninh quốc gia; giải trình yêu cầu vận hành 24/7.".to_string()));
    }
    out
}
