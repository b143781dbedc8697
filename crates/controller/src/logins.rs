//! The login windows, as the controller sees them: it asks the host to open one (with the
//! pre-fill script read from the keychain), hears what the window shows (its URL and the
//! cookies of the profile's `cookie_urls`, or a token from a redirect), decides with core's
//! `capture` when the login is complete, and has the session validated and stored like any
//! other (one change at a time per profile). The window's title says what is happening.

use std::hash::{Hash as _, Hasher as _};

use chrono::{DateTime, Utc};
use sessionkeeper_core::capture::{self, AcceptError};
use sessionkeeper_core::config::Capture;
use sessionkeeper_core::overview;
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::session::{Cookie, Session};
use sessionkeeper_core::vault::SecretName;
use url::Url;

use crate::keychain::with_vault;
use crate::sessions::{Op, Source};
use crate::{Controller, Done, Host, LoginWindow, NoticeKey, Topic};

/// How long to wait before validating again when the server could not tell.
const RETRY_UNSURE: chrono::Duration = chrono::Duration::seconds(5);

/// One login window's state.
#[derive(Debug, Default)]
pub(crate) struct Login {
    /// The pre-fill is being read and the window built.
    opening: bool,
    /// A session from this window is being validated and stored.
    validating: bool,
    /// What the window showed last.
    seen: Option<(Url, Vec<Cookie>)>,
    /// The jar being validated, and the last one the server refused (by a hash of their
    /// values; no copy is kept), so that a refused jar is not sent again and again.
    attempted: Option<u64>,
    refused: Option<u64>,
    /// A token whose validation could not tell: seen once, in the redirect, so it is tried
    /// again (losing it would lose the login) until it is stored, refused, or the window closes.
    unsure_token: Option<Secret>,
    retry_at: Option<DateTime<Utc>>,
}

/// The pre-fill of a login window, read from the keychain.
#[derive(Debug)]
pub(crate) struct Ready {
    profile: String,
    prefill: Option<Secret>,
}

/// The login window's title: the app's own words for what is expected and what is happening.
fn title(name: &str, what: &str) -> String {
    format!("Log in — {name}: {what}")
}

impl<H: Host> Controller<H> {
    /// Re-authenticate: open the login window (or focus the open one).
    pub(crate) fn reauthenticate(&mut self, id: &str) {
        let Some(profile) = self.config.profiles.get(id).cloned() else {
            tracing::warn!("no profile {id:?} to log in to");
            return;
        };
        if let Some(login) = self.logins.get(id) {
            if login.opening {
                tracing::info!(profile = %id, "login window already opening");
            } else {
                tracing::info!(profile = %id, "login window focused");
                self.host.focus_login(id);
            }
            return;
        }
        if profile.capture == Capture::Manual {
            self.host.open_dashboard(Some(id));
            return;
        }
        let Some(url) = profile.login_url.clone() else {
            self.notify(
                NoticeKey::new(id, Topic::Problem),
                &overview::no_login_page(&profile.name, id),
            );
            return;
        };
        // The team's claim first: the window opens once it is ours (or the team cannot be
        // asked), not while a teammate is logging in.
        if self.team_gate(id, false) {
            return;
        }
        self.logins.insert(
            id.to_owned(),
            Login {
                opening: true,
                ..Login::default()
            },
        );
        let vault = self.keychain.get();
        let id = id.to_owned();
        self.spawn(async move {
            let prefill = match profile.prefill.clone() {
                Some(prefill) => {
                    let p = profile.clone();
                    with_vault(vault, move |v| {
                        let get = |name| v.get_secret(&name).ok().flatten();
                        let username = get(SecretName::Username(p.id.clone()));
                        let password = get(SecretName::Password(p.id.clone()));
                        Ok::<_, sessionkeeper_core::error::VaultError>(capture::prefill_script(
                            &url,
                            &prefill,
                            username.as_ref(),
                            password.as_ref(),
                        ))
                    })
                    .await
                    .unwrap_or_default()
                }
                None => None,
            };
            Done::LoginReady(Ready {
                profile: id,
                prefill,
            })
        });
    }

    pub(crate) fn login_ready(&mut self, ready: Ready) {
        let Some(profile) = self.config.profiles.get(&ready.profile).cloned() else {
            // Removed from the config while its window was being prepared.
            self.logins.remove(&ready.profile);
            return;
        };
        let Some(login) = self.logins.get_mut(&ready.profile) else {
            return;
        };
        let Some(url) = profile.login_url.clone() else {
            return;
        };
        login.opening = false;
        self.host.open_login(LoginWindow {
            title: title(
                &profile.name,
                "sign in; Session Keeper captures the session when you are in",
            ),
            profile,
            url,
            prefill: ready.prefill,
            recording: false,
        });
    }

    /// What the login window shows now.
    pub(crate) fn login_seen(
        &mut self,
        id: &str,
        url: Url,
        cookies: Vec<Cookie>,
        now: DateTime<Utc>,
    ) {
        let Some(login) = self.logins.get_mut(id) else {
            return;
        };
        login.seen = Some((url, cookies));
        self.try_capture(id, now);
    }

    /// A token from a redirect in the login window (the navigation was stopped).
    pub(crate) fn login_token(&mut self, id: &str, token: Secret, now: DateTime<Utc>) {
        let Some(profile) = self.config.profiles.get(id) else {
            return;
        };
        let Some(login) = self.logins.get_mut(id) else {
            return;
        };
        let session = Session::captured(profile, Vec::new(), Some(token.clone()), now);
        login.unsure_token = Some(token);
        login.validating = true;
        self.host.login_banner(
            id,
            &title(&profile.name, "signed in; validating the session…"),
        );
        self.queue(
            id,
            Op::Accept {
                session,
                source: Source::Login,
                reply: None,
            },
        );
    }

    /// Takes the session from what the window showed last, once the login is complete.
    fn try_capture(&mut self, id: &str, now: DateTime<Utc>) {
        let Some(profile) = self.config.profiles.get(id) else {
            return;
        };
        let Some(login) = self.logins.get_mut(id) else {
            return;
        };
        if login.validating || profile.capture != Capture::Cookies {
            return;
        }
        let Some((url, cookies)) = &login.seen else {
            return;
        };
        let names: Vec<&str> = cookies.iter().map(|c| c.name.as_str()).collect();
        if !capture::is_done(profile, url, &names) {
            return;
        }
        let jar = jar_hash(cookies);
        if login.refused == Some(jar) {
            return;
        }
        login.attempted = Some(jar);
        login.validating = true;
        let session = Session::captured(profile, cookies.clone(), None, now);
        tracing::info!(profile = %id, cookies = session.cookies.len(), "login complete: validating");
        self.host.login_banner(
            id,
            &title(&profile.name, "signed in; validating the session…"),
        );
        self.queue(
            id,
            Op::Accept {
                session,
                source: Source::Login,
                reply: None,
            },
        );
    }

    /// The window's session is stored: it closes.
    pub(crate) fn login_stored(&mut self, id: &str) {
        if self.logins.remove(id).is_some() {
            self.host.close_login(id);
        }
    }

    /// The window's session was not stored: say why in its title, and try again when waiting
    /// can help.
    pub(crate) fn login_not_stored(&mut self, id: &str, e: &AcceptError, now: DateTime<Utc>) {
        let name = self
            .config
            .profiles
            .get(id)
            .map_or(id.to_owned(), |p| p.name.clone());
        let Some(login) = self.logins.get_mut(id) else {
            return;
        };
        login.validating = false;
        match e {
            AcceptError::Refused { detail } => {
                tracing::warn!(profile = %id, "captured session refused: {detail}");
                login.refused = login.attempted.take();
                login.unsure_token = None;
                let text = title(
                    &name,
                    &format!("the server refused this session ({detail}); sign in again"),
                );
                self.host.login_banner(id, &text);
            }
            e => {
                tracing::warn!(profile = %id, "captured session not stored: {e}");
                login.retry_at = Some(now + RETRY_UNSURE);
                self.host
                    .login_banner(id, &title(&name, &format!("{e}; retrying")));
                if let AcceptError::Keychain(_) = e {
                    self.notify(
                        NoticeKey::new(id, Topic::Problem),
                        &overview::not_done(
                            &name,
                            id,
                            "the session could not be stored",
                            e.to_string(),
                        ),
                    );
                }
            }
        }
    }

    /// Tries again what could not be told, while its window is open.
    pub(crate) fn retry_logins(&mut self, now: DateTime<Utc>) {
        let due: Vec<String> = self
            .logins
            .iter()
            .filter(|(_, l)| l.retry_at.is_some_and(|t| t <= now) && !l.validating)
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            let Some(login) = self.logins.get_mut(&id) else {
                continue;
            };
            login.retry_at = None;
            match login.unsure_token.take() {
                Some(token) => self.login_token(&id, token, now),
                None => self.try_capture(&id, now),
            }
        }
    }

    pub(crate) fn next_login_retry(&self) -> Option<DateTime<Utc>> {
        self.logins.values().filter_map(|l| l.retry_at).min()
    }

    /// The human (or a page, or a driver) closed the window.
    pub(crate) fn login_closed(&mut self, id: &str) {
        if self.logins.remove(id).is_some() {
            tracing::info!(profile = %id, "login window closed: nothing captured");
        }
    }

    /// Whether a login window of `profile` is open (or opening).
    pub(crate) fn login_open(&self, id: &str) -> bool {
        self.logins.contains_key(id)
    }
}

/// Tells one jar from another without keeping a copy of the values.
fn jar_hash(cookies: &[Cookie]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for c in cookies {
        c.name.hash(&mut hasher);
        c.value.expose().hash(&mut hasher);
    }
    hasher.finish()
}
