//! The GitHub fake's world: each scope's key pair, the secrets it holds (and every value they
//! were given), issues and labels.

use std::collections::HashMap;

use serde::Serialize;

/// A repository issue as the fake keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub labels: Vec<String>,
    pub state: String,
    pub state_reason: Option<String>,
    pub comments: Vec<String>,
}

/// A repository's Actions variable (not secret: its value is read back).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Variable {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

/// The fake's GitHub world.
#[derive(Debug, Default)]
pub(crate) struct GithubState {
    /// Scope ("repo:o/r", "env:o/r:name", "org:o") → (key id, secret key).
    pub(crate) keys: HashMap<String, (String, crypto_box::SecretKey)>,
    /// (scope, NAME) → decrypted value.
    pub(crate) secrets: HashMap<(String, String), Vec<u8>>,
    /// Every value each secret was given, oldest first (to see the order of writes).
    pub(crate) writes: HashMap<(String, String), Vec<Vec<u8>>>,
    pub(crate) issues: HashMap<String, Vec<Issue>>,
    /// Repository ("o/r") → NAME → Actions variable.
    pub(crate) variables: HashMap<String, std::collections::BTreeMap<String, Variable>>,
    pub(crate) labels: HashMap<String, Vec<String>>,
}

impl GithubState {
    pub(crate) fn issue_mut(&mut self, repo: &str, number: u64) -> Option<&mut Issue> {
        self.issues
            .get_mut(repo)
            .and_then(|v| v.iter_mut().find(|i| i.number == number))
    }

    pub(crate) fn key(&mut self, scope: &str) -> &(String, crypto_box::SecretKey) {
        self.keys.entry(scope.to_owned()).or_insert_with(|| {
            let key_id = format!("{}", rand::random::<u64>() % 10u64.pow(18));
            (
                key_id,
                crypto_box::SecretKey::generate(&mut crypto_box::aead::OsRng),
            )
        })
    }
}
