//! An administrative document laid out as Decree 30/2020/NĐ-CP (Appendix I) prescribes: A4,
//! margins top and bottom 20 mm, left 30 mm, right 15 mm; Times New Roman; the header block
//! with the issuing body on the left (its parent above, the body itself bold, the number and
//! symbol under it) and the national title on the right (CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM, the
//! motto Độc lập - Tự do - Hạnh phúc underlined, place and date in italics); the title bold
//! upper-case and centred; the body at 14 pt, justified, first lines indented 1 cm; the
//! recipients (Nơi nhận) and the signer's block.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, Docx, LineSpacing, PageMargin, Paragraph, Run, RunFonts, SpecialIndentType, Table, TableCell,
    TableRow, WidthType,
};
use time::Date;

/// Millimetres in twentieths of a point.
const fn mm(v: i32) -> i32 {
    v * 1440 * 10 / 254
}

/// Font sizes in half-points.
const BODY: usize = 28; // 14 pt
const HEADER: usize = 24; // 12 pt (the decree allows 12–13)
const SMALL: usize = 24; // 12 pt
const RECIPIENTS: usize = 22; // 11 pt

/// A block of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A body paragraph.
    Text(String),
    /// A bold heading line (a part or article).
    Heading(String),
    /// A table: the header row, then the rows (all text).
    Table { header: Vec<String>, rows: Vec<Vec<String>> },
}

/// What a document says and who issues it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The body above the issuer (UBND TỈNH LÂM ĐỒNG), if any.
    pub parent: String,
    /// The issuing body (SỞ KHOA HỌC VÀ CÔNG NGHỆ).
    pub issuer: String,
    /// Number and symbol (Số: 12/TTr-SKHCN); the number left blank for the clerk when unknown.
    pub number: String,
    /// Place (the province) and date.
    pub place: String,
    pub date: Date,
    /// The document's kind and title (TỜ TRÌNH, QUYẾT ĐỊNH …), and its summary line.
    pub title: String,
    pub summary: String,
    /// "Kính gửi: …", when it is addressed.
    pub to: Option<String>,
    pub body: Vec<Block>,
    pub recipients: Vec<String>,
    /// The signer's authority (GIÁM ĐỐC) and name.
    pub signer_title: String,
    pub signer_name: String,
}

fn font() -> RunFonts {
    RunFonts::new()
        .ascii("Times New Roman")
        .hi_ansi("Times New Roman")
        .cs("Times New Roman")
        .east_asia("Times New Roman")
}

fn run(text: &str, size: usize) -> Run {
    Run::new().add_text(text).size(size).fonts(font())
}

fn centred(r: Run) -> Paragraph {
    Paragraph::new().add_run(r).align(AlignmentType::Center)
}

fn body_paragraph(text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, BODY))
        .align(AlignmentType::Both)
        .indent(None, Some(SpecialIndentType::FirstLine(mm(10))), None, None)
        .line_spacing(LineSpacing::new().before(120).after(0).line(288))
}

fn cell(paragraphs: Vec<Paragraph>, width: usize) -> TableCell {
    let mut c = TableCell::new().width(width, WidthType::Dxa);
    for p in paragraphs {
        c = c.add_paragraph(p);
    }
    c
}

/// "ngày 03 tháng 12 năm 2026" (days and months below 10 with a leading zero, as the decree's
/// examples write them).
pub fn date_vi(d: Date) -> String {
    format!("ngày {:02} tháng {:02} năm {}", d.day(), d.month() as u8, d.year())
}

impl Document {
    /// The document as a .docx file.
    pub fn to_docx(&self) -> Vec<u8> {
        // The printable width: 210 mm less the margins, in twips.
        let width = (mm(210) - mm(30) - mm(15)) as usize;
        // The issuer's column takes 35 %, the national title 65 % (its line fits on one row).
        let (left, right) = (width * 35 / 100, width - width * 35 / 100);
        let mut issuer = Vec::new();
        if !self.parent.is_empty() {
            issuer.push(centred(run(&self.parent.to_uppercase(), HEADER)));
        }
        issuer.push(centred(run(&self.issuer.to_uppercase(), HEADER).bold()));
        issuer.push(centred(run(&self.number, HEADER)));
        let nation = vec![
            centred(run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", HEADER).bold()),
            centred(run("Độc lập - Tự do - Hạnh phúc", BODY).bold().underline("single")),
            centred(run(&format!("{}, {}", self.place, date_vi(self.date)), BODY).italic()),
        ];
        let header = Table::without_borders(vec![TableRow::new(vec![cell(issuer, left), cell(nation, right)])])
            .set_grid(vec![left, right]);
        let mut doc = Docx::new()
            .page_size(mm(210) as u32, mm(297) as u32)
            .page_margin(
                PageMargin::new().top(mm(20)).bottom(mm(20)).left(mm(30)).right(mm(15)).header(mm(10)).footer(mm(10)),
            )
            .default_fonts(font())
            .default_size(BODY)
            .add_table(header)
            .add_paragraph(Paragraph::new())
            .add_paragraph(centred(run(&self.title.to_uppercase(), BODY).bold()));
        if !self.summary.is_empty() {
            doc = doc.add_paragraph(centred(run(&self.summary, BODY).bold()));
        }
        if let Some(to) = &self.to {
            doc = doc.add_paragraph(
                centred(run(&format!("Kính gửi: {to}"), BODY)).line_spacing(LineSpacing::new().before(240)),
            );
        }
        for block in &self.body {
            doc = match block {
                Block::Text(t) => doc.add_paragraph(body_paragraph(t)),
                Block::Heading(h) => doc.add_paragraph(
                    Paragraph::new().add_run(run(h, BODY).bold()).line_spacing(LineSpacing::new().before(180)),
                ),
                Block::Table { header, rows } => {
                    let n = header.len().max(1);
                    let col = width / n;
                    let row_of = |cells: &[String], bold: bool| {
                        TableRow::new(
                            cells
                                .iter()
                                .map(|c| {
                                    let r = run(c, SMALL);
                                    cell(vec![Paragraph::new().add_run(if bold { r.bold() } else { r })], col)
                                })
                                .collect(),
                        )
                    };
                    let mut table_rows = vec![row_of(header, true)];
                    table_rows.extend(rows.iter().map(|r| row_of(r, false)));
                    doc.add_table(Table::new(table_rows).set_grid(vec![col; n])).add_paragraph(Paragraph::new())
                }
            };
        }
        let mut recipients = vec![Paragraph::new().add_run(run("Nơi nhận:", SMALL).bold().italic())];
        recipients
            .extend(self.recipients.iter().map(|r| Paragraph::new().add_run(run(&format!("- {r};"), RECIPIENTS))));
        let signer = vec![
            centred(run(&self.signer_title.to_uppercase(), BODY).bold()),
            Paragraph::new(),
            Paragraph::new(),
            Paragraph::new(),
            centred(run(&self.signer_name, BODY).bold()),
        ];
        let footer = Table::without_borders(vec![TableRow::new(vec![cell(recipients, left), cell(signer, right)])])
            .set_grid(vec![left, right]);
        let doc = doc.add_paragraph(Paragraph::new()).add_table(footer);
        let mut out = Cursor::new(Vec::new());
        doc.build().pack(&mut out).expect("a document packs into memory");
        out.into_inner()
    }
}
