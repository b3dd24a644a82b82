//! Identifiers that travel in URL paths, and the report view type.

use crate::values::invalid_input::{InvalidInput, check_text};
use crate::values::validated_string::validated_string;

/// Longest identifier accepted. Zuora's ids are 32 hex characters; Zuora documents no
/// maximum. Not documented; this project's choice: 255, generous and bounded.
pub const MAX_ID_LENGTH: usize = 255;

const PATH_ID_RULE: &str = "identifiers must not contain control characters";

fn validate_path_segment(field: &'static str, value: &str) -> Result<(), InvalidInput> {
    check_text(
        field,
        value,
        MAX_ID_LENGTH,
        |c| !c.is_control(),
        PATH_ID_RULE,
    )?;
    // "." and ".." are dot-segments: URL normalisation would turn them into another path.
    if value == "." || value == ".." {
        return Err(InvalidInput::Malformed {
            field,
            reason: format!("{value:?} would be read as a relative path, not an identifier"),
        });
    }
    Ok(())
}

/// Everything but RFC 3986's unreserved characters (letters, digits, `-` `.` `_` `~`) is
/// percent-encoded: safe in a path segment and in a query value alike.
const ENCODED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Appends `segment` percent-encoded (by the `percent-encoding` crate, already in the tree
/// through `url`), so an id can never add a path segment or a query.
pub(crate) fn push_path_segment(out: &mut String, segment: &str) {
    out.extend(percent_encoding::utf8_percent_encode(segment, ENCODED));
}

/// The id of a report definition (`ReportId`), as returned by *Search reports by name*.
///
/// Non-empty, at most [`MAX_ID_LENGTH`] characters, no control characters, and not `.` or `..`.
/// Any other character is allowed and percent-encoded when the id is put in a URL path.
///
/// ```
/// use zuora_core::ReportId;
/// let id: ReportId = "ff808081529f4e3401529fd373730070".parse()?;
/// assert_eq!(id.as_str(), "ff808081529f4e3401529fd373730070");
/// assert!("".parse::<ReportId>().is_err());
/// # Ok::<(), zuora_core::errors::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReportId(String);

impl ReportId {
    fn validate(value: &str) -> Result<(), InvalidInput> {
        validate_path_segment("ReportId", value)
    }
}
validated_string!(ReportId);

/// The id of one run of a report (`reportRunId`), as returned by *Run a report*.
///
/// Same rules as [`ReportId`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReportRunId(String);

impl ReportRunId {
    fn validate(value: &str) -> Result<(), InvalidInput> {
        validate_path_segment("ReportRunId", value)
    }
}
validated_string!(ReportRunId);

/// The `viewType` of a run: which of the report's views Zuora computes.
///
/// Parsing accepts any letter case (`detail`, `SUMMARY`); output is always the documented
/// casing, `Detail` or `Summary`.
///
/// ```
/// use zuora_core::ViewType;
/// assert_eq!("summary".parse::<ViewType>()?, ViewType::Summary);
/// assert_eq!(ViewType::Detail.as_str(), "Detail");
/// # Ok::<(), zuora_core::errors::InvalidInput>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewType {
    /// The report's row-level view (`Detail`).
    Detail,
    /// The report's aggregated view (`Summary`).
    Summary,
}

impl ViewType {
    /// The documented spelling: `Detail` or `Summary`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Detail => "Detail",
            Self::Summary => "Summary",
        }
    }
}

impl core::str::FromStr for ViewType {
    type Err = InvalidInput;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.eq_ignore_ascii_case("detail") {
            Ok(Self::Detail)
        } else if value.eq_ignore_ascii_case("summary") {
            Ok(Self::Summary)
        } else {
            Err(InvalidInput::not_one_of(
                "viewType",
                value,
                "Detail or Summary",
            ))
        }
    }
}

impl TryFrom<&str> for ViewType {
    type Error = InvalidInput;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl core::fmt::Display for ViewType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ViewType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ViewType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        value.parse().map_err(serde::de::Error::custom)
    }
}
