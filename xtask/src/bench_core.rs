//! `cargo xtask bench core`: what the sans-IO core costs per Run-a-report exchange.

use std::hint::black_box;
use std::time::Instant;

use serde::Deserialize;
use zuora_core::{
    Environment, ViewType, operations::Operation, operations::RunReport, values::AccessToken,
};

use crate::alloc_counter::allocations;

const RESPONSE_BODY: &[u8] =
    br#"{"success":true,"response":{"reportRunId":"ff808081529f4e3401529fd61f080074"}}"#;
const ROUNDS: usize = 7;
const TARGET_NANOS: f64 = 2_000.0;
const TARGET_ALLOCATIONS: f64 = 10.0;

struct Measured {
    nanos_per_call: f64,
    allocations_per_call: f64,
}

/// Median time over [`ROUNDS`] rounds; allocations from one round (they do not vary).
fn measure(iterations: u64, mut call: impl FnMut()) -> Measured {
    for _ in 0..iterations / 10 {
        call();
    }
    let mut times = Vec::with_capacity(ROUNDS);
    let mut allocations_per_call = 0.0;
    for _ in 0..ROUNDS {
        let before = allocations();
        let start = Instant::now();
        for _ in 0..iterations {
            call();
        }
        let elapsed = start.elapsed();
        allocations_per_call = (allocations() - before) as f64 / iterations as f64;
        times.push(elapsed.as_nanos() as f64 / iterations as f64);
    }
    times.sort_by(f64::total_cmp);
    Measured {
        nanos_per_call: times[ROUNDS / 2],
        allocations_per_call,
    }
}

pub fn run(args: &[&str]) -> Result<(), String> {
    let mut full_args = vec!["bench", "core"];
    full_args.extend_from_slice(args);
    if crate::ensure_release(&full_args)? {
        return Ok(());
    }
    let iterations: u64 = match args {
        [] => 200_000,
        ["--iterations", n] => n
            .parse()
            .map_err(|_| format!("--iterations takes a number, not {n:?}"))?,
        _ => return Err("usage: cargo xtask bench core [--iterations N]".to_owned()),
    };

    let environment = Environment::UsCloud2Production;
    let token = AccessToken::new("c652cbc0ea384b9f81856a93a2a74538").map_err(|e| e.to_string())?;
    let call = RunReport::new(
        "ff808081529f4e3401529fd373730070"
            .parse()
            .map_err(|e| format!("{e}"))?,
        ViewType::Detail,
    );
    let response = http::Response::builder()
        .status(200)
        .header("Content-Type", "application/json")
        .header("Zuora-Request-Id", "0c1a5ef0-9ccd-4a66-bb1c-9a4b6f1d2e3f")
        .header(
            "RateLimit-Limit",
            "50000, 50000;w=60, 2250000;w=3600, 27000000;w=86400",
        )
        .header("RateLimit-Remaining", "49999")
        .header("RateLimit-Reset", "60")
        .body(RESPONSE_BODY)
        .map_err(|e| e.to_string())?;
    // Fail loudly before timing anything if the exchange does not work.
    call.to_request(&environment, &token)
        .map_err(|e| e.to_string())?;
    RunReport::parse_response(&response).map_err(|e| e.to_string())?;

    let build = measure(iterations, || {
        black_box(
            call.to_request(black_box(&environment), black_box(&token))
                .ok(),
        );
    });
    let parse = measure(iterations, || {
        black_box(RunReport::parse_response(black_box(&response)).ok());
    });
    let exchange = measure(iterations, || {
        black_box(
            call.to_request(black_box(&environment), black_box(&token))
                .ok(),
        );
        black_box(RunReport::parse_response(black_box(&response)).ok());
    });

    #[derive(Deserialize)]
    struct Bare {
        #[allow(dead_code)] // Read by serde; the benchmark only needs the parse.
        success: bool,
        #[allow(dead_code)]
        response: BareRun,
    }
    #[derive(Deserialize)]
    struct BareRun {
        #[serde(rename = "reportRunId")]
        #[allow(dead_code)]
        report_run_id: String,
    }
    let bare = measure(iterations, || {
        black_box(serde_json::from_slice::<Bare>(black_box(RESPONSE_BODY)).ok());
    });

    println!(
        "zuora-core bench: one Run-a-report exchange ({iterations} calls x {ROUNDS} rounds, median time)"
    );
    println!("{:<34} {:>12} {:>12}", "step", "time/call", "allocs/call");
    for (name, m) in [
        ("build request", &build),
        ("parse response", &parse),
        ("build + parse", &exchange),
        ("bare serde_json parse (baseline)", &bare),
    ] {
        println!(
            "{name:<34} {:>9.0} ns {:>12.1}",
            m.nanos_per_call, m.allocations_per_call
        );
    }
    println!(
        "{:<34} {:>11.2}x",
        "parse response / bare serde_json",
        parse.nanos_per_call / bare.nanos_per_call
    );
    println!(
        "{:<34} {:>11.2}x",
        "build + parse / bare serde_json",
        exchange.nanos_per_call / bare.nanos_per_call
    );
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "target: <= {TARGET_NANOS:.0} ns per build+parse: {}; <= {TARGET_ALLOCATIONS:.0} allocations: {}",
        verdict(exchange.nanos_per_call <= TARGET_NANOS),
        verdict(exchange.allocations_per_call <= TARGET_ALLOCATIONS)
    );
    Ok(())
}
