//! `--format parquet|arrow|jsonl`: the export as a typed table, in two passes so memory
//! stays bounded whatever its size. Pass 1 downloads the export as UTF-8 TSV into a spool
//! file beside the output (a temporary file like the output's own) and infers every
//! column's type from every value on the way; pass 2 reads the spool back and writes the
//! typed rows. Both temporary files go on every failure and on Ctrl-C.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use zuora_core::{ExportFormat, ReportRunId};
use zuora_files::PartialFile;
use zuora_tables::{Column, Spooling, TableError, TableFormat};

use super::{Context, write_through_temporary};
use crate::cli::TableArgs;
use crate::exit_code as code;
use crate::failure::Failure;
use crate::interrupt;

fn table_failure(error: TableError) -> Failure {
    let kind = match error {
        TableError::Io(_) => "output",
        _ => "table",
    };
    Failure::of(code::API, kind, error.to_string())
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
    let mut spooling = Spooling::new(BufWriter::new(&mut *spool), table.locale);
    let summary = context
        .client
        .download_export(run_id, ExportFormat::Tsv, &mut spooling)
        // A record the inference refused comes back inside the output error.
        .map_err(|e| context.fail(e))?;
    let typed = spooling.finish(&table.columns).map_err(table_failure)?;
    if table.explain_types {
        explain(typed.columns());
    }
    let rows = typed.rows();
    let convert = |out: &mut (dyn Write + Send)| -> Result<(), TableError> {
        typed
            .with_spool(BufReader::new(File::open(&spooled)?))
            .write(format, out)?;
        Ok(())
    };
    if out == Path::new("-") {
        convert(&mut BufWriter::new(std::io::stdout())).map_err(table_failure)?;
    } else {
        write_through_temporary(out, |file| {
            convert(&mut BufWriter::new(file)).map_err(table_failure)
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
