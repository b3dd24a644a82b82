//! Exports: the streaming converter (UTF-16 tab-separated to CSV, TSV or raw) and what a
//! download wrote.

pub(crate) mod export_decoder;
pub(crate) mod export_error;
pub(crate) mod export_summary;
pub(crate) mod gzip_stream;
mod record_writer;
mod text_decoder;
mod unit_blocks;

pub use export_decoder::{DEFAULT_MAX_FIELD_BYTES, ExportDecoder, ExportFormat};
pub use export_error::ExportError;
pub use export_summary::{ExportSummary, is_gzipped};
