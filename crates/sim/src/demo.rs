//! `sessionkeeper-demo`: the whole loop in a terminal, against the simulator, with no account
//! anywhere. Run it with `scripts/demo.sh`, which gives it a private keyring.
//!
//! It starts the simulator in-process, writes a throw-away config, and drives the real
//! `sessionkeeper` binary: no session → a login (here the simulator mints what the login window
//! would capture) → valid → expiring → past the tracked expiry but still accepted → `extend` →
//! killed on the server → invalid (exit 1, where the app notifies and opens the login) → a new
//! login → valid again. About a minute.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use sessionkeeper_sim::{Lifetime, SessionKind, Sim, SimConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli_binary()?;
    let sim = Sim::start(SimConfig {
        lifetime: Lifetime::Fixed(Duration::from_secs(40)),
        ..SimConfig::default()
    })
    .await
    .context("cannot start the simulator on 127.0.0.1")?;
    let dir = tempdir()?;
    let urls = sim.urls();
    let config = format!(
        r#"# A demo profile whose session is tracked for 20 s and lives 40 s on the server.
[profiles.mtn]
name = "MTN Wholesale (simulated)"
login_url = "{login}"
capture = "cookies"
cookie_urls = ["{api}/"]
session_id_cookie = "JSESSIONID"
tracked_ttl = "20s"
warn_before = "10s"

[profiles.mtn.validate]
url = "{products}"
timeout = "2s"
"#,
        login = urls.sso_login,
        api = urls.api_origin,
        products = urls.products,
    );
    std::fs::create_dir_all(dir.join("config/sessionkeeper"))?;
    std::fs::write(dir.join("config/sessionkeeper/config.toml"), &config)?;
    let run = |args: &[&str], stdin: Option<&str>| run_cli(&cli, &dir, args, stdin);

    println!(
        "Session Keeper demo: a simulated SSO and API on {}",
        urls.api_origin
    );
    println!(
        "Config ({}):\n{config}",
        dir.join("config/sessionkeeper/config.toml").display()
    );

    step("No session yet: validate says invalid (exit 1): someone has to log in.");
    run(&["validate", "mtn"], None)?;

    step("A person logs in (in the app: the login window; the human ticks the captcha).");
    let export = login(&sim);
    run(&["import", "mtn"], Some(&export))?;
    run(&["validate", "mtn", "--json"], None)?;
    run(&["status"], None)?;

    step("12 s later the tracked expiry (20 s) is within warn_before (10 s): expiring.");
    tokio::time::sleep(Duration::from_secs(12)).await;
    run(&["validate", "mtn"], None)?;

    step("10 s later the tracked clock has run out, but the server still accepts the session.");
    tokio::time::sleep(Duration::from_secs(10)).await;
    run(&["validate", "mtn"], None)?;
    step("So the tracked expiry is moved instead of logging in again (the seeds' method 3).");
    run(&["extend", "mtn", "--by", "1m"], None)?;

    step("The server ends the session (its real lifetime here: 40 s).");
    tokio::time::sleep(Duration::from_secs(20)).await;
    run(&["validate", "mtn", "--json"], None)?;
    println!("Exit 1: the app raises a notification with Re-authenticate; CI opens an issue.");

    step(
        "A network fault is never an expiry: with the API failing (503), validate says error (exit 2).",
    );
    sim.set_fault(sessionkeeper_sim::Fault::status(503));
    run(&["validate", "mtn"], None)?;
    sim.clear_fault();

    step("A new login, and the session is valid again; the previous one is kept for rollback.");
    let export = login(&sim);
    run(&["import", "mtn"], Some(&export))?;
    run(&["validate", "mtn"], None)?;
    run(&["export", "mtn"], None)?;
    run(&["secret", "status"], None)?;

    println!("\nDone. The sessions lived only in a private keyring and in encrypted files under");
    println!("{} (now removed).", dir.display());
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

/// What the login window would capture: the simulator's HttpOnly session cookie.
fn login(sim: &Sim) -> String {
    use base64::Engine as _;
    let minted = sim.mint_session(SessionKind::Cookie, None);
    let now = chrono::Utc::now();
    let doc = serde_json::json!({
        "version": 1,
        "profile": "mtn",
        "sessionId": minted.value,
        "capturedAt": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "expiresAt": (now + chrono::Duration::seconds(20)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "cookies": [{"name": "JSESSIONID", "value": minted.value, "domain": minted.domain, "path": "/",
                     "expires": -1, "httpOnly": true, "secure": false, "sameSite": "Lax"}],
        "token": null,
    });
    base64::engine::general_purpose::STANDARD.encode(doc.to_string())
}

fn run_cli(cli: &Path, dir: &Path, args: &[&str], stdin: Option<&str>) -> anyhow::Result<()> {
    println!("\n$ sessionkeeper {}", args.join(" "));
    let mut child = Command::new(cli)
        .args(args)
        .env("HOME", dir.join("home"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("SESSIONKEEPER_KEYCHAIN_SERVICE", "sessionkeeper-demo")
        .stdin(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", cli.display()))?;
    let mut pipe = child.stdin.take().context("stdin")?;
    if let Some(input) = stdin {
        // A command that fails before reading its input closes the pipe: that is its answer.
        if let Err(e) = pipe.write_all(input.as_bytes())
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            return Err(e.into());
        }
    }
    drop(pipe);
    let status = child.wait()?;
    println!("(exit {})", status.code().unwrap_or(-1));
    Ok(())
}

fn cli_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let bin = exe.with_file_name(format!("sessionkeeper{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        bail!(
            "{} is missing: build it with `cargo build --workspace --bins`",
            bin.display()
        );
    }
    Ok(bin)
}

fn tempdir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("sessionkeeper-demo-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("home"))?;
    Ok(dir)
}

fn step(text: &str) {
    println!("\n== {text}");
}
