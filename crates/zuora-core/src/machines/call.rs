//! One call from start to finish, without IO: which request to send, when to wait, when to
//! get a token, and when it is over. Transports drive it in a loop and do only the IO:
//!
//! ```text
//! let mut step = call.start();
//! loop {
//!     step = match step {
//!         Step::NeedToken { refresh } => call.with_token(get_token(refresh, call.stale_token())?),
//!         Step::Send(request)         => match send(request) { Ok(r) => call.on_response(r, Now::new(..)),
//!                                                             Err(e) => call.on_transport_error(e, Now::new(..)) },
//!         Step::Sleep(delay)           => { sleep(delay); call.resume() }
//!         Step::Done(result)          => return result,
//!     }
//! }
//! ```

use std::time::{Duration, Instant};

use std::borrow::Borrow;

use crate::config::client_config::ClientConfig;
use crate::driver::transport::HttpRequest;
use crate::driver::transport::{HttpResponse, Now, TransportFailure};
use crate::errors::error::Error;
use crate::operations::operation::{Credential, Operation};
use crate::policies::retry::{AttemptContext, AttemptOutcome, RetryDecision, SeededJitter};
use crate::values::secret::AccessToken;

/// What the transport must do next.
#[derive(Debug)]
pub enum Step<T> {
    /// Get a token (from the cache, or fetch one; `refresh`: the last one was refused) and
    /// hand it to [`Call::with_token`].
    NeedToken {
        /// Zuora refused [`Call::stale_token`]: do not hand it back.
        refresh: bool,
    },
    /// Send this request and hand the outcome to [`Call::on_response`] or
    /// [`Call::on_transport_error`].
    Send(HttpRequest),
    /// Sleep this long, then call [`Call::resume`].
    Sleep(std::time::Duration),
    /// The call is over.
    Done(Result<T, Error>),
}

/// One call of an [`Operation`], its attempts and its retries.
#[derive(Debug)]
pub struct Call<O, C = std::sync::Arc<ClientConfig>> {
    operation: O,
    /// The configuration, borrowed (`&ClientConfig`) or shared (`Arc<ClientConfig>`).
    config: C,
    /// The whole call's time: the configured overall timeout, or less (see [`Call::within`]).
    overall: Duration,
    started: Instant,
    /// The latest time the call knows of: the last outcome's `now` plus the waits ordered
    /// since. Enough to cut each attempt to the time left without asking for a clock.
    known_now: Instant,
    attempts: u32,
    token_refreshed: bool,
    token: Option<AccessToken>,
    jitter: SeededJitter,
}

impl<O: Operation, C: Borrow<ClientConfig>> Call<O, C> {
    /// A call starting at `now`; `jitter_seed` seeds the backoff's randomness.
    pub fn new(operation: O, config: C, now: Now, jitter_seed: u64) -> Self {
        let overall = config.borrow().overall_timeout;
        Self {
            operation,
            config,
            overall,
            started: now.instant,
            known_now: now.instant,
            attempts: 0,
            token_refreshed: false,
            token: None,
            jitter: SeededJitter::new(jitter_seed),
        }
    }

    /// Cuts the whole call to `budget` when that is less than the configured overall
    /// timeout: a look inside a wait, say, may not outlive the wait.
    #[must_use]
    pub fn within(mut self, budget: Duration) -> Self {
        self.overall = self.overall.min(budget);
        self
    }

    /// The operation.
    pub fn operation(&self) -> &O {
        &self.operation
    }

    /// Attempts sent so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The first step: input is checked before anything, the token request included, is sent.
    pub fn start(&mut self) -> Step<O::Output> {
        if let Err(error) = self.operation.validate() {
            return Step::Done(Err(error));
        }
        self.resume()
    }

    /// The token Zuora refused, to be dropped from the cache on `NeedToken { refresh: true }`.
    pub fn stale_token(&self) -> Option<&AccessToken> {
        self.token.as_ref()
    }

    /// Continues with a token.
    pub fn with_token(&mut self, token: AccessToken) -> Step<O::Output> {
        self.token = Some(token);
        self.send()
    }

    /// Continues after a [`Step::Sleep`].
    pub fn resume(&mut self) -> Step<O::Output> {
        if <O::Credential as Credential>::NEEDS_TOKEN {
            Step::NeedToken { refresh: false }
        } else {
            self.send()
        }
    }

    /// Continues with Zuora's answer.
    pub fn on_response(&mut self, mut response: HttpResponse, now: Now) -> Step<O::Output> {
        self.known_now = self.known_now.max(now.instant);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        tracing::debug!(
            operation = self.operation.name(),
            attempt = self.attempts,
            status = response.status().as_u16(),
            zuora_request_id = header("zuora-request-id"),
            zuora_track_id = header("zuora-track-id"),
            "answer received"
        );
        let parsed = self
            .operation
            .parse_response(&response, self.config.borrow().limits);
        if self.operation.answer_holds_secret() {
            zeroize::Zeroize::zeroize(response.body_mut());
        }
        match parsed {
            Ok(output) => Step::Done(Ok(output)),
            Err(mut error) => {
                // The client knows its credentials: none of them comes back in the server's
                // words, whatever the server echoes.
                let token = self.token.as_ref().map(AccessToken::expose_secret);
                let secret = self.config.borrow().client_secret.expose_secret();
                error.redact(&[token.unwrap_or_default(), secret]);
                let decision = self.decide(AttemptOutcome::Response(&error), now);
                self.follow(decision, Error::Api(error))
            }
        }
    }

    /// Continues after the transport failed.
    pub fn on_transport_error(
        &mut self,
        mut failure: TransportFailure,
        now: Now,
    ) -> Step<O::Output> {
        self.known_now = self.known_now.max(now.instant);
        if failure.host.is_none() {
            failure.host = self.config.borrow().environment.host();
        }
        tracing::debug!(
            operation = self.operation.name(),
            attempt = self.attempts,
            kind = %failure.kind,
            sent = failure.may_have_been_sent,
            "transport failed"
        );
        let decision = self.decide(AttemptOutcome::Transport(&failure), now);
        self.follow(decision, Error::Transport(failure))
    }

    fn send(&mut self) -> Step<O::Output> {
        self.attempts += 1;
        // A call asks for a token (`Step::NeedToken`) before it sends whenever its operation
        // needs one, so a missing credential here is a bug, reported rather than sent.
        let built = match O::Credential::pick(self.token.as_ref()) {
            Some(credential) => self
                .operation
                .to_request(&self.config.borrow().environment, credential),
            None => Err(Error::misuse("a call tried to send without its token")),
        };
        match built {
            Ok(mut request) => {
                let idle = self
                    .operation
                    .streams()
                    .then(|| self.config.borrow().idle_timeout);
                request.body_mut().stamp(self.attempt_budget(), idle);
                Step::Send(request)
            }
            Err(error) => Step::Done(Err(error)),
        }
    }

    /// What is left of the whole call's time at `now` (zero once its deadline has passed).
    pub fn time_left(&self, now: Instant) -> Duration {
        self.overall
            .saturating_sub(now.saturating_duration_since(self.started))
    }

    /// The attempt timeout, cut to what is left of the overall deadline (at least 1 ms: the
    /// retry policy never schedules an attempt past the deadline, so this floor is reached
    /// only by time spent outside the call, such as a token fetch).
    pub fn attempt_budget(&self) -> std::time::Duration {
        let elapsed = self.known_now.saturating_duration_since(self.started);
        let left = self.overall.saturating_sub(elapsed);
        self.config
            .borrow()
            .attempt_timeout
            .min(left)
            .max(std::time::Duration::from_millis(1))
    }

    fn decide(&mut self, outcome: AttemptOutcome<'_>, now: Now) -> RetryDecision {
        let context = AttemptContext {
            attempt: self.attempts,
            elapsed: now.instant.saturating_duration_since(self.started),
            deadline: self.overall,
            token_refreshed: self.token_refreshed,
            safety: self.operation.resend_safety(),
        };
        self.config
            .borrow()
            .retry
            .decide(&context, outcome, now.wall, &mut self.jitter)
    }

    fn follow(&mut self, decision: RetryDecision, error: Error) -> Step<O::Output> {
        match decision {
            RetryDecision::RetryAfter(delay) => {
                tracing::debug!(
                    operation = self.operation.name(),
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    "retrying after a delay"
                );
                self.known_now = self.known_now.checked_add(delay).unwrap_or(self.known_now);
                Step::Sleep(delay)
            }
            RetryDecision::RefreshToken if <O::Credential as Credential>::NEEDS_TOKEN => {
                tracing::debug!(operation = self.operation.name(), "refreshing the token");
                self.token_refreshed = true;
                Step::NeedToken { refresh: true }
            }
            RetryDecision::RefreshToken | RetryDecision::GiveUp => Step::Done(Err(error)),
            RetryDecision::Exhausted => Step::Done(Err(Error::RetriesExhausted {
                attempts: self.attempts,
                last: Box::new(error),
            })),
        }
    }
}
