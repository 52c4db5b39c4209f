//! The protocol's JSON Schema, generated from the message types so it cannot drift from them.
//! Committed as docs/worker-protocol.schema.json for the Python worker, which validates every
//! message against it; the test below fails when the committed copy is stale
//! (`KINORA_BLESS_SCHEMA=1 cargo test -p kinora-server worker::schema` rewrites it).

use schemars::SchemaGenerator;
use serde_json::{Value, json};

use super::protocol::*;

/// The whole protocol: every message under `$defs`, by type name.
pub fn document() -> Value {
    let mut generator = SchemaGenerator::default();
    generator.subschema_for::<RegisterRequest>();
    generator.subschema_for::<RegisterResponse>();
    generator.subschema_for::<LeaseRequest>();
    generator.subschema_for::<Job>();
    generator.subschema_for::<HeartbeatRequest>();
    generator.subschema_for::<HeartbeatResponse>();
    generator.subschema_for::<ArtifactReceipt>();
    generator.subschema_for::<CompleteRequest>();
    generator.subschema_for::<FailRequest>();
    generator.subschema_for::<OutcomeResponse>();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://kinora.dev/schemas/worker-protocol-v1.json",
        "title": "Kinora worker protocol v1",
        "description": "Messages of /internal/v1 (docs/worker-protocol.md). Generated from \
            crates/kinora-server/src/worker/protocol.rs; do not edit by hand.",
        "$defs": generator.definitions(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    fn committed() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/worker-protocol.schema.json")
    }

    #[test]
    fn committed_schema_matches_the_types() {
        let generated = super::document();
        let pretty = serde_json::to_string_pretty(&generated).unwrap() + "\n";
        if std::env::var_os("KINORA_BLESS_SCHEMA").is_some() {
            std::fs::write(committed(), &pretty).unwrap();
        }
        let on_disk = std::fs::read_to_string(committed()).unwrap_or_default();
        assert!(
            on_disk == pretty,
            "docs/worker-protocol.schema.json is stale; regenerate it with \
             KINORA_BLESS_SCHEMA=1 cargo test -p kinora-server worker::schema"
        );
    }

    #[test]
    fn every_message_is_defined() {
        let doc = super::document();
        let defs = doc["$defs"].as_object().unwrap();
        for name in [
            "RegisterRequest",
            "RegisterResponse",
            "LeaseRequest",
            "Job",
            "JobMode",
            "JobInput",
            "HeartbeatRequest",
            "HeartbeatResponse",
            "ArtifactReceipt",
            "CompleteRequest",
            "FailRequest",
            "OutcomeResponse",
        ] {
            assert!(defs.contains_key(name), "{name} missing from the schema");
        }
        // Documented variants come out as `oneOf` branches; collect what each one admits.
        let modes: Vec<&str> = defs["JobMode"]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|b| {
                b.get("const")
                    .into_iter()
                    .chain(b["enum"].as_array().into_iter().flatten())
            })
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(modes, ["create", "extend", "edit"]);
    }
}
