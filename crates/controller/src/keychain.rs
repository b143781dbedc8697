//! The vault, as the controller holds it: opened lazily and again after a failure (the app
//! may start before the keyring daemon), and used only from blocking tasks with a time bound,
//! never on the loop: a keychain that hangs or waits for an unlock prompt stops nothing.
//!
//! A locked keychain raises no prompt by itself (the vault is opened without prompts): the
//! controller asks for the unlock once per locked spell, or when the human asks, with
//! never more than one prompt on screen, and watches for the unlock.

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
/// How often a locked keychain is asked whether it is unlocked now (no prompt).
pub(crate) const LOCK_PROBE_EVERY: chrono::Duration = chrono::Duration::seconds(30);

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
    /// Opens the vault (blocking: D-Bus on Linux), without unlock prompts of its own.
    pub fn open(&self) -> Result<Vault, VaultError> {
        match &self.isolated {
            None => Vault::open_within(KEYCHAIN_TIMEOUT),
            Some((service, dir)) => Vault::open_isolated(KEYCHAIN_TIMEOUT, service, dir.clone()),
        }
        .map(Vault::without_prompts)
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
    /// Since when the keychain is known to be locked (refreshes and pushes wait).
    pub(crate) locked_since: Option<DateTime<Utc>>,
    /// When to ask a locked keychain again whether it is unlocked.
    probe_at: Option<DateTime<Utc>>,
    probing: bool,
    /// An unlock prompt is on screen (its thread waits for the answer, maybe forever).
    pub(crate) prompting: bool,
    /// This locked spell has had its one prompt.
    prompted: bool,
}

/// What became of the keychain's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockChange {
    Locked,
    Unlocked,
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
            locked_since: None,
            probe_at: None,
            probing: false,
            prompting: false,
            prompted: false,
        }
    }

    /// Takes in what the vault last saw of the lock (`locked`), at `now`.
    pub(crate) fn lock_seen(&mut self, locked: bool, now: DateTime<Utc>) -> Option<LockChange> {
        match (self.locked_since.is_some(), locked) {
            (false, true) => {
                tracing::warn!("the keychain is locked: refreshes and pushes wait for the unlock");
                self.locked_since = Some(now);
                self.probe_at = Some(now + LOCK_PROBE_EVERY);
                Some(LockChange::Locked)
            }
            (true, false) => {
                tracing::info!("the keychain is unlocked");
                self.locked_since = None;
                self.probe_at = None;
                self.prompted = false;
                Some(LockChange::Unlocked)
            }
            _ => None,
        }
    }

    /// Whether to ask the locked keychain about its lock now (it is then being asked).
    pub(crate) fn should_probe(&mut self, now: DateTime<Utc>) -> Option<Arc<Vault>> {
        if self.probing || self.probe_at.is_none_or(|t| t > now) {
            return None;
        }
        self.probing = true;
        self.vault.clone()
    }

    pub(crate) fn probed(&mut self, now: DateTime<Utc>) {
        self.probing = false;
        if self.locked_since.is_some() {
            self.probe_at = Some(now + LOCK_PROBE_EVERY);
        }
    }

    /// Whether to raise the unlock prompt now: the spell's first need of the keychain, or the
    /// human asked (`asked`); never while one is on screen.
    pub(crate) fn should_prompt(&mut self, asked: bool) -> Option<Arc<Vault>> {
        if self.prompting || (self.prompted && !asked) || self.locked_since.is_none() {
            return None;
        }
        self.prompting = true;
        self.prompted = true;
        self.vault.clone()
    }

    pub(crate) fn next_probe(&self) -> Option<DateTime<Utc>> {
        if self.probing { None } else { self.probe_at }
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
