//! The loops against a server that misbehaves (issue "One engine in the core"): every loop
//! ends with a typed error in bounded time, on both transports, whatever the server answers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::time::{Duration, Instant};

use zuora_core::{Error, errors::PagingStop};
use zuora_tests::hostile::{HostileServer, respond};
use zuora_tests::{Flavor, builder_for_hostile, client_with};

const FLAVORS: [Flavor; 2] = [Flavor::Async, Flavor::Blocking];

/// A full page of 50 reports; `fresh` gives every page new ids, else every page is the same.
fn full_page(fresh: bool, counter: &std::sync::atomic::AtomicU64) -> String {
    let page = if fresh {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    } else {
        0
    };
    let reports: Vec<String> = (0..50)
        .map(|n| format!(r#"{{"id":"r{page}x{n}","name":"Report {page}/{n}"}}"#))
        .collect();
    format!(
        r#"{{"success":true,"response":{{"reports":[{}],"count":50}}}}"#,
        reports.join(",")
    )
}

#[test]
fn a_search_that_never_ends_stops_with_a_typed_error() {
    for flavor in FLAVORS {
        for fresh in [true, false] {
            let counter = std::sync::atomic::AtomicU64::new(0);
            let server = HostileServer::start(move |_, stream| {
                respond(
                    stream,
                    200,
                    "application/json",
                    full_page(fresh, &counter).as_bytes(),
                );
            });
            let client = client_with(flavor, builder_for_hostile(&server));
            let started = Instant::now();
            let error = client.search_reports("Invoice").unwrap_err();
            let elapsed = started.elapsed();
            match (&error, fresh) {
                (
                    Error::PagingStopped {
                        reason: PagingStop::TooManyPages { limit: 200 },
                        pages: 200,
                        ..
                    },
                    true,
                ) => {}
                (
                    Error::PagingStopped {
                        reason: PagingStop::RepeatedPage,
                        pages: 1,
                        ..
                    },
                    false,
                ) => {}
                _ => panic!("{flavor:?}, fresh pages {fresh}: {error:?}"),
            }
            assert!(elapsed < Duration::from_secs(30), "{flavor:?}: {elapsed:?}");
            assert!(
                server.requests() <= 201,
                "{flavor:?}: {} requests",
                server.requests()
            );
        }
    }
}

#[test]
fn endless_data_pages_stop_too() {
    for flavor in FLAVORS {
        let server = HostileServer::start(move |request, stream| {
            // Echo the offset asked for, with a full page of the same rows every time.
            let offset = request
                .target
                .split("offset=")
                .nth(1)
                .and_then(|rest| rest.split('&').next())
                .unwrap_or("1");
            let body = format!(
                r#"{{"success":true,"response":{{"page":[{{"a":"1"}},{{"a":"2"}}],"size":2,"offset":{offset},"total":999999999}}}}"#
            );
            respond(stream, 200, "application/json", body.as_bytes());
        });
        let client = client_with(flavor, builder_for_hostile(&server).max_pages(30));
        let error = client
            .all_rows(&"ff808081529f4e3401529fd61f080074".parse().unwrap(), 2)
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::PagingStopped {
                    reason: PagingStop::TooManyPages { limit: 30 },
                    ..
                }
            ),
            "{flavor:?}: {error:?}"
        );
        assert!(server.requests() <= 31, "{flavor:?}: {}", server.requests());
    }
}

#[test]
fn a_wait_whose_status_endpoint_never_answers_times_out_on_time() {
    for flavor in FLAVORS {
        let server = HostileServer::start(|_, _stream| {
            // Accept, read, never answer (the connection stays open meanwhile).
            std::thread::sleep(Duration::from_secs(20));
        });
        let client = client_with(flavor, builder_for_hostile(&server));
        let started = Instant::now();
        let error = client
            .wait_for_run(
                &"ff808081529f4e3401529fd61f080074".parse().unwrap(),
                zuora_core::WaitOptions::default()
                    .with_timeout(Duration::from_secs(5))
                    .unwrap(),
            )
            .unwrap_err();
        let elapsed = started.elapsed();
        assert!(
            matches!(
                error,
                Error::WaitTimedOut {
                    cancelled: false,
                    ..
                }
            ),
            "{flavor:?}: {error:?}"
        );
        assert!(elapsed < Duration::from_secs(6), "{flavor:?}: {elapsed:?}");
    }
}

const RUN: &str = "ff808081529f4e3401529fd61f080074";

/// An export of `rows` rows written `per_write` rows at a time, `pause` apart.
fn trickle(stream: &mut std::net::TcpStream, rows: usize, pause: Duration) {
    use std::io::Write as _;
    zuora_tests::hostile::start_export(stream);
    let _ = stream.write_all(&zuora_tests::hostile::utf16_export("n\tv\n"));
    let row = zuora_tests::hostile::utf16_export("1\tx\n");
    for _ in 0..rows {
        if stream.write_all(&row[2..]).is_err() {
            return;
        }
        std::thread::sleep(pause);
    }
}

#[test]
fn an_export_that_trickles_past_the_attempt_timeout_completes() {
    for flavor in FLAVORS {
        let server =
            HostileServer::start(|_, stream| trickle(stream, 25, Duration::from_millis(100)));
        let client = client_with(
            flavor,
            builder_for_hostile(&server)
                .attempt_timeout(Duration::from_secs(1))
                .idle_timeout(Duration::from_secs(2)),
        );
        let started = Instant::now();
        let (summary, csv) = client
            .download_export(&RUN.parse().unwrap(), zuora_core::ExportFormat::Csv)
            .unwrap_or_else(|e| panic!("{flavor:?}: {e}"));
        assert!(started.elapsed() > Duration::from_secs(2), "it did trickle");
        assert_eq!(
            csv,
            format!("n,v\r\n{}", "1,x\r\n".repeat(25)).as_bytes(),
            "{flavor:?}"
        );
        assert_eq!(summary.bytes_written, csv.len() as u64);
    }
}

#[test]
fn an_export_that_stalls_past_the_idle_timeout_fails_typed() {
    for flavor in FLAVORS {
        let server = HostileServer::start(|_, stream| {
            trickle(stream, 3, Duration::from_millis(10));
            std::thread::sleep(Duration::from_secs(4));
        });
        let client = client_with(
            flavor,
            builder_for_hostile(&server).idle_timeout(Duration::from_secs(1)),
        );
        let started = Instant::now();
        let error = client
            .download_export(&RUN.parse().unwrap(), zuora_core::ExportFormat::Csv)
            .unwrap_err();
        assert!(
            matches!(error, Error::ExportStalled { received, .. } if received > 0),
            "{flavor:?}: {error:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{flavor:?}: {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn an_export_trickling_under_the_low_speed_floor_ends_typed_and_one_at_1_kib_s_runs_on() {
    let rule = zuora_core::config::LowSpeed {
        bytes_per_second: 256,
        over: Duration::from_secs(2),
    };
    for flavor in FLAVORS {
        // Five bytes a second: never silent for the idle timeout, far under the floor.
        let server = HostileServer::start(|_, stream| {
            zuora_tests::hostile::drip(stream, 1, Duration::from_millis(200), 200);
        });
        let client = client_with(flavor, builder_for_hostile(&server).low_speed(Some(rule)));
        let started = Instant::now();
        let error = client
            .download_export(&RUN.parse().unwrap(), zuora_core::ExportFormat::Csv)
            .unwrap_err();
        assert!(
            matches!(error, Error::ExportTooSlow { floor: 256, .. }),
            "{flavor:?}: {error:?}"
        );
        assert_eq!(error.kind(), zuora_core::ErrorKind::ExportBroken);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{flavor:?}: {:?}",
            started.elapsed()
        );

        // 1,280 bytes a second for three windows' time: never cut.
        let server = HostileServer::start(|_, stream| {
            zuora_tests::hostile::drip(stream, 128, Duration::from_millis(100), 128 * 45);
        });
        let client = client_with(flavor, builder_for_hostile(&server).low_speed(Some(rule)));
        let (summary, _) = client
            .download_export(&RUN.parse().unwrap(), zuora_core::ExportFormat::Csv)
            .unwrap_or_else(|e| panic!("{flavor:?}: {e}"));
        assert_eq!(summary.bytes_received, 10 + 128 * 45);
    }
}

#[test]
fn the_export_source_ends_in_an_error_when_the_body_is_cut() {
    for flavor in FLAVORS {
        let server = HostileServer::start(|_, stream| {
            use std::io::Write as _;
            // Announce more than is sent, then close: a cut, not an end.
            zuora_tests::hostile::start_export_of_length(stream, 10_000);
            let _ = stream.write_all(&zuora_tests::hostile::utf16_export("n\tv\n1\tx\n"));
        });
        let client = client_with(flavor, builder_for_hostile(&server));
        let error = client
            .read_export_source(&RUN.parse().unwrap(), zuora_core::ExportFormat::Csv)
            .unwrap_err();
        assert!(
            matches!(&error, Error::ExportBrokeOff { received, .. } if *received > 0),
            "{flavor:?}: {error:?}"
        );
    }
}

#[test]
fn a_server_that_echoes_the_token_gets_it_into_no_error() {
    use zuora_tests::hostile::TOKEN;
    for flavor in FLAVORS {
        let server = HostileServer::start(|_, stream| {
            zuora_tests::hostile::answer_echoing_the_token(stream)
        });
        let client = client_with(flavor, builder_for_hostile(&server));
        let get_run = builder_for_hostile(&server)
            .into_config()
            .unwrap()
            .get_run(&RUN.parse().unwrap());
        let error = client.execute(get_run).unwrap_err();
        let (shown, debugged) = (error.to_string(), format!("{error:?}"));
        assert!(
            !shown.contains(TOKEN) && !debugged.contains(TOKEN),
            "{flavor:?}: {shown}"
        );
        assert!(
            shown.contains("the bearer token [redacted] is not allowed"),
            "{flavor:?}: {shown}"
        );
    }
}

#[test]
fn a_search_page_beyond_zuoras_bounds_is_refused_typed() {
    for (reports, name_length) in [(51usize, 10usize), (1, 5000)] {
        for flavor in FLAVORS {
            let server = HostileServer::start(move |_, stream| {
                let list: Vec<serde_json::Value> = (0..reports)
                    .map(|n| {
                        serde_json::json!({
                            "id": format!("{n:032x}"),
                            "name": "r".repeat(name_length),
                        })
                    })
                    .collect();
                let body = serde_json::json!({ "success": true, "response": { "reports": list } });
                respond(stream, 200, "application/json", body.to_string().as_bytes());
            });
            let client = client_with(flavor, builder_for_hostile(&server));
            let error = client.search_reports("invoice").unwrap_err();
            assert!(
                error.to_string().contains("at most"),
                "{flavor:?} ({reports} reports, names of {name_length}): {error}"
            );
            assert_eq!(
                server.requests(),
                1,
                "{flavor:?}: refused at the first page"
            );
        }
    }
}

#[test]
fn a_transport_failure_says_its_kind_once() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    for flavor in FLAVORS {
        let builder = zuora_core::ClientConfig::builder()
            .base_url(&base_url)
            .credentials("client-id", "client-secret")
            .retry(
                zuora_core::RetryPolicy::default()
                    .with_max_attempts(1)
                    .unwrap(),
            );
        let client = client_with(flavor, builder);
        let error = client.find_report("Invoice Detail").unwrap_err();
        let shown = error.to_string();
        assert_eq!(
            shown.matches("connect error (").count(),
            1,
            "{flavor:?}: {shown}"
        );
        assert_eq!(
            shown.matches("nothing was sent").count(),
            1,
            "{flavor:?}: {shown}"
        );
    }
}
