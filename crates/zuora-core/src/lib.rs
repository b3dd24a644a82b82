#![doc = include_str!("../README.md")]

// The layers, lowest first: each module uses only those above it in this list, never one
// below (`cargo xtask cycles` checks the order, written there once).
pub mod client;
pub mod config;
pub mod driver;
pub mod errors;
pub mod exports;
pub mod filters;
pub mod machines;
pub mod operations;
pub mod policies;
pub mod pulls;
pub mod responses;
pub mod values;

// The common job, at the root: what a user of a transport names. Everything else is in
// the modules above, named for what they hold.
pub use config::{ClientBuilder, ClientConfig, RunReportOptions};
pub use errors::{Error, ErrorKind};
pub use exports::{ExportFormat, ExportSummary};
pub use operations::ReportRun;
pub use policies::{RetryPolicy, WaitOptions};
pub use values::{Environment, ReportId, ReportRef, ReportRunId, RunStatus, TrackId, ViewType};

/// The defaults of the configuration.
pub mod defaults {
    pub use crate::config::{
        DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_LOW_SPEED,
        DEFAULT_MAX_PAGES, DEFAULT_OVERALL_TIMEOUT, MAX_TIMEOUT,
    };
    pub use crate::exports::DEFAULT_MAX_FIELD_BYTES;
    pub use crate::responses::DEFAULT_MAX_DECODED_BYTES;
}

/// Re-export of the `http` crate whose types the API uses.
pub use http;
