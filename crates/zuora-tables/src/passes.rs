//! The two passes over an export, for a driver that spools it: pass 1 infers the types while
//! the export's TSV goes to the spool ([`Spooling`], a `Write`), pass 2 reads the spool back
//! and writes the typed table ([`write_table`]). The driver only opens the files.

use std::io::{Read, Write};

use crate::infer::{Column, Inference};
use crate::values::Locale;
use crate::{Converter, Records, TableError, TableFormat, TableWriter};

/// Rows per record batch (a Parquet row group is made of these).
pub const BATCH_ROWS: usize = 64 * 1024;

/// Pass 1: the export's TSV on its way to `spool`, its records taken by an [`Inference`].
#[derive(Debug)]
pub struct Spooling<W> {
    spool: W,
    records: Records,
    inference: Inference,
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

    /// The export has ended: the spool (flushed), the columns typed from every value
    /// (`overrides` first), and the number of data rows.
    ///
    /// # Errors
    ///
    /// A malformed last record, an override naming no column, or the spool refusing the
    /// flush.
    pub fn finish(
        mut self,
        overrides: &[(String, crate::ColumnType)],
    ) -> Result<(W, Vec<Column>, u64), TableError> {
        let inference = &mut self.inference;
        self.records
            .finish(|index, fields| inference.record(index, fields))?;
        self.spool.flush()?;
        let rows = self.inference.rows();
        let columns = self.inference.finish(overrides)?;
        Ok((self.spool, columns, rows))
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

/// Pass 2: the spooled TSV read from `spool`, written to `out` as `format` with `columns`'
/// types. Memory: one batch of [`BATCH_ROWS`] rows.
///
/// # Errors
///
/// A value that does not fit its column (row, column and value), a malformed record, or IO.
pub fn write_table<W: Write + Send>(
    mut spool: impl Read,
    columns: Vec<Column>,
    locale: Locale,
    format: TableFormat,
    out: W,
) -> Result<W, TableError> {
    let mut converter = Converter::new(columns, locale, BATCH_ROWS)?;
    let mut writer = TableWriter::new(format, out, converter.schema())?;
    let mut records = Records::default();
    let mut chunk = vec![0u8; 256 * 1024];
    let mut each = |index: u64, fields: &[String]| match converter.record(index, fields)? {
        Some(batch) => writer.write(&batch),
        None => Ok(()),
    };
    loop {
        let read = match spool.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error.into()),
        };
        records.push(&chunk[..read], &mut each)?;
    }
    records.finish(&mut each)?;
    if let Some(batch) = converter.finish()? {
        writer.write(&batch)?;
    }
    writer.finish()
}
