//! `sessionkeeper push`: the stored session to every target of a profile (or those not holding
//! it yet: `--behind`), in parallel, with a result per target. Exit 0 only when every target
//! holds the session.

use chrono::Utc;
use sessionkeeper_core::config::PushTarget;
use sessionkeeper_core::deliver::{Delivery, Records, deliver};
use sessionkeeper_core::push::{Credentials, Pusher, TargetOutcome, target_name};
use sessionkeeper_core::targets::TargetState;

use crate::context::{Context, Failure, Outcome};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    profile: String,
    /// Only these targets: account names, or "file" (repeatable). Retries what failed.
    #[arg(long = "to", value_name = "ACCOUNT")]
    to: Vec<String>,
    /// Only the targets that do not hold the current session yet (none when all do)
    #[arg(long)]
    behind: bool,
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
            behind: false,
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
    results: &'a [TargetOutcome],
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Outcome {
    let config = ctx.config(1)?;
    let profile = config.profile(&args.profile)?;
    let mut targets: Vec<PushTarget> = if args.to.is_empty() {
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
    let fingerprint = vault.fingerprint(&session)?;
    let (history, book) = (ctx.history(), ctx.book());
    if args.behind {
        let records = book.as_ref().map(|b| b.load()).unwrap_or_default();
        let now = Utc::now();
        targets.retain(|t| {
            records
                .record(&profile.id, &target_name(t))
                .is_none_or(|r| r.state(Some(&fingerprint), false, now) != TargetState::Current)
        });
        if targets.is_empty() {
            if args.json {
                print_report(
                    &Delivery {
                        profile: profile.id.clone(),
                        outcomes: Vec::new(),
                        dry_run: args.dry_run,
                    },
                    true,
                );
            } else {
                println!(
                    "every target of {} holds the current session: nothing sent",
                    profile.id
                );
            }
            return Ok(0);
        }
    }
    // A missing token or hook is reported by its target; the other targets go ahead.
    let credentials = Credentials::for_targets(&config.accounts, &targets, &vault)?;
    let delivery = ctx.runtime().block_on(deliver(
        &Pusher::new(),
        &config,
        profile,
        &targets,
        &session,
        &fingerprint,
        &credentials,
        Records {
            history: history.as_ref(),
            book: book.as_ref(),
        },
        args.dry_run,
    ));
    Ok(print_report(&delivery, args.json))
}

/// Prints what `delivery` did; returns the exit code (0 when every target succeeded).
pub(crate) fn print_report(delivery: &Delivery, json: bool) -> u8 {
    let ok = delivery.ok();
    if json {
        let report = Report {
            profile: &delivery.profile,
            ok,
            dry_run: delivery.dry_run,
            succeeded: delivery.succeeded(),
            total: delivery.total(),
            results: &delivery.outcomes,
        };
        println!(
            "{}",
            serde_json::to_string(&report).expect("report serialises")
        );
        return u8::from(!ok);
    }
    for o in &delivery.outcomes {
        match &o.result {
            Ok(done) => {
                println!("ok      {}: {}", o.target, done.action);
                if let Some(url) = &done.deployment_url {
                    println!("        deployment: {url}");
                }
            }
            Err(f) => {
                println!("FAILED  {}: {}", o.target, f.message);
                println!("        what to do: {}", f.hint);
            }
        }
    }
    let verb = if delivery.dry_run {
        "would push"
    } else {
        "pushed"
    };
    println!(
        "{verb} to {} of {} target(s)",
        delivery.succeeded(),
        delivery.total()
    );
    if !ok && !delivery.dry_run {
        println!(
            "retry the failed ones with: sessionkeeper push {} --behind (or --to {})",
            delivery.profile,
            delivery.failed_accounts().join(" --to ")
        );
    }
    u8::from(!ok)
}
