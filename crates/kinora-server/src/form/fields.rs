//! Between the two wire forms of a body: multipart's bracketed keys folded into a JSON object
//! ([`unflatten`]), a JSON object flattened to those keys for the digest ([`flatten`]), and the
//! object deserialized into an operation's typed request ([`typed`]) with errors that name the
//! field at fault.

use std::collections::BTreeMap;
use std::fmt;

use kinora_core::ErrorCode;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// A scalar field that arrives as text in multipart and as a string or a number in JSON
/// (`"seconds": "8"` or `8`, `"seed": 42`): kept as its text, so the operation parses it with
/// its own error code (`invalid_seconds`, `invalid_seed`). Objects and arrays are a type error.
#[derive(Clone, Debug, PartialEq)]
pub struct Text(pub String);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Scalar;
        impl Visitor<'_> for Scalar {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(Scalar)
    }
}

/// `fields` as the typed request `T`. serde names the path of a wrong value and the name of an
/// unknown field; the client gets the top-level field as `param`.
pub fn typed<T: DeserializeOwned>(fields: &Map<String, Value>) -> Result<T, ApiError> {
    // serde_json deserializes a borrowed map in place: a 20 MiB data URL is not copied.
    let err = match serde_path_to_error::deserialize(fields) {
        Ok(t) => return Ok(t),
        Err(e) => e,
    };
    let path = err.path().to_string();
    let inner = err.into_inner().to_string();
    let top = path
        .split(['.', '['])
        .next()
        .filter(|p| !p.is_empty() && *p != "?")
        .map(str::to_string);
    // An unknown field's own name ends the path: alone there, it is a top-level field.
    let unknown = inner
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
        .filter(|_| !path.contains(['.', '[']));
    let missing = inner
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (unknown, top) {
        // A required field absent from the body itself (a nested one is a wrong shape).
        (None, None) if missing.is_some() => {
            let name = missing.unwrap_or_default();
            Err(ApiError::invalid(
                name,
                ErrorCode::MissingRequiredParameter,
                format!("{name} is required."),
            ))
        }
        // Unknown at the top level: OpenAI's answer for a field it does not take.
        (Some(name), _) => Err(ApiError::invalid(
            name,
            ErrorCode::UnknownParameter,
            format!("Unrecognized request argument supplied: {name}"),
        )),
        (None, Some(top)) => Err(ApiError::invalid(
            &top,
            ErrorCode::InvalidType,
            format!("'{top}' has the wrong type or shape: {inner}."),
        )),
        (None, None) => Err(ApiError::invalid(
            "body",
            ErrorCode::InvalidType,
            format!("The body has the wrong shape: {inner}."),
        )),
    }
}

/// The SDK's bracketed keys of a JSON value, as multipart would carry them: `{"video": {"id":
/// "v"}}` → `video[id] = v`, arrays as `key[]`; `null` and `{}` carry nothing.
pub fn flatten(out: &mut BTreeMap<String, Vec<String>>, key: String, value: &Value) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (k, v) in map {
                flatten(out, format!("{key}[{k}]"), v);
            }
        }
        Value::Array(items) => {
            for v in items {
                flatten(out, format!("{key}[]"), v);
            }
        }
        Value::String(s) => out.entry(key).or_default().push(s.clone()),
        other => out.entry(key).or_default().push(other.to_string()),
    }
}

/// Multipart's bracketed keys folded into one object: `video[id]` → `{"video": {"id": …}}`,
/// `characters[][id]` (repeated) → `{"characters": [{"id": …}, …]}` (the n-th value into the
/// n-th element), `tags[]` → an array of strings. A plain key given twice keeps its first value.
/// A key that is both text and an object (`video=…` and `video[id]=…`) is `invalid_type`.
pub fn unflatten(text: &BTreeMap<String, Vec<String>>) -> Result<Map<String, Value>, ApiError> {
    let mut root = Value::Object(Map::new());
    for (key, values) in text {
        let (name, rest) = key.split_once('[').unwrap_or((key, ""));
        let mut path = vec![name];
        if !rest.is_empty() {
            let inner = rest.strip_suffix(']').unwrap_or(rest);
            path.extend(inner.split("]["));
        }
        for (n, value) in values.iter().enumerate() {
            if !insert(&mut root, &path, n, value) {
                return Err(ApiError::invalid(
                    name,
                    ErrorCode::InvalidType,
                    format!("'{name}' is given both as text and as an object or list."),
                ));
            }
        }
    }
    Ok(match root {
        Value::Object(map) => map,
        _ => unreachable!("the root is created as an object"),
    })
}

/// Puts the `n`-th value of a key at `path` under `node`; false when the shapes clash.
fn insert(node: &mut Value, path: &[&str], n: usize, value: &str) -> bool {
    let Some((segment, rest)) = path.split_first() else {
        // A repeated plain key keeps its first value, as a form reader would.
        if n == 0 || node.is_null() {
            *node = Value::String(value.to_string());
        }
        return matches!(node, Value::String(_));
    };
    if segment.is_empty() {
        if node.is_null() {
            *node = Value::Array(Vec::new());
        }
        let Value::Array(items) = node else {
            return false;
        };
        while items.len() <= n {
            items.push(Value::Null);
        }
        return insert(&mut items[n], rest, 0, value);
    }
    if node.is_null() {
        *node = Value::Object(Map::new());
    }
    let Value::Object(map) = node else {
        return false;
    };
    insert(
        map.entry(segment.to_string()).or_insert(Value::Null),
        rest,
        n,
        value,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    fn text(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            out.entry(k.to_string()).or_default().push(v.to_string());
        }
        out
    }

    #[test]
    fn multipart_keys_fold_into_the_json_shape() {
        let map = unflatten(&text(&[
            ("prompt", "p"),
            ("video[id]", "video_1"),
            ("characters[][id]", "char_a"),
            ("characters[][id]", "char_b"),
            ("input_reference[image_url]", "data:x"),
        ]))
        .unwrap();
        assert_eq!(
            Value::Object(map),
            json!({
                "prompt": "p",
                "video": {"id": "video_1"},
                "characters": [{"id": "char_a"}, {"id": "char_b"}],
                "input_reference": {"image_url": "data:x"},
            })
        );
        let clash = unflatten(&text(&[("video", "v"), ("video[id]", "video_1")]));
        assert!(matches!(clash, Err(ApiError::Invalid(i)) if i.param == "video"));
    }

    #[test]
    fn flattening_is_what_multipart_sends() {
        let body = json!({"seconds": 8, "video": {"id": "v"}, "characters": [{"id": "a"}], "model": null, "x": {}});
        let mut out = BTreeMap::new();
        for (k, v) in body.as_object().unwrap() {
            flatten(&mut out, k.clone(), v);
        }
        assert_eq!(
            out,
            text(&[
                ("seconds", "8"),
                ("video[id]", "v"),
                ("characters[][id]", "a")
            ])
        );
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Probe {
        prompt: Option<String>,
        seconds: Option<Text>,
        video: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        id: String,
    }

    fn refusal(body: Value) -> (String, ErrorCode) {
        match typed::<Probe>(body.as_object().unwrap()) {
            Err(ApiError::Invalid(i)) => (i.param, i.code),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_top_level_field() {
        let ok: Probe = typed(json!({"seconds": 8}).as_object().unwrap()).unwrap();
        assert_eq!(ok.seconds, Some(Text("8".into())));
        assert_eq!(
            refusal(json!({"sizee": "1"})),
            ("sizee".into(), ErrorCode::UnknownParameter)
        );
        assert_eq!(
            refusal(json!({"prompt": ["a"]})),
            ("prompt".into(), ErrorCode::InvalidType)
        );
        assert_eq!(
            refusal(json!({"seconds": {"n": 8}})),
            ("seconds".into(), ErrorCode::InvalidType)
        );
        assert_eq!(
            refusal(json!({"video": {"id": "v", "x": 1}})),
            ("video".into(), ErrorCode::InvalidType)
        );
        assert_eq!(
            refusal(json!({"video": {}})),
            ("video".into(), ErrorCode::InvalidType)
        );
        assert_eq!(
            refusal(json!({"video": "video_1"})),
            ("video".into(), ErrorCode::InvalidType)
        );
    }
}
