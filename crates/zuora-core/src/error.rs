//! The one error type of zuora-rs.

use crate::invalid::InvalidInput;
use crate::response::ResponseError;

/// Every way a Zuora call can fail. Transports add their own variants in later versions,
/// hence `#[non_exhaustive]`. No variant ever holds a token or a client secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input broke a rule; nothing was sent.
    #[error("invalid input: {0}")]
    InvalidInput(#[from] InvalidInput),
    /// The request could not be assembled (a bug in zuora-rs if it ever happens); nothing
    /// was sent.
    #[error("could not build the request: {reason}")]
    RequestBuild {
        /// What went wrong.
        reason: String,
    },
    /// Zuora answered with an error, or with something that could not be read.
    #[error("Zuora API error: {0}")]
    Api(#[from] ResponseError),
}

impl Error {
    pub(crate) fn build(reason: &str) -> Self {
        Self::RequestBuild {
            reason: reason.to_owned(),
        }
    }
}
