//! What the machines' tests share: a session on a closed port, the clock, and answers as a
//! scripted server gives them.

use std::time::{Instant, SystemTime};

use crate::config::ClientConfig;
use crate::driver::transport::{HttpResponse, Now};
use crate::machines::session::Session;

/// The clock, read now.
pub(crate) fn now() -> Now {
    Now::new(Instant::now(), SystemTime::now())
}

/// A session whose requests nothing would answer: the tests answer them.
pub(crate) fn session() -> Session {
    let config = ClientConfig::builder()
        .base_url("http://127.0.0.1:1")
        .credentials("id", "secret")
        .into_config()
        .expect("a valid configuration");
    Session::new(config, 7)
}

/// A JSON answer with `status`.
pub(crate) fn json_answer(status: u16, body: &str) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .expect("a valid answer")
}
