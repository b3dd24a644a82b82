//! The reqwest transport: every method, header and status passes through untouched.

use zuora_core::{
    ClientConfig, Error, driver::HttpRequest, driver::HttpResponse, driver::TransportErrorKind,
    driver::TransportFailure,
};

/// Sends requests with a reqwest client: no automatic decompression (the core decodes gzip
/// once), no redirects, bodies read chunk by chunk up to the configured cap plus one byte,
/// so an oversized answer becomes the core's typed error without being read whole.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_body: usize,
}

impl ReqwestTransport {
    /// Over a reqwest client of your own (a corporate CA, a proxy, a shared connection
    /// pool). The core still stamps every request with its timeouts; the client's own
    /// redirect policy applies, so build it with `redirect(reqwest::redirect::Policy::none())`
    /// (zuora-rs never follows redirects itself).
    pub fn with_client(client: reqwest::Client, config: &ClientConfig) -> Self {
        Self {
            client,
            max_body: config.limits().max_decoded_bytes(),
        }
    }

    /// A reqwest client with the configuration's timeouts and user agent.
    pub fn new(config: &ClientConfig) -> Result<Self, Error> {
        #[cfg(feature = "rustls")]
        {
            // `Err` means the application installed a provider already, which is the goal.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = reqwest::Client::builder()
            // No client-wide total timeout: the core stamps each request with its own
            // (and a streamed export is bounded by idleness instead).
            .connect_timeout(config.connect_timeout())
            .user_agent(config.user_agent())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            // A TLS backend that cannot start: nothing was sent, and no input was wrong.
            .map_err(|error| {
                TransportFailure::new(
                    TransportErrorKind::Other,
                    false,
                    format!("the HTTP client could not be built: {error}"),
                )
            })?;
        Ok(Self {
            client,
            max_body: config.limits().max_decoded_bytes(),
        })
    }
}

/// The core's request as reqwest's. reqwest's own `TryFrom` formats the URI through
/// `Display` before parsing it again; writing it out directly saves a tenth of this crate's
/// cost per call (`cargo xtask bench transport`).
fn to_reqwest(request: HttpRequest) -> Result<reqwest::Request, TransportFailure> {
    let (parts, body) = request.into_parts();
    let uri = &parts.uri;
    let mut text = String::with_capacity(128);
    text.push_str(uri.scheme_str().unwrap_or("https"));
    text.push_str("://");
    text.push_str(uri.authority().map_or("", |a| a.as_str()));
    text.push_str(uri.path_and_query().map_or("/", |p| p.as_str()));
    let url = reqwest::Url::parse(&text).map_err(|error| {
        TransportFailure::new(
            TransportErrorKind::Other,
            false,
            format!("the request's URL is not valid: {error}"),
        )
    })?;
    let mut out = reqwest::Request::new(parts.method, url);
    *out.headers_mut() = parts.headers;
    *out.version_mut() = parts.version;
    *out.body_mut() = Some(body.into_bytes().into());
    Ok(out)
}

/// A reqwest failure, classified: the core's one transport-failure type.
fn failure(error: reqwest::Error) -> TransportFailure {
    {
        let (kind, sent) = if error.is_connect() {
            let kind = if error.is_timeout() {
                TransportErrorKind::Timeout
            } else {
                TransportErrorKind::Connect
            };
            (kind, false)
        } else if error.is_timeout() {
            (TransportErrorKind::Timeout, true)
        } else if error.is_request() || error.is_body() || error.is_decode() {
            (TransportErrorKind::Io, true)
        } else {
            (TransportErrorKind::Other, true)
        };
        // The causes (such as a failed lookup) say what happened; a failure to reach the
        // server names its host (never the path or query).
        let host = error
            .url()
            .and_then(|url| url.host_str())
            .map(str::to_owned);
        let error = error.without_url();
        let mut message = error.to_string();
        let mut cause = std::error::Error::source(&error);
        while let Some(inner) = cause {
            message.push_str(": ");
            message.push_str(&inner.to_string());
            cause = inner.source();
        }
        if let (false, Some(host)) = (sent, host) {
            message = format!("could not reach {host}: {message}");
        }
        TransportFailure::new(kind, sent, message)
    }
}

impl zuora_core::driver::AsyncTransport for ReqwestTransport {
    type Error = TransportFailure;

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportFailure> {
        let timeout = request
            .extensions()
            .get::<zuora_core::driver::AttemptTimeout>()
            .copied();
        let mut request = to_reqwest(request)?;
        if let Some(zuora_core::driver::AttemptTimeout(timeout)) = timeout {
            *request.timeout_mut() = Some(timeout);
        }
        let mut response = self.client.execute(request).await.map_err(failure)?;
        let mut head = http::Response::builder()
            .status(response.status())
            .version(response.version());
        if let Some(headers) = head.headers_mut() {
            *headers = std::mem::take(response.headers_mut());
        }
        // A declared length within the cap is read in one go; anything else chunk by chunk,
        // stopping one byte past the cap.
        let body = match response.content_length() {
            // `Vec::from` takes over the buffer instead of copying it when it can.
            Some(length) if length <= self.max_body as u64 => {
                Vec::from(response.bytes().await.map_err(failure)?)
            }
            _ => {
                let mut body = Vec::new();
                while let Some(chunk) = response.chunk().await.map_err(failure)? {
                    body.extend_from_slice(&chunk);
                    if body.len() > self.max_body {
                        break;
                    }
                }
                body
            }
        };
        head.body(body).map_err(|error| {
            TransportFailure::new(TransportErrorKind::Other, true, error.to_string())
        })
    }
}

/// A reqwest answer read chunk by chunk, each read bounded by the request's idle timeout.
#[derive(Debug)]
pub struct ReqwestBody {
    response: reqwest::Response,
    idle: Option<std::time::Duration>,
}

impl zuora_core::driver::AsyncBody for ReqwestBody {
    type Chunk = bytes::Bytes;
    type Error = TransportFailure;

    async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>, TransportFailure> {
        let Some(idle) = self.idle else {
            return self.response.chunk().await.map_err(failure);
        };
        match tokio::time::timeout(idle, self.response.chunk()).await {
            Ok(chunk) => chunk.map_err(failure),
            Err(_) => Err(TransportFailure::new(
                TransportErrorKind::Timeout,
                true,
                format!("no data for {idle:?}"),
            )),
        }
    }
}

impl zuora_core::driver::AsyncStreamingTransport for ReqwestTransport {
    type Body = ReqwestBody;

    async fn send_streaming(
        &self,
        request: HttpRequest,
    ) -> Result<http::Response<ReqwestBody>, TransportFailure> {
        let (attempt, idle) = zuora_core::driver::stamped_timeouts(&request);
        let mut request = to_reqwest(request)?;
        let sending = match (attempt, idle) {
            // A streamed answer: the attempt timeout bounds the head only.
            (Some(attempt), Some(_)) => tokio::time::timeout(attempt, self.client.execute(request))
                .await
                .map(|sent| sent.map_err(failure)),
            (attempt, _) => {
                *request.timeout_mut() = attempt;
                Ok(self.client.execute(request).await.map_err(failure))
            }
        };
        let mut response = sending.map_err(|_| {
            TransportFailure::new(
                TransportErrorKind::Timeout,
                true,
                "no answer within the attempt timeout",
            )
        })??;
        let mut head = http::Response::builder()
            .status(response.status())
            .version(response.version());
        if let Some(headers) = head.headers_mut() {
            *headers = std::mem::take(response.headers_mut());
        }
        head.body(ReqwestBody { response, idle }).map_err(|error| {
            TransportFailure::new(TransportErrorKind::Other, true, error.to_string())
        })
    }
}
