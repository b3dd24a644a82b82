//! What went wrong, as a caller asks it: [`ErrorKind`], and the reading of Zuora's error
//! answers into it.
//!
//! Zuora tells most Reporting failures apart only by message text: an unknown report, an
//! unknown run and "no completed run yet" all arrive as HTTP 400 `ZAN-USAGE-REST-ERROR`. The
//! message patterns are the ones Zuora's documents quote (and the simulator answers);
//! anything else stays [`ErrorKind::Api`] rather than being guessed at.

use http::StatusCode;

use crate::responses::response::{ResponseError, ResponseErrorKind};
use crate::values::status::RunStatus;

/// A classification of every [`Error`](crate::Error), stable enough to `match` on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument or setting broke a rule; nothing was sent.
    InvalidInput,
    /// The credentials or the token were refused (HTTP 401, an invalid client id, an
    /// authentication reason code).
    Authentication,
    /// The credentials are valid but not allowed to do this (HTTP 403).
    PermissionDenied,
    /// No report has this id, or none has exactly this name.
    ReportNotFound,
    /// Several reports have exactly this name.
    AmbiguousReportName,
    /// No run has this id (or the export of this run id was refused).
    RunNotFound,
    /// The run exists but has not completed, so it has no results to read.
    RunNotCompleted,
    /// The caller never ran this report, so there is no completed run to take.
    NoCompletedRun,
    /// The report cannot run with the view type asked for (`Detail` vs `Summary`).
    WrongViewType,
    /// Zuora refused for a rate or concurrency limit.
    RateLimited,
    /// The run ended without results.
    RunEnded {
        /// How it ended: `ERROR`, `INVALID` or `CANCELLED`.
        status: RunStatus,
    },
    /// The caller's deadline came first (a wait, or a paged read).
    TimedOut,
    /// The caller stopped the work.
    Interrupted,
    /// No complete answer arrived: the connection, DNS, TLS or a timeout failed.
    Transport {
        /// `true` when the request certainly did not leave (DNS, refused connection): a
        /// retry can never duplicate it.
        nothing_sent: bool,
    },
    /// A paged read was stopped (a repeated page, the page cap).
    PagingStopped,
    /// The export body could not be read: corrupt, cut short, or stalled.
    ExportBroken,
    /// Writing the results to the caller's output failed.
    Output,
    /// Any other error answer from Zuora, or an answer that could not be read.
    Api,
    /// An internal inconsistency (a bug in zuora-rs if it ever happens).
    Internal,
}

impl ErrorKind {
    /// A short, stable snake_case name (for logs, metrics and JSON).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::Authentication => "authentication",
            Self::PermissionDenied => "permission_denied",
            Self::ReportNotFound => "report_not_found",
            Self::AmbiguousReportName => "ambiguous_report_name",
            Self::RunNotFound => "run_not_found",
            Self::RunNotCompleted => "run_not_completed",
            Self::NoCompletedRun => "no_completed_run",
            Self::WrongViewType => "wrong_view_type",
            Self::RateLimited => "rate_limited",
            Self::RunEnded { .. } => "run_ended",
            Self::TimedOut => "timed_out",
            Self::Interrupted => "interrupted",
            Self::Transport { .. } => "transport",
            Self::PagingStopped => "paging_stopped",
            Self::ExportBroken => "export_broken",
            Self::Output => "output",
            Self::Api => "api",
            Self::Internal => "internal",
        }
    }
}

impl core::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// OAuth error codes (RFC 6749 §5.2) that mean the client's credentials were refused.
const OAUTH_REFUSALS: [&str; 3] = ["invalid_client", "unauthorized_client", "invalid_grant"];

impl ResponseError {
    /// What this answer means for the caller: Zuora's status, envelope and message read
    /// together.
    pub fn error_kind(&self) -> ErrorKind {
        if self.is_unauthorized() {
            return ErrorKind::Authentication;
        }
        if self.is_rate_limited() {
            return ErrorKind::RateLimited;
        }
        if self.status() == StatusCode::FORBIDDEN {
            return ErrorKind::PermissionDenied;
        }
        match &self.kind {
            ResponseErrorKind::Reporting { message, .. } => reporting_message_kind(message),
            // The token endpoint's refusals: Zuora's "Invalid client id…" (a Spring-style
            // body), or a standard OAuth error code from a server in front of it.
            ResponseErrorKind::Message { message }
                if message.starts_with("Invalid client")
                    || OAUTH_REFUSALS.contains(&message.as_str()) =>
            {
                ErrorKind::Authentication
            }
            _ => ErrorKind::Api,
        }
    }
}

/// The kind behind a Reporting (`ZAN-…`) message.
fn reporting_message_kind(message: &str) -> ErrorKind {
    let has = |needle: &str| message.contains(needle);
    if has("report run with ID") && has("does not exist") || has("errors when exporting the report")
    {
        ErrorKind::RunNotFound
    } else if has("report with ID") && has("does not exist") {
        ErrorKind::ReportNotFound
    } else if has("has not run this report yet") {
        ErrorKind::NoCompletedRun
    } else if has("is not completed") {
        ErrorKind::RunNotCompleted
    } else if has("viewType") {
        ErrorKind::WrongViewType
    } else {
        ErrorKind::Api
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages Zuora's documents quote, and the ones the simulator adds where they are
    /// silent.
    #[test]
    fn reporting_messages_are_told_apart() {
        let cases = [
            (
                "An error occurred. The report with ID 2c9a8c1a does not exist.",
                ErrorKind::ReportNotFound,
            ),
            (
                "The report run with ID ff80 does not exist.",
                ErrorKind::RunNotFound,
            ),
            (
                "There are errors when exporting the report.",
                ErrorKind::RunNotFound,
            ),
            (
                "The current user has not run this report yet. Please run the report before retrying.",
                ErrorKind::NoCompletedRun,
            ),
            (
                "The report run ff80 is not completed (status QUERYDATA); its results cannot be read.",
                ErrorKind::RunNotCompleted,
            ),
            (
                "The report Invoices is a Summary report; it cannot run with viewType Detail.",
                ErrorKind::WrongViewType,
            ),
            (
                "Cannot find any matching label(s) for id(s) provided in request.",
                ErrorKind::Api,
            ),
        ];
        for (message, kind) in cases {
            assert_eq!(reporting_message_kind(message), kind, "{message}");
        }
    }
}
