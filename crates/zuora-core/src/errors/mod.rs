//! Errors: the one [`Error`], its [`ErrorKind`] and their parts.

pub(crate) mod error;
pub(crate) mod error_kind;

pub use crate::values::invalid_input::InvalidInput;
pub use error::{Error, OutputFailure, PagingStop};
pub use error_kind::ErrorKind;
