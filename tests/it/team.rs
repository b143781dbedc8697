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
