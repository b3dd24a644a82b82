//! Service-style use: one client shared by worker threads; clones share the token (fetched
//! once) and the connection pool. Runs offline against an in-process simulator.
//!
//! ```sh
//! cargo run -p zuora-blocking --example blocking_service
//! ```

use std::time::Duration;

use zuora_blocking::{Client, RetryPolicy, RunReportOptions, ViewType};
use zuora_sim::{SimConfig, Simulator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = Simulator::start(SimConfig::default())?;
    let client = Client::builder()
        .base_url(sim.base_url())
        .credentials(sim.client_id(), sim.client_secret())
        .retry(RetryPolicy::default().with_max_attempts(4)?)
        .overall_timeout(Duration::from_secs(60))
        .user_agent("billing-service/1.0 zuora-rs")
        .build()?;
    let report = sim
        .report_by_name("Payments Detail")
        .ok_or("no such report")?
        .id;

    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let client = client.clone();
            let report = report.clone();
            std::thread::spawn(move || {
                let track_id = format!("worker-{worker}").parse()?;
                let started = client.run_report(
                    &report,
                    ViewType::Detail,
                    RunReportOptions::default().track_id(track_id),
                )?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(started.report_run_id)
            })
        })
        .collect();
    for worker in workers {
        match worker.join() {
            Ok(Ok(run)) => println!("started run {run}"),
            Ok(Err(error)) => eprintln!("a call failed: {error}"),
            Err(_) => eprintln!("a worker panicked"),
        }
    }
    println!(
        "token requests: {} (shared by every worker)",
        sim.token_requests()
    );
    Ok(())
}
