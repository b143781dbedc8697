//! Linux: the freedesktop Secret Service over D-Bus (gnome-keyring, KeePassXC, KWallet ≥ 5.97).

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use keyring_core::CredentialStore;
use keyring_core::api::CredentialStoreApi as _;

use crate::error::VaultError;

pub(in crate::vault) fn store() -> Result<Arc<CredentialStore>, VaultError> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
        && std::env::var_os("XDG_RUNTIME_DIR").is_none_or(|d| !Path::new(&d).join("bus").exists())
    {
        return Err(VaultError::Unavailable {
            detail: "no D-Bus session bus".to_owned(),
        });
    }
    let store =
        zbus_secret_service_keyring_store::Store::new().map_err(|e| VaultError::Unavailable {
            detail: crate::vault::keychain::describe(&e),
        })?;
    // One round trip that cannot raise an unlock prompt (nothing matches), so that a missing
    // or mute Secret Service shows up here, inside `open`'s time bound.
    let nothing = std::collections::HashMap::from([("service", "sessionkeeper-probe")]);
    store
        .search(&nothing)
        .map_err(|e| VaultError::Unavailable {
            detail: crate::vault::keychain::describe(&e),
        })?;
    Ok(store)
}

/// Asks whether the default collection (where the items live) is locked, on a connection of
/// its own: a property read, which never raises a prompt, and never waits on the store's
/// connection (which a pending prompt may hold).
#[derive(Default)]
pub(in crate::vault) struct LockProbe {
    connection: Mutex<Option<secret_service::blocking::SecretService<'static>>>,
}

impl LockProbe {
    /// `Ok(true)` when locked. A Secret Service without a default collection is not locked:
    /// the store creates it when it first writes.
    pub(in crate::vault) fn locked(&self) -> Result<bool, VaultError> {
        use secret_service::{EncryptionType, Error};
        let unavailable = |e: Error| VaultError::Unavailable {
            detail: format!("cannot ask the Secret Service whether it is locked: {e}"),
        };
        let mut connection = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if connection.is_none() {
            *connection = Some(
                secret_service::blocking::SecretService::connect(EncryptionType::Plain)
                    .map_err(unavailable)?,
            );
        }
        let ss = connection.as_ref().expect("connected above");
        let answer = match ss.get_default_collection() {
            Ok(collection) => collection.is_locked(),
            Err(Error::NoResult) => Ok(false),
            Err(e) => Err(e),
        };
        answer.map_err(|e| {
            // A connection that failed once is made again next time.
            *connection = None;
            unavailable(e)
        })
    }

    /// Asks the human to unlock the default collection (the desktop's prompt), on a
    /// connection of its own; returns when the prompt is answered, which may be never.
    pub(in crate::vault) fn unlock(&self) -> Result<(), VaultError> {
        use secret_service::EncryptionType;
        let locked = |e: secret_service::Error| VaultError::Locked {
            detail: e.to_string(),
        };
        let ss = secret_service::blocking::SecretService::connect(EncryptionType::Plain).map_err(
            |e| VaultError::Unavailable {
                detail: e.to_string(),
            },
        )?;
        ss.get_default_collection()
            .and_then(|c| c.unlock())
            .map_err(locked)
    }
}
