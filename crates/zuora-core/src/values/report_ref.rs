//! A report as people name it: by id, or by exact name.

use crate::values::ids::ReportId;

/// A report named by id or by exact name, as people give it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReportRef {
    /// A report id.
    Id(ReportId),
    /// An exact report name, resolved by search.
    Name(ReportName),
}

/// A report's exact name, as a search must match it: not blank, at most
/// [`MAX_ID_LENGTH`](crate::values::MAX_ID_LENGTH) characters, no control characters. Kept as given
/// (names are matched exactly, spaces included).
///
/// ```
/// use zuora_core::values::ReportName;
/// let name: ReportName = "Invoice Detail".parse()?;
/// assert_eq!(name.as_str(), "Invoice Detail");
/// assert!("".parse::<ReportName>().is_err());
/// assert!("   ".parse::<ReportName>().is_err());
/// # Ok::<(), zuora_core::errors::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReportName(String);

impl ReportName {
    fn validate(value: &str) -> Result<(), crate::values::invalid_input::InvalidInput> {
        if value.trim().is_empty() {
            return Err(crate::values::invalid_input::InvalidInput::Empty {
                field: "report name",
            });
        }
        crate::values::invalid_input::check_text(
            "report name",
            value,
            crate::values::MAX_ID_LENGTH,
            |c| !c.is_control(),
            "a report name has no control characters",
        )
    }
}
crate::values::validated_string::validated_string!(ReportName);

impl ReportRef {
    /// 32 hexadecimal characters (the shape of Zuora's ids) are an id; anything else is a
    /// name. Use the variants directly when a name happens to look like an id.
    ///
    /// ```
    /// use zuora_core::ReportRef;
    /// assert!(matches!(ReportRef::parse("ff808081529f4e3401529fd373730070")?, ReportRef::Id(_)));
    /// assert!(matches!(ReportRef::parse("Invoice Detail")?, ReportRef::Name(_)));
    /// assert!(ReportRef::parse("  ").is_err());
    /// # Ok::<(), zuora_core::errors::InvalidInput>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, crate::values::invalid_input::InvalidInput> {
        if text.trim().is_empty() {
            return Err(crate::values::invalid_input::InvalidInput::Empty {
                field: "report name or id",
            });
        }
        if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Self::Id(text.parse()?));
        }
        Ok(Self::Name(text.parse()?))
    }
}
