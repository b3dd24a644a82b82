//! The transport scenarios of issue 4, each run for both transports against zuora-sim over
//! loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::time::{Duration, Instant};

use zuora_core::{
    Error, ReportId, RunReportOptions, TrackId, ViewType, driver::HttpResponse,
    filters::FilterClause, filters::FilterGroup, filters::FilterOperator, operations::Operation,
    operations::ResendSafety, responses::ResponseError, responses::ResponseErrorKind,
    responses::ResponseLimits,
};
use zuora_sim::{Fault, FaultPlan, FaultScope, SimConfig, Simulator};
use zuora_tests::{Flavor, builder_for, client_for, client_with};

fn sim() -> Simulator {
    Simulator::start(SimConfig::new(21)).unwrap()
}

fn report(sim: &Simulator, name: &str) -> ReportId {
    sim.report_by_name(name).unwrap().id
}

fn run_requests(sim: &Simulator) -> Vec<zuora_sim::LoggedRequest> {
    sim.request_log()
        .into_iter()
        .filter(|r| r.path.ends_with("/reportrun"))
        .collect()
}

fn happy_path(flavor: Flavor) {
    let sim = sim();
    let client = client_for(flavor, &sim);
    let id = report(&sim, "Invoice Detail");
    let started = client
        .run_report(
            &id,
            ViewType::Detail,
            RunReportOptions::default().track_id("happy-path".parse().unwrap()),
        )
        .unwrap();
    assert_eq!(started.report_run_id.as_str().len(), 32);
    assert_eq!(started.request_id().unwrap().len(), 36);
    assert_eq!(started.meta.track_id.as_deref(), Some("happy-path"));
    assert_eq!(sim.runs_created_for_report(id.as_str()), 1);
    let sent = &run_requests(&sim)[0];
    let key = sent.header("idempotency-key").unwrap();
    assert_eq!(key.len(), 36, "a UUID v4 key is made per call");
    assert_eq!(&key[14..15], "4");
    assert!(sent.header("user-agent").unwrap().starts_with("zuora-rs/"));
    assert_eq!(sent.header("accept-encoding"), Some("gzip"));
}

/// A search, as a stand-in for any operation with a large answer (the report trip brings
/// the real one): the transport must hand back gzip untouched for the core to decode.
struct SearchCount;

impl Operation for SearchCount {
    type Output = u64;
    type Credential = zuora_core::values::AccessToken;
    fn name(&self) -> &'static str {
        "search_count"
    }
    fn resend_safety(&self) -> ResendSafety {
        ResendSafety::Idempotent
    }
    fn to_request(
        &self,
        environment: &zuora_core::Environment,
        token: &zuora_core::values::AccessToken,
    ) -> Result<zuora_core::driver::HttpRequest, Error> {
        http::Request::get(format!(
            "{}/reporting/api/rest/v1/reports/search?query=customer",
            environment.base_url()
        ))
        .header("authorization", format!("Bearer {}", token.expose_secret()))
        .header("accept-encoding", "gzip")
        .body(Vec::new().into())
        .map_err(|e| Error::RequestBuild {
            reason: e.to_string(),
        })
    }
    fn parse_response(
        &self,
        response: &HttpResponse,
        limits: ResponseLimits,
    ) -> Result<u64, ResponseError> {
        assert_eq!(
            response.headers()["content-encoding"],
            "gzip",
            "the answer arrives still gzipped"
        );
        let body = zuora_core::responses::decode_body(response.headers(), response.body(), limits)
            .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        value["response"]["count"].as_u64().ok_or_else(|| {
            ResponseError::new(
                zuora_core::responses::ResponseMeta::from_response(response),
                ResponseErrorKind::MissingField { field: "count" },
            )
        })
    }
}

fn gzip_both_ways(flavor: Flavor) {
    let sim = sim();
    let client = client_with(flavor, builder_for(&sim).gzip_requests(true));
    let id = report(&sim, "Invoice Detail");
    let filters = [FilterGroup::all([FilterClause::new(
        "Account.Status",
        "Text",
        FilterOperator::Equal,
        "Active",
    )])];
    client
        .run_report(
            &id,
            ViewType::Detail,
            RunReportOptions::default().filters(filters),
        )
        .unwrap();
    assert_eq!(
        run_requests(&sim)[0].header("content-encoding"),
        Some("gzip")
    );
    assert_eq!(client.execute(SearchCount).unwrap(), 50);
}

fn rate_limit_waits_for_retry_after(flavor: Flavor) {
    let sim = sim();
    let client = client_for(flavor, &sim);
    let id = report(&sim, "Invoice Detail");
    client
        .run_report(&id, ViewType::Detail, RunReportOptions::default())
        .unwrap(); // warm the token
    sim.set_faults(
        FaultPlan::Script(vec![Some(Fault::RateLimited {
            retry_after_secs: 1,
        })]),
        FaultScope::RunReport,
    );
    let start = Instant::now();
    client
        .run_report(&id, ViewType::Detail, RunReportOptions::default())
        .unwrap();
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert_eq!(sim.runs_created_for_report(id.as_str()), 2);
}

fn server_errors_are_retried(flavor: Flavor) {
    let sim = sim();
    let client = client_for(flavor, &sim);
    let id = report(&sim, "Invoice Detail");
    sim.set_faults(
        FaultPlan::Script(vec![
            Some(Fault::Status(503)),
            Some(Fault::Status(500)),
            Some(Fault::Status(502)),
        ]),
        FaultScope::RunReport,
    );
    client
        .run_report(&id, ViewType::Detail, RunReportOptions::default())
        .unwrap();
    let sent = run_requests(&sim);
    assert_eq!(sent.len(), 4);
    assert!(
        sent.windows(2)
            .all(|w| w[0].header("idempotency-key") == w[1].header("idempotency-key"))
    );
    assert_eq!(sim.runs_created(), 1);
}

fn commit_then_drop_never_duplicates(flavor: Flavor) {
    let sim = sim();
    let client = client_for(flavor, &sim);
    let id = report(&sim, "Invoice Detail");
    sim.set_faults(
        FaultPlan::Script(vec![
            Some(Fault::CommitThenDrop),
            Some(Fault::ConnectionReset),
        ]),
        FaultScope::RunReport,
    );
    let started = client
        .run_report(&id, ViewType::Detail, RunReportOptions::default())
        .unwrap();
    let sent = run_requests(&sim);
    assert_eq!(sent.len(), 3, "dropped, reset, replayed");
    let key = sent[0].header("idempotency-key").unwrap();
    assert!(
        sent.iter()
            .all(|r| r.header("idempotency-key") == Some(key))
    );
    assert_eq!(sim.runs_created_for_key(key), 1);
    assert_eq!(sim.runs_created(), 1);
    assert_eq!(started.report_run_id.as_str().len(), 32);
}

fn conflict_then_success(flavor: Flavor) {
    let sim = sim();
    // Backoff long enough to outlast the first request's 400 ms (odds of four draws summing
    // under 300 ms: about 1 in 10 000).
    let retry = zuora_core::RetryPolicy::default()
        .with_base_delay(Duration::from_millis(500))
        .unwrap();
    let client = client_with(flavor, builder_for(&sim).retry(retry));
    let id = report(&sim, "Invoice Detail");
    client
        .run_report(&id, ViewType::Detail, RunReportOptions::default())
        .unwrap(); // warm the token
    sim.set_faults(
        FaultPlan::Script(vec![Some(Fault::Delay(Duration::from_millis(400)))]),
        FaultScope::RunReport,
    );
    let key: zuora_core::values::IdempotencyKey = "shared-key-409".parse().unwrap();
    let options = RunReportOptions::default().idempotency_key(key.clone());
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| client.run_report(&id, ViewType::Detail, options.clone()));
        std::thread::sleep(Duration::from_millis(100));
        let second = client.run_report(&id, ViewType::Detail, options.clone());
        (first.join().unwrap(), second)
    });
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(
        first.report_run_id, second.report_run_id,
        "the second got the first's answer"
    );
    assert_eq!(sim.runs_created_for_key(key.as_str()), 1);
    assert!(
        run_requests(&sim).len() >= 4,
        "the second call met a 409 and tried again"
    );
}

fn unprocessable_is_not_retried(flavor: Flavor) {
    let sim = sim();
    let client = client_for(flavor, &sim);
    let key: zuora_core::values::IdempotencyKey = "reused-key".parse().unwrap();
    let options = RunReportOptions::default().idempotency_key(key);
    client
        .run_report(
            &report(&sim, "Invoice Detail"),
            ViewType::Detail,
            options.clone(),
        )
        .unwrap();
    let error = client
        .run_report(&report(&sim, "Payments Detail"), ViewType::Detail, options)
        .unwrap_err();
    assert_eq!(error.api().unwrap().status(), 422);
    assert!(
        matches!(error, Error::Api(_)),
        "not wrapped as exhausted: {error:?}"
    );
    assert_eq!(run_requests(&sim).len(), 2);
}

fn expired_token_is_refreshed_once(flavor: Flavor) {
    let sim = sim();
    let client = client_for(flavor, &sim);
    let id = report(&sim, "Invoice Detail");
    client
        .run_report(&id, ViewType::Detail, RunReportOptions::default())
        .unwrap();
    assert_eq!(sim.token_requests(), 1);
    // Zuora's clock passes the token's hour while the client still holds it.
    sim.clock().advance(Duration::from_secs(3600));
    client
        .run_report(&id, ViewType::Detail, RunReportOptions::default())
        .unwrap();
    client
        .run_report(&id, ViewType::Detail, RunReportOptions::default())
        .unwrap();
    assert_eq!(
        sim.token_requests(),
        2,
        "one refresh after the 401, then reused"
    );
    let statuses = run_requests(&sim).len();
    assert_eq!(statuses, 4, "first call, refused, replayed, third call");
}

fn wrong_credentials_are_a_clear_error(flavor: Flavor) {
    let sim = sim();
    let client = client_with(
        flavor,
        builder_for(&sim).credentials(sim.client_id(), "SENTINEL-SECRET-0042"),
    );
    let error = client
        .run_report(
            &report(&sim, "Invoice Detail"),
            ViewType::Detail,
            RunReportOptions::default(),
        )
        .unwrap_err();
    let api = error.api().expect("Zuora's answer");
    assert_eq!(api.status(), 400);
    assert!(
        matches!(&api.kind, ResponseErrorKind::Message { message } if message.contains("Invalid client id")),
        "{error}"
    );
    assert_eq!(sim.token_requests(), 1, "bad credentials are not retried");
    assert!(run_requests(&sim).is_empty());
    for text in [error.to_string(), format!("{error:?}"), client.debug_text()] {
        assert!(!text.contains("SENTINEL"), "{text}");
    }
}

fn invalid_input_sends_nothing(flavor: Flavor) {
    let sim = sim();
    assert!("job:42".parse::<TrackId>().is_err());
    assert!("".parse::<ReportId>().is_err());
    for builder in [
        builder_for(&sim).entity_ids("not-an-entity"),
        builder_for(&sim).base_url("http://zuora.example.com"),
        builder_for(&sim).credentials("", "secret"),
        builder_for(&sim).credentials("client", "bad\nsecret"),
    ] {
        let error = builder
            .into_config()
            .and_then(|config| zuora_tests::AnyClient::new(flavor, config))
            .unwrap_err();
        assert!(error.is_invalid_input(), "{error}");
    }
    assert!(
        sim.request_log().is_empty(),
        "nothing reached the simulator"
    );
}

fn one_token_fetch_for_fifty_calls(flavor: Flavor) {
    let sim = sim();
    let client = client_for(flavor, &sim);
    let id = report(&sim, "Invoice Detail");
    let results = client.run_report_concurrently(50, &id, ViewType::Detail);
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(sim.token_requests(), 1);
    assert_eq!(sim.runs_created_for_report(id.as_str()), 50);
}

fn one_token_fetch_for_fifty_calls_on_an_expired_token(flavor: Flavor) {
    let sim = sim();
    sim.set_token_ttl(Duration::from_secs(2)); // the client renews it after 1 s
    let client = client_for(flavor, &sim);
    let id = report(&sim, "Invoice Detail");
    client
        .run_report(&id, ViewType::Detail, RunReportOptions::default())
        .unwrap();
    assert_eq!(sim.token_requests(), 1);
    std::thread::sleep(Duration::from_millis(1100));
    let results = client.run_report_concurrently(50, &id, ViewType::Detail);
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(sim.token_requests(), 2, "one refresh for all fifty");
}

fn a_slow_attempt_stops_at_the_overall_deadline(flavor: Flavor) {
    let sim = sim();
    let client = client_with(
        flavor,
        builder_for(&sim).overall_timeout(Duration::from_secs(1)),
    );
    let id = report(&sim, "Invoice Detail");
    client
        .run_report(&id, ViewType::Detail, RunReportOptions::default())
        .unwrap(); // warm the token
    sim.set_faults(
        FaultPlan::Script(vec![Some(Fault::Delay(Duration::from_secs(3)))]),
        FaultScope::RunReport,
    );
    let start = Instant::now();
    let error = client
        .run_report(&id, ViewType::Detail, RunReportOptions::default())
        .unwrap_err();
    let took = start.elapsed();
    assert!(
        took < Duration::from_millis(2500),
        "the 3 s answer was awaited: {took:?} ({error})"
    );
    assert!(
        matches!(&error, Error::Transport(_) | Error::RetriesExhausted { .. }),
        "{error}"
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
    happy_path,
    gzip_both_ways,
    rate_limit_waits_for_retry_after,
    server_errors_are_retried,
    commit_then_drop_never_duplicates,
    conflict_then_success,
    unprocessable_is_not_retried,
    expired_token_is_refreshed_once,
    wrong_credentials_are_a_clear_error,
    invalid_input_sends_nothing,
    one_token_fetch_for_fifty_calls,
    one_token_fetch_for_fifty_calls_on_an_expired_token,
    a_slow_attempt_stops_at_the_overall_deadline,
);

/// Clients over the caller's own HTTP client: a `reqwest::Client` and a `ureq::Agent` built
/// with their libraries' defaults (redirects followed, 4xx as errors in ureq), against the
/// simulator; the core's rules still hold (a 400 is a typed API error with its status).
#[test]
fn clients_over_a_caller_supplied_reqwest_client_and_ureq_agent() {
    let sim = zuora_sim::Simulator::start(zuora_sim::SimConfig::new(5)).unwrap();
    let report = sim.report_by_name("Invoice Detail").unwrap();
    let config = zuora_tests::builder_for(&sim).into_config().unwrap();
    let unknown_run: zuora_core::ReportRunId = "ff808081529f4e3401529fd61f080074".parse().unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // zuora-async installs its TLS provider when it builds a client of its own; a caller's
    // reqwest client may need it too.
    let _ = <zuora_async::Client as zuora_core::config::BuildClient>::from_config(config.clone())
        .unwrap();
    let http = zuora_async::reqwest::Client::builder();
    let client = zuora_async::Client::with_transport(
        config.clone(),
        zuora_async::ReqwestTransport::with_builder(http, &config).unwrap(),
    );
    runtime.block_on(async {
        let started = client
            .run_report(&report.id, report.view_type, Default::default())
            .await
            .unwrap();
        assert_eq!(started.report_run_id.as_str().len(), 32);
        let error = client.get_run(&unknown_run).await.unwrap_err();
        assert_eq!(
            error.api().map(|e| e.status().as_u16()),
            Some(400),
            "{error:?}"
        );
    });

    let agent: zuora_blocking::ureq::Agent =
        zuora_blocking::ureq::Agent::config_builder().build().into();
    let client = zuora_blocking::Client::with_transport(
        config.clone(),
        zuora_blocking::UreqTransport::with_agent(agent, &config),
    );
    let started = client
        .run_report(&report.id, report.view_type, Default::default())
        .unwrap();
    assert_eq!(started.report_run_id.as_str().len(), 32);
    let error = client.get_run(&unknown_run).unwrap_err();
    assert_eq!(
        error.api().map(|e| e.status().as_u16()),
        Some(400),
        "{error:?}"
    );
    assert_eq!(sim.runs_created(), 2);
}

/// A 307 on the token request, from a server behind a caller's own reqwest builder and ureq
/// agent that both say "follow redirects": the second listener receives nothing (the token
/// request carries the client secret).
#[test]
fn a_redirect_reaches_no_other_host_even_from_a_callers_client_that_follows_them() {
    use std::io::{Read, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = format!("http://{}/oauth/token", elsewhere.local_addr().unwrap());
    let reached = Arc::new(AtomicU64::new(0));
    let counting = Arc::clone(&reached);
    std::thread::spawn(move || {
        for stream in elsewhere.incoming() {
            counting.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let origin = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", origin.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in origin.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let answer = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    let config = zuora_core::ClientConfig::builder()
        .base_url(&base_url)
        .credentials("client-id", "client-secret-that-must-stay")
        .retry(
            zuora_core::RetryPolicy::default()
                .with_max_attempts(1)
                .unwrap(),
        )
        .into_config()
        .unwrap();

    let following = zuora_async::reqwest::Client::builder()
        .redirect(zuora_async::reqwest::redirect::Policy::limited(10));
    let client = zuora_async::Client::with_transport(
        config.clone(),
        zuora_async::ReqwestTransport::with_builder(following, &config).unwrap(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let error = runtime
        .block_on(client.execute(config.token_request()))
        .unwrap_err();
    assert_eq!(error.status(), Some(307), "{error:?}");

    let agent: zuora_blocking::ureq::Agent = zuora_blocking::ureq::Agent::config_builder()
        .max_redirects(10)
        .build()
        .into();
    let client = zuora_blocking::Client::with_transport(
        config.clone(),
        zuora_blocking::UreqTransport::with_agent(agent, &config),
    );
    let error = client.execute(config.token_request()).unwrap_err();
    assert_eq!(error.status(), Some(307), "{error:?}");
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the second listener got a request"
    );
}
