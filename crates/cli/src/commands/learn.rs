//! `sessionkeeper learn PROFILE`: how long this profile's sessions really live (from the
//! history), and the offer to make `tracked_ttl` follow it (`--apply` edits the config file in
//! place, comments kept).

use chrono::Utc;
use sessionkeeper_core::Config;
use sessionkeeper_core::duration::{HumanDuration, format_span};
use sessionkeeper_core::history::History;
use sessionkeeper_core::lifetime::{self, MIN_ENDED_SESSIONS};

use crate::context::{Context, Failure, Outcome};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Profile id (the key under [profiles])
    profile: String,
    /// Set the profile's tracked_ttl to the suggestion, in the config file
    #[arg(long)]
    apply: bool,
    /// Print one JSON object
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(ctx: &Context, args: &Args) -> Outcome {
    let config = ctx.config(1)?;
    let profile = config.profile(&args.profile)?;
    let events = ctx
        .history()
        .as_ref()
        .map(History::events)
        .unwrap_or_default();
    let estimate = lifetime::estimate(&events, &profile.id, Utc::now(), 1);
    let Some(learned) = estimate.filter(|e| e.ended >= MIN_ENDED_SESSIONS) else {
        let ended = estimate.map_or(0, |e| e.ended);
        return Err(Failure::new(
            1,
            format!(
                "{}: {ended} session(s) seen to end so far; {MIN_ENDED_SESSIONS} are needed to \
                 tell how long they live (keep the app or `sessionkeeper validate` checking)",
                profile.id
            ),
        ));
    };
    let suggestion = HumanDuration::whole_hours_or_minutes(learned.suggested_tracked_ttl);
    let current = profile.tracked_ttl;
    let applied = if args.apply && suggestion != current {
        Config::set_tracked_ttl(&config.path, &profile.id, suggestion)
            .map_err(|e| Failure::new(1, e))?;
        true
    } else {
        false
    };
    if args.json {
        let doc = serde_json::json!({
            "profile": profile.id,
            "learnedLifetime": learned,
            "trackedTtlSecs": current.as_chrono().num_seconds(),
            "suggestedTrackedTtl": suggestion.to_string(),
            "applied": applied,
        });
        println!("{doc}");
        return Ok(0);
    }
    println!(
        "{}: sessions really live {} (median of {} ended, {} seen alive); 9 in 10 outlive {}.",
        profile.id,
        format_span(learned.median),
        learned.ended,
        learned.still_alive,
        format_span(learned.suggested_tracked_ttl),
    );
    if applied {
        println!(
            "tracked_ttl = \"{suggestion}\" (was \"{current}\") written to {}: sessions \
             captured from now on are tracked for {suggestion} (restart a running app).",
            config.path.display()
        );
    } else if suggestion == current {
        println!("tracked_ttl is already \"{current}\".");
    } else {
        println!(
            "tracked_ttl is \"{current}\"; to use \"{suggestion}\": sessionkeeper learn {} --apply",
            profile.id
        );
    }
    Ok(0)
}
