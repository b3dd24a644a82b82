//! The Zuora operations: each builds its request and reads its answer, with no IO.

pub(crate) mod export_run;
pub(crate) mod operation;
pub(crate) mod report_runs;
pub(crate) mod request;
pub(crate) mod run_report;
pub(crate) mod token_request;

pub use export_run::ExportReportRun;
pub use operation::{Credential, NoToken, Operation, ResendSafety};
pub use report_runs::{
    CancelReportRun, DataPage, GetReportRun, LatestReportRun, ReportDataPage, ReportRun,
    ReportSummary, SEARCH_PAGE_SIZE, SearchPage, SearchReports, parse_timestamp,
    resolve_report_name,
};
pub use request::{CallOptions, REPORTING_PREFIX};
pub use run_report::{ReportRunStarted, RunReport};
pub use token_request::{Token, TokenRequest};
