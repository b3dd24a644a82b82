//! A client's engine for drivers: the configuration, the token cache and the entropy in one
//! shareable value, and an [`Exchange`]: one [`Call`] together with the token it needs, taken
//! from the cache while it is fresh and fetched (by a token call whose requests the driver
//! sends like any other) when not.
//!
//! Token fetches are single-flight, decided here: when the cache is stale, the first exchange
//! to ask claims the fetch, and every other one is told to wait
//! ([`TaskStep::AwaitToken`](crate::machines::TaskStep::AwaitToken)) until the fetch settles or its own time is up, then looks
//! again. A driver only supplies a way to wake those waiters
//! ([`Session::on_token_settled`]: a tokio `watch`, a `Condvar`, an `asyncio.Event`), or
//! none, and then they look again after a short sleep. A claim is released when its fetch
//! settles, and also when the exchange holding it is dropped (a task abandoned mid-fetch), so
//! a lost driver never leaves the others waiting.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::client_config::ClientConfig;
use crate::driver::transport::{Now, TransportErrorKind, TransportFailure};
use crate::errors::error::Error;
use crate::machines::call::{Call, Step};
use crate::machines::entropy::Entropy;
use crate::machines::steps::{ExchangeEvent, TaskStep};
use crate::machines::token_cache::TokenCache;
use crate::operations::operation::Operation;
use crate::operations::token_request::Token;
use crate::operations::token_request::TokenRequest;
use crate::values::secret::AccessToken;

/// Wakes the calls waiting for a token fetch; gets the new settle count.
type Waker = Arc<dyn Fn(u64) + Send + Sync>;

/// The cache and who is fetching.
#[derive(Debug, Default)]
struct Tokens {
    cache: TokenCache,
    /// The claim number of the fetch under way.
    fetching: Option<u64>,
    /// The last claim number handed out.
    claims: u64,
    /// How many fetches have settled (stored a token, failed, or were abandoned).
    settled: u64,
}

/// What a call needing a token does now.
enum TokenTurn {
    /// Use this one.
    Ready(AccessToken),
    /// Fetch one: this call holds the claim.
    Fetch(FetchClaim),
    /// Another call is fetching: wait until the settle count moves past this.
    Wait { settled: u64 },
}

/// The right to fetch the session's token, released (and the waiters woken) when dropped.
struct FetchClaim {
    tokens: Arc<Mutex<Tokens>>,
    waker: Option<Waker>,
    id: u64,
}

impl std::fmt::Debug for FetchClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchClaim").field("id", &self.id).finish()
    }
}

impl Drop for FetchClaim {
    fn drop(&mut self) {
        let settled = {
            let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            if tokens.fetching != Some(self.id) {
                return;
            }
            tokens.fetching = None;
            tokens.settled = tokens.settled.wrapping_add(1);
            tokens.settled
        };
        if let Some(wake) = &self.waker {
            wake(settled);
        }
    }
}

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
pub struct Session {
    config: Arc<ClientConfig>,
    entropy: Entropy,
    tokens: Arc<Mutex<Tokens>>,
    waker: Option<Waker>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session for `config`; `seed` seeds idempotency keys and backoff jitter.
    pub fn new(config: ClientConfig, seed: u64) -> Self {
        Self {
            config: Arc::new(config),
            entropy: Entropy::new(seed),
            tokens: Arc::default(),
            waker: None,
        }
    }

    /// Has `wake` called with the new settle count whenever a token fetch settles, so the
    /// driver can wake the calls it parked on [`TaskStep::AwaitToken`](crate::machines::TaskStep::AwaitToken) at once. Without
    /// it they look again when their wait runs out.
    #[must_use]
    pub fn on_token_settled(mut self, wake: impl Fn(u64) + Send + Sync + 'static) -> Self {
        self.waker = Some(Arc::new(wake));
        self
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Tokens> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached token, if still fresh at `now`; `stale` (a token Zuora refused) is dropped
    /// from the cache first.
    pub fn cached_token(&self, stale: Option<&AccessToken>, now: Instant) -> Option<AccessToken> {
        let mut tokens = self.lock();
        if let Some(stale) = stale {
            tokens.cache.invalidate(stale);
        }
        tokens.cache.usable(now)
    }

    /// Keeps `token` until shortly before it expires: it lives `expires_in` from `asked`, when
    /// it was asked for.
    pub fn store_token(&self, token: AccessToken, expires_in: Duration, asked: Instant) {
        self.lock().cache.store(token, expires_in, asked);
    }

    /// How many token fetches have settled: a waiter parked at one count looks again once it
    /// moves.
    pub fn tokens_settled(&self) -> u64 {
        self.lock().settled
    }

    /// The cached token, or the claim to fetch one, or the word to wait for the fetch under
    /// way.
    fn token_turn(&self, stale: Option<&AccessToken>, now: Instant) -> TokenTurn {
        let mut tokens = self.lock();
        if let Some(stale) = stale {
            tokens.cache.invalidate(stale);
        }
        if let Some(token) = tokens.cache.usable(now) {
            return TokenTurn::Ready(token);
        }
        if tokens.fetching.is_some() {
            return TokenTurn::Wait {
                settled: tokens.settled,
            };
        }
        tokens.claims = tokens.claims.wrapping_add(1);
        let id = tokens.claims;
        tokens.fetching = Some(id);
        TokenTurn::Fetch(FetchClaim {
            tokens: Arc::clone(&self.tokens),
            waker: self.waker.clone(),
            id,
        })
    }
}

/// One call of an operation and the token call it may run first.
#[derive(Debug)]
pub struct Exchange<O: Operation> {
    call: Call<O>,
    /// The token call in flight, when it was started, and the claim it runs under. Boxed:
    /// a fetch is rare (once per token), and unboxed it was half of every exchange (264 of
    /// 520 bytes), which a driver moves several times per call.
    fetch: Option<Box<(Call<TokenRequest>, Instant, FetchClaim)>>,
    /// Parked until another call's fetch settles.
    awaiting: bool,
}

impl<O: Operation> Exchange<O> {
    /// Starts `call` at `now`: its input is checked before anything is sent.
    pub fn start(session: &Session, mut call: Call<O>, now: Now) -> (Self, TaskStep<O::Output>) {
        let first = call.start();
        let mut exchange = Self {
            call,
            fetch: None,
            awaiting: false,
        };
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
    ) -> TaskStep<O::Output> {
        if std::mem::take(&mut self.awaiting) {
            return match event {
                ExchangeEvent::Resumed => {
                    self.follow(session, Step::NeedToken { refresh: false }, now)
                }
                _ => TaskStep::Done(Err(Error::misuse(
                    "an answer while the call was waiting for a token",
                ))),
            };
        }
        match self.fetch.as_deref_mut() {
            Some((fetch, _, _)) => {
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
    ) -> TaskStep<O::Output> {
        loop {
            return match step {
                Step::NeedToken { refresh } => {
                    let stale = if refresh {
                        self.call.stale_token().cloned()
                    } else {
                        None
                    };
                    match session.token_turn(stale.as_ref(), now.instant) {
                        TokenTurn::Ready(token) => {
                            step = self.call.with_token(token);
                            continue;
                        }
                        TokenTurn::Fetch(claim) => {
                            let mut fetch = session.call(session.config.token_request(), now);
                            let first = fetch.start();
                            self.fetch = Some(Box::new((fetch, now.instant, claim)));
                            self.follow_fetch(session, first, now)
                        }
                        TokenTurn::Wait { settled } => {
                            let within = self.call.time_left(now.instant);
                            if within.is_zero() {
                                return TaskStep::Done(Err(Error::Transport(
                                    TransportFailure::new(
                                        TransportErrorKind::Timeout,
                                        false,
                                        "the call's deadline passed while another call \
                                         fetched the token",
                                    ),
                                )));
                            }
                            self.awaiting = true;
                            TaskStep::AwaitToken { settled, within }
                        }
                    }
                }
                Step::Send(request) => TaskStep::Send(request),
                Step::Sleep(delay) => TaskStep::Sleep(delay),
                Step::Done(outcome) => TaskStep::Done(outcome),
            };
        }
    }

    fn follow_fetch(
        &mut self,
        session: &Session,
        step: Step<Token>,
        now: Now,
    ) -> TaskStep<O::Output> {
        match step {
            Step::Send(request) => TaskStep::Send(request),
            Step::Sleep(delay) => TaskStep::Sleep(delay),
            Step::Done(Ok(token)) => {
                // Stored before the claim is dropped, so the woken waiters find it.
                let fetched = self.fetch.take();
                let asked = fetched
                    .as_deref()
                    .map_or(now.instant, |(_, asked, _)| *asked);
                session.store_token(token.access_token.clone(), token.expires_in, asked);
                drop(fetched);
                let step = self.call.with_token(token.access_token);
                self.follow(session, step, now)
            }
            Step::Done(Err(error)) => {
                self.fetch = None;
                TaskStep::Done(Err(error))
            }
            // The token request needs no token: its call never asks for one.
            Step::NeedToken { .. } => {
                TaskStep::Done(Err(Error::misuse("the token call asked for a token")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReportRunId;
    use crate::machines::scripted::{json_answer as answer, now, session};

    fn sent<T: std::fmt::Debug>(step: &TaskStep<T>) -> (String, String) {
        let TaskStep::Send(request) = step else {
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
        let TaskStep::Done(Err(error)) = step else {
            panic!("expected the end, got {step:?}");
        };
        assert_eq!(error.kind(), crate::ErrorKind::Authentication);
        assert!(session.cached_token(None, Instant::now()).is_none());
    }

    #[test]
    fn one_fetch_at_a_time_the_others_wait_and_are_woken() {
        use std::sync::atomic::{AtomicU64, Ordering};
        let woken = Arc::new(AtomicU64::new(0));
        let seen = Arc::clone(&woken);
        let session =
            session().on_token_settled(move |settled| seen.store(settled, Ordering::SeqCst));
        let run_id: ReportRunId = "ff808081529f4e3401529fd61f080074".parse().expect("an id");
        let get = || session.call(session.config().get_run(&run_id), now());

        let (mut first, step) = Exchange::start(&session, get(), now());
        assert_eq!(sent(&step).0, "/oauth/token");
        // A second call meets the fetch under way: it waits, within its own deadline.
        let (mut second, step) = Exchange::start(&session, get(), now());
        let TaskStep::AwaitToken { settled, within } = step else {
            panic!("expected a wait for the token, got {step:?}");
        };
        assert_eq!(settled, 0);
        assert!(within > Duration::ZERO && within <= session.config().overall_timeout());
        // Woken early, before the fetch settled: it looks again and waits again.
        let step = second.feed(&session, ExchangeEvent::Resumed, now());
        assert!(
            matches!(step, TaskStep::AwaitToken { settled: 0, .. }),
            "{step:?}"
        );

        let step = first.feed(&session, ExchangeEvent::Answered(answer(200, TOKEN)), now());
        assert_eq!(sent(&step).1, "Bearer tok-1");
        assert_eq!(woken.load(Ordering::SeqCst), 1);
        assert_eq!(session.tokens_settled(), 1);
        let step = second.feed(&session, ExchangeEvent::Resumed, now());
        assert_eq!(
            sent(&step).1,
            "Bearer tok-1",
            "the waiter uses the fetched token"
        );
    }

    #[test]
    fn an_exchange_dropped_mid_fetch_releases_its_claim() {
        let session = session();
        let run_id: ReportRunId = "ff808081529f4e3401529fd61f080074".parse().expect("an id");
        let get = || session.call(session.config().get_run(&run_id), now());
        let (abandoned, step) = Exchange::start(&session, get(), now());
        assert_eq!(sent(&step).0, "/oauth/token");
        let (_, step) = Exchange::start(&session, get(), now());
        assert!(matches!(step, TaskStep::AwaitToken { .. }));
        drop(abandoned);
        assert_eq!(session.tokens_settled(), 1);
        let (_, step) = Exchange::start(&session, get(), now());
        assert_eq!(sent(&step).0, "/oauth/token", "the next call fetches");
    }

    #[test]
    fn a_waiter_whose_deadline_passed_gives_up_with_nothing_sent() {
        let session = session();
        let run_id: ReportRunId = "ff808081529f4e3401529fd61f080074".parse().expect("an id");
        let (_fetching, _) = Exchange::start(
            &session,
            session.call(session.config().get_run(&run_id), now()),
            now(),
        );
        let start = now();
        let short = session
            .call(session.config().get_run(&run_id), start)
            .within(Duration::from_millis(5));
        let (mut waiter, step) = Exchange::start(&session, short, start);
        assert!(
            matches!(step, TaskStep::AwaitToken { within, .. } if within <= Duration::from_millis(5))
        );
        let later = Now::new(start.instant + Duration::from_millis(6), start.wall);
        let TaskStep::Done(Err(error)) = waiter.feed(&session, ExchangeEvent::Resumed, later)
        else {
            panic!("the waiter must give up at its deadline");
        };
        assert!(matches!(&error, Error::Transport(failure) if !failure.may_have_been_sent));
    }
}
