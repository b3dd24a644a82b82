//! `cargo xtask bench python`: what a Python user pays to start and to make the whole trip
//! (find the report by name, run it, wait, download the CSV) against the release simulator:
//! `import zuora_reporting` in a new interpreter (beyond the interpreter's own start),
//! `Client()`, the trip with a new `Client` each time, the trip with one reused, and the
//! `zuora-report` CLI as a new process. Best of 7 each; the last line is
//! `python new client / cli R.RRx`.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::bench_sim::SimProcess;
use crate::{run_command, target_dir};

const TRIES: usize = 7;
const REPORT: &str = "Invoice Detail";

/// The Python side, run in the venv: prints `name seconds` lines.
const SCRIPT: &str = r#"
import os, sys, time, tempfile
import zuora_reporting as zr
settings = dict(base_url=os.environ["ZUORA_BASE_URL"], client_id=os.environ["ZUORA_CLIENT_ID"],
                client_secret=os.environ["ZUORA_CLIENT_SECRET"])
out = os.path.join(tempfile.mkdtemp(), "trip.csv")
def best(step):
    times = []
    for _ in range(int(os.environ["TRIES"])):
        start = time.perf_counter(); step(); times.append(time.perf_counter() - start)
    return min(times)
def new_client_trip():
    with zr.Client(**settings) as client:
        client.run_and_download(sys.argv[1], out)
new_client_trip()  # the first use imports httpx and builds what is built once per process
print("client", best(lambda: zr.Client(**settings).close()))
print("new", best(new_client_trip))
reused = zr.Client(**settings)
reused.run_and_download(sys.argv[1], out)
print("reused", best(lambda: reused.run_and_download(sys.argv[1], out)))
reused.close()
"#;

/// Runs the bench.
pub fn run(args: &[&str]) -> Result<(), String> {
    if !args.is_empty() {
        return Err("usage: cargo xtask bench python".to_owned());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run_command(Command::new(&cargo).args([
        "build",
        "--quiet",
        "--release",
        "--package",
        "zuora-cli",
    ]))?;
    let venv = target_dir().join("bench-python-venv");
    if !venv.join("bin/python").exists() {
        run_command(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    run_command(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(crate::python::CRATE),
    )?;
    let python = venv.join("bin/python");
    let sim = SimProcess::start(1000)?;
    let env = [
        ("ZUORA_BASE_URL", sim.base_url.as_str()),
        ("ZUORA_CLIENT_ID", sim.client_id.as_str()),
        ("ZUORA_CLIENT_SECRET", sim.client_secret.as_str()),
    ];

    let bare = best_process(&mut || Command::new(&python).args(["-c", "pass"]).status())?;
    let imported = best_process(&mut || {
        Command::new(&python)
            .args(["-c", "import zuora_reporting"])
            .status()
    })?;
    let out_dir = tempdir()?;
    let cli = target_dir().join("release/zuora-report");
    let csv = out_dir.join("cli.csv");
    let by_cli = best_process(&mut || {
        Command::new(&cli)
            .args(["run", REPORT, "--wait", "--quiet", "--out"])
            .arg(&csv)
            .envs(env)
            .status()
    })?;
    let output = Command::new(&python)
        .args(["-c", SCRIPT, REPORT])
        .envs(env)
        .env("TRIES", TRIES.to_string())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !output.status.success() {
        return Err(format!(
            "the Python bench failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let figures = String::from_utf8_lossy(&output.stdout);
    let figure = |name: &str| -> Result<f64, String> {
        figures
            .lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
            .ok_or_else(|| format!("no {name} figure in {figures:?}"))
    };
    let millis = |d: Duration| d.as_secs_f64() * 1e3;
    let import_ms = millis(imported.saturating_sub(bare));
    let (client_ms, new_ms, reused_ms) = (
        figure("client")? * 1e3,
        figure("new")? * 1e3,
        figure("reused")? * 1e3,
    );
    let cli_ms = millis(by_cli);
    let _ = std::fs::remove_dir_all(&out_dir);
    println!(
        "the whole trip ({REPORT:?}, by name, wait, CSV) against the release simulator, best of {TRIES}"
    );
    println!("{:<52}{:>9}", "what", "ms");
    println!(
        "{:<52}{import_ms:>9.1}",
        "import zuora_reporting (beyond the interpreter)"
    );
    println!("{:<52}{client_ms:>9.2}", "Client() (and close)");
    println!("{:<52}{new_ms:>9.1}", "python, a new Client each trip");
    println!("{:<52}{reused_ms:>9.1}", "python, one Client reused");
    println!("{:<52}{cli_ms:>9.1}", "zuora-report as a new process");
    println!("python new client / cli {:.2}x", new_ms / cli_ms);
    Ok(())
}

/// The shortest of [`TRIES`] runs of a process that must succeed.
fn best_process(
    start: &mut dyn FnMut() -> std::io::Result<std::process::ExitStatus>,
) -> Result<Duration, String> {
    let mut best = Duration::MAX;
    for _ in 0..TRIES {
        let began = Instant::now();
        let status = start().map_err(|e| format!("cannot start: {e}"))?;
        let took = began.elapsed();
        if !status.success() {
            return Err(format!("a measured process failed: {status}"));
        }
        best = best.min(took);
    }
    Ok(best)
}

fn tempdir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("zuora-bench-python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}
