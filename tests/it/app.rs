//! The tray app on a real desktop session (Xvfb, D-Bus, gnome-keyring, dunst) against sim:
//! notifications as the bus sees them, their Re-authenticate action, the login window it
//! opens, and a second launch reaching the running app.

use std::time::Duration;

use sessionkeeper_tests::desktop::{App, Desktop};
use sessionkeeper_tests::{SessionKind, SimConfig, SimHandle, TestEnv};

/// A cookie profile against sim, tracked for `tracked` and warned `warn` before.
fn config(sim: &SimHandle, name: &str, tracked: &str, warn: &str) -> String {
    let u = sim.urls();
    format!(
        r#"
[profiles.mtn]
name = "{name}"
login_url = "{login}"
capture = "cookies"
cookie_urls = ["{api}/"]
session_id_cookie = "JSESSIONID"
tracked_ttl = "{tracked}"
warn_before = "{warn}"
poll_every = "10s"

[profiles.mtn.validate]
url = "{products}"
invalid_redirect_prefix = "{sso}/sso/"
timeout = "1s"
attempts = 2
backoff = "100ms"
"#,
        login = u.sso_login,
        api = u.api_origin,
        sso = u.sso_origin,
        products = u.products,
    )
}

/// Imports a live sim session for `mtn` whose tracked expiry is `expires_in` from now.
fn import_session(env: &TestEnv, sim: &SimHandle, expires_in: chrono::Duration) -> String {
    let minted = sim.mint_session(SessionKind::Cookie, None);
    let export = sessionkeeper_tests::cookie_export_expiring(
        "mtn",
        &[("JSESSIONID", &minted.value, "127.0.0.1")],
        expires_in,
    );
    env.run_stdin(&["import", "mtn"], &export).assert_code(0);
    minted.value
}

fn webkit(processes: &[String]) -> Vec<&String> {
    processes
        .iter()
        .filter(|p| p.starts_with("WebKit"))
        .collect()
}

/// The expiry on a real desktop: the notification is on the bus with its Re-authenticate
/// action, one click opens the login window (and only then a WebKit process), and when a
/// session arrives (stored by the CLI here) the notification is withdrawn on the bus. What
/// happens between episodes, and when, is the controller's (tests/it/controller.rs).
#[test]
fn the_expiry_notification_re_authenticates_in_one_click_and_goes_when_a_session_arrives() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::on(&desktop, "app-notify");
    let name = "MTN Notify Test";
    env.write_config(
        &config(&sim, name, "60m", "15m").replace("poll_every = \"10s\"", "poll_every = \"1h\""),
    );
    let value = import_session(&env, &sim, chrono::Duration::minutes(60));
    assert!(sim.expire_session(&value));
    let bus = desktop.bus_monitor(env.root.path());
    let ours = |summary: &str| {
        bus.notifications()
            .into_iter()
            .filter(|n| n.app_name == "Session Keeper" && n.summary == summary)
            .collect::<Vec<_>>()
    };
    let expired = format!("{name}: session expired");

    let app = App::start(&env, &[]);
    // Shown, and answered by the server with its id.
    app.wait_for("the expired notification", Duration::from_secs(20), |_| {
        ours(&expired).iter().any(|n| n.id.is_some())
    });
    // Idle, with no window open: no WebKit process exists.
    assert_eq!(
        webkit(&app.descendants()),
        Vec::<&String>::new(),
        "{:?}",
        app.descendants()
    );
    let dead = ours(&expired).remove(0);
    assert!(
        dead.actions
            .contains(&("reauthenticate".to_owned(), "Re-authenticate".to_owned())),
        "{dead:?}"
    );
    assert!(
        !dead.body.contains(&value),
        "no session value in a notification"
    );
    assert!(!app.log().contains(&value), "no session value in the log");
    let id = dead.id.expect("the server answered Notify with an id");

    // The human clicks Re-authenticate: the login window opens on sim's SSO page.
    desktop.invoke_action_until_heard(id, "reauthenticate", Duration::from_secs(30), || {
        app.log().contains("notification action: reauthenticate")
    });
    let title = format!("Log in — {name}");
    app.wait_for_window(&title, Duration::from_secs(30));
    app.wait_for("WebKit for the window", Duration::from_secs(30), |a| {
        !webkit(&a.descendants()).is_empty()
    });

    // A session arrives from another program: the episode ends, its notification goes.
    import_session(&env, &sim, chrono::Duration::minutes(60));
    app.wait_for(
        "the notification withdrawn",
        Duration::from_secs(20),
        |_| bus.closed().contains(&id),
    );
    app.wait_for("green", Duration::from_secs(20), |a| {
        a.log().contains("tray: green")
    });
    assert_eq!(ours(&expired).len(), 1, "{:#?}", bus.notifications());
    let mut app = app;
    assert!(
        app.child.try_wait().expect("wait").is_none(),
        "the app is still running"
    );
}

#[test]
fn a_second_launch_with_login_reaches_the_running_app_and_exits() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::on(&desktop, "app-single");
    let name = "MTN Single Instance";
    env.write_config(&config(&sim, name, "60m", "15m"));
    import_session(&env, &sim, chrono::Duration::minutes(60));
    let app = App::start(&env, &[]);

    let second = env
        .command_for(&sessionkeeper_tests::desktop::app_binary())
        .args(["--login", "mtn"])
        .output()
        .expect("second launch");
    assert!(second.status.success(), "{second:?}");
    let title = format!("Log in — {name}");
    app.wait_for_window(&title, Duration::from_secs(30));
    // A second request focuses the open window instead of opening another.
    let again = env
        .command_for(&sessionkeeper_tests::desktop::app_binary())
        .args(["--login", "mtn"])
        .output()
        .expect("third launch");
    assert!(again.status.success(), "{again:?}");
    app.wait_for("the focus", Duration::from_secs(10), |a| {
        a.log().contains("login window focused") || a.log().contains("login window already opening")
    });
    app.wait_for("the window's build to end", Duration::from_secs(10), |a| {
        a.log().contains("login window opened")
    });
    // The controller answered the third launch with a focus (logged above), not an open: no
    // second window can follow from it.
    assert_eq!(
        app.log().matches("login window opened").count(),
        1,
        "{}",
        app.log()
    );
    assert_eq!(
        desktop
            .window_titles()
            .iter()
            .filter(|t| t.starts_with(&title))
            .count(),
        1,
        "{:?}",
        desktop.window_titles()
    );
    // A second launch that cannot read the config still reaches the running app.
    let blind = env
        .command_for(&sessionkeeper_tests::desktop::app_binary())
        .args(["--config", "/nonexistent/config.toml", "--dashboard"])
        .output()
        .expect("fourth launch");
    assert!(blind.status.success(), "{blind:?}");
    app.wait_for("the dashboard", Duration::from_secs(20), |a| {
        a.log().contains("dashboard opened")
    });
}

/// A first launch, as from the menu right after installing: no config file. The app stays
/// in the tray with no profile and writes no config; a profile saved into the file later is
/// taken in and checked within 5 s, without a restart; a typo keeps the last good config
/// running and says where it is (file, line, key) in one notification, withdrawn when the
/// file loads again; a profile removed from the file is dropped.
#[test]
fn with_no_config_the_app_waits_in_the_tray_and_takes_in_each_saved_change_live() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::on(&desktop, "app-reload");
    let bus = desktop.bus_monitor(env.root.path());
    let app = App::start(&env, &[]);
    std::thread::sleep(Duration::from_secs(1));
    let mut app = app;
    assert!(
        app.child.try_wait().expect("wait").is_none(),
        "the app stays running with no config: {}",
        app.log()
    );
    assert!(
        !env.config_path().exists(),
        "the app wrote no config by itself"
    );
    assert!(
        app.log().contains("starting with no profile"),
        "{}",
        app.log()
    );

    // The human saves a profile: checked within 5 s (no session yet); then its session,
    // imported from the terminal, is checked valid.
    let name = "MTN Reload Test";
    let good = config(&sim, name, "60m", "15m");
    env.write_config(&good);
    app.wait_for("the new profile checked", Duration::from_secs(5), |a| {
        a.log().contains("profile=mtn status=")
    });
    import_session(&env, &sim, chrono::Duration::minutes(60));
    app.wait_for("the session valid", Duration::from_secs(10), |a| {
        a.log().contains("profile=mtn status=\"valid\"")
    });

    // A typo: the last good config goes on; one notification names the file, line and key.
    env.write_config(&good.replace("tracked_ttl = \"60m\"", "tracked_ttl = \"soon\""));
    let broken = |summary: &str| {
        bus.notifications()
            .into_iter()
            .filter(|n| n.app_name == "Session Keeper" && n.summary == summary)
            .collect::<Vec<_>>()
    };
    // Shown, and answered by the server with its id.
    app.wait_for("the config error notified", Duration::from_secs(5), |_| {
        broken("The config file has an error")
            .iter()
            .any(|n| n.id.is_some())
    });
    let notice = broken("The config file has an error").remove(0);
    assert!(notice.body.contains("config.toml:"), "{notice:?}");
    assert!(notice.body.contains("tracked_ttl"), "{notice:?}");
    let checks = app.log().matches("profile=mtn status=").count();
    app.wait_for(
        "the last good profile checked again",
        Duration::from_secs(15),
        |a| a.log().matches("profile=mtn status=").count() > checks,
    );

    // The profile is removed: the error's notification goes, the profile is not checked.
    env.write_config("# nothing to watch for now\n");
    let id = notice.id.expect("the server answered Notify with an id");
    app.wait_for("the error withdrawn", Duration::from_secs(5), |_| {
        bus.closed().contains(&id)
    });
    app.wait_for("the reload", Duration::from_secs(5), |a| {
        a.log().contains("config reloaded: 0 profile(s) (was 1)")
    });
    // That the removed profile is then never checked again, however long the clock runs, is
    // the controller's rule, shown with a fake clock moved an hour on
    // (controller::a_reloaded_config_adds_checks_and_removes_profiles_and_a_broken_one_changes_nothing);
    // here, the real file watch and notifications take the change in.
    assert_eq!(broken("The config file has an error").len(), 1);
}

/// A config that does not load at start: the app starts anyway, with no profile, and says
/// why (file, line, key) in a notification, not only on stderr.
#[test]
fn a_broken_config_at_start_is_shown_by_the_running_app_with_the_file_line_and_key() {
    let desktop = Desktop::start();
    let env = TestEnv::on(&desktop, "app-badconfig");
    let bus = desktop.bus_monitor(env.root.path());
    env.write_config("[profiles.mtn]\ntracked_ttl = \"soon\"\n");
    let app = App::start(&env, &[]);
    app.wait_for("the config error notified", Duration::from_secs(10), |_| {
        bus.notifications()
            .iter()
            .any(|n| n.summary == "The config file has an error")
    });
    let notice = bus
        .notifications()
        .into_iter()
        .find(|n| n.summary == "The config file has an error")
        .expect("seen");
    assert!(notice.body.contains("config.toml:2"), "{notice:?}");
    assert!(notice.body.contains("tracked_ttl"), "{notice:?}");
    let mut app = app;
    assert!(
        app.child.try_wait().expect("wait").is_none(),
        "still running"
    );
}

/// A token profile that refreshes itself at sim's `/auth/login`, with its credentials and a
/// GitHub token in the keychain, and a live session whose tracked expiry is 10 minutes away
/// (inside `refresh_before`, outside `warn_before`).
fn refreshing_profile(desktop: &Desktop, sim: &SimHandle, name: &str) -> TestEnv {
    let u = sim.urls();
    let env = TestEnv::on(desktop, &name.to_lowercase().replace(' ', "-"));
    env.write_config(&format!(
        r#"
[accounts.github]
kind = "github"
api_url = "{github}"

[profiles.breeze]
name = "{name}"
capture = "redirect-param"
redirect_param = "apisession"
login_url = "{token_login}demo-key"
tracked_ttl = "20m"
warn_before = "5m"
refresh_before = "15m"
poll_every = "10s"

[profiles.breeze.refresh]
url = "{api}/auth/login"
format = "json"
fields = {{ username = "{{username}}", password = "{{password}}" }}
capture = "json:Success.session_token"

[profiles.breeze.validate]
url = "{products}"
token_header = "X-SessionToken"
timeout = "2s"

[[profiles.breeze.push]]
to = "github"
repo = "acme/circletel"
secret = "BREEZE_SESSION"
"#,
        github = u.github_api,
        token_login = u.token_login,
        api = u.api_origin,
        products = u.products,
    ));
    let sc = SimConfig::default();
    for (name, value) in [
        ("profile:breeze:username", sc.username.as_str()),
        ("profile:breeze:password", sc.password.as_str()),
        ("account:github", sc.github_token.as_str()),
    ] {
        env.run_stdin(&["secret", "set", name], value)
            .assert_code(0);
    }
    let minted = sim.mint_session(SessionKind::Token, None);
    let now = chrono::Utc::now();
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let doc = serde_json::json!({"version": 1, "profile": "breeze", "sessionId": null,
        "capturedAt": time(now), "expiresAt": time(now + chrono::Duration::minutes(10)),
        "cookies": [], "token": minted.value});
    env.run_stdin(&["import", "breeze"], &doc.to_string())
        .assert_code(0);
    env
}

#[test]
fn a_session_is_refreshed_and_pushed_before_its_tracked_expiry_with_no_human() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let name = "Breeze Refresh Test";
    let env = refreshing_profile(&desktop, &sim, name);
    let before = env.run(&["export", "breeze", "--output-only"]).stdout;
    let bus = desktop.bus_monitor(env.root.path());
    let app = App::start(&env, &[]);
    let done = format!("{name}: refreshed without you; pushed to 1 of 1");
    app.wait_for("the refresh and push", Duration::from_secs(40), |_| {
        bus.notifications().iter().any(|n| n.summary == done)
    });
    assert_eq!(sim.logins(), 1);
    let after = env.run(&["export", "breeze", "--output-only"]).stdout;
    assert_ne!(after, before, "a new session is stored");
    let pushed = sim
        .github_secret("repo:acme/circletel", "BREEZE_SESSION")
        .expect("pushed; the fake opened the sealed box");
    assert_eq!(pushed, after.trim().as_bytes());
    // The new session is checked at once and is far from expiry: no more refreshes.
    app.wait_for(
        "the check of the new session",
        Duration::from_secs(20),
        |a| a.log().matches("status=\"valid\"").count() >= 2,
    );
    assert_eq!(sim.logins(), 1, "one refresh");
    let ours: Vec<_> = bus
        .notifications()
        .into_iter()
        .filter(|n| n.summary.starts_with(name))
        .map(|n| n.summary)
        .collect();
    assert_eq!(ours, vec![done], "no expiry notice");
}

#[test]
fn a_refresh_that_always_fails_ends_in_one_notification_offering_re_authenticate() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let name = "Breeze Refresh Fails";
    let env = refreshing_profile(&desktop, &sim, name);
    sim.fail_all_logins(true);
    let bus = desktop.bus_monitor(env.root.path());
    let app = App::start(&env, &[]);
    let failed = format!("{name}: refresh failed");
    app.wait_for("the failure notice", Duration::from_secs(40), |_| {
        bus.notifications().iter().any(|n| n.summary == failed)
    });
    // Three attempts, 2 s and 4 s apart (that it is not tried again for the same session is
    // the controller's, on a fake clock: tests/it/controller.rs).
    assert_eq!(sim.logins(), 3);
    let notices: Vec<_> = bus
        .notifications()
        .into_iter()
        .filter(|n| n.summary.starts_with(name))
        .collect();
    assert_eq!(notices.len(), 1, "{notices:#?}");
    assert!(
        notices[0]
            .actions
            .contains(&("reauthenticate".to_owned(), "Re-authenticate".to_owned())),
        "{notices:?}"
    );
    assert!(notices[0].body.contains("401"), "{}", notices[0].body);
    // And it is in the audit, with its reason.
    let history =
        std::fs::read_to_string(env.root.path().join("state/sessionkeeper/history.jsonl"))
            .expect("history");
    assert_eq!(
        history.matches("\"event\":\"refresh_failed\"").count(),
        1,
        "{history}"
    );
}

/// A profile pushed to sim's GitHub and Vercel (redeployed), checked once an hour, with both
/// tokens in the keychain and a live session imported (not pushed yet).
fn pushed_profile(sim: &SimHandle, env: &TestEnv, name: &str) -> String {
    let text = sessionkeeper_tests::fixture::Fixture::new(sim)
        .accounts()
        .cookie_profile("mtn", name)
        .set(&["profiles", "mtn"], "poll_every", "1h")
        .push_github("mtn", "MTN_SESSION")
        .push_vercel("mtn", "MTN_SESSION")
        .text();
    env.write_config(&text);
    let defaults = SimConfig::default();
    for (item, value) in [
        ("account:github", defaults.github_token.as_str()),
        ("account:vercel", defaults.vercel_token.as_str()),
    ] {
        env.run_stdin(&["secret", "set", item], value)
            .assert_code(0);
    }
    import_session(env, sim, chrono::Duration::minutes(60));
    env.run(&["export", "mtn", "--output-only"])
        .stdout
        .trim()
        .to_owned()
}

/// Each target's state, from `status --json`.
fn target_states(env: &TestEnv) -> Vec<(String, String)> {
    let json = env.run(&["status", "--json"]).json();
    json["profiles"][0]["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["target"].as_str().unwrap_or_default().to_owned(),
                t["state"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_push_killed_halfway_is_finished_after_a_restart_with_one_production_redeploy() {
    let desktop = Desktop::start();
    // A build that takes a minute: the app is killed while it follows the redeploy.
    let sim = SimHandle::start(SimConfig {
        vercel_build_time: Duration::from_secs(60),
        ..SimConfig::default()
    });
    let env = TestEnv::on(&desktop, "app-killed");
    let export = pushed_profile(&sim, &env, "MTN Killed Push");
    let app = App::start(&env, &[]);
    app.wait_for(
        "GitHub done, the redeploy made",
        Duration::from_secs(30),
        |_| {
            sim.github_secret("repo:acme/circletel", "MTN_SESSION")
                .as_deref()
                == Some(export.as_bytes())
                && sim.redeploys_carrying("circletel", "MTN_SESSION", &export) == 1
        },
    );
    let mut app = app;
    app.child.kill().expect("SIGKILL");
    app.child.wait().expect("reaped");
    let states = target_states(&env);
    assert!(
        states
            .iter()
            .any(|(t, s)| t.starts_with("vercel") && s != "current"),
        "Vercel does not hold it yet: {states:?}"
    );
    // The build finishes meanwhile; the app starts again, with no click.
    sim.set_build_time(Duration::from_millis(300));
    let again = App::start(&env, &[]);
    again.wait_for("both targets current", Duration::from_secs(120), |_| {
        let states = target_states(&env);
        !states.is_empty() && states.iter().all(|(_, s)| s == "current")
    });
    assert_eq!(
        sim.redeploys_carrying("circletel", "MTN_SESSION", &export),
        1,
        "the redeploy made before the kill was followed, not made again"
    );
    assert_eq!(
        sim.vercel_env("circletel", "MTN_SESSION")
            .map(|v| v.value)
            .as_deref(),
        Some(export.as_str())
    );
}

#[test]
fn setting_a_good_token_converges_a_refused_target_without_a_click() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::on(&desktop, "app-token");
    let export = pushed_profile(&sim, &env, "MTN Token Fix");
    env.run_stdin(&["secret", "set", "account:github"], "ghp_revoked")
        .assert_code(0);
    let app = App::start(&env, &[]);
    app.wait_for("GitHub refused", Duration::from_secs(30), |_| {
        let json = env.run(&["status", "--json"]).json();
        json["profiles"][0]["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|t| {
                t["state"] == "failing"
                    && t["lastError"].as_str().is_some_and(|e| e.contains("401"))
                    && t["hint"]
                        .as_str()
                        .is_some_and(|h| h.contains("secret set account:github"))
            })
    });
    // The human fixes the token in a terminal; the running app notices by itself.
    env.run_stdin(
        &["secret", "set", "account:github"],
        SimConfig::default().github_token.as_str(),
    )
    .assert_code(0);
    app.wait_for("both targets current", Duration::from_secs(30), |_| {
        let states = target_states(&env);
        !states.is_empty() && states.iter().all(|(_, s)| s == "current")
    });
    assert_eq!(
        sim.github_secret("repo:acme/circletel", "MTN_SESSION")
            .as_deref(),
        Some(export.as_bytes())
    );
    assert!(!app.log().contains("ghp_revoked"), "no token in the log");
}

/// The soft and hard "Max core file size" of process `pid`.
fn core_limit(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .expect("the process's limits")
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .map(|l| {
            l.split_whitespace()
                .skip(4)
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .expect("a core limit line")
}

/// Finding: core dumps were not disabled; a crash of the app or the CLI would write the
/// sessions and tokens in their memory to disk. Both turn them off at start.
#[test]
fn finding_core_dumps_are_off_in_the_app_and_the_cli() {
    use std::io::Write as _;
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::on(&desktop, "app-core");
    env.write_config(&config(&sim, "MTN Core", "60m", "15m"));
    // This test process may dump core: the limit is the binaries' own doing.
    assert_ne!(core_limit(std::process::id()), "0 0");
    let app = App::start(&env, &[]);
    app.wait_for("the tray", Duration::from_secs(30), |a| {
        a.log().contains("tray ready")
    });
    assert_eq!(core_limit(app.pid()), "0 0", "the app");
    // The CLI, while it waits for a secret on stdin.
    let mut cli = env
        .command()
        .args(["secret", "set", "account:github"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the CLI starts");
    let pid = cli.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    // Its own limit is set first thing, before it reads stdin.
    while core_limit(pid) != "0 0" {
        assert!(
            std::time::Instant::now() < deadline,
            "the CLI: {}",
            core_limit(pid)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    cli.stdin
        .take()
        .expect("stdin")
        .write_all(b"ghp_x")
        .expect("the secret");
    assert!(cli.wait().expect("ends").success());
}

/// Finding: the app log had no size cap. A log past 5 MiB becomes `….log.1` (one older file
/// kept) and a new one starts; both stay private.
#[test]
fn finding_the_app_log_is_capped_and_rotated() {
    use std::os::unix::fs::PermissionsExt as _;
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::on(&desktop, "app-logcap");
    env.write_config(&config(&sim, "MTN Log", "60m", "15m"));
    let dir = env.data_dir().join("dev.sessionkeeper.app/logs");
    std::fs::create_dir_all(&dir).expect("the log dir");
    let log = dir.join("sessionkeeper-app.log");
    let line = "an old line of the log, from a run long ago\n";
    std::fs::write(&log, line.repeat(6 * 1024 * 1024 / line.len())).expect("a 6 MiB log");
    let app = App::start(&env, &[]);
    app.wait_for("the tray", Duration::from_secs(30), |a| {
        a.log().contains("tray ready")
    });
    let size = |p: &std::path::Path| std::fs::metadata(p).expect("meta").len();
    let older = dir.join("sessionkeeper-app.log.1");
    assert!(
        size(&older) >= 6 * 1024 * 1024 - line.len() as u64,
        "the old log is kept once"
    );
    assert!(
        size(&log) < 64 * 1024,
        "a new log started: {} bytes",
        size(&log)
    );
    assert!(
        std::fs::read_to_string(&log)
            .expect("utf-8")
            .contains("tray ready")
    );
    for file in [&log, &older] {
        let mode = std::fs::metadata(file).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }
}
