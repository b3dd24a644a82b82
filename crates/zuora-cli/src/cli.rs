//! The command line, as clap reads it.

use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "Exit codes:
  0    success
  2    usage or invalid input (nothing was sent)
  3    Zuora answered with an error, or could not be reached
  4    the report run failed, was invalid, or was cancelled
  5    timed out waiting for the run
  130  interrupted (Ctrl-C); the run is cancelled unless --no-cancel

Credentials come from ZUORA_CLIENT_ID and ZUORA_CLIENT_SECRET (or the flags), the host from
ZUORA_ENV or ZUORA_BASE_URL. --simulate runs everything against a local simulator instead.";

/// The shape `--filter` takes (a macro so that `concat!` can put it in the help).
macro_rules! filter_example {
    () => {
        r#"[{"logicalOperator":{"value":"AND"},"filterClauses":[{"field":{"id":"Account.Currency","type":"Text"},"operator":"=","value":"EUR"}]}]"#
    };
}

/// The shape `--filter` takes, shown in its help and in its errors.
pub const FILTER_EXAMPLE: &str = filter_example!();

const FILTER_HELP: &str = concat!(
    "Filter groups as JSON, or @FILE holding them, replacing the report's saved filters: a list \
     of groups, each with a logical operator (AND or OR) and clauses (a field id and type, an \
     operator such as =, !=, >, <, >=, <=, contains, and a value). For example:\n  ",
    filter_example!()
);

/// Run Zuora reports: find them, run them, wait for them, download their results.
#[derive(Debug, Parser)]
#[command(name = "zuora-report", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options of every command.
#[derive(Debug, Args)]
pub struct Global {
    /// A documented environment (us-cloud-2-api-sandbox, SBX, eu-production, PROD_EU, …).
    /// A flag wins over the other host's environment variable.
    #[arg(long, env = "ZUORA_ENV", global = true)]
    pub env: Option<String>,
    /// Any other base URL (https://…, or http:// on loopback).
    #[arg(long, env = "ZUORA_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// OAuth client id (prefer the environment variable).
    #[arg(long, env = "ZUORA_CLIENT_ID", global = true, hide_env_values = true)]
    pub client_id: Option<String>,
    /// OAuth client secret (prefer the environment variable; it is never printed).
    #[arg(
        long,
        env = "ZUORA_CLIENT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// Read the OAuth client secret from this file (`-`: standard input), kept out of `ps`
    /// and shell history; wins over ZUORA_CLIENT_SECRET.
    #[arg(long, global = true, value_name = "FILE")]
    pub client_secret_file: Option<std::path::PathBuf>,
    /// Zuora-Entity-Ids, for Multi-entity tenants.
    #[arg(long, env = "ZUORA_ENTITY_IDS", global = true)]
    pub entity_ids: Option<String>,
    /// Zuora-Track-Id sent with the run (at most 64 characters, none of : ; " ').
    #[arg(long, global = true)]
    pub track_id: Option<String>,
    /// Idempotency-Key for the run (at most 255 characters); one is made if omitted.
    #[arg(long, global = true)]
    pub idempotency_key: Option<String>,
    /// Seconds to wait for a run before giving up.
    #[arg(long, default_value_t = 3600, global = true)]
    pub timeout: u64,
    /// End a download whose converted output passes this many bytes (exit 3, nothing
    /// kept); no cap by default.
    #[arg(long, global = true, value_name = "BYTES")]
    pub max_export_bytes: Option<u64>,
    /// Machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Show each request's answer, retries and back-off as they happen (on stderr).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Run against a local simulator of Zuora with sample reports (offline).
    #[arg(long, global = true)]
    pub simulate: bool,
}

impl Global {
    /// Settles where the client secret comes from: `--client-secret-file` (read now, its
    /// trailing line end dropped) wins over the environment; with `--client-secret` typed on
    /// the command line as well it is a usage error. A secret typed on the command line is
    /// visible to every user of the machine (`ps`): it works, with a warning.
    pub fn settle_secret(&mut self, matches: &ArgMatches) -> Result<(), String> {
        let typed = typed_on_command_line(matches, "client_secret");
        if let Some(path) = &self.client_secret_file {
            if typed {
                return Err(
                    "--client-secret and --client-secret-file both give the secret: give one"
                        .to_owned(),
                );
            }
            self.client_secret = Some(read_secret(path)?);
        } else if typed {
            eprintln!(
                "zuora-report: warning: --client-secret on the command line is visible to other users (ps, shell history); use ZUORA_CLIENT_SECRET or --client-secret-file"
            );
        }
        Ok(())
    }

    /// Settles `--env` against `--base-url`: a flag on the command line wins over the other
    /// one's environment variable; two flags, or two environment variables, are a usage
    /// error that names them.
    pub fn settle_host(&mut self, matches: &ArgMatches) -> Result<(), String> {
        if self.env.is_none() || self.base_url.is_none() {
            return Ok(());
        }
        let typed = |id: &str| typed_on_command_line(matches, id);
        match (typed("env"), typed("base_url")) {
            (true, false) => self.base_url = None,
            (false, true) => self.env = None,
            (true, true) => return Err("--env and --base-url name two hosts: give one".to_owned()),
            (false, false) => {
                return Err(
                    "ZUORA_ENV and ZUORA_BASE_URL are both set: unset one, or choose \
                     with --env or --base-url"
                        .to_owned(),
                );
            }
        }
        Ok(())
    }
}

/// Whether the argument `id` was typed on the command line (before or after the command),
/// not taken from the environment.
fn typed_on_command_line(matches: &ArgMatches, id: &str) -> bool {
    let sub = matches.subcommand().map(|(_, sub)| sub);
    [Some(matches), sub]
        .into_iter()
        .flatten()
        .any(|m| m.value_source(id) == Some(ValueSource::CommandLine))
}

/// The secret in `path` (`-`: standard input), at most 4 KiB, its trailing line end dropped.
fn read_secret(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let mut text = String::new();
    let limit = 4096;
    let read = if path == std::path::Path::new("-") {
        std::io::stdin().take(limit + 1).read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit + 1).read_to_string(&mut text))
    };
    read.map_err(|e| format!("cannot read the client secret from {}: {e}", path.display()))?;
    if text.len() as u64 > limit {
        return Err(format!(
            "{} is larger than a client secret can be ({limit} bytes)",
            path.display()
        ));
    }
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(format!("{} holds no client secret", path.display()));
    }
    Ok(secret.to_owned())
}

/// The commands: those that talk to Zuora, and those that describe the CLI itself (which
/// need no credentials and send nothing).
#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(flatten)]
    Zuora(ZuoraCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell).
    #[command(after_help = "Examples:\n  \
        zuora-report completions bash > ~/.local/share/bash-completion/completions/zuora-report\n  \
        zuora-report completions zsh > \"${fpath[1]}/_zuora-report\"\n  \
        zuora-report completions fish > ~/.config/fish/completions/zuora-report.fish")]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff, for `man -l -`); the release archive holds it as
    /// zuora-report.1.
    #[command(hide = true)]
    Man,
}

/// The commands that talk to Zuora.
#[derive(Debug, Subcommand)]
pub enum ZuoraCommand {
    /// Search reports by name, data source or description.
    #[command(after_help = "Example:\n  zuora-report search \"invoice\"")]
    Search {
        /// Text to search for (words under 3 letters are ignored by Zuora).
        text: String,
    },
    /// Run a report by exact name or id; with --wait, wait and download its results.
    #[command(
        after_help = "Example:\n  zuora-report run \"Invoice Detail\" --wait --out invoices.csv"
    )]
    Run {
        /// The report's exact name, or its id.
        report: String,
        /// The view to run.
        #[arg(long, value_enum, default_value_t = View::Detail)]
        view: View,
        /// Filter groups as JSON, or @FILE holding them, replacing the report's saved
        /// filters.
        #[arg(long, long_help = FILTER_HELP)]
        filter: Option<String>,
        /// Wait for the run to finish and download its results.
        #[arg(long)]
        wait: bool,
        /// Where the results go (with --wait): a file, or - for stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Format of the results; by default the --out file's extension (.parquet, .arrow,
        /// .jsonl, .tsv), else csv.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Typed tables (parquet, arrow, jsonl, csv --normalize).
        #[command(flatten)]
        table: TableArgs,
        /// On Ctrl-C or timeout, leave the run going on the server.
        #[arg(long)]
        no_cancel: bool,
    },
    /// Show a run's status.
    #[command(after_help = "Example:\n  zuora-report status ff808081529f4e3401529fd61f080074")]
    Status {
        /// The run id.
        run_id: String,
    },
    /// Wait for a run to finish.
    #[command(after_help = "Example:\n  zuora-report wait ff808081529f4e3401529fd61f080074")]
    Wait {
        /// The run id.
        run_id: String,
        /// On Ctrl-C or timeout, leave the run going on the server.
        #[arg(long)]
        no_cancel: bool,
    },
    /// Show the last completed run of a report (by exact name or id).
    #[command(after_help = "Example:\n  zuora-report latest \"Invoice Detail\"")]
    Latest {
        /// The report's exact name, or its id.
        report: String,
    },
    /// Cancel a run in progress.
    #[command(after_help = "Example:\n  zuora-report cancel ff808081529f4e3401529fd61f080074")]
    Cancel {
        /// The run id.
        run_id: String,
    },
    /// Download a completed run's results.
    #[command(
        after_help = "Example:\n  zuora-report download ff808081529f4e3401529fd61f080074 --out invoices.csv"
    )]
    Download {
        /// The run id.
        run_id: String,
        /// A file, or - for stdout.
        #[arg(long)]
        out: PathBuf,
        /// Format of the results; by default the --out file's extension (.parquet, .arrow,
        /// .jsonl, .tsv), else csv.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Typed tables (parquet, arrow, jsonl, csv --normalize).
        #[command(flatten)]
        table: TableArgs,
    },
    /// Check the credentials: get a token and show when it expires (never the token).
    #[command(after_help = "Example:\n  ZUORA_ENV=SBX zuora-report token")]
    Token,
    /// Pull many reports, each in date windows since the last pull, each window run and
    /// downloaded exactly once, as a jobs file says (see the README). Exits 0 when every
    /// window is done, 3 when some failed (the others are done), 130 when interrupted.
    #[command(after_help = PULL_HELP)]
    Pull {
        /// The jobs file (TOML); its paths are relative to its folder.
        jobs: PathBuf,
    },
}

/// An example jobs file, shown by `pull --help`.
const PULL_HELP: &str = r#"Example jobs file:
  concurrency = 3                     # runs in flight at once
  state = "state/pulls.json"          # progress, replaced atomically after each window
  out = "out/{report}/{start}_{end}.{ext}"
  format = "csv"                      # csv, tsv, raw, parquet, arrow, jsonl

  [[report]]
  name = "Invoice Detail"             # or id = "..."
  view = "detail"
  filter = "@filters/eur.json"        # optional base filters, as --filter
  [report.window]                     # optional: incremental
  field = "Invoice.CreatedDate"       # a date (or type = "datetime") field
  start = "2015-01-01"                # the first window's start
  size = "1 month"                    # day(s), week(s) or month(s)
  until = "yesterday"                 # or a date (included)

With --json, one JSON event per line, then the summary."#;

/// A report view.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum View {
    /// The row-level view.
    Detail,
    /// The aggregated view.
    Summary,
}

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// UTF-8 CSV (RFC 4180).
    Csv,
    /// UTF-8, tab-separated.
    Tsv,
    /// The UTF-16LE bytes as Zuora sends them.
    Raw,
    /// Apache Parquet (zstd), every column typed.
    Parquet,
    /// An Arrow IPC file, every column typed.
    Arrow,
    /// One JSON object a row, typed (decimals as exact strings).
    Jsonl,
}

impl Format {
    /// The format `out`'s extension names; csv for any other.
    pub fn of_path(out: &std::path::Path) -> Self {
        let extension = out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("parquet" | "pq") => Self::Parquet,
            Some("arrow" | "feather" | "ipc") => Self::Arrow,
            Some("jsonl" | "ndjson") => Self::Jsonl,
            Some("tsv") => Self::Tsv,
            _ => Self::Csv,
        }
    }
}

/// How a typed table is made: the locale numbers are written in, the types the user sets.
#[derive(Debug, Clone, clap::Args)]
pub struct TableArgs {
    /// The locale the tenant writes numbers in: en-US (1,430.5), de-DE (1.430,5) or fr-FR
    /// (1 430,5).
    #[arg(long, default_value = "en-US", value_parser = parse_locale)]
    pub locale: zuora_tables::Locale,
    /// A column's type instead of the inferred one, as 'NAME=TYPE' (TYPE: boolean, integer,
    /// decimal(P,S), date, timestamp, text); repeat for more columns.
    #[arg(long = "column", value_parser = parse_column)]
    pub columns: Vec<(String, zuora_tables::ColumnType)>,
    /// Print each column's type, and why a column stayed text, to stderr.
    #[arg(long)]
    pub explain_types: bool,
    /// With --format csv: the typed values in plain shapes any warehouse's COPY reads
    /// (3980735.56, 2015-07-11, 2015-07-11T11:15:05; an empty value as an empty field, an
    /// empty string as ""), instead of Zuora's text.
    #[arg(long)]
    pub normalize: bool,
    /// With --format csv: write a cell a spreadsheet would run as a formula (one that
    /// begins with =, +, -, @, a tab or a CR, and is not a number such as -120.20) as text,
    /// quoted with a ' before it.
    #[arg(long)]
    pub csv_safe: bool,
}

fn parse_locale(text: &str) -> Result<zuora_tables::Locale, String> {
    text.parse()
}

fn parse_column(text: &str) -> Result<(String, zuora_tables::ColumnType), String> {
    let (name, column_type) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("{text:?}: give NAME=TYPE, e.g. 'Invoice: Amount=decimal(18,2)'"))?;
    if name.trim().is_empty() {
        return Err(format!("{text:?}: the column name is empty"));
    }
    Ok((name.trim().to_owned(), column_type.parse()?))
}
