//! A literal prefilter for Sigma rules, so that a record meets sigma-rust only for the rules it
//! could match.
//!
//! sigma-rust evaluates a rule by walking the record's values character by character, once
//! per value a rule names (LIBRARIES.md §1.3): tens of microseconds for a rule with long value
//! lists, which is too much per record at line rate. Most rules cannot match most records, and
//! that is cheap to prove: a rule whose every match needs one of a few strings to appear in
//! one of the record's values is skipped when none of them does. One Aho-Corasick pass over
//! the record's lower-cased values finds the rules worth evaluating.
//!
//! The needs are *necessary* conditions, derived from the detection: a field's value list
//! needs any one of its literals (all of them with `|all`); a selection needs what its most
//! selective field needs; `and` keeps the better side, `or` the union. Whatever cannot be
//! reduced to a literal — `not`, regular expressions, numbers, null, encodings (`base64`,
//! `windash`, …), comparisons, CIDR, field references — makes that part "always evaluate". So
//! the prefilter may let a record through that the rule rejects, never the reverse.

use aho_corasick::{AhoCorasick, MatchKind};
use serde_norway::Value;

/// What a rule needs to see in a record's values before it can match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Nothing known: always evaluate the rule.
    Always,
    /// At least one of these lower-cased strings, as a substring of some value.
    AnyOf(Vec<String>),
}

impl Need {
    fn and(self, other: Need) -> Need {
        match (self, other) {
            (Need::Always, n) | (n, Need::Always) => n,
            (Need::AnyOf(a), Need::AnyOf(b)) => Need::AnyOf(if selectivity(&a) >= selectivity(&b) { a } else { b }),
        }
    }

    fn or(self, other: Need) -> Need {
        match (self, other) {
            (Need::AnyOf(mut a), Need::AnyOf(b)) => {
                a.extend(b);
                any_of(a)
            }
            _ => Need::Always,
        }
    }
}

fn any_of(mut literals: Vec<String>) -> Need {
    literals.sort();
    literals.dedup();
    Need::AnyOf(literals)
}

/// Longer literals are rarer; fewer alternatives are rarer still.
fn selectivity(lits: &[String]) -> (usize, std::cmp::Reverse<usize>) {
    (lits.iter().map(|l| l.chars().count()).min().unwrap_or(0), std::cmp::Reverse(lits.len()))
}

/// Lower-cases as sigma-rust does (character by character), so a needle and a value compare
/// the way the rule would.
pub fn fold(s: &str) -> String {
    if s.is_ascii() { s.to_ascii_lowercase() } else { s.chars().flat_map(char::to_lowercase).collect() }
}

/// Every value of the record, folded as sigma-rust compares them, separated by NUL (no needle
/// holds one, so none spans two values). Derived and mapped fields are parts or copies of
/// these values, so the text covers them too.
pub fn folded_text(fields: &serde_json::Map<String, serde_json::Value>, text: &mut String) {
    text.clear();
    for v in fields.values() {
        match v {
            serde_json::Value::String(s) => push_folded(text, s),
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        text.push(',');
                    }
                    match item.as_str() {
                        Some(s) => push_folded(text, s),
                        None => text.push_str(&item.to_string()),
                    }
                }
            }
            serde_json::Value::Null | serde_json::Value::Object(_) => continue,
            other => text.push_str(&other.to_string()),
        }
        text.push('\0');
    }
}

fn push_folded(text: &mut String, s: &str) {
    if s.is_ascii() {
        text.extend(s.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        text.extend(s.chars().flat_map(char::to_lowercase));
    }
}

/// The need of a rule's `detection` block (after the pre-pass of [`crate::sigma`]).
pub fn need_of(detection: &Value) -> Need {
    let Some(map) = detection.as_mapping() else { return Need::Always };
    let Some(condition) = map.get("condition").and_then(Value::as_str) else { return Need::Always };
    let selections: Vec<(String, Need)> = map
        .iter()
        .filter_map(|(k, v)| {
            let name = k.as_str()?;
            (!matches!(name, "condition" | "timeframe")).then(|| (name.to_string(), selection_need(v)))
        })
        .collect();
    let tokens = tokenize(condition);
    let mut parser = Parser { tokens: &tokens, pos: 0, selections: &selections };
    match parser.expr() {
        Some(need) if parser.pos == tokens.len() => match need {
            Need::AnyOf(l) if l.is_empty() => Need::Always,
            n => n,
        },
        _ => Need::Always,
    }
}

fn selection_need(v: &Value) -> Need {
    match v {
        Value::Mapping(fields) if !fields.is_empty() => fields
            .iter()
            .map(|(k, v)| k.as_str().map_or(Need::Always, |key| field_need(key, v)))
            .fold(Need::Always, Need::and),
        Value::Sequence(items) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::Mapping(_) => selection_need(item),
                other => literal(other).map_or(Need::Always, |l| Need::AnyOf(vec![l])),
            })
            .reduce(Need::or)
            .unwrap_or(Need::Always),
        Value::String(_) => literal(v).map_or(Need::Always, |l| Need::AnyOf(vec![l])),
        _ => Need::Always,
    }
}

/// Modifiers under which a value's wildcard-free text must appear in the field's value.
const PLAIN_MODIFIERS: [&str; 5] = ["contains", "startswith", "endswith", "all", "cased"];

fn field_need(key: &str, value: &Value) -> Need {
    let modifiers: Vec<&str> = key.split('|').skip(1).collect();
    if modifiers.iter().any(|m| !PLAIN_MODIFIERS.contains(m)) {
        return Need::Always;
    }
    let values: Vec<&Value> = match value {
        Value::Sequence(items) => items.iter().collect(),
        v => vec![v],
    };
    let literals: Vec<Option<String>> = values.iter().map(|v| literal(v)).collect();
    if literals.is_empty() {
        return Need::Always;
    }
    if modifiers.contains(&"all") {
        // Every value must be there: any one of them is needed.
        return literals.into_iter().flatten().map(|l| Need::AnyOf(vec![l])).fold(Need::Always, Need::and);
    }
    match literals.into_iter().collect::<Option<Vec<String>>>() {
        Some(all) => any_of(all),
        None => Need::Always,
    }
}

/// The longest wildcard-free run of a Sigma string value, folded; `None` for values that are
/// not plain strings or have no such run.
fn literal(v: &Value) -> Option<String> {
    let s = v.as_str()?;
    let mut best = String::new();
    let mut run = String::new();
    let mut chars = s.chars();
    // Sigma escapes: `\*`, `\?` and `\\` are the characters themselves; any other backslash is
    // literal (as sigma-rust's tokenizer reads it).
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' => {
                if run.chars().count() > best.chars().count() {
                    best = std::mem::take(&mut run);
                }
                run.clear();
            }
            '\\' => match chars.clone().next() {
                Some(n @ ('*' | '?' | '\\')) => {
                    chars.next();
                    run.push(n);
                }
                _ => run.push('\\'),
            },
            c => run.push(c),
        }
    }
    if run.chars().count() > best.chars().count() {
        best = run;
    }
    (!best.is_empty() && !best.contains('\0')).then(|| fold(&best))
}

fn tokenize(condition: &str) -> Vec<String> {
    condition.replace('(', " ( ").replace(')', " ) ").split_whitespace().map(str::to_string).collect()
}

struct Parser<'a> {
    tokens: &'a [String],
    pos: usize,
    selections: &'a [(String, Need)],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }

    fn expr(&mut self) -> Option<Need> {
        let mut need = self.term()?;
        while self.peek().is_some_and(|t| t.eq_ignore_ascii_case("or")) {
            self.pos += 1;
            need = need.or(self.term()?);
        }
        Some(need)
    }

    fn term(&mut self) -> Option<Need> {
        let mut need = self.factor()?;
        while self.peek().is_some_and(|t| t.eq_ignore_ascii_case("and")) {
            self.pos += 1;
            need = need.and(self.factor()?);
        }
        Some(need)
    }

    fn factor(&mut self) -> Option<Need> {
        let token = self.peek()?.to_string();
        self.pos += 1;
        if token.eq_ignore_ascii_case("not") {
            self.factor()?;
            return Some(Need::Always);
        }
        if token == "(" {
            let need = self.expr()?;
            return (self.peek() == Some(")")).then(|| {
                self.pos += 1;
                need
            });
        }
        if self.peek().is_some_and(|t| t.eq_ignore_ascii_case("of")) {
            self.pos += 1;
            let pattern = self.peek()?.to_string();
            self.pos += 1;
            let chosen: Vec<Need> =
                self.selections.iter().filter(|(name, _)| glob(&pattern, name)).map(|(_, n)| n.clone()).collect();
            if chosen.is_empty() {
                return None;
            }
            return match token.to_ascii_lowercase().as_str() {
                "all" => chosen.into_iter().reduce(Need::and),
                "1" | "any" => chosen.into_iter().reduce(Need::or),
                _ => None,
            };
        }
        self.selections.iter().find(|(name, _)| *name == token).map(|(_, n)| n.clone())
    }
}

/// `them` or a selection-name pattern with `*`.
fn glob(pattern: &str, name: &str) -> bool {
    if pattern == "them" {
        return true;
    }
    match pattern.split_once('*') {
        None => pattern == name,
        Some((prefix, rest)) => {
            name.starts_with(prefix)
                && name.len() >= prefix.len() + rest.len()
                && glob_tail(rest, &name[prefix.len()..])
        }
    }
}

fn glob_tail(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => name.ends_with(pattern),
        Some((part, rest)) => name.find(part).is_some_and(|i| glob_tail(rest, &name[i + part.len()..])),
    }
}

/// The needs of a rule set, compiled into one automaton.
pub struct Prefilter {
    automaton: Option<AhoCorasick>,
    /// Per pattern of the automaton, the rules that need it.
    pattern_rules: Vec<Vec<usize>>,
    /// Rules evaluated whatever the record holds.
    always: Vec<usize>,
    rules: usize,
}

impl Prefilter {
    pub fn new(needs: &[Need]) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<usize>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let mut always = Vec::new();
        for (rule, need) in needs.iter().enumerate() {
            match need {
                Need::Always => always.push(rule),
                Need::AnyOf(lits) => {
                    for l in lits {
                        let id = *index.entry(l.clone()).or_insert_with(|| {
                            patterns.push(l.clone());
                            pattern_rules.push(Vec::new());
                            patterns.len() - 1
                        });
                        pattern_rules[id].push(rule);
                    }
                }
            }
        }
        let automaton = (!patterns.is_empty())
            .then(|| AhoCorasick::builder().match_kind(MatchKind::Standard).build(&patterns).ok())
            .flatten();
        if automaton.is_none() {
            // Should not happen (the builder only fails past its size limits); evaluate all.
            always = (0..needs.len()).collect();
            pattern_rules.clear();
        }
        Self { automaton, pattern_rules, always, rules: needs.len() }
    }

    /// Marks in `candidates` (one flag per rule) the rules worth evaluating on a record whose
    /// folded values, separated by NUL, are `text`.
    pub fn candidates(&self, text: &str, candidates: &mut Vec<bool>) {
        candidates.clear();
        candidates.resize(self.rules, false);
        for &r in &self.always {
            candidates[r] = true;
        }
        if let Some(ac) = &self.automaton {
            for m in ac.find_overlapping_iter(text) {
                for &r in &self.pattern_rules[m.pattern().as_usize()] {
                    candidates[r] = true;
                }
            }
        }
    }

    /// Rules that are evaluated on every record (no literal could be derived).
    pub fn always(&self) -> usize {
        self.always.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(detection: &str) -> Need {
        need_of(&serde_norway::from_str(detection).unwrap())
    }

    fn any(l: &[&str]) -> Need {
        Need::AnyOf(l.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn value_lists_and_selections() {
        // Each value needs its longest wildcard-free run, folded.
        assert_eq!(
            need("sel:\n  uri|contains: ['/Etc/Passwd', '*union*select*']\ncondition: sel\n"),
            any(&["/etc/passwd", "select"])
        );
        // The most selective field of a selection wins.
        assert_eq!(need("sel:\n  method: POST\n  uri|endswith: '/login.php'\ncondition: sel\n"), any(&["/login.php"]));
        // A list of maps is an or.
        assert_eq!(
            need("sel:\n  - query: a.dyndns.org\n  - query: b.no-ip.com\ncondition: sel\n"),
            any(&["a.dyndns.org", "b.no-ip.com"])
        );
        // Escaped wildcards are literal characters.
        assert_eq!(need("sel:\n  uri|contains: 'what\\?x'\ncondition: sel\n"), any(&["what?x"]));
    }

    #[test]
    fn conditions() {
        let d = "a:\n  query|endswith: '.duckdns.org'\nb:\n  user_agent|contains: sqlmap\nfilter:\n  host: intranet\n";
        assert_eq!(need(&format!("{d}condition: a or b\n")), any(&[".duckdns.org", "sqlmap"]));
        assert_eq!(need(&format!("{d}condition: a and not filter\n")), any(&[".duckdns.org"]));
        assert_eq!(need(&format!("{d}condition: not filter\n")), Need::Always);
        // `and` keeps the rarer side: "intranet" is longer than "sqlmap".
        assert_eq!(need(&format!("{d}condition: 1 of a* or (b and filter)\n")), any(&[".duckdns.org", "intranet"]));
        assert_eq!(need(&format!("{d}condition: all of them\n")), any(&[".duckdns.org"]));
        // What cannot be parsed or reduced is always evaluated.
        assert_eq!(need(&format!("{d}condition: a | count() > 5\n")), Need::Always);
        assert_eq!(need("sel:\n  uri|re: 'a+b'\ncondition: sel\n"), Need::Always);
        assert_eq!(need("sel:\n  dst_port: 445\ncondition: sel\n"), Need::Always);
        assert_eq!(need("sel:\n  uri|contains|all: ['ab', 'abcdef']\ncondition: sel\n"), any(&["abcdef"]));
        assert_eq!(need("sel:\n  uri|contains: ['x', null]\ncondition: sel\n"), Need::Always);
        assert_eq!(need("keywords:\n  - '*Nikto*'\ncondition: keywords\n"), any(&["nikto"]));
    }

    #[test]
    fn candidates_are_found_in_folded_text() {
        let p = Prefilter::new(&[any(&["sqlmap"]), Need::Always, any(&["/etc/passwd", "đăng nhập"])]);
        let mut c = Vec::new();
        p.candidates("get\0/index.html\0curl/8", &mut c);
        assert_eq!(c, [false, true, false]);
        p.candidates(&fold("GET\0/x?f=../../ETC/PASSWD\0SQLMAP/1.8"), &mut c);
        assert_eq!(c, [true, true, true]);
        p.candidates(&fold("ĐĂNG NHẬP"), &mut c);
        assert_eq!(c, [false, true, true]);
    }
}
