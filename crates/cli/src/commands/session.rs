//! `export`, `import`, `restore`, `extend`: moving a session in and out of the vault.

use chrono::Utc;
use sessionkeeper_core::capture::{self, AcceptError};
use sessionkeeper_core::duration::{HumanDuration, format_span};
use sessionkeeper_core::error::VaultError;
use sessionkeeper_core::history::Event;
use sessionkeeper_core::session::Session;
use sessionkeeper_core::tracked::ExtendError;

use super::validate::print_report;
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
    let now = Utc::now();
    let session =
        Session::import_at(text.expose(), profile, now).map_err(|e| Failure::new(1, e))?;
    drop(text);
    let history = ctx.history();
    // The one way in for a session, as for a capture: validated, then stored. The vault is
    // opened only for the store: a session that does not validate never touches it.
    let stored = if args.no_validate {
        let vault = ctx.vault()?;
        capture::store(profile, session, &vault, history.as_ref(), "import", now)
    } else {
        let checker = sessionkeeper_core::check::Checker::new();
        match ctx.runtime().block_on(capture::validate(
            profile,
            &session,
            &checker,
            history.as_ref(),
            now,
        )) {
            Ok(_) => {
                let vault = ctx.vault()?;
                capture::store(profile, session, &vault, history.as_ref(), "import", now)
            }
            Err(e) => Err(e),
        }
    };
    let (session, _) = stored.map_err(|e| match e {
        AcceptError::Refused { detail } => Failure::new(1, format!("not stored: {detail}")),
        AcceptError::CannotTell { detail } => Failure::new(
            2,
            format!(
                "not stored: the session could not be validated ({detail}); pass --no-validate to store it anyway"
            ),
        ),
        AcceptError::Keychain(e) => Failure::new(1, e),
    })?;
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
        &sessionkeeper_core::check::Checker::new(),
        history.as_ref(),
        args.by,
        Utc::now(),
    ));
    let (session, outcome) = match extended {
        Ok(done) => done,
        Err(ExtendError::Keychain(e @ VaultError::NoSession { .. })) => {
            return Err(Failure::new(1, e));
        }
        Err(ExtendError::Keychain(e)) => return Err(Failure::new(2, e)),
        Err(e @ ExtendError::Replaced) => return Err(Failure::new(1, e)),
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
