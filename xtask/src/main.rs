//! `cargo xtask`: project chores for zuora-rs.
//!
//! - `cargo xtask ci`: the whole check a change must pass (format, lints, tests, docs,
//!   the core's dependency rule). This is the README's test command.
//! - `cargo xtask bench core`: time and heap allocations of building and parsing a
//!   Run-a-report exchange, against a bare `serde_json` parse of the same bytes.
//! - `cargo xtask bench sim-export`: the simulator streaming a large export, and its memory.

mod alloc_counter;
mod bench_core;
mod bench_decode;
mod bench_export;
mod bench_python;
mod bench_sim;
mod bench_table;
mod bench_transport;
mod ci;
mod cycles;
mod dist;
mod ffi;
mod fuzz;
mod python;
mod soak;
mod spec;

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: alloc_counter::CountingAllocator = alloc_counter::CountingAllocator;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  ffi-header [--check]
                generate crates/zuora-ffi/include/zuora.h (--check: fail if the committed one differs)
  spec-check    validate every kind of request zuora-core builds against tests/spec/reporting-contract.json
                (openapi-core); beside ../shared/spec, also check that contract is current
  spec-derive [--check]
                derive tests/spec/reporting-contract.json from ../shared/spec (Zuora's OpenAPI file)
  ffi-test      build the C ABI, run the C test under valgrind and the Python trip against zuora-sim
  python-test   check crates/zuora-python, pip-install it into a fresh venv, run its pytest suite
                against zuora-sim
  cycles [--graph]
                fail on any cycle among a crate's modules (in every crate of the workspace)
  fuzz [--seconds 60]
                every cargo-fuzz target in fuzz/ for a share of the time (nightly + cargo-fuzz):
                executions, exec/s, coverage, crashes per target
  dist          the release artefacts into target/dist/: the Python wheel and sdist, the CLI archive
                (binary, man page, bash/zsh/fish completions), the C archive (header, .so, .a,
                pkg-config file) and SHA256SUMS
  dist-test     the artefacts tried as users try them: checksums, the unpacked CLI, a C program built
                with pkg-config alone, the wheel installed with no Rust toolchain on PATH
  ci            format check, clippy, tests, docs and dependency rules (the README's test command)
  bench core    time and allocations of building + parsing a Run-a-report exchange
  bench decode [--size 256MiB]
                the export converter alone (CSV, TSV, raw; plain and gzip input) in MB/s, beside
                iconv, plain UTF-16 -> UTF-8 transcoding and gunzip; prints csv / iconv and
                gzip / gunzip (inflating on a second thread, as the clients do)
  soak [--calls 10000] [--faults 0.3]
                Run-a-report calls through both transports with every fault kind mixed in;
                counts successes, typed failures, duplicate runs, lost calls and panics
  bench transport [--calls 9000]
                Run-a-report calls through zuora-async vs raw reqwest and zuora-blocking vs raw ureq,
                against the release simulator in its own process: CPU time and allocations per call
  bench export [--size 1GiB]
                a large export through each transport converted to CSV, and curl to /dev/null:
                MB/s, ratio to curl and to the converter alone, the client's peak RSS
  bench python  the whole trip against the release simulator from Python (a new Client each
                time, one reused) and from the CLI as a new process; import and Client() times;
                last line: python new client / cli
  bench sim-export [--size 1GiB]
                stream an export of that size from the release simulator (own process) to curl;
                print throughput and the simulator's peak RSS
  bench table [--size 256MiB]
                the large export to Parquet by zuora-rs (every amount and date typed) and, on the
                same file, by iconv + pyarrow and iconv + DuckDB: MB/s of UTF-16 input, peak RSS,
                typed columns; last line: table / best alternative";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["ci"] => ci::run(),
        ["dist"] => dist::build(),
        ["dist-test"] => dist::test(),
        ["cycles", rest @ ..] => cycles::run(rest),
        ["fuzz", rest @ ..] => fuzz::run(rest),
        ["ffi-header"] => ffi::header(false),
        ["ffi-header", "--check"] => ffi::header(true),
        ["ffi-test"] => ffi::test(),
        ["python-test"] => python::test(),
        ["spec-check"] => spec::check(),
        ["spec-derive"] => spec::derive(false),
        ["spec-derive", "--check"] => spec::derive(true),
        ["bench", "core", rest @ ..] => bench_core::run(rest),
        ["bench", "decode", rest @ ..] => bench_decode::run(rest),
        ["soak", rest @ ..] => soak::run(rest),
        ["bench", "sim-export", rest @ ..] => bench_sim::run(rest),
        ["bench", "transport", rest @ ..] => bench_transport::run(rest),
        ["bench", "export", rest @ ..] => bench_export::run(rest),
        ["bench", "python", rest @ ..] => bench_python::run(rest),
        ["bench", "export-client", rest @ ..] => bench_export::run_client(rest),
        ["bench", "table", rest @ ..] => bench_table::run(rest),
        ["bench", "table-convert", rest @ ..] => bench_table::convert(rest),
        ["bench", "table-generate", rest @ ..] => bench_table::generate_to(rest),
        ["help" | "--help" | "-h"] | [] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command {:?}\n\n{USAGE}", args.join(" "))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Where cargo builds (`CARGO_TARGET_DIR`, else `target`).
pub(crate) fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::PathBuf::from("target"),
        std::path::PathBuf::from,
    )
}

/// Runs a command, echoing it, and fails with its exit status.
pub(crate) fn run_command(command: &mut std::process::Command) -> Result<(), String> {
    eprintln!("+ {command:?}");
    let status = command
        .status()
        .map_err(|err| format!("could not start {command:?}: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed with {status}"))
    }
}

/// Benchmarks measure optimised code: a debug build re-runs itself with `--release`.
pub(crate) fn ensure_release(args: &[&str]) -> Result<bool, String> {
    if !cfg!(debug_assertions) {
        return Ok(false);
    }
    eprintln!("xtask: benchmarks run optimised; rebuilding with --release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run_command(
        std::process::Command::new(cargo)
            .args(["run", "--quiet", "--release", "--package", "xtask", "--"])
            .args(args),
    )?;
    Ok(true)
}
