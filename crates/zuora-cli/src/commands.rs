//! What each command does, on zuora-blocking.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use zuora_blocking::Client;
use zuora_core::{
    Environment, Error, ExportFormat, ReportId, ReportRef, ReportRun, ReportRunId,
    RunReportOptions, ViewType, WaitOptions, filters::parse_filter_groups, machines::WaitControl,
};
use zuora_files::PartialFile;
use zuora_tables::TableFormat;

mod csv_safe;
mod pull;
mod tables;

use crate::cli::{Format, Global, TableArgs, View, ZuoraCommand as Command};
use crate::exit_code as code;
use crate::failure::Failure;
use crate::interrupt;
use crate::simulate;
use crate::terminal;

struct Context {
    client: Client,
    global: Global,
    progress: bool,
    /// Kept alive for the command when simulating.
    _simulator: Option<simulate::Simulated>,
}

impl Context {
    fn fail(&self, error: Error) -> Failure {
        Failure::from_error(&error)
    }

    fn report_id(&self, report: &str) -> Result<ReportId, Failure> {
        match ReportRef::parse(report).map_err(|e| self.fail(e.into()))? {
            ReportRef::Id(id) => Ok(id),
            ReportRef::Name(name) => self
                .client
                .find_report(name.as_str())
                .map(|r| r.id)
                .map_err(|e| self.fail(e)),
        }
    }

    fn run_id(&self, text: &str) -> Result<ReportRunId, Failure> {
        text.parse()
            .map_err(|e: zuora_core::errors::InvalidInput| self.fail(e.into()))
    }

    fn spinner(&self, message: &str) -> Option<indicatif::ProgressBar> {
        self.progress.then(|| {
            let spinner = indicatif::ProgressBar::new_spinner();
            spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            spinner.enable_steady_tick(Duration::from_millis(120));
            spinner.set_message(message.to_owned());
            spinner
        })
    }
}

/// Runs a command that talks to Zuora.
pub fn run(global: Global, command: Command) -> Result<(), Failure> {
    // Values that must be valid, checked before anything is sent.
    let track_id = global
        .track_id
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: zuora_core::errors::InvalidInput| Failure::from_error(&e.into()))?;
    let idempotency_key = global
        .idempotency_key
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: zuora_core::errors::InvalidInput| Failure::from_error(&e.into()))?;
    if global.verbose {
        // What happened, as it happens: every answer, retry and back-off (never a secret:
        // the library logs none).
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::DEBUG)
            .with_target(false)
            .without_time()
            .try_init();
    }
    // With --simulate, the simulator writes numbers in the locale the table reads them in.
    let locale = match &command {
        Command::Run { table, .. } | Command::Download { table, .. } => table.locale,
        _ => zuora_tables::Locale::default(),
    };
    let context = connect(global, locale)?;
    interrupt::install(context.client.clone());
    match command {
        Command::Search { text } => search(&context, &text),
        Command::Run {
            report,
            view,
            filter,
            wait,
            out,
            format,
            table,
            no_cancel,
        } => {
            let filters = match filter {
                Some(text) => read_filters(&text)?,
                None => Vec::new(),
            };
            let options = RunReportOptions {
                filters,
                idempotency_key,
                track_id,
            };
            let output = Output::new(format, table, out.as_deref().unwrap_or(Path::new("-")))?;
            run_report(
                &context, &report, view, options, wait, out, &output, no_cancel,
            )
        }
        Command::Status { run_id } => {
            let run = context
                .client
                .get_run(&context.run_id(&run_id)?)
                .map_err(|e| context.fail(e))?;
            print_run(&context, &run);
            Ok(())
        }
        Command::Wait { run_id, no_cancel } => {
            let run = wait_for(&context, &context.run_id(&run_id)?, no_cancel)?;
            print_run(&context, &run);
            Ok(())
        }
        Command::Latest { report } => {
            let run = context
                .client
                .latest_run(&context.report_id(&report)?)
                .map_err(|e| context.fail(e))?;
            print_run(&context, &run);
            Ok(())
        }
        Command::Cancel { run_id } => {
            let message = context
                .client
                .cancel_run(&context.run_id(&run_id)?)
                .map_err(|e| context.fail(e))?;
            if context.global.json {
                println!("{}", json!({ "message": message }));
            } else {
                println!("{}", terminal::safe(&message));
            }
            Ok(())
        }
        Command::Download {
            run_id,
            out,
            format,
            table,
        } => {
            let run_id = context.run_id(&run_id)?;
            check_destination(&out)?;
            let output = Output::new(format, table, &out)?;
            download(&context, &run_id, &out, &output)
        }
        Command::Token => token(&context),
        Command::Pull { jobs } => pull::pull(&context, &jobs),
    }
}

fn connect(global: Global, locale: zuora_tables::Locale) -> Result<Context, Failure> {
    let progress = !global.quiet && std::io::stderr().is_terminal();
    let (simulator, base_url, client_id, client_secret) = if global.simulate {
        let sim = simulate::start(global.quiet, locale)?;
        let (base_url, client_id, client_secret) = (
            sim.base_url.clone(),
            sim.client_id.clone(),
            sim.client_secret.clone(),
        );
        (Some(sim), Some(base_url), client_id, client_secret)
    } else {
        let client_id = global.client_id.clone().ok_or_else(|| {
            Failure::usage("no client id: set ZUORA_CLIENT_ID (or --client-id), or use --simulate")
        })?;
        let client_secret = global.client_secret.clone().ok_or_else(|| {
            Failure::usage(
                "no client secret: set ZUORA_CLIENT_SECRET (or --client-secret), or use --simulate",
            )
        })?;
        (None, global.base_url.clone(), client_id, client_secret)
    };
    let mut builder = Client::builder()
        .credentials(&client_id, &client_secret)
        .user_agent(concat!("zuora-report/", env!("CARGO_PKG_VERSION")))
        .max_export_bytes(global.max_export_bytes);
    builder = match (&base_url, &global.env) {
        (Some(url), _) => builder.base_url(url),
        (None, Some(env)) => builder.environment(
            env.parse::<Environment>()
                .map_err(|e| Failure::from_error(&e.into()))?,
        ),
        (None, None) => {
            return Err(Failure::usage(
                "no host: set ZUORA_ENV (such as SBX) or ZUORA_BASE_URL, or use --simulate",
            ));
        }
    };
    if let Some(entity_ids) = &global.entity_ids {
        builder = builder.entity_ids(entity_ids);
    }
    let client = builder.build().map_err(|e| Failure::from_error(&e))?;
    Ok(Context {
        client,
        global,
        progress,
        _simulator: simulator,
    })
}

fn read_filters(text: &str) -> Result<Vec<zuora_core::filters::FilterGroup>, Failure> {
    let json = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("cannot read the filter file {path}: {e}")))?,
        None => text.to_owned(),
    };
    parse_filter_groups(&json).map_err(|error| {
        // The parser's own words (serde's) help nobody here; its position does.
        let at = error
            .to_string()
            .split(" at line ")
            .nth(1)
            .map(|position| format!(" (at line {position})"))
            .unwrap_or_default();
        Failure::usage(format!(
            "--filter is not a list of filter groups{at}; nothing was sent. Expected JSON like:\n  {}",
            crate::cli::FILTER_EXAMPLE
        ))
    })
}

/// Fails (nothing sent) unless `out` can be written: its folder exists and takes a file.
fn check_destination(out: &Path) -> Result<(), Failure> {
    if out == Path::new("-") {
        return Ok(());
    }
    if out.is_dir() {
        return Err(Failure::usage(format!(
            "--out {} is a folder: name a file (nothing was sent)",
            out.display()
        )));
    }
    let folder = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(Failure::usage(format!(
            "--out {}: the folder {} does not exist (nothing was sent)",
            out.display(),
            folder.display()
        )));
    }
    // The same kind of file the download will write, made and removed at once.
    PartialFile::create(out, None)
        .map(PartialFile::discard)
        .map_err(|e| {
            Failure::usage(format!(
                "--out {}: cannot write in {}: {e} (nothing was sent)",
                out.display(),
                folder.display()
            ))
        })
}

fn search(context: &Context, text: &str) -> Result<(), Failure> {
    let reports = context
        .client
        .search_reports(text)
        .map_err(|e| context.fail(e))?;
    if context.global.json {
        let list: Vec<_> = reports
            .iter()
            .map(|r| json!({ "id": r.id.as_str(), "name": r.name, "number": r.number, "datasource": r.datasource }))
            .collect();
        println!("{}", serde_json::Value::Array(list));
    } else {
        for report in &reports {
            println!("{}  {}", report.id, terminal::safe(&report.name));
        }
        if reports.is_empty() && !context.global.quiet {
            eprintln!("zuora-report: no report matches {text:?}");
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)] // The `run` command's own options, passed through.
fn run_report(
    context: &Context,
    report: &str,
    view: View,
    options: RunReportOptions,
    wait: bool,
    out: Option<PathBuf>,
    output: &Output,
    no_cancel: bool,
) -> Result<(), Failure> {
    if out.is_some() && !wait {
        return Err(Failure::usage(
            "--out needs --wait: results exist only once the run completes",
        ));
    }
    if let Some(out) = &out {
        check_destination(out)?;
    }
    let view_type = match view {
        View::Detail => ViewType::Detail,
        View::Summary => ViewType::Summary,
    };
    let report_id = context.report_id(report)?;
    let started = context
        .client
        .run_report(&report_id, view_type, options)
        .map_err(|e| context.fail(e))?;
    if !wait {
        if context.global.json {
            println!(
                "{}",
                json!({ "reportRunId": started.report_run_id.as_str(), "requestId": started.request_id() })
            );
        } else {
            println!("{}", started.report_run_id);
        }
        return Ok(());
    }
    let run = wait_for(context, &started.report_run_id, no_cancel)?;
    let out = out.unwrap_or_else(|| PathBuf::from("-"));
    download(context, &run.id, &out, output)
}

/// Waits with the library's wait (its deadline bounds every look), showing each status.
/// Ctrl-C is the interrupt handler's: it cancels the run unless `--no-cancel`.
fn wait_for(
    context: &Context,
    run_id: &ReportRunId,
    no_cancel: bool,
) -> Result<ReportRun, Failure> {
    let options = WaitOptions::default()
        .with_timeout(Duration::from_secs(context.global.timeout))
        .map_err(|e| Failure::from_error(&e.into()))?
        .cancel_on_timeout(!no_cancel);
    interrupt::cancel_on_interrupt((!no_cancel).then(|| run_id.clone()));
    let spinner = context.spinner(&format!("run {run_id}: waiting"));
    let result = context
        .client
        .wait_for_run_with(run_id, options, |run| {
            if let Some(spinner) = &spinner {
                spinner.set_message(format!(
                    "run {run_id}: {}",
                    terminal::safe(run.status.as_str())
                ));
            }
            WaitControl::Continue
        })
        .map_err(|e| context.fail(e));
    // Completed, ended or given up: nothing left to cancel.
    interrupt::cancel_on_interrupt(None);
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    result
}

/// A writer that moves a progress bar.
struct Counting<W> {
    inner: W,
    bar: Option<indicatif::ProgressBar>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Where and how the results go: the format (named, or the --out file's extension) and,
/// for a typed table, how it is typed. Checked before anything is sent.
struct Output {
    format: Format,
    table: TableArgs,
}

impl Output {
    fn new(format: Option<Format>, table: TableArgs, out: &Path) -> Result<Self, Failure> {
        let format = format.unwrap_or_else(|| Format::of_path(out));
        if out == Path::new("-") && matches!(format, Format::Parquet | Format::Arrow) {
            return Err(Failure::usage(
                "--format parquet and arrow write a file: give --out FILE (nothing was sent)",
            ));
        }
        if table.csv_safe && (format != Format::Csv || table.normalize) {
            return Err(Failure::usage(
                "--csv-safe guards Zuora's text as CSV: it goes with --format csv, without --normalize (nothing was sent)",
            ));
        }
        if table.normalize && format != Format::Csv {
            return Err(Failure::usage(
                "--normalize makes a CSV of typed values: it goes with --format csv (nothing was sent)",
            ));
        }
        Ok(Self { format, table })
    }
}

fn download(
    context: &Context,
    run_id: &ReportRunId,
    out: &Path,
    output: &Output,
) -> Result<(), Failure> {
    let format = match output.format {
        Format::Csv if output.table.normalize => {
            return tables::download(
                context,
                run_id,
                out,
                TableFormat::NormalizedCsv,
                &output.table,
            );
        }
        Format::Csv => ExportFormat::Csv,
        Format::Tsv => ExportFormat::Tsv,
        Format::Raw => ExportFormat::Raw,
        Format::Parquet => {
            return tables::download(context, run_id, out, TableFormat::Parquet, &output.table);
        }
        Format::Arrow => {
            return tables::download(context, run_id, out, TableFormat::Arrow, &output.table);
        }
        Format::Jsonl => {
            return tables::download(context, run_id, out, TableFormat::JsonLines, &output.table);
        }
    };
    let bar = context.progress.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {binary_bytes} written ({binary_bytes_per_sec})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let guard = output.table.csv_safe;
    let result = if out == Path::new("-") {
        let stdout = std::io::stdout();
        let writer = Counting {
            inner: std::io::BufWriter::new(stdout.lock()),
            bar: bar.clone(),
        };
        export_to(context, run_id, format, writer, guard)
    } else {
        write_through_temporary(out, |file| {
            let writer = Counting {
                inner: std::io::BufWriter::new(file),
                bar: bar.clone(),
            };
            export_to(context, run_id, format, writer, guard)
        })
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let summary = result?;
    if context.global.json {
        println!(
            "{}",
            json!({ "reportRunId": run_id.as_str(), "out": out.display().to_string(), "bytesReceived": summary.bytes_received, "bytesWritten": summary.bytes_written })
        );
    } else if out != Path::new("-") && !context.global.quiet {
        eprintln!(
            "zuora-report: wrote {} bytes to {}",
            summary.bytes_written,
            out.display()
        );
    }
    Ok(())
}

/// Downloads the export into `writer`, through the formula guard when `guard`, and flushes.
fn export_to<W: Write>(
    context: &Context,
    run_id: &ReportRunId,
    format: ExportFormat,
    writer: W,
    guard: bool,
) -> Result<zuora_core::ExportSummary, Failure> {
    let output_failed = |e: std::io::Error| context.fail(Error::output(e));
    if guard {
        let mut guarded = csv_safe::FormulaGuard::new(writer);
        let summary = context
            .client
            .download_export(run_id, format, &mut guarded)
            .map_err(|e| context.fail(e))?;
        guarded.finish().map_err(output_failed)?;
        return Ok(summary);
    }
    let mut writer = writer;
    let summary = context
        .client
        .download_export(run_id, format, &mut writer)
        .map_err(|e| context.fail(e))?;
    writer.flush().map_err(output_failed)?;
    Ok(summary)
}

/// Writes to a temporary file beside `out` (see `zuora_files`: unpredictable, exclusive,
/// owner-only) and renames it into place only on success, so `out` is never left
/// half-written and nothing is left behind on failure.
fn write_through_temporary<T>(
    out: &Path,
    write: impl FnOnce(&mut PartialFile) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let mut file = PartialFile::create(out, None)
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", out.display())))?;
    let temporary = file.temporary_path().to_owned();
    interrupt::writing(temporary.clone());
    let outcome = write(&mut file).and_then(|value| {
        file.commit().map_err(|e| {
            Failure::of(
                code::API,
                "output",
                format!("cannot write the results to {}: {e}", out.display()),
            )
        })?;
        Ok(value)
    });
    interrupt::written(&temporary);
    outcome
}

fn millis(time: Option<SystemTime>) -> Option<u64> {
    time.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as u64)
}

fn print_run(context: &Context, run: &ReportRun) {
    if context.global.json {
        println!(
            "{}",
            json!({
                "id": run.id.as_str(),
                "reportId": run.report_id.as_ref().map(ReportId::as_str),
                "reportType": run.report_type.map(ViewType::as_str),
                "status": run.status.as_str(),
                "startedOn": millis(run.started_on),
                "updatedOn": millis(run.updated_on),
            })
        );
    } else {
        println!("{}  {}", run.id, terminal::safe(run.status.as_str()));
    }
}

fn token(context: &Context) -> Result<(), Failure> {
    let token = context
        .client
        .execute(context.client.config().token_request())
        .map_err(|e| context.fail(e))?;
    let expires_at = SystemTime::now()
        .checked_add(token.expires_in)
        .unwrap_or_else(SystemTime::now);
    let at = millis(Some(expires_at)).unwrap_or(0) / 1000;
    let date = httpdate::fmt_http_date(expires_at);
    if context.global.json {
        println!(
            "{}",
            json!({ "valid": true, "expiresIn": token.expires_in.as_secs(), "expiresAt": at, "expiresAtDate": date, "scope": token.scope })
        );
    } else {
        println!(
            "credentials accepted; the token expires in {} s, at {date}",
            token.expires_in.as_secs()
        );
    }
    Ok(())
}
