//! `sessionkeeper check --github-issue OWNER/REPO`: the scheduled CI check. Validates like
//! `validate` (same exit codes), opens one labelled issue when a session is invalid, comments
//! while it stays so, and closes it when the session is valid again.

use sessionkeeper_core::alert::{AlertAction, IssueAlert};
use sessionkeeper_core::config::{AccountKind, parse_http_url};
use sessionkeeper_core::history::Event;
use sessionkeeper_core::vault::env_token_for;

use super::validate::{SessionSource, check_all, load_sessions, select_profiles};
use crate::context::{Context, Failure, Outcome, record};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The repository whose issues carry the alarm
    #[arg(long, value_name = "OWNER/REPO")]
    github_issue: String,
    /// Profiles to check [default: all]
    profiles: Vec<String>,
    /// GitHub API URL [default: $GITHUB_API_URL (set by Actions), the github account's
    /// api_url, or https://api.github.com]
    #[arg(long, value_name = "URL")]
    api_url: Option<String>,
    /// Print one JSON object
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    source: SessionSource,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Outcome {
    let config = ctx.config(2)?;
    let profiles = select_profiles(&config, &args.profiles)?;
    let github = config
        .accounts
        .values()
        .find(|a| a.kind == AccountKind::Github);
    let api_url = match (
        args.api_url.clone(),
        std::env::var("GITHUB_API_URL").ok(),
        github,
    ) {
        (Some(u), _, _) | (None, Some(u), _) => {
            parse_http_url(&u).map_err(|e| Failure::new(2, e))?
        }
        (None, None, Some(account)) => account.api_url.clone(),
        (None, None, None) => {
            parse_http_url("https://api.github.com").map_err(|e| Failure::new(2, e))?
        }
    };
    // CI passes the token in GH_TOKEN/GITHUB_TOKEN; on a desktop it comes from the keychain.
    let token = match (env_token_for(AccountKind::Github, &api_url), github) {
        (Some((_, token)), _) => token,
        (None, Some(account)) => ctx
            .vault()
            .map_err(|f| Failure::new(2, f.message))?
            .account_token(account)
            .map_err(|e| Failure::new(2, e))?,
        (None, None) => {
            return Err(Failure::new(
                2,
                "no GitHub token: set GH_TOKEN (in Actions: secrets.GITHUB_TOKEN)",
            ));
        }
    };
    let (team_token, alert_api) = (token.clone(), api_url.clone());
    let alert =
        IssueAlert::new(api_url, token, &args.github_issue).map_err(|e| Failure::new(2, e))?;
    let sessions = load_sessions(ctx, &args.source, &profiles)?;
    let outcomes = check_all(ctx, &profiles, sessions);
    let history = ctx.history();
    let mut actions = Vec::new();
    let mut alert_failed = false;
    let runtime = ctx.runtime();
    for (profile, outcome) in profiles.iter().zip(&outcomes) {
        record(history.as_ref(), &Event::from_check(outcome));
        // Who is re-authenticating, if the team says so (its repository, this token; a token
        // that may not read variables just leaves it out).
        // The token goes to the alert's API only: a team on another GitHub host is not asked.
        let claim = sessionkeeper_core::team::TeamRepo::of(&config, profile)
            .filter(|repo| repo.account.api_url.origin() == alert_api.origin())
            .and_then(|repo| {
                runtime
                    .block_on(sessionkeeper_core::team::Team::new().claim_of(
                        &repo,
                        &team_token,
                        &profile.id,
                    ))
                    .ok()
                    .flatten()
                    .filter(|c| c.is_fresh(chrono::Utc::now()))
            });
        let action = runtime.block_on(alert.sync(profile, outcome, claim.as_ref()));
        if let Err(f) = &action {
            alert_failed = true;
            eprintln!(
                "sessionkeeper: {}: the issue could not be updated: {} ({})",
                profile.id, f.message, f.hint
            );
        }
        actions.push(action.ok());
    }
    let mut code = u8::try_from(sessionkeeper_core::Status::combined_exit_code(
        outcomes.iter().map(|o| o.status),
    ))
    .unwrap_or(2);
    if alert_failed && code == 0 {
        code = 2;
    }
    if args.json {
        let results: Vec<serde_json::Value> = outcomes
            .iter()
            .zip(&actions)
            .map(|(o, a)| {
                let mut v = serde_json::to_value(o).expect("outcome serialises");
                v["issue"] = serde_json::to_value(a).expect("action serialises");
                v
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"repository": args.github_issue, "exitCode": code, "results": results})
        );
    } else {
        for (o, a) in outcomes.iter().zip(&actions) {
            let issue = match a {
                Some(AlertAction::Opened(n)) => format!("opened issue #{n}"),
                Some(AlertAction::Commented(n)) => format!("commented on issue #{n}"),
                Some(AlertAction::Closed(n)) => format!("closed issue #{n}"),
                Some(AlertAction::Nothing) => "no issue change".to_owned(),
                None => "issue not updated".to_owned(),
            };
            println!(
                "{:<8} {}: {} [{issue}]",
                o.status.as_str(),
                o.profile,
                o.detail
            );
        }
    }
    Ok(code)
}
