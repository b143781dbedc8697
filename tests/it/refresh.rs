//! Refresh without a human (core::refresh) against sim's `/auth/login`: a session is logged in
//! with keychain-style credentials and validates; failures are retried with 2 s / 4 s backoff
//! (measured with a fake clock); a login that always fails ends with its reason.

use std::sync::Mutex;
use std::time::Duration;

use sessionkeeper_core::refresh::{
    LoginCredentials, RefreshError, RefreshPolicy, Refresher, Sleeper,
};
use sessionkeeper_core::{Checker, Config, Secret, Status};
use sessionkeeper_tests::{SimConfig, SimHandle};

/// A token profile and a cookie profile that log in at sim's `/auth/login`.
fn config(sim: &SimHandle) -> Config {
    let u = sim.urls();
    let text = format!(
        r#"
[profiles.breeze]
capture = "redirect-param"
redirect_param = "apisession"
login_url = "{token_login}demo-key"

[profiles.breeze.refresh]
url = "{api}/auth/login"
format = "json"
fields = {{ username = "{{username}}", password = "{{password}}" }}
capture = "json:Success.session_token"

[profiles.breeze.validate]
url = "{products}"
token_header = "X-SessionToken"
timeout = "2s"

[profiles.portal]
capture = "cookies"
cookie_urls = ["{api}/"]
session_id_cookie = "JSESSIONID"

[profiles.portal.refresh]
url = "{api}/auth/login?kind=cookie"
fields = {{ username = "{{username}}", password = "{{password}}" }}
capture = "cookie:JSESSIONID"

[profiles.portal.validate]
url = "{products}"
timeout = "2s"
"#,
        token_login = u.token_login,
        api = u.api_origin,
        products = u.products,
    );
    Config::parse(&text, std::path::Path::new("config.toml")).expect("config")
}

fn credentials(password: &str) -> LoginCredentials {
    let sim = SimConfig::default();
    LoginCredentials {
        username: Secret::new(sim.username),
        password: Secret::new(password),
    }
}

fn good() -> LoginCredentials {
    credentials(&SimConfig::default().password)
}

/// Records the waits instead of sleeping: the fake clock.
#[derive(Default)]
struct FakeClock(Mutex<Vec<Duration>>);

impl Sleeper for FakeClock {
    fn sleep(&self, d: Duration) -> impl std::future::Future<Output = ()> + Send {
        self.0.lock().expect("lock").push(d);
        std::future::ready(())
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("runtime")
}

#[test]
fn token_and_cookie_sessions_are_refreshed_without_a_human_and_validate() {
    let sim = SimHandle::start(SimConfig::default());
    let config = config(&sim);
    let clock = FakeClock::default();
    runtime().block_on(async {
        for id in ["breeze", "portal"] {
            let profile = &config.profiles[id];
            let refreshed = Refresher::new()
                .refresh(profile, &good(), &RefreshPolicy::default(), &clock)
                .await
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(refreshed.attempts, 1);
            let session = &refreshed.session;
            assert_eq!(session.token.is_some(), id == "breeze", "{session:?}");
            assert_eq!(session.cookies.len(), usize::from(id == "portal"));
            let outcome = Checker::new()
                .check(profile, Some(session), chrono::Utc::now())
                .await;
            assert_eq!(outcome.status, Status::Valid, "{id}: {}", outcome.detail);
        }
    });
    assert!(
        clock.0.lock().expect("lock").is_empty(),
        "no waits when it works"
    );
}

#[test]
fn two_failed_logins_take_three_attempts_with_2s_then_4s_backoff() {
    let sim = SimHandle::start(SimConfig::default());
    let config = config(&sim);
    sim.fail_next_logins(2);
    let clock = FakeClock::default();
    let refreshed = runtime()
        .block_on(Refresher::new().refresh(
            &config.profiles["breeze"],
            &good(),
            &RefreshPolicy::default(),
            &clock,
        ))
        .expect("the third attempt succeeds");
    assert_eq!(refreshed.attempts, 3);
    assert_eq!(sim.logins(), 3);
    let waits = clock.0.lock().expect("lock").clone();
    assert_eq!(waits, refreshed.waits);
    assert_eq!(waits.len(), 2, "{waits:?}");
    // 2 s and 4 s, each stretched by at most 25 % of jitter.
    assert!(
        waits[0] >= Duration::from_secs(2) && waits[0] <= Duration::from_millis(2500),
        "{waits:?}"
    );
    assert!(
        waits[1] >= Duration::from_secs(4) && waits[1] <= Duration::from_secs(5),
        "{waits:?}"
    );
}

#[test]
fn a_login_that_always_fails_ends_after_three_attempts_with_its_reason_and_no_secret() {
    let sim = SimHandle::start(SimConfig::default());
    let config = config(&sim);
    sim.fail_all_logins(true);
    let clock = FakeClock::default();
    let password = "a-password-that-must-not-leak";
    let err = runtime()
        .block_on(Refresher::new().refresh(
            &config.profiles["breeze"],
            &credentials(password),
            &RefreshPolicy::default(),
            &clock,
        ))
        .expect_err("refused");
    assert!(
        matches!(err, RefreshError::Failed { attempts: 3, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("401") && text.contains("Re-authenticate"),
        "{text}"
    );
    assert!(!text.contains(password), "{text}");
    assert_eq!(sim.logins(), 3);
    assert_eq!(clock.0.lock().expect("lock").len(), 2);
}

#[test]
fn wrong_credentials_are_a_failure_not_a_session() {
    let sim = SimHandle::start(SimConfig::default());
    let config = config(&sim);
    let err = runtime()
        .block_on(Refresher::new().refresh(
            &config.profiles["portal"],
            &credentials("wrong"),
            &RefreshPolicy {
                attempts: 1,
                ..RefreshPolicy::default()
            },
            &FakeClock::default(),
        ))
        .expect_err("refused");
    assert!(err.to_string().contains("HTTP 401"), "{err}");
}

/// `sessionkeeper refresh` end to end: credentials from the real keychain, the new session
/// validated, stored, and pushed (GitHub's copy opened from the sealed box).
#[test]
fn the_cli_refreshes_validates_stores_and_pushes_with_no_human() {
    use sessionkeeper_tests::TestEnv;
    let sim = SimHandle::start(SimConfig::default());
    let u = sim.urls();
    let env = TestEnv::new("refresh-cli");
    env.write_config(&format!(
        r#"
[accounts.github]
kind = "github"
api_url = "{github}"

[profiles.breeze]
capture = "redirect-param"
redirect_param = "apisession"

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
        api = u.api_origin,
        products = u.products,
    ));
    // Without credentials: a clear error that says what to store, and nothing happens.
    let run = env.run(&["refresh", "breeze"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("secret set profile:breeze:username"),
        "{}",
        run.stderr
    );
    assert_eq!(sim.logins(), 0);

    let sim_config = SimConfig::default();
    env.run_stdin(
        &["secret", "set", "profile:breeze:username"],
        &sim_config.username,
    )
    .assert_code(0);
    env.run_stdin(
        &["secret", "set", "profile:breeze:password"],
        &sim_config.password,
    )
    .assert_code(0);
    env.run_stdin(
        &["secret", "set", "account:github"],
        &sim_config.github_token,
    )
    .assert_code(0);
    sim.fail_next_logins(1);
    let run = env.run(&["refresh", "breeze"]);
    run.assert_code(0);
    assert!(run.stdout.contains("2 attempt(s)"), "{}", run.stdout);
    assert_eq!(sim.logins(), 2);

    let export = env.run(&["export", "breeze", "--output-only"]);
    export.assert_code(0);
    let pushed = sim
        .github_secret("repo:acme/circletel", "BREEZE_SESSION")
        .expect("pushed, and the fake opened the sealed box");
    assert_eq!(pushed, export.stdout.trim().as_bytes());
    assert!(
        env.files_containing(&sim_config.password).is_empty(),
        "the password is in no file"
    );
    assert!(
        !run.stdout.contains(&sim_config.password) && !run.stderr.contains(&sim_config.password)
    );
}

/// The broker's two steps: the login gives a one-time code, the exchange trades it (as
/// `{value}`) for the session token.
#[test]
fn a_login_with_an_exchange_step_yields_a_token_that_validates() {
    let sim = SimHandle::start(SimConfig::default());
    let u = sim.urls();
    let text = format!(
        r#"
[profiles.breeze]
capture = "redirect-param"
redirect_param = "apisession"

[profiles.breeze.refresh]
url = "{api}/auth/login?kind=code"
fields = {{ username = "{{username}}", password = "{{password}}" }}
capture = "json:Success.code"

[profiles.breeze.refresh.exchange]
url = "{api}/auth/exchange"
format = "json"
fields = {{ code = "{{value}}" }}
capture = "json:Success.session_token"

[profiles.breeze.validate]
url = "{products}"
token_header = "X-SessionToken"
timeout = "2s"
"#,
        api = u.api_origin,
        products = u.products,
    );
    let config = Config::parse(&text, std::path::Path::new("config.toml")).expect("config");
    let profile = &config.profiles["breeze"];
    runtime().block_on(async {
        let refreshed = Refresher::new()
            .refresh(
                profile,
                &good(),
                &RefreshPolicy::default(),
                &FakeClock::default(),
            )
            .await
            .expect("login and exchange");
        let outcome = Checker::new()
            .check(profile, Some(&refreshed.session), chrono::Utc::now())
            .await;
        assert_eq!(outcome.status, Status::Valid, "{}", outcome.detail);
        // A code is good once: the same exchange again is refused.
        let again = Refresher::new()
            .refresh(
                profile,
                &credentials("wrong"),
                &RefreshPolicy {
                    attempts: 1,
                    ..RefreshPolicy::default()
                },
                &FakeClock::default(),
            )
            .await;
        assert!(again.is_err());
    });
}
