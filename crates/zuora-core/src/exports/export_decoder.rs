//! The export converter: gzip → text (UTF-16LE as Zuora sends it) → tab-separated records
//! → CSV or TSV in UTF-8, chunk by chunk.
//!
//! Two stages:
//! 1. *Text* (`text_decoder`): the encoding is settled from the first bytes, and the text is
//!    handed on as UTF-16LE units, in place (the documented encoding is never copied; only
//!    UTF-16BE and UTF-8 exports are rewritten into a buffer).
//! 2. *Records* (`record_writer`): one pass over the units, 16 at a time (`unit_blocks`),
//!    that transcodes, finds the record structure and decides each field's quoting
//!    together. Plain ASCII is narrowed to bytes a block at a time with tabs becoming the
//!    separator; only non-ASCII, quotes, CR, line breaks and (in CSV) commas are looked at
//!    one by one, and the common fields they start (an amount with a comma, a quoted field
//!    with a line break) are written whole. A lone surrogate stops the stream with its byte
//!    position.
//!
//! Memory is bounded by one field ([`ExportDecoder::max_field_bytes`]) plus one chunk: a
//! field still open at the end of a chunk is carried to the next, and a field longer than
//! the cap is an error, so an export that is one endless field cannot grow memory.

use super::export_error::ExportError;
use super::gzip_stream::{self, GzipStream};
use super::record_writer::RecordWriter;
use super::text_decoder::TextDecoder;

/// What to write an export as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// The bytes as Zuora sent them (UTF-16LE, tab-separated), gzip removed.
    Raw,
    /// UTF-8 CSV per RFC 4180: comma-separated, CRLF line ends, fields with `,` `"` CR or
    /// LF quoted, quotes doubled.
    Csv,
    /// UTF-8, tab-separated, LF line ends, fields with a tab, CR, LF or `"` quoted, quotes
    /// doubled.
    Tsv,
}

impl core::str::FromStr for ExportFormat {
    type Err = crate::values::invalid_input::InvalidInput;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "raw" => Ok(Self::Raw),
            "csv" => Ok(Self::Csv),
            "tsv" => Ok(Self::Tsv),
            _ => Err(crate::values::invalid_input::InvalidInput::not_one_of(
                "export format",
                value,
                "csv, tsv or raw",
            )),
        }
    }
}

/// The default cap on one field of an export, in UTF-8 bytes: far above any real report
/// field (Zuora's longest text fields hold tens of kilobytes), far below what would hurt.
pub const DEFAULT_MAX_FIELD_BYTES: usize = 4 << 20;

/// Converts an export chunk by chunk.
///
/// ```
/// use zuora_core::{exports::ExportDecoder, ExportFormat};
/// let utf16: Vec<u8> = [0xFF, 0xFE].into_iter()
///     .chain("a\tb, c\n1\t\"x\ty\"\n".encode_utf16().flat_map(u16::to_le_bytes))
///     .collect();
/// let mut decoder = ExportDecoder::new(ExportFormat::Csv, false);
/// let mut csv = Vec::new();
/// for chunk in utf16.chunks(3) {              // any chunking gives the same output
///     decoder.feed(chunk, &mut csv)?;
/// }
/// decoder.finish(&mut csv)?;
/// assert_eq!(String::from_utf8(csv)?, "a,\"b, c\"\r\n1,x\ty\r\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ExportDecoder {
    source: Source,
}

/// Where the bytes go first: straight to the conversion, or through gzip into it. Gzip is
/// inflated a step (32 KiB) at a time into `inflated` and converted from there, so no
/// inflated copy of a chunk is ever held, whatever it expands to.
enum Source {
    Plain(Pipeline),
    Gzip {
        gzip: Box<GzipStream>,
        inflated: Vec<u8>,
        pipeline: Pipeline,
    },
}

/// Stages 1 and 2.
struct Pipeline {
    format: ExportFormat,
    text: TextDecoder,
    records: RecordWriter,
}

impl Pipeline {
    fn convert(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Result<(), ExportError> {
        if self.format == ExportFormat::Raw {
            out.extend_from_slice(bytes);
            self.text.bytes_seen = self.text.bytes_seen.saturating_add(bytes.len() as u64);
            return Ok(());
        }
        let Self { text, records, .. } = self;
        text.decode(bytes, &mut |units, start| {
            records.convert(units, start, out)
        })
    }
}

impl core::fmt::Debug for ExportDecoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let pipeline = self.pipeline();
        f.debug_struct("ExportDecoder")
            .field("format", &pipeline.format)
            .field("gzip", &matches!(self.source, Source::Gzip { .. }))
            .field("encoding", &pipeline.text.encoding)
            .field("text_bytes", &pipeline.text.bytes_seen)
            .finish_non_exhaustive()
    }
}

impl ExportDecoder {
    /// A decoder; `gzipped` when the answer said `Content-Encoding: gzip`. Fields are capped
    /// at [`DEFAULT_MAX_FIELD_BYTES`].
    pub fn new(format: ExportFormat, gzipped: bool) -> Self {
        let pipeline = Pipeline {
            format,
            text: TextDecoder::default(),
            records: RecordWriter::new(format == ExportFormat::Csv, DEFAULT_MAX_FIELD_BYTES),
        };
        let source = if gzipped {
            Source::Gzip {
                gzip: Box::default(),
                inflated: Vec::new(),
                pipeline,
            }
        } else {
            Source::Plain(pipeline)
        };
        Self { source }
    }

    /// Caps one field at `bytes` of UTF-8 (at least 1); a longer field is
    /// [`ExportError::FieldTooLong`]. Memory stays within about the cap plus one chunk.
    #[must_use]
    pub fn max_field_bytes(mut self, bytes: usize) -> Self {
        self.pipeline_mut().records.max_field = bytes.max(1);
        self
    }

    fn pipeline(&self) -> &Pipeline {
        match &self.source {
            Source::Plain(pipeline) | Source::Gzip { pipeline, .. } => pipeline,
        }
    }

    fn pipeline_mut(&mut self) -> &mut Pipeline {
        match &mut self.source {
            Source::Plain(pipeline) | Source::Gzip { pipeline, .. } => pipeline,
        }
    }

    /// Rows converted so far, the header not counted; `None` for [`ExportFormat::Raw`], whose
    /// bytes are passed on unread.
    pub fn rows(&mut self) -> Option<u64> {
        let pipeline = self.pipeline_mut();
        (pipeline.format != ExportFormat::Raw).then(|| pipeline.records.records.saturating_sub(1))
    }

    /// Converts one chunk, appending the output to `out`. A gzip chunk's output is not
    /// bounded by the chunk (deflate expands up to about 1000 times); [`feed_some`] is.
    ///
    /// [`feed_some`]: Self::feed_some
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<(), ExportError> {
        let mut taken = 0;
        while taken < chunk.len() {
            taken += self.feed_some(&chunk[taken..], out, usize::MAX)?;
        }
        Ok(())
    }

    /// Converts from the start of `chunk` until `out` holds `until` bytes or more, and says
    /// how many of the chunk's bytes it took (all of them unless `out` filled up). Plain
    /// input is always taken whole (its output is at most twice its size); gzip input is
    /// inflated 32 KiB at a time, so `out` ends at most about 48 KiB past `until`, whatever
    /// the stream expands to.
    ///
    /// ```
    /// use zuora_core::exports::{ExportDecoder, ExportFormat};
    /// use std::io::Write;
    /// let text: Vec<u8> = [0xFF, 0xFE].into_iter()
    ///     .chain("a\n".repeat(1 << 20).encode_utf16().flat_map(u16::to_le_bytes)).collect();
    /// let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    /// gzip.write_all(&text)?;
    /// let small = gzip.finish()?; // 6 MiB of text in a few KiB
    /// let mut decoder = ExportDecoder::new(ExportFormat::Csv, true);
    /// let mut out = Vec::new();
    /// let taken = decoder.feed_some(&small, &mut out, 64 << 10)?;
    /// assert!(taken < small.len() && out.len() < 128 << 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The input cannot be converted (see [`ExportError`]).
    pub fn feed_some(
        &mut self,
        chunk: &[u8],
        out: &mut Vec<u8>,
        until: usize,
    ) -> Result<usize, ExportError> {
        match &mut self.source {
            Source::Plain(pipeline) => {
                pipeline.convert(chunk, out)?;
                Ok(chunk.len())
            }
            Source::Gzip {
                gzip,
                inflated,
                pipeline,
            } => {
                let mut taken = 0;
                while taken < chunk.len() && out.len() < until {
                    inflated.clear();
                    taken += gzip.inflate(&chunk[taken..], inflated, gzip_stream::STEP)?;
                    pipeline.convert(inflated, out)?;
                }
                Ok(taken)
            }
        }
    }

    /// Ends the stream: fails if it was cut short (gzip, text or a quoted field) or empty.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        if let Source::Gzip { gzip, .. } = &self.source {
            gzip.finish()?;
        }
        let pipeline = self.pipeline_mut();
        if pipeline.format == ExportFormat::Raw {
            return if pipeline.text.bytes_seen == 0 {
                Err(ExportError::Empty)
            } else {
                Ok(())
            };
        }
        let Pipeline { text, records, .. } = pipeline;
        text.finish(&mut |units, start| records.convert(units, start, out))?;
        records.finish(text.bytes_seen, out)?;
        if !text.any_text {
            return Err(ExportError::Empty);
        }
        Ok(())
    }
}
