//! Service-style use: a small HTTP service (hyper) that answers `GET /reports/payments.csv`
//! with a report's CSV, streamed through
//! [`Client::open_export`](zuora_async::client::Client::open_export) as the response body: a
//! download that breaks half way aborts the response instead of ending it as a short,
//! "successful" CSV. Every request is served by a clone of one client: the clones share the
//! token (one request fetches it, the others wait) and the connection pool. Runs offline
//! against an in-process simulator.
//!
//! ```sh
//! cargo run -p zuora-async --example async_service
//! ```

use std::time::Duration;

use futures_util::StreamExt as _;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use zuora_async::{Client, ExportFormat, ReportId, RunReportOptions, ViewType, WaitOptions};
use zuora_sim::{Tenant, TenantError};

#[tokio::main]
async fn main() -> Result<(), TenantError> {
    let tenant = Tenant::simulated()?;
    let client: Client = tenant
        .client_builder()
        .overall_timeout(Duration::from_secs(60))
        .user_agent("reports-gateway/1.0 zuora-rs")
        .build()?;
    let report = tenant.reports(&["Payments Detail"])?.remove(0);

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

    // Callers of the service, four at once.
    let url = format!("http://{address}/reports/payments.csv");
    // (zuora-async installed its TLS provider when the client was built above.)
    let gets = (0..4).map(|_| async {
        let answer = reqwest::get(&url).await?.error_for_status()?;
        answer.text().await
    });
    for csv in futures_util::future::join_all(gets).await {
        let csv = csv?;
        println!(
            "GET {url}: {} bytes of CSV, {} lines",
            csv.len(),
            csv.lines().count()
        );
    }
    if let Some(sim) = tenant.simulator() {
        println!(
            "token requests: {} (shared by every request)",
            sim.token_requests()
        );
    }
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
        client.open_export(&run.id, ExportFormat::Csv).await
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
