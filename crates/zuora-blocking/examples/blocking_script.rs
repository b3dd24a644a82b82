//! Script-style use: run a report and print the run's id.
//!
//! ```sh
//! cargo run -p zuora-blocking --example blocking_script                     # offline, simulated
//! ZUORA_BASE_URL=https://rest.apisandbox.zuora.com ZUORA_CLIENT_ID=… ZUORA_CLIENT_SECRET=… \
//!   cargo run -p zuora-blocking --example blocking_script -- <report-id>
//! ```

use zuora_blocking::{Client, RunReportOptions, ViewType};
use zuora_sim::{Tenant, TenantError};

fn main() -> Result<(), TenantError> {
    // Without ZUORA_BASE_URL in the environment, a simulator stands in for Zuora.
    let tenant = Tenant::from_env()?;
    let client: Client = tenant.client_builder().build()?;
    for report in tenant.reports(&["Invoice Detail"])? {
        let options = RunReportOptions::default().track_id("example-script".parse()?);
        let started = client.run_report(&report, ViewType::Detail, options)?;
        let request_id = started.request_id().unwrap_or("-");
        println!(
            "started run {} (Zuora-Request-Id {request_id})",
            started.report_run_id
        );
    }
    Ok(())
}
