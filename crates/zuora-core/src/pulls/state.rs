//! What a pull remembers between runs (its state file, JSON): per report, the windows done,
//! the windows split, and how often each window's run had to be started afresh.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::windows::Window;

/// The largest state file a pull reads (a few hundred bytes a window: years of daily windows
/// for dozens of reports fit many times over).
pub const MAX_STATE_BYTES: usize = 64 << 20;

/// The state file's format version.
const VERSION: u32 = 1;

/// A window pulled: its file is in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneWindow {
    /// The window.
    #[serde(flatten)]
    pub window: Window,
    /// Rows written (without the header), when the format counts them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// Bytes written.
    pub bytes: u64,
    /// The file.
    pub file: String,
}

/// One report's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportState {
    /// What the report entry was when its first window was pulled (report, view, filters,
    /// window field): a changed entry must not continue an old one's windows.
    #[serde(default)]
    pub fingerprint: String,
    /// The high-water mark: every day before it is pulled (the end of the unbroken run of
    /// done windows from the first). Written for people and schedulers to read; the windows
    /// done are what a pull goes by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_water_mark: Option<super::CivilDate>,
    /// Windows pulled, in order.
    #[serde(default)]
    pub done: Vec<DoneWindow>,
    /// Windows too big to pull whole: each is pulled as its two halves.
    #[serde(default)]
    pub split: Vec<Window>,
    /// Windows whose run ended without results and were started afresh: how often. Part of
    /// the idempotency key, so a rerun after a crash continues the same attempt.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub restarts: BTreeMap<String, u32>,
}

impl ReportState {
    /// Whether `window` was pulled.
    pub fn is_done(&self, window: &Window) -> bool {
        self.done.iter().any(|d| d.window == *window)
    }

    /// The high-water mark, from the windows done: the end of the last window of the
    /// unbroken run of done windows from the earliest.
    pub fn compute_high_water_mark(&self) -> Option<super::CivilDate> {
        let mut windows: Vec<&Window> = self.done.iter().map(|d| &d.window).collect();
        windows.sort();
        let mut mark = windows.first()?.end;
        for window in windows.iter().skip(1) {
            if window.start > mark {
                break;
            }
            mark = mark.max(window.end);
        }
        Some(mark)
    }

    /// How often `window`'s run was started afresh.
    pub fn restarts_of(&self, window: &Window) -> u32 {
        self.restarts
            .get(&restart_key(window))
            .copied()
            .unwrap_or(0)
    }
}

pub(crate) fn restart_key(window: &Window) -> String {
    format!("{}/{}", window.start, window.end)
}

/// Everything a pull remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullState {
    version: u32,
    /// Per report, by its key in the jobs file.
    #[serde(default)]
    pub reports: BTreeMap<String, ReportState>,
}

impl Default for PullState {
    fn default() -> Self {
        Self {
            version: VERSION,
            reports: BTreeMap::new(),
        }
    }
}

impl PullState {
    /// Reads a state file's bytes (none yet: [`PullState::default`]).
    ///
    /// # Errors
    ///
    /// Not a state file of this version, or larger than [`MAX_STATE_BYTES`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > MAX_STATE_BYTES {
            return Err(format!("is larger than {MAX_STATE_BYTES} bytes"));
        }
        let state: Self =
            serde_json::from_slice(bytes).map_err(|e| format!("is not a pull state: {e}"))?;
        if state.version != VERSION {
            return Err(format!(
                "is version {} of the state format; this build reads version {VERSION}",
                state.version
            ));
        }
        Ok(state)
    }

    /// The bytes to write, pretty-printed so people can read and edit it.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}
