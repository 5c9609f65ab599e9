//! Form 08: the annual report on the protection of information systems (Decree 331 Art.
//! 35–36): the period 15/12 of the previous year to 14/12, to the owner by 20/12, to the
//! Ministry of Public Security by 25/12; its header counts and its detail table with the status
//! values as the form lists them.

use time::{Date, Month};

use super::layout::{Block, Document};

/// The reporting period of a report year: 15/12 of the year before to 14/12.
pub fn period(year: i32) -> (Date, Date) {
    (
        Date::from_calendar_date(year - 1, Month::December, 15).expect("15 December"),
        Date::from_calendar_date(year, Month::December, 14).expect("14 December"),
    )
}

/// The report's deadlines: internal (units to the owner) and to the Ministry.
pub fn deadlines(year: i32) -> (Date, Date) {
    (
        Date::from_calendar_date(year, Month::December, 20).expect("20 December"),
        Date::from_calendar_date(year, Month::December, 25).expect("25 December"),
    )
}

/// One row of the detail table (columns 2–12).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Row {
    pub system: String,
    pub owner: String,
    pub operator: String,
    pub proposed_level: String,
    /// Column 6: Đang dự thảo / Đã gửi thẩm định / Đã thẩm định / Đã được phê duyệt.
    pub approval_status: String,
    /// Column 7: decision number, date, issuer.
    pub decision: String,
    /// Column 8: the security regulation's number, date, issuer.
    pub regulation: String,
    pub expected_approval: String,
    /// Column 10: Chưa triển khai / Đã triển khai một số hạng mục / Đã triển khai đầy đủ.
    pub plan_status: String,
    pub expected_full: String,
    /// Column 12: Trước khi đưa vào sử dụng / Định kỳ / both / blank.
    pub assessment: String,
}

/// The header counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub total: usize,
    pub classified: usize,
    pub dossier_built: usize,
    pub appraised: usize,
    pub approved: usize,
    pub approved_and_assessed: usize,
}

pub struct AnnualReport {
    pub year: i32,
    pub reporter: String,
    pub reporter_parent: String,
    pub place: String,
    pub date: Date,
    pub counts: Counts,
    pub rows: Vec<Row>,
}

impl AnnualReport {
    pub fn counts_of(rows: &[Row]) -> Counts {
        let is = |r: &Row, s: &str| r.approval_status == s;
        Counts {
            total: rows.len(),
            classified: rows.iter().filter(|r| !r.proposed_level.is_empty()).count(),
            dossier_built: rows.iter().filter(|r| !r.approval_status.is_empty()).count(),
            appraised: rows.iter().filter(|r| is(r, "Đã thẩm định") || is(r, "Đã được phê duyệt")).count(),
            approved: rows.iter().filter(|r| is(r, "Đã được phê duyệt")).count(),
            approved_and_assessed: rows
                .iter()
                .filter(|r| is(r, "Đã được phê duyệt") && r.assessment.contains("Định kỳ"))
                .count(),
        }
    }

    pub fn document(&self) -> Document {
        let (from, to) = period(self.year);
        let (internal, ministry) = deadlines(self.year);
        let c = self.counts;
        let mut header = vec!["STT".to_string()];
        header.extend(
            [
                "Tên hệ thống (2)",
                "Chủ quản (3)",
                "Đơn vị vận hành (4)",
                "Cấp độ đề xuất (5)",
                "Tình trạng phê duyệt (6)",
                "Quyết định phê duyệt (7)",
                "Quy chế (8)",
                "Dự kiến phê duyệt (9)",
                "Triển khai phương án (10)",
                "Dự kiến hoàn thành (11)",
                "Kiểm tra, đánh giá (12)",
            ]
            .map(String::from),
        );
        let rows = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                vec![
                    (i + 1).to_string(),
                    r.system.clone(),
                    r.owner.clone(),
                    r.operator.clone(),
                    r.proposed_level.clone(),
                    r.approval_status.clone(),
                    r.decision.clone(),
                    r.regulation.clone(),
                    r.expected_approval.clone(),
                    r.plan_status.clone(),
                    r.expected_full.clone(),
                    r.assessment.clone(),
                ]
            })
            .collect();
        Document {
            parent: self.reporter_parent.clone(),
            issuer: self.reporter.clone(),
            number: "Số:      /BC".into(),
            place: self.place.clone(),
            date: self.date,
            title: "Báo cáo".into(),
            summary: format!("Công tác bảo vệ an ninh mạng đối với hệ thống thông tin năm {}", self.year),
            to: Some("Bộ Công an".into()),
            body: vec![
                Block::Text(format!(
                    "Kỳ báo cáo: từ ngày {} đến ngày {} (Điều 35 Nghị định số 331/2026/NĐ-CP). Đơn vị chuyên trách và đơn vị vận hành báo cáo chủ quản trước ngày {}; chủ quản gửi Bộ Công an trước ngày {}.",
                    from.format(time::macros::format_description!("[day]/[month]/[year]")).unwrap_or_default(),
                    to.format(time::macros::format_description!("[day]/[month]/[year]")).unwrap_or_default(),
                    internal.format(time::macros::format_description!("[day]/[month]")).unwrap_or_default(),
                    ministry.format(time::macros::format_description!("[day]/[month]")).unwrap_or_default(),
                )),
                Block::Heading("I. Số liệu tổng hợp".into()),
                Block::Text(format!(
                    "Tổng số hệ thống thông tin: {}; đã xác định cấp độ: {}; đã lập hồ sơ: {}; đã thẩm định: {}; đã được phê duyệt: {}; đã được phê duyệt và kiểm tra, đánh giá định kỳ: {}.",
                    c.total, c.classified, c.dossier_built, c.appraised, c.approved, c.approved_and_assessed
                )),
                Block::Heading("II. Danh mục hệ thống thông tin".into()),
                Block::Table { header, rows },
                Block::Heading("III. Đề xuất, kiến nghị".into()),
                Block::Text("………………".into()),
            ],
            recipients: vec![
                "Bộ Công an (Cục An ninh mạng và phòng, chống tội phạm sử dụng công nghệ cao)".into(),
                "Lưu: VT".into(),
            ],
            signer_title: "Thủ trưởng cơ quan chủ quản".into(),
            signer_name: String::new(),
        }
    }
}
