//! The dashboard's changes to what the app is told: push targets (with their accounts), the
//! secrets in the keychain (tokens, SSO username and password: set, never shown back), the
//! login form's fields they are filled into, a profile's timings, the learned `tracked_ttl`, and removing a profile (its keychain items and
//! session files with it). Every config change goes through core's `config::edit` (the edited
//! file must load, or nothing is written) and is taken in at once, like a reload.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sessionkeeper_core::config::{Config, NewTarget, Prefill, Timings};
use sessionkeeper_core::error::VaultError;
use sessionkeeper_core::push::Credentials;
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::vault::SecretName;

use crate::dashboard::Reach;
use crate::keychain::with_vault;
use crate::{Controller, Host, Intent, Reply};

impl<H: Host> Controller<H> {
    /// Applies a config the app itself just wrote.
    fn wrote(&mut self, config: Config, now: DateTime<Utc>) {
        self.config_changed(Ok(Arc::new(config)), now);
    }

    /// Adds a push target (and its account); a token given with it goes into the keychain
    /// only once the config is written.
    pub(crate) fn add_target(
        &mut self,
        id: &str,
        target: &NewTarget,
        token: Option<Secret>,
        reply: Reply<Result<String, String>>,
        now: DateTime<Utc>,
    ) {
        let path = self.config.path.clone();
        let (config, account) = match Config::add_target(&path, id, target) {
            Ok(done) => done,
            Err(e) => {
                let _ = reply.send(Err(format!("Nothing was written: {e}")));
                return;
            }
        };
        tracing::info!(profile = %id, account = %account, "push target added");
        self.wrote(config, now);
        let Some(token) = token.filter(|t| !t.expose().trim().is_empty()) else {
            let _ = reply.send(Ok(format!(
                "Target added (account {account}). Set the account's token below \
                 (account:{account}) before pushing."
            )));
            return;
        };
        self.store_secret(
            SecretName::Account(account.clone()),
            token,
            reply,
            format!("Target added; the token of account {account} is in the keychain."),
        );
    }

    /// Check the token of a target not saved yet: one cheap authenticated call.
    pub(crate) fn check_target(
        &mut self,
        id: &str,
        target: &NewTarget,
        token: Option<Secret>,
        reply: Reply<Result<Vec<Reach>, String>>,
    ) {
        let (config, account) = match Config::with_target(&self.config.path, id, target) {
            Ok(done) => done,
            Err(e) => {
                let _ = reply.send(Err(e.to_string()));
                return;
            }
        };
        let Some(target) = config.profiles.get(id).and_then(|p| p.push.last().cloned()) else {
            let _ = reply.send(Err(format!("no profile {id:?}")));
            return;
        };
        let vault = self.keychain.get();
        let pusher = Arc::clone(&self.pusher);
        tokio::spawn(async move {
            let accounts = config.accounts.clone();
            let targets = vec![target];
            let credentials = match token.filter(|t| !t.expose().trim().is_empty()) {
                Some(token) => Ok(Credentials {
                    tokens: [(account, token)].into_iter().collect(),
                    ..Credentials::default()
                }),
                None => {
                    let (a, t) = (accounts.clone(), targets.clone());
                    with_vault(vault, move |v| Credentials::for_targets(&a, &t, v)).await
                }
            };
            let answer = match credentials {
                Ok(credentials) => Ok(pusher
                    .probe(&accounts, &targets, &credentials)
                    .await
                    .into_iter()
                    .map(|o| Reach {
                        ok: o.ok(),
                        detail: match &o.result {
                            Ok(done) => done.action.clone(),
                            Err(f) => format!("{} ({})", f.message, f.hint),
                        },
                        target: o.target,
                    })
                    .collect()),
                Err(e) => Err(e.to_string()),
            };
            let _ = reply.send(answer);
        });
    }

    /// Sets a secret in the keychain (`account:NAME`, `profile:ID:username`, …).
    pub(crate) fn set_secret(
        &mut self,
        name: &str,
        value: Secret,
        reply: Reply<Result<String, String>>,
    ) {
        let name = match SecretName::parse(name) {
            Ok(n) => n,
            Err(e) => {
                let _ = reply.send(Err(e.to_string()));
                return;
            }
        };
        if value.expose().trim().is_empty() {
            let _ = reply.send(Err(format!("{name}: an empty value is not stored")));
            return;
        }
        let done = format!("{name} is in the keychain.");
        self.store_secret(name, value, reply, done);
    }

    fn store_secret(
        &mut self,
        name: SecretName,
        value: Secret,
        reply: Reply<Result<String, String>>,
        done: String,
    ) {
        let vault = self.keychain.get();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let stored = with_vault(vault, move |v| v.set_secret(&name, &value)).await;
            let answer = match stored {
                Ok(()) => {
                    let _ = tx.send(crate::Message::Intent(Intent::SecretsChanged));
                    Ok(done)
                }
                Err(e) => Err(format!("Not stored: {e}")),
            };
            let _ = reply.send(answer);
        });
    }

    pub(crate) fn set_prefill(
        &mut self,
        id: &str,
        prefill: &Prefill,
        reply: Reply<Result<String, String>>,
        now: DateTime<Utc>,
    ) {
        match Config::set_prefill(&self.config.path, id, prefill) {
            Ok(config) => {
                self.wrote(config, now);
                let _ = reply.send(Ok("The login form's fields are saved.".to_owned()));
            }
            Err(e) => {
                let _ = reply.send(Err(format!("Nothing was written: {e}")));
            }
        }
    }

    pub(crate) fn set_timings(
        &mut self,
        id: &str,
        timings: &Timings,
        reply: Reply<Result<String, String>>,
        now: DateTime<Utc>,
    ) {
        match Config::set_timings(&self.config.path, id, timings) {
            Ok(config) => {
                self.wrote(config, now);
                let _ = reply.send(Ok("Timings saved; the checks are rescheduled.".to_owned()));
            }
            Err(e) => {
                let _ = reply.send(Err(format!("Nothing was written: {e}")));
            }
        }
    }

    /// Apply the learned lifetime as `tracked_ttl`.
    pub(crate) fn apply_learned(
        &mut self,
        id: &str,
        reply: Reply<Result<String, String>>,
        now: DateTime<Utc>,
    ) {
        self.refresh_events();
        let learned = sessionkeeper_core::lifetime::estimate(
            &self.events,
            id,
            now,
            sessionkeeper_core::lifetime::MIN_ENDED_SESSIONS,
        );
        let Some(ttl) = learned.map(|l| {
            sessionkeeper_core::duration::HumanDuration::whole_hours_or_minutes(
                l.suggested_tracked_ttl,
            )
        }) else {
            let _ = reply.send(Err(
                "no lifetime learned yet: three sessions must end first".to_owned(),
            ));
            return;
        };
        match Config::set_tracked_ttl(&self.config.path, id, ttl) {
            Ok(config) => {
                self.wrote(config, now);
                let _ = reply.send(Ok(format!("tracked_ttl = \"{ttl}\" saved.")));
            }
            Err(e) => {
                let _ = reply.send(Err(format!("Nothing was written: {e}")));
            }
        }
    }

    /// Removes a profile from the config, then its keychain items and session files.
    pub(crate) fn remove_profile(
        &mut self,
        id: &str,
        reply: Reply<Result<String, String>>,
        now: DateTime<Utc>,
    ) {
        let config = match Config::remove_profile(&self.config.path, id) {
            Ok(config) => config,
            Err(e) => {
                let _ = reply.send(Err(format!("Nothing was removed: {e}")));
                return;
            }
        };
        tracing::info!(profile = %id, "profile removed from the config");
        self.wrote(config, now);
        let vault = self.keychain.get();
        let id = id.to_owned();
        tokio::spawn(async move {
            let forgot = with_vault(vault, move |v| v.forget_profile(&id)).await;
            let _ = reply.send(match forgot {
                Ok(n) => Ok(format!(
                    "Removed from the config, with {n} keychain item(s) and session file(s)."
                )),
                Err::<_, VaultError>(e) => Err(format!(
                    "Removed from the config, but its keychain items and session files were \
                     not: {e}"
                )),
            });
        });
    }
}
