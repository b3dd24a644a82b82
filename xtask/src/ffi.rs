//! The C ABI's chores: its generated header, and its tests from C and Python.

use std::path::PathBuf;
use std::process::Command;

use crate::run_command;

const CRATE_DIR: &str = "crates/zuora-ffi";
const HEADER: &str = "crates/zuora-ffi/include/zuora.h";

fn generate() -> Result<String, String> {
    let config = cbindgen::Config::from_file(format!("{CRATE_DIR}/cbindgen.toml"))
        .map_err(|e| e.to_string())?;
    let bindings = cbindgen::Builder::new()
        .with_crate(CRATE_DIR)
        .with_config(config)
        .generate()
        .map_err(|e| format!("cbindgen: {e}"))?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// Writes the header, or with `check` fails when the committed one is stale.
pub fn header(check: bool) -> Result<(), String> {
    let fresh = generate()?;
    if check {
        let committed =
            std::fs::read_to_string(HEADER).map_err(|e| format!("cannot read {HEADER}: {e}"))?;
        if committed != fresh {
            return Err(format!(
                "{HEADER} is stale: run `cargo xtask ffi-header` and commit it"
            ));
        }
        eprintln!("{HEADER} matches the sources");
        return Ok(());
    }
    std::fs::write(HEADER, fresh).map_err(|e| format!("cannot write {HEADER}: {e}"))?;
    eprintln!("wrote {HEADER}");
    Ok(())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from)
}

/// Builds the library and the simulator, then runs the C test (under valgrind when present)
/// and the Python trip.
pub fn test() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run_command(Command::new(&cargo).args([
        "build",
        "--package",
        "zuora-ffi",
        "--package",
        "zuora-sim",
    ]))?;
    let debug = target_dir().join("debug");
    let test_binary = debug.join("zuora-ffi-c-test");
    run_command(
        Command::new("cc")
            .args([
                "-std=c99",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-g",
                "-I",
                &format!("{CRATE_DIR}/include"),
            ])
            .arg(format!("{CRATE_DIR}/tests/test.c"))
            .arg("-o")
            .arg(&test_binary)
            .arg("-L")
            .arg(&debug)
            .args(["-lzuora", "-Wl,-rpath"])
            .arg(&debug),
    )?;
    let valgrind = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if valgrind {
        run_command(
            Command::new("valgrind")
                .args([
                    "--leak-check=full",
                    "--show-leak-kinds=all",
                    "--errors-for-leak-kinds=all",
                    "--error-exitcode=99",
                    "--quiet",
                ])
                .arg(&test_binary),
        )?;
    } else if std::env::var_os("CI").is_some() {
        return Err("valgrind is missing (.ci/run installs it)".to_owned());
    } else {
        eprintln!("valgrind not found: running the C test without it");
        run_command(&mut Command::new(&test_binary))?;
    }
    run_command(
        Command::new("python3")
            .arg(format!("{CRATE_DIR}/tests/trip.py"))
            .env("ZUORA_FFI_LIBRARY", debug.join("libzuora.so"))
            .env("ZUORA_SIM_BINARY", debug.join("zuora-sim")),
    )
}
