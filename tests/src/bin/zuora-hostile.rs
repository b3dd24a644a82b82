//! The hostile scenarios, each on its own loopback port, for drivers written outside Rust (the
//! C ABI's libcurl driver in `crates/zuora-ffi/tests/trip.c`). Prints `NAME: URL` for each,
//! then `client id: ID`, then serves until its standard input closes (its parent is gone).
//!
//! - `bomb`: every answer a gzip bomb (1 GiB of zeros in about 1 MiB);
//! - `expanding`: every answer a gzip export that expands a thousandfold (8 MiB of UTF-16);
//! - `malformed`: an export with a lone surrogate;
//! - `echo`: a 400 whose message echoes the bearer token;
//! - `unauthorized`: a 401 on every call, with the token in the body;
//! - `redirect`: a 307 to the `witness` (which must never be reached);
//! - `silent`: a server that takes the request and never answers.

use std::io::{Read as _, Write as _};
use std::sync::Arc;
use std::time::Duration;

use zuora_tests::hostile::{
    CLIENT_ID, HostileServer, answer_401_with_the_token, answer_echoing_the_token, gzip_bomb,
    respond, respond_with, start_export, utf16_export,
};

/// Rows of `x\ty` in the expanding export: 1 Mi rows, 8 MiB of UTF-16, 5 MiB of CSV.
pub const EXPANDING_ROWS: usize = 1 << 20;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

fn main() {
    let bomb = Arc::new(gzip_bomb(1 << 30));
    let text = format!("a\tb\n{}", "x\ty\n".repeat(EXPANDING_ROWS));
    let expanding = Arc::new(gzip(&utf16_export(&text)));
    let witness = HostileServer::start(|_, stream| {
        eprintln!("zuora-hostile: the redirect's target was reached");
        respond(stream, 500, "text/plain", b"never here");
    });
    let location = format!(
        "{}/reporting/api/rest/v1/runs/elsewhere",
        witness.base_url()
    );
    let servers = [
        (
            "bomb",
            HostileServer::start(move |_, stream| {
                respond_with(
                    stream,
                    200,
                    &[
                        ("Content-Type", "application/json"),
                        ("Content-Encoding", "gzip"),
                    ],
                    &bomb,
                );
            }),
        ),
        (
            "expanding",
            HostileServer::start(move |_, stream| {
                respond_with(
                    stream,
                    200,
                    &[
                        ("Content-Type", "text/csv;charset=utf-16"),
                        ("Content-Encoding", "gzip"),
                    ],
                    &expanding,
                );
            }),
        ),
        (
            "malformed",
            HostileServer::start(|_, stream| {
                start_export(stream);
                let _ = stream.write_all(&[0xFF, 0xFE, b'a', 0, 0x00, 0xDC, b'\n', 0]);
            }),
        ),
        (
            "echo",
            HostileServer::start(|_, stream| answer_echoing_the_token(stream)),
        ),
        (
            "unauthorized",
            HostileServer::start(|_, stream| answer_401_with_the_token(stream)),
        ),
        (
            "redirect",
            HostileServer::start(move |_, stream| {
                respond_with(stream, 307, &[("Location", &location)], b"");
            }),
        ),
        (
            "silent",
            HostileServer::start(|_, _| std::thread::sleep(Duration::from_secs(60))),
        ),
    ];
    let mut out = std::io::stdout().lock();
    for (name, server) in &servers {
        let _ = writeln!(out, "{name}: {}", server.base_url());
    }
    let _ = writeln!(out, "expanding rows: {EXPANDING_ROWS}");
    let _ = writeln!(out, "client id: {CLIENT_ID}");
    let _ = out.flush();
    drop(out);
    // Serves until the parent closes our standard input (or dies).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
