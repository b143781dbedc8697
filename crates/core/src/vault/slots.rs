//! The two session files of a profile (`<id>.current`, `<id>.previous`) and the moves between
//! them, safe against a crash at any instant and against other processes:
//!
//! * every writer holds the profile's lock (`.<id>.lock`, an OS file lock), across processes
//!   (the CLI and the app);
//! * a new file is written under a temporary name, synced, and only then given its staging
//!   name (`.<id>.rotate.*` or `.<id>.update.*`): a file with a staging name is complete;
//! * rotation hard-links current to previous, then renames the staged file over current, so
//!   there is never a moment without a current session;
//! * a swap (restore) hard-links current to `.<id>.swap` first;
//! * the next holder of the lock finishes whatever a crash interrupted ([`Slots::recover`]).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::names::Slot;

/// How long a writer waits for another process to release a profile's lock.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The session files of every profile, in one directory.
#[derive(Debug, Clone)]
pub(super) struct Slots {
    pub(super) dir: PathBuf,
}

/// A profile's lock, held until dropped.
#[derive(Debug)]
pub(super) struct ProfileLock {
    _file: File,
}

/// What kind of write a staged file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Staged {
    /// A new session: the current one becomes the previous one.
    Rotate,
    /// The current session rewritten in place (a moved tracked expiry).
    Update,
}

impl Staged {
    fn tag(self) -> &'static str {
        match self {
            Self::Rotate => "rotate",
            Self::Update => "update",
        }
    }
}

impl Slots {
    pub(super) fn path(&self, profile: &str, slot: Slot) -> PathBuf {
        self.dir.join(format!("{profile}.{}", slot.file_suffix()))
    }

    fn swap_path(&self, profile: &str) -> PathBuf {
        self.dir.join(format!(".{profile}.swap"))
    }

    /// Whether any session file of any profile exists (a missing key is then an error, not a
    /// reason to make a new one).
    pub(super) fn any_session_files(&self) -> bool {
        std::fs::read_dir(&self.dir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.ends_with(".current") || name.ends_with(".previous")
            })
        })
    }

    pub(super) fn create_dir(&self) -> io::Result<()> {
        crate::paths::create_private_dir(&self.dir)
    }

    /// Takes the lock of `profile`, waiting up to [`LOCK_WAIT`] for another process.
    pub(super) fn lock(&self, profile: &str) -> io::Result<ProfileLock> {
        self.create_dir()?;
        let path = self.dir.join(format!(".{profile}.lock"));
        crate::paths::lock_file(&path, LOCK_WAIT).map(|file| ProfileLock { _file: file })
    }

    /// Takes the lock only if it is free at once (readers use it to finish an interrupted
    /// write before they read, and never wait).
    pub(super) fn try_lock(&self, profile: &str) -> Option<ProfileLock> {
        let path = self.dir.join(format!(".{profile}.lock"));
        let file = private_options().read(true).write(true).open(path).ok()?;
        file.try_lock().ok()?;
        Some(ProfileLock { _file: file })
    }

    /// Reads a slot; `None` when it does not exist. A previous session that a crash left in
    /// the swap file mid-restore is still found.
    pub(super) fn read(&self, profile: &str, slot: Slot) -> io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(profile, slot)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound && slot == Slot::Previous => {
                match std::fs::read(self.swap_path(profile)) {
                    Ok(b) => Ok(Some(b)),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes `bytes` as a complete staged file of `kind` for `profile`, and returns its path.
    pub(super) fn stage(
        &self,
        _lock: &ProfileLock,
        profile: &str,
        kind: Staged,
        bytes: &[u8],
    ) -> io::Result<PathBuf> {
        use std::io::Write as _;
        self.create_dir()?;
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{profile}.tmp."))
            .tempfile_in(&self.dir)?;
        set_private(tmp.as_file())?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        let staged = self
            .dir
            .join(format!(".{profile}.{}.{}", kind.tag(), unique_suffix()));
        tmp.persist(&staged).map_err(|e| e.error)?;
        Ok(staged)
    }

    /// Makes a staged file the current session: a rotation keeps the old current as previous
    /// (hard link first, so current always exists), an update replaces current only.
    pub(super) fn commit(
        &self,
        _lock: &ProfileLock,
        profile: &str,
        staged: &Path,
        kind: Staged,
    ) -> io::Result<()> {
        let current = self.path(profile, Slot::Current);
        if kind == Staged::Rotate && current.exists() {
            self.link_over(&current, &self.path(profile, Slot::Previous), profile)?;
        }
        std::fs::rename(staged, &current)?;
        sync_dir(&self.dir)
    }

    /// Swaps current and previous (restore). False when there is no previous session.
    pub(super) fn swap(&self, _lock: &ProfileLock, profile: &str) -> io::Result<bool> {
        let current = self.path(profile, Slot::Current);
        let previous = self.path(profile, Slot::Previous);
        if !previous.exists() {
            return Ok(false);
        }
        let swap = self.swap_path(profile);
        let had_current = current.exists();
        if had_current {
            // current stays in place: the swap file is a second name for it.
            self.link_over(&current, &swap, profile)?;
        }
        std::fs::rename(&previous, &current)?;
        if had_current {
            std::fs::rename(&swap, &previous)?;
        }
        sync_dir(&self.dir)?;
        Ok(true)
    }

    /// Finishes what a crash interrupted for `profile` (the caller holds its lock): the newest
    /// complete staged file is committed (older ones were superseded), temporary files are
    /// removed, and a restore that moved current but not yet previous is completed.
    pub(super) fn recover(&self, lock: &ProfileLock, profile: &str) -> io::Result<()> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Ok(());
        };
        let mut staged: Vec<(std::time::SystemTime, PathBuf, Staged)> = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Some(rest) = name.strip_prefix(&format!(".{profile}.")) else {
                continue;
            };
            let path = entry.path();
            let kind = if rest.starts_with("rotate.") {
                Some(Staged::Rotate)
            } else if rest.starts_with("update.") {
                Some(Staged::Update)
            } else {
                None
            };
            match kind {
                Some(kind) => {
                    let modified = entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH);
                    staged.push((modified, path, kind));
                }
                None if rest.starts_with("tmp.") || rest.starts_with("link.") => {
                    // Never complete: written or linked by a process that died before it
                    // gave the file its staging name.
                    tracing::info!(%profile, "removing an unfinished session file");
                    let _ = std::fs::remove_file(&path);
                }
                None => {}
            }
        }
        let swap = self.swap_path(profile);
        if swap.exists() {
            let previous = self.path(profile, Slot::Previous);
            if previous.exists() {
                // The restore never moved anything: the swap file was only a second name.
                std::fs::remove_file(&swap)?;
            } else {
                tracing::info!(%profile, "finishing an interrupted restore");
                std::fs::rename(&swap, &previous)?;
            }
        }
        staged.sort_by_key(|s| s.0);
        if let Some((_, newest, kind)) = staged.pop() {
            tracing::info!(%profile, "finishing an interrupted session write");
            for (_, older, _) in staged {
                let _ = std::fs::remove_file(older);
            }
            let current = self.path(profile, Slot::Current);
            let previous = self.path(profile, Slot::Previous);
            // A rotation that already linked current to previous only has its rename left.
            let linked = kind == Staged::Rotate && same_file(&current, &previous);
            let kind = if linked { Staged::Update } else { kind };
            self.commit(lock, profile, &newest, kind)?;
        }
        Ok(())
    }

    /// `target` becomes a second name of `source`, atomically replacing what `target` was.
    fn link_over(&self, source: &Path, target: &Path, profile: &str) -> io::Result<()> {
        let link = self
            .dir
            .join(format!(".{profile}.link.{}", unique_suffix()));
        std::fs::hard_link(source, &link)?;
        std::fs::rename(&link, target)
    }
}

fn unique_suffix() -> String {
    format!("{}-{:016x}", std::process::id(), rand::random::<u64>())
}

fn private_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

fn set_private(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    let _ = file;
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::read(a), std::fs::read(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Makes the renames in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    let _ = dir;
    Ok(())
}
