//! `refresh PROFILE`: log in without a human (the profile's `[refresh]` requests, with the
//! username and password from the keychain), validate the new session, store it (the previous
//! one is kept), and push it to every target.

use chrono::Utc;
use sessionkeeper_core::Status;
use sessionkeeper_core::history::Event;
use sessionkeeper_core::refresh::{LoginCredentials, RefreshPolicy, Refresher, TokioSleeper};
use sessionkeeper_core::vault::SecretName;

use super::validate::check_all;
use crate::context::{Context, Failure, Outcome, record};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    profile: String,
    /// Store the new session but do not push it.
    #[arg(long)]
    no_push: bool,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Outcome {
    let config = ctx.config(2)?;
    let profile = config.profile(&args.profile)?;
    if profile.refresh.is_none() {
        return Err(Failure::new(
            2,
            format!(
                "profile {0} cannot refresh itself: add [profiles.{0}.refresh] (see README, \
                 \"Refresh without a human\")",
                profile.id
            ),
        ));
    }
    let vault = ctx.vault()?;
    let secret = |name: SecretName| {
        let item = name.item();
        vault.get_secret(&name)?.ok_or_else(|| {
            Failure::new(
                2,
                format!("{item} is not set: `sessionkeeper secret set {item}` stores it"),
            )
        })
    };
    let credentials = LoginCredentials {
        username: secret(SecretName::Username(profile.id.clone()))?,
        password: secret(SecretName::Password(profile.id.clone()))?,
    };
    let refreshed = ctx
        .runtime()
        .block_on(Refresher::new().refresh(
            profile,
            &credentials,
            &RefreshPolicy::default(),
            &TokioSleeper,
        ))
        .map_err(|e| Failure::new(1, e))?;
    let session = refreshed.session;
    let history = ctx.history();
    let outcome = check_all(
        ctx,
        std::slice::from_ref(profile),
        vec![Some(session.clone())],
    )
    .remove(0);
    record(history.as_ref(), &Event::from_check(&outcome));
    match outcome.status {
        Status::Valid | Status::Expiring => {}
        Status::Invalid | Status::Error => {
            return Err(Failure::new(
                outcome.status.exit_code().try_into().unwrap_or(2),
                format!(
                    "the refreshed session does not validate ({}): not stored, not pushed",
                    outcome.detail
                ),
            ));
        }
    }
    vault.store_session(&session)?;
    record(
        history.as_ref(),
        &Event::Captured {
            profile: profile.id.clone(),
            at: Utc::now(),
            captured_at: session.captured_at,
            tracked_expires_at: session.expires_at,
            source: "refresh".to_owned(),
        },
    );
    println!(
        "Refreshed {} without a human ({} attempt(s)); it validates and is stored, tracked \
         expiry {}. `sessionkeeper restore {}` brings the previous one back.",
        profile.id,
        refreshed.attempts,
        session.expires_at.to_rfc3339(),
        profile.id
    );
    if args.no_push || profile.push.is_empty() {
        return Ok(0);
    }
    super::push::run(ctx, &super::push::Args::all(&profile.id))
}
