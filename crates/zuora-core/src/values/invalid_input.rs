//! The error for input that breaks a documented rule, found before any byte is sent.

/// How much of a rejected value an error quotes back, in characters.
const QUOTE_LIMIT: usize = 64;

/// A value that breaks one of the rules Zuora documents (or this project chose where
/// Zuora is silent). It names the field, the rule and where the value broke it.
///
/// Positions are 1-based character positions, as a person counts them.
/// Errors about secrets ([`AccessToken`](crate::values::AccessToken),
/// [`ClientSecret`](crate::values::ClientSecret)) never quote the offending character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    /// The value is empty and the field needs at least one character.
    #[error("{field} must not be empty")]
    Empty {
        /// The field, as Zuora names it (for example `Zuora-Track-Id`).
        field: &'static str,
    },
    /// The value is longer than the field allows.
    #[error("{field} is {length} characters long; at most {max} are allowed")]
    TooLong {
        /// The field.
        field: &'static str,
        /// The value's length in characters.
        length: usize,
        /// The documented maximum.
        max: usize,
    },
    /// The value has the wrong length for a fixed-length field.
    #[error("{field} is {length} characters long; it must be exactly {expected}")]
    WrongLength {
        /// The field.
        field: &'static str,
        /// The value's length in characters.
        length: usize,
        /// The required length.
        expected: usize,
    },
    /// A character the field does not allow.
    #[error("{field} has {found:?} at position {position}, which is not allowed: {rule}")]
    ForbiddenCharacter {
        /// The field.
        field: &'static str,
        /// 1-based character position of the first offending character.
        position: usize,
        /// The offending character.
        found: char,
        /// The rule, in words.
        rule: &'static str,
    },
    /// A character a secret field does not allow; the character itself is withheld.
    #[error("{field} has a character at position {position} that is not allowed: {rule}")]
    ForbiddenSecretCharacter {
        /// The field.
        field: &'static str,
        /// 1-based character position of the first offending character.
        position: usize,
        /// The rule, in words.
        rule: &'static str,
    },
    /// A value outside a closed set (such as `viewType`).
    #[error("{field} must be {expected}, not {found:?}")]
    NotOneOf {
        /// The field.
        field: &'static str,
        /// The value given (at most 64 characters of it).
        found: String,
        /// The accepted values, in words.
        expected: &'static str,
    },
    /// A structured value (URL, JSON document) that does not parse or breaks a rule.
    #[error("{field} is not valid: {reason}")]
    Malformed {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl InvalidInput {
    /// The field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty { field }
            | Self::TooLong { field, .. }
            | Self::WrongLength { field, .. }
            | Self::ForbiddenCharacter { field, .. }
            | Self::ForbiddenSecretCharacter { field, .. }
            | Self::NotOneOf { field, .. }
            | Self::Malformed { field, .. } => field,
        }
    }

    pub(crate) fn not_one_of(field: &'static str, found: &str, expected: &'static str) -> Self {
        Self::NotOneOf {
            field,
            found: found.chars().take(QUOTE_LIMIT).collect(),
            expected,
        }
    }
}

/// `value` if it lies in `min..=max`, else a [`InvalidInput::Malformed`] naming the range:
/// how settings refuse zero and absurd values (durations, counts, sizes) when they are set.
pub(crate) fn in_range<T: PartialOrd + Copy + core::fmt::Debug>(
    field: &'static str,
    value: T,
    min: T,
    max: T,
) -> Result<T, InvalidInput> {
    if (min..=max).contains(&value) {
        return Ok(value);
    }
    Err(InvalidInput::Malformed {
        field,
        reason: format!("it must be from {min:?} to {max:?}, not {value:?}"),
    })
}

/// Checks `1..=max` characters, each accepted by `allowed`; the first failure wins,
/// length before characters so an over-long paste is reported as such.
pub(crate) fn check_text(
    field: &'static str,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
    rule: &'static str,
) -> Result<(), InvalidInput> {
    check_chars(field, value, max, allowed, rule, Quote::Character)
}

/// Like [`check_text`], for secrets: the error never quotes the character.
pub(crate) fn check_secret_text(
    field: &'static str,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
    rule: &'static str,
) -> Result<(), InvalidInput> {
    check_chars(field, value, max, allowed, rule, Quote::Nothing)
}

/// Whether an error may show the offending character.
enum Quote {
    Character,
    Nothing,
}

fn check_chars(
    field: &'static str,
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
    rule: &'static str,
    quote: Quote,
) -> Result<(), InvalidInput> {
    check_length(field, value, max)?;
    let Some((position, found)) = first_forbidden(value, allowed) else {
        return Ok(());
    };
    Err(match quote {
        Quote::Character => InvalidInput::ForbiddenCharacter {
            field,
            position,
            found,
            rule,
        },
        Quote::Nothing => InvalidInput::ForbiddenSecretCharacter {
            field,
            position,
            rule,
        },
    })
}

fn check_length(field: &'static str, value: &str, max: usize) -> Result<(), InvalidInput> {
    if value.is_empty() {
        return Err(InvalidInput::Empty { field });
    }
    // Byte length bounds character length from above, so the common case skips counting.
    if value.len() > max {
        let length = value.chars().count();
        if length > max {
            return Err(InvalidInput::TooLong { field, length, max });
        }
    }
    Ok(())
}

fn first_forbidden(value: &str, allowed: impl Fn(char) -> bool) -> Option<(usize, char)> {
    value
        .chars()
        .enumerate()
        .find(|&(_, c)| !allowed(c))
        .map(|(index, c)| (index + 1, c))
}

/// Visible US-ASCII: `!` (0x21) to `~` (0x7E), no space, no control character.
pub(crate) fn is_visible_ascii(c: char) -> bool {
    matches!(c, '!'..='~')
}
