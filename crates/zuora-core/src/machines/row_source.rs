//! A rows task as a source a driver pulls rows from, one at a time: the page buffer and
//! what to do with each pause are here, once; the driver only drives the step it is given.

use std::collections::VecDeque;

use crate::driver::transport::Now;
use crate::errors::error::Error;
use crate::machines::session::Session;
use crate::machines::steps::{ExchangeEvent, Paused, Row, TaskStep};
use crate::machines::task::{Task, TaskOutput};

/// What a [`RowSource`] has next.
#[derive(Debug)]
// Made and taken at once, one per row: boxing the step would cost more than its size.
#[allow(clippy::large_enum_variant)]
pub enum NextRow {
    /// A row from the page in hand.
    Row(Row),
    /// The page is used up: drive the task from this step, then hand its pause to
    /// [`RowSource::on_paused`].
    Fetch(TaskStep),
}

/// The rows of a run (a [`Task::rows`]), a page at a time as they are pulled.
///
/// A driver's pull: take [`pull`](Self::pull); on [`NextRow::Fetch`], run its loop over
/// [`task`](Self::task) from the step and give what it ended in to
/// [`on_paused`](Self::on_paused) (an error there is the pull's, and the source is over).
#[derive(Debug)]
pub struct RowSource {
    task: Task,
    /// The task's next step; `None` once it is over.
    step: Option<TaskStep>,
    buffered: VecDeque<Row>,
}

impl RowSource {
    /// The source of a rows task just started.
    pub fn new((task, step): (Task, TaskStep)) -> Self {
        Self {
            task,
            step: Some(step),
            buffered: VecDeque::new(),
        }
    }

    /// The next row, or the step to drive for more; `None` after the last.
    pub fn pull(&mut self) -> Option<NextRow> {
        if let Some(row) = self.buffered.pop_front() {
            return Some(NextRow::Row(row));
        }
        self.step.take().map(NextRow::Fetch)
    }

    /// The task, for the driver's loop.
    pub fn task(&mut self) -> &mut Task {
        &mut self.task
    }

    /// The next row for a driver that drives on the calling thread: `drive` runs its loop
    /// over the task from a step; `now` reads its clock. `None` after the last row (and
    /// after an error, which comes once).
    pub fn next_with<B>(
        &mut self,
        session: &Session,
        now: impl Fn() -> Now,
        mut drive: impl FnMut(&mut Task, TaskStep) -> Result<Paused<TaskOutput, B>, Error>,
    ) -> Option<Result<Row, Error>> {
        loop {
            match self.pull()? {
                NextRow::Row(row) => return Some(Ok(row)),
                NextRow::Fetch(step) => {
                    let paused = drive(&mut self.task, step);
                    if let Some(error) = self.on_paused(session, paused, now()) {
                        return Some(Err(error));
                    }
                }
            }
        }
    }

    /// Where the driver's loop stopped, at `now`: a page is kept and the task resumed; an
    /// error is handed back (and the source is over); the end is the end.
    pub fn on_paused<B>(
        &mut self,
        session: &Session,
        paused: Result<Paused<TaskOutput, B>, Error>,
        now: Now,
    ) -> Option<Error> {
        match paused {
            Ok(Paused::Rows(rows)) => {
                self.buffered.extend(rows);
                self.step = Some(self.task.feed(session, ExchangeEvent::Resumed, now));
                None
            }
            Ok(_) => None,
            Err(error) => Some(error),
        }
    }
}
