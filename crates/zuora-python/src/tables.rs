//! Typed tables for Python: the export spooled and typed by `zuora-tables` (pass 1 while it
//! downloads), then handed to any Arrow consumer through the Arrow PyCapsule interface
//! (`__arrow_c_stream__`), so pyarrow, polars, pandas and DuckDB read it without this
//! package depending on any of them; or written as Parquet, Arrow IPC or JSON Lines.

use std::ffi::CStr;
use std::fs::File;
use std::io::{BufWriter, Write};

use arrow_array::cast::AsArray;
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::types::{Date32Type, Decimal128Type, Int64Type, TimestampMillisecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use arrow_schema::ffi::FFI_ArrowSchema;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule, PyDict};
use zuora_tables::values::{civil_from_days, decimal_text};
use zuora_tables::{
    Batches, ColumnType, Locale, SharedSpool, Spooled, Spooling, TableError, TableFormat,
};

use crate::{InvalidInputError, ZuoraError};

const STREAM: &CStr = c"arrow_array_stream";
const SCHEMA: &CStr = c"arrow_schema";

pyo3::create_exception!(
    zuora_reporting,
    TableValueError,
    ZuoraError,
    "The export could not be typed: a value that does not fit the column's type (set by \
     you), or a malformed record. The message names the row, the column and the value."
);

/// A `TableError` as Python sees it: bad input, a value that does not fit, or an OS error.
fn table_err(error: TableError) -> PyErr {
    match error {
        TableError::UnknownColumn { .. } => InvalidInputError::new_err(error.to_string()),
        TableError::Io(io) => PyOSError::new_err(io.to_string()),
        other => TableValueError::new_err(other.to_string()),
    }
}

fn invalid_input(message: String) -> PyErr {
    InvalidInputError::new_err(message)
}

/// The column types the user set, checked before anything is sent.
fn overrides(columns: Vec<(String, String)>) -> PyResult<Vec<(String, ColumnType)>> {
    columns
        .into_iter()
        .map(|(name, text)| {
            let column_type = text
                .parse()
                .map_err(|reason| invalid_input(format!("column {name:?}: {reason}")))?;
            Ok((name, column_type))
        })
        .collect()
}

/// Pass 1: the export's TSV written here (by the download flow) goes to an unnamed
/// temporary file while every value is read for the columns' types.
#[pyclass(module = "zuora_reporting._native")]
pub(crate) struct TableSpool {
    spooling: Option<Spooling<File>>,
    overrides: Vec<(String, ColumnType)>,
}

#[pymethods]
impl TableSpool {
    /// A spool reading numbers as `locale` writes them, with the column types `columns`
    /// (pairs of label and type) set by the user. Bad names raise `InvalidInputError`.
    #[new]
    fn new(locale: &str, columns: Vec<(String, String)>) -> PyResult<Self> {
        let locale: Locale = locale.parse().map_err(invalid_input)?;
        Ok(Self {
            overrides: overrides(columns)?,
            spooling: Some(Spooling::temporary(locale).map_err(table_err)?),
        })
    }

    /// Takes the next bytes of the export (with the GIL released).
    fn write(&mut self, py: Python<'_>, data: &[u8]) -> PyResult<usize> {
        let Some(spooling) = self.spooling.as_mut() else {
            return Err(PyOSError::new_err("the spool was finished"));
        };
        py.detach(|| spooling.write_all(data))
            .map_err(|error| match error.into_inner() {
                Some(inner) => match inner.downcast::<TableError>() {
                    Ok(table) => table_err(*table),
                    Err(other) => PyOSError::new_err(other.to_string()),
                },
                None => PyOSError::new_err("the spool refused a write"),
            })?;
        Ok(data.len())
    }

    /// The export has ended: the typed table.
    fn finish(&mut self, py: Python<'_>) -> PyResult<Table> {
        let Some(spooling) = self.spooling.take() else {
            return Err(PyOSError::new_err("the spool was finished"));
        };
        let overrides = std::mem::take(&mut self.overrides);
        let spooled = py
            .detach(|| spooling.finish(&overrides))
            .map_err(table_err)?;
        Ok(Table {
            spooled: spooled.shared(),
        })
    }
}

/// A report's export as a typed table: each column has the narrowest type that fits every
/// value of the whole export (`columns` says which, and why a column stayed text).
///
/// It is an Arrow stream (the PyCapsule interface): `pyarrow.table(t)`,
/// `polars.DataFrame(t)`, `pandas.DataFrame.from_arrow(t)` or DuckDB read it directly, as
/// often as you like. `write(path, "parquet")` writes it as a file. The rows live in an
/// unnamed temporary file until the table is garbage-collected.
#[pyclass(frozen, module = "zuora_reporting")]
pub(crate) struct Table {
    spooled: Spooled<SharedSpool>,
}

#[pymethods]
impl Table {
    /// The number of rows.
    #[getter]
    fn num_rows(&self) -> u64 {
        self.spooled.rows()
    }

    fn __len__(&self) -> usize {
        usize::try_from(self.spooled.rows()).unwrap_or(usize::MAX)
    }

    /// Each column as (label, type, why it is text or was set; None otherwise), with types
    /// named as the `columns=` setting takes them: ``"decimal(18,2)"``, ``"timestamp"``...
    #[getter]
    fn columns(&self) -> Vec<(String, String, Option<String>)> {
        self.spooled
            .columns()
            .iter()
            .map(|c| (c.name.clone(), c.column_type.to_string(), c.reason.clone()))
            .collect()
    }

    /// The rows as dicts of column label to a typed Python value: ``decimal.Decimal`` (exact),
    /// ``int``, ``bool``, ``datetime.date``, ``datetime.datetime`` (naive: the tenant's time,
    /// as Zuora wrote it), ``str``, or ``None`` for an empty value. Each call reads the table
    /// from its start, a batch at a time.
    fn rows(&self, py: Python<'_>) -> PyResult<TableRows> {
        let batches = self.spooled.clone().batches().map_err(table_err)?;
        let decimal = py.import("decimal")?.getattr("Decimal")?.unbind();
        let datetime = py.import("datetime")?;
        Ok(TableRows {
            batches,
            batch: None,
            next_row: 0,
            decimal,
            date: datetime.getattr("date")?.unbind(),
            datetime: datetime.getattr("datetime")?.unbind(),
        })
    }

    /// The Arrow schema, as a PyCapsule (`pyarrow.schema(t)`).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = FFI_ArrowSchema::try_from(self.spooled.schema().as_ref())
            .map_err(|e| TableValueError::new_err(e.to_string()))?;
        PyCapsule::new_with_value(py, schema, SCHEMA)
    }

    /// The rows as an Arrow C stream in a PyCapsule; each call reads the table from its
    /// start. `requested_schema` is not applied (the interface allows that): cast after.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let batches = self.spooled.clone().batches().map_err(table_err)?;
        let stream = FFI_ArrowArrayStream::new(Box::new(batches));
        PyCapsule::new_with_value(py, stream, STREAM)
    }

    /// Writes the table to `out` (a binary file object) as `format`: ``"parquet"`` (zstd),
    /// ``"arrow"`` (an Arrow IPC file) or ``"jsonl"``.
    fn write_to(&self, py: Python<'_>, out: Py<PyAny>, format: &str) -> PyResult<()> {
        let format: TableFormat = format.parse().map_err(invalid_input)?;
        let spooled = self.spooled.clone();
        py.detach(|| spooled.write(format, BufWriter::with_capacity(1 << 20, PyFile(out))))
            .map_err(table_err)?;
        Ok(())
    }

    fn __repr__(&self) -> String {
        let columns: Vec<String> = self
            .spooled
            .columns()
            .iter()
            .map(|c| format!("{:?}: {}", c.name, c.column_type))
            .collect();
        format!(
            "Table(num_rows={}, columns=[{}])",
            self.spooled.rows(),
            columns.join(", ")
        )
    }
}

/// The rows of a [`Table`] as Python dicts (see `Table.rows`).
#[pyclass(module = "zuora_reporting")]
pub(crate) struct TableRows {
    batches: Batches<SharedSpool>,
    batch: Option<RecordBatch>,
    next_row: usize,
    decimal: Py<PyAny>,
    date: Py<PyAny>,
    datetime: Py<PyAny>,
}

#[pymethods]
impl TableRows {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        loop {
            if let Some(batch) = &self.batch
                && self.next_row < batch.num_rows()
            {
                let row = self.next_row;
                self.next_row += 1;
                return self.row(py, row).map(Some);
            }
            // The next batch is read and converted without the GIL.
            let batches = &mut self.batches;
            match py.detach(|| batches.next_batch()).map_err(table_err)? {
                Some(batch) => {
                    self.batch = Some(batch);
                    self.next_row = 0;
                }
                None => return Ok(None),
            }
        }
    }
}

impl TableRows {
    fn row<'py>(&self, py: Python<'py>, row: usize) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        let Some(batch) = &self.batch else {
            return Ok(dict);
        };
        let schema = batch.schema();
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            let value = self.value(py, column, field.data_type(), row)?;
            dict.set_item(field.name(), value)?;
        }
        Ok(dict)
    }

    fn value<'py>(
        &self,
        py: Python<'py>,
        column: &ArrayRef,
        data_type: &DataType,
        row: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        if column.is_null(row) {
            return Ok(py.None().into_bound(py));
        }
        Ok(match data_type {
            DataType::Boolean => column
                .as_boolean()
                .value(row)
                .into_pyobject(py)?
                .to_owned()
                .into_any(),
            DataType::Int64 => column
                .as_primitive::<Int64Type>()
                .value(row)
                .into_pyobject(py)?
                .into_any(),
            DataType::Decimal128(_, scale) => {
                let unscaled = column.as_primitive::<Decimal128Type>().value(row);
                let text = decimal_text(unscaled, u8::try_from(*scale).unwrap_or(0));
                self.decimal.bind(py).call1((text,))?
            }
            DataType::Date32 => {
                let (year, month, day) =
                    civil_from_days(column.as_primitive::<Date32Type>().value(row));
                self.date.bind(py).call1((year, month, day))?
            }
            DataType::Timestamp(..) => {
                let millis = column.as_primitive::<TimestampMillisecondType>().value(row);
                let days = i32::try_from(millis.div_euclid(86_400_000))
                    .map_err(|_| TableValueError::new_err(format!("{millis} ms is no date")))?;
                let (year, month, day) = civil_from_days(days);
                let of_day = millis.rem_euclid(86_400_000);
                let (hour, minute) = (of_day / 3_600_000, of_day / 60_000 % 60);
                let (second, micros) = (of_day / 1000 % 60, of_day % 1000 * 1000);
                self.datetime
                    .bind(py)
                    .call1((year, month, day, hour, minute, second, micros))?
            }
            _ => column
                .as_string::<i32>()
                .value(row)
                .into_pyobject(py)?
                .into_any(),
        })
    }
}

/// A Python binary file object as a `Write`: each write takes the GIL for the call.
struct PyFile(Py<PyAny>);

impl Write for PyFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        Python::attach(|py| {
            self.0
                .call_method1(py, "write", (PyBytes::new(py, bytes),))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            Ok(bytes.len())
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // A file object may have no `flush` (the package's own PartialFile syncs at commit).
        Python::attach(|py| match self.0.bind(py).hasattr("flush") {
            Ok(true) => self
                .0
                .call_method0(py, "flush")
                .map(drop)
                .map_err(|e| std::io::Error::other(e.to_string())),
            _ => Ok(()),
        })
    }
}
