//! The vault, as the controller holds it: opened lazily and again after a failure (the app
//! may start before the keyring daemon), and used only from blocking tasks with a time bound,
//! never on the loop: a keychain that hangs or waits for an unlock prompt stops nothing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sessionkeeper_core::error::VaultError;
use sessionkeeper_core::vault::Vault;

/// How long one keychain call may take before the controller goes on without it.
pub(crate) const KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How soon opening the keychain is tried again after it failed.
const REOPEN_AFTER: chrono::Duration = chrono::Duration::seconds(30);

/// Which keychain the app uses.
#[derive(Debug, Clone)]
pub struct Keychain {
    /// `None`: the platform keychain as the CLI sees it; `Some`: a service name and session
    /// dir of its own (the demo).
    isolated: Option<(String, PathBuf)>,
}

impl Keychain {
    pub fn platform() -> Self {
        Self { isolated: None }
    }

    pub fn isolated(service: &str, sessions_dir: PathBuf) -> Self {
        Self {
            isolated: Some((service.to_owned(), sessions_dir)),
        }
    }

    /// The directory of the session files (and, beside it, the secrets stamp).
    pub fn sessions_dir(&self) -> Option<PathBuf> {
        match &self.isolated {
            Some((_, dir)) => Some(dir.clone()),
            None => sessionkeeper_core::paths::data_dir().map(|d| d.join("sessions")),
        }
    }

    /// Opens the vault (blocking: D-Bus on Linux).
    pub fn open(&self) -> Result<Vault, VaultError> {
        match &self.isolated {
            None => Vault::open_within(KEYCHAIN_TIMEOUT),
            Some((service, dir)) => Vault::open_isolated(KEYCHAIN_TIMEOUT, service, dir.clone()),
        }
    }
}

/// The vault as tasks see it: being opened, open, or failed (and why). A task that needs it
/// while it is being opened waits for the outcome.
#[derive(Debug, Clone)]
pub(crate) enum Slot {
    Opening,
    Open(Arc<Vault>),
    Failed(String),
}

/// A task's handle on the vault.
pub(crate) type VaultRef = tokio::sync::watch::Receiver<Slot>;

/// The vault's state in the controller.
#[derive(Debug)]
pub(crate) struct State {
    keychain: Keychain,
    slot: tokio::sync::watch::Sender<Slot>,
    pub(crate) vault: Option<Arc<Vault>>,
    pub(crate) error: Option<String>,
    opening: bool,
    retry_at: Option<DateTime<Utc>>,
}

impl State {
    pub(crate) fn new(keychain: Keychain) -> Self {
        Self {
            keychain,
            slot: tokio::sync::watch::Sender::new(Slot::Opening),
            vault: None,
            error: None,
            opening: false,
            retry_at: None,
        }
    }

    /// The vault for a task (it waits while the vault is being opened).
    pub(crate) fn get(&self) -> VaultRef {
        self.slot.subscribe()
    }

    /// The open must start now: not already opening or open, and not waiting to retry.
    pub(crate) fn should_open(&mut self, now: DateTime<Utc>) -> Option<Keychain> {
        if self.vault.is_some() || self.opening || self.retry_at.is_some_and(|t| t > now) {
            return None;
        }
        self.opening = true;
        self.slot.send_replace(Slot::Opening);
        Some(self.keychain.clone())
    }

    pub(crate) fn opened(&mut self, result: Result<Arc<Vault>, VaultError>, now: DateTime<Utc>) {
        self.opening = false;
        match result {
            Ok(vault) => {
                tracing::info!("keychain open (service {})", vault.service());
                self.slot.send_replace(Slot::Open(Arc::clone(&vault)));
                self.vault = Some(vault);
                self.error = None;
                self.retry_at = None;
            }
            Err(e) => {
                tracing::warn!("keychain not available, will retry: {e}");
                self.slot.send_replace(Slot::Failed(e.to_string()));
                self.error = Some(e.to_string());
                self.retry_at = Some(now + REOPEN_AFTER);
            }
        }
    }

    pub(crate) fn retry_at(&self) -> Option<DateTime<Utc>> {
        if self.vault.is_some() || self.opening {
            None
        } else {
            self.retry_at
        }
    }
}

/// Runs `work` with the vault on a blocking thread, bounded by [`KEYCHAIN_TIMEOUT`] (waiting
/// for a vault being opened included): a call stuck in D-Bus is left behind on its thread,
/// and its caller gets an error.
pub(crate) async fn with_vault<T, E>(
    mut vault: VaultRef,
    work: impl FnOnce(&Vault) -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<VaultError> + Send + 'static,
{
    let unavailable = |detail: String| E::from(VaultError::Unavailable { detail });
    let slot = tokio::time::timeout(
        KEYCHAIN_TIMEOUT,
        vault.wait_for(|s| !matches!(s, Slot::Opening)),
    )
    .await
    .map_err(|_| unavailable("the keychain is still being opened".to_owned()))?
    .map_err(|_| unavailable("the app is stopping".to_owned()))?
    .clone();
    let vault = match slot {
        Slot::Open(v) => v,
        Slot::Failed(why) => return Err(unavailable(why)),
        Slot::Opening => unreachable!("waited for"),
    };
    let task = tokio::task::spawn_blocking(move || work(&vault));
    match tokio::time::timeout(KEYCHAIN_TIMEOUT, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(unavailable(format!("the keychain task failed: {e}"))),
        Err(_) => Err(unavailable(format!(
            "the keychain did not answer within {} s",
            KEYCHAIN_TIMEOUT.as_secs()
        ))),
    }
}
