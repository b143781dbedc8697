//! Every target converging on the current session, without a human: each push target is a
//! lane that pushes the profile's current session whenever it does not hold it — at once
//! after a new session is stored, with backoff after a failure (30 s, 1 min … 30 min), at
//! start (a push a crash interrupted left the target behind), when the network comes back,
//! when a token is set — one push at a time per lane. A lane whose push is under way when a
//! newer session arrives lets it stop at its next safe point and then pushes the newer one,
//! so an older session never lands on a target after a newer one.
//!
//! A round is the pushes one event started (a login, a paste, a refresh, Push again): when
//! each of its targets has had one attempt, one notification says how it went.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use sessionkeeper_core::config::PushTarget;
use sessionkeeper_core::deliver::Records;
use sessionkeeper_core::overview::{self, PushCause, human_span};
use sessionkeeper_core::push::{Attempt, Credentials, TargetOutcome, target_name};
use sessionkeeper_core::status::SessionInfo;
use sessionkeeper_core::targets::{TargetState, TargetStatus};
use sessionkeeper_core::vault::Fingerprint;

use crate::keychain::with_vault;
use crate::{Controller, Done, Host, NoticeKey, Topic};

/// Failed attempts after which a target counts as "production behind" for the human.
const BEHIND_AFTER_ATTEMPTS: u32 = 2;

/// One target's lane.
#[derive(Debug, Default)]
pub(crate) struct Lane {
    in_flight: Option<InFlight>,
    /// Push at the next chance even if the target holds the session or is backing off
    /// (Push again, and every target of a round).
    forced: bool,
    /// The keychain could not give the session or the token: not before this.
    not_before: Option<DateTime<Utc>>,
}

impl Lane {
    /// Its target left the config: whether the lane must stay until its push in flight
    /// answers (that push is told it is superseded); an idle lane can go.
    pub(crate) fn unconfigured(&self) -> bool {
        match &self.in_flight {
            Some(in_flight) => {
                in_flight.superseded.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// The keychain is back: what waited for it is not held back any longer.
    pub(crate) fn keychain_back(&mut self) {
        self.not_before = None;
    }
}

/// How long a lane waits when the keychain could not give what a push needs.
const KEYCHAIN_RETRY: chrono::Duration = chrono::Duration::seconds(30);

#[derive(Debug)]
struct InFlight {
    fingerprint: Fingerprint,
    superseded: Arc<AtomicBool>,
}

/// The pushes one event started, and how far they got.
#[derive(Debug)]
pub(crate) struct Round {
    fingerprint: Fingerprint,
    cause: PushCause,
    pending: BTreeSet<String>,
    outcomes: Vec<TargetOutcome>,
}

/// One finished push of one target.
#[derive(Debug)]
pub(crate) struct Pushed {
    profile: String,
    target: String,
    fingerprint: Fingerprint,
    /// `None`: nothing was sent (the stored session was no longer the one wanted, or the
    /// keychain could not give it).
    outcome: Option<TargetOutcome>,
    /// The session the vault holds, when it was not the one wanted (another was stored), and
    /// the profile's generation when the push began.
    found: Option<(Option<SessionInfo>, u64)>,
}

impl<H: Host> Controller<H> {
    /// Starts a round of pushes of `fingerprint` to every target of `id` (or the one at
    /// `only`), whatever they hold.
    pub(crate) fn start_round(
        &mut self,
        id: &str,
        fingerprint: &Fingerprint,
        cause: PushCause,
        only: Option<usize>,
    ) {
        let Some(profile) = self.config.profiles.get(id) else {
            return;
        };
        let targets: Vec<String> = profile
            .push
            .iter()
            .enumerate()
            .filter(|(i, _)| only.is_none_or(|o| o == *i))
            .map(|(_, t)| target_name(t))
            .collect();
        if targets.is_empty() {
            let text = overview::push_result(&profile.name, id, cause, &[]);
            tracing::info!(profile = %id, "{}", text.summary);
            if cause == PushCause::Again {
                self.notify(NoticeKey::new(id, Topic::Push), &text);
            }
            return;
        }
        for target in &targets {
            self.lanes
                .entry((id.to_owned(), target.clone()))
                .or_default()
                .forced = true;
        }
        // A login's round replaced before it ended (Push again, a paste): the login was
        // captured and is being pushed, so the team's claim goes now.
        let login_replaced = self
            .profiles
            .get(id)
            .and_then(|w| w.round.as_ref())
            .is_some_and(|r| r.cause == PushCause::Login && cause != PushCause::Login);
        if login_replaced && self.holds_claim(id) {
            let now = self.clock.now();
            self.team_release(id, now);
        }
        if let Some(work) = self.profiles.get_mut(id) {
            work.round = Some(Round {
                fingerprint: fingerprint.clone(),
                cause,
                pending: targets.into_iter().collect(),
                outcomes: Vec::new(),
            });
        }
    }

    /// Push again (the menu, a notification, the dashboard): all targets, or one.
    pub(crate) fn push_again(&mut self, id: &str, only: Option<usize>, now: DateTime<Utc>) {
        if !self.known(id) {
            return;
        }
        let current = self
            .profiles
            .get(id)
            .and_then(|w| w.current.as_ref())
            .map(|c| c.fingerprint.clone());
        match current {
            Some(fingerprint) => self.start_round(id, &fingerprint, PushCause::Again, only),
            None => {
                let name = self.config.profiles[id].name.clone();
                let why =
                    self.keychain.error.clone().unwrap_or_else(|| {
                        format!("no session is stored for {name}: log in first")
                    });
                self.notify(
                    NoticeKey::new(id, Topic::Push),
                    &overview::not_done(&name, id, "not pushed", why),
                );
            }
        }
        self.converge(now);
    }

    /// The session every target of `id` should hold: the current one, once the server has
    /// accepted it (when it was validated and stored, or at a check since). A session the
    /// server refuses, or one not answered for yet, is pushed nowhere; a check that could not
    /// tell changes nothing.
    fn wanted(&self, id: &str) -> Option<&Fingerprint> {
        let work = self.profiles.get(id)?;
        let current = work.current.as_ref()?;
        (work.accepted.as_ref() == Some(&current.fingerprint)).then_some(&current.fingerprint)
    }

    /// Starts a push on every lane whose target does not hold its profile's current session
    /// and whose turn it is.
    pub(crate) fn converge(&mut self, now: DateTime<Utc>) {
        let mut starts = Vec::new();
        for (id, profile) in &self.config.profiles {
            let Some(wanted) = self.wanted(id).cloned() else {
                continue;
            };
            for target in &profile.push {
                let name = target_name(target);
                let lane = self.lanes.entry((id.clone(), name.clone())).or_default();
                if let Some(in_flight) = &lane.in_flight {
                    if in_flight.fingerprint != wanted {
                        in_flight.superseded.store(true, Ordering::SeqCst);
                    }
                    continue;
                }
                let due = self
                    .book
                    .record(id, &name)
                    .map_or(Some(DateTime::<Utc>::MIN_UTC), |r| r.due_at(&wanted));
                if lane.not_before.is_some_and(|t| t > now) {
                    continue;
                }
                if lane.forced || due.is_some_and(|t| t <= now) {
                    lane.forced = false;
                    let superseded = Arc::new(AtomicBool::new(false));
                    lane.in_flight = Some(InFlight {
                        fingerprint: wanted.clone(),
                        superseded: Arc::clone(&superseded),
                    });
                    starts.push((id.clone(), target.clone(), wanted.clone(), superseded));
                }
            }
        }
        for (id, target, wanted, superseded) in starts {
            self.start_push(&id, target, wanted, superseded, now);
        }
    }

    fn start_push(
        &mut self,
        id: &str,
        target: PushTarget,
        wanted: Fingerprint,
        superseded: Arc<AtomicBool>,
        now: DateTime<Utc>,
    ) {
        let Some(profile) = self.config.profiles.get(id).cloned() else {
            return;
        };
        let vault = self.keychain.get();
        let pusher = Arc::clone(&self.pusher);
        let config = Arc::clone(&self.config);
        let history = self.history.clone();
        let book = self.book_file.clone();
        let clock = Arc::clone(&self.clock);
        let name = target_name(&target);
        let generation = self.profiles.get(id).map_or(0, |w| w.generation);
        tracing::info!(profile = %id, target = %name, "pushing");
        self.spawn(async move {
            let unsent = |profile: String, target: String, fingerprint, found| {
                Done::Pushed(Pushed {
                    profile,
                    target,
                    fingerprint,
                    outcome: None,
                    found,
                })
            };
            // The session (still the wanted one?), the target's token, and the mark that the
            // attempt started: all keychain and file work, on a blocking thread.
            let (p, t, w, n) = (profile.clone(), target.clone(), wanted.clone(), name.clone());
            let accounts = config.accounts.clone();
            let (h, b) = (history.clone(), book.clone());
            let prepared = with_vault(vault, move |v| {
                let session = match v.current_session(&p) {
                    Ok(s) => s,
                    Err(sessionkeeper_core::error::VaultError::NoSession { .. }) => {
                        return Ok(Err(None));
                    }
                    Err(e) => return Err(e),
                };
                let fingerprint = v.fingerprint(&session)?;
                if fingerprint != w {
                    return Ok(Err(Some(SessionInfo::of(&session, fingerprint))));
                }
                let credentials = Credentials::for_targets(&accounts, std::slice::from_ref(&t), v)?;
                let records = Records {
                    history: h.as_ref(),
                    book: b.as_ref(),
                };
                let earlier = records.started(&p.id, &n, &w, now);
                Ok::<_, sessionkeeper_core::error::VaultError>(Ok((session, credentials, earlier)))
            })
            .await;
            let (session, credentials, earlier) = match prepared {
                Ok(Ok(ready)) => ready,
                Ok(Err(found)) => {
                    tracing::info!(profile = %profile.id, "not pushed: another session is stored now");
                    return unsent(profile.id, name, wanted, Some((found, generation)));
                }
                Err(e) => {
                    tracing::warn!(profile = %profile.id, "not pushed: {e}");
                    return unsent(profile.id, name, wanted, None);
                }
            };
            let attempt = Attempt {
                fingerprint: Some(wanted.clone()),
                started_at: now,
                earlier_attempt: earlier,
                superseded: Arc::new(move || superseded.load(Ordering::SeqCst)),
            };
            let outcome = pusher
                .push_one(&config.accounts, &target, &session, &credentials, &attempt)
                .await;
            let finished_at = clock.now();
            let (p, w, o) = (profile.id.clone(), wanted.clone(), outcome.clone());
            let recorded = tokio::task::spawn_blocking(move || {
                Records {
                    history: history.as_ref(),
                    book: book.as_ref(),
                }
                .finished(&p, &w, &o, finished_at);
            })
            .await;
            if let Err(e) = recorded {
                tracing::warn!("could not record the push: {e}");
            }
            Done::Pushed(Pushed {
                profile: profile.id,
                target: name,
                fingerprint: wanted,
                outcome: Some(outcome),
                found: None,
            })
        });
    }

    pub(crate) fn pushed(&mut self, pushed: Pushed, now: DateTime<Utc>) {
        let Pushed {
            profile: id,
            target,
            fingerprint,
            outcome,
            found,
        } = pushed;
        if let Some(lane) = self.lanes.get_mut(&(id.clone(), target.clone())) {
            lane.in_flight = None;
            lane.not_before = (outcome.is_none() && found.is_none()).then(|| now + KEYCHAIN_RETRY);
        }
        self.reload_records();
        self.refresh_events();
        if let Some((session, generation)) = found {
            // The vault is the truth: converge on what it holds.
            self.learned_session(&id, session, generation, now);
        }
        let Some(outcome) = outcome else {
            return;
        };
        match &outcome.result {
            Ok(done) => tracing::info!(profile = %id, %target, "pushed: {}", done.action),
            Err(f) => {
                tracing::warn!(profile = %id, %target, "push failed: {} ({})", f.message, f.hint)
            }
        }
        let name = self
            .config
            .profiles
            .get(&id)
            .map_or(id.clone(), |p| p.name.clone());
        // The round this push belongs to, and its summary once every target had its try.
        let summary = self.profiles.get_mut(&id).and_then(|work| {
            let round = work.round.as_mut()?;
            if round.fingerprint != fingerprint || !round.pending.remove(&target) {
                return None;
            }
            round.outcomes.push(outcome.clone());
            if !round.pending.is_empty() {
                return None;
            }
            let round = work.round.take()?;
            let outcomes: Vec<&TargetOutcome> = round.outcomes.iter().collect();
            Some((
                overview::push_result(&name, &id, round.cause, &outcomes),
                round.cause,
            ))
        });
        if let Some((text, cause)) = summary {
            tracing::info!(profile = %id, "{}", text.summary);
            self.notify(NoticeKey::new(&id, Topic::Push), &text);
            // A login captured and pushed: the team's claim goes, the renewal is recorded.
            if cause == overview::PushCause::Login && self.holds_claim(&id) {
                self.team_release(&id, now);
            }
        }
        self.production_episode(&id, now);
    }

    /// "Production behind" is an episode: one notification when a target has been failing
    /// for more than one attempt, and one when every target holds the current session again.
    fn production_episode(&mut self, id: &str, now: DateTime<Utc>) {
        self.update_production(id, now);
        let statuses = self.target_statuses(id, now);
        let behind = statuses
            .iter()
            .find(|s| s.state == TargetState::Failing && s.attempts >= BEHIND_AFTER_ATTEMPTS)
            .cloned();
        let all_current =
            !statuses.is_empty() && statuses.iter().all(|s| s.state == TargetState::Current);
        let name = self
            .config
            .profiles
            .get(id)
            .map_or(id.to_owned(), |p| p.name.clone());
        let Some(work) = self.profiles.get_mut(id) else {
            return;
        };
        let key = NoticeKey::new(id, Topic::Production);
        if let Some(s) = behind {
            if !work.behind_announced {
                work.behind_announced = true;
                let next_in = s
                    .next_attempt_at
                    .map_or(chrono::Duration::zero(), |t| t - now);
                let text = overview::production_behind(
                    &name,
                    id,
                    &s.target,
                    s.last_error.as_deref().unwrap_or("it failed"),
                    next_in,
                );
                tracing::warn!(profile = %id, "{}: {}", text.summary, text.body);
                self.notify(key, &text);
            }
        } else if all_current && work.behind_announced {
            work.behind_announced = false;
            let text = overview::converged(&name, id, statuses.len());
            tracing::info!(profile = %id, "{}", text.summary);
            self.notify(key, &text);
        }
    }

    /// Every target of `id` as `status` shows it.
    pub(crate) fn target_statuses(&self, id: &str, now: DateTime<Utc>) -> Vec<TargetStatus> {
        let Some(profile) = self.config.profiles.get(id) else {
            return Vec::new();
        };
        let current = self.profiles.get(id).and_then(|w| w.current.as_ref());
        profile
            .push
            .iter()
            .map(|t| {
                let name = target_name(t);
                let pushing = self
                    .lanes
                    .get(&(id.to_owned(), name.clone()))
                    .is_some_and(|l| l.in_flight.is_some());
                self.book
                    .record(id, &name)
                    .cloned()
                    .unwrap_or_default()
                    .status(
                        &name,
                        current.map(|c| &c.fingerprint),
                        current.map(|c| c.captured_at),
                        pushing,
                        now,
                    )
            })
            .collect()
    }

    /// The targets this process is pushing to, for the status of `id`.
    pub(crate) fn pushing(&self, id: &str) -> Vec<String> {
        self.lanes
            .iter()
            .filter(|((p, _), l)| p == id && l.in_flight.is_some())
            .map(|((_, t), _)| t.clone())
            .collect()
    }

    /// "production behind: TARGET — ERROR, retrying in 2 min", while a target has been
    /// failing for more than one attempt.
    pub(crate) fn behind_words(&self, id: &str, now: DateTime<Utc>) -> Option<String> {
        let s = self
            .target_statuses(id, now)
            .into_iter()
            .find(|s| s.state == TargetState::Failing && s.attempts >= BEHIND_AFTER_ATTEMPTS)?;
        let next = s
            .next_attempt_at
            .map_or("soon".to_owned(), |t| format!("in {}", human_span(t - now)));
        Some(format!(
            "production behind: {} — {}, retrying {next}",
            s.target,
            s.last_error.as_deref().unwrap_or("it failed")
        ))
    }

    /// When the next push is due (a backoff ending), if one is waiting.
    pub(crate) fn next_push(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut next: Option<DateTime<Utc>> = None;
        for (id, profile) in &self.config.profiles {
            let Some(wanted) = self.wanted(id) else {
                continue;
            };
            for target in &profile.push {
                let name = target_name(target);
                let lane = self.lanes.get(&(id.clone(), name.clone()));
                if lane.is_some_and(|l| l.in_flight.is_some()) {
                    continue;
                }
                if let Some(t) = lane.and_then(|l| l.not_before).filter(|t| *t > now) {
                    next = Some(next.map_or(t, |n| n.min(t)));
                    continue;
                }
                if lane.is_some_and(|l| l.forced) {
                    return Some(now);
                }
                let due = self
                    .book
                    .record(id, &name)
                    .map_or(Some(now), |r| r.due_at(wanted));
                if let Some(t) = due {
                    next = Some(next.map_or(t, |n| n.min(t)));
                }
            }
        }
        next
    }
}
