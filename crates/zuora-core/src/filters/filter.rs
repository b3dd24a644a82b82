//! Filter groups that override a report's saved filters for one run (`POSTRunReportType`).

use serde::{Deserialize, Serialize};

use crate::values::invalid_input::InvalidInput;

/// How the clauses of a [`FilterGroup`] combine. Serialised as `{"value": "AND"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogicalOperator {
    /// Every clause must hold.
    And,
    /// At least one clause must hold.
    Or,
}

impl LogicalOperator {
    /// `AND` or `OR`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::And => "AND",
            Self::Or => "OR",
        }
    }
}

/// The comparison of a [`FilterClause`]: the 21 operators of Zuora's OpenAPI description.
/// Serialised as the operator's string, such as `"="` or `"is not null"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)] // Each variant is exactly the operator its name spells.
pub enum FilterOperator {
    Equal,
    NotEqual,
    LessThan,
    GreaterThan,
    LessOrEqual,
    GreaterOrEqual,
    In,
    NotIn,
    IsNull,
    IsNotNull,
    Contains,
    DoesNotContain,
    StartsWith,
    DoesNotStartWith,
    EndsWith,
    DoesNotEndWith,
    Like,
    IsBetween,
    IsNotBetween,
    IsDuring,
    IsNotDuring,
}

const OPERATORS: [(FilterOperator, &str); 21] = [
    (FilterOperator::Equal, "="),
    (FilterOperator::NotEqual, "!="),
    (FilterOperator::LessThan, "<"),
    (FilterOperator::GreaterThan, ">"),
    (FilterOperator::LessOrEqual, "<="),
    (FilterOperator::GreaterOrEqual, ">="),
    (FilterOperator::In, "in"),
    (FilterOperator::NotIn, "not in"),
    (FilterOperator::IsNull, "is null"),
    (FilterOperator::IsNotNull, "is not null"),
    (FilterOperator::Contains, "contains"),
    (FilterOperator::DoesNotContain, "does not contain"),
    (FilterOperator::StartsWith, "starts with"),
    (FilterOperator::DoesNotStartWith, "does not start with"),
    (FilterOperator::EndsWith, "ends with"),
    (FilterOperator::DoesNotEndWith, "does not end with"),
    (FilterOperator::Like, "like"),
    (FilterOperator::IsBetween, "is between"),
    (FilterOperator::IsNotBetween, "is not between"),
    (FilterOperator::IsDuring, "is during"),
    (FilterOperator::IsNotDuring, "is not during"),
];

impl FilterOperator {
    /// The operator as Zuora spells it.
    pub fn as_str(self) -> &'static str {
        OPERATORS
            .iter()
            .find(|(op, _)| *op == self)
            .map_or("=", |(_, text)| text)
    }

    /// Every operator Zuora documents.
    pub fn all() -> impl Iterator<Item = FilterOperator> {
        OPERATORS.into_iter().map(|(op, _)| op)
    }
}

impl core::str::FromStr for FilterOperator {
    type Err = InvalidInput;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let wanted = value.trim();
        OPERATORS
            .iter()
            .find(|(_, text)| text.eq_ignore_ascii_case(wanted))
            .map(|(op, _)| *op)
            .ok_or_else(|| {
                InvalidInput::not_one_of("filter operator", value, "one of Zuora's 21 operators (=, !=, <, >, <=, >=, in, not in, is null, is not null, contains, …)")
            })
    }
}

impl core::fmt::Display for FilterOperator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The field a clause tests: `{"id": "Account.Status", "type": "Text"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FilterField {
    /// Data source and field, such as `Account.Status`.
    pub id: String,
    /// The field's type, such as `Text` or `date`, as the report definition names it.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub field_type: Option<String>,
}

/// One comparison: field, operator, value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FilterClause {
    /// The field tested.
    pub field: FilterField,
    /// The comparison.
    pub operator: FilterOperator,
    /// The value compared against, as a string (Zuora's schema types it so).
    #[serde(default)]
    pub value: String,
}

impl FilterClause {
    /// A clause on `field_id` (such as `Account.Status`) of type `field_type`.
    pub fn new(
        field_id: impl Into<String>,
        field_type: impl Into<String>,
        operator: FilterOperator,
        value: impl Into<String>,
    ) -> Self {
        Self {
            field: FilterField {
                id: field_id.into(),
                field_type: Some(field_type.into()),
            },
            operator,
            value: value.into(),
        }
    }
}

/// Clauses joined by one logical operator.
///
/// ```
/// use zuora_core::{filters::FilterClause, filters::FilterGroup, filters::FilterOperator};
/// let group = FilterGroup::all([FilterClause::new("Account.Status", "Text", FilterOperator::Equal, "Active")]);
/// assert_eq!(
///     serde_json::to_string(&group)?,
///     r#"{"logicalOperator":{"value":"AND"},"filterClauses":[{"field":{"id":"Account.Status","type":"Text"},"operator":"=","value":"Active"}]}"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterGroup {
    /// How the clauses combine.
    pub logical_operator: LogicalOperator,
    /// The clauses.
    #[serde(default)]
    pub filter_clauses: Vec<FilterClause>,
}

impl FilterGroup {
    /// A group in which every clause must hold (`AND`).
    pub fn all(clauses: impl IntoIterator<Item = FilterClause>) -> Self {
        Self {
            logical_operator: LogicalOperator::And,
            filter_clauses: clauses.into_iter().collect(),
        }
    }

    /// A group in which one clause suffices (`OR`).
    pub fn any(clauses: impl IntoIterator<Item = FilterClause>) -> Self {
        Self {
            logical_operator: LogicalOperator::Or,
            filter_clauses: clauses.into_iter().collect(),
        }
    }
}

/// Reads filter groups from JSON as a user writes them: an array of groups or one group.
///
/// Operators may be strings or the object form of Zuora's UI (`{"name": …, "value": ">"}`);
/// the request always sends strings, as Zuora's OpenAPI schema requires.
///
/// ```
/// use zuora_core::filters::parse_filter_groups;
/// let groups = parse_filter_groups(r#"{"logicalOperator":{"value":"OR"},"filterClauses":[]}"#)?;
/// assert_eq!(groups.len(), 1);
/// assert!(parse_filter_groups("[{").is_err());
/// # Ok::<(), zuora_core::errors::InvalidInput>(())
/// ```
pub fn parse_filter_groups(json: &str) -> Result<Vec<FilterGroup>, InvalidInput> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<FilterGroup>),
        One(FilterGroup),
    }
    let parsed: OneOrMany = serde_json::from_str(json).map_err(|err| InvalidInput::Malformed {
        field: "filters",
        reason: format!("not an array of filter groups: {err}"),
    })?;
    let groups = match parsed {
        OneOrMany::Many(groups) => groups,
        OneOrMany::One(group) => vec![group],
    };
    if let Some(clause) = groups
        .iter()
        .flat_map(|g| &g.filter_clauses)
        .find(|c| c.field.id.trim().is_empty())
    {
        return Err(InvalidInput::Malformed {
            field: "filters",
            reason: format!(
                "a clause with operator {:?} has an empty field id",
                clause.operator.as_str()
            ),
        });
    }
    Ok(groups)
}

impl Serialize for LogicalOperator {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut object = serializer.serialize_struct("LogicalOperator", 1)?;
        object.serialize_field("value", self.as_str())?;
        object.end()
    }
}

/// A value Zuora writes either as a bare string or as an object whose `value` holds it.
#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrValueObject {
    Text(String),
    Object { value: String },
}

impl StringOrValueObject {
    fn into_text(self) -> String {
        match self {
            Self::Text(text) | Self::Object { value: text } => text,
        }
    }
}

impl<'de> Deserialize<'de> for LogicalOperator {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = StringOrValueObject::deserialize(deserializer)?.into_text();
        if text.eq_ignore_ascii_case("and") {
            Ok(Self::And)
        } else if text.eq_ignore_ascii_case("or") {
            Ok(Self::Or)
        } else {
            Err(serde::de::Error::custom(format!(
                "logicalOperator must be AND or OR, not {text:?}"
            )))
        }
    }
}

impl Serialize for FilterOperator {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FilterOperator {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        StringOrValueObject::deserialize(deserializer)?
            .into_text()
            .parse()
            .map_err(serde::de::Error::custom)
    }
}
