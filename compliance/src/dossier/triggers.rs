//! Re-determination (xác định lại cấp độ, Decree 331 Art. 25): what in a system's facts
//! changed since its level was approved that calls for the procedure again (Art. 10.2: a
//! change of function, scope, users, information or technology; a threshold crossed) — and
//! whether the facts now give a higher level.

use serde::{Deserialize, Serialize};

use crate::classify::classify;
use crate::level::Level;
use crate::regime::Regime;
use crate::system::{InformationClass, Profile};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "trigger")]
pub enum Trigger {
    /// Its facts now give a higher level than the approved one (Art. 10.5, 25).
    HigherLevel { approved: Level, now: Level },
    /// It now processes a class of information it did not (Art. 10.2.b).
    NewInformation { class: InformationClass },
    /// Its type changed (Art. 10.2.b: function or scope served).
    TypeChanged,
    /// Data subjects crossed Art. 13.2.c's thresholds.
    SubjectsCrossed { basic: u64, sensitive: u64 },
    /// It took on administrative procedures or a conditional business line.
    NewService,
}

impl Trigger {
    pub fn vi(&self) -> String {
        match self {
            Trigger::HigherLevel { approved, now } => {
                format!(
                    "Các yếu tố hiện tại cho cấp độ {} cao hơn cấp độ {} đã phê duyệt",
                    now.number(),
                    approved.number()
                )
            }
            Trigger::NewInformation { class } => format!("Xử lý thêm loại thông tin: {}", class.name_vi()),
            Trigger::TypeChanged => "Thay đổi loại hệ thống (chức năng, phạm vi phục vụ)".into(),
            Trigger::SubjectsCrossed { basic, sensitive } => {
                format!("Số chủ thể dữ liệu vượt ngưỡng (cơ bản {basic}, nhạy cảm {sensitive})")
            }
            Trigger::NewService => "Thêm thủ tục hành chính hoặc ngành nghề kinh doanh có điều kiện".into(),
        }
    }
}

/// The triggers between the facts at approval and now, under the regime now in force.
pub fn triggers(approved_level: Level, at_approval: &Profile, now: &Profile) -> Vec<Trigger> {
    use crate::classify::nd331::{BASIC_SUBJECTS, SENSITIVE_SUBJECTS};
    let mut out = Vec::new();
    if let Some(level) = classify(Regime::Nd331, now).level
        && level > approved_level
    {
        out.push(Trigger::HigherLevel { approved: approved_level, now: level });
    }
    for class in now.information.difference(&at_approval.information) {
        out.push(Trigger::NewInformation { class: *class });
    }
    if now.system_type != at_approval.system_type {
        out.push(Trigger::TypeChanged);
    }
    let crossed = |before: u64, after: u64, limit: u64| before < limit && after >= limit;
    if crossed(at_approval.basic_subjects, now.basic_subjects, BASIC_SUBJECTS)
        || crossed(at_approval.sensitive_subjects, now.sensitive_subjects, SENSITIVE_SUBJECTS)
    {
        out.push(Trigger::SubjectsCrossed { basic: now.basic_subjects, sensitive: now.sensitive_subjects });
    }
    if (now.handles_administrative_procedures && !at_approval.handles_administrative_procedures)
        || (now.conditional_business_line && !at_approval.conditional_business_line)
    {
        out.push(Trigger::NewService);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::SystemType;

    #[test]
    fn crossing_a_threshold_calls_for_redetermination() {
        let before = Profile {
            system_type: SystemType::CitizenService,
            information: [InformationClass::Personal].into(),
            basic_subjects: 80_000,
            ..Default::default()
        };
        assert!(triggers(Level::new(2).unwrap(), &before, &before).is_empty());
        let after = Profile { basic_subjects: 120_000, ..before.clone() };
        let t = triggers(Level::new(2).unwrap(), &before, &after);
        assert_eq!(
            t,
            [
                Trigger::HigherLevel { approved: Level::new(2).unwrap(), now: Level::new(3).unwrap() },
                Trigger::SubjectsCrossed { basic: 120_000, sensitive: 0 }
            ]
        );
        let secret = Profile {
            information: [InformationClass::Personal, InformationClass::StateSecret].into(),
            ..before.clone()
        };
        assert!(
            triggers(Level::new(2).unwrap(), &before, &secret)
                .contains(&Trigger::NewInformation { class: InformationClass::StateSecret })
        );
    }
}
