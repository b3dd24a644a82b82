//! Every operation's answer parser: a result or a typed error, never a panic.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use zuora_core::{
    operations::CallOptions, operations::CancelReportRun, operations::ExportReportRun, operations::GetReportRun, operations::LatestReportRun, operations::Operation,
    operations::ReportDataPage, responses::ResponseLimits, operations::RunReport, operations::SearchReports, operations::TokenRequest,
};

fuzz_target!(|data: &[u8]| {
    let Some(response) = common::response(data) else {
        return;
    };
    let limits = ResponseLimits::default();
    let run: zuora_core::ReportRunId = "ff808081529f4e3401529fd61f080074".parse().unwrap();
    let options = CallOptions::default();
    let _ = TokenRequest::parse_response(&response, limits).map_err(|e| e.to_string());
    let _ = RunReport::parse_response(&response).map_err(|e| e.to_string());
    let _ = GetReportRun::new(run.clone(), options.clone())
    .parse_response(&response, limits)
    .map_err(|e| e.to_string());
    let _ = LatestReportRun::new("r".parse().unwrap(), options.clone())
    .parse_response(&response, limits)
    .map_err(|e| e.to_string());
    let _ = CancelReportRun::new(run.clone(), options.clone())
    .parse_response(&response, limits)
    .map_err(|e| e.to_string());
    let _ = SearchReports::new("x", options.clone()).parse_response(&response, limits);
    let _ =
        ReportDataPage::first(run.clone(), 10, options.clone()).parse_response(&response, limits);
    let _ = ExportReportRun::new(run, options)
    .parse_response(&response, limits);
});
