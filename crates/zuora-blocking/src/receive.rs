//! Receiving an export's body: on the caller's thread, or on a thread of its own that hands
//! each chunk over (with the moment it arrived) while the caller's thread converts the last
//! ones. Converting is the costly half; receiving (the kernel's copy, ureq's buffers) then
//! runs beside it on the other core instead of before it. A gzip body is inflated on the
//! receiving thread too ([`Download::inflate_elsewhere`]), so inflating and converting each
//! have a core. The hand-over is bounded as the core's [`Handover`] says (16 pieces read, of
//! 256 KiB, or 4 inflated, of up to 1 MiB), so memory stays a few MiB whatever the export's
//! size, and a full one is refilled in batches ([`give`]).
//!
//! [`Download::inflate_elsewhere`]: zuora_core::machines::Download::inflate_elsewhere

use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};

use zuora_core::machines::{Handover, Inflater, Refills, Spare};
use zuora_os::now;

/// One read's size. ureq fills its own 512 KiB buffer per `recv` and copies out of it, so a
/// read takes what is there up to this; 256 KiB halves that buffer (two reads per `recv`)
/// and, with its CSV (about 140 KiB), stays well inside a core's 2 MiB L2. 64 KiB cost four
/// times the hand-overs (16,384 per GiB, each a futex wake on the converting thread): 0.93x
/// the converter alone on 1 GiB, where 256 KiB measured 0.96-1.01x (`bench export`).
const CHUNK: usize = 256 * 1024;

/// What the next read brought.
pub(crate) type Arrived = zuora_core::machines::Arrived<Vec<u8>, std::io::Error>;

/// An export's body, read here or on a thread of its own.
pub(crate) enum Body<R> {
    Inline {
        body: R,
        chunk: Vec<u8>,
    },
    Threaded {
        arrived: Receiver<Arrived>,
        /// The receiving thread, unparked as `refills` says (see [`give`]).
        receiving: std::thread::Thread,
        refills: Refills,
        /// Emptied chunks going back for reuse (no allocation per chunk).
        spare: SyncSender<Vec<u8>>,
    },
    /// The thread could not be started: said once, as a broken body.
    Unstarted(Option<std::io::Error>),
}

impl<R: Read + Send + 'static> Body<R> {
    /// Read on the caller's thread, between conversions.
    pub(crate) fn inline(body: R) -> Self {
        Self::Inline {
            body,
            chunk: vec![0; CHUNK],
        }
    }

    /// Read on a thread of its own. The thread ends at the body's end, on a read error, or
    /// at its next chunk once this side is dropped (a read in progress is bounded by the
    /// idle timeout the transport set on each read).
    pub(crate) fn on_own_thread(body: R, inflater: Option<Inflater>) -> Self {
        let handover = Handover::of(inflater.is_some());
        let (hand, arrived) = sync_channel::<Arrived>(handover.capacity);
        let (spare, spares) = sync_channel::<Vec<u8>>(handover.spares());
        let started = std::thread::Builder::new()
            .name("zuora-receive".to_owned())
            .spawn(move || match inflater {
                None => receive(body, &hand, &spares),
                Some(inflater) => receive_inflating(body, inflater, &hand, &spares),
            });
        match started {
            Ok(thread) => Self::Threaded {
                arrived,
                receiving: thread.thread().clone(),
                refills: handover.refills(),
                spare,
            },
            Err(error) => Self::Unstarted(Some(error)),
        }
    }
}

/// A buffer for the next piece: a spare one back from the converting side (as it was, so a
/// read into it zero-fills no more than it must), else a new one; `None` once that side is
/// gone.
fn take_spare(spares: &Receiver<Vec<u8>>) -> Option<Vec<u8>> {
    match spares.try_recv() {
        Ok(piece) => Some(piece),
        Err(TryRecvError::Empty) => Some(Vec::with_capacity(CHUNK)),
        Err(TryRecvError::Disconnected) => None,
    }
}

/// Hands `next` over; when the hand-over is full, parks until the converting thread has taken
/// [`Handover::refill`] pieces (it unparks this thread then, and when it lets go of the
/// hand-over). `false` once the converting side is gone.
fn give(hand: &SyncSender<Arrived>, mut next: Arrived) -> bool {
    loop {
        match hand.try_send(next) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(back)) => {
                next = back;
                // An unpark before this park is kept, so none is missed: at worst the
                // retry finds the hand-over still full and parks again.
                std::thread::park();
            }
        }
    }
}

/// Reads until the end, handing each read over as it came.
fn receive<R: Read>(mut body: R, hand: &SyncSender<Arrived>, spares: &Receiver<Vec<u8>>) {
    while let Some(mut chunk) = take_spare(spares) {
        chunk.resize(CHUNK, 0);
        let read = match read_some(&mut body, &mut chunk) {
            Ok(0) => Ok(None),
            Ok(n) => {
                chunk.truncate(n);
                Ok(Some(chunk))
            }
            Err(error) => Err(error),
        };
        let next = Arrived::of_read(read, now().instant);
        let last = next.is_last();
        if !give(hand, next) || last {
            return;
        }
    }
}

/// Reads and inflates until the end, handing the inflated text over a batch at a time.
fn receive_inflating<R: Read>(
    mut body: R,
    mut inflater: Inflater,
    hand: &SyncSender<Arrived>,
    spares: &Receiver<Vec<u8>>,
) {
    let mut chunk = vec![0; CHUNK];
    loop {
        let n = match read_some(&mut body, &mut chunk) {
            Ok(0) => {
                give(hand, inflater.end());
                return;
            }
            Ok(n) => n,
            Err(error) => {
                give(hand, Arrived::Failed(error));
                return;
            }
        };
        let (at, mut taken) = (now().instant, 0);
        while taken < n {
            let Some(piece) = take_spare(spares) else {
                return;
            };
            let (took, next) = inflater.next_piece(&chunk[taken..n], piece, at);
            taken += took;
            let last = next.is_last();
            if !give(hand, next) || last {
                return;
            }
        }
    }
}

/// One read into `buffer`, tried again when a signal interrupted it.
fn read_some<R: Read>(body: &mut R, buffer: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match body.read(buffer) {
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            read => return read,
        }
    }
}

impl<R: Read + Send + 'static> Body<R> {
    /// The next chunk, the end, or why the body broke off.
    pub(crate) fn next(&mut self) -> Arrived {
        match self {
            Self::Inline { body, chunk } => {
                let read = read_some(body, chunk).map(|n| {
                    (n > 0).then(|| {
                        let mut piece = std::mem::take(chunk);
                        piece.truncate(n);
                        piece
                    })
                });
                Arrived::of_read(read, now().instant)
            }
            Self::Threaded {
                arrived,
                receiving,
                refills,
                ..
            } => {
                let next = arrived.recv();
                if refills.took_one() {
                    receiving.unpark();
                }
                next.unwrap_or_else(|_| {
                    Arrived::Failed(std::io::Error::other(
                        "the receiving thread ended without a word",
                    ))
                })
            }
            Self::Unstarted(error) => Arrived::Failed(error.take().unwrap_or_else(|| {
                std::io::Error::other("the receiving thread could not be started")
            })),
        }
    }

    /// Hands an emptied chunk or piece back for the next read.
    pub(crate) fn give_back(&mut self, emptied: Option<Spare<Vec<u8>>>) {
        let (Some(Spare::Chunk(mut piece)) | Some(Spare::Inflated(mut piece))) = emptied else {
            return;
        };
        match self {
            Self::Inline { chunk, .. } => {
                piece.resize(CHUNK, 0);
                *chunk = piece;
            }
            Self::Threaded { spare, .. } => {
                let _ = spare.try_send(piece);
            }
            Self::Unstarted(_) => {}
        }
    }
}

impl<R> Drop for Body<R> {
    /// Lets go of the hand-over, then wakes a receiving thread parked on a full one, so it
    /// sees the converting side gone and ends.
    fn drop(&mut self) {
        if let Self::Threaded {
            arrived, receiving, ..
        } = self
        {
            // The hand-over's receiver goes first (an unconnected one takes its place), so
            // the woken thread's next hand-over finds it gone.
            drop(std::mem::replace(arrived, sync_channel(0).1));
            receiving.unpark();
        }
    }
}
