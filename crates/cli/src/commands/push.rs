//! `sessionkeeper push`: the stored session to every target of a profile, in parallel, with a
//! result per target. Exit 0 only when every target succeeded.

use sessionkeeper_core::config::PushTarget;
use sessionkeeper_core::push::{Credentials, Pusher, TargetResult, push_event};

use crate::context::{Context, Failure, Outcome, record};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    profile: String,
    /// Only these targets: account names, or "file" (repeatable). Retries what failed.
    #[arg(long = "to", value_name = "ACCOUNT")]
    to: Vec<String>,
    /// Say what would be done; send nothing, write nothing
    #[arg(long)]
    dry_run: bool,
    /// Print one JSON object
    #[arg(long)]
    json: bool,
}

impl Args {
    /// Every target of `profile`, for real, as text.
    pub(crate) fn all(profile: &str) -> Self {
        Self {
            profile: profile.to_owned(),
            to: Vec::new(),
            dry_run: false,
            json: false,
        }
    }
}

/// The `--json` document of `push`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    profile: &'a str,
    ok: bool,
    dry_run: bool,
    succeeded: usize,
    total: usize,
    results: &'a [TargetResult],
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Outcome {
    let config = ctx.config(1)?;
    let profile = config.profile(&args.profile)?;
    let targets: Vec<PushTarget> = if args.to.is_empty() {
        profile.push.clone()
    } else {
        let known: Vec<&str> = profile.push.iter().map(PushTarget::account).collect();
        if let Some(unknown) = args.to.iter().find(|t| !known.contains(&t.as_str())) {
            return Err(Failure::new(
                1,
                format!(
                    "profile {} has no push target for {unknown:?} (its targets: {})",
                    profile.id,
                    known.join(", ")
                ),
            ));
        }
        profile
            .push
            .iter()
            .filter(|t| args.to.iter().any(|a| a == t.account()))
            .cloned()
            .collect()
    };
    if targets.is_empty() {
        return Err(Failure::new(
            1,
            format!(
                "profile {} has no [[profiles.{0}.push]] targets",
                profile.id
            ),
        ));
    }
    let vault = ctx.vault()?;
    let session = vault.current_session(profile)?;
    // A missing token or hook is reported by its target; the other targets go ahead.
    let credentials = Credentials::for_targets(&config.accounts, &targets, &vault)?;
    let pusher = Pusher::new();
    let results = ctx.runtime().block_on(pusher.push(
        &config.accounts,
        &targets,
        &session,
        &credentials,
        args.dry_run,
    ));
    if !args.dry_run {
        let history = ctx.history();
        for r in &results {
            record(history.as_ref(), &push_event(&profile.id, r));
        }
    }
    let succeeded = results.iter().filter(|r| r.ok).count();
    let ok = succeeded == results.len();
    if args.json {
        let report = Report {
            profile: &profile.id,
            ok,
            dry_run: args.dry_run,
            succeeded,
            total: results.len(),
            results: &results,
        };
        println!(
            "{}",
            serde_json::to_string(&report).expect("report serialises")
        );
    } else {
        for r in &results {
            match (&r.action, &r.error) {
                (Some(action), _) => println!("ok      {}: {action}", r.target),
                (None, error) => {
                    println!(
                        "FAILED  {}: {}",
                        r.target,
                        error.as_deref().unwrap_or("unknown error")
                    );
                    if let Some(hint) = &r.hint {
                        println!("        what to do: {hint}");
                    }
                }
            }
            if let Some(url) = &r.deployment_url {
                println!("        deployment: {url}");
            }
        }
        let verb = if args.dry_run { "would push" } else { "pushed" };
        println!("{verb} to {succeeded} of {} target(s)", results.len());
        if !ok && !args.dry_run {
            let failed: Vec<&str> = results
                .iter()
                .filter(|r| !r.ok)
                .map(|r| r.account.as_str())
                .collect();
            println!(
                "retry the failed ones with: sessionkeeper push {} --to {}",
                profile.id,
                failed.join(" --to ")
            );
        }
    }
    Ok(u8::from(!ok))
}
