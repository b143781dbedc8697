//! What the human sees, as data: the tray's colour, one menu line per profile, and the words
//! of every notification. The tray app only draws these; tests read them without a window.

use chrono::{DateTime, Duration, Utc};

use crate::check::{CheckOutcome, Status};
use crate::duration::HumanDuration;
use crate::history::{Event, last_pushes, push_log};
use crate::lifetime::{self, LifetimeEstimate, SessionSpan};
use crate::push::TargetOutcome;
use crate::schedule::Notice;

/// The latest known state of one profile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub id: String,
    pub name: String,
    /// `None` until the first check has finished.
    pub status: Option<Status>,
    /// Why, in words (never a secret).
    pub detail: String,
    pub checked_at: Option<DateTime<Utc>>,
    pub tracked_expires_at: Option<DateTime<Utc>>,
    /// Production's state, when it is not simply "holds the current session and works".
    pub production: Option<Production>,
}

/// What is wrong on production's side, in words for the menu line and the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "state", content = "words")]
pub enum Production {
    /// A target has not got the current session for more than one attempt:
    /// "production behind: vercel app env X (production) — HTTP 503, retrying in 2 min".
    Behind(String),
    /// Production's own check refuses the session it runs with.
    Refuses(String),
}

impl Production {
    pub fn words(&self) -> &str {
        match self {
            Self::Behind(w) | Self::Refuses(w) => w,
        }
    }
}

impl ProfileView {
    pub fn unchecked(id: &str, name: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            status: None,
            detail: "not checked yet".to_owned(),
            checked_at: None,
            tracked_expires_at: None,
            production: None,
        }
    }

    /// Takes in a finished check.
    pub fn record(&mut self, outcome: &CheckOutcome) {
        self.status = Some(outcome.status);
        self.detail.clone_from(&outcome.detail);
        self.checked_at = Some(outcome.checked_at);
        if outcome.tracked_expires_at.is_some() {
            self.tracked_expires_at = outcome.tracked_expires_at;
        }
    }

    /// The profile's line in the tray menu, e.g. `MTN Wholesale: valid, 42 min left`.
    pub fn menu_label(&self, now: DateTime<Utc>) -> String {
        let status = match self.status {
            None => return format!("{}: checking…", self.name),
            Some(Status::Invalid) => return format!("{}: expired, log in again", self.name),
            Some(Status::Error) => return format!("{}: could not check", self.name),
            Some(s) => s.as_str(),
        };
        if let Some(p) = &self.production {
            return format!("{}: {}", self.name, p.words());
        }
        match self.tracked_expires_at {
            Some(t) if t > now => format!("{}: {status}, {} left", self.name, human_span(t - now)),
            Some(_) => format!("{}: {status}, past tracked expiry", self.name),
            None => format!("{}: {status}", self.name),
        }
    }
}

/// One push to one target, as the dashboard lists it (never the value).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushLine {
    pub at: DateTime<Utc>,
    pub target: String,
    pub ok: bool,
    pub detail: String,
    pub deployment_url: Option<String>,
}

impl PushLine {
    /// The line of a `push` event; `None` for any other event.
    pub fn of(event: &Event) -> Option<Self> {
        match event {
            Event::Push {
                at,
                target,
                ok,
                detail,
                deployment_url,
                ..
            } => Some(Self {
                at: *at,
                target: target.clone(),
                ok: *ok,
                detail: detail.clone(),
                deployment_url: deployment_url.clone(),
            }),
            _ => None,
        }
    }
}

/// What the history says about one profile, for its dashboard card.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileHistory {
    /// When the current session was captured (its observed lifetime so far starts here).
    pub captured_at: Option<DateTime<Utc>>,
    /// The last push to each target.
    pub last_pushes: Vec<PushLine>,
    /// The push audit, newest first.
    pub push_log: Vec<PushLine>,
    /// The latest sessions, oldest first.
    pub timeline: Vec<SessionSpan>,
    pub learned: Option<LifetimeEstimate>,
    /// A config-ready `tracked_ttl` from what was learned ("4h").
    pub suggested_tracked_ttl: Option<String>,
}

/// Pushes listed in a card's audit.
const PUSH_LOG_LINES: usize = 20;
/// Sessions drawn on a card's timeline.
const TIMELINE_SESSIONS: usize = 12;

/// The card's history part for `profile`, from `events` (oldest first).
pub fn profile_history(events: &[Event], profile: &str, now: DateTime<Utc>) -> ProfileHistory {
    let mut timeline = lifetime::timeline(events, profile);
    let captured_at = timeline.last().map(|s| s.captured_at);
    let skip = timeline.len().saturating_sub(TIMELINE_SESSIONS);
    timeline.drain(..skip);
    let learned = lifetime::estimate(events, profile, now, lifetime::MIN_ENDED_SESSIONS);
    ProfileHistory {
        captured_at,
        last_pushes: last_pushes(events)
            .into_iter()
            .filter(|((p, _), _)| p == profile)
            .filter_map(|(_, e)| PushLine::of(e))
            .collect(),
        push_log: push_log(events, profile, PUSH_LOG_LINES)
            .into_iter()
            .filter_map(PushLine::of)
            .collect(),
        timeline,
        suggested_tracked_ttl: learned
            .map(|l| HumanDuration::whole_hours_or_minutes(l.suggested_tracked_ttl).to_string()),
        learned,
    }
}

/// The tray icon's colour: the worst status of all profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TrayColour {
    /// Every profile valid.
    Green,
    /// Nothing known yet, or a check failed (network, 5xx): no claim about the session.
    Grey,
    /// A session is about to expire.
    Amber,
    /// A session is invalid: someone must log in.
    Red,
}

impl TrayColour {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Green => "green",
            Self::Grey => "grey",
            Self::Amber => "amber",
            Self::Red => "red",
        }
    }

    /// The worst of `views`; grey when there is no profile at all (nothing is watched yet).
    pub fn of<'a>(views: impl IntoIterator<Item = &'a ProfileView>) -> Self {
        views
            .into_iter()
            .map(|v| match (v.status, &v.production) {
                (Some(Status::Invalid), _) => Self::Red,
                // Your copy works, production does not: someone must act, as for an expiry.
                (Some(Status::Valid | Status::Expiring), Some(Production::Refuses(_))) => Self::Red,
                (Some(Status::Valid | Status::Expiring), Some(Production::Behind(_))) => {
                    Self::Amber
                }
                (Some(Status::Valid), None) => Self::Green,
                (None | Some(Status::Error), _) => Self::Grey,
                (Some(Status::Expiring), None) => Self::Amber,
            })
            .max()
            .unwrap_or(Self::Grey)
    }
}

/// A button on a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeAction {
    /// Opens the login window.
    Reauthenticate,
    /// Holds back the episode's notices for an hour.
    Snooze,
    /// Pushes the current session to every target again.
    PushAgain,
    /// Takes a teammate's claim on the re-authentication over, and opens the login window.
    TakeOver,
    /// Leaves the re-authentication to the teammate who holds it (closes the notification).
    Wait,
}

impl NoticeAction {
    /// The action's key on the notification bus.
    pub fn key(self) -> &'static str {
        match self {
            Self::Reauthenticate => "reauthenticate",
            Self::Snooze => "snooze",
            Self::PushAgain => "push",
            Self::TakeOver => "take-over",
            Self::Wait => "wait",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Reauthenticate => "Re-authenticate",
            Self::Snooze => "Snooze 1 hour",
            Self::PushAgain => "Push again",
            Self::TakeOver => "Take over",
            Self::Wait => "Wait",
        }
    }

    /// The action a notification server reports by `key` ("default" is a click on the
    /// notification itself: the first action).
    pub fn from_key(key: &str, offered: &[Self]) -> Option<Self> {
        match key {
            "default" => offered.first().copied(),
            _ => offered.iter().copied().find(|a| a.key() == key),
        }
    }
}

/// A notification's words and buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeText {
    /// The profile it is about ("" for the app itself).
    pub profile: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<NoticeAction>,
    /// Stays on screen until the human acts (the session is dead or about to be).
    pub urgent: bool,
}

impl NoticeText {
    /// Words without buttons.
    pub fn plain(profile: &str, summary: String, body: String) -> Self {
        Self {
            profile: profile.to_owned(),
            summary,
            body,
            actions: Vec::new(),
            urgent: false,
        }
    }
}

/// The words of `notice`; `name` is the profile's display name.
pub fn notice_text(notice: &Notice, name: &str, now: DateTime<Utc>) -> NoticeText {
    let log_in = vec![NoticeAction::Reauthenticate, NoticeAction::Snooze];
    match notice {
        Notice::Expiring {
            profile,
            tracked_expires_at,
        } => NoticeText {
            profile: profile.clone(),
            summary: format!("{name}: session expiring"),
            body: match tracked_expires_at {
                Some(t) if *t > now => format!(
                    "The session of {name} is expected to expire in {}. Re-authenticate now to avoid an outage.",
                    human_span(*t - now)
                ),
                _ => format!("The session of {name} is past its tracked expiry."),
            },
            actions: log_in,
            urgent: false,
        },
        Notice::Invalid { profile } => NoticeText {
            profile: profile.clone(),
            summary: format!("{name}: session expired"),
            body: format!(
                "The server rejected the session of {name}. Log in again: Session Keeper captures, stores and pushes the new session."
            ),
            actions: log_in,
            urgent: true,
        },
        Notice::CannotCheck { profile, since } => NoticeText::plain(
            profile,
            format!("{name}: cannot check the session"),
            format!(
                "Checks have failed for {} (network or server errors). The session may still be fine; Session Keeper keeps trying.",
                human_span(now - *since)
            ),
        ),
        Notice::Recovered { profile } => NoticeText::plain(
            profile,
            format!("{name}: session valid again"),
            format!("The session of {name} is accepted again."),
        ),
    }
}

/// Why a push happened, as its result's summary begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushCause {
    /// The human logged in, in the login window.
    Login,
    /// A session pasted in the dashboard.
    Paste,
    /// A refresh without a human.
    Refresh,
    /// Push again (all targets, or one).
    Again,
    /// A session stored by another program (`sessionkeeper import`, a teammate's renewal).
    Adopted,
}

impl PushCause {
    fn prefix(self) -> &'static str {
        match self {
            Self::Login => "logged in; ",
            Self::Paste => "pasted session; ",
            Self::Refresh => "refreshed without you; ",
            Self::Again => "",
            Self::Adopted => "new session; ",
        }
    }
}

/// The result of a push: "NAME: logged in; pushed to 3 of 3", or what failed, target by
/// target, with what to do.
pub fn push_result(
    name: &str,
    profile: &str,
    cause: PushCause,
    outcomes: &[&TargetOutcome],
) -> NoticeText {
    let prefix = cause.prefix();
    let ok = outcomes.iter().filter(|o| o.ok()).count();
    let total = outcomes.len();
    let summary = if total == 0 {
        format!("{name}: {prefix}no push targets")
    } else if ok == total {
        format!("{name}: {prefix}pushed to {ok} of {total}")
    } else {
        format!("{name}: {prefix}push failed for {} of {total}", total - ok)
    };
    let body = outcomes
        .iter()
        .map(|o| match &o.result {
            Ok(_) => format!("✓ {}", o.target),
            Err(f) => format!("✗ {}: {} ({})", o.target, f.message, f.hint),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut text = NoticeText::plain(profile, summary, body);
    if ok < total {
        text.actions = vec![NoticeAction::PushAgain];
    }
    text
}

/// A refresh without a human failed after its attempts: the human is asked to log in.
pub fn refresh_failed(name: &str, profile: &str, why: &str) -> NoticeText {
    NoticeText {
        actions: vec![NoticeAction::Reauthenticate],
        urgent: true,
        ..NoticeText::plain(
            profile,
            format!("{name}: refresh failed"),
            format!("{why}\nRe-authenticate to log in yourself."),
        )
    }
}

/// A target has been behind for more than one attempt: production may be running an older
/// session.
pub fn production_behind(
    name: &str,
    profile: &str,
    target: &str,
    error: &str,
    next_in: chrono::Duration,
) -> NoticeText {
    NoticeText {
        actions: vec![NoticeAction::PushAgain],
        ..NoticeText::plain(
            profile,
            format!("{name}: production behind"),
            format!(
                "{target} does not hold the current session: {error}. Session Keeper tries again in {}.",
                human_span(next_in)
            ),
        )
    }
}

/// Every target holds the current session again, after some were behind.
pub fn converged(name: &str, profile: &str, targets: usize) -> NoticeText {
    NoticeText::plain(
        profile,
        format!("{name}: every target holds the current session"),
        format!("All {targets} target(s) now hold the current session."),
    )
}

/// Production's own check says it cannot use the session it has.
pub fn production_refuses(name: &str, profile: &str, detail: &str) -> NoticeText {
    NoticeText {
        actions: vec![NoticeAction::PushAgain],
        urgent: true,
        ..NoticeText::plain(
            profile,
            format!("{name}: production refuses the session"),
            format!(
                "Your copy of the session is fine, but production's check answered: {detail}. Push again to give production the current session."
            ),
        )
    }
}

/// Production accepts the session again.
pub fn production_accepts(name: &str, profile: &str) -> NoticeText {
    NoticeText::plain(
        profile,
        format!("{name}: production accepts the session again"),
        String::new(),
    )
}

/// Why something the human asked for did not happen: "NAME: WHAT" with the reason.
pub fn not_done(name: &str, profile: &str, what: &str, why: String) -> NoticeText {
    NoticeText::plain(profile, format!("{name}: {what}"), why)
}

/// The profile has no login page to open.
pub fn no_login_page(name: &str, profile: &str) -> NoticeText {
    not_done(
        name,
        profile,
        "no login page",
        format!("Set login_url in [profiles.{profile}] to log in from Session Keeper."),
    )
}

/// The system browser could not be opened.
pub fn no_browser(name: &str, profile: &str, url: &str, why: &str) -> NoticeText {
    not_done(
        name,
        profile,
        "cannot open the browser",
        format!("{why}. Open {url} yourself, then paste the session in the dashboard."),
    )
}

/// "Alice is re-authenticating (since 10:02)": a teammate's claim, as a menu line, a card and
/// a notification say it (local time).
pub fn claim_words(claim: &crate::team::Claim) -> String {
    format!(
        "{} is re-authenticating (since {})",
        claim.by,
        claim.since.with_timezone(&chrono::Local).format("%H:%M")
    )
}

/// "renewed by Alice at 10:04".
pub fn renewal_words(renewal: &crate::team::Renewal) -> String {
    format!(
        "renewed by {} at {}",
        renewal.by,
        renewal.at.with_timezone(&chrono::Local).format("%H:%M")
    )
}

/// Instead of "expired — log in": a teammate is on it. No button but Take over.
pub fn teammate_on_it(name: &str, profile: &str, claim: &crate::team::Claim) -> NoticeText {
    NoticeText {
        profile: profile.to_owned(),
        summary: format!("{name}: {}", claim_words(claim)),
        body: format!(
            "The session needs a new login, and {} (on {}) is doing it: you need not. Session \
             Keeper takes the renewed session from the team when they are done.",
            claim.by, claim.host
        ),
        actions: vec![NoticeAction::TakeOver],
        urgent: false,
    }
}

/// Re-authenticate while a teammate holds the claim: ask first.
pub fn ask_before_taking_over(name: &str, profile: &str, claim: &crate::team::Claim) -> NoticeText {
    NoticeText {
        profile: profile.to_owned(),
        summary: format!("{name}: {} already", claim_words(claim)),
        body: format!(
            "Wait for {by}, or take over: two logins at once can end each other's session \
             (many providers allow one per account), so {by}'s may stop working.",
            by = claim.by
        ),
        actions: vec![NoticeAction::Wait, NoticeAction::TakeOver],
        urgent: true,
    }
}

/// A teammate renewed the session: it is being adopted, no login needed.
pub fn teammate_renewed(name: &str, profile: &str, renewal: &crate::team::Renewal) -> NoticeText {
    NoticeText::plain(
        profile,
        format!("{name}: {}", renewal_words(renewal)),
        "No login needed: Session Keeper takes the renewed session from the team.".to_owned(),
    )
}

/// A second launch of the app.
pub fn already_running() -> NoticeText {
    NoticeText::plain(
        "",
        "Session Keeper is already running".to_owned(),
        "It is in the tray.".to_owned(),
    )
}

/// The keychain is locked: checks go on with what is already read; refreshes and pushes
/// wait until it is unlocked. One per locked spell; withdrawn at the unlock.
pub fn keychain_locked() -> NoticeText {
    NoticeText::plain(
        "",
        "Session Keeper: the keychain is locked".to_owned(),
        "Checks go on; refreshes and pushes wait until it is unlocked. Unlock it (the \
         desktop's prompt, or Unlock the keychain… in the tray menu) and Session Keeper goes \
         on by itself."
            .to_owned(),
    )
}

/// The tray menu's line while the keychain is locked.
pub fn keychain_locked_line() -> String {
    "Keychain locked: refreshes and pushes wait".to_owned()
}

/// The config file no longer loads: one notice per broken spell, withdrawn when it loads
/// again. `why` names the file, the line and the key.
pub fn config_broken(why: &str) -> NoticeText {
    NoticeText::plain(
        "",
        "The config file has an error".to_owned(),
        format!("{why}\nSession Keeper goes on with the last config that loaded."),
    )
}

/// The tray's line while the config file does not load.
pub fn config_broken_line() -> String {
    "Config error: the last good config goes on (see the dashboard)".to_owned()
}

/// The tray's line while there is no profile.
pub fn no_sessions_line() -> String {
    "No sessions yet".to_owned()
}

/// The app's loop failed and was restarted.
pub fn restarted(what: &str) -> NoticeText {
    NoticeText::plain(
        "",
        "Session Keeper recovered from an internal error".to_owned(),
        format!("{what} It was restarted and goes on; the log has the details."),
    )
}

/// When the text of [`human_span`] of the span up to `deadline` next changes, seen at `now`
/// (so that a menu line counting down is redrawn exactly then, and not more often).
pub fn next_span_change(deadline: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let left = (deadline - now).num_seconds();
    if left <= 0 {
        return None;
    }
    // The unit the text shows at this span: it changes when `left` crosses a multiple of it.
    let unit = if left <= 60 {
        1
    } else if left <= 86_400 {
        60
    } else {
        3600
    };
    let into = left % unit;
    let step = if into == 0 { unit } else { into };
    Some(now + Duration::seconds(step))
}

/// A duration for people: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
pub fn human_span(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => match (s % 3600) / 60 {
            0 => format!("{} h", s / 3600),
            m => format!("{} h {m} min", s / 3600),
        },
        _ => match (s % 86_400) / 3600 {
            0 => format!("{} d", s / 86_400),
            h => format!("{} d {h} h", s / 86_400),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(status: Option<Status>) -> ProfileView {
        ProfileView {
            status,
            ..ProfileView::unchecked("mtn", "MTN")
        }
    }

    #[test]
    fn the_tray_shows_the_worst_status() {
        let all =
            |s: &[Option<Status>]| TrayColour::of(&s.iter().map(|s| view(*s)).collect::<Vec<_>>());
        assert_eq!(all(&[]), TrayColour::Grey, "nothing watched yet");
        assert_eq!(all(&[Some(Status::Valid)]), TrayColour::Green);
        assert_eq!(all(&[Some(Status::Valid), None]), TrayColour::Grey);
        assert_eq!(
            all(&[Some(Status::Error), Some(Status::Expiring)]),
            TrayColour::Amber
        );
        assert_eq!(
            all(&[
                Some(Status::Expiring),
                Some(Status::Invalid),
                Some(Status::Error)
            ]),
            TrayColour::Red
        );
    }

    #[test]
    fn menu_lines_say_status_and_time_left() {
        let now = Utc::now();
        let mut v = view(Some(Status::Valid));
        v.tracked_expires_at = Some(now + Duration::minutes(42) + Duration::seconds(10));
        assert_eq!(v.menu_label(now), "MTN: valid, 42 min left");
        v.status = Some(Status::Expiring);
        v.tracked_expires_at = Some(now + Duration::seconds(30));
        assert_eq!(v.menu_label(now), "MTN: expiring, 30 s left");
        v.tracked_expires_at = Some(now - Duration::seconds(1));
        assert_eq!(v.menu_label(now), "MTN: expiring, past tracked expiry");
        v.status = Some(Status::Invalid);
        assert_eq!(v.menu_label(now), "MTN: expired, log in again");
        v.status = Some(Status::Error);
        assert_eq!(v.menu_label(now), "MTN: could not check");
        assert_eq!(view(None).menu_label(now), "MTN: checking…");
    }

    #[test]
    fn only_expiry_notices_offer_to_log_in_again() {
        let now = Utc::now();
        let p = "mtn".to_owned();
        let invalid = notice_text(&Notice::Invalid { profile: p.clone() }, "MTN", now);
        assert!(invalid.actions.contains(&NoticeAction::Reauthenticate) && invalid.urgent);
        assert_eq!(invalid.summary, "MTN: session expired");
        let expiring = notice_text(
            &Notice::Expiring {
                profile: p.clone(),
                tracked_expires_at: Some(now + Duration::minutes(10)),
            },
            "MTN",
            now,
        );
        assert!(expiring.actions.contains(&NoticeAction::Reauthenticate));
        assert!(expiring.body.contains("10 min"), "{}", expiring.body);
        let cannot = notice_text(
            &Notice::CannotCheck {
                profile: p.clone(),
                since: now - Duration::minutes(20),
            },
            "MTN",
            now,
        );
        assert!(cannot.actions.is_empty());
        assert!(!cannot.summary.contains("expired"), "{}", cannot.summary);
        assert!(
            notice_text(&Notice::Recovered { profile: p }, "MTN", now)
                .actions
                .is_empty()
        );
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(human_span(Duration::seconds(-5)), "0 s");
        assert_eq!(human_span(Duration::seconds(59)), "59 s");
        assert_eq!(human_span(Duration::minutes(60)), "1 h");
        assert_eq!(human_span(Duration::minutes(185)), "3 h 5 min");
        assert_eq!(human_span(Duration::hours(52)), "2 d 4 h");
    }
}
