//! Script-style use: run one report and print the run id.
//!
//! ```sh
//! cargo run -p zuora-async --example script                     # offline, simulated
//! ZUORA_BASE_URL=https://rest.apisandbox.zuora.com ZUORA_CLIENT_ID=… ZUORA_CLIENT_SECRET=… \
//!   cargo run -p zuora-async --example script -- <report-id>
//! ```

use std::process::ExitCode;

use zuora_async::{Client, RunReportOptions, ViewType};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // Without credentials in the environment, a simulator stands in for Zuora.
    let simulator = match std::env::var("ZUORA_BASE_URL") {
        Ok(_) => None,
        Err(_) => Some(zuora_sim::Simulator::start(zuora_sim::SimConfig::default())?),
    };
    let (base_url, client_id, client_secret, report_id) = match &simulator {
        Some(sim) => (
            sim.base_url().to_owned(),
            sim.client_id().to_owned(),
            sim.client_secret().to_owned(),
            sim.report_by_name("Invoice Detail")
                .map(|r| r.id.to_string())
                .unwrap_or_default(),
        ),
        None => (
            std::env::var("ZUORA_BASE_URL")?,
            std::env::var("ZUORA_CLIENT_ID")?,
            std::env::var("ZUORA_CLIENT_SECRET")?,
            std::env::args().nth(1).ok_or("usage: script <report-id>")?,
        ),
    };

    let client = Client::builder()
        .base_url(&base_url)
        .credentials(&client_id, &client_secret)
        .build()?;
    let started = client
        .run_report(
            &report_id.parse()?,
            ViewType::Detail,
            RunReportOptions::default().track_id("example-script".parse()?),
        )
        .await?;
    println!(
        "started run {} (Zuora-Request-Id {})",
        started.report_run_id,
        started.request_id().unwrap_or("-")
    );
    Ok(())
}
