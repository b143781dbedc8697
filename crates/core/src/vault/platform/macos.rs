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

/// This platform's keychain prompts by itself when it must (and a locked item's read fails
/// at once): nothing to ask beforehand.
#[derive(Default)]
pub(in crate::vault) struct LockProbe;

impl LockProbe {
    #[allow(clippy::unused_self, clippy::unnecessary_wraps)]
    pub(in crate::vault) fn locked(&self) -> Result<bool, VaultError> {
        Ok(false)
    }

    #[allow(clippy::unused_self, clippy::unnecessary_wraps)]
    pub(in crate::vault) fn unlock(&self) -> Result<(), VaultError> {
        Ok(())
    }
}
