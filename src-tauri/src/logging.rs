//! Logs: to stderr, and to `sessionkeeper-app.log` in the platform log dir once the app knows
//! it. Nothing logged ever holds a secret (core's outcomes and errors never carry one).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

static FILE: OnceLock<Mutex<File>> = OnceLock::new();

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
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
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
            let mut file = file
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = file.write_all(buf);
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
