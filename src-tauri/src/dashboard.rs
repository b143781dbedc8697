//! The dashboard window (`dashboard`, the app's own `ui/`): it is the only window with IPC,
//! and only to the commands below, each granted by name in `capabilities/dashboard.json`.
//! Every command turns its call into the controller's intent (and awaits its answer where the
//! page shows one); the controller sends the page its state (event `state`) when it changes.

// Tauri commands receive their arguments by value (they are deserialised from the IPC call).
#![allow(clippy::needless_pass_by_value)]

use sessionkeeper_controller::{Configuration, DashboardState, Intent, Reach};
use sessionkeeper_core::config::{NewTarget, Prefill, Timings};
use sessionkeeper_core::secret::Secret;
use tauri::{AppHandle, Emitter as _, Manager as _, WebviewUrl, WebviewWindowBuilder, WindowEvent};

use crate::state::send;

pub(crate) const LABEL: &str = "dashboard";

/// The event that carries the dashboard's state.
const STATE_EVENT: &str = "state";

/// Opens (or focuses) the dashboard; `profile` is brought into view.
pub(crate) fn open(app: &AppHandle, profile: Option<&str>) {
    let path = match profile {
        Some(p) => format!("index.html#{p}"),
        None => "index.html".to_owned(),
    };
    if let Some(window) = app.get_webview_window(LABEL) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        if let Some(p) = profile {
            let id = serde_json::to_string(p).expect("a string always serialises");
            let _ = window.eval(format!("window.location.hash = {id};"));
        }
        return;
    }
    let built = WebviewWindowBuilder::new(app, LABEL, WebviewUrl::App(path.into()))
        .title("Session Keeper")
        .inner_size(1000.0, 720.0)
        .min_inner_size(480.0, 360.0)
        .build();
    match built {
        Ok(window) => {
            tracing::info!("dashboard opened");
            send(app, Intent::DashboardOpened);
            let app = app.clone();
            window.on_window_event(move |event| {
                if let WindowEvent::Destroyed = event {
                    send(&app, Intent::DashboardClosed);
                }
            });
        }
        Err(e) => tracing::warn!("cannot open the dashboard: {e}"),
    }
}

/// Hands the page its new state.
pub(crate) fn publish(app: &AppHandle, state: &DashboardState) {
    if let Err(e) = app.emit_to(LABEL, STATE_EVENT, state) {
        tracing::warn!("cannot update the dashboard: {e}");
    }
}

/// Sends an intent that carries a reply, and awaits the controller's answer.
async fn ask<T>(
    app: &AppHandle,
    make: impl FnOnce(tokio::sync::oneshot::Sender<T>) -> Intent,
) -> Result<T, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    send(app, make(tx));
    rx.await
        .map_err(|_| "Session Keeper is not running its controller".to_owned())
}

#[tauri::command]
pub(crate) async fn dashboard_state(app: AppHandle) -> Result<DashboardState, String> {
    ask(&app, |reply| Intent::DashboardState { reply }).await
}

#[tauri::command]
pub(crate) async fn validate_now(app: AppHandle, profile: String) {
    send(&app, Intent::Validate { profile });
}

#[tauri::command]
pub(crate) async fn reauthenticate(app: AppHandle, profile: String) {
    send(&app, Intent::Reauthenticate { profile });
}

/// Take a teammate's claim on the re-authentication over, and log in.
#[tauri::command]
pub(crate) async fn take_over(app: AppHandle, profile: String) {
    send(&app, Intent::TakeOver { profile });
}

#[tauri::command]
pub(crate) async fn open_in_browser(app: AppHandle, profile: String) {
    send(&app, Intent::OpenInBrowser { profile });
}

#[tauri::command]
pub(crate) async fn push_again(app: AppHandle, profile: String) {
    send(&app, Intent::PushAll { profile });
}

#[tauri::command]
pub(crate) async fn push_target(app: AppHandle, profile: String, index: usize) {
    send(&app, Intent::PushTarget { profile, index });
}

#[tauri::command]
pub(crate) async fn copy_export(app: AppHandle, profile: String) {
    send(&app, Intent::CopyExport { profile });
}

/// The manual update (the seeds' "manual token update"): a pasted export, session JSON or
/// token is read, validated, and only then stored and pushed. The answer never echoes it.
#[tauri::command]
pub(crate) async fn paste_session(
    app: AppHandle,
    profile: String,
    text: String,
) -> Result<String, String> {
    let text = Secret::new(text);
    ask(&app, |reply| Intent::Paste {
        profile,
        text,
        reply,
    })
    .await?
}

/// "Extend tracked expiry": validated now, then tracked for another `tracked_ttl`.
#[tauri::command]
pub(crate) async fn extend_tracked(app: AppHandle, profile: String) -> Result<String, String> {
    ask(&app, |reply| Intent::Extend { profile, reply }).await?
}

#[tauri::command]
pub(crate) async fn configuration(app: AppHandle) -> Result<Configuration, String> {
    ask(&app, |reply| Intent::Configuration { reply }).await
}

/// "Add a session": the login window in recording mode.
#[tauri::command]
pub(crate) async fn record_login(
    app: AppHandle,
    name: String,
    login_url: String,
    api_url: String,
) -> Result<String, String> {
    ask(&app, |reply| Intent::RecordLogin {
        name,
        login_url,
        api_url,
        reply,
    })
    .await?
}

#[tauri::command]
pub(crate) async fn record_again(app: AppHandle, api_url: String) -> Result<String, String> {
    ask(&app, |reply| Intent::RecordAgain { api_url, reply }).await?
}

/// The proposal as the human confirmed it (TOML, edited or not): written if it loads.
#[tauri::command]
pub(crate) async fn record_confirm(app: AppHandle, toml: String) -> Result<String, String> {
    ask(&app, |reply| Intent::RecordConfirm { toml, reply }).await?
}

#[tauri::command]
pub(crate) async fn record_cancel(app: AppHandle) {
    send(&app, Intent::RecordCancel);
}

fn token_of(token: Option<String>) -> Option<Secret> {
    token.filter(|t| !t.is_empty()).map(Secret::new)
}

#[tauri::command]
pub(crate) async fn add_target(
    app: AppHandle,
    profile: String,
    target: NewTarget,
    token: Option<String>,
) -> Result<String, String> {
    let token = token_of(token);
    ask(&app, |reply| Intent::AddTarget {
        profile,
        target,
        token,
        reply,
    })
    .await?
}

/// Check token before saving: one cheap authenticated call for a target not saved yet.
#[tauri::command]
pub(crate) async fn check_target(
    app: AppHandle,
    profile: String,
    target: NewTarget,
    token: Option<String>,
) -> Result<Vec<Reach>, String> {
    let token = token_of(token);
    ask(&app, |reply| Intent::CheckTarget {
        profile,
        target,
        token,
        reply,
    })
    .await?
}

/// GitHub's rules for a secret name, as the human types it.
#[tauri::command]
pub(crate) async fn check_secret_name(name: String) -> Result<(), String> {
    sessionkeeper_core::config::check_github_secret_name(&name)
}

/// A token or credential into the keychain; never echoed, never written to a file.
#[tauri::command]
pub(crate) async fn set_secret(
    app: AppHandle,
    name: String,
    value: String,
) -> Result<String, String> {
    let value = Secret::new(value);
    ask(&app, |reply| Intent::SetSecret { name, value, reply }).await?
}

#[tauri::command]
pub(crate) async fn set_prefill(
    app: AppHandle,
    profile: String,
    prefill: Prefill,
) -> Result<String, String> {
    ask(&app, |reply| Intent::SetPrefill {
        profile,
        prefill,
        reply,
    })
    .await?
}

#[tauri::command]
pub(crate) async fn set_timings(
    app: AppHandle,
    profile: String,
    timings: Timings,
) -> Result<String, String> {
    ask(&app, |reply| Intent::SetTimings {
        profile,
        timings,
        reply,
    })
    .await?
}

#[tauri::command]
pub(crate) async fn apply_learned(app: AppHandle, profile: String) -> Result<String, String> {
    ask(&app, |reply| Intent::ApplyLearned { profile, reply }).await?
}

#[tauri::command]
pub(crate) async fn remove_profile(app: AppHandle, profile: String) -> Result<String, String> {
    ask(&app, |reply| Intent::RemoveProfile { profile, reply }).await?
}

/// One cheap authenticated call per target of `profile`, writing nothing.
#[tauri::command]
pub(crate) async fn check_tokens(app: AppHandle, profile: String) -> Result<Vec<Reach>, String> {
    ask(&app, |reply| Intent::CheckTokens { profile, reply }).await?
}

#[cfg(test)]
mod tests {
    include!("../commands.in");

    /// The page's bindings: one function per command, named in camelCase, that calls it by IPC
    /// with its arguments by name. Generated from [`COMMANDS`]; `ui/commands.js` must be this
    /// text (a test checks; `UPDATE_BINDINGS=1 cargo test -p sessionkeeper-app` rewrites it).
    fn bindings() -> String {
        let camel = |s: &str| {
            let mut out = String::new();
            let mut up = false;
            for c in s.chars() {
                if c == '_' {
                    up = true;
                } else if up {
                    out.extend(c.to_uppercase());
                    up = false;
                } else {
                    out.push(c);
                }
            }
            out
        };
        let mut js = String::from(
            "// Generated from src-tauri/commands.in by `cargo test -p sessionkeeper-app`: do not edit.\n\
             // The app's commands, one function each; the dashboard calls nothing else by name.\n\
             'use strict';\n\n\
             const commands = Object.freeze({\n",
        );
        for (name, args) in COMMANDS {
            let params: Vec<String> = args.iter().map(|a| camel(a)).collect();
            let passed = if args.is_empty() {
                "{}".to_owned()
            } else {
                format!("{{ {} }}", params.join(", "))
            };
            js.push_str(&format!(
                "  {}: ({}) => window.__TAURI_INTERNALS__.invoke('{name}', {passed}),\n",
                camel(name),
                params.join(", ")
            ));
        }
        js.push_str("});\n");
        js
    }

    #[test]
    fn the_page_calls_the_commands_through_bindings_generated_from_their_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/commands.js");
        let generated = bindings();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &generated).expect("write ui/commands.js");
        }
        let committed = std::fs::read_to_string(&path).expect("ui/commands.js");
        assert_eq!(
            committed, generated,
            "ui/commands.js is stale: UPDATE_BINDINGS=1 cargo test -p sessionkeeper-app"
        );
        let page = std::fs::read_to_string(path.with_file_name("app.js")).expect("ui/app.js");
        for (name, _) in COMMANDS {
            assert!(
                !page.contains(&format!("'{name}'")),
                "app.js calls {name} by name: use commands.js"
            );
        }
        // The shell registers exactly the commands of the table.
        let shell = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"),
        )
        .expect("src/lib.rs");
        let registered: Vec<&str> = shell
            .split("generate_handler![")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .expect("one generate_handler! list")
            .split(',')
            .filter_map(|item| item.trim().strip_prefix("dashboard::"))
            .collect();
        let table: Vec<&str> = COMMANDS.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            registered, table,
            "src/lib.rs registers other commands than commands.in"
        );
    }
}
