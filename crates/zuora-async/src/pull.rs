//! A pull over this crate's client: the core's [`Pull`] decides; this loop keeps each work's
//! future in one set (at most the pull's concurrency at once), sleeps when told, saves the
//! state when told, and hands every event to the caller.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use tokio::io::AsyncWrite;
use zuora_core::Error;
use zuora_core::driver::AsyncStreamingTransport;
use zuora_core::pulls::{
    OutputFormat, Pull, PullEvent, PullStep, PullSummary, ReportLine, Work, WorkDone,
};
use zuora_files::PartialFile;
use zuora_os::pulls::{PullFiles, open_pull};

use crate::Client;

/// Stops a pull from another task or a signal handler: [`interrupt`](Self::interrupt) makes
/// it start nothing more, stop every wait and cancel its run, and end with
/// [`PullSummary::interrupted`]. No file is left half-written.
#[derive(Debug, Default)]
pub struct PullControl {
    stop: AtomicBool,
    wake: tokio::sync::Notify,
}

impl PullControl {
    /// A control that has not stopped anything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops the pull (see the type).
    pub fn interrupt(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Whether [`interrupt`](Self::interrupt) was called.
    pub fn is_interrupted(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// A writer that refuses more bytes once the pull is interrupted, so a download in progress
/// ends (and its temporary file is removed) rather than running to its end.
struct Stoppable<'a, W> {
    inner: W,
    control: &'a PullControl,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Stoppable<'_, W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.control.is_interrupted() {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "the pull was interrupted",
            )));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The window's temporary file as an [`AsyncWrite`]: each write goes straight to the file
/// on the calling task. A local file takes an export's chunks (tens of KiB) in microseconds,
/// which costs less than handing each to a blocking thread would.
struct FileWriter<'a>(&'a mut PartialFile);

impl AsyncWrite for FileWriter<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(std::io::Write::write(&mut self.0, buf))
    }
    fn poll_flush(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(std::io::Write::flush(&mut self.0))
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.poll_flush(cx)
    }
}

struct Shared<'a> {
    pull: Mutex<Pull>,
    files: &'a PullFiles,
    control: &'a PullControl,
}

impl Shared<'_> {
    fn pull(&self) -> MutexGuard<'_, Pull> {
        self.pull.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type Running<'a> = Pin<Box<dyn Future<Output = (Work, Result<WorkDone, Error>)> + Send + 'a>>;

/// Scheduled pulls on the async client: `use zuora_async::Pulls;` and call
/// [`pull`](Pulls::pull).
pub trait Pulls {
    /// Pulls what the jobs file at `jobs` says (see the crate's README, and
    /// [`zuora_core::pulls`]): every report's windows since the state file's high-water mark,
    /// each run once, at most the file's `concurrency` at once, each window's file renamed
    /// into place before the state records it. `on_event` sees every event with every
    /// report's line as it stands; `control` stops the pull.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before anything is sent
    /// (the jobs file's file, line and key), or the state file that could not be saved. A
    /// window or report that fails is in the summary, not an error: the others go on.
    fn pull<'a>(
        &'a self,
        jobs: &'a Path,
        control: &'a PullControl,
        on_event: impl FnMut(&PullEvent, &[ReportLine]) + Send + 'a,
    ) -> impl Future<Output = Result<PullSummary, Error>> + Send + 'a;
}

impl<T: AsyncStreamingTransport + Send + Sync + 'static> Pulls for Client<T> {
    async fn pull<'a>(
        &'a self,
        jobs: &'a Path,
        control: &'a PullControl,
        mut on_event: impl FnMut(&PullEvent, &[ReportLine]) + Send + 'a,
    ) -> Result<PullSummary, Error> {
        let (pull, files) = open_pull(jobs, zuora_os::pulls::today())?;
        let shared = Shared {
            pull: Mutex::new(pull),
            files: &files,
            control,
        };
        let shared = &shared;
        let mut running: FuturesUnordered<Running<'_>> = FuturesUnordered::new();
        let mut fatal = None;
        let summary = loop {
            let turn = shared.pull().turn(Instant::now(), control.is_interrupted());
            for event in &turn.events {
                on_event(event, &turn.lines);
            }
            let sleep = match turn.step {
                PullStep::Start(work) => {
                    running.push(Box::pin(async move {
                        let outcome = pull_one(self, &work, shared).await;
                        (work, outcome)
                    }));
                    continue;
                }
                PullStep::Done(summary) => break summary,
                PullStep::Sleep(delay) => Some(delay),
                PullStep::AwaitAny => None,
            };
            // Whichever comes first: a work ends, the back-off is over, or an interrupt.
            let busy = !running.is_empty();
            let ended = {
                let mut next = running.next();
                let mut timer = std::pin::pin!(async {
                    match sleep {
                        Some(delay) => tokio::time::sleep(delay).await,
                        None => std::future::pending().await,
                    }
                });
                let mut woken = std::pin::pin!(control.wake.notified());
                futures_util::future::poll_fn(|cx| {
                    if busy && let Poll::Ready(Some(ended)) = Pin::new(&mut next).poll(cx) {
                        return Poll::Ready(Some(ended));
                    }
                    if timer.as_mut().poll(cx).is_ready() || woken.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(None);
                    }
                    Poll::Pending
                })
                .await
            };
            if let Some((work, outcome)) = ended
                && let Err(error) =
                    shared
                        .files
                        .record(&mut shared.pull(), work.id(), outcome, Instant::now())
            {
                fatal = Some(error);
            }
        };
        match fatal {
            Some(error) => Err(error),
            None => Ok(summary),
        }
    }
}

/// One work: its task, and for a window its file, in place once the task ended well.
async fn pull_one<T: AsyncStreamingTransport + Send + Sync + 'static>(
    client: &Client<T>,
    work: &Work,
    shared: &Shared<'_>,
) -> Result<WorkDone, Error> {
    let id = work.id();
    let observe = Box::new(move |run: &zuora_core::ReportRun| {
        shared.pull().observe(id, run, SystemTime::now())
    });
    let Some((out, format)) = work.output() else {
        return client
            .pull_work(work, observe, &mut tokio::io::sink())
            .await;
    };
    let mut file = shared.files.create_output(out)?;
    let done = match format {
        OutputFormat::Export(_) => {
            let mut writer = Stoppable {
                inner: FileWriter(&mut file),
                control: shared.control,
            };
            client.pull_work(work, observe, &mut writer).await?
        }
        OutputFormat::Table(name) => {
            let (table_file, done) = pull_table(client, work, observe, name, file, shared).await?;
            file = table_file;
            done
        }
    };
    file.commit().map_err(Error::output)?;
    Ok(done)
}

#[cfg(feature = "tables")]
async fn pull_table<T: AsyncStreamingTransport + Send + Sync + 'static>(
    client: &Client<T>,
    work: &Work,
    observe: zuora_core::client::Observer<'_>,
    name: &str,
    mut file: PartialFile,
    shared: &Shared<'_>,
) -> Result<(PartialFile, WorkDone), Error> {
    use zuora_tables::{Locale, Spooling, TableFormat};
    fn table_error(error: impl std::fmt::Display) -> Error {
        Error::output(std::io::Error::other(error.to_string()))
    }
    let format: TableFormat = name.parse().map_err(|e: String| Error::misuse(&e))?;
    let folder = file
        .destination()
        .parent()
        .map(Path::to_owned)
        .unwrap_or_default();
    let spool = Spooling::temporary_in(&folder, Locale::default()).map_err(table_error)?;
    let mut writer = Stoppable {
        inner: spool,
        control: shared.control,
    };
    let done = client.pull_work(work, observe, &mut writer).await?;
    let spool = writer.inner;
    // Typing the spooled rows and encoding the table is CPU work: off the runtime's threads.
    tokio::task::spawn_blocking(move || {
        let out = std::io::BufWriter::new(&mut file);
        let (rows, mut out) = spool.write_table(&[], format, out).map_err(table_error)?;
        std::io::Write::flush(&mut out).map_err(Error::output)?;
        drop(out);
        let bytes = file.written().map_err(Error::output)?;
        Ok((file, done.rewritten(Some(rows), bytes)))
    })
    .await
    .map_err(table_error)?
}

#[cfg(not(feature = "tables"))]
async fn pull_table<T: AsyncStreamingTransport + Send + Sync + 'static>(
    _client: &Client<T>,
    _work: &Work,
    _observe: zuora_core::client::Observer<'_>,
    name: &str,
    _file: PartialFile,
    _shared: &Shared<'_>,
) -> Result<(PartialFile, WorkDone), Error> {
    Err(Error::misuse(&format!(
        "format {name} needs this crate's `tables` feature"
    )))
}
