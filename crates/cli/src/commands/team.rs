//! The team's commands: `claim` and `release` (the claim on a re-authentication, a GitHub
//! repository variable created atomically) and `pull` (adopt the team's current session from
//! a target that can be read back). Exit codes: 0 done; 1 a teammate holds a fresh claim (its
//! holder named), or nothing could be adopted; 2 the team could not be asked.

use chrono::Utc;
use sessionkeeper_core::adopt::{self, PullError, Pulled};
use sessionkeeper_core::config::Config;
use sessionkeeper_core::push::Credentials;
use sessionkeeper_core::team::{Claim, Member, Taken, Team, TeamRepo, host_name};

use crate::context::{Context, Failure, Outcome};

#[derive(clap::Args, Debug)]
pub(crate) struct ClaimArgs {
    profile: String,
    /// Take a teammate's fresh claim over (they are told by their tray)
    #[arg(long)]
    take_over: bool,
    /// Print one JSON object
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ReleaseArgs {
    profile: String,
}

#[derive(clap::Args, Debug)]
pub(crate) struct PullArgs {
    profile: String,
}

/// The profile's team repository and its token, and who we are there.
fn team_of(
    ctx: &Context,
    config: &Config,
    id: &str,
) -> Result<(Team, TeamRepo, sessionkeeper_core::Secret, Member), Failure> {
    let profile = config.profile(id)?;
    let repo = TeamRepo::of(config, profile).ok_or_else(|| {
        Failure::new(
            2,
            format!(
                "{id} pushes to no GitHub repository: the team keeps its claims in one (add a \
                 GitHub target)"
            ),
        )
    })?;
    let vault = ctx.vault()?;
    let token = vault
        .account_token(&repo.account)
        .map_err(|e| Failure::new(2, e))?;
    let team = Team::new();
    let login = ctx
        .runtime()
        .block_on(team.login(&repo, &token))
        .map_err(|e| Failure::new(2, e))?;
    Ok((
        team,
        repo,
        token,
        Member {
            login,
            host: host_name(),
        },
    ))
}

fn held(id: &str, c: &Claim) -> String {
    format!(
        "{id}: {} is re-authenticating (on {}, since {}; the claim holds until {})",
        c.by,
        c.host,
        c.since.format("%H:%M UTC"),
        c.until.format("%H:%M UTC")
    )
}

pub(crate) fn claim(ctx: &Context, args: &ClaimArgs) -> Outcome {
    let config = ctx.config(2)?;
    let (team, repo, token, me) = team_of(ctx, &config, &args.profile)?;
    let taken = ctx
        .runtime()
        .block_on(team.take(
            &repo,
            &token,
            &args.profile,
            &me,
            Utc::now(),
            args.take_over,
        ))
        .map_err(|e| Failure::new(2, e))?;
    let (code, claim, ours) = match &taken {
        Taken::Ours(c) => (0, c, true),
        Taken::Held(c) => (1, c, false),
    };
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "profile": args.profile, "ours": ours, "claim": claim })
        );
    } else if ours {
        println!(
            "{}: claimed by {} on {} until {}; `sessionkeeper release {}` gives it back",
            args.profile,
            claim.by,
            claim.host,
            claim.until.format("%H:%M UTC"),
            args.profile
        );
    }
    if !ours {
        return Err(Failure::new(code, held(&args.profile, claim)));
    }
    Ok(code)
}

pub(crate) fn release(ctx: &Context, args: &ReleaseArgs) -> Outcome {
    let config = ctx.config(2)?;
    let (team, repo, token, me) = team_of(ctx, &config, &args.profile)?;
    let rt = ctx.runtime();
    let released = rt
        .block_on(team.release(&repo, &token, &args.profile, &me))
        .map_err(|e| Failure::new(2, e))?;
    if released {
        println!("{}: no claim held now", args.profile);
        return Ok(0);
    }
    let claim = rt
        .block_on(team.claim_of(&repo, &token, &args.profile))
        .map_err(|e| Failure::new(2, e))?;
    Err(Failure::new(
        1,
        claim.map_or_else(
            || format!("{}: not released", args.profile),
            |c| format!("{}; not released (it is theirs)", held(&args.profile, &c)),
        ),
    ))
}

pub(crate) fn pull(ctx: &Context, args: &PullArgs) -> Outcome {
    let config = ctx.config(1)?;
    let profile = config.profile(&args.profile)?;
    let vault = ctx.vault()?;
    let credentials = Credentials::for_targets(&config.accounts, &profile.push, &vault)?;
    let history = ctx.history();
    let checker = sessionkeeper_core::Checker::new();
    let pulled = ctx.runtime().block_on(adopt::pull(
        &config,
        profile,
        &credentials,
        &vault,
        &checker,
        history.as_ref(),
        Utc::now(),
    ));
    match pulled {
        Ok(Pulled::Adopted { target, accepted }) => {
            println!(
                "{}: adopted the team's session from {target} ({}); the previous one is kept \
                 (`sessionkeeper restore {}` undoes it)",
                profile.id, accepted.outcome.detail, profile.id
            );
            Ok(0)
        }
        Ok(Pulled::AlreadyCurrent { target }) => {
            println!(
                "{}: {target} holds the session already current here",
                profile.id
            );
            Ok(0)
        }
        Err(e @ PullError::Accept(sessionkeeper_core::capture::AcceptError::CannotTell { .. })) => {
            Err(Failure::new(2, format!("{e}; nothing changed")))
        }
        Err(e) => Err(Failure::new(1, format!("{e}; nothing changed"))),
    }
}
