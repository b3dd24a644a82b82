//! The ureq 3 transport: every method, header and status passes through untouched.

use std::io::Read;
use std::time::Duration;

use zuora_core::{
    ClientConfig, driver::HttpRequest, driver::HttpResponse, driver::SyncTransport,
    driver::TransportErrorKind, driver::TransportFailure,
};
/// cap plus one byte, so an oversized answer becomes the core's typed error.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    max_body: u64,
    /// The attempt timeout this crate's own agent already applies to every request (with
    /// statuses as answers and no redirects); `None` for a caller's agent, whose settings
    /// are unknown.
    agent_attempt: Option<Duration>,
}

impl UreqTransport {
    /// An agent with the configuration's timeouts and user agent.
    pub fn new(config: &ClientConfig) -> Self {
        let builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(config.connect_timeout()))
            .timeout_global(Some(config.attempt_timeout()))
            .user_agent(config.user_agent())
            .max_redirects(0)
            // Four times ureq's default: a large export streams about 4% faster (fewer,
            // larger reads; `cargo xtask bench export`), at 512 KiB per pooled connection.
            .input_buffer_size(512 * 1024);
        // Never through the environment's proxies for this machine: they would carry the
        // plain-http loopback request, client secret included, off it.
        let builder = if config.environment().is_loopback() {
            builder.proxy(None)
        } else {
            builder
        };
        // With native TLS alone, ureq must be told to use it (rustls is its default).
        #[cfg(all(feature = "native-tls", not(feature = "rustls")))]
        let builder = builder.tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::NativeTls)
                .build(),
        );
        let agent = ureq::Agent::with_parts(
            builder.build(),
            ureq::unversioned::transport::DefaultConnector::new(),
            LookupResolver::default(),
        );
        Self {
            agent,
            max_body: config.limits().max_decoded_bytes() as u64,
            agent_attempt: Some(config.attempt_timeout()),
        }
    }
}

impl UreqTransport {
    /// Over a ureq agent of your own (a corporate CA, a proxy, connection reuse). Each
    /// request still gets the core's timeouts, statuses as answers (not errors) and no
    /// redirects, whatever the agent's own settings.
    pub fn with_agent(agent: ureq::Agent, config: &ClientConfig) -> Self {
        Self {
            agent,
            max_body: config.limits().max_decoded_bytes() as u64,
            agent_attempt: None,
        }
    }

    /// Applies the core's timeouts to this request: the attempt timeout to the whole
    /// exchange, or, for a streamed answer, to everything up to the answer's head, and the
    /// idle timeout to each read of the body.
    fn with_attempt_timeout<'b>(
        &self,
        request: http::Request<&'b [u8]>,
        stamped: (Option<Duration>, Option<Duration>),
    ) -> http::Request<&'b [u8]> {
        let (attempt, idle) = stamped;
        // Our own agent already does what this request needs (the common case: a call's
        // first attempt gets the whole attempt timeout): a per-request configuration would
        // copy the agent's whole configuration into the request, three allocations a call.
        if idle.is_none() && attempt.is_some() && attempt == self.agent_attempt {
            return request;
        }
        // Statuses are answers and redirects are never followed, even on an agent of the
        // caller's that was built otherwise.
        let configured = self
            .agent
            .configure_request(request)
            .http_status_as_error(false)
            .max_redirects(0);
        match idle {
            None => configured.timeout_global(attempt).build(),
            Some(idle) => configured
                .timeout_global(None)
                .timeout_send_request(attempt)
                .timeout_recv_response(attempt)
                .timeout_recv_body(None)
                .timeout_per_read(Some(idle))
                .build(),
        }
    }
}

impl UreqTransport {
    /// Sends `request` with the core's timeouts; a failure is classified.
    fn run(&self, request: HttpRequest) -> Result<http::Response<ureq::Body>, TransportFailure> {
        // A clone shares the URI's bytes: nothing is allocated unless the send fails.
        let uri = request.uri().clone();
        let stamped = zuora_core::driver::stamped_timeouts(&request);
        // ureq reads the body from our buffer, which is wiped when it drops (the token
        // request's body holds the client secret).
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, body.as_bytes());
        self.agent
            .run(self.with_attempt_timeout(request, stamped))
            .map_err(|e| failure(e, &uri))
    }
}

/// ureq's resolver, with a failed lookup reported as "host not found" (nothing sent)
/// rather than as a generic I/O error, which reads as "the request may have been sent".
#[derive(Debug, Default)]
struct LookupResolver(ureq::unversioned::resolver::DefaultResolver);

impl ureq::unversioned::resolver::Resolver for LookupResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        self.0
            .resolve(uri, config, timeout)
            .map_err(|error| match error {
                ureq::Error::Io(_) => ureq::Error::HostNotFound,
                other => other,
            })
    }
}

/// The host of `uri`, for messages about failures to reach it.
fn host_of(uri: &http::Uri) -> &str {
    uri.host().unwrap_or("the server")
}

/// A ureq failure, classified as the core's one transport-failure type; a failure to reach
/// the server (nothing sent) names its host.
fn failure(error: ureq::Error, uri: &http::Uri) -> TransportFailure {
    let (kind, sent) = match &error {
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
            (TransportErrorKind::Connect, false)
        }
        ureq::Error::Timeout(timeout) => {
            // Resolve and connect timeouts fire before any byte leaves.
            let before_sending = matches!(timeout, ureq::Timeout::Resolve | ureq::Timeout::Connect);
            (TransportErrorKind::Timeout, !before_sending)
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            (TransportErrorKind::Connect, false)
        }
        ureq::Error::Io(_) | ureq::Error::Protocol(_) => (TransportErrorKind::Io, true),
        _ => (TransportErrorKind::Other, true),
    };
    let message = if sent {
        error.to_string()
    } else {
        format!("could not reach {}: {error}", host_of(uri))
    };
    TransportFailure::new(kind, sent, message)
}

impl SyncTransport for UreqTransport {
    type Error = TransportFailure;

    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportFailure> {
        let (parts, body) = self.run(request)?.into_parts();
        let mut bytes = Vec::new();
        body.into_reader()
            .take(self.max_body.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|error| {
                TransportFailure::new(
                    TransportErrorKind::Io,
                    true,
                    format!("reading the answer failed: {error}"),
                )
            })?;
        Ok(HttpResponse::from_parts(parts, bytes))
    }
}

/// A ureq answer read as it arrives; a read that times out (no byte for the request's idle
/// timeout) is an `io::ErrorKind::TimedOut` error.
pub struct UreqBody(ureq::BodyReader<'static>);

impl std::fmt::Debug for UreqBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UreqBody")
    }
}

impl Read for UreqBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(|error| {
            let timed_out = error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<ureq::Error>())
                .is_some_and(|inner| matches!(inner, ureq::Error::Timeout(_)));
            if timed_out {
                std::io::Error::new(std::io::ErrorKind::TimedOut, error.to_string())
            } else {
                error
            }
        })
    }
}

impl zuora_core::driver::SyncStreamingTransport for UreqTransport {
    type Body = UreqBody;

    fn send_streaming(
        &self,
        request: HttpRequest,
    ) -> Result<http::Response<Self::Body>, TransportFailure> {
        let (parts, body) = self.run(request)?.into_parts();
        Ok(http::Response::from_parts(
            parts,
            UreqBody(body.into_reader()),
        ))
    }
}
