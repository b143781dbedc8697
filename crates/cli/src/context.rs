//! What every command needs: the config (loaded on demand), the vault (opened on demand, so
//! commands that need no keychain, like `validate --session-env`, never touch it), the history,
//! and a tokio runtime for network calls.

use std::path::PathBuf;

use sessionkeeper_core::config::Config;
use sessionkeeper_core::error::Error;
use sessionkeeper_core::history::History;
use sessionkeeper_core::targets::TargetBook;
use sessionkeeper_core::vault::Vault;

/// A failed command: the message for stderr and the exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) code: u8,
}

impl Failure {
    pub(crate) fn new(code: u8, message: impl std::fmt::Display) -> Self {
        Self {
            message: message.to_string(),
            code,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::new(1, e)
    }
}

impl From<sessionkeeper_core::error::VaultError> for Failure {
    fn from(e: sessionkeeper_core::error::VaultError) -> Self {
        Self::new(1, e)
    }
}

pub(crate) type Outcome = Result<u8, Failure>;

pub(crate) struct Context {
    config_path: Option<PathBuf>,
}

impl Context {
    pub(crate) fn new(config_path: Option<PathBuf>) -> Self {
        Self { config_path }
    }

    /// The config, or a failure with `code` (validate uses 2: "could not tell").
    pub(crate) fn config(&self, code: u8) -> Result<Config, Failure> {
        let path = self.config_path(code)?;
        Config::load(&path).map_err(|e| Failure::new(code, e))
    }

    /// Where the config file is (it may not exist yet).
    pub(crate) fn config_path(&self, code: u8) -> Result<PathBuf, Failure> {
        match &self.config_path {
            Some(p) => Ok(p.clone()),
            None => sessionkeeper_core::config::default_path().ok_or_else(|| {
                Failure::new(code, "no config directory: set HOME or pass --config FILE")
            }),
        }
    }

    pub(crate) fn vault(&self) -> Result<Vault, Failure> {
        let vault = Vault::open()?;
        Ok(vault)
    }

    pub(crate) fn history(&self) -> Option<History> {
        History::open_default()
    }

    /// The record of which session each push target holds.
    pub(crate) fn book(&self) -> Option<TargetBook> {
        TargetBook::open_default()
    }

    pub(crate) fn runtime(&self) -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread tokio runtime always builds")
    }
}

/// Appends to the history; a failure to record is reported but never fails the command.
pub(crate) fn record(history: Option<&History>, event: &sessionkeeper_core::history::Event) {
    if let Some(h) = history
        && let Err(e) = h.append(event)
    {
        eprintln!("sessionkeeper: warning: {e}");
    }
}
