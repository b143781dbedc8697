//! Platforms without a supported keychain: every open fails with a clear error.

use std::sync::Arc;

use keyring_core::CredentialStore;

use crate::error::VaultError;

pub(in crate::vault) fn store() -> Result<Arc<CredentialStore>, VaultError> {
    Err(VaultError::Unavailable {
        detail: "no supported keychain on this platform".to_owned(),
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
