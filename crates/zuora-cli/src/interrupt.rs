//! Ctrl-C in every phase (search, run, retries and back-off, wait, download): the handler
//! cleans up what the command left in flight and exits 130 within about a second, whatever
//! the main thread is blocked on. What is in flight is registered here as the command goes:
//! the run to cancel (unless `--no-cancel`), and the temporary file being written.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use zuora_blocking::{Client, PullControl, ReportRunId};

use crate::exit_code as code;

/// The most time a cancel on the way out may take: the exit comes within about a second.
const CANCEL_BUDGET: Duration = Duration::from_millis(700);

#[derive(Default)]
struct InFlight {
    client: Option<Client>,
    /// A pull under way: the first Ctrl-C (or SIGTERM) stops it gracefully (its runs
    /// cancelled, its state consistent); a second one exits at once.
    pull: Option<Arc<PullControl>>,
    /// The run to cancel on Ctrl-C.
    run: Option<ReportRunId>,
    /// The temporary files to remove on Ctrl-C (a table's spool and its output).
    temporaries: Vec<PathBuf>,
}

static IN_FLIGHT: Mutex<InFlight> = Mutex::new(InFlight {
    client: None,
    pull: None,
    run: None,
    temporaries: Vec::new(),
});

fn in_flight() -> std::sync::MutexGuard<'static, InFlight> {
    IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Installs the handler; `client` cancels runs on the way out.
pub fn install(client: Client) {
    in_flight().client = Some(client);
    let _ = ctrlc::set_handler(on_interrupt);
}

/// A run was started (or is being waited for) that Ctrl-C should cancel; `None` once it
/// completed, or with `--no-cancel`.
pub fn cancel_on_interrupt(run: Option<ReportRunId>) {
    in_flight().run = run;
}

/// A temporary file is being written: Ctrl-C removes it.
pub fn writing(temporary: PathBuf) {
    in_flight().temporaries.push(temporary);
}

/// The temporary file was renamed into place or removed.
pub fn written(temporary: &std::path::Path) {
    in_flight().temporaries.retain(|path| path != temporary);
}

/// A pull is under way: Ctrl-C and SIGTERM stop it through `control`.
pub fn pulling(control: Arc<PullControl>) {
    in_flight().pull = Some(control);
}

fn on_interrupt() {
    let (client, run, temporaries) = {
        let mut state = in_flight();
        if let Some(pull) = state.pull.take() {
            drop(state);
            pull.interrupt();
            eprintln!(
                "zuora-report: interrupting the pull: cancelling the runs in flight (again to quit at once)"
            );
            return;
        }
        (
            state.client.clone(),
            state.run.take(),
            std::mem::take(&mut state.temporaries),
        )
    };
    for temporary in temporaries {
        let _ = std::fs::remove_file(temporary);
    }
    let message = match (client, run) {
        (Some(client), Some(run)) => {
            // The cancel runs beside this thread, which waits for it only so long.
            let (done, outcome) = std::sync::mpsc::channel();
            let cancelling = run.clone();
            std::thread::spawn(move || {
                let _ = done.send(client.cancel_run(&cancelling).is_ok());
            });
            match outcome.recv_timeout(CANCEL_BUDGET) {
                Ok(true) => format!("interrupted; the run was cancelled ({run})"),
                _ => format!("interrupted; the run {run} could not be cancelled and goes on"),
            }
        }
        _ => "interrupted".to_owned(),
    };
    eprintln!("zuora-report: {message}");
    std::process::exit(code::INTERRUPTED);
}
