//! Golden requests: whole requests (method, URI, every header, body bytes) for the
//! reference's examples.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::io::Read;
use zuora_core::operations::Operation;

use zuora_core::{
    Environment, ViewType, driver::HttpRequest, filters::FilterClause, filters::FilterGroup,
    filters::FilterOperator, filters::parse_filter_groups, operations::RunReport,
    values::AccessToken,
};

const REPORT_ID: &str = "ff808081529f4e3401529fd373730070";
const TOKEN: &str = "c652cbc0ea384b9f81856a93a2a74538";
/// The filter example of Zuora's OpenAPI `POSTRunReportType`, byte for byte as serialised.
const SPEC_FILTER_BODY: &str = r#"[{"logicalOperator":{"value":"AND"},"filterClauses":[{"field":{"id":"Account.Status","type":"Text"},"operator":"=","value":"Active"}]}]"#;

fn token() -> AccessToken {
    AccessToken::new(TOKEN).unwrap()
}

fn spec_filter() -> FilterGroup {
    FilterGroup::all([FilterClause::new(
        "Account.Status",
        "Text",
        FilterOperator::Equal,
        "Active",
    )])
}

/// Compares a whole request: every header present is expected, and no other.
fn assert_request(
    actual: &HttpRequest,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) {
    assert_eq!(actual.method().as_str(), method);
    assert_eq!(actual.uri().to_string(), uri);
    let mut got: Vec<(String, String)> = actual
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap().to_owned()))
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned()))
        .collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        String::from_utf8_lossy(actual.body()),
        String::from_utf8_lossy(body)
    );
    assert_eq!(actual.body().as_bytes(), body);
}

#[test]
fn run_a_report_as_in_the_reference() {
    let request = RunReport::new(REPORT_ID.parse().unwrap(), ViewType::Detail)
        .to_request(&Environment::UsCloud2Production, &token())
        .unwrap();
    assert_request(
        &request,
        "POST",
        "https://rest.zuora.com/reporting/api/rest/v1/reports/ff808081529f4e3401529fd373730070/reportrun?viewType=Detail",
        &[
            ("Authorization", "Bearer c652cbc0ea384b9f81856a93a2a74538"),
            ("Content-Type", "application/json"),
        ],
        b"[]",
    );
    assert!(request.headers()["authorization"].is_sensitive());
}

#[test]
fn run_with_the_spec_filter_and_every_optional_header() {
    let request = RunReport::new(REPORT_ID.parse().unwrap(), ViewType::Summary)
        .filters([spec_filter()])
        .idempotency_key("3f0c5d2e-6a47-4f0e-9d39-0c6b8f2e51aa".parse().unwrap())
        .track_id("month-end close 2026/11".parse().unwrap())
        .entity_ids("1a2b7a37-3e7d-4cb3-b0e2-883de9e766cc".parse().unwrap())
        .accept_gzip(true)
        .to_request(&Environment::EuApiSandbox, &token())
        .unwrap();
    assert_request(
        &request,
        "POST",
        "https://rest.sandbox.eu.zuora.com/reporting/api/rest/v1/reports/ff808081529f4e3401529fd373730070/reportrun?viewType=Summary",
        &[
            ("Authorization", "Bearer c652cbc0ea384b9f81856a93a2a74538"),
            ("Content-Type", "application/json"),
            ("Accept-Encoding", "gzip"),
            ("Idempotency-Key", "3f0c5d2e-6a47-4f0e-9d39-0c6b8f2e51aa"),
            ("Zuora-Track-Id", "month-end close 2026/11"),
            ("Zuora-Entity-Ids", "1a2b7a37-3e7d-4cb3-b0e2-883de9e766cc"),
        ],
        SPEC_FILTER_BODY.as_bytes(),
    );
}

#[test]
fn gzipped_body_decompresses_to_the_same_json() {
    let plain =
        RunReport::new(REPORT_ID.parse().unwrap(), ViewType::Detail).filters([spec_filter()]);
    let request = plain
        .clone()
        .gzip_request_body(true)
        .to_request(&Environment::UsCloud2Production, &token())
        .unwrap();
    assert_eq!(request.headers()["content-encoding"], "gzip");
    assert_eq!(request.headers()["content-type"], "application/json");
    assert_eq!(request.headers().len(), 3);
    assert!(request.body().starts_with(&[0x1f, 0x8b]));
    let mut decoded = String::new();
    flate2::read::GzDecoder::new(request.body().as_bytes())
        .read_to_string(&mut decoded)
        .unwrap();
    assert_eq!(decoded, SPEC_FILTER_BODY);
    assert_eq!(decoded.as_bytes(), plain.json_body());
}

#[test]
fn the_ui_filter_form_is_sent_with_string_operators() {
    // Knowledge Center's example, with operators as objects, read as a user would paste it.
    let groups = parse_filter_groups(
        r#"[ { "logicalOperator": { "value": "OR", "label": "OPERATOR_OR", "name": "or" }, "filterClauses": [
            { "field": { "name": "Name", "id": "Product.Name", "label": "Name", "type": "text" }, "value": "Hockey",
              "operator": { "name": "contains", "value": "contains" } },
            { "field": { "id": "Product.EffectiveStartDate", "type": "date", "name": "EffectiveStartDate" }, "value": "2018-03-31",
              "operator": { "name": "is greater than", "value": ">" } } ] } ]"#,
    )
    .unwrap();
    let request = RunReport::new(REPORT_ID.parse().unwrap(), ViewType::Detail)
        .filters(groups)
        .to_request(&Environment::UsCloud2Production, &token())
        .unwrap();
    assert_eq!(
        std::str::from_utf8(request.body()).unwrap(),
        r#"[{"logicalOperator":{"value":"OR"},"filterClauses":[{"field":{"id":"Product.Name","type":"text"},"operator":"contains","value":"Hockey"},{"field":{"id":"Product.EffectiveStartDate","type":"date"},"operator":">","value":"2018-03-31"}]}]"#
    );
}

#[test]
fn ids_are_percent_encoded_as_one_path_segment() {
    let request = RunReport::new("a/b c?d#é".parse().unwrap(), ViewType::Detail)
        .to_request(
            &Environment::custom("http://127.0.0.1:8080/").unwrap(),
            &token(),
        )
        .unwrap();
    assert_eq!(
        request.uri().to_string(),
        "http://127.0.0.1:8080/reporting/api/rest/v1/reports/a%2Fb%20c%3Fd%23%C3%A9/reportrun?viewType=Detail"
    );
}

#[test]
fn every_documented_environment_builds_a_request() {
    let hosts: Vec<String> = Environment::documented()
        .map(|env| {
            let request = RunReport::new(REPORT_ID.parse().unwrap(), ViewType::Detail)
                .to_request(&env, &token())
                .unwrap();
            assert_eq!(request.uri().scheme_str(), Some("https"));
            assert_eq!(env.name().parse::<Environment>().unwrap(), env);
            request.uri().host().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        hosts,
        [
            "rest.na.zuora.com",
            "rest.sandbox.na.zuora.com",
            "rest.zuora.com",
            "rest.apisandbox.zuora.com",
            "rest.test.zuora.com",
            "rest.eu.zuora.com",
            "rest.sandbox.eu.zuora.com",
            "rest.test.eu.zuora.com",
            "rest.ap.zuora.com",
            "rest.test.ap.zuora.com",
            "rest.pt1.zuora.com",
        ]
    );
}

#[test]
fn custom_base_urls_keep_a_path_prefix_and_refuse_plain_http_off_loopback() {
    let env = Environment::custom("https://proxy.example.com/zuora/").unwrap();
    let request = RunReport::new("r1".parse().unwrap(), ViewType::Summary)
        .to_request(&env, &token())
        .unwrap();
    assert_eq!(
        request.uri().to_string(),
        "https://proxy.example.com/zuora/reporting/api/rest/v1/reports/r1/reportrun?viewType=Summary"
    );
    for url in [
        "http://localhost:9",
        "http://127.10.0.1",
        "http://[::1]:8080",
    ] {
        assert!(Environment::custom(url).is_ok(), "{url}");
    }
    for url in [
        "http://rest.zuora.com",
        "ftp://rest.zuora.com",
        "https://user:pw@rest.zuora.com",
        "https://rest.zuora.com/?a=b",
        "rest.zuora.com",
    ] {
        assert!(Environment::custom(url).is_err(), "{url}");
    }
    assert!(
        zuora_core::values::BaseUrl::parse_allowing_insecure_http("http://zuora.internal:8080")
            .is_ok()
    );
}
