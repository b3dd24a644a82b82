//! The C ABI's machines fed anything a hostile server could answer: a task of any kind (a
//! credentials check, a run, a search, rows, a wait, a download) driven through its steps with
//! made-up statuses, headers, bodies cut into chunks and transport failures, its sleeps skipped,
//! and every accessor read at the end. No call may report a panic (the guard would turn one
//! into `ZUORA_ERR_PANIC`, which this target treats as a crash).
#![no_main]

use std::ptr::null_mut;

use libfuzzer_sys::fuzz_target;
use zuora::code::ZuoraCode;
use zuora::config::*;
use zuora::error::*;
use zuora::request::*;
use zuora::run::*;
use zuora::run_options::*;
use zuora::session::*;
use zuora::task::*;
use zuora::{ZuoraBytes, ZuoraHeader, ZuoraStr};

const RUN_ID: &str = "ff808081529f4e3401529fd61f080074";

fn text(value: &str) -> ZuoraStr {
    ZuoraStr {
        ptr: value.as_ptr(),
        len: value.len(),
    }
}

fn no_panic(code: ZuoraCode) {
    assert!(code != ZuoraCode::ZuoraErrPanic, "a panic behind the guard");
}

/// One answer per `0xFF`-separated part: a status from its first two bytes, headers from
/// `:`-lines, the rest as body.
fn answer(part: &[u8]) -> (u16, Vec<(&[u8], &[u8])>, &[u8]) {
    let status = match part {
        [a, b, ..] => 100 + (u16::from(*a) << 8 | u16::from(*b)) % 500,
        _ => 200,
    };
    let rest = part.get(2..).unwrap_or_default();
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&rest[..at], &rest[at + 2..]),
        None => (&[][..], rest),
    };
    let headers = head
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            Some((&line[..colon], &line[colon + 1..]))
        })
        .collect();
    (status, headers, body)
}

unsafe fn start(session: *const ZuoraSession, kind: u8) -> *mut ZuoraTask {
    let mut task = null_mut();
    let run = text(RUN_ID);
    unsafe {
        let code = match kind % 7 {
            0 => zuora_session_check_credentials(session, &mut task),
            1 => zuora_session_get_run(session, run, &mut task),
            2 => zuora_session_search(session, text("Invoice"), &mut task),
            3 => zuora_session_find_report(session, text("Invoice Detail"), &mut task),
            4 => zuora_session_rows(session, run, 50, &mut task),
            5 => {
                let options = zuora_wait_options_default();
                zuora_session_wait(session, run, &options, &mut task)
            }
            _ => {
                let mut options = null_mut();
                no_panic(zuora_run_options_new(
                    text("2c92c0f95e4a6e4b015e4f3a1b2c3d4e"),
                    // Any integer, declared or not: C may pass one.
                    u32::from(kind % 4),
                    &mut options,
                ));
                let code = zuora_session_run_report(session, options, &mut task);
                zuora_run_options_free(options);
                code
            }
        };
        no_panic(code);
    }
    task
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    unsafe {
        let mut config = null_mut();
        no_panic(zuora_config_new(&mut config));
        no_panic(zuora_config_set_base_url(config, text("https://rest.zuora.com")));
        no_panic(zuora_config_set_credentials(config, text("id"), text("secret")));
        no_panic(zuora_config_set_retry(
            config,
            ZuoraRetrySetting::ZuoraRetryMaxAttempts as u32,
            u64::from(control % 4) + 1,
        ));
        let mut session = null_mut();
        no_panic(zuora_session_new(config, 1, &mut session));
        zuora_config_free(config);
        let task = if control & 0x80 == 0 {
            start(session, control)
        } else {
            let mut task = null_mut();
            no_panic(zuora_session_download(
                session,
                text(RUN_ID),
                // Mostly CSV; now and then a format no enum declares.
                if control & 0x40 == 0 {
                    ZuoraExportFormat::ZuoraFormatCsv as u32
                } else {
                    u32::from(control & 0x07)
                },
                &mut task,
            ));
            task
        };
        let mut answers = rest.split(|&b| b == 0xFF);
        // At most 64 steps: the machines stop on their own rules, but sleeps are skipped here.
        for _ in 0..64 {
            match zuora_task_step(task) {
                ZuoraStep::ZuoraStepSend => {
                    let request = zuora_task_request(task);
                    let _ = (zuora_request_url(request), zuora_request_body(request));
                    let Some(part) = answers.next() else {
                        no_panic(zuora_task_on_transport_error(
                            task,
                            ZuoraTransportError::ZuoraTransportTimeout as u32,
                            true,
                            text("timed out"),
                        ));
                        continue;
                    };
                    let (status, headers, body) = answer(part);
                    let headers: Vec<ZuoraHeader> = headers
                        .iter()
                        .map(|(name, value)| ZuoraHeader {
                            name: ZuoraBytes {
                                ptr: name.as_ptr(),
                                len: name.len(),
                            },
                            value: ZuoraBytes {
                                ptr: value.as_ptr(),
                                len: value.len(),
                            },
                        })
                        .collect();
                    no_panic(zuora_task_on_head(task, status, headers.as_ptr(), headers.len()));
                    let mut output = ZuoraBytes {
                        ptr: std::ptr::null(),
                        len: 0,
                    };
                    let mut going = true;
                    for chunk in body.chunks(usize::from(control % 16) + 1) {
                        let chunk = ZuoraBytes {
                            ptr: chunk.as_ptr(),
                            len: chunk.len(),
                        };
                        let code = zuora_task_on_body(task, chunk, &mut output);
                        no_panic(code);
                        if code != ZuoraCode::ZuoraOk {
                            going = false;
                            break;
                        }
                    }
                    if going {
                        no_panic(zuora_task_on_body_end(task, &mut output));
                    }
                }
                ZuoraStep::ZuoraStepSleep | ZuoraStep::ZuoraStepRows => {
                    let _ = (zuora_task_sleep_ms(task), zuora_task_rows(task));
                    no_panic(zuora_task_resume(task));
                }
                ZuoraStep::ZuoraStepDone => break,
            }
        }
        no_panic(zuora_task_interrupt(task, control & 0x40 != 0));
        let _ = zuora_task_outcome(task);
        let error = zuora_task_error(task);
        let _ = (zuora_error_message(error), zuora_error_http_status(error));
        let run = zuora_task_run(task);
        let _ = (zuora_run_id(run), zuora_run_status(run));
        let (mut id, mut name) = (text(""), text(""));
        for index in 0..zuora_task_report_count(task).min(4) {
            no_panic(zuora_task_report(task, index, &mut id, &mut name));
        }
        zuora_task_free(task);
        zuora_session_free(session);
    }
});
