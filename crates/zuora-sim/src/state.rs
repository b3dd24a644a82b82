//! Everything the simulator remembers, behind one lock that is never held across an await.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use zuora_core::{ViewType, values::format_uuid_v4};

use crate::body::Templates;
use crate::catalogue::{Catalogue, RunOutcome};
use crate::clock::SimClock;
use crate::config::{Fault, FaultPlan, FaultScope, RateBudget, RunTiming, SimConfig};
use crate::rng::Rng;

/// A run's status, as Zuora spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Started; the query is not yet submitted.
    Started,
    /// The query is submitted.
    QueryData,
    /// Results received, being processed.
    ProcessingData,
    /// Results are ready.
    Completed,
    /// Cancelled by the user.
    Cancelled,
    /// The definition or data is invalid.
    Invalid,
    /// Finished with an error.
    Error,
}

impl RunStatus {
    /// `STARTED`, `QUERYDATA`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "STARTED",
            Self::QueryData => "QUERYDATA",
            Self::ProcessingData => "PROCESSINGDATA",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
            Self::Invalid => "INVALID",
            Self::Error => "ERROR",
        }
    }

    /// Whether the run can still change.
    pub fn in_progress(self) -> bool {
        matches!(self, Self::Started | Self::QueryData | Self::ProcessingData)
    }
}

/// One run of a report.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub id: String,
    pub report_id: String,
    pub view_type: ViewType,
    pub created: Duration,
    pub cancelled: Option<Duration>,
    pub outcome: RunOutcome,
    pub timing: RunTiming,
    /// The filter groups the run was started with (none: the report's rows, all of them).
    pub filters: Vec<zuora_core::filters::FilterGroup>,
    /// How long it may run before it is stopped with `ERROR` (Zuora's hour, or the setting).
    pub time_limit: Duration,
}

impl Run {
    /// The status at simulated time `now`, and when it last changed.
    pub fn status_at(&self, now: Duration) -> (RunStatus, Duration) {
        if let Some(at) = self.cancelled {
            return (RunStatus::Cancelled, at);
        }
        let t = now.saturating_sub(self.created);
        let query_from = self.timing.started;
        let processing_from = query_from + self.timing.query_data;
        let done_at = processing_from + self.timing.processing_data;
        let (status, since) = match self.outcome {
            RunOutcome::Invalid if t >= query_from => (RunStatus::Invalid, query_from),
            RunOutcome::Fails if t >= processing_from => (RunStatus::Error, processing_from),
            _ if t >= self.time_limit && done_at > self.time_limit => {
                (RunStatus::Error, self.time_limit)
            }
            RunOutcome::Completes if t >= done_at => (RunStatus::Completed, done_at),
            _ if t >= processing_from => (RunStatus::ProcessingData, processing_from),
            _ if t >= query_from => (RunStatus::QueryData, query_from),
            _ => (RunStatus::Started, Duration::ZERO),
        };
        (status, self.created + since)
    }
}

/// A complete answer the idempotency store can replay.
#[derive(Debug, Clone)]
pub(crate) struct StoredResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Debug, Clone)]
pub(crate) enum IdempotencyEntry {
    InFlight {
        method: Method,
        target: String,
        since: Duration,
    },
    Done {
        method: Method,
        target: String,
        at: Duration,
        response: StoredResponse,
    },
}

/// The most requests the log keeps (the oldest half is dropped past it).
pub(crate) const MAX_LOGGED_REQUESTS: usize = 100_000;

/// What the simulator saw of one request (`Authorization` removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// The method.
    pub method: String,
    /// The path, still percent-encoded.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// Every header but `Authorization`, names in lower case.
    pub headers: Vec<(String, String)>,
    /// Simulated time since the simulator started.
    pub at: Duration,
}

impl LoggedRequest {
    /// The first value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Settings a test may change while the simulator runs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub token_ttl: Duration,
    pub run_timing: RunTiming,
    pub rate_budget: RateBudget,
    pub faults: FaultPlan,
    pub fault_scope: FaultScope,
    pub idempotency_ttl: Duration,
    pub catalogue: Catalogue,
    pub export_limit: Option<u64>,
    pub run_time_limit: Duration,
}

pub(crate) struct State {
    pub settings: Settings,
    pub rng: Rng,
    fault_rng: Rng,
    script_position: usize,
    pub tokens: HashMap<String, Duration>,
    pub runs: HashMap<String, Run>,
    pub runs_per_report: HashMap<String, usize>,
    pub runs_per_key: HashMap<String, usize>,
    pub idempotency: HashMap<String, IdempotencyEntry>,
    pub log: Vec<LoggedRequest>,
    pub token_requests: u64,
    window_start: Duration,
    window_count: u64,
}

/// What the budget says about one request.
pub(crate) struct BudgetCheck {
    pub allowed: bool,
    pub limit: u64,
    pub window: Duration,
    pub remaining: u64,
    pub reset: Duration,
}

impl State {
    /// The next fault for a request, if the plan has one for it.
    pub fn draw_fault(&mut self) -> Option<Fault> {
        match &self.settings.faults {
            FaultPlan::None => None,
            FaultPlan::Script(script) => {
                let fault = script.get(self.script_position).copied().flatten();
                self.script_position += 1;
                fault
            }
            FaultPlan::Random {
                probability, kinds, ..
            } => {
                if kinds.is_empty() || !self.fault_rng.chance(*probability) {
                    return None;
                }
                Some(*self.fault_rng.pick(kinds))
            }
        }
    }

    /// Replaces the fault plan and restarts its script or random stream.
    pub fn set_faults(&mut self, plan: FaultPlan, scope: FaultScope) {
        if let FaultPlan::Random { seed, .. } = &plan {
            self.fault_rng = Rng::new(*seed);
        }
        self.script_position = 0;
        self.settings.faults = plan;
        self.settings.fault_scope = scope;
    }

    /// Counts a request against the budget (refused ones count too, as at Zuora).
    pub fn spend_budget(&mut self, now: Duration) -> BudgetCheck {
        let RateBudget { limit, window } = self.settings.rate_budget;
        let window = window.max(Duration::from_secs(1));
        if now.saturating_sub(self.window_start) >= window {
            let windows_passed =
                now.saturating_sub(self.window_start).as_nanos() / window.as_nanos();
            self.window_start += window * u32::try_from(windows_passed).unwrap_or(u32::MAX);
            self.window_count = 0;
        }
        self.window_count += 1;
        BudgetCheck {
            allowed: self.window_count <= limit,
            limit,
            window,
            remaining: limit.saturating_sub(self.window_count),
            reset: (self.window_start + window).saturating_sub(now),
        }
    }

    /// The budget as it stands, without spending from it.
    pub fn peek_budget(&self, now: Duration) -> BudgetCheck {
        let RateBudget { limit, window } = self.settings.rate_budget;
        let window = window.max(Duration::from_secs(1));
        let fresh = now.saturating_sub(self.window_start) >= window;
        let used = if fresh { 0 } else { self.window_count };
        let reset = if fresh {
            window
        } else {
            (self.window_start + window).saturating_sub(now)
        };
        BudgetCheck {
            allowed: used < limit,
            limit,
            window,
            remaining: limit.saturating_sub(used),
            reset,
        }
    }

    /// What `GET /sim/stats` shows: runs started, the most runs in progress at one moment,
    /// and duplicate runs. A run is a duplicate when an earlier run of the same report, view
    /// and filters had not failed and was not cancelled: the same query started twice,
    /// whether under one idempotency key replayed wrongly or under two (a client that lost
    /// its key). A run started afresh after one that ended without results is not one.
    pub fn stats(&self, now: Duration) -> serde_json::Value {
        let mut runs: Vec<&Run> = self.runs.values().collect();
        runs.sort_by_key(|run| (run.created, run.id.clone()));
        let mut edges: Vec<(Duration, i64)> = Vec::with_capacity(runs.len() * 2);
        let mut queries: HashMap<String, bool> = HashMap::new();
        let mut duplicates = 0u64;
        for run in &runs {
            let (status, since) = run.status_at(now);
            let end = if status.in_progress() { now } else { since };
            if end > run.created {
                edges.push((run.created, 1));
                edges.push((end, -1));
            }
            let query = format!(
                "{}|{}|{}",
                run.report_id,
                run.view_type,
                serde_json::to_string(&run.filters).unwrap_or_default()
            );
            let good = !matches!(
                status,
                RunStatus::Cancelled | RunStatus::Error | RunStatus::Invalid
            );
            let seen_good = queries.entry(query).or_insert(false);
            if *seen_good {
                duplicates += 1;
            }
            *seen_good |= good;
        }
        // Ends before starts at the same moment: a run that ends as another starts does not
        // overlap it.
        edges.sort();
        let (mut running, mut peak) = (0i64, 0i64);
        for (_, change) in edges {
            running += change;
            peak = peak.max(running);
        }
        let replayed_keys: usize = self
            .runs_per_key
            .values()
            .map(|n| n.saturating_sub(1))
            .sum();
        serde_json::json!({
            "runs_started": runs.len(),
            "peak_running_runs": peak,
            "duplicate_runs": duplicates + replayed_keys as u64,
            "running_runs": runs.iter().filter(|r| r.status_at(now).0.in_progress()).count(),
        })
    }

    /// A new 36-character `Zuora-Request-Id`.
    pub fn request_id(&mut self) -> String {
        format_uuid_v4(self.rng.bytes16())
    }
}

/// The simulator's shared core: fixed credentials, the clock, and the locked state.
pub(crate) struct Shared {
    pub client_id: String,
    pub client_secret: String,
    pub clock: SimClock,
    /// Each large report's pre-encoded rows, made at its first export.
    pub templates: Templates,
    state: Mutex<State>,
}

impl Shared {
    pub fn new(config: SimConfig) -> Self {
        let mut rng = Rng::new(config.seed);
        let client_id = config
            .client_id
            .unwrap_or_else(|| format_uuid_v4(rng.bytes16()));
        let client_secret = config.client_secret.unwrap_or_else(|| rng.hex32());
        let fault_seed = match &config.faults {
            FaultPlan::Random { seed, .. } => *seed,
            _ => config.seed,
        };
        Self {
            client_id,
            client_secret,
            clock: SimClock::new(),
            templates: Templates::default(),
            state: Mutex::new(State {
                settings: Settings {
                    token_ttl: config.token_ttl,
                    run_timing: config.run_timing,
                    rate_budget: config.rate_budget,
                    faults: config.faults,
                    fault_scope: config.fault_scope,
                    idempotency_ttl: config.idempotency_ttl,
                    catalogue: config.catalogue,
                    export_limit: config.export_limit,
                    run_time_limit: config.run_time_limit,
                },
                rng,
                fault_rng: Rng::new(fault_seed),
                script_position: 0,
                tokens: HashMap::new(),
                runs: HashMap::new(),
                runs_per_report: HashMap::new(),
                runs_per_key: HashMap::new(),
                idempotency: HashMap::new(),
                log: Vec::new(),
                token_requests: 0,
                window_start: Duration::ZERO,
                window_count: 0,
            }),
        }
    }

    /// The state; a panic elsewhere never poisons the simulator for the other requests.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
