//! The two passes over an export, for a driver that spools it: pass 1 infers the types while
//! the export's TSV goes to the spool ([`Spooling`], a `Write`); pass 2 reads the spool back
//! as record batches ([`Spooled::batches`], an Arrow `RecordBatchReader`) or writes them as a
//! file ([`Spooled::write`]). The driver only moves the bytes.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};

use crate::infer::{Column, ColumnType, Inference};
use crate::values::Locale;
use crate::{Converter, Records, TableError, TableFormat, TableWriter};

/// Rows per record batch (a Parquet row group is made of these).
pub const BATCH_ROWS: usize = 64 * 1024;

/// Bytes read from the spool at a time in pass 2.
const SPOOL_CHUNK: usize = 256 * 1024;

/// Whether a pass runs on the caller's thread alone or shares its work with one helper
/// thread: pass 1 then finds the records and their types while the caller converts the
/// next bytes, and pass 2 builds the next record batch while the caller encodes the last.
/// On two cores that is what makes the two passes faster than the usual tools (`cargo
/// xtask bench table`); a service that already keeps every core busy can keep to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Threads {
    /// Everything on the caller's thread.
    CallerOnly,
    /// One helper thread besides the caller's, per pass, for as long as the pass lasts.
    #[default]
    WithHelper,
}

/// Bytes handed to pass 1's helper at a time (written bytes are gathered up to this).
const HANDOVER: usize = 256 * 1024;

/// Hand-overs waiting for the helper at most: memory stays a few hand-overs.
const HANDOVERS_QUEUED: usize = 2;

/// Pass 1: the export's TSV on its way to `spool`, its records taken by an [`Inference`].
#[derive(Debug)]
pub struct Spooling<W> {
    stage: Stage<W>,
    threads: Threads,
}

/// Pass 1's work: what the helper thread owns while it runs.
#[derive(Debug)]
struct Pass1<W> {
    spool: W,
    records: Records,
    inference: Inference,
}

impl<W: Write> Pass1<W> {
    fn take(&mut self, bytes: &[u8]) -> Result<(), TableError> {
        let inference = &mut self.inference;
        self.records
            .push(bytes, |index, fields| inference.record(index, fields))?;
        self.spool.write_all(bytes)?;
        Ok(())
    }
}

#[derive(Debug)]
enum Stage<W> {
    /// Everything on the caller's thread.
    Inline(Pass1<W>),
    /// Bytes gathered in `next` go to the helper, which hands emptied buffers back.
    Helper {
        next: Vec<u8>,
        to_helper: SyncSender<Vec<u8>>,
        /// In a mutex only so the spooling is `Sync` (bindings share it); never contended.
        emptied: Mutex<Receiver<Vec<u8>>>,
        helper: JoinHandle<Result<Pass1<W>, TableError>>,
    },
    /// A step failed (or a panic left it); the error was returned then.
    Failed,
}

impl Spooling<File> {
    /// Spools into an anonymous temporary file (removed by the system when closed, even
    /// after a crash where the system allows; owner-only), reading numbers as `locale`
    /// writes them, with a helper thread ([`Threads::WithHelper`]).
    ///
    /// # Errors
    ///
    /// The temporary folder refusing the file.
    pub fn temporary(locale: Locale) -> Result<Self, TableError> {
        // `tempfile` makes the file unnamed where the system can (O_TMPFILE) and
        // unpredictable and exclusive elsewhere: the spool holds the tenant's data.
        Ok(Self::new(tempfile::tempfile()?, locale).threads(Threads::WithHelper))
    }

    /// As [`temporary`](Self::temporary), the file in `folder` (for example beside the
    /// output, on the same disk, when the system's temporary folder is small).
    ///
    /// # Errors
    ///
    /// `folder` refusing the file.
    pub fn temporary_in(folder: &Path, locale: Locale) -> Result<Self, TableError> {
        Ok(Self::new(tempfile::tempfile_in(folder)?, locale).threads(Threads::WithHelper))
    }
}

impl<W: Write> Spooling<W> {
    /// Spools into `spool`, reading numbers as `locale` writes them, on the caller's thread
    /// ([`threads`](Self::threads) changes that).
    pub fn new(spool: W, locale: Locale) -> Self {
        Self {
            stage: Stage::Inline(Pass1 {
                spool,
                records: Records::default(),
                inference: Inference::new(locale),
            }),
            threads: Threads::CallerOnly,
        }
    }

    /// The export has ended: the spool (flushed) with the columns typed from every value
    /// (`overrides` first) and the number of data rows.
    ///
    /// # Errors
    ///
    /// A malformed record, an override naming no column, or the spool refusing a write.
    pub fn finish(self, overrides: &[(String, ColumnType)]) -> Result<Spooled<W>, TableError> {
        let threads = self.threads;
        let mut pass = match self.stage {
            Stage::Inline(pass) => pass,
            Stage::Helper {
                next,
                to_helper,
                helper,
                ..
            } => {
                // What is still gathered goes too; the helper's own error comes first.
                let _ = to_helper.send(next);
                drop(to_helper);
                joined(helper)?
            }
            Stage::Failed => return Err(failed_before()),
        };
        let inference = &mut pass.inference;
        pass.records
            .finish(|index, fields| inference.record(index, fields))?;
        pass.spool.flush()?;
        let rows = pass.inference.rows();
        let locale = pass.inference.locale();
        let columns = pass.inference.finish(overrides)?;
        Ok(Spooled {
            spool: pass.spool,
            columns,
            rows,
            locale,
            threads,
        })
    }
}

impl<W: Write + Send + 'static> Spooling<W> {
    /// Runs pass 1 with `threads`: with a helper, the records, their types and the spool's
    /// writes happen on it while the caller produces the next bytes; pass 2 then uses a
    /// helper too.
    #[must_use]
    pub fn threads(mut self, threads: Threads) -> Self {
        self.threads = threads;
        self.stage = match (self.stage, threads) {
            (Stage::Inline(pass), Threads::WithHelper) => {
                let (to_helper, from_caller) = sync_channel::<Vec<u8>>(HANDOVERS_QUEUED);
                let (to_caller, emptied) = sync_channel::<Vec<u8>>(HANDOVERS_QUEUED + 2);
                let helper = std::thread::spawn(move || {
                    let mut pass = pass;
                    for mut bytes in from_caller {
                        pass.take(&bytes)?;
                        bytes.clear();
                        // The caller may have enough buffers already: then this one goes.
                        let _ = to_caller.try_send(bytes);
                    }
                    Ok(pass)
                });
                Stage::Helper {
                    next: Vec::with_capacity(HANDOVER),
                    to_helper,
                    emptied: Mutex::new(emptied),
                    helper,
                }
            }
            (stage, _) => stage,
        };
        self
    }
}

impl<W: Write> Write for Spooling<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match &mut self.stage {
            Stage::Inline(pass) => {
                if let Err(error) = pass.take(bytes) {
                    self.stage = Stage::Failed;
                    return Err(std::io::Error::other(error));
                }
            }
            Stage::Helper {
                next,
                to_helper,
                emptied,
                ..
            } => {
                let room = HANDOVER.saturating_sub(next.len()).max(1);
                let taken = bytes.len().min(room);
                next.extend_from_slice(&bytes[..taken]);
                if next.len() >= HANDOVER {
                    let recycled = emptied.get_mut().ok().and_then(|e| e.try_recv().ok());
                    let fresh = recycled.unwrap_or_else(|| Vec::with_capacity(HANDOVER));
                    let full = std::mem::replace(next, fresh);
                    if to_helper.send(full).is_err() {
                        // The helper stopped: its error says why.
                        return Err(std::io::Error::other(self.helper_error()));
                    }
                }
                return Ok(taken);
            }
            Stage::Failed => return Err(std::io::Error::other(failed_before())),
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.stage {
            Stage::Inline(pass) => pass.spool.flush(),
            // The helper writes the spool; `finish` flushes it.
            Stage::Helper { .. } => Ok(()),
            Stage::Failed => Err(std::io::Error::other(failed_before())),
        }
    }
}

impl<W> Spooling<W> {
    /// The helper's error, once it has stopped; the spooling has failed from then on.
    fn helper_error(&mut self) -> TableError {
        match std::mem::replace(&mut self.stage, Stage::Failed) {
            Stage::Helper { helper, .. } => match joined(helper) {
                Err(error) => error,
                Ok(_) => failed_before(),
            },
            _ => failed_before(),
        }
    }
}

/// The helper's outcome (its panic, if it panicked, goes on in the caller).
fn joined<T>(helper: JoinHandle<Result<T, TableError>>) -> Result<T, TableError> {
    match helper.join() {
        Ok(outcome) => outcome,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn failed_before() -> TableError {
    TableError::Io(std::io::Error::other(
        "the table failed earlier; its error was returned then",
    ))
}

/// Pass 1 done: the spooled export with its columns' types.
#[derive(Debug, Clone)]
pub struct Spooled<S> {
    spool: S,
    columns: Vec<Column>,
    rows: u64,
    locale: Locale,
    threads: Threads,
}

impl<S> Spooled<S> {
    /// The columns, in the export's order, with their types (and why a column is text).
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The number of data rows.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The Arrow schema of the batches: the export's labels exactly, with their types.
    pub fn schema(&self) -> SchemaRef {
        crate::schema(&self.columns)
    }

    /// Runs pass 2 with `threads` (by default, what pass 1 ran with).
    #[must_use]
    pub fn threads(mut self, threads: Threads) -> Self {
        self.threads = threads;
        self
    }

    /// The same table read back through `spool` (another handle on the same bytes, such as
    /// the spool file opened again by its path).
    pub fn with_spool<R>(self, spool: R) -> Spooled<R> {
        Spooled {
            spool,
            columns: self.columns,
            rows: self.rows,
            locale: self.locale,
            threads: self.threads,
        }
    }
}

impl Spooled<File> {
    /// The same table, readable any number of times, by any number of readers at once:
    /// each clone reads the spool from its start with positioned reads of its own.
    pub fn shared(self) -> Spooled<SharedSpool> {
        Spooled {
            spool: SharedSpool {
                file: Arc::new(self.spool),
                at: 0,
            },
            columns: self.columns,
            rows: self.rows,
            locale: self.locale,
            threads: self.threads,
        }
    }
}

impl<W: Write + Read + Seek + Send> Spooling<W> {
    /// The whole of pass 2 at once: [`finish`](Self::finish), [`rewound`](Spooled::rewound)
    /// and [`write`](Spooled::write) the table as `format` into `out`. Gives the number of
    /// data rows and `out` back.
    ///
    /// # Errors
    ///
    /// As those three.
    pub fn write_table<O: Write + Send>(
        self,
        overrides: &[(String, ColumnType)],
        format: TableFormat,
        out: O,
    ) -> Result<(u64, O), TableError> {
        let spooled = self.finish(overrides)?;
        let rows = spooled.rows();
        let out = spooled.rewound()?.write(format, out)?;
        Ok((rows, out))
    }
}

impl<S: Read + Seek> Spooled<S> {
    /// The same table, its spool read again from its start.
    ///
    /// # Errors
    ///
    /// The spool refusing the seek.
    pub fn rewound(mut self) -> Result<Spooled<BufReader<S>>, TableError> {
        self.spool.seek(SeekFrom::Start(0))?;
        Ok(Spooled {
            spool: BufReader::with_capacity(SPOOL_CHUNK, self.spool),
            columns: self.columns,
            rows: self.rows,
            locale: self.locale,
            threads: self.threads,
        })
    }
}

impl<R: Read> Spooled<R> {
    /// Pass 2: the rows as record batches of at most [`BATCH_ROWS`] rows, read from the
    /// spool as they are asked for. Memory: one batch.
    ///
    /// # Errors
    ///
    /// A decimal type Arrow refuses.
    pub fn batches(self) -> Result<Batches<R>, TableError> {
        Ok(Batches {
            converter: Converter::new(self.columns, self.locale, BATCH_ROWS)?,
            spool: self.spool,
            records: Records::default(),
            ready: VecDeque::new(),
            chunk: vec![0; SPOOL_CHUNK],
            ended: false,
        })
    }

    /// Pass 2 into `out` as `format`; `out` comes back flushed. With
    /// [`Threads::WithHelper`] the helper builds the next batch while this thread encodes
    /// the last (at most two batches wait between them).
    ///
    /// # Errors
    ///
    /// A value that does not fit its column (row, column and value), a malformed record, or
    /// IO.
    pub fn write<W: Write + Send>(self, format: TableFormat, out: W) -> Result<W, TableError>
    where
        R: Send,
    {
        let threads = self.threads;
        let mut batches = self.batches()?;
        let mut writer = TableWriter::new(format, out, batches.schema())?;
        match threads {
            Threads::CallerOnly => {
                while let Some(batch) = batches.next_batch()? {
                    writer.write(&batch)?;
                }
            }
            Threads::WithHelper => std::thread::scope(|scope| {
                let (to_writer, built) = sync_channel(2);
                scope.spawn(move || {
                    loop {
                        let next = batches.next_batch().transpose();
                        let last = !matches!(next, Some(Ok(_)));
                        // A send fails when the writer has stopped: so does the helper.
                        if next.is_none_or(|next| to_writer.send(next).is_err()) || last {
                            return;
                        }
                    }
                });
                // Returning early drops `built`, which stops the helper.
                for batch in built {
                    writer.write(&batch?)?;
                }
                Ok::<(), TableError>(())
            })?,
        }
        let mut out = writer.finish()?;
        out.flush()?;
        Ok(out)
    }
}

/// The rows of a [`Spooled`] table as record batches: an Arrow [`RecordBatchReader`] (what
/// the Arrow C stream exports), or [`next_batch`](Self::next_batch) for typed errors.
#[derive(Debug)]
pub struct Batches<R> {
    spool: R,
    records: Records,
    converter: Converter,
    ready: VecDeque<RecordBatch>,
    chunk: Vec<u8>,
    ended: bool,
}

impl<R: Read> Batches<R> {
    /// The next batch; `None` after the last.
    ///
    /// # Errors
    ///
    /// A value that does not fit its column (row, column and value), a malformed record, or
    /// the spool refusing a read. The batches end with the first error.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch>, TableError> {
        while self.ready.is_empty() && !self.ended {
            if let Err(error) = self.fill() {
                self.ended = true;
                return Err(error);
            }
        }
        Ok(self.ready.pop_front())
    }

    /// Reads one chunk of the spool (or finishes at its end), queueing the batches it fills.
    fn fill(&mut self) -> Result<(), TableError> {
        let converter = &mut self.converter;
        let ready = &mut self.ready;
        let mut each = |index: u64, fields: &[&str]| {
            if let Some(batch) = converter.record(index, fields)? {
                ready.push_back(batch);
            }
            Ok(())
        };
        let read = loop {
            match self.spool.read(&mut self.chunk) {
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if read > 0 {
            return self.records.push(&self.chunk[..read], &mut each);
        }
        self.records.finish(&mut each)?;
        if let Some(batch) = self.converter.finish()? {
            self.ready.push_back(batch);
        }
        self.ended = true;
        Ok(())
    }
}

impl<R: Read> Iterator for Batches<R> {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch()
            .map_err(|error| ArrowError::ExternalError(Box::new(error)))
            .transpose()
    }
}

impl<R: Read> RecordBatchReader for Batches<R> {
    fn schema(&self) -> SchemaRef {
        self.converter.schema()
    }
}

/// A spool file read through positioned reads: each clone has its own place in it, so a
/// table can be read by several consumers (an Arrow stream each) without reopening it.
#[derive(Debug, Clone)]
pub struct SharedSpool {
    file: Arc<File>,
    at: u64,
}

impl Read for SharedSpool {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_at(&*self.file, buffer, self.at)?;
        #[cfg(windows)]
        let read = std::os::windows::fs::FileExt::seek_read(&*self.file, buffer, self.at)?;
        self.at = self.at.saturating_add(read as u64);
        Ok(read)
    }
}
