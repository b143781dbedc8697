//! Platforms without a supported keychain: every open fails with a clear error.

use std::sync::Arc;

use keyring_core::CredentialStore;

use crate::error::VaultError;

pub(in crate::vault) fn store() -> Result<Arc<CredentialStore>, VaultError> {
    Err(VaultError::Unavailable {
        detail: "no supported keychain on this platform".to_owned(),
    })
}
