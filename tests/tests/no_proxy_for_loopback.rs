//! The environment's proxies never carry a request for this machine: with `HTTP_PROXY` and
//! `ALL_PROXY` naming a listener that records what reaches it, both transports still talk to
//! the loopback simulator directly, and the listener receives nothing (the plain-http
//! request carries the client secret).
//!
//! Its own test binary, with one test: it sets process-wide environment variables.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test reports failure.

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use zuora_tests::{Flavor, client_with};

#[test]
fn loopback_requests_never_go_through_the_environments_proxy() {
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let reached = Arc::new(AtomicU64::new(0));
    let counting = Arc::clone(&reached);
    std::thread::spawn(move || {
        for stream in proxy.incoming() {
            counting.fetch_add(1, Ordering::SeqCst);
            let mut buffer = [0u8; 1024];
            let _ = stream.map(|mut s| s.read(&mut buffer));
        }
    });
    for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        // SAFETY: this binary's only test sets these before any client or thread that reads
        // the environment exists.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var(name, &proxy_url);
        }
    }
    let sim = zuora_sim::Simulator::start(zuora_sim::SimConfig::new(3)).unwrap();
    for flavor in [Flavor::Blocking, Flavor::Async] {
        let builder = zuora_core::ClientConfig::builder()
            .base_url(sim.base_url())
            .credentials(sim.client_id(), sim.client_secret());
        let client = client_with(flavor, builder);
        let found = client.find_report("Invoice Detail");
        assert!(found.is_ok(), "{flavor:?}: {found:?}");
    }
    assert_eq!(reached.load(Ordering::SeqCst), 0, "the proxy saw a request");
}
