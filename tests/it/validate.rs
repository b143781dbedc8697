//! `validate` against the simulator: every status, exit code and reason.

use sessionkeeper_tests::*;

fn live_mtn(sim: &SimHandle) -> (String, String) {
    let minted = sim.mint_session(SessionKind::Cookie, None);
    (
        cookie_export("mtn", &[("JSESSIONID", &minted.value, "127.0.0.1")]),
        minted.value,
    )
}

fn validate_env(env: &mut TestEnv, session: &str) -> Run {
    env.set_env("MTN_SESSION", session);
    env.run(&["validate", "mtn", "--json", "--session-env", "MTN_SESSION"])
}

#[test]
fn live_session_is_valid_exit_0() {
    let sim = SimHandle::start(SimConfig::default());
    let mut env = TestEnv::new("v-live");
    env.write_config(&sim_config(&sim));
    let (export, _) = live_mtn(&sim);
    let run = validate_env(&mut env, &export);
    run.assert_code(0);
    let json = run.json();
    assert_eq!(json["status"], "valid");
    assert_eq!(json["exitCode"], 0);
    assert_eq!(json["results"][0]["status"], "valid");
    assert_eq!(json["results"][0]["reason"], "accepted");
    assert_eq!(json["results"][0]["httpStatus"], 200);
}

#[test]
fn expired_session_is_invalid_exit_1() {
    let sim = SimHandle::start(SimConfig::default());
    let mut env = TestEnv::new("v-expired");
    env.write_config(&sim_config(&sim));
    let (export, value) = live_mtn(&sim);
    assert!(sim.expire_session(&value));
    let run = validate_env(&mut env, &export);
    run.assert_code(1);
    let r = &run.json()["results"][0];
    assert_eq!(r["status"], "invalid");
    assert_eq!(r["reason"], "rejected");
    assert_eq!(r["httpStatus"], 401);
    assert!(
        r["detail"].as_str().is_some_and(|d| d.contains("401")),
        "{r}"
    );
}

#[test]
fn redirect_to_login_is_invalid_exit_1() {
    let sim = SimHandle::start(SimConfig::default());
    sim.set_on_expired(OnExpired::RedirectToLogin);
    let mut env = TestEnv::new("v-redirect");
    env.write_config(&sim_config(&sim));
    let (export, value) = live_mtn(&sim);
    sim.expire_session(&value);
    let run = validate_env(&mut env, &export);
    run.assert_code(1);
    let r = &run.json()["results"][0];
    assert_eq!(r["reason"], "login_redirect");
    assert_eq!(r["httpStatus"], 302);
}

#[test]
fn server_error_is_error_exit_2_after_retries() {
    let sim = SimHandle::start(SimConfig::default());
    sim.set_fault(Fault::status(503));
    let mut env = TestEnv::new("v-5xx");
    env.write_config(&sim_config(&sim));
    let (export, _) = live_mtn(&sim);
    let run = validate_env(&mut env, &export);
    run.assert_code(2);
    let r = &run.json()["results"][0];
    assert_eq!(r["status"], "error");
    assert_eq!(r["reason"], "server_error");
    assert_eq!(r["httpStatus"], 503);
    assert_eq!(
        r["attempts"], 2,
        "the configured attempts are used before reporting"
    );
}

#[test]
fn a_transient_5xx_is_retried_and_never_reported_as_invalid() {
    let sim = SimHandle::start(SimConfig::default());
    sim.set_fault(Fault::status(502).times(1));
    let mut env = TestEnv::new("v-retry");
    env.write_config(&sim_config(&sim));
    let (export, _) = live_mtn(&sim);
    let run = validate_env(&mut env, &export);
    run.assert_code(0);
    assert_eq!(run.json()["results"][0]["attempts"], 2);
}

#[test]
fn a_server_that_never_answers_is_error_within_bounded_time() {
    let sim = SimHandle::start(SimConfig::default());
    sim.set_fault(Fault::always(FaultMode::Hang));
    let mut env = TestEnv::new("v-hang");
    env.write_config(&sim_config(&sim));
    let (export, _) = live_mtn(&sim);
    let run = validate_env(&mut env, &export);
    run.assert_code(2);
    assert_eq!(run.json()["results"][0]["reason"], "timeout");
    // 2 attempts × 1 s timeout + ~100 ms backoff; generous bound for a loaded machine.
    assert!(
        run.elapsed < std::time::Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn a_reset_connection_is_error_exit_2() {
    let sim = SimHandle::start(SimConfig::default());
    sim.set_fault(Fault::always(FaultMode::Reset));
    let mut env = TestEnv::new("v-reset");
    env.write_config(&sim_config(&sim));
    let (export, _) = live_mtn(&sim);
    let run = validate_env(&mut env, &export);
    run.assert_code(2);
    assert_eq!(run.json()["results"][0]["reason"], "transport");
}

#[test]
fn a_refused_connection_is_error_exit_2() {
    let sim = SimHandle::start(SimConfig::default());
    let mut env = TestEnv::new("v-refused");
    let (export, _) = live_mtn(&sim);
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    env.write_config(&sim_config(&sim).replace(
        &format!(":{}/api/products", sim.port()),
        &format!(":{port}/api/products"),
    ));
    let run = validate_env(&mut env, &export);
    run.assert_code(2);
    let r = &run.json()["results"][0];
    assert_eq!(r["reason"], "connect");
    assert!(
        r["detail"]
            .as_str()
            .is_some_and(|d| d.contains("could not connect")),
        "{r}"
    );
}

#[test]
fn only_the_api_hosts_cookies_travel_to_the_api() {
    let sim = SimHandle::start(SimConfig::default());
    let mut env = TestEnv::new("v-cookies");
    env.write_config(&sim_config(&sim));
    let minted = sim.mint_session(SessionKind::Cookie, None);
    let export = cookie_export(
        "mtn",
        &[
            ("SSO_TICKET", "TICKET-OF-THE-LOGIN-HOST", "localhost"),
            ("JSESSIONID", &minted.value, "127.0.0.1"),
        ],
    );
    validate_env(&mut env, &export).assert_code(0);
    let requests = sim.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].cookie_names,
        ["JSESSIONID"],
        "the SSO ticket must stay on the login host"
    );
}

#[test]
fn token_profile_sends_the_configured_header() {
    let sim = SimHandle::start(SimConfig::default());
    let mut env = TestEnv::new("v-token");
    env.write_config(&sim_config(&sim));
    let minted = sim.mint_session(SessionKind::Token, None);
    env.set_env("BREEZE_SESSION", &minted.value);
    let run = env.run(&[
        "validate",
        "breeze",
        "--json",
        "--session-env",
        "BREEZE_SESSION",
    ]);
    run.assert_code(0);
    assert!(sim.requests()[0].has_token);
    sim.expire_session(&minted.value);
    env.run(&["validate", "breeze", "--session-env", "BREEZE_SESSION"])
        .assert_code(1);
}

#[test]
fn a_missing_or_garbled_session_variable_is_a_clear_error() {
    let sim = SimHandle::start(SimConfig::default());
    let mut env = TestEnv::new("v-garbage");
    env.write_config(&sim_config(&sim));
    let run = env.run(&["validate", "mtn", "--session-env", "NOT_SET_ANYWHERE"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("NOT_SET_ANYWHERE is not set"),
        "{}",
        run.stderr
    );
    env.set_env("MTN_SESSION", "%%% definitely-not-base64-SECRET %%%");
    let run = env.run(&["validate", "mtn", "--session-env", "MTN_SESSION"]);
    run.assert_code(2);
    assert!(run.stderr.contains("not a session"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("SECRET"),
        "the input must not be echoed: {}",
        run.stderr
    );
}

#[test]
fn human_output_names_status_and_reason() {
    let sim = SimHandle::start(SimConfig::default());
    let mut env = TestEnv::new("v-human");
    env.write_config(&sim_config(&sim));
    let (export, value) = live_mtn(&sim);
    sim.expire_session(&value);
    env.set_env("MTN_SESSION", &export);
    let run = env.run(&["validate", "mtn", "--session-env", "MTN_SESSION"]);
    run.assert_code(1);
    assert!(
        run.stdout
            .starts_with("invalid  mtn: the server rejected the session (HTTP 401)"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains(&value) && !run.stderr.contains(&value),
        "session value printed"
    );
}

/// Finding: a cross-origin redirect hop carried the configured `validate.headers`. Neither
/// the session nor those headers cross an origin.
#[test]
fn a_cross_origin_redirect_carries_neither_the_cookies_nor_the_configured_headers() {
    let sim = SimHandle::start(SimConfig::default());
    let mut env = TestEnv::new("v-xorigin");
    let u = sim.urls();
    let text = sim_config(&sim).replace(&u.products, &format!("{}/api/moved", u.api_origin));
    let with_header = text.replacen(
        "[profiles.mtn.validate]\n",
        "[profiles.mtn.validate]\nheaders = { X-Api-Key = \"key-for-the-api-only\" }\n",
        1,
    );
    assert_ne!(with_header, text, "the mtn validate table takes the header");
    env.write_config(&with_header);
    let minted = sim.mint_session(SessionKind::Cookie, None);
    // Cookies for both hosts: the redirect target (localhost) must get neither.
    let export = cookie_export(
        "mtn",
        &[
            ("SSO_TICKET", "TICKET", "localhost"),
            ("JSESSIONID", &minted.value, "127.0.0.1"),
        ],
    );
    let run = validate_env(&mut env, &export);
    run.assert_code(1);
    let requests = sim.requests();
    let redirected: Vec<_> = requests
        .iter()
        .filter(|r| r.host.starts_with("localhost"))
        .collect();
    assert_eq!(redirected.len(), 1, "{requests:?}");
    assert!(
        redirected[0].cookie_names.is_empty(),
        "cookies crossed origins: {:?}",
        redirected[0]
    );
    assert!(
        !redirected[0].header_names.iter().any(|h| h == "x-api-key"),
        "the configured header crossed origins: {:?}",
        redirected[0]
    );
    let first = requests
        .iter()
        .find(|r| r.path.starts_with("/api/moved"))
        .expect("the first hop");
    assert!(
        first.header_names.iter().any(|h| h == "x-api-key"),
        "the API's own origin gets it: {first:?}"
    );
}

#[test]
fn a_profile_that_cannot_be_checked_fails_at_once_without_retries() {
    let sim = SimHandle::start(SimConfig::default());
    let mut env = TestEnv::new("v-config");
    env.write_config(&sim_config(&sim).replace(
        "token_header = \"X-SessionToken\"",
        "token_header = \"X Session Token\"",
    ));
    let minted = sim.mint_session(SessionKind::Token, None);
    env.set_env("BREEZE_SESSION", &minted.value);
    let run = env.run(&[
        "validate",
        "breeze",
        "--json",
        "--session-env",
        "BREEZE_SESSION",
    ]);
    run.assert_code(2);
    let r = &run.json()["results"][0];
    assert_eq!(r["reason"], "config");
    assert_eq!(r["attempts"], 1, "{r}");
    assert!(
        r["detail"]
            .as_str()
            .is_some_and(|d| d.contains("not a valid header name")),
        "{r}"
    );
    assert!(!run.stdout.contains(&minted.value));
}

/// Finding: import errors echoed secret input. serde's messages quote the offending value
/// (`invalid type: string "JSESSIONID=…"`), which reached `validate --session-env`'s stderr
/// in CI, the dashboard's paste answer and `import`'s error. None of them quotes it now.
#[test]
fn finding_import_errors_never_echo_the_input() {
    use base64::Engine as _;
    let sim = SimHandle::start(SimConfig::default());
    let mut env = TestEnv::new("v-echo");
    env.write_config(&sim_config(&sim));
    let secret = "JSESSIONID=s3cr3t-never-shown-4711";
    let wrong_type = format!(
        r#"{{"version":1,"profile":"mtn","cookies":"{secret}","capturedAt":"2026-01-01T00:00:00Z","expiresAt":"2026-01-01T01:00:00Z"}}"#
    );
    let inputs = [
        base64::engine::general_purpose::STANDARD.encode(&wrong_type),
        wrong_type.clone(),
        format!("[{{\"name\":\"JSESSIONID\",\"value\":{secret:?},\"domain\":7}}]"),
    ];
    for input in &inputs {
        let run = validate_env(&mut env, input);
        assert_ne!(run.code, 0, "{input}");
        assert!(
            !run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"),
            "validate echoed the input: {}{}",
            run.stdout,
            run.stderr
        );
        let import = env.run_stdin(&["import", "mtn"], input);
        assert_ne!(import.code, 0);
        assert!(
            !import.stdout.contains("s3cr3t") && !import.stderr.contains("s3cr3t"),
            "import echoed the input: {}",
            import.stderr
        );
        assert!(!import.stderr.is_empty(), "import says what is wrong");
    }
}
