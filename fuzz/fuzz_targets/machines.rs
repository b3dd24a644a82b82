//! The machines fed any answers: a call never panics, never sends past its attempts and
//! never waits past its deadline; a wait ends and never sleeps past its timeout.
#![no_main]

mod common;

use std::time::{Duration, Instant, SystemTime};

use libfuzzer_sys::fuzz_target;
use zuora_core::{
    values::AccessToken, machines::Call, ClientConfig, operations::GetReportRun, driver::Now, operations::Operation, responses::ResponseLimits, machines::Step, machines::Wait,
    machines::WaitControl, WaitOptions, machines::WaitStep,
};

fuzz_target!(|data: &[u8]| {
    let config = ClientConfig::builder()
        .base_url("http://127.0.0.1:9")
        .credentials("id", "secret")
        .into_config()
        .expect("a valid configuration");
    let answers: Vec<http::Response<Vec<u8>>> = data
        .split(|&b| b == 0xFF)
        .filter_map(common::response)
        .collect();
    let operation = GetReportRun::new("ff808081529f4e3401529fd61f080074".parse().unwrap(), Default::default());
    let base = Instant::now();
    let mut call = Call::new(
        operation.clone(),
        &config,
        Now::new(base, SystemTime::now()),
        3,
    );
    let mut step = call.start();
    let (mut sends, mut waited) = (0u32, Duration::ZERO);
    let mut feed = answers.iter().cloned();
    loop {
        step = match step {
            Step::NeedToken { .. } => call.with_token(AccessToken::new("t").unwrap()),
            Step::Send(_) => {
                sends += 1;
                assert!(sends <= config.retry().max_attempts());
                match feed.next() {
                    Some(answer) => {
                        call.on_response(answer, Now::new(base + waited, SystemTime::now()))
                    }
                    None => break,
                }
            }
            Step::Sleep(delay) => {
                waited += delay;
                assert!(waited <= config.overall_timeout());
                call.resume()
            }
            Step::Done(_) => break,
        };
    }
    // A wait over the runs these answers hold.
    let Ok(options) = WaitOptions::default().with_timeout(Duration::from_secs(120)) else {
        return;
    };
    let (mut wait, mut step) = Wait::new(operation.run_id().clone(), options, base);
    let (mut now, mut looks) = (base, 0usize);
    let mut runs = answers
        .iter()
        .filter_map(|a| operation.parse_response(a, ResponseLimits::default()).ok());
    loop {
        step = match step {
            WaitStep::Look { budget } => {
                assert!(budget <= options.timeout());
                looks += 1;
                match runs.next() {
                    Some(run) => wait.on_run(run, WaitControl::Continue, now),
                    None => break,
                }
            }
            WaitStep::Sleep(delay) => {
                now += delay;
                assert!(
                    now.duration_since(base) <= options.timeout(),
                    "slept past the timeout"
                );
                wait.after_sleep(now)
            }
            WaitStep::Cancel { .. } => wait.on_cancelled(false),
            WaitStep::Done(_) => break,
        };
        assert!(looks <= answers.len() + 1);
    }
});
