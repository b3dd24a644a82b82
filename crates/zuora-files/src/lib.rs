#![doc = include_str!("../README.md")]

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The mode of a new report file: owner-only, since a report is billing data.
pub const DEFAULT_MODE: u32 = 0o600;

/// A file being written beside its destination, renamed into place by
/// [`commit`](Self::commit) and removed if dropped before.
#[derive(Debug)]
pub struct PartialFile {
    /// `None` once committed or discarded.
    file: Option<File>,
    temporary: PathBuf,
    destination: PathBuf,
}

impl PartialFile {
    /// Creates the temporary file for `destination`, whose folder must exist. `mode` is the
    /// mode of a new destination (default [`DEFAULT_MODE`]); an existing destination keeps its
    /// own.
    ///
    /// # Errors
    ///
    /// `destination` has no file name, its folder cannot be written, or (by chance one in
    /// 2^128, or because someone planted it) the temporary name is taken.
    pub fn create(destination: &Path, mode: Option<u32>) -> io::Result<Self> {
        let name = destination.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a file name", destination.display()),
            )
        })?;
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|error| {
            io::Error::other(format!("no randomness for a temporary name: {error}"))
        })?;
        let random = u128::from_le_bytes(random);
        let temporary = destination
            .with_file_name(format!(".{}.{random:032x}.partial", name.to_string_lossy()));
        let mode = kept_mode(destination).unwrap_or(mode.unwrap_or(DEFAULT_MODE));
        let file = create_exclusive(&temporary, mode)?;
        Ok(Self {
            file: Some(file),
            temporary,
            destination: destination.to_owned(),
        })
    }

    /// Where the bytes go until the commit.
    pub fn temporary_path(&self) -> &Path {
        &self.temporary
    }

    /// Where the file will be.
    pub fn destination(&self) -> &Path {
        &self.destination
    }

    fn file(&mut self) -> io::Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the file was already committed or discarded"))
    }

    /// Syncs the file and renames it over the destination, then syncs the folder so the
    /// rename survives a crash (best effort: some file systems refuse to sync a folder).
    ///
    /// # Errors
    ///
    /// The sync or the rename failed; the temporary file is then removed.
    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file()?;
        file.flush()?;
        file.sync_all()?;
        std::fs::rename(&self.temporary, &self.destination)?;
        self.file = None;
        if let Some(folder) = self.destination.parent() {
            let folder = if folder.as_os_str().is_empty() {
                Path::new(".")
            } else {
                folder
            };
            if let Ok(folder) = File::open(folder) {
                let _ = folder.sync_all();
            }
        }
        Ok(())
    }

    /// Bytes written so far.
    ///
    /// # Errors
    ///
    /// The file was committed or discarded, or its size cannot be read.
    pub fn written(&mut self) -> io::Result<u64> {
        Ok(self.file()?.metadata()?.len())
    }

    /// Removes the temporary files a killed process left for `destination` (a process
    /// killed with `SIGKILL` cannot remove its own): files named as [`create`](Self::create)
    /// names them, beside it. Returns how many were removed.
    ///
    /// Only for a writer that knows no other process writes `destination` now (a pull
    /// holding its state file), since another's file in progress looks the same.
    pub fn remove_stale(destination: &Path) -> usize {
        let (Some(name), Some(folder)) = (destination.file_name(), destination.parent()) else {
            return 0;
        };
        let folder = if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            folder
        };
        let prefix = format!(".{}.", name.to_string_lossy());
        let Ok(entries) = std::fs::read_dir(folder) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let file_name = file_name.to_string_lossy();
            let stale = file_name
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(".partial"))
                .is_some_and(|random| {
                    random.len() == 32 && random.bytes().all(|b| b.is_ascii_hexdigit())
                });
            if stale && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// Removes the temporary file now (dropping does the same).
    pub fn discard(mut self) {
        self.remove();
    }

    fn remove(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

impl Write for PartialFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file()?.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file()?.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file()?.flush()
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The mode of an existing destination (only a regular file's), so that replacing it keeps
/// what its owner chose.
#[cfg(unix)]
fn kept_mode(destination: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(destination)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|meta| meta.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn kept_mode(_destination: &Path) -> Option<u32> {
    None
}

/// `O_CREAT | O_EXCL | O_NOFOLLOW`: never an existing file, never through a link.
#[cfg(unix)]
fn create_exclusive(path: &Path, mode: u32) -> io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    // O_NOFOLLOW's value on Linux (x86, ARM and most others); with O_EXCL a link at the path
    // is refused anyway, so this is belt and braces where the value differs.
    const O_NOFOLLOW: i32 = 0o400_000;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(if cfg!(target_os = "linux") {
            O_NOFOLLOW
        } else {
            0
        })
        .open(path)?;
    // The umask may have taken bits the caller asked for (an existing destination's mode).
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    Ok(file)
}

#[cfg(not(unix))]
fn create_exclusive(path: &Path, _mode: u32) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // A panic is how a test fails.

    use super::*;
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("zuora-files-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_dropped_file_leaves_nothing_and_a_committed_one_replaces_the_destination() {
        let dir = scratch("commit");
        let out = dir.join("report.csv");
        std::fs::write(&out, b"old").unwrap();
        let mut file = PartialFile::create(&out, None).unwrap();
        file.write_all(b"half").unwrap();
        let name = file
            .temporary_path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with(".report.csv.") && name.ends_with(".partial") && name.len() > 40);
        drop(file);
        assert_eq!(entries(&dir), ["report.csv"]);
        assert_eq!(std::fs::read(&out).unwrap(), b"old");

        let mut file = PartialFile::create(&out, None).unwrap();
        file.write_all(b"new").unwrap();
        file.commit().unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"new");
        assert_eq!(entries(&dir), ["report.csv"]);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn two_writers_to_one_destination_never_share_a_temporary_file() {
        let dir = scratch("two");
        let out = dir.join("report.csv");
        let a = PartialFile::create(&out, None).unwrap();
        let b = PartialFile::create(&out, None).unwrap();
        assert_ne!(a.temporary_path(), b.temporary_path());
        drop((a, b));
        assert!(entries(&dir).is_empty());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_owner_only_and_a_replaced_file_keeps_its_mode() {
        let dir = scratch("modes");
        let fresh = dir.join("fresh.csv");
        PartialFile::create(&fresh, None).unwrap().commit().unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&fresh), 0o600);
        let asked = dir.join("asked.csv");
        PartialFile::create(&asked, Some(0o640))
            .unwrap()
            .commit()
            .unwrap();
        assert_eq!(mode(&asked), 0o640);
        let kept = dir.join("kept.csv");
        std::fs::write(&kept, b"x").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
        PartialFile::create(&kept, None).unwrap().commit().unwrap();
        assert_eq!(mode(&kept), 0o640);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_is_never_followed() {
        let dir = scratch("link");
        let victim = dir.join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let path = dir.join("planted");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let error = create_exclusive(&path, 0o600).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        std::fs::remove_dir_all(&dir).ok();
    }
}
