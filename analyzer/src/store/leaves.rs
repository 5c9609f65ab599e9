//! The leaves of the analyst's query that Canh builds itself rather than tantivy's parser:
//! wildcards, and ranges and values of addresses and ports.
//!
//! **Ranges** on `id.orig_h`, `id.resp_h` (a CIDR term becomes one) and `id.resp_p` go to
//! their term index, whose matches tantivy gathers into a bit set: the parser would scan
//! their fast columns instead, which is as quick alone but slow to intersect — at 10M records
//! the p95 of a network AND a port range was 310 ms that way, 49 ms this way (warm cache).
//! The integers without a term index (`id.orig_p`, the byte counts: the schema says why) are
//! read from their fast column, a range or one value (`id.orig_p:53835`) alike.
//!
//! Every other leaf is built by tantivy's parser; the boolean structure around the leaves is
//! built here, as the parser would (a term without an operator is required).
//!
//! **Wildcards**: `uri:*admin*`, `mime_type:application/*`, `subject:*tinh.gov.vn*`,
//! `uid:C?x*`. Tantivy's parser reads `*` and `?` as ordinary
//! characters (and its tokenizers drop them), so a term with either becomes a regular
//! expression over the field's terms here:
//!
//! - a text field's terms are lower-cased words: the wildcard matches a word (`uri:*pdat*`
//!   finds `/update/pkg.bin`);
//! - a keyword field keeps its case: the wildcard matches the whole value, case and all;
//! - an `extra` field's terms are whole values, lower-cased, behind their JSON path: the
//!   wildcard matches the whole value, whatever its case. (Tantivy's parser takes no regular
//!   expression on a JSON path, so that query is built here, on tantivy's term layout:
//!   path, a 0 byte, the type code `s`, the value.)

use std::net::IpAddr;
use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, InvertedIndexRangeQuery, Occur, Query, QueryParser, RangeQuery, RegexQuery,
};
use tantivy::query_grammar::{Delimiter, Occur as UserOccur, UserInputAst, UserInputBound, UserInputLeaf};

use super::query::QueryError;
use super::schema::{Fields, Role, ipv6, roles};

/// The query of a parsed analyst query.
pub fn build(ast: UserInputAst, parser: &QueryParser, fields: &Fields) -> Result<Box<dyn Query>, QueryError> {
    match ast {
        UserInputAst::Leaf(leaf) => leaf_query(*leaf, parser, fields),
        UserInputAst::Boost(inner, boost) => {
            Ok(Box::new(BoostQuery::new(build(*inner, parser, fields)?, boost.into_inner() as f32)))
        }
        UserInputAst::Clause(clauses) => {
            let mut built = Vec::with_capacity(clauses.len() + 1);
            for (occur, clause) in clauses {
                // Canh's parser joins terms with AND unless told otherwise.
                let occur = match occur {
                    Some(UserOccur::Should) => Occur::Should,
                    Some(UserOccur::MustNot) => Occur::MustNot,
                    Some(UserOccur::Must) | None => Occur::Must,
                };
                built.push((occur, build(clause, parser, fields)?));
            }
            // Only exclusions: what they exclude from everything (tantivy's parser does the same).
            if built.iter().all(|(o, _)| *o == Occur::MustNot) {
                built.push((Occur::Must, Box::new(AllQuery)));
            }
            Ok(Box::new(BooleanQuery::new(built)))
        }
    }
}

fn leaf_query(leaf: UserInputLeaf, parser: &QueryParser, fields: &Fields) -> Result<Box<dyn Query>, QueryError> {
    if range(&leaf).is_some() {
        return range_query(leaf, fields);
    }
    if let Some((name, value)) = column_value(&leaf, fields) {
        let term = number(name, value, fields)?;
        return Ok(Box::new(RangeQuery::new(Bound::Included(term.clone()), Bound::Included(term))));
    }
    let leaf = match wildcard(&leaf) {
        Some((field, term)) if field.starts_with("extra.") => {
            return json_wildcard(field.strip_prefix("extra.").expect("an extra field"), term, fields);
        }
        // A name is matched whole, on its copy in `extra`: `query:*.duckdns.org` spans labels.
        Some((field, term)) if roles().is(field, Role::Name) => return json_wildcard(field, term, fields),
        Some((field, term)) => own_wildcard(field, term)?,
        None => leaf,
    };
    parser.build_query_from_user_input_ast(UserInputAst::Leaf(Box::new(leaf))).map_err(plain)
}

/// What tantivy's parser says, in the analyst's words (its own texts name its internals).
fn plain(e: tantivy::query::QueryParserError) -> QueryError {
    use tantivy::query::QueryParserError as E;
    QueryError::Invalid(match e {
        E::ExpectedInt(_) => "a number was expected".to_string(),
        E::ExpectedFloat(_) => "a number of seconds was expected".to_string(),
        E::ExpectedBool(_) => "true or false was expected".to_string(),
        E::DateFormatError(_) => {
            "a time was expected: RFC 3339 (2026-11-02T08:00:00+07:00), or use --since and --until".to_string()
        }
        E::IpFormatError(_) => "an IP address was expected".to_string(),
        E::FieldDoesNotExist(f) => format!("no record has a field `{f}`"),
        E::AllButQueryForbidden => "a query of exclusions alone (NOT …) needs something to exclude from".to_string(),
        other => format!("cannot read the query ({other})"),
    })
}

/// The term of a leaf with a wildcard, and its field: `Some` when the leaf is one.
fn wildcard(leaf: &UserInputLeaf) -> Option<(&str, &str)> {
    match leaf {
        UserInputLeaf::Literal(l)
            if l.delimiter == Delimiter::None && l.phrase != "*" && l.phrase.contains(['*', '?']) =>
        {
            Some((l.field_name.as_deref().unwrap_or(""), l.phrase.as_str()))
        }
        _ => None,
    }
}

/// A range on an address or an integer field: `Some` with its field.
fn range(leaf: &UserInputLeaf) -> Option<&str> {
    match leaf {
        UserInputLeaf::Range { field: Some(f), .. } if roles().is(f, Role::Address) || roles().is_integer(f) => Some(f),
        _ => None,
    }
}

/// One value of an integer field without a term index (`id.orig_p:53835`, quoted or not):
/// `Some` with the field and the value when the leaf is one.
fn column_value<'l>(leaf: &'l UserInputLeaf, fields: &Fields) -> Option<(&'l str, &'l str)> {
    match leaf {
        UserInputLeaf::Literal(l) => {
            let name = l.field_name.as_deref()?;
            (roles().is_integer(name) && !fields.has_term_index(name)).then_some((name, l.phrase.as_str()))
        }
        _ => None,
    }
}

/// A whole number of an integer field, as a term.
fn number(name: &str, value: &str, fields: &Fields) -> Result<Term, QueryError> {
    let field = fields.schema.get_field(name).map_err(|e| QueryError::Invalid(e.to_string()))?;
    let n: u64 =
        value.parse().map_err(|_| QueryError::Invalid(format!("`{name}`: `{value}` is not a whole number")))?;
    Ok(Term::from_field_u64(field, n))
}

/// A range on an address or an integer field: on its term index when it has one, else on its
/// fast column.
fn range_query(leaf: UserInputLeaf, fields: &Fields) -> Result<Box<dyn Query>, QueryError> {
    let UserInputLeaf::Range { field: Some(name), lower, upper } = leaf else { unreachable!("a range leaf") };
    let field = fields.schema.get_field(&name).map_err(|e| QueryError::Invalid(e.to_string()))?;
    let address = roles().is(&name, Role::Address);
    let term = |value: &str| -> Result<Term, QueryError> {
        if address {
            let ip: IpAddr =
                value.parse().map_err(|_| QueryError::Invalid(format!("`{name}`: `{value}` is not an address")))?;
            Ok(Term::from_field_ip_addr(field, ipv6(ip)))
        } else {
            number(&name, value, fields)
        }
    };
    let bound = |b: UserInputBound| -> Result<Bound<Term>, QueryError> {
        Ok(match b {
            UserInputBound::Inclusive(v) if v != "*" => Bound::Included(term(&v)?),
            UserInputBound::Exclusive(v) if v != "*" => Bound::Excluded(term(&v)?),
            _ => Bound::Unbounded,
        })
    };
    // tantivy wants one bound at least: `field:[* TO *]` (every record with the field) starts
    // at the least value.
    let lower = match bound(lower)? {
        Bound::Unbounded if address => {
            Bound::Included(Term::from_field_ip_addr(field, std::net::Ipv6Addr::UNSPECIFIED))
        }
        Bound::Unbounded => Bound::Included(Term::from_field_u64(field, 0)),
        b => b,
    };
    if fields.has_term_index(&name) {
        Ok(Box::new(InvertedIndexRangeQuery::new(lower, bound(upper)?)))
    } else {
        Ok(Box::new(RangeQuery::new(lower, bound(upper)?)))
    }
}

/// A wildcard on a field of its own, as the regular expression leaf tantivy's parser takes.
fn own_wildcard(field: &str, term: &str) -> Result<UserInputLeaf, QueryError> {
    if field.is_empty() {
        return Err(QueryError::Invalid(format!("wildcard `{term}` needs a field (e.g. uri:{term})")));
    }
    if matches!(roles().of(field), Some(Role::Address | Role::Integer { .. } | Role::Seconds)) {
        return Err(QueryError::Invalid(format!(
            "`{field}` takes no wildcard (use a range, or a network such as 10.20.0.0/16)"
        )));
    }
    // Every field's terms are lower-cased (schema.rs), so the pattern is too.
    Ok(UserInputLeaf::Regex { field: Some(field.to_string()), pattern: regex(term) })
}

/// A wildcard over the whole values of the `extra` field `path`.
fn json_wildcard(path: &str, term: &str, fields: &Fields) -> Result<Box<dyn Query>, QueryError> {
    let pattern = format!(r"{}\x00s{}", regex_syntax::escape(path), regex(term));
    let query = RegexQuery::from_pattern(&pattern, fields.extra)
        .map_err(|e| QueryError::Invalid(format!("wildcard `{term}`: {e}")))?;
    Ok(Box::new(query))
}

/// `*` any characters, `?` one, everything else itself, lower-cased as every term is.
fn regex(wildcard: &str) -> String {
    let wildcard = wildcard.to_lowercase();
    let mut out = String::with_capacity(wildcard.len() + 8);
    let mut buf = [0u8; 4];
    for c in wildcard.chars() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            c => out.push_str(&regex_syntax::escape(c.encode_utf8(&mut buf))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_become_regexes() {
        assert_eq!(regex("*Admin*"), ".*admin.*");
        assert_eq!(regex("C?x*"), "c.x.*");
        assert_eq!(regex("application/x-*.1"), r"application/x\-.*\.1");
    }
}
