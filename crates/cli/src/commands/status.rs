//! `sessionkeeper status`: every profile at a glance, from the vault, the history and the
//! record of what each target holds. Its only network call is the team's claims (one listing
//! of the variables of each GitHub repository a profile pushes to; `--offline` skips it);
//! validity is `validate`'s.

use chrono::Utc;
use sessionkeeper_core::check::Status;
use sessionkeeper_core::duration::{HumanDuration, format_span};
use sessionkeeper_core::history::History;
use sessionkeeper_core::status::{self, SessionInfo, Stored};
use sessionkeeper_core::targets::TargetState;
use sessionkeeper_core::vault::Slot;

use crate::context::{Context, Outcome};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Print one JSON object
    #[arg(long)]
    json: bool,
    /// Do not ask GitHub for the team's claims
    #[arg(long)]
    offline: bool,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Outcome {
    let config = ctx.config(1)?;
    let (vault, vault_error) = match ctx.vault() {
        Ok(v) => (Some(v), None),
        Err(f) => (None, Some(f.message)),
    };
    // Read once: the checks, the pushes and the learned lifetimes all come from it.
    let events = ctx
        .history()
        .as_ref()
        .map(History::events)
        .unwrap_or_default();
    let book = ctx.book().map(|b| b.load()).unwrap_or_default();
    let now = Utc::now();
    let mut rows = Vec::new();
    for profile in config.profiles.values() {
        let read = vault.as_ref().map(|v| {
            v.load_session(profile, Slot::Current).and_then(|s| {
                s.map(|s| v.fingerprint(&s).map(|f| SessionInfo::of(&s, f)))
                    .transpose()
            })
        });
        let (info, problem) = match read {
            Some(Ok(info)) => (Some(info), None),
            Some(Err(e)) => (None, Some(e.to_string())),
            None => (None, None),
        };
        let stored = match &info {
            Some(Some(i)) => Stored::Session(i),
            Some(None) => Stored::None,
            None => Stored::Unknown,
        };
        rows.push(status::build(status::Inputs {
            profile,
            view: None,
            stored,
            keychain_problem: problem.as_deref(),
            events: &events,
            book: &book,
            pushing: &[],
            now,
        }));
    }
    let claims = if args.offline {
        std::collections::BTreeMap::new()
    } else {
        team_claims(ctx, &config, vault.as_ref(), now)
    };
    if args.json {
        let profiles: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).expect("a status serialises");
                let (claim, error) = match claims.get(&r.profile) {
                    Some(Ok(c)) => (serde_json::to_value(c).expect("a claim"), None),
                    Some(Err(e)) => (serde_json::Value::Null, Some(e.clone())),
                    None => (serde_json::Value::Null, None),
                };
                v["claim"] = claim;
                if let Some(e) = error {
                    v["claimError"] = e.into();
                }
                v
            })
            .collect();
        let doc = serde_json::json!({
            "config": config.path,
            "vault": { "available": vault_error.is_none(), "error": vault_error },
            "profiles": profiles,
        });
        println!("{doc}");
        return Ok(0);
    }
    println!("config: {}", config.path.display());
    if let Some(e) = &vault_error {
        println!("keychain: unavailable: {e}");
    }
    for r in &rows {
        let status = r.status.map_or("unchecked", Status::as_str);
        let left = r
            .seconds_left
            .filter(|_| r.has_session == Some(true))
            .map_or("no session".to_owned(), |s| {
                format!(
                    "tracked expiry in {}",
                    format_span(chrono::Duration::seconds(s))
                )
            });
        let checked = r.last_check.map_or("never checked".to_owned(), |t| {
            format!("checked {} ago", format_span(now - t))
        });
        println!(
            "{:<10} {} ({}): {left}; {checked}",
            status, r.profile, r.name
        );
        for p in &r.config_problems {
            println!("           ! {p}");
        }
        match claims.get(&r.profile) {
            Some(Ok(Some(c))) => println!(
                "           team: {} on {} (claim until {})",
                sessionkeeper_core::overview::claim_words(c),
                c.host,
                c.until.with_timezone(&chrono::Local).format("%H:%M")
            ),
            Some(Err(e)) => println!("           team: {e}"),
            _ => {}
        }
        if let Some(l) = &r.learned_lifetime {
            println!(
                "           sessions really live {} (median of {} ended, {} alive); tracked_ttl = \"{}\" \
                 would be outlived by 9 in 10 (now {}; `sessionkeeper learn {} --apply` sets it)",
                format_span(l.median),
                l.ended,
                l.still_alive,
                HumanDuration::whole_hours_or_minutes(l.suggested_tracked_ttl),
                format_span(chrono::Duration::seconds(r.tracked_ttl_secs)),
                r.profile,
            );
        }
        for t in &r.targets {
            let since = t
                .since
                .map_or(String::new(), |s| format!(" for {}", format_span(now - s)));
            let more = match t.state {
                TargetState::Failing => format!(
                    ": {} ({} attempt(s); next {})",
                    t.last_error.as_deref().unwrap_or("failed"),
                    t.attempts,
                    t.next_attempt_at.map_or("soon".to_owned(), |n| format!(
                        "in {}",
                        format_span(n - now)
                    ))
                ),
                _ => String::new(),
            };
            println!(
                "           {:<8} {}{since}{more}",
                t.state.as_str(),
                t.target
            );
        }
    }
    Ok(0)
}

/// Each profile's fresh claim (or none), from one listing per team repository; why not, when
/// the team could not be asked.
fn team_claims(
    ctx: &Context,
    config: &sessionkeeper_core::Config,
    vault: Option<&sessionkeeper_core::vault::Vault>,
    now: chrono::DateTime<Utc>,
) -> std::collections::BTreeMap<String, Result<Option<sessionkeeper_core::team::Claim>, String>> {
    use sessionkeeper_core::team::{Team, TeamRepo};
    let mut out = std::collections::BTreeMap::new();
    let Some(vault) = vault else { return out };
    let team = Team::new();
    let rt = ctx.runtime();
    let mut boards = std::collections::BTreeMap::new();
    for profile in config.profiles.values() {
        let Some(repo) = TeamRepo::of(config, profile) else {
            continue;
        };
        let board = boards.entry(repo.key()).or_insert_with(|| {
            let token = vault
                .account_token(&repo.account)
                .map_err(|e| e.to_string())?;
            rt.block_on(team.board(&repo, &token))
                .map_err(|e| e.to_string())
        });
        let claim = board
            .as_ref()
            .map_err(Clone::clone)
            .map(|b| b.claim(&profile.id).filter(|c| c.is_fresh(now)).cloned());
        out.insert(profile.id.clone(), claim);
    }
    out
}
