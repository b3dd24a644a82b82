//! A plain HTTP client for driving the simulator over loopback.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // Shared by several test files.

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::Value;
use zuora_sim::{SimConfig, Simulator};

pub const PREFIX: &str = "/reporting/api/rest/v1";

pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The Reporting error's inner document: (errorCode, message).
    pub fn zan(&self) -> (String, String) {
        let outer = self.json();
        assert_eq!(outer["success"], false, "{outer}");
        assert!(outer["links"].is_null());
        let inner: Value = serde_json::from_str(outer["response"].as_str().unwrap()).unwrap();
        (
            inner["errorCode"].as_str().unwrap().to_owned(),
            inner["message"].as_str().unwrap().to_owned(),
        )
    }
}

pub struct Client {
    pub sim: Simulator,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(config: SimConfig) -> Self {
        let sim = Simulator::start(config).unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .max_idle_connections(0)
            .build()
            .into();
        Self { sim, agent }
    }

    /// Sends a request; `Err` when the connection broke before a whole answer arrived.
    pub fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, String> {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!("{}{target}", self.sim.base_url()));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(body.to_vec()).unwrap();
        self.run(request)
    }

    pub fn run(&self, request: http::Request<Vec<u8>>) -> Result<Answer, String> {
        let mut response = self.agent.run(request).map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        response
            .body_mut()
            .as_reader()
            .read_to_end(&mut body)
            .map_err(|e| e.to_string())?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    pub fn token(&self) -> String {
        let form = format!(
            "client_id={}&client_secret={}&grant_type=client_credentials",
            self.sim.client_id(),
            self.sim.client_secret()
        );
        let answer = self
            .send(
                "POST",
                "/oauth/token",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                form.as_bytes(),
            )
            .unwrap();
        assert_eq!(answer.status, 200);
        answer.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// A GET with a bearer token.
    pub fn get(&self, token: &str, target: &str) -> Answer {
        self.send(
            "GET",
            target,
            &[("Authorization", &format!("Bearer {token}"))],
            b"",
        )
        .unwrap()
    }

    /// Runs a report by name; returns the run id.
    pub fn start_run(&self, token: &str, report: &str) -> String {
        let report = self.sim.report_by_name(report).unwrap();
        let answer = self
            .send(
                "POST",
                &format!(
                    "{PREFIX}/reports/{}/reportrun?viewType={}",
                    report.id, report.view_type
                ),
                &[
                    ("Authorization", &format!("Bearer {token}")),
                    ("Content-Type", "application/json"),
                ],
                b"[]",
            )
            .unwrap();
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        answer.json()["response"]["reportRunId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn status_of(&self, token: &str, run: &str) -> String {
        let answer = self.get(token, &format!("{PREFIX}/reportruns/{run}"));
        assert_eq!(answer.status, 200);
        answer.json()["response"]["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Reads an export: UTF-16LE with a BOM, tab-separated, values with tabs, line breaks or
/// quotes wrapped in quotes (the simulator's documented choice).
pub fn parse_export(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(bytes.starts_with(&[0xFF, 0xFE]), "no UTF-16LE BOM");
    assert_eq!(bytes.len() % 2, 0);
    let units: Vec<u16> = bytes[2..]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).unwrap();
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, '\t') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && record.is_empty(),
        "export does not end with a line break"
    );
    records
}
