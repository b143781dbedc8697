//! The team's claim and adoption from the CLI, against sim's GitHub variables and Vercel env
//! vars: two members (two HOMEs, two keychain services, two GitHub logins) share one sim.

use sessionkeeper_tests::{SessionKind, SimConfig, SimHandle, TestEnv};

const ALICE: &str = "ghp_alice_token_000";
const BOB: &str = "ghp_bob_token_000";

fn sim() -> SimHandle {
    SimHandle::start(SimConfig {
        github_members: vec![
            (ALICE.to_owned(), "alice".to_owned()),
            (BOB.to_owned(), "bob".to_owned()),
        ],
        ..SimConfig::default()
    })
}

/// `mtn` pushed to a GitHub secret of acme/circletel and to a Vercel env var of `kind`.
fn config(sim: &SimHandle, vercel_kind: Option<&str>) -> String {
    let u = sim.urls();
    let vercel = vercel_kind.map_or_else(String::new, |kind| {
        format!(
            "\n[[profiles.mtn.push]]\nto = \"vercel\"\nproject = \"circletel\"\nenv = \"MTN_SESSION\"\n\
             targets = [\"production\"]\ntype = \"{kind}\"\nredeploy = false\n"
        )
    });
    format!(
        r#"
[accounts.github]
kind = "github"
api_url = "{github}"

[accounts.vercel]
kind = "vercel"
api_url = "{vercel_api}"

[profiles.mtn]
name = "MTN Team Test"
login_url = "{sso_login}"
capture = "cookies"
cookie_urls = ["{api}/"]
session_id_cookie = "JSESSIONID"

[profiles.mtn.validate]
url = "{products}"
timeout = "2s"

[[profiles.mtn.push]]
to = "github"
repo = "acme/circletel"
secret = "MTN_SESSION"
{vercel}"#,
        github = u.github_api,
        vercel_api = u.vercel_api,
        sso_login = u.sso_login,
        api = u.api_origin,
        products = u.products,
    )
}

fn member(sim: &SimHandle, name: &str, token: &str, vercel_kind: Option<&str>) -> TestEnv {
    let env = TestEnv::new(name);
    env.write_config(&config(sim, vercel_kind));
    env.run_stdin(&["secret", "set", "account:github"], token)
        .assert_code(0);
    env.run_stdin(
        &["secret", "set", "account:vercel"],
        "vercel_simulated_token",
    )
    .assert_code(0);
    env
}

fn claim_of(sim: &SimHandle) -> Option<serde_json::Value> {
    sim.github_variable("acme/circletel", "SESSIONKEEPER_CLAIM_MTN")
        .map(|v| serde_json::from_str(&v).expect("a claim is JSON"))
}

#[test]
fn two_members_claiming_at_once_get_exactly_one_claim_and_the_other_is_told_who_holds_it() {
    sessionkeeper_tests::require_keychain();
    let sim = sim();
    let alice = member(&sim, "team-alice", ALICE, None);
    let bob = member(&sim, "team-bob", BOB, None);
    for round in 0..5 {
        // Both at the same moment.
        let spawn = |env: &TestEnv| {
            let mut cmd = env.command();
            cmd.args(["claim", "mtn"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("spawn claim")
        };
        let (a, b) = (spawn(&alice), spawn(&bob));
        let (a, b) = (
            a.wait_with_output().expect("alice"),
            b.wait_with_output().expect("bob"),
        );
        let codes = (a.status.code(), b.status.code());
        let (winner, loser_err) = match codes {
            (Some(0), Some(1)) => ("alice", String::from_utf8_lossy(&b.stderr).into_owned()),
            (Some(1), Some(0)) => ("bob", String::from_utf8_lossy(&a.stderr).into_owned()),
            other => {
                panic!("round {round}: exactly one claim expected, got {other:?}\n{a:?}\n{b:?}")
            }
        };
        assert!(
            loser_err.contains(&format!("{winner} is re-authenticating")),
            "the holder is named: {loser_err}"
        );
        let claim = claim_of(&sim).expect("one claim");
        assert_eq!(claim["by"], winner);
        // The loser cannot release it; the winner can.
        let (winner_env, loser_env) = if winner == "alice" {
            (&alice, &bob)
        } else {
            (&bob, &alice)
        };
        let r = loser_env.run(&["release", "mtn"]);
        r.assert_code(1);
        assert!(claim_of(&sim).is_some(), "a teammate's claim stays");
        winner_env.run(&["release", "mtn"]).assert_code(0);
        assert!(claim_of(&sim).is_none(), "released");
    }
}

#[test]
fn a_stale_claim_is_taken_over_and_a_fresh_one_only_on_purpose() {
    sessionkeeper_tests::require_keychain();
    let sim = sim();
    let bob = member(&sim, "team-stale", BOB, None);
    let old = chrono::Utc::now() - chrono::Duration::minutes(30);
    let stale = serde_json::json!({
        "by": "alice", "host": "crashed-laptop",
        "since": old, "until": old + chrono::Duration::minutes(15),
    });
    sim.set_github_variable(
        "acme/circletel",
        "SESSIONKEEPER_CLAIM_MTN",
        &stale.to_string(),
    );
    let r = bob.run(&["claim", "mtn", "--json"]);
    r.assert_code(0);
    assert_eq!(r.json()["claim"]["by"], "bob");
    assert_eq!(claim_of(&sim).expect("claim")["by"], "bob");

    // A value that is no claim (set by hand, another version): replaced, never a loop.
    sim.set_github_variable("acme/circletel", "SESSIONKEEPER_CLAIM_MTN", "not json");
    bob.run(&["claim", "mtn"]).assert_code(0);
    assert_eq!(claim_of(&sim).expect("claim")["by"], "bob");

    // Alice's fresh claim: refused, unless taken over on purpose.
    let now = chrono::Utc::now();
    let fresh = serde_json::json!({
        "by": "alice", "host": "laptop", "since": now, "until": now + chrono::Duration::minutes(15),
    });
    sim.set_github_variable(
        "acme/circletel",
        "SESSIONKEEPER_CLAIM_MTN",
        &fresh.to_string(),
    );
    let r = bob.run(&["claim", "mtn"]);
    r.assert_code(1);
    assert!(
        r.stderr.contains("alice is re-authenticating (on laptop"),
        "{}",
        r.stderr
    );
    assert_eq!(claim_of(&sim).expect("claim")["by"], "alice");
    bob.run(&["claim", "mtn", "--take-over"]).assert_code(0);
    assert_eq!(claim_of(&sim).expect("claim")["by"], "bob");
}

#[test]
fn a_token_without_variables_permission_is_told_and_changes_nothing() {
    sessionkeeper_tests::require_keychain();
    let sim = sim();
    let bob = member(&sim, "team-perm", BOB, None);
    sim.push_api_fault(sessionkeeper_tests::ApiFault {
        service: sessionkeeper_tests::Service::Github,
        status: 403,
        retry_after: None,
        ratelimit_reset_in: None,
        message: "Resource not accessible by personal access token".to_owned(),
        count: 10,
    });
    let r = bob.run(&["claim", "mtn"]);
    r.assert_code(2);
    assert!(r.stderr.contains("Variables: write"), "{}", r.stderr);
    assert!(!r.stderr.contains(BOB), "no token in the error");
    assert!(claim_of(&sim).is_none());
}

#[test]
fn pull_adopts_the_teams_session_from_vercel_and_refuses_what_cannot_be_read_back() {
    sessionkeeper_tests::require_keychain();
    let sim = sim();
    let alice = member(&sim, "pull-alice", ALICE, Some("encrypted"));
    let bob = member(&sim, "pull-bob", BOB, Some("encrypted"));
    // Bob holds a dead session; Alice renews and pushes.
    let dead = sim.mint_session(SessionKind::Cookie, None);
    bob.run_stdin(
        &["import", "mtn", "--no-validate"],
        &sessionkeeper_tests::cookie_export("mtn", &[("JSESSIONID", &dead.value, "127.0.0.1")]),
    )
    .assert_code(0);
    assert!(sim.expire_session(&dead.value));
    bob.run(&["validate", "mtn"]).assert_code(1);
    let live = sim.mint_session(SessionKind::Cookie, None);
    alice
        .run_stdin(
            &["import", "mtn"],
            &sessionkeeper_tests::cookie_export("mtn", &[("JSESSIONID", &live.value, "127.0.0.1")]),
        )
        .assert_code(0);
    alice.run(&["push", "mtn"]).assert_code(0);

    let r = bob.run(&["pull", "mtn"]);
    r.assert_code(0);
    assert!(
        r.stdout.contains("adopted the team's session from vercel"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(&live.value), "no value shown");
    bob.run(&["validate", "mtn"]).assert_code(0);
    let export = |env: &TestEnv| env.run(&["export", "mtn", "--output-only"]).stdout;
    assert_eq!(export(&bob), export(&alice), "Bob's export is Alice's");
    bob.run(&["pull", "mtn"]).assert_code(0);
    // The previous (dead) one is kept.
    bob.run(&["restore", "mtn"]).assert_code(0);
    bob.run(&["validate", "mtn"]).assert_code(1);
    bob.run(&["restore", "mtn"]).assert_code(0);

    // A sensitive variable, or GitHub only: a reason, and nothing changes.
    for (name, kind, reason) in [
        (
            "pull-sensitive",
            Some("sensitive"),
            "never returns a sensitive variable's value",
        ),
        ("pull-github", None, "GitHub never returns a secret's value"),
    ] {
        let carol = member(&sim, name, BOB, kind);
        carol
            .run_stdin(
                &["import", "mtn", "--no-validate"],
                &sessionkeeper_tests::cookie_export(
                    "mtn",
                    &[("JSESSIONID", &dead.value, "127.0.0.1")],
                ),
            )
            .assert_code(0);
        let before = export(&carol);
        let r = carol.run(&["pull", "mtn"]);
        r.assert_code(1);
        assert!(r.stderr.contains(reason), "{name}: {}", r.stderr);
        assert!(r.stderr.contains("nothing changed"), "{}", r.stderr);
        assert_eq!(export(&carol), before, "{name}: the session is as it was");
    }
}

/// One member's tray app without a window: a controller with its own keychain service, dirs
/// and fake clock, over `mtn` pushed to sim's GitHub (the team's repository) and an
/// `encrypted` Vercel variable, with a session sim has ended.
struct Tray {
    /// Kept for its directories (removed with it).
    _env: TestEnv,
    clock: sessionkeeper_core::clock::FakeClock,
    host: sessionkeeper_tests::recording::RecordingHost,
    handle: sessionkeeper_controller::Handle,
    vault: std::sync::Arc<sessionkeeper_core::vault::Vault>,
    config: std::sync::Arc<sessionkeeper_core::Config>,
    runtime: tokio::runtime::Runtime,
}

const NAME: &str = "MTN Team";
const WAIT: std::time::Duration = std::time::Duration::from_secs(20);

impl Tray {
    fn start(sim: &SimHandle, name: &str, token: &str, dead: &str) -> Self {
        use sessionkeeper_core::secret::Secret;
        use sessionkeeper_core::vault::SecretName;
        sessionkeeper_tests::require_keychain();
        let env = TestEnv::new(name);
        let text = sessionkeeper_tests::fixture::Fixture::new(sim)
            .accounts()
            .cookie_profile("mtn", NAME)
            .set(&["profiles", "mtn"], "poll_every", "10s")
            .push_github("mtn", "MTN_SESSION")
            .push_vercel("mtn", "MTN_SESSION")
            .text();
        env.write_config(&text);
        let config = std::sync::Arc::new(
            sessionkeeper_core::Config::parse(&text, &env.config_path()).expect("loads"),
        );
        let keychain =
            sessionkeeper_controller::Keychain::isolated(&env.service, env.sessions_dir());
        let vault = std::sync::Arc::new(keychain.open().expect("keychain"));
        for (item, secret) in [
            ("account:github", token),
            ("account:vercel", "vercel_simulated_token"),
        ] {
            vault
                .set_secret(
                    &SecretName::parse(item).expect("name"),
                    &Secret::new(secret),
                )
                .expect("set");
        }
        let profile = &config.profiles["mtn"];
        let session = sessionkeeper_core::Session::captured(
            profile,
            vec![jsessionid(dead)],
            None,
            chrono::Utc::now() - chrono::Duration::minutes(5),
        );
        vault.store_session(&session).expect("store");
        let clock = sessionkeeper_core::clock::FakeClock::new(chrono::Utc::now());
        let host = sessionkeeper_tests::recording::RecordingHost::new();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let state = env.state_dir();
        let setup = sessionkeeper_controller::Setup {
            config: std::sync::Arc::clone(&config),
            config_error: None,
            keychain,
            history: Some(sessionkeeper_core::history::History::at(&state)),
            book: Some(sessionkeeper_core::targets::TargetBook::at(&state)),
            demo: false,
            autostart: false,
            retry: None,
        };
        let (handle, _task) = {
            let _guard = runtime.enter();
            sessionkeeper_controller::spawn(host.clone(), std::sync::Arc::new(clock.clone()), setup)
        };
        Self {
            _env: env,
            clock,
            host,
            handle,
            vault,
            config,
            runtime,
        }
    }

    fn send(&self, intent: sessionkeeper_controller::Intent) {
        assert!(self.handle.send(intent), "the controller stopped");
    }

    fn reauthenticate(&self) {
        self.send(sessionkeeper_controller::Intent::Reauthenticate {
            profile: "mtn".to_owned(),
        });
    }

    fn logins_opened(&self) -> usize {
        self.host
            .calls()
            .iter()
            .filter(|c| matches!(c, sessionkeeper_tests::recording::Call::OpenLogin { .. }))
            .count()
    }

    fn summaries(&self) -> Vec<String> {
        self.host.summaries()
    }

    #[track_caller]
    fn wait_summary(&self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        self.host.wait_for(what, WAIT, |_| {
            self.summaries().into_iter().find(|s| wanted(s))
        })
    }

    fn tray_title(&self) -> String {
        self.host
            .tray()
            .and_then(|t| t.lines.first().map(|l| l.title.clone()))
            .unwrap_or_default()
    }

    fn card_team(&self) -> Option<String> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(sessionkeeper_controller::Intent::DashboardState { reply: tx });
        let state = self
            .runtime
            .block_on(async { tokio::time::timeout(WAIT, rx).await })
            .expect("in time")
            .expect("answered");
        state.profiles[0].team.clone()
    }

    fn export(&self) -> String {
        self.vault
            .current_session(&self.config.profiles["mtn"])
            .expect("a session")
            .export()
            .expose()
            .to_owned()
    }

    /// What the login window would report once the human signed in: the portal, with the
    /// session cookie sim just gave.
    fn signed_in(&self, sim: &SimHandle) {
        let live = sim.mint_session(SessionKind::Cookie, None);
        self.send(sessionkeeper_controller::Intent::LoginSeen {
            profile: "mtn".to_owned(),
            url: url::Url::parse(&sim.urls().portal).expect("url"),
            cookies: vec![jsessionid(&live.value)],
        });
    }
}

fn jsessionid(value: &str) -> sessionkeeper_core::session::Cookie {
    sessionkeeper_core::session::Cookie {
        name: "JSESSIONID".into(),
        value: sessionkeeper_core::secret::Secret::new(value),
        domain: "127.0.0.1".into(),
        path: "/".into(),
        expires: -1.0,
        http_only: true,
        secure: false,
        same_site: sessionkeeper_core::session::SameSite::Lax,
    }
}

/// Moves sim's clock and every tray's by `by`.
fn advance(sim: &SimHandle, trays: &[&Tray], by: std::time::Duration) {
    sim.advance(by);
    for t in trays {
        t.clock
            .advance(chrono::Duration::from_std(by).expect("duration"));
    }
}

#[test]
fn one_re_authentication_for_two_trays_a_teammate_is_told_asked_first_and_adopts_the_renewal() {
    let sim = sim();
    let dead = sim.mint_session(SessionKind::Cookie, None);
    assert!(sim.expire_session(&dead.value));
    let a = Tray::start(&sim, "tray-alice", ALICE, &dead.value);
    let b = Tray::start(&sim, "tray-bob", BOB, &dead.value);
    let expired = format!("{NAME}: session expired");
    for t in [&a, &b] {
        t.wait_summary("both show it expired", |s| s == expired);
    }

    // Alice re-authenticates: one claim, by her; her login window opens.
    a.reauthenticate();
    a.host.wait_for("Alice's login window", WAIT, |_| {
        (a.logins_opened() == 1).then_some(())
    });
    assert_eq!(claim_of(&sim).expect("a claim")["by"], "alice");

    // Within one poll Bob's tray, card and notification say so; he is not asked to log in.
    let expired_before = b.summaries().iter().filter(|s| **s == expired).count();
    advance(&sim, &[&a, &b], std::time::Duration::from_secs(11));
    let on_it = b.wait_summary("Bob told Alice is on it", |s| {
        s.starts_with(&format!("{NAME}: alice is re-authenticating (since "))
    });
    // (The tray is drawn once the loop has taken in the read: wait for it.)
    b.host.wait_for("Bob's menu line", WAIT, |_| {
        b.tray_title()
            .contains("alice is re-authenticating (since ")
            .then_some(())
    });
    assert!(
        b.card_team()
            .is_some_and(|t| t.starts_with("alice is re-authenticating")),
        "{:?}",
        b.card_team()
    );
    advance(&sim, &[&a, &b], std::time::Duration::from_secs(11));
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        b.summaries().iter().filter(|s| **s == expired).count(),
        expired_before,
        "no new 'log in' for Bob while Alice holds the claim"
    );
    // Bob's Re-authenticate asks first (no window).
    b.reauthenticate();
    b.wait_summary("Bob asked first", |s| s == format!("{on_it} already"));
    let asked = b.host.calls().into_iter().rev().find_map(|c| match c {
        sessionkeeper_tests::recording::Call::Notify {
            summary, actions, ..
        } if summary.ends_with("already") => Some(actions),
        _ => None,
    });
    assert_eq!(
        asked,
        Some(vec![
            sessionkeeper_core::overview::NoticeAction::Wait,
            sessionkeeper_core::overview::NoticeAction::TakeOver
        ])
    );
    assert_eq!(b.logins_opened(), 0);

    // Alice signs in: captured, pushed; the claim goes and the renewal is recorded.
    a.signed_in(&sim);
    a.wait_summary("Alice's login pushed", |s| {
        s.contains("logged in; pushed to 2 of 2")
    });
    a.host.wait_for("the claim released", WAIT, |_| {
        claim_of(&sim).is_none().then_some(())
    });
    let renewal = sim
        .github_variable("acme/circletel", "SESSIONKEEPER_RENEWED_MTN")
        .expect("a renewal recorded");
    let renewal: serde_json::Value = serde_json::from_str(&renewal).expect("json");
    assert_eq!(renewal["by"], "alice");
    assert!(
        !renewal.to_string().contains(&a.export()),
        "no value in the renewal"
    );

    // Bob adopts it from Vercel within a poll: green, no login window, Alice's export.
    advance(&sim, &[&a, &b], std::time::Duration::from_secs(11));
    b.host.wait_for("Bob adopts the renewal", WAIT, |_| {
        (b.export() == a.export()).then_some(())
    });
    b.host.wait_for("Bob's tray green", WAIT, |_| {
        b.host
            .tray()
            .filter(|t| t.colour == sessionkeeper_core::overview::TrayColour::Green)
    });
    assert_eq!(b.logins_opened(), 0, "Bob never logged in");
    b.host.wait_for("Bob's menu says who renewed", WAIT, |_| {
        b.tray_title()
            .contains("renewed by alice at ")
            .then_some(())
    });
    // Bob pushed nothing: the redeploy happened once, Alice's.
    assert_eq!(
        sim.redeploys_carrying("circletel", "MTN_SESSION", &a.export()),
        1
    );
}

#[test]
fn a_window_closed_halfway_releases_the_claim_a_stale_one_is_taken_over_and_two_at_once_open_one_window()
 {
    let sim = sim();
    let dead = sim.mint_session(SessionKind::Cookie, None);
    assert!(sim.expire_session(&dead.value));
    let a = Tray::start(&sim, "tray2-alice", ALICE, &dead.value);
    let b = Tray::start(&sim, "tray2-bob", BOB, &dead.value);

    let expired = format!("{NAME}: session expired");
    b.wait_summary("Bob's expired", |s| s == expired);
    // Closed halfway: released at once, and Bob, told Alice was on it, is asked to log in
    // again.
    a.reauthenticate();
    a.host.wait_for("Alice's window", WAIT, |_| {
        (a.logins_opened() == 1).then_some(())
    });
    assert!(claim_of(&sim).is_some());
    advance(&sim, &[&a, &b], std::time::Duration::from_secs(11));
    b.wait_summary("Bob told", |s| s.contains("alice is re-authenticating"));
    a.send(sessionkeeper_controller::Intent::LoginClosed {
        profile: "mtn".to_owned(),
    });
    a.host.wait_for("released at once", WAIT, |_| {
        claim_of(&sim).is_none().then_some(())
    });
    advance(&sim, &[&a, &b], std::time::Duration::from_secs(11));
    b.host.wait_for("Bob asked to log in again", WAIT, |_| {
        (b.summaries().iter().filter(|s| **s == expired).count() == 2).then_some(())
    });

    // A claim past `until` (Alice's laptop died mid-login) is Bob's for the taking.
    let old = chrono::Utc::now() - chrono::Duration::minutes(40);
    sim.set_github_variable(
        "acme/circletel",
        "SESSIONKEEPER_CLAIM_MTN",
        &serde_json::json!({"by": "alice", "host": "dead-laptop", "since": old,
            "until": old + chrono::Duration::minutes(15)})
        .to_string(),
    );
    b.reauthenticate();
    b.host.wait_for("Bob's window", WAIT, |_| {
        (b.logins_opened() == 1).then_some(())
    });
    assert_eq!(claim_of(&sim).expect("claim")["by"], "bob");
    b.send(sessionkeeper_controller::Intent::LoginClosed {
        profile: "mtn".to_owned(),
    });
    b.host.wait_for("Bob's released", WAIT, |_| {
        claim_of(&sim).is_none().then_some(())
    });

    // Both at the same moment: one window across both trays; the other is asked first.
    let (a0, b0) = (a.logins_opened(), b.logins_opened());
    a.reauthenticate();
    b.reauthenticate();
    a.host.wait_for("one of them asked first", WAIT, |_| {
        let asked = |t: &Tray| t.summaries().iter().any(|s| s.ends_with("already"));
        (asked(&a) || asked(&b)).then_some(())
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    let opened = (a.logins_opened() - a0) + (b.logins_opened() - b0);
    assert_eq!(opened, 1, "exactly one login window across both trays");
    let winner = claim_of(&sim).expect("one claim")["by"].clone();
    let (won, lost) = if winner == "alice" {
        (&a, &b)
    } else {
        (&b, &a)
    };
    assert_eq!(
        won.logins_opened() - if winner == "alice" { a0 } else { b0 },
        1
    );
    assert!(lost.summaries().iter().any(|s| s.ends_with("already")));
}

#[test]
fn the_ci_alarm_says_who_is_re_authenticating_and_status_gives_each_profile_its_claim() {
    sessionkeeper_tests::require_keychain();
    let sim = sim();
    let alice = member(&sim, "team-alarm-alice", ALICE, None);
    let mut ci = member(&sim, "team-alarm-ci", BOB, None);
    let status = ci.run(&["status", "--json"]).json();
    assert_eq!(
        status["profiles"][0]["claim"],
        serde_json::Value::Null,
        "{status}"
    );
    alice.run(&["claim", "mtn"]).assert_code(0);
    let status = ci.run(&["status", "--json"]).json();
    let claim = &status["profiles"][0]["claim"];
    assert_eq!(claim["by"], "alice", "{status}");
    assert!(claim["since"].is_string() && claim["until"].is_string() && claim["host"].is_string());
    assert!(ci.run(&["status", "--offline", "--json"]).json()["profiles"][0]["claim"].is_null());

    ci.set_env("GITHUB_API_URL", &sim.urls().github_api);
    ci.set_env("GH_TOKEN", BOB);
    let dead = sim.mint_session(SessionKind::Cookie, None);
    sim.expire_session(&dead.value);
    ci.set_env(
        "MTN_SESSION",
        &sessionkeeper_tests::cookie_export("mtn", &[("JSESSIONID", &dead.value, "127.0.0.1")]),
    );
    let check = [
        "check",
        "--github-issue",
        "acme/circletel",
        "mtn",
        "--session-env",
        "MTN_SESSION",
    ];
    ci.run(&check).assert_code(1);
    ci.run(&check).assert_code(1);
    let issue = &sim.github_issues("acme/circletel")[0];
    assert!(
        issue
            .body
            .starts_with("**alice** is re-authenticating (since "),
        "{}",
        issue.body
    );
    assert!(
        issue.comments[0].contains("**alice** is re-authenticating"),
        "{:?}",
        issue.comments
    );

    // Alice is done: the claim goes; the next check finds the session valid and closes.
    alice.run(&["release", "mtn"]).assert_code(0);
    let live = sim.mint_session(SessionKind::Cookie, None);
    ci.set_env(
        "MTN_SESSION",
        &sessionkeeper_tests::cookie_export("mtn", &[("JSESSIONID", &live.value, "127.0.0.1")]),
    );
    ci.run(&check).assert_code(0);
    let issue = &sim.github_issues("acme/circletel")[0];
    assert_eq!(issue.state, "closed");
    assert!(
        !issue
            .comments
            .last()
            .expect("closing comment")
            .contains("re-authenticating")
    );
}

/// A member's environment for a real tray app: `mtn` named `name`, polled every 10 s,
/// pushed to the team's repository and an encrypted Vercel variable, with a dead session.
fn desk_member(
    desktop: &sessionkeeper_tests::desktop::Desktop,
    sim: &SimHandle,
    env_name: &str,
    token: &str,
    name: &str,
    dead: &str,
) -> TestEnv {
    let mut env = TestEnv::on(desktop, env_name);
    let text = sessionkeeper_tests::fixture::Fixture::new(sim)
        .accounts()
        .cookie_profile("mtn", name)
        .set(&["profiles", "mtn"], "poll_every", "10s")
        .push_github("mtn", "MTN_SESSION")
        .push_vercel("mtn", "MTN_SESSION")
        .text();
    env.write_config(&text);
    // WebDriver can only drive a window of WebKit's persistent context.
    env.set_env("SESSIONKEEPER_LOGIN_INCOGNITO", "off");
    for (item, value) in [
        ("account:github", token),
        ("account:vercel", "vercel_simulated_token"),
        ("profile:mtn:username", "demo"),
        ("profile:mtn:password", "demo-password"),
    ] {
        env.run_stdin(&["secret", "set", item], value)
            .assert_code(0);
    }
    env.run_stdin(
        &["import", "mtn", "--no-validate"],
        &sessionkeeper_tests::cookie_export("mtn", &[("JSESSIONID", dead, "127.0.0.1")]),
    )
    .assert_code(0);
    env
}

/// Two real tray apps (two HOMEs, keychain services and configs) on one desktop and one sim.
#[test]
fn two_tray_apps_one_login_alice_logs_in_bob_is_told_asked_first_and_adopts_without_a_window() {
    use sessionkeeper_tests::desktop::{App, Desktop, app_binary};
    use sessionkeeper_tests::webdriver::{
        Driver, click_and_leave, eventually, switch_to_window, value_of,
    };
    let desktop = Desktop::start();
    let wait = std::time::Duration::from_secs(45);
    let sim = sim();
    let u = sim.urls();
    let dead = sim.mint_session(SessionKind::Cookie, None);
    assert!(sim.expire_session(&dead.value));
    let a_env = desk_member(
        &desktop,
        &sim,
        "desk-alice",
        ALICE,
        "MTN Alice",
        &dead.value,
    );
    let b_env = desk_member(&desktop, &sim, "desk-bob", BOB, "MTN Bob", &dead.value);
    let bus = desktop.bus_monitor(b_env.root.path());
    let b = App::start(&b_env, &[]);
    let driver = Driver::start(&a_env);
    // A notification shown and answered by the server with its id.
    let notified = |summary: &dyn Fn(&str) -> bool| {
        bus.notifications()
            .into_iter()
            .find(|n| summary(&n.summary) && n.id.is_some())
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = driver.session(&app_binary(), &["--dashboard"]).await;
        // The session dies: both show it expired.
        driver.wait_for_log("both expired", wait, |_| {
            notified(&|s| s == "MTN Alice: session expired").is_some()
                && notified(&|s| s == "MTN Bob: session expired").is_some()
        });
        let alices = notified(&|s| s == "MTN Alice: session expired").expect("seen");
        let taken = |log: &str| log.matches("notification action: reauthenticate").count();
        let before = taken(&driver.log());
        desktop.invoke_action_until_heard(
            alices.id.expect("an id"),
            "reauthenticate",
            wait,
            || taken(&driver.log()) > before,
        );
        switch_to_window(&client, &u.sso_login, wait).await;
        assert_eq!(claim_of(&sim).expect("one claim")["by"], "alice");

        // Within one poll Bob's notification says Alice is on it.
        driver.wait_for_log("Bob told", wait, |_| {
            notified(&|s| s.starts_with("MTN Bob: alice is re-authenticating (since ")).is_some()
        });
        // Bob's Re-authenticate (a second launch, as from his menu) asks first; no window.
        let again = b_env
            .command_for(&app_binary())
            .args(["--login", "mtn"])
            .output()
            .expect("Bob's second launch");
        assert!(again.status.success(), "{again:?}");
        driver.wait_for_log("Bob asked first", wait, |_| {
            notified(&|s| {
                s.starts_with("MTN Bob: alice is re-authenticating") && s.ends_with("already")
            })
            .is_some_and(|n| n.actions.iter().any(|(k, _)| k == "take-over"))
        });
        assert!(
            !desktop
                .window_titles()
                .iter()
                .any(|t| t.starts_with("Log in — MTN Bob")),
            "{:?}",
            desktop.window_titles()
        );

        // Alice solves the captcha and signs in (pre-filled).
        eventually("pre-filled", wait, || async {
            value_of(&client, "#username").await == "demo"
        })
        .await;
        client
            .find(fantoccini::Locator::Css("#robot"))
            .await
            .expect("captcha")
            .click()
            .await
            .expect("tick");
        eventually("the captcha token", wait, || async {
            !value_of(&client, "#captcha").await.is_empty()
        })
        .await;
        click_and_leave(&client, "#submit").await;
        driver.wait_for_log("Alice's push", wait, |log| {
            log.contains("MTN Alice: logged in; pushed to 2 of 2")
        });
        eventually("the claim released", wait, || async {
            claim_of(&sim).is_none()
        })
        .await;
        assert!(
            sim.github_variable("acme/circletel", "SESSIONKEEPER_RENEWED_MTN")
                .is_some()
        );
        // Bob adopts it by himself and turns green, with no login window.
        b.wait_for("Bob green", wait, |app| app.log().contains("tray: green"));
        let _ = client.close().await;
    });
    let export = |env: &TestEnv| env.run(&["export", "mtn", "--output-only"]).stdout;
    assert_eq!(export(&b_env), export(&a_env), "Bob's export is Alice's");
    assert!(!b.log().contains("login window opened"), "{}", b.log());
    assert!(
        b.log().contains("team: renewed by alice at "),
        "{}",
        b.log()
    );
}

#[test]
fn without_variables_permission_the_login_opens_alone_and_the_tray_says_the_team_cannot_see_it() {
    let sim = sim();
    let dead = sim.mint_session(SessionKind::Cookie, None);
    assert!(sim.expire_session(&dead.value));
    let a = Tray::start(&sim, "tray-blind", ALICE, &dead.value);
    a.wait_summary("expired", |s| s == format!("{NAME}: session expired"));
    sim.push_api_fault(sessionkeeper_tests::ApiFault {
        service: sessionkeeper_tests::Service::Github,
        status: 403,
        retry_after: None,
        ratelimit_reset_in: None,
        message: "Resource not accessible by personal access token".to_owned(),
        count: 20,
    });
    a.reauthenticate();
    a.host.wait_for("the login opens anyway", WAIT, |_| {
        (a.logins_opened() == 1).then_some(())
    });
    a.host.wait_for("the tray says so", WAIT, |_| {
        a.tray_title()
            .contains("the team cannot see this login")
            .then_some(())
    });
    assert!(
        a.tray_title().contains("Variables: write"),
        "{}",
        a.tray_title()
    );
    assert!(claim_of(&sim).is_none());
}

#[test]
fn with_no_github_target_the_login_opens_as_before_and_the_tray_says_the_team_cannot_see_it() {
    use sessionkeeper_core::secret::Secret;
    let sim = sim();
    let env = TestEnv::new("tray-solo");
    let text = sessionkeeper_tests::fixture::Fixture::new(&sim)
        .accounts()
        .cookie_profile("mtn", NAME)
        .push_vercel("mtn", "MTN_SESSION")
        .text();
    env.write_config(&text);
    let config = std::sync::Arc::new(
        sessionkeeper_core::Config::parse(&text, &env.config_path()).expect("loads"),
    );
    let keychain = sessionkeeper_controller::Keychain::isolated(&env.service, env.sessions_dir());
    let vault = keychain.open().expect("keychain");
    vault
        .set_secret(
            &sessionkeeper_core::vault::SecretName::parse("account:vercel").expect("name"),
            &Secret::new("vercel_simulated_token"),
        )
        .expect("set");
    let host = sessionkeeper_tests::recording::RecordingHost::new();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (handle, _task) = {
        let _guard = runtime.enter();
        sessionkeeper_controller::spawn(
            host.clone(),
            std::sync::Arc::new(sessionkeeper_core::clock::SystemClock),
            sessionkeeper_controller::Setup {
                config,
                config_error: None,
                keychain,
                history: None,
                book: None,
                demo: false,
                autostart: false,
                retry: None,
            },
        )
    };
    assert!(
        handle.send(sessionkeeper_controller::Intent::Reauthenticate {
            profile: "mtn".to_owned()
        })
    );
    host.wait_for("the login window, at once", WAIT, |calls| {
        calls
            .iter()
            .any(|c| matches!(c, sessionkeeper_tests::recording::Call::OpenLogin { .. }))
            .then_some(())
    });
    host.wait_for("the tray says the team cannot see it", WAIT, |_| {
        host.tray()
            .and_then(|t| t.lines.first().map(|l| l.title.clone()))
            .filter(|t| {
                t.contains("the team cannot see this login (it pushes to no GitHub repository")
            })
    });
    assert!(sim.github_variables("acme/circletel").is_empty());
}
