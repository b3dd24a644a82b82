//! The `zuora-sim` binary, as a newcomer runs it: `zuora-sim --port 0`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

#[test]
fn prints_a_base_url_and_credentials_that_work() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zuora-sim"))
        .args(["--port", "0", "--run-seconds", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut value = |prefix: &str| loop {
        let line = lines
            .next()
            .expect("the simulator stopped printing")
            .unwrap();
        if let Some(rest) = line.strip_prefix(prefix) {
            break rest.trim().to_owned();
        }
    };
    let base_url = value("base URL:");
    let client_id = value("client id:");
    let client_secret = value("client secret:");
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    assert_eq!(client_id.len(), 36);

    let form = format!(
        "client_id={client_id}&client_secret={client_secret}&grant_type=client_credentials"
    );
    let mut response = ureq::post(format!("{base_url}/oauth/token"))
        .content_type("application/x-www-form-urlencoded")
        .send(form.as_bytes())
        .unwrap();
    let mut body = String::new();
    response
        .body_mut()
        .as_reader()
        .read_to_string(&mut body)
        .unwrap();
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(token["expires_in"], 3599);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn refuses_bad_flags_with_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_zuora-sim"))
        .args(["--fault-rate", "2"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--fault-rate"));
}

/// Issue "Hostile and broken servers", item 14: a reader that closes the simulator's
/// stdout (as `cargo xtask bench export` did after reading the URL) must not kill it.
#[test]
fn keeps_serving_when_its_stdout_is_closed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_zuora-sim"))
        .args(["--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the read end closes before the banner is written
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let connected = loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break true;
        }
        if std::time::Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let status = child.wait().unwrap();
    assert!(connected && still_running, "the simulator died: {status}");
}

#[test]
fn refuses_public_credentials_off_loopback_and_absurd_token_lifetimes() {
    for args in [
        vec!["--host", "0.0.0.0", "--port", "0"],
        vec!["--port", "0", "--token-ttl", "18446744073709551615"],
        vec!["--port", "0", "--token-ttl", "0"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_zuora-sim"))
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("zuora-sim: "), "{args:?}: {stderr}");
    }
}
