//! Reading Zuora's answers: body decoding, response metadata, and every error envelope.

use std::borrow::Cow;
use std::io::Read;

use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::responses::header_text::{Meta, MetaHeaders, TEXT_LIMIT, bounded, header_text};
use crate::responses::limits::{ConcurrencyLimit, RateLimit, RetryAfter};
use crate::values::invalid_input::InvalidInput;

/// Default cap on a decoded (gunzipped) response body: 16 MiB.
pub const DEFAULT_MAX_DECODED_BYTES: usize = 16 * 1024 * 1024;

/// How much of an unreadable body an error quotes, in bytes.
const SNIPPET_BYTES: usize = 256;

/// Limits applied while reading a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseLimits {
    pub(crate) max_decoded_bytes: usize,
}

impl ResponseLimits {
    /// The most bytes a body may decode to (1 KiB to 1 GiB); more is
    /// [`ResponseErrorKind::BodyTooLarge`].
    pub fn with_max_decoded_bytes(mut self, bytes: usize) -> Result<Self, InvalidInput> {
        self.max_decoded_bytes =
            crate::values::invalid_input::in_range("max decoded bytes", bytes, 1024, 1 << 30)?;
        Ok(self)
    }

    /// The most bytes a body may decode to.
    pub fn max_decoded_bytes(&self) -> usize {
        self.max_decoded_bytes
    }
}

impl Default for ResponseLimits {
    fn default() -> Self {
        Self {
            max_decoded_bytes: DEFAULT_MAX_DECODED_BYTES,
        }
    }
}

/// What every response says about itself, success or failure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// The HTTP status.
    pub status: StatusCode,
    /// `Zuora-Request-Id`: Zuora's id of the call, for support.
    pub request_id: Option<String>,
    /// `Zuora-Track-Id` as echoed by Zuora.
    pub track_id: Option<String>,
    /// `RateLimit-*`.
    pub rate_limit: RateLimit,
    /// `Concurrency-Limit-*`, when sent.
    pub concurrency: ConcurrencyLimit,
    /// `Retry-After`, when sent.
    pub retry_after: Option<RetryAfter>,
}

impl ResponseMeta {
    /// Reads the metadata of a response.
    pub fn from_parts(status: StatusCode, headers: &HeaderMap) -> Self {
        let found = MetaHeaders::scan(headers);
        Self {
            status,
            request_id: found.bounded(Meta::RequestId),
            track_id: found.bounded(Meta::TrackId),
            rate_limit: RateLimit::from_found(&found),
            concurrency: ConcurrencyLimit::from_found(&found),
            retry_after: found.text(Meta::RetryAfter).and_then(RetryAfter::parse),
        }
    }

    /// Reads the metadata of a response.
    pub fn from_response<B>(response: &http::Response<B>) -> Self {
        Self::from_parts(response.status(), response.headers())
    }
}

/// One entry of the v1 `reasons` envelope (or the object-CRUD `Errors` list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The code: eight digits in the v1 envelope (`53100320`), a word in `Errors`.
    pub code: String,
    /// The message.
    pub message: String,
}

impl Reason {
    /// The two-digit category of a numeric v1 code (`20` invalid value, `70` over a limit, …).
    pub fn category(&self) -> Option<u8> {
        if self.code.len() < 2 || !self.code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.code[self.code.len() - 2..].parse().ok()
    }
}

/// What was wrong with a response: which error envelope Zuora sent, or why the body could
/// not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseErrorKind {
    /// The Reporting ("ZAN") envelope: `success: false` and a JSON document in a string.
    #[error("{}{message}", error_code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
    Reporting {
        /// `errorCode`, such as `ZAN-USAGE-REST-ERROR`.
        error_code: Option<String>,
        /// `message`.
        message: String,
        /// `errorId`.
        error_id: Option<String>,
    },
    /// The v1 envelope: `success: false` with `reasons` (or `Success: false` with `Errors`).
    #[error("{}", format_reasons(reasons))]
    Reasons {
        /// `processId`, for support.
        process_id: Option<String>,
        /// The reasons, in order.
        reasons: Vec<Reason>,
    },
    /// A body with a `message`, as the API gateway sends on 401 and 429.
    #[error("{message}")]
    Message {
        /// `message` (or `error`, when that is all there is).
        message: String,
    },
    /// JSON that fits no known envelope.
    #[error("unexpected JSON in the response: {snippet}")]
    UnexpectedJson {
        /// The beginning of the body.
        snippet: String,
    },
    /// A body that is not JSON, such as a proxy's HTML error page.
    #[error("the response is not JSON ({}): {snippet}", content_type.as_deref().unwrap_or("no Content-Type"))]
    NotJson {
        /// `Content-Type`, if any.
        content_type: Option<String>,
        /// The beginning of the body.
        snippet: String,
    },
    /// JSON that does not parse (malformed or cut short).
    #[error("the response is malformed JSON ({detail}): {snippet}")]
    MalformedJson {
        /// The parser's message (line and column).
        detail: String,
        /// The beginning of the body.
        snippet: String,
    },
    /// No body where one was due.
    #[error("the response body is empty")]
    EmptyBody,
    /// The answer is about another run than the one asked about.
    #[error("asked about report run {asked}, the answer is about {answered}")]
    OtherRun {
        /// The run asked about.
        asked: crate::values::ids::ReportRunId,
        /// The run the answer names.
        answered: crate::values::ids::ReportRunId,
    },
    /// `success: true` without the field the operation returns.
    #[error("the response reports success but has no `{field}`")]
    MissingField {
        /// The missing field, such as `reportRunId`.
        field: &'static str,
    },
    /// The field is there but breaks its rules.
    #[error("the response's `{field}` is not valid: {source}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// The rule broken.
        source: InvalidInput,
    },
    /// The body decodes to more than [`ResponseLimits::max_decoded_bytes`].
    #[error("the response body decodes to more than {limit} bytes")]
    BodyTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// `Content-Encoding: gzip` with a body that is not valid gzip.
    #[error("the gzip response body could not be decoded: {detail}")]
    Decoding {
        /// What the decoder said.
        detail: String,
    },
}

fn format_reasons(reasons: &[Reason]) -> String {
    if reasons.is_empty() {
        return "Zuora reported a failure without reasons".to_owned();
    }
    let parts: Vec<String> = reasons
        .iter()
        .map(|r| format!("{}: {}", r.code, r.message))
        .collect();
    parts.join("; ")
}

/// A response that is not the success the operation expects: Zuora's error, or an
/// unreadable answer. Carries the status, `Zuora-Request-Id` and echoed `Zuora-Track-Id`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseError {
    /// Status and headers of the response (boxed: errors stay small to move around).
    pub meta: Box<ResponseMeta>,
    /// What was wrong.
    pub kind: ResponseErrorKind,
}

impl ResponseError {
    /// An error from its parts.
    pub fn new(meta: ResponseMeta, kind: ResponseErrorKind) -> Self {
        Self {
            meta: Box::new(meta),
            kind,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.meta.status
    }

    /// Replaces every occurrence of each of `secrets` (the token the call sent, the client
    /// secret) in the server's text with `[redacted]`: a server that echoes a credential in
    /// its error message gets it into no message, log or report. Secrets shorter than 8
    /// characters are left alone (they would redact ordinary words, and are no real token).
    pub fn redact(&mut self, secrets: &[&str]) {
        let secrets: Vec<&str> = secrets.iter().copied().filter(|s| s.len() >= 8).collect();
        if secrets.is_empty() {
            return;
        }
        let scrub = |text: &mut String| {
            for secret in &secrets {
                if text.contains(secret) {
                    *text = text.replace(secret, crate::values::REDACTED);
                }
            }
        };
        let mut texts: Vec<&mut String> = Vec::new();
        match &mut self.kind {
            ResponseErrorKind::Reporting {
                error_code,
                message,
                error_id,
            } => {
                texts.push(message);
                texts.extend(error_code.as_mut());
                texts.extend(error_id.as_mut());
            }
            ResponseErrorKind::Reasons {
                process_id,
                reasons,
            } => {
                texts.extend(process_id.as_mut());
                for reason in reasons {
                    texts.push(&mut reason.code);
                    texts.push(&mut reason.message);
                }
            }
            ResponseErrorKind::Message { message } => texts.push(message),
            ResponseErrorKind::UnexpectedJson { snippet } => texts.push(snippet),
            ResponseErrorKind::NotJson {
                content_type,
                snippet,
            } => {
                texts.push(snippet);
                texts.extend(content_type.as_mut());
            }
            ResponseErrorKind::MalformedJson { detail, snippet } => {
                texts.push(detail);
                texts.push(snippet);
            }
            ResponseErrorKind::Decoding { detail, .. } => texts.push(detail),
            _ => {}
        }
        for text in texts {
            scrub(text);
        }
        for text in [&mut self.meta.request_id, &mut self.meta.track_id]
            .into_iter()
            .flatten()
        {
            scrub(text);
        }
    }

    /// `Zuora-Request-Id`, for a support ticket.
    pub fn request_id(&self) -> Option<&str> {
        self.meta.request_id.as_deref()
    }

    /// The `Zuora-Track-Id` Zuora echoed.
    pub fn track_id(&self) -> Option<&str> {
        self.meta.track_id.as_deref()
    }

    /// Whether Zuora refused for a rate or concurrency limit: HTTP 429, a v1 reason of
    /// category 70, or the gateway's "request exceeded limit".
    pub fn is_rate_limited(&self) -> bool {
        self.meta.status == StatusCode::TOO_MANY_REQUESTS
            || match &self.kind {
                ResponseErrorKind::Reasons { reasons, .. } => {
                    reasons.iter().any(|r| r.category() == Some(70))
                }
                ResponseErrorKind::Message { message } => message == "request exceeded limit",
                _ => false,
            }
    }

    /// Whether the credentials were refused: HTTP 401 or a v1 reason of category 11.
    pub fn is_unauthorized(&self) -> bool {
        self.meta.status == StatusCode::UNAUTHORIZED
            || matches!(&self.kind, ResponseErrorKind::Reasons { reasons, .. }
                if reasons.iter().any(|r| r.category() == Some(11)))
    }
}

impl core::fmt::Display for ResponseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} (HTTP {}", self.kind, self.meta.status.as_u16())?;
        if let Some(id) = &self.meta.request_id {
            write!(f, ", Zuora-Request-Id {id}")?;
        }
        if let Some(id) = &self.meta.track_id {
            write!(f, ", Zuora-Track-Id {id}")?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for ResponseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ResponseErrorKind::InvalidField { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The body as the operation must read it: gunzipped when `Content-Encoding: gzip`, within
/// `limits`.
///
/// Only `gzip` is decoded. A body marked gzip that does not start with gzip's magic bytes is
/// taken as already decoded (HTTP stacks that decompress but keep the header), and other
/// encodings are passed through as they are: Zuora sends only gzip, and a mock such as
/// Prism sends placeholder values like `Content-Encoding: string` over plain JSON.
pub fn decode_body<'a>(
    headers: &HeaderMap,
    raw: &'a [u8],
    limits: ResponseLimits,
) -> Result<Cow<'a, [u8]>, ResponseErrorKind> {
    let max = limits.max_decoded_bytes;
    let gzip_marked = headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            matches!(
                coding.trim().to_ascii_lowercase().as_str(),
                "gzip" | "x-gzip"
            )
        });
    if !gzip_marked || !raw.starts_with(&[0x1f, 0x8b]) {
        if raw.len() > max {
            return Err(ResponseErrorKind::BodyTooLarge { limit: max });
        }
        return Ok(Cow::Borrowed(raw));
    }
    let mut decoded = Vec::with_capacity(raw.len().saturating_mul(4).min(max));
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::MultiGzDecoder::new(raw)
        .take(limit)
        .read_to_end(&mut decoded)
        .map_err(|err| ResponseErrorKind::Decoding {
            detail: err.to_string(),
        })?;
    if decoded.len() > max {
        return Err(ResponseErrorKind::BodyTooLarge { limit: max });
    }
    Ok(Cow::Owned(decoded))
}

#[derive(Deserialize)]
struct SuccessEnvelope<T> {
    success: bool,
    response: T,
}

/// Reads a `{"success": true, "response": T}` answer, or says exactly why it is not one.
///
/// `expected_field` names what the operation returns, for the error when `success: true`
/// arrives without it.
pub(crate) fn parse_success<T: DeserializeOwned, B: AsRef<[u8]>>(
    response: &http::Response<B>,
    limits: ResponseLimits,
    expected_field: &'static str,
) -> Result<(T, ResponseMeta), ResponseError> {
    let meta = ResponseMeta::from_response(response);
    let body = match decode_body(response.headers(), response.body().as_ref(), limits) {
        Ok(body) => body,
        Err(kind) => return Err(ResponseError::new(meta, kind)),
    };
    if meta.status.is_success()
        && let Ok(SuccessEnvelope {
            success: true,
            response,
        }) = serde_json::from_slice(&body)
    {
        return Ok((response, meta));
    }
    let kind = classify_failure(meta.status, response.headers(), &body, expected_field);
    Err(ResponseError::new(meta, kind))
}

/// Decides which envelope a failed (or unexpected) body is.
pub(crate) fn classify_failure(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    expected_field: &'static str,
) -> ResponseErrorKind {
    let text_start = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = text_start else {
        return ResponseErrorKind::EmptyBody;
    };
    let content_type = header_text(headers, http::header::CONTENT_TYPE).map(|t| bounded(t, 128));
    let says_json = content_type.as_deref().is_some_and(|t| t.contains("json"));
    if !says_json && !matches!(body[start], b'{' | b'[') {
        return ResponseErrorKind::NotJson {
            content_type,
            snippet: snippet(body),
        };
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(err) => {
            return ResponseErrorKind::MalformedJson {
                detail: err.to_string(),
                snippet: snippet(body),
            };
        }
    };
    classify_json(status, &value, body, expected_field)
}

fn classify_json(
    status: StatusCode,
    value: &Value,
    body: &[u8],
    expected_field: &'static str,
) -> ResponseErrorKind {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(|s| bounded(s, TEXT_LIMIT));
    let Some(object) = value.as_object() else {
        return ResponseErrorKind::UnexpectedJson {
            snippet: snippet(body),
        };
    };
    let success = object
        .get("success")
        .or_else(|| object.get("Success"))
        .and_then(Value::as_bool);

    if let Some(reasons) = object.get("reasons").or_else(|| object.get("Errors")) {
        let reasons = reasons
            .as_array()
            .map(|list| list.iter().map(read_reason).collect())
            .unwrap_or_default();
        return ResponseErrorKind::Reasons {
            process_id: text(object.get("processId")),
            reasons,
        };
    }
    if success == Some(false) {
        return match object.get("response") {
            Some(Value::String(inner)) => reporting_error(inner),
            Some(Value::Object(inner)) => reporting_fields(inner),
            _ => ResponseErrorKind::Reporting {
                error_code: None,
                message: text(object.get("message"))
                    .unwrap_or_else(|| "Zuora reported a failure without details".to_owned()),
                error_id: None,
            },
        };
    }
    if let Some(message) = text(object.get("message")) {
        return ResponseErrorKind::Message { message };
    }
    match object.get("error") {
        Some(Value::String(error)) => {
            return ResponseErrorKind::Message {
                message: bounded(error, TEXT_LIMIT),
            };
        }
        Some(Value::Object(error)) => {
            if let Some(message) = text(error.get("message")) {
                return ResponseErrorKind::Message { message };
            }
        }
        _ => {}
    }
    if success == Some(true) && status.is_success() {
        return ResponseErrorKind::MissingField {
            field: expected_field,
        };
    }
    ResponseErrorKind::UnexpectedJson {
        snippet: snippet(body),
    }
}

/// The ZAN `response` string holds a JSON document; when it does not, the string is the
/// message.
fn reporting_error(inner: &str) -> ResponseErrorKind {
    match serde_json::from_str::<Value>(inner) {
        Ok(Value::Object(fields)) => reporting_fields(&fields),
        _ => ResponseErrorKind::Reporting {
            error_code: None,
            message: bounded(inner.trim(), TEXT_LIMIT),
            error_id: None,
        },
    }
}

fn reporting_fields(fields: &serde_json::Map<String, Value>) -> ResponseErrorKind {
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .map(|s| bounded(s, TEXT_LIMIT))
    };
    ResponseErrorKind::Reporting {
        error_code: text("errorCode"),
        message: text("message")
            .unwrap_or_else(|| "Zuora reported a failure without a message".to_owned()),
        error_id: text("errorId"),
    }
}

fn read_reason(value: &Value) -> Reason {
    let field = |lower: &str, upper: &str| value.get(lower).or_else(|| value.get(upper)).cloned();
    let code = match field("code", "Code") {
        Some(Value::String(code)) => bounded(&code, 64),
        Some(Value::Number(code)) => code.to_string(),
        _ => String::new(),
    };
    let message = match field("message", "Message") {
        Some(Value::String(message)) => bounded(&message, TEXT_LIMIT),
        _ => String::new(),
    };
    Reason { code, message }
}

/// Names whose values are credentials: scrubbed from every snippet.
const SECRET_NAMES: [&str; 5] = [
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "jti",
];

impl ResponseErrorKind {
    /// Replaces a quoted body with a note that it was withheld (for answers that may hold a
    /// token).
    pub(crate) fn withhold_snippet(&mut self) {
        if let Self::UnexpectedJson { snippet }
        | Self::NotJson { snippet, .. }
        | Self::MalformedJson { snippet, .. } = self
        {
            *snippet = "(not quoted: it may hold a credential)".to_owned();
        }
        // A `MalformedJson` detail is kept whole: it comes from parsing into a
        // `serde_json::Value`, whose only errors are syntax ones ("EOF while parsing an
        // object at line 1 column 45"), which never quote the input.
    }
}

/// Replaces the value after each credential name (`"access_token": "…"`,
/// `access_token=…`) with `[redacted]`.
fn scrub_secrets(text: &mut String) {
    for name in SECRET_NAMES {
        let mut from = 0;
        while let Some(found) = text[from..].to_ascii_lowercase().find(name) {
            let after_name = from + found + name.len();
            let rest = &text[after_name..];
            // Skip the closing quote of the name, separators and the value's opening quote.
            let skip = rest
                .find(|c: char| !matches!(c, '"' | '\'' | ':' | '=' | ' '))
                .unwrap_or(rest.len());
            let value_start = after_name + skip;
            let value_len = text[value_start..]
                .find(['"', '\'', '&', ',', '}', ' ', '<'])
                .unwrap_or(text.len() - value_start);
            from = value_start;
            if value_len > 0 {
                text.replace_range(
                    value_start..value_start + value_len,
                    crate::values::REDACTED,
                );
                from += crate::values::REDACTED.len();
            }
        }
    }
}

/// The beginning of a body as one printable line: for errors, never the whole body.
fn snippet(body: &[u8]) -> String {
    let cut = body.len().min(SNIPPET_BYTES);
    let text = String::from_utf8_lossy(&body[..cut]);
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if body.len() > cut {
        line.push('…');
    }
    scrub_secrets(&mut line);
    line
}
