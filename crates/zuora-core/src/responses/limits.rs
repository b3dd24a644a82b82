//! What Zuora says about its limits: `RateLimit-*`, `Concurrency-Limit-*` and `Retry-After`.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use crate::responses::header_text::{Meta, MetaHeaders};

/// One window of `RateLimit-Limit`, such as `50000;w=60`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitWindow {
    /// Requests allowed in the window.
    pub quota: u64,
    /// The window's length.
    pub window: Duration,
}

/// The `RateLimit-*` headers of one response (IETF RateLimit draft, as Zuora sends them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    limit_header: Option<String>,
    /// `RateLimit-Remaining`: requests left in the window closest to exhaustion.
    pub remaining: Option<u64>,
    /// `RateLimit-Reset`: time until that window resets.
    pub reset: Option<Duration>,
}

impl RateLimit {
    /// Reads the headers; absent or unreadable values are `None`.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self::from_found(&MetaHeaders::scan(headers))
    }

    pub(crate) fn from_found(found: &MetaHeaders<'_>) -> Self {
        Self {
            limit_header: found.bounded(Meta::RateLimitLimit),
            remaining: number(found.text(Meta::RateLimitRemaining)),
            reset: number(found.text(Meta::RateLimitReset)).map(Duration::from_secs),
        }
    }

    /// The quota of the window closest to exhaustion (the first item of `RateLimit-Limit`).
    pub fn limit(&self) -> Option<u64> {
        let first = self.limit_header.as_deref()?.split(',').next()?;
        first.split(';').next()?.trim().parse().ok()
    }

    /// The windows listed in `RateLimit-Limit` (items with a `w=` parameter).
    pub fn windows(&self) -> impl Iterator<Item = RateLimitWindow> + '_ {
        self.limit_header
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let quota = parts.next()?.trim().parse().ok()?;
                let seconds = parts
                    .find_map(|p| p.trim().strip_prefix("w="))?
                    .parse()
                    .ok()?;
                Some(RateLimitWindow {
                    quota,
                    window: Duration::from_secs(seconds),
                })
            })
    }

    /// The raw `RateLimit-Limit` value.
    pub fn limit_header(&self) -> Option<&str> {
        self.limit_header.as_deref()
    }

    /// Whether the response said no request is left in the current window.
    pub fn is_exhausted(&self) -> bool {
        self.remaining == Some(0)
    }
}

/// The `Concurrency-Limit-*` headers, read when present and never required (reference §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConcurrencyLimit {
    /// `Concurrency-Limit-Type`, such as `default`.
    pub limit_type: Option<String>,
    /// `Concurrency-Limit-Limit`.
    pub limit: Option<u64>,
    /// `Concurrency-Limit-Remaining`.
    pub remaining: Option<u64>,
}

impl ConcurrencyLimit {
    /// Reads the headers; absent or unreadable values are `None`.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self::from_found(&MetaHeaders::scan(headers))
    }

    pub(crate) fn from_found(found: &MetaHeaders<'_>) -> Self {
        Self {
            limit_type: found.bounded(Meta::ConcurrencyType),
            limit: number(found.text(Meta::ConcurrencyLimit)),
            remaining: number(found.text(Meta::ConcurrencyRemaining)),
        }
    }
}

fn number(text: Option<&str>) -> Option<u64> {
    text?.parse().ok()
}

/// A `Retry-After` value: a delay in seconds or an HTTP date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: 30`.
    Delay(Duration),
    /// `Retry-After: Sun, 06 Nov 1994 08:49:37 GMT`.
    At(SystemTime),
}

impl RetryAfter {
    /// Parses delta-seconds or any of the three HTTP-date forms of RFC 9110 §5.6.7.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use zuora_core::responses::RetryAfter;
    /// assert_eq!(RetryAfter::parse("7"), Some(RetryAfter::Delay(Duration::from_secs(7))));
    /// let at = RetryAfter::parse("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
    /// assert_eq!(at, RetryAfter::At(UNIX_EPOCH + Duration::from_secs(784_111_777)));
    /// assert_eq!(RetryAfter::parse("soon"), None);
    /// ```
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            return value
                .parse()
                .ok()
                .map(|s| Self::Delay(Duration::from_secs(s)));
        }
        parse_http_date(value).map(Self::At)
    }

    /// Reads the `Retry-After` header, if present and readable.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        MetaHeaders::scan(headers)
            .text(Meta::RetryAfter)
            .and_then(Self::parse)
    }

    /// How long to wait from `now` (zero for a date already past).
    pub fn delay_from(&self, now: SystemTime) -> Duration {
        match *self {
            Self::Delay(delay) => delay,
            Self::At(at) => at.duration_since(now).unwrap_or(Duration::ZERO),
        }
    }
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`)
/// and asctime (`Sun Nov  6 08:49:37 1994`), by the `httpdate` crate (already in the tree
/// through hyper): it bounds the year to four digits, so a hostile date cannot overflow.
fn parse_http_date(value: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn all_three_http_date_forms_agree() {
        let expected = UNIX_EPOCH + Duration::from_secs(784_111_777);
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn rejects_nonsense_dates() {
        for text in [
            "",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            // Issue 12, crash 1: years that overflowed the old date arithmetic.
            "Sun, 06 Nov 300000000000 08:49:37 GMT",
            "n 6 Nov 992222222224 8:4:9 GMT",
            "-5",
            "1e3",
        ] {
            assert_eq!(RetryAfter::parse(text), None, "{text}");
        }
    }

    #[test]
    fn date_in_the_past_means_no_wait() {
        let at = RetryAfter::At(UNIX_EPOCH + Duration::from_secs(10));
        assert_eq!(
            at.delay_from(UNIX_EPOCH + Duration::from_secs(20)),
            Duration::ZERO
        );
        assert_eq!(
            at.delay_from(UNIX_EPOCH + Duration::from_secs(4)),
            Duration::from_secs(6)
        );
    }

    #[test]
    fn rate_limit_windows_follow_zuora_format() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "RateLimit-Limit",
            http::HeaderValue::from_static("2250000, 50000;w=60, 2250000;w=3600, 27000000;w=86400"),
        );
        headers.insert("RateLimit-Remaining", http::HeaderValue::from_static("0"));
        headers.insert("RateLimit-Reset", http::HeaderValue::from_static("42"));
        let limit = RateLimit::from_headers(&headers);
        assert_eq!(limit.limit(), Some(2_250_000));
        assert_eq!(limit.windows().count(), 3);
        assert_eq!(
            limit.windows().next(),
            Some(RateLimitWindow {
                quota: 50_000,
                window: Duration::from_secs(60)
            })
        );
        assert!(limit.is_exhausted());
        assert_eq!(limit.reset, Some(Duration::from_secs(42)));
    }
}
