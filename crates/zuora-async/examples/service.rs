//! Service-style use: one client shared by concurrent tasks; clones share the token (one
//! task fetches it, the others wait) and the connection pool. Runs offline against an
//! in-process simulator.
//!
//! ```sh
//! cargo run -p zuora-async --example service
//! ```

use std::time::Duration;

use zuora_async::{Client, RetryPolicy, RunReportOptions, ViewType};
use zuora_sim::{SimConfig, Simulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = Simulator::start(SimConfig::default())?;
    let client = Client::builder()
        .base_url(sim.base_url())
        .credentials(sim.client_id(), sim.client_secret())
        .retry(RetryPolicy {
            max_attempts: 4,
            ..RetryPolicy::default()
        })
        .overall_timeout(Duration::from_secs(60))
        .user_agent("billing-service/1.0 zuora-rs")
        .build()?;
    let report = sim
        .report_by_name("Payments Detail")
        .ok_or("no such report")?
        .id;

    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let client = client.clone();
            let report = report.clone();
            tokio::spawn(async move {
                let track_id = format!("task-{task}").parse()?;
                let started = client
                    .run_report(
                        &report,
                        ViewType::Detail,
                        RunReportOptions::default().track_id(track_id),
                    )
                    .await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(started.report_run_id)
            })
        })
        .collect();
    for task in tasks {
        match task.await {
            Ok(Ok(run)) => println!("started run {run}"),
            Ok(Err(error)) => eprintln!("a call failed: {error}"),
            Err(error) => eprintln!("a task failed: {error}"),
        }
    }
    println!(
        "token requests: {} (shared by every task)",
        sim.token_requests()
    );
    Ok(())
}
