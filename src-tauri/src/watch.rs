//! The files other programs change under the app, watched (inotify on Linux: no wake-ups
//! while nothing happens): a session stored by `sessionkeeper import` or `restore`, the
//! stamp the vault touches when a secret is set, and the config file (live reload). Each
//! change becomes the controller's intent, once per burst of events.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use sessionkeeper_controller::Intent;
use tauri::AppHandle;

/// How long the files must stay quiet before a burst of events becomes one intent.
const SETTLE: Duration = Duration::from_millis(200);

/// A running watch; dropping it stops it.
pub(crate) struct Watching {
    _watcher: notify::RecommendedWatcher,
}

/// Watches `sessions_dir` and the secrets stamp beside it.
pub(crate) fn start(app: &AppHandle, sessions_dir: &Path) -> Option<Watching> {
    let stamp = sessionkeeper_core::vault::secrets_stamp(sessions_dir);
    let parent = stamp.parent()?.to_owned();
    if let Err(e) = sessionkeeper_core::paths::create_private_dir(sessions_dir) {
        tracing::warn!("cannot watch {}: {e}", sessions_dir.display());
        return None;
    }
    let sessions = Burst::new(app, || Intent::SessionsChanged);
    let secrets = Burst::new(app, || Intent::SecretsChanged);
    let watched: PathBuf = sessions_dir.to_owned();
    let handler = move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if !(event.kind.is_create() || event.kind.is_modify() || event.kind.is_remove()) {
            return;
        }
        for path in &event.paths {
            if path == &stamp {
                secrets.fire();
            } else if path.parent() == Some(watched.as_path())
                && path
                    .extension()
                    .is_some_and(|x| x == "current" || x == "previous")
            {
                sessions.fire();
            }
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("cannot watch the session files: {e}");
            return None;
        }
    };
    for (dir, what) in [(sessions_dir, "sessions"), (parent.as_path(), "secrets")] {
        if let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive) {
            tracing::warn!("cannot watch the {what} ({}): {e}", dir.display());
        }
    }
    Some(Watching { _watcher: watcher })
}

/// A running watch of the config file; dropping it stops it.
pub(crate) struct WatchingConfig {
    _watcher: notify::RecommendedWatcher,
}

/// Watches the config file `path` (its directory, so that an editor's save by rename, a
/// removal and a file that does not exist yet are all seen). Each burst of changes reads the
/// file again: a config that loads is sent to the controller, and so is the error of one that
/// does not (file, line, key); a removed file is a config with no profile.
pub(crate) fn config(app: &AppHandle, path: &Path) -> Option<WatchingConfig> {
    let dir = path.parent()?.to_owned();
    // The directory must exist to be watched: an empty one writes nothing the user sees.
    if let Err(e) = std::fs::create_dir_all(&dir) {
        tracing::warn!("cannot watch the config ({}): {e}", dir.display());
        return None;
    }
    let file = path.to_owned();
    let reload = Arc::new(Burst::with(app, move || {
        use sessionkeeper_core::config::Config;
        let config = match Config::load(&file) {
            Ok(config) => Ok(Arc::new(config)),
            // Gone (removed, or renamed away by an editor that writes it anew): no profile.
            Err(_) if !file.exists() => Ok(Arc::new(Config::empty(&file))),
            Err(e) => Err(e.to_string()),
        };
        Intent::ConfigChanged { config }
    }));
    let watched = path.to_owned();
    let fire = Arc::clone(&reload);
    let handler = move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if (event.kind.is_create() || event.kind.is_modify() || event.kind.is_remove())
            && event.paths.iter().any(|p| p == &watched)
        {
            fire.fire();
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("cannot watch the config: {e}");
            return None;
        }
    };
    if let Err(e) = watcher.watch(&dir, RecursiveMode::NonRecursive) {
        tracing::warn!("cannot watch the config ({}): {e}", dir.display());
        return None;
    }
    // The file may have changed between the start's read and this watch: read it once more.
    reload.fire();
    Some(WatchingConfig { _watcher: watcher })
}

/// One intent per burst of events, made once the files have been quiet for [`SETTLE`] (each
/// event starts the wait again), off the async workers; a result overtaken by a newer event
/// is dropped (that event's own intent follows).
struct Burst {
    app: AppHandle,
    /// The number of the latest event.
    latest: Arc<AtomicU64>,
    intent: Arc<dyn Fn() -> Intent + Send + Sync>,
}

impl Burst {
    fn new(app: &AppHandle, intent: fn() -> Intent) -> Self {
        Self::with(app, intent)
    }

    fn with(app: &AppHandle, intent: impl Fn() -> Intent + Send + Sync + 'static) -> Self {
        Self {
            app: app.clone(),
            latest: Arc::default(),
            intent: Arc::new(intent),
        }
    }

    fn fire(&self) {
        let mine = self.latest.fetch_add(1, Ordering::SeqCst) + 1;
        let (app, latest, intent) = (
            self.app.clone(),
            Arc::clone(&self.latest),
            Arc::clone(&self.intent),
        );
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(SETTLE).await;
            if latest.load(Ordering::SeqCst) != mine {
                return;
            }
            // Reading the file is blocking work: off the async workers.
            let intent = tauri::async_runtime::spawn_blocking(move || intent())
                .await
                .ok();
            if latest.load(Ordering::SeqCst) != mine {
                return;
            }
            if let Some(intent) = intent {
                crate::state::send(&app, intent);
            }
        });
    }
}
