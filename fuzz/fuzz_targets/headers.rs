//! The header and timestamp readers: `Retry-After` (seconds or HTTP dates), `RateLimit-*`,
//! run timestamps (epoch milliseconds or ISO-8601).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};
use zuora_core::{responses::RateLimit, responses::RetryAfter, operations::parse_timestamp};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(after) = RetryAfter::parse(text) {
        let _ = after.delay_from(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    }
    let _ = parse_timestamp(&serde_json::Value::from(text));
    if let Ok(number) = text.trim().parse::<u64>() {
        let _ = parse_timestamp(&serde_json::Value::from(number));
    }
    let mut headers = http::HeaderMap::new();
    if let Ok(value) = http::HeaderValue::from_str(text) {
        for name in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
            headers.insert(name, value.clone());
        }
        let limit = RateLimit::from_headers(&headers);
        let _ = (limit.limit(), limit.windows().count(), limit.is_exhausted());
    }
});
