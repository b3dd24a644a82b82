//! A hostile Zuora on loopback, for both transports: bombs, huge bodies and headers, silent
//! servers, 401 storms, redirects and malformed exports. Each case ends in a typed error,
//! within its deadline plus a second, and no output shows the client secret or the token.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::io::Write as _;
use std::time::{Duration, Instant};

use zuora_core::{Error, ExportFormat, responses::ResponseErrorKind};
use zuora_tests::hostile::{
    HostileServer, TOKEN, answer_401_with_the_token, gzip_bomb, respond, respond_with, start_export,
};
use zuora_tests::{Flavor, builder_for_hostile, client_with};

const FLAVORS: [Flavor; 2] = [Flavor::Async, Flavor::Blocking];
const RUN: &str = "ff808081529f4e3401529fd61f080074";
const SECRET: &str = "any-secret";

/// Neither credential shows in the error, however it is printed.
fn assert_no_secret(error: &Error, case: &str) {
    let shown = format!("{error} {error:?} {error:#?}");
    assert!(!shown.contains(TOKEN), "{case}: the token leaked: {shown}");
    assert!(
        !shown.contains(SECRET),
        "{case}: the secret leaked: {shown}"
    );
}

fn get_run_error(server: &HostileServer, flavor: Flavor, overall: Duration) -> (Error, Duration) {
    get_run_error_within(server, flavor, overall, overall)
}

/// A Get-run call's error and how long it took, with `overall` and `attempt` timeouts.
fn get_run_error_within(
    server: &HostileServer,
    flavor: Flavor,
    overall: Duration,
    attempt: Duration,
) -> (Error, Duration) {
    let client = client_with(
        flavor,
        builder_for_hostile(server)
            .overall_timeout(overall)
            .attempt_timeout(attempt),
    );
    let started = Instant::now();
    let error = client
        .execute(zuora_core::operations::GetReportRun::new(
            RUN.parse().unwrap(),
            Default::default(),
        ))
        .unwrap_err();
    (error, started.elapsed())
}

#[test]
fn a_gzip_bomb_and_a_huge_body_are_typed_errors() {
    let bomb = gzip_bomb(1 << 30);
    assert!(bomb.len() < 8 << 20, "a compact bomb: {} bytes", bomb.len());
    let big = vec![b'x'; 20 << 20];
    for flavor in FLAVORS {
        let bombing = bomb.clone();
        let server = HostileServer::start(move |_, stream| {
            respond_with(
                stream,
                200,
                &[
                    ("Content-Type", "application/json"),
                    ("Content-Encoding", "gzip"),
                ],
                &bombing,
            );
        });
        let (error, elapsed) = get_run_error(&server, flavor, Duration::from_secs(20));
        assert!(
            matches!(
                error.api().map(|e| &e.kind),
                Some(ResponseErrorKind::BodyTooLarge { .. })
            ),
            "{flavor:?}: {error:?}"
        );
        assert!(elapsed < Duration::from_secs(10), "{flavor:?}: {elapsed:?}");
        assert_no_secret(&error, "bomb");

        let huge = big.clone();
        let server =
            HostileServer::start(move |_, stream| respond(stream, 200, "application/json", &huge));
        let (error, _) = get_run_error(&server, flavor, Duration::from_secs(20));
        assert!(
            matches!(
                error.api().map(|e| &e.kind),
                Some(ResponseErrorKind::BodyTooLarge { .. })
            ),
            "{flavor:?}: {error:?}"
        );
    }
}

#[test]
fn a_huge_header_is_a_typed_error() {
    for flavor in FLAVORS {
        let server = HostileServer::start(|_, stream| {
            let value = "a".repeat(200_000);
            respond_with(stream, 200, &[("X-Padding", &value)], b"{}");
        });
        let (error, elapsed) = get_run_error(&server, flavor, Duration::from_secs(5));
        assert!(elapsed < Duration::from_secs(6), "{flavor:?}: {elapsed:?}");
        assert_no_secret(&error, "huge header");
    }
}

#[test]
fn a_silent_server_ends_within_the_deadline() {
    for flavor in FLAVORS {
        let server = HostileServer::start(|_, _| std::thread::sleep(Duration::from_secs(10)));
        let (error, elapsed) = get_run_error(&server, flavor, Duration::from_secs(2));
        assert!(elapsed < Duration::from_secs(3), "{flavor:?}: {elapsed:?}");
        assert!(
            matches!(&error, Error::Transport(_) | Error::RetriesExhausted { .. }),
            "{flavor:?}: {error:?}"
        );
        assert_no_secret(&error, "silent");
    }
}

/// Each attempt is given up at the attempt timeout, not only the call at its deadline: a
/// silent server is asked again after each cut, and the call still ends by its deadline.
/// (The blocking client's own agent carries the attempt timeout itself, with no per-request
/// configuration; this shows that it still applies.)
#[test]
fn a_silent_server_is_given_up_at_each_attempt_timeout() {
    for flavor in FLAVORS {
        let server = HostileServer::start(|_, _| std::thread::sleep(Duration::from_secs(10)));
        let (error, elapsed) = get_run_error_within(
            &server,
            flavor,
            Duration::from_secs(4),
            Duration::from_secs(1),
        );
        assert!(elapsed < Duration::from_secs(5), "{flavor:?}: {elapsed:?}");
        assert!(
            server.requests() >= 2,
            "{flavor:?}: the first attempt was not cut at 1 s ({} requests in {elapsed:?})",
            server.requests()
        );
        assert!(
            matches!(&error, Error::Transport(_) | Error::RetriesExhausted { .. }),
            "{flavor:?}: {error:?}"
        );
    }
}

#[test]
fn a_401_storm_refreshes_once_and_stops() {
    for flavor in FLAVORS {
        let server = HostileServer::start(|_, stream| answer_401_with_the_token(stream));
        let (error, _) = get_run_error(&server, flavor, Duration::from_secs(10));
        assert_eq!(
            error.api().map(|e| e.status().as_u16()),
            Some(401),
            "{flavor:?}"
        );
        assert_eq!(server.requests(), 2, "{flavor:?}: one refresh, one replay");
        assert_eq!(server.token_requests(), 2, "{flavor:?}");
        assert_no_secret(&error, "401 storm");
    }
}

#[test]
fn a_redirect_is_never_followed() {
    for flavor in FLAVORS {
        let elsewhere =
            HostileServer::start(|_, stream| respond(stream, 200, "application/json", b"{}"));
        let location = format!(
            "{}/reporting/api/rest/v1/reportruns/{RUN}",
            elsewhere.base_url()
        );
        let server = HostileServer::start(move |_, stream| {
            respond_with(stream, 302, &[("Location", &location)], b"");
        });
        let (error, _) = get_run_error(&server, flavor, Duration::from_secs(5));
        assert_eq!(
            error.api().map(|e| e.status().as_u16()),
            Some(302),
            "{flavor:?}: {error:?}"
        );
        assert_eq!(
            elsewhere.requests(),
            0,
            "{flavor:?}: the redirect was followed"
        );
        assert_no_secret(&error, "redirect");
    }
}

#[test]
fn malformed_exports_are_typed_errors() {
    let cases: [(&str, Vec<u8>); 3] = [
        ("odd byte count", vec![0xFF, 0xFE, b'a', 0, b'b']),
        (
            "lone surrogate",
            vec![0xFF, 0xFE, b'a', 0, 0x00, 0xDC, b'\n', 0],
        ),
        (
            "cut inside quotes",
            [0xFF, 0xFE]
                .into_iter()
                .chain("a\t\"b\n".encode_utf16().flat_map(u16::to_le_bytes))
                .collect(),
        ),
    ];
    for flavor in FLAVORS {
        for (case, body) in &cases {
            let body = body.clone();
            let server = HostileServer::start(move |_, stream| {
                start_export(stream);
                let _ = stream.write_all(&body);
            });
            let client = client_with(flavor, builder_for_hostile(&server));
            let error = client
                .download_export(&RUN.parse().unwrap(), ExportFormat::Csv)
                .unwrap_err();
            assert!(
                matches!(error, Error::Export(_)),
                "{flavor:?}, {case}: {error:?}"
            );
            assert_no_secret(&error, case);
        }
    }
}

/// Issue 23, item 8: a gzip export whose every chunk expands a thousandfold comes out a batch
/// (1 MiB) at a time, whole and right; with a cap on the export's size it ends, typed, with no
/// more than the cap written.
#[test]
fn a_gzip_export_expanding_a_thousandfold_comes_out_a_batch_at_a_time() {
    let rows = 4 << 20; // 4 Mi rows of "x\ty\n": 32 MiB of UTF-16, 20 MiB of CSV
    let text = format!("a\tb\n{}", "x\ty\n".repeat(rows));
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&zuora_tests::hostile::utf16_export(&text))
        .unwrap();
    let body = std::sync::Arc::new(gzip.finish().unwrap());
    assert!(body.len() < 128 << 10, "{} bytes compressed", body.len());
    let csv_len = (rows as u64 + 1) * 5;
    for flavor in FLAVORS {
        let sending = std::sync::Arc::clone(&body);
        let server = HostileServer::start(move |_, stream| {
            respond_with(
                stream,
                200,
                &[
                    ("Content-Type", "text/csv;charset=utf-16"),
                    ("Content-Encoding", "gzip"),
                ],
                &sending,
            );
        });
        let client = client_with(flavor, builder_for_hostile(&server));
        let (summary, meter) = client
            .download_export_metered(&RUN.parse().unwrap(), ExportFormat::Csv)
            .unwrap();
        assert_eq!((meter.total, summary.bytes_written), (csv_len, csv_len));
        assert_eq!(summary.rows, Some(rows as u64));
        assert!(
            meter.largest <= zuora_core::machines::OUTPUT_BATCH + (64 << 10),
            "{flavor:?}: one write of {} bytes",
            meter.largest
        );

        let capped = client_with(
            flavor,
            builder_for_hostile(&server).max_export_bytes(Some(3 << 20)),
        );
        let error = capped
            .download_export_metered(&RUN.parse().unwrap(), ExportFormat::Csv)
            .unwrap_err();
        assert!(
            matches!(error, Error::ExportTooLarge { limit, .. } if limit == 3 << 20),
            "{flavor:?}: {error:?}"
        );
    }
}

/// Issue "Hostile and broken servers", item 13: a failed DNS lookup says nothing was sent and
/// names the host. A 70-letter label is refused by the local resolver itself (no query
/// leaves the machine).
#[test]
fn a_failed_lookup_says_nothing_was_sent_and_names_the_host() {
    let host = format!("{}.invalid", "a".repeat(70));
    for flavor in FLAVORS {
        let builder = zuora_core::ClientConfig::builder()
            .base_url(&format!("https://{host}"))
            .credentials(zuora_tests::hostile::CLIENT_ID, SECRET)
            .retry(
                zuora_core::RetryPolicy::default()
                    .with_max_attempts(2)
                    .unwrap()
                    .with_base_delay(Duration::from_millis(10))
                    .unwrap(),
            );
        let client = client_with(flavor, builder);
        let error = client
            .execute(zuora_core::operations::GetReportRun::new(
                RUN.parse().unwrap(),
                Default::default(),
            ))
            .unwrap_err();
        let failure = match &error {
            Error::Transport(failure) => failure,
            Error::RetriesExhausted { last, .. } => match last.as_ref() {
                Error::Transport(failure) => failure,
                other => panic!("{flavor:?}: {other:?}"),
            },
            other => panic!("{flavor:?}: {other:?}"),
        };
        assert!(!failure.may_have_been_sent, "{flavor:?}: {failure:?}");
        assert!(failure.to_string().contains(&host), "{flavor:?}: {failure}");
        assert_no_secret(&error, "dns");
    }
}
