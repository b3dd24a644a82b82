//! For async callers (feature `tokio`): [`Spooling`] as an `AsyncWrite`, so an async client
//! downloads straight into pass 1, and pass 2 as a `Stream` of record batches.

use std::io::{Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures_util::Stream;
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;

use crate::{Spooled, Spooling, TableError};

/// Batches waiting between the thread that builds them and the stream's reader, at most.
const BATCHES_QUEUED: usize = 2;

/// Writing hands the bytes to pass 1 at once: with [`Threads::WithHelper`](crate::Threads)
/// (what [`Spooling::temporary`] sets) that is a copy into a buffer for the helper thread,
/// which waits only while the helper is two buffers behind; on the caller's thread alone it
/// is the inference and the spool's write themselves.
impl<W: Write + Unpin> AsyncWrite for Spooling<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Write::write(self.get_mut(), bytes))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Write::flush(self.get_mut()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Write::flush(self.get_mut()))
    }
}

impl<R: Read + Send + 'static> Spooled<R> {
    /// Pass 2 as a `Stream` of record batches (at most [`BATCH_ROWS`](crate::BATCH_ROWS)
    /// rows each), built on a thread of its own so the async runtime never waits on the
    /// spool's reads or the conversion. The stream ends after the first error; dropping it
    /// stops the thread after the batch it is building.
    ///
    /// # Errors
    ///
    /// A decimal type Arrow refuses.
    pub fn batch_stream(self) -> Result<BatchStream, TableError> {
        let mut batches = self.batches()?;
        let schema = arrow_array::RecordBatchReader::schema(&batches);
        let (sender, receiver) = mpsc::channel(BATCHES_QUEUED);
        std::thread::spawn(move || {
            loop {
                let next = batches.next_batch().transpose();
                let last = !matches!(next, Some(Ok(_)));
                // A send fails when the stream was dropped: the thread stops then too.
                if next.is_none_or(|next| sender.blocking_send(next).is_err()) || last {
                    return;
                }
            }
        });
        Ok(BatchStream { schema, receiver })
    }
}

/// The record batches of a [`Spooled`] table, as a `Stream` (see
/// [`Spooled::batch_stream`]).
#[derive(Debug)]
pub struct BatchStream {
    schema: SchemaRef,
    receiver: mpsc::Receiver<Result<RecordBatch, TableError>>,
}

impl BatchStream {
    /// The schema every batch has.
    pub fn schema(&self) -> SchemaRef {
        SchemaRef::clone(&self.schema)
    }
}

impl Stream for BatchStream {
    type Item = Result<RecordBatch, TableError>;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.receiver.poll_recv(context)
    }
}
