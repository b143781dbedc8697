//! `--demo`: the whole loop with no account anywhere. Starts `sim` in-process, writes a demo
//! config (a cookie profile pushed to sim's GitHub and Vercel fakes and to a file), stores a
//! live session whose tracked expiry is a minute away (the server keeps it 75 s), and uses a
//! keychain service of its own (`sessionkeeper-demo`) and a temporary data dir, so the
//! user's real items are never read or written.
//!
//! What happens: green at once; amber after 30 s (expiring notification); at 60 s the server
//! still accepts the session, so the tracked expiry moves (the seeds' method 3); after 75 s
//! the server ends it, the next check turns the tray red and raises the expiry notification,
//! whose Re-authenticate action opens the login window on sim's SSO page.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use sessionkeeper_controller::{Keychain, Setup};
use sessionkeeper_core::config::Config;
use sessionkeeper_core::history::History;
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::session::Session;
use sessionkeeper_core::targets::TargetBook;
use sessionkeeper_core::vault::SecretName;
use sessionkeeper_sim::{Lifetime, SessionKind, Sim, SimConfig};

/// The demo's keychain service name: never the real one.
const SERVICE: &str = "sessionkeeper-demo";
/// How long the simulated server keeps the demo session.
const SERVER_LIFETIME: Duration = Duration::from_secs(75);

/// A running demo world; dropping it stops `sim` and removes the data dir.
#[derive(Debug)]
pub(crate) struct Demo {
    _sim: Sim,
    dir: tempfile::TempDir,
    config: Arc<Config>,
    keychain: Keychain,
}

impl Demo {
    pub(crate) fn start() -> anyhow::Result<Self> {
        let sim = tauri::async_runtime::block_on(Sim::start(SimConfig {
            lifetime: Lifetime::Fixed(SERVER_LIFETIME),
            ..SimConfig::default()
        }))
        .context("cannot start the simulator on 127.0.0.1")?;
        let dir = tempfile::Builder::new()
            .prefix("sessionkeeper-demo-")
            .tempdir()
            .context("cannot create the demo's data dir")?;
        let u = sim.urls();
        let text = format!(
            r##"# The demo profile: tracked for 60 s, warned 30 s before; the server keeps it 75 s.
[accounts.github]
kind = "github"
api_url = "{github}"

[accounts.vercel]
kind = "vercel"
api_url = "{vercel}"

[profiles.demo]
name = "Demo portal"
login_url = "{login}"
capture = "cookies"
cookie_urls = ["{api}/"]
done_when = {{ url_prefix = "{portal}", cookies = ["JSESSIONID"] }}
session_id_cookie = "JSESSIONID"
prefill = {{ username = "#username", password = "#password" }}
tracked_ttl = "60s"
warn_before = "30s"
poll_every = "5m"

[profiles.demo.validate]
url = "{products}"
invalid_redirect_prefix = "{sso}/sso/"
timeout = "3s"

[[profiles.demo.push]]
to = "github"
repo = "acme/circletel"
secret = "MTN_SESSION"

[[profiles.demo.push]]
to = "vercel"
project = "circletel"
env = "MTN_SESSION"
redeploy = true
smoke_url = "{app}/circletel"

[[profiles.demo.push]]
to = "file"
path = "{file}"
format = "json"
"##,
            github = u.github_api,
            vercel = u.vercel_api,
            login = u.sso_login,
            portal = u.portal,
            api = u.api_origin,
            sso = u.sso_origin,
            products = u.products,
            app = u.app,
            file = dir.path().join("demo-session.json").display(),
        );
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, &text)?;
        let config = Config::parse(&text, &config_path).map_err(|e| anyhow::anyhow!("{e}"))?;
        let keychain = Keychain::isolated(SERVICE, dir.path().join("sessions"));
        let vault = keychain.open().context(
            "the demo keeps its session in the keychain like the real app: start a Secret \
             Service (scripts/demo.sh runs a throw-away gnome-keyring)",
        )?;
        vault.set_secret(
            &SecretName::Account("github".to_owned()),
            &Secret::new(SimConfig::default().github_token),
        )?;
        vault.set_secret(
            &SecretName::Account("vercel".to_owned()),
            &Secret::new(SimConfig::default().vercel_token),
        )?;
        // The simulated SSO's login, for the pre-fill: the human only ticks the captcha.
        let sim_defaults = SimConfig::default();
        vault.set_secret(
            &SecretName::Username("demo".to_owned()),
            &Secret::new(sim_defaults.username),
        )?;
        vault.set_secret(
            &SecretName::Password("demo".to_owned()),
            &Secret::new(sim_defaults.password),
        )?;
        let profile = config.profile("demo").map_err(|e| anyhow::anyhow!("{e}"))?;
        let session = Session::import(&login(&sim), profile)
            .map_err(|e| anyhow::anyhow!("the demo session does not import: {e}"))?;
        vault.store_session(&session)?;

        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "Session Keeper demo: simulated SSO, API, GitHub and Vercel on {}\n\
             config: {}\n\
             The demo session is tracked for 60 s and lives 75 s on the server: watch the tray \
             turn amber, then red, and click Re-authenticate on the notification. The login window \
             is pre-filled: tick \"I am not a robot\" and sign in; the app captures, validates, \
             stores and pushes the new session (to the simulated GitHub, Vercel and a file) and \
             turns green. Open dashboard… in the tray menu shows it all.",
            u.api_origin,
            config_path.display()
        );
        Ok(Self {
            _sim: sim,
            dir,
            config: Arc::new(config),
            keychain,
        })
    }

    pub(crate) fn setup(&self, autostart: bool) -> Setup {
        let state = self.dir.path().join("state");
        Setup {
            config: Arc::clone(&self.config),
            config_error: None,
            keychain: self.keychain.clone(),
            history: Some(History::at(&state)),
            book: Some(TargetBook::at(&state)),
            demo: true,
            autostart,
            retry: None,
        }
    }
}

/// What a login on sim yields: its HttpOnly session cookie, as a session JSON.
fn login(sim: &Sim) -> String {
    let minted = sim.mint_session(SessionKind::Cookie, None);
    let now = chrono::Utc::now();
    let time =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let doc = serde_json::json!({
        "version": 1,
        "profile": "demo",
        "sessionId": minted.value,
        "capturedAt": time(now),
        "expiresAt": time(now + chrono::Duration::seconds(60)),
        "cookies": [{"name": "JSESSIONID", "value": minted.value, "domain": minted.domain,
                     "path": "/", "expires": -1, "httpOnly": true, "secure": false,
                     "sameSite": "Lax"}],
        "token": null,
    });
    base64::engine::general_purpose::STANDARD.encode(doc.to_string())
}
