//! `zuora-report`: run Zuora reports from scripts and cron, or offline with `--simulate`.

mod cli;
mod commands;
mod exit_code;
mod interrupt;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("zuora-report: {}", failure.message);
            ExitCode::from(failure.code as u8)
        }
    }
}
