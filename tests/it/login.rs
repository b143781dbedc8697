//! The heart of the product, end to end on a real desktop (Xvfb, D-Bus, gnome-keyring, dunst,
//! WebKitGTK driven over WebDriver by tauri-driver): the expiry notification's Re-authenticate
//! opens the login window on sim's login page, pre-filled from the keychain; the test does
//! only what a human does (tick the captcha, submit); the app captures the session (the
//! HttpOnly cookie, or the token from the redirect), validates it, stores it, pushes it to
//! sim's GitHub and Vercel fakes and closes the window, and the dashboard turns green.

use std::time::Duration;

use base64::Engine as _;
use fantoccini::{Client, Locator};
use sessionkeeper_tests::desktop::{App, BusMonitor, Desktop, app_binary};
use sessionkeeper_tests::webdriver::{
    Driver, click_and_leave, click_when_enabled, eventually, switch_to_window, text_of, value_of,
};
use sessionkeeper_tests::{SessionKind, SimConfig, SimHandle, TestEnv};

const GITHUB_TOKEN: &str = "ghp_simulated_github_token";
const VERCEL_TOKEN: &str = "vercel_simulated_token";
const WAIT: Duration = Duration::from_secs(45);

/// `mtn` (SSO cookies) and `breeze` (token in the redirect), both pre-filled, both pushed to a
/// GitHub repository secret and a Vercel env var with redeploy.
fn config(sim: &SimHandle) -> String {
    let u = sim.urls();
    format!(
        r##"
[accounts.github]
kind = "github"
api_url = "{github}"

[accounts.vercel]
kind = "vercel"
api_url = "{vercel}"

[profiles.mtn]
name = "MTN Login Test"
login_url = "{sso_login}"
capture = "cookies"
cookie_urls = ["{api}/"]
done_when = {{ url_prefix = "{portal}", cookies = ["JSESSIONID"] }}
session_id_cookie = "JSESSIONID"
prefill = {{ username = "#username", password = "#password" }}
poll_every = "1h"

[profiles.mtn.validate]
url = "{products}"
invalid_redirect_prefix = "{sso}/sso/"
timeout = "2s"

[[profiles.mtn.push]]
to = "github"
repo = "acme/circletel"
secret = "MTN_SESSION"

[[profiles.mtn.push]]
to = "vercel"
project = "circletel"
env = "MTN_SESSION"
targets = ["production"]
redeploy = true

[profiles.breeze]
name = "Breeze Login Test"
login_url = "{token_login}demo-key"
capture = "redirect-param"
redirect_param = "apisession"
done_when = {{ url_prefix = "{token_callback}" }}
prefill = {{ username = "#username", password = "#password" }}
poll_every = "1h"

[profiles.breeze.validate]
url = "{products}"
token_header = "X-SessionToken"
timeout = "2s"

[[profiles.breeze.push]]
to = "github"
repo = "acme/circletel"
secret = "BREEZE_SESSION"

[[profiles.breeze.push]]
to = "vercel"
project = "circletel"
env = "BREEZE_SESSION"
targets = ["production"]
redeploy = true
"##,
        github = u.github_api,
        vercel = u.vercel_api,
        sso_login = u.sso_login,
        sso = u.sso_origin,
        api = u.api_origin,
        portal = u.portal,
        products = u.products,
        token_login = u.token_login,
        token_callback = u.token_callback,
    )
}

/// An environment with every secret the app needs, whose profile `dead` holds a session the
/// server has ended (the other one's is live, so the tray can turn green).
fn ready(desktop: &Desktop, sim: &SimHandle, name: &str, dead: &str) -> TestEnv {
    let mut env = TestEnv::on(desktop, name);
    env.write_config(&config(sim));
    // WebDriver can only drive a window of WebKit's persistent context.
    env.set_env("SESSIONKEEPER_LOGIN_INCOGNITO", "off");
    for (item, value) in [
        ("account:github", GITHUB_TOKEN),
        ("account:vercel", VERCEL_TOKEN),
        ("profile:mtn:username", "demo"),
        ("profile:mtn:password", "demo-password"),
        ("profile:breeze:username", "demo"),
        ("profile:breeze:password", "demo-password"),
    ] {
        env.run_stdin(&["secret", "set", item], value)
            .assert_code(0);
    }
    let cookie = sim.mint_session(SessionKind::Cookie, None);
    let export =
        sessionkeeper_tests::cookie_export("mtn", &[("JSESSIONID", &cookie.value, "127.0.0.1")]);
    env.run_stdin(&["import", "mtn"], &export).assert_code(0);
    let token = sim.mint_session(SessionKind::Token, None);
    env.run_stdin(&["import", "breeze"], &token.value)
        .assert_code(0);
    let value = if dead == "mtn" {
        cookie.value
    } else {
        token.value
    };
    assert!(sim.expire_session(&value));
    env
}

/// Waits for the "session expired" notification of `name` and clicks its Re-authenticate.
fn click_re_authenticate(desktop: &Desktop, bus: &BusMonitor, driver: &Driver, name: &str) {
    let summary = format!("{name}: session expired");
    // Shown, and answered by the server with its id (the monitor sees the two apart).
    driver.wait_for_log("the expiry notification", WAIT, |_| {
        bus.notifications()
            .iter()
            .any(|n| n.summary == summary && n.id.is_some())
    });
    let notification = bus
        .notifications()
        .into_iter()
        .find(|n| n.summary == summary && n.id.is_some())
        .expect("seen");
    assert!(
        notification
            .actions
            .contains(&("reauthenticate".to_owned(), "Re-authenticate".to_owned())),
        "{notification:?}"
    );
    let taken = |log: &str| log.matches("notification action: reauthenticate").count();
    let before = taken(&driver.log());
    desktop.invoke_action_until_heard(
        notification.id.expect("Notify answered"),
        "reauthenticate",
        WAIT,
        || taken(&driver.log()) > before,
    );
}

/// What the sim's fakes hold for `secret`: GitHub's value opened from its sealed box, and
/// Vercel's env var.
fn pushed(sim: &SimHandle, secret: &str) -> (Option<String>, Option<String>) {
    let github = sim
        .github_secret("repo:acme/circletel", secret)
        .map(|b| String::from_utf8(b).expect("utf-8"));
    let vercel = sim.vercel_env("circletel", secret).map(|v| v.value);
    (github, vercel)
}

fn decode(export: &str) -> serde_json::Value {
    let json = base64::engine::general_purpose::STANDARD
        .decode(export)
        .expect("the export is base64");
    serde_json::from_slice(&json).expect("the export is JSON")
}

async fn window_count(client: &Client) -> usize {
    client.windows().await.map(|w| w.len()).unwrap_or(0)
}

/// After the human's submit: the log says the session was pushed to both targets, the login
/// window closes and the dashboard's card for `profile` turns valid.
async fn the_app_does_the_rest(client: &Client, driver: &Driver, name: &str, profile: &str) {
    let pushed = format!("{name}: logged in; pushed to 2 of 2");
    driver.wait_for_log("pushed to both targets", WAIT, |log| log.contains(&pushed));
    eventually("the login window closes", WAIT, || async {
        window_count(client).await == 1
    })
    .await;
    eventually(
        &format!("the dashboard shows {profile} valid"),
        WAIT,
        || async { card_status(client, profile).await == "valid" },
    )
    .await;
}

/// The dashboard card's status for `profile`, read in the dashboard window.
async fn card_status(client: &Client, profile: &str) -> String {
    switch_to_window(client, "Session Keeper", WAIT).await;
    text_of(client, &format!("#card-{profile} .status")).await
}

#[test]
fn the_human_solves_the_captcha_and_the_app_captures_the_httponly_cookie_validates_stores_and_pushes()
 {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let env = ready(&desktop, &sim, "login-cookie", "mtn");
    let old_export = env.run(&["export", "mtn", "--output-only"]).stdout;
    let bus = desktop.bus_monitor(env.root.path());
    let driver = Driver::start(&env);
    let u = sim.urls();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = driver.session(&app_binary(), &["--dashboard"]).await;
        eventually("the dashboard shows mtn expired", WAIT, || async {
            card_status(&client, "mtn").await == "invalid"
        })
        .await;
        click_re_authenticate(&desktop, &bus, &driver, "MTN Login Test");
        // The window the human sees says what is expected, in the app's own words.
        driver.wait_for_log("the login window", WAIT, |_| {
            desktop
                .window_titles()
                .iter()
                .any(|t| t.starts_with("Log in — MTN Login Test: sign in"))
        });
        switch_to_window(&client, &u.sso_login, WAIT).await;

        // Pre-filled from the keychain.
        eventually("the username is pre-filled", WAIT, || async {
            value_of(&client, "#username").await == "demo"
        })
        .await;
        assert_eq!(value_of(&client, "#password").await, "demo-password");

        // The remote page sees the bridge but may call nothing.
        let answer = client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 window.__TAURI_INTERNALS__.invoke('dashboard_state')
                   .then(() => done('allowed'), (e) => done('refused: ' + e));",
                vec![],
            )
            .await
            .expect("script ran");
        let answer = answer.as_str().unwrap_or_default().to_owned();
        assert!(answer.starts_with("refused"), "{answer}");

        // Another origin with the same field names is never filled.
        client
            .goto(&format!("{}demo-key", u.token_login))
            .await
            .expect("navigate");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(value_of(&client, "#username").await, "", "another origin");
        assert_eq!(value_of(&client, "#password").await, "", "another origin");
        client.goto(&u.sso_login).await.expect("navigate back");
        eventually("pre-filled again on the SSO", WAIT, || async {
            value_of(&client, "#username").await == "demo"
        })
        .await;

        // What only a human does: the captcha, then Sign in.
        client
            .find(Locator::Css("#robot"))
            .await
            .expect("captcha")
            .click()
            .await
            .expect("tick");
        eventually("the captcha token", WAIT, || async {
            !value_of(&client, "#captcha").await.is_empty()
        })
        .await;
        click_and_leave(&client, "#submit").await;

        // Nothing more from the human: captured, validated, stored, pushed, window closed.
        the_app_does_the_rest(&client, &driver, "MTN Login Test", "mtn").await;
        let _ = client.close().await;
    });

    let export = env.run(&["export", "mtn", "--output-only"]).stdout;
    let export = export.trim();
    assert_ne!(export, old_export.trim(), "a new session is stored");
    let session = decode(export);
    let cookie = session["cookies"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "JSESSIONID"))
        .unwrap_or_else(|| panic!("JSESSIONID captured: {session}"));
    assert_eq!(cookie["httpOnly"], true, "{cookie}");
    let (github, vercel) = pushed(&sim, "MTN_SESSION");
    assert_eq!(
        github.as_deref(),
        Some(export),
        "GitHub holds the new export"
    );
    assert_eq!(
        vercel.as_deref(),
        Some(export),
        "Vercel holds the new export"
    );
    assert_eq!(
        sim.redeploys_carrying("circletel", "MTN_SESSION", export),
        1,
        "redeployed once with the new session"
    );
    env.run(&["validate", "mtn"]).assert_code(0);
    // With incognito off (WebDriver needs it), WebKit writes the SSO's persistent cookie to a
    // file: what `login_window_is_incognito_by_default` checks never happens by default.
    assert!(
        !env.files_containing("SSO_DEVICE").is_empty(),
        "WebKit's cookie file was expected with incognito off"
    );
    let log = driver.log();
    assert!(log.contains("tray: green"), "{log}");
    let value = cookie["value"].as_str().expect("value");
    assert!(!log.contains(value), "the session never reaches the log");
    assert!(!log.contains("demo-password"), "nor the password");
}

#[test]
fn with_redirect_param_the_token_is_taken_from_the_main_frames_redirect() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let env = ready(&desktop, &sim, "login-token", "breeze");
    let bus = desktop.bus_monitor(env.root.path());
    let driver = Driver::start(&env);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = driver.session(&app_binary(), &["--dashboard"]).await;
        click_re_authenticate(&desktop, &bus, &driver, "Breeze Login Test");
        switch_to_window(&client, &sim.urls().token_login, WAIT).await;
        eventually("the user id is pre-filled", WAIT, || async {
            value_of(&client, "#username").await == "demo"
        })
        .await;
        click_and_leave(&client, "#submit").await;
        the_app_does_the_rest(&client, &driver, "Breeze Login Test", "breeze").await;
        let _ = client.close().await;
    });
    let export = env.run(&["export", "breeze", "--output-only"]).stdout;
    let export = export.trim();
    let token = decode(export)["token"]
        .as_str()
        .expect("a token was captured")
        .to_owned();
    assert!(!token.is_empty());
    let (github, vercel) = pushed(&sim, "BREEZE_SESSION");
    assert_eq!(github.as_deref(), Some(export));
    assert_eq!(vercel.as_deref(), Some(export));
    // The token is taken from the main frame's URL once the callback is reached: WebKit
    // tells a navigation of the main frame from an iframe's only by its page load.
    assert!(
        sim.requests()
            .iter()
            .any(|r| r.path.starts_with("/token/callback")),
        "the main frame reached the callback"
    );
    let log = driver.log();
    assert!(log.contains("tray: green"), "{log}");
    assert!(!log.contains(&token), "the token never reaches the log");
}

#[test]
fn login_window_is_incognito_by_default_no_cookie_reaches_the_disk() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let mut env = ready(&desktop, &sim, "login-incognito", "mtn");
    env.set_env("SESSIONKEEPER_LOGIN_INCOGNITO", "on");
    let app = App::start(&env, &["--login", "mtn"]);
    let sso_page_loads = || {
        sim.requests()
            .iter()
            .filter(|r| r.path == "/sso/login")
            .count()
    };
    app.wait_for("the SSO page in the login window", WAIT, |_| {
        sso_page_loads() >= 1
    });
    // The page set its persistent HttpOnly cookie; give WebKit time to write it if it would.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        env.files_containing("SSO_DEVICE"),
        Vec::<std::path::PathBuf>::new(),
        "an incognito login window writes no cookie to disk"
    );
}

#[test]
fn closing_the_login_window_halfway_cancels_and_a_second_request_focuses_the_open_one() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let env = ready(&desktop, &sim, "login-cancel", "mtn");
    let before = env.run(&["export", "mtn", "--output-only"]).stdout;
    let driver = Driver::start(&env);
    let u = sim.urls();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = driver.session(&app_binary(), &["--dashboard"]).await;
        switch_to_window(&client, "Session Keeper", WAIT).await;
        let reauth = "#card-mtn [data-action=\"reauthenticate\"]";
        eventually("the mtn card", WAIT, || async {
            client.find(Locator::Css(reauth)).await.is_ok()
        })
        .await;
        click_when_enabled(&client, reauth).await;
        eventually("the login window", WAIT, || async {
            window_count(&client).await == 2
        })
        .await;
        // Asked again: the open window is focused, not doubled.
        switch_to_window(&client, "Session Keeper", WAIT).await;
        click_when_enabled(&client, reauth).await;
        driver.wait_for_log("the window focused", WAIT, |log| {
            log.contains("login window focused")
        });
        assert_eq!(window_count(&client).await, 2, "still one login window");

        // The human starts, then closes the window halfway.
        switch_to_window(&client, &u.sso_login, WAIT).await;
        eventually("the username is pre-filled", WAIT, || async {
            value_of(&client, "#username").await == "demo"
        })
        .await;
        client.close_window().await.expect("close the login window");
        driver.wait_for_log("the cancel", WAIT, |log| {
            log.contains("login window closed: nothing captured")
        });
        let handles = client.windows().await.expect("windows");
        assert_eq!(handles.len(), 1, "only the dashboard is left");
        client
            .switch_to_window(handles.into_iter().next().expect("dashboard"))
            .await
            .expect("switch");
        // The app lives on, and a new request opens a new window.
        click_when_enabled(&client, reauth).await;
        eventually("a new login window", WAIT, || async {
            window_count(&client).await == 2
        })
        .await;
        let _ = client.close().await;
    });
    assert_eq!(
        env.run(&["export", "mtn", "--output-only"]).stdout,
        before,
        "nothing was stored"
    );
    assert!(
        sim.github_secret("repo:acme/circletel", "MTN_SESSION")
            .is_none(),
        "nothing was pushed"
    );
}

#[test]
fn an_expired_captcha_leaves_the_window_usable_and_the_next_try_is_captured() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig {
        captcha_ttl: Duration::from_secs(2),
        ..SimConfig::default()
    });
    let env = ready(&desktop, &sim, "login-captcha", "mtn");
    let before = env.run(&["export", "mtn", "--output-only"]).stdout;
    let driver = Driver::start(&env);
    let u = sim.urls();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = driver.session(&app_binary(), &["--dashboard"]).await;
        switch_to_window(&client, "Session Keeper", WAIT).await;
        click_when_enabled(&client, "#card-mtn [data-action=\"reauthenticate\"]").await;
        switch_to_window(&client, &u.sso_login, WAIT).await;
        eventually("pre-filled", WAIT, || async {
            value_of(&client, "#password").await == "demo-password"
        })
        .await;
        // The human ticks the captcha, then dawdles past its lifetime before signing in.
        click_when_enabled(&client, "#robot").await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        click_and_leave(&client, "#submit").await;
        eventually(
            "the SSO says the captcha must be given again",
            WAIT,
            || async { client.find(Locator::Css("#error")).await.is_ok() },
        )
        .await;
        assert_eq!(
            window_count(&client).await,
            2,
            "the login window stays open"
        );
        assert_eq!(
            env.run(&["export", "mtn", "--output-only"]).stdout,
            before,
            "nothing captured from a failed login"
        );
        // The same window works: the form is filled again, a fresh tick goes through.
        eventually("pre-filled again", WAIT, || async {
            value_of(&client, "#password").await == "demo-password"
        })
        .await;
        click_when_enabled(&client, "#robot").await;
        eventually("the captcha token", WAIT, || async {
            !value_of(&client, "#captcha").await.is_empty()
        })
        .await;
        click_and_leave(&client, "#submit").await;
        driver.wait_for_log("the capture", WAIT, |log| {
            log.contains("MTN Login Test: logged in; pushed to 2 of 2")
        });
        let _ = client.close().await;
    });
    assert_ne!(env.run(&["export", "mtn", "--output-only"]).stdout, before);
}

/// A hostile page inside the login page (an ad in an iframe, on another origin) plants a live
/// token of its own by redirecting its frame to the callback; the page also offers a
/// window.open, a download, a `file:` and a `tauri:` link. None of it goes anywhere, and the
/// session stored is the one the human's own login made.
#[test]
fn the_login_window_refuses_popups_downloads_file_and_app_pages_and_ignores_a_token_planted_in_an_iframe()
 {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let env = ready(&desktop, &sim, "login-hostile", "breeze");
    let text = config(&sim);
    let hostile = text.replace("demo-key\"", "demo-key&hostile=1\"");
    assert_ne!(
        hostile, text,
        "the breeze login_url carries the hostile flag"
    );
    env.write_config(&hostile);
    let bus = desktop.bus_monitor(env.root.path());
    let driver = Driver::start(&env);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = driver.session(&app_binary(), &["--dashboard"]).await;
        click_re_authenticate(&desktop, &bus, &driver, "Breeze Login Test");
        switch_to_window(&client, &sim.urls().token_login, WAIT).await;
        // The ad's frame has redirected to the callback with its own live token.
        driver.wait_for_log("the ad planted its token", WAIT, |_| {
            !sim.planted_tokens().is_empty()
                && sim.requests().iter().any(|r| r.path == "/token/callback")
        });
        let windows = window_count(&client).await;
        click_when_enabled(&client, "#popup").await;
        driver.wait_for_log("the new window refused", WAIT, |log| {
            log.contains("refused a new window")
        });
        click_when_enabled(&client, "#download").await;
        driver.wait_for_log("the download refused", WAIT, |log| {
            log.contains("refused a download")
        });
        // A page's own file: and tauri: links WebKit refuses by itself (a web page may not
        // open local resources); a navigation from outside the page (as WebDriver's, or a
        // typed URL) reaches the window's own rule, which refuses it too.
        click_when_enabled(&client, "#file").await;
        click_when_enabled(&client, "#app").await;
        // A refused navigation never loads: WebDriver would wait for it until its page load
        // timeout (300 s by default).
        let timeouts = client.get_timeouts().await.expect("the timeouts");
        client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                None,
                Some(Duration::from_secs(1)),
                None,
            ))
            .await
            .expect("a short page load timeout");
        for (url, scheme) in [
            ("file:///etc/hostname", "file"),
            ("tauri://localhost/index.html", "tauri"),
        ] {
            let _ = client.goto(url).await;
            driver.wait_for_log(&format!("the {scheme}: page refused"), WAIT, |log| {
                log.contains(&format!(
                    "refused a navigation profile=breeze scheme=\"{scheme}\""
                ))
            });
        }
        client
            .update_timeouts(timeouts)
            .await
            .expect("the timeouts back");
        assert_eq!(window_count(&client).await, windows, "no window was opened");
        let url = client.current_url().await.expect("the login window's URL");
        assert!(
            url.as_str().starts_with(&sim.urls().token_login),
            "the login page stayed: {url}"
        );
        // The planted token was never taken: the window waits for the human's login.
        let log = driver.log();
        assert!(!log.contains("logged in"), "{log}");
        click_and_leave(&client, "#submit").await;
        the_app_does_the_rest(&client, &driver, "Breeze Login Test", "breeze").await;
        let _ = client.close().await;
    });
    let export = env.run(&["export", "breeze", "--output-only"]).stdout;
    let token = decode(export.trim())["token"]
        .as_str()
        .expect("a token was captured")
        .to_owned();
    assert!(
        !sim.planted_tokens().contains(&token),
        "the stored token is the human's, not the ad's"
    );
    // Where WebKit or wry would have put it: the download dir, else the working directory.
    let cwd = std::env::current_dir().expect("the working directory");
    for dir in [env.home().join("Downloads"), env.home(), cwd] {
        let saved: Vec<_> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("report"))
            .map(|e| e.path())
            .collect();
        assert!(saved.is_empty(), "a refused download was saved: {saved:?}");
    }
}
