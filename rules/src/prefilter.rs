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
    /// Every group must be met, a group by any one of its folded strings appearing in the
    /// record's text (see [`folded_text`]; a NUL in a string anchors it to a value's start or end).
    AllOf(Vec<Vec<String>>),
}

/// Groups kept per rule: past three, more checks cost more than they save.
const MAX_GROUPS: usize = 3;

impl Need {
    /// One group: any of these strings.
    pub fn any_of(mut literals: Vec<String>) -> Need {
        literals.sort();
        literals.dedup();
        Need::AllOf(vec![literals])
    }

    fn and(self, other: Need) -> Need {
        match (self, other) {
            (Need::Always, n) | (n, Need::Always) => n,
            (Need::AllOf(mut a), Need::AllOf(b)) => {
                for g in b {
                    if !a.contains(&g) {
                        a.push(g);
                    }
                }
                a.sort_by_key(|g| std::cmp::Reverse(selectivity(g)));
                a.truncate(MAX_GROUPS);
                Need::AllOf(a)
            }
        }
    }

    /// Either side: the union of each side's most selective group (each side's match implies
    /// its best group is met).
    fn or(self, other: Need) -> Need {
        match (self, other) {
            (Need::AllOf(a), Need::AllOf(b)) => {
                let best =
                    |groups: Vec<Vec<String>>| groups.into_iter().max_by_key(|g| selectivity(g)).unwrap_or_default();
                let mut union = best(a);
                union.extend(best(b));
                Need::any_of(union)
            }
            _ => Need::Always,
        }
    }
}

/// Longer strings are rarer (an anchor counts as a character); fewer alternatives are rarer
/// still.
fn selectivity(lits: &[String]) -> (usize, std::cmp::Reverse<usize>) {
    (lits.iter().map(|l| l.chars().count()).min().unwrap_or(0), std::cmp::Reverse(lits.len()))
}

/// Lower-cases as sigma-rust does (character by character), so a needle and a value compare
/// the way the rule would.
pub fn fold(s: &str) -> String {
    if s.is_ascii() { s.to_ascii_lowercase() } else { s.chars().flat_map(char::to_lowercase).collect() }
}

/// Every value of the record, folded as sigma-rust compares them, each between NULs: no
/// needle holds a NUL inside, so none spans two values, and a needle for a whole value or its
/// start or end carries the NUL that anchors it. Values the evaluated event holds beyond the
/// record's own (derived fields) must be appended with [`push_value`]. Derived and mapped fields are parts or copies of
/// these values, so the text covers them too.
pub fn folded_text(fields: &serde_json::Map<String, serde_json::Value>, text: &mut String) {
    text.clear();
    text.push('\0');
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

/// Appends one more value to a folded text (values a detector derives from the record's, such
/// as the parts of a URI, which an anchored needle must find whole).
pub fn push_value(text: &mut String, value: &str) {
    push_folded(text, value);
    text.push('\0');
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
            Need::AllOf(groups) if groups.is_empty() || groups.iter().any(Vec::is_empty) => Need::Always,
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
                other => literal(other, false, false).map_or(Need::Always, |l| Need::any_of(vec![l])),
            })
            .reduce(Need::or)
            .unwrap_or(Need::Always),
        Value::String(_) => literal(v, false, false).map_or(Need::Always, |l| Need::any_of(vec![l])),
        _ => Need::Always,
    }
}

/// Modifiers under which a value's wildcard-free text must appear in the field's value.
const PLAIN_MODIFIERS: [&str; 5] = ["contains", "startswith", "endswith", "all", "cased"];

fn field_need(key: &str, value: &Value) -> Need {
    let modifiers: Vec<&str> = key.split('|').skip(1).collect();
    let values: Vec<&Value> = match value {
        Value::Sequence(items) => items.iter().collect(),
        v => vec![v],
    };
    if values.is_empty() {
        return Need::Always;
    }
    if modifiers == ["re"] {
        // Only `re` alone: with `re|all` or other flags, stay safe.
        return values
            .iter()
            .map(|v| v.as_str().and_then(regex_prefixes))
            .collect::<Option<Vec<Vec<String>>>>()
            .map_or(Need::Always, |sets| Need::any_of(sets.concat()));
    }
    if modifiers.iter().any(|m| !PLAIN_MODIFIERS.contains(m)) {
        return Need::Always;
    }
    // Without `contains`, the value is anchored where it has no wildcard: the whole value
    // for equality, its start for `startswith`, its end for `endswith`.
    let contains = modifiers.contains(&"contains");
    let at_start = !contains && !modifiers.contains(&"endswith");
    let at_end = !contains && !modifiers.contains(&"startswith");
    let literals: Vec<Option<String>> = values.iter().map(|v| literal(v, at_start, at_end)).collect();
    if modifiers.contains(&"all") {
        // Every value must be there: each is a group of its own.
        return literals.into_iter().flatten().map(|l| Need::any_of(vec![l])).fold(Need::Always, Need::and);
    }
    match literals.into_iter().collect::<Option<Vec<String>>>() {
        Some(all) => Need::any_of(all),
        None => Need::Always,
    }
}

/// The longest wildcard-free run of a Sigma string value, folded, with a NUL before it when
/// it must start the field's value (`at_start` and no wildcard before it) and after it when it
/// must end it; `None` for values that are not plain strings or have no such run.
fn literal(v: &Value, at_start: bool, at_end: bool) -> Option<String> {
    let s = v.as_str()?;
    let mut runs: Vec<String> = vec![String::new()];
    let mut chars = s.chars();
    // Sigma escapes: `\*`, `\?` and `\\` are the characters themselves; any other backslash
    // is literal (as sigma-rust's tokenizer reads it).
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' => runs.push(String::new()),
            '\\' => match chars.clone().next() {
                Some(n @ ('*' | '?' | '\\')) => {
                    chars.next();
                    runs.last_mut().expect("one run").push(n);
                }
                _ => runs.last_mut().expect("one run").push('\\'),
            },
            c => runs.last_mut().expect("one run").push(c),
        }
    }
    let last = runs.len() - 1;
    let anchored: Vec<String> = runs
        .into_iter()
        .enumerate()
        .filter(|(_, r)| !r.is_empty() && !r.contains('\0'))
        .map(|(i, r)| {
            let mut l = fold(&r);
            if at_start && i == 0 {
                l.insert(0, '\0');
            }
            if at_end && i == last {
                l.push('\0');
            }
            l
        })
        .collect();
    anchored.into_iter().max_by_key(|l| l.chars().count())
}

/// Strings one of which starts every match of a regular expression (folded), or `None` when
/// there is no finite set of them.
fn regex_prefixes(pattern: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::parse(pattern).ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let literals = seq.literals()?;
    let folded: Option<Vec<String>> = literals
        .iter()
        .map(|l| std::str::from_utf8(l.as_bytes()).ok().filter(|s| !s.is_empty() && !s.contains('\0')).map(fold))
        .collect();
    folded.filter(|f| !f.is_empty())
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
    /// Per rule, its groups as pattern ids (empty for rules always evaluated).
    groups: Vec<Vec<Vec<usize>>>,
    /// Rules evaluated whatever the record holds.
    always: Vec<usize>,
}

impl Prefilter {
    pub fn new(needs: &[Need]) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<usize>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let mut always = Vec::new();
        let mut groups = vec![Vec::new(); needs.len()];
        for (rule, need) in needs.iter().enumerate() {
            match need {
                Need::Always => always.push(rule),
                Need::AllOf(gs) => {
                    for g in gs {
                        let ids: Vec<usize> = g
                            .iter()
                            .map(|l| {
                                *index.entry(l.clone()).or_insert_with(|| {
                                    patterns.push(l.clone());
                                    pattern_rules.push(Vec::new());
                                    patterns.len() - 1
                                })
                            })
                            .collect();
                        for &id in &ids {
                            if pattern_rules[id].last() != Some(&rule) {
                                pattern_rules[id].push(rule);
                            }
                        }
                        groups[rule].push(ids);
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
            groups.iter_mut().for_each(Vec::clear);
        }
        Self { automaton, pattern_rules, groups, always }
    }

    /// Marks in `candidates` (one flag per rule) the rules worth evaluating on a record whose
    /// folded text (see [`folded_text`]) is `text`.
    pub fn candidates(&self, text: &str, candidates: &mut Vec<bool>) {
        candidates.clear();
        candidates.resize(self.groups.len(), false);
        for &r in &self.always {
            candidates[r] = true;
        }
        let Some(ac) = &self.automaton else { return };
        let mut hit = vec![false; self.pattern_rules.len()];
        let mut touched: Vec<usize> = Vec::new();
        for m in ac.find_overlapping_iter(text) {
            let p = m.pattern().as_usize();
            if !hit[p] {
                hit[p] = true;
                touched.extend(&self.pattern_rules[p]);
            }
        }
        for r in touched {
            if !candidates[r] && self.groups[r].iter().all(|g| g.iter().any(|p| hit[*p])) {
                candidates[r] = true;
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
        Need::any_of(l.iter().map(|s| s.to_string()).collect())
    }

    fn all(groups: &[&[&str]]) -> Need {
        Need::AllOf(groups.iter().map(|g| g.iter().map(|s| s.to_string()).collect()).collect())
    }

    #[test]
    fn value_lists_and_selections() {
        // Each value needs its longest wildcard-free run, folded.
        assert_eq!(
            need("sel:\n  uri|contains: ['/Etc/Passwd', '*union*select*']\ncondition: sel\n"),
            any(&["/etc/passwd", "select"])
        );
        // Every field of a selection is a group; equality and ends are anchored by NUL.
        assert_eq!(
            need("sel:\n  method: POST\n  uri|endswith: '/login.php'\ncondition: sel\n"),
            all(&[&["/login.php\0"], &["\0post\0"]])
        );
        assert_eq!(need("sel:\n  uri|startswith: '/api/*/x'\ncondition: sel\n"), any(&["\0/api/"]));
        // A list of maps is an or.
        assert_eq!(
            need("sel:\n  - query: a.dyndns.org\n  - query: b.no-ip.com\ncondition: sel\n"),
            any(&["\0a.dyndns.org\0", "\0b.no-ip.com\0"])
        );
        // Escaped wildcards are literal characters.
        assert_eq!(need("sel:\n  uri|contains: 'what\\?x'\ncondition: sel\n"), any(&["what?x"]));
    }

    #[test]
    fn conditions() {
        let d = "a:\n  query|endswith: '.duckdns.org'\nb:\n  user_agent|contains: sqlmap\nfilter:\n  host: intranet\n";
        assert_eq!(need(&format!("{d}condition: a or b\n")), any(&[".duckdns.org\0", "sqlmap"]));
        assert_eq!(need(&format!("{d}condition: a and not filter\n")), any(&[".duckdns.org\0"]));
        assert_eq!(need(&format!("{d}condition: not filter\n")), Need::Always);
        // An or keeps each side's most selective group.
        assert_eq!(
            need(&format!("{d}condition: 1 of a* or (b and filter)\n")),
            any(&[".duckdns.org\0", "\0intranet\0"])
        );
        assert_eq!(
            need(&format!("{d}condition: all of them\n")),
            all(&[&[".duckdns.org\0"], &["\0intranet\0"], &["sqlmap"]])
        );
        assert_eq!(need("sel:\n  uri|contains|all: ['ab', 'abcdef']\ncondition: sel\n"), all(&[&["abcdef"], &["ab"]]));
        assert_eq!(need("keywords:\n  - '*Nikto*'\ncondition: keywords\n"), any(&["nikto"]));
        // What cannot be parsed or reduced is always evaluated.
        assert_eq!(need(&format!("{d}condition: a | count() > 5\n")), Need::Always);
        assert_eq!(need("sel:\n  uri|re: '.*x'\ncondition: sel\n"), Need::Always);
        assert_eq!(need("sel:\n  dst_port: 445\ncondition: sel\n"), Need::Always);
        assert_eq!(need("sel:\n  uri|contains: ['x', null]\ncondition: sel\n"), Need::Always);
        assert_eq!(need("sel:\n  uri|base64: 'x'\ncondition: sel\n"), Need::Always);
    }

    #[test]
    fn regular_expressions_need_their_prefixes() {
        let Need::AllOf(groups) = need("sel:\n  uri|re: '(?i)(IPFS\\.io/|ipfs\\.io\\s).+@'\ncondition: sel\n") else {
            panic!("a finite prefix set")
        };
        assert_eq!(groups.len(), 1);
        // `(?i)` folds the long s (ſ) with s; both stay.
        assert_eq!(groups[0], ["ipfs.io", "ipfſ.io"]);
    }

    #[test]
    fn candidates_are_found_in_folded_text() {
        let p = Prefilter::new(&[
            any(&["sqlmap"]),
            Need::Always,
            any(&["/etc/passwd", "đăng nhập"]),
            all(&[&["\0get\0"], &["${"]]),
        ]);
        let mut c = Vec::new();
        p.candidates("\0get\0/index.html\0curl/8\0", &mut c);
        assert_eq!(c, [false, true, false, false]);
        p.candidates(&fold("\0GET\0/x?f=../../ETC/PASSWD\0SQLMAP/1.8\0"), &mut c);
        assert_eq!(c, [true, true, true, false]);
        p.candidates(&fold("\0ĐĂNG NHẬP\0"), &mut c);
        assert_eq!(c, [false, true, true, false]);
        // Both groups, and the whole value for the anchored one.
        p.candidates("\0get\0/x?q=${jndi\0", &mut c);
        assert_eq!(c, [false, true, false, true]);
        p.candidates("\0getx\0/x?q=${jndi\0", &mut c);
        assert_eq!(c, [false, true, false, false]);
    }

    #[test]
    fn folded_text_puts_each_value_between_nuls() {
        let fields = serde_json::json!({"method": "GET", "uri": "/A", "port": 80, "tags": ["X", "y"], "none": null});
        let mut text = String::new();
        folded_text(fields.as_object().unwrap(), &mut text);
        assert!(text.starts_with('\0') && text.ends_with('\0'));
        // In the map's key order, which depends on serde_json's features.
        let mut values: Vec<&str> = text.trim_matches('\0').split('\0').collect();
        values.sort();
        assert_eq!(values, ["/a", "80", "get", "x,y"]);
    }
}
