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
        self.profiles
            .retain(|id, _| config.profiles.contains_key(id));
        for id in config.profiles.keys() {
            self.profiles.entry(id.clone()).or_default();
        }
        // A target that is no longer configured is not pushed to any more.
        self.lanes.retain(|(id, name), _| {
            config
                .profiles
                .get(id)
                .is_some_and(|p| p.push.iter().any(|t| target_name(t) == *name))
        });
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
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::clone(&config);
        self.config = config;
        self.published = None;
        self.reread_sessions();
    }
}
