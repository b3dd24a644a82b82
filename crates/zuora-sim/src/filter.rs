//! Filters applied to a run's rows, as Zuora applies a run's filter groups: each group joins
//! its clauses with its logical operator (AND or OR), and the groups are joined with AND.
//!
//! Modelled: `=`, `!=`, `<`, `>`, `<=`, `>=` (dates and date-times compared as moments:
//! a value such as `Jul 11, 2015 11:15:05 AM` against `2015-07-01`, which stands for its
//! midnight; numbers compared as numbers, thousands separators ignored; other values as
//! text), `in` and `not in` (a comma-separated list),
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

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A date or date-time as seconds in a sortable form: `2015-07-11`, `2015-07-11T11:15:05`,
/// `2015-07-11 11:15:05`, or Zuora's en-US `Jul 11, 2015` and `Jul 11, 2015 11:15:05 AM`.
fn moment(text: &str) -> Option<(u32, u32, u32, u32)> {
    let text = text.trim();
    let clock = |rest: &str, half: Option<&str>| -> Option<u32> {
        if rest.is_empty() {
            return Some(0);
        }
        let mut parts = rest.split(':').map(|p| p.parse::<u32>().ok());
        let (h, m, s) = (
            parts.next()??,
            parts.next()??,
            parts.next().flatten().unwrap_or(0),
        );
        let h = match half {
            Some(h12) if h12.eq_ignore_ascii_case("PM") => h % 12 + 12,
            Some(_) => h % 12,
            None => h,
        };
        (h < 24 && m < 60 && s < 61).then_some(h * 3600 + m * 60 + s)
    };
    if let Some((date, rest)) = text
        .get(..10)
        .filter(|d| d.as_bytes().get(4) == Some(&b'-') && d.as_bytes().get(7) == Some(&b'-'))
        .map(|d| (d, text[10..].trim_start_matches(['T', ' '])))
    {
        let y = date.get(0..4)?.parse().ok()?;
        let m = date.get(5..7)?.parse().ok()?;
        let d = date.get(8..10)?.parse().ok()?;
        return Some((y, m, d, clock(rest, None)?));
    }
    let (month, rest) = text.split_once(' ')?;
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as u32 + 1;
    let (day, rest) = rest.split_once(", ")?;
    let day = day.trim().parse().ok()?;
    let mut words = rest.split_whitespace();
    let year = words.next()?.parse().ok()?;
    let time = words.next().unwrap_or_default();
    let seconds = clock(time, words.next())?;
    Some((year, month, day, seconds))
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
    let ordering = match (moment(value), moment(wanted), number(value), number(wanted)) {
        (Some(a), Some(b), _, _) => Some(a.cmp(&b)),
        (_, _, Some(a), Some(b)) => a.partial_cmp(&b),
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

#[cfg(test)]
mod tests {
    use super::moment;

    #[test]
    fn dates_compare_as_dates() {
        assert!(moment("Jul 11, 2015") < moment("Dec 7, 2019"));
        assert!(moment("Jul 11, 2015 11:15:05 AM") > moment("2015-07-11"));
        assert!(moment("Jul 11, 2015 12:05:00 AM") < moment("Jul 11, 2015 1:00:00 AM"));
        assert_eq!(moment("2015-07-11"), moment("Jul 11, 2015"));
        assert_eq!(moment("1,234.5"), None);
    }
}
