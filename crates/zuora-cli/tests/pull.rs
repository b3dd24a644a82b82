//! `zuora-report pull JOBS.toml` against the simulator: many reports in windows, under faults,
//! killed and started again, too big and split, bad jobs files; the simulator's own counters
//! (`GET /sim/stats`) show concurrency and duplicate runs from outside.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use zuora_sim::{FaultPlan, FaultScope, RunTiming, SimConfig, Simulator};
use zuora_tests::{parse_csv, sim_stats};

/// The four reports and their date fields.
const REPORTS: [(&str, &str); 4] = [
    ("Invoice Detail", "Invoice.CreatedDate"),
    ("Payments Detail", "Payment.EffectiveDate"),
    ("Account Overview", "Account.CreatedDate"),
    ("Daily Invoices Detail Report", "Invoice.CreatedDate"),
];

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zuora-pull-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A jobs file of the four reports, monthly windows over the first half of 2015.
fn jobs(concurrency: usize) -> String {
    let mut text = format!(
        "concurrency = {concurrency}\nstate = \"state/pulls.json\"\nout = \"out/{{report}}/{{start}}_{{end}}.{{ext}}\"\n"
    );
    for (name, field) in REPORTS {
        text.push_str(&format!(
            "\n[[report]]\nname = \"{name}\"\n[report.window]\nfield = \"{field}\"\nstart = 2015-01-01\nsize = \"1 month\"\nuntil = 2015-06-30\n"
        ));
    }
    text
}

fn simulator(fault_rate: f64, seed: u64) -> Simulator {
    let mut config = SimConfig::new(42);
    config.run_timing = RunTiming::uniform(Duration::from_millis(100));
    if fault_rate > 0.0 {
        config.faults = FaultPlan::Random {
            seed,
            probability: fault_rate,
            kinds: FaultPlan::every_kind(),
        };
        config.fault_scope = FaultScope::Reporting;
    }
    Simulator::start(config).unwrap()
}

fn zuora_report(sim: &Simulator, dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zuora-report"));
    command
        .current_dir(dir)
        .env_clear()
        .env("ZUORA_BASE_URL", sim.base_url())
        .env("ZUORA_CLIENT_ID", sim.client_id())
        .env("ZUORA_CLIENT_SECRET", sim.client_secret());
    command
}

fn pull(sim: &Simulator, dir: &Path, args: &[&str]) -> Output {
    zuora_report(sim, dir)
        .arg("pull")
        .arg(dir.join("jobs.toml"))
        .args(args)
        .output()
        .unwrap()
}

/// Every file under `dir`, relative, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, found: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                found.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut found = BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut found);
    }
    found
}

fn data_rows(csv: &[u8]) -> usize {
    parse_csv(std::str::from_utf8(csv).unwrap())
        .len()
        .saturating_sub(1)
}

fn state(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("state/pulls.json")).unwrap()).unwrap()
}

fn number(stats: &serde_json::Value, key: &str) -> u64 {
    stats[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key} in {stats}"))
}

/// Checks the 24 windows' files: each once, and each report's rows equal to one run over
/// the whole range (by `zuora-report run` with the same clause over six months).
fn check_files(sim: &Simulator, dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let out = files(&dir.join("out"));
    let names: Vec<&String> = out.keys().collect();
    assert_eq!(out.len(), 24, "{names:?}");
    assert!(names.iter().all(|n| n.ends_with(".csv")), "{names:?}");
    for (name, field) in REPORTS {
        let stem = name.replace(' ', "_");
        let windows: usize = out
            .iter()
            .filter(|(file, _)| file.starts_with(&format!("{stem}/")))
            .map(|(_, bytes)| data_rows(bytes))
            .sum();
        let filter = format!(
            r#"[{{"logicalOperator":"AND","filterClauses":[{{"field":{{"id":"{field}","type":"date"}},"operator":">=","value":"2015-01-01"}},{{"field":{{"id":"{field}","type":"date"}},"operator":"<","value":"2015-07-01"}}]}}]"#
        );
        let whole = zuora_report(sim, dir)
            .args([
                "run",
                name,
                "--wait",
                "--filter",
                &filter,
                "--out",
                "whole.csv",
            ])
            .output()
            .unwrap();
        assert!(
            whole.status.success(),
            "{}",
            String::from_utf8_lossy(&whole.stderr)
        );
        let whole = data_rows(&std::fs::read(dir.join("whole.csv")).unwrap());
        assert_eq!(
            windows, whole,
            "{name}: rows of the windows against one run"
        );
        assert!(
            whole > 0,
            "{name}: the range has rows, so the check means something"
        );
    }
    out
}

#[test]
fn four_reports_in_monthly_windows_under_faults_run_once_each_two_at_a_time() {
    let sim = simulator(0.2, 7);
    let dir = folder("faults");
    std::fs::write(dir.join("jobs.toml"), jobs(2)).unwrap();
    let output = pull(&sim, &dir, &["--json"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // One JSON event per line, the summary last.
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let done = events.iter().filter(|e| e["event"] == "done").count();
    assert_eq!(done, 24);
    let summary = events.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert!(
        summary["reports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["done"] == 6 && r["failed"] == 0)
    );

    let stats = sim_stats(sim.base_url());
    assert!(number(&stats, "peak_running_runs") <= 2, "{stats}");
    assert!(number(&stats, "peak_running_runs") >= 1, "{stats}");
    assert_eq!(number(&stats, "duplicate_runs"), 0, "{stats}");
    assert_eq!(number(&stats, "runs_started"), 24, "{stats}");

    // The state records every window once, with its rows.
    let state = state(&dir);
    for (name, _) in REPORTS {
        let done = state["reports"][name]["done"].as_array().unwrap();
        assert_eq!(done.len(), 6, "{name}");
        assert_eq!(
            state["reports"][name]["high_water_mark"], "2015-07-01",
            "{name}"
        );
    }
    check_files(&sim, &dir);

    // A second pull has nothing left to do: no run is started.
    let before = number(&sim_stats(sim.base_url()), "runs_started");
    let again = pull(&sim, &dir, &[]);
    assert_eq!(again.status.code(), Some(0));
    let stats_after = sim_stats(sim.base_url());
    assert_eq!(number(&stats_after, "runs_started"), before);
    assert_eq!(number(&stats_after, "duplicate_runs"), 0);
}

#[test]
fn killed_three_times_it_finishes_with_the_same_files_and_no_duplicate_run() {
    // The files a pull makes without a kill, for comparison.
    let clean_sim = simulator(0.0, 0);
    let clean = folder("clean");
    std::fs::write(clean.join("jobs.toml"), jobs(2)).unwrap();
    assert_eq!(pull(&clean_sim, &clean, &["-q"]).status.code(), Some(0));
    let expected = files(&clean.join("out"));

    let sim = simulator(0.2, 11);
    let dir = folder("killed");
    std::fs::write(dir.join("jobs.toml"), jobs(2)).unwrap();
    // A random moment each time, from the clock (the seed is printed for a rerun by hand).
    let mut seed = Instant::now().elapsed().as_nanos() as u64 ^ u64::from(std::process::id());
    eprintln!("kill moments from seed {seed}");
    for _ in 0..3 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let moment = Duration::from_millis(300 + (seed >> 33) % 2500);
        let mut child = zuora_report(&sim, &dir)
            .args(["pull", "jobs.toml", "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(moment);
        child.kill().unwrap(); // SIGKILL: no handler runs.
        child.wait().unwrap();
    }
    let last = pull(&sim, &dir, &[]);
    assert_eq!(
        last.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    let got = files(&dir.join("out"));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "no window missing, none extra, no temporary file left"
    );
    assert!(
        got == expected,
        "the same bytes as the pull that was never killed"
    );
    let stats = sim_stats(sim.base_url());
    assert_eq!(number(&stats, "duplicate_runs"), 0, "{stats}");
    let state = state(&dir);
    for (name, _) in REPORTS {
        let done = state["reports"][name]["done"].as_array().unwrap();
        let mut starts: Vec<&str> = done.iter().map(|d| d["start"].as_str().unwrap()).collect();
        starts.dedup();
        assert_eq!(starts.len(), 6, "{name}: each window once in the state");
    }
    check_files(&sim, &dir);
}

#[test]
fn a_window_too_big_for_the_export_is_split_until_each_part_passes() {
    let mut config = SimConfig::new(42);
    // Invoice Detail over 2015 exports about 7 KB; at most 3000 bytes pass.
    config.export_limit = Some(3000);
    let sim = Simulator::start(config).unwrap();
    let dir = folder("split");
    std::fs::write(
        dir.join("jobs.toml"),
        "state = \"state/pulls.json\"\nout = \"out/{start}_{end}.csv\"\n[[report]]\nname = \"Invoice Detail\"\n[report.window]\nfield = \"Invoice.CreatedDate\"\nstart = 2015-01-01\nsize = \"12 months\"\nuntil = 2015-12-31\n",
    )
    .unwrap();
    let output = pull(&sim, &dir, &["--json"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(r#""event":"split""#), "{stdout}");
    let state = state(&dir);
    let report = &state["reports"]["Invoice Detail"];
    let split = report["split"].as_array().unwrap();
    assert!(
        split
            .iter()
            .any(|w| w["start"] == "2015-01-01" && w["end"] == "2016-01-01"),
        "{report}"
    );
    // The done windows tile the year, and each file passed the limit.
    let mut done: Vec<(String, String)> = report["done"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["start"].as_str().unwrap().to_owned(),
                d["end"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    done.sort();
    assert!(done.len() >= 3, "{done:?}");
    assert_eq!(done.first().unwrap().0, "2015-01-01");
    assert_eq!(done.last().unwrap().1, "2016-01-01");
    assert!(done.windows(2).all(|w| w[0].1 == w[1].0), "{done:?}");
    let rows: usize = files(&dir.join("out")).values().map(|b| data_rows(b)).sum();
    let whole_rows: u64 = sim
        .report_by_name("Invoice Detail")
        .map(|r| {
            (1..=r.rows)
                .filter(|&row| {
                    let created = &r.row(row)[1];
                    created.contains(", 2015")
                })
                .count() as u64
        })
        .unwrap();
    assert_eq!(rows as u64, whole_rows);
}

#[test]
fn bad_jobs_files_exit_2_before_any_request_naming_file_line_and_key() {
    let sim = simulator(0.0, 0);
    let dir = folder("bad");
    std::fs::write(dir.join("a-file"), "not a folder").unwrap();
    let good = jobs(2);
    let cases = [
        (
            good.replacen("concurrency", "concurency", 1),
            1,
            "concurency",
        ),
        (
            good.replacen("start = 2015-01-01", "start = \"last spring\"", 1),
            9,
            "report[1].window.start",
        ),
        (
            good.replacen(
                "field = \"Invoice.CreatedDate\"",
                "field = \"Invoice.CreatedDate\"\ntype = \"text\"",
                1,
            ),
            9,
            "report[1].window.type",
        ),
        (
            good.replacen("size = \"1 month\"", "size = \"0 days\"", 1),
            10,
            "report[1].window.size",
        ),
        (
            good.replacen("state/pulls.json", "a-file/pulls.json", 1),
            2,
            "state",
        ),
    ];
    for (text, line, key) in cases {
        std::fs::write(dir.join("jobs.toml"), &text).unwrap();
        sim.clear_request_log();
        let output = pull(&sim, &dir, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{key}: {stderr}");
        assert!(stderr.contains("jobs.toml"), "{key}: {stderr}");
        assert!(stderr.contains(key), "{key}: {stderr}");
        if key != "state" {
            assert!(
                stderr.contains(&format!("jobs.toml:{line}: {key}")),
                "{stderr}"
            );
        }
        assert!(sim.request_log().is_empty(), "{key}: nothing is sent");
    }
}

#[test]
fn sigterm_cancels_the_runs_in_flight_and_leaves_no_partial_file() {
    let mut config = SimConfig::new(42);
    config.run_timing = RunTiming::uniform(Duration::from_secs(2));
    let sim = Simulator::start(config).unwrap();
    let dir = folder("sigterm");
    std::fs::write(dir.join("jobs.toml"), jobs(2)).unwrap();
    let child = zuora_report(&sim, &dir)
        .args(["pull", "jobs.toml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped within a poll"
    );
    let stats = sim_stats(sim.base_url());
    assert_eq!(
        number(&stats, "running_runs"),
        0,
        "every run in flight was cancelled: {stats}"
    );
    assert!(
        files(&dir.join("out"))
            .keys()
            .all(|name| !name.contains(".partial")),
        "no partial file"
    );
    // The state is consistent: a rerun finishes the rest with no duplicate run.
    sim.set_run_timing(RunTiming::uniform(Duration::from_millis(50)));
    let rerun = pull(&sim, &dir, &["-q"]);
    assert_eq!(rerun.status.code(), Some(0));
    assert_eq!(files(&dir.join("out")).len(), 24);
    assert_eq!(number(&sim_stats(sim.base_url()), "duplicate_runs"), 0);
}
