//! The generated documents: each opened as the Word package it is (page, margins, font,
//! header block and Vietnamese text in `word/document.xml`), and every one rendered by
//! LibreOffice (Debian's, headless; `.ci/run` installs it) to confirm it opens — its text read
//! back from the PDF — and one page to an image (`CANH_KEEP_RENDER=FILE.png` keeps it). A system name carrying XML and markup stays text.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use canh_compliance::assessment::{Assessment, Entry, Status};
use canh_compliance::classify::classify;
use canh_compliance::documents::report::{AnnualReport, Row};
use canh_compliance::documents::{DossierFacts, Kind, Parties, SystemFacts, render};
use canh_compliance::dossier::Dossier;
use canh_compliance::import::from_csv;
use canh_compliance::level::Level;
use canh_compliance::regime::Regime;
use time::macros::date;

const HOSTILE: &str = "</w:t></w:r><w:r><w:t>INJECTED <script>x</script> & \"quoted\"";

fn document_xml(docx: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(docx)).expect("a .docx is a zip package");
    let mut xml = String::new();
    zip.by_name("word/document.xml").expect("word/document.xml").read_to_string(&mut xml).unwrap();
    xml
}

fn parties() -> Parties {
    Parties {
        place: "Lâm Đồng".into(),
        owner: "UBND tỉnh Lâm Đồng".into(),
        preparer: "Sở Khoa học và Công nghệ".into(),
        preparer_parent: "UBND tỉnh Lâm Đồng".into(),
        appraiser: "Công an tỉnh Lâm Đồng".into(),
        approver: "Chủ tịch UBND tỉnh Lâm Đồng".into(),
    }
}

fn soffice(args: &[&str], dir: &Path) {
    assert!(
        Path::new("/usr/bin/soffice").exists(),
        "/usr/bin/soffice is absent: rendering the documents needs Debian's LibreOffice (`apt-get install libreoffice-writer-nogui`; .ci/run installs it)"
    );
    let profile = format!("-env:UserInstallation=file://{}/lo-profile", dir.display());
    let out = Command::new("/usr/bin/soffice")
        .arg(&profile)
        .args(["--headless", "--norestore"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "soffice {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn every_document_opens_in_libreoffice_with_its_vietnamese_text() {
    let csv = std::fs::read(format!("{}/tests/fixtures/inventory.csv", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut systems = from_csv(&csv, None).unwrap().systems;
    let mut portal = systems.remove(0);
    portal.name = format!("Hệ thống một cửa {HOSTILE}");
    let classification = classify(Regime::Nd331, &portal.profile);
    let mut assessment = Assessment::new(Regime::Nd331, Level::new(3).unwrap());
    assessment
        .set(
            "3/logs/log-retention",
            Entry { status: Status::Met, measure: "Lưu nhật ký 92 ngày trên Canh".into(), ..Default::default() },
        )
        .unwrap();
    assessment
        .set(
            "3/development/general",
            Entry {
                status: Status::NotApplicable, reason: "Thuê dịch vụ phần mềm".into(), ..Default::default()
            },
        )
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut written = Vec::new();
    for level in [2u8, 3, 5] {
        let mut dossier =
            Dossier::new(Regime::Nd331, Level::new(level).unwrap(), vec![portal.code.clone()], date!(2026 - 12 - 03))
                .unwrap();
        dossier.appraisal_suitable = Some(true);
        let facts = DossierFacts {
            id: 7,
            parties: parties(),
            dossier: &dossier,
            systems: vec![SystemFacts {
                system: &portal,
                classification: Some(&classification),
                assessment: Some(&assessment),
            }],
            date: date!(2026 - 12 - 03),
        };
        for kind in Kind::ALL.into_iter().filter(|k| k.applies(level)) {
            let docx = render(kind, &facts).to_docx();
            let xml = document_xml(&docx);
            // Decree 30/2020 layout: A4, margins 20/20/30/15 mm, Times New Roman.
            assert!(
                xml.contains(r#"<w:pgSz w:w="11905" w:h="16837""#) || xml.contains(r#"w:w="11905""#),
                "{kind:?}: A4"
            );
            assert!(
                xml.contains(r#"w:left="1700""#) && xml.contains(r#"w:right="850""#) && xml.contains(r#"w:top="1133""#),
                "{kind:?}: margins"
            );
            assert!(xml.contains("Times New Roman"), "{kind:?}: font");
            for line in [
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                "Độc lập - Tự do - Hạnh phúc",
                "Lâm Đồng, ngày 03 tháng 12 năm 2026",
                "Số:",
                "Nơi nhận:",
            ] {
                assert!(xml.contains(line), "{kind:?}: {line}");
            }
            // The payload is text in the XML, never markup.
            assert!(
                !xml.contains("<w:t>INJECTED") && !xml.contains("<script>"),
                "{kind:?}: the name's markup is escaped"
            );
            let name = format!("{}-l{level}.docx", kind.key());
            std::fs::write(dir.path().join(&name), &docx).unwrap();
            written.push((kind, level, name));
        }
    }
    // What each says that is its own.
    let xml = |k: Kind, l: u8| document_xml(&std::fs::read(dir.path().join(format!("{}-l{l}.docx", k.key()))).unwrap());
    assert!(xml(Kind::LevelProposal, 3).contains("điểm b khoản 2 Điều 13"));
    assert!(
        xml(Kind::SecurityPlan, 3).contains("Lưu nhật ký 92 ngày trên Canh")
            && xml(Kind::SecurityPlan, 3).contains("Thuê dịch vụ phần mềm")
    );
    assert!(xml(Kind::SecurityPlan, 3).contains("5.8.2.1 a"), "the level-3 clause of log retention");
    assert!(xml(Kind::GeneralDescription, 3).contains("203.0.113.16/28"));
    assert!(xml(Kind::Form04, 3).contains("Phù hợp"));
    assert!(xml(Kind::Form05, 5).contains("Ý kiến chuyên môn"), "levels 4–5 attach the professional opinion");
    assert!(!xml(Kind::Form05, 3).contains("Ý kiến chuyên môn"));

    // Form 08 with its detail table.
    let rows = vec![Row {
        system: "Trung tâm dữ liệu tỉnh".into(),
        proposed_level: "3".into(),
        approval_status: "Đã gửi thẩm định".into(),
        plan_status: "Chưa triển khai".into(),
        ..Default::default()
    }];
    let report = AnnualReport {
        year: 2026,
        reporter: "UBND tỉnh Lâm Đồng".into(),
        reporter_parent: String::new(),
        place: "Lâm Đồng".into(),
        date: date!(2026 - 12 - 18),
        counts: AnnualReport::counts_of(&rows),
        rows,
    };
    let docx = report.document().to_docx();
    let form08 = document_xml(&docx);
    assert!(
        form08.contains("từ ngày 15/12/2025 đến ngày 14/12/2026")
            && form08.contains("Đã gửi thẩm định")
            && form08.contains("Tình trạng phê duyệt (6)")
    );
    std::fs::write(dir.path().join("mau-08.docx"), &docx).unwrap();
    written.push((Kind::Form01, 0, "mau-08.docx".into()));

    // LibreOffice opens every one: to PDF, and the text read back.
    let names: Vec<&str> = written.iter().map(|(_, _, n)| n.as_str()).collect();
    let mut args = vec!["--convert-to", "pdf", "--outdir", "pdf"];
    args.extend(names.iter().copied());
    soffice(&args, dir.path());
    for name in &names {
        let pdf = dir.path().join("pdf").join(name.replace(".docx", ".pdf"));
        assert!(pdf.exists(), "LibreOffice did not render {name}");
        let out = Command::new("pdftotext")
            .arg(&pdf)
            .arg("-")
            .output()
            .expect("pdftotext (poppler-utils; .ci/run installs it)");
        // Lines wrap where the page ends them: compare with the words joined by single spaces.
        let text = String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), "{name}: {text}");
        if !name.starts_with("mau-08") {
            assert!(text.contains("INJECTED <script>x</script>"), "{name}: the payload shows as text");
        }
    }
    // And the first page of the approval decision as an image, as a person would see it
    // (LibreOffice's own rendering, rasterised by poppler's pdftoppm).
    let out = Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"])
        .arg(dir.path().join("pdf/mau-06-l3.pdf"))
        .arg(dir.path().join("mau-06-l3"))
        .output()
        .expect("pdftoppm (poppler-utils; .ci/run installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let png = std::fs::read(dir.path().join("mau-06-l3.png")).unwrap();
    if let Ok(keep) = std::env::var("CANH_KEEP_RENDER") {
        std::fs::write(keep, &png).unwrap();
    }
    assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "a rendered page: {} bytes", png.len());
}
