//! Incidents (sự cố an ninh mạng) and their clocks: once a case is declared an incident, the
//! initial notice of a serious incident is due within 24 hours of detection and the report —
//! cause, scope of impact, remedy — within 72 hours (Decree 331 Art. 31.2.d), to the Ministry
//! of Public Security's specialised unit; where personal data is involved, the personal-data
//! breach notice within 72 hours as well (Law 91/2025 Art. 23.1).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::documents::layout::{Block, Document};

/// What the law asks after an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Obligation {
    /// Thông báo ban đầu — serious incidents, 24 h.
    InitialNotice,
    /// Báo cáo: nguyên nhân, phạm vi ảnh hưởng, biện pháp khắc phục — 72 h.
    Report,
    /// Thông báo vi phạm dữ liệu cá nhân — 72 h.
    PersonalDataNotice,
}

impl Obligation {
    pub fn hours(self) -> i64 {
        match self {
            Obligation::InitialNotice => 24,
            Obligation::Report | Obligation::PersonalDataNotice => 72,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Obligation::InitialNotice => "initial_notice",
            Obligation::Report => "report",
            Obligation::PersonalDataNotice => "personal_data_notice",
        }
    }

    pub fn parse(s: &str) -> Option<Obligation> {
        [Obligation::InitialNotice, Obligation::Report, Obligation::PersonalDataNotice]
            .into_iter()
            .find(|o| o.key() == s)
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            Obligation::InitialNotice => "Thông báo ban đầu (24 giờ, Điều 31.2.d Nghị định 331)",
            Obligation::Report => "Báo cáo nguyên nhân, phạm vi, biện pháp (72 giờ, Điều 31.2.d Nghị định 331)",
            Obligation::PersonalDataNotice => "Thông báo vi phạm dữ liệu cá nhân (72 giờ, Điều 23.1 Luật 91/2025)",
        }
    }
}

/// An incident as declared from a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    #[serde(with = "time::serde::rfc3339")]
    pub detected: OffsetDateTime,
    /// A serious incident: the 24-hour initial notice applies.
    pub serious: bool,
    pub personal_data: bool,
    pub cause: String,
    pub scope: String,
    pub impact: String,
    pub remedy: String,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub notice_sent: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub report_sent: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub personal_data_sent: Option<OffsetDateTime>,
}

/// Where one obligation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ClockState {
    /// Not done; so many minutes left.
    Running { minutes_left: i64 },
    /// Not done and past due by so many minutes.
    Late { minutes_over: i64 },
    /// Done, in time or not.
    Done { in_time: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Clock {
    pub obligation: Obligation,
    #[serde(with = "time::serde::rfc3339")]
    pub due: OffsetDateTime,
    pub state: ClockState,
}

impl Incident {
    pub fn new(detected: OffsetDateTime, serious: bool, personal_data: bool) -> Self {
        Self {
            detected,
            serious,
            personal_data,
            cause: String::new(),
            scope: String::new(),
            impact: String::new(),
            remedy: String::new(),
            notice_sent: None,
            report_sent: None,
            personal_data_sent: None,
        }
    }

    fn sent(&self, o: Obligation) -> Option<OffsetDateTime> {
        match o {
            Obligation::InitialNotice => self.notice_sent,
            Obligation::Report => self.report_sent,
            Obligation::PersonalDataNotice => self.personal_data_sent,
        }
    }

    /// Records that an obligation was met at `at`.
    pub fn mark_sent(&mut self, o: Obligation, at: OffsetDateTime) {
        match o {
            Obligation::InitialNotice => self.notice_sent = Some(at),
            Obligation::Report => self.report_sent = Some(at),
            Obligation::PersonalDataNotice => self.personal_data_sent = Some(at),
        }
    }

    /// The obligations that apply, each with its deadline and state at `now`.
    pub fn clocks(&self, now: OffsetDateTime) -> Vec<Clock> {
        let mut applies = Vec::new();
        if self.serious {
            applies.push(Obligation::InitialNotice);
        }
        applies.push(Obligation::Report);
        if self.personal_data {
            applies.push(Obligation::PersonalDataNotice);
        }
        applies
            .into_iter()
            .map(|obligation| {
                let due = self.detected + Duration::hours(obligation.hours());
                let state = match self.sent(obligation) {
                    Some(at) => ClockState::Done { in_time: at <= due },
                    None if now <= due => ClockState::Running { minutes_left: (due - now).whole_minutes() },
                    None => ClockState::Late { minutes_over: (now - due).whole_minutes() },
                };
                Clock { obligation, due, state }
            })
            .collect()
    }

    /// The report (Decree 331 Art. 31.2.d: cause, scope of impact, remedy) as a document.
    pub fn report(
        &self,
        reporter: &str,
        reporter_parent: &str,
        place: &str,
        title: &str,
        systems: &str,
        now: OffsetDateTime,
    ) -> Document {
        let vn = time::UtcOffset::from_hms(7, 0, 0).expect("+07:00");
        let at = |t: OffsetDateTime| {
            t.to_offset(vn)
                .format(time::macros::format_description!("[hour]:[minute] ngày [day]/[month]/[year]"))
                .unwrap_or_default()
        };
        let or_dots = |s: &str| if s.trim().is_empty() { "………………".to_string() } else { s.to_string() };
        let mut body = vec![
            Block::Heading("1. Thông tin chung".into()),
            Block::Text(format!("Sự cố: {title}. Hệ thống thông tin bị ảnh hưởng: {}.", or_dots(systems))),
            Block::Text(format!(
                "Thời điểm phát hiện: {} (giờ Việt Nam). Mức độ: {}. Liên quan dữ liệu cá nhân: {}.",
                at(self.detected),
                if self.serious { "nghiêm trọng" } else { "không nghiêm trọng" },
                if self.personal_data { "có" } else { "không" }
            )),
            Block::Heading("2. Nguyên nhân".into()),
            Block::Text(or_dots(&self.cause)),
            Block::Heading("3. Phạm vi ảnh hưởng".into()),
            Block::Text(or_dots(&self.scope)),
            Block::Heading("4. Mức độ tác động".into()),
            Block::Text(or_dots(&self.impact)),
            Block::Heading("5. Biện pháp khắc phục".into()),
            Block::Text(or_dots(&self.remedy)),
            Block::Heading("6. Thời hạn thông báo, báo cáo".into()),
        ];
        let rows = self
            .clocks(now)
            .iter()
            .map(|c| {
                let state = match c.state {
                    ClockState::Done { in_time: true } => "Đã thực hiện đúng hạn".to_string(),
                    ClockState::Done { in_time: false } => "Đã thực hiện, quá hạn".to_string(),
                    ClockState::Running { minutes_left } => {
                        format!("Còn {} giờ {} phút", minutes_left / 60, minutes_left % 60)
                    }
                    ClockState::Late { minutes_over } => {
                        format!("Quá hạn {} giờ {} phút", minutes_over / 60, minutes_over % 60)
                    }
                };
                vec![c.obligation.name_vi().to_string(), at(c.due), state]
            })
            .collect();
        body.push(Block::Table { header: vec!["Nghĩa vụ".into(), "Hạn".into(), "Tình trạng".into()], rows });
        Document {
            parent: reporter_parent.to_string(),
            issuer: reporter.to_string(),
            number: "Số:      /BC-SC".into(),
            place: place.to_string(),
            date: now.to_offset(vn).date(),
            title: "Báo cáo".into(),
            summary: "Sự cố an ninh mạng".into(),
            to: Some("Bộ Công an (đơn vị chuyên trách)".into()),
            body,
            recipients: vec!["Như trên".into(), "Chủ quản hệ thống thông tin".into(), "Lưu: VT".into()],
            signer_title: "Thủ trưởng đơn vị".into(),
            signer_name: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn clocks_run_from_detection() {
        let detected = datetime!(2026-12-01 08:00 UTC);
        let mut i = Incident::new(detected, true, true);
        let clocks = i.clocks(datetime!(2026-12-01 20:00 UTC));
        let due: Vec<_> = clocks.iter().map(|c| (c.obligation, c.due)).collect();
        assert_eq!(
            due,
            [
                (Obligation::InitialNotice, datetime!(2026-12-02 08:00 UTC)),
                (Obligation::Report, datetime!(2026-12-04 08:00 UTC)),
                (Obligation::PersonalDataNotice, datetime!(2026-12-04 08:00 UTC)),
            ]
        );
        assert_eq!(clocks[0].state, ClockState::Running { minutes_left: 12 * 60 });
        // A day and a half later: the notice is late; sent then, it is done but late.
        let later = datetime!(2026-12-02 20:00 UTC);
        assert_eq!(i.clocks(later)[0].state, ClockState::Late { minutes_over: 12 * 60 });
        i.mark_sent(Obligation::InitialNotice, later);
        i.mark_sent(Obligation::Report, later);
        let c = i.clocks(later);
        assert_eq!((c[0].state, c[1].state), (ClockState::Done { in_time: false }, ClockState::Done { in_time: true }));
        // Not serious, no personal data: only the 72-hour report.
        assert_eq!(Incident::new(detected, false, false).clocks(later).len(), 1);
    }
}
