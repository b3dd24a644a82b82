//! How a simulator behaves: credentials, timing, limits, catalogue and faults.

use std::time::Duration;

use crate::catalogue::Catalogue;

/// A fault the simulator can inject into one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this 5xx status (500, 502, 503 or 504) without doing the work.
    Status(u16),
    /// Answer 429 with `Retry-After` (whole seconds) and the gateway's limit body.
    RateLimited {
        /// The `Retry-After` value.
        retry_after_secs: u64,
    },
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Close the connection before doing anything or writing any response.
    ConnectionReset,
    /// Do the work (a run is created, the idempotency store records the answer), then close
    /// the connection before the response is written: the case that makes naive clients
    /// create duplicate runs.
    CommitThenDrop,
    /// Do the work and send the status, headers and part of the body, then close the
    /// connection: a download cut off mid-way.
    CutOff,
}

/// Which requests a fault plan applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultScope {
    /// Every Reporting route (not `/oauth/token`).
    Reporting,
    /// Only *Run a report*.
    RunReport,
    /// Every route, `/oauth/token` included.
    Everything,
}

/// When faults happen. Deterministic: the random plan draws from its own seed.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultPlan {
    /// No faults.
    None,
    /// The listed faults, one per matching request in order (`None` lets a request
    /// through), then no more.
    Script(Vec<Option<Fault>>),
    /// Each matching request meets a fault with `probability`, drawn uniformly from `kinds`.
    Random {
        /// Seed of the fault draws.
        seed: u64,
        /// Chance of a fault per request, `0.0..=1.0`.
        probability: f64,
        /// The faults to choose from.
        kinds: Vec<Fault>,
    },
}

impl FaultPlan {
    /// Every fault kind, for soak tests: 500, 502, 503, 504, 429, a delay, a reset, and
    /// commit-then-drop.
    pub fn every_kind() -> Vec<Fault> {
        vec![
            Fault::Status(500),
            Fault::Status(502),
            Fault::Status(503),
            Fault::Status(504),
            Fault::RateLimited {
                retry_after_secs: 1,
            },
            Fault::Delay(Duration::from_millis(20)),
            Fault::ConnectionReset,
            Fault::CommitThenDrop,
        ]
    }
}

/// How long a run spends in each in-progress status before the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunTiming {
    /// In `STARTED`.
    pub started: Duration,
    /// In `QUERYDATA`.
    pub query_data: Duration,
    /// In `PROCESSINGDATA`.
    pub processing_data: Duration,
}

impl RunTiming {
    /// Runs complete at once: for fast tests.
    pub const INSTANT: Self = Self {
        started: Duration::ZERO,
        query_data: Duration::ZERO,
        processing_data: Duration::ZERO,
    };

    /// Each in-progress status lasts `each`.
    pub fn uniform(each: Duration) -> Self {
        Self {
            started: each,
            query_data: each,
            processing_data: each,
        }
    }
}

/// A request budget: at most `limit` requests per `window` of simulated time, then 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateBudget {
    /// Requests allowed per window.
    pub limit: u64,
    /// The window.
    pub window: Duration,
}

impl RateBudget {
    /// Zuora's production API limit: 50 000 requests a minute.
    pub const PRODUCTION: Self = Self {
        limit: 50_000,
        window: Duration::from_secs(60),
    };
}

/// Everything that shapes a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of ids, credentials, data and faults.
    pub seed: u64,
    /// The accepted `client_id`; `None` derives a 36-character UUID from the seed.
    pub client_id: Option<String>,
    /// The accepted `client_secret`; `None` derives one from the seed.
    pub client_secret: Option<String>,
    /// Lifetime of tokens (`expires_in`); Zuora's is 3599 s.
    pub token_ttl: Duration,
    /// How runs progress.
    pub run_timing: RunTiming,
    /// The request budget behind `RateLimit-*` and 429.
    pub rate_budget: RateBudget,
    /// Faults to inject.
    pub faults: FaultPlan,
    /// Which requests faults apply to.
    pub fault_scope: FaultScope,
    /// How long the idempotency store keeps an answer; Zuora's is 24 h.
    pub idempotency_ttl: Duration,
    /// The reports served.
    pub catalogue: Catalogue,
    /// Exports larger than this many bytes (UTF-16, as sent) fail with 504 Gateway
    /// Time-out, as Zuora's do above about 25 MB (reference §13); `None`: no limit.
    pub export_limit: Option<u64>,
    /// Runs that would take longer end in `ERROR` at this time, as Zuora stops a run after
    /// an hour (reference §5).
    pub run_time_limit: Duration,
}

impl SimConfig {
    /// The sample catalogue with runs that complete at once, no faults, production limits.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            client_id: None,
            client_secret: None,
            token_ttl: Duration::from_secs(3599),
            run_timing: RunTiming::INSTANT,
            rate_budget: RateBudget::PRODUCTION,
            faults: FaultPlan::None,
            fault_scope: FaultScope::Reporting,
            idempotency_ttl: Duration::from_secs(24 * 3600),
            catalogue: Catalogue::sample(seed, 1_000),
            export_limit: None,
            run_time_limit: Duration::from_secs(3600),
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self::new(42)
    }
}
