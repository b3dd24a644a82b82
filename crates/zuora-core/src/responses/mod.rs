//! Reading Zuora's answers: metadata, rate limits and every error envelope.

pub(crate) mod header_text;
pub(crate) mod limits;
pub(crate) mod response;

pub use limits::{ConcurrencyLimit, RateLimit, RateLimitWindow, RetryAfter};
pub use response::{
    DEFAULT_MAX_DECODED_BYTES, Reason, ResponseError, ResponseErrorKind, ResponseLimits,
    ResponseMeta, decode_body,
};
