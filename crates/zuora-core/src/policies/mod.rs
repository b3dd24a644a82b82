//! Policies: when to try again and when to look again.

pub(crate) mod retry;
pub(crate) mod wait_options;

pub use retry::{AttemptContext, AttemptOutcome, Jitter, RetryDecision, RetryPolicy, SeededJitter};
pub use wait_options::{PollDecision, PollPolicy, WaitOptions};
