//! What a download received and wrote.

/// What a download wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportSummary {
    /// Bytes received (compressed, if gzipped).
    pub bytes_received: u64,
    /// Bytes written to the output.
    pub bytes_written: u64,
    /// Rows converted (the header not counted), for CSV and TSV; `None` for the raw bytes.
    pub rows: Option<u64>,
    /// Status, `Zuora-Request-Id` and limits of the answer.
    pub meta: crate::responses::ResponseMeta,
}

impl ExportSummary {
    /// A summary from its parts.
    pub fn new(
        bytes_received: u64,
        bytes_written: u64,
        meta: crate::responses::ResponseMeta,
    ) -> Self {
        Self {
            bytes_received,
            bytes_written,
            rows: None,
            meta,
        }
    }
}

impl ExportSummary {
    /// The same summary, with `rows` converted.
    pub fn with_rows(mut self, rows: Option<u64>) -> Self {
        self.rows = rows;
        self
    }
}

/// Whether an answer's body is gzipped.
pub fn is_gzipped(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|c| c.trim().eq_ignore_ascii_case("gzip")))
}
