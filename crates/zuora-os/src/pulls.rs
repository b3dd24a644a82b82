//! A pull's files, as every driver reads and writes them: the jobs file (and the filter
//! files it names), the state file (read at the start, replaced atomically after each
//! change), and each window's output file (a temporary file renamed into place). Paths in
//! the jobs file are relative to its folder, so a pull run from cron finds the same files.

use std::io::Write;
use std::path::{Path, PathBuf};

use zuora_core::Error;
use zuora_core::errors::InvalidInput;
use zuora_core::pulls::{
    CivilDate, MAX_STATE_BYTES, Pull, PullSpec, PullState, WorkDone, parse_jobs,
};
use zuora_files::PartialFile;

/// The largest jobs or filter file read.
const MAX_JOBS_BYTES: u64 = 1 << 20;

/// Where a pull's files are.
#[derive(Debug, Clone)]
pub struct PullFiles {
    folder: PathBuf,
    state: PathBuf,
}

fn invalid(reason: String) -> Error {
    InvalidInput::Malformed {
        field: "jobs file",
        reason,
    }
    .into()
}

fn read_capped(path: &Path) -> Result<String, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.len() > MAX_JOBS_BYTES {
        return Err(format!(
            "{} is larger than {MAX_JOBS_BYTES} bytes",
            path.display()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Reads the jobs file at `jobs` and the state it names, checks that the state's folder
/// takes files, and makes the pull, for `today` (UTC by default: see [`today`]).
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](zuora_core::ErrorKind::InvalidInput) before anything is sent:
/// the jobs file's first problem (its file, line and key), an unreadable or foreign state
/// file, or a state folder that cannot be written.
pub fn open_pull(jobs: &Path, today: CivilDate) -> Result<(Pull, PullFiles), Error> {
    let text = read_capped(jobs).map_err(invalid)?;
    let folder = jobs
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_owned();
    let spec: PullSpec = parse_jobs(&text, &jobs.display().to_string(), &mut |path| {
        read_capped(&folder.join(path))
    })
    .map_err(|e| invalid(e.to_string()))?;
    let state_path = folder.join(&spec.state);
    let state_folder = state_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let unwritable = |e: std::io::Error| {
        invalid(format!(
            "{}:{}: state: the folder {} cannot take the state file {:?}: {e}",
            jobs.display(),
            spec.state_line,
            state_folder.display(),
            spec.state
        ))
    };
    std::fs::create_dir_all(state_folder).map_err(unwritable)?;
    PartialFile::create(&state_path, None)
        .map(PartialFile::discard)
        .map_err(unwritable)?;
    let state = match std::fs::read(&state_path) {
        Ok(bytes) => PullState::from_json(&bytes).map_err(|reason| {
            invalid(format!(
                "{}:{}: state: the state file {} {reason}",
                jobs.display(),
                spec.state_line,
                state_path.display()
            ))
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => PullState::default(),
        Err(e) => {
            return Err(invalid(format!(
                "cannot read the state file {}: {e}",
                state_path.display()
            )));
        }
    };
    if std::fs::metadata(&state_path).is_ok_and(|m| m.len() > MAX_STATE_BYTES as u64) {
        return Err(invalid(format!(
            "the state file {} is too large",
            state_path.display()
        )));
    }
    Ok((
        Pull::new(spec, state, today),
        PullFiles {
            folder,
            state: state_path,
        },
    ))
}

/// Today's date in UTC, from the system clock (a clock before 1970 or past 9999 reads as
/// 1970-01-01).
pub fn today() -> CivilDate {
    CivilDate::of(std::time::SystemTime::now()).unwrap_or(CivilDate::EPOCH)
}

impl PullFiles {
    /// Where an output path of the jobs file (already filled) is.
    pub fn output_path(&self, out: &str) -> PathBuf {
        self.folder.join(out)
    }

    /// The temporary file for output `out`, its folders made, any file a killed earlier
    /// pull left for it removed.
    ///
    /// # Errors
    ///
    /// The folder cannot be made or written.
    pub fn create_output(&self, out: &str) -> Result<PartialFile, Error> {
        let path = self.output_path(out);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(Error::output)?;
        }
        PartialFile::remove_stale(&path);
        PartialFile::create(&path, None).map_err(Error::output)
    }

    /// Replaces the state file with `bytes`, atomically.
    ///
    /// # Errors
    ///
    /// The state file cannot be written.
    pub fn save_state(&self, bytes: &[u8]) -> Result<(), Error> {
        let mut file = PartialFile::create(&self.state, None).map_err(Error::output)?;
        file.write_all(bytes).map_err(Error::output)?;
        file.commit().map_err(Error::output)
    }

    /// Tells `pull` that work `id` ended with `outcome` and saves the state when it changed.
    /// A state that cannot be saved stops the pull (a rerun is only safe with it) and is the
    /// error.
    ///
    /// # Errors
    ///
    /// The state file could not be written.
    pub fn record(
        &self,
        pull: &mut Pull,
        id: u64,
        outcome: Result<WorkDone, Error>,
        now: std::time::Instant,
    ) -> Result<(), Error> {
        if pull.finished(id, outcome, now)
            && let Err(error) = self.save_state(&pull.state_json())
        {
            pull.interrupt();
            return Err(error);
        }
        Ok(())
    }

    /// The state file.
    pub fn state_path(&self) -> &Path {
        &self.state
    }
}
