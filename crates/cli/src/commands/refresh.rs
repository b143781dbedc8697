//! `refresh PROFILE`: log in without a human (the profile's `[refresh]` requests, with the
//! username and password from the keychain), validate the new session, store it (the previous
//! one is kept), and push it to every target. The work is `core::refresh::renew`.

use sessionkeeper_core::check::Checker;
use sessionkeeper_core::refresh::{RenewError, TokioSleeper, renew};

use crate::context::{Context, Failure, Outcome};

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
    let history = ctx.history();
    let renewed = ctx
        .runtime()
        .block_on(renew(
            profile,
            &vault,
            &Checker::new(),
            history.as_ref(),
            &TokioSleeper,
            chrono::Utc::now(),
        ))
        .map_err(|e| {
            let code = match &e {
                RenewError::MissingCredential { .. } | RenewError::Keychain(_) => 2,
                RenewError::DoesNotValidate { status, .. } => {
                    u8::try_from(status.exit_code()).unwrap_or(2)
                }
                RenewError::Refresh(_) => 1,
            };
            Failure::new(code, e)
        })?;
    println!(
        "Refreshed {} without a human ({} attempt(s)); it validates and is stored, tracked \
         expiry {}. `sessionkeeper restore {}` brings the previous one back.",
        profile.id,
        renewed.attempts,
        renewed.session.expires_at.to_rfc3339(),
        profile.id
    );
    if args.no_push || profile.push.is_empty() {
        return Ok(0);
    }
    super::push::run(ctx, &super::push::Args::all(&profile.id))
}
