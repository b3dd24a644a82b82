//! The configuration of a client: its builder, the options of a run, and how a transport
//! crate makes its client from it ([`BuildClient`]).

pub(crate) mod client_config;

pub use client_config::{
    BuildClient, ClientBuilder, ClientConfig, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT, DEFAULT_LOW_SPEED, DEFAULT_MAX_PAGES, DEFAULT_OVERALL_TIMEOUT, LowSpeed,
    MAX_TIMEOUT, RunReportOptions,
};
