//! Response parsing for every envelope of the reference (§6), gzip, bombs, HTML and empty
//! bodies.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use zuora_core::{
    operations::RunReport, responses::Reason, responses::ResponseError,
    responses::ResponseErrorKind, responses::ResponseLimits, responses::RetryAfter,
};

const REQUEST_ID: &str = "0c1a5ef0-9ccd-4a66-bb1c-9a4b6f1d2e3f";
const SUCCESS: &str =
    r#"{"success":true,"response":{"reportRunId":"ff808081529f4e3401529fd61f080074"}}"#;
const ZAN_UNKNOWN_REPORT: &str = r#"{ "success": false,
  "response": "{\n \"errorId\" : \"ABCD1234\",\n \"message\" : \"An error occurred. The report with ID 42 does not exist.\",\n \"errorCode\" : \"ZAN-USAGE-REST-ERROR\"\n}",
  "links": null }"#;

fn answer(
    status: u16,
    headers: &[(&str, &str)],
    body: impl Into<Vec<u8>>,
) -> http::Response<Vec<u8>> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body.into()).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn error_of(response: &http::Response<Vec<u8>>) -> ResponseError {
    RunReport::parse_response(response).expect_err("expected an error")
}

#[test]
fn success_returns_the_run_id_and_metadata() {
    let response = answer(
        200,
        &[
            ("Content-Type", "application/json"),
            ("Zuora-Request-Id", REQUEST_ID),
            ("Zuora-Track-Id", "nightly"),
            ("RateLimit-Limit", "50000, 50000;w=60, 2250000;w=3600"),
            ("RateLimit-Remaining", "49999"),
            ("RateLimit-Reset", "60"),
        ],
        SUCCESS,
    );
    let started = RunReport::parse_response(&response).unwrap();
    assert_eq!(
        started.report_run_id.as_str(),
        "ff808081529f4e3401529fd61f080074"
    );
    assert_eq!(started.request_id(), Some(REQUEST_ID));
    assert_eq!(started.meta.track_id.as_deref(), Some("nightly"));
    assert_eq!(started.meta.rate_limit.limit(), Some(50_000));
    assert_eq!(started.meta.rate_limit.remaining, Some(49_999));
    assert_eq!(started.meta.rate_limit.reset, Some(Duration::from_secs(60)));
}

#[test]
fn the_body_type_can_be_borrowed_bytes_or_text() {
    let bytes: &[u8] = SUCCESS.as_bytes();
    let borrowed = http::Response::builder().body(bytes).unwrap();
    assert!(RunReport::parse_response(&borrowed).is_ok());
    let text = http::Response::builder().body(SUCCESS.to_owned()).unwrap();
    assert!(RunReport::parse_response(&text).is_ok());
}

#[test]
fn gzip_responses_are_decoded() {
    let response = answer(
        200,
        &[("Content-Encoding", "gzip")],
        gzip(SUCCESS.as_bytes()),
    );
    let started = RunReport::parse_response(&response).unwrap();
    assert_eq!(
        started.report_run_id.as_str(),
        "ff808081529f4e3401529fd61f080074"
    );

    let error = error_of(&answer(
        400,
        &[("Content-Encoding", "gzip")],
        gzip(ZAN_UNKNOWN_REPORT.as_bytes()),
    ));
    assert!(matches!(error.kind, ResponseErrorKind::Reporting { .. }));
}

#[test]
fn placeholder_or_already_decoded_encodings_are_read_as_they_are() {
    // Prism's placeholder, and a stack that decompressed but kept the header.
    for encoding in ["string", "gzip"] {
        let response = answer(200, &[("Content-Encoding", encoding)], SUCCESS);
        assert!(RunReport::parse_response(&response).is_ok(), "{encoding}");
    }
}

#[test]
fn a_gzip_bomb_is_a_typed_error_within_the_cap() {
    let bomb = gzip(&vec![b' '; 64 * 1024 * 1024]);
    assert!(bomb.len() < 128 * 1024, "bomb is {} bytes", bomb.len());
    let error = error_of(&answer(200, &[("Content-Encoding", "gzip")], bomb.clone()));
    assert_eq!(
        error.kind,
        ResponseErrorKind::BodyTooLarge {
            limit: 16 * 1024 * 1024
        }
    );

    let small = ResponseLimits::default()
        .with_max_decoded_bytes(1024)
        .unwrap();
    let error = RunReport::parse_response_with_limits(
        &answer(200, &[("Content-Encoding", "gzip")], bomb),
        small,
    )
    .unwrap_err();
    assert_eq!(error.kind, ResponseErrorKind::BodyTooLarge { limit: 1024 });
    let error = RunReport::parse_response_with_limits(&answer(200, &[], vec![b' '; 2048]), small)
        .unwrap_err();
    assert_eq!(error.kind, ResponseErrorKind::BodyTooLarge { limit: 1024 });
}

#[test]
fn corrupt_and_truncated_gzip_are_decoding_errors() {
    let mut truncated = gzip(SUCCESS.as_bytes());
    truncated.truncate(truncated.len() / 2);
    let error = error_of(&answer(200, &[("Content-Encoding", "gzip")], truncated));
    assert!(
        matches!(error.kind, ResponseErrorKind::Decoding { .. }),
        "{error:?}"
    );
    let error = error_of(&answer(
        200,
        &[("Content-Encoding", "gzip")],
        [0x1f, 0x8b, 0, 1, 2, 3],
    ));
    assert!(
        matches!(error.kind, ResponseErrorKind::Decoding { .. }),
        "{error:?}"
    );
}

#[test]
fn the_reporting_zan_envelope_is_unpacked_from_its_string() {
    let error = error_of(&answer(
        400,
        &[("Zuora-Request-Id", REQUEST_ID), ("Zuora-Track-Id", "t-1")],
        ZAN_UNKNOWN_REPORT,
    ));
    assert_eq!(error.status(), 400);
    assert_eq!(error.request_id(), Some(REQUEST_ID));
    assert_eq!(error.track_id(), Some("t-1"));
    assert_eq!(
        error.kind,
        ResponseErrorKind::Reporting {
            error_code: Some("ZAN-USAGE-REST-ERROR".into()),
            message: "An error occurred. The report with ID 42 does not exist.".into(),
            error_id: Some("ABCD1234".into()),
        }
    );
    assert_eq!(
        error.to_string(),
        format!(
            "ZAN-USAGE-REST-ERROR: An error occurred. The report with ID 42 does not exist. (HTTP 400, Zuora-Request-Id {REQUEST_ID}, Zuora-Track-Id t-1)"
        )
    );
    // The same envelope with a plain message in the string.
    let error = error_of(&answer(
        500,
        &[],
        r#"{"success":false,"response":"Could not read JSON: Unexpected character","links":null}"#,
    ));
    assert!(
        matches!(&error.kind, ResponseErrorKind::Reporting { error_code: None, message, .. } if message.starts_with("Could not read JSON"))
    );
}

#[test]
fn the_v1_reasons_envelope_is_an_error_even_with_http_200() {
    let error = error_of(&answer(
        200,
        &[("Content-Type", "application/json")],
        r#"{"success":false,"processId":"CBCFED6580B4E076","reasons":[{"code":53100320,"message":"'termType' value should be one of: TERMED, EVERGREEN"},{"code":50000070,"message":"request exceeded limit"}]}"#,
    ));
    assert_eq!(error.status(), 200);
    let ResponseErrorKind::Reasons {
        process_id,
        reasons,
    } = &error.kind
    else {
        panic!("{error:?}");
    };
    assert_eq!(process_id.as_deref(), Some("CBCFED6580B4E076"));
    assert_eq!(reasons[0].code, "53100320");
    assert_eq!(reasons[0].category(), Some(20));
    assert!(error.is_rate_limited(), "category 70 is a limit");

    let error = error_of(&answer(
        200,
        &[],
        r#"{"Success":false,"Errors":[{"Code":"INVALID_VALUE","Message":"bad"}]}"#,
    ));
    assert!(
        matches!(&error.kind, ResponseErrorKind::Reasons { reasons, .. }
        if reasons == &[Reason { code: "INVALID_VALUE".into(), message: "bad".into() }])
    );
}

#[test]
fn the_gateway_401_is_an_authentication_error() {
    let error = error_of(&answer(
        401,
        &[
            (
                "WWW-Authenticate",
                "Basic realm=Zuora API, ZSession realm=Zuora API, Bearer realm=Zuora API",
            ),
            ("Content-Type", "application/json"),
            ("Zuora-Request-Id", REQUEST_ID),
        ],
        r#"{ "message": "Authentication error" }"#,
    ));
    assert!(error.is_unauthorized());
    assert_eq!(
        error.kind,
        ResponseErrorKind::Message {
            message: "Authentication error".into()
        }
    );
}

#[test]
fn rate_limits_carry_retry_after_in_both_forms() {
    let error = error_of(&answer(
        429,
        &[
            ("Retry-After", "3"),
            ("RateLimit-Limit", "2500, 2500;w=60"),
            ("RateLimit-Remaining", "0"),
            ("RateLimit-Reset", "3"),
        ],
        r#"{"message":"request exceeded limit"}"#,
    ));
    assert!(error.is_rate_limited());
    assert_eq!(
        error.meta.retry_after,
        Some(RetryAfter::Delay(Duration::from_secs(3)))
    );
    assert!(error.meta.rate_limit.is_exhausted());

    let error = error_of(&answer(
        503,
        &[("Retry-After", "Wed, 21 Oct 2026 07:28:00 GMT")],
        "",
    ));
    assert_eq!(error.kind, ResponseErrorKind::EmptyBody);
    let at = UNIX_EPOCH + Duration::from_secs(1_792_567_680);
    assert_eq!(error.meta.retry_after, Some(RetryAfter::At(at)));
    assert_eq!(
        error
            .meta
            .retry_after
            .unwrap()
            .delay_from(at - Duration::from_secs(5)),
        Duration::from_secs(5)
    );
}

#[test]
fn html_pages_give_a_bounded_snippet() {
    let page = format!(
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>{}</body></html>",
        "x".repeat(10_000)
    );
    let error = error_of(&answer(502, &[("Content-Type", "text/html")], page));
    let ResponseErrorKind::NotJson {
        content_type,
        snippet,
    } = &error.kind
    else {
        panic!("{error:?}");
    };
    assert_eq!(content_type.as_deref(), Some("text/html"));
    assert!(snippet.starts_with("<!DOCTYPE html><html><head><title>502 Bad Gateway"));
    assert!(snippet.len() <= 260, "snippet is {} bytes", snippet.len());
}

#[test]
fn malformed_and_truncated_json_are_typed() {
    for body in [&SUCCESS[..40], "{\"success\": tru}", "{\"success\":true,"] {
        let error = error_of(&answer(200, &[("Content-Type", "application/json")], body));
        assert!(
            matches!(error.kind, ResponseErrorKind::MalformedJson { .. }),
            "{body}: {error:?}"
        );
    }
}

#[test]
fn empty_bodies_are_typed_with_their_status() {
    for status in [200, 500] {
        let error = error_of(&answer(status, &[], ""));
        assert_eq!(error.kind, ResponseErrorKind::EmptyBody);
        assert_eq!(error.status(), status);
    }
}

#[test]
fn success_without_a_usable_run_id_is_typed() {
    let error = error_of(&answer(200, &[], r#"{"success":true,"response":{}}"#));
    assert_eq!(
        error.kind,
        ResponseErrorKind::MissingField {
            field: "reportRunId"
        }
    );
    let error = error_of(&answer(200, &[], r#"{"success":true,"response":"done"}"#));
    assert_eq!(
        error.kind,
        ResponseErrorKind::MissingField {
            field: "reportRunId"
        }
    );
    let error = error_of(&answer(
        200,
        &[],
        r#"{"success":true,"response":{"reportRunId":""}}"#,
    ));
    assert!(matches!(
        error.kind,
        ResponseErrorKind::InvalidField {
            field: "reportRunId",
            ..
        }
    ));
    // A success body under an error status is still an error.
    let error = error_of(&answer(500, &[], SUCCESS));
    assert_eq!(error.status(), 500);
}

#[test]
fn other_json_shapes_are_unexpected_not_a_panic() {
    for body in ["[1,2,3]", "42", "{\"foo\":1}", "null"] {
        let error = error_of(&answer(400, &[("Content-Type", "application/json")], body));
        assert!(
            matches!(error.kind, ResponseErrorKind::UnexpectedJson { .. }),
            "{body}: {error:?}"
        );
    }
}

use proptest::strategy::Strategy as _;

proptest::proptest! {
    #[test]
    fn the_parser_never_panics(
        status in 100u16..600,
        gzip_marked in proptest::bool::ANY,
        body in proptest::prop_oneof![
            proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..512),
            "\\{\"success\":(true|false|1|null),\"response\":(\\{\"reportRunId\":\"[ -~]{0,40}\"\\}|\"[ -~]{0,40}\"|null|\\[\\])\\}"
                .prop_map(String::into_bytes),
        ],
        retry_after in "[ -~]{0,40}",
    ) {
        let mut builder = http::Response::builder().status(status).header("Retry-After", retry_after.as_str());
        if gzip_marked {
            builder = builder.header("Content-Encoding", "gzip");
        }
        if let Ok(response) = builder.body(body) {
            let _ = RunReport::parse_response(&response).map_err(|e| e.to_string());
        }
    }
}
