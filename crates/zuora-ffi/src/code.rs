//! Result codes: the boundary's own (a NULL, bad UTF-8, a caught panic, a call out of turn)
//! and one per kind of failure of the Rust API ([`zuora_core::ErrorKind`]), so C and Rust
//! classify every failure the same way.

use zuora_core::{Error, ErrorKind};

/// What a function, or a finished task, came to.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZuoraCode {
    /// Success.
    ZuoraOk = 0,
    /// A required pointer was NULL.
    ZuoraErrNull = 1,
    /// A string was not UTF-8.
    ZuoraErrUtf8 = 2,
    /// A panic was caught at the boundary (a bug in zuora-rs).
    ZuoraErrPanic = 3,
    /// A function was called out of turn (a task's body before its head, say), or an index or
    /// enum value was out of range.
    ZuoraErrState = 4,
    /// An argument or setting broke a rule; nothing was sent.
    ZuoraErrInvalidInput = 10,
    /// The credentials or the token were refused.
    ZuoraErrAuthentication = 11,
    /// The credentials are not allowed to do this (HTTP 403).
    ZuoraErrPermissionDenied = 12,
    /// No report has this id, or none has exactly this name.
    ZuoraErrReportNotFound = 13,
    /// Several reports have exactly this name.
    ZuoraErrAmbiguousReportName = 14,
    /// No run has this id.
    ZuoraErrRunNotFound = 15,
    /// The run has not completed, so it has no results.
    ZuoraErrRunNotCompleted = 16,
    /// The report was never run to completion.
    ZuoraErrNoCompletedRun = 17,
    /// The report cannot run with this view type.
    ZuoraErrWrongViewType = 18,
    /// Zuora refused for a rate or concurrency limit.
    ZuoraErrRateLimited = 19,
    /// The run ended without results (`ERROR`, `INVALID` or `CANCELLED`).
    ZuoraErrRunEnded = 20,
    /// The deadline came first (a wait, a paged read).
    ZuoraErrTimedOut = 21,
    /// The caller stopped the task.
    ZuoraErrInterrupted = 22,
    /// No complete answer arrived (connection, DNS, TLS, timeout).
    ZuoraErrTransport = 23,
    /// A paged read was stopped (a repeated page, the page cap).
    ZuoraErrPagingStopped = 24,
    /// The export could not be read: corrupt, cut short or stalled.
    ZuoraErrExportBroken = 25,
    /// Writing the results failed.
    ZuoraErrOutput = 26,
    /// Any other error answer from Zuora, or an answer that could not be read.
    ZuoraErrApi = 27,
    /// An internal inconsistency (a bug in zuora-rs).
    ZuoraErrInternal = 28,
    /// The export could not be typed: a value that does not fit a column type you set, or a
    /// malformed record (the message names row, column and value).
    ZuoraErrTable = 29,
}

impl ZuoraCode {
    /// The code of a core error: its [`ErrorKind`].
    pub(crate) fn of(error: &Error) -> Self {
        match error.kind() {
            ErrorKind::InvalidInput => Self::ZuoraErrInvalidInput,
            ErrorKind::Authentication => Self::ZuoraErrAuthentication,
            ErrorKind::PermissionDenied => Self::ZuoraErrPermissionDenied,
            ErrorKind::ReportNotFound => Self::ZuoraErrReportNotFound,
            ErrorKind::AmbiguousReportName => Self::ZuoraErrAmbiguousReportName,
            ErrorKind::RunNotFound => Self::ZuoraErrRunNotFound,
            ErrorKind::RunNotCompleted => Self::ZuoraErrRunNotCompleted,
            ErrorKind::NoCompletedRun => Self::ZuoraErrNoCompletedRun,
            ErrorKind::WrongViewType => Self::ZuoraErrWrongViewType,
            ErrorKind::RateLimited => Self::ZuoraErrRateLimited,
            ErrorKind::RunEnded { .. } => Self::ZuoraErrRunEnded,
            ErrorKind::TimedOut => Self::ZuoraErrTimedOut,
            ErrorKind::Interrupted => Self::ZuoraErrInterrupted,
            ErrorKind::Transport { .. } => Self::ZuoraErrTransport,
            ErrorKind::PagingStopped => Self::ZuoraErrPagingStopped,
            ErrorKind::ExportBroken => Self::ZuoraErrExportBroken,
            ErrorKind::Output => Self::ZuoraErrOutput,
            ErrorKind::Api => Self::ZuoraErrApi,
            _ => Self::ZuoraErrInternal,
        }
    }
}
