//! The table formats: Parquet (zstd), Arrow IPC file, JSON Lines.

use std::io::Write;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Int64Type, TimestampMillisecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::TableError;
use crate::values::{civil_from_days, decimal_text};

/// Rows per Parquet row group. A row group is held in memory until it is written: two of
/// pass 2's batches' worth keeps a 1 GiB export's conversion in tens of MiB (Parquet's
/// default is a million rows).
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// A typed output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Apache Parquet, zstd-compressed.
    Parquet,
    /// The Arrow IPC file format (Feather v2).
    Arrow,
    /// One JSON object a row: integers and booleans as JSON values, decimals as exact
    /// strings (`"3980735.56"`: a JSON number would be a float to most readers), dates as
    /// `"2015-07-11"`, date-times as `"2015-07-11T11:15:05"` (no zone, as Zuora wrote them),
    /// empty values as `null`.
    JsonLines,
    /// CSV (RFC 4180, UTF-8, a header of the column names) of the typed values, in the
    /// shapes any warehouse's `COPY` reads: numbers plain (`3980735.56`, `-120.2` as
    /// `-120.20` keeps its scale), dates `2015-07-11`, date-times `2015-07-11T11:15:05`, an
    /// empty value as an empty field and an empty string as `""` (PostgreSQL's and DuckDB's
    /// CSV null convention).
    NormalizedCsv,
}

impl std::str::FromStr for TableFormat {
    type Err = String;
    /// `parquet`, `arrow` (or `feather`) and `jsonl` (or `ndjson`): the CLI's names, and
    /// the files' extensions.
    fn from_str(name: &str) -> Result<Self, String> {
        match name.to_ascii_lowercase().as_str() {
            "parquet" => Ok(Self::Parquet),
            "arrow" | "feather" => Ok(Self::Arrow),
            "jsonl" | "ndjson" => Ok(Self::JsonLines),
            "normalized-csv" | "csv-normalized" => Ok(Self::NormalizedCsv),
            _ => Err(format!(
                "unknown table format {name:?}: parquet, arrow, jsonl or normalized-csv"
            )),
        }
    }
}

/// Writes record batches to `W` as a [`TableFormat`].
pub enum TableWriter<W: Write + Send> {
    /// Parquet.
    Parquet(ArrowWriter<W>),
    /// Arrow IPC.
    Arrow(arrow_ipc::writer::FileWriter<W>),
    /// JSON Lines.
    JsonLines(W),
    /// Normalized CSV (its header written when it was made).
    NormalizedCsv(W),
}

impl<W: Write + Send> std::fmt::Debug for TableWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Parquet(_) => "TableWriter::Parquet",
            Self::Arrow(_) => "TableWriter::Arrow",
            Self::JsonLines(_) => "TableWriter::JsonLines",
            Self::NormalizedCsv(..) => "TableWriter::NormalizedCsv",
        })
    }
}

fn arrow_error(error: impl std::fmt::Display) -> TableError {
    TableError::Arrow(error.to_string())
}

impl<W: Write + Send> TableWriter<W> {
    /// A writer of `format` into `out`, for batches of `schema`.
    ///
    /// # Errors
    ///
    /// Arrow or Parquet refusing the schema.
    pub fn new(format: TableFormat, out: W, schema: SchemaRef) -> Result<Self, TableError> {
        Ok(match format {
            TableFormat::Parquet => {
                let properties = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .set_max_row_group_size(ROW_GROUP_ROWS)
                    .build();
                Self::Parquet(
                    ArrowWriter::try_new(out, schema, Some(properties)).map_err(arrow_error)?,
                )
            }
            TableFormat::Arrow => Self::Arrow(
                arrow_ipc::writer::FileWriter::try_new(out, &schema).map_err(arrow_error)?,
            ),
            TableFormat::JsonLines => Self::JsonLines(out),
            TableFormat::NormalizedCsv => {
                let mut out = out;
                // The header comes first, so an export of no rows still names its columns.
                csv_names(schema.fields().iter().map(|f| f.name()), &mut out)?;
                Self::NormalizedCsv(out)
            }
        })
    }

    /// Writes one batch.
    ///
    /// # Errors
    ///
    /// The output refusing a write.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), TableError> {
        match self {
            Self::Parquet(writer) => writer.write(batch).map_err(arrow_error),
            Self::Arrow(writer) => writer.write(batch).map_err(arrow_error),
            Self::JsonLines(out) => json_lines(batch, out),
            Self::NormalizedCsv(out) => normalized_csv(batch, out),
        }
    }

    /// Ends the output (Parquet's and Arrow's footers) and hands `W` back.
    ///
    /// # Errors
    ///
    /// The output refusing the last write.
    pub fn finish(self) -> Result<W, TableError> {
        match self {
            Self::Parquet(writer) => writer.into_inner().map_err(arrow_error),
            Self::Arrow(mut writer) => {
                writer.finish().map_err(arrow_error)?;
                writer.into_inner().map_err(arrow_error)
            }
            Self::JsonLines(mut out) | Self::NormalizedCsv(mut out) => {
                out.flush()?;
                Ok(out)
            }
        }
    }
}

fn date_text(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn timestamp_text(millis: i64) -> String {
    let days = millis.div_euclid(86_400_000);
    let of_day = millis.rem_euclid(86_400_000);
    let (h, rest) = (of_day / 3_600_000, of_day % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    let date = i32::try_from(days).map(date_text).unwrap_or_default();
    match ms {
        0 => format!("{date}T{h:02}:{m:02}:{s:02}"),
        _ => format!("{date}T{h:02}:{m:02}:{s:02}.{ms:03}"),
    }
}

/// One value of a typed column, as both text formats write it.
enum Plain<'a> {
    Null,
    Boolean(bool),
    Integer(i64),
    /// A decimal, date or date-time, in its exact text.
    Exact(String),
    Text(&'a str),
}

fn plain<'a>(column: &'a ArrayRef, data_type: &DataType, row: usize) -> Plain<'a> {
    if column.is_null(row) {
        return Plain::Null;
    }
    match data_type {
        DataType::Boolean => Plain::Boolean(column.as_boolean().value(row)),
        DataType::Int64 => Plain::Integer(column.as_primitive::<Int64Type>().value(row)),
        DataType::Decimal128(_, scale) => Plain::Exact(decimal_text(
            column.as_primitive::<Decimal128Type>().value(row),
            u8::try_from(*scale).unwrap_or(0),
        )),
        DataType::Date32 => Plain::Exact(date_text(column.as_primitive::<Date32Type>().value(row))),
        DataType::Timestamp(..) => Plain::Exact(timestamp_text(
            column.as_primitive::<TimestampMillisecondType>().value(row),
        )),
        _ => Plain::Text(column.as_string::<i32>().value(row)),
    }
}

fn json_lines(batch: &RecordBatch, out: &mut impl Write) -> Result<(), TableError> {
    let schema = batch.schema();
    let mut line = Vec::with_capacity(1024);
    for row in 0..batch.num_rows() {
        let mut object = serde_json::Map::with_capacity(batch.num_columns());
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            let value = match plain(column, field.data_type(), row) {
                Plain::Null => serde_json::Value::Null,
                Plain::Boolean(value) => value.into(),
                Plain::Integer(value) => value.into(),
                Plain::Exact(text) => text.into(),
                Plain::Text(text) => text.into(),
            };
            object.insert(field.name().clone(), value);
        }
        line.clear();
        serde_json::to_writer(&mut line, &object).map_err(arrow_error)?;
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(())
}

/// `text` as one CSV field: quoted when it holds a separator, a quote or a line end, or is
/// empty (an unquoted empty field is a null).
fn csv_field(text: &str, line: &mut Vec<u8>) {
    if !text.is_empty() && !text.contains([',', '"', '\n', '\r']) {
        line.extend_from_slice(text.as_bytes());
        return;
    }
    line.push(b'"');
    line.extend_from_slice(text.replace('"', "\"\"").as_bytes());
    line.push(b'"');
}

fn csv_names(
    names: impl Iterator<Item = impl AsRef<str>>,
    out: &mut impl Write,
) -> Result<(), TableError> {
    let mut line = Vec::with_capacity(256);
    for (index, name) in names.enumerate() {
        if index > 0 {
            line.push(b',');
        }
        csv_field(name.as_ref(), &mut line);
    }
    line.extend_from_slice(b"\r\n");
    out.write_all(&line)?;
    Ok(())
}

fn normalized_csv(batch: &RecordBatch, out: &mut impl Write) -> Result<(), TableError> {
    let schema = batch.schema();
    let mut line = Vec::with_capacity(1024);
    for row in 0..batch.num_rows() {
        line.clear();
        for (index, (field, column)) in schema.fields().iter().zip(batch.columns()).enumerate() {
            if index > 0 {
                line.push(b',');
            }
            match plain(column, field.data_type(), row) {
                Plain::Null => {}
                Plain::Boolean(value) => {
                    line.extend_from_slice(if value { b"true" } else { b"false" })
                }
                Plain::Integer(value) => line.extend_from_slice(value.to_string().as_bytes()),
                Plain::Exact(text) => line.extend_from_slice(text.as_bytes()),
                Plain::Text(text) => csv_field(text, &mut line),
            }
        }
        line.extend_from_slice(b"\r\n");
        out.write_all(&line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_texts() {
        assert_eq!(decimal_text(398_073_556, 2), "3980735.56");
        assert_eq!(decimal_text(-5, 2), "-0.05");
        assert_eq!(decimal_text(7, 0), "7");
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(timestamp_text(1_436_613_305_000), "2015-07-11T11:15:05");
    }

    #[test]
    fn normalized_csv_marks_nulls_and_quotes_text() {
        let mut line = Vec::new();
        for text in ["plain", "", "a,b", "say \"hi\"", "two\nlines"] {
            csv_field(text, &mut line);
            line.push(b'|');
        }
        assert_eq!(
            String::from_utf8(line).unwrap_or_default(),
            "plain|\"\"|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|"
        );
    }
}
