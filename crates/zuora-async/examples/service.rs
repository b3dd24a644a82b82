//! Service-style use: one client shared by concurrent tasks; clones share the token (one
//! task fetches it, the others wait) and the connection pool. Then a small HTTP service
//! (hyper) that answers `GET /reports/payments.csv` with a report's CSV, streamed through
//! [`Client::export_stream`] as the response body: a download that breaks half way aborts
//! the response instead of ending it as a short, "successful" CSV. Runs offline against an
//! in-process simulator.
//!
//! ```sh
//! cargo run -p zuora-async --example service
//! ```

use std::time::Duration;

use futures_util::StreamExt as _;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use zuora_async::{
    Client, ExportFormat, ReportId, RetryPolicy, RunReportOptions, ViewType, WaitOptions,
};
use zuora_sim::{SimConfig, Simulator};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
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

    // The service: each request runs the report, waits for it and streams its CSV.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let serving = client.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (client, report) = (serving.clone(), report.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_request| {
                    let (client, report) = (client.clone(), report.clone());
                    async move { csv_response(&client, &report).await }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });

    // A caller of the service.
    let url = format!("http://{address}/reports/payments.csv");
    // (zuora-async installed its TLS provider when the client was built above.)
    let answer = reqwest::get(&url).await?.error_for_status()?;
    let csv = answer.text().await?;
    let rows = csv.lines().count();
    println!("GET {url}: {} bytes of CSV, {rows} lines", csv.len());
    Ok(())
}

type Body = http_body_util::combinators::BoxBody<bytes::Bytes, zuora_async::Error>;

/// The report's CSV as a streamed response body; an error before the first byte is a 502.
async fn csv_response(
    client: &Client,
    report: &ReportId,
) -> Result<hyper::Response<Body>, std::convert::Infallible> {
    let export = async {
        let started = client
            .run_report(report, ViewType::Detail, RunReportOptions::default())
            .await?;
        let run = client
            .wait_for_run(&started.report_run_id, WaitOptions::default())
            .await?;
        client.export_stream(&run.id, ExportFormat::Csv).await
    };
    let response = match export.await {
        Ok(export) => {
            // Each chunk becomes a frame; an `Err` item makes hyper abort the response.
            let frames = export.into_stream().map(|chunk| chunk.map(Frame::data));
            hyper::Response::builder()
                .header("content-type", "text/csv; charset=utf-8")
                .body(BodyExt::boxed(StreamBody::new(frames)))
        }
        Err(error) => hyper::Response::builder().status(502).body(
            http_body_util::Full::new(bytes::Bytes::from(error.to_string()))
                .map_err(|never| match never {})
                .boxed(),
        ),
    };
    Ok(response.unwrap_or_else(|_| {
        hyper::Response::new(
            http_body_util::Empty::new()
                .map_err(|never| match never {})
                .boxed(),
        )
    }))
}
