//! The C ABI's chores: its generated header, and its tests from C and Python.

use std::path::Path;
use std::process::Command;

use crate::{run_command, target_dir};

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

/// Compiles one of the C tests against the library (and `extra` libraries).
fn compile(source: &str, binary: &Path, debug: &Path, extra: &[&str]) -> Result<(), String> {
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
            .arg(format!("{CRATE_DIR}/tests/{source}"))
            .arg("-o")
            .arg(binary)
            .arg("-L")
            .arg(debug)
            .args(["-lzuora"])
            .args(extra)
            .arg("-Wl,-rpath")
            .arg(debug),
    )
}

/// Runs a C test binary under valgrind (0 leaks, 0 errors), or plainly where valgrind is
/// missing outside CI.
fn run_checked(binary: &Path, env: &[(&str, &str)]) -> Result<(), String> {
    let valgrind = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let mut command = if valgrind {
        let mut command = Command::new("valgrind");
        command.args([
            "--leak-check=full",
            "--show-leak-kinds=all",
            "--errors-for-leak-kinds=all",
            "--error-exitcode=99",
            "--quiet",
        ]);
        command.arg(binary);
        command
    } else if std::env::var_os("CI").is_some() {
        return Err("valgrind is missing (.ci/run installs it)".to_owned());
    } else {
        eprintln!(
            "valgrind not found: running {} without it",
            binary.display()
        );
        Command::new(binary)
    };
    command.envs(env.iter().copied());
    run_command(&mut command)
}

/// Builds the library and the simulator, then runs the C tests under valgrind: the rules
/// without a network (`tests/test.c`), and the whole trip with libcurl as the HTTP stack
/// against zuora-sim on loopback (`tests/trip.c`).
pub fn test() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run_command(Command::new(&cargo).args([
        "build",
        "--package",
        "zuora-ffi",
        "--package",
        "zuora-sim",
    ]))?;
    run_command(Command::new(&cargo).args([
        "build",
        "--package",
        "zuora-tests",
        "--bin",
        "zuora-hostile",
    ]))?;
    let debug = target_dir().join("debug");
    let test_binary = debug.join("zuora-ffi-c-test");
    compile("test.c", &test_binary, &debug, &[])?;
    run_checked(&test_binary, &[])?;

    let trip_binary = debug.join("zuora-ffi-c-trip");
    compile("trip.c", &trip_binary, &debug, &["-lcurl"]).map_err(|e| {
        format!("{e}\n(the trip needs libcurl's headers: apt-get install libcurl4-openssl-dev)")
    })?;
    let mut command = Command::new(debug.join("zuora-sim"));
    command.args(["--port", "0", "--run-seconds", "0.2", "--seed", "11"]);
    let sim = crate::bench_sim::SimProcess::launch(command)?;
    // The same seed, so the same credentials; a third of the Reporting calls meet a fault.
    let mut command = Command::new(debug.join("zuora-sim"));
    command.args([
        "--port",
        "0",
        "--run-seconds",
        "0.2",
        "--seed",
        "11",
        "--fault-rate",
        "0.3",
    ]);
    let faulty = crate::bench_sim::SimProcess::launch(command)?;
    let out_dir = target_dir().join("ffi-trip");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let out_dir = out_dir.to_string_lossy().into_owned();
    let hostile = Hostile::launch(
        &debug.join("zuora-hostile"),
        &target_dir().join("ffi-hostile.log"),
    )?;
    let mut env = vec![
        ("ZUORA_BASE_URL".to_owned(), sim.base_url.clone()),
        ("ZUORA_CLIENT_ID".to_owned(), sim.client_id.clone()),
        ("ZUORA_CLIENT_SECRET".to_owned(), sim.client_secret.clone()),
        ("ZUORA_OUT_DIR".to_owned(), out_dir),
        ("ZUORA_FAULTY_BASE_URL".to_owned(), faulty.base_url.clone()),
    ];
    env.extend(hostile.env.iter().cloned());
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let ran = run_checked(&trip_binary, &env);
    let log = hostile.stop()?;
    ran?;
    if log.contains("reached") {
        return Err(format!("a redirect was followed from C: {log}"));
    }
    Ok(())
}

/// `zuora-hostile` (the tests crate's hostile scenarios, one port each) for the C driver:
/// its `NAME: URL` lines become `ZUORA_HOSTILE_NAME` variables; it serves until its
/// standard input closes.
struct Hostile {
    child: std::process::Child,
    log: std::path::PathBuf,
    env: Vec<(String, String)>,
}

impl Hostile {
    fn launch(binary: &Path, log: &Path) -> Result<Self, String> {
        use std::io::BufRead as _;
        let stderr = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut child = Command::new(binary)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout from zuora-hostile")?;
        let mut env = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.map_err(|e| e.to_string())?;
            let Some((name, value)) = line.split_once(": ") else {
                continue;
            };
            let name = name.to_uppercase().replace(' ', "_");
            env.push((format!("ZUORA_HOSTILE_{name}"), value.to_owned()));
            if name == "CLIENT_ID" {
                break;
            }
        }
        if !env
            .iter()
            .any(|(name, _)| name == "ZUORA_HOSTILE_CLIENT_ID")
        {
            let _ = child.kill();
            return Err("zuora-hostile did not print its scenarios".to_owned());
        }
        Ok(Self {
            child,
            log: log.to_path_buf(),
            env,
        })
    }

    /// Stops it; what it logged.
    fn stop(mut self) -> Result<String, String> {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).map_err(|e| format!("{}: {e}", self.log.display()))
    }
}
