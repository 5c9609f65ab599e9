//! The demo province's compliance desk: information systems at every level, their dossiers
//! in every stage, withdrawn included (some past their deadline), under both rulebooks, with the province's
//! routing (Công an tỉnh as the cybersecurity unit that appraises; UBND tỉnh approving) and
//! the security regulation issued. The systems' address ranges are those of the demo
//! capture, so that the SOC's own evidence (traffic seen, logs held) holds for them.

use canh_compliance::dossier::{Action, Part};
use canh_compliance::level::Level;
use canh_compliance::regime::Regime;
use canh_compliance::system::{
    Application, Device, InformationClass, InformationSystem, InfrastructureScope, NationalSecurityHarm, Profile,
    SystemType, Unit, Zone,
};
use time::{Date, Duration};

use crate::state::{Actor, State, StateError, calendar, dossier, inventory};

fn unit(name: &str) -> Unit {
    Unit { name: name.to_string(), ..Default::default() }
}

fn zone(name: &str, ranges: &[&str]) -> Zone {
    Zone {
        name: name.to_string(),
        private_ranges: ranges.iter().map(|r| r.parse().expect("a demo range")).collect(),
        public_ranges: vec![],
    }
}

fn info(classes: &[InformationClass]) -> std::collections::BTreeSet<InformationClass> {
    classes.iter().copied().collect()
}

/// A demo system: org, code, name, profile, zones.
fn system(org: &str, code: &str, name: &str, profile: Profile, zones: Vec<Zone>) -> InformationSystem {
    InformationSystem {
        code: code.into(),
        name: name.into(),
        org: org.into(),
        owner: unit("UBND tỉnh Lâm Đồng"),
        operator: unit("Trung tâm Công nghệ thông tin và Chuyển đổi số"),
        cybersecurity_unit: unit(
            "Công an tỉnh Lâm Đồng (Phòng An ninh mạng và phòng, chống tội phạm sử dụng công nghệ cao)",
        ),
        profile,
        zones,
        ..Default::default()
    }
}

/// What happens to a demo dossier: the steps, each `days` before today.
type Steps = &'static [(i64, Part, &'static str)];

const SUBMITTED: Steps = &[(2, Part::Preparer, "submit")];
const RETURNED: Steps = &[(12, Part::Preparer, "submit"), (9, Part::Appraiser, "return_for_completion")];
/// Accepted 40 days ago: a level-3 appraisal (15 working days) is long past due.
const OVERDUE_APPRAISAL: Steps = &[(45, Part::Preparer, "submit"), (40, Part::Appraiser, "accept_complete")];
const APPRAISED: Steps = &[
    (30, Part::Preparer, "submit"),
    (28, Part::Appraiser, "accept_complete"),
    (10, Part::Appraiser, "appraise_suitable"),
];
/// Submitted for approval 20 days ago: 7 working days are past.
const OVERDUE_APPROVAL: Steps = &[
    (60, Part::Preparer, "submit"),
    (57, Part::Appraiser, "accept_complete"),
    (35, Part::Appraiser, "appraise_suitable"),
    (20, Part::Preparer, "submit_for_approval"),
];
const APPROVED: Steps = &[
    (90, Part::Preparer, "submit"),
    (88, Part::Appraiser, "accept_complete"),
    (70, Part::Appraiser, "appraise_suitable"),
    (68, Part::Preparer, "submit_for_approval"),
    (64, Part::Approver, "approve"),
];
/// Filed, then withdrawn: the site was merged into the province's portal.
const WITHDRAWN: Steps = &[(30, Part::Preparer, "submit"), (26, Part::Preparer, "withdraw")];
const OPINION: Steps = &[(6, Part::Preparer, "request_opinion")];
const AWAITING_LIST: Steps = &[
    (80, Part::Preparer, "request_opinion"),
    (75, Part::Opinion, "give_opinion"),
    (74, Part::Preparer, "submit"),
    (72, Part::Appraiser, "accept_complete"),
    (40, Part::Appraiser, "appraise_suitable"),
    (38, Part::Preparer, "submit_for_approval"),
];

fn action(key: &str, on: Date) -> Action {
    match key {
        "submit" => Action::Submit,
        "return_for_completion" => Action::ReturnForCompletion,
        "accept_complete" => Action::AcceptComplete,
        "appraise_suitable" => Action::Appraise { suitable: true },
        "submit_for_approval" => Action::SubmitForApproval,
        "approve" => {
            Action::Approve { decision_number: format!("{}/QĐ-UBND", 100 + on.ordinal() % 800), decision_date: on }
        }
        "request_opinion" => Action::RequestOpinion,
        "give_opinion" => Action::GiveOpinion,
        "withdraw" => Action::Withdraw,
        other => unreachable!("demo step {other}"),
    }
}

fn reason(key: &str) -> &'static str {
    match key {
        "return_for_completion" => "Thiếu sơ đồ vùng mạng và danh mục thiết bị chính (Điều 22.3.d)",
        "appraise_suitable" => "Cấp độ đề xuất phù hợp; phương án bảo đảm an ninh mạng phù hợp",
        "withdraw" => "Trang ngừng hoạt động, nội dung chuyển về Cổng thông tin điện tử tỉnh",
        _ => "",
    }
}

/// Makes the desk; `today` is the day the demo runs (in Vietnam).
pub fn make(state: &mut State, today: Date) -> Result<usize, StateError> {
    let admin = Actor { name: "quantri".into(), org: "tinh-lam-dong".into() };
    let owner = Actor { name: "chuquan.khcn".into(), org: "so-khcn".into() };
    let appraiser = Actor { name: "thamdinh".into(), org: "cong-an-tinh".into() };
    let approver = Actor { name: "pheduyet".into(), org: "tinh-lam-dong".into() };
    use InformationClass::{Personal, Private, Public, StateSecret};
    let citizen = |classes: &[InformationClass]| Profile {
        system_type: SystemType::CitizenService,
        information: info(classes),
        ..Default::default()
    };
    let internal = |classes: &[InformationClass]| Profile {
        system_type: SystemType::Internal,
        information: info(classes),
        ..Default::default()
    };
    let infra = Profile {
        system_type: SystemType::Infrastructure,
        information: info(&[Private, Personal]),
        infrastructure_scope: Some(InfrastructureScope::ProvinceOrSector),
        ..Default::default()
    };
    // (system, regime, dossier steps; None: no dossier yet)
    let mut mot_cua = system(
        "so-khcn",
        "mot-cua",
        "Hệ thống thông tin giải quyết thủ tục hành chính tỉnh",
        Profile { handles_administrative_procedures: true, basic_subjects: 350_000, ..citizen(&[Personal, Private]) },
        vec![zone("Máy chủ", &["10.10.1.11/32", "10.10.1.20/32"])],
    );
    mot_cua.administrative_procedures = vec!["Cấp giấy phép xây dựng".into(), "Đăng ký hộ kinh doanh".into()];
    mot_cua.devices = vec![Device {
        name: "FW-01".into(),
        kind: "Tường lửa".into(),
        location: "Trung tâm dữ liệu tỉnh".into(),
        purpose: "Bảo vệ biên".into(),
    }];
    mot_cua.applications = vec![Application {
        name: "Cổng dịch vụ công".into(),
        server: "10.10.1.20".into(),
        os: "Ubuntu 22.04".into(),
        purpose: "Tiếp nhận hồ sơ".into(),
    }];
    let systems: Vec<(InformationSystem, Regime, Option<Steps>)> = vec![
        (mot_cua, Regime::Nd331, Some(APPROVED)),
        (
            system(
                "ttcntt-cds",
                "tttd",
                "Trung tâm dữ liệu tỉnh",
                infra.clone(),
                vec![zone("Toàn mạng", &["10.10.0.0/16"])],
            ),
            Regime::Nd331,
            Some(OVERDUE_APPRAISAL),
        ),
        (
            system("ttcntt-cds", "lgsp", "Nền tảng tích hợp, chia sẻ dữ liệu tỉnh (LGSP)", infra, vec![]),
            Regime::Nd331,
            Some(SUBMITTED),
        ),
        (
            system(
                "so-khcn",
                "cong-ttdt",
                "Cổng thông tin điện tử tỉnh",
                citizen(&[Public]),
                vec![zone("DMZ", &["10.10.1.13/32"])],
            ),
            Regime::Nd331,
            Some(RETURNED),
        ),
        (
            system(
                "vp-ubnd",
                "qlvb",
                "Hệ thống quản lý văn bản và điều hành",
                internal(&[Private, Personal]),
                vec![zone("Máy chủ", &["10.10.1.10/32"])],
            ),
            Regime::Nd331,
            None,
        ),
        (
            system(
                "vp-ubnd",
                "email",
                "Hệ thống thư điện tử công vụ",
                internal(&[Private, Personal]),
                vec![zone("Máy chủ", &["10.10.1.12/32"])],
            ),
            Regime::Nd331,
            None,
        ),
        (
            system("so-tai-chinh", "ke-toan", "Hệ thống quản lý tài chính, kế toán", internal(&[Private]), vec![]),
            Regime::Nd331,
            Some(OVERDUE_APPROVAL),
        ),
        (
            system(
                "so-noi-vu",
                "csdl-cbcc",
                "Cơ sở dữ liệu cán bộ, công chức, viên chức",
                internal(&[Private, Personal]),
                vec![],
            ),
            Regime::Nd331,
            Some(APPRAISED),
        ),
        (
            system(
                "phuong-lam-vien-da-lat",
                "trang-tin-cu",
                "Trang thông tin điện tử phường (cũ)",
                citizen(&[Public]),
                vec![],
            ),
            Regime::Nd331,
            Some(WITHDRAWN),
        ),
        (
            system(
                "phuong-xuan-huong-da-lat",
                "trang-tin",
                "Trang thông tin nội bộ phường",
                internal(&[Public]),
                vec![],
            ),
            Regime::Nd85,
            Some(APPROVED),
        ),
        (
            system(
                "phuong-phan-thiet",
                "mot-cua-phuong",
                "Bộ phận một cửa điện tử phường",
                Profile {
                    public_service: canh_compliance::system::PublicService::EndToEnd,
                    basic_subjects: 20_000,
                    ..citizen(&[Personal])
                },
                vec![],
            ),
            Regime::Nd85,
            Some(APPRAISED),
        ),
        (
            system(
                "cong-an-tinh",
                "csdl-an-ninh",
                "Cơ sở dữ liệu nghiệp vụ an ninh",
                Profile { national_security_harm: NationalSecurityHarm::Serious, ..internal(&[StateSecret]) },
                vec![],
            ),
            Regime::Nd331,
            Some(OPINION),
        ),
        (
            system(
                "cong-an-tinh",
                "chi-huy",
                "Hệ thống chỉ huy, điều hành an ninh",
                Profile { national_security_harm: NationalSecurityHarm::EspeciallySerious, ..internal(&[StateSecret]) },
                vec![],
            ),
            Regime::Nd331,
            Some(AWAITING_LIST),
        ),
    ];
    let cal = calendar::work_calendar(state.conn())?;
    state.change(|tx| {
        dossier::set_authority(tx, &admin, 0, "cybersecurity_unit", "cong-an-tinh")?;
        dossier::set_regulation(
            tx,
            &admin,
            "tinh-lam-dong",
            "25/2026/QĐ-UBND",
            today - Duration::days(120),
            "UBND tỉnh Lâm Đồng",
        )
    })?;
    let mut made = 0;
    let mut combined = Vec::new();
    for (s, regime, steps) in systems {
        let stored = state.change(|tx| {
            let stored = inventory::add(tx, &owner, &s)?;
            inventory::classify_system(tx, &owner, stored.id, regime)?;
            Ok(stored)
        })?;
        made += 1;
        if s.org == "vp-ubnd" {
            combined.push(stored.id);
            continue;
        }
        let Some(steps) = steps else { continue };
        let first = steps.first().map_or(0, |s| s.0) + 5;
        let opened = state.change(|tx| {
            inventory::set_risk_assessed(tx, &owner, stored.id, &(today - Duration::days(first + 10)).to_string())?;
            dossier::open(tx, &owner, regime, None, &[stored.id], today - Duration::days(first))
        })?;
        for (days, part, key) in steps {
            let on = today - Duration::days(*days);
            let actor = match part {
                Part::Preparer => &owner,
                Part::Opinion | Part::Appraiser => &appraiser,
                Part::Approver => &approver,
            };
            let act = action(key, on);
            let step = dossier::Step { action: &act, part: *part, reason: reason(key), today: on, cal: &cal };
            state.change(|tx| dossier::act(tx, actor, opened.id, &step))?;
        }
    }
    // Văn phòng's two level-2 systems share one combined dossier (Art. 22.4.a), in draft.
    let two = Level::new(2).expect("2");
    state.change(|tx| dossier::open(tx, &owner, Regime::Nd331, Some(two), &combined, today))?;
    assess_portal(state, &owner, today)?;
    Ok(made)
}

/// The procedures portal's gap assessment: a round closed a month ago, progress since, and
/// an external pentest report collected eleven and a half months ago (its yearly cycle ends
/// within the month: it shows among the evidence expiring soon).
fn assess_portal(state: &mut State, owner: &Actor, today: Date) -> Result<(), StateError> {
    use canh_compliance::assessment::{Entry, Status};
    use canh_compliance::catalog::Catalog;
    use canh_compliance::evidence::{ContentStore, expiry};
    let Some(portal) = inventory::find(state.conn(), "so-khcn", "mot-cua")? else { return Ok(()) };
    let (regime, level) = (Regime::Nd331, Level::new(3).expect("3"));
    let row = |status, measure: &str| Entry {
        status,
        measure: measure.into(),
        owner: "Trung tâm CNTT-CĐS".into(),
        ..Default::default()
    };
    let first = [
        ("3/logs/log-retention", row(Status::PartlyMet, "Nhật ký lưu tập trung trên Canh")),
        ("3/monitoring/monitoring", row(Status::Met, "Cảm biến Canh tại vùng máy chủ")),
        ("3/network/network-zones", row(Status::PartlyMet, "Đã có DMZ; chưa tách vùng quản trị")),
        ("3/testing/external-pentest", row(Status::Met, "Kiểm thử xâm nhập hằng năm")),
        (
            "3/development/general",
            Entry {
                status: Status::NotApplicable,
                reason: "Phần mềm thuê dịch vụ, không tự phát triển".into(),
                ..Default::default()
            },
        ),
        (
            "3/backup/backup-plan",
            Entry {
                due: Some(today - Duration::days(10)),
                ..row(Status::NotMet, "Chưa sao lưu tự động theo quy tắc 3-2-1")
            },
        ),
    ];
    state.change(|tx| {
        for (item, entry) in &first {
            crate::state::assessment::set(tx, owner, portal.id, regime, level, item, entry.clone())?;
        }
        crate::state::assessment::snapshot(tx, owner, portal.id, regime, level)?;
        crate::state::assessment::set(
            tx,
            owner,
            portal.id,
            regime,
            level,
            "3/logs/log-retention",
            row(Status::Met, "Nhật ký lưu 92 ngày trên Canh"),
        )
    })?;
    let store = ContentStore::open(state.dir().join("evidence"))
        .map_err(|e| StateError::Io { path: state.dir().join("evidence"), source: e })?;
    let report = "BÁO CÁO KIỂM THỬ XÂM NHẬP\nHệ thống thông tin giải quyết thủ tục hành chính tỉnh\n(tài liệu mẫu của bản demo)\n";
    let (sha256, size) =
        store.put(report.as_bytes()).map_err(|e| StateError::Io { path: store.root().to_path_buf(), source: e })?;
    let item = "3/testing/external-pentest";
    let collected = today - Duration::days(350);
    let cycle = Catalog::of(regime).item(item).and_then(|i| i.cycle());
    state.change(|tx| {
        let new = crate::state::evidence::New {
            org: "so-khcn",
            system: Some(portal.id),
            dossier: None,
            item: Some(item),
            name: "bao-cao-kiem-thu-xam-nhap.txt",
            sha256: &sha256,
            size: size as i64,
            media_type: "text/plain",
            collected,
            expires: expiry(collected, cycle),
        };
        crate::state::evidence::add(tx, owner, &new).map(|_| ())
    })
}
