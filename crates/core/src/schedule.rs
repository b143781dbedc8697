//! When to check each profile, and which changes deserve a word to the human: a pure state
//! machine. It never reads the clock; every input carries `now`, so tests drive it with a fake
//! clock and the tray app simply sleeps until [`Scheduler::next_wake`].
//!
//! The rules:
//! * check at once after start, then every `poll_every`;
//! * more often as the tracked expiry nears: a check lands exactly when the `warn_before`
//!   window opens, and inside it at a third of the time left (never more often than 30 s);
//! * after a wall-clock jump (the machine slept) or when the network returns, check at once;
//! * on `error`, back off (30 s, 60 s, … up to `poll_every`) and never raise an expiry alarm;
//! * one notice per episode: entering `expiring`, entering `invalid`, errors persisting, and
//!   recovering; a snoozed episode is announced again when the snooze ends;
//! * a session the server still accepts after its tracked expiry gets its tracked expiry moved
//!   (the seeds' method 3), and the time it has lived so far is reported as observed lifetime.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::check::Status;
use crate::config::Profile;

/// The shortest interval between two checks of one profile (or `poll_every`, if shorter).
const MIN_INTERVAL: Duration = Duration::seconds(30);
/// The first retry after an `error`; doubled on each further one, up to `poll_every`.
const ERROR_BACKOFF: Duration = Duration::seconds(30);
/// Errors for this long in a row are worth telling the human ("could not check").
const ERROR_ALERT_AFTER: Duration = Duration::minutes(15);

/// What the scheduler was told about one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckReport {
    pub status: Status,
    /// The session's tracked expiry at the time of the check, when there is a session.
    pub tracked_expires_at: Option<DateTime<Utc>>,
    /// When sessions of this profile usually die, by what was learned from the history
    /// (captured_at + the lifetime nine sessions in ten outlive), when enough is known. The
    /// warning comes before the earlier of this and the tracked expiry.
    pub learned_expires_at: Option<DateTime<Utc>>,
    /// When the session was captured, when there is one.
    pub captured_at: Option<DateTime<Utc>>,
}

/// Something for the human.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Valid, but the tracked expiry is within `warn_before`.
    Expiring {
        profile: String,
        tracked_expires_at: Option<DateTime<Utc>>,
    },
    /// The server said no: log in again (the notice with the Re-authenticate action).
    Invalid { profile: String },
    /// Checks have failed (network, 5xx) for a while; nothing is known about the session.
    CannotCheck {
        profile: String,
        since: DateTime<Utc>,
    },
    /// Valid again after `invalid` or persisting errors.
    Recovered { profile: String },
}

/// What the shell should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Notify(Notice),
    /// The server accepts the session past its tracked expiry: move the tracked expiry to
    /// `to`, and record that the session has lived `observed` so far.
    ExtendTrackedExpiry {
        profile: String,
        to: DateTime<Utc>,
        observed: Duration,
    },
}

/// The kind of episode a profile is in; errors never start or end one by themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Episode {
    Healthy,
    Expiring,
    Invalid,
}

#[derive(Debug, Clone)]
struct ProfileState {
    poll_every: Duration,
    warn_before: Duration,
    tracked_ttl: Duration,
    next_check: DateTime<Utc>,
    episode: Episode,
    /// Whether the current episode has been announced (reset by a snooze ending).
    announced: bool,
    snoozed_until: Option<DateTime<Utc>>,
    consecutive_errors: u32,
    errors_since: Option<DateTime<Utc>>,
    cannot_check_announced: bool,
}

/// The schedule of every profile.
#[derive(Debug, Clone)]
pub struct Scheduler {
    profiles: BTreeMap<String, ProfileState>,
    /// The last time the scheduler was woken, to notice wall-clock jumps (sleep, resume).
    last_wake: Option<DateTime<Utc>>,
}

impl ProfileState {
    fn new(p: &Profile, now: DateTime<Utc>) -> Self {
        Self {
            poll_every: p.poll_every.as_chrono(),
            warn_before: p.warn_before.as_chrono(),
            tracked_ttl: p.tracked_ttl.as_chrono(),
            next_check: now,
            episode: Episode::Healthy,
            announced: false,
            snoozed_until: None,
            consecutive_errors: 0,
            errors_since: None,
            cannot_check_announced: false,
        }
    }
}

impl Scheduler {
    /// A schedule for `profiles`, each due at once (`now`).
    pub fn new<'a>(profiles: impl IntoIterator<Item = &'a Profile>, now: DateTime<Utc>) -> Self {
        let profiles = profiles
            .into_iter()
            .map(|p| (p.id.clone(), ProfileState::new(p, now)))
            .collect();
        Self {
            profiles,
            last_wake: None,
        }
    }

    /// The config changed (live reload): a new profile is due at once; a removed one is
    /// forgotten; one whose timings changed keeps its episode and is checked at once, so that
    /// its next check follows the new timings; the others keep their schedule.
    pub fn reconfigure<'a>(
        &mut self,
        profiles: impl IntoIterator<Item = &'a Profile>,
        now: DateTime<Utc>,
    ) {
        let mut kept = BTreeMap::new();
        for p in profiles {
            let state = match self.profiles.remove(&p.id) {
                None => ProfileState::new(p, now),
                Some(mut state) => {
                    let fresh = ProfileState::new(p, now);
                    if (state.poll_every, state.warn_before, state.tracked_ttl)
                        != (fresh.poll_every, fresh.warn_before, fresh.tracked_ttl)
                    {
                        state.poll_every = fresh.poll_every;
                        state.warn_before = fresh.warn_before;
                        state.tracked_ttl = fresh.tracked_ttl;
                        state.next_check = now;
                    }
                    state
                }
            };
            kept.insert(p.id.clone(), state);
        }
        self.profiles = kept;
        // The longest interval may have changed: the next wake is not a jump of the clock.
        self.last_wake = Some(now);
    }

    /// The profiles it schedules.
    pub fn profiles(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    /// The profiles due for a check at `now`. Also notices a wall-clock jump: if more time
    /// passed since the last wake than any schedule allows, the machine slept, and every
    /// profile is due.
    pub fn due(&mut self, now: DateTime<Utc>) -> Vec<String> {
        if let Some(last) = self.last_wake {
            let longest = self
                .profiles
                .values()
                .map(|p| p.poll_every)
                .max()
                .unwrap_or(Duration::minutes(5));
            // Twice the longest interval, and never less than 5 minutes, is a jump.
            if now - last > (longest * 2).max(Duration::minutes(5)) {
                self.all_due(now);
            }
        }
        self.last_wake = Some(now);
        self.profiles
            .iter()
            .filter(|(_, p)| p.next_check <= now)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// When the shell should wake next (it may sleep until then: no work happens in between).
    pub fn next_wake(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let snooze_ends = self
            .profiles
            .values()
            .filter_map(|p| p.snoozed_until)
            .filter(|t| *t > now);
        self.profiles
            .values()
            .map(|p| p.next_check)
            .chain(snooze_ends)
            .min()
            .unwrap_or(now + Duration::minutes(5))
    }

    /// The network came back (or the user asked): check everything now.
    pub fn network_up(&mut self, now: DateTime<Utc>) {
        self.all_due(now);
    }

    /// The human asked ("Validate now"): check `profile` at `now`, keeping its episode.
    pub fn check_now(&mut self, profile: &str, now: DateTime<Utc>) {
        if let Some(p) = self.profiles.get_mut(profile) {
            p.next_check = now;
        }
    }

    /// A check of `profile` started at `now`: it is not due again until its result is in
    /// ([`Scheduler::on_check`] sets the next one), or, if the result never comes, a
    /// `poll_every` later.
    pub fn checking(&mut self, profile: &str, now: DateTime<Utc>) {
        if let Some(p) = self.profiles.get_mut(profile) {
            p.next_check = now + p.poll_every.max(Duration::minutes(1));
        }
    }

    /// A new session was captured or imported: start over for this profile, and check it now.
    pub fn session_replaced(&mut self, profile: &str, now: DateTime<Utc>) {
        if let Some(p) = self.profiles.get_mut(profile) {
            p.episode = Episode::Healthy;
            p.announced = false;
            p.snoozed_until = None;
            p.next_check = now;
        }
    }

    /// No notice for `profile` until `until`; the episode is announced again then if it lasts.
    pub fn snooze(&mut self, profile: &str, until: DateTime<Utc>) {
        if let Some(p) = self.profiles.get_mut(profile) {
            p.snoozed_until = Some(until);
            p.announced = false;
        }
    }

    /// Announcements that were held back by a snooze that has now ended.
    pub fn wake_snoozed(&mut self, now: DateTime<Utc>) -> Vec<Action> {
        let mut actions = Vec::new();
        for (id, p) in &mut self.profiles {
            if p.snoozed_until.is_some_and(|t| t <= now) {
                p.snoozed_until = None;
                // A check at the same instant may have announced it already.
                if let Some(n) = announce(id, p, None) {
                    actions.push(Action::Notify(n));
                }
            }
        }
        actions
    }

    /// Takes the result of a check of `profile` made at `now`; returns what to do.
    pub fn on_check(
        &mut self,
        profile: &str,
        report: CheckReport,
        now: DateTime<Utc>,
    ) -> Vec<Action> {
        let Some(p) = self.profiles.get_mut(profile) else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        match report.status {
            Status::Error => {
                p.consecutive_errors += 1;
                let since = *p.errors_since.get_or_insert(now);
                let backoff = ERROR_BACKOFF
                    * 2i32.saturating_pow(p.consecutive_errors.saturating_sub(1).min(16));
                p.next_check = now + backoff.min(p.poll_every);
                if now - since >= ERROR_ALERT_AFTER && !p.cannot_check_announced && !snoozed(p, now)
                {
                    p.cannot_check_announced = true;
                    actions.push(Action::Notify(Notice::CannotCheck {
                        profile: profile.to_owned(),
                        since,
                    }));
                }
                // An error says nothing about the session: the episode stays as it was.
                return actions;
            }
            Status::Invalid => {
                clear_errors(p);
                if p.episode != Episode::Invalid {
                    p.episode = Episode::Invalid;
                    p.announced = false;
                }
                p.next_check = now + p.poll_every;
            }
            Status::Valid | Status::Expiring => {
                let was_down = clear_errors(p);
                let recovering = p.episode == Episode::Invalid || was_down;
                let mut tracked = report.tracked_expires_at;
                if let Some(expiry) = tracked
                    && expiry <= now
                {
                    // Alive past its tracked expiry: move the clock, and learn from it.
                    let to = now + p.tracked_ttl;
                    let observed = report.captured_at.map_or(Duration::zero(), |c| now - c);
                    actions.push(Action::ExtendTrackedExpiry {
                        profile: profile.to_owned(),
                        to,
                        observed,
                    });
                    tracked = Some(to);
                }
                // Warn before the learned expiry too, when it comes first; once it has passed
                // the session lives on borrowed time: expiring, checked as usual.
                let learned = report.learned_expires_at;
                let learned_passed = learned.is_some_and(|l| l <= now);
                let deadline = match (tracked, learned.filter(|l| *l > now)) {
                    (Some(t), Some(l)) => Some(t.min(l)),
                    (t, _) => t,
                };
                let left = deadline.map(|t| t - now);
                let in_window = learned_passed || left.is_some_and(|l| l <= p.warn_before);
                let episode = if in_window {
                    Episode::Expiring
                } else {
                    Episode::Healthy
                };
                if episode != p.episode {
                    p.episode = episode;
                    p.announced = false;
                }
                if recovering && episode == Episode::Healthy {
                    actions.push(Action::Notify(Notice::Recovered {
                        profile: profile.to_owned(),
                    }));
                    p.announced = true;
                }
                p.next_check = now + interval(p, left);
                if let Some(n) = announce(profile, p, deadline).filter(|_| !snoozed(p, now)) {
                    actions.push(Action::Notify(n));
                }
                return actions;
            }
        }
        if !snoozed(p, now)
            && let Some(n) = announce(profile, p, None)
        {
            actions.push(Action::Notify(n));
        }
        actions
    }

    fn all_due(&mut self, now: DateTime<Utc>) {
        for p in self.profiles.values_mut() {
            p.next_check = p.next_check.min(now);
        }
    }
}

fn snoozed(p: &ProfileState, now: DateTime<Utc>) -> bool {
    p.snoozed_until.is_some_and(|t| t > now)
}

/// Ends an error streak; says whether errors had been announced (the human was told).
fn clear_errors(p: &mut ProfileState) -> bool {
    let announced = p.cannot_check_announced;
    p.consecutive_errors = 0;
    p.errors_since = None;
    p.cannot_check_announced = false;
    announced
}

/// The notice for the current episode, once.
fn announce(id: &str, p: &mut ProfileState, tracked: Option<DateTime<Utc>>) -> Option<Notice> {
    if p.announced {
        return None;
    }
    let notice = match p.episode {
        Episode::Healthy => return None,
        Episode::Expiring => Notice::Expiring {
            profile: id.to_owned(),
            tracked_expires_at: tracked,
        },
        Episode::Invalid => Notice::Invalid {
            profile: id.to_owned(),
        },
    };
    p.announced = true;
    Some(notice)
}

/// The next interval for a session with `left` until its tracked expiry.
fn interval(p: &ProfileState, left: Option<Duration>) -> Duration {
    let Some(left) = left else {
        return p.poll_every;
    };
    let until_window = left - p.warn_before;
    let next = if until_window > Duration::zero() {
        // Land a check exactly when the warning window opens.
        p.poll_every.min(until_window)
    } else {
        // Inside the window: more often as the end nears.
        p.poll_every.min(left / 3)
    };
    // Never more often than MIN_INTERVAL, unless the user asked for a shorter poll_every.
    next.max(MIN_INTERVAL.min(p.poll_every))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    fn profile(extra: &str) -> Profile {
        let text = format!(
            "[profiles.mtn]\ncapture = \"manual\"\ncookie_urls = [\"https://h.example/\"]\n{extra}"
        );
        Config::parse(&text, Path::new("t.toml"))
            .expect("config")
            .profiles["mtn"]
            .clone()
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_760_000_000, 0).expect("time")
    }

    fn report(status: Status, tracked: DateTime<Utc>) -> CheckReport {
        CheckReport {
            status,
            tracked_expires_at: Some(tracked),
            learned_expires_at: None,
            captured_at: Some(tracked - Duration::hours(1)),
        }
    }

    fn notices(actions: &[Action]) -> Vec<&Notice> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Notify(n) => Some(n),
                Action::ExtendTrackedExpiry { .. } => None,
            })
            .collect()
    }

    /// An action and when the scheduler asked for it.
    type Timed = (DateTime<Utc>, Action);

    /// Runs the scheduler like the tray app does, with a fake clock, from `from` to `to`:
    /// whenever it is due, `world(now)` answers the check. Returns every action with its time.
    fn run(
        s: &mut Scheduler,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        world: impl Fn(DateTime<Utc>) -> CheckReport,
    ) -> (Vec<Timed>, Vec<DateTime<Utc>>) {
        let mut now = from;
        let mut actions = Vec::new();
        let mut checks = Vec::new();
        while now <= to {
            for id in s.due(now) {
                checks.push(now);
                for a in s.on_check(&id, world(now), now) {
                    actions.push((now, a));
                }
            }
            for a in s.wake_snoozed(now) {
                actions.push((now, a));
            }
            now = s.next_wake(now).max(now + Duration::seconds(1));
        }
        (actions, checks)
    }

    #[test]
    fn checks_at_start_then_every_poll() {
        let p = profile("poll_every = \"5m\"\ntracked_ttl = \"24h\"");
        let mut s = Scheduler::new([&p], t0());
        let tracked = t0() + Duration::hours(24);
        let (actions, checks) = run(&mut s, t0(), t0() + Duration::minutes(30), |_| {
            report(Status::Valid, tracked)
        });
        assert!(actions.is_empty());
        let gaps: Vec<i64> = checks
            .windows(2)
            .map(|w| (w[1] - w[0]).num_seconds())
            .collect();
        assert_eq!(checks[0], t0(), "at once after start");
        assert!(gaps.iter().all(|g| *g == 300), "{gaps:?}");
    }

    #[test]
    fn expiring_then_invalid_each_announced_once_and_polls_tighten() {
        let p = profile("poll_every = \"5m\"\ntracked_ttl = \"60m\"\nwarn_before = \"14m\"");
        let mut s = Scheduler::new([&p], t0());
        let tracked = t0() + Duration::minutes(60);
        let dies = t0() + Duration::minutes(70);
        let (actions, checks) = run(&mut s, t0(), t0() + Duration::minutes(120), |now| {
            // Alive until 70 min, past the 60 min tracked expiry (which the scheduler extends).
            report(
                if now < dies {
                    Status::Valid
                } else {
                    Status::Invalid
                },
                tracked,
            )
        });
        let ns: Vec<&Notice> = actions
            .iter()
            .filter_map(|(_, a)| {
                if let Action::Notify(n) = a {
                    Some(n)
                } else {
                    None
                }
            })
            .collect();
        assert!(
            matches!(
                ns.as_slice(),
                [Notice::Expiring { .. }, Notice::Invalid { .. }]
            ),
            "{ns:?}"
        );
        // The warning window opens at 46 min: a check lands exactly then.
        assert!(
            checks.contains(&(tracked - Duration::minutes(14))),
            "{checks:?}"
        );
        let expiring_at = actions
            .iter()
            .find(|(_, a)| matches!(a, Action::Notify(Notice::Expiring { .. })))
            .map(|(t, _)| *t);
        assert_eq!(expiring_at, Some(tracked - Duration::minutes(14)));
        // Inside the window, checks come faster than poll_every.
        let in_window: Vec<_> = checks
            .iter()
            .filter(|t| **t > tracked - Duration::minutes(14) && **t < tracked)
            .collect();
        assert!(in_window.len() >= 3, "{in_window:?}");
        // Past the tracked expiry but accepted: the clock is moved, and the lifetime learnt.
        assert!(actions.iter().any(|(_, a)| matches!(a, Action::ExtendTrackedExpiry { observed, .. } if *observed >= Duration::minutes(60))));
    }

    #[test]
    fn network_faults_for_ten_minutes_raise_no_expiry_alarm() {
        let p = profile("poll_every = \"5m\"\ntracked_ttl = \"24h\"");
        let mut s = Scheduler::new([&p], t0());
        let tracked = t0() + Duration::hours(24);
        let faults_end = t0() + Duration::minutes(16);
        let (actions, checks) = run(&mut s, t0(), t0() + Duration::minutes(25), |now| {
            report(
                if now >= t0() + Duration::minutes(1) && now < faults_end {
                    Status::Error
                } else {
                    Status::Valid
                },
                tracked,
            )
        });
        assert!(
            notices(&actions.iter().map(|(_, a)| a.clone()).collect::<Vec<_>>()).is_empty(),
            "{actions:?}"
        );
        // Valid at 0; errors from 5 min on, retried after 30 s, 60 s, 120 s, 240 s, then
        // capped at poll_every; valid again once the faults end.
        let gaps: Vec<i64> = checks
            .windows(2)
            .map(|w| (w[1] - w[0]).num_seconds())
            .collect();
        assert_eq!(&gaps[..6], &[300, 30, 60, 120, 240, 300], "{gaps:?}");
    }

    #[test]
    fn persisting_errors_are_announced_once_as_cannot_check_never_as_invalid() {
        let p = profile("poll_every = \"5m\"\ntracked_ttl = \"24h\"");
        let mut s = Scheduler::new([&p], t0());
        let tracked = t0() + Duration::hours(24);
        let (actions, _) = run(&mut s, t0(), t0() + Duration::minutes(60), |now| {
            report(
                if now < t0() + Duration::minutes(40) {
                    Status::Error
                } else {
                    Status::Valid
                },
                tracked,
            )
        });
        let ns: Vec<Notice> = actions
            .into_iter()
            .filter_map(|(_, a)| {
                if let Action::Notify(n) = a {
                    Some(n)
                } else {
                    None
                }
            })
            .collect();
        assert!(
            matches!(
                ns.as_slice(),
                [Notice::CannotCheck { .. }, Notice::Recovered { .. }]
            ),
            "{ns:?}"
        );
    }

    #[test]
    fn an_error_between_two_invalids_does_not_announce_again() {
        let p = profile("tracked_ttl = \"24h\"");
        let mut s = Scheduler::new([&p], t0());
        let tracked = t0() + Duration::hours(24);
        let mut all = Vec::new();
        for (i, status) in [
            Status::Invalid,
            Status::Error,
            Status::Invalid,
            Status::Invalid,
        ]
        .into_iter()
        .enumerate()
        {
            let now = t0() + Duration::minutes(5 * i64::try_from(i).expect("small"));
            all.extend(s.on_check("mtn", report(status, tracked), now));
        }
        assert_eq!(
            notices(&all),
            [&Notice::Invalid {
                profile: "mtn".into()
            }]
        );
    }

    #[test]
    fn a_wall_clock_jump_or_the_network_returning_makes_everything_due() {
        let p = profile("poll_every = \"5m\"\ntracked_ttl = \"24h\"");
        let mut s = Scheduler::new([&p], t0());
        let tracked = t0() + Duration::hours(24);
        assert_eq!(s.due(t0()), ["mtn"]);
        s.on_check("mtn", report(Status::Valid, tracked), t0());
        assert!(s.due(t0() + Duration::minutes(1)).is_empty());
        // The lid was closed for two hours; on waking, check at once.
        let mut jumped = s.clone();
        assert_eq!(jumped.due(t0() + Duration::hours(2)), ["mtn"]);
        // A normal wake does not; the network coming back does.
        assert!(s.due(t0() + Duration::minutes(2)).is_empty());
        s.network_up(t0() + Duration::minutes(2));
        assert_eq!(s.due(t0() + Duration::minutes(2)), ["mtn"]);
    }

    #[test]
    fn a_snoozed_invalid_is_announced_again_when_the_snooze_ends() {
        let p = profile("poll_every = \"5m\"\ntracked_ttl = \"24h\"");
        let mut s = Scheduler::new([&p], t0());
        let tracked = t0() + Duration::hours(24);
        s.snooze("mtn", t0() + Duration::minutes(30));
        let (actions, _) = run(&mut s, t0(), t0() + Duration::minutes(90), |_| {
            report(Status::Invalid, tracked)
        });
        let times: Vec<DateTime<Utc>> = actions
            .iter()
            .filter(|(_, a)| matches!(a, Action::Notify(Notice::Invalid { .. })))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(
            times,
            [t0() + Duration::minutes(30)],
            "nothing while snoozed, once after"
        );
    }

    #[test]
    fn a_new_session_starts_a_new_episode_and_is_checked_now() {
        let p = profile("poll_every = \"5m\"\ntracked_ttl = \"24h\"");
        let mut s = Scheduler::new([&p], t0());
        let tracked = t0() + Duration::hours(24);
        let first = s.on_check("mtn", report(Status::Invalid, tracked), t0());
        assert_eq!(notices(&first).len(), 1);
        s.session_replaced("mtn", t0() + Duration::minutes(1));
        assert_eq!(s.due(t0() + Duration::minutes(1)), ["mtn"]);
        let again = s.on_check(
            "mtn",
            report(Status::Invalid, tracked),
            t0() + Duration::minutes(1),
        );
        assert_eq!(
            notices(&again).len(),
            1,
            "a new session that is dead too is news"
        );
    }

    #[test]
    fn next_wake_is_the_earliest_due_check() {
        let a = profile("poll_every = \"5m\"\ntracked_ttl = \"24h\"");
        let mut b = profile("poll_every = \"1m\"\ntracked_ttl = \"24h\"");
        b.id = "breeze".into();
        let mut s = Scheduler::new([&a, &b], t0());
        let tracked = t0() + Duration::hours(24);
        for id in s.due(t0()) {
            s.on_check(&id, report(Status::Valid, tracked), t0());
        }
        assert_eq!(s.next_wake(t0()), t0() + Duration::minutes(1));
    }

    #[test]
    fn the_warning_comes_before_the_learned_expiry_when_it_is_earlier() {
        let p = profile("tracked_ttl = \"24h\"\nwarn_before = \"30m\"");
        let t0 = Utc::now();
        let mut s = Scheduler::new([&p], t0);
        s.due(t0);
        let learned = |at| CheckReport {
            learned_expires_at: Some(at),
            ..report(Status::Valid, t0 + Duration::hours(23))
        };
        // Learned expiry 2 h away: healthy, checked every poll_every.
        assert!(
            s.on_check("mtn", learned(t0 + Duration::hours(2)), t0)
                .is_empty()
        );
        let t1 = t0 + Duration::minutes(90);
        assert_eq!(
            s.next_wake(t0),
            t0 + Duration::minutes(5).min(Duration::minutes(90))
        );
        // 20 minutes before the learned expiry: one "expiring", naming that deadline.
        let actions = s.on_check("mtn", learned(t1 + Duration::minutes(20)), t1);
        assert_eq!(
            actions,
            vec![Action::Notify(Notice::Expiring {
                profile: "mtn".into(),
                tracked_expires_at: Some(t1 + Duration::minutes(20)),
            })]
        );
        // Past it, still accepted: still expiring (no second notice), polled as usual.
        let t2 = t1 + Duration::minutes(30);
        assert!(
            s.on_check("mtn", learned(t1 + Duration::minutes(20)), t2)
                .is_empty()
        );
        assert_eq!(s.next_wake(t2), t2 + Duration::minutes(5));
    }

    #[test]
    fn a_reload_schedules_new_profiles_at_once_forgets_removed_ones_and_reschedules_changed_timings()
     {
        let text = |extra: &str| {
            format!(
                "[profiles.a]\ncapture = \"manual\"\ncookie_urls = [\"https://h.example/\"]\n\
                 poll_every = \"5m\"\n\
                 [profiles.b]\ncapture = \"manual\"\ncookie_urls = [\"https://h.example/\"]\n{extra}"
            )
        };
        let before = Config::parse(&text(""), Path::new("t.toml")).expect("config");
        let now = t0();
        let mut s = Scheduler::new(before.profiles.values(), now);
        assert_eq!(s.due(now).len(), 2);
        s.checking("a", now);
        s.checking("b", now);
        s.on_check("a", report(Status::Valid, now + Duration::hours(8)), now);
        s.on_check("b", report(Status::Valid, now + Duration::hours(8)), now);
        let later = now + Duration::seconds(10);
        assert!(
            s.due(later).is_empty(),
            "nothing due right after the checks"
        );

        // b's timings change, c is new: both due at once; a keeps its schedule.
        let after = Config::parse(
            &format!(
                "{}poll_every = \"1m\"\n[profiles.c]\ncapture = \"manual\"\n\
                 cookie_urls = [\"https://h.example/\"]\n",
                text("")
            ),
            Path::new("t.toml"),
        )
        .expect("config");
        s.reconfigure(after.profiles.values(), later);
        assert_eq!(s.due(later), ["b", "c"]);
        assert_eq!(s.profiles().collect::<Vec<_>>(), ["a", "b", "c"]);

        // a is removed: forgotten, never due again.
        let only_c = Config::parse(
            "[profiles.c]\ncapture = \"manual\"\ncookie_urls = [\"https://h.example/\"]\n",
            Path::new("t.toml"),
        )
        .expect("config");
        s.reconfigure(only_c.profiles.values(), later);
        assert_eq!(s.profiles().collect::<Vec<_>>(), ["c"]);
        assert!(
            !s.due(later + Duration::hours(1)).contains(&"a".to_owned()),
            "a removed profile is not checked"
        );
    }
}
