//! `cargo xtask bench sim-export`: the simulator streams a large export in bounded memory.
//!
//! The release `zuora-sim` binary runs as its own process so that its peak resident set
//! (VmHWM in /proc) measures the simulator alone; `curl` downloads to /dev/null.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use zuora_sim::{Catalogue, LARGE_REPORT_NAME};

use crate::run_command;

pub(crate) const SEED: u64 = 42;

/// Parses sizes like `1GiB`, `512MiB`, `1000000`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let units = [
        ("GiB", 1u64 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("GB", 1_000_000_000),
        ("MB", 1_000_000),
        ("B", 1),
    ];
    let (number, scale) = units
        .iter()
        .find_map(|(unit, scale)| text.strip_suffix(unit).map(|n| (n, *scale)))
        .unwrap_or((text, 1));
    number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| *n > 0.0)
        .map(|n| (n * scale as f64) as u64)
        .ok_or_else(|| format!("not a size: {text:?} (try 1GiB or 256MiB)"))
}

/// Rows of the large report whose export is about `bytes` long, from the generator itself.
pub fn rows_for_export_bytes(bytes: u64) -> u64 {
    let catalogue = Catalogue::sample(SEED, 10_000);
    let Some(report) = catalogue.by_name(LARGE_REPORT_NAME) else {
        return 1;
    };
    let sample = 5_000u64;
    // UTF-16 units of a row as exported: each field, quoted (with inner quotes doubled)
    // when it holds a tab, line break or quote, then one tab or the final line break.
    let units: u64 = (1..=sample)
        .flat_map(|row| report.row(row))
        .map(|field| {
            let quoted = field.contains(['\t', '\n', '\r', '"']);
            let quotes = field.matches('"').count();
            let length = field.encode_utf16().count() + 1;
            (length + if quoted { 2 + quotes } else { 0 }) as u64
        })
        .sum();
    let bytes_per_row = 2.0 * units as f64 / sample as f64;
    ((bytes as f64 / bytes_per_row).round() as u64).max(1)
}

/// The simulator process, killed when dropped.
pub struct SimProcess {
    child: Child,
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
}

impl SimProcess {
    /// Builds and starts the release simulator with `large_rows` rows in the large report.
    pub fn start(large_rows: u64) -> Result<Self, String> {
        Self::start_pinned(large_rows, None)
    }

    /// Like [`start`](Self::start), with the simulator pinned to one CPU (via `taskset`) so
    /// that it competes less with the process being measured.
    pub fn start_pinned(large_rows: u64, cpu: Option<usize>) -> Result<Self, String> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        run_command(Command::new(&cargo).args([
            "build",
            "--quiet",
            "--release",
            "--package",
            "zuora-sim",
        ]))?;
        let mut command = match cpu {
            Some(cpu) => {
                let mut taskset = Command::new("taskset");
                taskset.args(["--cpu-list", &cpu.to_string(), "target/release/zuora-sim"]);
                taskset
            }
            None => Command::new("target/release/zuora-sim"),
        };
        command.args([
            "--port",
            "0",
            "--run-seconds",
            "0",
            "--seed",
            &SEED.to_string(),
            "--large-rows",
            &large_rows.to_string(),
        ]);
        Self::launch(command)
    }

    /// Starts `command` (a simulator with its arguments; `--port 0` among them) and reads the
    /// base URL and credentials it prints.
    pub fn launch(mut command: Command) -> Result<Self, String> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
        let stdout = child.stdout.take().ok_or("no stdout from zuora-sim")?;
        let mut found = (None, None, None);
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| e.to_string())?;
            if found.0.is_some() && found.1.is_some() && found.2.is_some() {
                break;
            }
            let value = line.split_whitespace().last().map(str::to_owned);
            if line.starts_with("base URL:") {
                found.0 = value;
            } else if line.starts_with("client id:") {
                found.1 = value;
            } else if line.starts_with("client secret:") {
                found.2 = value;
                break;
            }
        }
        match found {
            (Some(base_url), Some(client_id), Some(client_secret)) => Ok(Self {
                child,
                base_url,
                client_id,
                client_secret,
            }),
            _ => {
                let _ = child.kill();
                Err("zuora-sim did not print its base URL and credentials".to_owned())
            }
        }
    }

    /// CPU seconds the simulator has used so far (Linux).
    pub fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds_of(&self.child.id().to_string())
    }

    /// Peak resident set of the simulator so far, in KiB (Linux).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        peak_rss_kib_of(&self.child.id().to_string())
    }
}

/// CPU time (user + system, all threads) a process (`self`, or a pid) has used so far, in
/// seconds, from `/proc` (Linux). `/proc` counts in USER_HZ ticks, which the kernel ABI fixes
/// at 100 per second on every architecture this runs on, so no libc call is needed for it.
pub fn cpu_seconds_of(process: &str) -> Option<f64> {
    let (user, system) = user_and_system_ticks_of(process)?;
    Some(user.saturating_add(system) as f64 / 100.0)
}

/// A process's (`self`, or a pid) user and system CPU time in clock ticks, from
/// `/proc/<process>/stat` fields 14 and 15.
pub fn user_and_system_ticks_of(process: &str) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    // After the command name, state is field 3: utime (14) and stime (15) are 11 and 12.
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)?, ticks(12)?))
}

/// Peak resident set of a process (`self`, or a pid) so far, in KiB, from `/proc` (Linux).
pub fn peak_rss_kib_of(process: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs curl and returns its standard output.
pub fn curl(args: &[&str]) -> Result<String, String> {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--fail-with-body"])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run curl (install it with apt-get install curl): {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "curl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn json_field(text: &str, pointer: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON ({e}): {text}"))?;
    value
        .pointer(pointer)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("no {pointer} in {text}"))
}

/// A token, and the id of a completed run of the large report, from a running simulator.
pub fn completed_large_run(sim: &SimProcess) -> Result<(String, String), String> {
    let form = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials",
        sim.client_id, sim.client_secret
    );
    let token = json_field(
        &curl(&[
            "-X",
            "POST",
            &format!("{}/oauth/token", sim.base_url),
            "--data",
            &form,
        ])?,
        "/access_token",
    )?;
    let auth = format!("Authorization: Bearer {token}");
    let report_id = Catalogue::sample(SEED, 1)
        .by_name(LARGE_REPORT_NAME)
        .map(|r| r.id.to_string())
        .ok_or("no large report in the catalogue")?;
    let run = json_field(
        &curl(&[
            "-X",
            "POST",
            "-H",
            &auth,
            "-H",
            "Content-Type: application/json",
            "--data",
            "[]",
            &format!(
                "{}/reporting/api/rest/v1/reports/{report_id}/reportrun?viewType=Detail",
                sim.base_url
            ),
        ])?,
        "/response/reportRunId",
    )?;
    Ok((token, run))
}

/// Downloads a run's export with curl to /dev/null (plain, as served): (bytes, seconds).
pub fn curl_export(sim: &SimProcess, token: &str, run_id: &str) -> Result<(f64, f64), String> {
    let url = format!(
        "{}/reporting/api/rest/v1/reportruns/export/{run_id}?pivoted=false",
        sim.base_url
    );
    let start = Instant::now();
    let written = curl(&[
        "-H",
        &format!("Authorization: Bearer {token}"),
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        &url,
    ])?;
    let seconds = start.elapsed().as_secs_f64();
    let bytes = written
        .trim()
        .parse()
        .map_err(|_| format!("curl reported {written:?}"))?;
    Ok((bytes, seconds))
}

pub fn run(args: &[&str]) -> Result<(), String> {
    let mut full_args = vec!["bench", "sim-export"];
    full_args.extend_from_slice(args);
    if crate::ensure_release(&full_args)? {
        return Ok(());
    }
    let size = match args {
        [] => 1 << 30,
        ["--size", size] => parse_size(size)?,
        _ => return Err("usage: cargo xtask bench sim-export [--size 1GiB]".to_owned()),
    };
    let rows = rows_for_export_bytes(size);
    let sim = SimProcess::start(rows)?;
    let idle_kib = sim.peak_rss_kib();
    let (token, run) = completed_large_run(&sim)?;
    let (bytes, seconds) = curl_export(&sim, &token, &run)?;
    let peak_kib = sim
        .peak_rss_kib()
        .ok_or("cannot read the simulator's VmHWM from /proc")?;
    println!(
        "zuora-sim export streaming ({rows} rows of {LARGE_REPORT_NAME}, plain UTF-16LE, curl to /dev/null)"
    );
    println!("{:<28} {:>14.0}", "bytes downloaded", bytes);
    println!(
        "{:<28} {:>14.2}",
        "MiB downloaded",
        bytes / f64::from(1 << 20)
    );
    println!("{:<28} {:>14.2}", "seconds", seconds);
    println!("{:<28} {:>14.1}", "MB/s", bytes / seconds / 1e6);
    println!(
        "{:<28} {:>14}",
        "simulator RSS idle (KiB)",
        idle_kib.map_or("?".to_owned(), |k| k.to_string())
    );
    println!("{:<28} {:>14}", "simulator peak RSS (KiB)", peak_kib);
    println!(
        "target: simulator peak RSS < 64 MiB: {}",
        if peak_kib < 64 * 1024 {
            "met"
        } else {
            "MISSED"
        }
    );
    Ok(())
}

/// The size of `cargo xtask bench NAME [--size 256MiB]` (256 MiB when not given); `None`
/// when this debug build has just run the bench again as a release build.
pub fn release_bench_size(name: &str, args: &[&str]) -> Result<Option<u64>, String> {
    let mut full = vec!["bench", name];
    full.extend_from_slice(args);
    if crate::ensure_release(&full)? {
        return Ok(None);
    }
    match args {
        [] => Ok(Some(256 << 20)),
        ["--size", size] => parse_size(size).map(Some),
        _ => Err(format!("usage: cargo xtask bench {name} [--size 256MiB]")),
    }
}
