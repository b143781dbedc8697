//! The watch loop's brain (`core::monitor`) against sim with a fake clock: ten minutes of
//! network faults in a few seconds, and the notices they may and may not produce.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use sessionkeeper_core::monitor::{Monitor, SessionStore};
use sessionkeeper_core::schedule::Notice;
use sessionkeeper_core::{Config, Profile, Session, VaultError};
use sessionkeeper_tests::{Fault, FaultMode, SessionKind, SimConfig, SimHandle, cookie_export};

/// The store of one live session, in memory (the vault has its own tests).
struct OneSession(Mutex<Option<Session>>);

impl SessionStore for OneSession {
    fn current(&self, _profile: &Profile) -> Result<Option<Session>, VaultError> {
        Ok(self.0.lock().expect("lock").clone())
    }

    fn extend(&self, _profile: &Profile, to: DateTime<Utc>) -> Result<(), VaultError> {
        if let Some(s) = self.0.lock().expect("lock").as_mut() {
            s.expires_at = to;
        }
        Ok(())
    }
}

fn setup(sim: &SimHandle) -> (Config, OneSession) {
    // Checked every minute, so that ten minutes of faults meet many checks; each attempt
    // bounded by 300 ms (sim answers on loopback in a few), so that a hang costs the test
    // little real time.
    let text = sessionkeeper_tests::sim_config(sim)
        .replacen(
            "warn_before = \"15m\"",
            "warn_before = \"15m\"\npoll_every = \"1m\"",
            1,
        )
        .replacen("timeout = \"1s\"", "timeout = \"300ms\"", 1);
    assert!(
        text.contains("poll_every = \"1m\"") && text.contains("timeout = \"300ms\""),
        "{text}"
    );
    let config = Config::parse(&text, std::path::Path::new("config.toml")).expect("config");
    let minted = sim.mint_session(SessionKind::Cookie, None);
    let export = cookie_export("mtn", &[("JSESSIONID", &minted.value, "127.0.0.1")]);
    let session = Session::import(&export, &config.profiles["mtn"]).expect("import");
    (config, OneSession(Mutex::new(Some(session))))
}

/// Runs the monitor from `start` for `span` of fake time, waking exactly when it asks to;
/// returns the notices for `mtn` and how many checks of it ran.
async fn run_for(
    monitor: &mut Monitor,
    store: &OneSession,
    start: DateTime<Utc>,
    span: Duration,
) -> (Vec<Notice>, usize, DateTime<Utc>) {
    let mut now = start;
    let mut notices = Vec::new();
    let mut checks = 0;
    while now < start + span {
        let before = monitor.view("mtn").and_then(|v| v.checked_at);
        let ticked = monitor
            .tick(now, store, &sessionkeeper_core::check::Checker::new())
            .await;
        // sim_config also has `breeze`, which has no session here: only `mtn` is watched.
        notices.extend(ticked.into_iter().filter(|n| notice_profile(n) == "mtn"));
        if monitor.view("mtn").and_then(|v| v.checked_at) != before {
            checks += 1;
        }
        now = monitor.next_wake(now).max(now + Duration::seconds(1));
    }
    (notices, checks, now)
}

fn notice_profile(n: &Notice) -> &str {
    match n {
        Notice::Expiring { profile, .. }
        | Notice::Invalid { profile }
        | Notice::CannotCheck { profile, .. }
        | Notice::Recovered { profile } => profile,
    }
}

/// sim runs on a runtime of its own; the monitor gets another, as in the app.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

#[test]
fn ten_minutes_of_5xx_and_hangs_raise_no_expiry_notice() {
    let sim = SimHandle::start(SimConfig::default());
    runtime().block_on(faults(&sim));
}

async fn faults(sim: &SimHandle) {
    let (config, store) = setup(sim);
    let start = Utc::now();
    let mut monitor = Monitor::new(&config, None, start);

    // First a healthy check, so that there is an episode to keep.
    let first = monitor
        .tick(start, &store, &sessionkeeper_core::check::Checker::new())
        .await;
    assert!(
        first.iter().all(|n| notice_profile(n) != "mtn"),
        "{first:?}"
    );
    assert_eq!(
        monitor.view("mtn").and_then(|v| v.status),
        Some(sessionkeeper_core::Status::Valid)
    );

    // Five minutes of 503, then five minutes of a server that accepts and never answers.
    sim.set_fault(Fault::status(503));
    let (mut notices, checks_5xx, now) = run_for(
        &mut monitor,
        &store,
        start + Duration::seconds(1),
        Duration::minutes(5),
    )
    .await;
    sim.set_fault(Fault::always(FaultMode::Hang));
    let (more, checks_hang, now) = run_for(&mut monitor, &store, now, Duration::minutes(5)).await;
    notices.extend(more);

    // Backoff 30 s, then every poll_every (1 min).
    assert!(
        checks_5xx >= 4,
        "the 5xx were really checked: {checks_5xx} checks"
    );
    assert!(
        checks_hang >= 4,
        "the hangs were really checked: {checks_hang} checks"
    );
    assert_eq!(
        monitor.view("mtn").and_then(|v| v.status),
        Some(sessionkeeper_core::Status::Error)
    );
    assert!(
        notices.is_empty(),
        "a network fault is never an expiry, and 10 minutes is not yet worth a word: {notices:?}"
    );

    // Past 15 minutes of errors, one "cannot check" notice, and still no expiry.
    sim.set_fault(Fault::status(502));
    let (late, _, now) = run_for(&mut monitor, &store, now, Duration::minutes(7)).await;
    assert!(
        matches!(late.as_slice(), [Notice::CannotCheck { .. }]),
        "one notice that checks fail, no expiry: {late:?}"
    );

    // The network comes back: the session is fine, and the human hears it is.
    sim.clear_fault();
    monitor.network_up(now);
    let back: Vec<Notice> = monitor
        .tick(now, &store, &sessionkeeper_core::check::Checker::new())
        .await
        .into_iter()
        .filter(|n| notice_profile(n) == "mtn")
        .collect();
    assert!(
        matches!(back.as_slice(), [Notice::Recovered { .. }]),
        "{back:?}"
    );
}

#[test]
fn an_expired_session_is_announced_once_however_often_it_is_checked() {
    let sim = SimHandle::start(SimConfig::default());
    runtime().block_on(expiry(&sim));
}

async fn expiry(sim: &SimHandle) {
    let (config, store) = setup(sim);
    let start = Utc::now();
    let mut monitor = Monitor::new(&config, None, start);
    let first = monitor
        .tick(start, &store, &sessionkeeper_core::check::Checker::new())
        .await;
    assert!(
        first.iter().all(|n| notice_profile(n) != "mtn"),
        "{first:?}"
    );

    let value = store
        .0
        .lock()
        .expect("lock")
        .as_ref()
        .and_then(|s| s.cookies.first().map(|c| c.value.expose().to_owned()))
        .expect("cookie");
    assert!(sim.expire_session(&value));
    let (notices, checks, _) = run_for(
        &mut monitor,
        &store,
        start + Duration::seconds(1),
        Duration::minutes(30),
    )
    .await;
    assert!(checks >= 5, "{checks} checks");
    assert!(
        matches!(notices.as_slice(), [Notice::Invalid { profile }] if profile == "mtn"),
        "{notices:?}"
    );
}

/// Sessions of `mtn` that each lived 30 minutes, in the history: captured, accepted, refused.
fn thirty_minute_history(
    dir: &std::path::Path,
    until: DateTime<Utc>,
) -> sessionkeeper_core::history::History {
    use sessionkeeper_core::check::Reason;
    use sessionkeeper_core::history::{Event, History};
    let history = History::at(dir);
    let check = |at, status, reason| Event::Check {
        profile: "mtn".into(),
        at,
        status,
        reason,
        http_status: None,
        tracked_expires_at: None,
    };
    for i in 1..=5 {
        let start = until - Duration::hours(i * 2);
        for event in [
            Event::Captured {
                profile: "mtn".into(),
                at: start,
                captured_at: start,
                tracked_expires_at: start + Duration::hours(1),
                source: "test".into(),
            },
            check(
                start + Duration::minutes(29),
                sessionkeeper_core::Status::Valid,
                Reason::Accepted,
            ),
            check(
                start + Duration::minutes(31),
                sessionkeeper_core::Status::Invalid,
                Reason::Rejected,
            ),
        ] {
            history.append(&event).expect("history");
        }
    }
    history
}

#[test]
fn the_expiring_notice_comes_before_the_learned_expiry_when_the_tracked_one_is_later() {
    let sim = SimHandle::start(SimConfig::default());
    runtime().block_on(learned(&sim));
}

async fn learned(sim: &SimHandle) {
    let (config, store) = setup(sim);
    let start = store
        .0
        .lock()
        .expect("lock")
        .as_ref()
        .map(|s| s.captured_at)
        .expect("session");
    let dir = tempfile::tempdir().expect("tempdir");
    let history = thirty_minute_history(dir.path(), start);
    // Tracked for an hour, warned 15 minutes before; but sessions here die after ~30 minutes.
    let mut monitor = Monitor::new(&config, Some(history), start);
    let first: Vec<Notice> = monitor
        .tick(start, &store, &sessionkeeper_core::check::Checker::new())
        .await
        .into_iter()
        .filter(|n| notice_profile(n) == "mtn")
        .collect();
    assert!(first.is_empty(), "{first:?}");
    let (notices, _, _) = run_for(
        &mut monitor,
        &store,
        start + Duration::seconds(1),
        Duration::minutes(25),
    )
    .await;
    assert!(
        matches!(notices.as_slice(), [Notice::Expiring { tracked_expires_at: Some(t), .. }]
            if *t < start + Duration::minutes(45)),
        "warned before the learned expiry (~30 min), not the tracked one (60 min): {notices:?}"
    );
}

/// 50 sessions on sim with lifetimes drawn from a known distribution, each checked until the
/// server refuses it, as the app does: the lifetime learned from that history lands within
/// 10 % of the true median of the lifetimes sim drew.
#[test]
fn fifty_sim_sessions_teach_their_median_lifetime_within_ten_percent() {
    use sessionkeeper_core::history::Event;
    use sessionkeeper_tests::Lifetime;
    let sim = SimHandle::start(SimConfig {
        lifetime: Lifetime::Uniform {
            min: std::time::Duration::from_millis(100),
            max: std::time::Duration::from_millis(400),
        },
        ..SimConfig::default()
    });
    let text = sessionkeeper_tests::sim_config(&sim);
    let config = Config::parse(&text, std::path::Path::new("config.toml")).expect("config");
    let profile = &config.profiles["mtn"];
    let checker = sessionkeeper_core::Checker::new();
    // One session from mint to refusal, checked every 5 ms as the app would check it: its
    // events and the lifetime sim drew for it.
    let follow = || async {
        let minted = sim.mint_session(SessionKind::Cookie, None);
        let captured = Utc::now();
        let export = cookie_export("mtn", &[("JSESSIONID", &minted.value, "127.0.0.1")]);
        let session = Session::import(&export, profile).expect("import");
        let mut events = vec![Event::Captured {
            profile: "mtn".into(),
            at: captured,
            captured_at: captured,
            tracked_expires_at: captured + Duration::hours(1),
            source: "sim".into(),
        }];
        loop {
            let outcome = checker
                .check(profile, Some(&session), chrono::Utc::now())
                .await;
            events.push(Event::from_check(&outcome));
            if outcome.status != sessionkeeper_core::Status::Valid {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        (events, minted.lifetime_ms)
    };
    // Ten sessions followed at a time: five rounds of a lifetime each, not fifty. Each spends
    // most of its loop in the 5 ms wait, so the checker's bound of six requests in flight to
    // one origin seldom holds a check back. The history keeps each session's events together,
    // as `lifetime::estimate` reads them (one capture, then its checks).
    let mut events = Vec::new();
    let mut true_lifetimes = Vec::new();
    runtime().block_on(async {
        for _ in 0..5 {
            let round = futures_util::future::join_all((0..10).map(|_| follow())).await;
            for (session_events, lifetime_ms) in round {
                events.extend(session_events);
                true_lifetimes.push(lifetime_ms);
            }
        }
    });
    true_lifetimes.sort_unstable();
    let true_median = (true_lifetimes[24] + true_lifetimes[25]) as f64 / 2.0;
    let estimate = sessionkeeper_core::lifetime::estimate(&events, "mtn", Utc::now(), 3)
        .expect("50 ended sessions are enough");
    assert_eq!(estimate.ended, 50);
    let learned = estimate.median.num_milliseconds() as f64;
    assert!(
        (learned - true_median).abs() <= true_median * 0.10,
        "learned median {learned} ms vs true median {true_median} ms"
    );
}
