#![doc = include_str!("../README.md")]

mod convert;
mod infer;
mod passes;
mod records;
#[cfg(feature = "tokio")]
mod tokio_io;
pub mod values;
mod write;

pub use convert::{Converter, schema};
pub use infer::{Column, ColumnType, Inference};
pub use passes::{BATCH_ROWS, Batches, SharedSpool, Spooled, Spooling, Threads};
pub use records::Records;
#[cfg(feature = "tokio")]
pub use tokio_io::BatchStream;
pub use values::Locale;
pub use write::{TableFormat, TableWriter};

/// What can go wrong making a table of an export.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    /// The export's text is not a table.
    #[error("record {record} of the export: {reason}")]
    Malformed {
        /// The record (0: the header).
        record: u64,
        /// What is wrong.
        reason: String,
    },
    /// A column type the user set names no column.
    #[error("no column is named {name:?}; the columns are: {}", known.join(", "))]
    UnknownColumn {
        /// The name given.
        name: String,
        /// The export's columns.
        known: Vec<String>,
    },
    /// A value that does not fit its column's type (one the user set).
    #[error("row {row}, column {column:?}: {value:?} is not a {column_type}")]
    Value {
        /// The data row (1: the first after the header).
        row: u64,
        /// The column's name.
        column: String,
        /// The value (its first 200 characters).
        value: String,
        /// The column's type.
        column_type: ColumnType,
    },
    /// Arrow or Parquet refused (a bug, or a limit of theirs).
    #[error("arrow: {0}")]
    Arrow(String),
    /// Writing the output failed.
    #[error("writing the table: {0}")]
    Io(#[from] std::io::Error),
}
