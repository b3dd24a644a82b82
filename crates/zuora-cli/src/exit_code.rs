//! Exit codes, as `--help` documents them.

pub const USAGE: i32 = 2;
pub const API: i32 = 3;
pub const RUN_ENDED: i32 = 4;
pub const TIMEOUT: i32 = 5;
pub const INTERRUPTED: i32 = 130;
