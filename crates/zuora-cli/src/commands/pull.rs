//! `zuora-report pull JOBS.toml`: the library's pull, shown. A bar per report on a terminal,
//! one JSON event per line with `--json`, and a summary table at the end.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use zuora_blocking::{PullControl, Pulls};
use zuora_core::pulls::{PullEvent, PullSummary, ReportLine};

use super::Context;
use crate::exit_code as code;
use crate::failure::Failure;
use crate::interrupt;
use crate::terminal;

/// One bar per report on stderr, when it is a terminal.
struct Bars {
    multi: indicatif::MultiProgress,
    bars: HashMap<String, indicatif::ProgressBar>,
}

impl Bars {
    fn show(&mut self, lines: &[ReportLine]) {
        for line in lines {
            let bar = self.bars.entry(line.report.clone()).or_insert_with(|| {
                let bar = self.multi.add(indicatif::ProgressBar::new(0));
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{prefix:>24!} {bar:20} {pos}/{len} windows  {wide_msg}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar.set_prefix(line.report.clone());
                bar
            });
            bar.set_length(line.windows as u64);
            bar.set_position(line.done as u64);
            bar.set_message(terminal::safe(&line.status).into_owned());
        }
    }
}

pub fn pull(context: &Context, jobs: &Path) -> Result<(), Failure> {
    let control = Arc::new(PullControl::new());
    interrupt::pulling(Arc::clone(&control));
    let json = context.global.json;
    let mut bars = context.progress.then(|| Bars {
        multi: indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr()),
        bars: HashMap::new(),
    });
    let stdout = std::io::stdout();
    let summary = context
        .client
        .pull(jobs, &control, |event, lines| {
            if json {
                // A closed pipe must not stop the pull: the state file is what counts.
                let _ = writeln!(stdout.lock(), "{}", json!(event));
            }
            if let Some(bars) = &mut bars {
                bars.show(lines);
            } else if !json
                && !context.global.quiet
                && let PullEvent::Failed {
                    report,
                    start,
                    error,
                } = event
            {
                let at = start.map(|s| format!(" window {s}")).unwrap_or_default();
                eprintln!("zuora-report: {report}{at}: {}", terminal::safe(error));
            }
        })
        .map_err(|e| context.fail(e))?;
    if let Some(bars) = bars {
        for bar in bars.bars.values() {
            bar.finish_and_clear();
        }
        let _ = bars.multi.clear();
    }
    print_summary(context, &summary);
    if summary.interrupted {
        return Err(Failure::of(
            code::INTERRUPTED,
            "interrupted",
            "interrupted: the runs in flight were cancelled; the state file has every window done so far, and the next pull continues from there".to_owned(),
        ));
    }
    if !summary.all_done() {
        let failed: usize = summary.reports.iter().map(|r| r.failed).sum();
        return Err(Failure::of(
            code::API,
            "pull",
            format!(
                "{failed} window(s) failed; the others are done (a rerun tries the failed ones again)"
            ),
        ));
    }
    Ok(())
}

fn print_summary(context: &Context, summary: &PullSummary) {
    if context.global.json {
        println!(
            "{}",
            json!({ "event": "summary", "reports": summary.reports, "interrupted": summary.interrupted })
        );
        return;
    }
    if context.global.quiet {
        return;
    }
    let width = summary
        .reports
        .iter()
        .map(|r| r.report.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{:<width$}  {:>9}  {:>10}  {:>12}  {:>8}  {:>8}",
        "report", "windows", "rows", "bytes", "time", "failures"
    );
    for line in &summary.reports {
        let time = Duration::from_millis(line.millis);
        let _ = writeln!(
            out,
            "{:<width$}  {:>9}  {:>10}  {:>12}  {:>7.1}s  {:>8}",
            line.report,
            format!("{}/{}", line.done, line.windows),
            line.rows,
            line.bytes,
            time.as_secs_f64(),
            line.failed
        );
    }
}
