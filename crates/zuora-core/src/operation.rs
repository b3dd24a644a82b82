//! What every Zuora operation is to the machines that run it: how to build its request, how
//! safe it is to send twice, and how to read its answer. Each operation implements this in
//! its own module; the machines (`call`, `wait`, …) never name a concrete operation.

use crate::environment::Environment;
use crate::error::Error;
use crate::response::{ResponseError, ResponseLimits};
use crate::secret::AccessToken;
use crate::transport::HttpRequest;
use crate::transport::HttpResponse;

/// Whether a request can be sent twice without doing its work twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendSafety {
    /// GET, DELETE, and token requests: safe to repeat.
    Idempotent,
    /// A POST with an `Idempotency-Key`: Zuora replays the first answer.
    IdempotencyKey,
    /// A POST without a key: repeated only when it provably never left.
    Unsafe,
}

/// An API operation: how to build its request and read its answer.
pub trait Operation {
    /// What a successful answer yields.
    type Output;
    /// A short name for logs and traces, such as `run_report`.
    fn name(&self) -> &'static str;
    /// Whether the request carries the bearer token (all but the token request do).
    fn needs_token(&self) -> bool {
        true
    }
    /// Whether a successful answer streams (is read by the transport as it arrives, bounded
    /// by idleness rather than by the attempt timeout).
    fn streams(&self) -> bool {
        false
    }
    /// Whether the request may be sent twice.
    fn resend_safety(&self) -> ResendSafety;
    /// Checks the operation's own input before anything is sent (the token request
    /// included); [`Call::start`](crate::machines::Call::start) runs it first.
    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }
    /// The request; `token` is `Some` whenever [`needs_token`](Self::needs_token) is true.
    fn to_request(
        &self,
        environment: &Environment,
        token: Option<&AccessToken>,
    ) -> Result<HttpRequest, Error>;
    /// Reads the answer.
    fn parse_response(
        &self,
        response: &HttpResponse,
        limits: ResponseLimits,
    ) -> Result<Self::Output, ResponseError>;
}
