//! Logs: to stderr, and to `sessionkeeper-app.log` in the platform log dir once the app knows
//! it, at most [`LOG_CAP`] bytes (then it becomes `sessionkeeper-app.log.1` and a new one
//! starts). Nothing logged ever holds a secret (core's outcomes and errors never carry one).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// How large the log file may grow before it is rotated (one older file is kept).
const LOG_CAP: u64 = 5 * 1024 * 1024;

static FILE: OnceLock<Mutex<LogFile>> = OnceLock::new();

/// The log file, its path and how much it holds.
#[derive(Debug)]
struct LogFile {
    file: File,
    path: PathBuf,
    size: u64,
}

impl LogFile {
    fn open(path: PathBuf) -> std::io::Result<Self> {
        let file = open_private(&path)?;
        // Private, whoever made it.
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        let size = file.metadata()?.len();
        let mut log = Self { file, path, size };
        if log.size >= LOG_CAP {
            log.rotate()?;
        }
        Ok(log)
    }

    fn write(&mut self, buf: &[u8]) {
        if self.size + buf.len() as u64 > LOG_CAP {
            let _ = self.rotate();
        }
        if self.file.write_all(buf).is_ok() {
            self.size += buf.len() as u64;
        }
    }

    /// The full file becomes `….log.1` (replacing an older one); a new one starts.
    fn rotate(&mut self) -> std::io::Result<()> {
        let mut older = self.path.clone().into_os_string();
        older.push(".1");
        std::fs::rename(&self.path, &older)?;
        // Private, whoever made it.
        #[cfg(unix)]
        std::fs::set_permissions(&older, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        self.file = open_private(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

fn open_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Starts logging to stderr (`RUST_LOG` overrides the default `info` for our crates).
pub(crate) fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(
            "warn,sessionkeeper_app=info,sessionkeeper_controller=info,sessionkeeper_core=info,sessionkeeper_sim=warn",
        )
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Both)
        .try_init();
}

/// Also writes the log to `dir/sessionkeeper-app.log` (created 0700/0600).
pub(crate) fn to_file(dir: Option<PathBuf>) {
    let Some(dir) = dir else { return };
    if let Err(e) = sessionkeeper_core::paths::create_private_dir(&dir) {
        tracing::warn!("cannot create the log dir {}: {e}", dir.display());
        return;
    }
    let path = dir.join("sessionkeeper-app.log");
    match LogFile::open(path.clone()) {
        Ok(file) => {
            let _ = FILE.set(Mutex::new(file));
            tracing::info!("logging to {}", path.display());
        }
        Err(e) => tracing::warn!("cannot open {}: {e}", path.display()),
    }
}

/// stderr, plus the log file when there is one.
#[derive(Debug, Clone, Copy)]
struct Both;

impl Write for Both {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(file) = FILE.get() {
            file.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .write(buf);
        }
        std::io::stderr().write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for Both {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}
