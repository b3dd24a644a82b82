//! `cargo xtask ci`: every check a change must pass, in the order that fails fastest.

use std::process::Command;

use crate::run_command;

/// Crates that would make the core do IO; none may be in its normal dependency tree.
const FORBIDDEN_IN_CORE: [&str; 4] = ["tokio", "reqwest", "ureq", "hyper"];

pub fn run() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let cargo = || Command::new(&cargo);
    run_command(cargo().args(["fmt", "--all", "--check"]))?;
    check_core_is_sans_io(cargo())?;
    crate::cycles::run(&[])?;
    run_command(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run_command(cargo().args(["test", "--workspace"]))?;
    // The lean CLI (no simulator) and the native-TLS transports must keep building.
    run_command(cargo().args(["check", "-p", "zuora-cli", "--no-default-features"]))?;
    for transport in ["zuora-async", "zuora-blocking"] {
        run_command(cargo().args([
            "check",
            "-p",
            transport,
            "--no-default-features",
            "--features",
            "native-tls",
        ]))?;
    }
    // Every publishable crate packages and builds from its package alone.
    package_in_fresh_target_dir(cargo())?;
    run_command(
        cargo()
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    crate::spec::check()?;
    crate::ffi::header(true)?;
    crate::ffi::test()?;
    crate::python::test()?;
    // What ships, built as a release would be and tried as a user would.
    crate::dist::build()?;
    crate::dist::test()?;
    // A short fuzz smoke of every target where nightly and cargo-fuzz are here.
    if crate::fuzz::available() {
        crate::fuzz::run(&["--seconds", "60"])?;
    } else {
        eprintln!("xtask ci: no nightly toolchain with cargo-fuzz here: fuzz smoke skipped");
    }
    eprintln!("xtask ci: all checks passed");
    Ok(())
}

/// `cargo package --workspace` verifies each crate against the others' freshly packaged
/// sources through a local registry that cargo unpacks under `$CARGO_HOME/registry/src`, in a
/// directory named after the target directory's path, and it does not unpack again when that
/// directory exists. On a machine that keeps `CARGO_HOME` between runs from the same checkout
/// path, the verification would then build against an older run's sources (this happened in
/// CI). A target directory of its own per run gives that registry a new name every time.
fn package_in_fresh_target_dir(mut cargo: Command) -> Result<(), String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let target_dir =
        std::env::temp_dir().join(format!("zuora-package-{}-{nanos}", std::process::id()));
    cargo
        .args([
            "package",
            "--workspace",
            "--exclude",
            "xtask",
            "--exclude",
            "zuora-tests",
            "--target-dir",
        ])
        .arg(&target_dir);
    let outcome = run_command(&mut cargo);
    // The packaged crates and their verification builds are only a check: not kept.
    let _ = std::fs::remove_dir_all(&target_dir);
    outcome
}

fn check_core_is_sans_io(mut cargo: Command) -> Result<(), String> {
    cargo.args([
        "tree",
        "-p",
        "zuora-core",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ]);
    eprintln!("+ {cargo:?}");
    let output = cargo
        .output()
        .map_err(|err| format!("could not run cargo tree: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let tree = String::from_utf8_lossy(&output.stdout);
    let offenders: Vec<&str> = tree
        .lines()
        .filter(|line| {
            let name = line.split_whitespace().next().unwrap_or_default();
            FORBIDDEN_IN_CORE.contains(&name)
        })
        .collect();
    if offenders.is_empty() {
        eprintln!("zuora-core depends on none of {FORBIDDEN_IN_CORE:?}");
        Ok(())
    } else {
        Err(format!(
            "zuora-core must stay sans-IO but depends on {offenders:?}"
        ))
    }
}
