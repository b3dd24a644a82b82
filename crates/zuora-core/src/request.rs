//! What every Reporting request carries: URL, bearer token and the optional common headers.

use http::Method;
use http::header::{ACCEPT_ENCODING, AUTHORIZATION, HeaderValue};

use crate::error::Error;
use crate::headers::{EntityIds, TrackId};
use crate::secret::AccessToken;
use crate::transport::{HttpRequest, RequestBody};

/// The path every Reporting operation starts with, after the environment's base URL.
pub const REPORTING_PREFIX: &str = "/reporting/api/rest/v1";

/// Headers any Reporting call may carry besides the token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// `Zuora-Track-Id`, echoed by Zuora to tie your logs to theirs.
    pub track_id: Option<TrackId>,
    /// `Zuora-Entity-Ids`, for Multi-entity tenants.
    pub entity_ids: Option<EntityIds>,
    /// Send `Accept-Encoding: gzip` (Zuora then compresses answers over 1000 bytes).
    pub accept_gzip: bool,
}

/// Starts a request with the headers every call shares. `Authorization` is marked sensitive
/// so that HTTP stacks keep it out of their logs.
pub(crate) fn start_request(
    method: Method,
    url: String,
    token: &AccessToken,
    options: &CallOptions,
) -> Result<http::request::Builder, Error> {
    let mut authorization = HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
        // The token was validated as visible ASCII; say nothing of its value regardless.
        .map_err(|_| Error::build("the access token is not a valid header value"))?;
    authorization.set_sensitive(true);
    let mut builder = http::Request::builder()
        .method(method)
        .uri(url)
        .header(AUTHORIZATION, authorization);
    if options.accept_gzip {
        builder = builder.header(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if let Some(track_id) = &options.track_id {
        builder = builder.header("zuora-track-id", header_value(track_id.as_str())?);
    }
    if let Some(entity_ids) = &options.entity_ids {
        builder = builder.header("zuora-entity-ids", header_value(entity_ids.as_str())?);
    }
    Ok(builder)
}

/// A validated value as a header value; the validators admit only visible ASCII (and inner
/// spaces), so this fails only if a rule and this function disagree.
pub(crate) fn header_value(text: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(text)
        .map_err(|_| Error::build("a validated value is not a valid header value"))
}

/// Finishes a builder into a request, turning the `http` crate's error into ours.
pub(crate) fn finish(builder: http::request::Builder, body: Vec<u8>) -> Result<HttpRequest, Error> {
    builder
        .body(RequestBody::from(body))
        .map_err(|err| Error::build(&format!("the request could not be assembled: {err}")))
}
