//! Which session each push target holds, as far as this machine knows: after every verified
//! push the target's record takes the session's keyed fingerprint (never the value); a failed
//! attempt records its error, how many attempts failed, and when the next one is due. From
//! that and the current session, every target is `current`, `pushing`, `failing` or `behind`
//! (`status --json`, the dashboard, and the app's convergence all read it from here).
//!
//! The records live in `targets.json` in the state dir, written atomically under a lock file
//! that the CLI and the app share. A crash mid-push leaves a target `behind`: its record still
//! names the older session.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::push::{FailureKind, TargetOutcome};
use crate::vault::Fingerprint;

/// The first retry after a failure; doubled on each further one, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: chrono::Duration = chrono::Duration::seconds(30);
/// The longest wait between two attempts, and the cadence of refused tokens and config
/// problems (retried sooner when a token or the config changes).
pub const MAX_BACKOFF: chrono::Duration = chrono::Duration::minutes(30);
/// A push marked in flight longer than this belongs to a process that died.
const STALE_PUSH: chrono::Duration = chrono::Duration::minutes(20);
/// How long a writer waits for another process's lock on the records.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// What one target holds and how its last attempts went. No value, only fingerprints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetRecord {
    /// The session this target holds, since a verified push.
    pub held: Option<Fingerprint>,
    pub held_since: Option<DateTime<Utc>>,
    /// The session the failing attempts were for; the others below describe them.
    pub failed_for: Option<Fingerprint>,
    pub attempts: u32,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_hint: Option<String>,
    pub failure: Option<FailureKind>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// A push under way (or one a crash interrupted: see [`STALE_PUSH`]).
    pub pushing: Option<InFlight>,
    /// The last attempt that started, for the session it carried: a redeploy it may have
    /// made is looked for before another is made.
    pub last_attempt: Option<InFlight>,
}

/// An attempt's session and start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    pub fingerprint: Fingerprint,
    pub since: DateTime<Utc>,
}

/// A target's convergence state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetState {
    /// It holds the current session.
    Current,
    /// A push of the current session to it is under way.
    Pushing,
    /// The last attempt to give it the current session failed.
    Failing,
    /// It holds an older session (or none), and nothing is being done about it yet.
    Behind,
}

impl TargetState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Pushing => "pushing",
            Self::Failing => "failing",
            Self::Behind => "behind",
        }
    }
}

/// One target as `status --json` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetStatus {
    /// The account, and the repository or project ([`crate::push::target_name`]).
    pub target: String,
    pub state: TargetState,
    /// Since when it is in this state, when known.
    pub since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// What to do about the last error.
    pub hint: Option<String>,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl TargetRecord {
    /// This target's state, given the `wanted` (current) session and whether this process is
    /// pushing to it right now.
    pub fn state(
        &self,
        wanted: Option<&Fingerprint>,
        pushing_here: bool,
        now: DateTime<Utc>,
    ) -> TargetState {
        let pushing_elsewhere = self
            .pushing
            .as_ref()
            .is_some_and(|p| Some(&p.fingerprint) == wanted && now - p.since < STALE_PUSH);
        if pushing_here || pushing_elsewhere {
            TargetState::Pushing
        } else if wanted.is_some() && self.held.as_ref() == wanted {
            TargetState::Current
        } else if wanted.is_some() && self.failed_for.as_ref() == wanted && self.attempts > 0 {
            TargetState::Failing
        } else {
            TargetState::Behind
        }
    }

    /// As `status` shows it.
    pub fn status(
        &self,
        target: &str,
        wanted: Option<&Fingerprint>,
        wanted_since: Option<DateTime<Utc>>,
        pushing_here: bool,
        now: DateTime<Utc>,
    ) -> TargetStatus {
        let state = self.state(wanted, pushing_here, now);
        let failing = state == TargetState::Failing;
        TargetStatus {
            target: target.to_owned(),
            state,
            since: match state {
                TargetState::Current => self.held_since,
                TargetState::Pushing => self.pushing.as_ref().map(|p| p.since),
                TargetState::Failing => self.failing_since,
                TargetState::Behind => wanted_since,
            },
            last_error: self.last_error.clone().filter(|_| failing),
            hint: self.last_hint.clone().filter(|_| failing),
            attempts: if failing { self.attempts } else { 0 },
            next_attempt_at: self.next_attempt_at.filter(|_| failing),
        }
    }

    /// When this target is due for an attempt to get `wanted`: at once for a session it has
    /// not failed with, else when its backoff ends. `None` when it holds `wanted`.
    pub fn due_at(&self, wanted: &Fingerprint) -> Option<DateTime<Utc>> {
        if self.held.as_ref() == Some(wanted) {
            return None;
        }
        if self.failed_for.as_ref() == Some(wanted) {
            return Some(self.next_attempt_at.unwrap_or(DateTime::<Utc>::MIN_UTC));
        }
        Some(DateTime::<Utc>::MIN_UTC)
    }

    /// An attempt to push `fingerprint` starts at `now`; returns when an earlier attempt for
    /// the same session started (what it may have left behind is looked for).
    pub fn start(
        &mut self,
        fingerprint: &Fingerprint,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let earlier = self
            .last_attempt
            .as_ref()
            .filter(|a| &a.fingerprint == fingerprint)
            .map(|a| a.since);
        let in_flight = InFlight {
            fingerprint: fingerprint.clone(),
            since: now,
        };
        self.pushing = Some(in_flight.clone());
        if earlier.is_none() {
            self.last_attempt = Some(in_flight);
        }
        earlier
    }

    /// Takes in how the attempt to push `fingerprint` went.
    pub fn finish(
        &mut self,
        fingerprint: &Fingerprint,
        outcome: &TargetOutcome,
        now: DateTime<Utc>,
    ) {
        self.pushing = None;
        match &outcome.result {
            Ok(_) => {
                self.held = Some(fingerprint.clone());
                self.held_since = Some(now);
                self.failed_for = None;
                self.attempts = 0;
                self.failing_since = None;
                self.last_error = None;
                self.last_hint = None;
                self.failure = None;
                self.next_attempt_at = None;
                self.last_attempt = None;
            }
            Err(failure) => {
                if self.failed_for.as_ref() != Some(fingerprint) {
                    self.failed_for = Some(fingerprint.clone());
                    self.attempts = 0;
                    self.failing_since = Some(now);
                }
                self.attempts += 1;
                self.last_error = Some(failure.message.clone());
                self.last_hint = Some(failure.hint.clone());
                self.failure = Some(failure.kind);
                self.next_attempt_at = Some(now + retry_after(failure.kind, self.attempts));
            }
        }
    }

    /// A token was set or the config changed: a target refused for its token or its config
    /// is tried again at once.
    pub fn credentials_changed(&mut self) {
        if matches!(self.failure, Some(FailureKind::Auth | FailureKind::Config)) {
            self.next_attempt_at = None;
        }
    }

    /// The network is back: a target that failed for the network is tried again at once.
    pub fn network_up(&mut self) {
        if self.failure == Some(FailureKind::Transient) {
            self.next_attempt_at = None;
        }
    }
}

/// The wait before the next attempt after `attempts` failures of `kind`: 30 s, 1 min, 2 min …
/// at most 30 min for the network and servers; the slow cadence for tokens and config.
pub fn retry_after(kind: FailureKind, attempts: u32) -> chrono::Duration {
    match kind {
        FailureKind::Transient => {
            let doublings = attempts.saturating_sub(1).min(16);
            (FIRST_BACKOFF * 2i32.pow(doublings)).min(MAX_BACKOFF)
        }
        FailureKind::Auth | FailureKind::Config => MAX_BACKOFF,
    }
}

/// Every profile's targets' records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Book {
    #[serde(default)]
    pub profiles: BTreeMap<String, BTreeMap<String, TargetRecord>>,
}

impl Book {
    pub fn record(&self, profile: &str, target: &str) -> Option<&TargetRecord> {
        self.profiles.get(profile)?.get(target)
    }

    pub fn record_mut(&mut self, profile: &str, target: &str) -> &mut TargetRecord {
        self.profiles
            .entry(profile.to_owned())
            .or_default()
            .entry(target.to_owned())
            .or_default()
    }
}

/// The records file, shared by every process of one user.
#[derive(Debug, Clone)]
pub struct TargetBook {
    path: PathBuf,
}

impl TargetBook {
    /// The records in the platform state dir.
    pub fn open_default() -> Option<Self> {
        crate::paths::state_dir().map(|d| Self::at(&d))
    }

    pub fn at(dir: &Path) -> Self {
        Self {
            path: dir.join("targets.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The records as they are on disk; an unreadable file reads as empty (every target is then
    /// `behind`, and pushing fixes it), and says so in the log.
    pub fn load(&self) -> Book {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(
                    "{} is not readable ({e}): taking every target as behind",
                    self.path.display()
                );
                Book::default()
            }),
            Err(_) => Book::default(),
        }
    }

    /// The file's size and modification time: while they stay the same, so do the records.
    pub fn stamp(&self) -> Option<(u64, std::time::SystemTime)> {
        let m = std::fs::metadata(&self.path).ok()?;
        Some((m.len(), m.modified().ok()?))
    }

    /// Changes the records under the lock every process shares, and writes them back
    /// atomically.
    pub fn update<T>(&self, change: impl FnOnce(&mut Book) -> T) -> io::Result<T> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        crate::paths::create_private_dir(dir)?;
        let lock = crate::paths::lock_file(&dir.join(".targets.lock"), LOCK_WAIT)?;
        let mut book = self.load();
        let result = change(&mut book);
        let text = serde_json::to_vec_pretty(&book).expect("the records always serialise");
        crate::paths::write_private(&self.path, &text)?;
        drop(lock);
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::{Done, Failure};

    fn fp(s: &str) -> Fingerprint {
        serde_json::from_value(serde_json::json!(s)).expect("fingerprint")
    }

    fn outcome(result: Result<Done, Failure>) -> TargetOutcome {
        TargetOutcome {
            target: "vercel app env X (production)".into(),
            account: "vercel".into(),
            result,
            elapsed_ms: 1,
        }
    }

    #[test]
    fn a_target_goes_behind_pushing_failing_and_current() {
        let now = Utc::now();
        let (old, new) = (fp("old"), fp("new"));
        let mut r = TargetRecord::default();
        r.finish(&old, &outcome(Ok(Done::new("set"))), now);
        assert_eq!(r.state(Some(&old), false, now), TargetState::Current);
        assert_eq!(r.state(Some(&new), false, now), TargetState::Behind);
        assert_eq!(r.due_at(&new), Some(DateTime::<Utc>::MIN_UTC), "at once");
        assert_eq!(r.start(&new, now), None, "a first attempt");
        assert_eq!(r.state(Some(&new), false, now), TargetState::Pushing);
        let failed = Failure::new("Vercel answered HTTP 503", "try again later");
        r.finish(&new, &outcome(Err(failed.clone())), now);
        assert_eq!(r.state(Some(&new), false, now), TargetState::Failing);
        assert_eq!(r.due_at(&new), Some(now + chrono::Duration::seconds(30)));
        // The second attempt for the same session knows when the first began.
        assert_eq!(r.start(&new, now), Some(now));
        r.finish(&new, &outcome(Err(failed)), now);
        assert_eq!(r.attempts, 2);
        assert_eq!(r.due_at(&new), Some(now + chrono::Duration::minutes(1)));
        r.start(&new, now);
        r.finish(&new, &outcome(Ok(Done::new("set"))), now);
        assert_eq!(r.state(Some(&new), false, now), TargetState::Current);
        assert_eq!(r.attempts, 0);
    }

    #[test]
    fn backoff_doubles_to_thirty_minutes_and_refused_tokens_wait_the_slow_cadence() {
        let waits: Vec<i64> = (1..=8)
            .map(|n| retry_after(FailureKind::Transient, n).num_seconds())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(retry_after(FailureKind::Auth, 1), MAX_BACKOFF);
        let mut r = TargetRecord {
            failure: Some(FailureKind::Auth),
            next_attempt_at: Some(Utc::now() + MAX_BACKOFF),
            ..TargetRecord::default()
        };
        r.network_up();
        assert!(
            r.next_attempt_at.is_some(),
            "the network is not the problem"
        );
        r.credentials_changed();
        assert!(r.next_attempt_at.is_none(), "a new token is tried at once");
    }

    #[test]
    fn records_survive_a_round_trip_and_garbage_reads_as_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let book = TargetBook::at(dir.path());
        book.update(|b| {
            b.record_mut("mtn", "github acme/app secret X").finish(
                &fp("a"),
                &outcome(Ok(Done::new("set"))),
                Utc::now(),
            );
        })
        .expect("update");
        let read = book.load();
        assert_eq!(
            read.record("mtn", "github acme/app secret X")
                .and_then(|r| r.held.clone()),
            Some(fp("a"))
        );
        std::fs::write(book.path(), b"{not json").expect("write");
        assert_eq!(book.load(), Book::default());
    }
}
