//! Reading header values off the wire: the names the core reads, trimmed text, bounded
//! copies. Below every module that reads an answer.

use http::{HeaderMap, HeaderValue};

/// Names of the headers the core writes and reads; static names skip parsing each time.
pub(crate) mod names {
    use http::HeaderName;
    pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
    pub const ZUORA_ENTITY_IDS: HeaderName = HeaderName::from_static("zuora-entity-ids");
    pub const ZUORA_TRACK_ID: HeaderName = HeaderName::from_static("zuora-track-id");
}

/// The headers an answer's metadata comes from, found in one pass over the map: nine
/// lookups by name cost a hash and a probe each, on every answer.
pub(crate) struct MetaHeaders<'a> {
    pub request_id: Option<&'a str>,
    pub track_id: Option<&'a str>,
    pub ratelimit_limit: Option<&'a str>,
    pub ratelimit_remaining: Option<&'a str>,
    pub ratelimit_reset: Option<&'a str>,
    pub concurrency_type: Option<&'a str>,
    pub concurrency_limit: Option<&'a str>,
    pub concurrency_remaining: Option<&'a str>,
    pub retry_after: Option<&'a str>,
}

impl<'a> MetaHeaders<'a> {
    /// Each header's first value as [`header_text`] reads it (a later repeat is ignored, as
    /// `HeaderMap::get` ignores it).
    pub fn scan(headers: &'a HeaderMap) -> Self {
        let mut first: [Option<&'a HeaderValue>; 9] = [None; 9];
        for (name, value) in headers {
            let slot = match name.as_str() {
                "zuora-request-id" => 0,
                "zuora-track-id" => 1,
                "ratelimit-limit" => 2,
                "ratelimit-remaining" => 3,
                "ratelimit-reset" => 4,
                "concurrency-limit-type" => 5,
                "concurrency-limit-limit" => 6,
                "concurrency-limit-remaining" => 7,
                "retry-after" => 8,
                _ => continue,
            };
            first[slot].get_or_insert(value);
        }
        let [
            request_id,
            track_id,
            ratelimit_limit,
            ratelimit_remaining,
            ratelimit_reset,
            concurrency_type,
            concurrency_limit,
            concurrency_remaining,
            retry_after,
        ] = first.map(|value| value.and_then(value_text));
        Self {
            request_id,
            track_id,
            ratelimit_limit,
            ratelimit_remaining,
            ratelimit_reset,
            concurrency_type,
            concurrency_limit,
            concurrency_remaining,
            retry_after,
        }
    }
}

/// How much of a message or header value the core keeps, in bytes.
pub(crate) const TEXT_LIMIT: usize = 1024;

/// A header's value as trimmed text, if it is visible ASCII.
pub(crate) fn header_text(
    headers: &HeaderMap,
    name: impl http::header::AsHeaderName,
) -> Option<&str> {
    headers.get(name).and_then(value_text)
}

fn value_text(value: &HeaderValue) -> Option<&str> {
    value.to_str().ok().map(str::trim).filter(|v| !v.is_empty())
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
