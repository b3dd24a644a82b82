//! Script-style use with tokio: run several reports at once, wait for each, and print how
//! each ended.
//!
//! ```sh
//! cargo run -p zuora-async --example async_script                        # offline, simulated
//! ZUORA_BASE_URL=https://rest.apisandbox.zuora.com ZUORA_CLIENT_ID=… ZUORA_CLIENT_SECRET=… \
//!   cargo run -p zuora-async --example async_script -- <report-id> [<report-id>…]
//! ```

use zuora_async::{Client, ReportId, ReportRun, RunReportOptions, ViewType, WaitOptions};
use zuora_sim::{Tenant, TenantError};

#[tokio::main]
async fn main() -> Result<(), TenantError> {
    // Without ZUORA_BASE_URL in the environment, a simulator stands in for Zuora.
    let tenant = Tenant::from_env()?;
    let client: Client = tenant.client_builder().build()?;
    let reports = tenant.reports(&["Invoice Detail", "Payments Detail"])?;
    // One task a report; the clones share the token (fetched once) and the connections.
    let runs: Vec<_> = reports
        .into_iter()
        .map(|report| tokio::spawn(run_and_wait(client.clone(), report)))
        .collect();
    for run in runs {
        match run.await? {
            Ok(run) => println!("run {} ended {}", run.id, run.status),
            Err(error) => eprintln!("a run failed: {error}"),
        }
    }
    Ok(())
}

async fn run_and_wait(client: Client, report: ReportId) -> Result<ReportRun, zuora_async::Error> {
    let started = client
        .run_report(&report, ViewType::Detail, RunReportOptions::default())
        .await?;
    client
        .wait_for_run(&started.report_run_id, WaitOptions::default())
        .await
}
