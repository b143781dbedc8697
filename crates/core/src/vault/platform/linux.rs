//! Linux: the freedesktop Secret Service over D-Bus (gnome-keyring, KeePassXC, KWallet ≥ 5.97).

use std::path::Path;
use std::sync::Arc;

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
