//! Every fault kind, injected and observed over loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

mod common;

use std::time::{Duration, Instant};

use common::{Client, PREFIX};
use zuora_sim::{Fault, FaultPlan, FaultScope, LARGE_REPORT_NAME, SimConfig};

fn run_target(c: &Client) -> String {
    let report = c.sim.report_by_name("Invoice Detail").unwrap();
    format!("{PREFIX}/reports/{}/reportrun?viewType=Detail", report.id)
}

fn post_run(c: &Client, token: &str, key: Option<&str>) -> Result<common::Answer, String> {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("Authorization", auth.as_str())];
    if let Some(key) = key {
        headers.push(("Idempotency-Key", key));
    }
    c.send("POST", &run_target(c), &headers, b"[]")
}

#[test]
fn status_faults_answer_without_doing_the_work() {
    let c = Client::new(SimConfig::new(1));
    let token = c.token();
    let script = [500, 502, 503, 504]
        .map(|s| Some(Fault::Status(s)))
        .to_vec();
    c.sim
        .set_faults(FaultPlan::Script(script), FaultScope::RunReport);
    for expected in [500, 502, 503, 504] {
        let answer = post_run(&c, &token, None).unwrap();
        assert_eq!(answer.status, expected);
        assert_eq!(answer.zan().0, "ZAN-REST-ERROR");
        assert_eq!(answer.header("zuora-request-id").unwrap().len(), 36);
    }
    assert_eq!(c.sim.runs_created(), 0);
    assert_eq!(
        post_run(&c, &token, None).unwrap().status,
        200,
        "the script is spent"
    );
}

#[test]
fn rate_limit_fault_sends_retry_after() {
    let c = Client::new(SimConfig::new(1));
    let token = c.token();
    c.sim.set_faults(
        FaultPlan::Script(vec![Some(Fault::RateLimited {
            retry_after_secs: 7,
        })]),
        FaultScope::Reporting,
    );
    let answer = post_run(&c, &token, None).unwrap();
    assert_eq!(answer.status, 429);
    assert_eq!(answer.header("retry-after"), Some("7"));
    assert_eq!(
        answer.json(),
        serde_json::json!({"message": "request exceeded limit"})
    );
    assert_eq!(c.sim.runs_created(), 0);
}

#[test]
fn delay_fault_waits_then_works() {
    let c = Client::new(SimConfig::new(1));
    let token = c.token();
    c.sim.set_faults(
        FaultPlan::Script(vec![Some(Fault::Delay(Duration::from_millis(300)))]),
        FaultScope::Reporting,
    );
    let start = Instant::now();
    let answer = post_run(&c, &token, None).unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(answer.status, 200);
    assert_eq!(c.sim.runs_created(), 1);
}

#[test]
fn connection_reset_does_nothing_and_answers_nothing() {
    let c = Client::new(SimConfig::new(1));
    let token = c.token();
    c.sim.set_faults(
        FaultPlan::Script(vec![Some(Fault::ConnectionReset)]),
        FaultScope::Reporting,
    );
    assert!(
        post_run(&c, &token, Some("reset-key")).is_err(),
        "no response may arrive"
    );
    assert_eq!(c.sim.runs_created(), 0);
    assert_eq!(c.sim.runs_created_for_key("reset-key"), 0);
}

#[test]
fn commit_then_drop_creates_the_run_but_answers_nothing() {
    let c = Client::new(SimConfig::new(1));
    let token = c.token();
    c.sim.set_faults(
        FaultPlan::Script(vec![Some(Fault::CommitThenDrop)]),
        FaultScope::RunReport,
    );
    assert!(
        post_run(&c, &token, Some("drop-key")).is_err(),
        "no response may arrive"
    );
    assert_eq!(c.sim.runs_created_for_key("drop-key"), 1, "the run exists");
    // The retry with the same key gets the saved answer, and no second run.
    let retry = post_run(&c, &token, Some("drop-key")).unwrap();
    assert_eq!(retry.status, 200);
    assert_eq!(c.sim.runs_created_for_key("drop-key"), 1);
    assert_eq!(c.sim.runs_created(), 1);
    // Without a key, a naive retry creates a duplicate: the case the clients must avoid.
    c.sim.set_faults(
        FaultPlan::Script(vec![Some(Fault::CommitThenDrop)]),
        FaultScope::RunReport,
    );
    assert!(post_run(&c, &token, None).is_err());
    assert_eq!(post_run(&c, &token, None).unwrap().status, 200);
    assert_eq!(c.sim.runs_created(), 3);
}

#[test]
fn a_request_in_flight_makes_its_key_conflict() {
    let c = Client::new(SimConfig::new(1));
    let token = c.token();
    c.sim.set_faults(
        FaultPlan::Script(vec![Some(Fault::Delay(Duration::from_millis(800)))]),
        FaultScope::RunReport,
    );
    std::thread::scope(|scope| {
        let slow = scope.spawn(|| post_run(&c, &token, Some("busy-key")).unwrap().status);
        std::thread::sleep(Duration::from_millis(200));
        let second = post_run(&c, &token, Some("busy-key")).unwrap();
        assert_eq!(second.status, 409);
        assert_eq!(slow.join().unwrap(), 200);
    });
    assert_eq!(
        post_run(&c, &token, Some("busy-key")).unwrap().status,
        200,
        "replayed"
    );
    assert_eq!(c.sim.runs_created_for_key("busy-key"), 1);
}

#[test]
fn cut_off_breaks_a_download_mid_way() {
    let mut config = SimConfig::new(1);
    config.catalogue.set_rows(LARGE_REPORT_NAME, 20_000);
    let c = Client::new(config);
    let token = c.token();
    let run = c.start_run(&token, LARGE_REPORT_NAME);
    let target = format!("{PREFIX}/reportruns/export/{run}?pivoted=false");
    let whole = c.get(&token, &target);
    assert!(whole.body.len() > 1_000_000);
    c.sim.set_faults(
        FaultPlan::Script(vec![Some(Fault::CutOff)]),
        FaultScope::Reporting,
    );
    let cut = c.send(
        "GET",
        &target,
        &[("Authorization", &format!("Bearer {token}"))],
        b"",
    );
    assert!(cut.is_err(), "a cut-off body must not read as complete");
    // A small JSON answer cut off: fewer bytes than its Content-Length.
    c.sim.set_faults(
        FaultPlan::Script(vec![Some(Fault::CutOff)]),
        FaultScope::Reporting,
    );
    assert!(
        c.send(
            "GET",
            &format!("{PREFIX}/reportruns/{run}"),
            &[("Authorization", &format!("Bearer {token}"))],
            b""
        )
        .is_err()
    );
}

#[test]
fn random_faults_are_deterministic_for_a_seed() {
    // Resets are outcomes too, so the client here tolerates them.
    let tolerant = |seed: u64| -> Vec<String> {
        let c = Client::new(SimConfig::new(1));
        let token = c.token();
        let kinds = vec![
            Fault::Status(503),
            Fault::RateLimited {
                retry_after_secs: 1,
            },
            Fault::ConnectionReset,
        ];
        c.sim.set_faults(
            FaultPlan::Random {
                seed,
                probability: 0.5,
                kinds,
            },
            FaultScope::Reporting,
        );
        (0..40)
            .map(|_| {
                match c.send(
                    "GET",
                    &format!("{PREFIX}/reports/search?query=invoice"),
                    &[("Authorization", &format!("Bearer {token}"))],
                    b"",
                ) {
                    Ok(answer) => answer.status.to_string(),
                    Err(_) => "reset".to_owned(),
                }
            })
            .collect()
    };
    let first = tolerant(99);
    assert_eq!(first, tolerant(99));
    assert_ne!(first, tolerant(100));
    for kind in ["200", "503", "429", "reset"] {
        assert!(
            first.iter().any(|o| o == kind),
            "{kind} never happened in {first:?}"
        );
    }
}

#[test]
fn token_route_is_out_of_reporting_scope() {
    let c = Client::new(SimConfig::new(1));
    c.sim.set_faults(
        FaultPlan::Script(vec![Some(Fault::Status(503))]),
        FaultScope::Reporting,
    );
    let _token = c.token();
    c.sim.set_faults(
        FaultPlan::Script(vec![Some(Fault::Status(503))]),
        FaultScope::Everything,
    );
    let form = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials",
        c.sim.client_id(),
        c.sim.client_secret()
    );
    assert_eq!(
        c.send("POST", "/oauth/token", &[], form.as_bytes())
            .unwrap()
            .status,
        503
    );
}
