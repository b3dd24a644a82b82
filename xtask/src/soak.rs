//! `cargo xtask soak`: many Run-a-report calls through both transports while the simulator
//! injects every fault kind; nothing may be duplicated, lost, or panic.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use zuora_core::{
    ClientConfig, ReportId, RetryPolicy, RunReportOptions, ViewType, config::BuildClient,
    values::IdempotencyKey,
};
use zuora_sim::{FaultPlan, FaultScope, SimConfig, Simulator};

/// Calls in flight at once.
const CONCURRENCY: usize = 32;

#[derive(Debug, Default)]
struct Tally {
    calls: usize,
    successes: usize,
    typed_failures: usize,
    duplicate_runs: usize,
    lost_calls: usize,
    panics: usize,
    seconds: f64,
}

/// What one call ended as.
enum Ending {
    Succeeded,
    Failed,
    Panicked,
}

struct Options {
    calls: usize,
    faults: f64,
}

fn parse(args: &[&str]) -> Result<Options, String> {
    let mut options = Options {
        calls: 10_000,
        faults: 0.3,
    };
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match *flag {
            "--calls" => {
                options.calls = value
                    .parse()
                    .map_err(|_| format!("--calls takes a number, not {value:?}"))?
            }
            "--faults" => {
                options.faults = value
                    .parse()
                    .map_err(|_| format!("--faults takes a probability, not {value:?}"))?;
                if !(0.0..=1.0).contains(&options.faults) {
                    return Err("--faults must be within 0..=1".to_owned());
                }
            }
            _ => {
                return Err(format!(
                    "unknown flag {flag}; usage: cargo xtask soak [--calls N] [--faults P]"
                ));
            }
        }
    }
    Ok(options)
}

/// The key of call `index`: known in advance, so the simulator can be asked about it.
fn key_of(index: usize) -> Result<IdempotencyKey, String> {
    format!("soak-{index:08}")
        .parse()
        .map_err(|e| format!("{e}"))
}

fn config_for(sim: &Simulator) -> Result<ClientConfig, String> {
    let retry = RetryPolicy::default()
        .with_base_delay(Duration::from_millis(20))
        .and_then(|policy| policy.with_max_delay(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    ClientConfig::builder()
        .base_url(sim.base_url())
        .credentials(sim.client_id(), sim.client_secret())
        // Quicker backoff than production's 1 s; Retry-After is still honoured in full.
        .retry(retry)
        .attempt_timeout(Duration::from_secs(10))
        .into_config()
        .map_err(|e| e.to_string())
}

fn start_sim(faults: f64, seed: u64) -> Result<(Simulator, ReportId), String> {
    let mut config = SimConfig::new(seed);
    config.faults = FaultPlan::Random {
        seed,
        probability: faults,
        kinds: FaultPlan::every_kind(),
    };
    config.fault_scope = FaultScope::Everything;
    let sim = Simulator::start(config).map_err(|e| e.to_string())?;
    let report = sim
        .report_by_name("Invoice Detail")
        .ok_or("no Invoice Detail")?
        .id;
    Ok((sim, report))
}

fn settle(sim: &Simulator, endings: &[Ending], seconds: f64) -> Result<Tally, String> {
    let mut tally = Tally {
        calls: endings.len(),
        seconds,
        ..Tally::default()
    };
    for (index, ending) in endings.iter().enumerate() {
        let runs = sim.runs_created_for_key(key_of(index)?.as_str());
        tally.duplicate_runs += runs.saturating_sub(1);
        match ending {
            Ending::Succeeded => {
                tally.successes += 1;
                if runs == 0 {
                    tally.lost_calls += 1;
                }
            }
            Ending::Failed => tally.typed_failures += 1,
            Ending::Panicked => tally.panics += 1,
        }
    }
    Ok(tally)
}

fn soak_blocking(options: &Options) -> Result<Tally, String> {
    let (sim, report) = start_sim(options.faults, 1)?;
    let client =
        zuora_blocking::Client::from_config(config_for(&sim)?).map_err(|e| e.to_string())?;
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let mut endings: Vec<(usize, Ending)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CONCURRENCY)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= options.calls {
                            return mine;
                        }
                        let Ok(key) = key_of(index) else { return mine };
                        let call = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            client.run_report(
                                &report,
                                ViewType::Detail,
                                RunReportOptions::default().idempotency_key(key),
                            )
                        }));
                        mine.push((
                            index,
                            match call {
                                Ok(Ok(_)) => Ending::Succeeded,
                                Ok(Err(_)) => Ending::Failed,
                                Err(_) => Ending::Panicked,
                            },
                        ));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    endings.sort_by_key(|(index, _)| *index);
    settle(
        &sim,
        &endings.into_iter().map(|(_, e)| e).collect::<Vec<_>>(),
        seconds,
    )
}

fn soak_async(options: &Options) -> Result<Tally, String> {
    let (sim, report) = start_sim(options.faults, 2)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let client = zuora_async::Client::from_config(config_for(&sim)?).map_err(|e| e.to_string())?;
    let next = Arc::new(AtomicUsize::new(0));
    let calls = options.calls;
    let start = Instant::now();
    let mut endings: Vec<(usize, Ending)> = runtime.block_on(async {
        let workers: Vec<_> = (0..CONCURRENCY)
            .map(|_| {
                let client = client.clone();
                let report = report.clone();
                let next = Arc::clone(&next);
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= calls {
                            return mine;
                        }
                        let Ok(key) = key_of(index) else { return mine };
                        let client = client.clone();
                        let report = report.clone();
                        // A task of its own per call, so a panic is caught and counted.
                        let call = tokio::spawn(async move {
                            client
                                .run_report(
                                    &report,
                                    ViewType::Detail,
                                    RunReportOptions::default().idempotency_key(key),
                                )
                                .await
                        });
                        mine.push((
                            index,
                            match call.await {
                                Ok(Ok(_)) => Ending::Succeeded,
                                Ok(Err(_)) => Ending::Failed,
                                Err(_) => Ending::Panicked,
                            },
                        ));
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await.unwrap_or_default());
        }
        all
    });
    let seconds = start.elapsed().as_secs_f64();
    endings.sort_by_key(|(index, _)| *index);
    settle(
        &sim,
        &endings.into_iter().map(|(_, e)| e).collect::<Vec<_>>(),
        seconds,
    )
}

pub fn run(args: &[&str]) -> Result<(), String> {
    let mut full_args = vec!["soak"];
    full_args.extend_from_slice(args);
    if crate::ensure_release(&full_args)? {
        return Ok(());
    }
    let options = parse(args)?;
    println!(
        "soak: {} Run-a-report calls per transport, {CONCURRENCY} at a time, fault probability {} per request \
         (500/502/503/504, 429, delay, reset, commit-then-drop; token route included)",
        options.calls, options.faults
    );
    println!(
        "{:<16} {:>7} {:>10} {:>15} {:>15} {:>11} {:>7} {:>9}",
        "transport",
        "calls",
        "successes",
        "typed failures",
        "duplicate runs",
        "lost calls",
        "panics",
        "seconds"
    );
    let mut clean = true;
    for (name, tally) in [
        ("zuora-async", soak_async(&options)?),
        ("zuora-blocking", soak_blocking(&options)?),
    ] {
        println!(
            "{name:<16} {:>7} {:>10} {:>15} {:>15} {:>11} {:>7} {:>9.1}",
            tally.calls,
            tally.successes,
            tally.typed_failures,
            tally.duplicate_runs,
            tally.lost_calls,
            tally.panics,
            tally.seconds
        );
        clean &= tally.duplicate_runs == 0 && tally.lost_calls == 0 && tally.panics == 0;
    }
    println!(
        "target: 0 duplicates, 0 lost, 0 panics: {}",
        if clean { "met" } else { "MISSED" }
    );
    if clean {
        Ok(())
    } else {
        Err("the soak found duplicates, lost calls or panics".to_owned())
    }
}
