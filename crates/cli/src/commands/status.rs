//! `sessionkeeper status`: every profile at a glance, from the vault and the history, without
//! making any network request (that is `validate`).

use chrono::{DateTime, Utc};
use sessionkeeper_core::duration::HumanDuration;
use sessionkeeper_core::duration::format_span;
use sessionkeeper_core::history::{Event, History, last_checks, last_pushes};
use sessionkeeper_core::lifetime::{self, LifetimeEstimate, MIN_ENDED_SESSIONS};
use sessionkeeper_core::overview::PushLine;
use sessionkeeper_core::vault::Slot;
use sessionkeeper_core::{Status, check::Reason};

use crate::context::{Context, Outcome};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Print one JSON object
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfileStatus {
    profile: String,
    name: String,
    /// The last check's status, or null when never checked.
    status: Option<Status>,
    reason: Option<Reason>,
    last_check: Option<DateTime<Utc>>,
    has_session: Option<bool>,
    captured_at: Option<DateTime<Utc>>,
    tracked_expires_at: Option<DateTime<Utc>>,
    seconds_left: Option<i64>,
    /// What is missing for this profile to work (empty when nothing is).
    config_problems: Vec<String>,
    /// How long sessions really live, learned from the history, once enough have ended.
    learned_lifetime: Option<LifetimeEstimate>,
    /// The configured tracked_ttl, to compare with what was learned.
    tracked_ttl_secs: i64,
    /// The last push to each target (from the history; never the value).
    last_pushes: Vec<PushLine>,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Outcome {
    let config = ctx.config(1)?;
    let (vault, vault_error) = match ctx.vault() {
        Ok(v) => (Some(v), None),
        Err(f) => (None, Some(f.message)),
    };
    let history = ctx.history();
    // Read once: the last checks, the last pushes and the learned lifetimes all come from it.
    let events = history.as_ref().map(History::events).unwrap_or_default();
    let last = last_checks(&events);
    let pushes = last_pushes(&events);
    let now = Utc::now();
    let mut rows = Vec::new();
    for profile in config.profiles.values() {
        let session = vault
            .as_ref()
            .map(|v| v.load_session(profile, Slot::Current));
        let (has_session, session, mut problems) = match session {
            Some(Ok(s)) => (Some(s.is_some()), s, Vec::new()),
            Some(Err(e)) => (None, None, vec![e.to_string()]),
            None => (None, None, Vec::new()),
        };
        problems.extend(sessionkeeper_core::config::problems(profile));
        let (status, reason, last_check) = match last.get(&profile.id).copied() {
            Some(Event::Check {
                status, reason, at, ..
            }) => (Some(*status), Some(*reason), Some(*at)),
            _ => (None, None, None),
        };
        rows.push(ProfileStatus {
            profile: profile.id.clone(),
            name: profile.name.clone(),
            status,
            reason,
            last_check,
            has_session,
            captured_at: session.as_ref().map(|s| s.captured_at),
            tracked_expires_at: session.as_ref().map(|s| s.expires_at),
            seconds_left: session.as_ref().map(|s| s.time_left(now).num_seconds()),
            config_problems: problems,
            learned_lifetime: lifetime::estimate(&events, &profile.id, now, MIN_ENDED_SESSIONS),
            tracked_ttl_secs: profile.tracked_ttl.as_chrono().num_seconds(),
            last_pushes: pushes
                .iter()
                .filter(|((p, _), _)| p == &profile.id)
                .filter_map(|(_, e)| PushLine::of(e))
                .collect(),
        });
    }
    if args.json {
        let doc = serde_json::json!({
            "config": config.path,
            "vault": { "available": vault_error.is_none(), "error": vault_error },
            "profiles": rows,
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
        let left = r.seconds_left.map_or("no session".to_owned(), |s| {
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
        for p in &r.last_pushes {
            let mark = if p.ok { "pushed" } else { "FAILED" };
            println!(
                "           {mark} {} ago: {}: {}",
                format_span(now - p.at),
                p.target,
                p.detail
            );
        }
    }
    Ok(0)
}
