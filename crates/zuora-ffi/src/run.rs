//! `ZuoraRun`: a report run as a task found it (started, retrieved, the latest, waited for).

use std::time::SystemTime;

use zuora_core::operations::ReportRunStarted;
use zuora_core::responses::ResponseMeta;
use zuora_core::{ReportRun, RunStatus};

use crate::boundary::{CText, ZuoraStr, read};

/// A run's status.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZuoraRunStatus {
    /// Not known: *Run a report* answers with the new run's id only.
    ZuoraRunUnknown = 0,
    /// Started; the query is not yet submitted.
    ZuoraRunStarted = 1,
    /// The query is submitted; no results yet.
    ZuoraRunQueryData = 2,
    /// Results received, being processed.
    ZuoraRunProcessingData = 3,
    /// Results are ready to download.
    ZuoraRunCompleted = 4,
    /// Cancelled.
    ZuoraRunCancelled = 5,
    /// The definition or its data is invalid.
    ZuoraRunInvalid = 6,
    /// Finished with an error.
    ZuoraRunError = 7,
    /// A status Zuora does not document ([`zuora_run_status_text`] has it).
    ZuoraRunOther = 8,
}

/// A report run.
pub struct ZuoraRun {
    id: CText,
    report_id: CText,
    status: ZuoraRunStatus,
    status_text: CText,
    started_on_ms: i64,
    updated_on_ms: i64,
    request_id: CText,
    track_id: CText,
}

fn epoch_ms(time: Option<SystemTime>) -> i64 {
    let Some(time) = time else { return 0 };
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

fn meta_text(value: Option<&String>) -> CText {
    CText::new(value.map_or("", String::as_str))
}

impl ZuoraRun {
    pub(crate) fn started(started: &ReportRunStarted) -> Self {
        Self::with_meta(
            started.report_run_id.as_str(),
            &started.meta,
            ZuoraRunStatus::ZuoraRunUnknown,
            "",
        )
    }

    pub(crate) fn of(run: &ReportRun) -> Self {
        let status = match &run.status {
            RunStatus::Started => ZuoraRunStatus::ZuoraRunStarted,
            RunStatus::QueryData => ZuoraRunStatus::ZuoraRunQueryData,
            RunStatus::ProcessingData => ZuoraRunStatus::ZuoraRunProcessingData,
            RunStatus::Completed => ZuoraRunStatus::ZuoraRunCompleted,
            RunStatus::Cancelled => ZuoraRunStatus::ZuoraRunCancelled,
            RunStatus::Invalid => ZuoraRunStatus::ZuoraRunInvalid,
            RunStatus::Error => ZuoraRunStatus::ZuoraRunError,
            _ => ZuoraRunStatus::ZuoraRunOther,
        };
        let mut this = Self::with_meta(run.id.as_str(), &run.meta, status, &run.status.to_string());
        this.report_id = CText::new(run.report_id.as_ref().map_or("", |id| id.as_str()));
        this.started_on_ms = epoch_ms(run.started_on);
        this.updated_on_ms = epoch_ms(run.updated_on);
        this
    }

    fn with_meta(id: &str, meta: &ResponseMeta, status: ZuoraRunStatus, text: &str) -> Self {
        Self {
            id: CText::new(id),
            report_id: CText::new(""),
            status,
            status_text: CText::new(text),
            started_on_ms: 0,
            updated_on_ms: 0,
            request_id: meta_text(meta.request_id.as_ref()),
            track_id: meta_text(meta.track_id.as_ref()),
        }
    }
}

/// The run's id.
///
/// # Safety
/// `run` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_run_id(run: *const ZuoraRun) -> ZuoraStr {
    unsafe { read(run, ZuoraStr::EMPTY, |r| r.id.get()) }
}

/// The report's id (empty when the answer did not say).
///
/// # Safety
/// `run` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_run_report_id(run: *const ZuoraRun) -> ZuoraStr {
    unsafe { read(run, ZuoraStr::EMPTY, |r| r.report_id.get()) }
}

/// The status.
///
/// # Safety
/// `run` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_run_status(run: *const ZuoraRun) -> ZuoraRunStatus {
    unsafe { read(run, ZuoraRunStatus::ZuoraRunUnknown, |r| r.status) }
}

/// The status as Zuora wrote it (empty when unknown).
///
/// # Safety
/// `run` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_run_status_text(run: *const ZuoraRun) -> ZuoraStr {
    unsafe { read(run, ZuoraStr::EMPTY, |r| r.status_text.get()) }
}

/// `startedOn` in milliseconds since the Unix epoch (0 when not given).
///
/// # Safety
/// `run` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_run_started_on_ms(run: *const ZuoraRun) -> i64 {
    unsafe { read(run, 0, |r| r.started_on_ms) }
}

/// `updatedOn` in milliseconds since the Unix epoch (0 when not given).
///
/// # Safety
/// `run` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_run_updated_on_ms(run: *const ZuoraRun) -> i64 {
    unsafe { read(run, 0, |r| r.updated_on_ms) }
}

/// `Zuora-Request-Id` of the answer that carried the run (for Zuora's support).
///
/// # Safety
/// `run` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_run_request_id(run: *const ZuoraRun) -> ZuoraStr {
    unsafe { read(run, ZuoraStr::EMPTY, |r| r.request_id.get()) }
}

/// `Zuora-Track-Id` as Zuora echoed it (empty when not).
///
/// # Safety
/// `run` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_run_track_id(run: *const ZuoraRun) -> ZuoraStr {
    unsafe { read(run, ZuoraStr::EMPTY, |r| r.track_id.get()) }
}
