//! Records whether OpenH264 gets its nasm assembly in this build, for the benchmark report:
//! openh264-sys2 uses nasm when it is on PATH, unless OPENH264_NO_ASM is set.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=OPENH264_NO_ASM");
    println!("cargo:rerun-if-env-changed=PATH");
    let forced_off = std::env::var_os("OPENH264_NO_ASM").is_some();
    let nasm = Command::new("nasm")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    println!(
        "cargo:rustc-env=KINORA_OPENH264_ASM={}",
        u8::from(nasm && !forced_off)
    );
}
