//! Receiving an export's body: in the converting task, or in a task of its own that hands
//! each chunk over (with the moment it arrived) while the converting task works on the last
//! ones. On a multi-threaded runtime the two run on two workers, so receiving overlaps
//! converting; on a current-thread runtime they simply take turns. The hand-over is bounded
//! ([`HANDOVER`] chunks), and the receiving task is aborted when the export is dropped.

use std::time::Instant;

use zuora_core::driver::AsyncBody;
use zuora_os::now;

/// Chunks received and not yet converted, at most.
const HANDOVER: usize = 4;

/// What the next read brought.
pub(crate) enum Arrived<C, E> {
    /// Bytes, and when they arrived (the low-speed rule's clock).
    Chunk(C, Instant),
    /// The body ended cleanly.
    End,
    /// The body broke off (a timeout included).
    Failed(E),
}

type ArrivedOf<B> = Arrived<<B as AsyncBody>::Chunk, <B as AsyncBody>::Error>;

/// An export's body, read here or in a task of its own.
pub(crate) enum Body<B: AsyncBody> {
    Inline(B),
    Task {
        arrived: tokio::sync::mpsc::Receiver<ArrivedOf<B>>,
        receiving: tokio::task::AbortHandle,
    },
}

impl<B: AsyncBody + 'static> Body<B> {
    /// In a task of its own when `on_own_task` and a Tokio runtime is at hand; else inline.
    pub(crate) fn new(mut body: B, on_own_task: bool) -> Self {
        let runtime = match tokio::runtime::Handle::try_current() {
            Ok(runtime) if on_own_task => runtime,
            _ => return Self::Inline(body),
        };
        let (hand, arrived) = tokio::sync::mpsc::channel(HANDOVER);
        let task = runtime.spawn(async move {
            loop {
                let next = match body.next_chunk().await {
                    Ok(Some(chunk)) => Arrived::Chunk(chunk, now().instant),
                    Ok(None) => Arrived::End,
                    Err(error) => Arrived::Failed(error),
                };
                let last = !matches!(next, Arrived::Chunk(..));
                if hand.send(next).await.is_err() || last {
                    return;
                }
            }
        });
        Self::Task {
            arrived,
            receiving: task.abort_handle(),
        }
    }

    /// The next chunk, the end, or why the body broke off.
    pub(crate) async fn next(&mut self) -> Result<ArrivedOf<B>, &'static str> {
        match self {
            Self::Inline(body) => Ok(match body.next_chunk().await {
                Ok(Some(chunk)) => Arrived::Chunk(chunk, now().instant),
                Ok(None) => Arrived::End,
                Err(error) => Arrived::Failed(error),
            }),
            Self::Task { arrived, .. } => arrived
                .recv()
                .await
                .ok_or("the receiving task ended without a word"),
        }
    }
}

impl<B: AsyncBody> Drop for Body<B> {
    fn drop(&mut self) {
        if let Self::Task { receiving, .. } = self {
            receiving.abort();
        }
    }
}
