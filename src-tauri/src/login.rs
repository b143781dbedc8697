//! The login window of a profile (`login-<profile>`): a webview on the profile's `login_url`,
//! incognito, with no IPC (it is in no capability). A second request focuses the open window.
//! Capture, pre-fill and completion detection come with the embedded-login work.

use tauri::{AppHandle, Manager as _, WebviewUrl, WebviewWindowBuilder};

/// Opens (or focuses) the login window of `profile`.
pub(crate) fn open(app: &AppHandle, profile: &str) {
    let shared = crate::shared(app);
    let Some(p) = shared.config.profiles.get(profile) else {
        tracing::warn!("no profile {profile:?} to log in to");
        return;
    };
    let label = format!("login-{profile}");
    if let Some(window) = app.get_webview_window(&label) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        tracing::info!(%profile, "login window focused");
        return;
    }
    let Some(url) = p.login_url.clone() else {
        crate::notifier::inform(
            app,
            profile,
            format!("{}: no login page", p.name),
            format!("Set login_url in [profiles.{profile}] to log in from Session Keeper."),
        );
        return;
    };
    let title = format!("Log in — {}", p.name);
    let built = WebviewWindowBuilder::new(app, &label, WebviewUrl::External(url))
        .title(&title)
        .inner_size(960.0, 760.0)
        .incognito(true)
        .focused(true)
        .build();
    match built {
        Ok(_) => tracing::info!(%profile, "login window opened: {title}"),
        Err(e) => tracing::warn!(%profile, "cannot open the login window: {e}"),
    }
}
