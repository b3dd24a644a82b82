//! Exports: the streaming converter (UTF-16 tab-separated to CSV, TSV or raw) and what a
//! download wrote.

pub(crate) mod export_decoder;
pub(crate) mod export_summary;

pub use export_decoder::{DEFAULT_MAX_FIELD_BYTES, ExportDecoder, ExportError, ExportFormat};
pub use export_summary::{ExportSummary, is_gzipped};
