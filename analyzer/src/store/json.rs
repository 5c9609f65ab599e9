//! A record's JSON values as the parser reads them, strings borrowed from the record's text,
//! handed to tantivy as they are. Tantivy's own [`tantivy::schema::OwnedValue`] would allocate
//! every string and every field name of every record once more before the document copies
//! them in: ingest reads a hundred thousand records a second.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf, Value};

/// A JSON value; a string is borrowed unless it has escapes.
#[derive(Debug)]
pub enum Json<'de> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(Cow<'de, str>),
    Array(Vec<Json<'de>>),
    Object(Vec<(Cow<'de, str>, Json<'de>)>),
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::U64(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::I64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(Json::F64(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut entries = Vec::new();
        while let Some(Key(name)) = map.next_key()? {
            entries.push((name, map.next_value()?));
        }
        Ok(Json::Object(entries))
    }
}

/// A field name, borrowed from the JSON text unless it has escapes.
pub struct Key<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// An object's entries as tantivy walks them.
pub type Entries<'a, 'de> = std::iter::Map<
    std::slice::Iter<'a, (Cow<'de, str>, Json<'de>)>,
    fn(&'a (Cow<'de, str>, Json<'de>)) -> Entry<'a, 'de>,
>;
type Entry<'a, 'de> = (&'a str, &'a Json<'de>);

fn entry<'a, 'de>((name, value): &'a (Cow<'de, str>, Json<'de>)) -> Entry<'a, 'de> {
    (name.as_ref(), value)
}

/// Tantivy reads the value where it lies. A string is a string (`OwnedValue`'s rule too:
/// `serde_json::Value`'s would turn one that reads as a date into a date).
impl<'a, 'de: 'a> Value<'a> for &'a Json<'de> {
    type ArrayIter = std::slice::Iter<'a, Json<'de>>;
    type ObjectIter = Entries<'a, 'de>;

    fn as_value(&self) -> ReferenceValue<'a, Self> {
        match self {
            Json::Null => ReferenceValueLeaf::Null.into(),
            Json::Bool(v) => ReferenceValueLeaf::Bool(*v).into(),
            Json::U64(v) => ReferenceValueLeaf::U64(*v).into(),
            Json::I64(v) => ReferenceValueLeaf::I64(*v).into(),
            Json::F64(v) => ReferenceValueLeaf::F64(*v).into(),
            Json::Str(s) => ReferenceValueLeaf::Str(s.as_ref()).into(),
            Json::Array(items) => ReferenceValue::Array(items.iter()),
            Json::Object(entries) => ReferenceValue::Object(entries.iter().map(entry as fn(&'a _) -> _)),
        }
    }
}

#[cfg(test)]
mod tests {
    use tantivy::TantivyDocument;
    use tantivy::schema::{JsonObjectOptions, OwnedValue, Schema, Value as _};

    use super::*;

    /// The document tantivy builds from a borrowed value equals the one from its own
    /// `OwnedValue` of the same JSON: escapes, numbers of each kind, nesting, null.
    #[test]
    fn a_borrowed_value_makes_the_document_an_owned_one_makes() {
        let text =
            r#"{"a":"plain","b":"esc\"aped\u00e9","c":[1,-2,2.5,true,null],"d":{"e":"x","f":18446744073709551615}}"#;
        let borrowed: Json = serde_json::from_str(text).unwrap();
        let owned: OwnedValue = serde_json::from_str(text).unwrap();
        let mut schema = Schema::builder();
        let field = schema.add_json_field("j", JsonObjectOptions::default());
        let (mut one, mut other) = (TantivyDocument::default(), TantivyDocument::default());
        one.add_field_value(field, &borrowed);
        other.add_field_value(field, &owned);
        let read = |doc: &TantivyDocument| OwnedValue::from(doc.get_first(field).unwrap().as_value());
        assert_eq!(read(&one), read(&other));
        assert!(matches!(&borrowed, Json::Object(e) if matches!(&e[0].1, Json::Str(Cow::Borrowed("plain")))));
        assert!(
            matches!(&borrowed, Json::Object(e) if matches!(&e[1].1, Json::Str(Cow::Owned(s)) if s == "esc\"apedé"))
        );
    }
}
