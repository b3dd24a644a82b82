//! The report trip's operations (search, get, latest, cancel, data pages) and the polling
//! policy, through both transports' `execute`, against zuora-sim over loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::time::Duration;

use zuora_core::{
    Error, ReportRunId, RunReportOptions, RunStatus, ViewType, operations::CallOptions,
    operations::CancelReportRun, operations::GetReportRun, operations::LatestReportRun,
    operations::ReportDataPage, operations::SearchReports, operations::resolve_report_name,
    policies::PollDecision, policies::PollPolicy,
};
use zuora_sim::{RunTiming, SimConfig, Simulator};
use zuora_tests::{AnyClient, Flavor, client_for};

fn sim() -> Simulator {
    Simulator::start(SimConfig {
        run_timing: RunTiming::uniform(Duration::from_secs(10)),
        ..SimConfig::new(33)
    })
    .unwrap()
}

fn search(
    client: &AnyClient,
    query: &str,
    start: usize,
) -> Vec<zuora_core::operations::ReportSummary> {
    client
        .execute(SearchReports::new(query.to_owned(), CallOptions::default()).starting_at(start))
        .unwrap()
        .reports
}

fn start(client: &AnyClient, sim: &Simulator, name: &str) -> ReportRunId {
    let report = sim.report_by_name(name).unwrap();
    client
        .run_report(&report.id, report.view_type, RunReportOptions::default())
        .unwrap()
        .report_run_id
}

fn get(client: &AnyClient, run_id: &ReportRunId) -> zuora_core::ReportRun {
    client
        .execute(GetReportRun::new(run_id.clone(), CallOptions::default()))
        .unwrap()
}

fn search_pages_and_resolves_exact_names(flavor: Flavor) {
    let sim = sim();
    let client = client_for(flavor, &sim);
    let first = search(&client, "customer report", 0);
    let second = search(&client, "customer report", 50);
    assert_eq!((first.len(), second.len()), (50, 10));
    let all: Vec<_> = first.into_iter().chain(second).collect();
    let found = resolve_report_name("Customer report 007", &all).unwrap();
    assert_eq!(
        found.id,
        sim.report_by_name("Customer report 007").unwrap().id
    );
    let invoices = search(&client, "Invoice Detail", 0);
    assert!(invoices.len() > 1, "a substring match finds several");
    assert_eq!(
        resolve_report_name("Invoice Detail", &invoices)
            .unwrap()
            .name,
        "Invoice Detail"
    );
    assert!(matches!(
        resolve_report_name("Nope", &invoices),
        Err(Error::ReportNotFound { .. })
    ));
    let twice = [invoices[0].clone(), invoices[0].clone()];
    let ambiguous = resolve_report_name(&invoices[0].name, &twice).unwrap_err();
    assert!(ambiguous.to_string().contains("use an id"), "{ambiguous}");
}

fn runs_walk_the_state_machine_and_the_policy_follows(flavor: Flavor) {
    let sim = sim();
    let client = client_for(flavor, &sim);
    let policy = PollPolicy::default();
    let deadline = Duration::from_secs(600);
    let run = start(&client, &sim, "Invoice Detail");
    let mut statuses = Vec::new();
    for look in 1..=4 {
        let seen = get(&client, &run);
        assert_eq!(seen.id, run);
        assert_eq!(seen.report_type, Some(ViewType::Detail));
        assert!(seen.started_on.is_some() && seen.updated_on.is_some());
        let decision = policy.decide(look, &seen, Duration::ZERO, deadline);
        statuses.push((seen.status.clone(), decision));
        sim.clock().advance(Duration::from_secs(10));
    }
    assert_eq!(
        statuses,
        [
            (
                RunStatus::Started,
                PollDecision::PollAfter(Duration::from_secs(1))
            ),
            (
                RunStatus::QueryData,
                PollDecision::PollAfter(Duration::from_secs(2))
            ),
            (
                RunStatus::ProcessingData,
                PollDecision::PollAfter(Duration::from_secs(4))
            ),
            (RunStatus::Completed, PollDecision::Completed),
        ]
    );
    let client = client_for(flavor, &sim);
    let invalid = start(&client, &sim, "Broken Definition Report");
    let failing = start(&client, &sim, "Failing Usage Report");
    let cancelled = start(&client, &sim, "Payments Detail");
    let message = client
        .execute(CancelReportRun::new(
            cancelled.clone(),
            CallOptions::default(),
        ))
        .unwrap();
    assert_eq!(message, "The report run has been canceled");
    sim.clock().advance(Duration::from_secs(25));
    for (run, status) in [
        (invalid, RunStatus::Invalid),
        (failing, RunStatus::Error),
        (cancelled, RunStatus::Cancelled),
    ] {
        let seen = get(&client, &run);
        assert_eq!(
            policy.decide(1, &seen, Duration::ZERO, deadline),
            PollDecision::Ended(status)
        );
    }
    let in_progress = start(&client, &sim, "Account Overview");
    let seen = get(&client, &in_progress);
    // The next pause does not fit: sleep to a second before the deadline and look once more.
    assert_eq!(
        policy.decide(9, &seen, Duration::from_secs(590), deadline),
        PollDecision::PollAfter(Duration::from_secs(9))
    );
    assert_eq!(
        policy.decide(10, &seen, Duration::from_millis(599_500), deadline),
        PollDecision::DeadlineReached
    );
}

fn latest_run_and_data_pages(flavor: Flavor) {
    let sim = sim();
    let client = client_for(flavor, &sim);
    let report = sim.report_by_name("Invoice Detail").unwrap();
    let latest = LatestReportRun::new(report.id.clone(), CallOptions::default());
    let never = client.execute(latest.clone()).unwrap_err();
    assert_eq!(never.api().unwrap().status(), 400);
    let run = start(&client, &sim, "Invoice Detail");
    sim.clock().advance(Duration::from_secs(30));
    assert_eq!(client.execute(latest).unwrap().id, run);

    let mut offset = 1;
    let mut rows = Vec::new();
    loop {
        let page = client
            .execute(
                ReportDataPage::first(run.clone(), 64, CallOptions::default()).at_offset(offset),
            )
            .unwrap();
        assert_eq!(page.total, Some(report.rows));
        if page.rows.is_empty() {
            break;
        }
        offset += page.rows.len() as u64;
        rows.extend(page.rows);
    }
    assert_eq!(rows.len() as u64, report.rows);
    for (index, row) in rows.iter().enumerate() {
        let expected = report.row(index as u64 + 1);
        for (column, value) in report.columns().iter().zip(expected) {
            assert_eq!(
                row[column.id],
                value.as_str(),
                "row {} {}",
                index + 1,
                column.id
            );
        }
    }
}

fn zero_page_size_is_refused_before_sending(flavor: Flavor) {
    let sim = sim();
    let client = client_for(flavor, &sim);
    let run: ReportRunId = "ff808081529f4e3401529fd61f080074".parse().unwrap();
    let error = client
        .execute(ReportDataPage::first(run, 0, CallOptions::default()).at_offset(1))
        .unwrap_err();
    assert!(error.is_invalid_input());
    let error = client
        .execute(SearchReports::new(" ".to_owned(), CallOptions::default()).starting_at(0))
        .unwrap_err();
    assert!(error.is_invalid_input());
    assert!(
        sim.request_log().is_empty(),
        "nothing was sent, not even the token request"
    );
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
    search_pages_and_resolves_exact_names,
    runs_walk_the_state_machine_and_the_policy_follows,
    latest_run_and_data_pages,
    zero_page_size_is_refused_before_sending,
);

mod client_methods {
    use std::time::Duration;

    use zuora_core::{Error, RunReportOptions, RunStatus, WaitOptions, policies::PollPolicy};
    use zuora_sim::{RunTiming, SimConfig, Simulator};
    use zuora_tests::{Flavor, client_for};

    fn quick_wait(timeout: Duration, cancel_on_timeout: bool) -> WaitOptions {
        let poll = PollPolicy::new(Duration::from_millis(50), Duration::from_millis(200)).unwrap();
        WaitOptions::default()
            .with_timeout(timeout)
            .unwrap()
            .cancel_on_timeout(cancel_on_timeout)
            .poll(poll)
    }

    fn find_wait_and_read_every_row(flavor: Flavor) {
        let sim = Simulator::start(SimConfig {
            run_timing: RunTiming::uniform(Duration::from_millis(150)),
            ..SimConfig::new(8)
        })
        .unwrap();
        let client = client_for(flavor, &sim);
        let far = client.find_report("Customer report 055").unwrap();
        assert_eq!(
            far.id,
            sim.report_by_name("Customer report 055").unwrap().id,
            "found on the second page"
        );
        assert!(matches!(
            client.find_report("Customer report 999"),
            Err(Error::ReportNotFound { .. })
        ));

        let report = client.find_report("Invoice Detail").unwrap();
        let run = client
            .run_report(
                &report.id,
                zuora_core::ViewType::Detail,
                RunReportOptions::default(),
            )
            .unwrap()
            .report_run_id;
        let done = client
            .wait_for_run(&run, quick_wait(Duration::from_secs(20), false))
            .unwrap();
        assert_eq!(done.status, RunStatus::Completed);
        let expected = sim.report_by_name("Invoice Detail").unwrap();
        let rows = client.all_rows(&run, 37).unwrap();
        assert_eq!(rows.len() as u64, expected.rows);
        for (index, row) in rows.iter().enumerate() {
            for (column, value) in expected
                .columns()
                .iter()
                .zip(expected.row(index as u64 + 1))
            {
                assert_eq!(row[column.id], value.as_str());
            }
        }
        let broken = sim.report_by_name("Broken Definition Report").unwrap();
        let run = client
            .run_report(&broken.id, broken.view_type, RunReportOptions::default())
            .unwrap()
            .report_run_id;
        let ended = client
            .wait_for_run(&run, quick_wait(Duration::from_secs(20), false))
            .unwrap_err();
        assert!(
            matches!(
                ended,
                Error::RunEnded {
                    status: RunStatus::Invalid,
                    ..
                }
            ),
            "{ended}"
        );
    }

    fn a_deadline_cancels_when_asked(flavor: Flavor) {
        let sim = Simulator::start(SimConfig {
            run_timing: RunTiming::uniform(Duration::from_secs(60)),
            ..SimConfig::new(8)
        })
        .unwrap();
        let client = client_for(flavor, &sim);
        let report = sim.report_by_name("Payments Detail").unwrap();
        for cancel in [false, true] {
            let run = client
                .run_report(&report.id, report.view_type, RunReportOptions::default())
                .unwrap()
                .report_run_id;
            let error = client
                .wait_for_run(&run, quick_wait(Duration::from_millis(600), cancel))
                .unwrap_err();
            let Error::WaitTimedOut {
                cancelled,
                last_status,
                ..
            } = &error
            else {
                panic!("{error}")
            };
            assert_eq!(*cancelled, cancel);
            assert_eq!(*last_status, RunStatus::Started);
            let now = client
                .execute(zuora_core::operations::GetReportRun::new(
                    run,
                    Default::default(),
                ))
                .unwrap();
            assert_eq!(now.status == RunStatus::Cancelled, cancel);
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

    for_both_transports!(find_wait_and_read_every_row, a_deadline_cancels_when_asked);
}
