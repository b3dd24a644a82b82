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
    origin: Option<Origin>,
    /// The client's own total timeout: the configuration's attempt timeout, which the core
    /// stamps on every attempt not cut short by its call's deadline. A request stamped so
    /// is sent as it is; only another timeout is set on the request, because reqwest keeps
    /// a request's own timeout in its extensions (a map and two boxes, three allocations:
    /// half of what this crate added to a raw reqwest call).
    client_timeout: std::time::Duration,
    /// The last request's URL: a call's retries, a wait's polls and a service's repeated
    /// runs of one report ask for the same URL again.
    last_url: UrlCache,
}

/// A one-entry cache of the last URL built on the configured origin. Making a `Url` costs
/// four allocations (a clone of the origin, then the string growing three times while the
/// path and query are set); taking a copy of a cached one costs one, of the exact size.
#[derive(Debug, Default)]
struct UrlCache(std::sync::Mutex<Option<(http::Uri, reqwest::Url)>>);

impl Clone for UrlCache {
    /// A clone starts empty: the entry is a speed-up, not state.
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl UrlCache {
    /// `uri` as a `Url` on `origin`: from the cache when it is the last one asked for.
    fn url_of(&self, origin: &Origin, uri: &http::Uri) -> Option<reqwest::Url> {
        // A poisoned lock only means another thread panicked while holding a plain value.
        let mut last = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((cached, url)) = last.as_ref()
            && cached == uri
        {
            return Some(url.clone());
        }
        let url = origin.url_of(uri)?;
        *last = Some((uri.clone(), url.clone()));
        Some(url)
    }
}

/// A streamed answer's total timeout: none in effect (tokio's timer holds at most about two
/// years). The client's own timeout must not cut a long export short; idleness bounds it.
const STREAM_TOTAL_TIMEOUT: std::time::Duration =
    std::time::Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// The configured base URL's scheme and host, parsed once: reqwest wants a `url::Url`, and
/// parsing a whole URL (host included) cost this crate as much again as everything else it
/// does per call. A request to this origin clones it and parses only its path and query.
#[derive(Debug, Clone)]
struct Origin {
    /// `scheme://authority` exactly as the core writes it into a request's URI.
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    /// The same, parsed by `url`, with path `/`.
    url: reqwest::Url,
}

impl Origin {
    fn of(config: &ClientConfig) -> Option<Self> {
        let uri: http::Uri = config.environment().base_url().parse().ok()?;
        let (scheme, authority) = (uri.scheme()?.clone(), uri.authority()?.clone());
        let url = reqwest::Url::parse(&format!("{scheme}://{authority}/")).ok()?;
        Some(Self {
            scheme,
            authority,
            url,
        })
    }

    /// `uri` as a `Url`, if it is on this origin.
    fn url_of(&self, uri: &http::Uri) -> Option<reqwest::Url> {
        if uri.scheme() != Some(&self.scheme) || uri.authority() != Some(&self.authority) {
            return None;
        }
        let mut url = self.url.clone();
        url.set_path(uri.path());
        url.set_query(uri.query());
        Some(url)
    }
}

impl ReqwestTransport {
    /// Over a reqwest client of your own making (a corporate CA, a proxy, a pool setting):
    /// give its builder, not a built client. The builder gets what no client of zuora-rs may
    /// do without, whatever it said: redirects never followed (a 307 on the token request
    /// would replay the client secret to another host), no proxy for a loopback base URL,
    /// no TLS root trusted for a plain-http one (it never makes an https request), the
    /// configuration's connect timeout, attempt timeout (as the client's total timeout)
    /// and user agent. The core still stamps every request with its own timeouts.
    ///
    /// # Errors
    ///
    /// The client could not be built (a TLS backend that cannot start): nothing was sent.
    pub fn with_builder(
        builder: reqwest::ClientBuilder,
        config: &ClientConfig,
    ) -> Result<Self, Error> {
        #[cfg(feature = "rustls")]
        {
            // `Err` means the application installed a provider already, which is the goal.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let mut builder = builder
            // The client-wide total timeout is the attempt timeout every request is stamped
            // with unless its call's deadline is nearer (see `client_timeout`); a streamed
            // export overrides it (`STREAM_TOTAL_TIMEOUT`), bounded by idleness instead.
            .timeout(config.attempt_timeout())
            .connect_timeout(config.connect_timeout())
            .user_agent(config.user_agent())
            .redirect(reqwest::redirect::Policy::none());
        if config.environment().is_loopback() {
            // Never through the environment's proxies: they would carry the plain-http
            // loopback request, client secret included, off the machine.
            builder = builder.no_proxy();
        }
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        if config.environment().is_plain_http() {
            // Every request goes to the plain-http base URL (redirects are never followed),
            // so no TLS root is ever consulted: trusting none skips loading the system's
            // (3 ms of statx and parsing, a third of a release build's whole trip against the
            // simulator), and an https request, were one ever made, would fail closed.
            builder = builder.tls_certs_only(std::iter::empty());
        }
        let client = builder
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
            origin: Origin::of(config),
            client_timeout: config.attempt_timeout(),
            last_url: UrlCache::default(),
        })
    }

    /// A reqwest client with the configuration's timeouts and user agent.
    ///
    /// # Errors
    ///
    /// As [`with_builder`](Self::with_builder).
    pub fn new(config: &ClientConfig) -> Result<Self, Error> {
        Self::with_builder(reqwest::Client::builder(), config)
    }
}

impl ReqwestTransport {
    /// The core's request as reqwest's, with `total_timeout` unless it is the client's own.
    /// reqwest's own `TryFrom` formats the URI through `Display` before parsing it again; a
    /// request on the configured origin skips even that (see [`Origin`], [`UrlCache`]).
    fn to_reqwest(
        &self,
        request: HttpRequest,
        total_timeout: Option<std::time::Duration>,
    ) -> Result<reqwest::Request, TransportFailure> {
        let (parts, body) = request.into_parts();
        let uri = &parts.uri;
        let cached = self
            .origin
            .as_ref()
            .and_then(|origin| self.last_url.url_of(origin, uri));
        let url = match cached {
            Some(url) => url,
            None => parse_url(uri)?,
        };
        let mut out = reqwest_request(parts, url, body);
        if let Some(timeout) = total_timeout.filter(|t| *t != self.client_timeout) {
            *out.timeout_mut() = Some(timeout);
        }
        Ok(out)
    }
}

/// A reqwest request of the core's parts and body, to `url`.
fn reqwest_request(
    parts: http::request::Parts,
    url: reqwest::Url,
    body: zuora_core::driver::RequestBody,
) -> reqwest::Request {
    let mut out = reqwest::Request::new(parts.method, url);
    *out.headers_mut() = parts.headers;
    *out.version_mut() = parts.version;
    if !body.is_empty() {
        // Shared bytes wiped when reqwest lets go of them (the token request's body holds
        // the client secret).
        *out.body_mut() = Some(body.into_shared().into());
    }
    out
}

fn parse_url(uri: &http::Uri) -> Result<reqwest::Url, TransportFailure> {
    let mut text = String::with_capacity(128);
    text.push_str(uri.scheme_str().unwrap_or("https"));
    text.push_str("://");
    text.push_str(uri.authority().map_or("", |a| a.as_str()));
    text.push_str(uri.path_and_query().map_or("/", |p| p.as_str()));
    reqwest::Url::parse(&text).map_err(|error| {
        TransportFailure::new(
            TransportErrorKind::Other,
            false,
            format!("the request's URL is not valid: {error}"),
        )
    })
}

/// The status, version and headers of reqwest's answer, moved out of it.
fn take_head(response: &mut reqwest::Response) -> http::Response<()> {
    let mut head = http::Response::new(());
    *head.status_mut() = response.status();
    *head.version_mut() = response.version();
    *head.headers_mut() = std::mem::take(response.headers_mut());
    head
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

    fn send(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportFailure>> + Send {
        // The request is made into reqwest's here, in plain code, so the future holds neither
        // (each call's future is copied several times: see the note on the crate's `drive`).
        let (attempt, _) = zuora_core::driver::stamped_timeouts(&request);
        let sending = self
            .to_reqwest(request, attempt)
            .map(|request| self.client.execute(request));
        self.read_answer(sending)
    }
}

impl ReqwestTransport {
    /// Waits for the answer to a sent request and reads its body, up to the cap.
    async fn read_answer(
        &self,
        sending: Result<
            impl Future<Output = Result<reqwest::Response, reqwest::Error>> + Send,
            TransportFailure,
        >,
    ) -> Result<HttpResponse, TransportFailure> {
        let mut response = sending?.await.map_err(failure)?;
        // Chunk by chunk, stopping one byte past the cap, and the head taken after: not
        // `Response::bytes`, whose future (568 bytes, the response inside it again) made a
        // call's future half as large again, nor a head held across the reads. A call's
        // future is copied several times (see the note on the crate's `drive`).
        let mut kept = zuora_core::machines::AnswerBody::new(self.max_body as u64);
        while let Some(chunk) = response.chunk().await.map_err(failure)? {
            if kept.push_owned(chunk) {
                break;
            }
        }
        let body = kept.into_bytes();
        Ok(take_head(&mut response).map(|()| body))
    }
}

/// A reqwest answer read chunk by chunk, each read bounded by the request's idle timeout.
#[derive(Debug)]
pub struct ReqwestBody {
    response: reqwest::Response,
    idle: Option<std::time::Duration>,
    /// The idle timeout's one timer, made on the first read that has to wait and pushed
    /// later before each read after it. Tokio moves a registered timer later with one atomic
    /// store; a new timer per read (`tokio::time::timeout`) went into the timer wheel under
    /// its lock each time the read waited, and woke the runtime's driver to look at it: about
    /// two `eventfd` writes per chunk of a large export, measured with strace.
    idle_timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl zuora_core::driver::AsyncBody for ReqwestBody {
    type Chunk = bytes::Bytes;
    type Error = TransportFailure;

    async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>, TransportFailure> {
        // An idle timeout too long to add to now is no bound, as with `tokio::time::timeout`.
        let Some((idle, deadline)) = self
            .idle
            .and_then(|idle| Some((idle, tokio::time::Instant::now().checked_add(idle)?)))
        else {
            return self.response.chunk().await.map_err(failure);
        };
        if let Some(timer) = &mut self.idle_timer {
            timer.as_mut().reset(deadline);
        }
        let mut chunk = std::pin::pin!(self.response.chunk());
        let idle_timer = &mut self.idle_timer;
        let read = std::future::poll_fn(|cx| {
            if let std::task::Poll::Ready(read) = chunk.as_mut().poll(cx) {
                return std::task::Poll::Ready(Some(read));
            }
            // Only a read that waits arms the timer, as `tokio::time::timeout` does.
            idle_timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)))
                .as_mut()
                .poll(cx)
                .map(|()| None)
        })
        .await;
        match read {
            Some(chunk) => chunk.map_err(failure),
            None => Err(TransportFailure::new(
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
        let sending = match (attempt, idle) {
            // A streamed answer: the attempt timeout bounds the head only.
            (Some(attempt), Some(_)) => {
                let request = self.to_reqwest(request, Some(STREAM_TOTAL_TIMEOUT))?;
                tokio::time::timeout(attempt, self.client.execute(request))
                    .await
                    .map(|sent| sent.map_err(failure))
            }
            (attempt, _) => {
                let request = self.to_reqwest(request, attempt)?;
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
        let head = take_head(&mut response);
        Ok(head.map(|()| ReqwestBody {
            response,
            idle,
            idle_timer: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL built from the parsed origin is the URL a whole parse gives.
    #[test]
    fn origin_urls_equal_whole_parses() {
        for base in [
            "http://127.0.0.1:8080",
            "https://rest.apisandbox.zuora.com",
            "https://Proxy.Example.COM:443/zuora",
        ] {
            let config = ClientConfig::builder()
                .base_url(base)
                .credentials("id", "secret")
                .into_config();
            let Ok(config) = config else {
                panic!("{base} is refused");
            };
            let origin = Origin::of(&config).expect("an origin");
            for tail in [
                "/",
                "/reporting/api/rest/v1/reports/abc%2Fdef/reportrun?viewType=Detail",
                "/oauth/token",
                "/a/./b/../c?x=%20y&z=\u{e9}",
                "/reporting/api/rest/v1/reportruns/1?",
            ] {
                let text = format!("{}{tail}", config.environment().base_url());
                let Ok(uri) = text.parse::<http::Uri>() else {
                    continue;
                };
                let fast = origin.url_of(&uri).expect("on the origin");
                assert_eq!(fast, parse_url(&uri).expect("parses"), "{text}");
            }
            let elsewhere: http::Uri = "http://elsewhere.example/x".parse().expect("a URI");
            assert!(origin.url_of(&elsewhere).is_none());
        }
    }
}
