//! A filtered run against the simulator returns only the matching rows, through both
//! transports, in the data pages and in the export alike.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::time::Duration;

use zuora_core::{
    ExportFormat, RunReportOptions, WaitOptions, filters::FilterClause, filters::FilterGroup,
    filters::FilterOperator,
};
use zuora_sim::{RunTiming, SimConfig, Simulator};
use zuora_tests::{Flavor, client_for};

#[test]
fn a_filtered_run_returns_only_the_matching_rows() {
    for flavor in [Flavor::Async, Flavor::Blocking] {
        let sim = Simulator::start(SimConfig {
            run_timing: RunTiming::uniform(Duration::from_millis(50)),
            ..SimConfig::new(7)
        })
        .unwrap();
        let client = client_for(flavor, &sim);
        let report = sim.report_by_name("Invoice Detail").unwrap();
        let eur = FilterGroup::all([FilterClause::new(
            "Account.Currency",
            "Text",
            FilterOperator::Equal,
            "EUR",
        )]);
        let run = |filters: Vec<FilterGroup>| {
            let started = client
                .run_report(
                    &report.id,
                    report.view_type,
                    RunReportOptions::default().filters(filters),
                )
                .unwrap();
            client
                .wait_for_run(&started.report_run_id, WaitOptions::default())
                .unwrap()
                .id
        };
        let all = client.all_rows(&run(Vec::new()), 100).unwrap();
        let filtered_run = run(vec![eur.clone()]);
        let filtered = client.all_rows(&filtered_run, 100).unwrap();
        let currency = |row: &serde_json::Map<String, serde_json::Value>| {
            row["Account.Currency"].as_str().unwrap().to_owned()
        };
        let expected = all.iter().filter(|row| currency(row) == "EUR").count();
        assert!(
            expected > 0 && expected < all.len(),
            "{flavor:?}: a real subset"
        );
        assert_eq!(filtered.len(), expected, "{flavor:?}");
        assert!(
            filtered.iter().all(|row| currency(row) == "EUR"),
            "{flavor:?}"
        );
        // The export holds the same rows (plus its header line).
        let (_, csv) = client
            .download_export(&filtered_run, ExportFormat::Tsv)
            .unwrap();
        let text = String::from_utf8(csv).unwrap();
        let records = text.matches("\tEUR\t").count();
        assert_eq!(records, expected, "{flavor:?}");
        // OR inside a group: EUR or GBP.
        let either = FilterGroup::any([
            FilterClause::new("Account.Currency", "Text", FilterOperator::Equal, "EUR"),
            FilterClause::new("Account.Currency", "Text", FilterOperator::Equal, "GBP"),
        ]);
        let both = client.all_rows(&run(vec![either]), 100).unwrap();
        let expected_both = all
            .iter()
            .filter(|row| matches!(currency(row).as_str(), "EUR" | "GBP"))
            .count();
        assert_eq!(both.len(), expected_both, "{flavor:?}");
    }
}
