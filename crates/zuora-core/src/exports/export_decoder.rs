//! The export converter: gzip → text (UTF-16LE as Zuora sends it) → UTF-8 → tab-separated
//! records → CSV or TSV, chunk by chunk, at the speed of a memory copy for plain text.
//!
//! Two stages, each in bulk rather than a character at a time:
//! 1. *Transcoding*: UTF-16 units are checked for surrogates with one branch-free pass and
//!    converted to UTF-8 by `encoding_rs` (vectorised ASCII paths, pure Rust); a lone
//!    surrogate stops the stream with its byte position.
//! 2. *Records*: the UTF-8 text is copied to the output in runs. The common case (no quote,
//!    no CR, no comma in CSV) maps tabs to commas while copying; only a quote, a CR, a comma
//!    or a line break stops the run. A field that needs quoting is rewritten once it ends.
//!
//! Memory is bounded by one field ([`ExportDecoder::max_field_bytes`]) plus one chunk: a
//! field still open at the end of a chunk is carried to the next, and a field longer than
//! the cap is an error, so an export that is one endless field cannot grow memory.

use std::io::Write;

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

/// How the export's text is encoded. Zuora documents UTF-16LE; a byte-order mark of UTF-16BE
/// or UTF-8 is obeyed (a choice: Zuora is silent), and without a mark the text is read as the
/// documented UTF-16LE. Never guessed: a guess turns text starting with `Ā` (bytes `00 01`)
/// into big-endian garbage, and text starting with `中` (bytes `2D 4E`) into "bad UTF-8".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf16Le,
    Utf16Be,
    Utf8,
}

impl Encoding {
    /// Decides from the first bytes (at least three, unless the text is shorter): a
    /// byte-order mark, or else UTF-16LE.
    fn sniff(start: &[u8]) -> Self {
        match start {
            [0xFE, 0xFF, ..] => Self::Utf16Be,
            [0xEF, 0xBB, 0xBF, ..] => Self::Utf8,
            _ => Self::Utf16Le,
        }
    }
}

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

/// Where the bytes go first: straight to the conversion, or through gzip into it. The
/// inflater writes each buffer it fills (32 KiB) straight into the [`Pipeline`], so no
/// inflated copy of a chunk is ever held, whatever it expands to.
enum Source {
    Plain(Pipeline),
    Gzip(Box<flate2::write::MultiGzDecoder<Pipeline>>),
}

/// Stages 1 and 2, and the caller's output while a chunk is being converted.
struct Pipeline {
    format: ExportFormat,
    text: TextDecoder,
    records: RecordWriter,
    /// The caller's `out`, swapped in for the length of one call.
    out: Vec<u8>,
    /// Why the last write failed (the inflater only carries an `io::Error` back).
    failed: Option<ExportError>,
}

impl Pipeline {
    fn convert(&mut self, bytes: &[u8]) -> Result<(), ExportError> {
        if self.format == ExportFormat::Raw {
            self.out.extend_from_slice(bytes);
            self.text.bytes_seen = self.text.bytes_seen.saturating_add(bytes.len() as u64);
            return Ok(());
        }
        let Self {
            text, records, out, ..
        } = self;
        text.decode(bytes, |utf8| records.convert(utf8, out))
    }
}

impl std::io::Write for Pipeline {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self.convert(bytes) {
            Ok(()) => Ok(bytes.len()),
            Err(error) => {
                self.failed = Some(error);
                Err(std::io::Error::other(
                    "the inflated export could not be converted",
                ))
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl core::fmt::Debug for ExportDecoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let pipeline = self.pipeline();
        f.debug_struct("ExportDecoder")
            .field("format", &pipeline.format)
            .field("gzip", &matches!(self.source, Source::Gzip(_)))
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
            out: Vec::new(),
            failed: None,
        };
        let source = if gzipped {
            Source::Gzip(Box::new(flate2::write::MultiGzDecoder::new(pipeline)))
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
            Source::Plain(pipeline) => pipeline,
            Source::Gzip(gzip) => gzip.get_ref(),
        }
    }

    fn pipeline_mut(&mut self) -> &mut Pipeline {
        match &mut self.source {
            Source::Plain(pipeline) => pipeline,
            Source::Gzip(gzip) => gzip.get_mut(),
        }
    }

    /// Runs `step` with the caller's `out` lent to the pipeline.
    fn with_out(
        &mut self,
        out: &mut Vec<u8>,
        step: impl FnOnce(&mut Source) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        std::mem::swap(&mut self.pipeline_mut().out, out);
        let result = step(&mut self.source);
        std::mem::swap(&mut self.pipeline_mut().out, out);
        result
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
        let mut taken = 0;
        self.with_out(out, |source| match source {
            Source::Plain(pipeline) => {
                taken = chunk.len();
                pipeline.convert(chunk)
            }
            Source::Gzip(gzip) => {
                while taken < chunk.len() && gzip.get_ref().out.len() < until {
                    let written = match gzip.write(&chunk[taken..]) {
                        Ok(written) => written,
                        Err(error) => return inflated(gzip, Err(error)),
                    };
                    inflated(gzip, Ok(()))?;
                    if written == 0 {
                        // The inflater takes nothing more: bytes past the gzip stream's end.
                        return Err(ExportError::Gzip(
                            "bytes after the end of the gzip stream".to_owned(),
                        ));
                    }
                    taken += written;
                }
                Ok(())
            }
        })?;
        Ok(taken)
    }

    /// Ends the stream: fails if it was cut short (gzip, text or a quoted field) or empty.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        self.with_out(out, |source| {
            if let Source::Gzip(gzip) = source {
                let finished = gzip.try_finish();
                inflated(gzip, finished)?;
            }
            Ok(())
        })?;
        let pipeline = self.pipeline_mut();
        if pipeline.format == ExportFormat::Raw {
            return if pipeline.text.bytes_seen == 0 {
                Err(ExportError::Empty)
            } else {
                Ok(())
            };
        }
        let Pipeline { text, records, .. } = pipeline;
        text.finish(|utf8| records.convert(utf8, out))?;
        if !text.any_text {
            return Err(ExportError::Empty);
        }
        records.finish(out)
    }
}

/// The outcome of feeding the inflater: the pipeline's own failure if it had one, else the
/// inflater's (corrupt or cut-short gzip).
fn inflated(
    gzip: &mut flate2::write::MultiGzDecoder<Pipeline>,
    outcome: std::io::Result<()>,
) -> Result<(), ExportError> {
    if let Some(failed) = gzip.get_mut().failed.take() {
        return Err(failed);
    }
    outcome.map_err(|e| ExportError::Gzip(e.to_string()))
}

/// Stage 1: bytes in the export's encoding to UTF-8, in bulk.
#[derive(Default)]
struct TextDecoder {
    encoding: Option<Encoding>,
    /// Bytes held back: the start until the encoding is known, an incomplete UTF-8 sequence.
    pending: Vec<u8>,
    odd_byte: Option<u8>,
    high_surrogate: Option<u16>,
    /// Text bytes decoded so far (UTF-16 units count two each, the byte-order mark included):
    /// the position errors report.
    bytes_seen: u64,
    started: bool,
    any_text: bool,
    units: Vec<u16>,
    utf8: Vec<u8>,
}

impl TextDecoder {
    fn decode(
        &mut self,
        bytes: &[u8],
        mut sink: impl FnMut(&[u8]) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        let encoding = match self.encoding {
            Some(encoding) => encoding,
            None => {
                self.pending.extend_from_slice(bytes);
                if self.pending.len() < 3 {
                    return Ok(());
                }
                let encoding = Encoding::sniff(&self.pending);
                self.encoding = Some(encoding);
                let start = std::mem::take(&mut self.pending);
                return self.decode_as(encoding, &start, &mut sink);
            }
        };
        self.decode_as(encoding, bytes, &mut sink)
    }

    fn finish(
        &mut self,
        mut sink: impl FnMut(&[u8]) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        if self.encoding.is_none() && !self.pending.is_empty() {
            let encoding = Encoding::sniff(&self.pending);
            self.encoding = Some(encoding);
            let start = std::mem::take(&mut self.pending);
            self.decode_as(encoding, &start, &mut sink)?;
        }
        match self.encoding {
            Some(Encoding::Utf8) if !self.pending.is_empty() => {
                Err(ExportError::Utf8(self.bytes_seen))
            }
            Some(Encoding::Utf16Le | Encoding::Utf16Be)
                if self.odd_byte.is_some() || self.high_surrogate.is_some() =>
            {
                Err(ExportError::Utf16(self.bytes_seen))
            }
            _ => Ok(()),
        }
    }

    fn decode_as(
        &mut self,
        encoding: Encoding,
        bytes: &[u8],
        sink: &mut impl FnMut(&[u8]) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        match encoding {
            Encoding::Utf8 => self.utf8(bytes, sink),
            Encoding::Utf16Le => self.utf16(bytes, false, sink),
            Encoding::Utf16Be => self.utf16(bytes, true, sink),
        }
    }

    fn utf16(
        &mut self,
        mut bytes: &[u8],
        big_endian: bool,
        sink: &mut impl FnMut(&[u8]) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        let unit = |pair: [u8; 2]| {
            if big_endian {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }
        };
        if bytes.is_empty() {
            return Ok(());
        }
        self.units.clear();
        // Units already counted in `bytes_seen` (a high surrogate held from the last chunk).
        let mut counted = 0u64;
        if let Some(high) = self.high_surrogate.take() {
            self.units.push(high);
            counted = 1;
        }
        if let Some(first) = self.odd_byte.take()
            && let Some((&second, rest)) = bytes.split_first()
        {
            self.units.push(unit([first, second]));
            bytes = rest;
        }
        let pairs = bytes.chunks_exact(2);
        self.odd_byte = pairs.remainder().first().copied();
        // Sized first, then filled through a zip: a loop the compiler turns into vector
        // code (`extend` over `chunks_exact` goes one element at a time).
        let old_len = self.units.len();
        self.units.resize(old_len + bytes.len() / 2, 0);
        for (slot, pair) in self.units[old_len..].iter_mut().zip(pairs) {
            *slot = unit([pair[0], pair[1]]);
        }
        // Position (in bytes, after the unit) of unit `i` of this batch.
        let base = self.bytes_seen.saturating_sub(counted * 2);
        let after = |i: usize| base.saturating_add(2u64.saturating_mul(i as u64 + 1));
        self.bytes_seen = base.saturating_add(2u64.saturating_mul(self.units.len() as u64));
        let mut start = 0;
        if !self.started && !self.units.is_empty() {
            self.started = true;
            if self.units[0] == 0xFEFF {
                start = 1;
            }
        }
        let mut end = self.units.len();
        if let Some(unpaired) = first_unpaired_surrogate(&self.units[start..]) {
            let bad_at = start + unpaired;
            let bad = self.units[bad_at];
            let high = (0xD800..0xDC00).contains(&bad);
            if high && bad_at + 1 == end {
                // A high surrogate at the end: its low half may come in the next chunk.
                self.high_surrogate = Some(bad);
                end = bad_at;
            } else if high {
                return Err(ExportError::Utf16(after(bad_at + 1)));
            } else {
                return Err(ExportError::Utf16(after(bad_at)));
            }
        }
        let units = &self.units[start..end];
        if units.is_empty() {
            return Ok(());
        }
        let needed = units.len() * 3 + 1;
        if self.utf8.len() < needed {
            self.utf8.resize(needed, 0);
        }
        let written = encoding_rs::mem::convert_utf16_to_utf8(units, &mut self.utf8);
        self.any_text = true;
        sink(&self.utf8[..written])
    }

    fn utf8(
        &mut self,
        bytes: &[u8],
        sink: &mut impl FnMut(&[u8]) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        let joined;
        let mut input = if self.pending.is_empty() {
            bytes
        } else {
            self.pending.extend_from_slice(bytes);
            joined = std::mem::take(&mut self.pending);
            &joined[..]
        };
        if !self.started && !input.is_empty() {
            if input.len() < 3 && [0xEF, 0xBB, 0xBF].starts_with(input) {
                self.pending = input.to_vec();
                return Ok(());
            }
            self.started = true;
            if let Some(rest) = input.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
                self.bytes_seen = 3;
                input = rest;
            }
        }
        let valid = match std::str::from_utf8(input) {
            Ok(_) => input.len(),
            Err(error) if error.error_len().is_none() => {
                // An incomplete sequence at the end: the rest comes in the next chunk.
                self.pending = input[error.valid_up_to()..].to_vec();
                error.valid_up_to()
            }
            Err(error) => {
                let at = self.bytes_seen.saturating_add(error.valid_up_to() as u64);
                return Err(ExportError::Utf8(at));
            }
        };
        self.bytes_seen = self.bytes_seen.saturating_add(valid as u64);
        if valid == 0 {
            return Ok(());
        }
        self.any_text = true;
        sink(&input[..valid])
    }
}

/// The index of the first surrogate that is not half of a pair (a high surrogate at the
/// very end counts as unpaired). Blocks of 64 units are first tested for any surrogate with
/// a fold that has no early exit, which compiles to vector code; only blocks that hold one
/// are walked unit by unit (`encoding_rs::mem::utf16_valid_up_to` walks every unit, and cost
/// as much as the transcoding itself).
fn first_unpaired_surrogate(units: &[u16]) -> Option<usize> {
    const BLOCK: usize = 64;
    let is_surrogate = |u: u16| u & 0xF800 == 0xD800;
    let mut i = 0;
    while i < units.len() {
        let block_end = units.len().min(i + BLOCK);
        let block = &units[i..block_end];
        if !block.iter().fold(false, |seen, &u| seen | is_surrogate(u)) {
            i = block_end;
            continue;
        }
        while i < block_end {
            let unit = units[i];
            if is_surrogate(unit) {
                let paired = unit < 0xDC00
                    && units
                        .get(i + 1)
                        .is_some_and(|&next| (0xDC00..0xE000).contains(&next));
                if !paired {
                    return Some(i);
                }
                i += 2;
            } else {
                i += 1;
            }
        }
    }
    None
}

/// Where the next CR is, found once per CR however many runs are scanned before it.
#[derive(Default)]
struct CrCursor {
    /// The next CR at or after the last position asked about (`None`: not searched yet).
    next: Option<usize>,
}

impl CrCursor {
    /// The position of the first CR at or after `from`, or the end of `text`.
    fn next(&mut self, text: &[u8], from: usize) -> usize {
        match self.next {
            Some(at) if at >= from => at,
            _ => {
                let at = memchr::memchr(b'\r', &text[from..]).map_or(text.len(), |n| from + n);
                self.next = Some(at);
                at
            }
        }
    }
}

/// Where a run (which holds no CR) stops. A fast run (`quoting` false) maps tabs to
/// separators while copying, so it stops only at a quote, a line break and, in CSV, a comma;
/// a field that will be quoted stops at a tab, a line break or a quote (a comma is plain
/// content there).
fn next_stop(run: &[u8], csv: bool, quoting: bool) -> Option<usize> {
    if quoting {
        memchr::memchr3(b'\t', b'\n', b'"', run)
    } else if csv {
        memchr::memchr3(b'\n', b'"', b',', run)
    } else {
        memchr::memchr2(b'\n', b'"', run)
    }
}

/// Stage 2: tab-separated UTF-8 records to CSV (RFC 4180: `,`, CRLF, fields with `,` `"`
/// CR or LF quoted) or TSV (tab, LF, fields with a tab `"` CR or LF quoted), quotes doubled.
///
/// Input rules (Zuora's export): a field that starts with `"` is quoted and may hold tabs,
/// line breaks and doubled quotes; a `"` elsewhere is literal; a CR outside quotes is
/// dropped.
struct RecordWriter {
    csv: bool,
    max_field: usize,
    in_quotes: bool,
    /// Inside quotes, a `"` was just read: a doubled quote or the end of the quoting.
    quote_seen: bool,
    field_started: bool,
    /// The open field holds a character that its output form must quote.
    needs_quoting: bool,
    /// The open record has ended at least one field.
    record_open: bool,
    /// The open field's content, carried from one chunk to the next.
    carry: Vec<u8>,
    records: u64,
}

impl RecordWriter {
    fn new(csv: bool, max_field: usize) -> Self {
        Self {
            csv,
            max_field,
            in_quotes: false,
            quote_seen: false,
            field_started: false,
            needs_quoting: false,
            record_open: false,
            carry: Vec::new(),
            records: 0,
        }
    }

    fn separator(&self) -> u8 {
        if self.csv { b',' } else { b'\t' }
    }

    fn convert(&mut self, text: &[u8], out: &mut Vec<u8>) -> Result<(), ExportError> {
        out.reserve(text.len() + text.len() / 8 + self.carry.len() + 16);
        let mut field_start = out.len();
        out.extend_from_slice(&self.carry);
        self.carry.clear();
        let mut cr = CrCursor::default();
        let mut i = 0;
        while i < text.len() {
            if self.in_quotes {
                i = self.quoted(text, i, out);
            } else {
                let quoting = self.needs_quoting;
                // Runs never cross a CR: it is a stop of its own, so each stop set below has
                // at most three bytes, which memchr finds with vector instructions.
                let bound = cr.next(text, i);
                let end = next_stop(&text[i..bound], self.csv, quoting).map_or(bound, |n| i + n);
                if quoting {
                    out.extend_from_slice(&text[i..end]);
                    self.field_started |= end > i;
                } else {
                    self.fast_run(&text[i..end], out, &mut field_start)?;
                }
                i = end;
                if let Some(&byte) = text.get(i) {
                    i += 1;
                    if byte == b','
                        && let Some(next) =
                            self.comma_field(&text[i..cr.next(text, i)], out, &mut field_start)
                    {
                        i += next;
                        self.check_field(out, field_start)?;
                        continue;
                    }
                    self.special(byte, out, &mut field_start);
                }
            }
            self.check_field(out, field_start)?;
        }
        self.carry.extend_from_slice(&out[field_start..]);
        out.truncate(field_start);
        Ok(())
    }

    /// Copies a run with no quote, CR, line break (or comma, in CSV): tabs become separators.
    fn fast_run(
        &mut self,
        run: &[u8],
        out: &mut Vec<u8>,
        field_start: &mut usize,
    ) -> Result<(), ExportError> {
        if run.is_empty() {
            return Ok(());
        }
        let run_start = out.len();
        out.extend_from_slice(run);
        if self.csv {
            // In place over the copy: a select per byte that compiles to vector code.
            for byte in &mut out[run_start..] {
                *byte = if *byte == b'\t' { b',' } else { *byte };
            }
        }
        let Some(last_tab) = memchr::memrchr(b'\t', run) else {
            self.field_started = true;
            return Ok(());
        };
        // Fields that end inside the run: only a run longer than the cap can hold one that
        // breaks it (the first one also continues what came before the run).
        if run_start - *field_start + run.len() > self.max_field {
            let mut start = *field_start;
            for tab in memchr::memchr_iter(b'\t', run) {
                self.check_field(&out[..run_start + tab], start)?;
                start = run_start + tab + 1;
            }
        }
        self.record_open = true;
        *field_start = run_start + last_tab + 1;
        self.field_started = last_tab + 1 < run.len();
        Ok(())
    }

    /// The common CSV case of a field holding a comma (an amount such as `1,729.76`): when
    /// the field ends in `rest` (which holds no CR) with no quote before its end, writes it
    /// quoted at once and returns how much of `rest` it took (the field and its tab or line
    /// break). `None` leaves it to the general path.
    fn comma_field(
        &mut self,
        rest: &[u8],
        out: &mut Vec<u8>,
        field_start: &mut usize,
    ) -> Option<usize> {
        let end = memchr::memchr3(b'\t', b'\n', b'"', rest)?;
        if rest[end] == b'"' || out.len() - *field_start + end > self.max_field {
            return None;
        }
        // The content so far came from a fast run: no quote in it to double.
        out.insert(*field_start, b'"');
        out.push(b',');
        out.extend_from_slice(&rest[..end]);
        out.push(b'"');
        self.field_started = false;
        if rest[end] == b'\t' {
            out.push(b',');
            self.record_open = true;
        } else {
            out.extend_from_slice(b"\r\n");
            self.record_open = false;
            self.records = self.records.saturating_add(1);
        }
        *field_start = out.len();
        Some(end + 1)
    }

    /// Handles the byte that stopped a run.
    fn special(&mut self, byte: u8, out: &mut Vec<u8>, field_start: &mut usize) {
        match byte {
            b'\t' => self.end_field(out, field_start),
            b'\n' => self.end_record(out, field_start),
            b'\r' => {}
            b'"' if !self.field_started => {
                self.in_quotes = true;
                self.field_started = true;
            }
            other => {
                // A literal quote, or a comma in CSV: the field's output must be quoted.
                out.push(other);
                self.needs_quoting = true;
                self.field_started = true;
            }
        }
    }

    /// Reads inside quotes from `i`; returns where it stopped.
    fn quoted(&mut self, text: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
        if self.quote_seen {
            self.quote_seen = false;
            if text[i] == b'"' {
                out.push(b'"');
                self.needs_quoting = true;
                return i + 1;
            }
            // The quoting ended; the byte is read as outside quotes.
            self.in_quotes = false;
            return i;
        }
        let rest = &text[i..];
        let end = memchr::memchr(b'"', rest).unwrap_or(rest.len());
        let run = &rest[..end];
        if !self.needs_quoting && memchr::memchr3(b'\r', b'\n', self.separator(), run).is_some() {
            self.needs_quoting = true;
        }
        out.extend_from_slice(run);
        if end < rest.len() {
            self.quote_seen = true;
            return i + end + 1;
        }
        i + end
    }

    fn check_field(&self, out: &[u8], field_start: usize) -> Result<(), ExportError> {
        if out.len().saturating_sub(field_start) > self.max_field {
            return Err(ExportError::FieldTooLong {
                limit: self.max_field,
                record: self.records.saturating_add(1),
            });
        }
        Ok(())
    }

    /// Rewrites the open field as a quoted field if it must be (no allocation: the content
    /// moves right in place, by one byte plus one per quote it doubles).
    fn close_field(&mut self, out: &mut Vec<u8>, field_start: usize) {
        if std::mem::take(&mut self.needs_quoting) {
            let quotes = memchr::memchr_iter(b'"', &out[field_start..]).count();
            if quotes == 0 {
                // The common case (a comma, a line break): wrap without doubling anything.
                out.insert(field_start, b'"');
                out.push(b'"');
                self.field_started = false;
                return;
            }
            let old_end = out.len();
            out.resize(old_end + quotes + 2, b'"');
            // Copy from the back: each byte moves right by the quotes still before it, plus one.
            let mut write = old_end + quotes + 1; // the closing quote stays at the very end
            let mut read = old_end;
            while read > field_start {
                read -= 1;
                let byte = out[read];
                write -= 1;
                out[write] = byte;
                if byte == b'"' {
                    write -= 1;
                    out[write] = b'"';
                }
            }
            out[field_start] = b'"';
        }
        self.field_started = false;
    }

    fn end_field(&mut self, out: &mut Vec<u8>, field_start: &mut usize) {
        self.close_field(out, *field_start);
        out.push(self.separator());
        *field_start = out.len();
        self.record_open = true;
    }

    fn end_record(&mut self, out: &mut Vec<u8>, field_start: &mut usize) {
        self.close_field(out, *field_start);
        out.extend_from_slice(if self.csv { b"\r\n" } else { b"\n" });
        *field_start = out.len();
        self.record_open = false;
        self.records = self.records.saturating_add(1);
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), ExportError> {
        // A closing quote as the very last character ends the field; anything else inside
        // quotes means the text was cut short.
        if self.in_quotes && !self.quote_seen {
            return Err(ExportError::Truncated);
        }
        self.in_quotes = false;
        self.quote_seen = false;
        let mut field_start = out.len();
        out.extend_from_slice(&self.carry);
        self.carry.clear();
        if self.field_started || self.record_open || out.len() > field_start {
            self.end_record(out, &mut field_start);
        }
        Ok(())
    }
}
