//! A literal prefilter for Sigma rules, so that a record meets sigma-rust only for the rules it
//! could match.
//!
//! sigma-rust evaluates a rule by walking the record's values character by character, once
//! per value a rule names (ARCHITECTURE.md, "Detection with sigma-rust"): tens of microseconds for a rule with long value
//! lists, which is too much per record at line rate. Most rules cannot match most records, and
//! that is cheap to prove: a rule whose every match needs one of a few strings to appear in
//! one of the record's values is skipped when none of them does. One Aho-Corasick pass over
//! the record's lower-cased values finds the rules worth evaluating.
//!
//! A literal counts only in the fields its rule reads it from: `'OK'` in a list of malware
//! user agents must not send every HTTP response whose status message is "OK" to sigma-rust.
//! Each value of the text carries the bit of its field, and each literal the bits of the
//! record fields its Sigma field can read (its own name, and what the field map maps it to).
//!
//! The needs are *necessary* conditions, derived from the detection: a field's value list
//! needs any one of its literals (all of them with `|all`); a selection needs what its most
//! selective field needs; `and` keeps the better side, `or` the union. Whatever cannot be
//! reduced to a literal — `not`, regular expressions, numbers, null, encodings (`base64`,
//! `windash`, …), comparisons, CIDR, field references — makes that part "always evaluate". So
//! the prefilter may let a record through that the rule rejects, never the reverse.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use serde_norway::Value;

/// A folded string a rule needs in one of a record's values (a NUL in it anchors it to the
/// value's start or end), in the field the rule names — `None` for a keyword, which may be in
/// any field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Literal {
    pub field: Option<String>,
    pub text: String,
}

impl Literal {
    pub fn new(field: Option<&str>, text: impl Into<String>) -> Self {
        Self { field: field.map(str::to_string), text: text.into() }
    }
}

/// What a rule needs to see in a record's values before it can match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Nothing known: always evaluate the rule.
    Always,
    /// Every group must be met, a group by any one of its literals appearing in the record's
    /// text (see [`RecordText`]).
    AllOf(Vec<Vec<Literal>>),
}

/// Groups kept per rule: past three, more checks cost more than they save.
const MAX_GROUPS: usize = 3;

impl Need {
    /// One group: any of these strings.
    pub fn any_of(mut literals: Vec<Literal>) -> Need {
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
                    |groups: Vec<Vec<Literal>>| groups.into_iter().max_by_key(|g| selectivity(g)).unwrap_or_default();
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
fn selectivity(lits: &[Literal]) -> (usize, std::cmp::Reverse<usize>) {
    (lits.iter().map(|l| l.text.chars().count()).min().unwrap_or(0), std::cmp::Reverse(lits.len()))
}

/// Lower-cases as sigma-rust does (character by character), so a needle and a value compare
/// the way the rule would.
pub fn fold(s: &str) -> String {
    let mut folded = String::with_capacity(s.len());
    push_folded(&mut folded, s);
    folded
}

fn push_folded(text: &mut String, s: &str) {
    if s.is_ascii() {
        let start = text.len();
        text.push_str(s);
        text[start..].make_ascii_lowercase();
    } else {
        text.extend(s.chars().flat_map(char::to_lowercase));
    }
}

/// A record's values as the prefilter searches them: folded as sigma-rust compares them, each
/// between NULs (no literal holds a NUL inside, so none spans two values, and a literal for a
/// whole value or its start or end carries the NUL that anchors it), each remembered with the
/// bit of its field. Kept per thread and reused: [`Prefilter::text_of`] fills it.
#[derive(Default)]
pub struct RecordText {
    text: String,
    /// Where each value's leading NUL is, and its field's bit; in order.
    values: Vec<(usize, u64)>,
    /// Per pattern, the bits of the fields it was found in (scratch of `candidates`).
    found: Vec<u64>,
    touched: Vec<usize>,
    rules: Vec<usize>,
}

impl RecordText {
    /// Starts the text of a new record.
    pub fn clear(&mut self) {
        self.text.clear();
        self.values.clear();
        self.text.push('\0');
    }

    /// Appends a value of the field whose bit is `bit` ([`Prefilter::bit`]), folded.
    pub fn push(&mut self, bit: u64, value: &str) {
        // The value starts at the NUL before it (which ends the value before).
        self.values.push((self.text.len() - 1, bit));
        push_folded(&mut self.text, value);
        self.text.push('\0');
    }

    /// The folded text, values between NULs.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The bit of the value a match starting at `at` is in.
    fn bit_at(&self, at: usize) -> u64 {
        let i = self.values.partition_point(|(start, _)| *start <= at);
        self.values.get(i.wrapping_sub(1)).map_or(0, |v| v.1)
    }
}

/// The bit of values no literal of a field reads (in the text only for keywords), and of the
/// fields past the 63rd that literals read.
const OTHER: u64 = 1 << 63;

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
                other => keyword(other),
            })
            .reduce(Need::or)
            .unwrap_or(Need::Always),
        Value::String(_) => keyword(v),
        _ => Need::Always,
    }
}

/// A keyword: its text anywhere, in any field.
fn keyword(v: &Value) -> Need {
    literal(v, false, false).map_or(Need::Always, |l| Need::any_of(vec![Literal::new(None, l)]))
}

/// Modifiers under which a value's wildcard-free text must appear in the field's value.
const PLAIN_MODIFIERS: [&str; 5] = ["contains", "startswith", "endswith", "all", "cased"];

fn field_need(key: &str, value: &Value) -> Need {
    let mut parts = key.split('|');
    let field = parts.next();
    let modifiers: Vec<&str> = parts.collect();
    let lit = |text: String| Literal::new(field, text);
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
            .map_or(Need::Always, |sets| Need::any_of(sets.concat().into_iter().map(lit).collect()));
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
        return literals.into_iter().flatten().map(|l| Need::any_of(vec![lit(l)])).fold(Need::Always, Need::and);
    }
    match literals.into_iter().collect::<Option<Vec<String>>>() {
        Some(all) => Need::any_of(all.into_iter().map(lit).collect()),
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
    /// Per rule, its groups as (pattern id, bits of the fields it counts in); empty for rules
    /// always evaluated.
    groups: Vec<Vec<Vec<(usize, u64)>>>,
    /// Rules evaluated whatever the record holds.
    always: Vec<usize>,
    /// Record field → its bit. A field without one goes into the text only when a keyword
    /// (a literal of any field) needs it, under [`OTHER`].
    bits: HashMap<String, u64, foldhash::fast::RandomState>,
    keywords: bool,
}

impl Prefilter {
    /// A prefilter for events whose field names are the rules' own (flattened Windows events).
    pub fn new(needs: &[Need]) -> Self {
        Self::with_fields(needs, |field| vec![field.to_string()])
    }

    /// A prefilter for records whose fields a rule's field may read under other names:
    /// `reads(field)` gives every record field a Sigma field name can read (for Canh's records,
    /// its own name and what the field map maps it to).
    pub fn with_fields(needs: &[Need], reads: impl Fn(&str) -> Vec<String>) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<usize>> = Vec::new();
        let mut index = HashMap::new();
        let mut always = Vec::new();
        let mut groups = vec![Vec::new(); needs.len()];
        let mut bits: HashMap<String, u64, foldhash::fast::RandomState> = HashMap::default();
        let mut keywords = false;
        let mut mask_of = |field: &Option<String>| -> u64 {
            let Some(field) = field else {
                keywords = true;
                return u64::MAX;
            };
            reads(field).into_iter().fold(0, |mask, name| {
                let next = bits.len();
                mask | *bits.entry(name).or_insert(if next < 63 { 1 << next } else { OTHER })
            })
        };
        for (rule, need) in needs.iter().enumerate() {
            match need {
                Need::Always => always.push(rule),
                Need::AllOf(gs) => {
                    for g in gs {
                        let mut members = Vec::new();
                        for l in g {
                            let id = *index.entry(l.text.clone()).or_insert_with(|| {
                                patterns.push(l.text.clone());
                                pattern_rules.push(Vec::new());
                                patterns.len() - 1
                            });
                            if pattern_rules[id].last() != Some(&rule) {
                                pattern_rules[id].push(rule);
                            }
                            members.push((id, mask_of(&l.field)));
                        }
                        groups[rule].push(members);
                    }
                }
            }
        }
        let automaton = (!patterns.is_empty())
            // A DFA: built once per rule load, searched on every record. Past its size limit,
            // the builder's own choice.
            .then(|| {
                let mut builder = AhoCorasick::builder();
                builder.match_kind(MatchKind::Standard);
                builder
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&patterns)
                    .or_else(|_| builder.kind(None).build(&patterns))
                    .ok()
            })
            .flatten();
        if automaton.is_none() {
            // Should not happen (the builder only fails past its size limits); evaluate all.
            always = (0..needs.len()).collect();
            pattern_rules.clear();
            groups.iter_mut().for_each(Vec::clear);
        }
        Self { automaton, pattern_rules, groups, always, bits, keywords }
    }

    /// The bit the values of field `name` carry in a record's text; `None` when no literal
    /// reads the field, so its values need not be in the text at all.
    pub fn bit(&self, name: &str) -> Option<u64> {
        match self.bits.get(name) {
            Some(bit) => Some(*bit),
            None if self.keywords => Some(OTHER),
            None => None,
        }
    }

    /// Fills `out` with a JSON event's values (see [`RecordText`]), as sigma-rust reads them.
    pub fn text_of(&self, fields: &serde_json::Map<String, serde_json::Value>, out: &mut RecordText) {
        use serde_json::Value as J;
        out.clear();
        let mut value = String::new();
        for (name, v) in fields {
            let Some(bit) = self.bit(name) else { continue };
            value.clear();
            match v {
                // sigma-rust events leave these out too (`sigma::insert_json`).
                J::Null | J::Object(_) => continue,
                J::String(s) => value.push_str(s),
                // Joined as `sigma::insert_json` joins them.
                J::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            value.push(',');
                        }
                        match item.as_str() {
                            Some(s) => value.push_str(s),
                            None => value.push_str(&item.to_string()),
                        }
                    }
                }
                J::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                    // As sigma-rust writes a number it holds (Rust's own formatting).
                    (Some(i), _, _) => value.push_str(&i.to_string()),
                    (_, Some(u), _) => value.push_str(&u.to_string()),
                    (_, _, Some(f)) => value.push_str(&f.to_string()),
                    _ => continue,
                },
                J::Bool(b) => value.push_str(if *b { "true" } else { "false" }),
            }
            out.push(bit, &value);
        }
    }

    /// Marks in `candidates` (one flag per rule) the rules worth evaluating on a record whose
    /// text is `text`.
    pub fn candidates(&self, text: &mut RecordText, candidates: &mut Vec<bool>) {
        candidates.clear();
        candidates.resize(self.groups.len(), false);
        for &r in &self.always {
            candidates[r] = true;
        }
        let Some(ac) = &self.automaton else { return };
        text.found.resize(self.pattern_rules.len(), 0);
        text.touched.clear();
        text.rules.clear();
        for m in ac.find_overlapping_iter(&text.text) {
            let (p, bit) = (m.pattern().as_usize(), text.bit_at(m.start()));
            if text.found[p] == 0 {
                text.touched.push(p);
                text.rules.extend(&self.pattern_rules[p]);
            }
            text.found[p] |= bit;
        }
        for &r in &text.rules {
            if !candidates[r] && self.groups[r].iter().all(|g| g.iter().any(|(p, mask)| text.found[*p] & mask != 0)) {
                candidates[r] = true;
            }
        }
        for &p in &text.touched {
            text.found[p] = 0;
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

    /// A literal of a field (`field:text`), or a keyword (no colon).
    fn lit(spec: &str) -> Literal {
        match spec.split_once(':') {
            Some((field, text)) => Literal::new(Some(field), text),
            None => Literal::new(None, spec),
        }
    }

    fn any(l: &[&str]) -> Need {
        Need::any_of(l.iter().map(|s| lit(s)).collect())
    }

    fn all(groups: &[&[&str]]) -> Need {
        Need::AllOf(groups.iter().map(|g| g.iter().map(|s| lit(s)).collect()).collect())
    }

    #[test]
    fn value_lists_and_selections() {
        // Each value needs its longest wildcard-free run, folded, in the field it is for.
        assert_eq!(
            need("sel:\n  uri|contains: ['/Etc/Passwd', '*union*select*']\ncondition: sel\n"),
            any(&["uri:/etc/passwd", "uri:select"])
        );
        // Every field of a selection is a group; equality and ends are anchored by NUL.
        assert_eq!(
            need("sel:\n  method: POST\n  uri|endswith: '/login.php'\ncondition: sel\n"),
            all(&[&["uri:/login.php\0"], &["method:\0post\0"]])
        );
        assert_eq!(need("sel:\n  uri|startswith: '/api/*/x'\ncondition: sel\n"), any(&["uri:\0/api/"]));
        // A list of maps is an or.
        assert_eq!(
            need("sel:\n  - query: a.dyndns.org\n  - query: b.no-ip.com\ncondition: sel\n"),
            any(&["query:\0a.dyndns.org\0", "query:\0b.no-ip.com\0"])
        );
        // Escaped wildcards are literal characters.
        assert_eq!(need("sel:\n  uri|contains: 'what\\?x'\ncondition: sel\n"), any(&["uri:what?x"]));
    }

    #[test]
    fn conditions() {
        let d = "a:\n  query|endswith: '.duckdns.org'\nb:\n  user_agent|contains: sqlmap\nfilter:\n  host: intranet\n";
        assert_eq!(need(&format!("{d}condition: a or b\n")), any(&["query:.duckdns.org\0", "user_agent:sqlmap"]));
        assert_eq!(need(&format!("{d}condition: a and not filter\n")), any(&["query:.duckdns.org\0"]));
        assert_eq!(need(&format!("{d}condition: not filter\n")), Need::Always);
        // An or keeps each side's most selective group.
        assert_eq!(
            need(&format!("{d}condition: 1 of a* or (b and filter)\n")),
            any(&["query:.duckdns.org\0", "host:\0intranet\0"])
        );
        assert_eq!(
            need(&format!("{d}condition: all of them\n")),
            all(&[&["query:.duckdns.org\0"], &["host:\0intranet\0"], &["user_agent:sqlmap"]])
        );
        assert_eq!(
            need("sel:\n  uri|contains|all: ['ab', 'abcdef']\ncondition: sel\n"),
            all(&[&["uri:abcdef"], &["uri:ab"]])
        );
        // Keywords are in any field.
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
        assert_eq!(groups[0], [lit("uri:ipfs.io"), lit("uri:ipfſ.io")]);
    }

    fn candidates(p: &Prefilter, record: serde_json::Value) -> Vec<bool> {
        let (mut text, mut c) = (RecordText::default(), Vec::new());
        p.text_of(record.as_object().unwrap(), &mut text);
        p.candidates(&mut text, &mut c);
        c
    }

    #[test]
    fn candidates_are_found_in_the_fields_their_rules_read() {
        use serde_json::json;
        let p = Prefilter::new(&[
            any(&["user_agent:sqlmap"]),
            Need::Always,
            any(&["uri:/etc/passwd", "uri:đăng nhập"]),
            all(&[&["method:\0get\0"], &["uri:${"]]),
            any(&["nikto"]),
        ]);
        let c = |r| candidates(&p, r);
        assert_eq!(
            c(json!({"method": "get", "uri": "/index.html", "user_agent": "curl/8"})),
            [false, true, false, false, false]
        );
        assert_eq!(
            c(json!({"method": "GET", "uri": "/x?f=../../ETC/PASSWD", "user_agent": "SQLMAP/1.8"})),
            [true, true, true, false, false]
        );
        assert_eq!(c(json!({"uri": "/ĐĂNG NHẬP"})), [false, true, true, false, false]);
        // Both groups, and the whole value for the anchored one.
        assert_eq!(c(json!({"method": "get", "uri": "/x?q=${jndi"})), [false, true, false, true, false]);
        assert_eq!(c(json!({"method": "getx", "uri": "/x?q=${jndi"})), [false, true, false, false, false]);
        // A literal in another field than its rule's counts for nothing; a keyword counts in any.
        assert_eq!(
            c(json!({"method": "get", "referrer": "/x?q=${jndi", "status_msg": "sqlmap", "uri": "/"})),
            [false, true, false, false, false]
        );
        assert_eq!(c(json!({"status_msg": "Nikto"})), [false, true, false, false, true]);
        // The same literal for two rules of different fields.
        let p = Prefilter::new(&[any(&["status_msg:\0ok\0"]), any(&["user_agent:\0ok\0"])]);
        assert_eq!(candidates(&p, json!({"status_msg": "OK", "user_agent": "Mozilla/5.0"})), [true, false]);
        assert_eq!(candidates(&p, json!({"status_msg": "OK", "user_agent": "ok"})), [true, true]);
    }

    #[test]
    fn fields_are_read_under_their_mapped_names() {
        use serde_json::json;
        // `c-useragent` reads `user_agent` (a field map's doing), `c-uri-extension` a derived value.
        let reads = |f: &str| match f {
            "c-useragent" => vec![f.to_string(), "user_agent".to_string()],
            "c-uri-extension" => vec![f.to_string(), "uri.extension".to_string()],
            _ => vec![f.to_string()],
        };
        let p = Prefilter::with_fields(&[any(&["c-useragent:\0ok\0"]), any(&["c-uri-extension:\0exe\0"])], reads);
        let (mut text, mut c) = (RecordText::default(), Vec::new());
        let record = json!({"status_msg": "OK", "user_agent": "OK", "uri": "/a/b.exe"});
        p.text_of(record.as_object().unwrap(), &mut text);
        // Fields no literal reads stay out of the text.
        assert_eq!(text.as_str(), "\0ok\0");
        p.candidates(&mut text, &mut c);
        assert_eq!(c, [true, false]);
        text.push(p.bit("uri.extension").unwrap(), "EXE");
        assert_eq!(text.as_str(), "\0ok\0exe\0");
        p.candidates(&mut text, &mut c);
        assert_eq!(c, [true, true]);
    }

    #[test]
    fn text_puts_each_value_between_nuls() {
        let p = Prefilter::new(&[any(&["zzz"])]);
        let fields = serde_json::json!({"method": "GET", "uri": "/A", "port": 80, "tags": ["X", "y"], "none": null});
        let mut text = RecordText::default();
        p.text_of(fields.as_object().unwrap(), &mut text);
        let text = text.as_str();
        assert!(text.starts_with('\0') && text.ends_with('\0'));
        // In the map's key order, which depends on serde_json's features.
        let mut values: Vec<&str> = text.trim_matches('\0').split('\0').collect();
        values.sort();
        assert_eq!(values, ["/a", "80", "get", "x,y"]);
    }
}
