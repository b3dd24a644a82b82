//! Secrets: values that never appear in `Debug`, `Display`, errors or logs.

use http::HeaderValue;

use crate::values::invalid_input::{InvalidInput, check_secret_text, is_visible_ascii};

/// What `Debug` and `Display` print in place of a secret.
pub const REDACTED: &str = "[redacted]";

/// What every secret type shares: a redacted `Debug` and `Display`, and parsing through
/// its validating `new`.
macro_rules! secret_impls {
    ($name:ident) => {
        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), REDACTED)
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(REDACTED)
            }
        }

        impl core::str::FromStr for $name {
            type Err = InvalidInput;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::new(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidInput;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidInput;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }
    };
}

/// An OAuth bearer token (`access_token` of `POST /oauth/token`).
///
/// Visible US-ASCII, 1 to 4096 characters (Zuora's are 32 hex characters).
///
/// ```
/// use zuora_core::values::AccessToken;
/// let token = AccessToken::new("c652cbc0ea384b9f81856a93a2a74538")?;
/// assert_eq!(format!("{token:?}"), "AccessToken([redacted])");
/// assert_eq!(token.to_string(), "[redacted]");
/// # Ok::<(), zuora_core::errors::InvalidInput>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// `Bearer <token>`, built once and marked sensitive: every call sends it, and a clone
    /// (one per call, from the cache) shares the bytes instead of copying them.
    authorization: HeaderValue,
}

const BEARER: &str = "Bearer ";

impl AccessToken {
    /// Validates and wraps a token. The error never quotes the value.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
        let value = value.into();
        check_secret_text(
            "access token",
            &value,
            4096,
            is_visible_ascii,
            "only visible US-ASCII characters (! to ~) are allowed",
        )?;
        let mut value = value;
        let mut text = Wiped(Vec::with_capacity(BEARER.len() + value.len()));
        text.0.extend_from_slice(BEARER.as_bytes());
        text.0.extend_from_slice(value.as_bytes());
        zeroize::Zeroize::zeroize(&mut value);
        // The header's bytes are the wiped buffer itself, shared by every clone and wiped
        // when the last one goes. Visible ASCII is always a valid header value; the error
        // says nothing of the value.
        let mut authorization = HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(text))
            .map_err(|_| InvalidInput::Malformed {
                field: "access token",
                reason: "not a valid header value".to_owned(),
            })?;
        authorization.set_sensitive(true);
        Ok(Self { authorization })
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose_secret(&self) -> &str {
        let bytes = self.authorization.as_bytes();
        // Built from `BEARER` and visible ASCII in `new`, so both always hold.
        let token = bytes.get(BEARER.len()..).unwrap_or_default();
        std::str::from_utf8(token).unwrap_or_default()
    }

    /// The `Authorization` header that sends it (marked sensitive).
    pub(crate) fn authorization(&self) -> HeaderValue {
        self.authorization.clone()
    }
}

secret_impls!(AccessToken);

/// Bytes that are overwritten before their memory is freed: the owner of a secret's shared
/// bytes (the `Authorization` header), and of request bodies.
pub(crate) struct Wiped(pub(crate) Vec<u8>);

impl AsRef<[u8]> for Wiped {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// An OAuth client secret (`client_secret` of `POST /oauth/token`).
///
/// Visible US-ASCII, 1 to 256 characters (Zuora documents at most 42).
///
/// ```
/// use zuora_core::values::ClientSecret;
/// let secret = ClientSecret::new("s3cr3t")?;
/// assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
/// # Ok::<(), zuora_core::errors::InvalidInput>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Validates and wraps a secret. The error never quotes the value.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
        let value = value.into();
        check_secret_text(
            "client secret",
            &value,
            256,
            is_visible_ascii,
            "only visible US-ASCII characters (! to ~) are allowed",
        )?;
        Ok(Self(value))
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

secret_impls!(ClientSecret);

impl Drop for ClientSecret {
    /// Overwrites the secret's bytes before its memory is freed, so a later heap read (a core
    /// dump, a reused allocation) does not find it. The token's header and every request
    /// body are wiped the same way; copies an HTTP library makes (its write buffers) are
    /// its own.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}
