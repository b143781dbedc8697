//! The names of what the vault keeps: user-settable secrets (`account:NAME`,
//! `profile:ID:username`, …) and the two session slots of a profile.

use crate::error::VaultError;

/// The name of a user-settable secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretName {
    /// An API token: `account:<name>`.
    Account(String),
    /// `profile:<id>:username`.
    Username(String),
    /// `profile:<id>:password`.
    Password(String),
    /// A Vercel Deploy Hook URL (a bearer secret): `deploy-hook:<account>/<project>`.
    DeployHook { account: String, project: String },
}

impl SecretName {
    pub fn parse(s: &str) -> Result<Self, VaultError> {
        let bad = || VaultError::BadName(s.to_owned());
        let valid_id = |id: &str| {
            !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        };
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            ["account", name] if valid_id(name) => Ok(Self::Account((*name).to_owned())),
            ["profile", id, "username"] if valid_id(id) => Ok(Self::Username((*id).to_owned())),
            ["profile", id, "password"] if valid_id(id) => Ok(Self::Password((*id).to_owned())),
            ["deploy-hook", target] => match target.split_once('/') {
                Some((account, project))
                    if valid_id(account)
                        && !project.is_empty()
                        && project
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
                {
                    Ok(Self::DeployHook {
                        account: account.to_owned(),
                        project: project.to_owned(),
                    })
                }
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }

    /// The keychain item name (the "user" of the item).
    pub fn item(&self) -> String {
        match self {
            Self::Account(n) => format!("account:{n}"),
            Self::Username(id) => format!("profile:{id}:username"),
            Self::Password(id) => format!("profile:{id}:password"),
            Self::DeployHook { account, project } => format!("deploy-hook:{account}/{project}"),
        }
    }
}

impl std::fmt::Display for SecretName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.item())
    }
}

/// Which stored session of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Current,
    Previous,
}

impl Slot {
    pub(super) fn file_suffix(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Previous => "previous",
        }
    }
}
