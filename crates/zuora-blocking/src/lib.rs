#![doc = include_str!("../README.md")]

mod pull;
mod receive;
mod transport;

use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};

pub use pull::{PullControl, Pulls};
pub use transport::{UreqBody, UreqTransport};
/// The ureq this crate is built with, for [`UreqTransport::with_agent`].
pub use ureq;
use zuora_core::client::{DefaultTransport, Driver, ExportDriver, Job, Running, WriteExport};
use zuora_core::driver::{
    HttpRequest, SyncStreamingTransport, SyncTransport, TransportErrorKind, TransportFailure,
};
use zuora_core::machines::{
    Action, AnswerBody, Download, DownloadNext, Machine, Paused, Row, RowSource, Sent, Session,
    Task, TaskStep,
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
// The guarantee of `quiet-wire-trace` (see Cargo.toml), checked where it is built: no
// feature of any crate in the build lifted `log`'s static cap above DEBUG, so ureq-proto's
// TRACE hex dump (which holds the Authorization header) is compiled out.
#[cfg(feature = "quiet-wire-trace")]
const _: () = assert!(
    log::STATIC_MAX_LEVEL as usize <= log::LevelFilter::Debug as usize,
    "quiet-wire-trace: log's static level was lifted above DEBUG"
);

#[cfg(feature = "tables")]
pub use zuora_tables as tables;

/// A Zuora Reporting client over ureq (or the [`SyncTransport`] `T`): the core's
/// [`Client`](zuora_core::client::Client) driven by this crate's [`Blocking`] loop. Every
/// method returns its result. Cheap to clone; clones share the token and the connection
/// pool.
pub type Client<T = UreqTransport> = zuora_core::client::Client<Blocking<T>>;

/// This crate's driver: the one loop that runs the core's machines on the calling thread
/// over a [`SyncTransport`], with the session (token cache, single-flight fetches, entropy)
/// every clone of a [`Client`] shares.
pub struct Blocking<T> {
    transport: T,
    /// The session's token-settle count, for calls parked on another call's fetch.
    settled: Arc<(Mutex<u64>, Condvar)>,
}

impl<T> std::fmt::Debug for Blocking<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blocking").finish_non_exhaustive()
    }
}

impl DefaultTransport for Blocking<UreqTransport> {
    fn default_transport(config: &ClientConfig) -> Result<UreqTransport, Error> {
        Ok(UreqTransport::new(config))
    }
}

/// How the loop sends one request.
trait SendStep {
    type Body;
    /// Sends `request`; with `stream`, a `200` comes back as a stream, anything else whole.
    fn send(
        &self,
        request: HttpRequest,
        stream: bool,
    ) -> Result<Sent<Self::Body>, TransportFailure>;
}

/// Sends and reads the whole answer.
struct Whole<'t, T>(&'t T);

impl<T: SyncTransport> SendStep for Whole<'_, T> {
    type Body = std::convert::Infallible;
    fn send(&self, request: HttpRequest, _: bool) -> Result<Sent<Self::Body>, TransportFailure> {
        Sent::whole(self.0.send(request))
    }
}

/// Sends; when asked, hands back an export's `200` with its body unread, and reads any
/// other answer on the spot, up to the core's cap ([`AnswerBody`]).
struct Streaming<'t, T>(&'t T, &'t ClientConfig);

impl<T: SyncStreamingTransport> SendStep for Streaming<'_, T> {
    type Body = T::Body;
    fn send(&self, request: HttpRequest, stream: bool) -> Result<Sent<T::Body>, TransportFailure> {
        let transport = self.0;
        if !stream {
            return Sent::whole(transport.send(request));
        }
        let response = transport
            .send_streaming(request)
            .map_err(|e| TransportFailure::from_error(&e))?;
        let Some(mut kept) = AnswerBody::unless_streamed(response.status(), self.1) else {
            return Ok(Sent::Stream(response));
        };
        let (head, mut body) = response.into_parts();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match body.read(&mut chunk) {
                Ok(0) => break,
                Ok(read) if kept.push(&chunk[..read]) => break,
                Ok(_) => {}
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => {
                    let detail = error.to_string();
                    return Err(TransportFailure::new(TransportErrorKind::Io, true, detail));
                }
            }
        }
        Ok(Sent::Answer(kept.into_answer(head)))
    }
}

impl<T: SyncTransport> Blocking<T> {
    /// The one loop every call goes through: the core's machine decides; this sends,
    /// sleeps, and waits for another call's token fetch, until the machine stops it.
    fn drive<M: Machine, S: SendStep>(
        &self,
        machine: &mut M,
        session: &Session,
        step: TaskStep<M::Output>,
        send: &S,
    ) -> Result<Paused<M::Output, S::Body>, Error> {
        let mut action = machine.act(step);
        loop {
            action = match action {
                Action::Send { request, stream } => {
                    let sent = send.send(request, stream);
                    machine.on_sent(session, sent, now())
                }
                Action::Sleep(delay) => {
                    std::thread::sleep(delay);
                    machine.resume(session, now())
                }
                Action::AwaitToken { settled, within } => {
                    let (seen, changed) = &*self.settled;
                    let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                    // Woken when the fetch settles; at the latest, the call's own deadline.
                    drop(changed.wait_timeout_while(seen, within, |count| *count == settled));
                    machine.resume(session, now())
                }
                Action::Stop(outcome) => return outcome,
            };
        }
    }

    /// Runs `job` until its loop stops (the job's observer sees each status on the way).
    #[allow(clippy::type_complexity)] // The running job and the pause, as the loop ends.
    fn run_job<'a, M: Machine, X, S: SendStep>(
        &self,
        job: Job<'a, M, X>,
        send: &S,
    ) -> Result<(Running<'a, M, X>, Paused<M::Output, S::Body>), Error> {
        let _span = tracing::info_span!("zuora.task", task = job.name()).entered();
        let (mut running, step) = job.start()?;
        let session = running.session();
        let paused = self.drive(&mut running, session, step, send)?;
        Ok((running, paused))
    }
}

impl<T: SyncTransport> Driver for Blocking<T> {
    type Call<'a, X: 'a>
        = Result<X, Error>
    where
        Self: 'a;
    type Transport = T;
    type Platform = zuora_os::Os;
    type Rows = Rows<T>;

    fn call<'a, M, X>(&'a self, job: Job<'a, M, X>) -> Result<X, Error>
    where
        M: Machine + Send + 'a,
        M::Output: Send + 'a,
        X: Send + 'a,
    {
        let (running, paused) = self.run_job(job, &Whole(&self.transport))?;
        running.end(paused)
    }

    fn new(transport: T) -> Self {
        let settled = Arc::new((Mutex::new(0), Condvar::new()));
        Self { transport, settled }
    }

    fn token_waker(&self) -> impl Fn(u64) + Send + Sync + 'static {
        let settled = Arc::clone(&self.settled);
        move |count| {
            let (seen, changed) = &*settled;
            *seen.lock().unwrap_or_else(|e| e.into_inner()) = count;
            changed.notify_all();
        }
    }

    fn rows(client: Client<T>, source: RowSource) -> Rows<T> {
        Rows(client, source)
    }
}

/// An iterator over the rows of a run that fetches a page when the last is used up (see
/// [`Client::rows`](zuora_core::client::Client::rows)).
pub struct Rows<T>(Client<T>, RowSource);

impl<T: SyncTransport> Iterator for Rows<T> {
    type Item = Result<Row, Error>;

    /// The next row, fetching a page when the last one is used up; `None` after the last.
    fn next(&mut self) -> Option<Self::Item> {
        let Rows(client, source) = self;
        let (driver, session) = (client.driver(), client.session());
        let send = Whole(&driver.transport);
        source.next_with(session, now, |task, step| {
            driver.drive(task, session, step, &send)
        })
    }
}

/// Exports: streamed, converted on the fly, never held whole.
impl<T: SyncStreamingTransport> Blocking<T> {
    /// Runs `job` to its export's body.
    #[allow(clippy::type_complexity)] // The running job and its export, as the loop ends.
    fn to_export<'a, X>(
        &self,
        job: Job<'a, Task, X>,
    ) -> Result<(Running<'a, Task, X>, ExportReader<T::Body>), Error> {
        let send = Streaming(&self.transport, job.session().config());
        let on_own_thread = job.session().config().receive_thread();
        let (running, paused) = self.run_job(job, &send)?;
        let (running, mut download, body) = running.into_export(paused)?;
        let body = if on_own_thread {
            receive::Body::on_own_thread(body, download.inflate_elsewhere())
        } else {
            receive::Body::inline(body)
        };
        let export = ExportReader {
            body,
            download,
            converted: Vec::with_capacity(160 * 1024),
            position: 0,
        };
        Ok((running, export))
    }
}

impl<T: SyncStreamingTransport> ExportDriver for Blocking<T> {
    type Export = ExportReader<T::Body>;

    fn open_export<'a>(&'a self, job: Job<'a, Task, ()>) -> Result<Self::Export, Error> {
        self.to_export(job).map(|(_, export)| export)
    }
}

impl<T: SyncStreamingTransport, W: Write + ?Sized> WriteExport<W> for Blocking<T> {
    fn write_export<'a, X: Send + 'a>(
        &'a self,
        job: Job<'a, Task, X>,
        out: &'a mut W,
    ) -> Result<X, Error> {
        let (mut running, export) = self.to_export(job)?;
        running.end_export(export.copy_to(out))
    }
}

/// A run's export as a [`Read`] source of converted bytes (see
/// [`Client::open_export`](zuora_core::client::Client::open_export)). Read errors carry the [`Error`] inside the `io::Error`
/// ([`Error::from_io`] gets it back).
pub struct ExportReader<R> {
    body: receive::Body<R>,
    download: Download,
    converted: Vec<u8>,
    position: usize,
}

impl<R> std::fmt::Debug for ExportReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportReader")
            .field("download", &self.download)
            .finish_non_exhaustive()
    }
}

impl<R: Read + Send + 'static> ExportReader<R> {
    /// Reads the next chunk into the converted buffer; `false` at the end.
    fn fill(&mut self) -> Result<bool, Error> {
        self.converted.clear();
        self.position = 0;
        while self.converted.is_empty() {
            match self.download.next(&mut self.converted, now().instant)? {
                DownloadNext::Read => {
                    let arrived = self.body.next();
                    let spare = self.download.on_arrived(arrived, &mut self.converted)?;
                    self.body.give_back(spare);
                }
                DownloadNext::Converted => {}
                DownloadNext::Ended => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Writes the rest of the export to `out`; the summary once the body ended cleanly.
    pub fn copy_to<W: Write + ?Sized>(mut self, out: &mut W) -> Result<ExportSummary, Error> {
        let output_failed = Error::output;
        out.write_all(&self.converted[self.position..])
            .map_err(output_failed)?;
        while self.fill()? {
            out.write_all(&self.converted).map_err(output_failed)?;
        }
        out.flush().map_err(output_failed)?;
        self.download.ended()
    }

    /// What the download received and wrote, once the body has ended cleanly.
    pub fn summary(&self) -> Option<&ExportSummary> {
        self.download.summary()
    }
}

impl<R: Read + Send + 'static> Read for ExportReader<R> {
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
