//! Decodes a `serde_json::Value` into typed config the way Go's `encoding/json` reads MOSN's
//! files, and records every problem with its JSON path:
//!
//! - struct keys match case-insensitively (an exact match wins), as real configs write `"Name"`;
//! - an unknown key is a warning naming its path, and is skipped;
//! - a `null` value leaves the field at its default, as Go leaves the zero value;
//! - a type error is an error at the deepest path where it happened.
//!
//! Errors are written to the diagnostics when they arise, so [`list`] can drop a broken list
//! element and go on: one bad listener does not hide the problems of the next one.

use std::cell::RefCell;
use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::diagnostics::{Diagnostics, index, join};

/// Decodes `value`, found at `path`, into `T`. Problems go to `diags`; `None` means the value
/// could not be decoded at all. A `Some` may still come with errors in `diags` (a list element
/// that was dropped): check [`Diagnostics::has_errors`].
pub fn decode<T: DeserializeOwned>(
    value: &Value,
    path: &str,
    diags: &mut Diagnostics,
) -> Option<T> {
    let sink = RefCell::new(Diagnostics::default());
    let result = T::deserialize(ValueDe::new(value, path.to_string(), &sink));
    diags.extend(sink.into_inner());
    result.ok()
}

/// `deserialize_with` for lists: a broken element is reported (by the decoder) and dropped.
/// Only meaningful under [`decode`], which has already recorded the element's error.
pub fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let items = Vec::<Lenient<T>>::deserialize(deserializer)?;
    Ok(items.into_iter().filter_map(|item| item.0).collect())
}

struct Lenient<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Lenient(T::deserialize(deserializer).ok()))
    }
}

/// An error raised while decoding. By the time it travels up it has been recorded.
#[derive(Debug)]
pub struct DecodeError {
    message: String,
    recorded: bool,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        DecodeError {
            message: msg.to_string(),
            recorded: false,
        }
    }
}

struct ValueDe<'a> {
    value: &'a Value,
    path: String,
    sink: &'a RefCell<Diagnostics>,
}

impl<'a> ValueDe<'a> {
    fn new(value: &'a Value, path: String, sink: &'a RefCell<Diagnostics>) -> Self {
        ValueDe { value, path, sink }
    }

    /// Records an error the first time it passes a decoder: the innermost path is the right one.
    fn record<T>(&self, result: Result<T, DecodeError>) -> Result<T, DecodeError> {
        result.map_err(|mut err| {
            if !err.recorded {
                self.sink
                    .borrow_mut()
                    .error(self.path.clone(), err.message.clone());
                err.recorded = true;
            }
            err
        })
    }

    fn invalid_type(&self, expected: &dyn de::Expected) -> DecodeError {
        let unexpected = match self.value {
            Value::Null => de::Unexpected::Unit,
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => de::Unexpected::Unsigned(u),
                (_, Some(i), _) => de::Unexpected::Signed(i),
                (_, _, f) => de::Unexpected::Float(f.unwrap_or(f64::NAN)),
            },
            Value::String(s) => de::Unexpected::Str(s),
            Value::Array(_) => de::Unexpected::Seq,
            Value::Object(_) => de::Unexpected::Map,
        };
        de::Error::invalid_type(unexpected, expected)
    }

    fn visit_seq<V: Visitor<'a>>(
        &self,
        items: &'a [Value],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let access = SeqDe {
            items: items.iter().enumerate(),
            path: &self.path,
            sink: self.sink,
        };
        visitor.visit_seq(access)
    }

    fn visit_map<V: Visitor<'a>>(
        &self,
        map: Option<&'a serde_json::Map<String, Value>>,
        fields: Option<&'static [&'static str]>,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let access = MapDe {
            entries: map.map(|m| m.iter()),
            fields,
            path: &self.path,
            sink: self.sink,
            pending: None,
        };
        visitor.visit_map(access)
    }
}

impl<'a> Deserializer<'a> for ValueDe<'a> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let result = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (_, Some(i), _) => visitor.visit_i64(i),
                (_, _, f) => visitor.visit_f64(f.unwrap_or(f64::NAN)),
            },
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => self.visit_seq(items, visitor),
            Value::Object(map) => self.visit_map(Some(map), None, visitor),
        };
        self.record(result)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let result = match self.value {
            Value::Array(items) => self.visit_seq(items, visitor),
            Value::Null => self.visit_seq(&[], visitor),
            _ => Err(self.invalid_type(&visitor)),
        };
        self.record(result)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let result = match self.value {
            Value::Object(map) => self.visit_map(Some(map), None, visitor),
            Value::Null => self.visit_map(None, None, visitor),
            _ => Err(self.invalid_type(&visitor)),
        };
        self.record(result)
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let result = match self.value {
            Value::Object(map) => self.visit_map(Some(map), Some(fields), visitor),
            Value::Null => self.visit_map(None, Some(fields), visitor),
            _ => Err(self.invalid_type(&visitor)),
        };
        self.record(result)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let result = match self.value {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            _ => Err(self.invalid_type(&visitor)),
        };
        self.record(result)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct tuple tuple_struct identifier
    }
}

struct SeqDe<'a, 'p> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
    path: &'p str,
    sink: &'a RefCell<Diagnostics>,
}

impl<'a> de::SeqAccess<'a> for SeqDe<'a, '_> {
    type Error = DecodeError;

    fn next_element_seed<S: DeserializeSeed<'a>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, DecodeError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, value)) => {
                let de = ValueDe::new(value, index(self.path, i), self.sink);
                seed.deserialize(de).map(Some)
            }
        }
    }
}

struct MapDe<'a, 'p> {
    entries: Option<serde_json::map::Iter<'a>>,
    /// The field names of the struct being decoded; `None` for a plain map.
    fields: Option<&'static [&'static str]>,
    path: &'p str,
    sink: &'a RefCell<Diagnostics>,
    pending: Option<(&'a str, &'a Value)>,
}

/// Go's rule: an exact match first, then a case-insensitive one.
fn match_field(fields: &'static [&'static str], key: &str) -> Option<&'static str> {
    let exact = fields.iter().find(|f| **f == key);
    exact
        .or_else(|| fields.iter().find(|f| f.eq_ignore_ascii_case(key)))
        .copied()
}

impl<'a> de::MapAccess<'a> for MapDe<'a, '_> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        let Some(entries) = self.entries.as_mut() else {
            return Ok(None);
        };
        for (key, value) in entries.by_ref() {
            let Some(fields) = self.fields else {
                self.pending = Some((key, value));
                return seed
                    .deserialize(BorrowedStrDeserializer::new(key))
                    .map(Some);
            };
            match match_field(fields, key) {
                // A null leaves the field at its default, as Go leaves the zero value.
                Some(_) if value.is_null() => continue,
                Some(field) => {
                    self.pending = Some((key, value));
                    return seed
                        .deserialize(BorrowedStrDeserializer::new(field))
                        .map(Some);
                }
                None => self
                    .sink
                    .borrow_mut()
                    .warn(join(self.path, key), "unknown key, ignored"),
            }
        }
        Ok(None)
    }

    fn next_value_seed<S: DeserializeSeed<'a>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, DecodeError> {
        let (key, value) = self
            .pending
            .take()
            .ok_or_else(|| <DecodeError as de::Error>::custom("value requested before its key"))?;
        seed.deserialize(ValueDe::new(value, join(self.path, key), self.sink))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Inner {
        port: u16,
        name: String,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Outer {
        router_config_name: String,
        #[serde(deserialize_with = "list")]
        items: Vec<Inner>,
        extra: Option<serde_json::Map<String, Value>>,
    }

    fn run(value: Value) -> (Option<Outer>, Vec<String>) {
        let mut diags = Diagnostics::default();
        let out = decode::<Outer>(&value, "", &mut diags);
        (out, diags.items().iter().map(|d| d.to_string()).collect())
    }

    #[test]
    fn keys_match_case_insensitively_and_maps_keep_their_keys() {
        let (out, diags) = run(json!({"Router_Config_Name": "r", "Extra": {"Keep-Case": 1}}));
        let out = out.unwrap();
        assert_eq!(out.router_config_name, "r");
        assert!(out.extra.unwrap().contains_key("Keep-Case"));
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn an_exact_key_wins_over_a_case_insensitive_one() {
        #[derive(Debug, Default, Deserialize)]
        #[serde(default)]
        struct Two {
            name: String,
            #[serde(rename = "Name")]
            upper: String,
        }
        let mut diags = Diagnostics::default();
        let two = decode::<Two>(&json!({"Name": "a", "name": "b"}), "", &mut diags).unwrap();
        assert_eq!((two.name.as_str(), two.upper.as_str()), ("b", "a"));
    }

    #[test]
    fn unknown_keys_warn_with_their_path() {
        let (out, diags) = run(json!({"items": [{"port": 1, "colour": "red"}]}));
        assert_eq!(out.unwrap().items.len(), 1);
        assert_eq!(
            diags,
            vec!["warning: items[0].colour: unknown key, ignored"]
        );
    }

    #[test]
    fn null_leaves_the_default() {
        let (out, diags) = run(json!({"router_config_name": null, "items": null}));
        assert_eq!(out.unwrap(), Outer::default());
        assert!(diags.is_empty());
    }

    #[test]
    fn every_broken_list_element_is_reported_and_dropped() {
        let (out, diags) = run(json!({"items": [{"port": "x"}, {"port": 2}, {"port": 70000}]}));
        assert_eq!(
            out.unwrap().items,
            vec![Inner {
                port: 2,
                name: String::new()
            }]
        );
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(diags[0].starts_with("error: items[0].port: invalid type: string \"x\""));
        assert!(diags[1].starts_with("error: items[2].port: invalid value: integer `70000`"));
    }

    #[test]
    fn a_wrong_shape_names_its_path() {
        let (out, diags) = run(json!({"items": {"port": 1}}));
        assert!(out.is_none());
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0].starts_with("error: items: invalid type: map"),
            "{diags:?}"
        );
    }
}
