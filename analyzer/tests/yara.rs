//! YARA on artifacts: Canh's vn-gov rules fire on what they are written for and not on close
//! harmless cases; real third-party rule sets load under YARA-X, rejects reported by file.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use canh_analyzer::yara::{YaraDetector, office_text, pdf_text};
use canh_rules::pack::PackFile;
use canh_sensor::files::Artifact;
use canh_sensor::record::{Head, Origin};

fn vn_gov() -> YaraDetector {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/packs/vn-gov/yara");
    let mut files: Vec<PackFile> =
        std::fs::read_dir(dir).unwrap().map(|e| PackFile::read(e.unwrap().path()).unwrap()).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut problems = Vec::new();
    let d = YaraDetector::compile(&files, &mut problems).expect("rules compile");
    assert!(problems.is_empty(), "{problems:?}");
    d
}

/// An artifact from `orig` to `resp` (`is_orig`), carried by `service`.
fn artifact(data: &[u8], orig: &str, resp: &str, service: &str, source: &'static str) -> Artifact {
    let head = Head {
        ts: 1.0,
        uid: Arc::from("Cy"),
        orig_h: orig.parse().unwrap(),
        orig_p: 40000,
        resp_h: resp.parse().unwrap(),
        resp_p: 80,
        community_id: Arc::from("1:y"),
        origin: Origin::default(),
    };
    Artifact {
        head,
        fuid: "Fy".into(),
        source,
        service: Some(match service {
            "http" => "http",
            "ftp" => "ftp",
            "ssl" => "ssl",
            _ => "imap",
        }),
        is_orig: true,
        mime_type: None,
        filename: None,
        data: data.to_vec(),
        total_bytes: data.len() as u64,
    }
}

fn fired(d: &YaraDetector, a: Artifact) -> Vec<String> {
    let mut out = Vec::new();
    d.scan(&[a], &mut out);
    out.into_iter().map(|a| a.rule_id).collect()
}

const LAN: &str = "10.10.2.10";
const OUT: &str = "198.51.100.9";
const IN: &str = "10.10.1.10";

#[test]
fn state_secret_markings_leaving_the_lan() {
    let d = vn_gov();
    let up = |text: &str, dst: &str| artifact(text.as_bytes(), LAN, dst, "http", "HTTP");
    for marked in ["Độ mật: TỐI MẬT\nKế hoạch", "tối mật", "TOI MAT", "Toi  Mat", "TUYỆT MẬT", "tuyet mat"]
    {
        assert!(fired(&d, up(marked, OUT)).iter().any(|r| r == "state_secret.toi_mat_or_tuyet_mat"), "{marked}");
    }
    assert!(fired(&d, up("UBND TỈNH\nMẬT\nBáo cáo", OUT)).contains(&"state_secret.mat_marking".to_string()));
    assert!(fired(&d, up("Độ mật: Mật", OUT)).contains(&"state_secret.mat_marking".to_string()));
    // Inside the LAN, ordinary words, a password field name: nothing.
    assert!(fired(&d, up("Độ mật: TỐI MẬT", IN)).is_empty());
    for harmless in ["bí mật kinh doanh", "mật khẩu của bạn", "thời gian: mat tich", "automat", "Tối mai họp"]
    {
        assert!(fired(&d, up(harmless, OUT)).is_empty(), "{harmless}");
    }
}

fn docx(text: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("[Content_Types].xml", opts).unwrap();
    zip.write_all(b"<Types/>").unwrap();
    zip.start_file("word/document.xml", opts).unwrap();
    write!(zip, "<w:document><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>").unwrap();
    zip.finish().unwrap().into_inner()
}

#[test]
fn markings_inside_office_documents_are_seen_in_their_text() {
    let d = vn_gov();
    let doc = docx("TỐI MẬT");
    assert_eq!(office_text(&doc).as_deref(), Some("TỐI MẬT\n"));
    // The compressed bytes do not contain the marking; the extracted text does.
    assert!(!doc.windows(3).any(|w| w == "Ố".as_bytes()));
    let alerts = {
        let mut out = Vec::new();
        d.scan(&[artifact(&doc, LAN, OUT, "http", "HTTP")], &mut out);
        out
    };
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].evidence.contains("(extracted text)"), "{}", alerts[0].evidence);
    assert!(fired(&d, artifact(&docx("Báo cáo công khai"), LAN, OUT, "http", "HTTP")).is_empty());
}

/// PDFs as office suites write them (embedded font subsets, compressed content streams, a
/// ToUnicode map): `tests/data/make_pdfs.py` made these two.
#[test]
fn markings_inside_pdfs_are_seen_in_their_text() {
    let d = vn_gov();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data");
    let marked = std::fs::read(data.join("cong-van-toi-mat.pdf")).unwrap();
    let unmarked = std::fs::read(data.join("cong-van-bao-mat.pdf")).unwrap();
    let text = pdf_text(&marked).expect("text");
    assert!(text.contains("TỐI MẬT") && text.contains("Số: 123/UBND-VP"), "{text}");
    assert!(!marked.windows(3).any(|w| w == "Ố".as_bytes()), "the marking is not in the raw bytes");
    let mut alerts = Vec::new();
    d.scan(&[artifact(&marked, LAN, OUT, "http", "HTTP")], &mut alerts);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].rule_id, "state_secret.toi_mat_or_tuyet_mat");
    assert!(alerts[0].evidence.contains("(extracted text)"), "{}", alerts[0].evidence);
    // The same letter without the stamp speaks of "bảo mật" (security): nothing.
    assert!(pdf_text(&unmarked).unwrap().contains("bảo mật"));
    assert!(fired(&d, artifact(&unmarked, LAN, OUT, "http", "HTTP")).is_empty());
    // A PDF cut before its cross-reference table (a capture gap) still gives its text; bytes
    // that only begin like a PDF are not searched for objects, even when a PDF hides far in.
    let xref = marked.windows(9).rposition(|w| w == b"startxref").unwrap();
    assert!(pdf_text(&marked[..xref]).expect("text of a cut PDF").contains("TỐI MẬT"));
    let mut claimed = b"%PDF-1.5\n".to_vec();
    claimed.extend((0..2_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    claimed.extend_from_slice(&marked);
    assert!(pdf_text(&claimed).is_none());
    // Damaged PDFs give no text and no panic: cut anywhere, or with bytes flipped.
    for cut in (0..marked.len()).step_by(997) {
        let _ = pdf_text(&marked[..cut]);
    }
    let mut flipped = marked.clone();
    for i in (200..flipped.len()).step_by(101) {
        flipped[i] ^= 0x5a;
    }
    let _ = pdf_text(&flipped);
    // Deep nesting must not exhaust the stack.
    for open in ["[", "<<", "<< /A "] {
        let deep = format!("%PDF-1.4\n1 0 obj\n{}\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n", open.repeat(100_000));
        assert!(pdf_text(deep.as_bytes()).is_none());
    }
}

#[test]
fn citizen_numbers_and_phones_in_bulk() {
    let d = vn_gov();
    let rows = |n: usize, code: &str| {
        (0..n).map(|i| format!("Nguyễn Văn {i},{code}0{:02}{:06},090{:07}\n", 80 + i % 20, i, i)).collect::<String>()
    };
    let mut alerts = Vec::new();
    d.scan(&[artifact(rows(12, "001").as_bytes(), LAN, OUT, "http", "HTTP")], &mut alerts);
    let cccd = alerts.iter().find(|a| a.rule_id == "personal_data.cccd_numbers_bulk").expect("CCCD alert");
    // The counts are the evidence, never the numbers.
    assert!(cccd.evidence.ends_with(": cccd_numbers=12 phone_numbers=12"), "{}", cccd.evidence);
    assert!(!cccd.evidence.contains("001080"), "{}", cccd.evidence);
    // Too few, or a prefix that is no province code.
    assert!(
        !fired(&d, artifact(rows(5, "001").as_bytes(), LAN, OUT, "http", "HTTP"))
            .contains(&"personal_data.cccd_numbers_bulk".to_string())
    );
    assert!(
        !fired(&d, artifact(rows(12, "003").as_bytes(), LAN, OUT, "http", "HTTP"))
            .contains(&"personal_data.cccd_numbers_bulk".to_string())
    );
    assert!(
        fired(&d, artifact(rows(25, "001").as_bytes(), LAN, OUT, "http", "HTTP"))
            .contains(&"personal_data.phone_numbers_bulk".to_string())
    );
    // Landline numbers (024 Hà Nội, 028 TP.HCM) and unassigned mobile prefixes are no mobiles.
    let landlines: String = (0..30).map(|i| format!("Phòng {i},024{:07},028{:07},031{:07}\n", i, i, i)).collect();
    assert!(
        !fired(&d, artifact(landlines.as_bytes(), LAN, OUT, "http", "HTTP"))
            .contains(&"personal_data.phone_numbers_bulk".to_string())
    );
}

#[test]
fn cleartext_logins() {
    let d = vn_gov();
    let head = |bytes: &[u8], service| artifact(bytes, LAN, IN, service, "TCP");
    let rule = "cleartext_credentials.mail_ftp_cleartext_login".to_string();
    assert!(fired(&d, head(b"USER vanthu\r\nPASS VanThu@2026\r\nQUIT\r\n", "ftp")).contains(&rule));
    assert!(fired(&d, head(b"a1 LOGIN vanthu secret\r\n", "imap")).contains(&rule));
    assert!(fired(&d, head(b"EHLO pc\r\nAUTH LOGIN\r\ndmFudGh1\r\n", "imap")).contains(&rule));
    assert!(fired(&d, head(b"USER vanthu\r\nSYST\r\n", "ftp")).is_empty());
    let form = "password_form_field_over_http".to_string();
    let body = |b: &[u8]| artifact(b, LAN, IN, "http", "HTTP");
    assert!(fired(&d, body(b"user=vanthu&matkhau=VanThu%402026")).iter().any(|r| r.ends_with(&form)));
    assert!(fired(&d, body(b"q=password+reset+help")).is_empty());
}

#[test]
fn a_rejected_file_is_reported_and_the_rest_load() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yar");
    std::fs::write(
        &bad,
        "rule ok_one { condition: true }\nrule broken {\n  strings:\n    $a = \"x\"\n  condition:\n    $b\n}\n",
    )
    .unwrap();
    let good = dir.path().join("good.yar");
    std::fs::write(&good, "rule fine { strings: $m = \"TOKEN\" condition: $m }").unwrap();
    let mut problems = Vec::new();
    let files = [PackFile::read(bad).unwrap(), PackFile::read(good).unwrap()];
    let d = YaraDetector::compile(&files, &mut problems).expect("the good file loads");
    assert_eq!(problems.len(), 1);
    let shown = problems[0].to_string();
    assert!(shown.contains("bad.yar:6:5: error: YARA-X: unknown pattern `$b`"), "{shown}");
    // YARA-X keeps the rules of the bad file that compiled before its error, and the good file.
    assert_eq!(fired(&d, artifact(b"a TOKEN here", LAN, IN, "http", "HTTP")), ["bad.ok_one", "good.fine"]);
}
