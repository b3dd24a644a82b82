//! Pulls for Python: the core's [`Pull`](CorePull) and the pull's files (`zuora-os`), behind
//! a lock so the sync client's worker threads and the async client's tasks share it. The
//! loop that asks it for steps is `_flows.pull`, written once for both clients.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use pyo3::prelude::*;
use zuora_core::Error;
use zuora_core::machines::{TaskOutput, TaskStep};
use zuora_core::pulls::{OutputFormat, Pull as CorePull, PullStep, Work, WorkDone};
use zuora_os::now;
use zuora_os::pulls::{PullFiles, open_pull, today};

use crate::{Engine, PartialFile, ReportRun, Task, to_py_err};

/// A pull under way (see `Client.pull`).
#[pyclass(frozen, module = "zuora_reporting._native")]
pub struct Pull {
    pull: Mutex<CorePull>,
    files: PullFiles,
}

/// One work of a pull: a search for a report, or one window (see `Pull.next`).
#[pyclass(frozen, module = "zuora_reporting._native")]
pub struct PullWork {
    work: Work,
    /// The task started for it (kept to read its outcome when the work ends).
    task: Mutex<Option<Py<Task>>>,
}

impl Pull {
    fn inner(&self) -> MutexGuard<'_, CorePull> {
        self.pull.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[pymethods]
impl Pull {
    /// Reads the jobs file at `jobs` and its state; raises `InvalidInputError` (file, line,
    /// key) before anything is sent.
    #[new]
    fn new(py: Python<'_>, jobs: PathBuf) -> PyResult<Self> {
        let (pull, files) = open_pull(&jobs, today()).map_err(|e| to_py_err(py, &e))?;
        Ok(Self {
            pull: Mutex::new(pull),
            files,
        })
    }

    /// Runs in flight at most.
    #[getter]
    fn concurrency(&self) -> usize {
        self.inner().concurrency()
    }

    /// The next step: `("start", PullWork)`, `("sleep", seconds)`, `("await", None)` or
    /// `("done", summary_json)`.
    fn next(&self, py: Python<'_>) -> PyResult<(&'static str, Py<PyAny>)> {
        let step = self.inner().next(Instant::now());
        Ok(match step {
            PullStep::Start(work) => (
                "start",
                Py::new(
                    py,
                    PullWork {
                        work,
                        task: Mutex::new(None),
                    },
                )?
                .into_any(),
            ),
            PullStep::Sleep(delay) => (
                "sleep",
                delay.as_secs_f64().into_pyobject(py)?.into_any().unbind(),
            ),
            PullStep::AwaitAny => ("await", py.None()),
            PullStep::Done(summary) => (
                "done",
                serde_json::to_string(&summary)
                    .unwrap_or_default()
                    .into_pyobject(py)?
                    .into_any()
                    .unbind(),
            ),
        })
    }

    /// The events since the last call, each as JSON.
    fn take_events(&self) -> Vec<String> {
        self.inner()
            .take_events()
            .iter()
            .map(|event| serde_json::to_string(event).unwrap_or_default())
            .collect()
    }

    /// Every report's line as it stands, as JSON.
    fn lines(&self) -> String {
        serde_json::to_string(&self.inner().lines(Instant::now())).unwrap_or_default()
    }

    /// Stops the pull: nothing more starts; each wait stops and cancels its run.
    fn interrupt(&self) {
        self.inner().interrupt();
    }

    /// A status seen for `work`'s run; `True` when the wait must stop (and cancel the run).
    fn observe(&self, work: &PullWork, run: &ReportRun) -> bool {
        !matches!(
            self.inner()
                .observe(work.work.id(), &run.run, SystemTime::now()),
            zuora_core::machines::WaitControl::Continue
        )
    }

    /// The temporary file for `work`'s output (its folders made, a killed pull's leftovers
    /// removed); renamed into place by its `commit`.
    fn create_output(&self, py: Python<'_>, work: &PullWork) -> PyResult<PartialFile> {
        let Some((out, _)) = work.work.output() else {
            return Err(to_py_err(py, &Error::misuse("a search writes no file")));
        };
        let file = self
            .files
            .create_output(out)
            .map_err(|e| to_py_err(py, &e))?;
        Ok(PartialFile { inner: Some(file) })
    }

    /// `work` ended: its task's outcome, or `error` (what went wrong in Python after the
    /// task, such as its file) ; the state is saved when it changed. A state that cannot be
    /// saved stops the pull and is raised.
    #[pyo3(signature = (work, error=None))]
    fn finished(&self, py: Python<'_>, work: &PullWork, error: Option<String>) -> PyResult<()> {
        let task = work.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        let outcome: Option<Result<TaskOutput, Error>> = task.and_then(|task| {
            let mut task = task.borrow_mut(py);
            match std::mem::replace(&mut task.step, TaskStep::Sleep(std::time::Duration::ZERO)) {
                TaskStep::Done(outcome) => Some(outcome),
                _ => None,
            }
        });
        let result = match (outcome, error) {
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(output)), None) => WorkDone::from_output(output).map(|done| {
                // A table's bytes are its file's, not the export's.
                match work.work.output() {
                    Some((out, OutputFormat::Table(_))) => {
                        let rows = match &done {
                            WorkDone::Written { rows, .. } => *rows,
                            WorkDone::Resolved(_) => None,
                        };
                        let bytes = std::fs::metadata(self.files.output_path(out))
                            .map_or(0, |meta| meta.len());
                        done.rewritten(rows, bytes)
                    }
                    _ => done,
                }
            }),
            (_, Some(message)) => Err(Error::output(std::io::Error::other(message))),
            (None, None) => Err(Error::Interrupted {
                run_id: None,
                cancelled: false,
            }),
        };
        self.files
            .record(&mut self.inner(), work.work.id(), result, Instant::now())
            .map_err(|e| to_py_err(py, &e))
    }
}

#[pymethods]
impl PullWork {
    /// The report's key in the jobs file.
    #[getter]
    fn report(&self) -> &str {
        self.work.report()
    }

    /// The output format (`csv`, `tsv`, `raw`, `parquet`, `arrow`, `jsonl`); `None` for a
    /// search.
    #[getter]
    fn format(&self) -> Option<&'static str> {
        self.work.output().map(|(_, format)| match format {
            OutputFormat::Export(zuora_core::ExportFormat::Csv) => "csv",
            OutputFormat::Export(zuora_core::ExportFormat::Tsv) => "tsv",
            OutputFormat::Export(_) => "raw",
            OutputFormat::Table(name) => name,
        })
    }

    /// Starts the work's task on `engine`: a search, or a window's trip whose export is the
    /// `tsv` of a table format.
    fn start(&self, py: Python<'_>, engine: &Engine) -> PyResult<Py<Task>> {
        let start = self
            .work
            .task(&engine.session, now())
            .map_err(|e| to_py_err(py, &e))?;
        let task = Py::new(py, engine.task(start))?;
        *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task.clone_ref(py));
        Ok(task)
    }

    fn __repr__(&self) -> String {
        match self.work.window() {
            Some(window) => format!("PullWork({:?}, {window})", self.work.report()),
            None => format!("PullWork({:?}, search)", self.work.report()),
        }
    }
}
