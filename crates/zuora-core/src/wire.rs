//! Reading header values off the wire: the names the core reads, trimmed text, bounded
//! copies. Below every module that reads an answer.

use http::HeaderMap;

/// Names of the response headers the core reads; static names skip parsing on each lookup.
pub(crate) mod names {
    use http::HeaderName;
    pub const ZUORA_REQUEST_ID: HeaderName = HeaderName::from_static("zuora-request-id");
    pub const ZUORA_TRACK_ID: HeaderName = HeaderName::from_static("zuora-track-id");
    pub const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
    pub const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
    pub const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
    pub const CONCURRENCY_LIMIT_TYPE: HeaderName =
        HeaderName::from_static("concurrency-limit-type");
    pub const CONCURRENCY_LIMIT_LIMIT: HeaderName =
        HeaderName::from_static("concurrency-limit-limit");
    pub const CONCURRENCY_LIMIT_REMAINING: HeaderName =
        HeaderName::from_static("concurrency-limit-remaining");
}

/// A header's value as trimmed text, if it is visible ASCII.
pub(crate) fn header_text(
    headers: &HeaderMap,
    name: impl http::header::AsHeaderName,
) -> Option<&str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `text` cut to at most `limit` bytes (on a character boundary), marked with `…` when cut.
pub(crate) fn bounded(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
