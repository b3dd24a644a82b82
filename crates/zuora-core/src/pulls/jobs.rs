//! The jobs file of a pull (`JOBS.toml`): which reports, their windows, where the files and
//! the state go. Read into a [`PullSpec`] with every value checked, or a [`JobsFileError`]
//! naming the file, the line and the key, before anything is sent.

use serde::Deserialize;
use toml::Spanned;

use super::dates::CivilDate;
use super::windows::WindowSize;
use crate::exports::ExportFormat;
use crate::filters::{FilterGroup, parse_filter_groups};
use crate::values::{ReportId, ReportRef, ViewType};

/// Runs in flight at once when the file does not say (Zuora's per-tenant limits are small,
/// and Estuary's connector keeps four).
pub const DEFAULT_CONCURRENCY: usize = 3;
/// The most runs in flight a file may ask for.
pub const MAX_CONCURRENCY: usize = 16;
/// How often a failed window is tried again when the file does not say.
pub const DEFAULT_RETRIES: u32 = 3;
/// The most windows one report is cut into in one pull (about 27 years of days): a stop
/// rule that does not depend on the file being sensible.
pub const MAX_WINDOWS: usize = 10_000;

/// What a pull writes each window as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// An export converted to CSV (or TSV, or the bytes as sent).
    Export(ExportFormat),
    /// A typed table (`parquet`, `arrow`, `jsonl`), made from the TSV export by a driver
    /// that has tables.
    Table(&'static str),
}

impl OutputFormat {
    /// Reads `csv`, `tsv`, `raw`, `parquet`, `arrow` or `jsonl`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "csv" => Self::Export(ExportFormat::Csv),
            "tsv" => Self::Export(ExportFormat::Tsv),
            "raw" => Self::Export(ExportFormat::Raw),
            "parquet" => Self::Table("parquet"),
            "arrow" => Self::Table("arrow"),
            "jsonl" => Self::Table("jsonl"),
            _ => return None,
        })
    }

    /// The file name extension, for `{ext}`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Export(ExportFormat::Csv) => "csv",
            Self::Export(ExportFormat::Tsv) => "tsv",
            // The bytes as Zuora sent them: UTF-16 text, tab-separated.
            Self::Export(_) => "txt",
            Self::Table(name) => name,
        }
    }

    /// The export to download: the format itself, or TSV for a table made from it.
    pub fn export_format(self) -> ExportFormat {
        match self {
            Self::Export(format) => format,
            Self::Table(_) => ExportFormat::Tsv,
        }
    }
}

/// How a window's clause compares: a `date` field takes `YYYY-MM-DD`; a `datetime` field the
/// same, read by Zuora as midnight (the tenant's time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// A date.
    Date,
    /// A date and time.
    DateTime,
}

impl FieldType {
    /// As the report definition names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Date => "date",
            Self::DateTime => "datetime",
        }
    }
}

/// Where a report's windows stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Until {
    /// Through yesterday (UTC): the default.
    Yesterday,
    /// Through today (UTC): windows may still change as the day goes on.
    Today,
    /// Through this date, included.
    Date(CivilDate),
}

impl Until {
    /// The first day after the range, given today's date.
    pub fn end(self, today: CivilDate) -> CivilDate {
        match self {
            Self::Yesterday => today,
            Self::Today => today.add_days(1).unwrap_or(today),
            Self::Date(date) => date.add_days(1).unwrap_or(date),
        }
    }
}

/// A report's incremental windows (`[report.window]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WindowSpec {
    /// The date or datetime field the window filters on, such as `Invoice.CreatedDate`.
    pub field: String,
    /// Its type.
    pub field_type: FieldType,
    /// The first window's start when the state has none.
    pub start: CivilDate,
    /// Each window's length.
    pub size: WindowSize,
    /// Where the windows stop.
    pub until: Until,
}

/// One `[[report]]` of the jobs file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEntry {
    /// Its key in the state file: `key`, or else the report's name or id.
    pub key: String,
    /// The report.
    pub report: ReportRef,
    /// Detail or Summary.
    pub view: ViewType,
    /// Base filters (replacing the saved ones), to which each window adds its clause.
    pub filters: Vec<FilterGroup>,
    /// Incremental windows; `None` pulls the whole report once a day.
    pub window: Option<WindowSpec>,
    /// The `{report}` of the output path: the name or id made safe for a file name.
    pub file_stem: String,
    /// Its line in the jobs file, for messages.
    pub line: usize,
}

/// A jobs file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSpec {
    /// Runs in flight at once.
    pub concurrency: usize,
    /// The state file, as written in the jobs file (a driver resolves it against the jobs
    /// file's folder).
    pub state: String,
    /// The line of `state` in the jobs file (1 when the default is used), for the driver's
    /// message when the state cannot be read or written.
    pub state_line: usize,
    /// The output path template, as written (`{report}`, `{start}`, `{end}`, `{ext}`).
    pub out: String,
    /// What each window is written as.
    pub format: OutputFormat,
    /// How often a failed window is tried again.
    pub retries: u32,
    /// The shortest window a split may make, in days.
    pub min_window_days: u32,
    /// The reports, in the file's order.
    pub reports: Vec<ReportEntry>,
}

/// A jobs file that cannot be used: where, which key, and why. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct JobsFileError {
    /// The file, as the caller named it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The key, such as `report[2].window.size`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJobs {
    concurrency: Option<Spanned<i64>>,
    state: Option<Spanned<String>>,
    out: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
    retries: Option<Spanned<i64>>,
    min_window: Option<Spanned<String>>,
    #[serde(default)]
    report: Vec<Spanned<RawReport>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    name: Option<Spanned<String>>,
    id: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    view: Option<Spanned<String>>,
    filter: Option<Spanned<String>>,
    window: Option<Spanned<RawWindow>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    field: Option<Spanned<String>>,
    #[serde(rename = "type")]
    field_type: Option<Spanned<String>>,
    start: Option<Spanned<toml::Value>>,
    size: Option<Spanned<String>>,
    until: Option<Spanned<toml::Value>>,
}

/// Reads a jobs file's text. `file` names it in errors; `read_filter` reads the file a
/// `filter = "@path"` names (the caller's IO, relative to where it wants).
///
/// # Errors
///
/// The first problem found, with its line and key.
pub fn parse_jobs(
    text: &str,
    file: &str,
    read_filter: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<PullSpec, JobsFileError> {
    let line_of = |offset: usize| {
        text.get(..offset).map_or(1, |before| {
            before.bytes().filter(|b| *b == b'\n').count() + 1
        })
    };
    let fail = |span: std::ops::Range<usize>, key: &str, message: String| JobsFileError {
        file: file.to_owned(),
        line: line_of(span.start),
        key: key.to_owned(),
        message,
    };
    let raw: RawJobs = toml::from_str(text).map_err(|error| {
        let span = error.span().unwrap_or(0..0);
        let key = text
            .get(span.clone())
            .map(|k| k.trim().trim_matches('"').to_owned())
            .filter(|k| !k.is_empty() && k.len() < 80 && !k.contains('\n'))
            .unwrap_or_else(|| "(file)".to_owned());
        fail(span, &key, error.message().trim().to_owned())
    })?;

    let concurrency = match &raw.concurrency {
        None => DEFAULT_CONCURRENCY,
        Some(value) => usize::try_from(*value.get_ref())
            .ok()
            .filter(|n| (1..=MAX_CONCURRENCY).contains(n))
            .ok_or_else(|| {
                fail(
                    value.span(),
                    "concurrency",
                    format!("must be 1 to {MAX_CONCURRENCY}, not {}", value.get_ref()),
                )
            })?,
    };
    let retries = match &raw.retries {
        None => DEFAULT_RETRIES,
        Some(value) => u32::try_from(*value.get_ref())
            .ok()
            .filter(|n| *n <= 20)
            .ok_or_else(|| fail(value.span(), "retries", "must be 0 to 20".to_owned()))?,
    };
    let min_window_days = match &raw.min_window {
        None => 1,
        Some(value) => match value.get_ref().parse::<WindowSize>() {
            Ok(WindowSize::Days(n)) => n,
            Ok(WindowSize::Weeks(n)) => n.saturating_mul(7),
            Ok(WindowSize::Months(_)) => {
                return Err(fail(
                    value.span(),
                    "min_window",
                    "give the shortest split in days or weeks".to_owned(),
                ));
            }
            Err(message) => return Err(fail(value.span(), "min_window", message)),
        },
    };
    let format = match &raw.format {
        None => OutputFormat::Export(ExportFormat::Csv),
        Some(value) => OutputFormat::parse(value.get_ref()).ok_or_else(|| {
            fail(
                value.span(),
                "format",
                format!(
                    "{:?} is not a format: use csv, tsv, raw, parquet, arrow or jsonl",
                    value.get_ref()
                ),
            )
        })?,
    };
    let state = raw
        .state
        .as_ref()
        .map(|s| s.get_ref().clone())
        .unwrap_or_else(|| "pull-state.json".to_owned());
    if state.trim().is_empty() {
        return Err(fail(
            raw.state.as_ref().map_or(0..0, Spanned::span),
            "state",
            "must name a file".to_owned(),
        ));
    }
    let state_line = line_of(raw.state.as_ref().map_or(0, |s| s.span().start));
    let out_span = raw.out.as_ref().map_or(0..0, Spanned::span);
    let out = raw
        .out
        .as_ref()
        .map(|s| s.get_ref().clone())
        .unwrap_or_else(|| "{report}/{start}_{end}.{ext}".to_owned());
    check_template(&out, raw.report.len() > 1).map_err(|m| fail(out_span.clone(), "out", m))?;
    if raw.report.is_empty() {
        return Err(fail(
            0..0,
            "report",
            "no [[report]]: name at least one report to pull".to_owned(),
        ));
    }

    let mut reports: Vec<ReportEntry> = Vec::new();
    for (index, spanned) in raw.report.iter().enumerate() {
        let at = format!("report[{}]", index + 1);
        let entry = spanned.get_ref();
        let line_span = spanned.span();
        let report = match (&entry.name, &entry.id) {
            (Some(name), None) => name
                .get_ref()
                .parse()
                .map(ReportRef::Name)
                .map_err(|e| fail(name.span(), &format!("{at}.name"), e.to_string()))?,
            (None, Some(id)) => id
                .get_ref()
                .parse::<ReportId>()
                .map(ReportRef::Id)
                .map_err(|e| fail(id.span(), &format!("{at}.id"), e.to_string()))?,
            _ => {
                return Err(fail(
                    line_span,
                    &at,
                    "give exactly one of name or id".to_owned(),
                ));
            }
        };
        let shown = match &report {
            ReportRef::Name(name) => name.as_str().to_owned(),
            ReportRef::Id(id) => id.as_str().to_owned(),
        };
        let view = match &entry.view {
            None => ViewType::Detail,
            Some(view) => view.get_ref().parse().map_err(
                |e: crate::values::invalid_input::InvalidInput| {
                    fail(view.span(), &format!("{at}.view"), e.to_string())
                },
            )?,
        };
        let filters = match &entry.filter {
            None => Vec::new(),
            Some(filter) => {
                let key = format!("{at}.filter");
                let json = match filter.get_ref().strip_prefix('@') {
                    Some(path) => read_filter(path).map_err(|m| fail(filter.span(), &key, m))?,
                    None => filter.get_ref().clone(),
                };
                parse_filter_groups(&json).map_err(|e| fail(filter.span(), &key, e.to_string()))?
            }
        };
        let window = match &entry.window {
            None => None,
            Some(window) => Some(parse_window(window, &format!("{at}.window"), &fail)?),
        };
        let key = match &entry.key {
            Some(key) if key.get_ref().trim().is_empty() => {
                return Err(fail(
                    key.span(),
                    &format!("{at}.key"),
                    "must not be empty".to_owned(),
                ));
            }
            Some(key) => key.get_ref().clone(),
            None => shown.clone(),
        };
        let file_stem = file_stem(entry.key.as_ref().map_or(&shown, |k| k.get_ref()));
        if let Some(earlier) = reports
            .iter()
            .find(|r| r.key == key || (out.contains("{report}") && r.file_stem == file_stem))
        {
            return Err(fail(
                line_span,
                &at,
                format!(
                    "the same key or file name ({key:?}, {file_stem:?}) as the report on line {}: give each a distinct `key`",
                    earlier.line
                ),
            ));
        }
        reports.push(ReportEntry {
            key,
            report,
            view,
            filters,
            window,
            file_stem,
            line: line_of(line_span.start),
        });
    }
    Ok(PullSpec {
        concurrency,
        state,
        state_line,
        out,
        format,
        retries,
        min_window_days,
        reports,
    })
}

type Fail<'a> = dyn Fn(std::ops::Range<usize>, &str, String) -> JobsFileError + 'a;

fn parse_window(
    window: &Spanned<RawWindow>,
    at: &str,
    fail: &Fail<'_>,
) -> Result<WindowSpec, JobsFileError> {
    let raw = window.get_ref();
    let missing = |key: &str| {
        fail(
            window.span(),
            &format!("{at}.{key}"),
            "is missing".to_owned(),
        )
    };
    let field = raw.field.as_ref().ok_or_else(|| missing("field"))?;
    let id = field.get_ref().trim();
    let well_formed = id.split_once('.').is_some_and(|(source, name)| {
        let word =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        word(source) && word(name)
    });
    if !well_formed {
        return Err(fail(
            field.span(),
            &format!("{at}.field"),
            format!("{id:?} is not a field id such as \"Invoice.CreatedDate\""),
        ));
    }
    let field_type = match &raw.field_type {
        None => FieldType::Date,
        Some(kind) => match kind.get_ref().to_ascii_lowercase().as_str() {
            "date" => FieldType::Date,
            "datetime" => FieldType::DateTime,
            other => {
                return Err(fail(
                    kind.span(),
                    &format!("{at}.type"),
                    format!("a window filters on a date or datetime field, not {other:?}"),
                ));
            }
        },
    };
    let date = |value: &Spanned<toml::Value>, key: &str| -> Result<CivilDate, JobsFileError> {
        let text = match value.get_ref() {
            toml::Value::String(text) => text.clone(),
            toml::Value::Datetime(datetime) => datetime.to_string(),
            other => format!("a {}", other.type_str()),
        };
        CivilDate::parse(text.trim()).ok_or_else(|| {
            fail(
                value.span(),
                &format!("{at}.{key}"),
                format!("{text} is not a date: write YYYY-MM-DD"),
            )
        })
    };
    let start = date(raw.start.as_ref().ok_or_else(|| missing("start"))?, "start")?;
    let size_value = raw.size.as_ref().ok_or_else(|| missing("size"))?;
    let size = size_value
        .get_ref()
        .parse::<WindowSize>()
        .map_err(|m| fail(size_value.span(), &format!("{at}.size"), m))?;
    let until = match &raw.until {
        None => Until::Yesterday,
        Some(value) => match value.get_ref() {
            toml::Value::String(text) if text.eq_ignore_ascii_case("yesterday") => Until::Yesterday,
            toml::Value::String(text) if text.eq_ignore_ascii_case("today") => Until::Today,
            _ => Until::Date(date(value, "until")?),
        },
    };
    Ok(WindowSpec {
        field: id.to_owned(),
        field_type,
        start,
        size,
        until,
    })
}

/// `name` with every character but letters, digits, `-` and `_` made `_` (runs of them one).
pub fn file_stem(name: &str) -> String {
    let mut stem = String::with_capacity(name.len());
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            stem.push(c);
        } else if !stem.ends_with('_') {
            stem.push('_');
        }
    }
    let stem = stem.trim_matches('_');
    if stem.is_empty() {
        "report".to_owned()
    } else {
        stem.to_owned()
    }
}

const PLACEHOLDERS: [&str; 4] = ["{report}", "{start}", "{end}", "{ext}"];

fn check_template(out: &str, several: bool) -> Result<(), String> {
    let mut rest = out;
    while let Some(open) = rest.find('{') {
        let after = &rest[open..];
        let Some(placeholder) = PLACEHOLDERS.iter().find(|p| after.starts_with(**p)) else {
            return Err(format!(
                "{out:?} has an unknown placeholder at {:?}: use {{report}}, {{start}}, {{end}} and {{ext}}",
                after.chars().take(12).collect::<String>()
            ));
        };
        rest = &after[placeholder.len()..];
    }
    if !out.contains("{start}") {
        return Err(format!(
            "{out:?} must contain {{start}}, so windows get files of their own"
        ));
    }
    if several && !out.contains("{report}") {
        return Err(format!(
            "{out:?} must contain {{report}}, so reports get files of their own"
        ));
    }
    if out.trim().is_empty() || out.ends_with('/') {
        return Err("must name a file".to_owned());
    }
    Ok(())
}

/// `template` with its placeholders filled.
pub fn fill_template(
    template: &str,
    stem: &str,
    start: CivilDate,
    end: CivilDate,
    ext: &str,
) -> String {
    template
        .replace("{report}", stem)
        .replace("{start}", &start.to_string())
        .replace("{end}", &end.to_string())
        .replace("{ext}", ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PullSpec, JobsFileError> {
        parse_jobs(text, "jobs.toml", &mut |path| {
            if path == "eur.json" {
                Ok(r#"[{"logicalOperator":"AND","filterClauses":[{"field":{"id":"Account.Currency"},"operator":"=","value":"EUR"}]}]"#.to_owned())
            } else {
                Err(format!("cannot read {path}"))
            }
        })
    }

    const GOOD: &str = r#"
concurrency = 2
state = "state/pulls.json"
out = "out/{report}/{start}_{end}.{ext}"

[[report]]
name = "Invoice Detail"
filter = "@eur.json"
[report.window]
field = "Invoice.CreatedDate"
start = 2015-01-01
size = "1 month"
until = "2015-06-30"

[[report]]
id = "ff808081529f4e3401529fd373730070"
view = "summary"
"#;

    #[test]
    fn a_good_file() {
        let spec = parse(GOOD).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.concurrency, 2);
        assert_eq!(spec.state_line, 3);
        assert_eq!(spec.reports.len(), 2);
        assert_eq!(spec.reports[0].file_stem, "Invoice_Detail");
        assert_eq!(spec.reports[0].filters.len(), 1);
        assert_eq!(spec.reports[0].line, 6);
        assert_eq!(spec.reports[1].view, ViewType::Summary);
        let window = spec.reports[0].window.as_ref().map(|w| (w.size, w.until));
        assert_eq!(
            window,
            Some((
                WindowSize::Months(1),
                Until::Date(CivilDate::parse("2015-06-30").unwrap_or_else(|| panic!()))
            ))
        );
    }

    #[test]
    fn bad_files_name_line_and_key() {
        let cases = [
            (
                GOOD.replace("concurrency = 2", "concurency = 2"),
                2,
                "concurency",
            ),
            (
                GOOD.replace("\"1 month\"", "\"0 days\""),
                12,
                "report[1].window.size",
            ),
            (
                GOOD.replace("start = 2015-01-01", "start = \"soon\""),
                11,
                "report[1].window.start",
            ),
            (
                GOOD.replace(
                    "field = \"Invoice.CreatedDate\"",
                    "field = \"Invoice.CreatedDate\"\ntype = \"text\"",
                ),
                11,
                "report[1].window.type",
            ),
            (
                GOOD.replace("@eur.json", "@missing.json"),
                8,
                "report[1].filter",
            ),
            (GOOD.replace("{start}_", ""), 4, "out"),
            (GOOD.replace("{ext}", "{extension}"), 4, "out"),
        ];
        for (text, line, key) in cases {
            let error = parse(&text)
                .err()
                .unwrap_or_else(|| panic!("accepted: {text}"));
            assert_eq!((error.line, error.key.as_str()), (line, key), "{error}");
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("jobs.toml:{line}: {key}: ")),
                "{error}"
            );
        }
    }

    #[test]
    fn stems_are_safe() {
        assert_eq!(
            file_stem("Invoice Detail (EUR) / 2015"),
            "Invoice_Detail_EUR_2015"
        );
        assert_eq!(file_stem("../.."), "report");
    }
}
