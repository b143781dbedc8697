//! `push` and `check --github-issue` against the GitHub and Vercel fakes.

use std::time::Duration;

use base64::Engine as _;
use sessionkeeper_tests::*;

/// A config whose profile `mtn` pushes to a repository secret, an environment secret, a
/// Vercel env var with redeploy and smoke test, and a local file.
fn push_config(sim: &Sim, env: &TestEnv) -> String {
    let u = sim.urls();
    format!(
        r#"{base}
[accounts.github]
kind = "github"
api_url = "{github}"

[accounts.vercel]
kind = "vercel"
api_url = "{vercel}"

[[profiles.mtn.push]]
to = "github"
repo = "acme/circletel"
secret = "MTN_SESSION"

[[profiles.mtn.push]]
to = "github"
repo = "acme/circletel"
environment = "production"
secret = "MTN_SESSION"

[[profiles.mtn.push]]
to = "vercel"
project = "circletel"
env = "MTN_SESSION"
targets = ["production", "preview"]
type = "sensitive"
redeploy = true
smoke_url = "{app}/circletel"

[[profiles.mtn.push]]
to = "file"
path = "{file}"
format = "json"
"#,
        base = sim_config(sim),
        github = u.github_api,
        vercel = u.vercel_api,
        app = u.app,
        file = env.root.path().join("out/mtn-session.json").display(),
    )
}

const GITHUB_TOKEN: &str = "ghp_simulated_github_token";
const VERCEL_TOKEN: &str = "vercel_simulated_token";

/// An environment with a stored, live session and both tokens; returns the session value.
fn ready(sim: &SimHandle, name: &str) -> (TestEnv, String) {
    require_keychain();
    let env = TestEnv::new(name);
    env.write_config(&push_config(sim, &env));
    env.run_stdin(&["secret", "set", "account:github"], GITHUB_TOKEN)
        .assert_code(0);
    env.run_stdin(&["secret", "set", "account:vercel"], VERCEL_TOKEN)
        .assert_code(0);
    let value = import_live_session(&env, sim);
    (env, value)
}

fn result<'a>(json: &'a serde_json::Value, prefix: &str) -> &'a serde_json::Value {
    json["results"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .find(|t| t["target"].as_str().is_some_and(|s| s.starts_with(prefix)))
        })
        .unwrap_or_else(|| panic!("no result for {prefix}: {json}"))
}

#[test]
fn push_reaches_every_target_and_github_decrypts_the_export_byte_for_byte() {
    let sim = SimHandle::start(SimConfig::default());
    let (env, _) = ready(&sim, "p-all");
    let export = env
        .run(&["export", "mtn", "--output-only"])
        .stdout
        .trim()
        .to_owned();
    let run = env.run(&["push", "mtn", "--json"]);
    run.assert_code(0);
    let json = run.json();
    assert_eq!(json["ok"], true);
    assert_eq!(json["succeeded"], 4);
    assert_eq!(
        result(&json, "github acme/circletel secret")["action"],
        "created the secret"
    );

    for scope in ["repo:acme/circletel", "env:acme/circletel:production"] {
        let opened = sim
            .github_secret(scope, "MTN_SESSION")
            .expect("the fake opened the sealed box");
        assert_eq!(opened, export.as_bytes(), "{scope}");
    }
    let var = sim
        .vercel_env("circletel", "MTN_SESSION")
        .expect("vercel var");
    assert_eq!(var.value, export);
    assert_eq!(var.kind, "sensitive");
    assert_eq!(var.target, ["production", "preview"]);
    let redeploys = sim.vercel_redeploys("circletel");
    assert_eq!(redeploys.len(), 1);
    assert!(
        redeploys[0].1.contains(&"MTN_SESSION".to_owned()),
        "the redeploy was built with the new value"
    );
    let vercel = result(&json, "vercel");
    assert!(
        vercel["deploymentUrl"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://circletel-")),
        "{vercel}"
    );
    assert!(
        vercel["action"]
            .as_str()
            .is_some_and(|a| a.contains("READY") && a.contains("smoke test passed")),
        "{vercel}"
    );

    let file = env.root.path().join("out/mtn-session.json");
    let written = std::fs::read(&file).expect("file target written");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&export)
        .expect("export");
    assert_eq!(
        written,
        [decoded.as_slice(), b"\n"].concat(),
        "the file holds the session JSON"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777,
            0o600
        );
    }

    // GitHub's required headers, on every call.
    for call in sim
        .api_calls()
        .iter()
        .filter(|c| c.service == Service::Github)
    {
        assert_eq!(
            call.accept.as_deref(),
            Some("application/vnd.github+json"),
            "{call:?}"
        );
        assert_eq!(call.api_version.as_deref(), Some("2022-11-28"), "{call:?}");
        assert!(
            call.user_agent
                .as_deref()
                .is_some_and(|u| u.starts_with("sessionkeeper/")),
            "{call:?}"
        );
    }

    // A second push updates: 204 from GitHub.
    let again = env.run(&["push", "mtn", "--to", "github", "--json"]);
    again.assert_code(0);
    assert_eq!(
        result(&again.json(), "github acme/circletel secret")["action"],
        "updated the secret"
    );

    // status shows the last push per target.
    let status = env.run(&["status", "--json"]).json();
    let mtn = status["profiles"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["profile"] == "mtn"))
        .cloned()
        .expect("mtn");
    assert_eq!(mtn["lastPushes"].as_array().map(Vec::len), Some(4), "{mtn}");
}

#[test]
fn a_vercel_201_with_failed_entries_fails_the_push_and_names_the_target() {
    let sim = SimHandle::start(SimConfig {
        vercel_fail_keys: vec!["MTN_SESSION".to_owned()],
        ..SimConfig::default()
    });
    let (env, _) = ready(&sim, "p-failed");
    let run = env.run(&["push", "mtn"]);
    run.assert_code(1);
    assert!(
        run.stdout
            .contains("FAILED  vercel circletel env MTN_SESSION"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ENV_CONFLICT"), "{}", run.stdout);
    assert!(run.stdout.contains("pushed to 3 of 4"), "{}", run.stdout);
    assert!(
        run.stdout.contains("--to vercel"),
        "says how to retry: {}",
        run.stdout
    );
    assert!(
        sim.vercel_redeploys("circletel").is_empty(),
        "no redeploy without the value"
    );
}

#[test]
fn rate_limits_with_retry_after_are_waited_out() {
    let sim = SimHandle::start(SimConfig::default());
    let (env, _) = ready(&sim, "p-ratelimit");
    let fault = |status, message: &str| ApiFault {
        service: Service::Github,
        status,
        retry_after: Some(1),
        ratelimit_reset_in: None,
        message: message.to_owned(),
        count: 1,
    };
    sim.push_api_fault(fault(429, "API rate limit exceeded"));
    sim.push_api_fault(fault(403, "You have exceeded a secondary rate limit"));
    let run = env.run(&["push", "mtn", "--to", "github", "--json"]);
    run.assert_code(0);
    assert!(
        run.elapsed >= Duration::from_secs(1),
        "retry-after was not honoured: {:?}",
        run.elapsed
    );
    let limited = sim
        .api_calls()
        .iter()
        .filter(|c| matches!(c.gate_status, Some(403 | 429)))
        .count();
    assert_eq!(limited, 2);
}

#[test]
fn a_permission_403_fails_at_once_with_advice_on_token_permissions() {
    let sim = SimHandle::start(SimConfig::default());
    let (env, _) = ready(&sim, "p-403");
    sim.push_api_fault(ApiFault {
        service: Service::Github,
        status: 403,
        retry_after: None,
        ratelimit_reset_in: None,
        message: "Resource not accessible by integration".to_owned(),
        count: 10,
    });
    let run = env.run(&["push", "mtn", "--to", "github", "--json"]);
    run.assert_code(1);
    let json = run.json();
    let r = result(&json, "github acme/circletel secret");
    assert!(
        r["error"]
            .as_str()
            .is_some_and(|e| e.contains("Resource not accessible")),
        "{r}"
    );
    assert!(
        r["hint"]
            .as_str()
            .is_some_and(|h| h.contains("Secrets: write")),
        "{r}"
    );
    let refused = sim
        .api_calls()
        .iter()
        .filter(|c| c.gate_status == Some(403))
        .count();
    assert_eq!(refused, 2, "one call per GitHub target, no retries");
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
}

#[test]
fn a_missing_token_fails_only_its_targets_and_says_what_to_do() {
    let sim = SimHandle::start(SimConfig::default());
    let (env, _) = ready(&sim, "p-notoken");
    env.run(&["secret", "delete", "account:github"])
        .assert_code(0);
    let run = env.run(&["push", "mtn", "--json"]);
    run.assert_code(1);
    let json = run.json();
    assert_eq!(json["succeeded"], 2);
    let r = result(&json, "github acme/circletel secret");
    assert!(
        r["hint"]
            .as_str()
            .is_some_and(|h| h.contains("secret set account:github")),
        "{r}"
    );
}

#[test]
fn dry_run_sends_and_writes_nothing() {
    let sim = SimHandle::start(SimConfig::default());
    let (env, _) = ready(&sim, "p-dry");
    let run = env.run(&["push", "mtn", "--dry-run"]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("would push to 4 of 4"),
        "{}",
        run.stdout
    );
    assert!(sim.api_calls().is_empty());
    assert!(!env.root.path().join("out/mtn-session.json").exists());
}

#[test]
fn a_canceled_redeploy_is_a_failure_that_says_why() {
    let sim = SimHandle::start(SimConfig {
        vercel_build_outcome: BuildOutcome::Canceled,
        ..SimConfig::default()
    });
    let (env, _) = ready(&sim, "p-canceled");
    let run = env.run(&["push", "mtn", "--to", "vercel"]);
    run.assert_code(1);
    assert!(
        run.stdout.contains("canceled") && run.stdout.contains("Ignored Build Step"),
        "{}",
        run.stdout
    );
}

#[test]
fn no_token_or_session_value_in_output_logs_or_files() {
    let sim = SimHandle::start(SimConfig {
        vercel_fail_keys: vec!["MTN_SESSION".to_owned()],
        ..SimConfig::default()
    });
    let (mut env, value) = ready(&sim, "p-secrets");
    env.set_env("RUST_LOG", "debug");
    let export = env
        .run(&["export", "mtn", "--output-only"])
        .stdout
        .trim()
        .to_owned();
    let mut outputs = Vec::new();
    for args in [
        &["push", "mtn"][..],
        &["push", "mtn", "--json"],
        &["status", "--json"],
        &["secret", "status"],
    ] {
        let run = env.run(args);
        outputs.push(format!("{}{}", run.stdout, run.stderr));
    }
    for needle in [GITHUB_TOKEN, VERCEL_TOKEN, value.as_str(), export.as_str()] {
        for out in &outputs {
            assert!(
                !out.contains(needle),
                "a secret reached the output or logs:\n{out}"
            );
        }
        // Only the configured file target holds the session, by design.
        let files: Vec<_> = env
            .files_containing(needle)
            .into_iter()
            .filter(|p| !p.ends_with("out/mtn-session.json"))
            .collect();
        assert!(files.is_empty(), "a secret reached {files:?}");
    }
}

#[test]
fn check_opens_one_issue_over_two_expired_runs_and_closes_it_on_recovery() {
    let sim = SimHandle::start(SimConfig::default());
    let mut env = TestEnv::new("p-issue");
    env.write_config(&push_config(&sim, &env));
    // As in GitHub Actions: the runner names its API, and GITHUB_TOKEN is for that host.
    env.set_env("GITHUB_API_URL", &sim.urls().github_api);
    env.set_env("GH_TOKEN", GITHUB_TOKEN);
    let dead = sim.mint_session(SessionKind::Cookie, None);
    sim.expire_session(&dead.value);
    env.set_env(
        "MTN_SESSION",
        &cookie_export("mtn", &[("JSESSIONID", &dead.value, "127.0.0.1")]),
    );
    let check = [
        "check",
        "--github-issue",
        "acme/circletel",
        "mtn",
        "--session-env",
        "MTN_SESSION",
        "--json",
    ];

    let first = env.run(&check);
    first.assert_code(1);
    assert_eq!(first.json()["results"][0]["issue"]["action"], "opened");
    env.run(&check).assert_code(1);
    let issues = sim.github_issues("acme/circletel");
    assert_eq!(issues.len(), 1, "two expired runs, one issue");
    let issue = &issues[0];
    assert_eq!(
        issue.labels,
        ["session-expired"],
        "the label was created, so the issue carries it"
    );
    assert!(
        issue.body.contains("| status | invalid (`rejected`) |"),
        "{}",
        issue.body
    );
    assert!(
        issue.body.contains("| tracked expiry | 20"),
        "{}",
        issue.body
    );
    assert!(issue.body.contains("| checked at | 20"), "{}", issue.body);
    assert_eq!(issue.comments.len(), 1);

    // A network fault changes nothing: exit 2, no comment, still open.
    sim.set_fault(Fault::status(503));
    env.run(&check).assert_code(2);
    sim.clear_fault();
    assert_eq!(sim.github_issues("acme/circletel")[0].comments.len(), 1);

    let live = sim.mint_session(SessionKind::Cookie, None);
    env.set_env(
        "MTN_SESSION",
        &cookie_export("mtn", &[("JSESSIONID", &live.value, "127.0.0.1")]),
    );
    let recovered = env.run(&check);
    recovered.assert_code(0);
    assert_eq!(recovered.json()["results"][0]["issue"]["action"], "closed");
    let issue = &sim.github_issues("acme/circletel")[0];
    assert_eq!(issue.state, "closed");
    assert_eq!(issue.state_reason.as_deref(), Some("completed"));
    env.run(&check).assert_code(0);
    assert_eq!(
        sim.github_issues("acme/circletel").len(),
        1,
        "nothing new after recovery"
    );
}

#[test]
fn a_deploy_hook_redeploys_without_the_deployments_api() {
    let sim = SimHandle::start(SimConfig::default());
    let (env, _) = ready(&sim, "p-hook");
    let text = std::fs::read_to_string(env.config_path()).expect("config");
    env.write_config(&text.replace("redeploy = true", "deploy_hook = true"));
    let run = env.run(&["push", "mtn", "--to", "vercel"]);
    run.assert_code(1);
    assert!(
        run.stdout
            .contains("secret set deploy-hook:vercel/circletel"),
        "{}",
        run.stdout
    );
    assert!(
        sim.vercel_env("circletel", "MTN_SESSION").is_none(),
        "nothing changes when the redeploy cannot happen"
    );

    let hook = sim.deploy_hook_url("circletel");
    env.run_stdin(&["secret", "set", "deploy-hook:vercel/circletel"], &hook)
        .assert_code(0);
    let run = env.run(&["push", "mtn", "--to", "vercel", "--json"]);
    run.assert_code(0);
    let json = run.json();
    let vercel = result(&json, "vercel");
    assert!(
        vercel["action"]
            .as_str()
            .is_some_and(|a| a.contains("READY")),
        "{vercel}"
    );
    assert!(
        vercel["deploymentUrl"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://")),
        "{vercel}"
    );
    assert_eq!(sim.vercel_redeploys("circletel").len(), 1);
    let api_redeploys = sim
        .api_calls()
        .iter()
        .filter(|c| c.method == "POST" && c.path.starts_with("/v13/deployments"))
        .count();
    assert_eq!(api_redeploys, 0, "the hook, not the API, started the build");
    assert!(
        !run.stdout.contains("hook_simulated") && !run.stderr.contains("hook_simulated"),
        "the hook URL is a secret"
    );
}

#[test]
fn organisation_secrets_carry_their_visibility() {
    let sim = SimHandle::start(SimConfig::default());
    let (env, _) = ready(&sim, "p-org");
    let text = std::fs::read_to_string(env.config_path()).expect("config");
    env.write_config(&format!("{text}\n[[profiles.mtn.push]]\nto = \"github\"\norg = \"acme\"\nvisibility = \"private\"\nsecret = \"MTN_SESSION\"\n"));
    env.run(&["push", "mtn", "--to", "github"]).assert_code(0);
    let export = env
        .run(&["export", "mtn", "--output-only"])
        .stdout
        .trim()
        .to_owned();
    assert_eq!(
        sim.github_secret("org:acme", "MTN_SESSION").as_deref(),
        Some(export.as_bytes())
    );
}

#[test]
fn an_exhausted_rate_limit_is_waited_until_its_reset() {
    let sim = SimHandle::start(SimConfig::default());
    let (env, _) = ready(&sim, "p-reset");
    sim.push_api_fault(ApiFault {
        service: Service::Github,
        status: 403,
        retry_after: None,
        ratelimit_reset_in: Some(2),
        message: "API rate limit exceeded for user".to_owned(),
        count: 1,
    });
    let run = env.run(&["push", "mtn", "--to", "github"]);
    run.assert_code(0);
    assert!(
        run.elapsed >= Duration::from_secs(1),
        "x-ratelimit-reset was not honoured: {:?}",
        run.elapsed
    );
}

#[test]
fn the_token_check_reaches_every_target_without_writing_and_names_what_is_wrong() {
    use sessionkeeper_core::push::{Credentials, Pusher};
    use sessionkeeper_core::{Config, Secret};
    let sim = SimHandle::start(SimConfig::default());
    let env = TestEnv::new("p-probe");
    let text = push_config(&sim, &env);
    let config = Config::parse(&text, std::path::Path::new("c.toml")).expect("config");
    let profile = config.profile("mtn").expect("mtn");
    let credentials = |github: &str, vercel: &str| Credentials {
        tokens: std::collections::HashMap::from([
            ("github".to_owned(), Secret::new(github)),
            ("vercel".to_owned(), Secret::new(vercel)),
        ]),
        deploy_hooks: std::collections::HashMap::new(),
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    std::fs::create_dir_all(env.root.path().join("out")).expect("mkdir");
    let good = rt.block_on(Pusher::new().probe(
        &config.accounts,
        &profile.push,
        &credentials(GITHUB_TOKEN, VERCEL_TOKEN),
    ));
    assert_eq!(good.len(), 4);
    assert!(good.iter().all(|r| r.ok()), "{good:#?}");
    assert!(
        sim.github_secret("repo:acme/circletel", "MTN_SESSION")
            .is_none()
            && sim.vercel_env("circletel", "MTN_SESSION").is_none(),
        "the check writes nothing"
    );

    let bad = rt.block_on(Pusher::new().probe(
        &config.accounts,
        &profile.push,
        &credentials("ghp_wrong", "vercel_wrong"),
    ));
    for r in bad.iter().filter(|r| r.account != "file") {
        assert!(!r.ok(), "{r:?}");
        let error = r.detail();
        assert!(error.contains("401") || error.contains("403"), "{r:?}");
        assert!(!error.contains("wrong"), "no token in the error: {r:?}");
    }

    let missing = text.replace("project = \"circletel\"", "project = \"no-such-project\"");
    let config = Config::parse(&missing, std::path::Path::new("c.toml")).expect("config");
    let profile = config.profile("mtn").expect("mtn");
    let results = rt.block_on(Pusher::new().probe(
        &config.accounts,
        &profile.push,
        &credentials(GITHUB_TOKEN, VERCEL_TOKEN),
    ));
    let vercel = results
        .iter()
        .find(|r| r.account == "vercel")
        .expect("vercel");
    assert!(
        !vercel.ok()
            && vercel.detail().contains("404")
            && vercel.detail().contains("no-such-project"),
        "{vercel:?}"
    );
}

/// No double effects: a redeploy whose answer is lost after Vercel carried it out (the
/// connection reset on the way back) is found in the deployments list, not made again.
#[test]
fn a_redeploy_whose_answer_is_lost_after_vercel_accepted_it_is_made_once() {
    let sim = SimHandle::start(SimConfig::default());
    let (env, _) = ready(&sim, "p-reset-after");
    sim.reset_after(Service::Vercel, "POST", "/v13/deployments", 1);
    let run = env.run(&["push", "mtn", "--to", "vercel", "--json"]);
    run.assert_code(0);
    let export = env.run(&["export", "mtn", "--output-only"]).stdout;
    assert_eq!(
        sim.redeploys_carrying("circletel", "MTN_SESSION", export.trim()),
        1,
        "one redeploy, though its answer was lost: {}",
        run.stdout
    );
    let creates = sim
        .api_calls()
        .iter()
        .filter(|c| c.method == "POST" && c.path.starts_with("/v13/deployments"))
        .count();
    assert_eq!(creates, 1, "the create call was not sent again");
}

/// No double effects: an alarm issue whose answer is lost is looked for by its label and
/// marker before it is opened again.
#[test]
fn an_alarm_issue_whose_answer_is_lost_is_opened_once() {
    let sim = SimHandle::start(SimConfig::default());
    let mut env = TestEnv::new("p-issue-reset");
    env.write_config(&push_config(&sim, &env));
    env.set_env("GITHUB_API_URL", &sim.urls().github_api);
    env.set_env("GH_TOKEN", GITHUB_TOKEN);
    let dead = sim.mint_session(SessionKind::Cookie, None);
    sim.expire_session(&dead.value);
    env.set_env(
        "MTN_SESSION",
        &cookie_export("mtn", &[("JSESSIONID", &dead.value, "127.0.0.1")]),
    );
    sim.reset_after(Service::Github, "POST", "/repos/acme/circletel/issues", 1);
    let run = env.run(&[
        "check",
        "--github-issue",
        "acme/circletel",
        "mtn",
        "--session-env",
        "MTN_SESSION",
        "--json",
    ]);
    run.assert_code(1);
    assert_eq!(
        run.json()["results"][0]["issue"]["action"],
        "opened",
        "{}",
        run.stdout
    );
    assert_eq!(
        sim.github_issues("acme/circletel").len(),
        1,
        "exactly one alarm"
    );
}

/// `status --json` tells, per target, which session it holds: current after a push, behind
/// after a new session, failing (with the error, the attempts and the next one) after a
/// failed push; `push --behind` sends only what is needed and nothing when all are current.
#[test]
fn status_shows_each_targets_state_and_push_behind_sends_only_what_is_needed() {
    let sim = SimHandle::start(SimConfig::default());
    let (env, _) = ready(&sim, "p-targets");
    let targets = |env: &TestEnv| -> Vec<(String, String)> {
        let json = env.run(&["status", "--json"]).json();
        json["profiles"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["profile"] == "mtn"))
            .and_then(|p| p["targets"].as_array())
            .expect("targets")
            .iter()
            .map(|t| {
                (
                    t["target"].as_str().expect("name").to_owned(),
                    t["state"].as_str().expect("state").to_owned(),
                )
            })
            .collect()
    };
    assert!(
        targets(&env).iter().all(|(_, s)| s == "behind"),
        "{:?}",
        targets(&env)
    );
    env.run(&["push", "mtn"]).assert_code(0);
    let after = targets(&env);
    assert_eq!(after.len(), 4);
    assert!(after.iter().all(|(_, s)| s == "current"), "{after:?}");
    assert!(
        after
            .iter()
            .any(|(t, _)| t == "vercel circletel env MTN_SESSION (production, preview)"),
        "the target names its account and project: {after:?}"
    );
    let nothing = env.run(&["push", "mtn", "--behind", "--json"]);
    nothing.assert_code(0);
    assert_eq!(
        nothing.json()["total"],
        0,
        "nothing sent: {}",
        nothing.stdout
    );

    // A new session: every target is behind; GitHub is down for the push.
    import_live_session(&env, &sim);
    assert!(targets(&env).iter().all(|(_, s)| s == "behind"));
    sim.push_api_fault(ApiFault {
        service: Service::Github,
        status: 503,
        retry_after: None,
        ratelimit_reset_in: None,
        message: "Service Unavailable".to_owned(),
        count: 100,
    });
    env.run(&["push", "mtn", "--behind"]).assert_code(1);
    let json = env.run(&["status", "--json"]).json();
    let mtn = json["profiles"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["profile"] == "mtn"))
        .cloned()
        .expect("mtn");
    let github = mtn["targets"]
        .as_array()
        .and_then(|t| {
            t.iter()
                .find(|t| t["target"] == "github acme/circletel secret MTN_SESSION")
        })
        .cloned()
        .expect("github");
    assert_eq!(github["state"], "failing", "{github}");
    assert_eq!(github["attempts"], 1);
    assert!(
        github["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("503")),
        "{github}"
    );
    assert!(github["nextAttemptAt"].is_string(), "{github}");
    let vercel = mtn["targets"]
        .as_array()
        .and_then(|t| {
            t.iter().find(|t| {
                t["target"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("vercel"))
            })
        })
        .cloned()
        .expect("vercel");
    assert_eq!(vercel["state"], "current", "{vercel}");
    // GitHub is back: --behind sends only to the two GitHub targets.
    sim.clear_api_faults();
    let again = env.run(&["push", "mtn", "--behind", "--json"]);
    again.assert_code(0);
    assert_eq!(again.json()["total"], 2, "{}", again.stdout);
    assert!(targets(&env).iter().all(|(_, s)| s == "current"));
    // And the human-readable status says the same.
    let text = env.run(&["status"]).stdout;
    assert!(
        text.contains("current  github acme/circletel secret MTN_SESSION"),
        "{text}"
    );
}
