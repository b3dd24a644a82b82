//! Response bodies: small JSON answers, and exports generated while they stream.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use zuora_core::ReportId;

use crate::catalogue::{ROW_CYCLE, Report};

/// About how much export text one frame carries before encoding.
const CHUNK_BYTES: usize = 64 * 1024;

/// The error that ends a body early, to cut a response off mid-way.
#[derive(Debug)]
pub struct CutOff;

impl std::fmt::Display for CutOff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the simulator cut the response off (injected fault)")
    }
}

impl std::error::Error for CutOff {}

/// A response body.
pub enum SimBody {
    /// The whole body at once.
    Full(Option<Bytes>),
    /// An export, generated chunk by chunk.
    Export(Box<ExportStream>),
    /// Some frames, then an error that aborts the connection.
    Truncated(VecDeque<Bytes>),
}

impl SimBody {
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self::Full(Some(bytes.into()))
    }

    pub fn empty() -> Self {
        Self::Full(None)
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = CutOff;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, CutOff>>> {
        let next = match self.get_mut() {
            Self::Full(bytes) => bytes.take().map(|b| Ok(Frame::data(b))),
            Self::Export(stream) => stream.encoded_chunk().map(|b| Ok(Frame::data(b))),
            Self::Truncated(frames) => Some(frames.pop_front().map(Frame::data).ok_or(CutOff)),
        };
        Poll::Ready(next)
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            Self::Full(None) => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

/// An export: the header line and every row as tab-separated UTF-16LE text, with a BOM,
/// optionally gzipped on the fly. Memory use is one chunk, whatever the report's size.
///
/// Zuora documents UTF-16LE and tabs but not how a value holding a tab, a line break or a
/// quote is written. Not documented; this project's choice: such a value is wrapped in
/// double quotes with inner quotes doubled (the CSV rule, with tab as the separator), and
/// lines end with `\n`.
pub struct ExportStream {
    report: Report,
    next_row: u64,
    gzip: Option<flate2::write::GzEncoder<Vec<u8>>>,
    first: Option<Bytes>,
    finished: bool,
    text: String,
    bytes: Vec<u8>,
    filters: Vec<zuora_core::filters::FilterGroup>,
    /// The rows pre-encoded, for a large unfiltered export: given (see [`Templates`]) or
    /// made on the first chunk.
    template: Option<Arc<Template>>,
    /// Where the template's chunks are written, each split off as it is sent. Once the
    /// server has sent and dropped them, `reserve` takes their memory back: a new 264 KiB
    /// buffer per chunk is over glibc's mmap threshold, so each was mapped, page-faulted
    /// and unmapped (the simulator's CPU per GiB served doubled when nothing else had
    /// raised that threshold).
    frames: BytesMut,
}

/// Each report's [`Template`], made at its first export and shared by the later ones:
/// making one renders [`ROW_CYCLE`] rows, about 4 ms that every export of a large report
/// paid before its first byte (curl's time to first byte: 4 ms, now 0.3 ms after the first).
#[derive(Default)]
pub(crate) struct Templates(Mutex<HashMap<ReportId, Option<Arc<Template>>>>);

impl Templates {
    /// `report`'s template, made now if this is its first export; `None` when it has none.
    pub(crate) fn of(&self, report: &Report) -> Option<Arc<Template>> {
        // A panic while making one leaves the map as it was: nothing to repair.
        let mut made = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        made.entry(report.id.clone())
            .or_insert_with(|| Template::of(report).map(Arc::new))
            .clone()
    }
}

/// [`ROW_CYCLE`] rows of a report as UTF-16LE lines, and where each line's row number is:
/// a large export is these bytes copied over and over with the numbers written in, so the
/// simulator serves it at memory speed rather than formatting every row.
pub(crate) struct Template {
    bytes: Vec<u8>,
    /// Where each line starts, and one past the last.
    starts: Vec<usize>,
    /// Where each line's eight-digit row number starts (bytes from the line's start).
    digits: Vec<usize>,
}

impl Template {
    /// The template of `report`, when every row's first field ends in its own row number as
    /// eight digits (the row-numbered data sources) and no row count outgrows them.
    fn of(report: &Report) -> Option<Self> {
        if report.rows <= ROW_CYCLE || report.rows > 99_999_999 {
            return None;
        }
        let mut template = Self {
            bytes: Vec::new(),
            starts: vec![0],
            digits: Vec::new(),
        };
        let mut line = String::new();
        for row in 1..=ROW_CYCLE {
            line.clear();
            push_line(&mut line, report.row(row).iter().map(String::as_str));
            let first = line.split('\t').next()?;
            let number = format!("{row:08}");
            if !first.ends_with(&number) {
                return None;
            }
            // Fields before the digits are ASCII-or-not: count UTF-16 units, not bytes.
            let units_before = first[..first.len() - number.len()].encode_utf16().count();
            template.digits.push(units_before * 2);
            for unit in line.encode_utf16() {
                template.bytes.extend_from_slice(&unit.to_le_bytes());
            }
            template.starts.push(template.bytes.len());
        }
        Some(template)
    }

    /// Appends rows `first..` (1-based) to `out` until it holds `budget` bytes or `last` is
    /// written; the next row to write.
    fn fill(&self, out: &mut BytesMut, mut row: u64, last: u64, budget: usize) -> u64 {
        while row <= last && out.len() < budget {
            let slot = ((row - 1) % ROW_CYCLE) as usize;
            let rows_here = (ROW_CYCLE as usize - slot).min((last - row + 1) as usize);
            let room = budget.saturating_sub(out.len());
            // As many whole lines of this cycle as fit (at least one).
            let mut end = slot + 1;
            while end < slot + rows_here && self.starts[end + 1] - self.starts[slot] <= room {
                end += 1;
            }
            let at = out.len();
            out.extend_from_slice(&self.bytes[self.starts[slot]..self.starts[end]]);
            for line in slot..end {
                let offset = at + self.starts[line] - self.starts[slot] + self.digits[line];
                write_digits(&mut out[offset..offset + 16], row + (line - slot) as u64);
            }
            row += (end - slot) as u64;
        }
        row
    }
}

/// Writes `number` as eight UTF-16LE digits.
fn write_digits(out: &mut [u8], mut number: u64) {
    for pair in out.chunks_exact_mut(2).rev() {
        pair[0] = b'0' + (number % 10) as u8;
        pair[1] = 0;
        number /= 10;
    }
}

impl ExportStream {
    /// A stream over `report`'s export (plain; see [`gzip`](Self::gzip)).
    pub fn new(report: Report) -> Self {
        Self {
            report,
            next_row: 0,
            gzip: None,
            first: None,
            finished: false,
            text: String::with_capacity(CHUNK_BYTES + 4096),
            bytes: Vec::with_capacity(2 * CHUNK_BYTES + 8192),
            filters: Vec::new(),
            template: None,
            frames: BytesMut::new(),
        }
    }

    /// Only the rows that `filters` let through (a filtered run's export).
    pub fn filtered(mut self, filters: Vec<zuora_core::filters::FilterGroup>) -> Self {
        self.filters = filters;
        self
    }

    /// With `report`'s template as [`Templates`] keeps it, rather than one made for this
    /// export alone (a filtered export uses none).
    pub(crate) fn with_template_from(mut self, templates: &Templates) -> Self {
        if self.filters.is_empty() {
            self.template = templates.of(&self.report);
        }
        self
    }

    /// Generates the first chunk now and says whether the whole export is smaller than
    /// `threshold` bytes (Zuora gzips only bodies over 1000 bytes).
    pub fn starts_smaller_than(&mut self, threshold: usize) -> bool {
        let first = self.plain_chunk();
        let small = self.finished && first.as_ref().is_none_or(|b| b.len() < threshold);
        self.first = first;
        small
    }

    /// Compress the stream from here on.
    pub fn gzip(&mut self) {
        self.gzip = Some(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
    }

    /// Frames of the encoded stream until at least `bytes` have been taken (or the stream
    /// ended): the part of a cut-off download that gets through. Enough bytes that the
    /// server has flushed the status and headers, so the cut is mid-body, not a reset.
    pub fn take_at_least(&mut self, bytes: usize) -> Vec<Bytes> {
        let mut frames = Vec::new();
        let mut taken = 0;
        while taken < bytes {
            match self.encoded_chunk() {
                Some(frame) => {
                    taken += frame.len();
                    frames.push(frame);
                }
                None => break,
            }
        }
        frames
    }

    fn encoded_chunk(&mut self) -> Option<Bytes> {
        loop {
            let plain = match self.first.take() {
                Some(first) => Some(first),
                None => self.plain_chunk(),
            };
            let Some(encoder) = self.gzip.as_mut() else {
                return plain;
            };
            match plain {
                Some(plain) => {
                    // Writing into a Vec cannot fail.
                    let _ = encoder.write_all(&plain);
                    let out = std::mem::take(encoder.get_mut());
                    if !out.is_empty() {
                        return Some(Bytes::from(out));
                    }
                }
                None => {
                    let encoder = self.gzip.take()?;
                    return encoder
                        .finish()
                        .ok()
                        .filter(|b| !b.is_empty())
                        .map(Bytes::from);
                }
            }
        }
    }

    /// The next chunk of UTF-16LE text, or `None` at the end.
    fn plain_chunk(&mut self) -> Option<Bytes> {
        if self.finished {
            return None;
        }
        if let Some(template) = self.template.as_ref().filter(|_| self.next_row > 0) {
            self.frames.reserve(4 * CHUNK_BYTES + 8192);
            self.next_row = template.fill(
                &mut self.frames,
                self.next_row,
                self.report.rows,
                4 * CHUNK_BYTES,
            );
            self.finished = self.next_row > self.report.rows;
            return (!self.frames.is_empty()).then(|| self.frames.split().freeze());
        }
        self.text.clear();
        self.bytes.clear();
        if self.next_row == 0 {
            self.bytes.extend_from_slice(&[0xFF, 0xFE]);
            let labels: Vec<&str> = self.report.columns().iter().map(|c| c.label).collect();
            push_line(&mut self.text, labels.iter().copied());
            self.next_row = 1;
            if !self.filters.is_empty() {
                self.template = None;
            } else if self.template.is_none() {
                self.template = Template::of(&self.report).map(Arc::new);
            }
        }
        while self.template.is_none()
            && self.text.len() < CHUNK_BYTES
            && self.next_row <= self.report.rows
        {
            let row = self.report.row(self.next_row);
            if self.filters.is_empty()
                || crate::filter::matches(&self.filters, self.report.columns(), &row)
            {
                push_line(&mut self.text, row.iter().map(String::as_str));
            }
            self.next_row += 1;
        }
        if self.next_row > self.report.rows {
            self.finished = true;
        }
        for unit in self.text.encode_utf16() {
            self.bytes.extend_from_slice(&unit.to_le_bytes());
        }
        (!self.bytes.is_empty()).then(|| Bytes::copy_from_slice(&self.bytes))
    }
}

/// The export's encoded chunks, in order: how benchmarks get the exact bytes the simulator
/// serves without a server in the way.
impl Iterator for ExportStream {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        self.encoded_chunk()
    }
}

fn push_line<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (index, field) in fields.enumerate() {
        if index > 0 {
            out.push('\t');
        }
        if field.contains(['\t', '\n', '\r', '"']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Catalogue, LARGE_REPORT_NAME};

    /// The export as the slow path writes it: every row formatted, then encoded.
    fn rendered(report: &Report) -> Vec<u8> {
        let mut text = String::new();
        let labels: Vec<&str> = report.columns().iter().map(|c| c.label).collect();
        push_line(&mut text, labels.iter().copied());
        for row in 1..=report.rows {
            push_line(&mut text, report.row(row).iter().map(String::as_str));
        }
        let mut bytes = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn the_pre_encoded_export_is_the_rendered_one() {
        for rows in [ROW_CYCLE + 1, 2 * ROW_CYCLE + 17, 3 * ROW_CYCLE] {
            let mut catalogue = Catalogue::sample(5, 10);
            assert!(catalogue.set_rows(LARGE_REPORT_NAME, rows));
            let report = catalogue
                .reports()
                .iter()
                .find(|r| r.name == LARGE_REPORT_NAME)
                .cloned()
                .unwrap_or_else(|| panic!("no large report"));
            assert!(Template::of(&report).is_some(), "the fast path is taken");
            let served: Vec<u8> = ExportStream::new(report.clone()).flatten().collect();
            assert!(served == rendered(&report), "{rows} rows: the bytes differ");
        }
    }
}
