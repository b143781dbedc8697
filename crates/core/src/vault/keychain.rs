//! The keychain items themselves: one keyring-core store, one service name, and the mapping of
//! keyring errors to what a user can do about them. Nothing else in the crate talks to the
//! keychain.

use std::collections::BTreeSet;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};

use crate::error::VaultError;

/// The keychain item listing which items exist (names only).
const INDEX_ITEM: &str = "index";

/// The keychain items of one service.
pub(super) struct Items {
    pub(super) store: Arc<CredentialStore>,
    pub(super) service: String,
}

impl Items {
    pub(super) fn entry(&self, item: &str) -> Result<Entry, VaultError> {
        self.store
            .build(&self.service, item, None)
            .map_err(|e| map_error(item, e))
    }

    pub(super) fn read(&self, item: &str) -> Result<Option<String>, VaultError> {
        match self.entry(item)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(item, e)),
        }
    }

    pub(super) fn write(&self, item: &str, value: &str) -> Result<(), VaultError> {
        self.entry(item)?
            .set_password(value)
            .map_err(|e| map_error(item, e))
    }

    /// Deletes `item`; false when it did not exist.
    pub(super) fn delete(&self, item: &str) -> Result<bool, VaultError> {
        match self.entry(item)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(item, e)),
        }
    }

    /// Checks that the keychain answers and is unlocked, by reading the index item.
    pub(super) fn probe(&self) -> Result<(), VaultError> {
        self.read(INDEX_ITEM).map(drop)
    }

    /// The names of the items set through this vault (never their values).
    pub(super) fn index(&self) -> Result<BTreeSet<String>, VaultError> {
        Ok(self
            .read(INDEX_ITEM)?
            .map(|text| serde_json::from_str(&text).unwrap_or_default())
            .unwrap_or_default())
    }

    pub(super) fn update_index(
        &self,
        change: impl FnOnce(&mut BTreeSet<String>),
    ) -> Result<(), VaultError> {
        let mut index = self.index()?;
        change(&mut index);
        let text = serde_json::to_string(&index).expect("a set of strings serialises");
        self.write(INDEX_ITEM, &text)
    }
}

/// keyring errors in the user's words. Platform error texts carry no secret values.
pub(super) fn map_error(item: &str, e: keyring_core::Error) -> VaultError {
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
pub(super) fn describe(e: &keyring_core::Error) -> String {
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
