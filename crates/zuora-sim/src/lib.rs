//! # zuora-sim: Zuora's Reporting API on your machine
//!
//! A real HTTP server (hyper 1 on tokio) on loopback that behaves like Zuora's Reporting API
//! and OAuth endpoint as Zuora documents them (`docs/api-choices.md` in the repository says where the project chose): tokens that expire, runs
//! that move `STARTED → QUERYDATA → PROCESSINGDATA → COMPLETED`, data pages, UTF-16LE
//! exports streamed at any size, search, rate limits, idempotency, gzip, and injected
//! faults. Every test of zuora-rs runs against it over real sockets, and `zuora-report
//! --simulate` uses it to work offline.
//!
//! ```
//! use zuora_sim::{SimConfig, Simulator};
//!
//! let sim = Simulator::start(SimConfig::new(7))?;
//! assert!(sim.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(sim.client_id().len(), 36);
//! let report = sim.report_by_name("Invoice Detail").expect("in the sample catalogue");
//! assert_eq!(report.columns()[4].id, "Invoice.Amount");
//! assert_eq!(sim.runs_created_for_report(report.id.as_str()), 0);
//! sim.shutdown();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Run a report with the simulator's own catalogue from a shell: see the crate README.

// Handlers return whole responses as their early-exit values; boxing them buys nothing here.
#![allow(clippy::result_large_err)]

mod body;
mod catalogue;
mod clock;
mod config;
mod filter;
mod message;
mod rng;
mod routes;
mod server;
mod state;
mod tenant;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

pub use body::ExportStream;
pub use catalogue::{
    Catalogue, Column, DataSource, LARGE_REPORT_NAME, LEGACY_CODE_CONTRADICTION_ROW, NumberLocale,
    Report, RunOutcome,
};
pub use clock::SimClock;
pub use config::{Fault, FaultPlan, FaultScope, RateBudget, RunTiming, SimConfig};
pub use state::{LoggedRequest, RunStatus};
pub use tenant::{Tenant, TenantError};

use state::Shared;

/// A running simulator. Dropping it (or [`Simulator::shutdown`]) stops the server.
pub struct Simulator {
    base_url: String,
    address: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("base_url", &self.base_url)
            .field("client_id", &self.shared.client_id)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts on `127.0.0.1` at a free port, serving from a thread of its own (so it works
    /// the same from sync code, async code and other languages' tests).
    pub fn start(config: SimConfig) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config)
    }

    /// Starts on `address` (port 0 picks a free one).
    pub fn start_on(address: SocketAddr, config: SimConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address)?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("zuora-sim")
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let serving = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("zuora-sim-accept".to_owned())
            .spawn(move || {
                runtime.block_on(accept_loop(serving, listener, stopped));
                runtime.shutdown_background();
            })?;
        Ok(Self {
            base_url: format!("http://{address}"),
            address,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`: the base URL to give a client.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The socket address served.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The `client_id` `/oauth/token` accepts.
    pub fn client_id(&self) -> &str {
        &self.shared.client_id
    }

    /// The `client_secret` `/oauth/token` accepts.
    pub fn client_secret(&self) -> &str {
        &self.shared.client_secret
    }

    /// The simulated clock (move it with [`SimClock::advance`] to expire tokens, finish
    /// runs, reset rate windows or age idempotency keys).
    pub fn clock(&self) -> &SimClock {
        &self.shared.clock
    }

    /// A copy of the catalogue served.
    pub fn catalogue(&self) -> Catalogue {
        self.shared.lock().settings.catalogue.clone()
    }

    /// A report of the catalogue, by exact name.
    pub fn report_by_name(&self, name: &str) -> Option<Report> {
        self.shared.lock().settings.catalogue.by_name(name).cloned()
    }

    /// Changes the faults from the next request on.
    pub fn set_faults(&self, plan: FaultPlan, scope: FaultScope) {
        self.shared.lock().set_faults(plan, scope);
    }

    /// Changes how new runs progress.
    pub fn set_run_timing(&self, timing: RunTiming) {
        self.shared.lock().settings.run_timing = timing;
    }

    /// Changes the request budget.
    pub fn set_rate_budget(&self, budget: RateBudget) {
        self.shared.lock().settings.rate_budget = budget;
    }

    /// Changes the lifetime of tokens issued from now on.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.shared.lock().settings.token_ttl = ttl;
    }

    /// Runs created for a report id, replays excluded.
    pub fn runs_created_for_report(&self, report_id: &str) -> usize {
        self.shared
            .lock()
            .runs_per_report
            .get(report_id)
            .copied()
            .unwrap_or(0)
    }

    /// Runs created by requests carrying this `Idempotency-Key`, replays excluded.
    pub fn runs_created_for_key(&self, key: &str) -> usize {
        self.shared
            .lock()
            .runs_per_key
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    /// Runs created in all.
    pub fn runs_created(&self) -> usize {
        self.shared.lock().runs.len()
    }

    /// Requests to `/oauth/token`, accepted or not.
    pub fn token_requests(&self) -> u64 {
        self.shared.lock().token_requests
    }

    /// Every request seen, in order, `Authorization` removed.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.clone()
    }

    /// Forgets the request log.
    pub fn clear_request_log(&self) {
        self.shared.lock().log.clear();
    }

    /// Stops serving and waits for the server thread.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    tokio::spawn(server::serve_connection(Arc::clone(&shared), stream));
                }
            }
        }
    }
}
