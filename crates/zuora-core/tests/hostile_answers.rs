//! Hostile answers the core must survive (issue "Hostile and broken servers"): each test
//! reproduces an input that crashed, leaked or misread before, and asserts the typed outcome.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use zuora_core::{
    Environment, RetryPolicy, machines::TokenCache, operations::GetReportRun,
    operations::Operation, operations::ResendSafety, operations::TokenRequest,
    operations::parse_timestamp, policies::AttemptContext, policies::AttemptOutcome,
    policies::PollDecision, policies::PollPolicy, policies::RetryDecision,
    responses::ResponseError, responses::ResponseLimits, responses::RetryAfter,
    values::AccessToken, values::BaseUrl,
};

const RUN_ID: &str = "ff808081529f4e3401529fd61f080074";
const LIVE_TOKEN: &str = "c652cbc0ea384b9f81856a93a2a74538";

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> http::Response<Vec<u8>> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body.as_bytes().to_vec()).unwrap()
}

fn run_answer(headers: &[(&str, &str)], started_on: &str) -> http::Response<Vec<u8>> {
    response(
        200,
        headers,
        &format!(
            r#"{{"success":true,"response":{{"id":"{RUN_ID}","status":"QUERYDATA","startedOn":{started_on}}}}}"#
        ),
    )
}

fn get_run() -> GetReportRun {
    GetReportRun::new(RUN_ID.parse().unwrap(), Default::default())
}

#[test]
fn item_1_retry_after_with_a_huge_year_is_ignored_not_a_crash() {
    for date in [
        "Sun, 06 Nov 300000000000 08:49:37 GMT",
        "n 6 Nov 992222222224 8:4:9 GMT",
    ] {
        assert_eq!(RetryAfter::parse(date), None, "{date}");
        // Read on every answer, a successful status included.
        let run = get_run()
            .parse_response(
                &run_answer(&[("Retry-After", date)], "1453162482000"),
                ResponseLimits::default(),
            )
            .unwrap();
        assert_eq!(run.meta.retry_after, None);
    }
}

#[test]
fn item_2_a_huge_or_odd_expires_in_is_read_safely() {
    let now = std::time::Instant::now();
    for (expires_in, expected) in [
        ("18446744073709551615", Duration::from_secs(24 * 3600)),
        ("\"3599\"", Duration::from_secs(3599)),
        ("3599.5", Duration::from_secs_f64(3599.5)),
        ("1e300", Duration::from_secs(24 * 3600)),
        ("-5", Duration::from_secs(3599)),
        ("null", Duration::from_secs(3599)),
    ] {
        let body = format!(r#"{{"access_token":"{LIVE_TOKEN}","expires_in":{expires_in}}}"#);
        let token =
            TokenRequest::parse_response(&response(200, &[], &body), ResponseLimits::default())
                .unwrap_or_else(|e| panic!("{expires_in}: {e}"));
        assert_eq!(token.expires_in, expected, "{expires_in}");
        let mut cache = TokenCache::default();
        cache.store(token.access_token.clone(), Duration::MAX, now);
        assert!(cache.usable(now).is_some());
    }
}

#[test]
fn item_3_an_exhausted_rate_limit_with_a_huge_reset_is_capped() {
    let policy = PollPolicy::default();
    for reset in ["18446744073709551615", "3000"] {
        let run = get_run()
            .parse_response(
                &run_answer(
                    &[("RateLimit-Remaining", "0"), ("RateLimit-Reset", reset)],
                    "1453162482000",
                ),
                ResponseLimits::default(),
            )
            .unwrap();
        // The first look does not give up at once, later looks neither overflow nor sleep
        // past the policy's longest delay.
        for looks in [1, 2, 50] {
            let decision = policy.decide(
                looks,
                &run,
                Duration::from_secs(1),
                Duration::from_secs(3600),
            );
            assert_eq!(
                decision,
                PollDecision::PollAfter(policy.max_delay()),
                "reset {reset}, look {looks}"
            );
        }
        let late = policy.decide(3, &run, Duration::MAX, Duration::from_secs(3600));
        assert_eq!(late, PollDecision::DeadlineReached);
    }
}

#[test]
fn item_4_a_timestamp_with_a_multibyte_character_is_unreadable_not_a_crash() {
    for text in [
        "2016-01-19T00:24:42+€0",
        "2016-01-19T00:24:42€",
        "€016-01-19T00:24:42Z",
    ] {
        assert_eq!(
            parse_timestamp(&serde_json::Value::from(text)),
            None,
            "{text}"
        );
    }
    let run = get_run()
        .parse_response(
            &run_answer(&[], "\"2016-01-19T00:24:42+€0\""),
            ResponseLimits::default(),
        )
        .unwrap();
    assert_eq!(run.started_on, None);
    assert_eq!(
        parse_timestamp(&serde_json::Value::from(u64::MAX)),
        UNIX_EPOCH.checked_add(Duration::from_millis(u64::MAX))
    );
}

#[test]
fn item_5_a_nan_jitter_waits_the_ceiling_instead_of_panicking() {
    let policy = RetryPolicy::default();
    let mut nan = || f64::NAN;
    assert_eq!(policy.backoff(1, &mut nan), policy.base_delay());
    let mut infinite = || f64::INFINITY;
    assert_eq!(policy.backoff(1, &mut infinite), policy.base_delay());
}

#[test]
fn item_10_base_urls_with_bad_hosts_or_ports_are_refused() {
    for url in [
        "https://:",
        "https://:443/p",
        "http://7[:]x",
        "https://[zz]/",
        "https://a:99999/p",
        "https://a:0/",
        "https://a:44x3/",
        "https://exa mple.com/",
        "https://.example.com/",
    ] {
        assert!(BaseUrl::parse(url).is_err(), "{url} was accepted");
        assert!(
            url.parse::<Environment>().is_err(),
            "{url} was accepted as an environment"
        );
    }
    for (url, kept) in [
        ("https://a:8443/p/", "https://a:8443/p"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("https://rest.Zuora.com", "https://rest.zuora.com"),
    ] {
        assert_eq!(BaseUrl::parse(url).unwrap().as_str(), kept);
    }
}

#[test]
fn item_11_a_401_never_sends_past_max_attempts() {
    let unauthorized: ResponseError = get_run()
        .parse_response(
            &response(401, &[], r#"{"message":"Authentication error"}"#),
            ResponseLimits::default(),
        )
        .unwrap_err();
    let context = |attempt, max: u32| {
        (
            AttemptContext {
                attempt,
                elapsed: Duration::ZERO,
                deadline: Duration::from_secs(300),
                token_refreshed: false,
                safety: ResendSafety::Idempotent,
            },
            RetryPolicy::default().with_max_attempts(max).unwrap(),
        )
    };
    let mut half = || 0.5;
    let (once, never_retry) = context(1, 1);
    assert_eq!(
        never_retry.decide(
            &once,
            AttemptOutcome::Response(&unauthorized),
            SystemTime::now(),
            &mut half
        ),
        RetryDecision::GiveUp
    );
    let (first, default) = context(1, 5);
    assert_eq!(
        default.decide(
            &first,
            AttemptOutcome::Response(&unauthorized),
            SystemTime::now(),
            &mut half
        ),
        RetryDecision::RefreshToken
    );
}

#[test]
fn token_answers_in_an_unexpected_shape_never_quote_the_token() {
    for body in [
        format!(r#"{{"access_token":"{LIVE_TOKEN}","expires_in":{{"s":1}},"token_type":7"#),
        format!(r#"{{"access_token":{{"v":"{LIVE_TOKEN}"}}}}"#),
        format!(r#"<html><body>proxy says access_token={LIVE_TOKEN}</body></html>"#),
        format!(r#"{{"token":"{LIVE_TOKEN}"}}"#),
    ] {
        let error =
            TokenRequest::parse_response(&response(200, &[], &body), ResponseLimits::default())
                .unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(LIVE_TOKEN), "the token leaked: {shown}");
    }
    // A token answer cut short says what the parser said, position included.
    let cut = format!(r#"{{"access_token":"{LIVE_TOKEN}","expires_in":35"#);
    let error = TokenRequest::parse_response(&response(200, &[], &cut), ResponseLimits::default())
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(LIVE_TOKEN), "the token leaked: {shown}");
    assert!(
        shown.contains("EOF while parsing an object at line 1"),
        "{shown}"
    );
    // Any other answer's snippet is scrubbed of credential values too.
    let error = get_run()
        .parse_response(
            &response(
                502,
                &[("Content-Type", "text/html")],
                &format!("<p>debug: access_token={LIVE_TOKEN}&jti=abc</p>"),
            ),
            ResponseLimits::default(),
        )
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(
        !shown.contains(LIVE_TOKEN) && !shown.contains("jti=abc"),
        "{shown}"
    );
    assert!(shown.contains("[redacted]"), "{shown}");
    let _ = AccessToken::new(LIVE_TOKEN).unwrap();
}

#[test]
fn item_12_a_status_answer_about_another_run_is_an_error() {
    let other = "ff808081529f4e3401529fd61f089999";
    let body = format!(r#"{{"success":true,"response":{{"id":"{other}","status":"COMPLETED"}}}}"#);
    let error = get_run()
        .parse_response(&response(200, &[], &body), ResponseLimits::default())
        .unwrap_err();
    assert!(
        matches!(&error.kind, zuora_core::responses::ResponseErrorKind::OtherRun { answered, .. } if answered.as_str() == other),
        "{error:?}"
    );
}

#[test]
fn the_token_requests_debug_never_shows_the_client_secret() {
    let secret = "s3cr3t-V4lue";
    let request = TokenRequest::new(
        "6f1d2e3c-4b5a-4978-8a6b-5c4d3e2f1a0b".parse().unwrap(),
        zuora_core::values::ClientSecret::new(secret).unwrap(),
    )
    .to_request(
        &Environment::UsCloud2ApiSandbox,
        &zuora_core::operations::NoToken,
    )
    .unwrap();
    let shown = format!("{request:?} {request:#?}");
    let as_bytes: Vec<String> = secret.bytes().map(|b| b.to_string()).collect();
    assert!(!shown.contains(secret), "{shown}");
    assert!(
        !shown.contains(&as_bytes.join(", ")),
        "the secret as bytes: {shown}"
    );
    assert!(shown.contains("RequestBody("), "{shown}");
}

mod any_answer {
    //! Any answer, to any operation, is a result or a typed error: never a panic. And a
    //! call fed any answers ends within its attempts.

    use super::*;
    use proptest::prelude::*;
    use zuora_core::{
        ClientConfig, driver::Now, machines::Step, operations::CallOptions,
        operations::CancelReportRun, operations::ExportReportRun, operations::LatestReportRun,
        operations::ReportDataPage, operations::SearchReports,
    };

    fn header_value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{0,25}",
            "-?[0-9]{1,5}",
            "[A-Za-z]{3}, [0-9]{1,2} [A-Za-z]{3} [0-9]{1,12} [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2} GMT",
            "[ -~]{0,40}",
        ]
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300),
            "\\{\"success\":(true|false),\"response\":(\\{\"id\":\"[ -~]{0,40}\",\"status\":\"[A-Za-z]{0,12}\",\"startedOn\":(\"[ -~€]{0,30}\"|[0-9]{0,22})\\}|\"[ -~]{0,60}\"|null)\\}"
                .prop_map(String::into_bytes),
            "\\{\"access_token\":(\"[ -~]{0,40}\"|1|null),\"expires_in\":(\"[ -~]{0,10}\"|-?[0-9.e+]{0,25}|null)\\}"
                .prop_map(String::into_bytes),
            "\\{\"success\":true,\"response\":\\{\"reports\":\\[(\\{\"id\":\"[a-z0-9]{0,8}\",\"name\":\"[ -~]{0,10}\"\\},?){0,3}\\]\\}\\}"
                .prop_map(String::into_bytes),
        ]
    }

    fn answer() -> impl Strategy<Value = http::Response<Vec<u8>>> {
        (
            100u16..600,
            any::<bool>(),
            header_value(),
            header_value(),
            header_value(),
            body(),
        )
            .prop_filter_map(
                "a valid HTTP head",
                |(status, gzip, retry_after, remaining, reset, body)| {
                    let mut builder = http::Response::builder()
                        .status(status)
                        .header("Retry-After", retry_after)
                        .header("RateLimit-Remaining", remaining)
                        .header("RateLimit-Reset", reset)
                        .header("RateLimit-Limit", "100;w=60");
                    if gzip {
                        builder = builder.header("Content-Encoding", "gzip");
                    }
                    builder.body(body).ok()
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn no_answer_makes_any_operation_panic(response in answer()) {
            let limits = ResponseLimits::default();
            let run: zuora_core::ReportRunId = RUN_ID.parse().unwrap();
            let options = CallOptions::default();
            let _ = TokenRequest::parse_response(&response, limits).map_err(|e| e.to_string());
            let _ = zuora_core::operations::RunReport::parse_response(&response).map_err(|e| e.to_string());
            let _ = get_run().parse_response(&response, limits).map_err(|e| e.to_string());
            let _ = LatestReportRun::new("r".parse().unwrap(), options.clone())
                .parse_response(&response, limits).map_err(|e| e.to_string());
            let _ = CancelReportRun::new(run.clone(), options.clone())
                .parse_response(&response, limits).map_err(|e| e.to_string());
            let _ = SearchReports::new("x", options.clone()).parse_response(&response, limits).map_err(|e| e.to_string());
            let _ = ReportDataPage::first(run.clone(), 10, options.clone()).parse_response(&response, limits).map_err(|e| e.to_string());
            let _ = ExportReportRun::new(run, options)
                .parse_response(&response, limits).map_err(|e| e.to_string());
        }

        #[test]
        fn a_call_fed_any_answers_ends_within_its_attempts(answers in proptest::collection::vec(answer(), 1..12)) {
            let config = ClientConfig::builder()
                .base_url("http://127.0.0.1:9")
                .credentials("id", "secret")
                .into_config()
                .unwrap();
            let base = std::time::Instant::now();
            let mut call = zuora_core::machines::Call::new(get_run(), &config, Now::new(base, SystemTime::now()), 7);
            let mut step = call.start();
            let mut sends = 0u32;
            let mut answers = answers.into_iter();
            let mut waited = Duration::ZERO;
            let ended = loop {
                step = match step {
                    Step::NeedToken { .. } => call.with_token(AccessToken::new("t").unwrap()),
                    Step::Send(_) => {
                        sends += 1;
                        prop_assert!(sends <= config.retry().max_attempts(), "sent past max_attempts");
                        match answers.next() {
                            Some(answer) => call.on_response(answer, Now::new(base + waited, SystemTime::now())),
                            None => break false,
                        }
                    }
                    Step::Sleep(delay) => {
                        waited += delay;
                        prop_assert!(waited <= config.overall_timeout(), "waited past the deadline");
                        call.resume()
                    }
                    Step::Done(_) => break true,
                };
            };
            prop_assert!(ended || sends >= 1);
        }
    }
}
