//! The config changed under the running app (live reload): a config that loads replaces the
//! old one at once (new profiles checked now, removed ones forgotten, changed timings
//! rescheduled); one that does not load leaves the last good config running and is shown on
//! the dashboard, in the tray's tooltip and in one notification, until it is fixed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sessionkeeper_core::config::Config;
use sessionkeeper_core::overview;
use sessionkeeper_core::push::target_name;

use crate::Controller;
use crate::host::{Host, NoticeKey, Topic};

impl<H: Host> Controller<H> {
    pub(crate) fn config_changed(
        &mut self,
        config: Result<Arc<Config>, String>,
        now: DateTime<Utc>,
    ) {
        let config = match config {
            Ok(config) => config,
            Err(why) => {
                if self.config_error.as_deref() != Some(why.as_str()) {
                    tracing::warn!("the config no longer loads; the last good one goes on: {why}");
                    self.notify(
                        NoticeKey::new("", Topic::Config),
                        &overview::config_broken(&why),
                    );
                    self.config_error = Some(why);
                }
                return;
            }
        };
        // (A controller that took over after a panic was handed the error again, and shows
        // it under the same key: it withdraws it here too.)
        if self.config_error.take().is_some() {
            self.withdraw(&NoticeKey::new("", Topic::Config));
        }
        let before: Vec<&String> = self.config.profiles.keys().collect();
        let after: Vec<&String> = config.profiles.keys().collect();
        tracing::info!(
            "config reloaded: {} profile(s) (was {})",
            after.len(),
            before.len()
        );
        self.monitor.reconfigure(&config, now);
        self.refresh_events();
        self.monitor.relearn(&self.events, now);
        // A profile's work is kept even when the profile goes: a check or an operation of it
        // may still be running, and if the profile comes back its answers must meet the same
        // generation and flags, not a fresh record they would corrupt.
        for id in config.profiles.keys() {
            self.profiles.entry(id.clone()).or_default();
        }
        // A target that is no longer configured is not pushed to any more; one with a push
        // in flight keeps its lane until the push answers (marked superseded), so that a
        // target that comes back is never pushed twice at once.
        self.lanes.retain(|(id, name), lane| {
            let configured = config
                .profiles
                .get(id)
                .is_some_and(|p| p.push.iter().any(|t| target_name(t) == *name));
            configured || lane.unconfigured()
        });
        // The login window of a removed profile closes.
        let removed_logins: Vec<String> = self
            .logins
            .keys()
            .filter(|id| !config.profiles.contains_key(*id))
            .cloned()
            .collect();
        for id in removed_logins {
            self.logins.remove(&id);
            self.host.close_login(&id);
        }
        for gone in self
            .shown
            .iter()
            .filter(|k| !k.profile.is_empty() && !config.profiles.contains_key(&k.profile))
            .cloned()
            .collect::<Vec<_>>()
        {
            self.withdraw(&gone);
        }
        *self
            .reloaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (Arc::clone(&config), None);
        self.config = config;
        self.published = None;
        self.reread_sessions();
    }
}
