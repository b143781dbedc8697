//! The app's behaviour without a window: core's controller, fed intents as the edges of the
//! app would send them, driving a recording host, on a fake clock, against sim and a real
//! Secret Service. What the desktop tests would wait minutes for takes a second here: the
//! test moves the clock (the controller's and sim's alike) and waits for the host's calls.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use sessionkeeper_controller::{Handle, Intent, Keychain, NoticeKey, Setup, Topic};
use sessionkeeper_core::clock::FakeClock;
use sessionkeeper_core::config::Config;
use sessionkeeper_core::history::History;
use sessionkeeper_core::overview::TrayColour;
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::session::{Cookie, SameSite, Session};
use sessionkeeper_core::targets::TargetBook;
use sessionkeeper_core::vault::{SecretName, Vault};
use sessionkeeper_tests::fixture::Fixture;
use sessionkeeper_tests::recording::{Call, RecordingHost};
use sessionkeeper_tests::{SessionKind, SimConfig, SimHandle, TestEnv, require_keychain};

const WAIT: Duration = Duration::from_secs(20);
const NAME: &str = "MTN Controller";

/// A controller over one cookie profile `mtn` (pushed to sim's GitHub and Vercel), with its
/// own keychain service, dirs and fake clock.
struct World {
    sim: SimHandle,
    env: TestEnv,
    clock: FakeClock,
    host: RecordingHost,
    handle: Handle,
    vault: Arc<Vault>,
    config: Arc<Config>,
    runtime: tokio::runtime::Runtime,
}

impl World {
    fn new(
        name: &str,
        sim: SimHandle,
        fixture: impl FnOnce(Fixture) -> Fixture,
        session: Option<&Session>,
    ) -> Self {
        require_keychain();
        if std::env::var_os("SESSIONKEEPER_TEST_LOG").is_some() {
            // The controller's log, for a failing test (off by default).
            let _ = tracing_subscriber::fmt()
                .with_env_filter("info")
                .with_test_writer()
                .try_init();
        }
        let env = TestEnv::new(name);
        let text = fixture(
            Fixture::new(&sim)
                .accounts()
                .cookie_profile("mtn", NAME)
                .set(&["profiles", "mtn"], "tracked_ttl", "20m")
                .set(&["profiles", "mtn"], "warn_before", "15m")
                .set(&["profiles", "mtn"], "poll_every", "5m")
                .push_github("mtn", "MTN_SESSION")
                .push_vercel("mtn", "MTN_SESSION"),
        )
        .text();
        env.write_config(&text);
        let config = Arc::new(Config::parse(&text, &env.config_path()).expect("the fixture loads"));
        let keychain = Keychain::isolated(&env.service, env.sessions_dir());
        let vault = Arc::new(keychain.open().expect("the test keychain opens"));
        let defaults = SimConfig::default();
        for (item, secret) in [
            ("account:github", defaults.github_token.clone()),
            ("account:vercel", defaults.vercel_token.clone()),
            ("profile:mtn:username", defaults.username.clone()),
            ("profile:mtn:password", defaults.password.clone()),
        ] {
            vault
                .set_secret(
                    &SecretName::parse(item).expect("name"),
                    &Secret::new(secret),
                )
                .expect("set");
        }
        if let Some(session) = session {
            vault.store_session(session).expect("store");
        }
        let clock = FakeClock::new(chrono::Utc::now());
        let host = RecordingHost::new();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let state = env.state_dir();
        let setup = Setup {
            config: Arc::clone(&config),
            config_error: None,
            keychain,
            history: Some(History::at(&state)),
            book: Some(TargetBook::at(&state)),
            demo: false,
            autostart: false,
            // Quick retries of a failing call: the backoff between attempts is what is tested.
            retry: Some(sessionkeeper_core::push::RetryPolicy {
                attempts: 2,
                backoff: Duration::from_millis(10),
                max_rate_limit_wait: Duration::from_secs(5),
            }),
        };
        let (handle, _task) = {
            let _guard = runtime.enter();
            sessionkeeper_controller::spawn(host.clone(), Arc::new(clock.clone()), setup)
        };
        Self {
            sim,
            env,
            clock,
            host,
            handle,
            vault,
            config,
            runtime,
        }
    }

    /// Moves the controller's clock and sim's by `by`.
    fn advance(&self, by: Duration) {
        self.sim.advance(by);
        self.clock
            .advance(chrono::Duration::from_std(by).expect("duration"));
    }

    fn send(&self, intent: Intent) {
        assert!(self.handle.send(intent), "the controller stopped");
    }

    /// The dashboard's state now, or `None` if the controller gave no answer in time.
    fn try_dashboard(&self) -> Option<sessionkeeper_controller::DashboardState> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Intent::DashboardState { reply: tx });
        self.runtime
            .block_on(async { tokio::time::timeout(WAIT, rx).await })
            .ok()?
            .ok()
    }

    /// The dashboard's state now.
    fn dashboard(&self) -> sessionkeeper_controller::DashboardState {
        self.try_dashboard().expect("the controller answered")
    }

    /// A paste of `session`'s export in the dashboard, and the answer the page would show.
    fn paste(&self, session: &Session) -> Result<String, String> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Intent::Paste {
            profile: "mtn".to_owned(),
            text: session.export(),
            reply: tx,
        });
        self.runtime
            .block_on(async { tokio::time::timeout(WAIT, rx).await })
            .expect("an answer in time")
            .expect("the controller answered")
    }

    fn notified(&self, summary: &str) -> usize {
        self.host
            .summaries()
            .iter()
            .filter(|s| *s == summary)
            .count()
    }

    /// What sim's GitHub and Vercel hold for MTN_SESSION.
    fn pushed(&self) -> (Option<String>, Option<String>) {
        let github = self
            .sim
            .github_secret("repo:acme/circletel", "MTN_SESSION")
            .map(|b| String::from_utf8(b).expect("utf-8"));
        let vercel = self
            .sim
            .vercel_env("circletel", "MTN_SESSION")
            .map(|v| v.value);
        (github, vercel)
    }

    fn export(&self) -> String {
        self.vault
            .current_session(&self.config.profiles["mtn"])
            .expect("a session")
            .export()
            .expose()
            .to_owned()
    }
}

/// A live sim session of `mtn`, tracked for `tracked` from now.
fn live_session(
    sim: &SimHandle,
    config_profile: &sessionkeeper_core::config::Profile,
    tracked: chrono::Duration,
) -> Session {
    let minted = sim.mint_session(SessionKind::Cookie, None);
    let mut session = Session::captured(
        config_profile,
        vec![cookie(&minted.value)],
        None,
        chrono::Utc::now(),
    );
    session.expires_at = session.captured_at + tracked;
    session
}

fn cookie(value: &str) -> Cookie {
    Cookie {
        name: "JSESSIONID".into(),
        value: Secret::new(value),
        domain: "127.0.0.1".into(),
        path: "/".into(),
        expires: -1.0,
        http_only: true,
        secure: false,
        same_site: SameSite::Lax,
    }
}

/// The profile `mtn` as the default fixture defines it (for building sessions before the
/// world exists).
fn mtn_profile(sim: &SimHandle) -> sessionkeeper_core::config::Profile {
    let text = Fixture::new(sim)
        .accounts()
        .cookie_profile("mtn", NAME)
        .set(&["profiles", "mtn"], "tracked_ttl", "20m")
        .text();
    Config::parse(&text, std::path::Path::new("t.toml"))
        .expect("loads")
        .profiles["mtn"]
        .clone()
}

fn tray_is(colour: TrayColour) -> impl Fn(&[Call]) -> Option<()> {
    move |calls| {
        calls
            .iter()
            .rev()
            .find_map(|c| match c {
                Call::DrawTray(t) => Some(t.colour == colour),
                _ => None,
            })
            .filter(|ok| *ok)
            .map(|_| ())
    }
}

fn notified(summary: String) -> impl Fn(&[Call]) -> Option<usize> {
    move |calls| {
        calls
            .iter()
            .position(|c| matches!(c, Call::Notify { summary: s, .. } if *s == summary))
    }
}

#[test]
fn an_episode_has_one_notification_and_it_is_withdrawn_when_the_episode_ends() {
    let sim = SimHandle::start(SimConfig::default());
    let profile = mtn_profile(&sim);
    let session = live_session(&sim, &profile, chrono::Duration::minutes(20));
    let first = session.cookies[0].value.expose().to_owned();
    let w = World::new("ctl-episode", sim, |f| f, Some(&session));
    w.host.wait_for(
        "green after the first check",
        WAIT,
        tray_is(TrayColour::Green),
    );

    // Six minutes on, the next check finds the tracked expiry within warn_before.
    w.advance(Duration::from_secs(6 * 60));
    let expiring = format!("{NAME}: session expiring");
    w.host.wait_for(
        "the expiring notification",
        WAIT,
        notified(expiring.clone()),
    );
    w.host.wait_for("amber", WAIT, tray_is(TrayColour::Amber));

    // The server ends the session; checks find it invalid, announced once however often.
    assert!(w.sim.expire_session(&first));
    let expired = format!("{NAME}: session expired");
    w.send(Intent::Validate {
        profile: "mtn".into(),
    });
    w.host
        .wait_for("the expired notification", WAIT, notified(expired.clone()));
    w.host.wait_for("red", WAIT, tray_is(TrayColour::Red));
    // Three more checks, a poll_every apart, find it still invalid (each is in the history).
    let history = History::at(&w.env.state_dir());
    let invalid_checks = || {
        history
            .events()
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    sessionkeeper_core::history::Event::Check {
                        status: sessionkeeper_core::check::Status::Invalid,
                        ..
                    }
                )
            })
            .count()
    };
    for n in 2..=4 {
        w.advance(Duration::from_secs(5 * 60));
        w.host.wait_for(&format!("invalid check {n}"), WAIT, |_| {
            (invalid_checks() >= n).then_some(())
        });
    }
    assert_eq!(w.notified(&expired), 1, "{:#?}", w.host.summaries());
    assert_eq!(w.notified(&expiring), 1, "{:#?}", w.host.summaries());

    // A new session arrives: the expired notification is withdrawn, and the push is told.
    let fresh = live_session(&w.sim, &profile, chrono::Duration::minutes(60));
    assert!(
        w.paste(&fresh)
            .expect("stored")
            .starts_with("Validated and stored")
    );
    let withdrawn = w
        .host
        .wait_for("the expired notification withdrawn", WAIT, |calls| {
            calls.iter().position(
                |c| matches!(c, Call::Withdraw(k) if *k == NoticeKey::new("mtn", Topic::Session)),
            )
        });
    let shown = w
        .host
        .wait_for("the expired notification", WAIT, notified(expired));
    assert!(withdrawn > shown, "withdrawn after it was shown");
    w.host.wait_for(
        "the push result",
        WAIT,
        notified(format!("{NAME}: pasted session; pushed to 2 of 2")),
    );
    w.host
        .wait_for("green again", WAIT, tray_is(TrayColour::Green));
}

#[test]
fn re_authenticate_opens_one_prefilled_login_window_and_a_second_request_focuses_it() {
    let sim = SimHandle::start(SimConfig::default());
    let w = World::new("ctl-reauth", sim, |f| f, None);
    w.send(Intent::Reauthenticate {
        profile: "mtn".into(),
    });
    let (url, prefill, title) = w.host.wait_for("the login window", WAIT, |calls| {
        calls.iter().find_map(|c| match c {
            Call::OpenLogin {
                profile,
                url,
                prefill,
                title,
            } if profile == "mtn" => Some((url.clone(), *prefill, title.clone())),
            _ => None,
        })
    });
    assert_eq!(url, w.sim.urls().sso_login);
    assert!(prefill, "pre-filled from the keychain");
    assert!(
        title.starts_with(&format!("Log in — {NAME}: sign in")),
        "{title}"
    );
    w.send(Intent::Reauthenticate {
        profile: "mtn".into(),
    });
    w.host.wait_for("the focus", WAIT, |calls| {
        calls
            .iter()
            .find(|c| matches!(c, Call::FocusLogin(p) if p == "mtn"))
            .map(|_| ())
    });
    // Closed halfway: nothing stored; asked again, a new window opens.
    w.send(Intent::LoginClosed {
        profile: "mtn".into(),
    });
    w.send(Intent::Reauthenticate {
        profile: "mtn".into(),
    });
    w.host.wait_for("a second window", WAIT, |calls| {
        (calls
            .iter()
            .filter(|c| matches!(c, Call::OpenLogin { .. }))
            .count()
            == 2)
            .then_some(())
    });
    assert!(
        w.vault.current_session(&w.config.profiles["mtn"]).is_err(),
        "nothing stored"
    );
    assert_eq!(
        w.host
            .calls()
            .iter()
            .filter(|c| matches!(c, Call::OpenLogin { .. }))
            .count(),
        2,
        "one window per request that had none"
    );
}

#[test]
fn a_completed_login_is_validated_stored_and_pushed_and_its_window_closes() {
    let sim = SimHandle::start(SimConfig::default());
    let w = World::new("ctl-capture", sim, |f| f, None);
    w.send(Intent::Reauthenticate {
        profile: "mtn".into(),
    });
    w.host.wait_for("the login window", WAIT, |calls| {
        calls
            .iter()
            .find(|c| matches!(c, Call::OpenLogin { .. }))
            .map(|_| ())
    });
    let u = w.sim.urls();
    // The window is still on the SSO: not done, whatever the cookies.
    let minted = w.sim.mint_session(SessionKind::Cookie, None);
    w.send(Intent::LoginSeen {
        profile: "mtn".into(),
        url: u.sso_login.parse().expect("url"),
        cookies: vec![cookie(&minted.value)],
    });
    // The human is through: the portal, with the session cookie.
    w.send(Intent::LoginSeen {
        profile: "mtn".into(),
        url: format!("{}?ticket=ST-1", u.portal).parse().expect("url"),
        cookies: vec![cookie(&minted.value)],
    });
    w.host.wait_for("the window closes", WAIT, |calls| {
        calls
            .iter()
            .find(|c| matches!(c, Call::CloseLogin(p) if p == "mtn"))
            .map(|_| ())
    });
    w.host.wait_for(
        "the push result",
        WAIT,
        notified(format!("{NAME}: logged in; pushed to 2 of 2")),
    );
    let export = w.export();
    assert!(export.len() > 20);
    let stored = Session::from_export_json(
        std::str::from_utf8(
            &base64::engine::general_purpose::STANDARD
                .decode(&export)
                .expect("b64"),
        )
        .expect("utf-8"),
    )
    .expect("json");
    assert_eq!(stored.cookies[0].value.expose(), minted.value);
    assert_eq!(w.pushed(), (Some(export.clone()), Some(export)));
    assert_eq!(w.sim.vercel_redeploys("circletel").len(), 1, "one redeploy");
    let banners: Vec<String> = w
        .host
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            Call::LoginBanner(_, t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(
        banners,
        [format!(
            "Log in — {NAME}: signed in; validating the session…"
        )]
    );
}

#[test]
fn two_captures_in_quick_succession_leave_every_target_with_the_newer_session() {
    let sim = SimHandle::start(SimConfig {
        vercel_build_time: Duration::from_millis(600),
        ..SimConfig::default()
    });
    // Slow targets: every GitHub and Vercel call takes 300 ms.
    sim.set_api_latency(Duration::from_millis(300));
    let profile = mtn_profile(&sim);
    let w = World::new("ctl-newer", sim, |f| f, None);
    let older = live_session(&w.sim, &profile, chrono::Duration::minutes(60));
    let newer = live_session(&w.sim, &profile, chrono::Duration::minutes(60));
    let (tx_a, rx_a) = tokio::sync::oneshot::channel();
    let (tx_b, rx_b) = tokio::sync::oneshot::channel();
    w.send(Intent::Paste {
        profile: "mtn".into(),
        text: older.export(),
        reply: tx_a,
    });
    w.send(Intent::Paste {
        profile: "mtn".into(),
        text: newer.export(),
        reply: tx_b,
    });
    w.runtime.block_on(async {
        assert!(rx_a.await.expect("answer").is_ok());
        assert!(rx_b.await.expect("answer").is_ok());
    });
    let newer_export = newer.export().expose().to_owned();
    w.host.wait_for(
        "every target holds the newer session",
        Duration::from_secs(40),
        |_| {
            (w.pushed() == (Some(newer_export.clone()), Some(newer_export.clone()))
                && w.sim
                    .newest_redeploy("circletel")
                    .is_some_and(|(env, _)| env.contains(&newer_export)))
            .then_some(())
        },
    );
    // And the older one never landed after it, on either target.
    let older_export = older.export().expose().to_owned();
    let github: Vec<String> = w
        .sim
        .github_secret_writes("repo:acme/circletel", "MTN_SESSION")
        .into_iter()
        .map(|b| String::from_utf8(b).expect("utf-8"))
        .collect();
    let vercel = w.sim.vercel_env_writes("circletel", "MTN_SESSION");
    for (name, writes) in [("github", &github), ("vercel", &vercel)] {
        let last_newer = writes
            .iter()
            .rposition(|v| *v == newer_export)
            .expect("the newer was written");
        assert!(
            !writes[last_newer..].contains(&older_export),
            "{name}: the older session was written after the newer one"
        );
    }
    assert_eq!(w.export(), newer_export, "the newer session is current");
    let previous = w
        .vault
        .load_session(
            &w.config.profiles["mtn"],
            sessionkeeper_core::vault::Slot::Previous,
        )
        .expect("read")
        .expect("the older one kept");
    assert_eq!(previous.export().expose(), older_export);
}

#[test]
fn a_refresh_that_always_fails_is_tried_three_times_then_not_again_for_the_same_session() {
    let sim = SimHandle::start(SimConfig::default());
    sim.fail_all_logins(true);
    let text = |f: Fixture| {
        f.token_profile("breeze", "Breeze Controller")
            .refresh("breeze")
            .set(&["profiles", "breeze"], "tracked_ttl", "20m")
            .set(&["profiles", "breeze"], "warn_before", "5m")
            .set(&["profiles", "breeze"], "refresh_before", "15m")
            .set(&["profiles", "breeze"], "poll_every", "1m")
    };
    let breeze = {
        let t = text(Fixture::new(&sim)).text();
        Config::parse(&t, std::path::Path::new("t.toml"))
            .expect("loads")
            .profiles["breeze"]
            .clone()
    };
    // A live token whose tracked expiry is 10 minutes away: inside refresh_before.
    let minted = sim.mint_session(SessionKind::Token, None);
    let mut session = Session::captured(
        &breeze,
        Vec::new(),
        Some(Secret::new(minted.value)),
        chrono::Utc::now(),
    );
    session.expires_at = session.captured_at + chrono::Duration::minutes(10);
    let w = World::new("ctl-refresh", sim, text, None);
    for (item, value) in [
        ("profile:breeze:username", "demo"),
        ("profile:breeze:password", "demo-password"),
    ] {
        w.vault
            .set_secret(&SecretName::parse(item).expect("name"), &Secret::new(value))
            .expect("set");
    }
    w.vault.store_session(&session).expect("store");
    w.send(Intent::SessionsChanged);
    w.send(Intent::Validate {
        profile: "breeze".into(),
    });
    // The attempts wait 2 s and 4 s on the controller's clock: move it until three were made.
    w.host.wait_for("three attempts", WAIT, |_| {
        if w.sim.logins() < 3 {
            w.advance(Duration::from_secs(1));
            None
        } else {
            Some(())
        }
    });
    let failed = "Breeze Controller: refresh failed".to_owned();
    w.host
        .wait_for("one notification", WAIT, notified(failed.clone()));
    let offered = w.host.calls().into_iter().find_map(|c| match c {
        Call::Notify {
            summary, actions, ..
        } if summary == failed => Some(actions),
        _ => None,
    });
    assert_eq!(
        offered,
        Some(vec![
            sessionkeeper_core::overview::NoticeAction::Reauthenticate
        ])
    );
    // Ten more minutes of checks (one a minute) try nothing new for the same session.
    let history = History::at(&w.env.state_dir());
    let checks = || {
        history
            .events()
            .iter()
            .filter(|e| matches!(e, sessionkeeper_core::history::Event::Check { profile, .. } if profile == "breeze"))
            .count()
    };
    for _ in 0..10 {
        let before = checks();
        w.advance(Duration::from_secs(60));
        w.host.wait_for("the next check", WAIT, |_| {
            (checks() > before).then_some(())
        });
    }
    assert_eq!(
        w.sim.logins(),
        3,
        "a failed refresh is not retried for the same session"
    );
    assert_eq!(w.notified(&failed), 1, "{:#?}", w.host.summaries());
}

/// The state of each target of `profile` as status shows it.
fn target_states(w: &World, profile: &str) -> Vec<(String, String)> {
    let state = w.dashboard();
    state
        .profiles
        .iter()
        .find(|c| c.status.profile == profile)
        .map(|c| {
            c.status
                .targets
                .iter()
                .map(|t| (t.target.clone(), t.state.as_str().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn all_current(w: &World) -> bool {
    let states = target_states(w, "mtn");
    !states.is_empty() && states.iter().all(|(_, s)| s == "current")
}

fn tray_line(w: &World) -> String {
    w.host
        .tray()
        .and_then(|t| t.lines.first().map(|l| l.title.clone()))
        .unwrap_or_default()
}

#[test]
fn vercel_failing_for_three_minutes_makes_production_behind_then_it_converges_with_one_redeploy() {
    let sim = SimHandle::start(SimConfig::default());
    let profile = mtn_profile(&sim);
    let session = live_session(&sim, &profile, chrono::Duration::hours(2));
    // Vercel answers 503 to everything until the test says otherwise.
    sim.push_api_fault(sessionkeeper_tests::ApiFault {
        service: sessionkeeper_tests::Service::Vercel,
        status: 503,
        retry_after: None,
        ratelimit_reset_in: None,
        message: "Service Unavailable".to_owned(),
        count: 100_000,
    });
    let w = World::new("ctl-503", sim, |f| f, Some(&session));
    let export = session.export().expose().to_owned();
    // At start the session is checked, then pushed: GitHub takes it, Vercel does not.
    w.host.wait_for("GitHub current", WAIT, |_| {
        (w.pushed().0.as_deref() == Some(export.as_str())).then_some(())
    });
    let failing = |w: &World| {
        target_states(w, "mtn")
            .iter()
            .any(|(t, s)| t.starts_with("vercel") && s == "failing")
    };
    w.host
        .wait_for("Vercel failing", WAIT, |_| failing(&w).then_some(()));
    // After the next attempt (30 s on), production is behind: amber, with why and when next.
    w.advance(Duration::from_secs(30));
    w.host
        .wait_for("amber, production behind", WAIT, tray_is(TrayColour::Amber));
    let line = tray_line(&w);
    assert!(
        line.contains("production behind: vercel circletel env MTN_SESSION (production)")
            && line.contains("503")
            && line.contains("retrying in 1 min"),
        "{line}"
    );
    let behind = format!("{NAME}: production behind");
    w.host
        .wait_for("the behind notification", WAIT, notified(behind.clone()));
    // Two more minutes of 503s: more attempts (1 min, then 2 min apart), no more words.
    w.advance(Duration::from_secs(60));
    w.advance(Duration::from_secs(90));
    w.host
        .wait_for("still failing", WAIT, |_| failing(&w).then_some(()));
    assert_eq!(w.notified(&behind), 1, "one notification for the episode");
    assert_eq!(
        w.sim
            .redeploys_carrying("circletel", "MTN_SESSION", &export),
        0
    );
    // Vercel recovers; the next attempt (due 2 min after the last) converges.
    w.sim.clear_api_faults();
    w.advance(Duration::from_secs(150));
    w.host
        .wait_for("every target current", Duration::from_secs(30), |_| {
            all_current(&w).then_some(())
        });
    w.host.wait_for(
        "the converged notification",
        WAIT,
        notified(format!("{NAME}: every target holds the current session")),
    );
    w.host.wait_for("green", WAIT, tray_is(TrayColour::Green));
    assert_eq!(w.pushed(), (Some(export.clone()), Some(export.clone())));
    assert_eq!(
        w.sim
            .redeploys_carrying("circletel", "MTN_SESSION", &export),
        1,
        "exactly one production redeploy"
    );
    assert_eq!(w.notified(&behind), 1);
}

#[test]
fn a_refused_token_keeps_its_hint_and_a_good_one_converges_the_target_without_a_click() {
    let sim = SimHandle::start(SimConfig::default());
    let profile = mtn_profile(&sim);
    let session = live_session(&sim, &profile, chrono::Duration::hours(2));
    let w = World::new("ctl-401", sim, |f| f, Some(&session));
    w.vault
        .set_secret(
            &SecretName::parse("account:github").expect("name"),
            &Secret::new("ghp_revoked"),
        )
        .expect("set");
    w.send(Intent::SecretsChanged);
    let github_failing = |w: &World| {
        let state = w.dashboard();
        state.profiles[0]
            .status
            .targets
            .iter()
            .find(|t| t.target.starts_with("github"))
            .filter(|t| t.state.as_str() == "failing")
            .cloned()
    };
    let failing = w
        .host
        .wait_for("GitHub failing", WAIT, |_| github_failing(&w));
    assert!(
        failing
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("401")),
        "{failing:?}"
    );
    assert!(
        failing
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("secret set account:")),
        "the hint says what to do: {failing:?}"
    );
    assert!(
        !format!("{failing:?}").contains("ghp_revoked"),
        "no token in the words"
    );
    // A refused token is not tried again every 30 s: only at the slow cadence.
    let github_calls = || {
        w.sim
            .api_calls()
            .iter()
            .filter(|c| c.service == sessionkeeper_tests::Service::Github)
            .count()
    };
    let calls = github_calls();
    let checks = checks_of(&w, "mtn");
    w.advance(Duration::from_secs(5 * 60));
    w.host.wait_for("the next check", WAIT, |_| {
        (checks_of(&w, "mtn") > checks).then_some(())
    });
    assert_eq!(github_calls(), calls, "no attempt before the token changes");
    // The human stores a good token (as `sessionkeeper secret set` does): no click needed.
    w.vault
        .set_secret(
            &SecretName::parse("account:github").expect("name"),
            &Secret::new(SimConfig::default().github_token),
        )
        .expect("set");
    w.send(Intent::SecretsChanged);
    w.host.wait_for("every target current", WAIT, |_| {
        all_current(&w).then_some(())
    });
    let export = session.export().expose().to_owned();
    assert_eq!(w.pushed().0.as_deref(), Some(export.as_str()));
}

/// How many checks of `profile` the history holds.
fn checks_of(w: &World, profile: &str) -> usize {
    History::at(&w.env.state_dir())
        .events()
        .iter()
        .filter(|e| matches!(e, sessionkeeper_core::history::Event::Check { profile: p, .. } if p == profile))
        .count()
}

#[test]
fn production_refusing_its_session_is_its_own_state_and_push_again_mends_it() {
    let sim = SimHandle::start(SimConfig::default());
    let profile = mtn_profile(&sim);
    let first = live_session(&sim, &profile, chrono::Duration::hours(2));
    let app_url = format!("{}/circletel", sim.urls().app);
    let w = World::new(
        "ctl-health",
        sim,
        |f| f.set(&["profiles", "mtn"], "health_url", app_url.as_str()),
        Some(&first),
    );
    w.host.wait_for("every target current", WAIT, |_| {
        all_current(&w).then_some(())
    });
    // A new session reaches GitHub but not Vercel (down), and the provider then ends the
    // one production runs with: our copy is fine, production is not.
    w.sim.push_api_fault(sessionkeeper_tests::ApiFault {
        service: sessionkeeper_tests::Service::Vercel,
        status: 503,
        retry_after: None,
        ratelimit_reset_in: None,
        message: "Service Unavailable".to_owned(),
        count: 100_000,
    });
    let second = live_session(&w.sim, &profile, chrono::Duration::hours(2));
    assert!(w.paste(&second).is_ok());
    assert!(w.sim.expire_session(first.cookies[0].value.expose()));
    w.advance(Duration::from_secs(5 * 60));
    let refuses = format!("{NAME}: production refuses the session");
    w.host
        .wait_for("production refuses", WAIT, notified(refuses.clone()));
    let actions = w.host.calls().into_iter().find_map(|c| match c {
        Call::Notify {
            summary, actions, ..
        } if summary == refuses => Some(actions),
        _ => None,
    });
    assert_eq!(
        actions,
        Some(vec![sessionkeeper_core::overview::NoticeAction::PushAgain])
    );
    w.host.wait_for("red", WAIT, tray_is(TrayColour::Red));
    assert!(
        tray_line(&w).contains("production refuses the session"),
        "{}",
        tray_line(&w)
    );
    assert!(
        !w.host
            .summaries()
            .iter()
            .any(|s| s.ends_with("session expired")),
        "our copy is not called expired: {:#?}",
        w.host.summaries()
    );
    // Vercel is back; the human clicks Push again: production gets the current session.
    w.sim.clear_api_faults();
    w.send(Intent::PushAll {
        profile: "mtn".into(),
    });
    w.host.wait_for("every target current", WAIT, |_| {
        all_current(&w).then_some(())
    });
    w.advance(Duration::from_secs(5 * 60));
    w.host.wait_for(
        "production accepts again",
        WAIT,
        notified(format!("{NAME}: production accepts the session again")),
    );
    w.host.wait_for("green", WAIT, tray_is(TrayColour::Green));
}

/// `import` from the CLI while the app takes a paste of the same profile, three times over:
/// both sessions are kept (one current, one previous), and every target ends on the current.
#[test]
fn an_import_from_the_cli_while_the_app_takes_a_paste_loses_neither_and_targets_converge() {
    use sessionkeeper_core::vault::Slot;
    use std::io::Write as _;
    let sim = SimHandle::start(SimConfig::default());
    let profile = mtn_profile(&sim);
    let first = live_session(&sim, &profile, chrono::Duration::hours(2));
    let w = World::new("ctl-race", sim, |f| f, Some(&first));
    w.host.wait_for("every target current", WAIT, |_| {
        all_current(&w).then_some(())
    });
    let value = |slot| {
        w.vault
            .load_session(&w.config.profiles["mtn"], slot)
            .expect("reads")
            .map(|s: Session| s.cookies[0].value.expose().to_owned())
    };
    for round in 0..3 {
        let by_cli = live_session(&w.sim, &profile, chrono::Duration::hours(2));
        let by_app = live_session(&w.sim, &profile, chrono::Duration::hours(2));
        let mut cli = w
            .env
            .command()
            .args(["import", "mtn"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the CLI starts");
        let mut stdin = cli.stdin.take().expect("stdin");
        stdin
            .write_all(by_cli.export().expose().as_bytes())
            .expect("write");
        drop(stdin);
        assert!(
            w.paste(&by_app).is_ok(),
            "round {round}: the paste is taken"
        );
        let out = cli.wait_with_output().expect("the CLI ends");
        assert!(
            out.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The app's watch of the session files says so; here the test does.
        w.send(Intent::SessionsChanged);
        let mut kept = [value(Slot::Current), value(Slot::Previous)];
        kept.sort();
        let mut stored = [
            Some(by_cli.cookies[0].value.expose().to_owned()),
            Some(by_app.cookies[0].value.expose().to_owned()),
        ];
        stored.sort();
        assert_eq!(
            kept, stored,
            "round {round}: one is current, the other previous"
        );
        w.host.wait_for("every target on the current", WAIT, |_| {
            let current = w.export();
            (all_current(&w) && w.pushed() == (Some(current.clone()), Some(current))).then_some(())
        });
    }
}

/// Finding: a refresh storm. A valid profile whose new sessions are due for a refresh almost
/// at once (`refresh_before` just under `tracked_ttl`) is refreshed at most once per
/// minimum interval (five minutes), not once a tick, over twelve minutes of fake time.
#[test]
fn finding_refresh_storm_a_valid_profile_is_never_refreshed_twice_within_its_minimum_interval() {
    let sim = SimHandle::start(SimConfig::default());
    let text = |f: Fixture| {
        f.token_profile("breeze", "Breeze Storm")
            .refresh("breeze")
            .set(&["profiles", "breeze"], "tracked_ttl", "20m")
            .set(&["profiles", "breeze"], "refresh_before", "19m")
            .set(&["profiles", "breeze"], "poll_every", "30s")
    };
    let breeze = {
        let t = text(Fixture::new(&sim)).text();
        Config::parse(&t, std::path::Path::new("t.toml"))
            .expect("a valid config")
            .profiles["breeze"]
            .clone()
    };
    let minted = sim.mint_session(SessionKind::Token, Some(Duration::from_secs(6 * 3600)));
    let mut session = Session::captured(
        &breeze,
        Vec::new(),
        Some(Secret::new(minted.value)),
        chrono::Utc::now(),
    );
    session.expires_at = session.captured_at + chrono::Duration::minutes(10);
    let w = World::new("ctl-storm", sim, text, None);
    for (item, value) in [
        ("profile:breeze:username", "demo"),
        ("profile:breeze:password", "demo-password"),
    ] {
        w.vault
            .set_secret(&SecretName::parse(item).expect("name"), &Secret::new(value))
            .expect("set");
    }
    w.vault.store_session(&session).expect("store");
    w.send(Intent::SessionsChanged);
    for _ in 0..24 {
        let checks = checks_of(&w, "breeze");
        w.advance(Duration::from_secs(30));
        w.host.wait_for("the next check", WAIT, |_| {
            (checks_of(&w, "breeze") > checks).then_some(())
        });
    }
    // When each refresh stored its session, on the controller's clock.
    let logins_at: Vec<_> = History::at(&w.env.state_dir())
        .events()
        .into_iter()
        .filter_map(|e| match e {
            sessionkeeper_core::history::Event::Captured { source, at, .. }
                if source == "refresh" =>
            {
                Some(at)
            }
            _ => None,
        })
        .collect();
    assert!(logins_at.len() >= 2, "it does refresh: {logins_at:?}");
    for pair in logins_at.windows(2) {
        assert!(
            pair[1] - pair[0] >= chrono::Duration::minutes(5),
            "two refreshes within five minutes: {logins_at:?}"
        );
    }
}

/// Live reload, without a window: a profile added to the config is checked at once; a config
/// that does not load keeps the last good one running and says why in one notification (and
/// on the dashboard), withdrawn when it loads again; a removed profile leaves the tray and is
/// no longer checked, however long the clock runs.
#[test]
fn a_reloaded_config_adds_checks_and_removes_profiles_and_a_broken_one_changes_nothing() {
    let sim = SimHandle::start(SimConfig::default());
    let session = live_session(&sim, &mtn_profile(&sim), chrono::Duration::minutes(20));
    let w = World::new("ctl-reload", sim, |f| f, Some(&session));
    w.host
        .wait_for("the first check", WAIT, tray_is(TrayColour::Green));
    let lines = |calls: &[Call]| {
        calls.iter().rev().find_map(|c| match c {
            Call::DrawTray(t) => Some(
                t.lines
                    .iter()
                    .map(|l| l.profile.clone())
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
    };
    let path = w.env.config_path();
    let base = std::fs::read_to_string(&path).expect("the config");
    let with_second = Fixture::new(&w.sim)
        .cookie_profile("second", "Second")
        .text();
    let both = format!("{base}\n{with_second}");
    let parse = |text: &str| {
        Config::parse(text, &path)
            .map(Arc::new)
            .map_err(|e| e.to_string())
    };

    // Added: in the tray, and checked at once (no session stored: invalid, "no session").
    w.send(Intent::ConfigChanged {
        config: parse(&both),
    });
    w.host
        .wait_for("the second profile in the tray", WAIT, |calls| {
            lines(calls).filter(|l| l == &["mtn", "second"])
        });
    let checked_second = |w: &World| {
        let state = w.dashboard();
        state
            .profiles
            .iter()
            .find(|c| c.status.profile == "second")
            .and_then(|c| c.status.last_check)
    };
    w.host
        .wait_for("the second profile checked", WAIT, |_| checked_second(&w));

    // Broken: one notification with file, line and key; both profiles go on.
    let broken = both.replace("tracked_ttl = \"20m\"", "tracked_ttl = \"soon\"");
    let why = parse(&broken).expect_err("the typo does not load");
    assert!(why.contains("tracked_ttl"), "{why}");
    w.send(Intent::ConfigChanged {
        config: Err(why.clone()),
    });
    w.send(Intent::ConfigChanged {
        config: Err(why.clone()),
    });
    let summary = "The config file has an error";
    w.host.wait_for("the error notified", WAIT, |calls| {
        calls.iter().find_map(|c| match c {
            Call::Notify {
                summary: s, body, ..
            } if s == summary && body.contains(&why) => Some(()),
            _ => None,
        })
    });
    let state = w.dashboard();
    assert_eq!(state.config_error.as_deref(), Some(why.as_str()));
    assert_eq!(state.profiles.len(), 2, "the last good config goes on");
    assert_eq!(
        w.notified(summary),
        1,
        "one notification for one broken spell"
    );

    // Fixed by removing the second profile: the notice goes, and so does the profile.
    w.send(Intent::ConfigChanged {
        config: parse(&base),
    });
    w.host.wait_for("the error withdrawn", WAIT, |calls| {
        calls.iter().find_map(|c| match c {
            Call::Withdraw(k) if k.topic == Topic::Config => Some(()),
            _ => None,
        })
    });
    w.host.wait_for("only mtn in the tray", WAIT, |calls| {
        lines(calls).filter(|l| l == &["mtn"])
    });
    let before = checked_second(&w);
    assert_eq!(before, None, "a removed profile has no card");
    let requests = w.sim.requests().len();
    w.advance(Duration::from_secs(3600));
    w.host.wait_for("mtn checked after the hour", WAIT, |_| {
        (w.sim.requests().len() > requests).then_some(())
    });
    let state = w.dashboard();
    assert_eq!(
        state
            .profiles
            .iter()
            .map(|c| c.status.profile.as_str())
            .collect::<Vec<_>>(),
        ["mtn"]
    );
    assert_eq!(state.config_error, None);
}

/// A reload that drops a target while its push is in flight, and one that brings it back at
/// once: the target is never pushed twice at the same time (its lane waits for the push in
/// flight), and ends holding the session, written once.
#[test]
fn a_target_removed_and_restored_while_its_push_runs_is_written_once() {
    let sim = SimHandle::start(SimConfig::default());
    sim.set_api_latency(Duration::from_millis(400));
    let session = live_session(&sim, &mtn_profile(&sim), chrono::Duration::minutes(20));
    let w = World::new("ctl-reload-lane", sim, |f| f, Some(&session));
    w.host.wait_for("the push under way", WAIT, |_| {
        (!w.sim.api_calls().is_empty()).then_some(())
    });
    let path = w.env.config_path();
    let full = std::fs::read_to_string(&path).expect("the config");
    let parse = |text: &str| {
        Config::parse(text, &path)
            .map(Arc::new)
            .map_err(|e| e.to_string())
    };
    let without_targets = Fixture::new(&w.sim)
        .accounts()
        .cookie_profile("mtn", NAME)
        .set(&["profiles", "mtn"], "tracked_ttl", "20m")
        .set(&["profiles", "mtn"], "warn_before", "15m")
        .set(&["profiles", "mtn"], "poll_every", "5m")
        .text();
    w.send(Intent::ConfigChanged {
        config: parse(&without_targets),
    });
    w.send(Intent::ConfigChanged {
        config: parse(&full),
    });
    w.host.wait_for("every target current", WAIT, |_| {
        all_current(&w).then_some(())
    });
    assert_eq!(
        w.sim
            .github_secret_writes("repo:acme/circletel", "MTN_SESSION")
            .len(),
        1,
        "one write of the repository secret"
    );
    assert_eq!(w.sim.vercel_env_writes("circletel", "MTN_SESSION").len(), 1);
}

/// The finding "a panic in the app's watch loop ends monitoring silently": a loop that panics
/// (twice, through the controller's fail point) is restarted each time, from the config,
/// the vault and the history, and the human is told once; checks go on.
#[test]
fn finding_a_panicking_loop_is_restarted_and_the_human_told_once() {
    let sim = SimHandle::start(SimConfig::default());
    let session = live_session(&sim, &mtn_profile(&sim), chrono::Duration::minutes(20));
    let w = World::new(
        "ctl-panic",
        sim,
        |f| f.cookie_profile(sessionkeeper_controller::PANIC_PROBE, "Probe"),
        Some(&session),
    );
    let checked_after = |w: &World, t: chrono::DateTime<chrono::Utc>| {
        // While a controller panics and another takes over, a question may go unanswered.
        let state = w.try_dashboard()?;
        state
            .profiles
            .iter()
            .find(|c| c.status.profile == "mtn")
            .and_then(|c| c.status.last_check)
            .filter(|at| *at >= t)
    };
    let t0 = chrono::Utc::now() - chrono::Duration::hours(1);
    w.host
        .wait_for("the first check", WAIT, |_| checked_after(&w, t0));

    fail::cfg("controller::handle", "2*panic(injected by the test)").expect("the fail point");
    w.send(Intent::Validate {
        profile: "mtn".into(),
    });
    let summary = "Session Keeper recovered from an internal error";
    w.host
        .wait_for("the restart told", WAIT, notified(summary.to_owned()));
    // Checks go on under the controller that took over.
    w.advance(Duration::from_secs(1));
    let t1 = sessionkeeper_core::clock::Clock::now(&w.clock);
    w.send(Intent::Validate {
        profile: "mtn".into(),
    });
    w.host.wait_for("a check after the restarts", WAIT, |_| {
        checked_after(&w, t1)
    });
    fail::remove("controller::handle");
    assert_eq!(w.notified(summary), 1, "told once, not once per panic");
}

/// Positions of the host's "at rest" calls.
fn rests(calls: &[Call]) -> Vec<usize> {
    calls
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, Call::AtRest))
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn the_host_is_told_the_app_is_at_rest_once_after_each_round_not_while_nothing_happens_nor_with_a_window_open()
 {
    let sim = SimHandle::start(SimConfig::default());
    let profile = mtn_profile(&sim);
    let session = live_session(&sim, &profile, chrono::Duration::minutes(20));
    let w = World::new("ctl-rest", sim, |f| f, Some(&session));
    w.host.wait_for(
        "green after the first check",
        WAIT,
        tray_is(TrayColour::Green),
    );
    // Once the first check is in, the app is at rest: nothing in flight, nothing due soon.
    let first = w.host.wait_for("at rest after start", WAIT, |calls| {
        rests(calls).first().copied()
    });

    // A minute on, the tray's line counts a minute down; nothing was handled: no new rest.
    let line = tray_line(&w);
    w.advance(Duration::from_secs(60));
    w.host
        .wait_for("the minute counted on the tray", WAIT, |_| {
            (tray_line(&w) != line).then_some(())
        });
    assert_eq!(rests(&w.host.calls()), vec![first], "{:#?}", w.host.calls());

    // Five minutes on, the next check finds the session expiring: one rest after it.
    w.advance(Duration::from_secs(5 * 60));
    let expiring = w.host.wait_for(
        "the expiring notification",
        WAIT,
        notified(format!("{NAME}: session expiring")),
    );
    let after = w.host.wait_for("at rest after the round", WAIT, |calls| {
        rests(calls).into_iter().find(|at| *at > expiring)
    });
    assert_eq!(
        rests(&w.host.calls()),
        vec![first, after],
        "one rest per round: {:#?}",
        w.host.calls()
    );

    // While a window of the app is open, the human is using it: a round ends in no rest.
    w.send(Intent::DashboardOpened);
    let checks = checks_of(&w, "mtn");
    w.advance(Duration::from_secs(5 * 60));
    w.host.wait_for("the next check", WAIT, |_| {
        (checks_of(&w, "mtn") > checks).then_some(())
    });
    let _ = w.dashboard();
    assert_eq!(rests(&w.host.calls()).len(), 2, "{:#?}", w.host.calls());
    // Once it is closed, the app is at rest again.
    w.send(Intent::DashboardClosed);
    w.host
        .wait_for("at rest with the dashboard closed", WAIT, |calls| {
            (rests(calls).len() == 3).then_some(())
        });
}

fn publishes(calls: &[Call]) -> usize {
    calls
        .iter()
        .filter(|c| matches!(c, Call::Publish(_)))
        .count()
}

#[test]
fn an_open_dashboard_is_sent_its_state_when_what_it_shows_changes_not_every_minute() {
    let sim = SimHandle::start(SimConfig::default());
    let profile = mtn_profile(&sim);
    let session = live_session(&sim, &profile, chrono::Duration::minutes(20));
    let w = World::new("ctl-publish", sim, |f| f, Some(&session));
    w.host.wait_for(
        "green after the first check",
        WAIT,
        tray_is(TrayColour::Green),
    );
    w.send(Intent::DashboardOpened);
    w.host
        .wait_for("the state sent to the page", WAIT, |calls| {
            (publishes(calls) > 0).then_some(())
        });
    let _ = w.dashboard();
    let sent = publishes(&w.host.calls());

    // Two minutes pass, each redrawing the tray's line: the page counts down by itself.
    for minute in 1..=2 {
        let line = tray_line(&w);
        w.advance(Duration::from_secs(60));
        w.host
            .wait_for(&format!("minute {minute} on the tray"), WAIT, |_| {
                (tray_line(&w) != line).then_some(())
            });
    }
    // One more turn of the loop, after the renders of those minutes.
    let _ = w.dashboard();
    assert_eq!(publishes(&w.host.calls()), sent, "{:#?}", w.host.calls());

    // The next check finds the session expiring: that is news for the page.
    w.advance(Duration::from_secs(4 * 60));
    w.host.wait_for(
        "the expiring notification",
        WAIT,
        notified(format!("{NAME}: session expiring")),
    );
    w.host.wait_for("the new state sent", WAIT, |calls| {
        (publishes(calls) > sent).then_some(())
    });
}
