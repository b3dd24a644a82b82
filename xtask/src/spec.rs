//! `cargo xtask spec-check`: every kind of request zuora-core builds, validated against
//! Zuora's OpenAPI description (`../shared/spec`) by an independent validator (openapi-core).

use std::path::Path;
use std::process::Command;

use zuora_core::{
    AccessToken, CallOptions, CancelReportRun, Environment, ExportReportRun, FilterClause,
    FilterGroup, FilterOperator, GetReportRun, HttpRequest, LatestReportRun, Operation,
    ReportDataPage, RunReport, SearchReports, ViewType,
};

use crate::run_command;

const SPEC: &str = "../shared/spec/zuora-reporting-openapi.yaml";
const VALIDATOR: &str = "openapi-core==0.23.1";

fn requests() -> Result<Vec<(String, HttpRequest)>, String> {
    let env = Environment::UsCloud2Production; // the spec's server, https://rest.zuora.com
    let token = AccessToken::new("c652cbc0ea384b9f81856a93a2a74538").map_err(|e| e.to_string())?;
    let report: zuora_core::ReportId = "ff808081529f4e3401529fd373730070"
        .parse()
        .map_err(|e| format!("{e}"))?;
    let run = "ff808081529f4e3401529fd61f080074"
        .parse::<zuora_core::ReportRunId>()
        .map_err(|e| format!("{e}"))?;
    let all_headers = CallOptions {
        track_id: Some("nightly-invoices".parse().map_err(|e| format!("{e}"))?),
        entity_ids: Some(
            "1a2b7a37-3e7d-4cb3-b0e2-883de9e766cc"
                .parse()
                .map_err(|e| format!("{e}"))?,
        ),
        accept_gzip: true,
    };
    let filters = [FilterGroup::all([FilterClause::new(
        "Account.Status",
        "Text",
        FilterOperator::Equal,
        "Active",
    )])];
    let mut out = Vec::new();
    let mut add =
        |name: &str, built: Result<HttpRequest, zuora_core::Error>| -> Result<(), String> {
            out.push((name.to_owned(), built.map_err(|e| format!("{name}: {e}"))?));
            Ok(())
        };
    add(
        "run report, saved filters",
        RunReport::new(report.clone(), ViewType::Detail).to_request(&env, &token),
    )?;
    add(
        "run report, filters and every optional header",
        RunReport::new(report.clone(), ViewType::Summary)
            .filters(filters)
            .idempotency_key(
                "3f0c5d2e-6a47-4f0e-9d39-0c6b8f2e51aa"
                    .parse()
                    .map_err(|e| format!("{e}"))?,
            )
            .call_options(all_headers.clone())
            .to_request(&env, &token),
    )?;
    let token = Some(&token);
    add(
        "get run",
        GetReportRun {
            run_id: run.clone(),
            options: all_headers.clone(),
        }
        .to_request(&env, token),
    )?;
    add(
        "latest run",
        LatestReportRun {
            report_id: report.clone(),
            options: CallOptions::default(),
        }
        .to_request(&env, token),
    )?;
    add(
        "cancel run",
        CancelReportRun {
            run_id: run.clone(),
            options: CallOptions::default(),
        }
        .to_request(&env, token),
    )?;
    add(
        "search",
        SearchReports::new("Invoice Detail", CallOptions::default()).to_request(&env, token),
    )?;
    add(
        "search, second page",
        SearchReports {
            query: "customer report".to_owned(),
            search_start: 50,
            options: all_headers.clone(),
        }
        .to_request(&env, token),
    )?;
    add(
        "data page",
        ReportDataPage::first(run.clone(), 100, CallOptions::default()).to_request(&env, token),
    )?;
    add(
        "export",
        ExportReportRun {
            run_id: run,
            pivoted: false,
            options: all_headers,
        }
        .to_request(&env, token),
    )?;
    Ok(out)
}

fn as_json(requests: &[(String, HttpRequest)]) -> String {
    let list: Vec<serde_json::Value> = requests
        .iter()
        .map(|(name, request)| {
            let headers: serde_json::Map<String, serde_json::Value> = request
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned().into(),
                    )
                })
                .collect();
            serde_json::json!({
                "name": name,
                "method": request.method().as_str(),
                "url": request.uri().to_string(),
                "headers": headers,
                "body": String::from_utf8_lossy(request.body()),
            })
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}

pub fn check() -> Result<(), String> {
    if !Path::new(SPEC).exists() {
        return Err(format!(
            "{SPEC} is missing: the shared folder must sit beside the checkout"
        ));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| "target".into(), std::path::PathBuf::from);
    let venv = target.join("spec-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        run_command(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run_command(Command::new(venv.join("bin/pip")).args(["install", "--quiet", VALIDATOR]))?;
    }
    let dump = target.join("spec-requests.json");
    std::fs::write(&dump, as_json(&requests()?)).map_err(|e| e.to_string())?;
    run_command(
        Command::new(python)
            .arg("tests/spec/check_requests.py")
            .arg(SPEC)
            .arg(&dump),
    )
}
