#![doc = include_str!("../README.md")]

mod call;
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
mod session;
mod status;
mod steps;
mod task;
mod transport;
mod wire;

// The common job, at the root: what a user of a transport names. Everything else is in
// the modules below, named for what they hold.
pub use config::{ClientBuilder, ClientConfig, RunReportOptions};
pub use environment::Environment;
pub use error::Error;
pub use export::ExportSummary;
pub use export_decoder::ExportFormat;
pub use headers::TrackId;
pub use ids::{ReportId, ReportRunId, ViewType};
pub use kind::ErrorKind;
pub use polling::WaitOptions;
pub use retry::RetryPolicy;
pub use runs::{ReportRef, ReportRun};
pub use status::RunStatus;

/// Validated values: identifiers, headers, secrets, environments and their limits. Each
/// refuses bad input with [`InvalidInput`](crate::errors::InvalidInput) when it is made.
pub mod values {
    pub use crate::environment::{BaseUrl, Environment};
    pub use crate::headers::{
        EntityIds, IDEMPOTENCY_KEY_MAX, IdempotencyKey, TRACK_ID_MAX, TrackId, format_uuid_v4,
    };
    pub use crate::ids::{MAX_ID_LENGTH, ReportId, ReportRunId, ViewType};
    pub use crate::oauth::ClientId;
    pub use crate::runs::{ReportName, ReportRef};
    pub use crate::secret::{AccessToken, ClientSecret, REDACTED};
    pub use crate::status::RunStatus;
}

/// Filters that replace a report's saved filters for one run.
pub mod filters {
    pub use crate::filter::{
        FilterClause, FilterField, FilterGroup, FilterOperator, LogicalOperator,
        parse_filter_groups,
    };
}

/// The Zuora operations: each builds its request and reads its answer, with no IO.
pub mod operations {
    pub use crate::export::ExportReportRun;
    pub use crate::oauth::{Token, TokenRequest};
    pub use crate::operation::{Credential, NoToken, Operation, ResendSafety};
    pub use crate::request::{CallOptions, REPORTING_PREFIX};
    pub use crate::run_report::{ReportRunStarted, RunReport};
    pub use crate::runs::{
        CancelReportRun, DataPage, GetReportRun, LatestReportRun, ReportDataPage, ReportRun,
        ReportSummary, SEARCH_PAGE_SIZE, SearchPage, SearchReports, parse_timestamp,
        resolve_report_name,
    };
}

/// The engine: state machines a driver feeds events and asks for the next action (one call
/// and its retries, paging, waiting for a run, downloading an export), the token cache and
/// the entropy for ids and jitter.
pub mod machines {
    pub use crate::call::{Call, Step};
    pub use crate::download::{Download, ExportHead};
    pub use crate::entropy::Entropy;
    pub use crate::oauth::{TOKEN_REFRESH_MARGIN, TokenCache};
    pub use crate::paging::{DEFAULT_MAX_PAGES, DataPages, PageGuard, SearchAll};
    pub use crate::polling::{CANCEL_GRACE, PollDecision, Wait, WaitControl, WaitStep};
    pub use crate::session::{Exchange, Session};
    pub use crate::steps::{ExchangeEvent, Row, TaskStep};
    pub use crate::task::{Machine, Task, TaskOutput};
}

/// Policies: when to try again and when to look again.
pub mod policies {
    pub use crate::polling::{PollPolicy, WaitOptions};
    pub use crate::retry::{
        AttemptContext, AttemptOutcome, Jitter, RetryDecision, RetryPolicy, SeededJitter,
    };
}

/// Reading Zuora's answers: metadata, rate limits and every error envelope.
pub mod responses {
    pub use crate::limits::{ConcurrencyLimit, RateLimit, RateLimitWindow, RetryAfter};
    pub use crate::response::{
        DEFAULT_MAX_DECODED_BYTES, Reason, ResponseError, ResponseErrorKind, ResponseLimits,
        ResponseMeta, decode_body,
    };
}

/// Exports: the streaming converter (UTF-16 tab-separated to CSV, TSV or raw) and what a
/// download wrote.
pub mod exports {
    pub use crate::export::{ExportReportRun, ExportSummary, is_gzipped};
    pub use crate::export_decoder::{
        DEFAULT_MAX_FIELD_BYTES, ExportDecoder, ExportError, ExportFormat,
    };
}

/// Errors: the one [`Error`], its [`ErrorKind`] and their parts.
pub mod errors {
    pub use crate::error::{Error, OutputFailure, PagingStop};
    pub use crate::invalid::InvalidInput;
    pub use crate::kind::ErrorKind;
}

/// What a driver (an HTTP stack) implements and hands over: the transport traits, the
/// request and response types, the clock reading and the failure classification.
pub mod driver {
    pub use crate::config::BuildClient;
    pub use crate::transport::{
        AsyncBody, AsyncStreamingTransport, AsyncTransport, ClassifyTransportError, HttpRequest,
        HttpResponse, Now, RequestBody, SyncStreamingTransport, SyncTransport, TransportErrorKind,
        TransportFailure, answer_from_parts, stamped_timeouts,
    };
}

/// The defaults of the configuration.
pub mod defaults {
    pub use crate::config::{
        DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
        DEFAULT_OVERALL_TIMEOUT,
    };
    pub use crate::export_decoder::DEFAULT_MAX_FIELD_BYTES;
    pub use crate::paging::DEFAULT_MAX_PAGES;
    pub use crate::response::DEFAULT_MAX_DECODED_BYTES;
}

/// Re-export of the `http` crate whose types the API uses.
pub use http;
