//! Neither the access token nor the client secret reaches a `log` logger, even one that
//! asks for everything at TRACE: ureq-proto hex-dumps the bytes it sends and receives at
//! that level, and zuora-blocking's default `quiet-wire-trace` feature compiles it out.
//! (One global logger per process: this file holds the only test that installs one.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::sync::Mutex;

use zuora_core::{RunReportOptions, ViewType};
use zuora_tests::hostile::{HostileServer, TOKEN, respond};
use zuora_tests::{Flavor, builder_for_hostile, client_with};

/// The secret `builder_for_hostile` configures.
const SECRET: &str = "any-secret";

/// Every record any crate logs, as "target: message".
static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Everything;

impl log::Log for Everything {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{}: {}", record.target(), record.args());
        RECORDS.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

/// The bytes behind ureq-proto's hex-dump rows ("4854 5450 ..." then the printable text),
/// joined, so a secret split over two rows is found too.
fn dumped_bytes(records: &[String]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for line in records {
        let Some(row) = line.strip_prefix("ureq_proto::util: ") else {
            continue;
        };
        for group in row.split(' ').take(8) {
            for pair in group.as_bytes().chunks(2) {
                if let Ok(byte) = u8::from_str_radix(std::str::from_utf8(pair).unwrap_or("--"), 16)
                {
                    bytes.push(byte);
                }
            }
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_secret_or_token_reaches_a_trace_logger() {
    // zuora-blocking's cap (its build also asserts it, whatever the profile).
    assert!(log::STATIC_MAX_LEVEL <= log::LevelFilter::Debug);
    log::set_logger(&Everything).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    // The hostile server answers the token request with hostile::TOKEN and every call with
    // a 404: enough for the secret, the token answer and the Bearer header to cross the wire.
    let server = HostileServer::start(|_, stream| {
        respond(stream, 404, "application/json", br#"{"message":"no"}"#)
    });
    let client = client_with(Flavor::Blocking, builder_for_hostile(&server));
    let report = "ff808081529f4e3401529fd373730070".parse().unwrap();
    let error = client
        .run_report(&report, ViewType::Detail, RunReportOptions::default())
        .unwrap_err();
    assert!(
        matches!(error, zuora_core::Error::Api(ref e) if e.status() == 404),
        "{error}"
    );
    assert_eq!(server.token_requests(), 1);
    let records = RECORDS.lock().unwrap().clone();
    assert!(
        records.iter().any(|line| line.starts_with("ureq")),
        "the logger sees ureq's DEBUG lines, so it would see TRACE ones too: {records:?}"
    );
    let text = records.join("\n");
    let dumped = dumped_bytes(&records);
    for secret in [TOKEN, SECRET] {
        assert!(!text.contains(secret), "a secret in the log lines");
        assert!(
            !contains(&dumped, secret.as_bytes()),
            "a secret in ureq-proto's hex dump"
        );
    }
}
