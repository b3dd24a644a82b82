//! When to try again: a pure function of the attempt, its outcome, the headers and `now`.

use std::time::{Duration, SystemTime};

use http::StatusCode;

use crate::driver::transport::{TransportErrorKind, TransportFailure};
use crate::operations::operation::ResendSafety;
use crate::responses::response::ResponseError;
use crate::values::invalid_input::{InvalidInput, in_range};

/// How a call retries. The defaults follow Zuora's guidance (reference §8): at most 5
/// attempts, full-jitter backoff from 1 s doubling to a 60 s cap, `Retry-After` honoured up
/// to 60 s.
///
/// Each setter checks its value when it is called: attempts from 1 to
/// [`MAX_ATTEMPTS`](Self::MAX_ATTEMPTS), delays from 1 ms to [`MAX_DELAY`](Self::MAX_DELAY).
///
/// ```
/// use std::time::Duration;
/// use zuora_core::RetryPolicy;
/// let policy = RetryPolicy::default()
///     .with_max_attempts(3)?
///     .with_base_delay(Duration::from_millis(200))?;
/// assert_eq!(policy.max_attempts(), 3);
/// assert!(RetryPolicy::default().with_max_attempts(0).is_err());
/// # Ok::<(), zuora_core::errors::InvalidInput>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) base_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The most attempts a policy may make.
    pub const MAX_ATTEMPTS: u32 = 50;
    /// The longest delay a policy may wait between attempts.
    pub const MAX_DELAY: Duration = Duration::from_secs(3600);
    const MIN_DELAY: Duration = Duration::from_millis(1);

    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (1 = never retry).
    pub fn with_max_attempts(mut self, attempts: u32) -> Result<Self, InvalidInput> {
        self.max_attempts = in_range("retry max attempts", attempts, 1, Self::MAX_ATTEMPTS)?;
        Ok(self)
    }

    /// The backoff before the second attempt is drawn from `0..delay`, and doubles after.
    pub fn with_base_delay(mut self, delay: Duration) -> Result<Self, InvalidInput> {
        self.base_delay = in_range("retry base delay", delay, Self::MIN_DELAY, Self::MAX_DELAY)?;
        Ok(self)
    }

    /// The backoff never exceeds this.
    pub fn with_max_delay(mut self, delay: Duration) -> Result<Self, InvalidInput> {
        self.max_delay = in_range("retry max delay", delay, Self::MIN_DELAY, Self::MAX_DELAY)?;
        Ok(self)
    }

    /// A server's `Retry-After` or `RateLimit-Reset` is honoured up to this.
    pub fn with_max_retry_after(mut self, delay: Duration) -> Result<Self, InvalidInput> {
        self.max_retry_after = in_range(
            "retry max Retry-After",
            delay,
            Self::MIN_DELAY,
            Self::MAX_DELAY,
        )?;
        Ok(self)
    }

    /// Attempts in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The first backoff's upper bound.
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// The backoff's cap.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The cap on a server's `Retry-After` or `RateLimit-Reset`.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }
}

/// What happened to one attempt.
#[derive(Debug, Clone, Copy)]
pub enum AttemptOutcome<'a> {
    /// Zuora answered, with an error.
    Response(&'a ResponseError),
    /// No (complete) answer arrived.
    Transport(&'a TransportFailure),
}

/// Everything the decision depends on besides the outcome.
#[derive(Debug, Clone, Copy)]
pub struct AttemptContext {
    /// Attempts made so far, this one included (1-based).
    pub attempt: u32,
    /// Time since the call started.
    pub elapsed: Duration,
    /// The call's overall deadline, from its start.
    pub deadline: Duration,
    /// Whether the token was already refreshed once for this call.
    pub token_refreshed: bool,
    /// Whether the request may be sent again.
    pub safety: ResendSafety,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then send the same request again.
    RetryAfter(Duration),
    /// Get a new token, then send again at once (a 401, once per call).
    RefreshToken,
    /// The failure is final: report it as it is.
    GiveUp,
    /// The failure was worth retrying but attempts or time ran out.
    Exhausted,
}

/// A source of uniform fractions in `[0, 1)` for jitter; injectable so tests are exact.
pub trait Jitter {
    /// The next fraction.
    fn fraction(&mut self) -> f64;
}

impl<F: FnMut() -> f64> Jitter for F {
    fn fraction(&mut self) -> f64 {
        self()
    }
}

/// A small seeded generator (SplitMix64) for jitter; transports seed it from the OS.
#[derive(Debug, Clone)]
pub struct SeededJitter(u64);

impl SeededJitter {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
}

impl Jitter for SeededJitter {
    fn fraction(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        (split_mix(self.0) >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl RetryPolicy {
    /// Decides what follows a failed attempt.
    ///
    /// - 401: one token refresh, then one replay; a second 401 is final. The replay counts
    ///   as an attempt: with `max_attempts: 1` a 401 is final at once.
    /// - 429: wait for `Retry-After` (seconds or HTTP date) or `RateLimit-Reset`, capped at
    ///   [`max_retry_after`](Self::max_retry_after).
    /// - 500, 502, 503, 504, connect errors, timeouts, broken connections: retried with
    ///   backoff (503's `Retry-After` honoured), but a POST only with an idempotency key or
    ///   when it provably never left.
    /// - 409 (the same key in flight): retried with backoff, same key.
    /// - 422, every other 4xx, `success: false`, unreadable answers: never retried.
    /// - Never past `max_attempts`, never past the deadline.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use zuora_core::{policies::AttemptContext, policies::AttemptOutcome, operations::ResendSafety, policies::RetryDecision, RetryPolicy, driver::TransportErrorKind, driver::TransportFailure};
    /// let refused = TransportFailure::new(TransportErrorKind::Connect, false, "connection refused");
    /// let context = AttemptContext {
    ///     attempt: 1, elapsed: Duration::ZERO, deadline: Duration::from_secs(300),
    ///     token_refreshed: false, safety: ResendSafety::Unsafe,
    /// };
    /// let mut half = || 0.5;
    /// let decision = RetryPolicy::default().decide(&context, AttemptOutcome::Transport(&refused), SystemTime::now(), &mut half);
    /// assert_eq!(decision, RetryDecision::RetryAfter(Duration::from_millis(500)));
    /// ```
    pub fn decide(
        &self,
        context: &AttemptContext,
        outcome: AttemptOutcome<'_>,
        now: SystemTime,
        jitter: &mut dyn Jitter,
    ) -> RetryDecision {
        let resend_ok = |sent: bool| match context.safety {
            ResendSafety::Idempotent | ResendSafety::IdempotencyKey => true,
            ResendSafety::Unsafe => !sent,
        };
        let (retryable, hint) = match outcome {
            AttemptOutcome::Response(error) => {
                let status = error.status();
                if status == StatusCode::UNAUTHORIZED {
                    // The refresh and its replay are one more attempt: never past max_attempts.
                    return if context.token_refreshed || context.attempt >= self.max_attempts {
                        RetryDecision::GiveUp
                    } else {
                        RetryDecision::RefreshToken
                    };
                }
                let server_hint = error.meta.retry_after.map(|r| r.delay_from(now));
                match status.as_u16() {
                    429 => (true, server_hint.or(error.meta.rate_limit.reset)),
                    409 => (context.safety == ResendSafety::IdempotencyKey, None),
                    500 | 502 | 503 | 504 => (resend_ok(true), server_hint),
                    _ => (false, None),
                }
            }
            AttemptOutcome::Transport(failure) => {
                let kind_retryable = matches!(
                    failure.kind,
                    TransportErrorKind::Connect
                        | TransportErrorKind::Timeout
                        | TransportErrorKind::Io
                );
                (
                    kind_retryable && resend_ok(failure.may_have_been_sent),
                    None,
                )
            }
        };
        if !retryable {
            return RetryDecision::GiveUp;
        }
        if context.attempt >= self.max_attempts {
            return RetryDecision::Exhausted;
        }
        let delay = match hint {
            Some(hint) => hint.min(self.max_retry_after),
            None => self.backoff(context.attempt, jitter),
        };
        if context.elapsed.saturating_add(delay) > context.deadline {
            return RetryDecision::Exhausted;
        }
        RetryDecision::RetryAfter(delay)
    }

    /// Full jitter: uniform in `0..min(max_delay, base_delay * 2^(attempt - 1))`.
    pub fn backoff(&self, attempt: u32, jitter: &mut dyn Jitter) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay);
        let fraction = jitter.fraction();
        // NaN (from a broken jitter source) waits the whole ceiling rather than panicking.
        let fraction = if fraction.is_nan() {
            1.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        ceiling.mul_f64(fraction)
    }
}

/// SplitMix64's output function: a well-mixed 64-bit value for each input.
pub(crate) fn split_mix(value: u64) -> u64 {
    let mut z = value;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
