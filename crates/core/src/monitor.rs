//! What the app knows of every profile's session and when to look again: asks [`Scheduler`]
//! which profiles are due ([`Monitor::due`]), takes in the checks ([`Monitor::record`]: the
//! history, the profile's view, the scheduler's notices, a tracked expiry the server outlived),
//! and names the profiles due for a refresh without a human. The checks themselves run
//! elsewhere (the app's controller spawns them); [`Monitor::tick`] does all of it in one call,
//! for tests and simple callers.
//!
//! It never reads the clock: everything takes `now`, so a test can run ten minutes of faults
//! in a second (`tests/it/monitor.rs`), and the app sleeps until [`Monitor::next_wake`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

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

/// The least time between two refreshes of one profile, whatever its timings: a provider
/// that hands out short sessions is never asked for a new one more often than this.
pub const MIN_REFRESH_INTERVAL: chrono::Duration = chrono::Duration::minutes(5);

/// What a finished check calls for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Words for the human.
    pub notices: Vec<Notice>,
    /// The server still accepts the session past its tracked expiry: move the tracked expiry
    /// here (then call [`Monitor::extended`]).
    pub extend_to: Option<DateTime<Utc>>,
}

/// The state of every profile and when to look again.
#[derive(Debug)]
pub struct Monitor {
    profiles: BTreeMap<String, Profile>,
    scheduler: Scheduler,
    views: BTreeMap<String, ProfileView>,
    history: Option<History>,
    /// Profiles with a refresh under way, and the tracked expiry of sessions whose refresh
    /// failed (not tried again until a new session arrives).
    refreshing: BTreeMap<String, RefreshState>,
    /// When each profile's last refresh started (see [`MIN_REFRESH_INTERVAL`]).
    last_refresh: BTreeMap<String, DateTime<Utc>>,
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
        let events = history.as_ref().map(History::events).unwrap_or_default();
        let mut monitor = Self {
            scheduler: Scheduler::new(profiles.values(), now),
            profiles,
            views,
            history,
            refreshing: BTreeMap::new(),
            last_refresh: BTreeMap::new(),
            learned: BTreeMap::new(),
        };
        monitor.relearn(&events, now);
        monitor
    }

    /// Takes from `events` what each profile's sessions really live (three ended ones at
    /// least, as `status` shows them).
    pub fn relearn(&mut self, events: &[Event], now: DateTime<Utc>) {
        self.learned = self
            .profiles
            .keys()
            .filter_map(|id| {
                crate::lifetime::estimate(events, id, now, crate::lifetime::MIN_ENDED_SESSIONS)
                    .map(|e| (id.clone(), e.suggested_tracked_ttl))
            })
            .collect();
    }

    pub fn profile(&self, id: &str) -> Option<&Profile> {
        self.profiles.get(id)
    }

    /// The config changed (live reload): new profiles are watched and due at once, removed
    /// ones are forgotten, and changed ones keep their state with their new settings (see
    /// [`Scheduler::reconfigure`]).
    pub fn reconfigure(&mut self, config: &Config, now: DateTime<Utc>) {
        self.profiles = config.profiles.clone();
        self.scheduler.reconfigure(self.profiles.values(), now);
        let profiles = &self.profiles;
        self.views.retain(|id, _| profiles.contains_key(id));
        for p in profiles.values() {
            self.views
                .entry(p.id.clone())
                .and_modify(|v| v.name.clone_from(&p.name))
                .or_insert_with(|| ProfileView::unchecked(&p.id, &p.name));
        }
        self.refreshing.retain(|id, _| profiles.contains_key(id));
        self.last_refresh.retain(|id, _| profiles.contains_key(id));
        self.learned.retain(|id, _| profiles.contains_key(id));
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

    /// A check of `profile` started: it is not due again until [`Monitor::record`].
    pub fn checking(&mut self, profile: &str, now: DateTime<Utc>) {
        self.scheduler.checking(profile, now);
    }

    /// Check `profile` on the next tick ("Validate now").
    pub fn check_now(&mut self, profile: &str, now: DateTime<Utc>) {
        self.scheduler.check_now(profile, now);
    }

    /// A new session was stored for `profile`: start its episode over and check it now.
    pub fn session_replaced(&mut self, profile: &str, now: DateTime<Utc>) {
        self.scheduler.session_replaced(profile, now);
        self.refreshing.remove(profile);
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
            let too_soon = self
                .last_refresh
                .get(id)
                .is_some_and(|last| now - *last < MIN_REFRESH_INTERVAL);
            if alive && near && !blocked && !too_soon {
                self.refreshing.insert(id.clone(), RefreshState::InFlight);
                self.last_refresh.insert(id.clone(), now);
                due.push(id.clone());
            }
        }
        due
    }

    /// A refresh of `profile` ended: on success its new session is checked at once; on
    /// failure it is not tried again for the same session.
    pub fn refresh_finished(&mut self, profile: &str, ok: bool, now: DateTime<Utc>) {
        if ok {
            self.session_replaced(profile, now);
        } else {
            let tracked = self.views.get(profile).and_then(|v| v.tracked_expires_at);
            self.refreshing
                .insert(profile.to_owned(), RefreshState::FailedFor(tracked));
        }
    }

    /// A refresh of `profile` could not start its work (the keychain is locked): it did not
    /// happen, and is due again as soon as it can be.
    pub fn refresh_postponed(&mut self, profile: &str) {
        self.refreshing.remove(profile);
        self.last_refresh.remove(profile);
    }

    /// Production's state of `profile` (shown in its menu line; it colours the tray).
    pub fn set_production(
        &mut self,
        profile: &str,
        production: Option<crate::overview::Production>,
    ) {
        if let Some(view) = self.views.get_mut(profile) {
            view.production = production;
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

    /// The profiles whose check is due at `now`, and the notices a snooze that ended held
    /// back.
    pub fn due(&mut self, now: DateTime<Utc>) -> (Vec<Profile>, Vec<Notice>) {
        let woken = notices(self.scheduler.wake_snoozed(now));
        let due = self
            .scheduler
            .due(now)
            .into_iter()
            .filter_map(|id| self.profiles.get(&id).cloned())
            .collect();
        (due, woken)
    }

    /// Takes in one finished check (of a session captured at `captured_at`): the history, the
    /// profile's view, and what the scheduler says to do.
    pub fn record(
        &mut self,
        outcome: &CheckOutcome,
        captured_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Recorded {
        if !self.profiles.contains_key(&outcome.profile) {
            // Removed from the config while its check ran.
            return Recorded {
                notices: Vec::new(),
                extend_to: None,
            };
        }
        tracing::info!(
            profile = %outcome.profile,
            status = outcome.status.as_str(),
            "checked: {}",
            outcome.detail
        );
        self.record_event(&Event::from_check(outcome));
        let report = CheckReport {
            status: outcome.status,
            tracked_expires_at: outcome.tracked_expires_at,
            learned_expires_at: captured_at
                .zip(self.learned.get(&outcome.profile))
                .map(|(c, d)| c + *d),
            captured_at,
        };
        if let Some(view) = self.views.get_mut(&outcome.profile) {
            view.record(outcome);
        }
        let actions = self.scheduler.on_check(&outcome.profile, report, now);
        let extend_to = actions.iter().find_map(|a| match a {
            Action::ExtendTrackedExpiry { to, .. } => Some(*to),
            Action::Notify(_) => None,
        });
        Recorded {
            notices: notices(actions),
            extend_to,
        }
    }

    /// The tracked expiry of `profile` was moved to `to` (the server outlived it).
    pub fn extended(&mut self, profile: &str, to: DateTime<Utc>, now: DateTime<Utc>) {
        self.record_event(&Event::Extended {
            profile: profile.to_owned(),
            at: now,
            tracked_expires_at: to,
        });
        tracing::info!(
            %profile,
            "the server still accepts the session: tracked expiry moved to {to}"
        );
        let Some(p) = self.profiles.get(profile) else {
            return;
        };
        if let Some(view) = self.views.get_mut(profile) {
            view.tracked_expires_at = Some(to);
            // Out of the warning window again: the tray says so.
            if view.status == Some(Status::Expiring) && to - now > p.warn_before.as_chrono() {
                view.status = Some(Status::Valid);
            }
        }
    }

    /// Runs every check due at `now` (concurrently, with `checker`), and returns the notices
    /// to show: [`Monitor::due`], the checks, and [`Monitor::record`] in one call.
    pub async fn tick(
        &mut self,
        now: DateTime<Utc>,
        store: &dyn SessionStore,
        checker: &Checker,
    ) -> Vec<Notice> {
        let (due, mut shown) = self.due(now);
        let mut checks = Vec::new();
        for profile in due {
            match store.current(&profile) {
                Ok(session) => checks.push(async move {
                    let outcome = checker.check(&profile, session.as_ref(), now).await;
                    (outcome, session.map(|s| s.captured_at))
                }),
                Err(e) => {
                    let outcome = keychain_failure(&profile, &e, now);
                    shown.extend(self.record(&outcome, None, now).notices);
                }
            }
        }
        for (outcome, captured_at) in futures_util::future::join_all(checks).await {
            let recorded = self.record(&outcome, captured_at, now);
            shown.extend(recorded.notices);
            if let (Some(to), Some(p)) = (recorded.extend_to, self.profiles.get(&outcome.profile)) {
                match store.extend(p, to) {
                    Ok(()) => self.extended(&outcome.profile, to, now),
                    Err(e) => {
                        tracing::warn!(profile = %outcome.profile, "could not move the tracked expiry: {e}");
                    }
                }
            }
        }
        shown
    }

    fn record_event(&self, event: &Event) {
        if let Some(history) = &self.history
            && let Err(e) = history.append(event)
        {
            tracing::warn!("could not write the history: {e}");
        }
    }
}

/// A check that could not start because the session could not be read: an `error`, never an
/// expiry.
pub fn keychain_failure(profile: &Profile, e: &VaultError, now: DateTime<Utc>) -> CheckOutcome {
    CheckOutcome {
        profile: profile.id.clone(),
        status: Status::Error,
        reason: Reason::Keychain,
        detail: format!("could not read the session: {e}"),
        http_status: None,
        attempts: 0,
        checked_at: now,
        tracked_expires_at: None,
        elapsed_ms: 0,
    }
}

/// The notices among `actions`.
fn notices(actions: Vec<Action>) -> Vec<Notice> {
    actions
        .into_iter()
        .filter_map(|a| match a {
            Action::Notify(n) => Some(n),
            Action::ExtendTrackedExpiry { .. } => None,
        })
        .collect()
}

/// Whether `notice` is one that calls for a new login.
pub fn is_expiry(notice: &Notice) -> bool {
    matches!(notice, Notice::Expiring { .. } | Notice::Invalid { .. })
}
