//! What every Zuora operation is to the machines that run it: how to build its request, how
//! safe it is to send twice, and how to read its answer. Each operation implements this in
//! its own module; the machines (`call`, `wait`, …) never name a concrete operation.

use crate::driver::transport::HttpRequest;
use crate::driver::transport::HttpResponse;
use crate::errors::error::Error;
use crate::responses::response::{ResponseError, ResponseLimits};
use crate::values::environment::Environment;
use crate::values::secret::AccessToken;

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

/// What authorises a request: an [`AccessToken`] for every Reporting call, [`NoToken`] for
/// the token request itself. Sealed: these two are all there is.
pub trait Credential: sealed::Sealed {
    /// Whether a call must get a token before it can send.
    const NEEDS_TOKEN: bool;
    /// This credential from the token a call holds, if it has what it takes.
    fn pick(token: Option<&AccessToken>) -> Option<&Self>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::values::secret::AccessToken {}
    impl Sealed for super::NoToken {}
}

impl Credential for AccessToken {
    const NEEDS_TOKEN: bool = true;
    fn pick(token: Option<&AccessToken>) -> Option<&Self> {
        token
    }
}

/// The credential of the token request: none (its client credentials are in its body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoToken;

impl Credential for NoToken {
    const NEEDS_TOKEN: bool = false;
    fn pick(_: Option<&AccessToken>) -> Option<&Self> {
        Some(&NoToken)
    }
}

/// An API operation: how to build its request and read its answer.
pub trait Operation {
    /// What a successful answer yields.
    type Output;
    /// What authorises its request ([`AccessToken`], or [`NoToken`] for the token request).
    type Credential: Credential;
    /// A short name for logs and traces, such as `run_report`.
    fn name(&self) -> &'static str;
    /// Whether a successful answer streams (is read by the transport as it arrives, bounded
    /// by idleness rather than by the attempt timeout).
    fn streams(&self) -> bool {
        false
    }
    /// Whether the request may be sent twice.
    fn resend_safety(&self) -> ResendSafety;
    /// Whether a successful answer carries a secret (the token answer), so its bytes are
    /// overwritten once read.
    fn answer_holds_secret(&self) -> bool {
        false
    }
    /// Checks the operation's own input before anything is sent (the token request
    /// included); [`Call::start`](crate::machines::Call::start) runs it first.
    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }
    /// The whole HTTP request, ready for any transport.
    fn to_request(
        &self,
        environment: &Environment,
        credential: &Self::Credential,
    ) -> Result<HttpRequest, Error>;
    /// Reads the answer.
    fn parse_response(
        &self,
        response: &HttpResponse,
        limits: ResponseLimits,
    ) -> Result<Self::Output, ResponseError>;
}
