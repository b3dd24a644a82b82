//! The pull itself: a sans-IO scheduler over many reports and their windows. A driver asks
//! it for the next step ([`Pull::next`]: start this work, sleep, wait for work in flight, or
//! done), runs each [`Work`] as the core [`Task`] it names (writing a window's export to its
//! file), and tells the pull how it went ([`Pull::finished`]), then saves the state when told.
//!
//! Every decision is here, once for every driver: which window next, at most `concurrency`
//! in flight (fewer after rate limits: one shared budget), retries with back-off, a new
//! idempotency key only when a run ended without results, splitting a window that is too
//! big, and when a report has failed.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::dates::CivilDate;
use super::jobs::{MAX_WINDOWS, OutputFormat, PullSpec, ReportEntry, fill_template};
use super::state::{DoneWindow, PullState, ReportState, restart_key};
use super::windows::Window;
use crate::RunReportOptions;
use crate::driver::Now;
use crate::errors::{Error, ErrorKind};
use crate::filters::{FilterClause, FilterGroup, FilterOperator};
use crate::machines::{Session, Task, TaskOutput, TaskStep, WaitControl};
use crate::operations::ReportRun;
use crate::policies::{PollPolicy, WaitOptions};
use crate::responses::ResponseMeta;
use crate::values::{IdempotencyKey, ReportId, ReportRef, RunStatus, ViewType};

/// The first back-off of a failed window; each retry doubles it, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest back-off between two tries of a window.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A run that ended in `ERROR` after this long met Zuora's one-hour stop (reference §13):
/// its window is split rather than tried again whole.
const HOUR_STOP: Duration = Duration::from_secs(55 * 60);
/// How long a window's wait lasts: past Zuora's one-hour stop, so the stop is what ends it.
const WINDOW_WAIT: Duration = Duration::from_secs(65 * 60);
/// The longest sleep between two looks at a run in a pull: a pull is interrupted (Ctrl-C)
/// within this much.
const MAX_POLL: Duration = Duration::from_secs(5);

/// What a driver does next.
#[derive(Debug)]
pub enum PullStep {
    /// Start this work (its task, and for a window its file).
    Start(Work),
    /// Nothing can start before this much time has passed (a back-off), unless work in
    /// flight finishes first.
    Sleep(Duration),
    /// Wait for work in flight to finish.
    AwaitAny,
    /// Everything is over.
    Done(PullSummary),
}

/// What [`Pull::turn`] gives a driver: the step, and what happened since the last turn
/// with every report's line as it stands (empty when nothing happened).
#[derive(Debug)]
pub struct Turn {
    /// What to do next.
    pub step: PullStep,
    /// What happened, oldest first.
    pub events: Vec<PullEvent>,
    /// Every report's line, when there are events.
    pub lines: Vec<ReportLine>,
}

/// One piece of work: find a report by name, or pull one window of one report.
#[derive(Debug, Clone)]
pub struct Work {
    id: u64,
    report: String,
    kind: WorkKind,
}

#[derive(Debug, Clone)]
enum WorkKind {
    Resolve(ReportRef),
    Window {
        report_id: ReportId,
        view: ViewType,
        options: RunReportOptions,
        window: Window,
        out: String,
        format: OutputFormat,
    },
}

impl Work {
    /// Its id, for [`Pull::finished`] and [`Pull::observe`].
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The report's key in the jobs file.
    pub fn report(&self) -> &str {
        &self.report
    }

    /// The window pulled, for a window's work.
    pub fn window(&self) -> Option<Window> {
        match &self.kind {
            WorkKind::Window { window, .. } => Some(*window),
            WorkKind::Resolve(_) => None,
        }
    }

    /// Where a window's file goes (the jobs file's `out`, filled) and as what; `None` for
    /// work that writes nothing.
    pub fn output(&self) -> Option<(&str, OutputFormat)> {
        match &self.kind {
            WorkKind::Window { out, format, .. } => Some((out, *format)),
            WorkKind::Resolve(_) => None,
        }
    }

    /// The task that does the work: a search for the report's name, or the trip of a
    /// window (run with the window's filters and idempotency key, wait showing each status,
    /// download as the output's export format).
    ///
    /// # Errors
    ///
    /// A name that breaks the search's rules (nothing is sent).
    pub fn task(&self, session: &Session, now: Now) -> Result<(Task, TaskStep), Error> {
        match &self.kind {
            WorkKind::Resolve(report) => Task::find_report(session, report, now),
            WorkKind::Window {
                report_id,
                view,
                options,
                format,
                ..
            } => {
                let poll = PollPolicy::new(PollPolicy::default().first_delay(), MAX_POLL)
                    .unwrap_or_default();
                let wait = WaitOptions::default()
                    .with_timeout(WINDOW_WAIT)
                    .map_err(Error::from)?
                    .cancel_on_timeout(true)
                    .poll(poll);
                Task::trip(
                    session,
                    &ReportRef::Id(report_id.clone()),
                    *view,
                    options.clone(),
                    wait,
                    format.export_format(),
                    true,
                    now,
                )
            }
        }
    }
}

/// What a work ended with, as [`Pull::finished`] takes it.
#[derive(Debug, Clone)]
pub enum WorkDone {
    /// The report's id.
    Resolved(ReportId),
    /// The window's file is in place.
    Written {
        /// Rows written, when the format counts them.
        rows: Option<u64>,
        /// Bytes written.
        bytes: u64,
        /// The export answer's status, request id and limits (`RateLimit-*`,
        /// `Concurrency-Limit-*`), which pace the rest of the pull.
        limits: Option<Box<ResponseMeta>>,
    },
}

impl WorkDone {
    /// What a work's task ended with (a found report, or a trip whose export the driver
    /// wrote to the window's file).
    ///
    /// # Errors
    ///
    /// An output no work's task gives (a bug).
    pub fn from_output(output: TaskOutput) -> Result<Self, Error> {
        match output {
            TaskOutput::Report(report) => Ok(Self::Resolved(report.id)),
            TaskOutput::ReportId(id) => Ok(Self::Resolved(id)),
            other => {
                let (_run, summary) = other.into_trip()?;
                Ok(Self::Written {
                    rows: summary.rows,
                    bytes: summary.bytes_written,
                    limits: Some(Box::new(summary.meta)),
                })
            }
        }
    }

    /// The same, with the rows and bytes of the file as written (a typed table made from the
    /// export, whose size is not the export's).
    pub fn rewritten(self, rows: Option<u64>, bytes: u64) -> Self {
        match self {
            Self::Written { limits, .. } => Self::Written {
                rows,
                bytes,
                limits,
            },
            resolved => resolved,
        }
    }
}

/// Something that happened, for a progress display or a scheduler reading JSON lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PullEvent {
    /// The report's windows for this pull.
    Planned {
        /// The report's key.
        report: String,
        /// Windows in all (split ones counted as their parts).
        windows: usize,
        /// Of which already done by earlier pulls.
        done: usize,
    },
    /// A window's run is being started (or taken up again).
    Started {
        /// The report's key.
        report: String,
        /// First day.
        start: CivilDate,
        /// The day after the last.
        end: CivilDate,
    },
    /// A status seen while waiting for a window's run.
    Status {
        /// The report's key.
        report: String,
        /// First day.
        start: CivilDate,
        /// The run's status.
        status: String,
    },
    /// A window's file is in place and recorded.
    Done {
        /// The report's key.
        report: String,
        /// First day.
        start: CivilDate,
        /// The day after the last.
        end: CivilDate,
        /// Rows, when counted.
        rows: Option<u64>,
        /// Bytes written.
        bytes: u64,
        /// The file.
        file: String,
    },
    /// A window failed and will be tried again.
    Retry {
        /// The report's key.
        report: String,
        /// First day.
        start: CivilDate,
        /// Which try comes next (2 is the first retry).
        attempt: u32,
        /// The back-off, in milliseconds.
        after_ms: u64,
        /// What went wrong.
        error: String,
    },
    /// A window was too big and is pulled as two halves.
    Split {
        /// The report's key.
        report: String,
        /// First day.
        start: CivilDate,
        /// The day after the last.
        end: CivilDate,
        /// Where the halves meet.
        middle: CivilDate,
        /// What went wrong.
        error: String,
    },
    /// A window failed for good.
    Failed {
        /// The report's key.
        report: String,
        /// First day, when a window failed (none: the whole report).
        start: Option<CivilDate>,
        /// What went wrong.
        error: String,
    },
    /// The pull slowed down: at most this many runs in flight for now.
    Slowed {
        /// Runs in flight allowed.
        concurrency: usize,
        /// Why.
        reason: String,
    },
}

/// One report's line of the summary (and of a progress display).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportLine {
    /// The report's key.
    pub report: String,
    /// Windows in all.
    pub windows: usize,
    /// Windows done, by this pull or earlier ones.
    pub done: usize,
    /// Windows pulled by this pull.
    pub pulled: usize,
    /// Windows that failed for good in this pull.
    pub failed: usize,
    /// Rows written by this pull (counted formats only).
    pub rows: u64,
    /// Bytes written by this pull.
    pub bytes: u64,
    /// Time from this report's first start to its last finish, in milliseconds.
    pub millis: u64,
    /// What it is doing, or its last error.
    pub status: String,
}

/// How a pull ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullSummary {
    /// One line per report, in the jobs file's order.
    pub reports: Vec<ReportLine>,
    /// Whether it was interrupted (every in-flight run cancelled, the state consistent).
    pub interrupted: bool,
}

impl PullSummary {
    /// Every window of every report is done.
    pub fn all_done(&self) -> bool {
        !self.interrupted
            && self
                .reports
                .iter()
                .all(|r| r.failed == 0 && r.done == r.windows)
    }
}

struct Pending {
    window: Window,
    /// Tries so far in this pull.
    tries: u32,
    not_before: Option<Instant>,
}

struct Progress {
    entry: ReportEntry,
    fingerprint: String,
    resolved: Option<ReportId>,
    resolving: bool,
    /// Searches for the report's name that failed and may be tried again.
    resolve_failures: u32,
    /// Why the whole report failed.
    failed: Option<String>,
    queue: VecDeque<Pending>,
    windows: usize,
    done: usize,
    pulled: usize,
    failed_windows: usize,
    rows: u64,
    bytes: u64,
    first_start: Option<Instant>,
    last_finish: Option<Instant>,
    status: String,
}

struct Flight {
    report: usize,
    /// A window's work: the pending window it pulls; `None` for a search.
    window: Option<Pending>,
    /// The last status seen, with how long the run had been going.
    last_run: Option<(RunStatus, Duration)>,
}

/// A pull under way.
pub struct Pull {
    spec: PullSpec,
    state: PullState,
    reports: Vec<Progress>,
    limit: usize,
    in_flight: BTreeMap<u64, Flight>,
    next_id: u64,
    paused_until: Option<Instant>,
    interrupted: bool,
    events: Vec<PullEvent>,
}

impl std::fmt::Debug for Pull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pull")
            .field("reports", &self.reports.len())
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

/// What identifies a report entry's windows: the same entry makes the same keys.
fn fingerprint(entry: &ReportEntry) -> String {
    let report = match &entry.report {
        ReportRef::Id(id) => format!("id:{id}"),
        ReportRef::Name(name) => format!("name:{}", name.as_str()),
    };
    let filters = serde_json::to_string(&entry.filters).unwrap_or_default();
    let window = entry
        .window
        .as_ref()
        .map(|w| format!("{}:{}", w.field, w.field_type.as_str()))
        .unwrap_or_default();
    format!("{report}|{}|{filters}|{window}", entry.view.as_str())
}

/// FNV-1a, 128 bits: a stable digest for idempotency keys (the same input gives the same
/// key in every version and on every machine, which a keyed hasher does not promise).
/// Collisions only matter between one tenant's own windows; cryptographic strength is not
/// needed.
fn fnv1a_128(parts: &[&str]) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut hash = OFFSET;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u128::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

/// The window's idempotency key: the same entry, window and restart count give the same key,
/// so a rerun after a crash gets the run the first attempt started (Zuora replays for 24 h).
pub fn window_key(fingerprint: &str, window: &Window, restarts: u32) -> String {
    let digest = fnv1a_128(&[
        fingerprint,
        &window.start.to_string(),
        &window.end.to_string(),
        &restarts.to_string(),
    ]);
    format!("zuora-pull-{digest:032x}")
}

/// Every window of `spec`'s report that this pull should have, splits applied.
fn plan(entry: &ReportEntry, state: &ReportState, today: CivilDate) -> Vec<Window> {
    let base = match &entry.window {
        Some(window) => window
            .size
            .cut(window.start, window.until.end(today), MAX_WINDOWS),
        // A report without windows is pulled whole once a day: the window is the day.
        None => vec![Window {
            start: today,
            end: today.add_days(1).unwrap_or(today),
        }],
    };
    let mut windows = Vec::with_capacity(base.len());
    let mut stack: Vec<Window> = base.into_iter().rev().collect();
    // Bounded: each split halves a window, so a window is split at most ~17 times.
    while let Some(window) = stack.pop() {
        match window.halves().filter(|_| state.split.contains(&window)) {
            Some((first, second)) if windows.len() + stack.len() < MAX_WINDOWS => {
                stack.push(second);
                stack.push(first);
            }
            _ => windows.push(window),
        }
    }
    windows
}

impl Pull {
    /// A pull of `spec`'s reports, continuing from `state`, with `today`'s date (UTC: what
    /// `until = "yesterday"` counts from).
    pub fn new(spec: PullSpec, state: PullState, today: CivilDate) -> Self {
        let mut events = Vec::new();
        let reports = spec
            .reports
            .iter()
            .map(|entry| {
                let fingerprint = fingerprint(entry);
                let report_state = state.reports.get(&entry.key).cloned().unwrap_or_default();
                let windows = plan(entry, &report_state, today);
                let mut failed = None;
                if !report_state.fingerprint.is_empty() && report_state.fingerprint != fingerprint {
                    failed = Some(format!(
                        "the report entry changed since its state was written (report, view, filters or window field): give it a new `key`, or remove {:?} from the state file",
                        entry.key
                    ));
                }
                let done = windows.iter().filter(|w| report_state.is_done(w)).count();
                let queue: VecDeque<Pending> = windows
                    .iter()
                    .filter(|w| !report_state.is_done(w))
                    .map(|window| Pending {
                        window: *window,
                        tries: 0,
                        not_before: None,
                    })
                    .collect();
                events.push(PullEvent::Planned {
                    report: entry.key.clone(),
                    windows: windows.len(),
                    done,
                });
                if let Some(error) = &failed {
                    events.push(PullEvent::Failed {
                        report: entry.key.clone(),
                        start: None,
                        error: error.clone(),
                    });
                }
                let resolved = match &entry.report {
                    ReportRef::Id(id) => Some(id.clone()),
                    ReportRef::Name(_) => None,
                };
                Progress {
                    entry: entry.clone(),
                    fingerprint,
                    resolved,
                    resolving: false,
                    resolve_failures: 0,
                    failed_windows: if failed.is_some() { queue.len() } else { 0 },
                    status: failed.clone().unwrap_or_else(|| "waiting".to_owned()),
                    failed,
                    queue,
                    windows: windows.len(),
                    done,
                    pulled: 0,
                    rows: 0,
                    bytes: 0,
                    first_start: None,
                    last_finish: None,
                }
            })
            .collect();
        Self {
            limit: spec.concurrency,
            spec,
            state,
            reports,
            in_flight: BTreeMap::new(),
            next_id: 1,
            paused_until: None,
            interrupted: false,
            events,
        }
    }

    /// A driver's turn at `now`: the interrupt taken in when `stop` (a driver's control was
    /// set), the next step, and the events with the lines to show them with.
    pub fn turn(&mut self, now: Instant, stop: bool) -> Turn {
        if stop {
            self.interrupt();
        }
        let step = self.next(now);
        let events = self.take_events();
        let lines = if events.is_empty() {
            Vec::new()
        } else {
            self.lines(now)
        };
        Turn {
            step,
            events,
            lines,
        }
    }

    /// The next step at `now`.
    pub fn next(&mut self, now: Instant) -> PullStep {
        if self.interrupted {
            return if self.in_flight.is_empty() {
                PullStep::Done(self.summary(now))
            } else {
                PullStep::AwaitAny
            };
        }
        if self.in_flight.len() >= self.limit {
            return PullStep::AwaitAny;
        }
        if let Some(until) = self.paused_until {
            if until > now {
                return PullStep::Sleep(until - now);
            }
            self.paused_until = None;
        }
        let mut soonest: Option<Instant> = None;
        // Reports take turns: the report with the fewest windows in flight goes first, so one
        // long report does not hold every slot.
        let mut order: Vec<usize> = (0..self.reports.len()).collect();
        order.sort_by_key(|&index| {
            self.in_flight
                .values()
                .filter(|flight| flight.report == index)
                .count()
        });
        for index in order {
            let progress = &mut self.reports[index];
            if progress.failed.is_some() || progress.resolving || progress.queue.is_empty() {
                continue;
            }
            let Some(report_id) = progress.resolved.clone() else {
                progress.resolving = true;
                progress.status = "finding the report".to_owned();
                let report = progress.entry.report.clone();
                return PullStep::Start(self.launch(index, None, WorkKind::Resolve(report), now));
            };
            let Some(position) = progress
                .queue
                .iter()
                .position(|p| p.not_before.is_none_or(|at| at <= now))
            else {
                soonest = progress
                    .queue
                    .iter()
                    .filter_map(|p| p.not_before)
                    .chain(soonest)
                    .min();
                continue;
            };
            let Some(pending) = progress.queue.remove(position) else {
                continue;
            };
            let kind = self.window_work(index, &report_id, &pending);
            let window = pending.window;
            self.events.push(PullEvent::Started {
                report: self.reports[index].entry.key.clone(),
                start: window.start,
                end: window.end,
            });
            self.reports[index].status = format!("running {}", window.start);
            return PullStep::Start(self.launch(index, Some(pending), kind, now));
        }
        match soonest {
            // A back-off: the driver wakes then, or when work in flight finishes first.
            Some(at) => PullStep::Sleep(at.saturating_duration_since(now)),
            None if self.in_flight.is_empty() => PullStep::Done(self.summary(now)),
            None => PullStep::AwaitAny,
        }
    }

    fn window_work(&self, index: usize, report_id: &ReportId, pending: &Pending) -> WorkKind {
        let progress = &self.reports[index];
        let entry = &progress.entry;
        let window = pending.window;
        let mut filters = entry.filters.clone();
        if let Some(spec) = &entry.window {
            // Groups are joined with AND: the base filters, then the window.
            filters.push(FilterGroup::all([
                FilterClause::new(
                    spec.field.clone(),
                    spec.field_type.as_str(),
                    FilterOperator::GreaterOrEqual,
                    window.start.to_string(),
                ),
                FilterClause::new(
                    spec.field.clone(),
                    spec.field_type.as_str(),
                    FilterOperator::LessThan,
                    window.end.to_string(),
                ),
            ]));
        }
        let restarts = self
            .state
            .reports
            .get(&entry.key)
            .map_or(0, |state| state.restarts_of(&window));
        let key = window_key(&progress.fingerprint, &window, restarts);
        let options = RunReportOptions {
            filters,
            // A 43-character key of visible ASCII always passes the header's rules.
            idempotency_key: key.parse::<IdempotencyKey>().ok(),
            track_id: None,
        };
        let format = self.spec.format;
        WorkKind::Window {
            report_id: report_id.clone(),
            view: entry.view,
            options,
            window,
            out: fill_template(
                &self.spec.out,
                &entry.file_stem,
                window.start,
                window.end,
                format.extension(),
            ),
            format,
        }
    }

    fn launch(
        &mut self,
        index: usize,
        window: Option<Pending>,
        kind: WorkKind,
        now: Instant,
    ) -> Work {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        let progress = &mut self.reports[index];
        progress.first_start.get_or_insert(now);
        self.in_flight.insert(
            id,
            Flight {
                report: index,
                window,
                last_run: None,
            },
        );
        Work {
            id,
            report: progress.entry.key.clone(),
            kind,
        }
    }

    /// A status seen while waiting for work `id`'s run: recorded, and the answer for the
    /// wait (stop and cancel the run once the pull is interrupted).
    pub fn observe(
        &mut self,
        id: u64,
        run: &ReportRun,
        now_wall: std::time::SystemTime,
    ) -> WaitControl {
        if let Some(flight) = self.in_flight.get_mut(&id) {
            let ran = run
                .started_on
                .and_then(|started| now_wall.duration_since(started).ok())
                .unwrap_or_default();
            let ran = match (run.started_on, run.updated_on) {
                (Some(started), Some(updated)) if !run.status.in_progress() => {
                    updated.duration_since(started).unwrap_or(ran)
                }
                _ => ran,
            };
            flight.last_run = Some((run.status.clone(), ran));
            if let (Some(progress), Some(pending)) =
                (self.reports.get_mut(flight.report), &flight.window)
            {
                progress.status = format!("{} {}", run.status.as_str(), pending.window.start);
                self.events.push(PullEvent::Status {
                    report: progress.entry.key.clone(),
                    start: pending.window.start,
                    status: run.status.as_str().to_owned(),
                });
            }
        }
        if self.interrupted {
            WaitControl::Stop { cancel: true }
        } else {
            WaitControl::Continue
        }
    }

    /// Stop: start nothing more; every wait in flight stops and cancels its run at its next
    /// look. The pull is [`Done`](PullStep::Done) once the work in flight has ended.
    pub fn interrupt(&mut self) {
        self.interrupted = true;
    }

    /// Runs in flight at most (the jobs file's `concurrency`).
    pub fn concurrency(&self) -> usize {
        self.spec.concurrency
    }

    /// Whether [`interrupt`](Self::interrupt) was called.
    pub fn is_interrupted(&self) -> bool {
        self.interrupted
    }

    /// Work `id` ended at `now`. `true` when the state changed: the driver saves
    /// [`state_json`](Self::state_json) before anything else (a window's file is in place by
    /// then: the driver commits it before calling this).
    pub fn finished(&mut self, id: u64, outcome: Result<WorkDone, Error>, now: Instant) -> bool {
        let Some(flight) = self.in_flight.remove(&id) else {
            return false;
        };
        let index = flight.report;
        self.reports[index].last_finish = Some(now);
        match (flight.window, outcome) {
            (None, Ok(WorkDone::Resolved(report_id))) => {
                let progress = &mut self.reports[index];
                progress.resolving = false;
                progress.resolved = Some(report_id);
                progress.status = "found".to_owned();
                false
            }
            (None, outcome) => {
                let progress = &mut self.reports[index];
                progress.resolving = false;
                let error = match outcome {
                    Err(error) if error.kind() == ErrorKind::Interrupted => return false,
                    Err(error)
                        if error.is_retryable()
                            && progress.resolve_failures < self.spec.retries =>
                    {
                        // Looked for again at the next step (the call already backed off).
                        progress.resolve_failures += 1;
                        progress.status = format!("finding the report failed: {error}");
                        return false;
                    }
                    Err(error) => error.to_string(),
                    Ok(_) => "a search ended without a report".to_owned(),
                };
                self.fail_report(index, error);
                false
            }
            (
                Some(pending),
                Ok(WorkDone::Written {
                    rows,
                    bytes,
                    limits,
                }),
            ) => {
                self.limit = (self.limit + 1).min(self.spec.concurrency);
                if let Some(meta) = limits {
                    self.pace(&meta, now);
                }
                let progress = &mut self.reports[index];
                let key = progress.entry.key.clone();
                let file = fill_template(
                    &self.spec.out,
                    &progress.entry.file_stem,
                    pending.window.start,
                    pending.window.end,
                    self.spec.format.extension(),
                );
                progress.done += 1;
                progress.pulled += 1;
                progress.rows = progress.rows.saturating_add(rows.unwrap_or(0));
                progress.bytes = progress.bytes.saturating_add(bytes);
                progress.status = format!("done {}", pending.window.start);
                let fingerprint = progress.fingerprint.clone();
                let state = self.state.reports.entry(key.clone()).or_default();
                state.fingerprint = fingerprint;
                state.done.push(DoneWindow {
                    window: pending.window,
                    rows,
                    bytes,
                    file: file.clone(),
                });
                state.done.sort_by_key(|d| d.window);
                state.high_water_mark = state.compute_high_water_mark();
                self.events.push(PullEvent::Done {
                    report: key,
                    start: pending.window.start,
                    end: pending.window.end,
                    rows,
                    bytes,
                    file,
                });
                true
            }
            (Some(pending), Ok(WorkDone::Resolved(_))) => self.window_failed(
                index,
                pending,
                Error::misuse("a window's work found a report"),
                flight.last_run,
                now,
            ),
            (Some(pending), Err(error)) => {
                self.window_failed(index, pending, error, flight.last_run, now)
            }
        }
    }

    fn window_failed(
        &mut self,
        index: usize,
        mut pending: Pending,
        error: Error,
        last_run: Option<(RunStatus, Duration)>,
        now: Instant,
    ) -> bool {
        let key = self.reports[index].entry.key.clone();
        let window = pending.window;
        if error.kind() == ErrorKind::Interrupted || self.interrupted {
            // Whatever broke once the pull was stopping (a write refused, a wait stopped) is
            // the interrupt: the window is left for the next pull, not failed.
            self.reports[index].queue.push_front(pending);
            self.reports[index].status = "interrupted".to_owned();
            return false;
        }
        let hour_stop = matches!(
            (&error, &last_run),
            (Error::RunEnded { status: RunStatus::Error, .. }, Some((_, ran))) if *ran >= HOUR_STOP
        );
        let too_big = error.status() == Some(504) || hour_stop;
        if too_big {
            let reason = if hour_stop {
                "the run met Zuora's one-hour stop".to_owned()
            } else {
                format!("the export failed with 504 Gateway Time-out ({error})")
            };
            let min_days = i64::from(self.spec.min_window_days.max(1));
            return match window.halves().filter(|(a, _)| a.days() >= min_days) {
                Some((first, second)) => {
                    let state = self.state.reports.entry(key.clone()).or_default();
                    state
                        .fingerprint
                        .clone_from(&self.reports[index].fingerprint);
                    state.split.push(window);
                    state.split.sort();
                    state.split.dedup();
                    let progress = &mut self.reports[index];
                    progress.windows += 1;
                    for half in [second, first] {
                        progress.queue.push_front(Pending {
                            window: half,
                            tries: 0,
                            not_before: None,
                        });
                    }
                    self.events.push(PullEvent::Split {
                        report: key,
                        start: window.start,
                        end: window.end,
                        middle: first.end,
                        error: reason,
                    });
                    true
                }
                None => {
                    let message = format!(
                        "{reason}, and the window {window} cannot be split below {min_days} day(s): make the report smaller (fewer columns, more filters)"
                    );
                    self.window_gave_up(index, window, message);
                    false
                }
            };
        }
        match error.kind() {
            ErrorKind::InvalidInput
            | ErrorKind::Authentication
            | ErrorKind::PermissionDenied
            | ErrorKind::ReportNotFound
            | ErrorKind::AmbiguousReportName
            | ErrorKind::WrongViewType
            | ErrorKind::Output
            | ErrorKind::Internal => {
                // Trying again cannot help, and neither can the report's other windows.
                pending.tries += 1;
                self.reports[index].queue.push_front(pending);
                self.fail_report(index, error.to_string());
                return false;
            }
            _ => {}
        }
        let mut state_changed = false;
        if let Error::RunEnded { .. } = error {
            // The run ended without results: the same key would replay it, so the retry
            // starts a new run under the next key, recorded first.
            let state = self.state.reports.entry(key.clone()).or_default();
            state
                .fingerprint
                .clone_from(&self.reports[index].fingerprint);
            *state.restarts.entry(restart_key(&window)).or_default() += 1;
            state_changed = true;
        }
        if error.kind() == ErrorKind::RateLimited {
            let slower = (self.in_flight.len())
                .max(1)
                .min(self.limit.saturating_sub(1).max(1));
            self.limit = slower;
            self.events.push(PullEvent::Slowed {
                concurrency: slower,
                reason: error.to_string(),
            });
        }
        pending.tries += 1;
        if pending.tries > self.spec.retries {
            self.window_gave_up(
                index,
                window,
                format!("{error} (after {} tries)", pending.tries),
            );
            return state_changed;
        }
        let backoff = FIRST_BACKOFF
            .saturating_mul(1u32 << pending.tries.saturating_sub(1).min(10))
            .min(MAX_BACKOFF);
        if error.kind() == ErrorKind::RateLimited {
            // One budget: every report waits, not only this window.
            self.paused_until = Some(now + backoff);
        }
        pending.not_before = Some(now + backoff);
        self.events.push(PullEvent::Retry {
            report: key,
            start: window.start,
            attempt: pending.tries + 1,
            after_ms: u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
            error: error.to_string(),
        });
        self.reports[index].status = format!("retrying {}", window.start);
        self.reports[index].queue.push_front(pending);
        state_changed
    }

    /// What an answer's limits say about the pace: a rate limit used up pauses every start
    /// until it resets (at most [`MAX_BACKOFF`]); no concurrency left keeps the runs in flight
    /// to those already going. One budget for the whole pull.
    fn pace(&mut self, meta: &ResponseMeta, now: Instant) {
        if meta.rate_limit.is_exhausted() {
            let wait = meta
                .rate_limit
                .reset
                .unwrap_or(FIRST_BACKOFF)
                .clamp(FIRST_BACKOFF, MAX_BACKOFF);
            self.paused_until = Some(
                self.paused_until
                    .map_or(now + wait, |at| at.max(now + wait)),
            );
            self.events.push(PullEvent::Slowed {
                concurrency: self.limit,
                reason: format!(
                    "the rate limit is used up: no run starts for {} s",
                    wait.as_secs()
                ),
            });
        }
        if meta.concurrency.remaining == Some(0) {
            let slower = self.in_flight.len().clamp(1, self.limit);
            if slower < self.limit {
                self.limit = slower;
                self.events.push(PullEvent::Slowed {
                    concurrency: slower,
                    reason: "Zuora's concurrency limit is reached".to_owned(),
                });
            }
        }
    }

    fn window_gave_up(&mut self, index: usize, window: Window, error: String) {
        let progress = &mut self.reports[index];
        progress.failed_windows += 1;
        progress.status = format!("failed {}: {error}", window.start);
        self.events.push(PullEvent::Failed {
            report: progress.entry.key.clone(),
            start: Some(window.start),
            error,
        });
    }

    fn fail_report(&mut self, index: usize, error: String) {
        let progress = &mut self.reports[index];
        progress.failed_windows += progress.queue.len();
        progress.queue.clear();
        progress.status = format!("failed: {error}");
        progress.failed = Some(error.clone());
        self.events.push(PullEvent::Failed {
            report: progress.entry.key.clone(),
            start: None,
            error,
        });
    }

    /// What happened since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<PullEvent> {
        std::mem::take(&mut self.events)
    }

    /// The state to save, as JSON.
    pub fn state_json(&self) -> Vec<u8> {
        self.state.to_json()
    }

    /// The state file's path as the jobs file gives it.
    pub fn state_path(&self) -> &str {
        &self.spec.state
    }

    /// Every report's line as it stands.
    pub fn lines(&self, now: Instant) -> Vec<ReportLine> {
        self.reports
            .iter()
            .map(|progress| ReportLine {
                report: progress.entry.key.clone(),
                windows: progress.windows,
                done: progress.done,
                pulled: progress.pulled,
                failed: progress.failed_windows,
                rows: progress.rows,
                bytes: progress.bytes,
                millis: progress
                    .first_start
                    .map(|start| {
                        let end = if progress.queue.is_empty() && progress.last_finish.is_some() {
                            progress.last_finish.unwrap_or(now)
                        } else {
                            now
                        };
                        u64::try_from(end.saturating_duration_since(start).as_millis())
                            .unwrap_or(u64::MAX)
                    })
                    .unwrap_or(0),
                status: progress.status.clone(),
            })
            .collect()
    }

    fn summary(&self, now: Instant) -> PullSummary {
        PullSummary {
            reports: self.lines(now),
            interrupted: self.interrupted,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test fails.

    use super::*;
    use crate::driver::{TransportErrorKind, TransportFailure};
    use crate::pulls::parse_jobs;
    use crate::responses::{ResponseError, ResponseErrorKind};

    const ID: &str = "ff808081529f4e3401529fd373730070";

    fn pull_of(text: &str) -> Pull {
        let spec = parse_jobs(text, "jobs.toml", &mut |_| Err("no files".to_owned())).unwrap();
        Pull::new(
            spec,
            PullState::default(),
            CivilDate::parse("2026-12-05").unwrap(),
        )
    }

    fn months(concurrency: usize, months: u32, reports: &[&str]) -> String {
        let mut text = format!("concurrency = {concurrency}\nretries = 2\n");
        for report in reports {
            let which = if report.len() == 32 { "id" } else { "name" };
            text.push_str(&format!(
                "[[report]]\n{which} = \"{report}\"\n[report.window]\nfield = \"Invoice.CreatedDate\"\nstart = 2015-01-01\nsize = \"{months} months\"\nuntil = 2015-06-30\n"
            ));
        }
        text
    }

    fn answered(status: u16) -> Error {
        let meta = ResponseMeta::from_parts(
            http::StatusCode::from_u16(status).unwrap(),
            &http::HeaderMap::new(),
        );
        Error::Api(ResponseError::new(
            meta,
            ResponseErrorKind::Message {
                message: "from the server".to_owned(),
            },
        ))
    }

    fn started(step: PullStep) -> Work {
        match step {
            PullStep::Start(work) => work,
            other => panic!("expected a start, got {other:?}"),
        }
    }

    fn key(work: &Work) -> String {
        match &work.kind {
            WorkKind::Window { options, .. } => {
                options.idempotency_key.clone().unwrap().as_str().to_owned()
            }
            WorkKind::Resolve(_) => panic!("a search has no key"),
        }
    }

    fn written() -> Result<WorkDone, Error> {
        Ok(WorkDone::Written {
            rows: Some(3),
            bytes: 100,
            limits: None,
        })
    }

    #[test]
    fn names_are_found_first_and_at_most_concurrency_run() {
        let mut pull = pull_of(&months(2, 2, &["Invoice Detail", "Payments Detail"]));
        let now = Instant::now();
        let first = started(pull.next(now));
        assert!(first.output().is_none(), "a search writes nothing");
        let second = started(pull.next(now));
        assert!(matches!(pull.next(now), PullStep::AwaitAny));
        let id: ReportId = ID.parse().unwrap();
        assert!(!pull.finished(first.id(), Ok(WorkDone::Resolved(id)), now));
        let window = started(pull.next(now));
        assert_eq!(
            window.window().map(|w| w.start.to_string()).as_deref(),
            Some("2015-01-01")
        );
        let (out, _) = window.output().unwrap();
        assert_eq!(out, "Invoice_Detail/2015-01-01_2015-03-01.csv");
        assert!(matches!(pull.next(now), PullStep::AwaitAny));
        assert!(!pull.finished(
            second.id(),
            Err(Error::ReportNotFound {
                name: "Payments Detail".to_owned()
            }),
            now
        ));
        // Payments failed as a whole; Invoice goes on.
        let next = started(pull.next(now));
        assert_eq!(next.report(), "Invoice Detail");
    }

    #[test]
    fn a_broken_connection_backs_off_and_keeps_the_key() {
        let mut pull = pull_of(&months(1, 6, &[ID]));
        let now = Instant::now();
        let work = started(pull.next(now));
        let failure = TransportFailure::new(TransportErrorKind::Io, true, "reset");
        assert!(!pull.finished(work.id(), Err(Error::Transport(failure)), now));
        let PullStep::Sleep(delay) = pull.next(now) else {
            panic!("a back-off")
        };
        assert_eq!(delay, FIRST_BACKOFF);
        let again = started(pull.next(now + delay));
        assert_eq!(key(&again), key(&work), "the same run is taken up again");
        assert!(pull.finished(again.id(), written(), now));
        let events = pull.take_events();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, PullEvent::Retry { attempt: 2, .. }))
        );
        let summary = match pull.next(now) {
            PullStep::Done(summary) => summary,
            other => panic!("{other:?}"),
        };
        assert!(summary.all_done());
        assert_eq!(summary.reports[0].rows, 3);
    }

    #[test]
    fn a_run_that_ended_is_started_afresh_under_a_new_key_recorded_first() {
        let mut pull = pull_of(&months(1, 6, &[ID]));
        let now = Instant::now();
        let work = started(pull.next(now));
        let ended = Error::RunEnded {
            run_id: ID.parse().unwrap(),
            status: RunStatus::Error,
        };
        assert!(
            pull.finished(work.id(), Err(ended), now),
            "the restart is saved first"
        );
        let state = PullState::from_json(&pull.state_json()).unwrap();
        assert_eq!(
            state.reports[ID].restarts.get("2015-01-01/2015-07-01"),
            Some(&1)
        );
        let again = started(pull.next(now + Duration::from_secs(2)));
        assert_ne!(key(&again), key(&work));
        // A rerun from the saved state makes the same new key.
        let spec = parse_jobs(&months(1, 6, &[ID]), "jobs.toml", &mut |_| {
            Err(String::new())
        })
        .unwrap();
        let mut rerun = Pull::new(spec, state, CivilDate::parse("2026-12-05").unwrap());
        assert_eq!(key(&started(rerun.next(now))), key(&again));
    }

    #[test]
    fn a_504_splits_the_window_and_the_state_keeps_the_split() {
        let mut pull = pull_of(&months(1, 6, &[ID]));
        let now = Instant::now();
        let work = started(pull.next(now));
        assert!(pull.finished(work.id(), Err(answered(504)), now));
        let first = started(pull.next(now));
        let window = first.window().unwrap();
        assert_eq!(
            (window.start.to_string(), window.end.to_string()),
            ("2015-01-01".to_owned(), "2015-04-01".to_owned())
        );
        assert!(pull.finished(first.id(), written(), now));
        let second = started(pull.next(now));
        assert_eq!(second.window().unwrap().start.to_string(), "2015-04-01");
        let state = PullState::from_json(&pull.state_json()).unwrap();
        assert_eq!(state.reports[ID].split.len(), 1);
        let mark = state.reports[ID].high_water_mark.map(|d| d.to_string());
        assert_eq!(mark.as_deref(), Some("2015-04-01"));
        // A rerun plans the halves, and skips the one done.
        let spec = parse_jobs(&months(1, 6, &[ID]), "jobs.toml", &mut |_| {
            Err(String::new())
        })
        .unwrap();
        let mut rerun = Pull::new(spec, state, CivilDate::parse("2026-12-05").unwrap());
        assert_eq!(started(rerun.next(now)).window(), second.window());
    }

    #[test]
    fn a_window_that_cannot_be_split_further_fails_with_a_clear_message() {
        let text = format!(
            "[[report]]\nid = \"{ID}\"\n[report.window]\nfield = \"Invoice.CreatedDate\"\nstart = 2015-01-01\nsize = \"1 day\"\nuntil = 2015-01-01\n"
        );
        let mut pull = pull_of(&text);
        let now = Instant::now();
        let work = started(pull.next(now));
        pull.finished(work.id(), Err(answered(504)), now);
        let summary = match pull.next(now) {
            PullStep::Done(summary) => summary,
            other => panic!("{other:?}"),
        };
        assert!(!summary.all_done());
        assert_eq!(summary.reports[0].failed, 1);
        assert!(
            summary.reports[0].status.contains("cannot be split"),
            "{}",
            summary.reports[0].status
        );
    }

    #[test]
    fn a_rate_limit_slows_the_whole_pull() {
        let mut pull = pull_of(&months(1, 1, &[ID]).replace("concurrency = 1", "concurrency = 3"));
        let now = Instant::now();
        let works: Vec<Work> = (0..3).map(|_| started(pull.next(now))).collect();
        assert!(matches!(pull.next(now), PullStep::AwaitAny));
        pull.finished(works[0].id(), Err(answered(429)), now);
        assert!(
            pull.take_events()
                .iter()
                .any(|e| matches!(e, PullEvent::Slowed { concurrency: 2, .. }))
        );
        // Two still in flight, the limit is two: nothing starts, even after the back-off.
        assert!(matches!(pull.next(now + MAX_BACKOFF), PullStep::AwaitAny));
        pull.finished(works[1].id(), written(), now);
        // Every report waits out the back-off.
        assert!(matches!(pull.next(now), PullStep::Sleep(_)));
        assert!(matches!(pull.next(now + MAX_BACKOFF), PullStep::Start(_)));
    }

    #[test]
    fn used_up_limits_pace_every_report() {
        let mut pull = pull_of(&months(1, 1, &[ID]).replace("concurrency = 1", "concurrency = 3"));
        let now = Instant::now();
        let works: Vec<Work> = (0..3).map(|_| started(pull.next(now))).collect();
        let mut headers = http::HeaderMap::new();
        headers.insert("ratelimit-remaining", http::HeaderValue::from_static("0"));
        headers.insert("ratelimit-reset", http::HeaderValue::from_static("7"));
        headers.insert(
            "concurrency-limit-remaining",
            http::HeaderValue::from_static("0"),
        );
        let meta = ResponseMeta::from_parts(http::StatusCode::OK, &headers);
        let done = WorkDone::Written {
            rows: Some(1),
            bytes: 1,
            limits: Some(Box::new(meta)),
        };
        pull.finished(works[0].id(), Ok(done), now);
        // Two in flight, and no concurrency left: two at most from now on; nothing starts
        // until the rate limit resets.
        pull.finished(works[1].id(), written(), now);
        assert!(matches!(pull.next(now), PullStep::Sleep(d) if d == Duration::from_secs(7)));
        assert!(matches!(
            pull.next(now + Duration::from_secs(7)),
            PullStep::Start(_)
        ));
    }

    #[test]
    fn an_interrupted_pull_starts_nothing_and_stops_waits() {
        let mut pull = pull_of(&months(2, 1, &[ID]));
        let now = Instant::now();
        let work = started(pull.next(now));
        pull.interrupt();
        let run = ReportRun {
            id: "ff808081529f4e3401529fd61f080074".parse().unwrap(),
            report_id: None,
            report_type: None,
            status: RunStatus::parse("PROCESSINGDATA"),
            started_on: None,
            updated_on: None,
            report_definition: None,
            meta: ResponseMeta::from_parts(http::StatusCode::OK, &http::HeaderMap::new()),
        };
        assert_eq!(
            pull.observe(work.id(), &run, std::time::SystemTime::now()),
            WaitControl::Stop { cancel: true }
        );
        assert!(matches!(pull.next(now), PullStep::AwaitAny));
        pull.finished(
            work.id(),
            Err(Error::Interrupted {
                run_id: None,
                cancelled: true,
            }),
            now,
        );
        let PullStep::Done(summary) = pull.next(now) else {
            panic!("done")
        };
        assert!(summary.interrupted);
        assert_eq!(
            summary.reports[0].failed, 0,
            "an interrupted window is not a failed one"
        );
    }

    #[test]
    fn a_changed_entry_does_not_continue_the_old_windows() {
        let text = months(1, 6, &[ID]);
        let mut pull = pull_of(&text);
        let now = Instant::now();
        let work = started(pull.next(now));
        pull.finished(work.id(), written(), now);
        let state = PullState::from_json(&pull.state_json()).unwrap();
        let changed = text.replace("Invoice.CreatedDate", "Invoice.UpdatedDate");
        let spec = parse_jobs(&changed, "jobs.toml", &mut |_| Err(String::new())).unwrap();
        let mut rerun = Pull::new(spec, state, CivilDate::parse("2026-12-05").unwrap());
        let PullStep::Done(summary) = rerun.next(now) else {
            panic!("nothing to start")
        };
        assert!(
            summary.reports[0].status.contains("changed"),
            "{}",
            summary.reports[0].status
        );
    }
}
