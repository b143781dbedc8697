//! How long a provider's sessions really live, learned from the history: the seeds tracked
//! 60 minutes while sessions lived 2 to 24 hours. Every capture starts a session; it died
//! between its last accepted check and the first check the server rejected (an `error` proves
//! nothing); sessions still alive, or replaced while alive, count as lasting at least as long
//! as they were seen. The median comes from the Kaplan–Meier estimator, which is exact for
//! such partly observed lives, instead of a plain median that would ignore the living.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::check::{Reason, Status};
use crate::history::Event;

/// Sessions that must have been seen to end before an estimate is shown or acted on.
pub const MIN_ENDED_SESSIONS: usize = 3;

/// What the history says about a profile's session lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LifetimeEstimate {
    /// Half of the sessions live longer than this.
    #[serde(rename = "medianSecs", serialize_with = "secs")]
    pub median: Duration,
    /// Nine sessions in ten live longer than this: a tracked_ttl that is still conservative.
    #[serde(rename = "suggestedTrackedTtlSecs", serialize_with = "secs")]
    pub suggested_tracked_ttl: Duration,
    /// Sessions whose end was seen.
    pub ended: usize,
    /// Sessions seen alive without their end (still alive, or replaced).
    pub still_alive: usize,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's serialize_with signature
fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(d.num_seconds())
}

/// One session's life as far as it was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Life {
    length: Duration,
    ended: bool,
}

/// The estimate for `profile` from `events` (oldest first), when at least `min_ended`
/// sessions were seen to end.
pub fn estimate(
    events: &[Event],
    profile: &str,
    now: DateTime<Utc>,
    min_ended: usize,
) -> Option<LifetimeEstimate> {
    let lives = lives(events, profile, now);
    let ended = lives.iter().filter(|l| l.ended).count();
    if ended < min_ended.max(1) {
        return None;
    }
    Some(LifetimeEstimate {
        median: survival_quantile(&lives, 0.5)?,
        // The time by which one session in ten has ended: nine in ten outlive it.
        suggested_tracked_ttl: survival_quantile(&lives, 0.1)?,
        ended,
        still_alive: lives.len() - ended,
    })
}

fn lives(events: &[Event], profile: &str, now: DateTime<Utc>) -> Vec<Life> {
    let mut lives = Vec::new();
    // (captured at, last seen accepted)
    let mut current: Option<(DateTime<Utc>, Option<DateTime<Utc>>)> = None;
    for event in events.iter().filter(|e| e.profile() == profile) {
        match event {
            Event::Captured { captured_at, .. } => {
                if let Some((start, seen)) = current.take() {
                    lives.push(Life {
                        length: seen.unwrap_or(start) - start,
                        ended: false,
                    });
                }
                current = Some((*captured_at, None));
            }
            Event::Check {
                at, status, reason, ..
            } => {
                let Some((start, seen)) = current.as_mut() else {
                    continue;
                };
                match status {
                    Status::Valid | Status::Expiring => *seen = Some(*at),
                    Status::Invalid
                        if matches!(reason, Reason::Rejected | Reason::LoginRedirect) =>
                    {
                        // It died somewhere between the last acceptance and this refusal.
                        let last_alive = seen.unwrap_or(*start);
                        let death = last_alive + (*at - last_alive) / 2;
                        lives.push(Life {
                            length: death - *start,
                            ended: true,
                        });
                        current = None;
                    }
                    Status::Invalid | Status::Error => {}
                }
            }
            Event::Extended { .. }
            | Event::Restored { .. }
            | Event::Push { .. }
            | Event::RefreshFailed { .. } => {}
        }
    }
    if let Some((start, seen)) = current {
        lives.push(Life {
            length: seen.unwrap_or(start).min(now) - start,
            ended: false,
        });
    }
    lives
}

/// One session as the dashboard's timeline draws it: from its capture, through the last time
/// the server accepted it, to the first refusal (if it was seen to die).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSpan {
    pub captured_at: DateTime<Utc>,
    /// Where it came from: `login`, `refresh`, `import`, `paste`.
    pub source: String,
    pub last_seen_valid: Option<DateTime<Utc>>,
    /// The first check the server refused it (a network fault is no death).
    pub refused_at: Option<DateTime<Utc>>,
    /// Another session replaced it before it was seen to die.
    pub replaced: bool,
}

/// Every session of `profile` in `events` (oldest first), for the timeline.
pub fn timeline(events: &[Event], profile: &str) -> Vec<SessionSpan> {
    let mut spans: Vec<SessionSpan> = Vec::new();
    for event in events.iter().filter(|e| e.profile() == profile) {
        match event {
            Event::Captured {
                captured_at,
                source,
                ..
            } => {
                if let Some(last) = spans.last_mut()
                    && last.refused_at.is_none()
                {
                    last.replaced = true;
                }
                spans.push(SessionSpan {
                    captured_at: *captured_at,
                    source: source.clone(),
                    last_seen_valid: None,
                    refused_at: None,
                    replaced: false,
                });
            }
            Event::Check {
                at, status, reason, ..
            } => {
                let Some(span) = spans.last_mut().filter(|s| s.refused_at.is_none()) else {
                    continue;
                };
                match status {
                    Status::Valid | Status::Expiring => span.last_seen_valid = Some(*at),
                    Status::Invalid
                        if matches!(reason, Reason::Rejected | Reason::LoginRedirect) =>
                    {
                        span.refused_at = Some(*at);
                    }
                    Status::Invalid | Status::Error => {}
                }
            }
            _ => {}
        }
    }
    spans
}

/// The time by which a fraction `q` of sessions has ended: when the Kaplan–Meier survival
/// falls to `1 - q` or below.
fn survival_quantile(lives: &[Life], q: f64) -> Option<Duration> {
    let mut sorted = lives.to_vec();
    // At equal times, ends come before censorings (the usual convention).
    sorted.sort_by_key(|l| (l.length, !l.ended));
    let mut at_risk = sorted.len();
    let mut survival = 1.0_f64;
    for life in sorted {
        if life.ended {
            #[allow(clippy::cast_precision_loss)]
            let risk = at_risk as f64;
            survival *= 1.0 - 1.0 / risk;
            if survival <= 1.0 - q + 1e-12 {
                return Some(life.length);
            }
        }
        at_risk -= 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use rand::{Rng as _, SeedableRng as _};

    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_760_000_000, 0).expect("time")
    }

    fn check(at: DateTime<Utc>, status: Status, reason: Reason) -> Event {
        Event::Check {
            profile: "mtn".into(),
            at,
            status,
            reason,
            http_status: None,
            tracked_expires_at: None,
        }
    }

    fn captured(at: DateTime<Utc>) -> Event {
        Event::Captured {
            profile: "mtn".into(),
            at,
            captured_at: at,
            tracked_expires_at: at + Duration::hours(1),
            source: "test".into(),
        }
    }

    /// Sessions one after another, each polled every `poll` until the server refuses it, the
    /// next captured when the refusal is seen; returns the events and the true lifetimes.
    fn simulate(lifetimes: &[Duration], poll: Duration) -> Vec<Event> {
        let mut events = Vec::new();
        let mut now = t0();
        for life in lifetimes {
            let start = now;
            events.push(captured(start));
            loop {
                now += poll;
                if now - start < *life {
                    events.push(check(now, Status::Valid, Reason::Accepted));
                } else {
                    events.push(check(now, Status::Invalid, Reason::Rejected));
                    break;
                }
            }
            now += Duration::minutes(3); // a human logs in again
        }
        events
    }

    #[test]
    fn fifty_sessions_give_the_median_within_ten_percent() {
        // The seeds saw sessions live 2 to 24 hours; draw 50 from that, polled every 5 minutes.
        let mut rng = rand::rngs::StdRng::seed_from_u64(20251018);
        let lifetimes: Vec<Duration> = (0..50)
            .map(|_| Duration::minutes(rng.random_range(120..=1440)))
            .collect();
        let mut sorted = lifetimes.clone();
        sorted.sort();
        let true_median = (sorted[24] + sorted[25]) / 2;
        let events = simulate(&lifetimes, Duration::minutes(5));
        let e = estimate(&events, "mtn", t0() + Duration::days(60), 5).expect("enough sessions");
        let error =
            (e.median - true_median).num_seconds().abs() as f64 / true_median.num_seconds() as f64;
        assert!(
            error < 0.10,
            "learned {} vs true {} ({:.1} %)",
            e.median,
            true_median,
            error * 100.0
        );
        assert_eq!(e.ended, 50);
        // Also near the distribution's median (13 h), which the sample estimates.
        let off = (e.median - Duration::hours(13)).num_minutes().abs();
        assert!(off < 3 * 60, "{} is far from 13 h", e.median);
        // Nine in ten outlive the suggestion; the shortest possible life is 2 h (less half a poll).
        assert!(
            e.suggested_tracked_ttl < e.median && e.suggested_tracked_ttl >= Duration::minutes(115),
            "{e:?}"
        );
    }

    #[test]
    fn errors_prove_nothing_and_living_sessions_count_as_lasting() {
        let mut events = vec![captured(t0())];
        events.push(check(
            t0() + Duration::hours(1),
            Status::Valid,
            Reason::Accepted,
        ));
        // A network fault and a missing session are not deaths.
        events.push(check(
            t0() + Duration::hours(2),
            Status::Error,
            Reason::Timeout,
        ));
        events.push(check(
            t0() + Duration::hours(3),
            Status::Invalid,
            Reason::NoSession,
        ));
        events.push(check(
            t0() + Duration::hours(4),
            Status::Invalid,
            Reason::Rejected,
        ));
        // Died between 1 h (last accepted) and 4 h (refused): 2.5 h.
        let lives = lives(&events, "mtn", t0() + Duration::hours(5));
        assert_eq!(
            lives,
            [Life {
                length: Duration::minutes(150),
                ended: true
            }]
        );

        // Three ended at 1 h, 2 h, 3 h; two still alive at 10 h: the plain median of the ended
        // ones (2 h) would be too short, Kaplan–Meier says 3 h.
        let lives = [1, 2, 3].map(|h| Life {
            length: Duration::hours(h),
            ended: true,
        });
        let alive = [Life {
            length: Duration::hours(10),
            ended: false,
        }; 2];
        let all: Vec<Life> = lives.iter().chain(alive.iter()).copied().collect();
        assert_eq!(survival_quantile(&all, 0.5), Some(Duration::hours(3)));
    }

    #[test]
    fn too_little_history_gives_no_estimate() {
        let events = simulate(
            &[Duration::hours(3), Duration::hours(5)],
            Duration::minutes(5),
        );
        assert!(estimate(&events, "mtn", t0() + Duration::days(2), 3).is_none());
        assert!(estimate(&events, "mtn", t0() + Duration::days(2), 2).is_some());
        assert!(estimate(&events, "other", t0() + Duration::days(2), 1).is_none());
    }

    #[test]
    fn the_timeline_shows_each_session_from_capture_to_its_first_refusal() {
        let t0 = Utc::now() - Duration::days(1);
        let p = "mtn";
        let captured = |at| Event::Captured {
            profile: p.into(),
            at,
            captured_at: at,
            tracked_expires_at: at + Duration::hours(1),
            source: "login".into(),
        };
        let check = |at, status, reason| Event::Check {
            profile: p.into(),
            at,
            status,
            reason,
            http_status: None,
            tracked_expires_at: None,
        };
        let events = vec![
            captured(t0),
            check(t0 + Duration::hours(2), Status::Valid, Reason::Accepted),
            check(t0 + Duration::hours(3), Status::Error, Reason::ServerError),
            check(t0 + Duration::hours(4), Status::Invalid, Reason::Rejected),
            check(t0 + Duration::hours(5), Status::Invalid, Reason::Rejected),
            captured(t0 + Duration::hours(6)),
            check(t0 + Duration::hours(7), Status::Valid, Reason::Accepted),
            captured(t0 + Duration::hours(8)),
        ];
        let spans = timeline(&events, p);
        assert_eq!(spans.len(), 3);
        assert_eq!(spans[0].last_seen_valid, Some(t0 + Duration::hours(2)));
        assert_eq!(
            spans[0].refused_at,
            Some(t0 + Duration::hours(4)),
            "the first refusal"
        );
        assert!(!spans[0].replaced);
        assert!(spans[1].replaced && spans[1].refused_at.is_none());
        assert_eq!(spans[2].last_seen_valid, None);
        assert!(timeline(&events, "other").is_empty());
    }
}
