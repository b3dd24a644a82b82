//! `zuora-report`: run Zuora reports from scripts and cron, or offline with `--simulate`.

mod cli;
mod commands;
mod exit_code;
mod failure;
mod interrupt;
mod simulate;

use std::process::ExitCode;

fn main() -> ExitCode {
    let matches = <cli::Cli as clap::CommandFactory>::command().get_matches();
    let mut cli = match <cli::Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let json = cli.global.json;
    let outcome = cli
        .global
        .settle_host(&matches)
        .map_err(failure::Failure::usage)
        .and_then(|()| commands::run(cli));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if json {
                println!("{}", failure.to_json());
            } else {
                eprintln!("zuora-report: {}", failure.message);
            }
            ExitCode::from(u8::try_from(failure.code).unwrap_or(1))
        }
    }
}
