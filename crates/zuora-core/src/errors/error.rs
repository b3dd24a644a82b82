//! The one error type of zuora-rs.

use crate::driver::transport::TransportFailure;
use crate::errors::error_kind::ErrorKind;
use crate::responses::response::ResponseError;
use crate::values::ids::{ReportId, ReportRunId};
use crate::values::invalid_input::InvalidInput;
use crate::values::status::RunStatus;

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
    /// A machine was driven out of order, or fed what it never asked for (a bug in zuora-rs
    /// or in a driver of its engine, never something a server can cause).
    #[error("the engine was misused: {reason}")]
    Misuse {
        /// What happened out of order.
        reason: String,
    },
    /// Zuora answered with an error, or with something that could not be read.
    #[error("Zuora API error: {0}")]
    Api(#[from] ResponseError),
    /// No complete answer arrived: connect, timeout, broken connection.
    #[error("{0}")]
    Transport(#[from] TransportFailure),
    /// The failure was worth retrying, but the attempts or the call's time ran out.
    #[error("gave up after {attempts} attempt{}; the last failed with: {last}", if *attempts == 1 { "" } else { "s" })]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: Box<Error>,
    },
    /// The export could not be read (corrupt gzip or UTF-16, or cut short).
    #[error("{0}")]
    Export(#[from] crate::exports::export_error::ExportError),
    /// A streamed export broke off before its end: the connection failed mid-body.
    #[error("the export broke off after {received} bytes: {detail}")]
    ExportBrokeOff {
        /// Bytes received before it broke off.
        received: u64,
        /// What the HTTP stack said.
        detail: String,
    },
    /// A streamed export stopped moving: no byte for the idle timeout.
    #[error("the export stalled: no data for {idle:?} after {received} bytes")]
    ExportStalled {
        /// Bytes received before it stalled.
        received: u64,
        /// The idle timeout.
        idle: std::time::Duration,
    },
    /// A streamed export moved slower than the low-speed rule allows
    /// ([`ClientBuilder::low_speed`](crate::ClientBuilder::low_speed)).
    #[error(
        "the export moved at {bytes_per_second} bytes a second over {over:?}, under the floor of {floor} (after {received} bytes)"
    )]
    ExportTooSlow {
        /// Bytes received before it was ended.
        received: u64,
        /// Its rate over the last window.
        bytes_per_second: u64,
        /// The floor.
        floor: u64,
        /// The window.
        over: std::time::Duration,
    },
    /// An export's converted output passed the cap the caller set
    /// ([`ClientBuilder::max_export_bytes`](crate::ClientBuilder::max_export_bytes)); what
    /// was written of it is not kept.
    #[error("the export passed the cap of {limit} bytes (after {received} bytes received)")]
    ExportTooLarge {
        /// The cap.
        limit: u64,
        /// Bytes received before it was ended.
        received: u64,
    },
    /// Writing the results to the caller's output failed; the `io::Error` is the
    /// [`source`](std::error::Error::source).
    #[error("writing the results failed")]
    Output(#[source] OutputFailure),
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

/// The `io::Error` of a failed write, shared so that [`Error`] stays `Clone`; equal when
/// kind and message are.
#[derive(Debug, Clone)]
pub struct OutputFailure(std::sync::Arc<std::io::Error>);

impl OutputFailure {
    /// The underlying `io::Error`.
    pub fn io_error(&self) -> &std::io::Error {
        &self.0
    }
}

impl core::fmt::Display for OutputFailure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for OutputFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

impl PartialEq for OutputFailure {
    fn eq(&self, other: &Self) -> bool {
        self.0.kind() == other.0.kind() && self.0.to_string() == other.0.to_string()
    }
}

impl Eq for OutputFailure {}

impl Error {
    /// What kind of failure this is, for a caller that must decide what to do next (the
    /// kind of the last attempt's error when the retries ran out).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidInput(_) => ErrorKind::InvalidInput,
            Self::RequestBuild { .. } | Self::Misuse { .. } => ErrorKind::Internal,
            Self::Api(error) => error.error_kind(),
            Self::Transport(failure) => ErrorKind::Transport {
                nothing_sent: !failure.may_have_been_sent,
            },
            Self::RetriesExhausted { last, .. } => last.kind(),
            Self::Export(_)
            | Self::ExportStalled { .. }
            | Self::ExportBrokeOff { .. }
            | Self::ExportTooSlow { .. }
            | Self::ExportTooLarge { .. } => ErrorKind::ExportBroken,
            Self::Output(_) => ErrorKind::Output,
            Self::ReportNotFound { .. } => ErrorKind::ReportNotFound,
            Self::AmbiguousReportName { .. } => ErrorKind::AmbiguousReportName,
            Self::RunEnded { status, .. } => ErrorKind::RunEnded {
                status: status.clone(),
            },
            Self::Interrupted { .. } => ErrorKind::Interrupted,
            Self::PagingStopped {
                reason: PagingStop::DeadlineReached { .. },
                ..
            }
            | Self::WaitTimedOut { .. } => ErrorKind::TimedOut,
            Self::PagingStopped { .. } => ErrorKind::PagingStopped,
        }
    }

    /// The HTTP status, when Zuora answered.
    pub fn status(&self) -> Option<u16> {
        self.api().map(|error| error.status().as_u16())
    }

    /// `Zuora-Request-Id` of the answer, for a support ticket.
    pub fn request_id(&self) -> Option<&str> {
        self.api().and_then(ResponseError::request_id)
    }

    /// `Zuora-Track-Id` as Zuora echoed it.
    pub fn track_id(&self) -> Option<&str> {
        self.api().and_then(ResponseError::track_id)
    }

    /// The transport failure behind this error, if no complete answer arrived.
    pub fn transport(&self) -> Option<&TransportFailure> {
        match self {
            Self::Transport(failure) => Some(failure),
            Self::RetriesExhausted { last, .. } => last.transport(),
            _ => None,
        }
    }

    /// The host that could not be reached, for a transport failure.
    pub fn host(&self) -> Option<&str> {
        self.transport().and_then(|failure| failure.host.as_deref())
    }

    /// Whether the same call may succeed if tried again later: rate limits, Zuora's 5xx,
    /// transport failures, stalled exports and waits that ran out of time. Input errors,
    /// refusals and "not found" never will.
    pub fn is_retryable(&self) -> bool {
        match self.kind() {
            ErrorKind::RateLimited | ErrorKind::Transport { .. } | ErrorKind::TimedOut => true,
            ErrorKind::Api => self.status().is_some_and(|status| status >= 500),
            ErrorKind::ExportBroken => {
                matches!(
                    self,
                    Self::ExportStalled { .. } | Self::ExportBrokeOff { .. }
                )
            }
            _ => false,
        }
    }

    /// A failed write to the caller's output.
    pub fn output(error: std::io::Error) -> Self {
        Self::Output(OutputFailure(std::sync::Arc::new(error)))
    }

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

    /// A request that could not be assembled (a bug in zuora-rs if it ever happens).
    pub fn build(reason: &str) -> Self {
        Self::RequestBuild {
            reason: reason.to_owned(),
        }
    }

    /// A machine driven out of order (a bug in zuora-rs or in a driver).
    pub fn misuse(reason: &str) -> Self {
        Self::Misuse {
            reason: reason.to_owned(),
        }
    }
}
