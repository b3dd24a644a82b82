//! Filters that replace a report's saved filters for one run.

pub(crate) mod filter;

pub use filter::{
    FilterClause, FilterField, FilterGroup, FilterOperator, LogicalOperator, parse_filter_groups,
};
