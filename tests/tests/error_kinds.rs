//! `Error::kind()` tells apart what Zuora (here the simulator) answers with one status and
//! one error code, for both transports: unknown report, unknown run, no completed run yet,
//! wrong view type, bad credentials, rate limited, and a failed DNS lookup (nothing sent,
//! host named).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::time::Duration;

use zuora_core::{ErrorKind, RetryPolicy, RunReportOptions, ViewType};
use zuora_sim::{RateBudget, SimConfig, Simulator};
use zuora_tests::{Flavor, builder_for, client_for, client_with};

/// The kind of a call's error (it must have failed).
fn kind<T: std::fmt::Debug>(result: Result<T, zuora_core::Error>) -> ErrorKind {
    result.unwrap_err().kind()
}

const FLAVORS: [Flavor; 2] = [Flavor::Async, Flavor::Blocking];
const UNKNOWN_REPORT: &str = "2c92c0f95e4a6e4b015e4f3a1b2c3d4e";
const UNKNOWN_RUN: &str = "ff808081529f4e3401529fd61f080074";

#[test]
fn zuora_answers_are_told_apart() {
    let sim = Simulator::start(SimConfig::new(7)).unwrap();
    let config = builder_for(&sim).into_config().unwrap();
    let detail = sim.report_by_name("Invoice Detail").unwrap().id;
    for flavor in FLAVORS {
        let client = client_for(flavor, &sim);

        let unknown_report = client.run_report(
            &UNKNOWN_REPORT.parse().unwrap(),
            ViewType::Detail,
            RunReportOptions::default(),
        );
        assert_eq!(
            kind(unknown_report),
            ErrorKind::ReportNotFound,
            "{flavor:?}"
        );

        let unknown_run = client.execute(config.get_run(&UNKNOWN_RUN.parse().unwrap()));
        assert_eq!(kind(unknown_run), ErrorKind::RunNotFound, "{flavor:?}");

        let never_run = client.execute(config.latest_run(&detail));
        let error = never_run.map(|_| ()).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NoCompletedRun, "{flavor:?}");
        assert_eq!(error.status(), Some(400));
        assert_eq!(error.request_id().map(str::len), Some(36));
        assert!(!error.is_retryable());

        let wrong_view = client.run_report(&detail, ViewType::Summary, RunReportOptions::default());
        assert_eq!(kind(wrong_view), ErrorKind::WrongViewType, "{flavor:?}");

        let refused = client_with(
            flavor,
            builder_for(&sim).credentials(sim.client_id(), "not-the-secret"),
        );
        let bad_credentials =
            refused.run_report(&detail, ViewType::Detail, RunReportOptions::default());
        assert_eq!(
            kind(bad_credentials),
            ErrorKind::Authentication,
            "{flavor:?}"
        );
    }
}

#[test]
fn a_rate_limit_is_rate_limited_and_retryable() {
    let sim = Simulator::start(SimConfig::new(8)).unwrap();
    let detail = sim.report_by_name("Invoice Detail").unwrap().id;
    for flavor in FLAVORS {
        sim.set_rate_budget(RateBudget {
            limit: 1,
            window: Duration::from_secs(3600),
        });
        let client = client_with(flavor, builder_for(&sim).retry(RetryPolicy::none()));
        let first = client.run_report(&detail, ViewType::Detail, RunReportOptions::default());
        let second = client.run_report(&detail, ViewType::Detail, RunReportOptions::default());
        let error = first.and(second).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::RateLimited, "{flavor:?}: {error}");
        assert_eq!(error.status(), Some(429));
        assert!(error.is_retryable());
        sim.set_rate_budget(RateBudget::PRODUCTION);
    }
}

#[test]
fn a_failed_lookup_is_a_transport_error_with_nothing_sent_and_the_host() {
    // A 70-letter label is refused by the local resolver itself: no query leaves the machine.
    let host = format!("{}.invalid", "a".repeat(70));
    for flavor in FLAVORS {
        let client = client_with(
            flavor,
            zuora_core::ClientConfig::builder()
                .base_url(&format!("https://{host}"))
                .credentials("client", "secret")
                .retry(RetryPolicy::none()),
        );
        let error = client
            .run_report(
                &UNKNOWN_REPORT.parse().unwrap(),
                ViewType::Detail,
                RunReportOptions::default(),
            )
            .unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Transport { nothing_sent: true },
            "{flavor:?}: {error}"
        );
        assert_eq!(error.host(), Some(host.as_str()), "{flavor:?}");
        assert!(error.is_retryable());
    }
}
