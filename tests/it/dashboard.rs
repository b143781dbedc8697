//! The dashboard window over WebDriver (real WebKitGTK under Xvfb): cards read from the
//! watch loop, Validate now, the paste form (a refused token stores nothing; a good one is
//! stored and pushed), and the screenshot of three profiles in three states for the docs.

use std::time::Duration;

use fantoccini::{Client, Locator};
use sessionkeeper_tests::desktop::{Desktop, app_binary};
use sessionkeeper_tests::webdriver::{
    Driver, click_when_enabled, eventually, switch_to_window, text_of,
};
use sessionkeeper_tests::{SessionKind, SimConfig, SimHandle, TestEnv};

const WAIT: Duration = Duration::from_secs(45);
const GITHUB_TOKEN: &str = "ghp_simulated_github_token";

fn config(sim: &SimHandle) -> String {
    let u = sim.urls();
    format!(
        r##"
[accounts.github]
kind = "github"
api_url = "{github}"

[profiles.mtn]
name = "MTN Wholesale"
login_url = "{sso_login}"
cookie_urls = ["{api}/"]
done_when = {{ url_prefix = "{portal}", cookies = ["JSESSIONID"] }}
session_id_cookie = "JSESSIONID"
poll_every = "1h"

[profiles.mtn.validate]
url = "{products}"
invalid_redirect_prefix = "{sso}/sso/"
timeout = "2s"

[[profiles.mtn.push]]
to = "github"
repo = "acme/circletel"
secret = "MTN_SESSION"

[profiles.vodacom]
name = "Vodacom Partner Portal"
login_url = "{sso_login}"
cookie_urls = ["{api}/"]
session_id_cookie = "JSESSIONID"
warn_before = "60m"
poll_every = "1h"

[profiles.vodacom.validate]
url = "{products}"
invalid_redirect_prefix = "{sso}/sso/"
timeout = "2s"

[profiles.breeze]
name = "ICICI Breeze"
login_url = "{token_login}demo-key"
capture = "redirect-param"
redirect_param = "apisession"
poll_every = "1h"

[profiles.breeze.validate]
url = "{products}"
token_header = "X-SessionToken"
timeout = "2s"

[[profiles.breeze.push]]
to = "github"
repo = "acme/circletel"
secret = "BREEZE_SESSION"
"##,
        github = u.github_api,
        sso_login = u.sso_login,
        sso = u.sso_origin,
        api = u.api_origin,
        portal = u.portal,
        products = u.products,
        token_login = u.token_login,
    )
}

async fn status(client: &Client, profile: &str) -> String {
    text_of(client, &format!("#card-{profile} .status")).await
}

/// Types `text` in the paste form of `profile`, submits it, and returns the form's answer.
async fn paste(client: &Client, profile: &str, text: &str) -> String {
    let card = format!("#card-{profile}");
    let details = client
        .find(Locator::Css(&format!("{card} details.paste")))
        .await
        .expect("the paste form");
    if details.prop("open").await.ok().flatten().as_deref() != Some("true") {
        click_when_enabled(client, &format!("{card} details.paste summary")).await;
    }
    eventually("the paste form opens", WAIT, || async {
        details.prop("open").await.ok().flatten().as_deref() == Some("true")
    })
    .await;
    let area = client
        .find(Locator::Css(&format!("{card} details.paste textarea")))
        .await
        .expect("textarea");
    area.clear().await.expect("clear");
    area.send_keys(text).await.expect("type");
    let result = format!("{card} .paste-result");
    client
        .execute(
            &format!("document.querySelector('{result}').textContent = '';"),
            vec![],
        )
        .await
        .expect("reset the answer");
    click_when_enabled(client, &format!("{card} details.paste button[type=submit]")).await;
    eventually("the paste form's answer", WAIT, || async {
        let answer = text_of(client, &result).await;
        !answer.is_empty() && answer != "Validating…"
    })
    .await;
    text_of(client, &result).await
}

#[test]
fn the_dashboard_shows_each_session_validates_now_and_stores_a_pasted_token_only_if_valid() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::on(&desktop, "dashboard");
    env.write_config(&config(&sim));
    env.run_stdin(&["secret", "set", "account:github"], GITHUB_TOKEN)
        .assert_code(0);
    // mtn: live and pushed once; vodacom: live, tracked expiry in 10 min (expiring); breeze:
    // its token ended on the server (invalid).
    let mtn = sessionkeeper_tests::import_live_session(&env, &sim);
    env.run(&["push", "mtn"]).assert_code(0);
    let voda = sim.mint_session(SessionKind::Cookie, None);
    let export = sessionkeeper_tests::cookie_export_expiring(
        "vodacom",
        &[("JSESSIONID", &voda.value, "127.0.0.1")],
        chrono::Duration::minutes(10),
    );
    env.run_stdin(&["import", "vodacom"], &export)
        .assert_code(0);
    let old = sim.mint_session(SessionKind::Token, None);
    env.run_stdin(&["import", "breeze"], &old.value)
        .assert_code(0);
    assert!(sim.expire_session(&old.value));
    let breeze_before = env.run(&["export", "breeze", "--output-only"]).stdout;

    let driver = Driver::start(&env);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = driver.session(&app_binary(), &["--dashboard"]).await;
        switch_to_window(&client, "Session Keeper", WAIT).await;
        for (profile, expected) in [
            ("mtn", "valid"),
            ("vodacom", "expiring"),
            ("breeze", "invalid"),
        ] {
            eventually(&format!("{profile} is {expected}"), WAIT, || async {
                status(&client, profile).await == expected
            })
            .await;
        }
        let pushes = text_of(&client, "#card-mtn .targets").await;
        assert!(
            pushes.contains("MTN_SESSION") && pushes.contains("holds the current session"),
            "{pushes}"
        );
        let secrets = text_of(&client, "#secrets").await;
        assert!(
            secrets.contains("account:github") && secrets.contains("yes (keychain)"),
            "{secrets}"
        );
        assert!(!secrets.contains(GITHUB_TOKEN));

        // The picture for the README: three profiles, three states, side by side.
        client.set_window_size(1270, 900).await.expect("resize");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let png = client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
        std::fs::write(&shot, &png).expect("write the screenshot");

        // The configuration check: one cheap authenticated call per target.
        click_when_enabled(&client, "#card-mtn details.config summary").await;
        click_when_enabled(&client, "#card-mtn .check-tokens").await;
        eventually("the token check", WAIT, || async {
            text_of(&client, "#card-mtn .reach")
                .await
                .contains("the token reaches its secrets")
        })
        .await;
        // Extend tracked expiry: checked with the server first.
        click_when_enabled(&client, "#card-vodacom [data-action=\"extend_tracked\"]").await;
        eventually("the extension", WAIT, || async {
            text_of(&client, "#card-vodacom .action-result")
                .await
                .starts_with("The server accepts the session; tracked until")
        })
        .await;
        // A config file broken after start is shown with its line and key.
        std::fs::write(
            env.config_path(),
            config(&sim).replace("poll_every = \"1h\"", "poll_every = \"often\""),
        )
        .expect("break the config");
        client.refresh().await.expect("reload the dashboard");
        eventually("the config error", WAIT, || async {
            let text = text_of(&client, "#config-error").await;
            text.contains("config.toml:") && text.contains("poll_every")
        })
        .await;
        std::fs::write(env.config_path(), config(&sim)).expect("mend the config");

        // Validate now: the server has ended mtn's session; the card says so.
        assert!(sim.expire_session(&mtn));
        click_when_enabled(&client, "#card-mtn [data-action=\"validate_now\"]").await;
        eventually("mtn turns invalid", WAIT, || async {
            status(&client, "mtn").await == "invalid"
        })
        .await;

        // A token the server refuses: said plainly, nothing stored.
        let refused = paste(&client, "breeze", "not-a-live-token").await;
        assert!(
            refused.contains("refused") && refused.contains("Nothing was stored"),
            "{refused}"
        );
        assert!(
            !refused.contains("not-a-live-token"),
            "the input is never echoed"
        );
        assert_eq!(
            env.run(&["export", "breeze", "--output-only"]).stdout,
            breeze_before,
            "nothing stored"
        );
        // A live one: validated, stored, pushed; the card turns green.
        let good = sim.mint_session(SessionKind::Token, None);
        let stored = paste(&client, "breeze", &good.value).await;
        assert!(stored.starts_with("Validated and stored"), "{stored}");
        eventually("breeze turns valid", WAIT, || async {
            status(&client, "breeze").await == "valid"
        })
        .await;
        driver.wait_for_log("the push", WAIT, |log| {
            log.contains("ICICI Breeze: pasted session; pushed to 1 of 1")
        });
        let export = env.run(&["export", "breeze", "--output-only"]).stdout;
        let pushed = sim
            .github_secret("repo:acme/circletel", "BREEZE_SESSION")
            .map(|b| String::from_utf8(b).expect("utf-8"));
        assert_eq!(pushed.as_deref(), Some(export.trim()));
        let _ = client.close().await;
    });
}

/// An idle page touches nothing (every touch costs WebKit a layout and a paint, and the app's
/// process a frame): with every session valid and far from its expiry, the cards show clock
/// readings ("today 16:45"), and the page's clock taken across a full minute changes no node.
#[test]
fn an_idle_dashboard_leaves_the_page_alone_even_when_a_minute_turns() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::on(&desktop, "dash-idle");
    env.write_config(&config(&sim));
    // mtn holds a live session an hour from its tracked expiry and half an hour from its
    // warning, and its push target holds it (vodacom would be in its warning window at once:
    // it has no session here, nor has breeze; nothing of theirs counts down).
    env.run_stdin(&["secret", "set", "account:github"], GITHUB_TOKEN)
        .assert_code(0);
    sessionkeeper_tests::import_live_session(&env, &sim);
    env.run(&["push", "mtn"]).assert_code(0);
    let driver = Driver::start(&env);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = driver.session(&app_binary(), &["--dashboard"]).await;
        switch_to_window(&client, "Session Keeper", WAIT).await;
        eventually("mtn checked, its target current", WAIT, || async {
            status(&client, "mtn").await == "valid"
                && text_of(&client, "#card-mtn .targets")
                    .await
                    .contains("holds the current session")
        })
        .await;
        for profile in ["vodacom", "breeze"] {
            eventually(&format!("{profile} checked"), WAIT, || async {
                status(&client, profile).await == "invalid"
            })
            .await;
        }
        let expiry = client
            .execute(
                "return document.querySelector('#card-mtn .left').textContent;",
                vec![],
            )
            .await
            .expect("read the tracked expiry");
        let expiry = expiry.as_str().unwrap_or_default().to_owned();
        assert!(
            expiry.starts_with("today ") || expiry.starts_with("tomorrow "),
            "the tracked expiry, an hour away, as a clock reading: {expiry:?}"
        );
        // The page's clock is moved to 1.5 s before a full minute, and the page is told to draw
        // and sleep again; then it is watched for 5 s, across the minute.
        client
            .execute(
                r"
                const real = Date.now.bind(Date);
                const shift = (60000 - (real() % 60000) - 1500 + 60000) % 60000;
                Date.now = () => real() + shift;
                schedule();
                const ids = new WeakMap();
                let next = 0;
                window.__touched = {};
                new MutationObserver((records) => {
                  for (const r of records) {
                    if (!ids.has(r.target)) ids.set(r.target, next++);
                    const name = r.target.className || r.target.nodeName;
                    const key = `${r.type} ${name}#${ids.get(r.target)} ${r.attributeName ?? ''}`;
                    window.__touched[key] = (window.__touched[key] ?? 0) + 1;
                  }
                }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
                ",
                vec![],
            )
            .await
            .expect("observe the page");
        tokio::time::sleep(Duration::from_secs(5)).await;
        let touched = client
            .execute("return window.__touched;", vec![])
            .await
            .expect("read the record");
        let touched = touched.as_object().expect("an object");
        assert!(touched.is_empty(), "changed while idle: {touched:?}");
        // Nor does WebKit's memory-pressure monitor poll in the app's process (it would, every
        // few seconds, for as long as the app lives: `WEBKIT_ENVIRONMENT`).
        let (app, _) = driver
            .descendants()
            .into_iter()
            .find(|(_, name)| name.starts_with("sessionkeeper-a"))
            .expect("the app among the driver's processes");
        let threads = sessionkeeper_tests::desktop::thread_names(app);
        assert!(
            !threads.values().any(|name| name == "PressureMonitor"),
            "WebKit's memory-pressure monitor runs in the app: {threads:?}"
        );
    });
}

/// With no config file the dashboard opens on the welcome page, which names the file; a
/// profile saved there appears as a card without a restart (and the welcome goes); a typo
/// shows file, line and key above the cards, which stay.
#[test]
fn with_no_config_the_dashboard_welcomes_and_follows_the_file_as_it_is_saved() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::on(&desktop, "dash-welcome");
    let driver = Driver::start(&env);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = driver.session(&app_binary(), &["--dashboard"]).await;
        switch_to_window(&client, "Session Keeper", WAIT).await;
        let visible = |css: &'static str| {
            let client = client.clone();
            async move {
                client
                    .find(Locator::Css(css))
                    .await
                    .expect("the element")
                    .is_displayed()
                    .await
                    .unwrap_or(false)
            }
        };
        eventually("the welcome page", WAIT, || visible("#welcome")).await;
        let file = text_of(&client, "#welcome-file").await;
        assert_eq!(file, env.config_path().display().to_string());
        assert!(!env.config_path().exists(), "nothing written");

        let has_card = |profile: &'static str| {
            let client = client.clone();
            async move {
                client
                    .find(Locator::Css(&format!("#card-{profile}")))
                    .await
                    .is_ok()
            }
        };
        env.write_config(&config(&sim));
        eventually("the cards of the saved profiles", WAIT, || has_card("mtn")).await;
        assert!(
            !visible("#welcome").await,
            "the welcome goes with the first profile"
        );

        env.write_config(&config(&sim).replace("poll_every = \"1h\"", "poll_every = \"often\""));
        eventually("the config error shown", WAIT, || visible("#config-broken")).await;
        let error = text_of(&client, "#config-broken").await;
        assert!(error.contains("config.toml:"), "{error}");
        assert!(error.contains("poll_every"), "{error}");
        assert!(has_card("mtn").await, "the cards stay");
    });
}
