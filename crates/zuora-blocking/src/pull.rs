//! A pull over this crate's client: the core's [`Pull`] decides; this loop starts each work
//! on a thread of its own (at most the pull's concurrency at once), sleeps when told, saves
//! the state when told, and hands every event to the caller.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use zuora_core::Error;
use zuora_core::driver::SyncStreamingTransport;
use zuora_core::pulls::{
    OutputFormat, Pull, PullEvent, PullStep, PullSummary, ReportLine, Work, WorkDone,
};
use zuora_os::pulls::{PullFiles, open_pull};

use crate::Client;

/// Stops a pull from another thread or a signal handler: [`interrupt`](Self::interrupt)
/// makes it start nothing more, stop every wait and cancel its run, and end with
/// [`PullSummary::interrupted`]. No file is left half-written.
#[derive(Debug, Default)]
pub struct PullControl {
    stop: AtomicBool,
    wake: (Mutex<()>, Condvar),
}

impl PullControl {
    /// A control that has not stopped anything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops the pull (see the type).
    pub fn interrupt(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _guard = self.wake.0.lock();
        self.wake.1.notify_all();
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

impl<W: Write> Write for Stoppable<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.control.is_interrupted() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "the pull was interrupted",
            ));
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

struct Shared<'a> {
    pull: Mutex<Pull>,
    files: &'a PullFiles,
    control: &'a PullControl,
    /// Set when saving the state failed: the pull stops, and ends with this error.
    fatal: Mutex<Option<Error>>,
}

impl Shared<'_> {
    fn pull(&self) -> MutexGuard<'_, Pull> {
        self.pull.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake(&self) {
        let _guard = self.control.wake.0.lock();
        self.control.wake.1.notify_all();
    }
}

/// Scheduled pulls on the blocking client: `use zuora_blocking::Pulls;` and call
/// [`pull`](Pulls::pull).
pub trait Pulls {
    /// Pulls what the jobs file at `jobs` says (see the crate's README, and
    /// [`zuora_core::pulls`]): every report's windows since the state file's high-water mark,
    /// each run once, at most the file's `concurrency` at once, each window's file renamed
    /// into place before the state records it. `on_event` sees every event with every
    /// report's line as it stands (for a progress display); `control` stops the pull.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before anything is sent
    /// (the jobs file's file, line and key), or the state file that could not be saved. A
    /// window or report that fails is in the summary, not an error: the others go on.
    fn pull(
        &self,
        jobs: &Path,
        control: &PullControl,
        on_event: impl FnMut(&PullEvent, &[ReportLine]),
    ) -> Result<PullSummary, Error>;
}

impl<T: SyncStreamingTransport + Send + Sync> Pulls for Client<T> {
    fn pull(
        &self,
        jobs: &Path,
        control: &PullControl,
        mut on_event: impl FnMut(&PullEvent, &[ReportLine]),
    ) -> Result<PullSummary, Error> {
        let (pull, files) = open_pull(jobs, zuora_os::pulls::today())?;
        let shared = Shared {
            pull: Mutex::new(pull),
            files: &files,
            control,
            fatal: Mutex::new(None),
        };
        let summary = std::thread::scope(|scope| {
            loop {
                // Taken before the step is asked for: a work that finishes meanwhile wakes the
                // wait below (its wake needs this lock) rather than being missed.
                let guard = control.wake.0.lock().unwrap_or_else(|e| e.into_inner());
                let turn = shared.pull().turn(Instant::now(), control.is_interrupted());
                for event in &turn.events {
                    on_event(event, &turn.lines);
                }
                match turn.step {
                    PullStep::Start(work) => {
                        drop(guard);
                        let shared = &shared;
                        scope.spawn(move || {
                            let outcome = pull_one(self, &work, shared);
                            let recorded = shared.files.record(
                                &mut shared.pull(),
                                work.id(),
                                outcome,
                                Instant::now(),
                            );
                            if let Err(error) = recorded {
                                *shared.fatal.lock().unwrap_or_else(|e| e.into_inner()) =
                                    Some(error);
                            }
                            shared.wake();
                        });
                    }
                    PullStep::Sleep(delay) => drop(control.wake.1.wait_timeout(guard, delay)),
                    PullStep::AwaitAny => drop(control.wake.1.wait(guard)),
                    PullStep::Done(summary) => break summary,
                }
            }
        });
        match shared.fatal.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(error) => Err(error),
            None => Ok(summary),
        }
    }
}

/// One work: its task, and for a window its file, in place once the task ended well.
fn pull_one<T: SyncStreamingTransport>(
    client: &Client<T>,
    work: &Work,
    shared: &Shared<'_>,
) -> Result<WorkDone, Error> {
    let id = work.id();
    let observe = Box::new(move |run: &zuora_core::ReportRun| {
        shared.pull().observe(id, run, SystemTime::now())
    });
    let Some((out, format)) = work.output() else {
        return client.pull_work(work, observe, &mut std::io::sink());
    };
    let mut file = shared.files.create_output(out)?;
    let done = match format {
        OutputFormat::Export(_) => {
            let mut writer = Stoppable {
                inner: std::io::BufWriter::with_capacity(256 * 1024, &mut file),
                control: shared.control,
            };
            let done = client.pull_work(work, observe, &mut writer)?;
            writer.flush().map_err(Error::output)?;
            done
        }
        OutputFormat::Table(name) => pull_table(client, work, observe, name, &mut file, shared)?,
    };
    file.commit().map_err(Error::output)?;
    Ok(done)
}

#[cfg(feature = "tables")]
fn pull_table<T: SyncStreamingTransport>(
    client: &Client<T>,
    work: &Work,
    observe: zuora_core::client::Observer<'_>,
    name: &str,
    file: &mut zuora_files::PartialFile,
    shared: &Shared<'_>,
) -> Result<WorkDone, Error> {
    let table_error =
        |e: zuora_tables::TableError| Error::output(std::io::Error::other(e.to_string()));
    let format: zuora_tables::TableFormat = name.parse().map_err(|e: String| Error::misuse(&e))?;
    let folder = file
        .destination()
        .parent()
        .map(Path::to_owned)
        .unwrap_or_default();
    let spool = zuora_tables::Spooling::temporary_in(&folder, zuora_tables::Locale::default())
        .map_err(table_error)?;
    let mut writer = Stoppable {
        inner: spool,
        control: shared.control,
    };
    let done = client.pull_work(work, observe, &mut writer)?;
    let out = std::io::BufWriter::new(&mut *file);
    let (rows, mut out) = writer
        .inner
        .write_table(&[], format, out)
        .map_err(table_error)?;
    out.flush().map_err(Error::output)?;
    drop(out);
    let bytes = file.written().map_err(Error::output)?;
    Ok(done.rewritten(Some(rows), bytes))
}

#[cfg(not(feature = "tables"))]
fn pull_table<T: SyncStreamingTransport>(
    _client: &Client<T>,
    _work: &Work,
    _observe: zuora_core::client::Observer<'_>,
    name: &str,
    _file: &mut zuora_files::PartialFile,
    _shared: &Shared<'_>,
) -> Result<WorkDone, Error> {
    Err(Error::misuse(&format!(
        "format {name} needs this crate's `tables` feature"
    )))
}
