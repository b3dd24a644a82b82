//! Export downloads through both transports against zuora-sim: converted while streaming,
//! equal to the simulator's generator, and never a success when cut short.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use zuora_core::{Error, ExportFormat, RunReportOptions};
use zuora_sim::{Fault, FaultPlan, FaultScope, LARGE_REPORT_NAME, SimConfig, Simulator};
use zuora_tests::{Flavor, builder_for, client_for, client_with, parse_csv};

fn sim_with_large(rows: u64) -> Simulator {
    let mut config = SimConfig::new(5);
    config.catalogue.set_rows(LARGE_REPORT_NAME, rows);
    Simulator::start(config).unwrap()
}

fn completed_run(
    client: &zuora_tests::AnyClient,
    sim: &Simulator,
    name: &str,
) -> zuora_core::ReportRunId {
    let report = sim.report_by_name(name).unwrap();
    client
        .run_report(&report.id, report.view_type, RunReportOptions::default())
        .unwrap()
        .report_run_id
}

fn csv_equals_the_generator(flavor: Flavor) {
    let sim = sim_with_large(3_000);
    let client = client_for(flavor, &sim);
    let run = completed_run(&client, &sim, LARGE_REPORT_NAME);
    let (summary, csv) = client.download_export(&run, ExportFormat::Csv).unwrap();
    assert!(
        summary.bytes_received < summary.bytes_written,
        "the answer came gzipped"
    );
    assert_eq!(summary.bytes_written, csv.len() as u64);
    let report = sim.report_by_name(LARGE_REPORT_NAME).unwrap();
    let records = parse_csv(std::str::from_utf8(&csv).unwrap());
    assert_eq!(records.len() as u64, report.rows + 1);
    let labels: Vec<&str> = report.columns().iter().map(|c| c.label).collect();
    assert_eq!(records[0], labels);
    for (index, record) in records[1..].iter().enumerate() {
        assert_eq!(*record, report.row(index as u64 + 1), "row {}", index + 1);
    }
}

fn raw_is_the_utf16_as_sent(flavor: Flavor) {
    let sim = sim_with_large(200);
    let client = client_with(flavor, builder_for(&sim).gzip_responses(false));
    let run = completed_run(&client, &sim, "Invoice Detail");
    let (summary, raw) = client.download_export(&run, ExportFormat::Raw).unwrap();
    assert_eq!(summary.bytes_received, raw.len() as u64);
    assert!(raw.starts_with(&[0xFF, 0xFE]));
    let text = String::from_utf16(
        &raw[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(text.starts_with("Invoice: Invoice Number\t"));
    let (_, tsv) = client.download_export(&run, ExportFormat::Tsv).unwrap();
    assert_eq!(
        std::str::from_utf8(&tsv).unwrap().lines().next(),
        text.lines().next()
    );
}

fn a_cut_off_download_is_an_error(flavor: Flavor) {
    let sim = sim_with_large(20_000);
    for gzip in [true, false] {
        let client = client_with(flavor, builder_for(&sim).gzip_responses(gzip));
        let run = completed_run(&client, &sim, LARGE_REPORT_NAME);
        sim.set_faults(
            FaultPlan::Script(vec![Some(Fault::CutOff)]),
            FaultScope::Reporting,
        );
        match client.download_export(&run, ExportFormat::Csv) {
            Ok((summary, _)) => panic!(
                "gzip {gzip}: a cut-off download reported success ({} bytes received)",
                summary.bytes_received
            ),
            Err(error) => assert!(
                error.kind() == zuora_core::ErrorKind::ExportBroken && error.is_retryable()
                    || matches!(error, Error::Export(_)),
                "gzip {gzip}: {error}"
            ),
        }
        let last = sim
            .request_log()
            .into_iter()
            .last()
            .map(|r| r.path)
            .unwrap_or_default();
        assert!(
            last.contains("/export/"),
            "the export met the fault, last request {last}"
        );
    }
}

fn an_unfinished_run_is_an_api_error(flavor: Flavor) {
    let sim = Simulator::start(SimConfig {
        run_timing: zuora_sim::RunTiming::uniform(std::time::Duration::from_secs(60)),
        ..SimConfig::new(5)
    })
    .unwrap();
    let client = client_for(flavor, &sim);
    let run = completed_run(&client, &sim, "Invoice Detail");
    let error = client.download_export(&run, ExportFormat::Csv).unwrap_err();
    assert_eq!(error.api().unwrap().status(), 400, "{error}");
}

fn the_whole_trip_in_one_call(flavor: Flavor) {
    let sim = Simulator::start(SimConfig {
        run_timing: zuora_sim::RunTiming::uniform(std::time::Duration::from_millis(100)),
        ..SimConfig::new(5)
    })
    .unwrap();
    let client = client_for(flavor, &sim);
    let wait = zuora_core::WaitOptions::default().poll(
        zuora_core::policies::PollPolicy::new(
            std::time::Duration::from_millis(50),
            std::time::Duration::from_millis(200),
        )
        .unwrap(),
    );
    let by_name = zuora_core::ReportRef::parse("Invoice Totals by Currency").unwrap();
    let (run, csv) = client
        .run_and_download(
            &by_name,
            zuora_core::ViewType::Summary,
            wait,
            ExportFormat::Csv,
        )
        .unwrap();
    assert_eq!(run.status, zuora_core::RunStatus::Completed);
    let report = sim.report_by_name("Invoice Totals by Currency").unwrap();
    let records = parse_csv(std::str::from_utf8(&csv).unwrap());
    assert_eq!(records.len() as u64, report.rows + 1);
    assert_eq!(records[1], report.row(1));
    let by_id = zuora_core::ReportRef::parse(report.id.as_str()).unwrap();
    let (again, _) = client
        .run_and_download(
            &by_id,
            zuora_core::ViewType::Summary,
            wait,
            ExportFormat::Tsv,
        )
        .unwrap();
    assert_ne!(again.id, run.id, "a new run each time");
    let missing = zuora_core::ReportRef::parse("No Such Report Anywhere").unwrap();
    let error = client
        .run_and_download(
            &missing,
            zuora_core::ViewType::Detail,
            wait,
            ExportFormat::Csv,
        )
        .unwrap_err();
    assert!(matches!(error, Error::ReportNotFound { .. }), "{error}");
}

/// Issue 24, item 1: received on a thread (or task) of its own or on the caller's, an export
/// comes out the same, plain and gzipped, through the writer and the reader alike.
fn receiving_on_its_own_thread_or_not_gives_the_same_bytes(flavor: Flavor) {
    let sim = sim_with_large(5_000);
    let run = completed_run(&client_for(flavor, &sim), &sim, LARGE_REPORT_NAME);
    for gzip in [true, false] {
        let mut seen = Vec::new();
        for own_thread in [true, false] {
            let client = client_with(
                flavor,
                builder_for(&sim)
                    .gzip_responses(gzip)
                    .receive_thread(own_thread),
            );
            let (summary, csv) = client.download_export(&run, ExportFormat::Csv).unwrap();
            assert_eq!(summary.bytes_written, csv.len() as u64);
            assert_eq!(
                client.read_export_source(&run, ExportFormat::Csv).unwrap(),
                csv
            );
            seen.push(csv);
        }
        assert_eq!(seen[0], seen[1], "gzip {gzip}");
        let records = parse_csv(std::str::from_utf8(&seen[0]).unwrap());
        assert_eq!(records.len(), 5_001);
    }
}

macro_rules! for_both_transports {
    ($($scenario:ident),* $(,)?) => {
        mod async_transport {
            $( #[test] fn $scenario() { super::$scenario(zuora_tests::Flavor::Async) } )*
        }
        mod blocking_transport {
            $( #[test] fn $scenario() { super::$scenario(zuora_tests::Flavor::Blocking) } )*
        }
    };
}

for_both_transports!(
    the_whole_trip_in_one_call,
    csv_equals_the_generator,
    raw_is_the_utf16_as_sent,
    a_cut_off_download_is_an_error,
    an_unfinished_run_is_an_api_error,
    receiving_on_its_own_thread_or_not_gives_the_same_bytes
);
