//! `--format parquet|arrow|jsonl`: the export as a typed table, in two passes so memory
//! stays bounded whatever its size. Pass 1 downloads the export as UTF-8 TSV into an
//! unnamed spool file beside the output and infers every column's type from every value on
//! the way; pass 2 reads the spool back and writes the typed rows into the output's
//! temporary file, renamed into place at the end. Each pass shares its work with one helper
//! thread (zuora-tables' `Threads::WithHelper`).

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use zuora_core::{ExportFormat, ReportRunId};
use zuora_tables::{Column, Spooling, TableError, TableFormat};

use super::{Context, write_through_temporary};
use crate::cli::TableArgs;
use crate::exit_code as code;
use crate::failure::Failure;
use crate::terminal;

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
    // The spool is an unnamed file beside the output (the same disk: the system's temporary
    // folder may be too small for a large export), or in the temporary folder when the
    // output is stdout. Unnamed, it goes with the process whatever ends it.
    let folder = match out == Path::new("-") {
        true => std::env::temp_dir(),
        false => match out.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        },
    };
    let mut spooling = Spooling::temporary_in(&folder, table.locale).map_err(|e| {
        Failure::usage(format!("cannot write a spool in {}: {e}", folder.display()))
    })?;
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
    let typed = typed.rewound().map_err(table_failure)?;
    if out == Path::new("-") {
        typed
            .write(format, BufWriter::new(std::io::stdout()))
            .map_err(table_failure)?;
    } else {
        write_through_temporary(out, |file| {
            typed
                .write(format, BufWriter::new(file))
                .map(drop)
                .map_err(table_failure)
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
            Some(reason) => eprintln!(
                "{}: {} ({})",
                terminal::safe(&column.name),
                column.column_type,
                terminal::safe(reason)
            ),
            None => eprintln!("{}: {}", terminal::safe(&column.name), column.column_type),
        }
    }
}
