//! Why a command failed: one line for people, an exit code for scripts, and a JSON object
//! for `--json`.

use serde_json::json;
use zuora_core::{Error, ErrorKind};

use crate::exit_code as code;

/// Why the command failed: one line, an exit code, and what a script may want to know.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
    /// A short, stable name for the kind of failure (`usage`, `api`, `run_ended`, …).
    pub kind: &'static str,
    /// The HTTP status, when Zuora answered.
    pub status: Option<u16>,
    /// `Zuora-Request-Id`, when Zuora answered.
    pub request_id: Option<String>,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: code::USAGE,
            message: message.into(),
            kind: "usage",
            status: None,
            request_id: None,
        }
    }

    pub fn of(code: i32, kind: &'static str, message: String) -> Self {
        Self {
            code,
            message,
            kind,
            status: None,
            request_id: None,
        }
    }

    pub fn from_error(error: &Error) -> Self {
        let kind = error.kind();
        let code = match kind {
            ErrorKind::InvalidInput => code::USAGE,
            ErrorKind::RunEnded { .. } => code::RUN_ENDED,
            ErrorKind::TimedOut => code::TIMEOUT,
            ErrorKind::Interrupted => code::INTERRUPTED,
            _ => code::API,
        };
        let kind = kind.as_str();
        let mut message = error.to_string();
        if let Error::ReportNotFound { name } = error {
            let words = name.split_whitespace().next().unwrap_or(name);
            message.push_str(&format!(
                "; list the reports that match with: zuora-report search {words:?}"
            ));
        }
        Self {
            code,
            message,
            kind,
            status: error.status(),
            request_id: error.request_id().map(str::to_owned),
        }
    }

    /// The failure as one JSON object, for `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({ "error": {
            "kind": self.kind,
            "message": self.message,
            "exitCode": self.code,
            "status": self.status,
            "requestId": self.request_id,
        }})
    }
}
