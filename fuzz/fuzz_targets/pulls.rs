//! Pulls: the jobs file parser and the state file reader never panic, and the scheduler, fed
//! any mix of outcomes (successes, broken connections, 504s, runs that ended, 429s), never
//! panics and always ends, within a number of steps bounded by its windows and the bad news
//! it was given (a stop rule that does not depend on the server's good will).
//!
//! Input: the jobs file, a NUL, the state file, a NUL, then one byte per outcome.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use zuora_core::Error;
use zuora_core::pulls::{CivilDate, Pull, PullState, PullStep, WorkDone, parse_jobs};

fn outcome(byte: u8, search: bool) -> Result<WorkDone, Error> {
    let answered = |status: u16| {
        let meta = zuora_core::responses::ResponseMeta::from_parts(
            http::StatusCode::from_u16(status).expect("a valid status"),
            &http::HeaderMap::new(),
        );
        Error::Api(zuora_core::responses::ResponseError::new(
            meta,
            zuora_core::responses::ResponseErrorKind::Message {
                message: "fuzzed".to_owned(),
            },
        ))
    };
    match byte % 8 {
        0..=3 if search => Ok(WorkDone::Resolved(
            "ff808081529f4e3401529fd373730070".parse().expect("an id"),
        )),
        0..=3 => Ok(WorkDone::Written {
            rows: Some(u64::from(byte)),
            bytes: u64::from(byte) * 10,
            limits: None,
        }),
        4 => Err(Error::Transport(zuora_core::driver::TransportFailure::new(
            zuora_core::driver::TransportErrorKind::Io,
            true,
            "fuzzed",
        ))),
        5 => Err(answered(504)),
        6 => Err(Error::RunEnded {
            run_id: "ff808081529f4e3401529fd61f080074".parse().expect("an id"),
            status: zuora_core::RunStatus::Error,
        }),
        _ => Err(answered(429)),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0);
    let jobs = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let state = parts.next().unwrap_or_default();
    let outcomes = parts.next().unwrap_or_default();

    let state = match PullState::from_json(state) {
        Ok(state) => {
            let again = PullState::from_json(&state.to_json()).expect("a saved state reads back");
            assert_eq!(again, state);
            state
        }
        Err(_) => PullState::default(),
    };
    let Ok(mut spec) = parse_jobs(&jobs, "jobs.toml", &mut |_| Ok("[]".to_owned())) else {
        return;
    };
    spec.retries = spec.retries.min(3);
    let today = CivilDate::parse("2026-12-05").expect("a date");
    let mut pull = Pull::new(spec, state, today);
    let mut now = Instant::now();
    let windows: usize = pull.lines(now).iter().map(|l| l.windows).sum();
    if windows > 200 {
        return; // Large plans are the unit tests' business; the fuzzer explores outcomes.
    }
    // Each start is a planned window, a search, or the consequence of one outcome byte (a
    // retry, or the two halves of a split): so many starts at most, and a few steps each.
    let reports = pull.lines(now).len();
    let bound = (windows + reports * 5 + outcomes.len() * 2 + 1) * 4;
    let mut in_flight = std::collections::VecDeque::new();
    let mut bytes = outcomes.iter();
    for _ in 0..bound {
        match pull.next(now) {
            PullStep::Start(work) => in_flight.push_back(work),
            PullStep::Sleep(delay) => {
                assert!(delay <= Duration::from_secs(3600), "a sleep within reason: {delay:?}");
                now += delay.max(Duration::from_millis(1));
            }
            PullStep::AwaitAny => {
                let work = in_flight.pop_front().expect("awaiting means work in flight");
                let byte = bytes.next().copied().unwrap_or(0);
                let _ = pull.finished(work.id(), outcome(byte, work.output().is_none()), now);
                let _ = pull.take_events();
                let _ = PullState::from_json(&pull.state_json()).expect("the state reads back");
            }
            PullStep::Done(summary) => {
                assert!(in_flight.is_empty(), "done with work in flight");
                assert_eq!(summary.reports.len(), reports);
                return;
            }
        }
    }
    panic!("the pull did not end within {bound} steps");
});
