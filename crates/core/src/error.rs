//! The errors of the core, in the words a user needs: what went wrong and what to do next.
//!
//! Display strings are what the CLI and the tray show, so they never contain a secret.

use std::fmt;
use std::path::{Path, PathBuf};

/// Anything the core can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A profile id that the config does not define.
    #[error("no profile named {id:?} in the config (known: {known})")]
    UnknownProfile { id: String, known: String },
    /// The profile has no `[profiles.ID.validate]` table, so nothing can be checked.
    #[error("profile {0:?} has no [profiles.{0}.validate] table: add one with url = \"https://…\"")]
    NoValidateRequest(String),
    /// Local I/O outside the vault (history, state).
    #[error("{what} ({path}): {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A broken config file: where, which key, and what would be valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based line, when the problem has a place in the file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted key path, e.g. `profiles.mtn.validate.url`.
    pub key: Option<String>,
    pub message: String,
}

impl ConfigError {
    pub(crate) fn whole_file(file: &Path, message: String) -> Self {
        Self {
            file: file.to_owned(),
            line: None,
            column: None,
            key: None,
            message,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        f.write_str(": ")?;
        if let Some(k) = &self.key {
            write!(f, "key `{k}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// A session or token that could not be read. Never echoes the input (it is a secret).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("nothing to import: the input is empty")]
    Empty,
    #[error(
        "not a session: the input is not base64 ({detail}), not JSON, and not a single-line \
         token; paste the output of `sessionkeeper export`, a session JSON, or a token"
    )]
    Unrecognised { detail: String },
    #[error(
        "the base64 decodes, but not to UTF-8 JSON: is it the output of `sessionkeeper export`?"
    )]
    NotJson,
    #[error("the session JSON is malformed: {0}")]
    BadJson(String),
    #[error("the session JSON has export version {0}; this build reads version 1")]
    UnsupportedVersion(u64),
    #[error("the session has neither cookies nor a token")]
    NoCredentials,
    #[error("profile {profile:?} keeps cookie sessions, but the input is a bare token")]
    TokenForCookieProfile { profile: String },
    #[error("the session belongs to profile {found:?}, not {expected:?}")]
    WrongProfile { expected: String, found: String },
}

/// The keychain or the encrypted session store failed. Each variant says what to do.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "no keychain is reachable ({detail}). On Linux, Session Keeper needs a Secret Service \
         (gnome-keyring or KeePassXC) on the D-Bus session bus: log in to a desktop session, or \
         start one with `dbus-run-session` and `gnome-keyring-daemon --unlock`. Nothing was written."
    )]
    Unavailable { detail: String },
    #[error(
        "the keychain is locked or access was denied ({detail}). Unlock it (e.g. log in to the \
         desktop, or `gnome-keyring-daemon --unlock`) and try again. Nothing was written."
    )]
    Locked { detail: String },
    #[error("{item} is not set: run `sessionkeeper secret set {item}`")]
    Missing { item: String },
    #[error(
        "no session is stored for profile {profile:?}: log in (Re-authenticate) or run `sessionkeeper import {profile}`"
    )]
    NoSession { profile: String },
    #[error("no previous session is kept for profile {profile:?}")]
    NoPreviousSession { profile: String },
    #[error(
        "the stored session of {profile:?} cannot be decrypted ({why}): the keychain's session \
         key does not match the files in {dir}. Re-authenticate or import the session again."
    )]
    Corrupt {
        profile: String,
        why: String,
        dir: PathBuf,
    },
    #[error(
        "the keychain has lost its session-key item, but session files exist in {dir}: they \
         cannot be read without it. Restore the keychain (or its backup), or remove the files \
         to start over and log in again. Nothing was written."
    )]
    KeyMissing { dir: PathBuf },
    #[error("the keychain rejected {item}: {detail}")]
    Rejected { item: String, detail: String },
    #[error("{what} ({path}): {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "invalid secret name {0:?}: use account:NAME, profile:ID:username, profile:ID:password \
         or deploy-hook:ACCOUNT/PROJECT"
    )]
    BadName(String),
}
