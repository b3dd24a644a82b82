#![doc = include_str!("../README.md")]

mod pull;
mod receive;
mod transport;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use pull::{PullControl, Pulls};
/// The reqwest this crate is built with, for [`ReqwestTransport::with_builder`].
pub use reqwest;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tracing::Instrument as _;
pub use transport::{ReqwestBody, ReqwestTransport};
use zuora_core::client::{DefaultTransport, Driver, ExportDriver, Job, Running, WriteExport};
use zuora_core::driver::{
    AsyncBody, AsyncStreamingTransport, AsyncTransport, HttpRequest, TransportFailure,
};
use zuora_core::machines::{
    Action, AnswerBody, Download, DownloadNext, Machine, NextRow, Paused, Row, RowSource, Sent,
    Session, Task,
};
/// Everything of the core a user names: the common job at the root, the rest in modules
/// named for what they hold ([`values`], [`operations`], [`machines`], [`policies`],
/// [`responses`], [`exports`], [`filters`], [`errors`], [`driver`], [`defaults`],
/// [`client`]).
pub use zuora_core::*;

use zuora_os::now;
/// Typed tables of exports (feature `tables`, on by default): download with
/// [`ExportFormat::Tsv`] into a [`tables::Spooling`], which types every column from every
/// value on the way; its `finish` gives the table, read back as Arrow record batches or
/// written as Parquet, Arrow IPC or JSON Lines. See the crate's README.
#[cfg(feature = "tables")]
pub use zuora_tables as tables;

/// A Zuora Reporting client over reqwest (or the [`AsyncTransport`] `T`): the core's
/// [`Client`](zuora_core::client::Client) driven by this crate's [`Tokio`] loop. Every
/// method returns a future of its result (`Send`, so it can be spawned). Cheap to clone;
/// clones share the token and the connection pool.
pub type Client<T = ReqwestTransport> = zuora_core::client::Client<Tokio<T>>;

/// What a call of a [`Client`] returns: a boxed `Send` future of its result.
pub type CallFuture<'a, X> = Pin<Box<dyn Future<Output = Result<X, Error>> + Send + 'a>>;

/// This crate's driver: the one loop that runs the core's machines on tokio over an
/// [`AsyncTransport`], with the session (token cache, single-flight fetches, entropy) every
/// clone of a [`Client`] shares.
pub struct Tokio<T> {
    transport: T,
    /// The session's token-settle count, for calls parked on another call's fetch.
    settled: Arc<tokio::sync::watch::Sender<u64>>,
}

impl<T> std::fmt::Debug for Tokio<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokio").finish_non_exhaustive()
    }
}

impl DefaultTransport for Tokio<ReqwestTransport> {
    fn default_transport(config: &ClientConfig) -> Result<ReqwestTransport, Error> {
        ReqwestTransport::new(config)
    }
}

/// How the loop sends one request (a trait, not a closure, so its future is plainly `Send`).
trait SendStep: Send + Sync {
    type Body: Send;
    /// Sends `request`; with `stream`, a `200` comes back as a stream, anything else whole.
    fn send(
        &self,
        request: HttpRequest,
        stream: bool,
    ) -> impl Future<Output = Result<Sent<Self::Body>, TransportFailure>> + Send;
}

/// Sends and reads the whole answer.
struct Whole<'t, T>(&'t T);

impl<T: AsyncTransport> SendStep for Whole<'_, T> {
    type Body = std::convert::Infallible;
    fn send(
        &self,
        request: HttpRequest,
        _: bool,
    ) -> impl Future<Output = Result<Sent<Self::Body>, TransportFailure>> + Send {
        // Not an `async fn`, which would hold the request beside the send it went into.
        futures_util::FutureExt::map(self.0.send(request), Sent::whole)
    }
}

/// Sends; with `stream`, an export's `200` comes back with its body still to be read, and
/// any other answer is read here, whole up to the core's cap ([`AnswerBody`]).
struct Streaming<'t, T>(&'t T, &'t ClientConfig);

impl<T: AsyncStreamingTransport> SendStep for Streaming<'_, T> {
    type Body = T::Body;
    async fn send(
        &self,
        request: HttpRequest,
        stream: bool,
    ) -> Result<Sent<T::Body>, TransportFailure> {
        let transport = self.0;
        if !stream {
            return Sent::whole(transport.send(request).await);
        }
        let response = transport.send_streaming(request).await;
        let response = response.map_err(|e| TransportFailure::from_error(&e))?;
        let status = response.status();
        let Some(mut kept) = AnswerBody::unless_streamed(status, self.1) else {
            return Ok(Sent::Stream(response));
        };
        let (head, mut body) = response.into_parts();
        while let Some(chunk) = body
            .next_chunk()
            .await
            .map_err(|e| TransportFailure::from_error(&e))?
        {
            if kept.push(chunk.as_ref()) {
                break;
            }
        }
        Ok(Sent::Answer(kept.into_answer(head)))
    }
}

/// Why the futures below are shaped as they are: an `async fn` or block stores each argument
/// or captured value for as long as it lives, beside every local moved out of it
/// (rust-lang/rust#62958), and a call's future is moved a dozen times between being made and
/// being boxed. So what can be decided before the first await is decided in plain code, and
/// the futures hold only what lives across an await, once. A Run-a-report call's boxed
/// future went from 5,600 to 2,728 bytes, then to 968 (the loop owns the running job it
/// drives, and the answer is read chunk by chunk), and `cargo xtask bench transport` went
/// from 1.08x to 1.05x raw reqwest's CPU per call.
impl<T: AsyncTransport> Tokio<T> {
    /// The one loop every call goes through: the core's machine decides; this sends,
    /// sleeps, and waits for another call's token fetch, until the machine stops it with how
    /// the loop ended. It owns `machine` (a running job, or a borrowed machine) and gives it
    /// back at the end.
    // Not an `async fn`, whose arguments would each be stored twice (see above).
    #[allow(clippy::manual_async_fn)]
    fn drive<M, S>(
        &self,
        mut machine: M,
        session: &Session,
        mut action: Action<M::Output, S::Body>,
        send: S,
    ) -> impl Future<Output = Driven<M, S::Body>> + Send
    where
        M: Machine + Send,
        M::Output: Send,
        S: SendStep,
    {
        async move {
            loop {
                action = match action {
                    Action::Send { request, stream } => {
                        let sent = send.send(request, stream).await;
                        machine.on_sent(session, sent, now())
                    }
                    Action::Sleep(delay) => {
                        tokio::time::sleep(delay).await;
                        machine.resume(session, now())
                    }
                    Action::AwaitToken { settled, within } => {
                        let mut count = self.settled.subscribe();
                        // Woken when the fetch settles; at the latest, the call's own deadline.
                        let settle = count.wait_for(|count| *count != settled);
                        let _ = tokio::time::timeout(within, settle).await;
                        machine.resume(session, now())
                    }
                    Action::Stop(outcome) => return (machine, outcome),
                };
            }
        }
    }
}

/// How [`Tokio::drive`] ends: the machine it drove, and the pause that ended its loop.
type Driven<M, B> = (M, Result<Paused<<M as Machine>::Output, B>, Error>);

/// A started job, ready for [`Tokio::drive`]: the running job, its first action, and the
/// span its loop runs in.
type Started<'a, M, X, B> = (
    Running<'a, M, X>,
    Action<<M as Machine>::Output, B>,
    tracing::Span,
);

/// Starts `job` in plain code: the running job, its first action, and the span its loop
/// runs in. Done when the call is made, not at its first poll: the core's client made the
/// job's machine and its first step at that moment already (with the time then), and a
/// future that held the job until its first poll would carry it, 600 bytes, to its end.
fn start<M: Machine, X, B>(job: Job<'_, M, X>) -> Result<Started<'_, M, X, B>, Error> {
    let span = tracing::info_span!("zuora.task", task = job.name());
    let (running, step) = job.start()?;
    let action = running.act(step);
    Ok((running, action, span))
}

impl<T: AsyncTransport> Driver for Tokio<T> {
    type Call<'a, X: 'a>
        = CallFuture<'a, X>
    where
        Self: 'a;
    type Transport = T;
    type Platform = zuora_os::Os;
    type Rows = RowStream<T>;

    fn call<'a, M, X>(&'a self, job: Job<'a, M, X>) -> CallFuture<'a, X>
    where
        M: Machine + Send + 'a,
        M::Output: Send + 'a,
        X: Send + 'a,
    {
        let (running, action, span) = match start(job) {
            Ok(started) => started,
            Err(error) => return Box::pin(std::future::ready(Err(error))),
        };
        let session = running.session();
        let driven = self.drive(running, session, action, Whole(&self.transport));
        Box::pin(futures_util::FutureExt::map(
            driven.instrument(span),
            |(running, paused)| running.end(paused?),
        ))
    }

    fn new(transport: T) -> Self {
        let settled = Arc::new(tokio::sync::watch::Sender::new(0));
        Self { transport, settled }
    }

    fn token_waker(&self) -> impl Fn(u64) + Send + Sync + 'static {
        let settled = Arc::clone(&self.settled);
        // Stored even with no call waiting: the next one to wait sees it.
        move |count| {
            settled.send_replace(count);
        }
    }

    fn rows(client: Client<T>, source: RowSource) -> RowStream<T> {
        RowStream(client, source)
    }
}

/// The rows of a run as an async source: pull them with [`next`](Self::next) or turn them
/// into a [`Stream`](futures_util::Stream); a page is fetched when the last is used up (see
/// [`Client::rows`](zuora_core::client::Client::rows)).
pub struct RowStream<T>(Client<T>, RowSource);

impl<T: AsyncTransport> RowStream<T> {
    /// The next row, `None` after the last.
    #[allow(clippy::should_implement_trait)] // An async pull, not `Iterator::next`.
    pub async fn next(&mut self) -> Option<Result<Row, Error>> {
        let RowStream(client, source) = self;
        let (driver, session) = (client.driver(), client.session());
        loop {
            let step = match source.pull()? {
                NextRow::Row(row) => return Some(Ok(row)),
                NextRow::Fetch(step) => step,
            };
            let action = source.task().act(step);
            let send = Whole(&driver.transport);
            let (_, paused) = driver.drive(source.task(), session, action, send).await;
            if let Some(error) = source.on_paused(session, paused, now()) {
                return Some(Err(error));
            }
        }
    }

    /// The rows as a [`Stream`](futures_util::Stream), for `StreamExt` combinators.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Result<Row, Error>> {
        futures_util::stream::unfold(self, |mut rows| async move {
            rows.next().await.map(|row| (row, rows))
        })
    }
}

/// Exports: streamed, converted on the fly, never held whole.
impl<T: AsyncStreamingTransport> Tokio<T> {
    /// Runs `job` to its export's body.
    #[allow(clippy::type_complexity)] // The running job and its export, as the loop ends.
    async fn to_export<'a, X>(
        &self,
        job: Job<'a, Task, X>,
    ) -> Result<(Running<'a, Task, X>, ExportStream<T::Body>), Error> {
        let send = Streaming(&self.transport, job.session().config());
        let on_own_task = job.session().config().receive_thread();
        let (running, action, span) = start(job)?;
        let session = running.session();
        let (running, paused) = self
            .drive(running, session, action, send)
            .instrument(span)
            .await;
        let (running, mut download, body) = running.into_export(paused?)?;
        let body = receive::Body::new(body, on_own_task, &mut download);
        let failed = false;
        Ok((
            running,
            ExportStream {
                body,
                download,
                failed,
            },
        ))
    }
}

impl<T: AsyncStreamingTransport> ExportDriver for Tokio<T> {
    type Export = ExportStream<T::Body>;

    fn open_export<'a>(&'a self, job: Job<'a, Task, ()>) -> CallFuture<'a, Self::Export> {
        Box::pin(async move { self.to_export(job).await.map(|(_, export)| export) })
    }
}

impl<T, W> WriteExport<W> for Tokio<T>
where
    T: AsyncStreamingTransport,
    W: AsyncWrite + Unpin + Send + ?Sized,
{
    fn write_export<'a, X: Send + 'a>(
        &'a self,
        job: Job<'a, Task, X>,
        out: &'a mut W,
    ) -> CallFuture<'a, X> {
        Box::pin(async move {
            let (mut running, export) = self.to_export(job).await?;
            let outcome = export.copy_to(out).await;
            running.end_export(outcome)
        })
    }
}

/// A run's export as converted chunks (see [`Client::open_export`](zuora_core::client::Client::open_export)): pull them with
/// [`next_chunk`](Self::next_chunk), or turn it into a [`Stream`](futures_util::Stream)
/// with [`into_stream`](Self::into_stream).
pub struct ExportStream<B: AsyncBody> {
    body: receive::Body<B>,
    download: Download,
    failed: bool,
}

impl<B: AsyncBody> std::fmt::Debug for ExportStream<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportStream")
            .field("download", &self.download)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl<B: AsyncBody> ExportStream<B> {
    /// What the download received and wrote, once the body has ended cleanly.
    pub fn summary(&self) -> Option<&ExportSummary> {
        self.download.summary()
    }
}

impl<B: AsyncBody + 'static> ExportStream<B> {
    /// The next converted chunk; `Ok(None)` once the body ended cleanly (then
    /// [`summary`](Self::summary) says what came). After an error, always `Ok(None)`.
    pub async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>, Error> {
        let mut converted = Vec::new();
        Ok(self
            .convert_next(&mut converted)
            .await?
            .then(|| bytes::Bytes::from(converted)))
    }

    /// Converts the next chunk into `converted` (appended); `false`, and nothing appended,
    /// at the end or after an error.
    async fn convert_next(&mut self, converted: &mut Vec<u8>) -> Result<bool, Error> {
        let before = converted.len();
        while !self.failed {
            let step = match self.download.next(converted, now().instant) {
                Ok(DownloadNext::Read) => match self.body.next().await {
                    Ok(arrived) => self
                        .download
                        .on_arrived(arrived, converted)
                        .map(|spare| self.body.give_back(spare)),
                    Err(gone) => Err(self.download.broken(&gone, false)),
                },
                Ok(DownloadNext::Converted) => Ok(()),
                Ok(DownloadNext::Ended) => return Ok(false),
                Err(error) => Err(error),
            };
            if let Err(error) = step {
                self.failed = true;
                return Err(error);
            }
            if converted.len() > before {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Writes the rest of the export to `out`; the summary once the body ended cleanly.
    /// One buffer is reused for every chunk (a new one per chunk, about 200 KiB each, cost
    /// the allocator a trim and the kernel fresh pages each time).
    async fn copy_to<W: AsyncWrite + Unpin + Send + ?Sized>(
        mut self,
        out: &mut W,
    ) -> Result<ExportSummary, Error> {
        let mut converted = Vec::new();
        while self.convert_next(&mut converted).await? {
            out.write_all(&converted).await.map_err(Error::output)?;
            converted.clear();
        }
        out.flush().await.map_err(Error::output)?;
        self.download.ended()
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
