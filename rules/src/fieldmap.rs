//! The field map: which record field a Sigma rule for a generic category reads (the data is
//! `rules/fieldmap.toml`, compiled in; see its header for the format).

use std::collections::HashMap;

use serde::Deserialize;

/// The bundled map.
pub const BUNDLED: &str = include_str!("../fieldmap.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Category {
    /// Record types (`_type`) the category's rules are evaluated on.
    pub records: Vec<String>,
    /// Sigma field name → record field.
    pub fields: HashMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FieldMap {
    pub category: HashMap<String, Category>,
}

impl FieldMap {
    pub fn bundled() -> Self {
        toml::from_str(BUNDLED).expect("the bundled field map is valid (tested)")
    }

    /// The categories whose rules apply to records of type `record_type`.
    pub fn categories_for<'a>(&'a self, record_type: &'a str) -> impl Iterator<Item = (&'a str, &'a Category)> + 'a {
        self.category
            .iter()
            .filter(move |(_, c)| c.records.iter().any(|r| r == record_type))
            .map(|(n, c)| (n.as_str(), c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_map_parses_and_routes() {
        let m = FieldMap::bundled();
        let mut http: Vec<&str> = m.categories_for("http").map(|(n, _)| n).collect();
        http.sort();
        assert_eq!(http, ["proxy", "webserver"]);
        assert_eq!(m.category["proxy"].fields["c-useragent"], "user_agent");
        assert_eq!(m.categories_for("conn").count(), 2);
    }
}
