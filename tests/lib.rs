//! Helpers for the workspace integration tests: an isolated environment per test (its own
//! HOME, XDG dirs, config and keychain service name), the CLI binary, and the simulator running
//! on its own runtime.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use sessionkeeper_sim::{
    ApiFault, BuildOutcome, Fault, FaultMode, Lifetime, OnExpired, Service, SessionKind, Sim,
    SimConfig,
};

/// The `sessionkeeper` binary next to this test binary (built by `cargo test --workspace` or
/// `scripts/test.sh`). A missing binary fails the test: it is never skipped.
pub fn cli_binary() -> PathBuf {
    sibling_binary("sessionkeeper")
}

pub mod desktop;
pub mod fixture;
pub mod recording;
pub mod webdriver;

/// A workspace binary next to this test binary. A missing binary fails the test.
pub fn sibling_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile> directory");
    let bin = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build --workspace --bins` (scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// Fails (never skips) when no Secret Service session bus is there.
pub fn require_keychain() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests need a real Secret Service: run them with scripts/test.sh, which starts \
         gnome-keyring under dbus-run-session"
    );
}

/// The result of one CLI run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON object ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// One test's world: directories, config, keychain namespace, environment.
#[derive(Debug)]
pub struct TestEnv {
    pub root: tempfile::TempDir,
    pub service: String,
    extra_env: Vec<(String, String)>,
    desktop: Option<desktop::DesktopAddress>,
}

impl TestEnv {
    pub fn new(name: &str) -> Self {
        let root = tempfile::Builder::new()
            .prefix(&format!("sk-{name}-"))
            .tempdir()
            .expect("tempdir");
        for d in ["home", "config/sessionkeeper", "data", "state"] {
            std::fs::create_dir_all(root.path().join(d)).expect("mkdir");
        }
        let service = format!("sessionkeeper-test-{name}-{}", std::process::id());
        Self {
            root,
            service,
            extra_env: Vec::new(),
            desktop: None,
        }
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.path().join("config/sessionkeeper/config.toml")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// Where the CLI (and the app) of this environment keep the session files.
    pub fn sessions_dir(&self) -> PathBuf {
        self.data_dir().join("sessionkeeper/sessions")
    }

    /// Where the CLI (and the app) of this environment keep the history and target records.
    pub fn state_dir(&self) -> PathBuf {
        self.root.path().join("state/sessionkeeper")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).expect("write config");
    }

    /// A test's world whose programs (the app, the CLI, tauri-driver) run on `desktop`: its
    /// display, and its session bus, so its keyring and notification server.
    pub fn on(desktop: &desktop::Desktop, name: &str) -> Self {
        Self {
            desktop: Some(desktop.address()),
            ..Self::new(name)
        }
    }

    /// A world whose programs run on the desktop this process runs on (its `DISPLAY` and
    /// session bus, which `scripts/bench.sh` provides), with WebKit as packaged: for a
    /// benchmark that also opens the keychain in its own process, which talks to this
    /// process's bus.
    pub fn on_this_desktop(name: &str) -> Self {
        Self {
            desktop: Some(desktop::DesktopAddress::of_this_process()),
            ..Self::new(name)
        }
    }

    /// The desktop of [`Self::on`].
    pub fn desktop(&self) -> Option<desktop::DesktopAddress> {
        self.desktop.clone()
    }

    pub fn set_env(&mut self, key: &str, value: &str) {
        self.extra_env.push((key.to_owned(), value.to_owned()));
    }

    /// The CLI with this test's environment. GH_TOKEN and friends from the outer environment
    /// are removed, so a developer's own tokens never leak into a test.
    pub fn command(&self) -> Command {
        self.command_for(&cli_binary())
    }

    /// `program` (the CLI or the app) with this test's environment.
    pub fn command_for(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        let root = self.root.path();
        cmd.env("HOME", root.join("home"))
            .env("XDG_CONFIG_HOME", root.join("config"))
            .env("XDG_DATA_HOME", root.join("data"))
            .env("XDG_STATE_HOME", root.join("state"))
            .env("SESSIONKEEPER_KEYCHAIN_SERVICE", &self.service)
            .env("NO_COLOR", "1")
            .env_remove("SESSIONKEEPER_CONFIG")
            .env_remove("GH_TOKEN")
            .env_remove("GITHUB_TOKEN")
            .env_remove("VERCEL_TOKEN")
            .env_remove("GITHUB_API_URL")
            .env_remove("RUST_LOG");
        if let Some(desktop) = &self.desktop {
            cmd.env("DISPLAY", &desktop.display)
                .env("DBUS_SESSION_BUS_ADDRESS", &desktop.bus)
                .env_remove("WAYLAND_DISPLAY")
                .env_remove("GNOME_KEYRING_CONTROL");
            match &desktop.xauthority {
                Some(file) => cmd.env("XAUTHORITY", file),
                None => cmd.env_remove("XAUTHORITY"),
            };
            if desktop.webkit_compositing {
                cmd.env_remove("WEBKIT_DISABLE_COMPOSITING_MODE");
            } else {
                cmd.env("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
            }
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(self.command(), args, None)
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.run_with(self.command(), args, Some(stdin))
    }

    pub fn run_with(&self, mut cmd: Command, args: &[&str], stdin: Option<&str>) -> Run {
        let started = Instant::now();
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn sessionkeeper");
        let mut pipe = child.stdin.take().expect("stdin");
        if let Some(input) = stdin {
            // A command that fails before reading its input closes the pipe: that is its answer.
            match pipe.write_all(input.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
                _ => {}
            }
        }
        drop(pipe);
        let out = child.wait_with_output().expect("wait for sessionkeeper");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: started.elapsed(),
        }
    }

    /// Every file under this test's root whose bytes contain `needle`.
    pub fn files_containing(&self, needle: &str) -> Vec<PathBuf> {
        files_containing(self.root.path(), needle)
    }
}

/// Every file under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                found.push(path);
            }
        }
    }
    found
}

/// The simulator on a runtime of its own, so the test thread can run the CLI synchronously.
#[derive(Debug)]
pub struct SimHandle {
    pub sim: Sim,
    runtime: Option<tokio::runtime::Runtime>,
}

impl SimHandle {
    pub fn start(config: SimConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = runtime
            .block_on(Sim::start(config))
            .expect("sim binds 127.0.0.1:0");
        Self {
            sim,
            runtime: Some(runtime),
        }
    }
}

impl std::ops::Deref for SimHandle {
    type Target = Sim;
    fn deref(&self) -> &Sim {
        &self.sim
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A config with one cookie profile `mtn` and one token profile `breeze` against `sim`, with
/// short timeouts so that error paths finish quickly.
pub fn sim_config(sim: &Sim) -> String {
    let u = sim.urls();
    format!(
        r#"
[profiles.mtn]
name = "MTN Wholesale"
login_url = "{sso_login}"
capture = "cookies"
cookie_urls = ["{api}/", "{sso}/"]
session_id_cookie = "JSESSIONID"
tracked_ttl = "60m"
warn_before = "15m"

[profiles.mtn.validate]
url = "{products}"
invalid_redirect_prefix = "{sso}/sso/"
timeout = "1s"
attempts = 2
backoff = "100ms"

[profiles.breeze]
name = "ICICI Breeze"
login_url = "{token_login}demo-key"
capture = "redirect-param"
redirect_param = "apisession"
tracked_ttl = "24h"

[profiles.breeze.validate]
url = "{products}"
token_header = "X-SessionToken"
timeout = "1s"
attempts = 2
backoff = "100ms"
"#,
        sso_login = u.sso_login,
        api = u.api_origin,
        sso = u.sso_origin,
        products = u.products,
        token_login = u.token_login,
    )
}

/// The benchmarks' config: `sim_config` plus sim's GitHub and Vercel accounts, with `mtn`
/// pushed to a repository secret, an environment secret and a Vercel env var with redeploy.
pub fn three_target_config(sim: &Sim) -> sessionkeeper_core::Config {
    let u = sim.urls();
    let text = format!(
        "{}\n[accounts.github]\nkind = \"github\"\napi_url = \"{}\"\n[accounts.vercel]\nkind = \"vercel\"\napi_url = \"{}\"\n\
         [[profiles.mtn.push]]\nto = \"github\"\nrepo = \"acme/circletel\"\nsecret = \"MTN_SESSION\"\n\
         [[profiles.mtn.push]]\nto = \"github\"\nrepo = \"acme/circletel\"\nenvironment = \"production\"\nsecret = \"MTN_SESSION\"\n\
         [[profiles.mtn.push]]\nto = \"vercel\"\nproject = \"circletel\"\nenv = \"MTN_SESSION\"\nredeploy = true\n",
        sim_config(sim),
        u.github_api,
        u.vercel_api
    );
    sessionkeeper_core::Config::parse(&text, Path::new("bench.toml")).expect("config")
}

/// The tokens sim's GitHub and Vercel fakes accept, as the push takes them.
pub fn sim_credentials() -> sessionkeeper_core::push::Credentials {
    let sim = SimConfig::default();
    sessionkeeper_core::push::Credentials {
        tokens: std::collections::HashMap::from([
            (
                "github".to_owned(),
                sessionkeeper_core::Secret::new(sim.github_token),
            ),
            (
                "vercel".to_owned(),
                sessionkeeper_core::Secret::new(sim.vercel_token),
            ),
        ]),
        deploy_hooks: std::collections::HashMap::new(),
    }
}

/// The idle benchmarks' config: one cookie profile `mtn` on sim, tracked for an hour and
/// polled every `poll_every`, with nothing else to do between its checks.
pub fn idle_profile_config(sim: &Sim, poll_every: &str) -> String {
    let u = sim.urls();
    format!(
        r#"
[profiles.mtn]
name = "MTN Wholesale"
login_url = "{login}"
capture = "cookies"
cookie_urls = ["{api}/"]
tracked_ttl = "60m"
warn_before = "15m"
poll_every = "{poll_every}"

[profiles.mtn.validate]
url = "{products}"
"#,
        login = u.sso_login,
        api = u.api_origin,
        products = u.products
    )
}

/// Mints a live cookie session on `sim` and imports it as profile `mtn`; returns its value.
pub fn import_live_session(env: &TestEnv, sim: &Sim) -> String {
    let minted = sim.mint_session(SessionKind::Cookie, None);
    let export = cookie_export("mtn", &[("JSESSIONID", &minted.value, "127.0.0.1")]);
    env.run_stdin(&["import", "mtn"], &export).assert_code(0);
    minted.value
}

/// The base64 export of a cookie session holding `cookies` as (name, value, domain).
pub fn cookie_export(profile: &str, cookies: &[(&str, &str, &str)]) -> String {
    cookie_export_expiring(profile, cookies, chrono::Duration::hours(1))
}

/// [`cookie_export`] with a tracked expiry `expires_in` from now.
pub fn cookie_export_expiring(
    profile: &str,
    cookies: &[(&str, &str, &str)],
    expires_in: chrono::Duration,
) -> String {
    use base64::Engine as _;
    let now = chrono::Utc::now();
    let cookies: Vec<serde_json::Value> = cookies
        .iter()
        .map(|(name, value, domain)| {
            serde_json::json!({"name": name, "value": value, "domain": domain, "path": "/",
                "expires": -1, "httpOnly": true, "secure": false, "sameSite": "Lax"})
        })
        .collect();
    let doc = serde_json::json!({
        "version": 1, "profile": profile, "sessionId": null,
        "capturedAt": now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "expiresAt": (now + expires_in).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "cookies": cookies, "token": null,
    });
    base64::engine::general_purpose::STANDARD.encode(doc.to_string())
}
