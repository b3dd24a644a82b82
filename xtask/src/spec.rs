//! `cargo xtask spec-check`: every kind of request zuora-core builds, validated by an
//! independent validator (openapi-core) against `tests/spec/reporting-contract.json`, the
//! contract derived from Zuora's OpenAPI description of the Reporting operations.
//!
//! `cargo xtask spec-derive` makes that file from Zuora's YAML (kept outside the repository,
//! in `../shared/spec` on the project's own machines); where the YAML is present, the check
//! also proves the checked-in contract is current. A clone without it checks against the
//! contract alone.

use std::path::Path;
use std::process::Command;

use zuora_core::{
    Environment, ViewType, driver::HttpRequest, filters::FilterClause, filters::FilterGroup,
    filters::FilterOperator, operations::CallOptions, operations::CancelReportRun,
    operations::ExportReportRun, operations::GetReportRun, operations::LatestReportRun,
    operations::Operation, operations::ReportDataPage, operations::RunReport,
    operations::SearchReports, values::AccessToken,
};

use crate::run_command;

/// Zuora's own OpenAPI file: present on the project's machines, not in a user's clone.
const UPSTREAM_SPEC: &str = "../shared/spec/zuora-reporting-openapi.yaml";
/// The contract derived from it, checked in: what the requests are validated against.
const CONTRACT: &str = "tests/spec/reporting-contract.json";
/// The validator and the YAML reader the derivation uses, pinned.
const PYTHON_PACKAGES: [&str; 2] = ["openapi-core==0.23.1", "PyYAML==6.0.2"];

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
    let token = &token;
    add(
        "get run",
        GetReportRun::new(run.clone(), all_headers.clone()).to_request(&env, token),
    )?;
    add(
        "latest run",
        LatestReportRun::new(report.clone(), CallOptions::default()).to_request(&env, token),
    )?;
    add(
        "cancel run",
        CancelReportRun::new(run.clone(), CallOptions::default()).to_request(&env, token),
    )?;
    add(
        "search",
        SearchReports::new("Invoice Detail", CallOptions::default()).to_request(&env, token),
    )?;
    add(
        "search, second page",
        SearchReports::new("customer report".to_owned(), all_headers.clone())
            .starting_at(50)
            .to_request(&env, token),
    )?;
    add(
        "data page",
        ReportDataPage::first(run.clone(), 100, CallOptions::default()).to_request(&env, token),
    )?;
    add(
        "export",
        ExportReportRun::new(run, all_headers).to_request(&env, token),
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

/// A virtual environment with the validator, made once under the target directory.
fn python() -> Result<(std::path::PathBuf, std::path::PathBuf), String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| "target".into(), std::path::PathBuf::from);
    let venv = target.join("spec-venv");
    let python = venv.join("bin/python");
    let ready = venv.join(".installed");
    if !ready.exists() {
        run_command(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run_command(
            Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet"])
                .args(PYTHON_PACKAGES),
        )?;
        std::fs::write(&ready, PYTHON_PACKAGES.join("\n")).map_err(|e| e.to_string())?;
    }
    Ok((python, target))
}

/// `cargo xtask spec-derive [--check]`: writes the contract from Zuora's YAML, or (with
/// `--check`) fails if the checked-in one differs from what the YAML gives.
pub fn derive(check: bool) -> Result<(), String> {
    if !Path::new(UPSTREAM_SPEC).exists() {
        return Err(format!(
            "{UPSTREAM_SPEC} is not here: the contract can only be derived beside Zuora's file"
        ));
    }
    let (python, target) = python()?;
    let out = if check {
        target.join("reporting-contract.json")
    } else {
        CONTRACT.into()
    };
    run_command(
        Command::new(python)
            .arg("tests/spec/derive_contract.py")
            .arg(UPSTREAM_SPEC)
            .arg(&out),
    )?;
    if check {
        let fresh = std::fs::read(&out).map_err(|e| e.to_string())?;
        let committed = std::fs::read(CONTRACT).map_err(|e| format!("{CONTRACT}: {e}"))?;
        if fresh != committed {
            return Err(format!(
                "{CONTRACT} is out of date with {UPSTREAM_SPEC}: run `cargo xtask spec-derive`"
            ));
        }
        eprintln!("{CONTRACT} is current with {UPSTREAM_SPEC}");
    }
    Ok(())
}

pub fn check() -> Result<(), String> {
    if Path::new(UPSTREAM_SPEC).exists() {
        derive(true)?;
    } else {
        eprintln!("{UPSTREAM_SPEC} is not here: validating against the checked-in {CONTRACT}");
    }
    let (python, target) = python()?;
    let dump = target.join("spec-requests.json");
    std::fs::write(&dump, as_json(&requests()?)).map_err(|e| e.to_string())?;
    run_command(
        Command::new(python)
            .arg("tests/spec/check_requests.py")
            .arg(CONTRACT)
            .arg(&dump),
    )
}
