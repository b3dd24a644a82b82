//! Values of the optional request headers, validated against Zuora's rules.

use crate::values::invalid_input::{InvalidInput, check_text, is_visible_ascii};
use crate::values::validated_string::validated_string;

/// The maximum length of an `Idempotency-Key` (DEV: `<= 255`).
pub const IDEMPOTENCY_KEY_MAX: usize = 255;
/// The maximum length of a `Zuora-Track-Id`.
pub const TRACK_ID_MAX: usize = 64;

/// An `Idempotency-Key`: 1 to 255 visible US-ASCII characters (`!` to `~`).
///
/// Zuora documents only the length; header values cannot carry control characters, and
/// spaces are trimmed by HTTP at the ends. Not documented; this project's choice: visible
/// ASCII only, so that a key is sent and echoed byte for byte.
///
/// ```
/// use zuora_core::values::IdempotencyKey;
/// let key: IdempotencyKey = "3f0c5d2e-6a47-4f0e-9d39-0c6b8f2e51aa".parse()?;
/// assert!("a b".parse::<IdempotencyKey>().is_err());
/// assert!("k".repeat(256).parse::<IdempotencyKey>().is_err());
/// # Ok::<(), zuora_core::errors::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    fn validate(value: &str) -> Result<(), InvalidInput> {
        check_text(
            "Idempotency-Key",
            value,
            IDEMPOTENCY_KEY_MAX,
            is_visible_ascii,
            "only visible US-ASCII characters (! to ~) are allowed",
        )
    }

    /// A random (version 4) UUID key made from 16 bytes the caller draws from its own random
    /// source, as Zuora recommends. The core has no random source of its own.
    ///
    /// ```
    /// use zuora_core::values::IdempotencyKey;
    /// let key = IdempotencyKey::uuid_v4_from_bytes([0xAB; 16]);
    /// assert_eq!(key.as_str(), "abababab-abab-4bab-abab-abababababab");
    /// ```
    pub fn uuid_v4_from_bytes(bytes: [u8; 16]) -> Self {
        Self(format_uuid_v4(bytes))
    }
}

/// Formats 16 random bytes as a version 4 UUID (`xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`),
/// setting the version and variant bits (by the `uuid` crate, which builds from bytes
/// without IO). The caller supplies the randomness.
///
/// ```
/// assert_eq!(zuora_core::values::format_uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
/// ```
pub fn format_uuid_v4(bytes: [u8; 16]) -> String {
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}
validated_string!(IdempotencyKey);

/// Whether `c` may appear in a `Zuora-Track-Id`: printable US-ASCII except `: ; " '`.
fn is_track_id_char(c: char) -> bool {
    matches!(c, ' '..='~') && !matches!(c, ':' | ';' | '"' | '\'')
}

/// A `Zuora-Track-Id`: 1 to 64 printable US-ASCII characters, none of `:` `;` `"` `'`.
///
/// Zuora echoes it back in the response, so it links your logs to theirs. Spaces are
/// allowed inside but not at either end, where HTTP would strip them (this project's
/// choice, so that the echo matches what was sent).
///
/// ```
/// use zuora_core::TrackId;
/// let track: TrackId = "nightly-invoices/2026-11-28".parse()?;
/// let err = "job:42".parse::<TrackId>().unwrap_err();
/// assert!(err.to_string().contains("position 4"));
/// # Ok::<(), zuora_core::errors::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackId(String);

impl TrackId {
    fn validate(value: &str) -> Result<(), InvalidInput> {
        const FIELD: &str = "Zuora-Track-Id";
        check_text(
            FIELD,
            value,
            TRACK_ID_MAX,
            is_track_id_char,
            "only printable US-ASCII is allowed, and none of : ; \" '",
        )?;
        let ends = [
            (1, value.starts_with(' ')),
            (value.len(), value.ends_with(' ')),
        ];
        if let Some(&(position, _)) = ends.iter().find(|(_, space)| *space) {
            return Err(InvalidInput::ForbiddenCharacter {
                field: FIELD,
                position,
                found: ' ',
                rule: "a space may not start or end the value (HTTP would strip it)",
            });
        }
        Ok(())
    }
}
validated_string!(TrackId);

/// The `Zuora-Entity-Ids` header: the Multi-entity entity to act in.
///
/// Zuora documents a single entity id (the Reporting operations use the parameter
/// `GLOBAL_HEADER_Zuora_Entity_Ids_Single`), a 36-character hyphenated UUID. This type
/// accepts exactly that, hex digits in either case.
///
/// ```
/// use zuora_core::values::EntityIds;
/// let entity: EntityIds = "1a2b7a37-3e7d-4cb3-b0e2-883de9e766cc".parse()?;
/// assert!("1a2b7a37".parse::<EntityIds>().is_err());
/// # Ok::<(), zuora_core::errors::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityIds(String);

impl EntityIds {
    fn validate(value: &str) -> Result<(), InvalidInput> {
        const FIELD: &str = "Zuora-Entity-Ids";
        const LENGTH: usize = 36;
        if value.is_empty() {
            return Err(InvalidInput::Empty { field: FIELD });
        }
        if let Some((index, found)) = value.chars().enumerate().find(|&(index, c)| {
            let hyphen_slot = matches!(index, 8 | 13 | 18 | 23);
            index >= LENGTH || (hyphen_slot && c != '-') || (!hyphen_slot && !c.is_ascii_hexdigit())
        }) {
            if index >= LENGTH {
                return Err(InvalidInput::WrongLength {
                    field: FIELD,
                    length: value.chars().count(),
                    expected: LENGTH,
                });
            }
            return Err(InvalidInput::ForbiddenCharacter {
                field: FIELD,
                position: index + 1,
                found,
                rule: "an entity id is a hyphenated UUID (8-4-4-4-12 hex digits)",
            });
        }
        if value.len() != LENGTH {
            return Err(InvalidInput::WrongLength {
                field: FIELD,
                length: value.chars().count(),
                expected: LENGTH,
            });
        }
        Ok(())
    }
}
validated_string!(EntityIds);
