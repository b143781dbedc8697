//! The only code that touches secrets at rest: API tokens, SSO credentials and sessions.
//!
//! Small secrets (tokens, usernames, passwords) are keychain items of service `sessionkeeper`:
//! `account:<name>`, `profile:<id>:username`, `profile:<id>:password` (`keychain`).
//!
//! Sessions can be larger than a keychain item may be (Windows caps an item at 2560 bytes; a
//! cookie jar is often 5–50 KB), so every session is stored the same way on every platform:
//! an **encrypted file** per slot (`sessions/<id>.current`, `sessions/<id>.previous` in the data
//! dir, `slots`), sealed with XChaCha20-Poly1305 under a random 256-bit key that lives only in
//! the keychain (item `session-key`, `sealed`). Files are written atomically, mode 0600, under
//! a per-profile lock that the CLI and the app share, and a crash at any instant leaves a
//! current session.
//!
//! The keychain store is opened by [`Vault::open`], and nothing is cached when that fails: a
//! tray app started before the keyring daemon simply calls `open` again later.

mod keychain;
mod names;
mod policy;
mod sealed;
mod slots;

#[cfg_attr(target_os = "linux", path = "platform/linux.rs")]
#[cfg_attr(target_os = "macos", path = "platform/macos.rs")]
#[cfg_attr(target_os = "windows", path = "platform/windows.rs")]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "macos", target_os = "windows")),
    path = "platform/other.rs"
)]
mod platform;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use keyring_core::CredentialStore;

pub use names::{SecretName, Slot};
pub use policy::{
    SecretState, env_token, env_token_for, secret_states, token_env_vars, token_env_vars_for,
};
pub use sealed::{Fingerprint, team_fingerprint};

use crate::config::{Account, Profile};
use crate::error::VaultError;
use crate::secret::Secret;
use crate::session::Session;
use slots::{Slots, Staged};

/// The keychain service name of every item.
pub const SERVICE: &str = "sessionkeeper";
/// Overrides [`SERVICE`], to run an isolated instance (a second team, or a test) beside the
/// real one in the same keychain.
pub const SERVICE_ENV: &str = "SESSIONKEEPER_KEYCHAIN_SERVICE";
/// How long [`Vault::open`] waits for the keychain to answer.
const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The stamp a vault with session files in `sessions_dir` touches when a secret changes.
pub fn secrets_stamp(sessions_dir: &Path) -> PathBuf {
    sessions_dir
        .parent()
        .unwrap_or(sessions_dir)
        .join("secrets.changed")
}

/// The keychain service name this process uses: [`SERVICE_ENV`] when set, else [`SERVICE`].
pub fn service_name() -> String {
    std::env::var(SERVICE_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| SERVICE.to_owned())
}

/// The keychain plus the encrypted session files.
pub struct Vault {
    items: keychain::Items,
    slots: Slots,
    /// Whether a read of a locked keychain may raise the desktop's unlock prompt (the CLI,
    /// run by a human) or fails at once with [`VaultError::Locked`] (the tray app, which
    /// asks for the unlock itself, once: [`Vault::unlock`]).
    prompts: bool,
    lock_probe: platform::LockProbe,
    /// What the last look at the lock found (see [`Vault::seen_locked`]).
    seen_locked: std::sync::atomic::AtomicBool,
    /// The session-file key once read: the sessions stay readable while the keychain is
    /// locked (a screen lock), so checks go on.
    key: std::sync::Mutex<Option<sealed::Key>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("store", &self.items.store.vendor())
            .field("service", &self.items.service)
            .field("sessions_dir", &self.slots.dir)
            .finish()
    }
}

impl Vault {
    /// Open the platform keychain (Secret Service on Linux, Keychain on macOS, Credential
    /// Manager on Windows) and the session files in the data dir. Fails, without caching the
    /// failure, when no keychain is reachable.
    pub fn open() -> Result<Self, VaultError> {
        Self::open_within(OPEN_TIMEOUT)
    }

    /// [`Vault::open`] with a bound on how long connecting to the keychain may take. A session
    /// bus that accepts the connection but never answers would otherwise block forever; the
    /// stuck connection attempt is left behind on its own thread.
    pub fn open_within(timeout: std::time::Duration) -> Result<Self, VaultError> {
        let dir = crate::paths::data_dir().ok_or_else(|| VaultError::Unavailable {
            detail: "no data directory: is HOME set?".to_owned(),
        })?;
        Self::open_isolated(timeout, &service_name(), dir.join("sessions"))
    }

    /// The platform keychain under another service name, with session files in
    /// `sessions_dir`: what `--demo` uses, so that it never reads or writes the real items.
    pub fn open_isolated(
        timeout: std::time::Duration,
        service: &str,
        sessions_dir: PathBuf,
    ) -> Result<Self, VaultError> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("keychain-open".to_owned())
            .spawn(move || {
                let _ = tx.send(platform::store());
            })
            .map_err(|e| VaultError::Unavailable {
                detail: format!("cannot start a thread: {e}"),
            })?;
        let store = rx
            .recv_timeout(timeout)
            .map_err(|_| VaultError::Unavailable {
                detail: format!(
                    "the Secret Service did not answer within {} s",
                    timeout.as_secs()
                ),
            })??;
        let mut vault = Self::with_store(store, sessions_dir);
        service.clone_into(&mut vault.items.service);
        Ok(vault)
    }

    /// A vault over any keyring-core store (tests use `keyring_core::mock::Store`).
    pub fn with_store(store: Arc<CredentialStore>, sessions_dir: PathBuf) -> Self {
        Self {
            items: keychain::Items {
                store,
                service: SERVICE.to_owned(),
            },
            slots: Slots { dir: sessions_dir },
            prompts: true,
            lock_probe: platform::LockProbe::default(),
            seen_locked: std::sync::atomic::AtomicBool::new(false),
            key: std::sync::Mutex::new(None),
        }
    }

    /// This vault, but a read of a locked keychain fails at once with
    /// [`VaultError::Locked`] instead of raising the desktop's unlock prompt (see
    /// [`Vault::unlock`]). What the tray app uses.
    #[must_use]
    pub fn without_prompts(mut self) -> Self {
        self.prompts = false;
        self
    }

    /// Whether the keychain is locked now (never raises a prompt). Always false where the
    /// platform cannot tell beforehand.
    pub fn is_locked(&self) -> Result<bool, VaultError> {
        let locked = self.lock_probe.locked()?;
        self.seen_locked
            .store(locked, std::sync::atomic::Ordering::SeqCst);
        Ok(locked)
    }

    /// Whether the last look at the lock (by a read of a vault [without
    /// prompts](Vault::without_prompts), or [`Vault::is_locked`]) found the keychain locked.
    pub fn seen_locked(&self) -> bool {
        self.seen_locked.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Raises the desktop's unlock prompt and waits for its answer (which may never come:
    /// call it on a thread of its own). Ok once unlocked.
    pub fn unlock(&self) -> Result<(), VaultError> {
        self.lock_probe.unlock()
    }

    /// The keychain items, unless this vault does not prompt and the keychain is locked.
    fn items(&self) -> Result<&keychain::Items, VaultError> {
        if !self.prompts && self.is_locked()? {
            return Err(VaultError::Locked {
                detail: "the keychain is locked".to_owned(),
            });
        }
        Ok(&self.items)
    }

    /// Checks that the keychain answers and is unlocked, by reading the index item.
    pub fn probe(&self) -> Result<(), VaultError> {
        self.items()?.probe()
    }

    /// The keychain service name the items are stored under.
    pub fn service(&self) -> &str {
        &self.items.service
    }

    pub fn sessions_dir(&self) -> &Path {
        &self.slots.dir
    }

    // ---- small secrets ------------------------------------------------------------------

    pub fn get_secret(&self, name: &SecretName) -> Result<Option<Secret>, VaultError> {
        self.items()?.read(&name.item()).map(|v| v.map(Secret::new))
    }

    pub fn set_secret(&self, name: &SecretName, value: &Secret) -> Result<(), VaultError> {
        let item = name.item();
        let items = self.items()?;
        items.write(&item, value.expose())?;
        items.update_index(|index| {
            index.insert(item.clone());
        })?;
        self.secrets_changed();
        Ok(())
    }

    /// Where a running app looks to learn that a secret was set or removed (by the CLI, say):
    /// a file beside the sessions whose only content is the time (never a name or a value).
    pub fn secrets_stamp(&self) -> PathBuf {
        secrets_stamp(&self.slots.dir)
    }

    fn secrets_changed(&self) {
        let stamp = self.secrets_stamp();
        let now = chrono::Utc::now().to_rfc3339();
        if let Err(e) = crate::paths::write_private(&stamp, now.as_bytes()) {
            tracing::warn!("cannot tell a running app that a secret changed: {e}");
        }
    }

    pub fn delete_secret(&self, name: &SecretName) -> Result<bool, VaultError> {
        let item = name.item();
        let items = self.items()?;
        let existed = items.delete(&item)?;
        items.update_index(|index| {
            index.remove(&item);
        })?;
        self.secrets_changed();
        Ok(existed)
    }

    /// The API token of `account`: an environment override when one applies to it (see
    /// [`token_env_vars`]), else the keychain item `account:<name>`.
    pub fn account_token(&self, account: &Account) -> Result<Secret, VaultError> {
        if let Some((_, token)) = env_token(account) {
            return Ok(token);
        }
        let name = SecretName::Account(account.name.clone());
        self.get_secret(&name)?
            .ok_or(VaultError::Missing { item: name.item() })
    }

    /// The names of the items set through this vault (never their values).
    pub fn index(&self) -> Result<BTreeSet<String>, VaultError> {
        self.items()?.index()
    }

    // ---- sessions -----------------------------------------------------------------------

    /// The current session of `profile`, or [`VaultError::NoSession`] when none is stored.
    pub fn current_session(&self, profile: &Profile) -> Result<Session, VaultError> {
        self.load_session(profile, Slot::Current)?
            .ok_or_else(|| VaultError::NoSession {
                profile: profile.id.clone(),
            })
    }

    /// The current (or previous) session of `profile`, if one is stored.
    pub fn load_session(
        &self,
        profile: &Profile,
        slot: Slot,
    ) -> Result<Option<Session>, VaultError> {
        // A write a crash interrupted is finished first, if no other process is writing.
        if let Some(lock) = self.slots.try_lock(&profile.id)
            && let Err(e) = self.slots.recover(&lock, &profile.id)
        {
            tracing::warn!(profile = %profile.id, "cannot finish an interrupted write: {e}");
        }
        let path = self.slots.path(&profile.id, slot);
        let Some(sealed) = self
            .slots
            .read(&profile.id, slot)
            .map_err(|source| VaultError::Io {
                what: "cannot read the session file",
                path: path.clone(),
                source,
            })?
        else {
            return Ok(None);
        };
        let corrupt = |why: String| VaultError::Corrupt {
            profile: profile.id.clone(),
            why,
            dir: self.slots.dir.clone(),
        };
        let key = self
            .session_key(false)?
            .ok_or_else(|| corrupt("the key item is missing from the keychain".to_owned()))?;
        let json = sealed::open_sealed(&key, &profile.id, &sealed).map_err(corrupt)?;
        let text = std::str::from_utf8(&json).map_err(|_| corrupt("not UTF-8".to_owned()))?;
        let session = Session::from_export_json(text).map_err(|e| corrupt(e.to_string()))?;
        if session.profile != profile.id {
            return Err(corrupt(format!(
                "it holds a session of {:?}",
                session.profile
            )));
        }
        Ok(Some(session))
    }

    /// Store `session` as the current one; the one it replaces becomes the previous one.
    pub fn store_session(&self, session: &Session) -> Result<(), VaultError> {
        self.write_session(session, Staged::Rotate, |_, _| true)
            .map(drop)
    }

    /// Overwrite the current session in place (e.g. a moved tracked expiry), keeping the
    /// previous one as it is.
    pub fn update_session(&self, session: &Session) -> Result<(), VaultError> {
        self.write_session(session, Staged::Update, |_, _| true)
            .map(drop)
    }

    /// [`Vault::update_session`], but only if the current session is still `expected` (by
    /// fingerprint) once the profile's lock is held: a session stored meanwhile by another
    /// process or task is never overwritten with an older one. False when it changed.
    pub fn update_session_if(
        &self,
        session: &Session,
        expected: &Fingerprint,
    ) -> Result<bool, VaultError> {
        self.write_session(session, Staged::Update, |key, current| {
            current.is_some_and(|c| sealed::fingerprint(key, c) == *expected)
        })
    }

    /// Forgets profile `id` (it was removed from the config): its SSO username and password
    /// in the keychain and both of its session files. Account tokens stay (other profiles may
    /// push with them). Returns how many things were removed.
    pub fn forget_profile(&self, id: &str) -> Result<usize, VaultError> {
        let mut removed = 0;
        for name in [
            SecretName::Username(id.to_owned()),
            SecretName::Password(id.to_owned()),
        ] {
            if self.delete_secret(&name)? {
                removed += 1;
            }
        }
        let io = |source| VaultError::Io {
            what: "cannot remove the session files",
            path: self.slots.dir.clone(),
            source,
        };
        let lock = self.slots.lock(id).map_err(io)?;
        self.slots.recover(&lock, id).map_err(io)?;
        for slot in [Slot::Current, Slot::Previous] {
            match std::fs::remove_file(self.slots.path(id, slot)) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
        drop(lock);
        let _ = std::fs::remove_file(self.slots.dir.join(format!(".{id}.lock")));
        Ok(removed)
    }

    /// Swap the current and the previous session (undo the last import or capture).
    pub fn restore_previous(&self, profile_id: &str) -> Result<(), VaultError> {
        let io = |source| VaultError::Io {
            what: "cannot swap the session files",
            path: self.slots.dir.clone(),
            source,
        };
        let lock = self.slots.lock(profile_id).map_err(io)?;
        self.slots.recover(&lock, profile_id).map_err(io)?;
        if self.slots.swap(&lock, profile_id).map_err(io)? {
            Ok(())
        } else {
            Err(VaultError::NoPreviousSession {
                profile: profile_id.to_owned(),
            })
        }
    }

    /// The keyed fingerprint of `session` (which session a target holds; never the value).
    pub fn fingerprint(&self, session: &Session) -> Result<Fingerprint, VaultError> {
        let key = self.session_key(true)?.expect("created when missing");
        Ok(sealed::fingerprint(&key, session))
    }

    /// Writes `session` as `kind` under the profile's lock, if `go_on` agrees once it has
    /// seen the current session (read under the lock). Returns whether it wrote.
    fn write_session(
        &self,
        session: &Session,
        kind: Staged,
        go_on: impl FnOnce(&[u8; 32], Option<&Session>) -> bool,
    ) -> Result<bool, VaultError> {
        // Get (or create) the key first: if the keychain is unavailable, nothing is written.
        let key = self.session_key(true)?.expect("created when missing");
        let dir = self.slots.dir.clone();
        let io = |what| {
            let path = dir.clone();
            move |source| VaultError::Io { what, path, source }
        };
        let id = &session.profile;
        let lock = self
            .slots
            .lock(id)
            .map_err(io("cannot lock the session files"))?;
        self.slots
            .recover(&lock, id)
            .map_err(io("cannot finish an interrupted write"))?;
        let current = self
            .slots
            .read(id, Slot::Current)
            .map_err(io("cannot read the session file"))?
            .and_then(|sealed| sealed::open_sealed(&key, id, &sealed).ok())
            .and_then(|json| Session::from_export_json(std::str::from_utf8(&json).ok()?).ok());
        if !go_on(&key, current.as_ref()) {
            return Ok(false);
        }
        let sealed = sealed::seal(&key, id, session.to_json().expose().as_bytes());
        let staged = self
            .slots
            .stage(&lock, id, kind, &sealed)
            .map_err(io("cannot write the session file"))?;
        self.slots
            .commit(&lock, id, &staged, kind)
            .map_err(io("cannot write the session file"))?;
        Ok(true)
    }

    /// The 32-byte session-file key from the keychain, created when `create` and missing —
    /// but never while session files exist: a key that went missing must not silently make
    /// every stored session unreadable.
    fn session_key(&self, create: bool) -> Result<Option<sealed::Key>, VaultError> {
        let mut cached = self
            .key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(key) = cached.as_ref() {
            return Ok(Some(key.clone()));
        }
        if let Some(b64) = self.items()?.read(sealed::SESSION_KEY_ITEM)? {
            let b64 = zeroize::Zeroizing::new(b64);
            let key = sealed::decode_key(&b64).ok_or_else(|| VaultError::Corrupt {
                profile: "*".to_owned(),
                why: "the key item in the keychain is not a 32-byte base64 key".to_owned(),
                dir: self.slots.dir.clone(),
            })?;
            *cached = Some(key.clone());
            return Ok(Some(key));
        }
        if !create {
            return Ok(None);
        }
        if self.slots.any_session_files() {
            return Err(VaultError::KeyMissing {
                dir: self.slots.dir.clone(),
            });
        }
        let key = sealed::new_key();
        self.items()?
            .write(sealed::SESSION_KEY_ITEM, &sealed::encode_key(&key))?;
        *cached = Some(key.clone());
        Ok(Some(key))
    }
}

#[cfg(test)]
mod tests;
