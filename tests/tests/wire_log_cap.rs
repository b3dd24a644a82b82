//! Issue 23, item 12: zuora-blocking's cap on `log` (which compiles out ureq-proto's TRACE
//! hex dump of the Authorization header) cannot be lifted by another crate's feature. An
//! application that asks `log` for `release_max_level_trace` next to zuora-blocking does not
//! build (`log` refuses two caps), so no release binary can carry the dump silently.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::path::Path;
use std::process::Command;

#[test]
fn an_application_lifting_the_log_cap_does_not_build() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let app = workspace.join("target/log-cap-app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    let manifest = format!(
        "[package]\nname = \"log-cap-app\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\nzuora-blocking = {{ path = {:?} }}\n\
         log = {{ version = \"0.4.22\", features = [\"release_max_level_trace\"] }}\n",
        workspace.join("crates/zuora-blocking")
    );
    std::fs::write(app.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(app.join("src/main.rs"), "fn main() {}\n").unwrap();
    // The workspace's lock, so nothing is resolved anew (and nothing fetched).
    std::fs::copy(workspace.join("Cargo.lock"), app.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["check", "--release", "--offline", "--quiet"])
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", app.join("target"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it built: {stderr}");
    assert!(
        stderr.contains("multiple release_max_level_* features set"),
        "it failed for another reason: {stderr}"
    );
}
