//! The console's text, in Fluent files embedded in the binary (`console/i18n/vi.ftl`,
//! `en.ftl`): Vietnamese by default, English on request (`?lang=en`, then remembered in the
//! `canh_lang` cookie). A test fails when a key is missing in either file, or when a page or
//! handler uses a key neither has.

use std::sync::LazyLock;

use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Self::Vi => "vi",
            Self::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == s)
    }

    /// The other language (for the switch on every page).
    pub fn other(self) -> Self {
        match self {
            Self::Vi => Self::En,
            Self::En => Self::Vi,
        }
    }

    /// The Fluent source of this language.
    pub fn source(self) -> &'static str {
        match self {
            Self::Vi => include_str!("../../i18n/vi.ftl"),
            Self::En => include_str!("../../i18n/en.ftl"),
        }
    }
}

static BUNDLES: LazyLock<[FluentBundle<FluentResource>; 2]> = LazyLock::new(|| Lang::ALL.map(bundle));

fn bundle(lang: Lang) -> FluentBundle<FluentResource> {
    let id = lang.code().parse().expect("a language code");
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around values: the pages are one direction.
    b.set_use_isolating(false);
    let resource =
        FluentResource::try_new(lang.source().to_string()).expect("the embedded Fluent file parses (tested)");
    b.add_resource(resource).expect("no key twice (tested)");
    b
}

/// The text of one language, for pages and handlers.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text of `key`; the key itself if it has none (never happens: tested).
    pub fn get(&self, key: &str) -> String {
        let b = &BUNDLES[self.0 as usize];
        match b.get_message(key).and_then(|m| m.value()) {
            Some(pattern) => {
                let mut errors = Vec::new();
                b.format_pattern(pattern, None, &mut errors).into_owned()
            }
            None => key.to_string(),
        }
    }

    pub fn lang(&self) -> &'static str {
        self.0.code()
    }

    /// The other language's code, for the switch on every page.
    pub fn other(&self) -> &'static str {
        self.0.other().code()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn keys(lang: Lang) -> BTreeSet<String> {
        let resource =
            fluent_syntax::parser::parse(lang.source()).unwrap_or_else(|(_, errors)| panic!("{lang:?}: {errors:?}"));
        resource
            .body
            .iter()
            .filter_map(
                |e| if let fluent_syntax::ast::Entry::Message(m) = e { Some(m.id.name.to_string()) } else { None },
            )
            .collect()
    }

    #[test]
    fn both_languages_have_every_key() {
        let (vi, en) = (keys(Lang::Vi), keys(Lang::En));
        assert_eq!(vi.difference(&en).collect::<Vec<_>>(), Vec::<&String>::new(), "missing in en.ftl");
        assert_eq!(en.difference(&vi).collect::<Vec<_>>(), Vec::<&String>::new(), "missing in vi.ftl");
        assert_eq!(Tr(Lang::Vi).get("signin-title"), "Đăng nhập");
        assert_eq!(Tr(Lang::En).get("signin-title"), "Sign in");
    }

    /// Every `t.get(…)` in the templates and the server's code names a key the files have
    /// (the text of a language is always a `Tr` named `t`).
    #[test]
    fn every_key_used_exists() {
        let have = keys(Lang::Vi);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut used = BTreeSet::new();
        let mut dirs = vec![dir.join("templates"), dir.join("src/server")];
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(path).unwrap();
                for piece in text.split("t.get(\"").skip(1) {
                    if let Some((key, _)) = piece.split_once('"') {
                        used.insert(key.to_string());
                    }
                }
            }
        }
        assert!(used.len() > 10, "{used:?}");
        // Keys made from values: an alert's status, severity and verdict.
        use crate::state::alerts::{SEVERITIES, Status, Verdict};
        used.extend(["open", "all"].into_iter().chain(Status::ALL.map(Status::as_str)).map(|s| format!("status-{s}")));
        used.extend(SEVERITIES.iter().map(|s| s.to_string()));
        used.extend(Verdict::ALL.map(|v| v.as_str().to_string()));
        let missing: Vec<_> = used.iter().filter(|k| !have.contains(*k)).collect();
        assert!(missing.is_empty(), "keys used but not in the Fluent files: {missing:?}");
    }
}
