//! Issue 23, item 11: the engine overwrites every copy of a secret it makes before freeing it.
//! An allocator that reads each block as it is freed finds neither the client secret nor the
//! token in any of them, across a token request, its answer, and a call sent with the token.
//! (The HTTP libraries' own write buffers are theirs; this holds the engine to its part.)

#![allow(clippy::unwrap_used, clippy::expect_used)]
// A panic is how a test reports failure.
// A global allocator is the one way to look at memory as it is freed; the engine itself
// stays free of `unsafe`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};

use zuora_core::driver::Now;
use zuora_core::machines::{Call, Step};
use zuora_core::operations::{GetReportRun, TokenRequest};
use zuora_core::values::{ClientId, ClientSecret};

const SECRET: &[u8] = b"s3cr3t-marker-7f3a9c";
const TOKEN: &[u8] = b"tok3n-marker-c0ffee42";

/// Reads each freed block for the two markers while armed.
struct Scanning;

static ARMED: AtomicBool = AtomicBool::new(false);
static FOUND: AtomicUsize = AtomicUsize::new(0);

fn holds(block: &[u8], marker: &[u8]) -> bool {
    block.windows(marker.len()).any(|w| w == marker)
}

// SAFETY: every call goes to `System`; `dealloc` only reads the block it is handed, which is
// live and `layout.size()` long until `System.dealloc` returns.
unsafe impl GlobalAlloc for Scanning {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::Relaxed) {
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if holds(block, SECRET) || holds(block, TOKEN) {
                FOUND.fetch_add(1, Ordering::Relaxed);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static SCANNING: Scanning = Scanning;

fn now() -> Now {
    Now::new(Instant::now(), SystemTime::now())
}

#[test]
fn no_freed_block_holds_the_secret_or_the_token() {
    let config = zuora_core::ClientConfig::builder()
        .base_url("http://127.0.0.1:1")
        .credentials("client-1", std::str::from_utf8(SECRET).unwrap())
        .into_config()
        .unwrap();
    ARMED.store(true, Ordering::Relaxed);
    {
        let secret = ClientSecret::new(std::str::from_utf8(SECRET).unwrap()).unwrap();
        let id: ClientId = "client-1".parse().unwrap();
        let mut token_call = Call::new(TokenRequest::new(id, secret), &config, now(), 1);
        let Step::Send(request) = token_call.start() else {
            panic!("the token request is sent first")
        };
        assert!(holds(request.body(), SECRET), "the form carries the secret");
        drop(request);

        let mut answer = Vec::with_capacity(128);
        answer.extend_from_slice(b"{\"access_token\":\"");
        answer.extend_from_slice(TOKEN);
        answer.extend_from_slice(b"\",\"token_type\":\"bearer\",\"expires_in\":3599}");
        let response = http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(answer)
            .unwrap();
        let Step::Done(Ok(token)) = token_call.on_response(response, now()) else {
            panic!("the token answer is read")
        };
        drop(token_call);

        let run = GetReportRun::new(
            "ff808081529f4e3401529fd61f080074".parse().unwrap(),
            Default::default(),
        );
        let mut call = Call::new(run, &config, now(), 2);
        assert!(matches!(call.start(), Step::NeedToken { .. }));
        let Step::Send(request) = call.with_token(token.access_token.clone()) else {
            panic!("the call is sent with the token")
        };
        let authorization = request.headers().get(http::header::AUTHORIZATION).unwrap();
        assert!(holds(authorization.as_bytes(), TOKEN));
        drop(request);
        drop(call);
        drop(token);
    }
    drop(config);
    ARMED.store(false, Ordering::Relaxed);
    assert_eq!(
        FOUND.load(Ordering::Relaxed),
        0,
        "blocks freed with a secret in them"
    );
}
