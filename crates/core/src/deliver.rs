//! A push as one whole operation, the same for the CLI (`push`) and the app (Push again, and
//! each step of its convergence): every target at once, each marked in flight and then given
//! its outcome in the record of what it holds (`targets`), each outcome in the history
//! (never a value), and a count of what succeeded.

use chrono::{DateTime, Utc};

use crate::config::{Config, Profile, PushTarget};
use crate::history::{Event, History};
use crate::push::{Attempt, Credentials, Pusher, TargetOutcome, target_name};
use crate::session::Session;
use crate::targets::TargetBook;
use crate::vault::Fingerprint;

/// What one push did, target by target.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub profile: String,
    pub outcomes: Vec<TargetOutcome>,
    pub dry_run: bool,
}

impl Delivery {
    pub fn succeeded(&self) -> usize {
        self.outcomes.iter().filter(|o| o.ok()).count()
    }

    pub fn total(&self) -> usize {
        self.outcomes.len()
    }

    pub fn ok(&self) -> bool {
        self.succeeded() == self.total()
    }

    /// The accounts of the targets that failed (what `push --to` takes to retry them).
    pub fn failed_accounts(&self) -> Vec<&str> {
        self.outcomes
            .iter()
            .filter(|o| !o.ok())
            .map(|o| o.account.as_str())
            .collect()
    }
}

/// Where a push is recorded: the history and the record of what each target holds. Either may
/// be missing (no state dir); the push goes ahead.
#[derive(Debug, Clone, Copy, Default)]
pub struct Records<'a> {
    pub history: Option<&'a History>,
    pub book: Option<&'a TargetBook>,
}

impl Records<'_> {
    /// Marks the push of `fingerprint` to `target` as started at `now`; returns when an
    /// earlier attempt for the same session started, if one did.
    pub fn started(
        &self,
        profile: &str,
        target: &str,
        fingerprint: &Fingerprint,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let book = self.book?;
        book.update(|b| b.record_mut(profile, target).start(fingerprint, now))
            .unwrap_or_else(|e| {
                tracing::warn!("could not record the push: {e}");
                None
            })
    }

    /// Records how pushing `fingerprint` went for one target.
    pub fn finished(
        &self,
        profile: &str,
        fingerprint: &Fingerprint,
        outcome: &TargetOutcome,
        now: DateTime<Utc>,
    ) {
        if let Some(book) = self.book
            && let Err(e) = book.update(|b| {
                b.record_mut(profile, &outcome.target)
                    .finish(fingerprint, outcome, now);
            })
        {
            tracing::warn!("could not record what {} holds: {e}", outcome.target);
        }
        if let Some(history) = self.history
            && let Err(e) = history.append(&push_event(profile, outcome, now))
        {
            tracing::warn!("could not write the history: {e}");
        }
    }
}

/// The history event of one pushed target (never the value).
pub fn push_event(profile: &str, outcome: &TargetOutcome, at: DateTime<Utc>) -> Event {
    Event::Push {
        profile: profile.to_owned(),
        at,
        target: outcome.target.clone(),
        account: outcome.account.clone(),
        ok: outcome.ok(),
        detail: outcome.detail().to_owned(),
        deployment_url: outcome
            .result
            .as_ref()
            .ok()
            .and_then(|d| d.deployment_url.clone()),
    }
}

/// Pushes `session` (whose fingerprint is `fingerprint`) to `targets` of `profile`, all at
/// once, and records every outcome. With `dry_run`, says what would be done and records
/// nothing.
#[allow(clippy::too_many_arguments)] // each is a distinct input of the whole operation
pub async fn deliver(
    pusher: &Pusher,
    config: &Config,
    profile: &Profile,
    targets: &[PushTarget],
    session: &Session,
    fingerprint: &Fingerprint,
    credentials: &Credentials,
    records: Records<'_>,
    dry_run: bool,
) -> Delivery {
    if dry_run {
        let outcomes = pusher
            .push(&config.accounts, targets, session, credentials, true)
            .await;
        return Delivery {
            profile: profile.id.clone(),
            outcomes,
            dry_run,
        };
    }
    let now = Utc::now();
    let pushes = targets.iter().map(|target| {
        let name = target_name(target);
        let attempt = Attempt {
            earlier_attempt: records.started(&profile.id, &name, fingerprint, now),
            ..Attempt::fresh(Some(fingerprint.clone()))
        };
        async move {
            let outcome = pusher
                .push_one(&config.accounts, target, session, credentials, &attempt)
                .await;
            records.finished(&profile.id, fingerprint, &outcome, Utc::now());
            outcome
        }
    });
    let outcomes = futures_util::future::join_all(pushes).await;
    Delivery {
        profile: profile.id.clone(),
        outcomes,
        dry_run,
    }
}
