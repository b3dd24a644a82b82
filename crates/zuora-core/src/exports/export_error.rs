//! Why an export could not be converted.

/// An export that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The gzip stream is corrupt or cut short.
    #[error("the export's gzip stream is corrupt or incomplete: {0}")]
    Gzip(String),
    /// Not UTF-16: an odd byte count or a lone surrogate near this byte of the text.
    #[error("the export is not valid UTF-16 near byte {0}")]
    Utf16(u64),
    /// Marked as UTF-8 (byte-order mark, or ASCII without zero bytes) but not valid UTF-8
    /// near this byte.
    #[error("the export is not valid UTF-8 near byte {0}")]
    Utf8(u64),
    /// The text ends inside a quoted field: the download was cut short.
    #[error("the export ends inside a quoted field: it was cut short")]
    Truncated,
    /// One field is longer than the configured cap.
    #[error("record {record} of the export has a field longer than {limit} bytes")]
    FieldTooLong {
        /// The cap, in UTF-8 bytes.
        limit: usize,
        /// The record (1-based) that holds the field.
        record: u64,
    },
    /// The answer had no text at all (a report export has at least its header row).
    #[error("the export is empty")]
    Empty,
}
