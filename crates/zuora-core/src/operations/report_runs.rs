//! Report runs and reports as Zuora describes them, and the read-side operations of the
//! report trip: get a run, the latest completed run, cancel, search, data pages.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;
use serde::Deserialize;
use serde_json::Value;

use crate::driver::transport::HttpRequest;
use crate::driver::transport::HttpResponse;
use crate::errors::error::Error;
use crate::operations::operation::Operation;
use crate::operations::operation::ResendSafety;
use crate::operations::request::{CallOptions, REPORTING_PREFIX, reporting_request};
use crate::responses::response::{
    ResponseError, ResponseErrorKind, ResponseLimits, ResponseMeta, parse_success,
};
use crate::values::environment::Environment;
use crate::values::ids::{ReportId, ReportRunId, ViewType, push_path_segment};
use crate::values::secret::AccessToken;
use crate::values::status::RunStatus;

/// One run of a report (*Retrieve a report run*, *Last completed run*).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReportRun {
    /// `id`.
    pub id: ReportRunId,
    /// `reportId` (also read as `reportID`).
    pub report_id: Option<ReportId>,
    /// `reportType`.
    pub report_type: Option<ViewType>,
    /// `status`.
    pub status: RunStatus,
    /// `startedOn` (epoch milliseconds or an ISO-8601 string).
    pub started_on: Option<SystemTime>,
    /// `updatedOn`: the last status change.
    pub updated_on: Option<SystemTime>,
    /// `reportDefinition`: the definition as a JSON document in a string.
    pub report_definition: Option<String>,
    /// Status, request id and limits of the answer that carried the run.
    pub meta: ResponseMeta,
}

impl ReportRun {
    fn from_json(value: &Value, meta: ResponseMeta) -> Result<Self, ResponseErrorKind> {
        let text = |key: &str| value.get(key).and_then(Value::as_str);
        let id = text("id").ok_or(ResponseErrorKind::MissingField { field: "id" })?;
        let id = ReportRunId::try_from(id).map_err(|source| ResponseErrorKind::InvalidField {
            field: "id",
            source,
        })?;
        let status = text("status").ok_or(ResponseErrorKind::MissingField { field: "status" })?;
        Ok(Self {
            id,
            report_id: text("reportId")
                .or_else(|| text("reportID"))
                .and_then(|t| t.parse().ok()),
            report_type: text("reportType").and_then(|t| t.parse().ok()),
            status: RunStatus::parse(status),
            started_on: value.get("startedOn").and_then(parse_timestamp),
            updated_on: value.get("updatedOn").and_then(parse_timestamp),
            report_definition: text("reportDefinition").map(str::to_owned),
            meta,
        })
    }
}

/// A timestamp as Zuora sends it: epoch milliseconds, or ISO-8601 such as
/// `2018-04-13T02:11:38.464+0000`, `2018-04-13T01:52:10+0000` or `…Z`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use zuora_core::operations::parse_timestamp;
/// let ms = UNIX_EPOCH + Duration::from_millis(1_453_166_692_000);
/// assert_eq!(parse_timestamp(&serde_json::json!(1453166692000u64)), Some(ms));
/// assert_eq!(parse_timestamp(&serde_json::json!("2016-01-19T01:24:52.000+0000")), Some(ms));
/// assert_eq!(parse_timestamp(&serde_json::json!("2016-01-19T02:24:52+01:00")), Some(ms));
/// assert_eq!(parse_timestamp(&serde_json::json!("yesterday")), None);
/// ```
pub fn parse_timestamp(value: &Value) -> Option<SystemTime> {
    if let Some(millis) = value.as_u64() {
        return UNIX_EPOCH.checked_add(Duration::from_millis(millis));
    }
    let text = value.as_str()?.trim();
    // Every byte of an ISO-8601 timestamp is ASCII; slicing by position needs that too.
    if !text.is_ascii() {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let separators_ok = text.get(4..5) == Some("-")
        && text.get(7..8) == Some("-")
        && matches!(text.get(10..11), Some("T" | " "))
        && text.get(13..14) == Some(":")
        && text.get(16..17) == Some(":");
    if !separators_ok
        || year < 1970
        || !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut nanos = 0u64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        let kept = &fraction[..digits.min(9)];
        nanos = kept.parse::<u64>().ok()? * 10u64.pow(9 - kept.len() as u32);
        rest = &fraction[digits..];
    }
    let offset_seconds: i64 = match rest {
        "" | "Z" | "z" => 0,
        zone => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 {
                return None;
            }
            let hours: i64 = digits[..2].parse().ok()?;
            let minutes: i64 = digits[2..].parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let utc = i64::try_from(local).ok()?.checked_sub(offset_seconds)?;
    let utc = u64::try_from(utc).ok()?;
    UNIX_EPOCH
        .checked_add(Duration::from_secs(utc))?
        .checked_add(Duration::from_nanos(nanos))
}

/// The URL of a Reporting path: `segments` are literal (`&str`) or identifiers to encode.
/// Hand-assembled rather than through the `url` crate: the base URL was validated once
/// ([`crate::values::BaseUrl`]), literal segments are constants, and every id and query value is
/// percent-encoded by [`push_path_segment`], so re-parsing the whole URL on every request
/// would check nothing new.
fn reporting_url(
    environment: &Environment,
    parts: &[PathPart<'_>],
    query: &[(&str, &str)],
) -> String {
    let mut url = String::with_capacity(128);
    url.push_str(environment.base_url());
    url.push_str(REPORTING_PREFIX);
    for part in parts {
        url.push('/');
        match part {
            PathPart::Literal(text) => url.push_str(text),
            PathPart::Id(id) => push_path_segment(&mut url, id),
        }
    }
    for (index, (name, value)) in query.iter().enumerate() {
        url.push(if index == 0 { '?' } else { '&' });
        url.push_str(name);
        url.push('=');
        push_path_segment(&mut url, value);
    }
    url
}

enum PathPart<'a> {
    Literal(&'a str),
    Id(&'a str),
}

fn get_request(
    url: String,
    token: &AccessToken,
    method: Method,
    options: &CallOptions,
) -> Result<HttpRequest, Error> {
    reporting_request(method, url, token, options, Vec::new())
}

/// Reads `{"success": true, "response": {…}}` into a run.
fn parse_run(response: &HttpResponse, limits: ResponseLimits) -> Result<ReportRun, ResponseError> {
    let (value, meta) = parse_success::<Value, _>(response, limits, "response")?;
    ReportRun::from_json(&value, meta.clone()).map_err(|kind| ResponseError::new(meta, kind))
}

/// *Retrieve a report run*: `GET /reportruns/{reportRunId}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetReportRun {
    pub(crate) run_id: ReportRunId,
    pub(crate) options: CallOptions,
}

impl GetReportRun {
    /// A look at `run_id` with `options`' headers.
    pub fn new(run_id: ReportRunId, options: CallOptions) -> Self {
        Self { run_id, options }
    }

    /// The run looked at.
    pub fn run_id(&self) -> &ReportRunId {
        &self.run_id
    }
}

impl Operation for GetReportRun {
    type Output = ReportRun;
    type Credential = AccessToken;
    fn name(&self) -> &'static str {
        "get_report_run"
    }
    fn resend_safety(&self) -> ResendSafety {
        ResendSafety::Idempotent
    }
    fn to_request(
        &self,
        environment: &Environment,
        token: &AccessToken,
    ) -> Result<HttpRequest, Error> {
        let url = reporting_url(
            environment,
            &[
                PathPart::Literal("reportruns"),
                PathPart::Id(self.run_id.as_str()),
            ],
            &[],
        );
        get_request(url, token, Method::GET, &self.options)
    }
    fn parse_response(
        &self,
        response: &HttpResponse,
        limits: ResponseLimits,
    ) -> Result<ReportRun, ResponseError> {
        let run = parse_run(response, limits)?;
        if run.id != self.run_id {
            // Never follow an answer about another run (it would be waited for and
            // downloaded in place of the one asked about).
            let kind = ResponseErrorKind::OtherRun {
                asked: self.run_id.clone(),
                answered: run.id.clone(),
            };
            return Err(ResponseError::new(run.meta, kind));
        }
        Ok(run)
    }
}

/// *Last completed run*: `GET /reports/{reportId}/reportruns/latest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestReportRun {
    pub(crate) report_id: ReportId,
    pub(crate) options: CallOptions,
}

impl LatestReportRun {
    /// The caller's last completed run of `report_id`, with `options`' headers.
    pub fn new(report_id: ReportId, options: CallOptions) -> Self {
        Self { report_id, options }
    }
}

impl Operation for LatestReportRun {
    type Output = ReportRun;
    type Credential = AccessToken;
    fn name(&self) -> &'static str {
        "latest_report_run"
    }
    fn resend_safety(&self) -> ResendSafety {
        ResendSafety::Idempotent
    }
    fn to_request(
        &self,
        environment: &Environment,
        token: &AccessToken,
    ) -> Result<HttpRequest, Error> {
        let parts = [
            PathPart::Literal("reports"),
            PathPart::Id(self.report_id.as_str()),
            PathPart::Literal("reportruns"),
            PathPart::Literal("latest"),
        ];
        get_request(
            reporting_url(environment, &parts, &[]),
            token,
            Method::GET,
            &self.options,
        )
    }
    fn parse_response(
        &self,
        response: &HttpResponse,
        limits: ResponseLimits,
    ) -> Result<ReportRun, ResponseError> {
        parse_run(response, limits)
    }
}

/// *Cancel a report run*: `DELETE /reportruns/{reportRunId}`; yields Zuora's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelReportRun {
    pub(crate) run_id: ReportRunId,
    pub(crate) options: CallOptions,
}

impl CancelReportRun {
    /// Cancels `run_id`, with `options`' headers.
    pub fn new(run_id: ReportRunId, options: CallOptions) -> Self {
        Self { run_id, options }
    }
}

impl Operation for CancelReportRun {
    type Output = String;
    type Credential = AccessToken;
    fn name(&self) -> &'static str {
        "cancel_report_run"
    }
    fn resend_safety(&self) -> ResendSafety {
        ResendSafety::Idempotent
    }
    fn to_request(
        &self,
        environment: &Environment,
        token: &AccessToken,
    ) -> Result<HttpRequest, Error> {
        let url = reporting_url(
            environment,
            &[
                PathPart::Literal("reportruns"),
                PathPart::Id(self.run_id.as_str()),
            ],
            &[],
        );
        get_request(url, token, Method::DELETE, &self.options)
    }
    fn parse_response(
        &self,
        response: &HttpResponse,
        limits: ResponseLimits,
    ) -> Result<String, ResponseError> {
        parse_success::<String, _>(response, limits, "response").map(|(message, _)| message)
    }
}

/// A report as *Search reports by name* lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ReportSummary {
    /// `id`, to run the report with.
    pub id: ReportId,
    /// `name`.
    pub name: String,
    /// `number`, such as `REP0000007`.
    #[serde(default)]
    pub number: Option<String>,
    /// `datasource`.
    #[serde(default)]
    pub datasource: Option<String>,
    /// `description`.
    #[serde(default)]
    pub description: Option<String>,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SearchPage {
    /// The reports of this page (at most 50).
    #[serde(default)]
    pub reports: Vec<ReportSummary>,
}

/// Zuora returns at most this many reports per search call.
pub const SEARCH_PAGE_SIZE: usize = 50;

/// *Search reports by name*: `GET /reports/search?query=…&searchStart=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchReports {
    /// The text searched for (words under 3 letters are ignored by Zuora).
    pub(crate) query: String,
    /// Results to skip: 0, 50, 100, …
    pub(crate) search_start: usize,
    pub(crate) options: CallOptions,
}

impl SearchReports {
    /// The first page of a search for `query`.
    pub fn new(query: impl Into<String>, options: CallOptions) -> Self {
        Self {
            query: query.into(),
            search_start: 0,
            options,
        }
    }

    /// The same search from result `start` on (0, 50, 100, …).
    pub fn starting_at(mut self, start: usize) -> Self {
        self.search_start = start;
        self
    }

    /// The next page after one of `got` reports; `None` when that page was the last
    /// (Zuora returns at most [`SEARCH_PAGE_SIZE`] per call).
    pub fn next_page(&self, got: usize) -> Option<Self> {
        (got >= SEARCH_PAGE_SIZE).then(|| Self {
            search_start: self.search_start + got,
            ..self.clone()
        })
    }
}

impl Operation for SearchReports {
    type Output = SearchPage;
    type Credential = AccessToken;
    fn name(&self) -> &'static str {
        "search_reports"
    }
    fn resend_safety(&self) -> ResendSafety {
        ResendSafety::Idempotent
    }
    fn validate(&self) -> Result<(), Error> {
        if self.query.trim().is_empty() {
            return Err(
                crate::values::invalid_input::InvalidInput::Empty { field: "query" }.into(),
            );
        }
        Ok(())
    }
    fn to_request(
        &self,
        environment: &Environment,
        token: &AccessToken,
    ) -> Result<HttpRequest, Error> {
        if self.query.trim().is_empty() {
            return Err(
                crate::values::invalid_input::InvalidInput::Empty { field: "query" }.into(),
            );
        }
        let start = self.search_start.to_string();
        let mut query = vec![("query", self.query.as_str())];
        if self.search_start > 0 {
            query.push(("searchStart", start.as_str()));
        }
        let parts = [PathPart::Literal("reports"), PathPart::Literal("search")];
        get_request(
            reporting_url(environment, &parts, &query),
            token,
            Method::GET,
            &self.options,
        )
    }
    fn parse_response(
        &self,
        response: &HttpResponse,
        limits: ResponseLimits,
    ) -> Result<SearchPage, ResponseError> {
        let (page, meta) = parse_success::<SearchPage, _>(response, limits, "reports")?;
        // What a search keeps is bounded by the answer, not by the page cap alone: a page of
        // more reports than Zuora sends, or a report whose texts are longer than any real
        // one, is refused (60 pages of 16 MiB would otherwise be held, about 1 GiB).
        let too_long = |field: &'static str, length: usize, max: usize| {
            ResponseError::new(
                meta.clone(),
                ResponseErrorKind::InvalidField {
                    field,
                    source: crate::values::invalid_input::InvalidInput::TooLong {
                        field,
                        length,
                        max,
                    },
                },
            )
        };
        if page.reports.len() > SEARCH_PAGE_SIZE {
            return Err(too_long("reports", page.reports.len(), SEARCH_PAGE_SIZE));
        }
        for report in &page.reports {
            let texts = [
                ("name", Some(&report.name)),
                ("number", report.number.as_ref()),
                ("datasource", report.datasource.as_ref()),
                ("description", report.description.as_ref()),
            ];
            for (field, text) in texts {
                let length = text.map_or(0, String::len);
                if length > MAX_REPORT_TEXT {
                    return Err(too_long(field, length, MAX_REPORT_TEXT));
                }
            }
        }
        Ok(page)
    }
}

/// The longest name, number, data source or description a search keeps of one report (in
/// bytes): Zuora's own limits are far lower.
pub const MAX_REPORT_TEXT: usize = 4096;

/// Picks the one report named exactly `name` from search results (Zuora's search is a
/// substring match, so a name can find several reports).
///
/// ```
/// use zuora_core::{Error, operations::resolve_report_name};
/// let found: Vec<zuora_core::operations::ReportSummary> = serde_json::from_str(
///     r#"[{"id":"a1","name":"Invoice Detail"},{"id":"b2","name":"Invoice Detail (copy)"}]"#,
/// )?;
/// assert_eq!(resolve_report_name("Invoice Detail", &found)?.id.as_str(), "a1");
/// assert!(matches!(resolve_report_name("Payments", &found), Err(Error::ReportNotFound { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn resolve_report_name<'a>(
    name: &str,
    found: &'a [ReportSummary],
) -> Result<&'a ReportSummary, Error> {
    let exact: Vec<&ReportSummary> = found.iter().filter(|r| r.name == name).collect();
    match exact.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::ReportNotFound {
            name: name.to_owned(),
        }),
        several => Err(Error::AmbiguousReportName {
            name: name.to_owned(),
            ids: several.iter().map(|r| r.id.clone()).collect(),
        }),
    }
}

/// One page of *Report data as JSON*.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataPage {
    /// Rows as `field id → value` objects, values as Zuora formats them (strings).
    pub rows: Vec<serde_json::Map<String, Value>>,
    /// `offset` echoed.
    pub offset: u64,
    /// `total` data rows of the run.
    pub total: Option<u64>,
}

/// *Report data as JSON*: `GET /reportruns/reportdata/{id}?offset=&pageSize=`. The result is
/// `[header, row 1 … row N]` and a page starts at index `offset`, so the first data row is at
/// offset 1 (reference §4.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportDataPage {
    pub(crate) run_id: ReportRunId,
    /// Index of the first row wanted (1 = the first data row).
    pub(crate) offset: u64,
    pub(crate) page_size: u64,
    pub(crate) options: CallOptions,
}

impl ReportDataPage {
    /// The first page of a run's rows (offset 1: the first data row).
    pub fn first(run_id: ReportRunId, page_size: u64, options: CallOptions) -> Self {
        Self {
            run_id,
            offset: 1,
            page_size,
            options,
        }
    }

    /// The same read from row `offset` on (1 = the first data row).
    pub fn at_offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// The index of the first row this page asks for (1 = the first data row).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next page after `page`, or `None` when it was the last: empty, short, or reaching
    /// `total`.
    pub fn next_page(&self, page: &DataPage) -> Option<Self> {
        let got = page.rows.len() as u64;
        let next = self.offset.max(1) + got;
        let more = got > 0 && got >= self.page_size && page.total.is_none_or(|total| next <= total);
        more.then(|| Self {
            offset: next,
            ..self.clone()
        })
    }
}

impl Operation for ReportDataPage {
    type Output = DataPage;
    type Credential = AccessToken;
    fn name(&self) -> &'static str {
        "report_data"
    }
    fn resend_safety(&self) -> ResendSafety {
        ResendSafety::Idempotent
    }
    fn validate(&self) -> Result<(), Error> {
        if self.page_size == 0 {
            return Err(crate::values::invalid_input::InvalidInput::Malformed {
                field: "pageSize",
                reason: "it must be at least 1".to_owned(),
            }
            .into());
        }
        Ok(())
    }
    fn to_request(
        &self,
        environment: &Environment,
        token: &AccessToken,
    ) -> Result<HttpRequest, Error> {
        if self.page_size == 0 {
            return Err(crate::values::invalid_input::InvalidInput::Malformed {
                field: "pageSize",
                reason: "it must be at least 1".to_owned(),
            }
            .into());
        }
        let (offset, size) = (self.offset.to_string(), self.page_size.to_string());
        let parts = [
            PathPart::Literal("reportruns"),
            PathPart::Literal("reportdata"),
            PathPart::Id(self.run_id.as_str()),
        ];
        let url = reporting_url(
            environment,
            &parts,
            &[("offset", &offset), ("pageSize", &size)],
        );
        get_request(url, token, Method::GET, &self.options)
    }
    fn parse_response(
        &self,
        response: &HttpResponse,
        limits: ResponseLimits,
    ) -> Result<DataPage, ResponseError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            page: Vec<serde_json::Map<String, Value>>,
            #[serde(default)]
            offset: Option<u64>,
            #[serde(default)]
            total: Option<u64>,
        }
        let (page, _) = parse_success::<Page, _>(response, limits, "page")?;
        Ok(DataPage {
            rows: page.page,
            offset: page.offset.unwrap_or(self.offset),
            total: page.total,
        })
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm),
/// for years from 1970 on.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
