//! The one error type of zuora-rs.

use crate::ids::{ReportId, ReportRunId};
use crate::invalid::InvalidInput;
use crate::response::ResponseError;
use crate::status::RunStatus;
use crate::transport::TransportFailure;

/// Every way a Zuora call can fail. Transports add their own variants in later versions,
/// hence `#[non_exhaustive]`. No variant ever holds a token or a client secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input broke a rule; nothing was sent.
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InvalidInput),
    /// The request could not be assembled (a bug in zuora-rs if it ever happens); nothing
    /// was sent.
    #[error("could not build the request: {reason}")]
    RequestBuild {
        /// What went wrong.
        reason: String,
    },
    /// Zuora answered with an error, or with something that could not be read.
    #[error("Zuora API error: {0}")]
    Api(#[from] ResponseError),
    /// No complete answer arrived: connect, timeout, broken connection.
    #[error("{0}")]
    Transport(#[from] TransportFailure),
    /// The failure was worth retrying, but the attempts or the call's time ran out.
    #[error("gave up after {attempts} attempts; the last failed with: {last}")]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: Box<Error>,
    },
    /// The export could not be read (corrupt gzip or UTF-16, or cut short).
    #[error("{0}")]
    Export(#[from] crate::export_decoder::ExportError),
    /// A streamed export stopped moving: no byte for the idle timeout.
    #[error("the export stalled: no data for {idle:?} after {received} bytes")]
    ExportStalled {
        /// Bytes received before it stalled.
        received: u64,
        /// The idle timeout.
        idle: std::time::Duration,
    },
    /// Writing the results to the caller's output failed.
    #[error("writing the results failed: {0}")]
    Output(String),
    /// No report has exactly this name.
    #[error("no report is named exactly {name:?}")]
    ReportNotFound {
        /// The name looked for.
        name: String,
    },
    /// Several reports have exactly this name; run one by id.
    #[error("{} reports are named exactly {name:?}; use an id: {}", ids.len(), ids.iter().map(ReportId::as_str).collect::<Vec<_>>().join(", "))]
    AmbiguousReportName {
        /// The name looked for.
        name: String,
        /// The reports that have it.
        ids: Vec<ReportId>,
    },
    /// The run ended without results: `ERROR`, `INVALID` or `CANCELLED`.
    #[error("report run {run_id} ended with status {status}")]
    RunEnded {
        /// The run.
        run_id: ReportRunId,
        /// How it ended.
        status: RunStatus,
    },
    /// The caller stopped the work (a wait, or a whole trip).
    #[error("interrupted{}{}", run_id.as_ref().map(|id| format!(" while waiting for report run {id}")).unwrap_or_default(), if *cancelled { "; the run was cancelled" } else { "" })]
    Interrupted {
        /// The run that was being waited for, if any.
        run_id: Option<ReportRunId>,
        /// Whether the run was cancelled on the server.
        cancelled: bool,
    },
    /// A paged read (search, report data) was stopped: the server kept answering pages.
    #[error("{operation} stopped after {pages} pages: {reason}")]
    PagingStopped {
        /// The operation paged through.
        operation: &'static str,
        /// Pages read before the stop.
        pages: u32,
        /// The stop rule that ended it.
        reason: PagingStop,
    },
    /// The wait's deadline came before the run finished.
    #[error("report run {run_id} was still {last_status} at the deadline{}", if *cancelled { "; it was cancelled" } else { "" })]
    WaitTimedOut {
        /// The run.
        run_id: ReportRunId,
        /// Its status at the last look.
        last_status: RunStatus,
        /// Whether the run was cancelled on the server, as the caller asked.
        cancelled: bool,
    },
}

/// Why a paged read stopped before its last page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PagingStop {
    /// The server answered the same page twice in a row.
    #[error("the server answered the same page twice")]
    RepeatedPage,
    /// More pages than the configured cap.
    #[error("more than {limit} pages")]
    TooManyPages {
        /// The cap.
        limit: u32,
    },
    /// The read ran past the caller's deadline.
    #[error("still paging after {deadline:?}")]
    DeadlineReached {
        /// The deadline.
        deadline: std::time::Duration,
    },
}

impl Error {
    /// The Zuora error behind this one, if Zuora answered (also inside `RetriesExhausted`).
    pub fn api(&self) -> Option<&ResponseError> {
        match self {
            Self::Api(error) => Some(error),
            Self::RetriesExhausted { last, .. } => last.api(),
            _ => None,
        }
    }

    /// Whether nothing was sent because the input broke a rule.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Self::InvalidInput(_))
    }

    /// This error inside an `io::Error`, for `Read` and `Write` adapters (such as an export
    /// reader); [`Error::from_io`] takes it back out.
    pub fn into_io(self) -> std::io::Error {
        std::io::Error::other(self)
    }

    /// The error an adapter put inside `error` with [`Error::into_io`], or `error` itself.
    pub fn from_io(error: std::io::Error) -> Result<Self, std::io::Error> {
        if !error.get_ref().is_some_and(|inner| inner.is::<Self>()) {
            return Err(error);
        }
        match error.into_inner().map(|inner| inner.downcast::<Self>()) {
            Some(Ok(ours)) => Ok(*ours),
            _ => Err(std::io::Error::other("an error was lost between adapters")),
        }
    }

    /// An internal inconsistency (a bug in zuora-rs if it ever happens).
    pub fn build(reason: &str) -> Self {
        Self::RequestBuild {
            reason: reason.to_owned(),
        }
    }
}
