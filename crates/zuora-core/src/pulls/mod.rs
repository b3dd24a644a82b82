//! Scheduled pulls: many reports, each cut into date windows, each window run and downloaded
//! exactly once, at Zuora's pace, continuing after a crash from a state file.
//!
//! [`parse_jobs`] reads a jobs file into a [`PullSpec`]; [`Pull`] is the scheduler a driver
//! runs (see its module for the loop); [`PullState`] is what the state file holds. Reading
//! and writing files is the driver's (`zuora-os` has the standard library's).
//!
//! Above the machines: a pull's work is the core's tasks.

pub(crate) mod dates;
pub(crate) mod jobs;
pub(crate) mod pull;
pub(crate) mod state;
pub(crate) mod windows;

pub use dates::CivilDate;
pub use jobs::{
    DEFAULT_CONCURRENCY, DEFAULT_RETRIES, FieldType, JobsFileError, MAX_CONCURRENCY, MAX_WINDOWS,
    OutputFormat, PullSpec, ReportEntry, Until, WindowSpec, file_stem, fill_template, parse_jobs,
};
pub use pull::{
    Pull, PullEvent, PullStep, PullSummary, ReportLine, Turn, Work, WorkDone, window_key,
};
pub use state::{DoneWindow, MAX_STATE_BYTES, PullState, ReportState};
pub use windows::{Window, WindowSize};
