//! Downloading an export, without IO: what to do with the answer's head, then every chunk
//! of the body counted and converted, ending in a summary or a typed error that says how far
//! it got. A transport sends the request through [`Call`](crate::machines::Call) (an export answer
//! streams: [`Operation::streams`](crate::operations::Operation::streams)), reads the body with the
//! idle timeout the request carries, and hands each chunk here.

use std::time::{Duration, Instant};

use http::StatusCode;

use crate::config::client_config::{ClientConfig, LowSpeed};
use crate::driver::transport::{ClassifyTransportError, HttpResponse, TransportErrorKind};
use crate::errors::error::Error;
use crate::exports::export_decoder::{ExportDecoder, ExportFormat};
use crate::exports::export_summary::ExportSummary;
use crate::exports::gzip_stream::GzipStream;
use crate::responses::response::ResponseMeta;

/// What a transport does with an export answer's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportHead {
    /// A 200: stream the body through a [`Download`].
    Stream,
    /// A failure: read the body whole, at most this many bytes, for
    /// [`Call::on_response`](crate::machines::Call::on_response) to classify (and maybe retry).
    ReadWhole {
        /// The cap; more is the core's typed "too large" error.
        max_bytes: u64,
    },
}

impl ExportHead {
    /// Decides on the status.
    pub fn of(status: StatusCode, config: &ClientConfig) -> Self {
        if status == StatusCode::OK {
            Self::Stream
        } else {
            Self::ReadWhole {
                max_bytes: config.limits.max_decoded_bytes as u64,
            }
        }
    }
}

/// An answer read whole, kept up to one byte past its cap, so the core reports "too large"
/// for what is too large instead of reading on: the one cap rule every driver uses.
///
/// ```
/// use zuora_core::machines::AnswerBody;
/// let mut body = AnswerBody::new(4);
/// assert!(!body.push(b"abc"));
/// assert!(body.push(b"defgh"), "full: stop reading");
/// assert_eq!(body.into_bytes(), b"abcde");
/// ```
#[derive(Debug, Clone, Default)]
pub struct AnswerBody {
    bytes: Vec<u8>,
    cap: usize,
}

impl AnswerBody {
    /// A body whose answer may have `max_bytes` (one more is kept, to tell it was more).
    pub fn new(max_bytes: u64) -> Self {
        Self {
            bytes: Vec::new(),
            cap: usize::try_from(max_bytes.saturating_add(1)).unwrap_or(usize::MAX),
        }
    }

    /// Keeps what fits of `chunk`; `true` once full (stop reading).
    pub fn push(&mut self, chunk: &[u8]) -> bool {
        let room = self.cap.saturating_sub(self.bytes.len());
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
        self.bytes.len() >= self.cap
    }

    /// As [`push`](Self::push), but a first chunk that fits is taken over rather than
    /// copied (a transport whose chunks convert into a `Vec` without a copy saves one).
    ///
    /// ```
    /// use zuora_core::machines::AnswerBody;
    /// let mut body = AnswerBody::new(4);
    /// assert!(!body.push_owned(b"abc".to_vec()), "taken over");
    /// assert!(body.push_owned(b"defgh".to_vec()), "full: stop reading");
    /// assert_eq!(body.into_bytes(), b"abcde");
    /// let mut body = AnswerBody::new(4);
    /// assert!(body.push_owned(b"abcdefgh".to_vec()), "too large at once");
    /// assert_eq!(body.into_bytes(), b"abcde");
    /// ```
    pub fn push_owned<C: AsRef<[u8]> + Into<Vec<u8>>>(&mut self, chunk: C) -> bool {
        if self.bytes.is_empty() && chunk.as_ref().len() < self.cap {
            self.bytes = chunk.into();
            return false;
        }
        self.push(chunk.as_ref())
    }

    /// For the answer to a request that streams its `200` (an export): `None` for a `200`
    /// (stream its body through a [`Download`]), else the body to read whole, capped as
    /// `config` says.
    pub fn unless_streamed(status: StatusCode, config: &ClientConfig) -> Option<Self> {
        match ExportHead::of(status, config) {
            ExportHead::Stream => None,
            ExportHead::ReadWhole { max_bytes } => Some(Self::new(max_bytes)),
        }
    }

    /// What was kept.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// What was kept, as the body of the answer whose head is `head`.
    pub fn into_answer(self, head: http::response::Parts) -> HttpResponse {
        HttpResponse::from_parts(head, self.bytes)
    }
}

/// A gzip body's inflating, moved off the converting thread by
/// [`Download::inflate_elsewhere`]: what it gives goes to [`Download::on_inflated`].
#[derive(Debug)]
pub struct Inflater(GzipStream);

impl Inflater {
    /// Inflates from the start of `chunk` into `out` until `out` holds [`OUTPUT_BATCH`]
    /// bytes or more; says how much of the chunk it took (call again with the rest, into an
    /// emptied `out`: each call then takes some of the chunk or fills some of `out`).
    ///
    /// # Errors
    ///
    /// The gzip stream is corrupt, or takes no more input.
    pub fn feed_some(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<usize, Error> {
        // Straight into `out`: the inflating thread makes no copy of what it inflates. The
        // stream itself refuses a step that moves nothing, so callers' loops end.
        let until = out.len().saturating_add(OUTPUT_BATCH);
        Ok(self.0.inflate(chunk, out, until)?)
    }

    /// The body ended: checks that the gzip stream did too (everything inflated has gone
    /// out already, through [`feed_some`](Self::feed_some)).
    ///
    /// # Errors
    ///
    /// The gzip stream was cut short.
    pub fn finish(&self) -> Result<(), Error> {
        Ok(self.0.finish()?)
    }

    /// Inflates the next piece of a received chunk: from `rest` (what of the chunk is not
    /// taken yet), into `piece` (emptied first), as [`feed_some`](Self::feed_some) does. The
    /// event to hand over (the piece, standing for the bytes it took, received at `at`, or
    /// why the stream is broken), and how much of `rest` it took. A receiving loop calls
    /// this until the chunk is taken, or until the event [`is_last`](Arrived::is_last).
    pub fn next_piece<C, E>(
        &mut self,
        rest: &[u8],
        mut piece: Vec<u8>,
        at: Instant,
    ) -> (usize, Arrived<C, E>) {
        piece.clear();
        match self.feed_some(rest, &mut piece) {
            Ok(took) => (took, Arrived::Inflated(piece, took as u64, at)),
            Err(error) => (0, Arrived::Broken(error)),
        }
    }

    /// The body ended: the event that says so, or that the gzip stream was cut short.
    pub fn end<C, E>(&self) -> Arrived<C, E> {
        match self.finish() {
            Ok(()) => Arrived::End,
            Err(error) => Arrived::Broken(error),
        }
    }
}

/// The hand-over of a driver that receives an export's body on another thread (or task)
/// than the one converting it: how many pieces may wait, and how many the converting side
/// takes from a full hand-over before it wakes the receiving side.
///
/// Why batches: woken for every piece taken, the receiving side cost the converting thread a
/// wake-up (a futex or `eventfd` call) per piece, 4,000 to 5,000 per GiB on the thread whose
/// time is the download's. Why this many: with 8 pieces and a wake at half, the receiving
/// side sometimes could not refill before the last 4 were converted, and `cargo xtask bench
/// export` measured no gain; 16 and a wake every 4 measured 0.96-1.00x the converter alone
/// where one-by-one measured 0.91-0.94x in the same minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handover {
    /// Pieces received and not yet converted, at most.
    pub capacity: usize,
    /// Pieces the converting side takes from a full hand-over before it wakes the
    /// receiving side (which waits while the hand-over is full).
    pub refill: usize,
}

impl Handover {
    /// For read chunks (a transport's, up to a few hundred KiB each): 16, refilled by 4.
    pub const CHUNKS: Self = Self {
        capacity: 16,
        refill: 4,
    };
    /// For an [`Inflater`]'s pieces (up to about [`OUTPUT_BATCH`], 1 MiB, each): 4, woken
    /// for each, which is once per MiB already.
    pub const INFLATED: Self = Self {
        capacity: 4,
        refill: 1,
    };

    /// The hand-over for pieces inflated on the receiving side (`inflated`), or read chunks.
    pub fn of(inflated: bool) -> Self {
        if inflated {
            Self::INFLATED
        } else {
            Self::CHUNKS
        }
    }

    /// Buffers a receiving side keeps for reuse, at most: every piece that can be in flight
    /// or in hand at once.
    pub fn spares(self) -> usize {
        self.capacity.saturating_add(2)
    }

    /// The converting side's count of pieces taken, which says when to wake the receiving
    /// side.
    pub fn refills(self) -> Refills {
        Refills {
            every: self.refill.max(1),
            taken: 0,
        }
    }
}

/// Counts the pieces a converting side takes from a [`Handover`]: every
/// [`refill`](Handover::refill) of them, it wakes the receiving side (which waits only while
/// the hand-over is full, so it is woken within `refill` pieces of starting to wait).
///
/// ```
/// use zuora_core::machines::Handover;
/// let mut refills = Handover::CHUNKS.refills();
/// let woken: Vec<bool> = (0..8).map(|_| refills.took_one()).collect();
/// assert_eq!(woken, [false, false, false, true, false, false, false, true]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refills {
    every: usize,
    taken: usize,
}

impl Refills {
    /// One piece was taken: whether to wake the receiving side now.
    pub fn took_one(&mut self) -> bool {
        self.taken += 1;
        if self.taken < self.every {
            return false;
        }
        self.taken = 0;
        true
    }
}

/// What a driver's read of an export body brought: the event [`Download::on_arrived`] takes.
/// A driver that receives on another thread or task hands these over as they come; `C` is
/// its transport's chunk, `E` its transport's error.
#[derive(Debug)]
pub enum Arrived<C, E> {
    /// Bytes of the body, and when they arrived (the low-speed rule's clock).
    Chunk(C, Instant),
    /// Text from an [`Inflater`], standing for so many bytes received, and when those
    /// arrived.
    Inflated(Vec<u8>, u64, Instant),
    /// The gzip stream could not be inflated.
    Broken(Error),
    /// The body ended cleanly.
    End,
    /// The body broke off (a timeout included).
    Failed(E),
}

impl<C, E> Arrived<C, E> {
    /// What a read gave (a chunk, `None` at the body's end, or the transport's error), at
    /// `now`.
    pub fn of_read(read: Result<Option<C>, E>, now: Instant) -> Self {
        match read {
            Ok(Some(chunk)) => Self::Chunk(chunk, now),
            Ok(None) => Self::End,
            Err(error) => Self::Failed(error),
        }
    }

    /// Whether nothing comes after this event: the body's end, or why it stopped. A
    /// receiving loop stops once it has handed such an event over.
    pub fn is_last(&self) -> bool {
        matches!(self, Self::Broken(_) | Self::End | Self::Failed(_))
    }
}

/// A buffer [`Download::on_arrived`] is done with, for the driver to reuse: the chunk it
/// was given, or an inflated piece.
#[derive(Debug)]
pub enum Spare<C> {
    /// The transport's chunk.
    Chunk(C),
    /// An [`Inflater`]'s piece.
    Inflated(Vec<u8>),
}

/// What a driver does next with a [`Download`] (see [`Download::next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadNext {
    /// Read the body, and hand what arrived to [`Download::on_arrived`].
    Read,
    /// The rest of the last chunk was converted: hand the output on before reading more.
    Converted,
    /// The body has ended cleanly; [`Download::summary`] says what came.
    Ended,
}

/// The output [`Download::on_chunk`] makes at most (plus one inflated buffer, 48 KiB) before
/// it leaves the rest of a chunk pending: a gzip chunk can expand a thousandfold.
pub const OUTPUT_BATCH: usize = 1 << 20;

/// One export body being converted.
///
/// ```
/// use zuora_core::{ClientConfig, machines::Download, ExportFormat};
/// let config = ClientConfig::builder().base_url("http://127.0.0.1:1").credentials("id", "secret").into_config()?;
/// let head = http::Response::builder().status(200).body(())?;
/// let mut download = Download::start(&head, ExportFormat::Csv, &config);
/// let mut csv = Vec::new();
/// let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain("a\tb\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
/// download.on_chunk(&utf16, &mut csv, std::time::Instant::now())?;
/// let summary = download.finish(&mut csv)?;
/// assert_eq!(csv, b"a,b\r\n");
/// assert_eq!((summary.bytes_received, summary.bytes_written), (10, 5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Download {
    decoder: ExportDecoder,
    format: ExportFormat,
    /// Whether the body is gzip and this download still inflates it.
    gzipped: bool,
    meta: ResponseMeta,
    idle: Duration,
    low_speed: Option<LowSpeed>,
    /// The low-speed rule's window: when it began, and the bytes received by then.
    window: Option<(Instant, u64)>,
    received: u64,
    written: u64,
    max_written: Option<u64>,
    /// Received bytes not converted yet: the rest of a gzip chunk whose output filled a
    /// batch. At most one chunk, and converted before any later chunk.
    backlog: Vec<u8>,
    /// Set once the body has ended cleanly.
    summary: Option<ExportSummary>,
}

impl Download {
    /// Starts on a 200 answer's head: its encoding decides how the body is decoded.
    pub fn start<B>(head: &http::Response<B>, format: ExportFormat, config: &ClientConfig) -> Self {
        let gzipped = crate::exports::export_summary::is_gzipped(head.headers());
        Self {
            decoder: ExportDecoder::new(format, gzipped),
            format,
            gzipped,
            meta: ResponseMeta::from_response(head),
            idle: config.idle_timeout,
            low_speed: config.low_speed,
            window: None,
            received: 0,
            written: 0,
            max_written: config.max_export_bytes,
            backlog: Vec::new(),
            summary: None,
        }
    }

    /// Converts one chunk of the body, received at `now`, appending the output to `out`:
    /// at most about [`OUTPUT_BATCH`] of it. When a gzip chunk expands past that, the rest
    /// of the chunk waits and [`pending`](Self::pending) says so: write `out`, then call
    /// again with an empty chunk until nothing is pending, before reading more. (A driver
    /// that reads on anyway loses nothing: the new chunk queues behind the rest.)
    ///
    /// # Errors
    ///
    /// The export cannot be converted, moved slower than the low-speed rule allows, or
    /// passed the caller's size cap.
    pub fn on_chunk(&mut self, chunk: &[u8], out: &mut Vec<u8>, now: Instant) -> Result<(), Error> {
        self.received = self.received.saturating_add(chunk.len() as u64);
        self.check_speed(now)?;
        let before = out.len();
        let until = before.saturating_add(OUTPUT_BATCH);
        if self.backlog.is_empty() {
            let taken = self.decoder.feed_some(chunk, out, until)?;
            self.backlog
                .extend_from_slice(chunk.get(taken..).unwrap_or_default());
        } else {
            self.backlog.extend_from_slice(chunk);
            let taken = self.decoder.feed_some(&self.backlog, out, until)?;
            self.backlog.drain(..taken.min(self.backlog.len()));
        }
        self.wrote(out.len().saturating_sub(before))
    }

    /// For a driver that receives on another thread: a gzip body's inflating moves to an
    /// [`Inflater`] for that thread, so inflating and converting run on two cores. From then
    /// on this download takes what the inflater gives, through
    /// [`on_inflated`](Self::on_inflated). `None` (and nothing changes) for a plain body, or
    /// once anything has been fed.
    ///
    /// ```
    /// use std::io::Write;
    /// use zuora_core::{ClientConfig, ExportFormat, machines::Download};
    /// let config = ClientConfig::builder().base_url("http://127.0.0.1:1").credentials("id", "secret").into_config()?;
    /// let head = http::Response::builder().status(200).header("content-encoding", "gzip").body(())?;
    /// let mut download = Download::start(&head, ExportFormat::Csv, &config);
    /// let mut inflater = download.inflate_elsewhere().expect("a gzip body");
    /// let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain("a\tb\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    /// let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    /// gzip.write_all(&utf16)?;
    /// let body = gzip.finish()?;
    /// // On the receiving thread:
    /// let (mut text, mut taken) = (Vec::new(), 0);
    /// while taken < body.len() {
    ///     taken += inflater.feed_some(&body[taken..], &mut text)?;
    /// }
    /// inflater.finish()?;
    /// // On the converting thread:
    /// let mut csv = Vec::new();
    /// download.on_inflated(&text, body.len() as u64, &mut csv, std::time::Instant::now())?;
    /// let summary = download.finish(&mut csv)?;
    /// assert_eq!(csv, b"a,b\r\n");
    /// assert_eq!(summary.bytes_received, body.len() as u64);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inflate_elsewhere(&mut self) -> Option<Inflater> {
        if !self.gzipped || self.received > 0 {
            return None;
        }
        self.gzipped = false;
        self.decoder = ExportDecoder::new(self.format, false);
        Some(Inflater(GzipStream::default()))
    }

    /// Inflated bytes from the [`Inflater`], standing for `received` bytes of the body,
    /// which arrived at `now`: converted into `out` as [`on_chunk`](Self::on_chunk) does.
    ///
    /// # Errors
    ///
    /// As [`on_chunk`](Self::on_chunk).
    pub fn on_inflated(
        &mut self,
        inflated: &[u8],
        received: u64,
        out: &mut Vec<u8>,
        now: Instant,
    ) -> Result<(), Error> {
        self.received = self.received.saturating_add(received);
        self.check_speed(now)?;
        let before = out.len();
        // Plain text: taken whole, its output at most about twice its size.
        self.decoder.feed(inflated, out)?;
        self.wrote(out.len().saturating_sub(before))
    }

    /// Whether part of the last chunk is still to be converted (see
    /// [`on_chunk`](Self::on_chunk)).
    pub fn pending(&self) -> bool {
        !self.backlog.is_empty()
    }

    /// A driver's loop asks this before each read: whether to read the body next, or
    /// whether it has ended. What the last chunk left pending (a gzip chunk that expanded
    /// past a batch) is converted into `out` first, at `now`, and then the answer is
    /// [`Converted`](DownloadNext::Converted): hand `out` on before asking again.
    ///
    /// # Errors
    ///
    /// As [`on_chunk`](Self::on_chunk).
    pub fn next(&mut self, out: &mut Vec<u8>, now: Instant) -> Result<DownloadNext, Error> {
        if self.summary.is_some() {
            Ok(DownloadNext::Ended)
        } else if self.pending() {
            self.on_chunk(&[], out, now)
                .map(|()| DownloadNext::Converted)
        } else {
            Ok(DownloadNext::Read)
        }
    }

    /// What the driver's read brought (see [`Arrived`]), converted into `out`: a chunk as
    /// [`on_chunk`](Self::on_chunk) does, inflated text as [`on_inflated`](Self::on_inflated),
    /// the end as [`finish`](Self::finish). Gives back the buffer it is done with, for the
    /// driver to reuse.
    ///
    /// A driver's whole converting loop, over a body read from a slice:
    ///
    /// ```
    /// use std::time::Instant;
    /// use zuora_core::{ClientConfig, ExportFormat};
    /// use zuora_core::machines::{Arrived, Download, DownloadNext};
    /// let config = ClientConfig::builder().base_url("http://127.0.0.1:1").credentials("id", "secret").into_config()?;
    /// let head = http::Response::builder().status(200).body(())?;
    /// let mut download = Download::start(&head, ExportFormat::Csv, &config);
    /// let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain("a\tb\nc\td\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    /// let mut body = utf16.chunks(5);
    /// let mut csv = Vec::new();
    /// while download.next(&mut csv, Instant::now())? != DownloadNext::Ended {
    ///     let read: Result<Option<&[u8]>, std::io::Error> = Ok(body.next());
    ///     download.on_arrived(Arrived::of_read(read, Instant::now()), &mut csv)?;
    /// }
    /// assert_eq!(csv, b"a,b\r\nc,d\r\n");
    /// assert_eq!(download.summary().map(|s| s.bytes_received), Some(utf16.len() as u64));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As those three; a body that broke off is [`broken`](Self::broken) (stalled when the
    /// transport says it timed out).
    pub fn on_arrived<C, E>(
        &mut self,
        arrived: Arrived<C, E>,
        out: &mut Vec<u8>,
    ) -> Result<Option<Spare<C>>, Error>
    where
        C: AsRef<[u8]>,
        E: ClassifyTransportError + std::fmt::Display,
    {
        match arrived {
            Arrived::Chunk(chunk, at) => {
                self.on_chunk(chunk.as_ref(), out, at)?;
                Ok(Some(Spare::Chunk(chunk)))
            }
            Arrived::Inflated(text, received, at) => {
                self.on_inflated(&text, received, out, at)?;
                Ok(Some(Spare::Inflated(text)))
            }
            Arrived::End => self.finish(out).map(|_| None),
            Arrived::Broken(error) => Err(error),
            Arrived::Failed(error) => {
                let stalled = error.kind() == TransportErrorKind::Timeout;
                Err(self.broken(&error.detail(), stalled))
            }
        }
    }

    /// Counts output, held to the caller's cap.
    fn wrote(&mut self, bytes: usize) -> Result<(), Error> {
        self.written = self.written.saturating_add(bytes as u64);
        match self.max_written {
            Some(limit) if self.written > limit => Err(Error::ExportTooLarge {
                limit,
                received: self.received,
            }),
            _ => Ok(()),
        }
    }

    /// The low-speed rule, over tumbling windows from the first chunk: each window of the
    /// rule's length must have moved the floor's bytes a second on average.
    fn check_speed(&mut self, now: Instant) -> Result<(), Error> {
        let Some(rule) = self.low_speed else {
            return Ok(());
        };
        let (start, at_start) = *self.window.get_or_insert((now, self.received));
        let elapsed = now.saturating_duration_since(start);
        if elapsed < rule.over {
            return Ok(());
        }
        let moved = self.received.saturating_sub(at_start);
        let millis = u64::try_from(elapsed.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let rate = moved.saturating_mul(1000) / millis;
        if rate < rule.bytes_per_second {
            return Err(Error::ExportTooSlow {
                received: self.received,
                bytes_per_second: rate,
                floor: rule.bytes_per_second,
                over: elapsed,
            });
        }
        self.window = Some((now, self.received));
        Ok(())
    }

    /// The body ended: the last output goes to `out`; a body cut short is an error.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<ExportSummary, Error> {
        let before = out.len();
        // A driver that ends without draining: the rest goes out in one piece.
        let backlog = std::mem::take(&mut self.backlog);
        self.decoder.feed(&backlog, out)?;
        self.decoder.finish(out)?;
        self.wrote(out.len().saturating_sub(before))?;
        let summary = ExportSummary::new(self.received, self.written, self.meta.clone())
            .with_rows(self.decoder.rows());
        self.summary = Some(summary.clone());
        Ok(summary)
    }

    /// What the download received and wrote, once the body has ended cleanly.
    pub fn summary(&self) -> Option<&ExportSummary> {
        self.summary.as_ref()
    }

    /// The summary of a body that has ended cleanly.
    ///
    /// # Errors
    ///
    /// [`Error::Misuse`] when it has not ended (a driver asking too early).
    pub fn ended(&self) -> Result<ExportSummary, Error> {
        self.summary
            .clone()
            .ok_or_else(|| Error::misuse("the export ended without a summary"))
    }

    /// The body broke off: `timed_out` when no byte came for the idle timeout.
    pub fn broken(&self, detail: &dyn std::fmt::Display, timed_out: bool) -> Error {
        if timed_out {
            return Error::ExportStalled {
                received: self.received,
                idle: self.idle,
            };
        }
        Error::ExportBrokeOff {
            received: self.received,
            detail: detail.to_string(),
        }
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }
}

#[cfg(test)]
mod low_speed_tests {
    #![allow(clippy::unwrap_used)] // A panic is how a test fails.

    use super::*;
    use crate::config::LowSpeed;

    fn download(rule: LowSpeed) -> Download {
        let config = ClientConfig::builder()
            .base_url("http://127.0.0.1:1")
            .credentials("id", "secret")
            .low_speed(Some(rule))
            .into_config()
            .unwrap();
        let head = http::Response::builder().status(200).body(()).unwrap();
        Download::start(&head, ExportFormat::Raw, &config)
    }

    #[test]
    fn under_the_floor_for_the_window_ends_the_download() {
        let rule = LowSpeed {
            bytes_per_second: 256,
            over: Duration::from_secs(60),
        };
        let start = Instant::now();
        let (mut slow, mut fast) = (download(rule), download(rule));
        let mut out = Vec::new();
        let mut ended = None;
        for second in 0..=120u64 {
            let now = start + Duration::from_secs(second);
            assert!(
                fast.on_chunk(&[b'a'; 1024], &mut out, now).is_ok(),
                "1 KiB/s runs on"
            );
            if ended.is_none() && slow.on_chunk(b"a", &mut out, now).is_err() {
                ended = Some(second);
            }
        }
        assert_eq!(
            ended,
            Some(60),
            "a byte a second ends when the first minute is over"
        );
    }
}
