//! Text from the network made safe for where it is shown. A record's URI, user agent, DNS name
//! or certificate subject is written by whoever sent the packets: on a terminal an escape
//! sequence in it could clear the screen, rewrite what was printed or set the window title; in
//! a spreadsheet a cell that starts like a formula runs as one.

use std::borrow::Cow;

/// `s` with every character that a terminal would act on written out instead: C0 and C1
/// control characters (ESC, CR, LF, BEL, …) and DEL as `\x1b`-style escapes, and the Unicode
/// controls that reorder or hide text (bidirectional overrides and isolates, zero-width
/// joiners) as `\u{202e}`-style escapes. A backslash stays itself: the escapes are for the
/// reader, not a format to parse back.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(acts_on_terminal) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !acts_on_terminal(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

fn acts_on_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// A CSV cell that a spreadsheet will not run: a value starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return gets a leading `'` (OWASP's advice for CSV injection), which
/// spreadsheets show as text. Only text is passed here: numbers from the records are numbers.
pub fn spreadsheet_cell(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { Cow::Owned(format!("'{s}")) } else { Cow::Borrowed(s) }
}

/// A line cut to `width` columns of the terminal, with `…` where it was cut.
pub fn fit(line: &str, width: usize) -> Cow<'_, str> {
    console::truncate_str(line, width, "…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_what_a_terminal_would_act_on() {
        // Clear the screen, set the window title, a new line, a bidi override.
        let uri = "/a\x1b[2J\x1b]0;pwned\x07\r\nb\u{202e}gpj.exe";
        assert_eq!(terminal(uri), r"/a\x1b[2J\x1b]0;pwned\x07\x0d\x0ab\u{202e}gpj.exe");
        assert!(matches!(terminal("/tracuu?ma=Hồ sơ"), Cow::Borrowed(_)));
        assert_eq!(terminal("a\u{9b}b\u{7f}"), r"a\x9bb\x7f");
    }

    #[test]
    fn formulas_do_not_run() {
        for bad in ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(spreadsheet_cell(bad).starts_with('\''), "{bad}");
        }
        assert_eq!(spreadsheet_cell("GET /index.php?a=1"), "GET /index.php?a=1");
    }

    #[test]
    fn lines_fit_the_terminal() {
        assert_eq!(fit("abcdefghij", 5), "abcd…");
        assert_eq!(fit("abc", 5), "abc");
        // Wide characters count for two columns.
        assert_eq!(console::measure_text_width(&fit("水水水水水", 6)), 5);
    }
}
