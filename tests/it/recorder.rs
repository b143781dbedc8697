//! "Add a session" end to end on a real desktop (WebKitGTK over WebDriver): from an empty
//! config, the dashboard's form opens the login window in recording mode; the test does only
//! what a human does (types the credentials, ticks the captcha, signs in); the recorder
//! proposes the profile from what it saw and from the API's answers, the human confirms, the
//! profile is written and the session stored; a GitHub target and its token entered in the
//! dashboard receive the push.

use std::time::Duration;

use fantoccini::{Client, Locator};
use sessionkeeper_tests::desktop::{Desktop, app_binary};
use sessionkeeper_tests::webdriver::{
    Driver, click_and_leave, click_when_enabled, eventually, switch_to_window, text_of,
};
use sessionkeeper_tests::{SimConfig, SimHandle, TestEnv};

const WAIT: Duration = Duration::from_secs(45);
const GITHUB_TOKEN: &str = "ghp_simulated_github_token";

fn empty_env(desktop: &Desktop, name: &str) -> TestEnv {
    let mut env = TestEnv::on(desktop, name);
    // WebDriver can only drive a window of WebKit's persistent context.
    env.set_env("SESSIONKEEPER_LOGIN_INCOGNITO", "off");
    env
}

async fn type_into(client: &Client, css: &str, text: &str) {
    let el = client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"));
    el.clear().await.expect("clear");
    el.send_keys(text).await.expect("type");
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn visible(client: &Client, css: &str) -> bool {
    match client.find(Locator::Css(css)).await {
        Ok(el) => el.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

/// Fills "Add a session" and clicks Record the login.
async fn record(client: &Client, name: &str, login_url: &str, api_url: &str) {
    switch_to_window(client, "Session Keeper", WAIT).await;
    eventually("the add form", WAIT, || visible(client, "#add-form")).await;
    type_into(client, "#add-name", name).await;
    type_into(client, "#add-login-url", login_url).await;
    type_into(client, "#add-api-url", api_url).await;
    click(client, "#record").await;
}

/// The proposal, once the dashboard shows it: its words and its TOML.
async fn proposal(client: &Client) -> (String, String) {
    switch_to_window(client, "Session Keeper", WAIT).await;
    eventually("the proposal", WAIT, || visible(client, "#proposal")).await;
    let words = text_of(client, "#proposal-words").await;
    let toml = client
        .find(Locator::Css("#proposal-toml"))
        .await
        .expect("the TOML")
        .prop("value")
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    (words, toml)
}

async fn confirm(client: &Client) -> String {
    click(client, "#proposal-confirm").await;
    eventually("the confirmation's answer", WAIT, || async {
        let t = text_of(client, "#proposal-result").await;
        !t.is_empty() && !t.starts_with("Writing")
    })
    .await;
    text_of(client, "#proposal-result").await
}

#[test]
fn from_an_empty_config_a_recorded_login_becomes_a_profile_and_a_dashboard_target_gets_the_push() {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let u = sim.urls();
    let env = empty_env(&desktop, "rec-cookies");
    let driver = Driver::start(&env);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = driver.session(&app_binary(), &["--dashboard"]).await;
        record(&client, "Sim Portal", &u.sso_login, &u.products).await;

        // What only a human does: sign in and tick the captcha.
        switch_to_window(&client, &u.sso_login, WAIT).await;
        type_into(&client, "#username", "demo").await;
        type_into(&client, "#password", "demo-password").await;
        click(&client, "#robot").await;
        eventually("the captcha token", WAIT, || async {
            !sessionkeeper_tests::webdriver::value_of(&client, "#captcha")
                .await
                .is_empty()
        })
        .await;
        click_and_leave(&client, "#submit").await;

        let (words, toml) = proposal(&client).await;
        assert!(
            words.contains("The session is the cookie JSESSIONID, HttpOnly"),
            "{words}"
        );
        assert!(
            words.contains("with the session it answered HTTP 200"),
            "{words}"
        );
        assert!(words.contains("without it HTTP 401"), "{words}");
        assert!(toml.contains("[profiles.sim-portal]"), "{toml}");
        assert!(
            toml.contains("session_id_cookie = \"JSESSIONID\""),
            "{toml}"
        );
        assert!(
            toml.contains(&format!("cookie_urls = [\"{}/\"]", u.api_origin)),
            "{toml}"
        );
        assert!(toml.contains("invalid_status = [401]"), "{toml}");
        assert!(
            !env.config_path().exists(),
            "nothing written before the confirmation"
        );

        let answer = confirm(&client).await;
        assert!(answer.starts_with("Validated and stored"), "{answer}");
        eventually("the card, valid", WAIT, || async {
            client.find(Locator::Css("#card-sim-portal")).await.is_ok()
                && text_of(&client, "#card-sim-portal .status").await == "valid"
        })
        .await;
        driver.wait_for_log("the tray turns green", WAIT, |log| {
            log.contains("tray: green")
        });

        // A GitHub target and its token, from the dashboard.
        let card = "#card-sim-portal";
        click(&client, &format!("{card} details.add-target summary")).await;
        type_into(&client, &format!("{card} [name=apiUrl]"), &u.github_api).await;
        type_into(&client, &format!("{card} [name=repo]"), "acme/circletel").await;
        type_into(&client, &format!("{card} [name=secret]"), "GITHUB_SESSION").await;
        eventually("GitHub's rule, as typed", WAIT, || async {
            text_of(&client, &format!("{card} .secret-check"))
                .await
                .contains("must not start with GITHUB_")
        })
        .await;
        type_into(
            &client,
            &format!("{card} [name=secret]"),
            "SIM_PORTAL_SESSION",
        )
        .await;
        eventually("a valid name", WAIT, || async {
            text_of(&client, &format!("{card} .secret-check"))
                .await
                .contains("valid GitHub secret name")
        })
        .await;
        type_into(&client, &format!("{card} [name=token]"), "not-the-token").await;
        click(&client, &format!("{card} .check-target")).await;
        eventually("a wrong token refused", WAIT, || async {
            text_of(&client, &format!("{card} .target-reach"))
                .await
                .starts_with('✗')
        })
        .await;
        type_into(&client, &format!("{card} [name=token]"), GITHUB_TOKEN).await;
        click(&client, &format!("{card} .check-target")).await;
        eventually("the token checked", WAIT, || async {
            text_of(&client, &format!("{card} .target-reach"))
                .await
                .starts_with('✓')
        })
        .await;
        click(&client, &format!("{card} .target-form button[type=submit]")).await;
        eventually("the target added", WAIT, || async {
            text_of(&client, &format!("{card} .target-result"))
                .await
                .contains("in the keychain")
        })
        .await;
        assert_eq!(
            sessionkeeper_tests::webdriver::value_of(&client, &format!("{card} [name=token]"))
                .await,
            "",
            "the token is not shown back"
        );
        click_when_enabled(&client, &format!("{card} [data-action=push_again]")).await;
        eventually("sim's GitHub holds the export", WAIT, || async {
            sim.github_secret("repo:acme/circletel", "SIM_PORTAL_SESSION")
                .is_some()
        })
        .await;
        after_the_push(&env, &sim);

        // Then the rest of a profile's settings, from the same dashboard.
        click(&client, &format!("{card} details.credentials summary")).await;
        type_into(&client, &format!("{card} [name=username]"), "demo").await;
        type_into(&client, &format!("{card} [name=password]"), "demo-password").await;
        click(
            &client,
            &format!("{card} .credentials-form button[type=submit]"),
        )
        .await;
        eventually("the credentials stored", WAIT, || async {
            text_of(&client, &format!("{card} .credentials-result"))
                .await
                .contains("profile:sim-portal:password is in the keychain")
        })
        .await;
        click(&client, &format!("{card} details.settings summary")).await;
        type_into(&client, &format!("{card} [name=pollEvery]"), "1s").await;
        click(
            &client,
            &format!("{card} .timings-form button[type=submit]"),
        )
        .await;
        eventually("a poll every second refused", WAIT, || async {
            text_of(&client, &format!("{card} .timings-result"))
                .await
                .contains("poll_every must be at least")
        })
        .await;
        type_into(&client, &format!("{card} [name=pollEvery]"), "2m").await;
        click(
            &client,
            &format!("{card} .timings-form button[type=submit]"),
        )
        .await;
        eventually("the timings saved", WAIT, || async {
            text_of(&client, &format!("{card} .timings-result"))
                .await
                .starts_with("Timings saved")
        })
        .await;
        assert!(
            std::fs::read_to_string(env.config_path())
                .expect("config")
                .contains("poll_every = \"2m\"")
        );
        let written = std::fs::read_to_string(env.config_path()).expect("config");
        assert!(
            written.contains("prefill = {"),
            "the form's fields: {written}"
        );
        let status = env.run(&["secret", "status", "--json"]).json();
        for name in ["profile:sim-portal:username", "profile:sim-portal:password"] {
            let item = status["secrets"]
                .as_array()
                .and_then(|s| s.iter().find(|s| s["name"] == name))
                .unwrap_or_else(|| panic!("{name} listed: {status}"));
            assert_eq!(item["source"], "keychain", "{item}");
        }
        click(&client, &format!("{card} .remove")).await;
        click(&client, &format!("{card} .remove-yes")).await;
        eventually("the card goes", WAIT, || async {
            client.find(Locator::Css(card)).await.is_err()
        })
        .await;
        eventually("the removal's answer", WAIT, || async {
            text_of(&client, "#notice")
                .await
                .starts_with("Removed from the config, with ")
        })
        .await;
        let _ = client.close().await;
    });
    let config = std::fs::read_to_string(env.config_path()).expect("config.toml");
    assert!(!config.contains("[profiles.sim-portal]"), "{config}");
    assert!(
        config.contains("[accounts.github]"),
        "accounts stay: {config}"
    );
    let status = env.run(&["secret", "status", "--json"]).json();
    for s in status["secrets"].as_array().expect("secrets") {
        assert!(
            !(s["name"]
                .as_str()
                .unwrap_or_default()
                .starts_with("profile:sim-portal")
                && s["source"] == "keychain"),
            "{s}"
        );
    }
    assert!(
        !env.sessions_dir().join("sim-portal.current").exists(),
        "the session files go too"
    );
    let log = driver.log();
    assert!(!log.contains(GITHUB_TOKEN), "the token is not in the log");
    assert!(!log.contains("demo-password"), "nor the password");
}

/// What the push left: the profile in the file, the export on sim's GitHub, the token in the
/// keychain and nowhere else.
fn after_the_push(env: &TestEnv, sim: &SimHandle) {
    let config = std::fs::read_to_string(env.config_path()).expect("config.toml written");
    assert!(config.contains("[profiles.sim-portal]"), "{config}");
    assert!(config.contains("[accounts.github]"), "{config}");
    env.run(&["validate", "sim-portal"]).assert_code(0);
    let export = env.run(&["export", "sim-portal", "--output-only"]).stdout;
    let held = sim
        .github_secret("repo:acme/circletel", "SIM_PORTAL_SESSION")
        .map(|b| String::from_utf8(b).expect("utf-8"));
    assert_eq!(
        held.as_deref(),
        Some(export.trim()),
        "GitHub holds the export"
    );
    let status = env.run(&["secret", "status", "--json"]).json();
    let token = status["secrets"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "account:github"))
        .unwrap_or_else(|| panic!("account:github listed: {status}"));
    assert_eq!(token["source"], "keychain", "{token}");
    assert!(
        env.files_containing(GITHUB_TOKEN).is_empty(),
        "the token is in no file"
    );
}

#[test]
fn the_recorder_proposes_redirect_param_asks_again_when_an_api_cannot_tell_and_a_closed_window_writes_nothing()
 {
    let desktop = Desktop::start();
    let sim = SimHandle::start(SimConfig::default());
    let u = sim.urls();
    let login = format!("{}demo-key", u.token_login);
    let env = empty_env(&desktop, "rec-token");
    let driver = Driver::start(&env);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = driver.session(&app_binary(), &["--dashboard"]).await;
        // First the human gives up: the window closed halfway, nothing is written.
        record(&client, "Broker", &login, &u.products).await;
        switch_to_window(&client, &u.token_login, WAIT).await;
        client
            .close_window()
            .await
            .expect("close the recording window");
        switch_to_window(&client, "Session Keeper", WAIT).await;
        eventually("the recording ends", WAIT, || async {
            text_of(&client, "#record-status")
                .await
                .contains("nothing was written")
        })
        .await;
        assert!(!env.config_path().exists());

        // An API URL that answers the same with and without the session (a public page).
        let public = format!("{}/sso/login", u.sso_origin);
        record(&client, "Broker", &login, &public).await;
        switch_to_window(&client, &u.token_login, WAIT).await;
        type_into(&client, "#username", "demo").await;
        type_into(&client, "#password", "demo-password").await;
        click_and_leave(&client, "#submit").await;
        switch_to_window(&client, "Session Keeper", WAIT).await;
        eventually("asked for another API URL", WAIT, || {
            visible(&client, "#record-ask-url")
        })
        .await;
        let said = text_of(&client, "#record-status").await;
        assert!(said.contains("cannot be told apart"), "{said}");
        assert!(!visible(&client, "#proposal").await);
        type_into(&client, "#record-api-url", &u.products).await;
        click(&client, "#record-again").await;

        let (words, toml) = proposal(&client).await;
        assert!(
            words.contains("the parameter apisession of the redirect"),
            "{words}"
        );
        assert!(toml.contains("capture = \"redirect-param\""), "{toml}");
        assert!(toml.contains("redirect_param = \"apisession\""), "{toml}");
        assert!(
            toml.contains(&format!("url_prefix = \"{}\"", u.token_callback)),
            "{toml}"
        );
        // The human edits the proposal before confirming: the edit is what is written.
        let edited = toml.replace(
            "[profiles.broker.validate]",
            "tracked_ttl = \"12h\"\n\n[profiles.broker.validate]",
        );
        assert_ne!(edited, toml);
        // (Set as a paste would: WebKitWebDriver does not type newlines into a textarea.)
        client
            .execute(
                "document.getElementById('proposal-toml').value = arguments[0];",
                vec![serde_json::Value::from(edited)],
            )
            .await
            .expect("edit the proposal");
        let answer = confirm(&client).await;
        assert!(answer.starts_with("Validated and stored"), "{answer}");
        let _ = client.close().await;
    });
    let config = std::fs::read_to_string(env.config_path()).expect("config.toml written");
    assert!(
        config.contains("tracked_ttl = \"12h\""),
        "the edit: {config}"
    );
    assert!(
        config.contains("redirect_param = \"apisession\""),
        "{config}"
    );
    env.run(&["validate", "broker"]).assert_code(0);
}

/// The recorder's proposal against sim without a window: the arrival as a login window would
/// see it after signing in.
fn arrival(
    sim: &SimHandle,
    api: &str,
) -> (
    sessionkeeper_core::recorder::Draft,
    sessionkeeper_core::recorder::Arrival,
) {
    use sessionkeeper_core::recorder::{Draft, Recording, Sight};
    use sessionkeeper_core::secret::Secret;
    let u = sim.urls();
    let draft = Draft::new("Sim", &u.sso_login, api, |_| false).expect("draft");
    let mut recording = Recording::new(draft.clone());
    let now = chrono::Utc::now();
    assert!(
        recording
            .see(
                &Sight {
                    url: Secret::new(u.sso_login.clone()),
                    cookies: vec![]
                },
                now
            )
            .is_none()
    );
    let live = sim.mint_session(sessionkeeper_tests::SessionKind::Cookie, None);
    let export =
        sessionkeeper_tests::cookie_export("sim", &[("JSESSIONID", &live.value, "127.0.0.1")]);
    let json = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, export.trim())
        .expect("base64");
    let session: serde_json::Value = serde_json::from_slice(&json).expect("json");
    let cookies: Vec<sessionkeeper_core::session::Cookie> =
        serde_json::from_value(session["cookies"].clone()).expect("cookies");
    let arrival = recording
        .see(
            &Sight {
                url: Secret::new(format!("{}?ticket=ST-0123456789abcdef", u.portal)),
                cookies,
            },
            now,
        )
        .expect("an arrival");
    (draft, arrival)
}

#[test]
fn the_recorder_says_when_an_api_url_cannot_tell_a_live_session_from_a_dead_one() {
    use sessionkeeper_core::recorder::{NotYet, propose};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = SimHandle::start(SimConfig::default());
    let u = sim.urls();
    // The login page answers 200 with the session and without it.
    let (draft, got) = arrival(&sim, &format!("{}/sso/login", u.sso_origin));
    match rt.block_on(propose(&draft, &got)) {
        Err(NotYet::CannotTell { with, without }) => {
            assert_eq!((with.as_str(), without.as_str()), ("HTTP 200", "HTTP 200"));
        }
        other => panic!("expected CannotTell, got {other:?}"),
    }
    let (draft, got) = arrival(&sim, &u.products);
    let p = rt.block_on(propose(&draft, &got)).expect("a proposal");
    assert!(p.toml.contains("invalid_status = [401]"), "{}", p.toml);
    assert!(
        p.toml.contains("session_id_cookie = \"JSESSIONID\""),
        "{}",
        p.toml
    );
    assert!(
        !p.toml.contains("ST-0123456789abcdef"),
        "the ticket is no token here"
    );

    // A provider that sends a dead session to the login page.
    let sim = SimHandle::start(SimConfig {
        on_expired: sessionkeeper_tests::OnExpired::RedirectToLogin,
        ..SimConfig::default()
    });
    let (draft, got) = arrival(&sim, &sim.urls().products);
    let p = rt.block_on(propose(&draft, &got)).expect("a proposal");
    assert!(
        p.toml.contains(&format!(
            "invalid_redirect_prefix = \"{}/\"",
            sim.urls().sso_origin
        )),
        "{}",
        p.toml
    );
    assert!(
        p.words
            .iter()
            .any(|w| w.contains("a redirect to the login")),
        "{:?}",
        p.words
    );
}
