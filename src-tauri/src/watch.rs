//! The watch loop: runs core's [`Monitor`] on Tauri's async runtime, shows its notices, redraws
//! the tray, and sleeps until the next check is due (at most a minute, so that the tray's
//! "time left" stays right and a wall-clock jump after sleep is noticed).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use sessionkeeper_core::history::History;
use sessionkeeper_core::monitor::{Monitor, SessionStore};
use sessionkeeper_core::session::Session;
use sessionkeeper_core::vault::Vault;
use sessionkeeper_core::{Config, Profile, VaultError};
use tauri::AppHandle;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::{Args, notifier, tray};

/// The longest the loop sleeps: the tray's labels are redrawn, and a machine that slept is
/// noticed, within this.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// How long opening the keychain may take before the loop goes on without it.
const KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What the loop is asked to do by the menu, notifications, the dashboard and the login window.
#[derive(Debug)]
pub(crate) enum Command {
    /// "Validate now".
    CheckNow(String),
    /// Hold back this profile's notices for a while.
    Snooze(String, chrono::Duration),
    /// A refresh without a human ended (true: a new session is stored).
    RefreshFinished(String, bool),
    /// The login window captured a session, and it is stored.
    Captured(String),
}

/// Where the keychain is, and the vault once it could be opened. The app may start before the
/// keyring daemon (autostart at login): opening is retried at every tick until it works.
#[derive(Debug, Clone)]
pub(crate) struct Keychain {
    /// `None`: the platform keychain as the CLI sees it; `Some`: the demo's own service name
    /// and session dir.
    isolated: Option<(String, PathBuf)>,
    vault: Arc<Mutex<Option<Arc<Vault>>>>,
}

impl Keychain {
    pub(crate) fn platform() -> Self {
        Self {
            isolated: None,
            vault: Arc::default(),
        }
    }

    pub(crate) fn isolated(service: &str, sessions_dir: PathBuf) -> Self {
        Self {
            isolated: Some((service.to_owned(), sessions_dir)),
            vault: Arc::default(),
        }
    }

    /// The vault, opening it if it is not open yet. Blocks (D-Bus): call from a blocking
    /// context or accept a short wait.
    pub(crate) fn vault(&self) -> Result<Arc<Vault>, VaultError> {
        let mut slot = self
            .vault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(v) = slot.as_ref() {
            return Ok(Arc::clone(v));
        }
        let vault = match &self.isolated {
            None => Vault::open_within(KEYCHAIN_TIMEOUT)?,
            Some((service, dir)) => Vault::open_isolated(KEYCHAIN_TIMEOUT, service, dir.clone())?,
        };
        let vault = Arc::new(vault);
        *slot = Some(Arc::clone(&vault));
        tracing::info!("keychain open (service {})", vault.service());
        Ok(vault)
    }

    /// [`Keychain::vault`] on a blocking thread, for async code.
    pub(crate) async fn open(&self) -> Result<Arc<Vault>, VaultError> {
        let keychain = self.clone();
        tokio::task::spawn_blocking(move || keychain.vault())
            .await
            .unwrap_or_else(|e| {
                Err(VaultError::Unavailable {
                    detail: format!("the keychain task failed: {e}"),
                })
            })
    }
}

/// Everything the loop needs to start.
#[derive(Debug)]
pub(crate) struct Setup {
    pub config: Arc<Config>,
    pub keychain: Keychain,
    pub history: Option<History>,
}

impl Setup {
    /// The user's config, keychain and history, as the CLI sees them.
    pub(crate) fn from_args(args: &Args) -> anyhow::Result<Self> {
        let path = match &args.config {
            Some(p) => p.clone(),
            None => sessionkeeper_core::config::default_path()
                .context("no config directory: is HOME set?")?,
        };
        // A broken config is said plainly (file, line, key) and the app does not start.
        let config = Config::load(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Self {
            config: Arc::new(config),
            keychain: Keychain::platform(),
            history: History::open_default(),
        })
    }
}

/// The session store the monitor reads: the vault, or an error for every profile while the
/// keychain cannot be opened (an `error` status, never an expiry).
struct Store<'a>(&'a Result<Arc<Vault>, String>);

impl SessionStore for Store<'_> {
    fn current(&self, profile: &Profile) -> Result<Option<Session>, VaultError> {
        match self.0 {
            Ok(v) => v.as_ref().current(profile),
            Err(detail) => Err(VaultError::Unavailable {
                detail: detail.clone(),
            }),
        }
    }

    fn extend(&self, profile: &Profile, to: chrono::DateTime<Utc>) -> Result<(), VaultError> {
        match self.0 {
            Ok(v) => v.as_ref().extend(profile, to),
            Err(detail) => Err(VaultError::Unavailable {
                detail: detail.clone(),
            }),
        }
    }
}

/// Starts the loop on Tauri's async runtime.
pub(crate) fn spawn(app: AppHandle, setup: Setup, commands: UnboundedReceiver<Command>) {
    tauri::async_runtime::spawn(run(app, setup, commands));
}

async fn run(app: AppHandle, setup: Setup, mut commands: UnboundedReceiver<Command>) {
    let mut monitor = Monitor::new(&setup.config, setup.history.clone(), Utc::now());
    let mut drawn = None;
    loop {
        let vault = setup.keychain.open().await.map_err(|e| e.to_string());
        if let Err(e) = &vault {
            tracing::warn!("keychain not available, will retry: {e}");
        }
        let notices = monitor.tick(Utc::now(), &Store(&vault)).await;
        for notice in notices {
            notifier::notice(&app, &monitor, &notice);
        }
        for profile in monitor.refresh_due(Utc::now()) {
            crate::actions::refresh(&app, profile);
        }
        drawn = tray::redraw(&app, &monitor, drawn);
        publish(&app, &monitor);

        let now = Utc::now();
        let until_due = (monitor.next_wake(now) - now)
            .to_std()
            .unwrap_or(Duration::ZERO);
        tokio::select! {
            () = tokio::time::sleep(until_due.min(MAX_SLEEP)) => {}
            command = commands.recv() => {
                let Some(command) = command else { return };
                let now = Utc::now();
                match command {
                    Command::CheckNow(p) => monitor.check_now(&p, now),
                    Command::Snooze(p, d) => monitor.snooze(&p, now + d),
                    Command::RefreshFinished(p, ok) => monitor.refresh_finished(&p, ok, now),
                    Command::Captured(p) => monitor.refresh_finished(&p, true, now),
                }
            }
        }
    }
}

/// Hands the monitor's views to the dashboard (it reads them when it refreshes).
fn publish(app: &AppHandle, monitor: &Monitor) {
    let views = monitor.views().cloned().collect();
    *crate::shared(app)
        .views
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = views;
}
