//! Receiving an export's body: in the converting task, or in a task of its own that hands
//! each chunk over (with the moment it arrived) while the converting task works on the last
//! ones. On a multi-threaded runtime the two run on two workers, so receiving overlaps
//! converting; on a current-thread runtime they simply take turns. The hand-over is bounded
//! and a full one is refilled in batches, as the core's [`Handover`] says ([`Hand`]), and the
//! receiving task is aborted when the export is dropped. A
//! gzip body is inflated by the receiving task ([`Download::inflate_elsewhere`]), so
//! inflating and converting can each have a worker. What the converting task is done with
//! goes back to the receiving task ([`Body::give_back`]): an inflated piece to be filled
//! again, a transport's chunk to be freed there.
//!
//! [`Download::inflate_elsewhere`]: zuora_core::machines::Download::inflate_elsewhere

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};

use tokio::sync::Notify;
use tokio::sync::mpsc::error::TrySendError;

use zuora_core::driver::AsyncBody;
use zuora_core::machines::{Arrived, Download, Handover, Inflater, Refills, Spare};
use zuora_os::now;

type ArrivedOf<B> = Arrived<<B as AsyncBody>::Chunk, <B as AsyncBody>::Error>;

/// The receiving task's end of the hand-over. When it is full, the receiving task waits
/// until the converting task has taken [`Handover::refill`] pieces, not one (woken by the
/// converting task, an `eventfd` write on its thread, the worker being parked on the socket).
struct Hand<C, E> {
    chunks: tokio::sync::mpsc::Sender<Arrived<C, E>>,
    room: Arc<Notify>,
}

impl<C, E> Hand<C, E> {
    /// Hands `next` over, waiting for room when the hand-over is full; `false` once the
    /// converting side is gone.
    async fn give(&self, mut next: Arrived<C, E>) -> bool {
        loop {
            match self.chunks.try_send(next) {
                Ok(()) => return true,
                Err(TrySendError::Closed(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    next = back;
                    // A signal given before this wait is kept, so none is missed: at
                    // worst the retry finds the hand-over still full and waits again.
                    self.room.notified().await;
                }
            }
        }
    }
}

/// An export's body, read here or in a task of its own.
pub(crate) enum Body<B: AsyncBody> {
    Inline(B),
    Task {
        arrived: tokio::sync::mpsc::Receiver<ArrivedOf<B>>,
        /// Signalled as `refills` says (see [`Hand`]).
        room: Arc<Notify>,
        refills: Refills,
        receiving: tokio::task::AbortHandle,
        /// What the converting task is done with, going back (see [`Body::give_back`]).
        spare: SyncSender<Spare<B::Chunk>>,
    },
}

impl<B: AsyncBody + 'static> Body<B> {
    /// In a task of its own when `on_own_task` and a Tokio runtime is at hand (inflating a
    /// gzip body there too); else inline.
    pub(crate) fn new(body: B, on_own_task: bool, download: &mut Download) -> Self {
        let runtime = match tokio::runtime::Handle::try_current() {
            Ok(runtime) if on_own_task => runtime,
            _ => return Self::Inline(body),
        };
        let inflater = download.inflate_elsewhere();
        let handover = Handover::of(inflater.is_some());
        let (chunks, arrived) = tokio::sync::mpsc::channel(handover.capacity);
        let room = Arc::new(Notify::new());
        let hand = Hand {
            chunks,
            room: Arc::clone(&room),
        };
        // Only ever used with `try_send` and `try_recv`: neither side waits on it.
        let (spare, spares) = sync_channel(handover.spares());
        let task = runtime.spawn(async move {
            match inflater {
                None => receive(body, hand, spares).await,
                Some(inflater) => receive_inflating(body, inflater, hand, spares).await,
            }
        });
        Self::Task {
            arrived,
            room,
            refills: handover.refills(),
            receiving: task.abort_handle(),
            spare,
        }
    }
}

/// Reads until the end, handing each chunk over as it came, and frees the chunks the
/// converting task gave back.
async fn receive<B: AsyncBody>(
    mut body: B,
    hand: Hand<B::Chunk, B::Error>,
    spares: Receiver<Spare<B::Chunk>>,
) {
    loop {
        while spares.try_recv().is_ok() {}
        let next = Arrived::of_read(body.next_chunk().await, now().instant);
        let last = next.is_last();
        if !hand.give(next).await || last {
            return;
        }
    }
}

/// Reads and inflates until the end, handing the inflated text over a batch at a time.
async fn receive_inflating<B: AsyncBody>(
    mut body: B,
    mut inflater: Inflater,
    hand: Hand<B::Chunk, B::Error>,
    spares: Receiver<Spare<B::Chunk>>,
) {
    loop {
        let chunk = match body.next_chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => {
                hand.give(inflater.end()).await;
                return;
            }
            Err(error) => {
                hand.give(Arrived::Failed(error)).await;
                return;
            }
        };
        let (chunk, at) = (chunk.as_ref(), now().instant);
        let mut taken = 0;
        while taken < chunk.len() {
            let piece = loop {
                match spares.try_recv() {
                    Ok(Spare::Inflated(piece)) => break piece,
                    // Not one of this task's pieces: freed here, and look again.
                    Ok(Spare::Chunk(_)) => {}
                    Err(TryRecvError::Empty) => break Vec::with_capacity(PIECE),
                    Err(TryRecvError::Disconnected) => return,
                }
            };
            let (took, next) = inflater.next_piece(&chunk[taken..], piece, at);
            taken += took;
            let last = next.is_last();
            if !hand.give(next).await || last {
                return;
            }
        }
    }
}

/// A new inflated piece's first capacity; it grows (by doubling) as it is filled.
const PIECE: usize = 64 * 1024;

impl<B: AsyncBody + 'static> Body<B> {
    /// The next chunk, the end, or why the body broke off.
    pub(crate) async fn next(&mut self) -> Result<ArrivedOf<B>, &'static str> {
        match self {
            Self::Inline(body) => Ok(Arrived::of_read(body.next_chunk().await, now().instant)),
            Self::Task {
                arrived,
                room,
                refills,
                ..
            } => {
                let next = arrived.recv().await;
                if refills.took_one() {
                    room.notify_one();
                }
                next.ok_or("the receiving task ended without a word")
            }
        }
    }
}

impl<B: AsyncBody> Body<B> {
    /// Hands what the converting task is done with back to the receiving task: an
    /// inflated piece to be filled again (grown once, not allocated and page-faulted per
    /// piece), a transport's chunk to be freed there. Freeing one here cost the converting
    /// task the allocator's trimming: a chunk's buffer belongs to the receiving thread's
    /// arena, and glibc gave memory back with `madvise` from the thread that freed it
    /// (60 calls, ~5 ms per GiB on the converter's critical path). When the way back is
    /// full, it is freed here after all.
    pub(crate) fn give_back(&self, emptied: Option<Spare<B::Chunk>>) {
        if let (Self::Task { spare, .. }, Some(emptied)) = (self, emptied) {
            let _ = spare.try_send(emptied);
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
