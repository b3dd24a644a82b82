//! Pulls as a library call, on both transports, against the simulator: the same windows,
//! files and state as the CLI's, seen from outside through `GET /sim/stats`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::path::{Path, PathBuf};
use std::time::Duration;

use zuora_core::pulls::{PullEvent, PullSummary};
use zuora_sim::{FaultPlan, FaultScope, RunTiming, SimConfig, Simulator};
use zuora_tests::{parse_csv, sim_stats};

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zuora-lib-pull-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const JOBS: &str = r#"
concurrency = 2
state = "state.json"
out = "out/{report}/{start}_{end}.{ext}"
format = "FORMAT"

[[report]]
name = "Invoice Detail"
[report.window]
field = "Invoice.CreatedDate"
start = 2016-01-01
size = "2 months"
until = 2016-12-31

[[report]]
name = "Payments Detail"
[report.window]
field = "Payment.EffectiveDate"
start = 2016-01-01
size = "2 months"
until = 2016-12-31
"#;

fn simulator() -> Simulator {
    let mut config = SimConfig::new(42);
    config.run_timing = RunTiming::uniform(Duration::from_millis(50));
    config.faults = FaultPlan::Random {
        seed: 3,
        probability: 0.15,
        kinds: FaultPlan::every_kind(),
    };
    config.fault_scope = FaultScope::Reporting;
    Simulator::start(config).unwrap()
}

/// The rows of each window's CSV equal the simulator's rows dated in that window.
fn check(sim: &Simulator, dir: &Path, summary: &PullSummary, events: &[PullEvent]) {
    assert!(summary.all_done(), "{summary:?}");
    assert_eq!(summary.reports.len(), 2);
    for (line, field) in summary.reports.iter().zip([1usize, 1]) {
        assert_eq!(
            (line.windows, line.done, line.failed),
            (6, 6, 0),
            "{line:?}"
        );
        let report = sim.report_by_name(&line.report).unwrap();
        let in_2016 = (1..=report.rows)
            .filter(|&row| report.row(row)[field].contains(", 2016"))
            .count();
        let stem = line.report.replace(' ', "_");
        let mut rows = 0;
        for entry in std::fs::read_dir(dir.join("out").join(&stem)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            rows += parse_csv(&text).len() - 1;
        }
        assert_eq!(rows, in_2016, "{}", line.report);
        assert_eq!(
            line.rows, in_2016 as u64,
            "the summary counts the same rows"
        );
    }
    let done = events
        .iter()
        .filter(|e| matches!(e, PullEvent::Done { .. }))
        .count();
    assert_eq!(done, 12);
    let stats = sim_stats(sim.base_url());
    assert_eq!(stats["duplicate_runs"], 0, "{stats}");
    assert!(stats["peak_running_runs"].as_u64().unwrap() <= 2, "{stats}");
    assert_eq!(stats["runs_started"], 12, "{stats}");
}

#[test]
fn a_pull_on_the_blocking_client() {
    use zuora_blocking::{PullControl, Pulls};
    let sim = simulator();
    let dir = folder("blocking");
    let jobs = dir.join("jobs.toml");
    std::fs::write(&jobs, JOBS.replace("FORMAT", "csv")).unwrap();
    let client = zuora_blocking::Client::builder()
        .base_url(sim.base_url())
        .credentials(sim.client_id(), sim.client_secret())
        .build()
        .unwrap();
    let mut events = Vec::new();
    let summary = client
        .pull(&jobs, &PullControl::new(), |event, _| {
            events.push(event.clone())
        })
        .unwrap();
    check(&sim, &dir, &summary, &events);
}

#[test]
fn a_pull_on_the_async_client() {
    use zuora_async::{PullControl, Pulls};
    let sim = simulator();
    let dir = folder("async");
    let jobs = dir.join("jobs.toml");
    std::fs::write(&jobs, JOBS.replace("FORMAT", "csv")).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (summary, events) = runtime.block_on(async {
        let client = zuora_async::Client::builder()
            .base_url(sim.base_url())
            .credentials(sim.client_id(), sim.client_secret())
            .build()
            .unwrap();
        let control = PullControl::new();
        let mut events = Vec::new();
        // Spawned: the pull's future is Send.
        let summary = tokio::spawn(async move {
            let summary = client
                .pull(&jobs, &control, |event, _| events.push(event.clone()))
                .await;
            (summary, events)
        })
        .await
        .unwrap();
        (summary.0.unwrap(), summary.1)
    });
    check(&sim, &dir, &summary, &events);
}

#[test]
fn a_pull_to_parquet_writes_typed_tables() {
    use zuora_blocking::{PullControl, Pulls};
    let sim = simulator();
    let dir = folder("parquet");
    let jobs = dir.join("jobs.toml");
    std::fs::write(&jobs, JOBS.replace("FORMAT", "parquet")).unwrap();
    let client = zuora_blocking::Client::builder()
        .base_url(sim.base_url())
        .credentials(sim.client_id(), sim.client_secret())
        .build()
        .unwrap();
    let summary = client.pull(&jobs, &PullControl::new(), |_, _| {}).unwrap();
    assert!(summary.all_done(), "{summary:?}");
    let mut rows = 0;
    for entry in std::fs::read_dir(dir.join("out/Invoice_Detail")).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(path.extension().unwrap(), "parquet");
        let file = std::fs::File::open(&path).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        rows += reader.map(|batch| batch.unwrap().num_rows()).sum::<usize>();
    }
    assert_eq!(rows as u64, summary.reports[0].rows);
    assert!(rows > 0);
}
