//! A client's engine for drivers outside Rust's transports (the C ABI, the Python package):
//! the configuration, the token cache and the entropy in one shareable value, and an
//! [`Exchange`]: one [`Call`] together with the token it needs, taken from the cache while it is
//! fresh and fetched (by a token call whose requests the driver sends like any other) when not.
//!
//! The Rust transports keep the cache under their own lock instead (a `tokio` mutex in
//! zuora-async), held across the fetch so that concurrent calls wait for one fetch. An
//! [`Exchange`] cannot hold a lock across IO it does not do: two exchanges that both find the
//! cache stale both fetch, and the later token wins the cache. Both are valid tokens.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::call::{Call, Step};
use crate::config::ClientConfig;
use crate::entropy::Entropy;
use crate::error::Error;
use crate::oauth::{Token, TokenCache, TokenRequest};
use crate::operation::Operation;
use crate::secret::AccessToken;
use crate::transport::{HttpRequest, HttpResponse, Now, TransportFailure};

/// The configuration, token cache and entropy of one client, shared by its calls.
///
/// ```
/// use std::time::Instant;
/// use zuora_core::{ClientConfig, machines::Session};
/// let config = ClientConfig::builder().base_url("http://127.0.0.1:1").credentials("id", "secret").into_config()?;
/// let session = Session::new(config, 42);
/// assert!(session.cached_token(None, Instant::now()).is_none());
/// # Ok::<(), zuora_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Session {
    config: Arc<ClientConfig>,
    entropy: Entropy,
    tokens: Mutex<TokenCache>,
}

impl Session {
    /// A session for `config`; `seed` seeds idempotency keys and backoff jitter.
    pub fn new(config: ClientConfig, seed: u64) -> Self {
        Self {
            config: Arc::new(config),
            entropy: Entropy::new(seed),
            tokens: Mutex::new(TokenCache::default()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// The entropy: idempotency keys and jitter seeds.
    pub fn entropy(&self) -> &Entropy {
        &self.entropy
    }

    /// A call of `operation` starting at `now`, with a jitter seed of its own.
    pub fn call<O: Operation>(&self, operation: O, now: Now) -> Call<O> {
        Call::new(
            operation,
            Arc::clone(&self.config),
            now,
            self.entropy.next_u64(),
        )
    }

    /// The cached token, if still fresh at `now`; `stale` (a token Zuora refused) is dropped
    /// from the cache first.
    pub fn cached_token(&self, stale: Option<&AccessToken>, now: Instant) -> Option<AccessToken> {
        let mut cache = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(stale) = stale {
            cache.invalidate(stale);
        }
        cache.usable(now)
    }

    /// Keeps `token` until shortly before it expires: it lives `expires_in` from `asked`, when
    /// it was asked for.
    pub fn store_token(&self, token: AccessToken, expires_in: Duration, asked: Instant) {
        let mut cache = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        cache.store(token, expires_in, asked);
    }
}

/// What happened since an [`Exchange`]'s last step.
#[derive(Debug)]
pub enum ExchangeEvent {
    /// The sleep it asked for is over.
    Resumed,
    /// The answer, read whole.
    Answered(HttpResponse),
    /// No complete answer came.
    Failed(TransportFailure),
}

/// What an [`Exchange`] asks the driver to do next.
#[derive(Debug)]
pub enum ExchangeStep<T> {
    /// Send this request (the token call's, or the operation's).
    Send(HttpRequest),
    /// Sleep this long, then feed [`ExchangeEvent::Resumed`].
    Sleep(Duration),
    /// Over.
    Done(Result<T, Error>),
}

/// One call of an operation and the token call it may run first.
#[derive(Debug)]
pub struct Exchange<O: Operation> {
    call: Call<O>,
    /// The token call in flight, and when it was started.
    fetch: Option<(Call<TokenRequest>, Instant)>,
}

impl<O: Operation> Exchange<O> {
    /// Starts `call` at `now`: its input is checked before anything is sent.
    pub fn start(
        session: &Session,
        mut call: Call<O>,
        now: Now,
    ) -> (Self, ExchangeStep<O::Output>) {
        let first = call.start();
        let mut exchange = Self { call, fetch: None };
        let step = exchange.follow(session, first, now);
        (exchange, step)
    }

    /// Whether the request in flight is the token call's (its answer is never an export).
    pub fn fetching_token(&self) -> bool {
        self.fetch.is_some()
    }

    /// Continues with what happened, at `now`.
    pub fn feed(
        &mut self,
        session: &Session,
        event: ExchangeEvent,
        now: Now,
    ) -> ExchangeStep<O::Output> {
        match &mut self.fetch {
            Some((fetch, _)) => {
                let step = match event {
                    ExchangeEvent::Resumed => fetch.resume(),
                    ExchangeEvent::Answered(response) => fetch.on_response(response, now),
                    ExchangeEvent::Failed(failure) => fetch.on_transport_error(failure, now),
                };
                self.follow_fetch(session, step, now)
            }
            None => {
                let step = match event {
                    ExchangeEvent::Resumed => self.call.resume(),
                    ExchangeEvent::Answered(response) => self.call.on_response(response, now),
                    ExchangeEvent::Failed(failure) => self.call.on_transport_error(failure, now),
                };
                self.follow(session, step, now)
            }
        }
    }

    fn follow(
        &mut self,
        session: &Session,
        mut step: Step<O::Output>,
        now: Now,
    ) -> ExchangeStep<O::Output> {
        loop {
            return match step {
                Step::NeedToken { refresh } => {
                    let stale = if refresh {
                        self.call.stale_token().cloned()
                    } else {
                        None
                    };
                    if let Some(token) = session.cached_token(stale.as_ref(), now.instant) {
                        step = self.call.with_token(token);
                        continue;
                    }
                    let mut fetch = session.call(session.config.token_request(), now);
                    let first = fetch.start();
                    self.fetch = Some((fetch, now.instant));
                    self.follow_fetch(session, first, now)
                }
                Step::Send(request) => ExchangeStep::Send(request),
                Step::Wait(delay) => ExchangeStep::Sleep(delay),
                Step::Done(outcome) => ExchangeStep::Done(outcome),
            };
        }
    }

    fn follow_fetch(
        &mut self,
        session: &Session,
        step: Step<Token>,
        now: Now,
    ) -> ExchangeStep<O::Output> {
        match step {
            Step::Send(request) => ExchangeStep::Send(request),
            Step::Wait(delay) => ExchangeStep::Sleep(delay),
            Step::Done(Ok(token)) => {
                let asked = self.fetch.take().map_or(now.instant, |(_, asked)| asked);
                session.store_token(token.access_token.clone(), token.expires_in, asked);
                let step = self.call.with_token(token.access_token);
                self.follow(session, step, now)
            }
            Step::Done(Err(error)) => {
                self.fetch = None;
                ExchangeStep::Done(Err(error))
            }
            // The token request needs no token: its call never asks for one.
            Step::NeedToken { .. } => {
                ExchangeStep::Done(Err(Error::build("the token call asked for a token")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::ReportRunId;

    fn now() -> Now {
        Now::new(Instant::now(), SystemTime::now())
    }

    fn session() -> Session {
        let config = ClientConfig::builder()
            .base_url("http://127.0.0.1:1")
            .credentials("id", "secret")
            .into_config()
            .expect("a valid configuration");
        Session::new(config, 7)
    }

    fn answer(status: u16, body: &str) -> HttpResponse {
        http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .expect("a valid answer")
    }

    fn sent<T: std::fmt::Debug>(step: &ExchangeStep<T>) -> (String, String) {
        let ExchangeStep::Send(request) = step else {
            panic!("expected a request, got {step:?}");
        };
        let bearer = request
            .headers()
            .get("authorization")
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        (request.uri().path().to_owned(), bearer)
    }

    const TOKEN: &str = r#"{"access_token":"tok-1","expires_in":3599,"token_type":"bearer"}"#;

    #[test]
    fn a_token_is_fetched_once_then_reused_and_refreshed_once_on_401() {
        let session = session();
        let run_id: ReportRunId = "ff808081529f4e3401529fd61f080074".parse().expect("an id");
        let get = || session.call(session.config().get_run(&run_id), now());

        let (mut first, step) = Exchange::start(&session, get(), now());
        assert_eq!(sent(&step).0, "/oauth/token");
        assert!(first.fetching_token());
        let step = first.feed(&session, ExchangeEvent::Answered(answer(200, TOKEN)), now());
        let (path, bearer) = sent(&step);
        assert!(path.ends_with("/reportruns/ff808081529f4e3401529fd61f080074"));
        assert_eq!(bearer, "Bearer tok-1");
        assert!(!first.fetching_token());

        // The next exchange finds the token cached: its first request is the operation's.
        let (mut second, step) = Exchange::start(&session, get(), now());
        assert_eq!(sent(&step).1, "Bearer tok-1");
        // Zuora refuses the token: it is dropped and fetched again, once.
        let refused = answer(401, r#"{"message":"Authentication error"}"#);
        let step = second.feed(&session, ExchangeEvent::Answered(refused), now());
        assert_eq!(sent(&step).0, "/oauth/token");
        let fresh = TOKEN.replace("tok-1", "tok-2");
        let step = second.feed(
            &session,
            ExchangeEvent::Answered(answer(200, &fresh)),
            now(),
        );
        assert_eq!(sent(&step).1, "Bearer tok-2");
        let stored = session
            .cached_token(None, Instant::now())
            .expect("a cached token");
        assert_eq!(stored.expose_secret(), "tok-2");
    }

    #[test]
    fn a_failed_token_fetch_ends_the_exchange_with_its_error() {
        let session = session();
        let run_id: ReportRunId = "ff808081529f4e3401529fd61f080074".parse().expect("an id");
        let call = session.call(session.config().get_run(&run_id), now());
        let (mut exchange, _) = Exchange::start(&session, call, now());
        let refused = answer(401, r#"{"message":"Authentication error"}"#);
        let step = exchange.feed(&session, ExchangeEvent::Answered(refused), now());
        let ExchangeStep::Done(Err(error)) = step else {
            panic!("expected the end, got {step:?}");
        };
        assert_eq!(error.kind(), crate::ErrorKind::Authentication);
        assert!(session.cached_token(None, Instant::now()).is_none());
    }
}
