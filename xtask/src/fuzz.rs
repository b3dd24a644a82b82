//! `cargo xtask fuzz [--seconds N]`: every cargo-fuzz target in `fuzz/`, one after another,
//! sharing N seconds (default 60), each from its corpus in `target/fuzz-corpus/TARGET` and
//! the regression seeds in `fuzz/seeds/TARGET` (the inputs that once crashed). Prints per
//! target the executions, exec/s, coverage and crashes; fails on any crash. Needs the
//! nightly toolchain and cargo-fuzz (`.ci/run` installs it when nightly is present).

use std::process::Command;

const TARGETS: [&str; 8] = [
    "responses",
    "headers",
    "newtypes",
    "filter",
    "export",
    "machines",
    "c_abi",
    "pulls",
];

/// Whether `cargo +nightly fuzz` can run here.
pub fn available() -> bool {
    Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output()
        .is_ok_and(|output| output.status.success())
}

struct Outcome {
    target: &'static str,
    executions: u64,
    per_second: u64,
    coverage: u64,
    crashed: bool,
}

/// The numbers of libFuzzer's closing `#N DONE cov: C ... exec/s: E` line.
fn read_stats(log: &str) -> (u64, u64, u64) {
    let Some(line) = log
        .lines()
        .rev()
        .find(|l| l.contains("DONE") && l.starts_with('#'))
    else {
        return (0, 0, 0);
    };
    let field = |name: &str| {
        line.split_whitespace()
            .skip_while(|w| *w != name)
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let executions = line
        .trim_start_matches('#')
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (executions, field("exec/s:"), field("cov:"))
}

pub fn run(args: &[&str]) -> Result<(), String> {
    let seconds: u64 = match args {
        [] => 60,
        ["--seconds", n] => n
            .parse()
            .map_err(|_| format!("--seconds takes a number, not {n:?}"))?,
        _ => return Err("usage: cargo xtask fuzz [--seconds N]".to_owned()),
    };
    if !available() {
        return Err(
            "cargo-fuzz on a nightly toolchain is needed: rustup toolchain install nightly; cargo install cargo-fuzz"
                .to_owned(),
        );
    }
    let each = (seconds / TARGETS.len() as u64).max(1);
    crate::run_command(Command::new("cargo").args(["+nightly", "fuzz", "build", "-O"]))?;
    let mut outcomes = Vec::new();
    for target in TARGETS {
        let corpus = format!("target/fuzz-corpus/{target}");
        std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
        let mut command = Command::new("cargo");
        command
            .args(["+nightly", "fuzz", "run", "-O", target, &corpus])
            .arg(format!("fuzz/seeds/{target}"))
            .arg("--")
            .arg(format!("-max_total_time={each}"))
            .arg("-print_final_stats=1");
        eprintln!("+ {command:?}");
        let output = command
            .output()
            .map_err(|e| format!("could not run cargo fuzz: {e}"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        let (executions, per_second, coverage) = read_stats(&log);
        let crashed = !output.status.success();
        if crashed {
            eprintln!("{log}");
        }
        outcomes.push(Outcome {
            target,
            executions,
            per_second,
            coverage,
            crashed,
        });
    }
    println!("fuzz: {} targets, {each} s each", TARGETS.len());
    println!(
        "{:<12} {:>12} {:>10} {:>10} {:>8}",
        "target", "executions", "exec/s", "coverage", "crashes"
    );
    for o in &outcomes {
        println!(
            "{:<12} {:>12} {:>10} {:>10} {:>8}",
            o.target,
            o.executions,
            o.per_second,
            o.coverage,
            u8::from(o.crashed)
        );
    }
    let total: u64 = outcomes.iter().map(|o| o.executions).sum();
    let crashes = outcomes.iter().filter(|o| o.crashed).count();
    println!("total: {total} executions, {crashes} crashes");
    if crashes > 0 {
        Err(format!(
            "{crashes} fuzz targets crashed (inputs in fuzz/artifacts)"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_libfuzzers_closing_line() {
        let log = "INFO: seed\n#487489\tDONE   cov: 940 ft: 1924 corp: 476/39Kb lim: 1768 exec/s: 54165 rss: 440Mb\nDone 487489 runs in 9 second(s)\n";
        assert_eq!(super::read_stats(log), (487_489, 54_165, 940));
    }
}
