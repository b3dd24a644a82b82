//! Shared helpers for the workspace-level tests: one client interface over both transports,
//! so every scenario runs for `zuora-async` and `zuora-blocking` alike.

use std::time::Duration;

pub mod hostile;

use zuora_core::{
    ClientBuilder, ClientConfig, Error, ReportId, RetryPolicy, RunReportOptions, ViewType,
    config::BuildClient, operations::Operation, operations::ReportRunStarted,
};
use zuora_sim::Simulator;

/// Which transport a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `zuora-async` (reqwest + tokio).
    Async,
    /// `zuora-blocking` (ureq).
    Blocking,
}

/// A client of either transport behind one synchronous interface.
#[derive(Debug, Clone)]
pub enum AnyClient {
    /// An async client, driven on a runtime of its own.
    Async(zuora_async::Client, std::sync::Arc<tokio::runtime::Runtime>),
    /// A blocking client.
    Blocking(zuora_blocking::Client),
}

impl AnyClient {
    /// A client of `flavor` from a configuration.
    pub fn new(flavor: Flavor, config: ClientConfig) -> Result<Self, Error> {
        Ok(match flavor {
            Flavor::Async => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .map_err(|e| zuora_core::errors::InvalidInput::Malformed {
                        field: "runtime",
                        reason: e.to_string(),
                    })?;
                Self::Async(
                    zuora_async::Client::from_config(config)?,
                    std::sync::Arc::new(runtime),
                )
            }
            Flavor::Blocking => Self::Blocking(zuora_blocking::Client::from_config(config)?),
        })
    }

    /// *Run a report*.
    pub fn run_report(
        &self,
        report_id: &ReportId,
        view_type: ViewType,
        options: RunReportOptions,
    ) -> Result<ReportRunStarted, Error> {
        match self {
            Self::Async(client, runtime) => {
                runtime.block_on(client.run_report(report_id, view_type, options))
            }
            Self::Blocking(client) => client.run_report(report_id, view_type, options),
        }
    }

    /// Any operation.
    pub fn execute<O: Operation + Send>(&self, operation: O) -> Result<O::Output, Error>
    where
        O::Output: Send,
    {
        match self {
            Self::Async(client, runtime) => runtime.block_on(client.execute(operation)),
            Self::Blocking(client) => client.execute(operation),
        }
    }

    /// `n` *Run a report* calls at once (tasks or threads), all results.
    pub fn run_report_concurrently(
        &self,
        n: usize,
        report_id: &ReportId,
        view_type: ViewType,
    ) -> Vec<Result<ReportRunStarted, Error>> {
        match self {
            Self::Async(client, runtime) => runtime.block_on(async {
                let tasks: Vec<_> = (0..n)
                    .map(|_| {
                        let client = client.clone();
                        let report_id = report_id.clone();
                        tokio::spawn(async move {
                            client
                                .run_report(&report_id, view_type, RunReportOptions::default())
                                .await
                        })
                    })
                    .collect();
                let mut results = Vec::with_capacity(n);
                for task in tasks {
                    match task.await {
                        Ok(result) => results.push(result),
                        Err(join) => panic!("a task panicked: {join}"),
                    }
                }
                results
            }),
            Self::Blocking(client) => std::thread::scope(|scope| {
                let threads: Vec<_> = (0..n)
                    .map(|_| {
                        scope.spawn(|| {
                            client.run_report(report_id, view_type, RunReportOptions::default())
                        })
                    })
                    .collect();
                threads
                    .into_iter()
                    .map(|t| t.join().unwrap_or_else(|_| panic!("a thread panicked")))
                    .collect()
            }),
        }
    }

    /// Every report matching `query`, all pages.
    pub fn search_reports(
        &self,
        query: &str,
    ) -> Result<Vec<zuora_core::operations::ReportSummary>, Error> {
        match self {
            Self::Async(client, runtime) => runtime.block_on(client.search_reports(query)),
            Self::Blocking(client) => client.search_reports(query),
        }
    }

    /// The one report named exactly `name`.
    pub fn find_report(&self, name: &str) -> Result<zuora_core::operations::ReportSummary, Error> {
        match self {
            Self::Async(client, runtime) => runtime.block_on(client.find_report(name)),
            Self::Blocking(client) => client.find_report(name),
        }
    }

    /// Waits for a run.
    pub fn wait_for_run(
        &self,
        run_id: &zuora_core::ReportRunId,
        options: zuora_core::WaitOptions,
    ) -> Result<zuora_core::ReportRun, Error> {
        match self {
            Self::Async(client, runtime) => runtime.block_on(client.wait_for_run(run_id, options)),
            Self::Blocking(client) => client.wait_for_run(run_id, options),
        }
    }

    /// Every row of a run, through the transport's pager.
    pub fn all_rows(
        &self,
        run_id: &zuora_core::ReportRunId,
        page_size: u64,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, Error> {
        match self {
            Self::Async(client, runtime) => runtime.block_on(async {
                use futures_util::StreamExt as _;
                let rows: Vec<Result<_, Error>> =
                    client.rows(run_id, page_size).into_stream().collect().await;
                rows.into_iter().collect()
            }),
            Self::Blocking(client) => client.rows(run_id, page_size).collect(),
        }
    }

    /// Downloads an export into memory.
    pub fn download_export(
        &self,
        run_id: &zuora_core::ReportRunId,
        format: zuora_core::ExportFormat,
    ) -> Result<(zuora_core::ExportSummary, Vec<u8>), Error> {
        self.download_export_into(run_id, format, Vec::new())
    }

    /// Downloads an export into a [`Meter`], which keeps only its size and largest write.
    pub fn download_export_metered(
        &self,
        run_id: &zuora_core::ReportRunId,
        format: zuora_core::ExportFormat,
    ) -> Result<(zuora_core::ExportSummary, Meter), Error> {
        self.download_export_into(run_id, format, Meter::default())
    }

    /// Downloads an export into `out`, a writer either transport takes.
    fn download_export_into<W>(
        &self,
        run_id: &zuora_core::ReportRunId,
        format: zuora_core::ExportFormat,
        mut out: W,
    ) -> Result<(zuora_core::ExportSummary, W), Error>
    where
        W: std::io::Write + tokio::io::AsyncWrite + Unpin + Send,
    {
        let summary = match self {
            Self::Async(client, runtime) => {
                runtime.block_on(client.download_export(run_id, format, &mut out))
            }
            Self::Blocking(client) => client.download_export(run_id, format, &mut out),
        }?;
        Ok((summary, out))
    }

    /// Reads an export through the transport's source (`Read` for blocking, `Stream` for
    /// async) into memory.
    pub fn read_export_source(
        &self,
        run_id: &zuora_core::ReportRunId,
        format: zuora_core::ExportFormat,
    ) -> Result<Vec<u8>, Error> {
        match self {
            Self::Async(client, runtime) => runtime.block_on(async {
                use futures_util::StreamExt as _;
                let stream = client.open_export(run_id, format).await?.into_stream();
                let chunks: Vec<Result<_, Error>> = stream.collect().await;
                let mut out = Vec::new();
                for chunk in chunks {
                    out.extend_from_slice(&chunk?);
                }
                Ok(out)
            }),
            Self::Blocking(client) => {
                let mut reader = client.open_export(run_id, format)?;
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut reader, &mut out)
                    .map_err(|error| Error::from_io(error).unwrap_or_else(Error::output))?;
                Ok(out)
            }
        }
    }

    /// The whole trip: resolve, run, wait, download into memory.
    pub fn run_and_download(
        &self,
        report: &zuora_core::ReportRef,
        view_type: ViewType,
        wait: zuora_core::WaitOptions,
        format: zuora_core::ExportFormat,
    ) -> Result<(zuora_core::ReportRun, Vec<u8>), Error> {
        let mut out = Vec::new();
        let (run, _) = match self {
            Self::Async(client, runtime) => runtime.block_on(client.run_and_download(
                report,
                view_type,
                RunReportOptions::default(),
                wait,
                format,
                &mut out,
            )),
            Self::Blocking(client) => client.run_and_download(
                report,
                view_type,
                RunReportOptions::default(),
                wait,
                format,
                &mut out,
            ),
        }?;
        Ok((run, out))
    }

    /// The client's `Debug` text.
    pub fn debug_text(&self) -> String {
        match self {
            Self::Async(client, _) => format!("{client:?}"),
            Self::Blocking(client) => format!("{client:?}"),
        }
    }
}

/// The default retry policy with a 10 ms first backoff instead of 1 s.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_base_delay(Duration::from_millis(10))
        .unwrap_or_default()
}

/// A builder aimed at `sim` with its credentials and quick retries (10 ms base backoff).
pub fn builder_for(sim: &Simulator) -> ClientBuilder<ClientConfig> {
    ClientConfig::builder()
        .base_url(sim.base_url())
        .credentials(sim.client_id(), sim.client_secret())
        .retry(quick_retries())
        .attempt_timeout(Duration::from_secs(20))
}

/// A client of `flavor` for `sim`, as [`builder_for`] configures it.
pub fn client_for(flavor: Flavor, sim: &Simulator) -> AnyClient {
    client_with(flavor, builder_for(sim))
}

/// A builder aimed at a hostile server, with quick retries.
pub fn builder_for_hostile(server: &hostile::HostileServer) -> ClientBuilder<ClientConfig> {
    ClientConfig::builder()
        .base_url(server.base_url())
        .credentials(hostile::CLIENT_ID, "any-secret")
        .retry(quick_retries())
}

/// A client of `flavor` from a builder.
pub fn client_with(flavor: Flavor, builder: ClientBuilder<ClientConfig>) -> AnyClient {
    match builder
        .into_config()
        .and_then(|config| AnyClient::new(flavor, config))
    {
        Ok(client) => client,
        Err(error) => panic!("cannot build a {flavor:?} client: {error}"),
    }
}

/// An independent RFC 4180 reader (CRLF record ends): the oracle the converters' CSV is
/// checked against.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    records
}

/// `GET /sim/stats` of the simulator at `base_url`, read over a plain socket (from outside,
/// as the simulator's own counters: runs started, peak running, duplicates).
///
/// # Panics
///
/// The simulator does not answer with JSON (a test fails).
#[allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test fails.
pub fn sim_stats(base_url: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let address = base_url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET /sim/stats HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    serde_json::from_str(body.trim()).expect("/sim/stats answers JSON")
}

/// A writer that keeps nothing but how much it was given and the largest single write: what
/// a driver held at once.
#[derive(Debug, Default)]
pub struct Meter {
    /// Bytes written.
    pub total: u64,
    /// The largest single write.
    pub largest: usize,
}

impl Meter {
    fn take(&mut self, bytes: &[u8]) -> usize {
        self.total += bytes.len() as u64;
        self.largest = self.largest.max(bytes.len());
        bytes.len()
    }
}

impl std::io::Write for Meter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        Ok(self.take(bytes))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncWrite for Meter {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        bytes: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Ok(self.get_mut().take(bytes)))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
