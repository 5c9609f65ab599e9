//! The compliance desk's service on the demo province (`canh demo --no-serve`: a generated
//! capture replayed and indexed, the province's systems and dossiers): who sees what, the
//! gap assessment and its changes, evidence stored by digest and expiring, the SOC's own
//! evidence computed from the event store, and refusals of steps that are not the caller's.

use std::process::Command;
use std::sync::Arc;

use canh_compliance::evidence::{SocCheck, Validity};
use canh_console::server::compliance::{self, ActRequest, Upload};
use canh_console::server::i18n::Lang;
use canh_console::server::routes::{App, Principal};
use canh_console::server::triage::Failure;
use canh_console::state::session::Policy;
use canh_console::state::user::{self, Role};
use canh_console::state::{Actor, State, audit, calendar, dossier, inventory};
use sha2::Digest as _;

fn demo() -> (tempfile::TempDir, Arc<App>) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_canh"))
        .args(["demo", "--no-serve", "--size-mb", "2", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut state = State::open(&dir.path().join("data")).unwrap();
    let a = Actor { name: "cli:test".into(), org: String::new() };
    state
        .change(|tx| {
            user::add(tx, &a, "chuquan.taichinh", Role::SystemOwner, "so-tai-chinh", "Canh@2026test").map(|_| ())
        })
        .unwrap();
    (dir, App::new(state, Policy::default()))
}

fn who(app: &App, name: &str) -> Principal {
    let user = user::get(app.state.lock().unwrap().conn(), name).unwrap();
    Principal::User { user, token: String::new(), csrf: String::new() }
}

fn system_id(app: &App, org: &str, code: &str) -> i64 {
    inventory::find(app.state.lock().unwrap().conn(), org, code).unwrap().unwrap().id
}

#[test]
fn the_demo_desk_as_each_part_sees_it() {
    let (_dir, app) = demo();
    let (owner, appraiser, approver, other) =
        (who(&app, "chuquan.khcn"), who(&app, "thamdinh"), who(&app, "pheduyet"), who(&app, "chuquan.taichinh"));

    // Who sees which systems: the owner its subtree, the approver (province) all, the
    // appraiser its own and those whose dossiers are routed to it.
    let codes = |p: &Principal| compliance::systems(&app, p).unwrap().into_iter().map(|s| s.code).collect::<Vec<_>>();
    let mine = codes(&owner);
    assert_eq!(mine.len(), 4, "{mine:?}");
    assert!(["mot-cua", "cong-ttdt", "lgsp", "tttd"].iter().all(|c| mine.iter().any(|m| m == c)), "{mine:?}");
    assert_eq!(codes(&approver).len(), 13);
    let routed = codes(&appraiser);
    assert!(
        routed.iter().any(|c| c == "ke-toan") && !routed.iter().any(|c| c == "qlvb"),
        "a draft is not routed yet: {routed:?}"
    );

    // Another agency's system owner cannot see the portal, by id either.
    let portal = system_id(&app, "so-khcn", "mot-cua");
    assert!(matches!(compliance::system_detail(&app, &other, portal), Err(Failure::NotFound(_))));

    // The assessment: the SOC's evidence from the demo's own capture — its servers were seen
    // within the day; the store holds one day of the 92 level 3 asks.
    let v = compliance::assessment(&app, &owner, portal, Lang::Vi).unwrap();
    let soc = |check: SocCheck| v.items.iter().filter_map(|i| i.soc.clone()).find(|f| f.check == check).unwrap();
    let traffic = soc(SocCheck::TrafficSeen);
    assert!(traffic.holds, "{traffic:?}");
    let retention = soc(SocCheck::LogRetention);
    assert!(
        !retention.holds && retention.measured == "giữ 1 ngày" && retention.required == "tối thiểu 92 ngày",
        "{retention:?}"
    );
    // What changed since the last round: log retention partly met → met.
    let (_, changes) = v.since.as_ref().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].key, "3/logs/log-retention");
    assert!(v.overall.met >= 3 && v.overall.not_applicable == 1, "{:?}", v.overall);

    // The pentest report expires within the month; its bytes come back checked by digest.
    let soon = compliance::expiring(&app, &owner).unwrap();
    let (report, validity) =
        soon.iter().find(|(e, _)| e.item.as_deref() == Some("3/testing/external-pentest")).unwrap();
    assert!(matches!(validity, Validity::ExpiresSoon(15)), "{validity:?}");
    let (_, bytes) = compliance::evidence_file(&app, &owner, report.id).unwrap();
    assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), report.sha256);
    assert!(matches!(compliance::evidence_file(&app, &other, report.id), Err(Failure::NotFound(_))));
    assert!(compliance::expiring(&app, &other).unwrap().is_empty());

    // A new revision of the same requirement's evidence; one for an item not of level 3 is refused.
    let upload = |item, bytes: &'static [u8]| Upload {
        item,
        name: "bao-cao-2026.pdf",
        media_type: "application/pdf",
        bytes,
        collected: "",
    };
    let id = compliance::upload_evidence(
        &app,
        &owner,
        portal,
        &upload("3/testing/external-pentest", b"%PDF-1.7 new report"),
    )
    .unwrap();
    let again = canh_console::state::evidence::get(app.state.lock().unwrap().conn(), id).unwrap().unwrap();
    assert_eq!(again.revision_of, Some(report.id));
    assert!(compliance::upload_evidence(&app, &owner, portal, &upload("4/hardware/discovery-scan", b"x")).is_err());

    // The organization's own copy of the standard, imported, shows beside the paraphrase.
    let text = _dir.path().join("tcvn.csv");
    std::fs::write(&text, "level,clause,text\n3,5.8.2.1 a,\"Nguyên văn điều khoản lưu nhật ký (bản của đơn vị)\"\n")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_canh"))
        .args(["catalog", "text"])
        .arg(&text)
        .arg("--data")
        .arg(_dir.path().join("data"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = compliance::assessment(&app, &owner, portal, Lang::Vi).unwrap();
    let retention = v.items.iter().find(|i| i.key == "3/logs/log-retention").unwrap();
    assert_eq!(retention.full_text.as_deref(), Some("Nguyên văn điều khoản lưu nhật ký (bản của đơn vị)"));
    let bad = _dir.path().join("bad.csv");
    std::fs::write(&bad, "level,clause,text\n7,5.1,x\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_canh"))
        .args(["catalog", "text"])
        .arg(&bad)
        .arg("--data")
        .arg(_dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("line 2, column level"));

    // Steps that are not the caller's part are refused, and the refusal is audited.
    let state_dossier = |code: &str| {
        let s = app.state.lock().unwrap();
        let id = inventory::find(s.conn(), if code == "ke-toan" { "so-tai-chinh" } else { "ttcntt-cds" }, code)
            .unwrap()
            .unwrap()
            .id;
        dossier::list(s.conn()).unwrap().into_iter().find(|d| d.systems.contains(&id)).unwrap().id
    };
    let ke_toan = state_dossier("ke-toan");
    let approve = ActRequest { action: "approve".into(), decision: "1/QĐ".into(), ..Default::default() };
    assert!(compliance::act(&app, &appraiser, ke_toan, &approve).is_err(), "the appraiser cannot approve");
    let denied = audit::recent(app.state.lock().unwrap().conn(), 50).unwrap();
    assert!(denied.iter().any(|e| e.actor == "thamdinh" && e.action == "dossier.approve" && e.outcome == "denied"));
    // Whoever plays a part attaches files to the dossier; others cannot, and cannot read them.
    let attached = compliance::attach_to_dossier(
        &app,
        &appraiser,
        ke_toan,
        "y-kien-tham-dinh.pdf",
        "application/pdf",
        b"%PDF signed opinion",
    )
    .unwrap();
    assert!(compliance::attach_to_dossier(&app, &who(&app, "chuquan.khcn"), ke_toan, "x", "text/plain", b"x").is_err());
    assert_eq!(compliance::evidence_file(&app, &approver, attached).unwrap().1, b"%PDF signed opinion");
    assert!(matches!(compliance::evidence_file(&app, &owner, attached), Err(Failure::NotFound(_))));
    // The approver can: level 2 needs no appraisal opinion gate beyond the appraisal itself.
    assert_eq!(compliance::act(&app, &approver, ke_toan, &approve).unwrap().key(), "approved");

    // Overdue: the data centre's appraisal is past its 15 working days.
    let cal = calendar::work_calendar(app.state.lock().unwrap().conn()).unwrap();
    let late =
        dossier::overdue(app.state.lock().unwrap().conn(), canh_console::when::today_in_vietnam(), &cal).unwrap();
    let tttd = state_dossier("tttd");
    assert!(
        late.iter().any(|(d, days)| d.id == tttd && *days > 0),
        "{:?}",
        late.iter().map(|(d, n)| (d.id, *n)).collect::<Vec<_>>()
    );
}

#[test]
fn documents_and_the_province_view_from_the_demo() {
    use std::io::Read;
    let (_dir, app) = demo();
    let approver = who(&app, "pheduyet");
    let portal = system_id(&app, "so-khcn", "mot-cua");
    let dossier = {
        let s = app.state.lock().unwrap();
        dossier::list(s.conn()).unwrap().into_iter().find(|d| d.systems.contains(&portal)).unwrap()
    };
    let xml = |bytes: &[u8]| {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        zip.by_name("word/document.xml").unwrap().read_to_string(&mut s).unwrap();
        s
    };
    // The approval decision names its number, the province as its place and the system.
    let (name, bytes) = compliance::dossier_document(&app, &approver, dossier.id, "mau-06").unwrap();
    assert_eq!(name, format!("ho-so-{}-mau-06.docx", dossier.id));
    let decision = xml(&bytes);
    let number = dossier.dossier.decision.as_ref().unwrap().number.clone();
    assert!(
        decision.contains(&number)
            && decision.contains("Lâm Đồng, ngày")
            && decision.contains("Hệ thống thông tin giải quyết thủ tục hành chính tỉnh")
    );
    // The security plan carries the assessment's measures.
    let plan = xml(&compliance::dossier_document(&app, &approver, dossier.id, "thuyet-minh-phuong-an").unwrap().1);
    assert!(plan.contains("Nhật ký lưu 92 ngày trên Canh"));
    // A form of another level, or an unknown document, is not there.
    assert!(matches!(compliance::dossier_document(&app, &approver, dossier.id, "mau-07"), Err(Failure::NotFound(_))));
    assert!(matches!(compliance::dossier_document(&app, &approver, dossier.id, "../etc"), Err(Failure::NotFound(_))));

    // The province: systems at every level, the overdue steps, the Decree 85 dossiers to finish.
    let v = compliance::province(&app, &approver).unwrap();
    assert!(v.by_level.iter().all(|n| *n > 0), "{:?}", v.by_level);
    assert_eq!(v.overdue.len(), 2);
    assert_eq!(v.nd85_open.len(), 1);
    assert_eq!(v.nd85_approved.len(), 1);
    assert_eq!(v.expiring, 1);
    // Form 08 of 2026 lists every system with its status as the form words it.
    let report = xml(&compliance::annual_report(&app, &approver, 2026).unwrap().1);
    for status in ["Đã được phê duyệt", "Đã gửi thẩm định", "Đã thẩm định", "Đang dự thảo", "Trung tâm dữ liệu tỉnh"]
    {
        assert!(report.contains(status), "{status}");
    }
    assert!(report.contains("Tổng số hệ thống thông tin: 13"));

    // The portal, approved at level 3, now processes state secrets whose compromise would
    // seriously harm national security: its page says the level must be determined again.
    let owner = who(&app, "chuquan.khcn");
    assert!(compliance::system_detail(&app, &owner, portal).unwrap().triggers.is_empty());
    let mut profile = compliance::system_detail(&app, &owner, portal).unwrap().stored.system.profile;
    profile.information.insert(canh_compliance::system::InformationClass::StateSecret);
    profile.national_security_harm = canh_compliance::system::NationalSecurityHarm::Serious;
    let c = compliance::classify(&app, &owner, portal, profile, canh_compliance::regime::Regime::Nd331).unwrap();
    assert_eq!(c.level.map(|l| l.number()), Some(4));
    let triggers: Vec<String> =
        compliance::system_detail(&app, &owner, portal).unwrap().triggers.iter().map(|t| t.vi()).collect();
    assert_eq!(triggers.len(), 2, "{triggers:?}");
    assert!(
        triggers[0].contains("cấp độ 4 cao hơn cấp độ 3") && triggers[1].contains("bí mật nhà nước"),
        "{triggers:?}"
    );

    // The administrator's correction of the calendar moves deadlines: Monday 7/12/2026 made a
    // day off, the first working day after Friday 4/12 is Tuesday 8/12.
    let admin = Actor { name: "quantri".into(), org: "tinh-lam-dong".into() };
    let mut state = app.state.lock().unwrap();
    let before =
        calendar::work_calendar(state.conn()).unwrap().add_working_days(time::macros::date!(2026 - 12 - 04), 1);
    assert_eq!(before, time::macros::date!(2026 - 12 - 07));
    state
        .change(|tx| {
            calendar::set(tx, &admin, "2026-12-07", canh_compliance::calendar::DayKind::DayOff, "Nghỉ theo thông báo")
        })
        .unwrap();
    let after = calendar::work_calendar(state.conn()).unwrap().add_working_days(time::macros::date!(2026 - 12 - 04), 1);
    assert_eq!(after, time::macros::date!(2026 - 12 - 08));
    assert!(
        state
            .change(|tx| calendar::set(tx, &admin, "7/12/2026", canh_compliance::calendar::DayKind::DayOff, "x"))
            .is_err()
    );
}

#[test]
fn an_incident_from_a_case_with_its_clocks_and_report() {
    use canh_console::server::triage;
    let (_dir, app) = demo();
    app.sync_alerts().unwrap();
    let analyst = who(&app, "soc.tinh");
    let alerts =
        triage::list(&app, &analyst, &triage::FilterParams { status: "all".into(), ..Default::default() }, 5, 0)
            .unwrap()
            .0;
    assert!(!alerts.is_empty(), "the demo's capture raises alerts");
    let acted = triage::act(
        &app,
        &analyst,
        &triage::ActRequest {
            ids: vec![alerts[0].id.clone()],
            action: "escalate".into(),
            title: "Dò quét và đăng nhập trái phép".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let case_id = acted.case_id.expect("escalating opens a case");

    // Declared serious with personal data: three clocks from the first alert's time.
    let s = compliance::incident::declare(&app, &analyst, case_id, "", true, true).unwrap();
    let first = alerts.iter().map(|a| a.ts).min().unwrap();
    assert!(s.incident.detected.unix_timestamp() * 1_000_000 <= first + 1_000_000);
    let clocks = s.incident.clocks(time::OffsetDateTime::now_utc());
    assert_eq!(clocks.len(), 3);
    assert!(
        matches!(clocks[0].state, canh_compliance::incident::ClockState::Running { minutes_left } if minutes_left > 20 * 60)
    );
    // A second declaration of the same case is refused.
    assert!(compliance::incident::declare(&app, &analyst, case_id, "", false, false).is_err());

    // The facts, the initial notice sent; the report carries them.
    let facts: Vec<(String, String)> = [
        ("cause", "Mật khẩu yếu trên cổng quản trị"),
        ("scope", "Máy chủ cổng dịch vụ công"),
        ("impact", "Lộ tài khoản quản trị"),
        ("remedy", "Đổi mật khẩu, bật xác thực đa yếu tố"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    compliance::incident::update(&app, &analyst, case_id, &facts).unwrap();
    let sent =
        compliance::incident::update(&app, &analyst, case_id, &[("sent".into(), "initial_notice".into())]).unwrap();
    assert!(matches!(
        sent.incident.clocks(time::OffsetDateTime::now_utc())[0].state,
        canh_compliance::incident::ClockState::Done { in_time: true }
    ));
    let (name, bytes) = compliance::incident::report(&app, &analyst, case_id).unwrap();
    assert_eq!(name, format!("bao-cao-su-co-{case_id}.docx"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml).unwrap();
    for text in [
        "BÁO CÁO",
        "Sự cố an ninh mạng",
        "Mật khẩu yếu trên cổng quản trị",
        "Đổi mật khẩu, bật xác thực đa yếu tố",
        "Đã thực hiện đúng hạn",
        "Dò quét và đăng nhập trái phép",
    ] {
        assert!(xml.contains(text), "{text}");
    }
    // Every step is on the case's timeline and in the audit trail.
    let trail = audit::recent(app.state.lock().unwrap().conn(), 100).unwrap();
    for action in ["incident.declare", "incident.facts", "incident.sent", "incident.report"] {
        assert!(trail.iter().any(|e| e.action == action && e.actor == "soc.tinh"), "{action}");
    }
}
