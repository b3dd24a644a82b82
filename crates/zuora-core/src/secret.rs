//! Secrets: values that never appear in `Debug`, `Display`, errors or logs.

use crate::invalid::{InvalidInput, check_secret_text, is_visible_ascii};

/// What `Debug` and `Display` print in place of a secret.
pub const REDACTED: &str = "[redacted]";

macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident, field = $field:literal, max = $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps a secret. The error never quotes the value.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
                let value = value.into();
                check_secret_text(
                    $field,
                    &value,
                    $max,
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

secret_string!(
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
    AccessToken,
    field = "access token",
    max = 4096
);

secret_string!(
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
    ClientSecret,
    field = "client secret",
    max = 256
);
