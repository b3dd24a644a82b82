//! Every route of the simulator, driven over loopback with a plain HTTP client, checked
//! against the shapes Zuora documents (`docs/api-choices.md`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

mod common;

use std::time::Duration;

use common::{Client, PREFIX, gunzip, gzip, parse_export};
use zuora_sim::{RateBudget, RunTiming, SimConfig};

fn client() -> Client {
    Client::new(SimConfig::new(11))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn oauth_token_follows_the_reference() {
    let c = client();
    let form = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials",
        c.sim.client_id(),
        c.sim.client_secret()
    );
    let answer = c
        .send(
            "POST",
            "/oauth/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form.as_bytes(),
        )
        .unwrap();
    assert_eq!(answer.status, 200);
    let body = answer.json();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["jti"].as_str().unwrap().len(), 32);
    assert!(body["scope"].as_str().unwrap().contains("tenant."));
    assert_eq!(answer.header("zuora-request-id").unwrap().len(), 36);
    assert!(answer.header("x-ratelimit-limit-minute").is_some());

    for bad in [
        format!(
            "client_id={}&client_secret=wrong&grant_type=client_credentials",
            c.sim.client_id()
        ),
        format!(
            "client_id=nobody&client_secret={}&grant_type=client_credentials",
            c.sim.client_secret()
        ),
        format!(
            "client_id={}&client_secret={}&grant_type=password",
            c.sim.client_id(),
            c.sim.client_secret()
        ),
    ] {
        let answer = c.send("POST", "/oauth/token", &[], bad.as_bytes()).unwrap();
        assert_eq!(answer.status, 400);
        let body = answer.json();
        assert_eq!(body["error"], "Bad Request");
        assert_eq!(body["path"], "/oauth/token");
        assert!(body["message"].as_str().unwrap().len() > 5);
    }
    assert_eq!(c.sim.token_requests(), 4);
}

#[test]
fn reporting_routes_need_a_live_bearer_token() {
    let c = client();
    let run_path = format!("{PREFIX}/reportruns/ff808081529f4e3401529fd61f080074");
    for headers in [
        vec![],
        vec![("Authorization", "Bearer nope")],
        vec![("Authorization", "Basic dXNlcjpwYXNz")],
    ] {
        let answer = c.send("GET", &run_path, &headers, b"").unwrap();
        assert_eq!(answer.status, 401);
        assert_eq!(
            answer.json(),
            serde_json::json!({"message": "Authentication error"})
        );
        assert_eq!(
            answer.header("www-authenticate"),
            Some("Basic realm=Zuora API, ZSession realm=Zuora API, Bearer realm=Zuora API")
        );
    }
    let token = c.token();
    assert_eq!(
        c.get(&token, &run_path).status,
        400,
        "a live token passes auth"
    );
    c.sim.clock().advance(Duration::from_secs(3599));
    assert_eq!(c.get(&token, &run_path).status, 401, "the token expired");
}

#[test]
fn runs_move_through_the_state_machine() {
    let c = Client::new(SimConfig {
        run_timing: RunTiming::uniform(Duration::from_secs(10)),
        ..SimConfig::new(3)
    });
    let token = c.token();
    let run = c.start_run(&token, "Invoice Detail");
    assert_eq!(run.len(), 32);
    let report = c.sim.report_by_name("Invoice Detail").unwrap();
    let mut seen = Vec::new();
    let mut updated = Vec::new();
    for _ in 0..4 {
        let answer = c.get(&token, &format!("{PREFIX}/reportruns/{run}"));
        let body = answer.json();
        let response = &body["response"];
        assert_eq!(body["success"], true);
        assert_eq!(response["id"], run.as_str());
        assert_eq!(response["reportId"], report.id.as_str());
        assert_eq!(response["reportType"], "Detail");
        assert!(response["startedOn"].as_u64().unwrap() > 1_700_000_000_000);
        let definition: serde_json::Value =
            serde_json::from_str(response["reportDefinition"].as_str().unwrap()).unwrap();
        assert_eq!(definition["name"], "Invoice Detail");
        seen.push(response["status"].as_str().unwrap().to_owned());
        updated.push(response["updatedOn"].as_u64().unwrap());
        c.sim.clock().advance(Duration::from_secs(10));
    }
    assert_eq!(
        seen,
        ["STARTED", "QUERYDATA", "PROCESSINGDATA", "COMPLETED"]
    );
    assert!(updated.windows(2).all(|w| w[1] > w[0]), "{updated:?}");

    let invalid = c.start_run(&token, "Broken Definition Report");
    let failing = c.start_run(&token, "Failing Usage Report");
    assert_eq!(c.status_of(&token, &invalid), "STARTED");
    c.sim.clock().advance(Duration::from_secs(10));
    assert_eq!(c.status_of(&token, &invalid), "INVALID");
    assert_eq!(c.status_of(&token, &failing), "QUERYDATA");
    c.sim.clock().advance(Duration::from_secs(10));
    assert_eq!(c.status_of(&token, &failing), "ERROR");
}

#[test]
fn runs_longer_than_an_hour_end_in_error() {
    let c = Client::new(SimConfig {
        run_timing: RunTiming::uniform(Duration::from_secs(1800)),
        ..SimConfig::new(3)
    });
    let token = c.token();
    let run = c.start_run(&token, "Payments Detail");
    c.sim.set_token_ttl(Duration::from_secs(7200));
    let token = c.token();
    c.sim.clock().advance(Duration::from_secs(3599));
    assert_eq!(c.status_of(&token, &run), "QUERYDATA");
    c.sim.clock().advance(Duration::from_secs(2));
    assert_eq!(c.status_of(&token, &run), "ERROR");
}

#[test]
fn cancel_follows_the_reference() {
    let c = Client::new(SimConfig {
        run_timing: RunTiming::uniform(Duration::from_secs(10)),
        ..SimConfig::new(3)
    });
    let token = c.token();
    let auth = bearer(&token);
    let run = c.start_run(&token, "Account Overview");
    let cancel = |run: &str| {
        c.send(
            "DELETE",
            &format!("{PREFIX}/reportruns/{run}"),
            &[("Authorization", &auth)],
            b"",
        )
        .unwrap()
    };
    let first = cancel(&run);
    assert_eq!(first.status, 200);
    assert_eq!(
        first.json(),
        serde_json::json!({"success": true, "response": "The report run has been canceled"})
    );
    assert_eq!(
        cancel(&run).json()["response"],
        "The report run was canceled"
    );
    assert_eq!(c.status_of(&token, &run), "CANCELLED");

    let done = c.start_run(&token, "Account Overview");
    c.sim.clock().advance(Duration::from_secs(30));
    let refused = cancel(&done);
    assert_eq!(refused.status, 400);
    assert_eq!(refused.zan().0, "ZAN-USAGE-REST-ERROR");
    assert_eq!(c.status_of(&token, &done), "COMPLETED");
    assert_eq!(cancel("ff808081529f4e3401529fd61f080074").status, 400);
}

#[test]
fn run_a_report_refuses_what_the_reference_refuses() {
    let c = client();
    let token = c.token();
    let auth = bearer(&token);
    let detail = c.sim.report_by_name("Invoice Detail").unwrap();
    let post = |target: String, headers: &[(&str, &str)], body: &[u8]| {
        let mut all = vec![("Authorization", auth.as_str())];
        all.extend_from_slice(headers);
        c.send("POST", &target, &all, body).unwrap()
    };
    let unknown = post(
        format!("{PREFIX}/reports/ffffffffffffffffffffffffffffffff/reportrun?viewType=Detail"),
        &[],
        b"[]",
    );
    assert_eq!(unknown.status, 400);
    assert_eq!(
        unknown.zan(),
        (
            "ZAN-USAGE-REST-ERROR".to_owned(),
            "An error occurred. The report with ID ffffffffffffffffffffffffffffffff does not exist.".to_owned()
        )
    );
    for query in ["", "?viewType=Pivot", "?viewType=Summary"] {
        let answer = post(
            format!("{PREFIX}/reports/{}/reportrun{query}", detail.id),
            &[],
            b"[]",
        );
        assert_eq!(answer.status, 400, "{query}");
        assert_eq!(answer.zan().0, "ZAN-REST-ERROR");
    }
    let malformed = post(
        format!("{PREFIX}/reports/{}/reportrun?viewType=Detail", detail.id),
        &[],
        b"[{\"logicalOperator\":",
    );
    assert_eq!(malformed.status, 500);
    assert!(malformed.zan().1.starts_with("Could not read JSON"));

    // Accepted: no body, `[]`, string operators, the UI's object operators, a gzipped body.
    let target = format!("{PREFIX}/reports/{}/reportrun?viewType=Detail", detail.id);
    let spec = br#"[{"logicalOperator":{"value":"AND"},"filterClauses":[{"field":{"id":"Account.Status","type":"Text"},"operator":"=","value":"Active"}]}]"#;
    let ui = br#"[{"logicalOperator":{"value":"OR","label":"OPERATOR_OR","name":"or"},"filterClauses":[{"field":{"id":"Product.Name","type":"text"},"value":"Hockey","operator":{"name":"contains","value":"contains"}}]}]"#;
    for body in [&b""[..], b"[]", spec, ui] {
        assert_eq!(
            post(target.clone(), &[], body).status,
            200,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let gzipped = post(target.clone(), &[("Content-Encoding", "gzip")], &gzip(spec));
    assert_eq!(gzipped.status, 200);
    let broken = post(target, &[("Content-Encoding", "gzip")], b"not gzip");
    assert_eq!(broken.status, 400);
    assert_eq!(c.sim.runs_created_for_report(detail.id.as_str()), 5);
    // A case-insensitive view type is accepted, as the client's ViewType parser is.
    assert_eq!(
        post(
            format!("{PREFIX}/reports/{}/reportrun?viewType=detail", detail.id),
            &[],
            b"[]"
        )
        .status,
        200
    );
}

#[test]
fn latest_completed_run() {
    let c = Client::new(SimConfig {
        run_timing: RunTiming::uniform(Duration::from_secs(5)),
        ..SimConfig::new(3)
    });
    let token = c.token();
    let report = c.sim.report_by_name("Payments Detail").unwrap();
    let latest = || {
        c.get(
            &token,
            &format!("{PREFIX}/reports/{}/reportruns/latest", report.id),
        )
    };
    let never = latest();
    assert_eq!(never.status, 400);
    assert_eq!(
        never.zan().1,
        "The current user has not run this report yet. Please run the report before retrying."
    );
    let first = c.start_run(&token, "Payments Detail");
    assert_eq!(
        latest().status,
        400,
        "an unfinished run is not a completed one"
    );
    c.sim.clock().advance(Duration::from_secs(20));
    let second = c.start_run(&token, "Payments Detail");
    let answer = latest();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["response"]["id"], first.as_str());
    assert_eq!(answer.json()["response"]["status"], "COMPLETED");
    c.sim.clock().advance(Duration::from_secs(20));
    assert_eq!(latest().json()["response"]["id"], second.as_str());
}

#[test]
fn report_data_pages_follow_the_offset_reading() {
    let c = client();
    let token = c.token();
    let report = c.sim.report_by_name("Invoice Detail").unwrap();
    let run = c.start_run(&token, "Invoice Detail");
    let page = |offset: &str, size: &str| {
        c.get(
            &token,
            &format!("{PREFIX}/reportruns/reportdata/{run}?offset={offset}&pageSize={size}"),
        )
    };
    let first = page("1", "100").json();
    let response = &first["response"];
    assert_eq!(response["size"], 100);
    assert_eq!(response["offset"], 1);
    assert_eq!(response["total"], report.rows);
    let rows = response["page"].as_array().unwrap();
    assert_eq!(rows.len(), 100);
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
    assert_eq!(
        page("0", "1").json()["response"]["page"],
        page("1", "1").json()["response"]["page"]
    );
    let last = page("201", "100").json();
    assert_eq!(last["response"]["page"].as_array().unwrap().len(), 50);
    assert_eq!(
        last["response"]["page"][49]["Invoice.InvoiceNumber"],
        "INV00000250"
    );
    assert!(
        page("251", "100").json()["response"]["page"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    for target in [
        format!("{PREFIX}/reportruns/reportdata/{run}?pageSize=10"),
        format!("{PREFIX}/reportruns/reportdata/{run}?offset=abc&pageSize=10"),
        format!("{PREFIX}/reportruns/reportdata/{run}?offset=1"),
        format!(
            "{PREFIX}/reportruns/reportdata/ffffffffffffffffffffffffffffffff?offset=1&pageSize=1"
        ),
    ] {
        assert_eq!(c.get(&token, &target).status, 400, "{target}");
    }
}

#[test]
fn data_and_export_wait_for_completion() {
    let c = Client::new(SimConfig {
        run_timing: RunTiming::uniform(Duration::from_secs(5)),
        ..SimConfig::new(3)
    });
    let token = c.token();
    let run = c.start_run(&token, "Invoice Detail");
    for target in [
        format!("{PREFIX}/reportruns/reportdata/{run}?offset=1&pageSize=10"),
        format!("{PREFIX}/reportruns/export/{run}?pivoted=false"),
    ] {
        let answer = c.get(&token, &target);
        assert_eq!(answer.status, 400);
        assert_eq!(answer.zan().0, "ZAN-USAGE-REST-ERROR");
    }
}

#[test]
fn exports_are_utf16_tab_separated_and_equal_to_the_generator() {
    let c = client();
    let token = c.token();
    let report = c.sim.report_by_name("Invoice Detail").unwrap();
    let run = c.start_run(&token, "Invoice Detail");
    let target = format!("{PREFIX}/reportruns/export/{run}?pivoted=false");
    let plain = c.get(&token, &target);
    assert_eq!(plain.status, 200);
    assert_eq!(
        plain.header("content-type"),
        Some("text/csv;charset=utf-16")
    );
    assert_eq!(
        plain.header("content-disposition"),
        Some("attachment; filename=\"Invoice_Detail.csv\"")
    );
    assert_eq!(plain.header("content-encoding"), None);
    let records = parse_export(&plain.body);
    assert_eq!(records.len() as u64, report.rows + 1);
    let labels: Vec<&str> = report.columns().iter().map(|c| c.label).collect();
    assert_eq!(records[0], labels);
    for (index, record) in records[1..].iter().enumerate() {
        assert_eq!(*record, report.row(index as u64 + 1), "row {}", index + 1);
    }
    let all: String = records.iter().flatten().map(String::as_str).collect();
    for hard in [",", "\"", "\n", "\t", "🚀"] {
        assert!(all.contains(hard), "{hard:?} made it through");
    }

    let zipped = c
        .send(
            "GET",
            &target,
            &[
                ("Authorization", &bearer(&token)),
                ("Accept-Encoding", "gzip"),
            ],
            b"",
        )
        .unwrap();
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert!(zipped.body.len() < plain.body.len());
    assert_eq!(gunzip(&zipped.body), plain.body);

    let unknown = c.get(
        &token,
        &format!("{PREFIX}/reportruns/export/ffffffffffffffffffffffffffffffff?pivoted=true"),
    );
    assert_eq!(unknown.status, 400);
    assert_eq!(
        unknown.zan().1,
        "There are errors when exporting the report."
    );
}

#[test]
fn search_pages_by_fifty() {
    let c = client();
    let token = c.token();
    let search = |query: &str| c.get(&token, &format!("{PREFIX}/reports/search?{query}"));
    let first = search("query=customer%20report").json();
    assert_eq!(first["success"], true);
    assert_eq!(first["response"]["count"], 50);
    let reports = first["response"]["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 50);
    for field in [
        "id",
        "name",
        "number",
        "datasource",
        "dsName",
        "definition",
        "createdOn",
        "namespace",
    ] {
        assert!(!reports[0][field].is_null(), "{field}");
    }
    let second = search("query=customer%20report&searchStart=50").json();
    assert_eq!(second["response"]["reports"].as_array().unwrap().len(), 10);
    let mut names: Vec<String> = reports
        .iter()
        .chain(second["response"]["reports"].as_array().unwrap())
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 60);

    let none = search("query=zzzzzz").json();
    assert_eq!(none["success"], true);
    assert_eq!(none["response"]["reports"].as_array().unwrap().len(), 0);
    let missing = search("");
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.zan().1,
        "Required String parameter 'query' is not present."
    );
    let ordered = search(
        "query=customer&orderBy=%5B%7B%22field%22%3A%22name%22%2C%22ascend%22%3A%22false%22%7D%5D",
    )
    .json();
    assert_eq!(
        ordered["response"]["reports"][0]["name"],
        "Customer report 060"
    );
    assert_eq!(search("query=customer&orderBy=%5Bnope").status, 500);
}

#[test]
fn every_answer_carries_request_id_limits_and_the_echoed_track_id() {
    let c = client();
    let token = c.token();
    let auth = bearer(&token);
    let answer = c
        .send(
            "GET",
            &format!("{PREFIX}/reports/search?query=invoice"),
            &[
                ("Authorization", &auth),
                ("Zuora-Track-Id", "nightly job/7"),
            ],
            b"",
        )
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("zuora-track-id"), Some("nightly job/7"));
    assert_eq!(answer.header("zuora-request-id").unwrap().len(), 36);
    assert!(
        answer
            .header("ratelimit-limit")
            .unwrap()
            .starts_with("50000, 50000;w=60")
    );
    assert!(
        answer
            .header("ratelimit-remaining")
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert!(
        answer
            .header("ratelimit-reset")
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    let plain = c.get(&token, &format!("{PREFIX}/reports/search?query=invoice"));
    assert_eq!(plain.header("zuora-track-id"), None);

    for bad in ["job:1", "quote'd", &"x".repeat(65)] {
        let refused = c
            .send(
                "GET",
                &format!("{PREFIX}/reports/search?query=invoice"),
                &[("Authorization", &auth), ("Zuora-Track-Id", bad)],
                b"",
            )
            .unwrap();
        assert_eq!(refused.status, 400, "{bad}");
        assert_eq!(refused.zan().0, "ZAN-REST-ERROR");
    }
    let log = c.sim.request_log();
    assert!(log.iter().all(|r| r.header("authorization").is_none()));
    assert!(
        log.iter()
            .any(|r| r.header("zuora-track-id") == Some("nightly job/7"))
    );
}

#[test]
fn json_over_1000_bytes_is_gzipped_when_asked() {
    let c = client();
    let token = c.token();
    let auth = bearer(&token);
    let big = c
        .send(
            "GET",
            &format!("{PREFIX}/reports/search?query=customer"),
            &[("Authorization", &auth), ("Accept-Encoding", "gzip")],
            b"",
        )
        .unwrap();
    assert_eq!(big.header("content-encoding"), Some("gzip"));
    let decoded: serde_json::Value = serde_json::from_slice(&gunzip(&big.body)).unwrap();
    assert_eq!(decoded["response"]["count"], 50);
    let run = c.start_run(&token, "Invoice Detail");
    let small = c
        .send(
            "GET",
            &format!("{PREFIX}/reportruns/reportdata/{run}?offset=1&pageSize=1"),
            &[("Authorization", &auth), ("Accept-Encoding", "gzip")],
            b"",
        )
        .unwrap();
    assert!(small.body.len() <= 1000);
    assert_eq!(small.header("content-encoding"), None);
}

#[test]
fn the_request_budget_answers_429_then_recovers() {
    let c = Client::new(SimConfig {
        rate_budget: RateBudget {
            limit: 3,
            window: Duration::from_secs(60),
        },
        ..SimConfig::new(5)
    });
    let token = c.token();
    let target = format!("{PREFIX}/reports/search?query=invoice");
    let statuses: Vec<u16> = (0..4).map(|_| c.get(&token, &target).status).collect();
    assert_eq!(
        statuses,
        [200, 200, 429, 429],
        "the token call spent one of three"
    );
    let limited = c.get(&token, &target);
    assert_eq!(
        limited.json(),
        serde_json::json!({"message": "request exceeded limit"})
    );
    assert_eq!(limited.header("ratelimit-remaining"), Some("0"));
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    c.sim.clock().advance(Duration::from_secs(retry_after));
    assert_eq!(c.get(&token, &target).status, 200);
}

#[test]
fn idempotency_replays_conflicts_and_expires() {
    let c = client();
    let token = c.token();
    let auth = bearer(&token);
    let report = c.sim.report_by_name("Invoice Detail").unwrap();
    let target = format!("{PREFIX}/reports/{}/reportrun?viewType=Detail", report.id);
    let post = |target: &str, key: &str| {
        c.send(
            "POST",
            target,
            &[("Authorization", &auth), ("Idempotency-Key", key)],
            b"[]",
        )
        .unwrap()
    };
    let first = post(&target, "key-1");
    let again = post(&target, "key-1");
    assert_eq!(first.status, 200);
    assert_eq!(again.status, first.status);
    assert_eq!(again.body, first.body);
    assert_eq!(
        again.header("zuora-request-id"),
        first.header("zuora-request-id")
    );
    assert_eq!(c.sim.runs_created_for_key("key-1"), 1);

    let other = format!("{PREFIX}/reports/{}/reportrun?viewType=Summary", report.id);
    assert_eq!(post(&other, "key-1").status, 422);
    let get = c
        .send(
            "GET",
            &format!("{PREFIX}/reports/search?query=invoice"),
            &[("Authorization", &auth), ("Idempotency-Key", "k")],
            b"",
        )
        .unwrap();
    assert_eq!(get.status, 400);
    assert_eq!(
        get.zan().1,
        "Request method 'GET' not supported with Idempotency-Key header"
    );
    assert_eq!(post(&target, &"k".repeat(256)).status, 400);

    // A failure is saved and replayed too.
    let missing =
        format!("{PREFIX}/reports/ffffffffffffffffffffffffffffffff/reportrun?viewType=Detail");
    let failed = post(&missing, "key-2");
    assert_eq!(failed.status, 400);
    assert_eq!(post(&missing, "key-2").body, failed.body);

    c.sim.clock().advance(Duration::from_secs(24 * 3600));
    let auth = bearer(&c.token());
    let post = |target: &str, key: &str| {
        c.send(
            "POST",
            target,
            &[("Authorization", &auth), ("Idempotency-Key", key)],
            b"[]",
        )
        .unwrap()
    };
    let fresh = post(&target, "key-1");
    assert_eq!(fresh.status, 200);
    assert_ne!(fresh.body, first.body, "after 24 h the key starts over");
    assert_eq!(c.sim.runs_created_for_key("key-1"), 2);
    assert_eq!(c.sim.runs_created_for_report(report.id.as_str()), 2);
}

#[test]
fn transfer_ownership() {
    let c = client();
    let token = c.token();
    let auth = bearer(&token);
    let target = format!("{PREFIX}/reports/transfer-ownership");
    let ok = c
        .send("POST", &target, &[("Authorization", &auth)], br#"{"reportNames":["Invoice Detail"],"newOwnerUserId":"4c85f2b42ba949569a5d15e77c6b9742"}"#)
        .unwrap();
    assert_eq!(
        ok.json(),
        serde_json::json!({"success": true, "response": "Transfer ownership successfully"})
    );
    let bad = c
        .send(
            "POST",
            &target,
            &[("Authorization", &auth)],
            br#"{"reportNames":["x"]}"#,
        )
        .unwrap();
    assert_eq!(bad.status, 400);
    assert!(bad.body.is_empty());
}

#[test]
fn unknown_paths_and_methods() {
    let c = client();
    let token = c.token();
    assert_eq!(c.get(&token, &format!("{PREFIX}/nothing/here")).status, 404);
    let wrong = c
        .send(
            "PUT",
            &format!("{PREFIX}/reports/search?query=x"),
            &[("Authorization", &bearer(&token))],
            b"",
        )
        .unwrap();
    assert_eq!(wrong.status, 405);
}
