//! One operation's call together with the token it may need: the session's cached token when
//! it is fresh, else a token call run first (its requests are the task's requests), stored in
//! the session for every later call. This is the C driver's part of the sans-IO split done
//! once here, so a C program only moves bytes and sleeps.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use zuora_core::ClientConfig;
use zuora_core::driver::{HttpRequest, HttpResponse, Now, TransportFailure};
use zuora_core::machines::{Call, Entropy, Step, TokenCache};
use zuora_core::operations::{Operation, Token, TokenRequest};
use zuora_core::values::AccessToken;

/// A session's shared state: its configuration, token cache and entropy.
pub(crate) struct Engine {
    pub(crate) config: Arc<ClientConfig>,
    entropy: Entropy,
    tokens: Mutex<TokenCache>,
}

/// The two clock readings the core takes as arguments, read together.
pub(crate) fn now() -> Now {
    Now::new(Instant::now(), SystemTime::now())
}

impl Engine {
    pub(crate) fn new(config: ClientConfig, seed: u64) -> Self {
        Self {
            config: Arc::new(config),
            entropy: Entropy::new(seed),
            tokens: Mutex::new(TokenCache::default()),
        }
    }

    /// Sixteen fresh bytes for an idempotency key.
    pub(crate) fn key_bytes(&self) -> [u8; 16] {
        self.entropy.key_bytes()
    }

    /// A call of `operation` starting now, with its own jitter seed.
    pub(crate) fn call<O: Operation>(&self, operation: O) -> Call<O> {
        Call::new(
            operation,
            Arc::clone(&self.config),
            now(),
            self.entropy.next_u64(),
        )
    }

    fn cached_token(&self, stale: Option<&AccessToken>) -> Option<AccessToken> {
        let mut cache = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(stale) = stale {
            cache.invalidate(stale);
        }
        cache.usable(Instant::now())
    }

    /// Keeps a token; its life counts from `asked`, when it was asked for.
    pub(crate) fn store_token(&self, token: &Token, asked: Instant) {
        let mut cache = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        cache.store(token.access_token.clone(), token.expires_in, asked);
    }
}

/// What an exchange asks for next.
pub(crate) enum Action<T> {
    /// Send this request.
    Send(HttpRequest),
    /// Sleep this long, then resume.
    Sleep(Duration),
    /// Over.
    Done(Result<T, zuora_core::Error>),
}

/// What happened since a task's last step.
pub(crate) enum Input {
    /// The sleep is over (or the rows were taken).
    Resume,
    /// The answer, read whole.
    Response(HttpResponse),
    /// No complete answer came.
    Failure(TransportFailure),
}

/// One call, and the token call it may run first.
pub(crate) struct Exchange<O: Operation> {
    call: Call<O>,
    fetch: Option<(Call<TokenRequest>, Instant)>,
}

impl<O: Operation> Exchange<O> {
    /// Starts `call`: its input is checked before anything is sent.
    pub(crate) fn start(engine: &Engine, mut call: Call<O>) -> (Self, Action<O::Output>) {
        let first = call.start();
        let mut exchange = Self { call, fetch: None };
        let action = exchange.follow(engine, first);
        (exchange, action)
    }

    /// Whether the request in flight is the token call's.
    pub(crate) fn fetching_token(&self) -> bool {
        self.fetch.is_some()
    }

    /// Continues with what happened: a sleep ended, an answer came, or none could.
    pub(crate) fn feed(&mut self, engine: &Engine, input: Input) -> Action<O::Output> {
        match &mut self.fetch {
            Some((fetch, _)) => {
                let step = match input {
                    Input::Resume => fetch.resume(),
                    Input::Response(response) => fetch.on_response(response, now()),
                    Input::Failure(failure) => fetch.on_transport_error(failure, now()),
                };
                self.follow_fetch(engine, step)
            }
            None => {
                let step = match input {
                    Input::Resume => self.call.resume(),
                    Input::Response(response) => self.call.on_response(response, now()),
                    Input::Failure(failure) => self.call.on_transport_error(failure, now()),
                };
                self.follow(engine, step)
            }
        }
    }

    fn follow(&mut self, engine: &Engine, mut step: Step<O::Output>) -> Action<O::Output> {
        loop {
            return match step {
                Step::NeedToken { refresh } => {
                    let stale = if refresh {
                        self.call.stale_token().cloned()
                    } else {
                        None
                    };
                    if let Some(token) = engine.cached_token(stale.as_ref()) {
                        step = self.call.with_token(token);
                        continue;
                    }
                    let mut fetch = engine.call(engine.config.token_request());
                    let first = fetch.start();
                    self.fetch = Some((fetch, Instant::now()));
                    self.follow_fetch(engine, first)
                }
                Step::Send(request) => Action::Send(request),
                Step::Wait(delay) => Action::Sleep(delay),
                Step::Done(outcome) => Action::Done(outcome),
            };
        }
    }

    fn follow_fetch(&mut self, engine: &Engine, step: Step<Token>) -> Action<O::Output> {
        match step {
            Step::Send(request) => Action::Send(request),
            Step::Wait(delay) => Action::Sleep(delay),
            Step::Done(Ok(token)) => {
                let asked = self
                    .fetch
                    .take()
                    .map_or_else(Instant::now, |(_, asked)| asked);
                engine.store_token(&token, asked);
                let step = self.call.with_token(token.access_token);
                self.follow(engine, step)
            }
            Step::Done(Err(error)) => {
                self.fetch = None;
                Action::Done(Err(error))
            }
            // The token request needs no token: the core never asks.
            Step::NeedToken { .. } => Action::Done(Err(zuora_core::Error::build(
                "the token call asked for a token",
            ))),
        }
    }
}
