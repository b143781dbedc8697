//! macOS: the login Keychain.

use std::sync::Arc;

use keyring_core::CredentialStore;

use crate::error::VaultError;

pub(in crate::vault) fn store() -> Result<Arc<CredentialStore>, VaultError> {
    apple_native_keyring_store::keychain::Store::new()
        .map(|s| s as Arc<CredentialStore>)
        .map_err(|e| VaultError::Unavailable {
            detail: crate::vault::keychain::describe(&e),
        })
}
