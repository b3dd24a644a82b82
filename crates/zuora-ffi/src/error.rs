//! `ZuoraError`: why a task failed, with what Rust's `zuora_core::Error` can be asked. Its
//! message never holds a secret (the core's messages never do).

use zuora_core::Error;

use crate::boundary::{CText, ZuoraStr, read};
use crate::code::ZuoraCode;

/// A task's failure.
pub struct ZuoraError {
    code: ZuoraCode,
    message: CText,
    http_status: u16,
    request_id: CText,
    track_id: CText,
    host: CText,
    retryable: bool,
}

impl ZuoraError {
    pub(crate) fn of(error: &Error) -> Self {
        Self {
            code: ZuoraCode::of(error),
            message: CText::new(error.to_string()),
            http_status: error.status().unwrap_or(0),
            request_id: CText::new(error.request_id().unwrap_or("")),
            track_id: CText::new(error.track_id().unwrap_or("")),
            host: CText::new(error.host().unwrap_or("")),
            retryable: error.is_retryable(),
        }
    }

    pub(crate) fn code(&self) -> ZuoraCode {
        self.code
    }
}

/// The failure's code (its kind, as Rust's `ErrorKind`).
///
/// # Safety
/// `error` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_error_code(error: *const ZuoraError) -> ZuoraCode {
    unsafe { read(error, ZuoraCode::ZuoraErrNull, |e| e.code) }
}

/// What went wrong, for a person (NUL-terminated).
///
/// # Safety
/// `error` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_error_message(error: *const ZuoraError) -> ZuoraStr {
    unsafe { read(error, ZuoraStr::EMPTY, |e| e.message.get()) }
}

/// The HTTP status of Zuora's answer, or 0 when none came.
///
/// # Safety
/// `error` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_error_http_status(error: *const ZuoraError) -> u16 {
    unsafe { read(error, 0, |e| e.http_status) }
}

/// `Zuora-Request-Id` of the failed answer (empty when none), for Zuora's support.
///
/// # Safety
/// `error` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_error_request_id(error: *const ZuoraError) -> ZuoraStr {
    unsafe { read(error, ZuoraStr::EMPTY, |e| e.request_id.get()) }
}

/// `Zuora-Track-Id` echoed by the failed answer (empty when none).
///
/// # Safety
/// `error` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_error_track_id(error: *const ZuoraError) -> ZuoraStr {
    unsafe { read(error, ZuoraStr::EMPTY, |e| e.track_id.get()) }
}

/// The host a transport failure was for (empty for other failures).
///
/// # Safety
/// `error` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_error_host(error: *const ZuoraError) -> ZuoraStr {
    unsafe { read(error, ZuoraStr::EMPTY, |e| e.host.get()) }
}

/// Whether the same work could succeed later (a rate limit, a server or connection failure
/// after the retries ran out).
///
/// # Safety
/// `error` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_error_is_retryable(error: *const ZuoraError) -> bool {
    unsafe { read(error, false, |e| e.retryable) }
}
