//! Decree 85/2016/NĐ-CP Art. 7–11 (regulation.md §1.4–1.5): for systems already classified
//! under it and projects that finish under it until 31/12/2026.
//!
//! Differences from Decree 331 worth knowing: one threshold of 10,000 users whose private or
//! personal information is processed (Canh reads it as the larger of the basic and sensitive
//! subject counts, a person with sensitive data having basic data too); online public services
//! by their level (1–2 → 2, 3–4 → 3); no "handles administrative procedures" criterion, no
//! risk-assessment raise and no national-security-critical List.

use super::{Builder, Classification, Criterion, has, only_public, private_or_personal};
use crate::regime::Regime;
use crate::system::{
    Decider, InformationClass, InfrastructureScope, NationalSecurityHarm, Profile, PublicService, SystemType,
    WorksGrade,
};

/// Art. 8.2.c / 9.2.c: users whose private or personal information is processed.
pub const USERS: u64 = 10_000;

pub const CRITERIA: &[Criterion] = &[
    Criterion {
        clause: "7",
        level: 1,
        vi: "Phục vụ hoạt động nội bộ, chỉ xử lý thông tin công cộng",
        en: "Internal, processing only public information",
    },
    Criterion {
        clause: "8.1",
        level: 2,
        vi: "Phục vụ nội bộ, xử lý thông tin riêng, cá nhân của người sử dụng, không có bí mật nhà nước",
        en: "Internal, processing private or users' personal information, no state secret",
    },
    Criterion {
        clause: "8.2.a",
        level: 2,
        vi: "Cung cấp thông tin, dịch vụ công trực tuyến mức độ 2 trở xuống",
        en: "Information and online public services at level 2 or below",
    },
    Criterion {
        clause: "8.2.b",
        level: 2,
        vi: "Dịch vụ trực tuyến không thuộc danh mục dịch vụ kinh doanh có điều kiện",
        en: "Online services not in the conditional-business list",
    },
    Criterion {
        clause: "8.2.c",
        level: 2,
        vi: "Dịch vụ trực tuyến khác xử lý thông tin riêng, cá nhân của dưới 10.000 người sử dụng",
        en: "Other online services with private or personal data of under 10,000 users",
    },
    Criterion {
        clause: "8.3",
        level: 2,
        vi: "Cơ sở hạ tầng thông tin phục vụ một cơ quan, tổ chức",
        en: "Information infrastructure serving one organisation",
    },
    Criterion {
        clause: "9.1",
        level: 3,
        vi: "Bí mật nhà nước hoặc quốc phòng, an ninh; bị phá hoại gây tổn hại quốc phòng, an ninh",
        en: "State secrets or defence/security; sabotage would harm defence and security",
    },
    Criterion {
        clause: "9.2.a",
        level: 3,
        vi: "Dịch vụ công trực tuyến mức độ 3 trở lên",
        en: "Online public services at level 3 or above",
    },
    Criterion {
        clause: "9.2.b",
        level: 3,
        vi: "Dịch vụ trực tuyến thuộc danh mục dịch vụ kinh doanh có điều kiện",
        en: "Online services in the conditional-business list",
    },
    Criterion {
        clause: "9.2.c",
        level: 3,
        vi: "Dịch vụ trực tuyến khác xử lý thông tin của từ 10.000 người sử dụng trở lên",
        en: "Other online services with data of 10,000 users or more",
    },
    Criterion {
        clause: "9.3",
        level: 3,
        vi: "Cơ sở hạ tầng thông tin dùng chung trong một ngành, một tỉnh hoặc một số tỉnh",
        en: "Shared infrastructure within one sector, one province or several provinces",
    },
    Criterion {
        clause: "9.4",
        level: 3,
        vi: "Điều khiển công nghiệp công trình cấp II, III, IV",
        en: "Industrial control of construction works of grade II, III or IV",
    },
    Criterion {
        clause: "10.1",
        level: 4,
        vi: "Bí mật nhà nước hoặc quốc phòng, an ninh; bị phá hoại gây tổn hại nghiêm trọng quốc phòng, an ninh",
        en: "State secrets or defence/security; sabotage would seriously harm defence and security",
    },
    Criterion {
        clause: "10.2",
        level: 4,
        vi: "Hệ thống Chính phủ điện tử quốc gia vận hành 24/7, không chấp nhận ngừng ngoài kế hoạch",
        en: "National e-Government system running 24/7 without unplanned downtime",
    },
    Criterion {
        clause: "10.3",
        level: 4,
        vi: "Hạ tầng dùng chung toàn quốc vận hành 24/7, không chấp nhận ngừng ngoài kế hoạch",
        en: "Nationwide shared infrastructure running 24/7 without unplanned downtime",
    },
    Criterion {
        clause: "10.4",
        level: 4,
        vi: "Điều khiển công nghiệp công trình cấp I",
        en: "Industrial control of grade I works",
    },
    Criterion {
        clause: "11.1",
        level: 5,
        vi: "Bí mật nhà nước hoặc quốc phòng, an ninh; bị phá hoại gây tổn hại đặc biệt nghiêm trọng quốc phòng, an ninh",
        en: "State secrets or defence/security; sabotage would especially seriously harm defence and security",
    },
    Criterion {
        clause: "11.2",
        level: 5,
        vi: "Lưu trữ tập trung dữ liệu quốc gia đặc biệt quan trọng",
        en: "Centralised storage of especially important national data",
    },
    Criterion {
        clause: "11.3",
        level: 5,
        vi: "Hạ tầng quốc gia kết nối Việt Nam với quốc tế",
        en: "National infrastructure connecting Vietnam internationally",
    },
    Criterion {
        clause: "11.4",
        level: 5,
        vi: "Điều khiển công nghiệp công trình cấp đặc biệt hoặc quan trọng liên quan an ninh quốc gia",
        en: "Industrial control of special-grade or national-security works",
    },
    Criterion {
        clause: "11.5",
        level: 5,
        vi: "Hệ thống khác do Thủ tướng Chính phủ quyết định",
        en: "Other systems designated by the Prime Minister",
    },
];

pub fn classify(p: &Profile) -> Classification {
    let mut b = Builder::new(Regime::Nd85, CRITERIA);
    let secret = has(p, InformationClass::StateSecret);
    if secret || p.serves_defence_security {
        match p.national_security_harm {
            NationalSecurityHarm::Harm => b.fire("9.1", "tổn hại quốc phòng, an ninh"),
            NationalSecurityHarm::Serious => b.fire("10.1", "tổn hại nghiêm trọng"),
            NationalSecurityHarm::EspeciallySerious => b.fire("11.1", "tổn hại đặc biệt nghiêm trọng"),
            NationalSecurityHarm::None => b.grey(
                "harm-unstated",
                "Có bí mật nhà nước hoặc phục vụ quốc phòng, an ninh: cần nêu mức tổn hại (Điều 9.1, 10.1, 11.1).",
                "State secrets or defence/security use: state the harm (Art. 9.1, 10.1, 11.1).",
            ),
        }
    }
    match p.system_type {
        SystemType::Internal => {
            if only_public(p) {
                b.fire("7", "chỉ thông tin công cộng");
            } else if private_or_personal(p) && !secret {
                b.fire("8.1", "thông tin riêng/cá nhân");
            }
        }
        SystemType::CitizenService => {
            match p.public_service {
                PublicService::Partial | PublicService::EndToEnd => {
                    b.fire("9.2.a", "dịch vụ công trực tuyến một phần/toàn trình");
                    b.grey(
                        "public-service-levels",
                        "Mức độ 3–4 của dịch vụ công được hiểu là \"một phần\"/\"toàn trình\" theo Nghị định 42/2022 (cách hiểu, chưa có văn bản).",
                        "Levels 3–4 of online public services are read as Decree 42/2022's partial/end-to-end (an interpretation).",
                    );
                }
                PublicService::Information => b.fire("8.2.a", "thông tin, dịch vụ công mức độ 1–2"),
                PublicService::None => {}
            }
            if p.conditional_business_line {
                b.fire("9.2.b", "thuộc danh mục có điều kiện");
            } else {
                b.fire("8.2.b", "không thuộc danh mục có điều kiện");
            }
            if private_or_personal(p) {
                let users = p.basic_subjects.max(p.sensitive_subjects);
                if users >= USERS {
                    b.fire("9.2.c", format!("{users} người sử dụng"));
                } else {
                    b.fire("8.2.c", format!("{users} người sử dụng"));
                }
            }
            if p.handles_administrative_procedures && p.public_service == PublicService::None {
                b.grey(
                    "procedures-without-level",
                    "Giải quyết thủ tục hành chính nhưng chưa nêu mức độ dịch vụ công trực tuyến (Điều 8.2.a, 9.2.a).",
                    "Handles administrative procedures but the online public-service level is not stated (Art. 8.2.a, 9.2.a).",
                );
            }
        }
        SystemType::Infrastructure => match p.infrastructure_scope {
            Some(InfrastructureScope::OneBody) => b.fire("8.3", "một tổ chức"),
            Some(InfrastructureScope::ProvinceOrSector) => b.fire("9.3", "một ngành/tỉnh"),
            Some(InfrastructureScope::Nationwide) if p.round_the_clock => b.fire("10.3", "toàn quốc, 24/7"),
            Some(InfrastructureScope::Nationwide) => b.fire("9.3", "toàn quốc, không yêu cầu 24/7"),
            Some(InfrastructureScope::International) => b.fire("11.3", "kết nối quốc tế"),
            None => b.grey(
                "infrastructure-scope",
                "Chưa nêu phạm vi phục vụ của hạ tầng.",
                "The infrastructure's scope is not stated.",
            ),
        },
        SystemType::IndustrialControl => match p.works_grade {
            Some(WorksGrade::GradeTwoToFour) => b.fire("9.4", "công trình cấp II–IV"),
            Some(WorksGrade::GradeOne) => b.fire("10.4", "công trình cấp I"),
            Some(WorksGrade::Special | WorksGrade::NationalSecurity) => {
                b.fire("11.4", "công trình cấp đặc biệt/an ninh quốc gia")
            }
            None => b.grey(
                "not-construction-works",
                "Không điều khiển công trình xây dựng.",
                "Controls no construction works.",
            ),
        },
        SystemType::Other => {}
    }
    if p.national_egovernment && p.round_the_clock {
        b.fire("10.2", "Chính phủ điện tử quốc gia, 24/7");
    }
    if p.national_data_store {
        b.fire("11.2", "dữ liệu quốc gia");
    }
    match p.decided_level {
        Some((level, Decider::PrimeMinister)) if level.number() == 5 => b.fire("11.5", "Thủ tướng Chính phủ quyết định"),
        Some(_) => b.grey(
            "decided-outside-criteria",
            "Nghị định 85 không có tiêu chí cấp độ theo khung quản lý rủi ro: căn cứ mức tổn hại (Điều 21 Luật An toàn thông tin mạng).",
            "Decree 85 has no risk-framework criterion: argue from the harm ladder (Law 86/2015 Art. 21).",
        ),
        None if p.system_type == SystemType::Other && b.highest().is_none() => b.grey(
            "other-by-harm",
            "Hệ thống loại khác: Nghị định 85 không có tiêu chí; xác định theo mức tổn hại.",
            "Type other: Decree 85 has no criterion; decide by the harm ladder.",
        ),
        None => {}
    }
    if let Some(risk) = p.risk_assessment_level
        && b.highest().is_some_and(|l| risk > l)
    {
        b.grey(
            "risk-higher",
            "Đánh giá rủi ro cao hơn cấp độ theo tiêu chí: Nghị định 85 không tự nâng cấp độ; cân nhắc xác định lại theo Nghị định 331 (Điều 10.5).",
            "The risk assessment points higher: Decree 85 does not raise by itself; consider re-determination under Decree 331 (Art. 10.5).",
        );
    }
    b.finish(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::Level;
    use InformationClass::{Personal, Private, Public, StateSecret};
    use std::collections::BTreeSet;

    fn p(t: SystemType, classes: &[InformationClass]) -> Profile {
        Profile { system_type: t, information: classes.iter().copied().collect::<BTreeSet<_>>(), ..Default::default() }
    }

    #[test]
    fn every_clause_fires_and_has_a_near_miss() {
        use SystemType::*;
        let infra = |s| Profile { infrastructure_scope: Some(s), ..p(Infrastructure, &[Private]) };
        let ics = |g| Profile { works_grade: g, ..p(IndustrialControl, &[Private]) };
        let secret = |h| Profile { national_security_harm: h, ..p(Internal, &[StateSecret]) };
        let cases: Vec<(&str, Profile, Profile, u8)> = vec![
            ("7", p(Internal, &[Public]), p(Internal, &[Public, Personal]), 1),
            ("8.1", p(Internal, &[Private]), p(Internal, &[Private, StateSecret]), 2),
            (
                "8.2.a",
                Profile { public_service: PublicService::Information, ..p(CitizenService, &[Public]) },
                Profile { public_service: PublicService::Partial, ..p(CitizenService, &[Public]) },
                2,
            ),
            (
                "8.2.b",
                p(CitizenService, &[Public]),
                Profile { conditional_business_line: true, ..p(CitizenService, &[Public]) },
                2,
            ),
            (
                "8.2.c",
                Profile { basic_subjects: 9_999, ..p(CitizenService, &[Personal]) },
                Profile { basic_subjects: 10_000, ..p(CitizenService, &[Personal]) },
                2,
            ),
            ("8.3", infra(InfrastructureScope::OneBody), infra(InfrastructureScope::ProvinceOrSector), 2),
            ("9.1", secret(NationalSecurityHarm::Harm), secret(NationalSecurityHarm::None), 3),
            (
                "9.2.a",
                Profile { public_service: PublicService::EndToEnd, ..p(CitizenService, &[Public]) },
                Profile { public_service: PublicService::Information, ..p(CitizenService, &[Public]) },
                3,
            ),
            (
                "9.2.b",
                Profile { conditional_business_line: true, ..p(CitizenService, &[Public]) },
                p(CitizenService, &[Public]),
                3,
            ),
            // Decree 85's one threshold is 10,000 users, not Decree 331's 100,000 subjects.
            (
                "9.2.c",
                Profile { basic_subjects: 10_000, ..p(CitizenService, &[Personal]) },
                Profile { basic_subjects: 9_999, ..p(CitizenService, &[Personal]) },
                3,
            ),
            (
                "9.2.c",
                Profile { sensitive_subjects: 10_000, ..p(CitizenService, &[Personal]) },
                Profile { sensitive_subjects: 10_000, ..p(CitizenService, &[Public]) },
                3,
            ),
            ("9.3", infra(InfrastructureScope::ProvinceOrSector), infra(InfrastructureScope::OneBody), 3),
            ("9.4", ics(Some(WorksGrade::GradeTwoToFour)), ics(None), 3),
            ("10.1", secret(NationalSecurityHarm::Serious), secret(NationalSecurityHarm::Harm), 4),
            (
                "10.2",
                Profile { national_egovernment: true, round_the_clock: true, ..p(Internal, &[Private]) },
                Profile { national_egovernment: true, ..p(Internal, &[Private]) },
                4,
            ),
            (
                "10.3",
                Profile { round_the_clock: true, ..infra(InfrastructureScope::Nationwide) },
                infra(InfrastructureScope::Nationwide),
                4,
            ),
            ("10.4", ics(Some(WorksGrade::GradeOne)), ics(Some(WorksGrade::GradeTwoToFour)), 4),
            ("11.1", secret(NationalSecurityHarm::EspeciallySerious), secret(NationalSecurityHarm::Serious), 5),
            ("11.2", Profile { national_data_store: true, ..p(Internal, &[Private]) }, p(Internal, &[Private]), 5),
            ("11.3", infra(InfrastructureScope::International), infra(InfrastructureScope::Nationwide), 5),
            ("11.4", ics(Some(WorksGrade::Special)), ics(Some(WorksGrade::GradeOne)), 5),
            (
                "11.5",
                Profile {
                    decided_level: Some((Level::new(5).unwrap(), Decider::PrimeMinister)),
                    ..p(Other, &[Private])
                },
                Profile {
                    decided_level: Some((Level::new(5).unwrap(), Decider::RiskFramework)),
                    ..p(Other, &[Private])
                },
                5,
            ),
        ];
        for (clause, fires, near, level) in cases {
            let c = classify(&fires);
            assert!(c.clauses().contains(&clause), "{clause} should fire: {:?}", c.clauses());
            assert_eq!(c.level, Level::new(level), "{clause}: level");
            assert!(!classify(&near).clauses().contains(&clause), "{clause} near miss fired");
        }
    }

    #[test]
    fn typical_provincial_systems() {
        // regulation.md §1.5: e-office 2, one-stop DVC portal 3, provincial data centre 3.
        assert_eq!(classify(&p(SystemType::Internal, &[Private, Personal])).level, Level::new(2));
        let portal = Profile {
            public_service: PublicService::EndToEnd,
            basic_subjects: 40_000,
            ..p(SystemType::CitizenService, &[Personal])
        };
        assert_eq!(classify(&portal).level, Level::new(3));
        let dc = Profile {
            infrastructure_scope: Some(InfrastructureScope::ProvinceOrSector),
            ..p(SystemType::Infrastructure, &[Private])
        };
        assert_eq!(classify(&dc).level, Level::new(3));
        // The same 40,000-subject portal without procedures: 3 under Decree 85 (≥ 10,000 users),
        // 2 under Decree 331 (< 100,000 basic subjects).
        let plain = Profile { basic_subjects: 40_000, ..p(SystemType::CitizenService, &[Personal]) };
        assert_eq!(classify(&plain).level, Level::new(3));
        assert_eq!(super::super::nd331::classify(&plain).level, Level::new(2));
    }

    #[test]
    fn no_raise_by_risk_under_decree_85() {
        let p = Profile { risk_assessment_level: Level::new(4), ..p(SystemType::Internal, &[Private]) };
        let c = classify(&p);
        assert_eq!(c.level, Level::new(2));
        assert!(c.grey.iter().any(|g| g.code == "risk-higher"));
        assert!(c.national_security_critical.is_empty());
    }
}
