//! Ctrl-C and timeouts in every phase, against a misbehaving loopback server: the command
//! ends on time with the documented exit code and leaves no file behind.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use zuora_tests::hostile::{CLIENT_ID, HostileServer, drip, respond, start_export, utf16_export};

const RUN: &str = "ff808081529f4e3401529fd61f080074";

fn against(server: &HostileServer) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zuora-report"));
    command
        .env_clear()
        .env("ZUORA_BASE_URL", server.base_url())
        .env("ZUORA_CLIENT_ID", CLIENT_ID)
        .env("ZUORA_CLIENT_SECRET", "any-secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the child, at most `limit`; returns its exit code and how long it took.
fn finish_within(mut child: Child, limit: Duration) -> (Option<i32>, Duration, String) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            return (status.code(), started.elapsed(), stderr);
        }
        if started.elapsed() > limit + Duration::from_secs(5) {
            let _ = child.kill();
            panic!("the command was still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn wait_against_a_silent_status_endpoint_exits_5_on_time() {
    let server = HostileServer::start(|_, _stream| std::thread::sleep(Duration::from_secs(20)));
    let started = Instant::now();
    let child = against(&server)
        .args(["--timeout", "5", "wait", RUN])
        .spawn()
        .unwrap();
    let (code, _, stderr) = finish_within(child, Duration::from_secs(6));
    let elapsed = started.elapsed();
    assert_eq!(code, Some(5), "{stderr}");
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
}

/// A download of an export that keeps trickling for far longer than the test, stopped with
/// `signal` once its temporary file is being written: exit 130 at once, no file left.
fn a_download_stopped_by(signal: &str) {
    let server = HostileServer::start(|request, stream| {
        if !request.target.contains("/export/") {
            return respond(stream, 404, "application/json", b"{}");
        }
        drip(stream, 8, Duration::from_millis(50), 8 * 600);
    });
    let dir = std::env::temp_dir().join(format!(
        "zuora-interrupt-download-{}-{signal}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let child = against(&server)
        .args(["download", RUN, "--out"])
        .arg(dir.join("report.csv"))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while files_in(&dir).is_empty() {
        assert!(Instant::now() < deadline, "the download never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (code, elapsed, stderr) = finish_within(child, Duration::from_secs(1));
    assert_eq!(code, Some(130), "{signal}: {stderr}");
    assert!(
        elapsed < Duration::from_secs(1),
        "{signal}: took {elapsed:?}"
    );
    assert_eq!(
        files_in(&dir),
        Vec::<String>::new(),
        "{signal}: files left behind"
    );
}

#[test]
fn ctrl_c_during_a_download_exits_130_at_once_and_leaves_no_file() {
    a_download_stopped_by("-INT");
}

#[test]
fn ctrl_c_during_retry_back_off_exits_130_at_once() {
    let server = HostileServer::start(|_, stream| {
        let body = br#"{"message":"request exceeded limit"}"#;
        let head = format!(
            "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body);
    });
    let child = against(&server).args(["status", RUN]).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.requests() == 0 {
        assert!(Instant::now() < deadline, "no request arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    interrupt(&child);
    let (code, elapsed, stderr) = finish_within(child, Duration::from_secs(1));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    assert_eq!(server.requests(), 1, "no retry after the interrupt");
}

/// Peak resident memory of a running process, in KiB (Linux `/proc`).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn an_export_whose_one_field_never_ends_fails_in_bounded_memory() {
    let server = HostileServer::start(|request, stream| {
        if !request.target.contains("/export/") {
            return respond(stream, 404, "application/json", b"{}");
        }
        start_export(stream);
        let _ = stream.write_all(&utf16_export("a\t"));
        let endless = utf16_export(&"x".repeat(32 * 1024));
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if stream.write_all(&endless[2..]).is_err() {
                return;
            }
        }
    });
    let dir = std::env::temp_dir().join(format!("zuora-endless-field-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = against(&server)
        .args(["download", RUN, "--out"])
        .arg(dir.join("report.csv"))
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak = 0;
    let started = Instant::now();
    let status = loop {
        if let Some(kib) = peak_rss_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "still running");
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("longer than"), "{stderr}");
    assert!(peak > 0 && peak < 64 * 1024, "peak RSS {peak} KiB");
    eprintln!(
        "endless field: exit 3 in {:?}, peak RSS {} KiB",
        started.elapsed(),
        peak
    );
    assert_eq!(files_in(&dir), Vec::<String>::new(), "files left behind");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_server_message_with_escape_sequences_shows_none_on_the_terminal() {
    // Zuora's envelope, its message holding a colour, a cursor move and a forged line.
    let server = HostileServer::start(|_, stream| {
        let inner = serde_json::json!({
            "errorId": "0001",
            "message": "run \u{1b}[31mgone\u{1b}[0m\u{1b}[2J\nzuora-report: all good",
            "errorCode": "ZAN-USAGE-REST-ERROR",
        });
        let body = serde_json::json!({ "success": false, "response": inner.to_string() });
        respond(stream, 400, "application/json", body.to_string().as_bytes());
    });
    let output = against(&server).args(["status", RUN]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(
        stderr.contains("\\u{1b}[31mgone"),
        "shown escaped: {stderr:?}"
    );
    assert_eq!(stderr.lines().count(), 1, "no forged line: {stderr:?}");
    // JSON output escapes it the JSON way, and keeps the text whole.
    let output = against(&server)
        .args(["--json", "status", RUN])
        .output()
        .unwrap();
    let error: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\u{1b}[31mgone")
    );
}

#[test]
fn sigterm_during_a_download_exits_130_and_leaves_no_file() {
    a_download_stopped_by("-TERM");
}

#[test]
fn with_the_default_low_speed_rule_a_byte_a_second_ends_typed_and_1_kib_s_runs_on() {
    let slow = HostileServer::start(|request, stream| {
        if request.target.contains("/export/") {
            drip(stream, 1, Duration::from_secs(1), 200);
        }
    });
    let steady = HostileServer::start(|request, stream| {
        if request.target.contains("/export/") {
            // 1,024 bytes a second for 70 s: past the rule's first minute.
            drip(stream, 256, Duration::from_millis(250), 1024 * 70);
        }
    });
    let dir = std::env::temp_dir().join(format!("zuora-low-speed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let started = Instant::now();
    let slow_child = against(&slow)
        .args(["download", RUN, "--out"])
        .arg(dir.join("slow.csv"))
        .spawn()
        .unwrap();
    let steady_child = against(&steady)
        .args(["download", RUN, "--out"])
        .arg(dir.join("steady.csv"))
        .spawn()
        .unwrap();
    let (code, _, stderr) = finish_within(slow_child, Duration::from_secs(120));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("under the floor"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(120));
    let (code, _, stderr) = finish_within(steady_child, Duration::from_secs(120));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        files_in(&dir),
        vec!["steady.csv".to_owned()],
        "no file left by the slow one"
    );
}

#[test]
fn csv_safe_writes_formula_cells_as_text_and_leaves_numbers() {
    let server = HostileServer::start(|request, stream| {
        if request.target.contains("/export/") {
            start_export(stream);
            let _ = stream.write_all(&utf16_export(
                "Name\tAmount\tNote\n=HYPERLINK(\"http://x\")\t-120.20\t@SUM(A1)\nAcme\t+1,430.5\t-\n",
            ));
        }
    });
    let dir = std::env::temp_dir().join(format!("zuora-csv-safe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let download = |args: &[&str], name: &str| {
        let output = against(&server)
            .args(["download", RUN, "--out"])
            .arg(dir.join(name))
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code(),
            std::fs::read_to_string(dir.join(name)).unwrap_or_default(),
        )
    };
    let (code, guarded) = download(&["--csv-safe"], "safe.csv");
    assert_eq!(code, Some(0));
    assert_eq!(
        guarded,
        "Name,Amount,Note\r\n\"'=HYPERLINK(\"\"http://x\"\")\",-120.20,\"'@SUM(A1)\"\r\nAcme,\"+1,430.5\",\"'-\"\r\n"
    );
    let (code, plain) = download(&[], "plain.csv");
    assert_eq!(code, Some(0));
    assert!(
        plain.contains("\r\n\"=HYPERLINK("),
        "unchanged without the flag: {plain}"
    );
    let (code, _) = download(&["--csv-safe", "--format", "tsv"], "x.tsv");
    assert_eq!(code, Some(2), "only with csv");
}

/// Issue 23, item 8: `--max-export-bytes` ends a download past the cap with exit 3 and
/// nothing kept; under the cap it changes nothing.
#[test]
fn max_export_bytes_ends_a_download_past_the_cap() {
    let server = HostileServer::start(|request, stream| {
        if request.target.contains("/export") {
            start_export(stream);
            let _ = stream.write_all(&utf16_export(&format!("n\tv\n{}", "1\tx\n".repeat(5000))));
        }
    });
    let dir = std::env::temp_dir().join(format!("zuora-max-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let download = |cap: &str, name: &str| {
        let output = against(&server)
            .args(["download", RUN, "--max-export-bytes", cap, "--out"])
            .arg(dir.join(name))
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            std::fs::metadata(dir.join(name)).map(|m| m.len()).ok(),
        )
    };
    let (code, stderr, kept) = download("1000", "capped.csv");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("cap of 1000 bytes"), "{stderr}");
    assert_eq!(kept, None);
    let (code, stderr, kept) = download("1000000", "whole.csv");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(kept, Some(5 + 5000 * 5), "CRLF rows of 5 bytes");
    let _ = std::fs::remove_dir_all(&dir);
}
