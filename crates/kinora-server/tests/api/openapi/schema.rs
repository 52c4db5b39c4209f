//! A checker for the subset of JSON Schema that utoipa emits, strict about undocumented keys.

use serde_json::Value;

/// Every `$ref` anywhere in `v`.
pub fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                out.push(r);
            }
            map.values().for_each(|x| refs(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected $ref {r}"));
            let target = &doc["components"]["schemas"][name];
            assert!(target.is_object(), "dangling $ref {r}");
            resolve(doc, target)
        }
        None => schema,
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks `v` against the subset of JSON Schema that utoipa emits; undocumented object keys are
/// errors too, so a field the server adds without documenting it fails here.
pub fn check(doc: &Value, v: &Value, schema: &Value, at: &str, errs: &mut Vec<String>) {
    let s = resolve(doc, schema);
    if let Some(alts) = s
        .get("oneOf")
        .or_else(|| s.get("anyOf"))
        .and_then(Value::as_array)
    {
        let fits = alts.iter().any(|alt| {
            let mut e = Vec::new();
            check(doc, v, alt, at, &mut e);
            e.is_empty()
        });
        if !fits {
            errs.push(format!("{at}: {v} fits none of {s}"));
        }
        return;
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for part in all {
            check(doc, v, part, at, errs);
        }
        return;
    }
    if let Some(allowed) = s.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        errs.push(format!("{at}: {v} is not one of {allowed:?}"));
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return,
    };
    let actual = json_type(v);
    let fits = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
    if !fits {
        errs.push(format!("{at}: {v} is {actual}, documented {types:?}"));
        return;
    }
    match v {
        Value::Object(map) => {
            let empty = serde_json::Map::new();
            let props = s["properties"].as_object().unwrap_or(&empty);
            for r in s["required"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap();
                if !map.contains_key(r) {
                    errs.push(format!("{at}: required {r} is missing"));
                }
            }
            for (k, val) in map {
                match props.get(k) {
                    Some(p) => check(doc, val, p, &format!("{at}.{k}"), errs),
                    None if s.get("additionalProperties").is_some() => {}
                    None => errs.push(format!("{at}: {k} is served but not documented")),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(doc, item, item_schema, &format!("{at}[{i}]"), errs);
                }
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap();
            if s["minimum"].as_f64().is_some_and(|min| x < min)
                || s["maximum"].as_f64().is_some_and(|max| x > max)
            {
                errs.push(format!("{at}: {x} is out of the documented range"));
            }
        }
        _ => {}
    }
}
