//! The only code that touches secrets at rest: API tokens, SSO credentials and sessions.
//!
//! Small secrets (tokens, usernames, passwords) are keychain items of service `sessionkeeper`:
//! `account:<name>`, `profile:<id>:username`, `profile:<id>:password`.
//!
//! Sessions can be larger than a keychain item may be (Windows caps an item at 2560 bytes; a
//! cookie jar is often 5–50 KB), so every session is stored the same way on every platform:
//! an **encrypted file** per slot (`sessions/<id>.current`, `sessions/<id>.previous` in the data
//! dir), sealed with XChaCha20-Poly1305 under a random 256-bit key that lives only in the
//! keychain (item `session-key`). The profile id is the AEAD's associated data, so a file
//! copied onto another profile's name does not open. Files are written atomically, mode 0600.
//!
//! The keychain store is opened by [`Vault::open`], and nothing is cached when that fails: a
//! tray app started before the keyring daemon simply calls `open` again later.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, XChaCha20Poly1305, XNonce};
use keyring_core::{CredentialStore, Entry};
use zeroize::Zeroizing;

use crate::config::{Account, AccountKind, Profile};
use crate::error::VaultError;
use crate::secret::Secret;
use crate::session::Session;

/// The keychain service name of every item.
pub const SERVICE: &str = "sessionkeeper";
/// Overrides [`SERVICE`], to run an isolated instance (a second team, or a test) beside the
/// real one in the same keychain.
pub const SERVICE_ENV: &str = "SESSIONKEEPER_KEYCHAIN_SERVICE";
/// The keychain item holding the session-file key.
const SESSION_KEY_ITEM: &str = "session-key";
/// The keychain item listing which items exist (names only).
const INDEX_ITEM: &str = "index";
/// How long [`Vault::open`] waits for the keychain to answer.
const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Magic and version at the start of every session file.
const FILE_MAGIC: &[u8; 4] = b"SKS1";

/// The name of a user-settable secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretName {
    /// An API token: `account:<name>`.
    Account(String),
    /// `profile:<id>:username`.
    Username(String),
    /// `profile:<id>:password`.
    Password(String),
    /// A Vercel Deploy Hook URL (a bearer secret): `deploy-hook:<account>/<project>`.
    DeployHook { account: String, project: String },
}

impl SecretName {
    pub fn parse(s: &str) -> Result<Self, VaultError> {
        let bad = || VaultError::BadName(s.to_owned());
        let valid_id = |id: &str| {
            !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        };
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            ["account", name] if valid_id(name) => Ok(Self::Account((*name).to_owned())),
            ["profile", id, "username"] if valid_id(id) => Ok(Self::Username((*id).to_owned())),
            ["profile", id, "password"] if valid_id(id) => Ok(Self::Password((*id).to_owned())),
            ["deploy-hook", target] => match target.split_once('/') {
                Some((account, project))
                    if valid_id(account)
                        && !project.is_empty()
                        && project
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
                {
                    Ok(Self::DeployHook {
                        account: account.to_owned(),
                        project: project.to_owned(),
                    })
                }
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }

    /// The keychain item name (the "user" of the item).
    pub fn item(&self) -> String {
        match self {
            Self::Account(n) => format!("account:{n}"),
            Self::Username(id) => format!("profile:{id}:username"),
            Self::Password(id) => format!("profile:{id}:password"),
            Self::DeployHook { account, project } => format!("deploy-hook:{account}/{project}"),
        }
    }
}

impl std::fmt::Display for SecretName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.item())
    }
}

/// Which stored session of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Current,
    Previous,
}

impl Slot {
    fn file_suffix(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Previous => "previous",
        }
    }
}

/// The keychain plus the encrypted session files.
pub struct Vault {
    store: Arc<CredentialStore>,
    service: String,
    sessions_dir: PathBuf,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("store", &self.store.vendor())
            .field("service", &self.service)
            .field("sessions_dir", &self.sessions_dir)
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
        let service = std::env::var(SERVICE_ENV)
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| SERVICE.to_owned());
        Self::open_isolated(timeout, &service, dir.join("sessions"))
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
        service.clone_into(&mut vault.service);
        Ok(vault)
    }

    /// A vault over any keyring-core store (tests use `keyring_core::mock::Store`).
    pub fn with_store(store: Arc<CredentialStore>, sessions_dir: PathBuf) -> Self {
        Self {
            store,
            service: SERVICE.to_owned(),
            sessions_dir,
        }
    }

    /// Checks that the keychain answers and is unlocked, by reading the index item.
    pub fn probe(&self) -> Result<(), VaultError> {
        self.read_item(INDEX_ITEM).map(drop)
    }

    /// The keychain service name the items are stored under.
    pub fn service(&self) -> &str {
        &self.service
    }

    pub fn sessions_dir(&self) -> &Path {
        &self.sessions_dir
    }

    // ---- small secrets ------------------------------------------------------------------

    pub fn get_secret(&self, name: &SecretName) -> Result<Option<Secret>, VaultError> {
        self.read_item(&name.item()).map(|v| v.map(Secret::new))
    }

    pub fn set_secret(&self, name: &SecretName, value: &Secret) -> Result<(), VaultError> {
        let item = name.item();
        self.write_item(&item, value.expose())?;
        self.update_index(|index| {
            index.insert(item.clone());
        })
    }

    pub fn delete_secret(&self, name: &SecretName) -> Result<bool, VaultError> {
        let item = name.item();
        let existed = match self.entry(&item)?.delete_credential() {
            Ok(()) => true,
            Err(keyring_core::Error::NoEntry) => false,
            Err(e) => return Err(map_error(&item, e)),
        };
        self.update_index(|index| {
            index.remove(&item);
        })?;
        Ok(existed)
    }

    /// The API token of `account`: `GH_TOKEN`/`GITHUB_TOKEN` or `VERCEL_TOKEN` when set (CI),
    /// else the keychain item `account:<name>`.
    pub fn account_token(&self, account: &Account) -> Result<Secret, VaultError> {
        if let Some((_, token)) = env_token(account.kind) {
            return Ok(token);
        }
        let name = SecretName::Account(account.name.clone());
        self.get_secret(&name)?
            .ok_or(VaultError::Missing { item: name.item() })
    }

    /// The names of the items set through this vault (never their values).
    pub fn index(&self) -> Result<BTreeSet<String>, VaultError> {
        Ok(self
            .read_item(INDEX_ITEM)?
            .map(|text| serde_json::from_str(&text).unwrap_or_default())
            .unwrap_or_default())
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
        let path = self.session_path(&profile.id, slot);
        let sealed = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(VaultError::Io {
                    what: "cannot read the session file",
                    path,
                    source,
                });
            }
        };
        let key = self
            .session_key(false)?
            .ok_or_else(|| VaultError::Corrupt {
                profile: profile.id.clone(),
                why: "the key item is missing from the keychain".to_owned(),
                dir: self.sessions_dir.clone(),
            })?;
        let json = open_sealed(&key, &profile.id, &sealed).map_err(|why| VaultError::Corrupt {
            profile: profile.id.clone(),
            why,
            dir: self.sessions_dir.clone(),
        })?;
        let text =
            Secret::new(
                String::from_utf8(json.to_vec()).map_err(|_| VaultError::Corrupt {
                    profile: profile.id.clone(),
                    why: "not UTF-8".to_owned(),
                    dir: self.sessions_dir.clone(),
                })?,
            );
        Session::import(text.expose(), profile)
            .map(Some)
            .map_err(|e| VaultError::Corrupt {
                profile: profile.id.clone(),
                why: e.to_string(),
                dir: self.sessions_dir.clone(),
            })
    }

    /// Store `session` as the current one; the one it replaces becomes the previous one.
    pub fn store_session(&self, session: &Session) -> Result<(), VaultError> {
        self.write_session(session, true)
    }

    /// Overwrite the current session in place (e.g. a moved tracked expiry), keeping the
    /// previous one as it is.
    pub fn update_session(&self, session: &Session) -> Result<(), VaultError> {
        self.write_session(session, false)
    }

    /// Swap the current and the previous session (undo the last import or capture).
    pub fn restore_previous(&self, profile_id: &str) -> Result<(), VaultError> {
        let current = self.session_path(profile_id, Slot::Current);
        let previous = self.session_path(profile_id, Slot::Previous);
        if !previous.exists() {
            return Err(VaultError::NoPreviousSession {
                profile: profile_id.to_owned(),
            });
        }
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| VaultError::Io {
                what: "cannot swap the session files",
                path,
                source,
            }
        };
        let swap = self.sessions_dir.join(format!(".{profile_id}.swap"));
        if current.exists() {
            std::fs::rename(&current, &swap).map_err(io(&current))?;
        }
        std::fs::rename(&previous, &current).map_err(io(&previous))?;
        if swap.exists() {
            std::fs::rename(&swap, &previous).map_err(io(&swap))?;
        }
        Ok(())
    }

    fn write_session(&self, session: &Session, rotate: bool) -> Result<(), VaultError> {
        // Get (or create) the key first: if the keychain is unavailable, nothing is written.
        let key = self.session_key(true)?.expect("created when missing");
        let sealed = seal(
            &key,
            &session.profile,
            session.to_json().expose().as_bytes(),
        );
        let current = self.session_path(&session.profile, Slot::Current);
        let previous = self.session_path(&session.profile, Slot::Previous);
        let io = |what, path: &Path| {
            let path = path.to_owned();
            move |source| VaultError::Io { what, path, source }
        };
        crate::paths::create_private_dir(&self.sessions_dir).map_err(io(
            "cannot create the sessions directory",
            &self.sessions_dir,
        ))?;
        // The new file is complete on disk before the old one moves, so a crash at any point
        // leaves either the old or the new session as current, never neither.
        let staged = self.sessions_dir.join(format!(".{}.new", session.profile));
        crate::paths::write_private(&staged, &sealed)
            .map_err(io("cannot write the session file", &staged))?;
        if rotate && current.exists() {
            std::fs::rename(&current, &previous)
                .map_err(io("cannot keep the previous session", &current))?;
        }
        std::fs::rename(&staged, &current).map_err(io("cannot write the session file", &current))
    }

    fn session_path(&self, profile_id: &str, slot: Slot) -> PathBuf {
        self.sessions_dir
            .join(format!("{profile_id}.{}", slot.file_suffix()))
    }

    /// The 32-byte session-file key from the keychain, created when `create` and missing.
    fn session_key(&self, create: bool) -> Result<Option<Zeroizing<[u8; 32]>>, VaultError> {
        if let Some(b64) = self.read_item(SESSION_KEY_ITEM)? {
            let bytes = Zeroizing::new(STANDARD.decode(b64.as_bytes()).unwrap_or_default());
            let key: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| VaultError::Corrupt {
                    profile: "*".to_owned(),
                    why: "the key item in the keychain is not a 32-byte base64 key".to_owned(),
                    dir: self.sessions_dir.clone(),
                })?;
            return Ok(Some(Zeroizing::new(key)));
        }
        if !create {
            return Ok(None);
        }
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&key);
        self.write_item(SESSION_KEY_ITEM, &STANDARD.encode(bytes.as_slice()))?;
        Ok(Some(bytes))
    }

    // ---- keychain plumbing ---------------------------------------------------------------

    fn entry(&self, item: &str) -> Result<Entry, VaultError> {
        self.store
            .build(&self.service, item, None)
            .map_err(|e| map_error(item, e))
    }

    fn read_item(&self, item: &str) -> Result<Option<String>, VaultError> {
        match self.entry(item)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(item, e)),
        }
    }

    fn write_item(&self, item: &str, value: &str) -> Result<(), VaultError> {
        self.entry(item)?
            .set_password(value)
            .map_err(|e| map_error(item, e))
    }

    fn update_index(&self, change: impl FnOnce(&mut BTreeSet<String>)) -> Result<(), VaultError> {
        let mut index = self.index()?;
        change(&mut index);
        let text = serde_json::to_string(&index).expect("a set of strings serialises");
        self.write_item(INDEX_ITEM, &text)
    }
}

/// One secret the config needs (an account's token, a profile's login), and where it is set
/// from: `keychain`, an environment variable's name, or nowhere. Never its value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecretState {
    pub name: String,
    pub source: Option<String>,
}

/// The seeds' "configuration status": every secret `config` needs, and whether it is set.
pub fn secret_states(
    config: &crate::Config,
    vault: &Vault,
) -> Result<Vec<SecretState>, VaultError> {
    let mut states = Vec::new();
    for account in config.accounts.values() {
        let name = SecretName::Account(account.name.clone());
        let source = match env_token(account.kind) {
            Some((var, _)) => Some(var.to_owned()),
            None => vault.get_secret(&name)?.map(|_| "keychain".to_owned()),
        };
        states.push(SecretState {
            name: name.item(),
            source,
        });
    }
    for profile in config.profiles.values() {
        if profile.prefill.is_some() || profile.refresh.is_some() {
            for name in [
                SecretName::Username(profile.id.clone()),
                SecretName::Password(profile.id.clone()),
            ] {
                let source = vault.get_secret(&name)?.map(|_| "keychain".to_owned());
                states.push(SecretState {
                    name: name.item(),
                    source,
                });
            }
        }
    }
    Ok(states)
}

/// The environment variables that override an account's keychain token, in order.
pub fn token_env_vars(kind: AccountKind) -> &'static [&'static str] {
    match kind {
        AccountKind::Github => &["GH_TOKEN", "GITHUB_TOKEN"],
        AccountKind::Vercel => &["VERCEL_TOKEN"],
    }
}

/// The first non-empty override variable of `kind`, with its name.
pub fn env_token(kind: AccountKind) -> Option<(&'static str, Secret)> {
    token_env_vars(kind).iter().find_map(|v| {
        std::env::var(v)
            .ok()
            .filter(|t| !t.is_empty())
            .map(|t| (*v, Secret::new(t)))
    })
}

/// keyring errors in the user's words. Platform error texts carry no secret values.
fn map_error(item: &str, e: keyring_core::Error) -> VaultError {
    match e {
        keyring_core::Error::NoStorageAccess(inner) => VaultError::Locked {
            detail: inner.to_string(),
        },
        keyring_core::Error::PlatformFailure(inner) => {
            let detail = inner.to_string();
            let lower = detail.to_ascii_lowercase();
            if lower.contains("locked") || lower.contains("dismissed") || lower.contains("prompt") {
                VaultError::Locked { detail }
            } else {
                VaultError::Unavailable { detail }
            }
        }
        keyring_core::Error::NoDefaultStore => VaultError::Unavailable {
            detail: "no keychain store".to_owned(),
        },
        keyring_core::Error::NoEntry => VaultError::Missing {
            item: item.to_owned(),
        },
        keyring_core::Error::TooLong(attr, limit) => VaultError::Rejected {
            item: item.to_owned(),
            detail: format!("{attr} is longer than the platform's limit of {limit}"),
        },
        other => VaultError::Rejected {
            item: item.to_owned(),
            detail: describe(&other),
        },
    }
}

/// A description of a keyring error that never includes the bytes some variants carry.
fn describe(e: &keyring_core::Error) -> String {
    match e {
        keyring_core::Error::BadEncoding(_) => "the stored value is not UTF-8".to_owned(),
        keyring_core::Error::BadDataFormat(_, inner) => {
            format!("the stored value is malformed: {inner}")
        }
        keyring_core::Error::Ambiguous(items) => {
            format!("{} items match; remove the duplicates", items.len())
        }
        other => other.to_string(),
    }
}

fn seal(key: &[u8; 32], profile_id: &str, plaintext: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad: profile_id.as_bytes(),
            },
        )
        .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
    let mut out = Vec::with_capacity(FILE_MAGIC.len() + nonce.len() + ciphertext.len());
    out.extend_from_slice(FILE_MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

fn open_sealed(
    key: &[u8; 32],
    profile_id: &str,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, String> {
    let body = sealed
        .strip_prefix(FILE_MAGIC)
        .ok_or("not a Session Keeper session file")?;
    if body.len() < 24 {
        return Err("the file is truncated".to_owned());
    }
    let (nonce, ciphertext) = body.split_at(24);
    XChaCha20Poly1305::new(key.into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: profile_id.as_bytes(),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| "authentication failed".to_owned())
}

#[cfg(target_os = "linux")]
mod platform {
    //! Linux: the freedesktop Secret Service over D-Bus (gnome-keyring, KeePassXC, KWallet ≥ 5.97).
    use keyring_core::api::CredentialStoreApi as _;

    use super::*;

    pub(super) fn store() -> Result<Arc<CredentialStore>, VaultError> {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
            && std::env::var_os("XDG_RUNTIME_DIR")
                .is_none_or(|d| !Path::new(&d).join("bus").exists())
        {
            return Err(VaultError::Unavailable {
                detail: "no D-Bus session bus".to_owned(),
            });
        }
        let store = zbus_secret_service_keyring_store::Store::new().map_err(|e| {
            VaultError::Unavailable {
                detail: describe(&e),
            }
        })?;
        // One round trip that cannot raise an unlock prompt (nothing matches), so that a
        // missing or mute Secret Service shows up here, inside `open`'s time bound.
        let nothing = std::collections::HashMap::from([("service", "sessionkeeper-probe")]);
        store
            .search(&nothing)
            .map_err(|e| VaultError::Unavailable {
                detail: describe(&e),
            })?;
        Ok(store)
    }
}

#[cfg(target_os = "macos")]
mod platform {
    //! macOS: the login Keychain.
    use super::*;

    pub(super) fn store() -> Result<Arc<CredentialStore>, VaultError> {
        apple_native_keyring_store::keychain::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(|e| VaultError::Unavailable {
                detail: describe(&e),
            })
    }
}

#[cfg(target_os = "windows")]
mod platform {
    //! Windows: Credential Manager.
    use super::*;

    pub(super) fn store() -> Result<Arc<CredentialStore>, VaultError> {
        windows_native_keyring_store::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(|e| VaultError::Unavailable {
                detail: describe(&e),
            })
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
mod platform {
    use super::*;

    pub(super) fn store() -> Result<Arc<CredentialStore>, VaultError> {
        Err(VaultError::Unavailable {
            detail: "no supported keychain on this platform".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn vault(dir: &Path) -> Vault {
        let store: Arc<CredentialStore> = keyring_core::mock::Store::new().expect("mock store");
        Vault::with_store(store, dir.join("sessions"))
    }

    fn profile() -> Profile {
        let c = Config::parse(
            "[profiles.mtn]\ncapture = \"manual\"\ncookie_urls = [\"https://h.example/\"]\n",
            Path::new("t.toml"),
        )
        .expect("valid");
        c.profiles["mtn"].clone()
    }

    fn session(p: &Profile, value: &str) -> Session {
        let cookie = crate::session::Cookie {
            name: "JSESSIONID".into(),
            value: Secret::new(value),
            domain: "h.example".into(),
            path: "/".into(),
            expires: -1.0,
            http_only: true,
            secure: true,
            same_site: crate::session::SameSite::Lax,
        };
        Session::captured(p, vec![cookie], None)
    }

    #[test]
    fn sessions_are_sealed_rotated_and_restorable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let v = vault(dir.path());
        let p = profile();
        assert!(
            v.load_session(&p, Slot::Current)
                .expect("empty vault")
                .is_none()
        );
        let first = session(&p, "FIRST-SECRET-VALUE");
        let second = session(&p, "SECOND-SECRET-VALUE");
        v.store_session(&first).expect("store");
        v.store_session(&second).expect("store");
        assert_eq!(
            v.load_session(&p, Slot::Current).expect("load"),
            Some(second.clone())
        );
        assert_eq!(
            v.load_session(&p, Slot::Previous).expect("load"),
            Some(first.clone())
        );
        for f in std::fs::read_dir(v.sessions_dir()).expect("dir") {
            let bytes = std::fs::read(f.expect("entry").path()).expect("read");
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("SECRET-VALUE") && !text.contains("JSESSIONID"),
                "plaintext on disk"
            );
        }
        v.restore_previous("mtn").expect("restore");
        assert_eq!(
            v.load_session(&p, Slot::Current).expect("load"),
            Some(first)
        );
        assert_eq!(
            v.load_session(&p, Slot::Previous).expect("load"),
            Some(second)
        );
    }

    #[test]
    fn a_file_moved_to_another_profile_does_not_open() {
        let key = [7u8; 32];
        let sealed = seal(&key, "mtn", b"{}");
        assert!(open_sealed(&key, "mtn", &sealed).is_ok());
        assert!(open_sealed(&key, "breeze", &sealed).is_err());
        assert!(open_sealed(&[8u8; 32], "mtn", &sealed).is_err());
    }

    #[test]
    fn secrets_and_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let v = vault(dir.path());
        let name = SecretName::parse("account:github").expect("name");
        v.set_secret(&name, &Secret::new("ghp_x")).expect("set");
        assert_eq!(
            v.get_secret(&name)
                .expect("get")
                .as_ref()
                .map(Secret::expose),
            Some("ghp_x")
        );
        assert!(v.index().expect("index").contains("account:github"));
        assert!(v.delete_secret(&name).expect("delete"));
        assert!(v.get_secret(&name).expect("get").is_none());
        assert!(SecretName::parse("account:").is_err());
        assert!(SecretName::parse("session-key").is_err());
        assert!(SecretName::parse("profile:mtn:cookie").is_err());
    }

    #[test]
    fn keyring_failures_map_to_actionable_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = keyring_core::mock::Store::new().expect("mock store");
        let v = Vault::with_store(store.clone(), dir.path().join("sessions"));
        let entry = v.entry(SESSION_KEY_ITEM).expect("entry");
        let mock: &keyring_core::mock::Cred = entry.as_any().downcast_ref().expect("mock cred");
        mock.set_error(keyring_core::Error::NoStorageAccess(
            "locked collection".into(),
        ));
        let p = profile();
        let err = v.store_session(&session(&p, "X")).expect_err("locked");
        assert!(matches!(err, VaultError::Locked { .. }), "{err}");
        assert!(err.to_string().contains("Unlock"), "{err}");
        assert!(
            !v.sessions_dir().exists(),
            "nothing may be written when the keychain fails"
        );
    }
}
