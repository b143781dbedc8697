//! The controller's checks: of each session (when core's schedule says so), of production
//! (its `health_url`, every `poll_every`), and the refreshes without a human that a check's
//! result calls for. Each runs in a task; its answer comes back as a message.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sessionkeeper_core::check::{CheckOutcome, Status};
use sessionkeeper_core::health::HealthAnswer;
use sessionkeeper_core::monitor::keychain_failure;
use sessionkeeper_core::overview::{self, Production};
use sessionkeeper_core::schedule::Notice;
use sessionkeeper_core::status::SessionInfo;

use crate::keychain::with_vault;
use crate::{Controller, Done, Host, NoticeKey, Topic};

/// What the controller keeps for one profile besides core's monitor.
#[derive(Debug, Default)]
pub(crate) struct Work {
    /// The current session as last read: `None` when none is stored (or not read yet).
    pub(crate) current: Option<SessionInfo>,
    /// Whether `current` was read at least once.
    pub(crate) read: bool,
    /// Bumped whenever the controller learns of a new session: a read of the vault that began
    /// before is stale when it ends (it must not bring back an older session).
    pub(crate) generation: u64,
    /// The session the server last gave a definite yes for (its validation when stored, or a
    /// check): the one the targets get. A definite no takes it away; "could not tell" does not.
    pub(crate) accepted: Option<sessionkeeper_core::vault::Fingerprint>,
    pub(crate) checking: bool,
    /// Validate now was asked while a check ran: check again when it ends.
    pub(crate) recheck: bool,
    pub(crate) health: Health,
    pub(crate) ops: crate::sessions::Queue,
    pub(crate) round: Option<crate::pushes::Round>,
    /// A "production behind" notification was shown for this episode.
    pub(crate) behind_announced: bool,
}

/// Production's own answers, as far as asked.
#[derive(Debug, Default)]
pub(crate) struct Health {
    pub(crate) asking: bool,
    pub(crate) next_at: Option<DateTime<Utc>>,
    /// Production refuses the session: the words, once announced.
    pub(crate) refuses: Option<String>,
}

/// A finished check, with the session it checked.
#[derive(Debug)]
pub(crate) struct Checked {
    pub(crate) profile: String,
    pub(crate) outcome: CheckOutcome,
    /// The session that was checked, when it could be read (`Err`: the keychain failed).
    pub(crate) session: Result<Option<SessionInfo>, String>,
    /// The profile's generation when the read began.
    pub(crate) generation: u64,
}

impl<H: Host> Controller<H> {
    pub(crate) fn open_keychain(&mut self) {
        let now = self.clock.now();
        let Some(keychain) = self.keychain.should_open(now) else {
            return;
        };
        self.spawn(async move {
            let opened = tokio::task::spawn_blocking(move || keychain.open()).await;
            Done::Keychain(match opened {
                Ok(result) => result.map(Arc::new),
                Err(e) => Err(sessionkeeper_core::error::VaultError::Unavailable {
                    detail: format!("the keychain task failed: {e}"),
                }),
            })
        });
    }

    /// Takes in what the vault last saw of the keychain's lock: a locked spell starts (one
    /// notification, one prompt) or ends (everything that waited goes on).
    pub(crate) fn notice_lock(&mut self, now: DateTime<Utc>) {
        let Some(seen) = self.keychain.vault.as_ref().map(|v| v.seen_locked()) else {
            return;
        };
        let key = NoticeKey::new("", Topic::Keychain);
        match self.keychain.lock_seen(seen, now) {
            Some(crate::keychain::LockChange::Locked) => {
                self.notify(key, &overview::keychain_locked());
                self.prompt_unlock(false);
            }
            Some(crate::keychain::LockChange::Unlocked) => {
                self.withdraw(&key);
                for lane in self.lanes.values_mut() {
                    lane.keychain_back();
                }
                // What failed for want of the keychain is checked again.
                self.monitor.network_up(now);
            }
            None => {}
        }
    }

    /// Asks a locked keychain whether it is unlocked now, when it is time (no prompt).
    pub(crate) fn probe_lock(&mut self, now: DateTime<Utc>) {
        let Some(vault) = self.keychain.should_probe(now) else {
            return;
        };
        self.spawn(async move {
            let asked = tokio::task::spawn_blocking(move || vault.is_locked());
            if let Ok(Ok(Err(e))) =
                tokio::time::timeout(crate::keychain::KEYCHAIN_TIMEOUT, asked).await
            {
                tracing::warn!("cannot ask the keychain whether it is locked: {e}");
            }
            Done::LockProbed
        });
    }

    /// Raises the keychain's unlock prompt, on a thread of its own that may wait forever
    /// (not the runtime's blocking pool, which waits for its threads when it shuts down).
    pub(crate) fn prompt_unlock(&mut self, asked: bool) {
        let Some(vault) = self.keychain.should_prompt(asked) else {
            return;
        };
        tracing::info!("asking for the keychain's unlock");
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("keychain-unlock".to_owned())
            .spawn(move || {
                if let Err(e) = vault.unlock() {
                    tracing::info!("the keychain stays locked: {e}");
                }
                // The vault keeps what this finds.
                let _ = vault.is_locked();
                let _ = tx.send(());
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start the unlock prompt's thread: {e}");
        }
        self.spawn(async move {
            let _ = rx.await;
            Done::UnlockAnswered
        });
    }

    pub(crate) fn keychain_retry(&mut self, now: DateTime<Utc>) {
        if self.keychain.retry_at().is_some_and(|t| t <= now) {
            self.open_keychain();
        }
    }

    pub(crate) fn keychain_opened(
        &mut self,
        result: Result<
            Arc<sessionkeeper_core::vault::Vault>,
            sessionkeeper_core::error::VaultError,
        >,
        now: DateTime<Utc>,
    ) {
        let opened = result.is_ok();
        self.keychain.opened(result, now);
        if opened {
            // What could not be read before can be now.
            self.monitor.network_up(now);
            self.reread_sessions();
        }
    }

    /// Starts the checks core's schedule says are due.
    pub(crate) fn start_checks(&mut self, now: DateTime<Utc>) {
        let (due, woken) = self.monitor.due(now);
        for notice in woken {
            self.show_notice(&notice, now);
        }
        for profile in due {
            let Some(work) = self.profiles.get_mut(&profile.id) else {
                continue;
            };
            if work.checking {
                // Due again while its check runs (Validate now, new timings, the network
                // back): once more when it ends, and not due meanwhile, or the loop would
                // wake at once again and again.
                work.recheck = true;
                self.monitor.checking(&profile.id, now);
                continue;
            }
            work.checking = true;
            let generation = work.generation;
            self.monitor.checking(&profile.id, now);
            let vault = self.keychain.get();
            let checker = Arc::clone(&self.checker);
            let id = profile.id.clone();
            let read_profile = profile.clone();
            self.spawn(async move {
                let read = with_vault(vault, move |v| match v.current_session(&read_profile) {
                    Ok(s) => {
                        let fingerprint = v.fingerprint(&s)?;
                        Ok(Some(s).zip(Some(fingerprint)))
                    }
                    Err(sessionkeeper_core::error::VaultError::NoSession { .. }) => Ok(None),
                    Err(e) => Err(e),
                })
                .await;
                match read {
                    Ok(session) => {
                        let outcome = checker
                            .check(&profile, session.as_ref().map(|(s, _)| s), now)
                            .await;
                        Done::Checked(Checked {
                            profile: id,
                            outcome,
                            session: Ok(session.map(|(s, f)| SessionInfo::of(&s, f))),
                            generation,
                        })
                    }
                    Err(e) => Done::Checked(Checked {
                        profile: id,
                        outcome: keychain_failure(&profile, &e, now),
                        session: Err(e.to_string()),
                        generation,
                    }),
                }
            });
        }
    }

    pub(crate) fn checked(&mut self, checked: Checked, now: DateTime<Utc>) {
        let Checked {
            profile,
            outcome,
            session,
            generation,
        } = checked;
        let was = self.monitor.view(&profile).and_then(|v| v.status);
        if let Some(work) = self.profiles.get_mut(&profile) {
            work.checking = false;
            if std::mem::take(&mut work.recheck) {
                self.monitor.check_now(&profile, now);
            }
        }
        if let Ok(info) = &session
            && !self.learned_session(&profile, info.clone(), generation, now)
        {
            // The check was of a session older than the one stored since: it says nothing.
            self.monitor.check_now(&profile, now);
            return;
        }
        // The server's answer for the checked session: a definite yes makes it the one the
        // targets get, a definite no takes that away, "could not tell" changes nothing.
        if let (Ok(Some(info)), Some(work)) = (&session, self.profiles.get_mut(&profile)) {
            match outcome.status {
                Status::Valid | Status::Expiring => work.accepted = Some(info.fingerprint.clone()),
                Status::Invalid if work.accepted.as_ref() == Some(&info.fingerprint) => {
                    work.accepted = None;
                }
                Status::Invalid | Status::Error => {}
            }
        }
        let captured_at = session
            .as_ref()
            .ok()
            .and_then(|s| s.as_ref())
            .map(|s| s.captured_at);
        let recorded = self.monitor.record(&outcome, captured_at, now);
        self.refresh_events();
        for notice in &recorded.notices {
            self.show_notice(notice, now);
        }
        if let Some(to) = recorded.extend_to
            && let Some(fingerprint) = session.ok().flatten().map(|s| s.fingerprint)
        {
            self.queue_auto_extend(&profile, to, fingerprint);
        }
        // A session that is simply valid again ends whatever episode was on screen.
        if outcome.status == Status::Valid && recorded.notices.is_empty() {
            self.withdraw(&NoticeKey::new(&profile, Topic::Session));
        }
        // A definite answer after errors: the network is back, and what waited for it goes.
        if was == Some(Status::Error) && outcome.status != Status::Error {
            self.network_up(now);
        }
    }

    /// Shows one of the schedule's notices under the profile's session episode.
    pub(crate) fn show_notice(&mut self, notice: &Notice, now: DateTime<Utc>) {
        let id = match notice {
            Notice::Expiring { profile, .. }
            | Notice::Invalid { profile }
            | Notice::CannotCheck { profile, .. }
            | Notice::Recovered { profile } => profile.clone(),
        };
        let name = self
            .config
            .profiles
            .get(&id)
            .map_or(id.clone(), |p| p.name.clone());
        // A teammate is logging in: no "log in" for this one, their words instead.
        if matches!(notice, Notice::Expiring { .. } | Notice::Invalid { .. })
            && let Some(claim) = self.teammate_claim(&id, now).cloned()
        {
            self.notify(
                NoticeKey::new(&id, Topic::Session),
                &overview::teammate_on_it(&name, &id, &claim),
            );
            return;
        }
        self.notify(
            NoticeKey::new(&id, Topic::Session),
            &overview::notice_text(notice, &name, now),
        );
    }

    /// Starts the refreshes without a human that are due.
    pub(crate) fn start_refreshes(&mut self, now: DateTime<Utc>) {
        for profile in self.monitor.refresh_due(now) {
            self.queue_refresh(&profile);
        }
    }

    /// Asks production of every profile with a `health_url` whose turn it is.
    pub(crate) fn start_health(&mut self, now: DateTime<Utc>) {
        for (id, profile) in &self.config.profiles {
            let Some(url) = profile.health_url.clone() else {
                continue;
            };
            let Some(work) = self.profiles.get_mut(id) else {
                continue;
            };
            // Production is asked once it should hold a session.
            if work.health.asking
                || work.current.is_none()
                || work.health.next_at.is_some_and(|t| t > now)
            {
                continue;
            }
            work.health.asking = true;
            work.health.next_at = Some(now + profile.poll_every.as_chrono());
            let client = self.health_client.clone();
            let id = id.clone();
            self.spawn(async move {
                let answer = sessionkeeper_core::health::ask(&client, &url).await;
                Done::Health(id, answer)
            });
        }
    }

    pub(crate) fn next_health(&self) -> Option<DateTime<Utc>> {
        self.profiles
            .iter()
            .filter(|(id, w)| {
                !w.health.asking
                    && w.current.is_some()
                    && self
                        .config
                        .profiles
                        .get(*id)
                        .is_some_and(|p| p.health_url.is_some())
            })
            .filter_map(|(_, w)| w.health.next_at)
            .min()
    }

    pub(crate) fn health_answered(
        &mut self,
        profile: &str,
        answer: HealthAnswer,
        now: DateTime<Utc>,
    ) {
        let name = self
            .config
            .profiles
            .get(profile)
            .map_or(profile.to_owned(), |p| p.name.clone());
        let Some(work) = self.profiles.get_mut(profile) else {
            return;
        };
        work.health.asking = false;
        let key = NoticeKey::new(profile, Topic::Production);
        match answer {
            HealthAnswer::Refuses { detail } => {
                let first = work.health.refuses.is_none();
                work.health.refuses = Some(detail.clone());
                tracing::warn!(%profile, "production refuses the session: {detail}");
                if first {
                    self.notify(key, &overview::production_refuses(&name, profile, &detail));
                }
            }
            HealthAnswer::Accepts => {
                if work.health.refuses.take().is_some() {
                    tracing::info!(%profile, "production accepts the session again");
                    self.notify(key, &overview::production_accepts(&name, profile));
                }
            }
            HealthAnswer::CannotTell { detail } => {
                tracing::info!(%profile, "production's check could not tell: {detail}");
            }
        }
        self.update_production(profile, now);
    }

    /// Production's words for the menu line and the card, from its own answer and the
    /// targets' convergence.
    pub(crate) fn update_production(&mut self, profile: &str, now: DateTime<Utc>) {
        let refuses = self
            .profiles
            .get(profile)
            .and_then(|w| w.health.refuses.clone());
        let production = match refuses {
            Some(detail) => Some(Production::Refuses(format!(
                "production refuses the session ({detail})"
            ))),
            None => self.behind_words(profile, now).map(Production::Behind),
        };
        self.monitor.set_production(profile, production);
    }

    /// Read every profile's current session again (another program may have written one).
    pub(crate) fn reread_sessions(&mut self) {
        let vault = self.keychain.get();
        let profiles: Vec<_> = self
            .config
            .profiles
            .values()
            .map(|p| {
                (
                    p.clone(),
                    self.profiles.get(&p.id).map_or(0, |w| w.generation),
                )
            })
            .collect();
        self.spawn(async move {
            let read = with_vault(vault, move |v| {
                Ok(profiles
                    .iter()
                    .filter_map(|(p, generation)| match v.current_session(p) {
                        Ok(s) => Some((
                            p.id.clone(),
                            Some(SessionInfo::of(&s, v.fingerprint(&s).ok()?)),
                            *generation,
                        )),
                        Err(sessionkeeper_core::error::VaultError::NoSession { .. }) => {
                            Some((p.id.clone(), None, *generation))
                        }
                        Err(e) => {
                            tracing::warn!(profile = %p.id, "cannot read the session: {e}");
                            None
                        }
                    })
                    .collect::<Vec<_>>())
            })
            .await;
            Done::Reread(
                read.unwrap_or_else(|e: sessionkeeper_core::error::VaultError| {
                    tracing::warn!("cannot read the sessions: {e}");
                    Vec::new()
                }),
            )
        });
    }

    pub(crate) fn reread(
        &mut self,
        sessions: Vec<(String, Option<SessionInfo>, u64)>,
        now: DateTime<Utc>,
    ) {
        for (profile, info, generation) in sessions {
            self.learned_session(&profile, info, generation, now);
        }
    }

    /// The vault said `profile`'s current session is `info`, in a read that began at
    /// `generation`. False when that read is stale (the controller learned of a newer session
    /// meanwhile). A session other than the one known is another program's: a new episode,
    /// and its pushes.
    pub(crate) fn learned_session(
        &mut self,
        profile: &str,
        info: Option<SessionInfo>,
        generation: u64,
        now: DateTime<Utc>,
    ) -> bool {
        let Some(work) = self.profiles.get_mut(profile) else {
            return false;
        };
        if work.generation != generation {
            return false;
        }
        let replaced = work.read
            && work.current.as_ref().map(|c| &c.fingerprint)
                != info.as_ref().map(|c| &c.fingerprint);
        work.current = info;
        work.read = true;
        if replaced {
            work.generation += 1;
            self.monitor.session_replaced(profile, now);
            self.session_changed_elsewhere(profile, now);
        }
        true
    }

    /// The network is back (or the keychain opened): check everything and push what waited.
    pub(crate) fn network_up(&mut self, now: DateTime<Utc>) {
        self.monitor.network_up(now);
        self.update_records(|record| record.network_up());
    }

    /// A token or credential was set: targets refused for want of one are tried again.
    pub(crate) fn secrets_changed(&mut self, _now: DateTime<Utc>) {
        tracing::info!("a secret was set: trying again what was refused");
        self.update_records(|record| record.credentials_changed());
    }

    /// Every target of `id` holds `fingerprint` (a teammate pushed it, then recorded the
    /// renewal this session was adopted from).
    pub(crate) fn mark_held(
        &mut self,
        id: &str,
        fingerprint: &sessionkeeper_core::vault::Fingerprint,
        now: DateTime<Utc>,
    ) {
        let Some(profile) = self.config.profiles.get(id) else {
            return;
        };
        let names: Vec<String> = profile
            .push
            .iter()
            .map(sessionkeeper_core::push::target_name)
            .collect();
        let apply = |book: &mut sessionkeeper_core::targets::Book| {
            for name in &names {
                let record = book.record_mut(id, name);
                record.held = Some(fingerprint.clone());
                record.held_since = Some(now);
                record.failed_for = None;
                record.attempts = 0;
                record.next_attempt_at = None;
            }
        };
        match &self.book_file {
            Some(file) => match file.update(apply) {
                Ok(()) => self.reload_records(),
                Err(e) => tracing::warn!("could not update the target records: {e}"),
            },
            None => apply(&mut self.book),
        }
    }

    /// Applies `change` to every target record, on disk and here.
    fn update_records(&mut self, change: impl Fn(&mut sessionkeeper_core::targets::TargetRecord)) {
        let apply = |book: &mut sessionkeeper_core::targets::Book| {
            for records in book.profiles.values_mut() {
                records.values_mut().for_each(&change);
            }
        };
        match &self.book_file {
            Some(file) => match file.update(apply) {
                Ok(()) => self.reload_records(),
                Err(e) => tracing::warn!("could not update the target records: {e}"),
            },
            None => apply(&mut self.book),
        }
    }
}
