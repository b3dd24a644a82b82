//! `zuora-sim`: serve the simulator until Ctrl-C.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use zuora_sim::{
    FaultPlan, FaultScope, LARGE_REPORT_NAME, RateBudget, RunTiming, SimConfig, Simulator,
};

/// A local simulator of Zuora's Reporting API and OAuth endpoint.
///
/// Prints its base URL and the client credentials it accepts, then serves until Ctrl-C.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on. Loopback by default: the simulator is for this machine.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Seed of ids, credentials, data and faults.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Seconds a run spends in each of STARTED, QUERYDATA and PROCESSINGDATA.
    #[arg(long, default_value_t = 1.0)]
    run_seconds: f64,
    /// Rows of the "Large Export Detail" report (about 250 bytes of export each).
    #[arg(long, default_value_t = 1_000)]
    large_rows: u64,
    /// Lifetime of tokens in seconds.
    #[arg(long, default_value_t = 3599)]
    token_ttl: u64,
    /// Requests allowed per minute before 429.
    #[arg(long, default_value_t = 50_000)]
    requests_per_minute: u64,
    /// Chance (0 to 1) that a Reporting request meets a random fault of any kind.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// How numbers are written in exports and data pages: en-US (`1,430.5`), de-DE
    /// (`1.430,5`) or fr-FR (`1 430,5`).
    #[arg(long, default_value = "en-US")]
    locale: zuora_sim::NumberLocale,
    /// Exports larger than this many bytes (as sent, UTF-16) fail with 504 Gateway Time-out,
    /// as Zuora's do above about 25 MB.
    #[arg(long)]
    export_limit: Option<u64>,
    /// Runs still going after this many seconds end in ERROR (Zuora stops a run after an
    /// hour).
    #[arg(long, default_value_t = 3600.0)]
    run_limit: f64,
    /// Accept this client id instead of one derived from the seed.
    #[arg(long)]
    client_id: Option<String>,
    /// Accept this client secret instead of one derived from the seed.
    #[arg(long)]
    client_secret: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !(0.0..=1.0).contains(&args.fault_rate)
        || !args.run_seconds.is_finite()
        || args.run_seconds < 0.0
        || !args.run_limit.is_finite()
        || args.run_limit <= 0.0
    {
        eprintln!(
            "zuora-sim: --fault-rate must be within 0..=1, --run-seconds at least 0 and --run-limit above 0"
        );
        return ExitCode::from(2);
    }
    if args.token_ttl == 0 || args.token_ttl > 366 * 24 * 3600 {
        eprintln!("zuora-sim: --token-ttl must be 1 second to a year");
        return ExitCode::from(2);
    }
    if !args.host.is_loopback() && (args.client_id.is_none() || args.client_secret.is_none()) {
        // The default credentials follow from the seed, which is public: anyone who can reach
        // the address could use them.
        eprintln!(
            "zuora-sim: serving on {} (not loopback) needs --client-id and --client-secret of your own",
            args.host
        );
        return ExitCode::from(2);
    }
    let mut config = SimConfig::new(args.seed);
    config
        .catalogue
        .set_rows(LARGE_REPORT_NAME, args.large_rows);
    config.catalogue.set_locale(args.locale);
    config.run_timing = RunTiming::uniform(Duration::from_secs_f64(args.run_seconds));
    config.token_ttl = Duration::from_secs(args.token_ttl);
    config.export_limit = args.export_limit;
    config.run_time_limit = Duration::from_secs_f64(args.run_limit.min(1e9));
    config.rate_budget = RateBudget {
        limit: args.requests_per_minute,
        window: Duration::from_secs(60),
    };
    config.client_id = args.client_id;
    config.client_secret = args.client_secret;
    if args.fault_rate > 0.0 {
        config.faults = FaultPlan::Random {
            seed: args.seed,
            probability: args.fault_rate,
            kinds: FaultPlan::every_kind(),
        };
        config.fault_scope = FaultScope::Reporting;
    }
    let sim = match Simulator::start_on(SocketAddr::new(args.host, args.port), config) {
        Ok(sim) => sim,
        Err(err) => {
            eprintln!(
                "zuora-sim: cannot listen on {}:{}: {err}",
                args.host, args.port
            );
            return ExitCode::FAILURE;
        }
    };
    // The banner is for whoever reads it; a reader that stopped reading (a closed pipe)
    // must not stop the server, so write errors are ignored rather than panicking as
    // `println!` would.
    let banner = format!(
        "zuora-sim is serving Zuora's Reporting API (simulated)\nbase URL:      {}\nclient id:     {}\nclient secret: {}\npress Ctrl-C to stop\n",
        sim.base_url(),
        sim.client_id(),
        sim.client_secret()
    );
    let mut stdout = std::io::stdout().lock();
    let _ = std::io::Write::write_all(&mut stdout, banner.as_bytes());
    let _ = std::io::Write::flush(&mut stdout);
    drop(stdout);
    let waited = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map(|runtime| runtime.block_on(tokio::signal::ctrl_c()));
    sim.shutdown();
    match waited {
        Ok(Ok(())) => {
            eprintln!("zuora-sim: stopped");
            ExitCode::SUCCESS
        }
        Ok(Err(err)) | Err(err) => {
            eprintln!("zuora-sim: cannot wait for Ctrl-C: {err}");
            ExitCode::FAILURE
        }
    }
}
