//! The retry policy and the call driver as tables: outcome in, decision out.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zuora_core::{
    ClientConfig, Error, RetryPolicy, RunReportOptions, ViewType, driver::Now,
    driver::TransportErrorKind, driver::TransportFailure, machines::Call, machines::Step,
    operations::ResendSafety, operations::RunReport, policies::AttemptContext,
    policies::AttemptOutcome, policies::RetryDecision, responses::ResponseError,
    values::AccessToken,
};

const NOW: Duration = Duration::from_secs(1_800_000_000);

fn now() -> SystemTime {
    UNIX_EPOCH + NOW
}

/// The same moment as the core's machines take it: a fixed instant and [`now`].
fn at() -> Now {
    static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    Now::new(*BASE.get_or_init(std::time::Instant::now), now())
}

fn context(attempt: u32, safety: ResendSafety) -> AttemptContext {
    AttemptContext {
        attempt,
        elapsed: Duration::from_secs(1),
        deadline: Duration::from_secs(300),
        token_refreshed: false,
        safety,
    }
}

fn api_error(status: u16, headers: &[(&str, &str)], body: &str) -> ResponseError {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    RunReport::parse_response(&builder.body(body.as_bytes().to_vec()).unwrap()).unwrap_err()
}

fn decide(context: &AttemptContext, outcome: AttemptOutcome<'_>) -> RetryDecision {
    let mut half = || 0.5;
    RetryPolicy::default().decide(context, outcome, now(), &mut half)
}

#[test]
fn responses_table() {
    use ResendSafety::*;
    let second = Duration::from_secs(1);
    let half = Duration::from_millis(500);
    let zan =
        r#"{"success":false,"response":"{\"errorCode\":\"ZAN-REST-ERROR\",\"message\":\"x\"}"}"#;
    let date = "Fri, 15 Jan 2027 08:00:07 GMT"; // NOW is 2027-01-15T08:00:00Z
    type Row<'a> = (
        u16,
        Vec<(&'a str, &'a str)>,
        &'a str,
        ResendSafety,
        RetryDecision,
    );
    let rows: Vec<Row> = vec![
        (
            429,
            vec![("Retry-After", "3")],
            "{}",
            Unsafe,
            RetryDecision::RetryAfter(3 * second),
        ),
        (
            429,
            vec![("Retry-After", date)],
            "{}",
            Unsafe,
            RetryDecision::RetryAfter(7 * second),
        ),
        (
            429,
            vec![("RateLimit-Reset", "4")],
            "{}",
            Unsafe,
            RetryDecision::RetryAfter(4 * second),
        ),
        (
            429,
            vec![("Retry-After", "3600")],
            "{}",
            Unsafe,
            RetryDecision::RetryAfter(60 * second),
        ),
        (
            429,
            vec![],
            "{}",
            Idempotent,
            RetryDecision::RetryAfter(half),
        ),
        (
            503,
            vec![("Retry-After", "2")],
            zan,
            IdempotencyKey,
            RetryDecision::RetryAfter(2 * second),
        ),
        (
            500,
            vec![],
            zan,
            IdempotencyKey,
            RetryDecision::RetryAfter(half),
        ),
        (
            502,
            vec![],
            zan,
            Idempotent,
            RetryDecision::RetryAfter(half),
        ),
        (
            504,
            vec![],
            zan,
            Idempotent,
            RetryDecision::RetryAfter(half),
        ),
        (500, vec![], zan, Unsafe, RetryDecision::GiveUp),
        (
            409,
            vec![],
            zan,
            IdempotencyKey,
            RetryDecision::RetryAfter(half),
        ),
        (422, vec![], zan, IdempotencyKey, RetryDecision::GiveUp),
        (400, vec![], zan, IdempotencyKey, RetryDecision::GiveUp),
        (404, vec![], zan, Idempotent, RetryDecision::GiveUp),
        (
            200,
            vec![],
            r#"{"success":false,"reasons":[{"code":50000061,"message":"x"}]}"#,
            Idempotent,
            RetryDecision::GiveUp,
        ),
        (
            401,
            vec![],
            r#"{"message":"Authentication error"}"#,
            Unsafe,
            RetryDecision::RefreshToken,
        ),
    ];
    for (status, headers, body, safety, expected) in rows {
        let error = api_error(status, &headers, body);
        assert_eq!(
            decide(&context(1, safety), AttemptOutcome::Response(&error)),
            expected,
            "{status} {headers:?} {safety:?}"
        );
    }
    let refused_again = api_error(401, &[], r#"{"message":"Authentication error"}"#);
    let refreshed = AttemptContext {
        token_refreshed: true,
        ..context(2, ResendSafety::Unsafe)
    };
    assert_eq!(
        decide(&refreshed, AttemptOutcome::Response(&refused_again)),
        RetryDecision::GiveUp
    );
}

#[test]
fn transport_table() {
    use ResendSafety::*;
    use TransportErrorKind::*;
    let rows = [
        (Connect, false, Unsafe, true),
        (Connect, false, IdempotencyKey, true),
        (Timeout, true, Unsafe, false),
        (Timeout, true, IdempotencyKey, true),
        (Io, true, Unsafe, false),
        (Io, true, Idempotent, true),
        (Other, false, Idempotent, false),
    ];
    for (kind, sent, safety, retried) in rows {
        let failure = TransportFailure::new(kind, sent, "x");
        let decision = decide(&context(1, safety), AttemptOutcome::Transport(&failure));
        assert_eq!(
            matches!(decision, RetryDecision::RetryAfter(_)),
            retried,
            "{kind:?} sent={sent} {safety:?}: {decision:?}"
        );
    }
}

#[test]
fn attempts_and_deadline_bound_retries() {
    let failure = TransportFailure::new(TransportErrorKind::Connect, false, "refused");
    assert_eq!(
        decide(
            &context(5, ResendSafety::Idempotent),
            AttemptOutcome::Transport(&failure)
        ),
        RetryDecision::Exhausted
    );
    let late = AttemptContext {
        elapsed: Duration::from_secs(299),
        ..context(1, ResendSafety::Idempotent)
    };
    let slow = api_error(429, &[("Retry-After", "5")], "{}");
    assert_eq!(
        decide(&late, AttemptOutcome::Response(&slow)),
        RetryDecision::Exhausted
    );
}

#[test]
fn backoff_is_full_jitter_doubling_to_the_cap() {
    let policy = RetryPolicy::default();
    let mut top = || 0.999_999;
    let ceilings: Vec<u64> = (1..=9)
        .map(|attempt| policy.backoff(attempt, &mut top).as_secs())
        .collect();
    assert_eq!(ceilings, [0, 1, 3, 7, 15, 31, 59, 59, 59]);
    let mut zero = || 0.0;
    assert_eq!(policy.backoff(4, &mut zero), Duration::ZERO);
}

fn config(retry: RetryPolicy) -> ClientConfig {
    ClientConfig::builder()
        .base_url("http://127.0.0.1:9")
        .credentials("client", "secret")
        .retry(retry)
        .into_config()
        .unwrap()
}

fn ok_answer() -> http::Response<Vec<u8>> {
    http::Response::new(br#"{"success":true,"response":{"reportRunId":"r1"}}"#.to_vec())
}

#[test]
fn the_driver_keeps_one_key_and_one_body_across_attempts_and_refreshes_once() {
    let config = config(RetryPolicy::default());
    let operation = config.run_report(
        &"rep".parse().unwrap(),
        ViewType::Detail,
        RunReportOptions::default(),
        [7; 16],
    );
    let mut call = Call::new(operation, &config, at(), 1);
    assert!(matches!(call.start(), Step::NeedToken { refresh: false }));
    let Step::Send(first) = call.with_token(AccessToken::new("t1").unwrap()) else {
        panic!()
    };
    let key = first.headers()["idempotency-key"].clone();
    assert_eq!(key, "07070707-0707-4707-8707-070707070707");

    // Commit-then-drop: the connection broke after sending.
    let dropped = TransportFailure::new(TransportErrorKind::Io, true, "connection closed");
    let Step::Sleep(_) = call.on_transport_error(dropped, at()) else {
        panic!()
    };
    let Step::NeedToken { refresh: false } = call.resume() else {
        panic!()
    };
    let Step::Send(second) = call.with_token(AccessToken::new("t1").unwrap()) else {
        panic!()
    };
    assert_eq!(second.headers()["idempotency-key"], key);
    assert_eq!(second.body(), first.body());

    // 401: one refresh, then one replay; the stale token is named.
    let unauthorized = http::Response::builder()
        .status(401)
        .body(br#"{"message":"Authentication error"}"#.to_vec())
        .unwrap();
    let Step::NeedToken { refresh: true } = call.on_response(unauthorized.clone(), at()) else {
        panic!()
    };
    assert_eq!(call.stale_token().unwrap().expose_secret(), "t1");
    let Step::Send(third) = call.with_token(AccessToken::new("t2").unwrap()) else {
        panic!()
    };
    assert_eq!(third.headers()["authorization"], "Bearer t2");
    let Step::Done(Err(Error::Api(error))) = call.on_response(unauthorized, at()) else {
        panic!()
    };
    assert_eq!(error.status(), 401);
    assert_eq!(call.attempts(), 3);
}

#[test]
fn the_driver_reports_exhaustion_with_the_last_error() {
    let config = config(RetryPolicy::default().with_max_attempts(2).unwrap());
    let operation = config.run_report(
        &"rep".parse().unwrap(),
        ViewType::Detail,
        RunReportOptions::default(),
        [0; 16],
    );
    let mut call = Call::new(operation, &config, at(), 1);
    call.start();
    call.with_token(AccessToken::new("t").unwrap());
    let busy = || {
        http::Response::builder()
            .status(503)
            .body(Vec::new())
            .unwrap()
    };
    let Step::Sleep(_) = call.on_response(busy(), at()) else {
        panic!()
    };
    call.resume();
    call.with_token(AccessToken::new("t").unwrap());
    let Step::Done(Err(Error::RetriesExhausted { attempts: 2, last })) =
        call.on_response(busy(), at())
    else {
        panic!()
    };
    assert_eq!(last.api().unwrap().status(), 503);
    let mut call = Call::new(config.token_request(), &config, at(), 1);
    let Step::Send(token_request) = call.start() else {
        panic!("the token call needs no token")
    };
    assert!(token_request.headers().get("authorization").is_none());
    let done = call.on_response(ok_answer(), at());
    assert!(
        matches!(done, Step::Done(Err(Error::Api(_)))),
        "a run answer is not a token"
    );
}

#[test]
fn each_attempt_is_cut_to_the_time_left() {
    let config = ClientConfig::builder()
        .base_url("http://127.0.0.1:9")
        .credentials("client", "secret")
        .overall_timeout(Duration::from_secs(10))
        .into_config()
        .unwrap();
    let operation = config.run_report(
        &"rep".parse().unwrap(),
        ViewType::Detail,
        RunReportOptions::default(),
        [1; 16],
    );
    let mut call = Call::new(operation, &config, at(), 1);
    call.start();
    let Step::Send(first) = call.with_token(AccessToken::new("t").unwrap()) else {
        panic!()
    };
    assert_eq!(
        zuora_core::driver::stamped_timeouts(&first),
        (Some(Duration::from_secs(10)), None)
    );
    // Seven seconds later the attempt failed; whatever the backoff, the next attempt gets
    // only what is left of the ten.
    let later = Now::new(
        at().instant + Duration::from_secs(7),
        now() + Duration::from_secs(7),
    );
    let Step::Sleep(delay) = call.on_transport_error(
        TransportFailure::new(TransportErrorKind::Connect, false, "x"),
        later,
    ) else {
        panic!()
    };
    call.resume();
    let Step::Send(second) = call.with_token(AccessToken::new("t").unwrap()) else {
        panic!()
    };
    let budget = zuora_core::driver::stamped_timeouts(&second).0.unwrap();
    assert_eq!(budget, Duration::from_secs(3) - delay);
}
