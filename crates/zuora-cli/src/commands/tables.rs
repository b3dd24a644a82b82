//! `--format parquet|arrow|jsonl`: the export as a typed table, in two passes so memory
//! stays bounded whatever its size. Pass 1 downloads the export as UTF-8 TSV into a spool
//! file beside the output (a temporary file like the output's own) and infers every
//! column's type from every value on the way; pass 2 reads the spool back and writes the
//! typed rows. Both temporary files go on every failure and on Ctrl-C.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use zuora_core::{ExportFormat, ReportRunId};
use zuora_files::PartialFile;
use zuora_tables::{Column, Converter, Inference, Records, TableError, TableFormat, TableWriter};

use super::{Context, write_through_temporary};
use crate::cli::TableArgs;
use crate::exit_code as code;
use crate::failure::Failure;
use crate::interrupt;

/// Rows per record batch (a Parquet row group is made of these).
const BATCH_ROWS: usize = 64 * 1024;

fn table_failure(error: TableError) -> Failure {
    let kind = match error {
        TableError::Io(_) => "output",
        _ => "table",
    };
    Failure::of(code::API, kind, error.to_string())
}

/// Bytes on their way to the spool, split into records that the inference takes.
struct Inferring<'a, W> {
    spool: W,
    records: Records,
    inference: &'a mut Inference,
}

impl<W: Write> Write for Inferring<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let inference = &mut *self.inference;
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

pub(super) fn download(
    context: &Context,
    run_id: &ReportRunId,
    out: &Path,
    format: TableFormat,
    table: &TableArgs,
) -> Result<(), Failure> {
    // The spool sits beside the output (the same disk), or in the temporary folder when the
    // output is stdout.
    let beside = match out == Path::new("-") {
        true => std::env::temp_dir().join("zuora-report.tsv"),
        false => out.to_owned(),
    };
    let mut spool = PartialFile::create(&beside, None)
        .map_err(|e| Failure::usage(format!("cannot write beside {}: {e}", beside.display())))?;
    let spool_path = spool.temporary_path().to_owned();
    interrupt::writing(spool_path.clone());
    let outcome = two_passes(context, run_id, out, format, table, &mut spool);
    drop(spool);
    interrupt::written(&spool_path);
    outcome
}

fn two_passes(
    context: &Context,
    run_id: &ReportRunId,
    out: &Path,
    format: TableFormat,
    table: &TableArgs,
    spool: &mut PartialFile,
) -> Result<(), Failure> {
    let spooled = spool.temporary_path().to_owned();
    let mut inference = Inference::new(table.locale);
    let mut inferring = Inferring {
        spool: BufWriter::new(&mut *spool),
        records: Records::default(),
        inference: &mut inference,
    };
    let downloaded = context
        .client
        .download_export(run_id, ExportFormat::Tsv, &mut inferring);
    let summary = match downloaded {
        Ok(summary) => summary,
        Err(error) => {
            // A record the inference refused comes back inside the output error.
            return Err(context.fail(error));
        }
    };
    let Inferring {
        mut records,
        spool: buffered,
        ..
    } = inferring;
    // Flushed by the download's end; the spool is read back from its path.
    drop(buffered);
    records
        .finish(|index, fields| inference.record(index, fields))
        .map_err(table_failure)?;
    let rows = inference.rows();
    let columns = inference.finish(&table.columns).map_err(table_failure)?;
    if table.explain_types {
        explain(&columns);
    }
    let convert = |output: &mut (dyn Write + Send)| -> Result<(), TableError> {
        let mut converter = Converter::new(columns.clone(), table.locale, BATCH_ROWS)?;
        let mut writer = TableWriter::new(format, output, converter.schema())?;
        let mut reader = BufReader::new(File::open(&spooled)?);
        let mut records = Records::default();
        let mut chunk = vec![0u8; 256 * 1024];
        let mut each = |index: u64, fields: &[String]| match converter.record(index, fields)? {
            Some(batch) => writer.write(&batch),
            None => Ok(()),
        };
        loop {
            let read = reader.read(&mut chunk)?;
            if read == 0 {
                break;
            }
            records.push(&chunk[..read], &mut each)?;
        }
        records.finish(&mut each)?;
        if let Some(batch) = converter.finish()? {
            writer.write(&batch)?;
        }
        writer.finish()?.flush()?;
        Ok(())
    };
    if out == Path::new("-") {
        let mut output = BufWriter::new(std::io::stdout());
        convert(&mut output).map_err(table_failure)?;
    } else {
        write_through_temporary(out, |file| {
            let mut output = BufWriter::new(file);
            convert(&mut output).map_err(table_failure)
        })?;
    }
    if context.global.json {
        println!(
            "{}",
            serde_json::json!({ "reportRunId": run_id.as_str(), "out": out.display().to_string(), "rows": rows, "bytesReceived": summary.bytes_received })
        );
    } else if out != Path::new("-") && !context.global.quiet {
        eprintln!("zuora-report: wrote {rows} rows to {}", out.display());
    }
    Ok(())
}

fn explain(columns: &[Column]) {
    for column in columns {
        match &column.reason {
            Some(reason) => eprintln!("{}: {} ({reason})", column.name, column.column_type),
            None => eprintln!("{}: {}", column.name, column.column_type),
        }
    }
}
