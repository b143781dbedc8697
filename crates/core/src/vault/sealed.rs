//! The session file format and its key: `SKS1 ‖ 24-byte nonce ‖ XChaCha20-Poly1305`, sealed
//! under a random 256-bit key that lives only in the keychain (item `session-key`), with the
//! profile id as associated data (a file copied onto another profile's name does not open).
//! The same key, through a derived subkey, makes the keyed fingerprints that tell which
//! session a target holds without keeping the session.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use blake2::Blake2bMac;
use blake2::digest::Mac as _;
use blake2::digest::consts::U16;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::session::Session;

/// Magic and version at the start of every session file.
pub(super) const FILE_MAGIC: &[u8; 4] = b"SKS1";
/// The keychain item holding the session-file key.
pub(super) const SESSION_KEY_ITEM: &str = "session-key";

/// A 32-byte key from the keychain, zeroed on drop.
pub(super) type Key = Zeroizing<[u8; 32]>;

pub(super) fn new_key() -> Key {
    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    let mut bytes = Zeroizing::new([0u8; 32]);
    bytes.copy_from_slice(&key);
    bytes
}

pub(super) fn encode_key(key: &Key) -> Zeroizing<String> {
    Zeroizing::new(STANDARD.encode(key.as_slice()))
}

/// The key stored as base64 in the keychain item; `None` when it is not 32 bytes.
pub(super) fn decode_key(b64: &str) -> Option<Key> {
    let bytes = Zeroizing::new(STANDARD.decode(b64.as_bytes()).ok()?);
    let key: [u8; 32] = bytes.as_slice().try_into().ok()?;
    Some(Zeroizing::new(key))
}

pub(super) fn seal(key: &[u8; 32], profile_id: &str, plaintext: &[u8]) -> Vec<u8> {
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

pub(super) fn open_sealed(
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

/// Which session something holds, as a keyed hash of the session's credentials (its cookies
/// and token, not its tracked expiry): equal for the same session, meaningless without the
/// keychain's key, and never the value. Shown as 32 hex digits.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The fingerprint of `session` under `key` (the session key; a subkey is derived so that
/// the fingerprints say nothing about the file key).
pub(super) fn fingerprint(key: &[u8; 32], session: &Session) -> Fingerprint {
    let mut mac = <Blake2bMac<U16>>::new_with_salt_and_personal(key, b"", b"sk-fingerprint")
        .expect("a 32-byte key fits BLAKE2b");
    let mut cookies: Vec<_> = session
        .cookies
        .iter()
        .map(|c| (&c.name, &c.domain, &c.path, c.value.expose()))
        .collect();
    cookies.sort();
    for (name, domain, path, value) in cookies {
        for part in [name.as_str(), domain.as_str(), path.as_str(), value] {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part.as_bytes());
        }
    }
    if let Some(token) = &session.token {
        mac.update(b"token");
        mac.update(token.expose().as_bytes());
    }
    let bytes = mac.finalize().into_bytes();
    Fingerprint(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The fingerprint every member of a team computes alike for the same session (the team's
/// renewal record names the session by it, never by its value): the same construction under
/// a fixed, public key. A session is high-entropy, so the fingerprint says nothing of it.
pub fn team_fingerprint(session: &Session) -> Fingerprint {
    fingerprint(b"sessionkeeper team fingerprints!", session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_moved_to_another_profile_does_not_open() {
        let key = [7u8; 32];
        let sealed = seal(&key, "mtn", b"{}");
        assert!(open_sealed(&key, "mtn", &sealed).is_ok());
        assert!(open_sealed(&key, "breeze", &sealed).is_err());
        assert!(open_sealed(&[8u8; 32], "mtn", &sealed).is_err());
    }
}
