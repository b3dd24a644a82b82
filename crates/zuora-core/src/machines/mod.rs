//! The engine: state machines a driver feeds events and asks for the next action (one call
//! and its retries, paging, waiting for a run, downloading an export, every user-level
//! operation as a [`Task`]), the token cache and the entropy for ids and jitter.
//!
//! The top layer: it may use every module below it.

pub(crate) mod call;
pub(crate) mod download;
pub(crate) mod entropy;
pub(crate) mod paging;
pub(crate) mod row_source;
#[cfg(test)]
pub(crate) mod scripted;
pub(crate) mod session;
pub(crate) mod steps;
pub(crate) mod task;
pub(crate) mod token_cache;
pub(crate) mod wait;

pub use call::{Call, Step};
pub use download::{
    AnswerBody, Arrived, Download, DownloadNext, ExportHead, Handover, Inflater, OUTPUT_BATCH,
    Refills, Spare,
};
pub use entropy::Entropy;
pub use paging::{DEFAULT_MAX_PAGES, DataPages, PageGuard, SearchAll};
pub use row_source::{NextRow, RowSource};
pub use session::{Exchange, Session};
pub use steps::{Action, ExchangeEvent, Paused, Row, Sent, TOKEN_LOOK_AGAIN, TaskStep};
pub use task::{BodyProgress, Machine, Receive, Task, TaskOutput};
pub use token_cache::{TOKEN_REFRESH_MARGIN, TokenCache};
pub use wait::{CANCEL_GRACE, Wait, WaitControl, WaitStep};
