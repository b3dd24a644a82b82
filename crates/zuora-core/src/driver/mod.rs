//! What a driver (an HTTP stack) implements and hands over: the transport traits, the
//! request and response types, the clock reading and the failure classification.

pub(crate) mod transport;

pub use transport::{
    AsyncBody, AsyncStreamingTransport, AsyncTransport, ClassifyTransportError, HttpRequest,
    HttpResponse, Now, RequestBody, SyncStreamingTransport, SyncTransport, TransportErrorKind,
    TransportFailure, answer_from_parts, stamped_timeouts,
};
