//! Decree 331/2026/NĐ-CP Art. 8.2, 10.5, 11–16: the procedure of regime-2026.md §2.3.

use super::{Builder, Classification, Criterion, has, only_public, private_or_personal};
use crate::level::Level;
use crate::regime::Regime;
use crate::system::{
    Decider, InformationClass, InfrastructureScope, NationalSecurityHarm, Profile, SystemType, WorksGrade,
};

/// Art. 13.2.c's thresholds: data subjects of basic, of sensitive personal data.
pub const BASIC_SUBJECTS: u64 = 100_000;
pub const SENSITIVE_SUBJECTS: u64 = 10_000;

pub const CRITERIA: &[Criterion] = &[
    Criterion {
        clause: "11.1",
        level: 1,
        vi: "Phục vụ nội bộ, chỉ xử lý thông tin công cộng",
        en: "Internal, processing only public information",
    },
    Criterion {
        clause: "11.2",
        level: 1,
        vi: "Cấp độ 1 theo khung quản lý rủi ro an ninh mạng",
        en: "Level 1 by the cybersecurity risk-management framework",
    },
    Criterion {
        clause: "12.1",
        level: 2,
        vi: "Phục vụ nội bộ, xử lý thông tin riêng hoặc thông tin cá nhân của người sử dụng, không có bí mật nhà nước",
        en: "Internal, processing private or users' personal information, no state secret",
    },
    Criterion {
        clause: "12.2.a",
        level: 2,
        vi: "Cung cấp dịch vụ trực tuyến không thuộc danh mục ngành, nghề đầu tư kinh doanh có điều kiện",
        en: "Online service not in the list of conditional business lines",
    },
    Criterion {
        clause: "12.2.b",
        level: 2,
        vi: "Dịch vụ trực tuyến khác xử lý thông tin riêng, cá nhân của dưới 100.000 chủ thể (cơ bản) hoặc dưới 10.000 chủ thể (nhạy cảm)",
        en: "Other online service with private or personal data of under 100,000 (basic) or 10,000 (sensitive) data subjects",
    },
    Criterion {
        clause: "12.3",
        level: 2,
        vi: "Cơ sở hạ tầng thông tin phục vụ một cơ quan, tổ chức",
        en: "Information infrastructure serving one body",
    },
    Criterion {
        clause: "12.4",
        level: 2,
        vi: "Cấp độ 2 do Thủ tướng Chính phủ quyết định hoặc theo khung quản lý rủi ro",
        en: "Level 2 decided by the Prime Minister or the risk framework",
    },
    Criterion {
        clause: "13.1",
        level: 3,
        vi: "Xử lý bí mật nhà nước hoặc phục vụ quốc phòng, an ninh; bị phá hoại gây tổn hại an ninh quốc gia",
        en: "State secrets or defence/security use; sabotage would harm national security",
    },
    Criterion {
        clause: "13.2.a",
        level: 3,
        vi: "Cung cấp dịch vụ trực tuyến thuộc danh mục ngành, nghề đầu tư kinh doanh có điều kiện",
        en: "Online service in the list of conditional business lines",
    },
    Criterion {
        clause: "13.2.b",
        level: 3,
        vi: "Giải quyết thủ tục hành chính",
        en: "Handles administrative procedures",
    },
    Criterion {
        clause: "13.2.c",
        level: 3,
        vi: "Dịch vụ trực tuyến khác xử lý thông tin của từ 100.000 chủ thể (cơ bản) hoặc từ 10.000 chủ thể (nhạy cảm) trở lên",
        en: "Other online service with data of 100,000 or more (basic) or 10,000 or more (sensitive) data subjects",
    },
    Criterion {
        clause: "13.3",
        level: 3,
        vi: "Cơ sở hạ tầng thông tin phục vụ các cơ quan trong một bộ, ngành, một tỉnh hoặc một số tỉnh",
        en: "Information infrastructure for bodies of one ministry, sector, province or several provinces",
    },
    Criterion {
        clause: "13.4",
        level: 3,
        vi: "Điều khiển công trình xây dựng cấp II, III, IV",
        en: "Controls construction works of grade II, III or IV",
    },
    Criterion {
        clause: "13.5",
        level: 3,
        vi: "Cấp độ 3 do Thủ tướng Chính phủ quyết định hoặc theo khung quản lý rủi ro",
        en: "Level 3 decided by the Prime Minister or the risk framework",
    },
    Criterion {
        clause: "14.1",
        level: 4,
        vi: "Bí mật nhà nước hoặc quốc phòng, an ninh; bị phá hoại gây tổn hại nghiêm trọng an ninh quốc gia",
        en: "State secrets or defence/security; sabotage would seriously harm national security",
    },
    Criterion {
        clause: "14.2",
        level: 4,
        vi: "Hệ thống Chính phủ điện tử quốc gia hoặc hạ tầng phục vụ toàn quốc, vận hành 24/7, không chấp nhận ngừng ngoài kế hoạch",
        en: "National e-Government system or nationwide infrastructure running 24/7 without unplanned downtime",
    },
    Criterion {
        clause: "14.3",
        level: 4,
        vi: "Điều khiển công trình xây dựng cấp I",
        en: "Controls construction works of grade I",
    },
    Criterion {
        clause: "14.4",
        level: 4,
        vi: "Cấp độ 4 do Thủ tướng Chính phủ quyết định hoặc theo khung quản lý rủi ro",
        en: "Level 4 decided by the Prime Minister or the risk framework",
    },
    Criterion {
        clause: "15.1",
        level: 5,
        vi: "Hệ thống chiến lược; bị phá hoại gây tổn hại đặc biệt nghiêm trọng an ninh quốc gia",
        en: "Strategic system; sabotage would especially seriously harm national security",
    },
    Criterion {
        clause: "15.2",
        level: 5,
        vi: "Lưu trữ tập trung dữ liệu quốc gia đặc biệt quan trọng",
        en: "Centralised storage of especially important national data",
    },
    Criterion {
        clause: "15.3",
        level: 5,
        vi: "Hạ tầng quốc gia kết nối quốc tế",
        en: "National infrastructure for international interconnection",
    },
    Criterion {
        clause: "15.4",
        level: 5,
        vi: "Điều khiển công trình cấp đặc biệt hoặc công trình quan trọng liên quan an ninh quốc gia",
        en: "Controls special-grade works or works important to national security",
    },
    Criterion {
        clause: "15.5",
        level: 5,
        vi: "Cấp độ 5 do Thủ tướng Chính phủ quyết định hoặc theo khung quản lý rủi ro",
        en: "Level 5 decided by the Prime Minister or the risk framework",
    },
    Criterion {
        clause: "10.5",
        level: 1,
        vi: "Kết quả đánh giá rủi ro cao hơn: đề xuất cấp độ cao hơn",
        en: "The risk assessment shows higher risk: a higher level",
    },
    Criterion {
        clause: "16.1",
        level: 5,
        vi: "Phục vụ chỉ đạo công trình quan trọng liên quan an ninh quốc gia",
        en: "Serves direction of important works related to national security",
    },
    Criterion {
        clause: "16.2",
        level: 5,
        vi: "Phục vụ chỉ đạo, điều khiển công trình viễn thông quan trọng liên quan an ninh quốc gia",
        en: "Serves control of important telecom works related to national security",
    },
    Criterion {
        clause: "16.3",
        level: 5,
        vi: "Thuộc lĩnh vực tại Điều 9.2 Luật An ninh mạng và sự cố gây hậu quả tại Điều 16.3",
        en: "In a Law 116 Art. 9.2 field, and an incident would cause an Art. 16.3 consequence",
    },
    Criterion {
        clause: "16.4",
        level: 5,
        vi: "Mọi hệ thống cấp độ 5 là hệ thống thông tin quan trọng về an ninh quốc gia",
        en: "Every level-5 system is critical to national security",
    },
];

pub fn classify(p: &Profile) -> Classification {
    let mut b = Builder::new(Regime::Nd331, CRITERIA);
    let secret = has(p, InformationClass::StateSecret);

    // 1. State secrets, defence and security: the harm decides, not the secrecy grade.
    if secret || p.serves_defence_security {
        match p.national_security_harm {
            NationalSecurityHarm::Harm => b.fire("13.1", "tổn hại an ninh quốc gia"),
            NationalSecurityHarm::Serious => b.fire("14.1", "tổn hại nghiêm trọng"),
            NationalSecurityHarm::EspeciallySerious => b.fire("15.1", "tổn hại đặc biệt nghiêm trọng"),
            NationalSecurityHarm::None => b.grey(
                "harm-unstated",
                "Hệ thống có bí mật nhà nước hoặc phục vụ quốc phòng, an ninh: cần nêu mức tổn hại an ninh quốc gia (Điều 13.1, 14.1, 15.1); độ mật không tự quyết định cấp độ.",
                "State secrets or defence/security use: state the harm to national security (Art. 13.1, 14.1, 15.1); the secrecy grade alone does not set a level.",
            ),
        }
    }

    // 2. By type (Art. 9.2).
    match p.system_type {
        SystemType::Internal => {
            if only_public(p) {
                b.fire("11.1", "chỉ thông tin công cộng");
                b.grey(
                    "login-accounts",
                    "Tài khoản đăng nhập của cán bộ đã là thông tin cá nhân của người sử dụng: nếu hệ thống có đăng nhập, thường là cấp độ 2 (Điều 12.1).",
                    "Staff login accounts are users' personal information: a system with sign-in is usually level 2 (Art. 12.1).",
                );
            } else if private_or_personal(p) && !secret {
                b.fire("12.1", "thông tin riêng/cá nhân, không có bí mật nhà nước");
            }
        }
        SystemType::CitizenService => {
            if p.conditional_business_line {
                b.fire("13.2.a", "thuộc danh mục có điều kiện");
            } else {
                b.fire("12.2.a", "không thuộc danh mục có điều kiện");
                b.grey(
                    "conditional-list",
                    "Kiểm tra Phụ lục IV Luật Đầu tư 143/2025: dịch vụ đám mây, trung tâm dữ liệu được hiểu là dịch vụ viễn thông (cấp độ 3); SaaS chỉ khi nội dung thuộc một ngành nghề khác.",
                    "Check Appendix IV of Law 143/2025: cloud and data-centre services read as telecom services (level 3); SaaS only if its content matches another line.",
                );
            }
            if p.handles_administrative_procedures {
                b.fire("13.2.b", "giải quyết thủ tục hành chính");
            }
            if private_or_personal(p) {
                let (basic, sensitive) = (p.basic_subjects, p.sensitive_subjects);
                if basic >= BASIC_SUBJECTS || sensitive >= SENSITIVE_SUBJECTS {
                    b.fire("13.2.c", format!("{basic} chủ thể cơ bản, {sensitive} chủ thể nhạy cảm"));
                } else {
                    b.fire("12.2.b", format!("{basic} chủ thể cơ bản, {sensitive} chủ thể nhạy cảm"));
                }
                if basic == 0 && sensitive == 0 {
                    b.grey(
                        "subjects-uncounted",
                        "Chưa đếm số chủ thể dữ liệu cá nhân (cơ bản, nhạy cảm): ngưỡng 100.000 / 10.000 của Điều 13.2.c chưa kiểm tra được.",
                        "Personal-data subjects are not counted: the 100,000 / 10,000 thresholds of Art. 13.2.c cannot be checked.",
                    );
                }
            }
        }
        SystemType::Infrastructure => match p.infrastructure_scope {
            Some(InfrastructureScope::OneBody) => b.fire("12.3", "phục vụ một cơ quan"),
            Some(InfrastructureScope::ProvinceOrSector) => b.fire("13.3", "phục vụ một tỉnh/ngành"),
            Some(InfrastructureScope::Nationwide) if p.round_the_clock => b.fire("14.2", "toàn quốc, 24/7"),
            Some(InfrastructureScope::Nationwide) => {
                b.fire("13.3", "toàn quốc, không yêu cầu 24/7");
                b.grey(
                    "nationwide-not-24-7",
                    "Hạ tầng toàn quốc nhưng không yêu cầu vận hành 24/7: Điều 14.2 không áp dụng; xác nhận phạm vi.",
                    "Nationwide infrastructure without a 24/7 need: Art. 14.2 does not apply; confirm the scope.",
                );
            }
            Some(InfrastructureScope::International) => b.fire("15.3", "kết nối quốc tế"),
            None => b.grey(
                "infrastructure-scope",
                "Chưa nêu phạm vi phục vụ của hạ tầng.",
                "The infrastructure's scope is not stated.",
            ),
        },
        SystemType::IndustrialControl => match p.works_grade {
            Some(WorksGrade::GradeTwoToFour) => b.fire("13.4", "công trình cấp II–IV"),
            Some(WorksGrade::GradeOne) => b.fire("14.3", "công trình cấp I"),
            Some(WorksGrade::Special) => b.fire("15.4", "công trình cấp đặc biệt"),
            Some(WorksGrade::NationalSecurity) => b.fire("15.4", "công trình quan trọng liên quan an ninh quốc gia"),
            None => b.grey(
                "not-construction-works",
                "Không điều khiển công trình xây dựng: xét như hệ thống loại khác (điểm đ).",
                "Controls no construction works: treated as type đ (other).",
            ),
        },
        SystemType::Other => {}
    }
    if p.national_egovernment {
        if p.round_the_clock {
            b.fire("14.2", "hệ thống Chính phủ điện tử quốc gia, 24/7");
        } else {
            b.grey(
                "egov-not-24-7",
                "Hệ thống Chính phủ điện tử quốc gia không yêu cầu 24/7: Điều 14.2 không áp dụng.",
                "A national e-Government system without a 24/7 need: Art. 14.2 does not apply.",
            );
        }
    }
    if b.highest().is_some_and(|l| l.number() == 4)
        && (p.national_egovernment || p.infrastructure_scope == Some(InfrastructureScope::Nationwide))
    {
        b.grey(
            "justify-24-7",
            "Hồ sơ phải giải trình nhu cầu vận hành 24/7, không chấp nhận ngừng ngoài kế hoạch (Điều 22.5.d).",
            "The dossier must justify the 24/7, no-unplanned-downtime need (Art. 22.5.d).",
        );
    }

    // 3. National data.
    if p.national_data_store {
        b.fire("15.2", "lưu trữ tập trung dữ liệu quốc gia");
    }

    // Levels decided outside the criteria (type đ, and every level's last clause).
    if let Some((level, decider)) = p.decided_level {
        let clause = ["11.2", "12.4", "13.5", "14.4", "15.5"][usize::from(level.number() - 1)];
        let by = match decider {
            Decider::PrimeMinister => "Thủ tướng Chính phủ quyết định",
            Decider::RiskFramework => "theo khung quản lý rủi ro",
        };
        b.fire(clause, by);
    } else if p.system_type == SystemType::Other && b.highest().is_none() {
        b.grey(
            "other-awaits-framework",
            "Hệ thống loại khác: cấp độ theo khung quản lý rủi ro an ninh mạng (chưa ban hành) hoặc quyết định của Thủ tướng; cần đánh giá rủi ro.",
            "Type đ: the level comes from the risk-management framework (not yet issued) or the Prime Minister; assess the risk.",
        );
    }

    // 5–6. Highest wins (Art. 8.2); the risk assessment may only raise (Art. 10.5).
    let mut raised = false;
    if let Some(risk) = p.risk_assessment_level
        && b.highest().is_none_or(|l| risk > l)
    {
        b.fire("10.5", format!("đánh giá rủi ro: cấp độ {}", risk.number()));
        raised = true;
    }

    // 4. Critical to national security (Art. 16): a flag and a request, not a level.
    let ns = p.national_security;
    if ns.directs_security_works {
        b.flag("16.1", "");
    }
    if ns.directs_security_telecom {
        b.flag("16.2", "");
    }
    if ns.critical_field && ns.critical_consequence {
        b.flag("16.3", "");
    }
    let mut c = b.finish(raised);
    if raised {
        // 10.5 carries the risk level, not the table's.
        let risk = p.risk_assessment_level.expect("raised by a risk level");
        if let Some(f) = c.fired.iter_mut().find(|f| f.clause == "10.5") {
            f.level = risk;
        }
        c.fired.sort_by(|a, b| b.level.cmp(&a.level).then_with(|| a.clause.cmp(&b.clause)));
        c.level = Some(risk);
    }
    if c.level == Level::new(5) {
        let f = super::Fired {
            clause: "16.4".into(),
            level: Level::new(5).expect("5"),
            vi: CRITERIA.iter().find(|c| c.clause == "16.4").map(|c| c.vi).unwrap_or_default().into(),
            en: CRITERIA.iter().find(|c| c.clause == "16.4").map(|c| c.en).unwrap_or_default().into(),
            detail: String::new(),
        };
        c.national_security_critical.push(f);
    }
    if !c.national_security_critical.is_empty() && c.level != Level::new(5) {
        c.grey.push(super::GreyArea {
            code: "ns-list-request".into(),
            vi: "Có dấu hiệu hệ thống quan trọng về an ninh quốc gia: lập đề nghị đưa vào Danh mục (Điều 17); khi được đưa vào, áp dụng trình tự cấp độ 5 (Điều 20.4).".into(),
            en: "Signs of a system critical to national security: request its inclusion in the List (Art. 17); once listed, the level-5 procedure applies (Art. 20.4).".into(),
        });
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::NationalSecurityIndicators;
    use std::collections::BTreeSet;

    fn info(classes: &[InformationClass]) -> BTreeSet<InformationClass> {
        classes.iter().copied().collect()
    }

    fn internal(classes: &[InformationClass]) -> Profile {
        Profile { system_type: SystemType::Internal, information: info(classes), ..Default::default() }
    }

    fn citizen(classes: &[InformationClass]) -> Profile {
        Profile { system_type: SystemType::CitizenService, information: info(classes), ..Default::default() }
    }

    use InformationClass::{Personal, Private, Public, StateSecret};

    /// Each clause: a profile that fires it (with its expected level), and a near miss that
    /// must not fire it.
    #[test]
    fn every_clause_fires_and_has_a_near_miss() {
        let l = |n| Level::new(n).unwrap();
        let secret = |harm| Profile { national_security_harm: harm, ..internal(&[StateSecret]) };
        let infra = |scope| Profile {
            system_type: SystemType::Infrastructure,
            infrastructure_scope: Some(scope),
            information: info(&[Private]),
            ..Default::default()
        };
        let ics = |grade| Profile {
            system_type: SystemType::IndustrialControl,
            works_grade: grade,
            information: info(&[Private]),
            ..Default::default()
        };
        let decided = |n| Profile {
            system_type: SystemType::Other,
            information: info(&[Private]),
            decided_level: Some((l(n), Decider::RiskFramework)),
            ..Default::default()
        };
        let cases: Vec<(&str, Profile, Profile, u8)> = vec![
            ("11.1", internal(&[Public]), internal(&[Public, Private]), 1),
            ("12.1", internal(&[Personal]), internal(&[Personal, StateSecret]), 2),
            ("12.2.a", citizen(&[Public]), Profile { conditional_business_line: true, ..citizen(&[Public]) }, 2),
            (
                "12.2.b",
                Profile { basic_subjects: 99_999, sensitive_subjects: 9_999, ..citizen(&[Personal]) },
                Profile { basic_subjects: 99_999, ..citizen(&[Public]) },
                2,
            ),
            ("12.3", infra(InfrastructureScope::OneBody), infra(InfrastructureScope::ProvinceOrSector), 2),
            ("13.1", secret(NationalSecurityHarm::Harm), secret(NationalSecurityHarm::None), 3),
            ("13.2.a", Profile { conditional_business_line: true, ..citizen(&[Public]) }, citizen(&[Public]), 3),
            (
                "13.2.b",
                Profile { handles_administrative_procedures: true, ..citizen(&[Public]) },
                Profile { handles_administrative_procedures: true, ..internal(&[Private]) },
                3,
            ),
            (
                "13.2.c",
                Profile { basic_subjects: 100_000, ..citizen(&[Personal]) },
                Profile { basic_subjects: 99_999, ..citizen(&[Personal]) },
                3,
            ),
            (
                "13.2.c",
                Profile { sensitive_subjects: 10_000, ..citizen(&[Personal]) },
                Profile { sensitive_subjects: 9_999, ..citizen(&[Personal]) },
                3,
            ),
            ("13.3", infra(InfrastructureScope::ProvinceOrSector), infra(InfrastructureScope::OneBody), 3),
            ("13.4", ics(Some(WorksGrade::GradeTwoToFour)), ics(None), 3),
            ("13.5", decided(3), decided(2), 3),
            ("14.1", secret(NationalSecurityHarm::Serious), secret(NationalSecurityHarm::Harm), 4),
            (
                "14.2",
                Profile { round_the_clock: true, ..infra(InfrastructureScope::Nationwide) },
                infra(InfrastructureScope::Nationwide),
                4,
            ),
            (
                "14.2",
                Profile { national_egovernment: true, round_the_clock: true, ..internal(&[Private]) },
                Profile { national_egovernment: true, ..internal(&[Private]) },
                4,
            ),
            ("14.3", ics(Some(WorksGrade::GradeOne)), ics(Some(WorksGrade::GradeTwoToFour)), 4),
            ("14.4", decided(4), decided(5), 4),
            ("15.1", secret(NationalSecurityHarm::EspeciallySerious), secret(NationalSecurityHarm::Serious), 5),
            ("15.2", Profile { national_data_store: true, ..internal(&[Private]) }, internal(&[Private]), 5),
            ("15.3", infra(InfrastructureScope::International), infra(InfrastructureScope::Nationwide), 5),
            ("15.4", ics(Some(WorksGrade::Special)), ics(Some(WorksGrade::GradeOne)), 5),
            ("15.4", ics(Some(WorksGrade::NationalSecurity)), ics(Some(WorksGrade::GradeOne)), 5),
            ("15.5", decided(5), decided(4), 5),
            ("11.2", decided(1), decided(2), 1),
            ("12.4", decided(2), decided(3), 2),
        ];
        for (clause, fires, near, level) in cases {
            let c = classify(&fires);
            assert!(c.clauses().contains(&clause), "{clause} should fire: {:?}", c.clauses());
            assert_eq!(c.level, Level::new(level), "{clause}: level");
            let miss = classify(&near);
            assert!(!miss.clauses().contains(&clause), "{clause} near miss fired: {:?}", miss.clauses());
        }
    }

    #[test]
    fn the_guides_worked_examples() {
        // Internal e-mail / HR → 2 (12.1).
        assert_eq!(classify(&internal(&[Private, Personal])).level, Level::new(2));
        // E-commerce platform with 300,000 customer accounts → 3 (13.2.c).
        let shop = Profile { basic_subjects: 300_000, ..citizen(&[Personal, Private]) };
        assert_eq!(classify(&shop).level, Level::new(3));
        assert!(classify(&shop).clauses().contains(&"13.2.c"));
        // Telemedicine with 8,000 patients (health data is sensitive) → 2, conditional list to check.
        let tele = Profile { basic_subjects: 8_000, sensitive_subjects: 8_000, ..citizen(&[Personal]) };
        let c = classify(&tele);
        assert_eq!(c.level, Level::new(2));
        assert!(c.grey.iter().any(|g| g.code == "conditional-list"));
        // A static website with no sign-in: level 1 if internal-public, with the login caveat.
        let c = classify(&internal(&[Public]));
        assert_eq!(c.level, Level::new(1));
        assert!(c.grey.iter().any(|g| g.code == "login-accounts"));
        // With a sign-up form it serves citizens: at least 2.
        assert_eq!(classify(&citizen(&[Public, Personal])).level, Level::new(2));
        // The provincial one-stop portal (handles administrative procedures) → 3 (13.2.b).
        let portal =
            Profile { handles_administrative_procedures: true, basic_subjects: 40_000, ..citizen(&[Personal]) };
        assert_eq!(classify(&portal).level, Level::new(3));
    }

    #[test]
    fn highest_level_wins_and_every_criterion_is_kept() {
        let p = Profile {
            handles_administrative_procedures: true,
            national_data_store: true,
            basic_subjects: 10,
            ..citizen(&[Personal])
        };
        let c = classify(&p);
        assert_eq!(c.level, Level::new(5));
        assert_eq!(c.clauses(), ["15.2", "13.2.b", "12.2.a", "12.2.b"]);
        assert_eq!(c.decisive().count(), 1);
        assert_eq!(c.national_security_critical.iter().map(|f| f.clause.as_str()).collect::<Vec<_>>(), ["16.4"]);
    }

    #[test]
    fn risk_assessment_may_only_raise() {
        let base = internal(&[Private]);
        let higher = Profile { risk_assessment_level: Level::new(3), ..base.clone() };
        let c = classify(&higher);
        assert_eq!(c.level, Level::new(3));
        assert!(c.raised_by_risk && c.clauses()[0] == "10.5");
        let lower = Profile { risk_assessment_level: Level::new(1), ..base.clone() };
        let c = classify(&lower);
        assert_eq!(c.level, Level::new(2));
        assert!(!c.raised_by_risk && !c.clauses().contains(&"10.5"));
        let same = Profile { risk_assessment_level: Level::new(2), ..base };
        assert!(!classify(&same).raised_by_risk);
    }

    #[test]
    fn national_security_indicators_flag_without_setting_level_5() {
        let p = Profile {
            national_security: NationalSecurityIndicators {
                critical_field: true,
                critical_consequence: true,
                ..Default::default()
            },
            ..internal(&[Private])
        };
        let c = classify(&p);
        assert_eq!(c.level, Level::new(2));
        assert_eq!(c.national_security_critical[0].clause, "16.3");
        assert!(c.grey.iter().any(|g| g.code == "ns-list-request"));
        // A field without a consequence is no sign.
        let p = Profile {
            national_security: NationalSecurityIndicators { critical_field: true, ..Default::default() },
            ..internal(&[Private])
        };
        assert!(classify(&p).national_security_critical.is_empty());
    }

    #[test]
    fn unstated_facts_are_grey_not_guessed() {
        let c = classify(&internal(&[StateSecret]));
        assert_eq!(c.level, None);
        assert!(c.grey.iter().any(|g| g.code == "harm-unstated"));
        let other = Profile { system_type: SystemType::Other, information: info(&[Private]), ..Default::default() };
        let c = classify(&other);
        assert_eq!(c.level, None);
        assert!(c.grey.iter().any(|g| g.code == "other-awaits-framework"));
    }
}
