//! Receiving an export's body: in the converting task, or in a task of its own that hands
//! each chunk over (with the moment it arrived) while the converting task works on the last
//! ones. On a multi-threaded runtime the two run on two workers, so receiving overlaps
//! converting; on a current-thread runtime they simply take turns. The hand-over is bounded
//! ([`HANDOVER`] pieces), and the receiving task is aborted when the export is dropped. A
//! gzip body is inflated by the receiving task ([`Download::inflate_elsewhere`]), so
//! inflating and converting can each have a worker.
//!
//! [`Download::inflate_elsewhere`]: zuora_core::machines::Download::inflate_elsewhere

use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};

use zuora_core::driver::AsyncBody;
use zuora_core::machines::{Arrived, Download, Inflater, Spare};
use zuora_os::now;

/// Chunks received and not yet converted, at most.
const HANDOVER: usize = 4;

type ArrivedOf<B> = Arrived<<B as AsyncBody>::Chunk, <B as AsyncBody>::Error>;

/// An export's body, read here or in a task of its own.
pub(crate) enum Body<B: AsyncBody> {
    Inline(B),
    Task {
        arrived: tokio::sync::mpsc::Receiver<ArrivedOf<B>>,
        receiving: tokio::task::AbortHandle,
        /// Emptied inflated pieces going back for reuse: a piece is grown once, not
        /// allocated (and page-faulted) per piece.
        spare: SyncSender<Vec<u8>>,
    },
}

/// Inflated pieces kept for reuse, at most.
const SPARES: usize = HANDOVER + 2;

impl<B: AsyncBody + 'static> Body<B> {
    /// In a task of its own when `on_own_task` and a Tokio runtime is at hand (inflating a
    /// gzip body there too); else inline.
    pub(crate) fn new(body: B, on_own_task: bool, download: &mut Download) -> Self {
        let runtime = match tokio::runtime::Handle::try_current() {
            Ok(runtime) if on_own_task => runtime,
            _ => return Self::Inline(body),
        };
        let inflater = download.inflate_elsewhere();
        let (hand, arrived) = tokio::sync::mpsc::channel(HANDOVER);
        // Only ever used with `try_send` and `try_recv`: neither side waits on it.
        let (spare, spares) = sync_channel(SPARES);
        let task = runtime.spawn(async move {
            match inflater {
                None => receive(body, hand).await,
                Some(inflater) => receive_inflating(body, inflater, hand, spares).await,
            }
        });
        Self::Task {
            arrived,
            receiving: task.abort_handle(),
            spare,
        }
    }
}

/// Reads until the end, handing each chunk over as it came.
async fn receive<B: AsyncBody>(mut body: B, hand: tokio::sync::mpsc::Sender<ArrivedOf<B>>) {
    loop {
        let next = Arrived::of_read(body.next_chunk().await, now().instant);
        let last = next.is_last();
        if hand.send(next).await.is_err() || last {
            return;
        }
    }
}

/// Reads and inflates until the end, handing the inflated text over a batch at a time.
async fn receive_inflating<B: AsyncBody>(
    mut body: B,
    mut inflater: Inflater,
    hand: tokio::sync::mpsc::Sender<ArrivedOf<B>>,
    spares: Receiver<Vec<u8>>,
) {
    loop {
        let chunk = match body.next_chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => {
                let _ = hand.send(inflater.end()).await;
                return;
            }
            Err(error) => {
                let _ = hand.send(Arrived::Failed(error)).await;
                return;
            }
        };
        let (chunk, at) = (chunk.as_ref(), now().instant);
        let mut taken = 0;
        while taken < chunk.len() {
            let piece = match spares.try_recv() {
                Ok(piece) => piece,
                Err(TryRecvError::Empty) => Vec::with_capacity(PIECE),
                Err(TryRecvError::Disconnected) => return,
            };
            let (took, next) = inflater.next_piece(&chunk[taken..], piece, at);
            taken += took;
            let last = next.is_last();
            if hand.send(next).await.is_err() || last {
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
            Self::Task { arrived, .. } => arrived
                .recv()
                .await
                .ok_or("the receiving task ended without a word"),
        }
    }
}

impl<B: AsyncBody> Body<B> {
    /// Hands an emptied inflated piece back to the receiving task for reuse (a chunk of
    /// the transport's is its own to drop).
    pub(crate) fn give_back(&self, emptied: Option<Spare<B::Chunk>>) {
        if let (Self::Task { spare, .. }, Some(Spare::Inflated(piece))) = (self, emptied) {
            let _ = spare.try_send(piece);
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
