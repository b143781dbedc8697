//! The tracked expiry: the conservative clock started at capture. [`extend`] moves it, but
//! only after the server has accepted the session now (the seeds' "session extension"), so a
//! dead session is never made to look alive.

use chrono::Utc;

use crate::check::{CheckOutcome, Status};
use crate::config::Profile;
use crate::duration::HumanDuration;
use crate::history::{Event, History};
use crate::session::{Session, now_seconds};
use crate::vault::Vault;

/// Why [`extend`] moved nothing.
#[derive(Debug, thiserror::Error)]
pub enum ExtendError {
    #[error(transparent)]
    Keychain(#[from] crate::VaultError),
    /// The server did not accept the session now (invalid, or could not tell).
    #[error("not extended: {}", .0.detail)]
    NotAccepted(Box<CheckOutcome>),
}

/// Checks the current session of `profile`; if the server accepts it, its tracked expiry
/// becomes now + `by`. The check and the extension are recorded.
pub async fn extend(
    profile: &Profile,
    vault: &Vault,
    checker: &crate::Checker,
    history: Option<&History>,
    by: HumanDuration,
) -> Result<(Session, CheckOutcome), ExtendError> {
    let record = |event: &Event| {
        if let Some(h) = history
            && let Err(e) = h.append(event)
        {
            tracing::warn!("could not write the history: {e}");
        }
    };
    let mut session = vault.current_session(profile)?;
    let mut outcome = checker.check(profile, Some(&session)).await;
    record(&Event::from_check(&outcome));
    if !matches!(outcome.status, Status::Valid | Status::Expiring) {
        return Err(ExtendError::NotAccepted(Box::new(outcome)));
    }
    session.expires_at = now_seconds() + by.as_chrono();
    vault.update_session(&session)?;
    record(&Event::Extended {
        profile: profile.id.clone(),
        at: Utc::now(),
        tracked_expires_at: session.expires_at,
    });
    outcome.tracked_expires_at = Some(session.expires_at);
    Ok((session, outcome))
}
