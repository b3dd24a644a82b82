//! Every setting refuses a zero or absurd value with `InvalidInput` at the moment it is
//! set, and no public field lets such a value back in (the fields are private: this file
//! could not be compiled if it wrote one).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::time::Duration;

use zuora_core::{
    ClientConfig, Error, ReportRef, RetryPolicy, WaitOptions, errors::InvalidInput,
    policies::PollPolicy, responses::ResponseLimits, values::ReportName,
};

fn refused<T: std::fmt::Debug>(result: Result<T, InvalidInput>, field: &str) {
    let error = result.unwrap_err();
    assert!(
        error.field().contains(field),
        "{field}: the error names {:?}",
        error.field()
    );
}

#[test]
fn a_zero_poll_interval_is_refused() {
    refused(
        PollPolicy::new(Duration::ZERO, Duration::from_secs(30)),
        "poll first delay",
    );
    refused(
        PollPolicy::new(Duration::from_millis(10), Duration::from_secs(30)),
        "poll first delay",
    );
    refused(
        PollPolicy::new(Duration::from_secs(5), Duration::from_secs(1)),
        "poll max delay",
    );
    refused(
        PollPolicy::new(Duration::from_secs(1), Duration::from_secs(100_000)),
        "poll max delay",
    );
    let ok = PollPolicy::new(Duration::from_secs(2), Duration::from_secs(20)).unwrap();
    assert_eq!(
        (ok.first_delay(), ok.max_delay()),
        (Duration::from_secs(2), Duration::from_secs(20))
    );
}

#[test]
fn zero_attempts_and_zero_delays_are_refused() {
    refused(
        RetryPolicy::default().with_max_attempts(0),
        "retry max attempts",
    );
    refused(
        RetryPolicy::default().with_max_attempts(1_000),
        "retry max attempts",
    );
    refused(
        RetryPolicy::default().with_base_delay(Duration::ZERO),
        "retry base delay",
    );
    refused(
        RetryPolicy::default().with_max_delay(Duration::ZERO),
        "retry max delay",
    );
    refused(
        RetryPolicy::default().with_max_retry_after(Duration::from_secs(86_400)),
        "retry max Retry-After",
    );
    assert_eq!(
        RetryPolicy::default().with_max_attempts(1).unwrap(),
        RetryPolicy::none()
    );
}

#[test]
fn zero_and_absurd_timeouts_are_refused() {
    refused(
        WaitOptions::default().with_timeout(Duration::ZERO),
        "wait timeout",
    );
    refused(
        WaitOptions::default().with_timeout(Duration::from_secs(30 * 86_400)),
        "wait timeout",
    );
    refused(
        ResponseLimits::default().with_max_decoded_bytes(0),
        "max decoded bytes",
    );

    let base = || {
        ClientConfig::builder()
            .base_url("http://127.0.0.1:9")
            .credentials("client", "secret")
    };
    for (field, builder) in [
        ("connect timeout", base().connect_timeout(Duration::ZERO)),
        ("attempt timeout", base().attempt_timeout(Duration::ZERO)),
        ("overall timeout", base().overall_timeout(Duration::ZERO)),
        ("idle timeout", base().idle_timeout(Duration::ZERO)),
        ("max pages", base().max_pages(0)),
    ] {
        match builder.into_config() {
            Err(Error::InvalidInput(error)) => assert_eq!(error.field(), field),
            other => panic!("{field}: {other:?}"),
        }
    }
    let config = base().into_config().unwrap();
    assert_eq!(config.retry(), RetryPolicy::default());
    assert!(!config.attempt_timeout().is_zero());
}

#[test]
fn an_empty_report_name_is_refused() {
    refused("".parse::<ReportName>(), "report name");
    refused(" \t ".parse::<ReportName>(), "report name");
    refused("Invoices\nDetail".parse::<ReportName>(), "report name");
    assert!(ReportRef::parse("").is_err());
    let name: ReportName = "Invoice Detail".parse().unwrap();
    assert_eq!(
        ReportRef::parse("Invoice Detail").unwrap(),
        ReportRef::Name(name)
    );
}
