//! The files other programs change under the app, watched (inotify on Linux: no wake-ups
//! while nothing happens): a session stored by `sessionkeeper import` or `restore`, and the
//! stamp the vault touches when a secret is set. Each change becomes the controller's intent,
//! once per burst of events.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use sessionkeeper_controller::Intent;
use tauri::AppHandle;

/// How long a burst of file events is gathered before it becomes one intent.
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

/// One intent per burst of events.
struct Burst {
    app: AppHandle,
    pending: Arc<AtomicBool>,
    intent: fn() -> Intent,
}

impl Burst {
    fn new(app: &AppHandle, intent: fn() -> Intent) -> Self {
        Self {
            app: app.clone(),
            pending: Arc::default(),
            intent,
        }
    }

    fn fire(&self) {
        if self.pending.swap(true, Ordering::SeqCst) {
            return;
        }
        let (app, pending, intent) = (self.app.clone(), Arc::clone(&self.pending), self.intent);
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(SETTLE).await;
            pending.store(false, Ordering::SeqCst);
            crate::state::send(&app, intent());
        });
    }
}
