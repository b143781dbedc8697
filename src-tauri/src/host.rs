//! The controller's way out to the desktop: [`TauriHost`] implements the controller's `Host`
//! over Tauri's `AppHandle` by handing each call to the module that draws it (tray,
//! notifications, login and dashboard windows) or doing it here (clipboard, browser,
//! autostart, quit).

use std::sync::Mutex;

use sessionkeeper_controller::{DashboardState, Host, LoginWindow, NoticeKey, TrayModel};
use sessionkeeper_core::overview::NoticeText;
use sessionkeeper_core::secret::Secret;
use tauri::AppHandle;
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_opener::OpenerExt as _;

use crate::notifier::Notifications;

/// The desktop, as the controller sees it.
pub(crate) struct TauriHost {
    app: AppHandle,
    notifications: Notifications,
    /// What Copy export put on the clipboard (kept: on Linux the clipboard's owner must live
    /// for its content to stay), to clear it only if it is still there.
    clipboard: Mutex<Option<(arboard::Clipboard, Secret)>>,
}

impl TauriHost {
    pub(crate) fn new(app: AppHandle) -> Self {
        Self {
            app,
            notifications: Notifications::default(),
            clipboard: Mutex::new(None),
        }
    }
}

impl Host for TauriHost {
    fn notify(&self, key: &NoticeKey, text: &NoticeText) {
        self.notifications.show(&self.app, key, text);
    }

    fn withdraw(&self, key: &NoticeKey) {
        self.notifications.withdraw(key);
    }

    fn open_login(&self, window: LoginWindow) {
        crate::login::open(&self.app, window);
    }

    fn focus_login(&self, profile: &str) {
        crate::login::focus(&self.app, profile);
    }

    fn login_banner(&self, profile: &str, title: &str) {
        crate::login::banner(&self.app, profile, title);
    }

    fn close_login(&self, profile: &str) {
        crate::login::close(&self.app, profile);
    }

    fn open_dashboard(&self, profile: Option<&str>) {
        crate::dashboard::open(&self.app, profile);
    }

    fn publish(&self, state: &DashboardState) {
        crate::dashboard::publish(&self.app, state);
    }

    fn draw_tray(&self, tray: &TrayModel) {
        crate::tray::draw(&self.app, tray);
    }

    fn copy(&self, text: &Secret) -> Result<(), String> {
        let mut clipboard = arboard::Clipboard::new().map_err(|e| format!("no clipboard: {e}"))?;
        copy_excluded_from_history(&mut clipboard, text)?;
        *self.lock_clipboard() = Some((clipboard, text.clone()));
        Ok(())
    }

    fn clear_clipboard(&self) {
        if let Some((mut clipboard, copied)) = self.lock_clipboard().take()
            && clipboard.get_text().is_ok_and(|t| t == copied.expose())
        {
            let _ = clipboard.clear();
            tracing::info!("the copied export was cleared from the clipboard");
        }
    }

    fn open_url(&self, url: &url::Url) -> Result<(), String> {
        self.app
            .opener()
            .open_url(url.as_str(), None::<&str>)
            .map_err(|e| e.to_string())
    }

    fn set_autostart(&self, on: bool) -> bool {
        let launcher = self.app.autolaunch();
        let done = if on {
            launcher.enable()
        } else {
            launcher.disable()
        };
        match done {
            Ok(()) => tracing::info!("start at login: {}", if on { "on" } else { "off" }),
            Err(e) => tracing::warn!("cannot change start at login: {e}"),
        }
        launcher.is_enabled().unwrap_or(false)
    }

    fn quit(&self) {
        self.app.exit(0);
    }

    fn at_rest(&self) {
        crate::memory::at_rest();
    }
}

impl TauriHost {
    fn lock_clipboard(&self) -> std::sync::MutexGuard<'_, Option<(arboard::Clipboard, Secret)>> {
        self.clipboard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Puts `text` on the clipboard with the hint clipboard managers honour to keep it out of
/// their history (on Linux the `x-kde-passwordManagerHint` target; elsewhere the platform's).
#[cfg(target_os = "linux")]
fn copy_excluded_from_history(
    clipboard: &mut arboard::Clipboard,
    text: &Secret,
) -> Result<(), String> {
    use arboard::SetExtLinux as _;
    clipboard
        .set()
        .exclude_from_history()
        .text(text.expose().to_owned())
        .map_err(|e| format!("cannot write the clipboard: {e}"))
}

#[cfg(target_os = "windows")]
fn copy_excluded_from_history(
    clipboard: &mut arboard::Clipboard,
    text: &Secret,
) -> Result<(), String> {
    use arboard::SetExtWindows as _;
    clipboard
        .set()
        .exclude_from_history()
        .exclude_from_cloud()
        .text(text.expose().to_owned())
        .map_err(|e| format!("cannot write the clipboard: {e}"))
}

#[cfg(not(any(target_os = "linux", target_os = "windows")))]
fn copy_excluded_from_history(
    clipboard: &mut arboard::Clipboard,
    text: &Secret,
) -> Result<(), String> {
    clipboard
        .set_text(text.expose().to_owned())
        .map_err(|e| format!("cannot write the clipboard: {e}"))
}
