//! The tray app's watch loop without the window: asks [`Scheduler`] which profiles are due,
//! checks them concurrently with their stored sessions, records every check in the history,
//! moves tracked expiries the server outlived, and returns the notices to show.
//!
//! It never reads the clock: [`Monitor::tick`] takes `now`, so a test can run ten minutes of
//! faults in a second (`tests/it/monitor.rs`), and the shell sleeps until
//! [`Monitor::next_wake`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use crate::check::{CheckOutcome, Checker, Reason, Status};
use crate::config::{Config, Profile};
use crate::error::VaultError;
use crate::history::{Event, History};
use crate::overview::ProfileView;
use crate::schedule::{Action, CheckReport, Notice, Scheduler};
use crate::session::Session;
use crate::vault::Vault;

/// Where the monitor reads sessions from and writes moved expiries to: the [`Vault`] in the
/// app; anything in tests.
pub trait SessionStore: Send + Sync {
    /// The current session of `profile`, or `None` when none is stored.
    fn current(&self, profile: &Profile) -> Result<Option<Session>, VaultError>;
    /// Moves the tracked expiry of the current session of `profile` to `to`.
    fn extend(&self, profile: &Profile, to: DateTime<Utc>) -> Result<(), VaultError>;
}

impl SessionStore for Vault {
    fn current(&self, profile: &Profile) -> Result<Option<Session>, VaultError> {
        match self.current_session(profile) {
            Ok(s) => Ok(Some(s)),
            Err(VaultError::NoSession { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn extend(&self, profile: &Profile, to: DateTime<Utc>) -> Result<(), VaultError> {
        let mut session = self.current_session(profile)?;
        session.expires_at = to;
        self.update_session(&session)
    }
}

/// The state of every profile and when to look again.
#[derive(Debug)]
pub struct Monitor {
    profiles: BTreeMap<String, Profile>,
    checker: Arc<Checker>,
    scheduler: Scheduler,
    views: BTreeMap<String, ProfileView>,
    history: Option<History>,
    /// Profiles with a refresh under way, and the tracked expiry of sessions whose refresh
    /// failed (not tried again until a new session arrives).
    refreshing: BTreeMap<String, RefreshState>,
    /// Per profile, the lifetime nine sessions in ten outlive, once the history tells.
    learned: BTreeMap<String, chrono::Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefreshState {
    InFlight,
    FailedFor(Option<DateTime<Utc>>),
}

impl Monitor {
    /// Watches every profile of `config`, all due at `now`; checks go to `history` when given.
    pub fn new(config: &Config, history: Option<History>, now: DateTime<Utc>) -> Self {
        let profiles = config.profiles.clone();
        let views = profiles
            .values()
            .map(|p| (p.id.clone(), ProfileView::unchecked(&p.id, &p.name)))
            .collect();
        let mut monitor = Self {
            scheduler: Scheduler::new(profiles.values(), now),
            profiles,
            checker: Arc::new(Checker::new()),
            views,
            history,
            refreshing: BTreeMap::new(),
            learned: BTreeMap::new(),
        };
        monitor.learn_lifetimes(now);
        monitor
    }

    /// Reads the history for what each profile's sessions really live (three ended ones at
    /// least, as `status` shows them).
    fn learn_lifetimes(&mut self, now: DateTime<Utc>) {
        if let Some(history) = &self.history {
            let events = history.events();
            self.learned = self
                .profiles
                .keys()
                .filter_map(|id| {
                    crate::lifetime::estimate(&events, id, now, crate::lifetime::MIN_ENDED_SESSIONS)
                        .map(|e| (id.clone(), e.suggested_tracked_ttl))
                })
                .collect();
        }
    }

    pub fn profile(&self, id: &str) -> Option<&Profile> {
        self.profiles.get(id)
    }

    /// One view per profile, in id order.
    pub fn views(&self) -> impl Iterator<Item = &ProfileView> {
        self.views.values()
    }

    pub fn view(&self, id: &str) -> Option<&ProfileView> {
        self.views.get(id)
    }

    /// When the next check (or snooze end) is due; nothing happens before.
    pub fn next_wake(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.scheduler.next_wake(now)
    }

    /// Check `profile` on the next tick ("Validate now").
    pub fn check_now(&mut self, profile: &str, now: DateTime<Utc>) {
        self.scheduler.check_now(profile, now);
    }

    /// A new session was stored for `profile`: start its episode over and check it now.
    pub fn session_replaced(&mut self, profile: &str, now: DateTime<Utc>) {
        self.scheduler.session_replaced(profile, now);
        // The session that ended taught something.
        self.learn_lifetimes(now);
    }

    /// The profiles that can log in without a human and whose tracked expiry is within
    /// `refresh_before` at `now` (or past it, while the server still accepts the session).
    /// Each is returned once: it is in flight until [`Monitor::refresh_finished`].
    pub fn refresh_due(&mut self, now: DateTime<Utc>) -> Vec<String> {
        let mut due = Vec::new();
        for (id, profile) in &self.profiles {
            let (Some(_), Some(before)) = (&profile.refresh, profile.refresh_before) else {
                continue;
            };
            let Some(view) = self.views.get(id) else {
                continue;
            };
            // Only a session known to be alive is refreshed ahead of time; an invalid one is
            // the human's (or the next refresh attempt after a new session).
            let alive = matches!(view.status, Some(Status::Valid | Status::Expiring));
            let near = view
                .tracked_expires_at
                .is_some_and(|t| t - now <= before.as_chrono());
            let blocked = match self.refreshing.get(id) {
                Some(RefreshState::InFlight) => true,
                Some(RefreshState::FailedFor(t)) => *t == view.tracked_expires_at,
                None => false,
            };
            if alive && near && !blocked {
                self.refreshing.insert(id.clone(), RefreshState::InFlight);
                due.push(id.clone());
            }
        }
        due
    }

    /// A refresh of `profile` ended: on success its new session is checked at once; on
    /// failure it is not tried again for the same session.
    pub fn refresh_finished(&mut self, profile: &str, ok: bool, now: DateTime<Utc>) {
        if ok {
            self.refreshing.remove(profile);
            self.session_replaced(profile, now);
        } else {
            let tracked = self.views.get(profile).and_then(|v| v.tracked_expires_at);
            self.refreshing
                .insert(profile.to_owned(), RefreshState::FailedFor(tracked));
        }
    }

    /// Hold back notices of `profile` until `until`.
    pub fn snooze(&mut self, profile: &str, until: DateTime<Utc>) {
        self.scheduler.snooze(profile, until);
    }

    /// The network is back, or the machine woke up: check everything now.
    pub fn network_up(&mut self, now: DateTime<Utc>) {
        self.scheduler.network_up(now);
    }

    /// Runs every check due at `now` (concurrently), and returns the notices to show.
    pub async fn tick(&mut self, now: DateTime<Utc>, store: &dyn SessionStore) -> Vec<Notice> {
        let mut actions = self.scheduler.wake_snoozed(now);
        let due = self.scheduler.due(now);
        let mut checks = JoinSet::new();
        for id in due {
            let Some(profile) = self.profiles.get(&id).cloned() else {
                continue;
            };
            match store.current(&profile) {
                Ok(session) => {
                    let checker = Arc::clone(&self.checker);
                    checks.spawn(async move {
                        let outcome = checker.check(&profile, session.as_ref()).await;
                        (outcome, session.map(|s| s.captured_at))
                    });
                }
                Err(e) => {
                    let outcome = keychain_failure(&profile, &e);
                    actions.extend(self.take(&outcome, None, now, store));
                }
            }
        }
        while let Some(joined) = checks.join_next().await {
            match joined {
                Ok((outcome, captured_at)) => {
                    actions.extend(self.take(&outcome, captured_at, now, store));
                }
                Err(e) => tracing::error!("a check task failed: {e}"),
            }
        }
        actions
            .into_iter()
            .filter_map(|a| match a {
                Action::Notify(n) => Some(n),
                Action::ExtendTrackedExpiry { .. } => None,
            })
            .collect()
    }

    /// Records one outcome and carries out what the scheduler says, but notifications.
    fn take(
        &mut self,
        outcome: &CheckOutcome,
        captured_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        store: &dyn SessionStore,
    ) -> Vec<Action> {
        tracing::info!(
            profile = %outcome.profile,
            status = outcome.status.as_str(),
            "checked: {}",
            outcome.detail
        );
        self.record(&Event::from_check(outcome));
        let report = CheckReport {
            status: outcome.status,
            tracked_expires_at: outcome.tracked_expires_at,
            learned_expires_at: captured_at
                .zip(self.learned.get(&outcome.profile))
                .map(|(c, d)| c + *d),
            captured_at,
        };
        let id = outcome.profile.clone();
        if let Some(view) = self.views.get_mut(&id) {
            view.record(outcome);
        }
        let actions = self.scheduler.on_check(&id, report, now);
        for action in &actions {
            if let Action::ExtendTrackedExpiry { profile, to, .. } = action {
                let Some(p) = self.profiles.get(profile) else {
                    continue;
                };
                match store.extend(p, *to) {
                    Ok(()) => {
                        self.record(&Event::Extended {
                            profile: profile.clone(),
                            at: now,
                            tracked_expires_at: *to,
                        });
                        tracing::info!(
                            %profile,
                            "the server still accepts the session: tracked expiry moved to {to}"
                        );
                        if let Some(view) = self.views.get_mut(profile) {
                            view.tracked_expires_at = Some(*to);
                            // Out of the warning window again: the tray says so.
                            if view.status == Some(Status::Expiring)
                                && *to - now > p.warn_before.as_chrono()
                            {
                                view.status = Some(Status::Valid);
                            }
                        }
                    }
                    Err(e) => tracing::warn!(%profile, "could not move the tracked expiry: {e}"),
                }
            }
        }
        actions
    }

    fn record(&self, event: &Event) {
        if let Some(history) = &self.history
            && let Err(e) = history.append(event)
        {
            tracing::warn!("could not write the history: {e}");
        }
    }
}

/// A check that could not start because the session could not be read: an `error`, never an
/// expiry.
fn keychain_failure(profile: &Profile, e: &VaultError) -> CheckOutcome {
    let started = Instant::now();
    CheckOutcome {
        profile: profile.id.clone(),
        status: Status::Error,
        reason: Reason::Keychain,
        detail: format!("could not read the session: {e}"),
        http_status: None,
        attempts: 0,
        checked_at: Utc::now(),
        tracked_expires_at: None,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// Whether `notice` is one that calls for a new login.
pub fn is_expiry(notice: &Notice) -> bool {
    matches!(notice, Notice::Expiring { .. } | Notice::Invalid { .. })
}
