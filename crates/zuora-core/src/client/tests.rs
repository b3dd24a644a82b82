//! The client's methods over a scripted driver: each test answers the requests a method
//! asks for, in order, and checks what went out and how the call ended. The transports'
//! suites prove their loops against the simulator; this proves the composition once.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;

use super::*;
use crate::ErrorKind;
use crate::driver::{HttpResponse, TransportErrorKind, TransportFailure};
use crate::machines::scripted::{json_answer, now};
use crate::machines::{Action, Machine, Paused, Row, Sent};

const REPORT: &str = "2c92c0f95e4a6e4b015e4f3a1b2c3d4e";
const RUN: &str = "ff808081529f4e3401529fd61f080074";
const TOKEN: &str = r#"{"access_token":"tok","expires_in":3599,"token_type":"bearer"}"#;

type Answer = Result<HttpResponse, TransportFailure>;

/// A driver whose transport is a script of answers; it records what it sent and the
/// sleeps it was asked for (without sleeping them).
struct Scripted {
    answers: Mutex<VecDeque<Answer>>,
    sent: Mutex<Vec<String>>,
    slept: Mutex<Vec<Duration>>,
}

/// The test clock, and a fixed seed.
struct TestPlatform;

impl Platform for TestPlatform {
    fn now() -> crate::driver::Now {
        now()
    }
    fn seed() -> u64 {
        7
    }
}

impl Scripted {
    fn drive<M: Machine>(
        &self,
        machine: &mut M,
        session: &Session,
        step: TaskStep<M::Output>,
    ) -> Result<Paused<M::Output, Infallible>, Error> {
        let mut action = machine.act(step);
        loop {
            action = match action {
                Action::Send { request, .. } => {
                    let line = format!("{} {}", request.method(), request.uri().path());
                    self.sent.lock().unwrap().push(line);
                    let answer = self.answers.lock().unwrap().pop_front().unwrap_or_else(|| {
                        Err(TransportFailure::new(
                            TransportErrorKind::Other,
                            false,
                            "unscripted",
                        ))
                    });
                    machine.on_sent(session, answer.map(Sent::Answer), now())
                }
                Action::Sleep(delay) => {
                    self.slept.lock().unwrap().push(delay);
                    machine.resume(session, now())
                }
                Action::AwaitToken { .. } => machine.resume(session, now()),
                Action::Stop(outcome) => return outcome,
            };
        }
    }
}

impl Driver for Scripted {
    type Call<'a, T: 'a> = Result<T, Error>;
    type Transport = Vec<Answer>;
    type Platform = TestPlatform;
    type Rows = Vec<Result<Row, Error>>;

    fn call<'a, M, T>(&'a self, job: Job<'a, M, T>) -> Result<T, Error>
    where
        M: Machine + Send + 'a,
        M::Output: Send + 'a,
        T: Send + 'a,
    {
        let (mut running, step) = job.start()?;
        let session = running.session();
        let paused = self.drive(&mut running, session, step)?;
        running.end(paused)
    }

    fn new(answers: Vec<Answer>) -> Self {
        Self {
            answers: Mutex::new(answers.into()),
            sent: Mutex::default(),
            slept: Mutex::default(),
        }
    }

    fn token_waker(&self) -> impl Fn(u64) + Send + Sync + 'static {
        |_| {}
    }

    fn rows(client: Client<Self>, mut source: RowSource) -> Self::Rows {
        let (driver, session) = (client.driver(), client.session());
        std::iter::from_fn(|| {
            source.next_with(session, now, |task, step| driver.drive(task, session, step))
        })
        .collect()
    }
}

fn client(answers: Vec<Answer>) -> Client<Scripted> {
    let config = ClientConfig::builder()
        .base_url("http://127.0.0.1:1")
        .credentials("id", "secret")
        .into_config()
        .expect("a valid configuration");
    Client::with_transport(config, answers)
}

fn answer(status: u16, body: &str) -> Answer {
    Ok(json_answer(status, body))
}

fn ok(response: &str) -> Answer {
    answer(200, &format!(r#"{{"success":true,"response":{response}}}"#))
}

fn run(status: &str) -> Answer {
    ok(&format!(
        r#"{{"id":"{RUN}","reportId":"{REPORT}","status":"{status}"}}"#
    ))
}

fn sent(client: &Client<Scripted>) -> Vec<String> {
    client.driver().sent.lock().unwrap().clone()
}

#[test]
fn an_observer_that_stops_a_wait_cancels_the_run_and_the_call_says_so() {
    let client = client(vec![
        answer(200, TOKEN),
        run("QUERYDATA"),
        run("PROCESSINGDATA"),
        ok(r#""Report run cancelled""#),
    ]);
    let run_id: ReportRunId = RUN.parse().unwrap();
    let mut seen = Vec::new();
    let outcome = client.wait_for_run_with(&run_id, WaitOptions::default(), |run| {
        seen.push(run.status.to_string());
        match seen.len() {
            1 => WaitControl::Continue,
            _ => WaitControl::Stop { cancel: true },
        }
    });
    match outcome {
        Err(Error::Interrupted { cancelled, .. }) => assert!(cancelled),
        other => panic!("expected an interrupted wait, got {other:?}"),
    }
    assert_eq!(seen, ["QUERYDATA", "PROCESSINGDATA"]);
    let sent = sent(&client);
    assert_eq!(
        sent.last().unwrap(),
        &format!("DELETE /reporting/api/rest/v1/reportruns/{RUN}")
    );
    assert_eq!(
        client.driver().slept.lock().unwrap().len(),
        1,
        "one pause between looks"
    );
}

#[test]
fn rows_come_page_by_page_and_an_error_ends_them_once() {
    let page = |rows: &str| ok(&format!(r#"{{"page":[{rows}]}}"#));
    let client = client(vec![
        answer(200, TOKEN),
        page(r#"{"a":"1"},{"a":"2"}"#),
        page(r#"{"a":"3"}"#),
        page(""),
    ]);
    let rows = client.rows(&RUN.parse().unwrap(), 2);
    let values: Vec<_> = rows
        .into_iter()
        .map(|row| row.expect("a row")["a"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(values, ["1", "2", "3"]);

    let client = self::client(vec![
        answer(200, TOKEN),
        page(r#"{"a":"1"}"#),
        answer(404, "{}"),
    ]);
    let rows = client.rows(&RUN.parse().unwrap(), 1);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0].is_ok());
    assert!(rows[1].is_err(), "the error comes once, then the rows end");
}

#[test]
fn bad_input_fails_before_anything_is_sent() {
    let client = client(Vec::new());
    let error = client.find_report("").expect_err("an empty name");
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    let error = client.search_reports("").expect_err("an empty query");
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(sent(&client).is_empty());
}

#[test]
fn a_search_finds_the_one_report_named_exactly() {
    let reports = format!(
        r#"{{"reports":[{{"id":"{REPORT}","name":"Invoice Detail"}},{{"id":"{RUN}","name":"Invoice Detail (copy)"}}]}}"#
    );
    let client = client(vec![answer(200, TOKEN), ok(&reports)]);
    let report = client.find_report("Invoice Detail").expect("one match");
    assert_eq!(report.id.as_str(), REPORT);
    let sent = sent(&client);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[1].ends_with("/reports/search"), "{sent:?}");
}

#[test]
fn a_call_is_retried_after_a_server_error_with_one_token() {
    let client = client(vec![
        answer(200, TOKEN),
        answer(503, "{}"),
        run("COMPLETED"),
    ]);
    let run = client
        .get_run(&RUN.parse().unwrap())
        .expect("the second attempt");
    assert_eq!(run.status.to_string(), "COMPLETED");
    let sent = sent(&client);
    assert_eq!(
        sent.iter()
            .filter(|line| line.ends_with("/oauth/token"))
            .count(),
        1
    );
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(
        client.driver().slept.lock().unwrap().len(),
        1,
        "one back-off"
    );
}
