//! Secrets in the real Secret Service, and what happens when there is none or it is locked.

use std::process::Command;

use sessionkeeper_tests::*;

const TOKEN: &str = "ghp_TESTTOKEN0123456789abcdefghijklmnopqrs";

const CONFIG: &str = r##"
[accounts.github]
kind = "github"

[accounts.vercel]
kind = "vercel"

[profiles.mtn]
capture = "manual"
cookie_urls = ["https://wholesale.example.net/"]
prefill = { username = "#username", password = "#password" }
"##;

#[test]
fn secret_set_stores_in_the_secret_service_and_nowhere_else() {
    require_keychain();
    let env = TestEnv::new("k-set");
    env.write_config(CONFIG);
    let run = env.run_stdin(&["secret", "set", "account:github"], &format!("{TOKEN}\n"));
    run.assert_code(0);
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));

    // libsecret's own client sees the item, with the value exactly as given (newline stripped).
    let out = Command::new("secret-tool")
        .args(["search", "--all", "service", &env.service])
        .output()
        .expect("secret-tool is installed (scripts/setup.sh)");
    // secret-tool prints the label and value on stdout, the attributes on stderr.
    let listing = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        listing.contains("attribute.username = account:github"),
        "{listing}"
    );
    let lookup = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            &env.service,
            "username",
            "account:github",
        ])
        .output()
        .expect("secret-tool lookup");
    assert_eq!(String::from_utf8_lossy(&lookup.stdout), TOKEN);

    // No file under the user's home, config, data or state dirs holds the token.
    assert!(
        env.files_containing(TOKEN).is_empty(),
        "{:?}",
        env.files_containing(TOKEN)
    );
    let home = std::env::var_os("SESSIONKEEPER_TEST_KEYRING_HOME")
        .expect("set by scripts/with-desktop.sh");
    assert!(
        files_containing(std::path::Path::new(&home), TOKEN).is_empty(),
        "token in the keyring daemon's files"
    );

    let status = env.run(&["secret", "status", "--json"]);
    status.assert_code(0);
    let json = status.json();
    let github = json["secrets"]
        .as_array()
        .expect("secrets")
        .iter()
        .find(|s| s["name"] == "account:github")
        .cloned();
    assert_eq!(github.expect("listed")["source"], "keychain");
    assert!(!status.stdout.contains(TOKEN));
    let vercel = json["secrets"]
        .as_array()
        .expect("secrets")
        .iter()
        .find(|s| s["name"] == "account:vercel")
        .cloned();
    assert!(vercel.expect("listed")["source"].is_null());
}

#[test]
fn environment_tokens_override_the_keychain() {
    require_keychain();
    let mut env = TestEnv::new("k-env");
    env.write_config(CONFIG);
    env.set_env("GH_TOKEN", "ghp_from_the_environment");
    let run = env.run(&["secret", "status"]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("account:github") && run.stdout.contains("set (GH_TOKEN)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("ghp_from_the_environment"));
}

/// Hardening: a github.com token in GH_TOKEN never reaches a GitHub Enterprise host (nor a
/// VERCEL_TOKEN a proxied Vercel API); those hosts take their own variables or the keychain.
#[test]
fn environment_tokens_reach_only_the_hosts_they_are_for() {
    require_keychain();
    let mut env = TestEnv::new("k-env-hosts");
    env.write_config(&format!(
        "{CONFIG}\n[accounts.ghes]\nkind = \"github\"\napi_url = \"https://ghe.example.com/api/v3\"\n\
         [accounts.proxied]\nkind = \"vercel\"\napi_url = \"https://vercel-proxy.example.com\"\n"
    ));
    env.set_env("GH_TOKEN", "ghp_public");
    env.set_env("VERCEL_TOKEN", "vercel_public");
    let status = env.run(&["secret", "status", "--json"]);
    status.assert_code(0);
    let json = status.json();
    let source = |name: &str| {
        json["secrets"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["name"] == name))
            .map(|s| s["source"].clone())
            .unwrap_or_else(|| panic!("{name} listed: {json}"))
    };
    assert_eq!(source("account:github"), "GH_TOKEN");
    assert_eq!(source("account:vercel"), "VERCEL_TOKEN");
    assert!(
        source("account:ghes").is_null(),
        "GH_TOKEN is not for GHES: {json}"
    );
    assert!(
        source("account:proxied").is_null(),
        "VERCEL_TOKEN is not for a proxy: {json}"
    );
    env.set_env("GH_ENTERPRISE_TOKEN", "ghe_token");
    let json = env.run(&["secret", "status", "--json"]).json();
    let ghes = json["secrets"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "account:ghes"))
        .cloned()
        .expect("listed");
    assert_eq!(ghes["source"], "GH_ENTERPRISE_TOKEN");
}

#[test]
fn bad_names_and_empty_values_are_refused() {
    require_keychain();
    let env = TestEnv::new("k-bad");
    env.write_config(CONFIG);
    let run = env.run_stdin(&["secret", "set", "session-key"], "x");
    run.assert_code(1);
    assert!(run.stderr.contains("account:NAME"), "{}", run.stderr);
    let run = env.run_stdin(&["secret", "set", "account:github"], "");
    run.assert_code(1);
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
}

/// No session bus at all (a server, a CI runner): a clear error, and nothing written.
#[test]
fn no_secret_service_is_a_clear_error_that_writes_nothing() {
    let env = TestEnv::new("k-nobus");
    env.write_config(CONFIG);
    let empty_runtime = env.root.path().join("runtime");
    std::fs::create_dir_all(&empty_runtime).expect("mkdir");
    let mut cmd = env.command();
    cmd.env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", &empty_runtime);
    let run = env.run_with(cmd, &["secret", "set", "account:github"], Some(TOKEN));
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("no keychain is reachable") && run.stderr.contains("dbus-run-session"),
        "{}",
        run.stderr
    );
    assert!(env.files_containing(TOKEN).is_empty());

    let minted = "NOBUS-SESSION-VALUE-123";
    let mut cmd = env.command();
    cmd.env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", &empty_runtime);
    let export = cookie_export("mtn", &[("JSESSIONID", minted, "wholesale.example.net")]);
    let run = env.run_with(cmd, &["import", "mtn", "--no-validate"], Some(&export));
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("no keychain is reachable"),
        "{}",
        run.stderr
    );
    assert!(env.files_containing(minted).is_empty());
    assert!(
        !env.data_dir().join("sessionkeeper").exists(),
        "nothing may be written"
    );
}

/// The CLI on a private session bus with `policy`, on which nothing provides a Secret Service.
fn on_private_bus(env: &TestEnv, policy: &str) -> Command {
    let bus_config = env.root.path().join("bus.conf");
    std::fs::write(
        &bus_config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen>
<policy context="default">{policy}</policy></busconfig>"#
        ),
    )
    .expect("bus config");
    let mut cmd = Command::new("dbus-run-session");
    cmd.arg(format!("--config-file={}", bus_config.display()))
        .arg("--")
        .arg(cli_binary());
    for (k, v) in env.command().get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd
}

/// A session bus on which nothing provides org.freedesktop.secrets.
#[test]
fn a_bus_without_a_secret_service_is_a_clear_error() {
    let env = TestEnv::new("k-nosvc");
    env.write_config(CONFIG);
    let cmd = on_private_bus(
        &env,
        r#"<allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/>"#,
    );
    let run = env.run_with(cmd, &["secret", "set", "account:github"], Some(TOKEN));
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("no keychain is reachable"),
        "{}",
        run.stderr
    );
    assert!(env.files_containing(TOKEN).is_empty());
}

/// A session bus that never answers (its policy drops every reply): the CLI gives up within
/// its bound instead of hanging, and says so.
#[test]
fn a_mute_session_bus_fails_within_a_bounded_time() {
    let env = TestEnv::new("k-mute");
    env.write_config(CONFIG);
    let cmd = on_private_bus(&env, r#"<allow send_destination="*"/><allow own="*"/>"#);
    let run = env.run_with(cmd, &["secret", "set", "account:github"], Some(TOKEN));
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("did not answer within"),
        "{}",
        run.stderr
    );
    assert!(
        run.elapsed < std::time::Duration::from_secs(30),
        "took {:?}",
        run.elapsed
    );
    assert!(env.files_containing(TOKEN).is_empty());
}

/// A locked keyring (and no way to prompt): a clear error that says to unlock, nothing written.
#[test]
fn a_locked_keyring_is_a_clear_error_that_writes_nothing() {
    let env = TestEnv::new("k-locked");
    env.write_config(CONFIG);
    let script = r#"
set -e
eval "$(printf %s test-password | gnome-keyring-daemon --unlock --components=secrets --daemonize)"
export GNOME_KEYRING_CONTROL
gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
  --method org.freedesktop.Secret.Service.Lock "['/org/freedesktop/secrets/collection/login']" >/dev/null
unset DISPLAY WAYLAND_DISPLAY
exec "$@"
"#;
    let mut cmd = Command::new("dbus-run-session");
    cmd.args(["--", "sh", "-c", script, "sh"]).arg(cli_binary());
    for (k, v) in env.command().get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    // The bus starts the unlock prompter (gcr-prompter) itself: without a display it cannot
    // ask, as on a headless server. With one, it would wait for a human to type.
    cmd.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    let run = env.run_with(cmd, &["secret", "set", "account:github"], Some(TOKEN));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("locked") && run.stderr.contains("Unlock it"),
        "{}",
        run.stderr
    );
    assert!(env.files_containing(TOKEN).is_empty());
}
