//! `ZuoraRequest`: the request a task asks C to send, borrowed from the task.

use std::time::Duration;

use zuora_core::driver::{HttpRequest, stamped_timeouts};

use crate::boundary::{CText, ZuoraBytes, ZuoraStr, fail, guard, handle, put, read, to_millis};
use crate::code::ZuoraCode;

/// A request to send exactly as given: method, URL, headers, body, and how long to give it.
pub struct ZuoraRequest {
    method: CText,
    url: CText,
    /// `name: value`, as HTTP stacks such as libcurl take them.
    header_lines: Vec<CText>,
    /// Wiped when the request is freed (the token request's body holds the client secret).
    body: zuora_core::driver::RequestBody,
    timeout: Duration,
    idle_timeout: Option<Duration>,
    max_response_bytes: u64,
}

impl ZuoraRequest {
    pub(crate) fn new(request: HttpRequest, max_response_bytes: u64) -> Self {
        let (attempt, idle_timeout) = stamped_timeouts(&request);
        let timeout = attempt.unwrap_or(Duration::ZERO);
        let (parts, body) = request.into_parts();
        let header_lines = parts
            .headers
            .iter()
            .map(|(name, value)| {
                CText::new(format!(
                    "{}: {}",
                    name.as_str(),
                    String::from_utf8_lossy(value.as_bytes())
                ))
            })
            .collect();
        Self {
            method: CText::new(parts.method.as_str()),
            url: CText::new(parts.uri.to_string()),
            header_lines,
            body,
            timeout,
            idle_timeout,
            max_response_bytes,
        }
    }
}

/// The method (`GET`, `POST`, `PUT`), NUL-terminated.
///
/// # Safety
/// `request` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_request_method(request: *const ZuoraRequest) -> ZuoraStr {
    unsafe { read(request, ZuoraStr::EMPTY, |r| r.method.get()) }
}

/// The absolute URL, NUL-terminated.
///
/// # Safety
/// `request` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_request_url(request: *const ZuoraRequest) -> ZuoraStr {
    unsafe { read(request, ZuoraStr::EMPTY, |r| r.url.get()) }
}

/// How many headers the request has (0 for NULL).
///
/// # Safety
/// `request` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_request_header_count(request: *const ZuoraRequest) -> usize {
    unsafe { read(request, 0, |r| r.header_lines.len()) }
}

/// Header `index` as one `name: value` line, NUL-terminated; `ZUORA_ERR_STATE` past the last.
///
/// # Safety
/// `request` must be live; `line` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_request_header_line(
    request: *const ZuoraRequest,
    index: usize,
    line: *mut ZuoraStr,
) -> ZuoraCode {
    guard(|| {
        let request = unsafe { handle(request, "request") }?;
        let Some(text) = request.header_lines.get(index) else {
            return Err(fail(
                ZuoraCode::ZuoraErrState,
                format!("header {index} of {}", request.header_lines.len()),
            ));
        };
        unsafe { put(line, text.get()) }
    })
}

/// The body (empty for none).
///
/// # Safety
/// `request` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_request_body(request: *const ZuoraRequest) -> ZuoraBytes {
    unsafe { read(request, ZuoraBytes::of(&[]), |r| ZuoraBytes::of(&r.body)) }
}

/// Milliseconds the whole exchange may take (connect, send, the answer's head; the whole body
/// too unless [`zuora_request_idle_timeout_ms`] is set), already cut to the call's deadline.
///
/// # Safety
/// `request` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_request_timeout_ms(request: *const ZuoraRequest) -> u64 {
    unsafe { read(request, 0, |r| to_millis(r.timeout)) }
}

/// For an answer that streams (an export), the most milliseconds without a byte before the
/// download counts as stalled; 0 when the body is read whole within the timeout.
///
/// # Safety
/// `request` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_request_idle_timeout_ms(request: *const ZuoraRequest) -> u64 {
    unsafe { read(request, 0, |r| r.idle_timeout.map_or(0, to_millis)) }
}

/// The most body bytes worth reading for an answer read whole; the task ignores the rest.
///
/// # Safety
/// `request` must be NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_request_max_response_bytes(request: *const ZuoraRequest) -> u64 {
    unsafe { read(request, 0, |r| r.max_response_bytes) }
}
