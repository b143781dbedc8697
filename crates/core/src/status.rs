//! One profile's whole state, as people and scripts see it: the last check, the stored
//! session, the learned lifetime, the pushes, and each target's convergence. The same type
//! is behind `status --json` and the dashboard's card, built by the same function.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::check::{Reason, Status};
use crate::config::{Capture, Profile};
use crate::history::Event;
use crate::lifetime::{LifetimeEstimate, SessionSpan};
use crate::overview::{ProfileView, PushLine, profile_history};
use crate::push::target_name;
use crate::session::Session;
use crate::targets::{Book, TargetStatus};
use crate::vault::Fingerprint;

/// Everything known of one profile, for `status --json` and the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileStatus {
    pub profile: String,
    pub name: String,
    /// The last check's status, or null when never checked.
    pub status: Option<Status>,
    pub reason: Option<Reason>,
    /// The last check in words, when known (never a secret).
    pub detail: Option<String>,
    pub last_check: Option<DateTime<Utc>>,
    /// Whether a session is stored (null when the keychain could not be asked).
    pub has_session: Option<bool>,
    pub captured_at: Option<DateTime<Utc>>,
    pub tracked_expires_at: Option<DateTime<Utc>>,
    pub seconds_left: Option<i64>,
    pub capture: Capture,
    /// What is missing for this profile to work (empty when nothing is).
    pub config_problems: Vec<String>,
    /// How long sessions really live, learned from the history, once enough have ended.
    pub learned_lifetime: Option<LifetimeEstimate>,
    /// The configured tracked_ttl, to compare with what was learned.
    pub tracked_ttl_secs: i64,
    pub tracked_ttl: String,
    /// A config-ready `tracked_ttl` from what was learned ("4h").
    pub suggested_tracked_ttl: Option<String>,
    /// The last push to each target (from the history; never the value).
    pub last_pushes: Vec<PushLine>,
    /// The push audit, newest first.
    pub push_log: Vec<PushLine>,
    /// The latest sessions, oldest first.
    pub timeline: Vec<SessionSpan>,
    /// Every target of the profile, in config order: which session it holds.
    pub targets: Vec<TargetStatus>,
}

/// What is known of a stored session without holding it: which one, and its times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub fingerprint: Fingerprint,
    pub captured_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl SessionInfo {
    pub fn of(session: &Session, fingerprint: Fingerprint) -> Self {
        Self {
            fingerprint,
            captured_at: session.captured_at,
            expires_at: session.expires_at,
        }
    }
}

/// The stored session as it could be read.
#[derive(Debug, Clone, Copy)]
pub enum Stored<'a> {
    /// A current session.
    Session(&'a SessionInfo),
    /// None is stored.
    None,
    /// The keychain could not be asked (the reason is among the config problems).
    Unknown,
}

/// What [`build`] needs.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub profile: &'a Profile,
    /// The app's view of the profile (its last check), or `None` to take the last check from
    /// `events` (the CLI).
    pub view: Option<&'a ProfileView>,
    pub stored: Stored<'a>,
    /// Why the stored session could not be read, if so.
    pub keychain_problem: Option<&'a str>,
    /// The history, oldest first.
    pub events: &'a [Event],
    pub book: &'a Book,
    /// The targets this process is pushing to right now.
    pub pushing: &'a [String],
    pub now: DateTime<Utc>,
}

/// The status of one profile.
pub fn build(inputs: Inputs<'_>) -> ProfileStatus {
    let Inputs {
        profile,
        view,
        stored,
        keychain_problem,
        events,
        book,
        pushing,
        now,
    } = inputs;
    let recorded = last_check_of(events, &profile.id);
    let (status, reason, detail, last_check) = match view {
        Some(v) => (
            v.status,
            recorded.1,
            v.checked_at.map(|_| v.detail.clone()),
            v.checked_at,
        ),
        None => recorded,
    };
    let session = match stored {
        Stored::Session(s) => Some(s),
        Stored::None | Stored::Unknown => None,
    };
    let fingerprint = session.map(|s| &s.fingerprint);
    let mut problems: Vec<String> = keychain_problem.map(str::to_owned).into_iter().collect();
    problems.extend(crate::config::problems(profile));
    let history = profile_history(events, &profile.id, now);
    let targets = profile
        .push
        .iter()
        .map(|t| {
            let name = target_name(t);
            book.record(&profile.id, &name)
                .cloned()
                .unwrap_or_default()
                .status(
                    &name,
                    fingerprint,
                    session.map(|s| s.captured_at),
                    pushing.contains(&name),
                    now,
                )
        })
        .collect();
    let tracked_expires_at = session
        .map(|s| s.expires_at)
        .or(view.and_then(|v| v.tracked_expires_at));
    ProfileStatus {
        profile: profile.id.clone(),
        name: profile.name.clone(),
        status,
        reason,
        detail,
        last_check,
        has_session: match stored {
            Stored::Session(..) => Some(true),
            Stored::None => Some(false),
            Stored::Unknown => None,
        },
        captured_at: session.map(|s| s.captured_at).or(history.captured_at),
        tracked_expires_at,
        seconds_left: tracked_expires_at.map(|t| (t - now).num_seconds()),
        capture: profile.capture,
        config_problems: problems,
        learned_lifetime: history.learned,
        tracked_ttl_secs: profile.tracked_ttl.as_chrono().num_seconds(),
        tracked_ttl: profile.tracked_ttl.to_string(),
        suggested_tracked_ttl: history.suggested_tracked_ttl,
        last_pushes: history.last_pushes,
        push_log: history.push_log,
        timeline: history.timeline,
        targets,
    }
}

/// The last check of `profile` in `events`: status, reason, (no words), when.
fn last_check_of(
    events: &[Event],
    profile: &str,
) -> (
    Option<Status>,
    Option<Reason>,
    Option<String>,
    Option<DateTime<Utc>>,
) {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Check {
                profile: p,
                status,
                reason,
                at,
                ..
            } if p == profile => Some((Some(*status), Some(*reason), None, Some(*at))),
            _ => None,
        })
        .unwrap_or((None, None, None, None))
}
