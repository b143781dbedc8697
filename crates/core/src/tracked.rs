//! The tracked expiry: the conservative clock started at capture. [`extend`] moves it, but
//! only after the server has accepted the session now (the seeds' "session extension"), so a
//! dead session is never made to look alive — and only if no other session was stored
//! meanwhile (by a capture in the app, an `import` in a terminal): it re-reads the session
//! under the profile's lock before it writes.

use chrono::{DateTime, Utc};

use crate::check::{CheckOutcome, Checker, Status};
use crate::config::Profile;
use crate::duration::HumanDuration;
use crate::history::{Event, History};
use crate::session::Session;
use crate::vault::Vault;

/// Why [`extend`] moved nothing.
#[derive(Debug, thiserror::Error)]
pub enum ExtendError {
    #[error(transparent)]
    Keychain(#[from] crate::error::VaultError),
    /// The server did not accept the session now (invalid, or could not tell).
    #[error("not extended: {}", .0.detail)]
    NotAccepted(Box<CheckOutcome>),
    /// Another session was stored while this one was being checked; it has its own expiry.
    #[error(
        "not extended: a newer session was stored while this one was being checked (it has \
         its own tracked expiry)"
    )]
    Replaced,
}

/// Checks the current session of `profile` as of `now`; if the server accepts it, and it is
/// still the current session, its tracked expiry becomes `now + by`. The check and the
/// extension are recorded. (The app runs the read, the check and [`extend_checked`] apart.)
pub async fn extend(
    profile: &Profile,
    vault: &Vault,
    checker: &Checker,
    history: Option<&History>,
    by: HumanDuration,
    now: DateTime<Utc>,
) -> Result<(Session, CheckOutcome), ExtendError> {
    let session = vault.current_session(profile)?;
    let checked = vault.fingerprint(&session)?;
    let outcome = checker.check(profile, Some(&session), now).await;
    record(history, &Event::from_check(&outcome));
    let session = extend_checked(
        vault, profile, session, &checked, &outcome, by, now, history,
    )?;
    let mut outcome = outcome;
    outcome.tracked_expires_at = Some(session.expires_at);
    Ok((session, outcome))
}

/// After `outcome` (a check of `session`, whose fingerprint is `checked`): moves its tracked
/// expiry to `now + by`, if the server accepted it and no other session was stored since.
#[allow(clippy::too_many_arguments)] // each is a distinct input of the step
pub fn extend_checked(
    vault: &Vault,
    profile: &Profile,
    mut session: Session,
    checked: &crate::vault::Fingerprint,
    outcome: &CheckOutcome,
    by: HumanDuration,
    now: DateTime<Utc>,
    history: Option<&History>,
) -> Result<Session, ExtendError> {
    if !matches!(outcome.status, Status::Valid | Status::Expiring) {
        return Err(ExtendError::NotAccepted(Box::new(outcome.clone())));
    }
    session.expires_at = crate::clock::whole_seconds(now) + by.as_chrono();
    if !vault.update_session_if(&session, checked)? {
        return Err(ExtendError::Replaced);
    }
    record(
        history,
        &Event::Extended {
            profile: profile.id.clone(),
            at: now,
            tracked_expires_at: session.expires_at,
        },
    );
    Ok(session)
}

fn record(history: Option<&History>, event: &Event) {
    if let Some(h) = history
        && let Err(e) = h.append(event)
    {
        tracing::warn!("could not write the history: {e}");
    }
}
