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

/// The headers an answer's metadata comes from.
#[derive(Clone, Copy)]
pub(crate) enum Meta {
    RequestId,
    TrackId,
    RateLimitLimit,
    RateLimitRemaining,
    RateLimitReset,
    ConcurrencyType,
    ConcurrencyLimit,
    ConcurrencyRemaining,
    RetryAfter,
}

impl Meta {
    fn of(name: &str) -> Option<Self> {
        Some(match name {
            "zuora-request-id" => Self::RequestId,
            "zuora-track-id" => Self::TrackId,
            "ratelimit-limit" => Self::RateLimitLimit,
            "ratelimit-remaining" => Self::RateLimitRemaining,
            "ratelimit-reset" => Self::RateLimitReset,
            "concurrency-limit-type" => Self::ConcurrencyType,
            "concurrency-limit-limit" => Self::ConcurrencyLimit,
            "concurrency-limit-remaining" => Self::ConcurrencyRemaining,
            "retry-after" => Self::RetryAfter,
            _ => return None,
        })
    }
}

/// The [`Meta`] headers of an answer, found in one pass over the map: nine lookups by name
/// cost a hash and a probe each, on every answer.
pub(crate) struct MetaHeaders<'a>([Option<&'a HeaderValue>; 9]);

impl<'a> MetaHeaders<'a> {
    /// Each header's first value (a later repeat is ignored, as `HeaderMap::get` ignores it).
    pub fn scan(headers: &'a HeaderMap) -> Self {
        let mut first = [None; 9];
        for (name, value) in headers {
            if let Some(which) = Meta::of(name.as_str()) {
                first[which as usize].get_or_insert(value);
            }
        }
        Self(first)
    }

    /// The header's value as [`header_text`] reads it.
    pub fn text(&self, which: Meta) -> Option<&'a str> {
        self.0[which as usize].and_then(value_text)
    }

    /// The same, copied and cut to [`TEXT_LIMIT`] bytes.
    pub fn bounded(&self, which: Meta) -> Option<String> {
        self.text(which).map(|text| bounded(text, TEXT_LIMIT))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One pass reads what a lookup by name reads: the first value, trimmed, visible ASCII.
    #[test]
    fn a_scan_agrees_with_lookups_by_name() {
        let mut headers = HeaderMap::new();
        headers.append("zuora-request-id", HeaderValue::from_static(" first "));
        headers.append("zuora-request-id", HeaderValue::from_static("second"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("ratelimit-remaining", HeaderValue::from_static("   "));
        let not_text = HeaderValue::from_bytes(b"caf\xc3\xa9").expect("a header value");
        headers.append("zuora-track-id", not_text);
        headers.append("zuora-track-id", HeaderValue::from_static("visible"));
        headers.insert("retry-after", HeaderValue::from_static("7"));
        let found = MetaHeaders::scan(&headers);
        for (which, name) in [
            (Meta::RequestId, "zuora-request-id"),
            (Meta::TrackId, "zuora-track-id"),
            (Meta::RateLimitRemaining, "ratelimit-remaining"),
            (Meta::RateLimitLimit, "ratelimit-limit"),
            (Meta::RetryAfter, "retry-after"),
        ] {
            assert_eq!(found.text(which), header_text(&headers, name), "{name}");
        }
        assert_eq!(found.text(Meta::RequestId), Some("first"));
        assert_eq!(found.text(Meta::TrackId), None);
        assert_eq!(found.text(Meta::RetryAfter), Some("7"));
    }
}
