//! The vault's tests over keyring-core's mock store: sealing, rotation, restore, names, and
//! keychain failures that write nothing.

use std::path::Path;
use std::sync::Arc;

use keyring_core::CredentialStore;

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
    Session::captured(p, vec![cookie], None, chrono::Utc::now())
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
    let entry = v.items.entry(sealed::SESSION_KEY_ITEM).expect("entry");
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

/// Finding: a missing `session-key` with session files present silently created a new key,
/// and every stored session became unreadable. Now it is an error, and nothing is written.
#[test]
fn finding_a_missing_session_key_beside_stored_sessions_is_an_error_not_a_new_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<CredentialStore> = keyring_core::mock::Store::new().expect("mock store");
    let p = profile();
    let v = Vault::with_store(Arc::clone(&store), dir.path().join("sessions"));
    v.store_session(&session(&p, "KEPT")).expect("stored");
    let file = v.slots.path(&p.id, Slot::Current);
    let before = std::fs::read(&file).expect("the session file");
    // The key item goes missing (a keychain reset, another machine's keychain).
    assert!(v.items.delete(sealed::SESSION_KEY_ITEM).expect("deleted"));
    // A new process: nothing cached.
    let again = Vault::with_store(store, dir.path().join("sessions"));
    let err = again
        .store_session(&session(&p, "NEW"))
        .expect_err("no new key");
    assert!(matches!(err, VaultError::KeyMissing { .. }), "{err}");
    assert!(
        again
            .items
            .read(sealed::SESSION_KEY_ITEM)
            .expect("read")
            .is_none(),
        "no key was made"
    );
    assert_eq!(
        std::fs::read(&file).expect("still there"),
        before,
        "the session is as it was"
    );
    let read = again
        .load_session(&p, Slot::Current)
        .expect_err("unreadable, and said so");
    assert!(read.to_string().contains("key"), "{read}");
}
