//! `sessionkeeper validate`: check sessions now, with exit codes CI can act on.

use std::path::PathBuf;
use std::sync::Arc;

use sessionkeeper_core::check::{CheckOutcome, Checker, Status};
use sessionkeeper_core::config::{Config, Profile};
use sessionkeeper_core::history::Event;
use sessionkeeper_core::session::Session;
use sessionkeeper_core::vault::Slot;

use crate::context::{Context, Failure, Outcome, record};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Profiles to check [default: all]
    profiles: Vec<String>,
    /// Print one JSON object (see README, "JSON output")
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    source: SessionSource,
}

/// Where the session comes from when not from the keychain.
#[derive(clap::Args, Debug)]
pub(crate) struct SessionSource {
    /// Read the session (the export's base64) from this environment variable instead of the
    /// keychain; the CI case. Needs exactly one profile.
    #[arg(long, value_name = "VAR", conflicts_with = "session_file")]
    session_env: Option<String>,
    /// Read the session (export, JSON or token) from this file instead of the keychain.
    #[arg(long, value_name = "FILE")]
    session_file: Option<PathBuf>,
}

/// The `--json` document of `validate` (and `extend`).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Report<'a> {
    /// The worst status of all results.
    pub(crate) status: Status,
    pub(crate) exit_code: u8,
    pub(crate) results: &'a [CheckOutcome],
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Outcome {
    // Anything that stops us from checking is "could not tell": exit 2.
    let config = ctx.config(2)?;
    let profiles = select_profiles(&config, &args.profiles)?;
    let sessions = load_sessions(ctx, &args.source, &profiles)?;
    let outcomes = check_all(ctx, &profiles, sessions);
    let history = ctx.history();
    for o in &outcomes {
        record(history.as_ref(), &Event::from_check(o));
    }
    Ok(print_report(&outcomes, args.json))
}

pub(crate) fn select_profiles(config: &Config, ids: &[String]) -> Result<Vec<Profile>, Failure> {
    if ids.is_empty() {
        if config.profiles.is_empty() {
            return Err(Failure::new(
                2,
                format!("{}: no profiles are configured", config.path.display()),
            ));
        }
        return Ok(config.profiles.values().cloned().collect());
    }
    ids.iter()
        .map(|id| config.profile(id).cloned().map_err(|e| Failure::new(2, e)))
        .collect()
}

pub(crate) fn load_sessions(
    ctx: &Context,
    args: &SessionSource,
    profiles: &[Profile],
) -> Result<Vec<Option<Session>>, Failure> {
    let external = match (&args.session_env, &args.session_file) {
        (Some(var), _) => Some((
            format!("environment variable {var}"),
            std::env::var(var).map_err(|_| {
                Failure::new(
                    2,
                    format!(
                        "environment variable {var} is not set (or not UTF-8): nothing to validate"
                    ),
                )
            })?,
        )),
        (None, Some(path)) => Some((
            path.display().to_string(),
            std::fs::read_to_string(path)
                .map_err(|e| Failure::new(2, format!("cannot read {}: {e}", path.display())))?,
        )),
        (None, None) => None,
    };
    if let Some((source, text)) = external {
        let [profile] = profiles else {
            return Err(Failure::new(
                2,
                "--session-env/--session-file need exactly one PROFILE",
            ));
        };
        let session = Session::import(&text, profile)
            .map_err(|e| Failure::new(2, format!("the session in {source} cannot be read: {e}")))?;
        return Ok(vec![Some(session)]);
    }
    let vault = ctx.vault().map_err(|f| Failure::new(2, f.message))?;
    profiles
        .iter()
        .map(|p| {
            vault
                .load_session(p, Slot::Current)
                .map_err(|e| Failure::new(2, e))
        })
        .collect()
}

/// Checks every profile concurrently; results come back in the order of `profiles`.
pub(crate) fn check_all(
    ctx: &Context,
    profiles: &[Profile],
    sessions: Vec<Option<Session>>,
) -> Vec<CheckOutcome> {
    let checker = Arc::new(Checker::new());
    let now = chrono::Utc::now();
    ctx.runtime().block_on(async {
        let tasks: Vec<_> = profiles
            .iter()
            .cloned()
            .zip(sessions)
            .map(|(profile, session)| {
                let checker = checker.clone();
                tokio::spawn(async move { checker.check(&profile, session.as_ref(), now).await })
            })
            .collect();
        let mut outcomes = Vec::with_capacity(tasks.len());
        for task in tasks {
            outcomes.push(task.await.expect("a check task never panics"));
        }
        outcomes
    })
}

pub(crate) fn print_report(outcomes: &[CheckOutcome], json: bool) -> u8 {
    let code = Status::combined_exit_code(outcomes.iter().map(|o| o.status));
    let code = u8::try_from(code).unwrap_or(2);
    if json {
        let worst = outcomes
            .iter()
            .map(|o| o.status)
            .max()
            .unwrap_or(Status::Valid);
        let report = Report {
            status: worst,
            exit_code: code,
            results: outcomes,
        };
        println!(
            "{}",
            serde_json::to_string(&report).expect("report serialises")
        );
    } else {
        for o in outcomes {
            println!("{:<8} {}: {}", o.status.as_str(), o.profile, o.detail);
        }
    }
    code
}
