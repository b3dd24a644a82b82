//! # zuora-core: the sans-IO heart of zuora-rs
//!
//! Everything zuora-rs decides about Zuora's Reporting API lives here, as plain functions of
//! their inputs: validated types, request builders that produce [`http::Request`]s, parsers
//! that read [`http::Response`]s into typed results or typed errors. No sockets, no clock, no
//! threads, no async runtime: a transport (`zuora-async`, `zuora-blocking`, or your own HTTP
//! stack, in any language through `zuora-ffi`) sends the bytes and hands back the answer.
//!
//! ```
//! use zuora_core::{AccessToken, Environment, RunReport, ViewType};
//!
//! // 1. Describe the call with validated values: bad input fails here, before any IO.
//! let call = RunReport::new("ff808081529f4e3401529fd373730070".parse()?, ViewType::Summary)
//!     .idempotency_key("3f0c5d2e-6a47-4f0e-9d39-0c6b8f2e51aa".parse()?)
//!     .track_id("month-end-close".parse()?);
//! assert!("job:1".parse::<zuora_core::TrackId>().is_err());
//!
//! // 2. Build the request and send it with any HTTP client.
//! let token = AccessToken::new("c652cbc0ea384b9f81856a93a2a74538")?;
//! let request = call.to_request(&Environment::UsCloud2Production, &token)?;
//! assert_eq!(request.method(), http::Method::POST);
//! assert!(request.headers()["authorization"].is_sensitive());
//!
//! // 3. Parse whatever came back: the run id, or a typed error.
//! let answer = http::Response::builder()
//!     .status(400)
//!     .header("Zuora-Request-Id", "0c1a5ef0-9ccd-4a66-bb1c-9a4b6f1d2e3f")
//!     .body(r#"{"success":false,"response":"{\"errorId\":\"E1\",\"message\":\"An error occurred. The report with ID x does not exist.\",\"errorCode\":\"ZAN-USAGE-REST-ERROR\"}","links":null}"#)?;
//! let error = RunReport::parse_response(&answer).unwrap_err();
//! assert_eq!(error.status(), 400);
//! assert_eq!(error.request_id(), Some("0c1a5ef0-9ccd-4a66-bb1c-9a4b6f1d2e3f"));
//! assert!(matches!(error.kind, zuora_core::ResponseErrorKind::Reporting { .. }));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## How the crate is laid out
//! Modules depend only downwards (`cargo xtask cycles` checks it):
//! 1. **values**: `invalid`, `newtype`, `secret`, `ids`, `headers`, `status`, `environment`,
//!    `filter`;
//! 2. **wire**: `wire` (header reading), `transport` (request and response types, transport
//!    failures), `request`, `limits`, `response`, `export_decoder`;
//! 3. **errors**: `error`, the one error type, assembled from the wire layer's errors;
//! 4. **operations**, one per file above the `operation` trait: `oauth`, `run_report`, `runs`,
//!    `export`;
//! 5. **policies** (`retry`) and **configuration** (`config`);
//! 6. **machines**, which own the loops: `call` (one call and its retries), `paging`,
//!    `polling` (waiting for a run), `download` (an export's body).
//!
//! ## Where the project chose
//! Zuora's documents leave gaps; each choice is written where it is made and collected in
//! `docs/api-choices.md` in the repository. The notable ones here: `[]` is sent when a run has no
//! filters; `Zuora-Track-Id` may not start or end with a space; `Zuora-Entity-Ids` is one
//! hyphenated UUID; identifiers are at most 255 characters; only `gzip` bodies are decoded.
//!
//! ## Security
//! [`AccessToken`] and [`ClientSecret`] print as `[redacted]`, no error holds either, and the
//! `Authorization` header is marked sensitive. Plain `http://` is refused except for
//! loopback hosts unless explicitly allowed ([`BaseUrl::parse_allowing_insecure_http`]).

mod call;
mod client_methods;
mod config;
mod download;
mod entropy;
mod environment;
mod error;
mod export;
mod export_decoder;
mod filter;
mod headers;
mod ids;
mod invalid;
mod kind;
mod limits;
mod newtype;
mod oauth;
mod operation;
mod paging;
mod polling;
mod request;
mod response;
mod retry;
mod run_report;
mod runs;
mod secret;
mod status;
mod transport;
mod wire;

pub use call::{Call, Step};
pub use config::{
    BuildClient, ClientBuilder, ClientConfig, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT, DEFAULT_OVERALL_TIMEOUT, RunReportOptions,
};
pub use download::{Download, ExportHead};
pub use entropy::Entropy;
pub use environment::{BaseUrl, Environment};
pub use error::{Error, OutputFailure, PagingStop};
pub use export::{ExportReportRun, ExportSummary, is_gzipped};
pub use export_decoder::{DEFAULT_MAX_FIELD_BYTES, ExportDecoder, ExportError, ExportFormat};
pub use filter::{
    FilterClause, FilterField, FilterGroup, FilterOperator, LogicalOperator, parse_filter_groups,
};
pub use headers::{
    EntityIds, IDEMPOTENCY_KEY_MAX, IdempotencyKey, TRACK_ID_MAX, TrackId, format_uuid_v4,
};
pub use ids::{MAX_ID_LENGTH, ReportId, ReportRunId, ViewType};
pub use invalid::InvalidInput;
pub use kind::ErrorKind;
pub use limits::{ConcurrencyLimit, RateLimit, RateLimitWindow, RetryAfter};
pub use oauth::{ClientId, TOKEN_REFRESH_MARGIN, Token, TokenCache, TokenRequest};
pub use operation::{Operation, ResendSafety};
pub use paging::{DEFAULT_MAX_PAGES, DataPages, PageGuard, SearchAll};
pub use polling::{
    CANCEL_GRACE, PollDecision, PollPolicy, Wait, WaitControl, WaitOptions, WaitStep,
};
pub use request::{CallOptions, REPORTING_PREFIX};
pub use response::{
    DEFAULT_MAX_DECODED_BYTES, Reason, ResponseError, ResponseErrorKind, ResponseLimits,
    ResponseMeta, decode_body,
};
pub use retry::{AttemptContext, AttemptOutcome, Jitter, RetryDecision, RetryPolicy, SeededJitter};
pub use run_report::{ReportRunStarted, RunReport};
pub use runs::{
    CancelReportRun, DataPage, GetReportRun, LatestReportRun, ReportDataPage, ReportName,
    ReportRef, ReportRun, ReportSummary, SEARCH_PAGE_SIZE, SearchPage, SearchReports,
    parse_timestamp, resolve_report_name,
};
pub use secret::{AccessToken, ClientSecret, REDACTED};
pub use status::RunStatus;
pub use transport::{
    AsyncBody, AsyncStreamingTransport, AsyncTransport, AttemptTimeout, ClassifyTransportError,
    HttpRequest, HttpResponse, Now, ReadIdleTimeout, RequestBody, SyncStreamingTransport,
    SyncTransport, TransportErrorKind, TransportFailure, stamped_timeouts,
};

/// For the shared client methods' macro (not part of the API).
#[doc(hidden)]
pub use serde_json as __serde_json;

/// Re-export of the `http` crate whose types the API uses.
pub use http;
