//! `ZuoraTableSpool`: a report's export as a typed table, handed to C as an Arrow C stream
//! (`struct ArrowArrayStream`, the interface R, Julia, Go, Java and DuckDB read).
//!
//! C downloads the run with `ZUORA_FORMAT_TSV` and writes each converted chunk here instead
//! of to a file (pass 1: the TSV goes to an unnamed temporary file while every value is read
//! for the columns' types); [`zuora_table_spool_finish`] then gives the stream, which reads
//! the spool back a batch at a time (pass 2). The typing is `zuora-tables`'.

use std::fs::File;
use std::io::Write;

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use zuora_tables::{ColumnType, Locale, Spooling, TableError};

use crate::boundary::{ZuoraBytes, ZuoraStr, fail, free_handle, guard, handle_mut, put_handle};
use crate::code::ZuoraCode;

/// The Arrow C stream interface's `struct ArrowArrayStream`, defined by Arrow (the header
/// includes Arrow's own definition); only ever used through a pointer.
#[repr(C)]
pub struct ArrowArrayStream {
    _opaque: [u8; 0],
}

/// An export being spooled and typed; free with [`zuora_table_spool_free`].
pub struct ZuoraTableSpool {
    spooling: Option<Spooling<File>>,
    overrides: Vec<(String, ColumnType)>,
}

fn table_failure(error: TableError) -> ZuoraCode {
    let code = match error {
        TableError::UnknownColumn { .. } => ZuoraCode::ZuoraErrInvalidInput,
        TableError::Io(_) => ZuoraCode::ZuoraErrOutput,
        _ => ZuoraCode::ZuoraErrTable,
    };
    fail(code, error.to_string())
}

impl ZuoraTableSpool {
    fn spooling(&mut self) -> Result<&mut Spooling<File>, ZuoraCode> {
        self.spooling
            .as_mut()
            .ok_or_else(|| fail(ZuoraCode::ZuoraErrState, "the table spool was finished"))
    }
}

/// A spool reading numbers as `locale` writes them (`"en-US"`, Zuora's default, `"de-DE"`,
/// `"fr-FR"`; NULL for en-US).
///
/// # Safety
/// `locale` must be NULL or readable; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_table_spool_new(
    locale: ZuoraStr,
    out: *mut *mut ZuoraTableSpool,
) -> ZuoraCode {
    guard(|| {
        let locale: Locale = match unsafe { locale.optional("locale") }? {
            Some(name) => name
                .parse()
                .map_err(|reason: String| fail(ZuoraCode::ZuoraErrInvalidInput, reason))?,
            None => Locale::default(),
        };
        let spooling = Spooling::temporary(locale).map_err(table_failure)?;
        let spool = ZuoraTableSpool {
            spooling: Some(spooling),
            overrides: Vec::new(),
        };
        unsafe { put_handle(out, spool) }
    })
}

/// Sets column `name`'s type (`"integer"`, `"decimal(18,2)"`, `"date"`, `"timestamp"`,
/// `"boolean"`, `"text"`) instead of the inferred one; a value that then does not fit is
/// `ZUORA_ERR_TABLE` naming its row, column and value. A name that is no column fails at
/// [`zuora_table_spool_finish`].
///
/// # Safety
/// `spool` must be live; `name` and `column_type` readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_table_spool_set_column_type(
    spool: *mut ZuoraTableSpool,
    name: ZuoraStr,
    column_type: ZuoraStr,
) -> ZuoraCode {
    guard(|| {
        let spool = unsafe { handle_mut(spool, "spool") }?;
        let name = unsafe { name.required("name") }?;
        let column_type: ColumnType = unsafe { column_type.required("column_type") }?
            .parse()
            .map_err(|reason: String| {
                fail(
                    ZuoraCode::ZuoraErrInvalidInput,
                    format!("column {name:?}: {reason}"),
                )
            })?;
        spool.overrides.push((name.to_owned(), column_type));
        Ok(())
    })
}

/// Takes the next converted bytes of a `ZUORA_FORMAT_TSV` download.
///
/// # Safety
/// `spool` must be live; `bytes` readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_table_spool_write(
    spool: *mut ZuoraTableSpool,
    bytes: ZuoraBytes,
) -> ZuoraCode {
    guard(|| {
        let spool = unsafe { handle_mut(spool, "spool") }?;
        let bytes = unsafe { bytes.get("bytes") }?;
        spool
            .spooling()?
            .write_all(bytes)
            .map_err(|error| match error.downcast::<TableError>() {
                Ok(table) => table_failure(table),
                Err(io) => fail(ZuoraCode::ZuoraErrOutput, io.to_string()),
            })
    })
}

/// The download ended: the typed table as an Arrow C stream moved into `*out` (release it
/// with its `release` callback, as Arrow's rules say). Each `get_next` reads one batch of up
/// to 65,536 rows from the spool; a value that does not fit a type you set ends the stream
/// with an error (`get_last_error` names row, column and value). The spool is used up:
/// free it after.
///
/// # Safety
/// `spool` must be live; `out` must point to a writable `struct ArrowArrayStream` (its old
/// content is overwritten, not released).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_table_spool_finish(
    spool: *mut ZuoraTableSpool,
    out: *mut ArrowArrayStream,
) -> ZuoraCode {
    guard(|| {
        let spool = unsafe { handle_mut(spool, "spool") }?;
        if out.is_null() {
            return Err(fail(ZuoraCode::ZuoraErrNull, "out is NULL"));
        }
        let Some(spooling) = spool.spooling.take() else {
            return Err(fail(
                ZuoraCode::ZuoraErrState,
                "the table spool was finished",
            ));
        };
        let batches = spooling
            .finish(&spool.overrides)
            .and_then(|typed| typed.rewound())
            .and_then(|typed| typed.batches())
            .map_err(table_failure)?;
        let stream = FFI_ArrowArrayStream::new(Box::new(batches));
        // The stream's struct is Arrow's ABI: C owns it from here and releases it.
        unsafe { std::ptr::write(out.cast::<FFI_ArrowArrayStream>(), stream) };
        Ok(())
    })
}

/// Frees a spool (and its temporary file, if no stream reads it); NULL is ignored.
///
/// # Safety
/// `spool` must be NULL or from [`zuora_table_spool_new`], not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zuora_table_spool_free(spool: *mut ZuoraTableSpool) {
    unsafe { free_handle(spool) }
}
