//! The C ABI's entry points fed anything a C caller could pass: a made-up operation, any
//! status, any headers and body, a result's every accessor, the retry decision with any
//! numbers, and the export decoder. Every call returns a code; nothing panics (the panic
//! guard would turn a panic into `ZUORA_ERR_PANIC`, which this target treats as a crash).
#![no_main]

use std::ptr::{null, null_mut};

use libfuzzer_sys::fuzz_target;
use zuora::*;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.split(|&b| b == 0xFF);
    let status_bytes = parts.next().unwrap_or_default();
    let status = status_bytes.iter().fold(0u16, |acc, &b| {
        acc.wrapping_mul(31).wrapping_add(u16::from(b))
    });
    let body = parts.next().unwrap_or_default();
    let pairs: Vec<&[u8]> = parts.collect();
    let headers: Vec<ZuoraHeader> = pairs
        .chunks(2)
        .map(|pair| {
            let (name, value) = (pair[0], pair.get(1).copied().unwrap_or_default());
            ZuoraHeader {
                name: name.as_ptr(),
                name_len: name.len(),
                value: value.as_ptr(),
                value_len: value.len(),
            }
        })
        .collect();
    let operation = i32::from(control % 7);
    unsafe {
        let mut result = null_mut();
        let code = zuora_parse_response(
            operation,
            status,
            headers.as_ptr(),
            headers.len(),
            body.as_ptr(),
            body.len(),
            &mut result,
        );
        assert!(
            !matches!(code, ZuoraCode::ZuoraErrPanic),
            "a panic behind the guard"
        );
        if !result.is_null() {
            let (mut ptr, mut len) = (null(), 0usize);
            let _ = zuora_result_message(result, &mut ptr, &mut len);
            let _ = zuora_result_request_id(result, &mut ptr, &mut len);
            let _ = zuora_result_run_status(result, &mut ptr, &mut len);
            let _ = zuora_result_access_token(result, &mut ptr, &mut len);
            let (mut http, mut expires) = (0u16, 0u64);
            let _ = zuora_result_numbers(result, &mut http, &mut expires);
            let mut count = 0usize;
            let _ = zuora_result_report_count(result, &mut count);
            let (mut id, mut id_len, mut name, mut name_len) = (null(), 0usize, null(), 0usize);
            for index in 0..count.min(4) + 1 {
                let _ = zuora_result_report(
                    result,
                    index,
                    &mut id,
                    &mut id_len,
                    &mut name,
                    &mut name_len,
                );
            }
            let mut outcome = ZuoraOutcome::ZuoraOutcomeOk;
            let _ = zuora_result_outcome(result, &mut outcome);
            let (mut decision, mut delay) = (ZuoraDecision::ZuoraRetryAfter, 0u64);
            let jitter = f64::from(control) / 300.0;
            let code = zuora_retry_decide(
                result,
                i32::from(control % 5),
                control & 1 == 1,
                u32::from(control),
                u64::from(status) * 1000,
                300_000,
                control & 2 == 2,
                i32::from(control % 4),
                u64::from(status).wrapping_mul(1_000_000_007),
                jitter,
                &mut decision,
                &mut delay,
            );
            assert!(
                !matches!(code, ZuoraCode::ZuoraErrPanic),
                "a panic behind the guard"
            );
            zuora_result_free(result);
        }
        let mut decoder = null_mut();
        if zuora_export_decoder_new(i32::from(control % 4), control & 8 == 8, &mut decoder)
            == ZuoraCode::ZuoraOk
            && !decoder.is_null()
        {
            let (mut out, mut out_len) = (null(), 0usize);
            let half = body.len() / 2;
            for piece in [&body[..half], &body[half..]] {
                let code = zuora_export_decoder_feed(
                    decoder,
                    piece.as_ptr(),
                    piece.len(),
                    &mut out,
                    &mut out_len,
                );
                assert!(
                    !matches!(code, ZuoraCode::ZuoraErrPanic),
                    "a panic behind the guard"
                );
            }
            let code = zuora_export_decoder_finish(decoder, &mut out, &mut out_len);
            assert!(
                !matches!(code, ZuoraCode::ZuoraErrPanic),
                "a panic behind the guard"
            );
            zuora_export_decoder_free(decoder);
        }
    }
});
