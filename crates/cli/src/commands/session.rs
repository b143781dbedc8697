//! `export`, `import`, `restore`, `extend`: moving a session in and out of the vault.

use chrono::Utc;
use sessionkeeper_core::duration::{HumanDuration, format_span};
use sessionkeeper_core::history::Event;
use sessionkeeper_core::tracked::ExtendError;
use sessionkeeper_core::{Session, Status, VaultError};

use super::validate::{check_all, print_report};
use crate::context::{Context, Failure, Outcome, record};

#[derive(clap::Args, Debug)]
pub(crate) struct ExportArgs {
    profile: String,
    /// Print only the base64 line (for `> session.txt` and pipes)
    #[arg(long)]
    output_only: bool,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ImportArgs {
    profile: String,
    /// Store without validating first (e.g. offline); by default a session the server
    /// rejects, or that cannot be checked, is not stored.
    #[arg(long)]
    no_validate: bool,
}

#[derive(clap::Args, Debug)]
pub(crate) struct RestoreArgs {
    profile: String,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ExtendArgs {
    profile: String,
    /// How far from now to move the tracked expiry
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    by: HumanDuration,
    /// Print one JSON object (the `validate --json` document)
    #[arg(long)]
    json: bool,
}

pub(crate) fn export(ctx: &Context, args: &ExportArgs) -> Outcome {
    let config = ctx.config(1)?;
    let profile = config.profile(&args.profile)?;
    let vault = ctx.vault()?;
    let session = vault.current_session(profile)?;
    let export = session.export();
    if args.output_only {
        println!("{}", export.expose());
        return Ok(0);
    }
    let now = Utc::now();
    println!(
        "# {} ({}): captured {}, tracked expiry {} ({} left), {} cookie(s){}",
        profile.name,
        profile.id,
        session.captured_at.to_rfc3339(),
        session.expires_at.to_rfc3339(),
        format_span(session.time_left(now)),
        session.cookies.len(),
        if session.token.is_some() {
            ", a token"
        } else {
            ""
        },
    );
    println!("{}", export.expose());
    println!("# Use --output-only for the base64 line alone.");
    Ok(0)
}

pub(crate) fn import(ctx: &Context, args: &ImportArgs) -> Outcome {
    let config = ctx.config(1)?;
    let profile = config.profile(&args.profile)?;
    let text = super::read_stdin("the session (export, JSON or token)")?;
    let session = Session::import(&text, profile).map_err(|e| Failure::new(1, e))?;
    drop(text);
    let history = ctx.history();
    if !args.no_validate {
        let outcome = check_all(
            ctx,
            std::slice::from_ref(profile),
            vec![Some(session.clone())],
        )
        .remove(0);
        record(history.as_ref(), &Event::from_check(&outcome));
        match outcome.status {
            Status::Valid | Status::Expiring => {}
            Status::Invalid => {
                return Err(Failure::new(1, format!("not stored: {}", outcome.detail)));
            }
            Status::Error => {
                return Err(Failure::new(
                    2,
                    format!(
                        "not stored: the session could not be validated ({}); pass --no-validate to store it anyway",
                        outcome.detail
                    ),
                ));
            }
        }
    }
    // The vault is opened only now: a session that does not validate never touches it.
    let vault = ctx.vault()?;
    vault.store_session(&session)?;
    record(
        history.as_ref(),
        &Event::Captured {
            profile: profile.id.clone(),
            at: Utc::now(),
            captured_at: session.captured_at,
            tracked_expires_at: session.expires_at,
            source: "import".to_owned(),
        },
    );
    println!(
        "Stored the session of {} ({} cookie(s){}), tracked expiry {}. The previous one is kept: `sessionkeeper restore {}` brings it back.",
        profile.id,
        session.cookies.len(),
        if session.token.is_some() {
            ", a token"
        } else {
            ""
        },
        session.expires_at.to_rfc3339(),
        profile.id,
    );
    Ok(0)
}

pub(crate) fn restore(ctx: &Context, args: &RestoreArgs) -> Outcome {
    let config = ctx.config(1)?;
    let profile = config.profile(&args.profile)?;
    let vault = ctx.vault()?;
    vault.restore_previous(&profile.id)?;
    record(
        ctx.history().as_ref(),
        &Event::Restored {
            profile: profile.id.clone(),
            at: Utc::now(),
        },
    );
    println!(
        "Restored the previous session of {}; the one it replaced is now the previous one.",
        profile.id
    );
    Ok(0)
}

pub(crate) fn extend(ctx: &Context, args: &ExtendArgs) -> Outcome {
    let config = ctx.config(2)?;
    let profile = config
        .profile(&args.profile)
        .map_err(|e| Failure::new(2, e))?;
    let vault = ctx.vault().map_err(|f| Failure::new(2, f.message))?;
    let history = ctx.history();
    let extended = ctx.runtime().block_on(sessionkeeper_core::tracked::extend(
        profile,
        &vault,
        &sessionkeeper_core::Checker::new(),
        history.as_ref(),
        args.by,
    ));
    let (session, outcome) = match extended {
        Ok(done) => done,
        Err(ExtendError::Keychain(e @ VaultError::NoSession { .. })) => {
            return Err(Failure::new(1, e));
        }
        Err(ExtendError::Keychain(e)) => return Err(Failure::new(2, e)),
        Err(ExtendError::NotAccepted(outcome)) => {
            let code = print_report(std::slice::from_ref(outcome.as_ref()), args.json);
            return Err(Failure::new(
                code,
                format!("not extended: {}", outcome.detail),
            ));
        }
    };
    if args.json {
        print_report(std::slice::from_ref(&outcome), true);
    } else {
        println!(
            "The server accepts the session; tracked expiry of {} moved to {}.",
            profile.id,
            session.expires_at.to_rfc3339()
        );
    }
    Ok(0)
}
