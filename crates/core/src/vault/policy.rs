//! Which token an account uses, and which secrets a config needs: the keychain item, or an
//! environment variable that overrides it in CI (`GH_TOKEN`, `GITHUB_TOKEN`, `VERCEL_TOKEN`)
//! — but only for the public API those variables are meant for. A github.com token never
//! reaches a GitHub Enterprise host: those take `GH_ENTERPRISE_TOKEN` or
//! `GITHUB_ENTERPRISE_TOKEN`, as `gh` does.

use super::Vault;
use super::names::SecretName;
use crate::config::{Account, AccountKind, Config};
use crate::error::VaultError;
use crate::secret::Secret;

/// One secret the config needs (an account's token, a profile's login), and where it is set
/// from: `keychain`, an environment variable's name, or nowhere. Never its value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SecretState {
    pub name: String,
    pub source: Option<String>,
}

/// The seeds' "configuration status": every secret `config` needs, and whether it is set.
pub fn secret_states(config: &Config, vault: &Vault) -> Result<Vec<SecretState>, VaultError> {
    let mut states = Vec::new();
    for account in config.accounts.values() {
        let name = SecretName::Account(account.name.clone());
        let source = match env_token(account) {
            Some((var, _)) => Some(var.to_owned()),
            None => vault.get_secret(&name)?.map(|_| "keychain".to_owned()),
        };
        states.push(SecretState {
            name: name.item(),
            source,
        });
    }
    for profile in config.profiles.values() {
        if profile.prefill.is_some() || profile.refresh.is_some() {
            for name in [
                SecretName::Username(profile.id.clone()),
                SecretName::Password(profile.id.clone()),
            ] {
                let source = vault.get_secret(&name)?.map(|_| "keychain".to_owned());
                states.push(SecretState {
                    name: name.item(),
                    source,
                });
            }
        }
    }
    Ok(states)
}

/// The environment variables that override `account`'s keychain token, in order.
pub fn token_env_vars(account: &Account) -> &'static [&'static str] {
    token_env_vars_for(account.kind, &account.api_url)
}

/// The environment variables whose token is meant for the `kind` API at `api_url`:
/// `GH_TOKEN`/`GITHUB_TOKEN` for github.com and for the host a GitHub Actions runner names in
/// `GITHUB_API_URL`; `GH_ENTERPRISE_TOKEN`/`GITHUB_ENTERPRISE_TOKEN` for any other GitHub;
/// `VERCEL_TOKEN` for api.vercel.com only.
pub fn token_env_vars_for(kind: AccountKind, api_url: &url::Url) -> &'static [&'static str] {
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    let public = same(api_url.as_str(), kind.default_api_url());
    let actions_host = std::env::var("GITHUB_API_URL")
        .ok()
        .is_some_and(|u| same(&u, api_url.as_str()));
    match kind {
        AccountKind::Github if public || actions_host => &["GH_TOKEN", "GITHUB_TOKEN"],
        AccountKind::Github => &["GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"],
        AccountKind::Vercel if public => &["VERCEL_TOKEN"],
        // A self-hosted or proxied Vercel API gets no token from the environment.
        AccountKind::Vercel => &[],
    }
}

/// The first non-empty override variable of `account`, with its name.
pub fn env_token(account: &Account) -> Option<(&'static str, Secret)> {
    env_token_for(account.kind, &account.api_url)
}

/// The first non-empty variable of [`token_env_vars_for`], with its name.
pub fn env_token_for(kind: AccountKind, api_url: &url::Url) -> Option<(&'static str, Secret)> {
    token_env_vars_for(kind, api_url).iter().find_map(|v| {
        std::env::var(v)
            .ok()
            .filter(|t| !t.is_empty())
            .map(|t| (*v, Secret::new(t)))
    })
}
