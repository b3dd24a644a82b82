//! What the CLI says about itself: shell completions and the manual page, both rendered from
//! the one clap definition that also parses the command line, so `--help`, the completions
//! and `zuora-report.1` cannot disagree.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit_code as code;
use crate::failure::Failure;

/// The program's name as users type it (clap's `bin_name` for the generated scripts).
const BIN: &str = "zuora-report";

/// Prints the completion script for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut script);
    print(&script)
}

/// Prints the manual page (roff) on stdout.
pub fn manual() -> Result<(), Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|error| {
            Failure::of(
                code::API,
                "output",
                format!("cannot render the manual page: {error}"),
            )
        })?;
    print(&page)
}

/// Rendered whole first, then written: clap_complete panics on a failed write (a closed pipe),
/// which a buffer cannot have.
fn print(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|error| {
            Failure::of(
                code::API,
                "output",
                format!("cannot write to stdout: {error}"),
            )
        })
}
