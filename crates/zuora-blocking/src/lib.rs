#![doc = include_str!("../README.md")]

mod transport;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

pub use transport::{UreqBody, UreqTransport};
/// The ureq this crate is built with, for [`Client::with_ureq_agent`].
pub use ureq;
use zuora_core::operations::Operation;
/// Everything of the core a user names: the common job at the root, the rest in modules
/// named for what they hold ([`values`], [`operations`], [`machines`], [`policies`],
/// [`responses`], [`exports`], [`filters`], [`errors`], [`driver`], [`defaults`]).
pub use zuora_core::*;
use zuora_core::{
    driver::BuildClient, driver::SyncTransport, driver::TransportFailure, machines::Call,
    machines::Step, values::AccessToken,
};
use zuora_core::{
    driver::SyncStreamingTransport, driver::TransportErrorKind, machines::Download,
    machines::ExportHead,
};

impl BuildClient for Client {
    fn from_config(config: ClientConfig) -> Result<Self, Error> {
        let transport = UreqTransport::new(&config);
        Ok(Self::with_transport(config, transport))
    }
}

impl Client {
    /// A client over your own `ureq::Agent` (a corporate CA, a proxy, connection reuse);
    /// see [`UreqTransport::with_agent`].
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = zuora_blocking::ClientConfig::builder()
    ///     .environment(zuora_blocking::Environment::UsCloud2ApiSandbox)
    ///     .credentials("client-id", "client-secret")
    ///     .into_config()?;
    /// use zuora_blocking::ureq; // the ureq this crate is built with
    /// let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    /// let client = zuora_blocking::Client::with_ureq_agent(config, agent);
    /// # Ok(()) }
    /// ```
    pub fn with_ureq_agent(config: ClientConfig, agent: ureq::Agent) -> Self {
        let transport = UreqTransport::with_agent(agent, &config);
        Self::with_transport(config, transport)
    }
}

impl<T: SyncTransport> Client<T> {
    /// [`execute`](Self::execute), the whole call cut to `budget`.
    fn execute_within<O: Operation>(
        &self,
        operation: O,
        budget: Duration,
    ) -> Result<O::Output, Error> {
        let finished = self.drive(
            operation,
            self.inner.entropy.next_u64(),
            budget,
            |request| {
                self.inner
                    .transport
                    .send(request)
                    .map(Sent::<()>::Answer)
                    .map_err(|e| TransportFailure::from_error(&e))
            },
        )?;
        match finished {
            Finished::Output(output) => Ok(output),
            Finished::Stream(()) => Err(Error::RequestBuild {
                reason: "unreachable: no stream was asked for".to_owned(),
            }),
        }
    }

    /// The one loop every call goes through: the core decides, this sends, sleeps and
    /// fetches tokens. `send` returns a whole answer for the core to read, or a stream that
    /// ends the loop (a successful export).
    fn drive<O: Operation, S>(
        &self,
        operation: O,
        seed: u64,
        budget: Duration,
        mut send: impl FnMut(zuora_core::driver::HttpRequest) -> Result<Sent<S>, TransportFailure>,
    ) -> Result<Finished<O::Output, S>, Error> {
        let span = tracing::info_span!("zuora.call", operation = operation.name());
        let _entered = span.enter();
        let mut call = Call::new(operation, &self.inner.config, now(), seed).within(budget);
        let mut step = call.start();
        loop {
            step = match step {
                Step::NeedToken { refresh } => {
                    let stale = if refresh {
                        call.stale_token().cloned()
                    } else {
                        None
                    };
                    call.with_token(self.token(stale.as_ref(), budget)?)
                }
                Step::Send(request) => match send(request) {
                    Ok(Sent::Answer(response)) => call.on_response(response, now()),
                    Ok(Sent::Stream(stream)) => return Ok(Finished::Stream(stream)),
                    Err(failure) => call.on_transport_error(failure, now()),
                },
                Step::Wait(delay) => {
                    std::thread::sleep(delay);
                    call.resume()
                }
                Step::Done(result) => return result.map(Finished::Output),
            };
        }
    }

    /// The cached token, or a new one; `stale` was refused by Zuora. Holding the lock
    /// during the fetch makes it single-flight.
    fn token(&self, stale: Option<&AccessToken>, budget: Duration) -> Result<AccessToken, Error> {
        let mut cache = self.inner.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(stale) = stale {
            cache.invalidate(stale);
        }
        if let Some(token) = cache.usable(Instant::now()) {
            return Ok(token);
        }
        let issued = Instant::now();
        let token = self.execute_within(self.inner.config.token_request(), budget)?;
        cache.store(token.access_token.clone(), token.expires_in, issued);
        Ok(token.access_token)
    }
}

zuora_core::__shared_client_methods! {
    client = Client,
    default_transport = UreqTransport,
    token_lock = [std::sync::Mutex],
    send_bounds = [],
    output_bounds = [],
    transport = SyncTransport,
    streaming = SyncStreamingTransport,
    writer = [Write],
    asyncness = [],
    await = [],
    observer_bounds = [],
    export_source = ExportReader
}

/// Sleeps, as the shared methods' waits ask.
fn pause(delay: Duration) {
    std::thread::sleep(delay);
}

/// Exports: streamed, converted on the fly, never held whole.
impl<T: SyncStreamingTransport> Client<T> {
    /// A completed run's export as a source: an [`ExportReader`] that yields it converted
    /// to `format` as it arrives (gzip decoded on the fly). Errors before the first byte
    /// (unknown run, refused, unreachable) come here; a body that breaks off or stalls
    /// ends the reader with an error, never with a clean end.
    pub fn export_reader(
        &self,
        run_id: &ReportRunId,
        format: ExportFormat,
    ) -> Result<ExportReader<T::Body>, Error> {
        let config = &self.inner.config;
        let operation = config.export_run(run_id);
        let finished = self.drive(
            operation,
            self.inner.entropy.next_u64(),
            Duration::MAX,
            |request| {
                let response = self
                    .inner
                    .transport
                    .send_streaming(request)
                    .map_err(|e| TransportFailure::from_error(&e))?;
                match ExportHead::of(response.status(), config) {
                    ExportHead::Stream => Ok(Sent::Stream(response)),
                    ExportHead::ReadWhole { max_bytes } => {
                        let (parts, body) = response.into_parts();
                        let mut bytes = Vec::new();
                        body.take(max_bytes.saturating_add(1))
                            .read_to_end(&mut bytes)
                            .map_err(|e| {
                                TransportFailure::new(TransportErrorKind::Io, true, e.to_string())
                            })?;
                        Ok(Sent::Answer(zuora_core::driver::HttpResponse::from_parts(
                            parts, bytes,
                        )))
                    }
                }
            },
        )?;
        let (body, download) = finished.into_download(format, config);
        Ok(ExportReader {
            body,
            download,
            // 64 KiB reads keep the converter's buffers in the core's cache.
            chunk: vec![0u8; 64 * 1024],
            converted: Vec::with_capacity(160 * 1024),
            position: 0,
            summary: None,
        })
    }

    /// Downloads a completed run's export into `out`, converted to `format` as it arrives.
    /// A download cut short is an error, never a success; what was written before stays in
    /// `out` (write to a temporary file and rename on success).
    pub fn download_export<W: Write>(
        &self,
        run_id: &ReportRunId,
        format: ExportFormat,
        out: &mut W,
    ) -> Result<ExportSummary, Error> {
        self.export_reader(run_id, format)?.copy_to(out)
    }
}

/// A run's export as a [`Read`] source of converted bytes (see
/// [`Client::export_reader`]). Read errors carry the [`Error`] inside the `io::Error`
/// ([`Error::from_io`] gets it back).
pub struct ExportReader<R> {
    body: R,
    download: Download,
    chunk: Vec<u8>,
    converted: Vec<u8>,
    position: usize,
    summary: Option<ExportSummary>,
}

impl<R: Read> ExportReader<R> {
    /// Reads the next chunk into the converted buffer; `false` at the end.
    fn fill(&mut self) -> Result<bool, Error> {
        self.converted.clear();
        self.position = 0;
        while self.converted.is_empty() {
            if self.summary.is_some() {
                return Ok(false);
            }
            match self.body.read(&mut self.chunk) {
                Ok(0) => {
                    self.summary = Some(self.download.finish(&mut self.converted)?);
                }
                Ok(n) => self
                    .download
                    .on_chunk(&self.chunk[..n], &mut self.converted)?,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => {
                    let stalled = matches!(
                        error.kind(),
                        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                    );
                    return Err(self.download.broken(&error, stalled));
                }
            }
        }
        Ok(true)
    }

    /// Writes the rest of the export to `out`; the summary once the body ended cleanly.
    pub fn copy_to<W: Write>(mut self, out: &mut W) -> Result<ExportSummary, Error> {
        let output_failed = Error::output;
        out.write_all(&self.converted[self.position..])
            .map_err(output_failed)?;
        while self.fill()? {
            out.write_all(&self.converted).map_err(output_failed)?;
        }
        out.flush().map_err(output_failed)?;
        self.summary
            .ok_or_else(|| Error::build("the export ended without a summary"))
    }

    /// What the download received and wrote, once the body has ended cleanly.
    pub fn summary(&self) -> Option<&ExportSummary> {
        self.summary.as_ref()
    }
}

impl<R: Read> Read for ExportReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.position == self.converted.len() && !self.fill().map_err(Error::into_io)? {
            return Ok(0);
        }
        let n = buf.len().min(self.converted.len() - self.position);
        buf[..n].copy_from_slice(&self.converted[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

impl<T: SyncTransport> Iterator for Rows<'_, T> {
    type Item = Result<Row, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row()
    }
}
