//! The blocking client's receiving thread ends when its export is dropped part way, even
//! parked on a full hand-over (it is woken then, not left behind). A file of its own: it
//! counts this process's threads, which other tests running beside it would change.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::io::Read;
use std::time::{Duration, Instant};

use zuora_core::config::BuildClient as _;
use zuora_core::{ExportFormat, RunReportOptions};
use zuora_sim::{LARGE_REPORT_NAME, SimConfig, Simulator};
use zuora_tests::builder_for;

/// Threads of this process named as the blocking client names its receiving threads.
fn receiving_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .flatten()
                .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
                .filter(|name| name.trim() == "zuora-receive")
                .count()
        })
        .unwrap_or(0)
}

/// Waits up to `within` for `done`; whether it came.
fn eventually(within: Duration, done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

#[test]
fn a_reader_dropped_part_way_lets_its_receiving_thread_go() {
    if !std::path::Path::new("/proc/self/task").exists() {
        eprintln!("no /proc here: the threads cannot be counted");
        return;
    }
    let mut config = SimConfig::new(5);
    // About 50 MB of UTF-16: far more than the hand-over holds, so the thread parks on it.
    config.catalogue.set_rows(LARGE_REPORT_NAME, 200_000);
    let sim = Simulator::start(config).unwrap();
    let config = builder_for(&sim)
        .gzip_responses(false)
        .receive_thread(true)
        .into_config()
        .unwrap();
    let client = zuora_blocking::Client::from_config(config).unwrap();
    let report = sim.report_by_name(LARGE_REPORT_NAME).unwrap();
    let run = client
        .run_report(&report.id, report.view_type, RunReportOptions::default())
        .unwrap()
        .report_run_id;

    let mut reader = client.open_export(&run, ExportFormat::Csv).unwrap();
    let mut start = vec![0; 4096];
    reader.read_exact(&mut start).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || receiving_threads() == 1),
        "the export receives on a thread of its own"
    );
    // Long enough for the thread to fill the hand-over and park on it.
    std::thread::sleep(Duration::from_millis(300));
    drop(reader);
    assert!(
        eventually(Duration::from_secs(5), || receiving_threads() == 0),
        "the receiving thread is still there 5 s after its reader was dropped"
    );
}
