//! `cargo xtask python-test`: the Python package (`crates/zuora-python`) checked, built and
//! installed with pip into a fresh virtual environment, then its tests run against zuora-sim.

use std::process::Command;

use crate::{run_command, target_dir};

pub(crate) const CRATE: &str = "crates/zuora-python";

/// What the package's test suite needs from PyPI besides the package: pytest, and pyarrow,
/// polars, pandas (3, for `DataFrame.from_arrow`) and DuckDB only to test that they read the
/// package's Arrow streams (the package itself depends on none of them).
pub const TEST_PACKAGES: [&str; 5] = ["pytest", "pyarrow", "polars", "pandas>=3", "duckdb"];

pub fn test() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = format!("{CRATE}/Cargo.toml");
    // Outside the workspace (an extension module cannot link into its test binaries), so
    // checked here on its own.
    run_command(Command::new(&cargo).args(["fmt", "--manifest-path", &manifest, "--check"]))?;
    run_command(Command::new(&cargo).args([
        "clippy",
        "--manifest-path",
        &manifest,
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run_command(Command::new(&cargo).args(["build", "--package", "zuora-sim"]))?;
    // A fresh environment each time: `pip install <path>` from a clone is what a user runs.
    let venv = target_dir().join("python-venv");
    if venv.exists() {
        std::fs::remove_dir_all(&venv).map_err(|e| e.to_string())?;
    }
    run_command(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    let pip = venv.join("bin/pip");
    run_command(
        Command::new(&pip)
            .args(["install", "--quiet", CRATE])
            .args(TEST_PACKAGES),
    )?;
    let python = venv.join("bin/python");
    run_command(Command::new(&python).args([
        "-c",
        "import zuora_reporting; print('zuora_reporting', zuora_reporting.__version__)",
    ]))?;
    let sim = std::fs::canonicalize(target_dir().join("debug/zuora-sim"))
        .map_err(|e| format!("zuora-sim was not built: {e}"))?;
    run_command(
        Command::new(&python)
            .args(["-m", "pytest", "-q", &format!("{CRATE}/tests")])
            .env("ZUORA_SIM_BINARY", sim),
    )
}
