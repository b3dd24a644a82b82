//! `zuora-report`: run Zuora reports from scripts and cron, or offline with `--simulate`.

mod cli;
mod commands;
mod exit_code;
mod failure;
mod interrupt;
mod self_docs;
mod simulate;
mod terminal;

use std::process::ExitCode;

fn main() -> ExitCode {
    let matches = <cli::Cli as clap::CommandFactory>::command().get_matches();
    let mut cli = match <cli::Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let json = cli.global.json;
    let outcome = match cli.command {
        cli::Command::Completions { shell } => self_docs::completions(shell),
        cli::Command::Man => self_docs::manual(),
        cli::Command::Zuora(command) => cli
            .global
            .settle_host(&matches)
            .and_then(|()| cli.global.settle_secret(&matches))
            .map_err(failure::Failure::usage)
            .and_then(|()| commands::run(cli.global, command)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if json {
                println!("{}", failure.to_json());
            } else {
                eprintln!("zuora-report: {}", terminal::safe(&failure.message));
            }
            ExitCode::from(u8::try_from(failure.code).unwrap_or(1))
        }
    }
}
