//! The two passes over an export, for a driver that spools it: pass 1 infers the types while
//! the export's TSV goes to the spool ([`Spooling`], a `Write`); pass 2 reads the spool back
//! as record batches ([`Spooled::batches`], an Arrow `RecordBatchReader`) or writes them as a
//! file ([`Spooled::write`]). The driver only moves the bytes.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};

use crate::infer::{Column, ColumnType, Inference};
use crate::values::Locale;
use crate::{Converter, Records, TableError, TableFormat, TableWriter};

/// Rows per record batch (a Parquet row group is made of these).
pub const BATCH_ROWS: usize = 64 * 1024;

/// Bytes read from the spool at a time in pass 2.
const SPOOL_CHUNK: usize = 256 * 1024;

/// Pass 1: the export's TSV on its way to `spool`, its records taken by an [`Inference`].
#[derive(Debug)]
pub struct Spooling<W> {
    spool: W,
    records: Records,
    inference: Inference,
}

impl Spooling<File> {
    /// Spools into an anonymous temporary file (removed by the system when closed, even
    /// after a crash where the system allows; owner-only), reading numbers as `locale`
    /// writes them.
    ///
    /// # Errors
    ///
    /// The temporary folder refusing the file.
    pub fn temporary(locale: Locale) -> Result<Self, TableError> {
        // `tempfile` makes the file unnamed where the system can (O_TMPFILE) and
        // unpredictable and exclusive elsewhere: the spool holds the tenant's data.
        Ok(Self::new(tempfile::tempfile()?, locale))
    }
}

impl<W: Write> Spooling<W> {
    /// Spools into `spool`, reading numbers as `locale` writes them.
    pub fn new(spool: W, locale: Locale) -> Self {
        Self {
            spool,
            records: Records::default(),
            inference: Inference::new(locale),
        }
    }

    /// The export has ended: the spool (flushed) with the columns typed from every value
    /// (`overrides` first) and the number of data rows.
    ///
    /// # Errors
    ///
    /// A malformed last record, an override naming no column, or the spool refusing the
    /// flush.
    pub fn finish(mut self, overrides: &[(String, ColumnType)]) -> Result<Spooled<W>, TableError> {
        let inference = &mut self.inference;
        self.records
            .finish(|index, fields| inference.record(index, fields))?;
        self.spool.flush()?;
        let rows = self.inference.rows();
        let locale = self.inference.locale();
        let columns = self.inference.finish(overrides)?;
        Ok(Spooled {
            spool: self.spool,
            columns,
            rows,
            locale,
        })
    }
}

impl<W: Write> Write for Spooling<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let inference = &mut self.inference;
        self.records
            .push(bytes, |index, fields| inference.record(index, fields))
            .map_err(std::io::Error::other)?;
        self.spool.write_all(bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.spool.flush()
    }
}

/// Pass 1 done: the spooled export with its columns' types.
#[derive(Debug, Clone)]
pub struct Spooled<S> {
    spool: S,
    columns: Vec<Column>,
    rows: u64,
    locale: Locale,
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

    /// The same table read back through `spool` (another handle on the same bytes, such as
    /// the spool file opened again by its path).
    pub fn with_spool<R>(self, spool: R) -> Spooled<R> {
        Spooled {
            spool,
            columns: self.columns,
            rows: self.rows,
            locale: self.locale,
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
        }
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

    /// Pass 2 into `out` as `format`; `out` comes back flushed.
    ///
    /// # Errors
    ///
    /// A value that does not fit its column (row, column and value), a malformed record, or
    /// IO.
    pub fn write<W: Write + Send>(self, format: TableFormat, out: W) -> Result<W, TableError> {
        let mut batches = self.batches()?;
        let mut writer = TableWriter::new(format, out, batches.schema())?;
        while let Some(batch) = batches.next_batch()? {
            writer.write(&batch)?;
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
        let mut each = |index: u64, fields: &[String]| {
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
