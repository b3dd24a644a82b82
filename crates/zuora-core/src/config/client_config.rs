//! What a client is configured with, and the one builder both transports share.

use std::marker::PhantomData;
use std::time::Duration;

use crate::errors::error::Error;
use crate::filters::filter::FilterGroup;
use crate::operations::request::CallOptions;
use crate::operations::run_report::RunReport;
use crate::operations::token_request::TokenRequest;
use crate::policies::retry::RetryPolicy;
use crate::responses::response::ResponseLimits;
use crate::values::client_id::ClientId;
use crate::values::environment::Environment;
use crate::values::headers::{EntityIds, IdempotencyKey, TrackId};
use crate::values::ids::{ReportId, ViewType};
use crate::values::invalid_input::InvalidInput;
use crate::values::secret::ClientSecret;

/// Default time to establish a connection: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time for one attempt: 130 s (Zuora ends requests at 120 s with a 504).
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(130);
/// Default time for a whole call, retries and waits included: 5 min.
pub const DEFAULT_OVERALL_TIMEOUT: Duration = Duration::from_secs(300);

/// The most pages a paged read (a search, a run's rows) fetches before it stops with
/// [`Error::PagingStopped`].
pub const DEFAULT_MAX_PAGES: u32 = 200;

/// A validated client configuration. Build one with [`ClientBuilder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    pub(crate) environment: Environment,
    pub(crate) client_id: ClientId,
    pub(crate) client_secret: ClientSecret,
    pub(crate) entity_ids: Option<EntityIds>,
    pub(crate) connect_timeout: Duration,
    pub(crate) attempt_timeout: Duration,
    pub(crate) overall_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) gzip_responses: bool,
    pub(crate) gzip_requests: bool,
    pub(crate) user_agent: String,
    pub(crate) limits: ResponseLimits,
    pub(crate) max_pages: u32,
    pub(crate) idle_timeout: Duration,
    pub(crate) low_speed: Option<LowSpeed>,
    pub(crate) max_export_bytes: Option<u64>,
    pub(crate) receive_thread: bool,
}

/// What the configuration holds (set through [`ClientBuilder`]; there is no other way in).
impl ClientConfig {
    /// Where the API is.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// OAuth client id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// `Zuora-Entity-Ids` on every call, for Multi-entity tenants.
    pub fn entity_ids(&self) -> Option<&EntityIds> {
        self.entity_ids.as_ref()
    }

    /// Time to connect.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Time for one attempt.
    pub fn attempt_timeout(&self) -> Duration {
        self.attempt_timeout
    }

    /// Time for a whole call, retries included.
    pub fn overall_timeout(&self) -> Duration {
        self.overall_timeout
    }

    /// Retries.
    pub fn retry(&self) -> RetryPolicy {
        self.retry
    }

    /// Ask for gzipped answers (`Accept-Encoding: gzip`).
    pub fn gzip_responses(&self) -> bool {
        self.gzip_responses
    }

    /// Gzip request bodies (`Content-Encoding: gzip`).
    pub fn gzip_requests(&self) -> bool {
        self.gzip_requests
    }

    /// `User-Agent`.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// Limits on answers.
    pub fn limits(&self) -> ResponseLimits {
        self.limits
    }

    /// The most pages one paged read (search, report data) fetches.
    pub fn max_pages(&self) -> u32 {
        self.max_pages
    }

    /// How long a streamed export may go without a byte before it fails (an export that keeps
    /// moving is never cut for being long; the low-speed rule ends one that barely moves).
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The low-speed rule of a streamed export; `None` when turned off.
    pub fn low_speed(&self) -> Option<LowSpeed> {
        self.low_speed
    }

    /// The most bytes one export may write once converted; `None` (the default) for no cap.
    pub fn max_export_bytes(&self) -> Option<u64> {
        self.max_export_bytes
    }

    /// Whether a driver that can may receive a streamed export on a thread of its own while
    /// the caller's thread converts it (default on; see
    /// [`ClientBuilder::receive_thread`]).
    pub fn receive_thread(&self) -> bool {
        self.receive_thread
    }
}

/// The longest timeout of any kind a configuration takes: a day. More is a typed error when
/// the configuration is built, never an overflow later.
///
/// ```
/// use std::time::Duration;
/// let built = zuora_core::ClientConfig::builder()
///     .base_url("http://127.0.0.1:1")
///     .credentials("id", "secret")
///     .attempt_timeout(Duration::MAX)
///     .into_config();
/// assert!(built.unwrap_err().to_string().contains("attempt timeout"));
/// ```
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// The default [`ClientConfig::idle_timeout`]: a minute without a byte.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The low-speed rule of a streamed export (as curl's `--speed-limit` and `--speed-time`):
/// a download that moves fewer than `bytes_per_second` on average over any `over` ends with
/// [`Error::ExportTooSlow`](crate::Error::ExportTooSlow). An export that trickles a byte now
/// and then is never silent long enough for the idle timeout; this ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowSpeed {
    /// The floor, in bytes a second (as received: compressed, if gzipped).
    pub bytes_per_second: u64,
    /// How long the rate may stay under the floor.
    pub over: Duration,
}

/// The default low-speed rule: under 256 bytes a second for a minute. An export moving at
/// 1 KiB/s or more is never cut.
pub const DEFAULT_LOW_SPEED: LowSpeed = LowSpeed {
    bytes_per_second: 256,
    over: Duration::from_secs(60),
};

/// Options of one *Run a report* call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReportOptions {
    /// Filter groups replacing the report's saved filters.
    pub filters: Vec<FilterGroup>,
    /// The `Idempotency-Key`; when `None`, the client makes one (a UUID v4) per call and
    /// sends it with every attempt.
    pub idempotency_key: Option<IdempotencyKey>,
    /// `Zuora-Track-Id`.
    pub track_id: Option<TrackId>,
}

impl RunReportOptions {
    /// Sets the filters.
    pub fn filters(mut self, filters: impl IntoIterator<Item = FilterGroup>) -> Self {
        self.filters = filters.into_iter().collect();
        self
    }
    /// Sets the idempotency key.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }
    /// Sets the track id.
    pub fn track_id(mut self, track_id: TrackId) -> Self {
        self.track_id = Some(track_id);
        self
    }
}

impl ClientConfig {
    /// *Retrieve a report run* for `run_id`, with the configured headers.
    pub fn get_run(&self, run_id: &crate::ReportRunId) -> crate::operations::GetReportRun {
        crate::operations::GetReportRun {
            run_id: run_id.clone(),
            options: self.call_options(None),
        }
    }

    /// *Last completed run* of `report_id`, with the configured headers.
    pub fn latest_run(&self, report_id: &crate::ReportId) -> crate::operations::LatestReportRun {
        crate::operations::LatestReportRun {
            report_id: report_id.clone(),
            options: self.call_options(None),
        }
    }

    /// *Export results* of `run_id` (the flat table: `pivoted=false`), with the configured
    /// headers.
    pub fn export_run(&self, run_id: &crate::ReportRunId) -> crate::operations::ExportReportRun {
        crate::operations::ExportReportRun {
            run_id: run_id.clone(),
            pivoted: false,
            options: self.call_options(None),
        }
    }

    /// *Cancel a report run* for `run_id`, with the configured headers.
    pub fn cancel_run(&self, run_id: &crate::ReportRunId) -> crate::operations::CancelReportRun {
        crate::operations::CancelReportRun {
            run_id: run_id.clone(),
            options: self.call_options(None),
        }
    }
}

impl ClientConfig {
    /// The *Run a report* operation for a call, its idempotency key fixed once: the one in
    /// `options`, or a UUID v4 from `random` (16 bytes the transport draws per call).
    pub fn run_report(
        &self,
        report_id: &ReportId,
        view_type: ViewType,
        options: RunReportOptions,
        random: [u8; 16],
    ) -> RunReport {
        let key = options
            .idempotency_key
            .unwrap_or_else(|| IdempotencyKey::uuid_v4_from_bytes(random));
        RunReport::new(report_id.clone(), view_type)
            .filters(options.filters)
            .idempotency_key(key)
            .call_options(self.call_options(options.track_id))
            .gzip_request_body(self.gzip_requests)
    }

    /// The common headers of a call: the configured entity and gzip choice, and `track_id`.
    pub fn call_options(&self, track_id: Option<TrackId>) -> CallOptions {
        CallOptions {
            track_id,
            entity_ids: self.entity_ids.clone(),
            accept_gzip: self.gzip_responses,
        }
    }

    /// The token operation for these credentials.
    pub fn token_request(&self) -> TokenRequest {
        TokenRequest::new(self.client_id.clone(), self.client_secret.clone()).call_options(
            CallOptions {
                track_id: None,
                entity_ids: self.entity_ids.clone(),
                accept_gzip: false,
            },
        )
    }
}

impl ClientConfig {
    /// A builder whose `build()` yields the validated configuration itself, for a client over
    /// your own transport (or anything else that wants the settings).
    pub fn builder() -> ClientBuilder<ClientConfig> {
        ClientBuilder::new()
    }
}

/// The configuration is its own "client": building it just validates the settings.
impl BuildClient for ClientConfig {
    fn from_config(config: ClientConfig) -> Result<Self, Error> {
        Ok(config)
    }
}

/// A client type a [`ClientBuilder`] can build.
pub trait BuildClient: Sized {
    /// Makes the client from a validated configuration.
    fn from_config(config: ClientConfig) -> Result<Self, Error>;
}

/// Builds a client of type `C` (`zuora_async::Client` or `zuora_blocking::Client`): the same
/// settings for both. Values are validated in [`build`](Self::build), which names the first
/// one that breaks a rule.
#[derive(Debug, Clone)]
pub struct ClientBuilder<C> {
    environment: Option<Result<Environment, InvalidInput>>,
    client_id: Option<String>,
    client_secret: Option<ClientSecret>,
    secret_error: Option<InvalidInput>,
    entity_ids: Option<String>,
    connect_timeout: Duration,
    attempt_timeout: Duration,
    overall_timeout: Duration,
    retry: RetryPolicy,
    gzip_responses: bool,
    gzip_requests: bool,
    user_agent: String,
    limits: ResponseLimits,
    max_pages: u32,
    idle_timeout: Duration,
    low_speed: Option<LowSpeed>,
    max_export_bytes: Option<u64>,
    receive_thread: bool,
    client: PhantomData<fn() -> C>,
}

impl<C> Default for ClientBuilder<C> {
    fn default() -> Self {
        Self {
            environment: None,
            client_id: None,
            client_secret: None,
            secret_error: None,
            entity_ids: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            overall_timeout: DEFAULT_OVERALL_TIMEOUT,
            retry: RetryPolicy::default(),
            gzip_responses: true,
            gzip_requests: false,
            user_agent: concat!("zuora-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            limits: ResponseLimits::default(),
            max_pages: DEFAULT_MAX_PAGES,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            low_speed: Some(DEFAULT_LOW_SPEED),
            max_export_bytes: None,
            receive_thread: true,
            client: PhantomData,
        }
    }
}

impl<C: BuildClient> ClientBuilder<C> {
    /// A builder with the defaults: gzip answers on, gzip requests off, 10 s connect,
    /// 130 s per attempt, 5 min per call, [`RetryPolicy::default`], 16 MiB decoded bodies.
    pub fn new() -> Self {
        Self::default()
    }

    /// One of Zuora's environments (or [`Environment::Custom`]).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(Ok(environment));
        self
    }

    /// A base URL such as `https://rest.apisandbox.zuora.com` or a simulator's
    /// `http://127.0.0.1:PORT` (plain http only on loopback).
    pub fn base_url(mut self, url: &str) -> Self {
        self.environment = Some(Environment::custom(url));
        self
    }

    /// OAuth client credentials.
    pub fn credentials(mut self, client_id: &str, client_secret: &str) -> Self {
        self.client_id = Some(client_id.to_owned());
        match ClientSecret::new(client_secret) {
            Ok(secret) => {
                self.client_secret = Some(secret);
                self.secret_error = None;
            }
            Err(error) => self.secret_error = Some(error),
        }
        self
    }

    /// `Zuora-Entity-Ids` on every call.
    pub fn entity_ids(mut self, entity_ids: &str) -> Self {
        self.entity_ids = Some(entity_ids.to_owned());
        self
    }

    /// Time to connect.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time for one attempt.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Time for a whole call, retries and waits included.
    pub fn overall_timeout(mut self, timeout: Duration) -> Self {
        self.overall_timeout = timeout;
        self
    }

    /// The most pages a paged read (search, report data) fetches before it stops with
    /// [`Error::PagingStopped`] (default [`DEFAULT_MAX_PAGES`]).
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = pages;
        self
    }

    /// How long a streamed export may go without a byte (default one minute).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Ends a streamed export that moves fewer than `bytes_per_second` on average over
    /// `over` (default [`DEFAULT_LOW_SPEED`]: 256 bytes a second over a minute); `None`
    /// turns the rule off (the idle timeout still ends a silent one).
    pub fn low_speed(mut self, rule: Option<LowSpeed>) -> Self {
        self.low_speed = rule;
        self
    }

    /// Ends an export whose converted output passes `bytes` with
    /// [`Error::ExportTooLarge`](crate::Error::ExportTooLarge); no more than `bytes` of it
    /// reach the output (default `None`: no cap). A guard for a job that should never see a
    /// huge export, or a server that sends one without end; memory is bounded either way.
    pub fn max_export_bytes(mut self, bytes: Option<u64>) -> Self {
        self.max_export_bytes = bytes;
        self
    }

    /// Whether an export is received on a thread of its own, so receiving (the kernel's
    /// copy, the HTTP library's buffers) overlaps converting on the caller's thread: a large
    /// download then costs about the converter's time rather than the sum. Default on.
    /// zuora-blocking (and so the `zuora-report` CLI) starts one short-lived thread per
    /// export; zuora-async receives on a task of the runtime instead (overlapping only on a
    /// multi-threaded runtime). Turn it off where no extra thread or task is wanted (a busy
    /// runtime, a one-core container): everything then runs on the caller's thread, as
    /// before. The hand-over holds at most a few 64 KiB chunks.
    pub fn receive_thread(mut self, on: bool) -> Self {
        self.receive_thread = on;
        self
    }

    /// The retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Ask for gzipped answers (default on).
    pub fn gzip_responses(mut self, on: bool) -> Self {
        self.gzip_responses = on;
        self
    }

    /// Gzip request bodies (default off).
    pub fn gzip_requests(mut self, on: bool) -> Self {
        self.gzip_requests = on;
        self
    }

    /// `User-Agent` (default `zuora-rs/VERSION`).
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = user_agent.to_owned();
        self
    }

    /// Limits on answers.
    pub fn limits(mut self, limits: ResponseLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Validates the settings and builds the client.
    pub fn build(self) -> Result<C, Error> {
        C::from_config(self.into_config()?)
    }

    /// Validates the settings into a configuration (for a client over your own transport).
    pub fn into_config(self) -> Result<ClientConfig, Error> {
        let environment = self.environment.ok_or(InvalidInput::Empty {
            field: "environment or base URL",
        })??;
        let client_id: ClientId = self
            .client_id
            .ok_or(InvalidInput::Empty { field: "client id" })?
            .parse()?;
        if let Some(error) = self.secret_error {
            return Err(error.into());
        }
        let client_secret = self.client_secret.ok_or(InvalidInput::Empty {
            field: "client secret",
        })?;
        let entity_ids = self.entity_ids.as_deref().map(str::parse).transpose()?;
        if self.user_agent.is_empty() || http::HeaderValue::from_str(&self.user_agent).is_err() {
            return Err(InvalidInput::Malformed {
                field: "user agent",
                reason: "it must be non-empty visible ASCII".to_owned(),
            }
            .into());
        }
        for (field, value) in [
            ("connect timeout", self.connect_timeout),
            ("attempt timeout", self.attempt_timeout),
            ("overall timeout", self.overall_timeout),
            ("idle timeout", self.idle_timeout),
        ] {
            if value.is_zero() {
                return Err(InvalidInput::Malformed {
                    field,
                    reason: "it must be more than zero".to_owned(),
                }
                .into());
            }
            // A bound every HTTP stack and clock can add to an instant without overflow
            // (`Duration::MAX` panics inside some).
            if value > MAX_TIMEOUT {
                return Err(InvalidInput::Malformed {
                    field,
                    reason: format!("{value:?} is more than the most allowed, {MAX_TIMEOUT:?}"),
                }
                .into());
            }
        }
        if let Some(rule) = self.low_speed
            && (rule.bytes_per_second == 0
                || rule.over < Duration::from_secs(1)
                || rule.over > MAX_TIMEOUT)
        {
            return Err(InvalidInput::Malformed {
                field: "low speed",
                reason: "the floor must be at least 1 byte a second, over a second to a day"
                    .to_owned(),
            }
            .into());
        }
        if self.max_pages == 0 {
            return Err(InvalidInput::Malformed {
                field: "max pages",
                reason: "it must be at least 1".to_owned(),
            }
            .into());
        }
        if self.retry.max_attempts == 0 {
            return Err(InvalidInput::Malformed {
                field: "retry policy",
                reason: "max_attempts must be at least 1".to_owned(),
            }
            .into());
        }
        Ok(ClientConfig {
            environment,
            client_id,
            client_secret,
            entity_ids,
            connect_timeout: self.connect_timeout,
            attempt_timeout: self.attempt_timeout,
            overall_timeout: self.overall_timeout,
            retry: self.retry,
            gzip_responses: self.gzip_responses,
            gzip_requests: self.gzip_requests,
            user_agent: self.user_agent,
            limits: self.limits,
            max_pages: self.max_pages,
            idle_timeout: self.idle_timeout,
            low_speed: self.low_speed,
            max_export_bytes: self.max_export_bytes,
            receive_thread: self.receive_thread,
        })
    }
}
