//! The OAuth client's id.

use crate::values::invalid_input::{InvalidInput, check_text, is_visible_ascii};
use crate::values::validated_string::validated_string;

/// An OAuth `client_id`: visible US-ASCII, 1 to 255 characters. Zuora's are exactly 36
/// (a UUID); the rule here is looser so that a simulator or proxy may use its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    fn validate(value: &str) -> Result<(), InvalidInput> {
        check_text(
            "client id",
            value,
            255,
            is_visible_ascii,
            "only visible US-ASCII characters (! to ~) are allowed",
        )
    }
}
validated_string!(ClientId);
