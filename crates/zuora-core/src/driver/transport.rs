//! What a transport is: something that sends an [`HttpRequest`] and hands back the answer.
//!
//! zuora-rs ships two (`zuora-async` on reqwest, `zuora-blocking` on ureq); any other HTTP
//! stack plugs in through [`SyncTransport`] or [`AsyncTransport`], which closures implement.

use std::future::Future;
use std::time::Duration;

/// The time as a transport reads it when it hands the core an event: a monotonic instant for
/// every deadline, wait and timeout, and the wall clock for HTTP dates (`Retry-After`) only,
/// so a step of the wall clock changes no deadline. The core never reads a clock itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time: deadlines, waits, token lifetimes.
    pub instant: std::time::Instant,
    /// Wall-clock time: only to turn an HTTP date into a delay.
    pub wall: std::time::SystemTime,
}

impl Now {
    /// The two readings, taken together by the transport.
    pub fn new(instant: std::time::Instant, wall: std::time::SystemTime) -> Self {
        Self { instant, wall }
    }
}

/// An answer from the parts a foreign HTTP stack hands over (the C ABI's and the Python
/// package's drivers): raw header names and values, any body. Parts that are not HTTP (a
/// status out of range, a header name with a space) are what a broken connection gives: a
/// transport failure on a request that may have been sent.
///
/// ```
/// use zuora_core::driver::answer_from_parts;
/// let answer = answer_from_parts(200, [(b"content-type".as_slice(), b"application/json".as_slice())], ())?;
/// assert_eq!(answer.headers()["content-type"], "application/json");
/// assert!(answer_from_parts(200, [(b"bad name".as_slice(), b"x".as_slice())], ()).is_err());
/// assert!(answer_from_parts(1000, [] as [(&[u8], &[u8]); 0], ()).is_err());
/// # Ok::<(), zuora_core::driver::TransportFailure>(())
/// ```
pub fn answer_from_parts<N: AsRef<[u8]>, V: AsRef<[u8]>, B>(
    status: u16,
    headers: impl IntoIterator<Item = (N, V)>,
    body: B,
) -> Result<http::Response<B>, TransportFailure> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(name.as_ref(), value.as_ref());
    }
    builder.body(body).map_err(|error| {
        TransportFailure::new(
            TransportErrorKind::Io,
            true,
            format!("an unreadable answer: {error}"),
        )
    })
}

/// The request type the core builds and transports send: the body is already encoded.
pub type HttpRequest = http::Request<RequestBody>;

/// A request's body, already encoded, and the timeouts the core stamped on the attempt
/// (read them with [`stamped_timeouts`]). Its `Debug` shows only the length: the token
/// request's body holds the client secret, and `http::Request`'s `Debug` prints its body.
///
/// The timeouts ride here rather than in `http::Extensions`, which allocate a map and a box
/// per request: that was a fifth of what zuora-async added to a raw reqwest call.
///
/// ```
/// let body = zuora_core::driver::RequestBody::from(b"client_secret=hunter2".to_vec());
/// assert_eq!(format!("{body:?}"), "RequestBody(21 bytes)");
/// assert_eq!(&body[..6], b"client");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RequestBody {
    bytes: Vec<u8>,
    /// The bytes hold a secret (the token request's form): wiped when dropped.
    secret: bool,
    attempt_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
}

impl RequestBody {
    /// The bytes, for an HTTP library that must own a `Vec`: from then on they are the
    /// caller's to wipe. Prefer [`into_shared`](Self::into_shared) or
    /// [`as_bytes`](Self::as_bytes), which keep the wiping.
    pub fn into_bytes(mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }

    /// The bytes as shared [`bytes::Bytes`]; a body that holds a secret (the token
    /// request's, with the client secret) is overwritten when the last reference goes.
    pub fn into_shared(mut self) -> bytes::Bytes {
        let bytes = std::mem::take(&mut self.bytes);
        if self.secret {
            bytes::Bytes::from_owner(crate::values::secret::Wiped(bytes))
        } else {
            bytes::Bytes::from(bytes)
        }
    }

    /// A body that holds a secret: wiped when dropped, and its
    /// [`into_shared`](Self::into_shared) bytes when they go.
    pub(crate) fn secret(bytes: Vec<u8>) -> Self {
        let mut body = Self::from(bytes);
        body.secret = true;
        body
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Stamps the attempt's timeouts (see [`stamped_timeouts`]).
    pub(crate) fn stamp(&mut self, attempt: Duration, idle: Option<Duration>) {
        self.attempt_timeout = Some(attempt);
        self.idle_timeout = idle;
    }
}

impl From<Vec<u8>> for RequestBody {
    fn from(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            secret: false,
            attempt_timeout: None,
            idle_timeout: None,
        }
    }
}

impl std::ops::Deref for RequestBody {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl AsRef<[u8]> for RequestBody {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for RequestBody {
    /// Overwrites a secret body's bytes before their memory is freed.
    fn drop(&mut self) {
        if self.secret {
            zeroize::Zeroize::zeroize(&mut self.bytes);
        }
    }
}

impl std::fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RequestBody({} bytes)", self.bytes.len())
    }
}

/// The response type transports hand back: the body as received (possibly gzipped; the
/// core decodes it once).
pub type HttpResponse = http::Response<Vec<u8>>;

/// The timeouts the core stamped on every request it hands a transport, to apply per
/// request: `(attempt, idle)`.
///
/// - `attempt`: the time this attempt may take, the configured attempt timeout cut to what
///   is left of the call's overall deadline. On a request whose answer streams it bounds
///   the wait for the answer's head only: the body is bounded by idleness instead.
/// - `idle`: only on a request whose answer streams (an export), the longest a transport
///   may wait for the next byte of the body. A body that keeps moving is never cut for
///   being long.
///
/// Both are `None` on a request the core did not stamp (one a test built by hand).
pub fn stamped_timeouts(request: &HttpRequest) -> (Option<Duration>, Option<Duration>) {
    let body = request.body();
    (body.attempt_timeout, body.idle_timeout)
}

/// How a send failed, as far as deciding what to do next needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, DNS, TLS handshake).
    Connect,
    /// A timeout expired.
    Timeout,
    /// The connection broke while sending or receiving.
    Io,
    /// Anything else.
    Other,
}

impl core::fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Io => "i/o",
            Self::Other => "transport",
        })
    }
}

/// What a transport must say about its errors.
pub trait ClassifyTransportError {
    /// Which kind of failure.
    fn kind(&self) -> TransportErrorKind;
    /// Whether any byte of the request may have reached the server. `false` only when the
    /// transport knows it did not (the connection was never made): then even a
    /// non-idempotent request can be sent again.
    fn may_have_been_sent(&self) -> bool;
    /// What the HTTP stack said, without the kind and the "sent" note the core adds (by
    /// default the error's own text).
    fn detail(&self) -> String
    where
        Self: std::fmt::Display,
    {
        self.to_string()
    }
}

/// A classified transport failure, as the core keeps it (message included, never a secret:
/// transports report the URL at most, and URLs carry no credentials).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} error{}: {message}", if *may_have_been_sent { " (the request may have reached Zuora)" } else { " (nothing was sent)" })]
#[non_exhaustive]
pub struct TransportFailure {
    /// Which kind of failure.
    pub kind: TransportErrorKind,
    /// Whether the request may have reached the server.
    pub may_have_been_sent: bool,
    /// What the HTTP stack said.
    pub message: String,
    /// The host the request was for, when known (the core fills it in).
    pub host: Option<String>,
}

impl TransportFailure {
    /// A failure from its parts.
    pub fn new(
        kind: TransportErrorKind,
        may_have_been_sent: bool,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            may_have_been_sent,
            message: message.into(),
            host: None,
        }
    }

    /// Keeps what matters of any classified error.
    pub fn from_error<E: ClassifyTransportError + std::fmt::Display>(error: &E) -> Self {
        Self::new(error.kind(), error.may_have_been_sent(), error.detail())
    }
}

impl ClassifyTransportError for TransportFailure {
    fn kind(&self) -> TransportErrorKind {
        self.kind
    }
    fn may_have_been_sent(&self) -> bool {
        self.may_have_been_sent
    }
    /// Its message alone: its `Display` already adds the kind and the "sent" note, which the
    /// core's failure made from it adds again.
    fn detail(&self) -> String {
        self.message.clone()
    }
}

/// An I/O error of a blocking stack's body read (the request was sent by then): a timeout
/// or a read that would block (a socket's read timeout) is a timeout, anything else I/O.
impl ClassifyTransportError for std::io::Error {
    fn kind(&self) -> TransportErrorKind {
        match std::io::Error::kind(self) {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                TransportErrorKind::Timeout
            }
            _ => TransportErrorKind::Io,
        }
    }
    fn may_have_been_sent(&self) -> bool {
        true
    }
}

/// A blocking HTTP stack.
///
/// ```
/// use zuora_core::{driver::HttpRequest, driver::HttpResponse, driver::SyncTransport, driver::TransportFailure};
/// // Any closure of the right shape is a transport; handy in tests.
/// let canned = |_request: HttpRequest| -> Result<HttpResponse, TransportFailure> {
///     Ok(http::Response::new(br#"{"success":true,"response":{"reportRunId":"r1"}}"#.to_vec()))
/// };
/// fn takes<T: SyncTransport>(_: &T) {}
/// takes(&canned);
/// ```
pub trait SyncTransport {
    /// The transport's error, classified.
    type Error: std::error::Error + ClassifyTransportError + Send + Sync + 'static;
    /// Sends the request exactly as given (method, URI, every header, body) and returns the
    /// answer with every status and header, body undecoded.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, Self::Error>;
}

impl<F, E> SyncTransport for F
where
    F: Fn(HttpRequest) -> Result<HttpResponse, E>,
    E: std::error::Error + ClassifyTransportError + Send + Sync + 'static,
{
    type Error = E;
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, E> {
        self(request)
    }
}

/// An async HTTP stack. Same contract as [`SyncTransport`].
pub trait AsyncTransport: Send + Sync {
    /// The transport's error, classified.
    type Error: std::error::Error + ClassifyTransportError + Send + Sync + 'static;
    /// Sends the request exactly as given and returns the answer, body undecoded.
    fn send(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, Self::Error>> + Send;
}

impl<F, Fut, E> AsyncTransport for F
where
    F: Fn(HttpRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Result<HttpResponse, E>> + Send,
    E: std::error::Error + ClassifyTransportError + Send + Sync + 'static,
{
    type Error = E;
    fn send(&self, request: HttpRequest) -> impl Future<Output = Result<HttpResponse, E>> + Send {
        self(request)
    }
}

/// A blocking transport that can hand back a body as it arrives (for exports of any size).
pub trait SyncStreamingTransport: SyncTransport {
    /// The body, read as it arrives (`Send` and `'static`, so a driver may read it on a
    /// thread of its own while it converts what came).
    type Body: std::io::Read + Send + 'static;
    /// Sends the request and returns once the status and headers are in.
    fn send_streaming(
        &self,
        request: HttpRequest,
    ) -> Result<http::Response<Self::Body>, Self::Error>;
}

/// A body that arrives in chunks.
pub trait AsyncBody: Send {
    /// A chunk of bytes.
    type Chunk: AsRef<[u8]> + Send;
    /// The error of a broken body, classified.
    type Error: std::error::Error + ClassifyTransportError + Send + Sync + 'static;
    /// The next chunk, `None` at the end.
    fn next_chunk(
        &mut self,
    ) -> impl Future<Output = Result<Option<Self::Chunk>, Self::Error>> + Send;
}

/// An async transport that can hand back a body as it arrives (for exports of any size).
pub trait AsyncStreamingTransport: AsyncTransport {
    /// The body, read as it arrives (`'static`, so a driver may read it in a task of its
    /// own while it converts what came).
    type Body: AsyncBody + 'static;
    /// Sends the request and returns once the status and headers are in.
    fn send_streaming(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<http::Response<Self::Body>, Self::Error>> + Send;
}
