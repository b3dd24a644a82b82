#![doc = include_str!("../README.md")]

mod transport;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// The reqwest this crate is built with, for [`Client::with_reqwest_client`].
pub use reqwest;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tracing::Instrument as _;
pub use transport::{ReqwestBody, ReqwestTransport};
use zuora_core::operations::Operation;
/// Everything of the core a user names: the common job at the root, the rest in modules
/// named for what they hold ([`values`], [`operations`], [`machines`], [`policies`],
/// [`responses`], [`exports`], [`filters`], [`errors`], [`driver`], [`defaults`]).
pub use zuora_core::*;
use zuora_core::{
    driver::AsyncBody, driver::AsyncStreamingTransport, driver::ClassifyTransportError,
    driver::TransportErrorKind, machines::Download, machines::ExportHead,
};
use zuora_core::{
    driver::AsyncTransport, driver::BuildClient, driver::TransportFailure, machines::Call,
    machines::Step, values::AccessToken,
};

impl BuildClient for Client {
    fn from_config(config: ClientConfig) -> Result<Self, Error> {
        let transport = ReqwestTransport::new(&config)?;
        Ok(Self::with_transport(config, transport))
    }
}

impl Client {
    /// A client over your own `reqwest::Client` (a corporate CA, a proxy, connection reuse
    /// with the rest of your service); see [`ReqwestTransport::with_client`].
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = zuora_async::ClientConfig::builder()
    ///     .environment(zuora_async::Environment::UsCloud2ApiSandbox)
    ///     .credentials("client-id", "client-secret")
    ///     .into_config()?;
    /// use zuora_async::reqwest; // the reqwest this crate is built with
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .build()?;
    /// let client = zuora_async::Client::with_reqwest_client(config, http);
    /// # Ok(()) }
    /// ```
    pub fn with_reqwest_client(config: ClientConfig, client: reqwest::Client) -> Self {
        let transport = ReqwestTransport::with_client(client, &config);
        Self::with_transport(config, transport)
    }
}

type BoxedFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl<T: AsyncTransport> Client<T> {
    /// [`execute`](Self::execute), the whole call cut to `budget`.
    async fn execute_within<O: Operation + Send>(
        &self,
        operation: O,
        budget: Duration,
    ) -> Result<O::Output, Error>
    where
        O::Output: Send,
    {
        let span = tracing::info_span!("zuora.call", operation = operation.name());
        let send = Whole(&self.inner.transport);
        match self
            .drive(operation, self.inner.entropy.next_u64(), budget, send)
            .instrument(span)
            .await?
        {
            Finished::Output(output) => Ok(output),
            Finished::Stream(()) => Err(Error::RequestBuild {
                reason: "unreachable: no stream was asked for".to_owned(),
            }),
        }
    }

    /// The one loop every call goes through: the core decides, this sends, sleeps and
    /// fetches tokens. `send` returns a whole answer for the core to read, or a stream that
    /// ends the loop (a successful export).
    async fn drive<O: Operation + Send, S>(
        &self,
        operation: O,
        seed: u64,
        budget: Duration,
        send: impl SendStep<S>,
    ) -> Result<Finished<O::Output, S>, Error>
    where
        O::Output: Send,
    {
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
                    // The common case, a fresh cached token and no fetch under way, needs
                    // no boxed future.
                    let cached = match &stale {
                        None => self.cached_token(),
                        Some(_) => None,
                    };
                    let token = match cached {
                        Some(token) => token,
                        None => self.token(stale, budget).await?,
                    };
                    call.with_token(token)
                }
                Step::Send(request) => match send.send(request).await {
                    Ok(Sent::Answer(response)) => call.on_response(response, now()),
                    Ok(Sent::Stream(stream)) => return Ok(Finished::Stream(stream)),
                    Err(failure) => call.on_transport_error(failure, now()),
                },
                Step::Wait(delay) => {
                    tokio::time::sleep(delay).await;
                    call.resume()
                }
                Step::Done(result) => return result.map(Finished::Output),
            };
        }
    }

    /// The cached token if it is fresh and no fetch is under way.
    fn cached_token(&self) -> Option<AccessToken> {
        let cache = self.inner.tokens.try_lock().ok()?;
        cache.usable(Instant::now())
    }

    /// The cached token, or a new one; `stale` was refused by Zuora. Boxed because the fetch
    /// itself runs through `execute`.
    fn token(
        &self,
        stale: Option<AccessToken>,
        budget: Duration,
    ) -> BoxedFuture<'_, Result<AccessToken, Error>> {
        Box::pin(async move {
            let mut cache = self.inner.tokens.lock().await;
            if let Some(stale) = &stale {
                cache.invalidate(stale);
            }
            if let Some(token) = cache.usable(Instant::now()) {
                return Ok(token);
            }
            let issued = Instant::now();
            let token = self
                .execute_within(self.inner.config.token_request(), budget)
                .await?;
            cache.store(token.access_token.clone(), token.expires_in, issued);
            Ok(token.access_token)
        })
    }
}

zuora_core::__shared_client_methods! {
    client = Client,
    default_transport = ReqwestTransport,
    token_lock = [tokio::sync::Mutex],
    send_bounds = [+ Send],
    output_bounds = [Send],
    transport = AsyncTransport,
    streaming = AsyncStreamingTransport,
    writer = [AsyncWrite + Unpin + Send],
    asyncness = [async],
    await = [.await],
    observer_bounds = [+ Send],
    export_source = ExportStream
}

/// Sleeps, as the shared methods' waits ask.
async fn pause(delay: Duration) {
    tokio::time::sleep(delay).await;
}

/// How a call sends one attempt (a trait, not a closure, so its future is plainly `Send`).
trait SendStep<S>: Send + Sync {
    fn send(
        &self,
        request: zuora_core::driver::HttpRequest,
    ) -> impl Future<Output = Result<Sent<S>, TransportFailure>> + Send;
}

/// Sends and reads the whole answer.
struct Whole<'t, T>(&'t T);

impl<T: AsyncTransport> SendStep<()> for Whole<'_, T> {
    async fn send(
        &self,
        request: zuora_core::driver::HttpRequest,
    ) -> Result<Sent<()>, TransportFailure> {
        self.0
            .send(request)
            .await
            .map(Sent::Answer)
            .map_err(|e| TransportFailure::from_error(&e))
    }
}

/// Sends and hands back a successful answer as a stream; reads a failed one whole.
struct Streaming<'t, T> {
    transport: &'t T,
    config: &'t ClientConfig,
}

impl<T: AsyncStreamingTransport> SendStep<http::Response<T::Body>> for Streaming<'_, T> {
    async fn send(
        &self,
        request: zuora_core::driver::HttpRequest,
    ) -> Result<Sent<http::Response<T::Body>>, TransportFailure> {
        let response = self
            .transport
            .send_streaming(request)
            .await
            .map_err(|e| TransportFailure::from_error(&e))?;
        let max_bytes = match ExportHead::of(response.status(), self.config) {
            ExportHead::Stream => return Ok(Sent::Stream(response)),
            ExportHead::ReadWhole { max_bytes } => max_bytes,
        };
        let (parts, mut body) = response.into_parts();
        let mut bytes = Vec::new();
        while let Some(chunk) = body
            .next_chunk()
            .await
            .map_err(|e| TransportFailure::from_error(&e))?
        {
            bytes.extend_from_slice(chunk.as_ref());
            if bytes.len() as u64 > max_bytes {
                break;
            }
        }
        Ok(Sent::Answer(zuora_core::driver::HttpResponse::from_parts(
            parts, bytes,
        )))
    }
}

/// Exports: streamed, converted on the fly, never held whole.
impl<T: AsyncStreamingTransport> Client<T> {
    /// A completed run's export as a source: an [`ExportStream`] of chunks converted to
    /// `format` as they arrive (gzip decoded on the fly), ready to be an HTTP response body.
    /// Errors before the first byte (unknown run, refused, unreachable) come here; a body
    /// that breaks off or stalls ends the stream with an error, never with a clean end.
    pub async fn export_stream(
        &self,
        run_id: &ReportRunId,
        format: ExportFormat,
    ) -> Result<ExportStream<T::Body>, Error> {
        let config = &self.inner.config;
        let operation = config.export_run(run_id);
        let send = Streaming {
            transport: &self.inner.transport,
            config,
        };
        let span = tracing::info_span!("zuora.call", operation = "export_report_run");
        let (body, download) = self
            .drive(
                operation,
                self.inner.entropy.next_u64(),
                Duration::MAX,
                send,
            )
            .instrument(span)
            .await?
            .into_download(format, config);
        Ok(ExportStream {
            body,
            download,
            summary: None,
            failed: false,
        })
    }

    /// Downloads a completed run's export into `out`, converted to `format` as it arrives.
    /// A download cut short is an error, never a success; what was written before stays in
    /// `out` (write to a temporary file and rename on success).
    pub async fn download_export<W: AsyncWrite + Unpin + Send>(
        &self,
        run_id: &ReportRunId,
        format: ExportFormat,
        out: &mut W,
    ) -> Result<ExportSummary, Error> {
        let output_failed = Error::output;
        let mut stream = self.export_stream(run_id, format).await?;
        while let Some(chunk) = stream.next_chunk().await? {
            out.write_all(&chunk).await.map_err(output_failed)?;
        }
        out.flush().await.map_err(output_failed)?;
        stream
            .summary
            .ok_or_else(|| Error::build("the export ended without a summary"))
    }
}

/// A run's export as converted chunks (see [`Client::export_stream`]): pull them with
/// [`next_chunk`](Self::next_chunk), or turn it into a [`Stream`](futures_util::Stream)
/// with [`into_stream`](Self::into_stream).
pub struct ExportStream<B> {
    body: B,
    download: Download,
    summary: Option<ExportSummary>,
    failed: bool,
}

impl<B: AsyncBody> ExportStream<B> {
    /// The next converted chunk; `Ok(None)` once the body ended cleanly (then
    /// [`summary`](Self::summary) says what came). After an error, always `Ok(None)`.
    pub async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>, Error> {
        loop {
            if self.summary.is_some() || self.failed {
                return Ok(None);
            }
            let mut converted = Vec::new();
            let step = match self.body.next_chunk().await {
                Ok(Some(chunk)) => self.download.on_chunk(chunk.as_ref(), &mut converted),
                Ok(None) => self
                    .download
                    .finish(&mut converted)
                    .map(|summary| self.summary = Some(summary)),
                Err(error) => {
                    let stalled = error.kind() == TransportErrorKind::Timeout;
                    Err(self.download.broken(&error, stalled))
                }
            };
            if let Err(error) = step {
                self.failed = true;
                return Err(error);
            }
            if !converted.is_empty() {
                return Ok(Some(bytes::Bytes::from(converted)));
            }
        }
    }

    /// What the download received and wrote, once the body has ended cleanly.
    pub fn summary(&self) -> Option<&ExportSummary> {
        self.summary.as_ref()
    }

    /// The chunks as a [`Stream`](futures_util::Stream): it ends with an `Err` item, never
    /// with a clean end, when the body breaks off.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Result<bytes::Bytes, Error>> {
        futures_util::stream::unfold(self, |mut export| async move {
            export
                .next_chunk()
                .await
                .transpose()
                .map(|chunk| (chunk, export))
        })
    }
}

impl<'c, T: AsyncTransport> Rows<'c, T> {
    /// The rows as a [`Stream`](futures_util::Stream), for `StreamExt` combinators.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Result<Row, Error>> + 'c {
        futures_util::stream::unfold(self, |mut rows| async move {
            rows.next().await.map(|row| (row, rows))
        })
    }

    /// The next row, `None` after the last.
    #[allow(clippy::should_implement_trait)] // An async pull, not `Iterator::next`.
    pub async fn next(&mut self) -> Option<Result<Row, Error>> {
        self.next_row().await
    }
}
