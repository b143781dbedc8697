//! What the human sees, drawn from the controller's state: the tray (redrawn only when it
//! changed), the dashboard (built and handed over only while it is open and when it changed),
//! the notifications on screen (each under its episode's key, withdrawn when the episode
//! ends), the clipboard, and the answers of the dashboard's commands.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sessionkeeper_core::overview::{self, NoticeText, TrayColour, next_span_change};
use sessionkeeper_core::push::Credentials;
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::status::{self, Stored};

use crate::dashboard::{Card, Configuration, DashboardState, Reach};
use crate::keychain::with_vault;
use crate::{Controller, Done, Host, NoticeKey, Reply, Topic, TrayLine, TrayModel};

/// How long a copied export stays on the clipboard (if nothing else was copied since).
const CLIPBOARD_TTL: chrono::Duration = chrono::Duration::seconds(60);

impl<H: Host> Controller<H> {
    /// Shows `text` under `key` (replacing what was there).
    pub(crate) fn notify(&mut self, key: NoticeKey, text: &NoticeText) {
        tracing::info!(profile = %key.profile, "notification: {}", text.summary);
        self.host.notify(&key, text);
        self.shown.insert(key);
    }

    /// Closes the notification under `key`, if one is on screen.
    pub(crate) fn withdraw(&mut self, key: &NoticeKey) {
        if self.shown.remove(key) {
            tracing::info!(profile = %key.profile, "notification withdrawn: {:?}", key.topic);
            self.host.withdraw(key);
        }
    }

    /// Draws what changed: the tray, and the dashboard while it is open.
    pub(crate) fn render(&mut self, now: DateTime<Utc>) {
        let ids: Vec<String> = self.config.profiles.keys().cloned().collect();
        for id in &ids {
            self.update_production(id, now);
        }
        let tray = self.tray_model(now);
        if self.tray.as_ref() != Some(&tray) {
            if self.tray.as_ref().map(|t| t.colour) != Some(tray.colour) {
                tracing::info!("tray: {}", tray.colour.as_str());
            }
            self.host.draw_tray(&tray);
            self.tray = Some(tray);
        }
        if self.dashboard_open {
            let state = self.dashboard_state(now);
            // `now` moves on every build; only a change of what the page shows is news.
            let changed = self.published.as_ref().is_none_or(|p| {
                p.profiles != state.profiles
                    || p.keychain_error != state.keychain_error
                    || p.config_error != state.config_error
                    || p.recording != state.recording
            });
            if changed {
                self.host.publish(&state);
                self.published = Some(state);
            }
        }
    }

    fn tray_model(&self, now: DateTime<Utc>) -> TrayModel {
        let views: Vec<_> = self.monitor.views().collect();
        let lines: Vec<TrayLine> = views
            .iter()
            .map(|v| TrayLine {
                profile: v.id.clone(),
                title: match self.team_words(&v.id, now) {
                    Some(words) => format!("{} — {words}", v.menu_label(now)),
                    None => v.menu_label(now),
                },
                can_push: self
                    .config
                    .profiles
                    .get(&v.id)
                    .is_some_and(|p| !p.push.is_empty()),
            })
            .collect();
        let keychain = self
            .keychain
            .locked_since
            .map(|_| overview::keychain_locked_line());
        let tooltip = std::iter::once("Session Keeper".to_owned())
            .chain(
                self.config_error
                    .as_ref()
                    .map(|_| overview::config_broken_line()),
            )
            .chain(keychain.clone())
            .chain(lines.iter().map(|l| l.title.clone()))
            .collect::<Vec<_>>()
            .join("\n");
        TrayModel {
            colour: TrayColour::of(views.iter().copied()),
            tooltip,
            lines,
            autostart: self.autostart,
            keychain,
            config_error: self.config_error.clone(),
        }
    }

    /// When a menu line's words next change by themselves (a countdown's minutes).
    pub(crate) fn next_label_change(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.monitor
            .views()
            .filter(|v| v.status.is_some())
            .filter_map(|v| v.tracked_expires_at)
            .filter_map(|t| next_span_change(t, now))
            .min()
    }

    /// The dashboard's state now.
    pub(crate) fn dashboard_state(&mut self, now: DateTime<Utc>) -> DashboardState {
        self.refresh_events();
        let profiles = self
            .config
            .profiles
            .values()
            .map(|profile| {
                let work = self.profiles.get(&profile.id);
                let stored = match work {
                    Some(w) if w.read => match &w.current {
                        Some(info) => Stored::Session(info),
                        None => Stored::None,
                    },
                    _ => Stored::Unknown,
                };
                let pushing = self.pushing(&profile.id);
                let view = self.monitor.view(&profile.id);
                let mut status = status::build(status::Inputs {
                    profile,
                    view,
                    stored,
                    keychain_problem: self.keychain.error.as_deref(),
                    events: &self.events,
                    book: &self.book,
                    pushing: &pushing,
                    now,
                });
                // The page counts down by itself, from `tracked_expires_at` and `now`. A count
                // in the card would make every build a change, sent to the page each time.
                status.seconds_left = None;
                Card {
                    status,
                    login_open: self.login_open(&profile.id),
                    production: view
                        .and_then(|v| v.production.as_ref())
                        .map(|p| p.words().to_owned()),
                    prefill: profile.prefill.clone(),
                    team: self.team_words(&profile.id, now),
                    claim: self.teammate_claim(&profile.id, now).cloned(),
                }
            })
            .collect();
        DashboardState {
            now,
            demo: self.demo,
            profiles,
            keychain_error: self.keychain.error.clone(),
            config_error: self.config_error.clone(),
            config_file: self.config.path.display().to_string(),
            recording: self.record.as_ref().map(crate::recorder::Record::view),
        }
    }

    /// The configuration check, answered from a task (it reads the keychain and the file).
    pub(crate) fn configuration(&mut self, reply: Reply<Configuration>) {
        let config = Arc::clone(&self.config);
        let vault = self.keychain.get();
        tokio::spawn(async move {
            let problems = config
                .profiles
                .values()
                .map(|p| (p.id.clone(), sessionkeeper_core::config::problems(p)))
                .collect();
            let cfg = Arc::clone(&config);
            let secrets = with_vault(vault, move |v| {
                sessionkeeper_core::vault::secret_states(&cfg, v)
            })
            .await;
            let (secrets, keychain_error) = match secrets {
                Ok(s) => (s, None),
                Err(e) => (Vec::new(), Some(e.to_string())),
            };
            let path = config.path.clone();
            let config_error = tokio::task::spawn_blocking(move || {
                sessionkeeper_core::config::Config::load(&path)
                    .err()
                    .map(|e| e.to_string())
            })
            .await
            .unwrap_or_default();
            let _ = reply.send(Configuration {
                file: config.path.display().to_string(),
                config_error,
                secrets,
                problems,
                keychain_error,
            });
        });
    }

    /// One cheap authenticated call per target of `id`, writing nothing.
    pub(crate) fn check_tokens(&mut self, id: &str, reply: Reply<Result<Vec<Reach>, String>>) {
        let Some(profile) = self.config.profiles.get(id).cloned() else {
            let _ = reply.send(Err(format!("no profile {id:?}")));
            return;
        };
        let config = Arc::clone(&self.config);
        let vault = self.keychain.get();
        let pusher = Arc::clone(&self.pusher);
        tokio::spawn(async move {
            let accounts = config.accounts.clone();
            let targets = profile.push.clone();
            let credentials = with_vault(vault, move |v| {
                Credentials::for_targets(&accounts, &targets, v)
            })
            .await;
            let answer = match credentials {
                Ok(credentials) => Ok(pusher
                    .probe(&config.accounts, &profile.push, &credentials)
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

    /// Copy export: the export goes on the clipboard for a minute.
    pub(crate) fn copy_export(&mut self, id: &str) {
        let Some(profile) = self.config.profiles.get(id).cloned() else {
            return;
        };
        let vault = self.keychain.get();
        let id = id.to_owned();
        self.spawn(async move {
            let export = with_vault(vault, move |v| {
                v.current_session(&profile).map(|s| s.export())
            })
            .await
            .map_err(|e| e.to_string());
            Done::Exported(id, export)
        });
    }

    pub(crate) fn exported(
        &mut self,
        id: &str,
        export: Result<Secret, String>,
        now: DateTime<Utc>,
    ) {
        let name = self
            .config
            .profiles
            .get(id)
            .map_or(id.to_owned(), |p| p.name.clone());
        let copied = export.and_then(|export| self.host.copy(&export));
        match copied {
            Ok(()) => {
                tracing::info!(profile = %id, "export copied to the clipboard for {} s", CLIPBOARD_TTL.num_seconds());
                self.clipboard_clear_at = Some(now + CLIPBOARD_TTL);
            }
            Err(why) => self.notify(
                NoticeKey::new(id, Topic::Problem),
                &overview::not_done(&name, id, "nothing copied", why),
            ),
        }
    }

    /// The fallback for providers that refuse embedded browsers: the login page in the system
    /// browser, and the dashboard's paste form for the session the human brings back.
    pub(crate) fn open_in_browser(&mut self, id: &str) {
        let Some(profile) = self.config.profiles.get(id).cloned() else {
            return;
        };
        let Some(url) = profile.login_url else {
            self.notify(
                NoticeKey::new(id, Topic::Problem),
                &overview::no_login_page(&profile.name, id),
            );
            return;
        };
        if let Err(why) = self.host.open_url(&url) {
            tracing::warn!(profile = %id, "cannot open the system browser: {why}");
            self.notify(
                NoticeKey::new(id, Topic::Problem),
                &overview::no_browser(&profile.name, id, url.as_str(), &why),
            );
        }
        self.host.open_dashboard(Some(id));
    }
}
