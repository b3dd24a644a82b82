//! The Reporting operations and `POST /oauth/token`, as the reference describes them.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Method, Response, StatusCode};
use serde_json::{Value, json};
use zuora_core::{ViewType, filters::parse_filter_groups, operations::REPORTING_PREFIX};

use crate::body::{ExportStream, SimBody};
use crate::catalogue::{Report, hex_id};
use crate::message::{SimRequest, SimResponse, percent_decode};
use crate::state::{Run, RunStatus, Shared};

/// Zuora returns at most 50 reports per search call (reference §4.7).
const SEARCH_PAGE: usize = 50;

/// Which operation a request is for; path parameters still percent-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Token,
    RunReport(String),
    GetRun(String),
    CancelRun(String),
    LatestRun(String),
    ReportData(String),
    Export(String),
    Search,
    TransferOwnership,
    WrongMethod,
    Unknown,
}

impl Route {
    pub fn of(method: &Method, path: &str) -> Self {
        if path == "/oauth/token" {
            return if method == Method::POST {
                Self::Token
            } else {
                Self::WrongMethod
            };
        }
        let Some(rest) = path.strip_prefix(REPORTING_PREFIX) else {
            return Self::Unknown;
        };
        let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        let one = |s: &str| s.to_owned();
        let (route, allowed) = match segments.as_slice() {
            ["reports", "search"] => (Self::Search, Method::GET),
            ["reports", "transfer-ownership"] => (Self::TransferOwnership, Method::POST),
            ["reports", id, "reportrun"] => (Self::RunReport(one(id)), Method::POST),
            ["reports", id, "reportruns", "latest"] => (Self::LatestRun(one(id)), Method::GET),
            ["reportruns", "reportdata", id] => (Self::ReportData(one(id)), Method::GET),
            ["reportruns", "export", id] => (Self::Export(one(id)), Method::GET),
            ["reportruns", id] if method == Method::DELETE => {
                (Self::CancelRun(one(id)), Method::DELETE)
            }
            ["reportruns", id] => (Self::GetRun(one(id)), Method::GET),
            _ => return Self::Unknown,
        };
        if *method == allowed {
            route
        } else {
            Self::WrongMethod
        }
    }
}

pub(crate) fn dispatch(
    shared: &Shared,
    route: Route,
    request: &SimRequest,
    key: Option<&str>,
) -> SimResponse {
    match route {
        Route::Token => token(shared, request),
        Route::RunReport(id) => run_report(shared, request, &percent_decode(&id), key),
        Route::GetRun(id) => get_run(shared, &percent_decode(&id)),
        Route::CancelRun(id) => cancel_run(shared, &percent_decode(&id)),
        Route::LatestRun(id) => latest_run(shared, &percent_decode(&id)),
        Route::ReportData(id) => report_data(shared, request, &percent_decode(&id)),
        Route::Export(id) => export(shared, request, &percent_decode(&id)),
        Route::Search => search(shared, request),
        Route::TransferOwnership => transfer_ownership(request),
        Route::WrongMethod => zan_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "ZAN-REST-ERROR",
            "Request method not supported.",
        ),
        Route::Unknown => zan_error(
            StatusCode::NOT_FOUND,
            "ZAN-REST-ERROR",
            "No handler found for this path.",
        ),
    }
}

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> SimResponse {
    let mut response = Response::new(SimBody::full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn success(response: Value) -> SimResponse {
    json_response(
        StatusCode::OK,
        json!({ "success": true, "response": response })
            .to_string()
            .into_bytes(),
    )
}

/// The Reporting ("ZAN") error: a JSON document inside the `response` string (§6.2).
pub(crate) fn zan_error(status: StatusCode, code: &str, message: &str) -> SimResponse {
    let error_id = format!(
        "{:08X}",
        message.len() as u32 ^ u32::from(status.as_u16()).rotate_left(16)
    );
    let inner = format!(
        "{{\n \"errorId\" : {},\n \"message\" : {},\n \"errorCode\" : {}\n}}",
        Value::from(error_id),
        Value::from(message),
        Value::from(code)
    );
    json_response(
        status,
        json!({ "success": false, "response": inner, "links": null })
            .to_string()
            .into_bytes(),
    )
}

fn usage_error(message: &str) -> SimResponse {
    zan_error(StatusCode::BAD_REQUEST, "ZAN-USAGE-REST-ERROR", message)
}

/// Sends half of the body, then breaks the connection.
pub(crate) fn cut_off(response: SimResponse) -> SimResponse {
    let (parts, body) = response.into_parts();
    let frames: VecDeque<Bytes> = match body {
        SimBody::Full(Some(bytes)) => VecDeque::from([bytes.slice(..bytes.len() / 2)]),
        SimBody::Export(mut stream) => {
            let first = stream.as_mut().take_at_least(512 * 1024);
            first.into()
        }
        _ => VecDeque::new(),
    };
    Response::from_parts(parts, SimBody::Truncated(frames))
}

pub(crate) fn authorized(shared: &Shared, headers: &HeaderMap, now: Duration) -> bool {
    let Some(token) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
    else {
        return false;
    };
    shared
        .lock()
        .tokens
        .get(token)
        .is_some_and(|expires| *expires > now)
}

fn token(shared: &Shared, request: &SimRequest) -> SimResponse {
    let form = crate::message::parse_query(&String::from_utf8_lossy(&request.body));
    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let now = shared.clock.elapsed();
    let mut state = shared.lock();
    state.token_requests += 1;
    let spring_error = |message: &str| {
        let body = json!({
            "timestamp": shared.clock.epoch_millis_at(now),
            "status": 400,
            "error": "Bad Request",
            "message": message,
            "path": "/oauth/token"
        });
        json_response(StatusCode::BAD_REQUEST, body.to_string().into_bytes())
    };
    if field("grant_type") != Some("client_credentials") {
        return spring_error("Unsupported grant type: only client_credentials is accepted");
    }
    if field("client_id") != Some(shared.client_id.as_str())
        || field("client_secret") != Some(shared.client_secret.as_str())
    {
        return spring_error("Invalid client id or client secret");
    }
    let access_token = state.rng.hex32();
    let jti = state.rng.hex32();
    let ttl = state.settings.token_ttl;
    // Expired tokens go as new ones come: a long-running simulator keeps only live ones.
    state.tokens.retain(|_, expires| *expires > now);
    state.tokens.insert(access_token.clone(), now + ttl);
    let used = state.token_requests;
    drop(state);
    let body = json!({
        "access_token": access_token,
        "expires_in": ttl.as_secs(),
        "jti": jti,
        "scope": "user.7c4d5433dc234c369a01b9719ecd059f entity.1a2b7a37-3e7d-4cb3-b0e2-883de9e766cc service.echo.read tenant.19",
        "token_type": "bearer"
    });
    let mut response = json_response(StatusCode::OK, body.to_string().into_bytes());
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit-minute", HeaderValue::from_static("100"));
    if let Ok(value) = HeaderValue::from_str(&100u64.saturating_sub(used % 100).to_string()) {
        headers.insert("x-ratelimit-remaining-minute", value);
    }
    response
}

fn run_report(
    shared: &Shared,
    request: &SimRequest,
    report_id: &str,
    key: Option<&str>,
) -> SimResponse {
    let Some(view_text) = request.query_value("viewType") else {
        return zan_error(
            StatusCode::BAD_REQUEST,
            "ZAN-REST-ERROR",
            "Required String parameter 'viewType' is not present.",
        );
    };
    let Ok(view_type) = view_text.parse::<ViewType>() else {
        return zan_error(
            StatusCode::BAD_REQUEST,
            "ZAN-REST-ERROR",
            "The value of viewType must be either Detail or Summary.",
        );
    };
    let body = String::from_utf8_lossy(&request.body);
    let filters = if body.trim().is_empty() {
        Vec::new()
    } else {
        match parse_filter_groups(&body) {
            Ok(filters) => filters,
            Err(err) => {
                return zan_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "ZAN-REST-ERROR",
                    &format!("Could not read JSON: {err}"),
                );
            }
        }
    };
    let now = shared.clock.elapsed();
    let mut state = shared.lock();
    let Some(report) = state.settings.catalogue.by_id(report_id).cloned() else {
        drop(state);
        return usage_error(&format!(
            "An error occurred. The report with ID {report_id} does not exist."
        ));
    };
    if report.view_type != view_type {
        return zan_error(
            StatusCode::BAD_REQUEST,
            "ZAN-REST-ERROR",
            &format!(
                "The report {} is a {} report; it cannot run with viewType {}.",
                report.name, report.view_type, view_type
            ),
        );
    }
    let run_id = hex_id(&mut state.rng).to_string();
    let timing = state.settings.run_timing;
    let time_limit = state.settings.run_time_limit;
    state.runs.insert(
        run_id.clone(),
        Run {
            id: run_id.clone(),
            report_id: report.id.to_string(),
            view_type,
            created: now,
            cancelled: None,
            outcome: report.outcome,
            timing,
            filters,
            time_limit,
        },
    );
    *state
        .runs_per_report
        .entry(report.id.to_string())
        .or_default() += 1;
    if let Some(key) = key {
        *state.runs_per_key.entry(key.to_owned()).or_default() += 1;
    }
    drop(state);
    success(json!({ "reportRunId": run_id }))
}

fn run_json(shared: &Shared, run: &Run, report: Option<&Report>) -> Value {
    let now = shared.clock.elapsed();
    let (status, since) = run.status_at(now);
    json!({
        "reportType": run.view_type.as_str(),
        "id": run.id,
        "reportId": run.report_id,
        "startedOn": shared.clock.epoch_millis_at(run.created),
        "status": status.as_str(),
        "reportDefinition": report.map(Report::definition).unwrap_or_default(),
        "updatedOn": shared.clock.epoch_millis_at(since),
    })
}

fn find_run(shared: &Shared, run_id: &str) -> Option<(Run, Option<Report>)> {
    let state = shared.lock();
    let run = state.runs.get(run_id)?.clone();
    let report = state.settings.catalogue.by_id(&run.report_id).cloned();
    Some((run, report))
}

fn get_run(shared: &Shared, run_id: &str) -> SimResponse {
    match find_run(shared, run_id) {
        Some((run, report)) => success(run_json(shared, &run, report.as_ref())),
        None => usage_error(&format!("The report run with ID {run_id} does not exist.")),
    }
}

fn cancel_run(shared: &Shared, run_id: &str) -> SimResponse {
    let now = shared.clock.elapsed();
    let mut state = shared.lock();
    let Some(run) = state.runs.get_mut(run_id) else {
        drop(state);
        return usage_error(&format!("The report run with ID {run_id} does not exist."));
    };
    match run.status_at(now).0 {
        RunStatus::Cancelled => success(json!("The report run was canceled")),
        status if status.in_progress() => {
            run.cancelled = Some(now);
            success(json!("The report run has been canceled"))
        }
        status => usage_error(&format!(
            "The report run cannot be canceled: its status is {}.",
            status.as_str()
        )),
    }
}

fn latest_run(shared: &Shared, report_id: &str) -> SimResponse {
    let now = shared.clock.elapsed();
    let latest = {
        let state = shared.lock();
        if state.settings.catalogue.by_id(report_id).is_none() {
            drop(state);
            return usage_error(&format!(
                "An error occurred. The report with ID {report_id} does not exist."
            ));
        }
        state
            .runs
            .values()
            .filter(|r| r.report_id == report_id && r.status_at(now).0 == RunStatus::Completed)
            .max_by_key(|r| r.created)
            .cloned()
            .map(|run| (run, state.settings.catalogue.by_id(report_id).cloned()))
    };
    match latest {
        Some((run, report)) => success(run_json(shared, &run, report.as_ref())),
        None => usage_error(
            "The current user has not run this report yet. Please run the report before retrying.",
        ),
    }
}

/// A completed run's report, or the error the route answers with.
fn completed_report(
    shared: &Shared,
    run_id: &str,
    unknown_message: &str,
) -> Result<(Report, Vec<zuora_core::filters::FilterGroup>), Box<SimResponse>> {
    let now = shared.clock.elapsed();
    let Some((run, report)) = find_run(shared, run_id) else {
        return Err(Box::new(usage_error(unknown_message)));
    };
    let status = run.status_at(now).0;
    match report {
        Some(report) if status == RunStatus::Completed => Ok((report, run.filters)),
        _ => Err(Box::new(usage_error(&format!(
            "The report run {run_id} is not completed (status {}); its results cannot be read.",
            status.as_str()
        )))),
    }
}

fn report_data(shared: &Shared, request: &SimRequest, run_id: &str) -> SimResponse {
    let number = |name: &str| -> Result<u64, SimResponse> {
        let text = request.query_value(name).ok_or_else(|| {
            zan_error(
                StatusCode::BAD_REQUEST,
                "ZAN-REST-ERROR",
                &format!("Required int parameter '{name}' is not present."),
            )
        })?;
        text.parse().map_err(|_| {
            zan_error(
                StatusCode::BAD_REQUEST,
                "ZAN-REST-ERROR",
                &format!("Parameter '{name}' must be an integer, not {text:?}."),
            )
        })
    };
    let (offset, page_size) = match (number("offset"), number("pageSize")) {
        (Ok(offset), Ok(page_size)) => (offset, page_size),
        (Err(response), _) | (_, Err(response)) => return response,
    };
    if page_size == 0 {
        return zan_error(
            StatusCode::BAD_REQUEST,
            "ZAN-REST-ERROR",
            "Parameter 'pageSize' must be at least 1.",
        );
    }
    let (report, filters) = match completed_report(
        shared,
        run_id,
        &format!("The report run with ID {run_id} does not exist."),
    ) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let columns = report.columns();
    // The run's rows: all of the report's, or those its filters let through.
    let rows: Vec<u64> = if filters.is_empty() {
        Vec::new()
    } else {
        (1..=report.rows)
            .filter(|&row| crate::filter::matches(&filters, columns, &report.row(row)))
            .collect()
    };
    let total = if filters.is_empty() {
        report.rows
    } else {
        rows.len() as u64
    };
    // The result is [header, row 1 … row N] and a page starts at index `offset`;
    // offset 0 acts as 1 (reference §4.5, §12.6).
    let first = offset.max(1);
    let last = first.saturating_add(page_size).min(total + 1);
    let page: Vec<Value> = (first..last)
        .map(|index| {
            let row = if filters.is_empty() {
                index
            } else {
                rows[(index - 1) as usize]
            };
            let values = report.row(row);
            let object: serde_json::Map<String, Value> = columns
                .iter()
                .zip(values)
                .map(|(column, value)| (column.id.to_owned(), Value::String(value)))
                .collect();
            Value::Object(object)
        })
        .collect();
    success(json!({ "page": page, "size": page_size, "offset": offset, "total": total }))
}

fn export(shared: &Shared, request: &SimRequest, run_id: &str) -> SimResponse {
    // `pivoted` is required in DEV/SPEC and defaults to false in KC: accept both.
    if let Some(pivoted) = request.query_value("pivoted")
        && pivoted != "true"
        && pivoted != "false"
    {
        return zan_error(
            StatusCode::BAD_REQUEST,
            "ZAN-REST-ERROR",
            "Parameter 'pivoted' must be true or false.",
        );
    }
    let (report, filters) = match completed_report(
        shared,
        run_id,
        "There are errors when exporting the report.",
    ) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let limit = shared.lock().settings.export_limit;
    if let Some(limit) = limit {
        let size = export_size(&report, &filters);
        if size > limit {
            return zan_error(
                StatusCode::GATEWAY_TIMEOUT,
                "ZAN-REST-ERROR",
                &format!("504 Gateway Time-out: the export of {size} bytes took too long."),
            );
        }
    }
    let ascii_name: String = report
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut response = Response::new(SimBody::Export(Box::new(
        ExportStream::new(report)
            .filtered(filters)
            .with_template_from(&shared.templates),
    )));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv;charset=utf-16"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii_name}.csv\""))
    {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    response
}

/// The export's size as sent (UTF-16 code units, two bytes each): header and rows, each
/// value's text, tabs and a line end (an estimate that ignores quoting, enough for a limit).
fn export_size(report: &Report, filters: &[zuora_core::filters::FilterGroup]) -> u64 {
    let columns = report.columns();
    let line = |values: &mut dyn Iterator<Item = &str>| -> u64 {
        values
            .map(|v| v.encode_utf16().count() as u64 + 1)
            .sum::<u64>()
            .saturating_add(1)
            .saturating_mul(2)
    };
    let header = line(&mut columns.iter().map(|c| c.label));
    (1..=report.rows)
        .map(|row| report.row(row))
        .filter(|values| filters.is_empty() || crate::filter::matches(filters, columns, values))
        .map(|values| line(&mut values.iter().map(String::as_str)))
        .fold(header, u64::saturating_add)
}

fn search(shared: &Shared, request: &SimRequest) -> SimResponse {
    let Some(query) = request.query_value("query") else {
        return zan_error(
            StatusCode::BAD_REQUEST,
            "ZAN-REST-ERROR",
            "Required String parameter 'query' is not present.",
        );
    };
    let start: usize = match request.query_value("searchStart").map(str::parse) {
        None => 0,
        Some(Ok(start)) => start,
        Some(Err(_)) => {
            return zan_error(
                StatusCode::BAD_REQUEST,
                "ZAN-REST-ERROR",
                "Parameter 'searchStart' must be an integer.",
            );
        }
    };
    let order = match request.query_value("orderBy").map(parse_order) {
        None => None,
        Some(Ok(order)) => Some(order),
        Some(Err(message)) => {
            return zan_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ZAN-REST-ERROR",
                &message,
            );
        }
    };
    let state = shared.lock();
    let mut found = state.settings.catalogue.search(query);
    if let Some((by_name, ascending)) = order {
        if by_name {
            found.sort_by_key(|a| a.name.to_lowercase());
        }
        if !ascending {
            found.reverse();
        }
    }
    let reports: Vec<Value> = found
        .iter()
        .skip(start)
        .take(SEARCH_PAGE)
        .map(|r| report_json(r))
        .collect();
    drop(state);
    let count = reports.len();
    success(json!({ "reports": reports, "count": count }))
}

/// `orderBy=[{"field":"name"|"updated_on","ascend":"true"|"false"}]` → (by name, ascending).
fn parse_order(text: &str) -> Result<(bool, bool), String> {
    let value: Value =
        serde_json::from_str(text).map_err(|err| format!("Could not read JSON: {err}"))?;
    let first = value
        .as_array()
        .and_then(|a| a.first())
        .ok_or("Could not read JSON: orderBy must be a non-empty array")?;
    let field = first.get("field").and_then(Value::as_str).unwrap_or("name");
    let ascend = first.get("ascend").and_then(|v| {
        v.as_str()
            .map(str::to_owned)
            .or_else(|| v.as_bool().map(|b| b.to_string()))
    });
    Ok((field != "updated_on", ascend.as_deref() != Some("false")))
}

fn report_json(report: &Report) -> Value {
    let user = "2c92c0f956bc8fcb0156f8eee04b4d54";
    let day = 1 + report.number.bytes().map(u32::from).sum::<u32>() % 28;
    let stamp = format!("2026-01-{day:02}T01:52:10+0000");
    json!({
        "createdBy": user, "updatedBy": user, "createdOn": stamp, "updatedOn": stamp,
        "id": report.id.as_str(), "deleted": false, "name": report.name, "number": report.number,
        "type": "Common", "datasource": report.source.name(), "dsName": report.source.name(),
        "namespace": "BASIC", "definition": report.definition(), "userId": user,
        "creator": "user@example.com", "updater": "user@example.com", "favorite": false,
        "shared": true, "zuora": false, "hidden": false, "description": report.description, "version": 1
    })
}

fn transfer_ownership(request: &SimRequest) -> SimResponse {
    let body: Value = match serde_json::from_slice(&request.body) {
        Ok(body) => body,
        Err(err) => {
            return zan_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ZAN-REST-ERROR",
                &format!("Could not read JSON: {err}"),
            );
        }
    };
    let has_owner = body
        .get("newOwnerUserId")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    let has_reports = body
        .get("reportNames")
        .or_else(|| body.get("reportIds"))
        .and_then(Value::as_array)
        .is_some();
    if !has_owner || !has_reports {
        let mut response = Response::new(SimBody::empty());
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    }
    success(json!("Transfer ownership successfully"))
}
