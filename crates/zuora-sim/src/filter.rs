//! Filters applied to a run's rows, as Zuora applies a run's filter groups: each group joins
//! its clauses with its logical operator (AND or OR), and the groups are joined with AND.
//!
//! Modelled: `=`, `!=`, `<`, `>`, `<=`, `>=` (numbers compared as numbers, thousands
//! separators ignored; other values as text), `in` and `not in` (a comma-separated list),
//! `is null` and `is not null` (an empty value), `contains`, `starts with`, `ends with` and
//! their negations (text, case-insensitive). Not modelled (they match every row): `like`,
//! `is between`, `is during` and their negations, relative dates. A clause on a field the
//! report does not have matches no row.

use zuora_core::{
    filters::FilterClause, filters::FilterGroup, filters::FilterOperator, filters::LogicalOperator,
};

use crate::catalogue::Column;

/// Whether a row (its values in `columns` order) passes every group.
pub fn matches(groups: &[FilterGroup], columns: &[Column], values: &[String]) -> bool {
    groups.iter().all(|group| {
        let mut clauses = group
            .filter_clauses
            .iter()
            .map(|clause| clause_matches(clause, columns, values));
        match group.logical_operator {
            LogicalOperator::Or => clauses.any(|m| m),
            _ => clauses.all(|m| m),
        }
    })
}

fn number(text: &str) -> Option<f64> {
    text.trim().replace(',', "").parse().ok()
}

fn clause_matches(clause: &FilterClause, columns: &[Column], values: &[String]) -> bool {
    let Some(index) = columns.iter().position(|c| c.id == clause.field.id) else {
        return false;
    };
    let Some(value) = values.get(index) else {
        return false;
    };
    let wanted = clause.value.as_str();
    let ordering = match (number(value), number(wanted)) {
        (Some(a), Some(b)) => a.partial_cmp(&b),
        _ => Some(value.as_str().cmp(wanted)),
    };
    let (value_lower, wanted_lower) = (value.to_lowercase(), wanted.to_lowercase());
    let listed = || {
        wanted
            .split(',')
            .map(str::trim)
            .any(|item| item.eq_ignore_ascii_case(value.trim()))
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    match clause.operator {
        FilterOperator::Equal => ordering == Some(Equal),
        FilterOperator::NotEqual => ordering != Some(Equal),
        FilterOperator::LessThan => ordering == Some(Less),
        FilterOperator::GreaterThan => ordering == Some(Greater),
        FilterOperator::LessOrEqual => matches!(ordering, Some(Less | Equal)),
        FilterOperator::GreaterOrEqual => matches!(ordering, Some(Greater | Equal)),
        FilterOperator::In => listed(),
        FilterOperator::NotIn => !listed(),
        FilterOperator::IsNull => value.trim().is_empty(),
        FilterOperator::IsNotNull => !value.trim().is_empty(),
        FilterOperator::Contains => value_lower.contains(&wanted_lower),
        FilterOperator::DoesNotContain => !value_lower.contains(&wanted_lower),
        FilterOperator::StartsWith => value_lower.starts_with(&wanted_lower),
        FilterOperator::DoesNotStartWith => !value_lower.starts_with(&wanted_lower),
        FilterOperator::EndsWith => value_lower.ends_with(&wanted_lower),
        FilterOperator::DoesNotEndWith => !value_lower.ends_with(&wanted_lower),
        _ => true,
    }
}
