//! Where Session Keeper keeps its files: config, encrypted sessions, history. Nothing here is
//! a secret in plaintext; the encrypted session files are only readable with the keychain's key.

use std::path::{Path, PathBuf};

/// The directory of `config.toml` (`$XDG_CONFIG_HOME/sessionkeeper` on Linux).
pub fn config_dir() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("sessionkeeper"))
}

/// The directory of the encrypted session files (`$XDG_DATA_HOME/sessionkeeper`).
pub fn data_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("sessionkeeper"))
}

/// The directory of history and last-check state (`$XDG_STATE_HOME/sessionkeeper`).
pub fn state_dir() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("sessionkeeper"))
}

/// `~/x` → `$HOME/x`; anything else unchanged.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

/// Write `bytes` to `path` atomically (temp file in the same directory, then rename) with mode
/// 0600 on Unix, creating the directory (0700) if needed.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    create_private_dir(parent_dir(path))?;
    // tempfile creates files 0600 on Unix already; keep it explicit for the reader.
    #[cfg(unix)]
    let permissions = {
        use std::os::unix::fs::PermissionsExt;
        Some(std::fs::Permissions::from_mode(0o600))
    };
    #[cfg(not(unix))]
    let permissions = None;
    replace_atomically(path, bytes, permissions)
}

/// Replace the existing file at `path` atomically, keeping its permissions (the config file
/// when `learn --apply` edits it).
pub fn rewrite_keeping_permissions(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let permissions = std::fs::metadata(path)?.permissions();
    replace_atomically(path, bytes, Some(permissions))
}

/// A temp file in `path`'s directory with `bytes` (and `permissions`), synced, then renamed
/// over `path`: readers see the old file or the new one, never half of one.
fn replace_atomically(
    path: &Path,
    bytes: &[u8],
    permissions: Option<std::fs::Permissions>,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = tempfile::Builder::new()
        .prefix(".sk-")
        .tempfile_in(parent_dir(path))?;
    if let Some(permissions) = permissions {
        tmp.as_file().set_permissions(permissions)?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// `mkdir -p` with mode 0700 for the directories created.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Takes the OS lock of the file at `path` (created 0600 if needed), waiting up to `wait` for
/// another process to release it. The lock is held until the returned file is dropped.
pub fn lock_file(path: &Path, wait: std::time::Duration) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).read(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    let started = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < wait => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::WouldBlock,
                    format!(
                        "another Session Keeper process has held {} for {} s",
                        path.display(),
                        wait.as_secs()
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}
