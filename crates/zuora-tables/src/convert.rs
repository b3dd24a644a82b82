//! Records to Arrow record batches, each column as its inferred type.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::TableError;
use crate::infer::{Column, ColumnType, number};
use crate::values::{Cell, Locale, parse_boolean, parse_date, parse_datetime};

/// The Arrow schema of `columns`: the export's labels, every column nullable.
pub fn schema(columns: &[Column]) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|column| {
            let data_type = match column.column_type {
                ColumnType::Boolean => DataType::Boolean,
                ColumnType::Integer => DataType::Int64,
                ColumnType::Decimal { precision, scale } => {
                    DataType::Decimal128(precision, scale as i8)
                }
                ColumnType::Date => DataType::Date32,
                ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
                ColumnType::Text => DataType::Utf8,
            };
            Field::new(&column.name, data_type, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

enum Builder {
    Boolean(BooleanBuilder),
    Integer(Int64Builder),
    /// The builder, 10^precision (every value's magnitude is below it) and the scale.
    Decimal(Decimal128Builder, i128, u8),
    Date(Date32Builder),
    Timestamp(TimestampMillisecondBuilder),
    Text(StringBuilder),
}

impl Builder {
    /// A builder with room for `rows` values (and `text_bytes` of text), so that a batch
    /// fills without growing.
    fn new(column_type: ColumnType, rows: usize, text_bytes: usize) -> Result<Self, TableError> {
        Ok(match column_type {
            ColumnType::Boolean => Self::Boolean(BooleanBuilder::with_capacity(rows)),
            ColumnType::Integer => Self::Integer(Int64Builder::with_capacity(rows)),
            ColumnType::Decimal { precision, scale } => Self::Decimal(
                Decimal128Builder::with_capacity(rows)
                    .with_precision_and_scale(precision, scale as i8)
                    .map_err(|e| TableError::Arrow(e.to_string()))?,
                power_of_ten(precision).unwrap_or(i128::MAX),
                scale,
            ),
            ColumnType::Date => Self::Date(Date32Builder::with_capacity(rows)),
            ColumnType::Timestamp => {
                Self::Timestamp(TimestampMillisecondBuilder::with_capacity(rows))
            }
            ColumnType::Text => Self::Text(StringBuilder::with_capacity(rows, text_bytes)),
        })
    }

    /// The bytes of text the builder holds (to size the next batch's).
    fn text_bytes(&self) -> usize {
        match self {
            Self::Text(b) => b.values_slice().len(),
            _ => 0,
        }
    }

    /// Appends `field`; `false` when it does not fit the column's type.
    fn append(&mut self, field: &str, locale: Locale) -> bool {
        let text = match (Cell::of(field), &mut *self) {
            (Cell::Blank, Self::Text(b)) => {
                b.append_value("");
                return true;
            }
            (Cell::Null | Cell::Blank, builder) => {
                builder.append_null();
                return true;
            }
            (Cell::Text(text), _) => text,
        };
        match self {
            Self::Boolean(b) => parse_boolean(text).map(|v| b.append_value(v)).is_some(),
            Self::Integer(b) => {
                let value = number(text, locale)
                    .filter(|d| d.scale == 0)
                    .and_then(|d| i64::try_from(d.unscaled).ok());
                value.map(|v| b.append_value(v)).is_some()
            }
            Self::Decimal(b, limit, scale) => {
                let value = number(text, locale)
                    .filter(|d| d.scale <= *scale)
                    .and_then(|d| d.unscaled.checked_mul(power_of_ten(*scale - d.scale)?))
                    .filter(|v| v.unsigned_abs() < limit.unsigned_abs());
                value.map(|v| b.append_value(v)).is_some()
            }
            Self::Date(b) => parse_date(text).map(|v| b.append_value(v)).is_some(),
            Self::Timestamp(b) => parse_datetime(text).map(|v| b.append_value(v)).is_some(),
            Self::Text(b) => {
                b.append_value(text);
                true
            }
        }
    }

    fn append_null(&mut self) {
        match self {
            Self::Boolean(b) => b.append_null(),
            Self::Integer(b) => b.append_null(),
            Self::Decimal(b, ..) => b.append_null(),
            Self::Date(b) => b.append_null(),
            Self::Timestamp(b) => b.append_null(),
            Self::Text(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Boolean(b) => Arc::new(b.finish()),
            Self::Integer(b) => Arc::new(b.finish()),
            Self::Decimal(b, ..) => Arc::new(b.finish()),
            Self::Date(b) => Arc::new(b.finish()),
            Self::Timestamp(b) => Arc::new(b.finish()),
            Self::Text(b) => Arc::new(b.finish()),
        }
    }
}

/// 10^`exponent`, from a table: a decimal column asks for every value.
fn power_of_ten(exponent: u8) -> Option<i128> {
    const POWERS: [i128; 39] = {
        let mut powers = [1i128; 39];
        let mut at = 1;
        while at < 39 {
            powers[at] = powers[at - 1] * 10;
            at += 1;
        }
        powers
    };
    POWERS.get(usize::from(exponent)).copied()
}

/// Rows to record batches of at most `batch_rows` rows.
pub struct Converter {
    columns: Vec<Column>,
    schema: SchemaRef,
    builders: Vec<Builder>,
    locale: Locale,
    batch_rows: usize,
    buffered: usize,
}

impl std::fmt::Debug for Converter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Converter")
            .field("schema", &self.schema)
            .field("buffered", &self.buffered)
            .finish_non_exhaustive()
    }
}

impl Converter {
    /// A converter to `columns` (from [`Inference::finish`](crate::Inference::finish)).
    ///
    /// # Errors
    ///
    /// A decimal type Arrow refuses.
    pub fn new(
        columns: Vec<Column>,
        locale: Locale,
        batch_rows: usize,
    ) -> Result<Self, TableError> {
        let batch_rows = batch_rows.max(1);
        let builders = columns
            .iter()
            .map(|c| Builder::new(c.column_type, batch_rows, 0))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            schema: schema(&columns),
            columns,
            builders,
            locale,
            batch_rows,
            buffered: 0,
        })
    }

    /// The schema of the batches.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// Takes record `index` (the header, record 0, is checked against the columns); a full
    /// batch comes back.
    ///
    /// # Errors
    ///
    /// [`TableError::Value`] for a value that does not fit its column's type (a type the
    /// user set), naming row, column and value; [`TableError::Malformed`] for a record with
    /// the wrong number of fields.
    pub fn record(
        &mut self,
        index: u64,
        fields: &[&str],
    ) -> Result<Option<RecordBatch>, TableError> {
        if fields.len() != self.columns.len() {
            return Err(TableError::Malformed {
                record: index,
                reason: format!(
                    "{} fields where the header has {}",
                    fields.len(),
                    self.columns.len()
                ),
            });
        }
        if index == 0 {
            return Ok(None);
        }
        for ((builder, field), column) in self.builders.iter_mut().zip(fields).zip(&self.columns) {
            if !builder.append(field, self.locale) {
                return Err(TableError::Value {
                    row: index,
                    column: column.name.clone(),
                    value: field.chars().take(200).collect(),
                    column_type: column.column_type,
                });
            }
        }
        self.buffered += 1;
        if self.buffered >= self.batch_rows {
            return self.flush().map(Some);
        }
        Ok(None)
    }

    /// The last rows, as a batch (none when no rows are left).
    ///
    /// # Errors
    ///
    /// A batch Arrow refuses (a decimal past its precision).
    pub fn finish(&mut self) -> Result<Option<RecordBatch>, TableError> {
        if self.buffered == 0 {
            return Ok(None);
        }
        self.flush().map(Some)
    }

    fn flush(&mut self) -> Result<RecordBatch, TableError> {
        self.buffered = 0;
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.builders.len());
        for (builder, column) in self.builders.iter_mut().zip(&self.columns) {
            // The next batch's builder has the room this one needed (a builder's `finish`
            // leaves it with none).
            let text_bytes = builder.text_bytes();
            arrays.push(builder.finish());
            *builder = Builder::new(column.column_type, self.batch_rows, text_bytes)?;
        }
        RecordBatch::try_new(Arc::clone(&self.schema), arrays)
            .map_err(|e| TableError::Arrow(e.to_string()))
    }
}
