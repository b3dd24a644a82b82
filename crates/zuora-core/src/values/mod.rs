//! Validated values: identifiers, headers, secrets, environments and their limits. Each
//! refuses bad input with [`InvalidInput`](crate::values::invalid_input::InvalidInput) when it is made.
//!
//! The lowest layer: it uses no other module of the crate.

pub(crate) mod client_id;
pub(crate) mod environment;
pub(crate) mod headers;
pub(crate) mod ids;
pub(crate) mod invalid_input;
pub(crate) mod report_ref;
pub(crate) mod secret;
pub(crate) mod status;
pub(crate) mod validated_string;

pub use client_id::ClientId;
pub use environment::{BaseUrl, Environment};
pub use headers::{
    EntityIds, IDEMPOTENCY_KEY_MAX, IdempotencyKey, TRACK_ID_MAX, TrackId, format_uuid_v4,
};
pub use ids::{MAX_ID_LENGTH, ReportId, ReportRunId, ViewType};
pub use report_ref::{ReportName, ReportRef};
pub use secret::{AccessToken, ClientSecret, REDACTED};
pub use status::RunStatus;
