//! The binary's own contracts: settings layering, redaction, refusing unsafe binds.

use std::process::Command;

fn kinora() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kinora"))
}

#[test]
fn config_print_layers_and_redacts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kinora.toml");
    std::fs::write(&file, "workers = 3\nretention_seconds = 600\n").unwrap();
    let out = kinora()
        .args(["config", "print", "--config"])
        .arg(&file)
        .args(["--workers", "5"])
        .env("KINORA_API_KEYS", "sk-secret-1,sk-secret-2")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("workers = 5"), "flags beat the file: {text}");
    assert!(text.contains("retention_seconds = 600"), "{text}");
    assert!(
        !text.contains("sk-secret"),
        "secrets must be redacted: {text}"
    );
    assert!(text.contains("[redacted]"), "{text}");
}

#[test]
fn refuses_open_bind_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = kinora()
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("KINORA_API_KEYS")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--danger-allow-no-auth"), "{err}");
}

#[test]
fn unknown_settings_keys_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kinora.toml");
    std::fs::write(&file, "wrokers = 3\n").unwrap();
    let out = kinora()
        .args(["config", "print", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrokers"));
}
