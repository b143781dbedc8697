//! The dashboard window (`dashboard`, the app's own `ui/`): a card per profile and its actions.
//! It is the only window with IPC, and only to the typed commands below, each granted by name
//! in `capabilities/dashboard.json`. Every command is a few lines over core or `actions`.

// Tauri commands receive their arguments by value (they are deserialised from the IPC call).
#![allow(clippy::needless_pass_by_value)]

use std::sync::Arc;

use serde::Serialize;
use sessionkeeper_core::Checker;
use sessionkeeper_core::capture::{self, AcceptError};
use sessionkeeper_core::config::Capture;
use sessionkeeper_core::overview::ProfileView;
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::session::Session;
use tauri::{AppHandle, Manager as _, WebviewUrl, WebviewWindowBuilder};

use crate::watch::Command;

pub(crate) const LABEL: &str = "dashboard";

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
    if let Err(e) = built {
        tracing::warn!("cannot open the dashboard: {e}");
    }
}

/// Everything a card shows.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Card {
    #[serde(flatten)]
    view: ProfileView,
    capture: Capture,
    targets: Vec<String>,
    login_open: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DashboardState {
    now: chrono::DateTime<chrono::Utc>,
    demo: bool,
    profiles: Vec<Card>,
}

#[tauri::command]
pub(crate) fn dashboard_state(app: AppHandle) -> DashboardState {
    let shared = crate::shared(&app);
    let views = shared
        .views
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let profiles = views
        .into_iter()
        .filter_map(|view| {
            let p = shared.config.profiles.get(&view.id)?;
            Some(Card {
                capture: p.capture,
                targets: p.push.iter().map(|t| t.account().to_owned()).collect(),
                login_open: app
                    .get_webview_window(&crate::login::label(&p.id))
                    .is_some(),
                view,
            })
        })
        .collect();
    DashboardState {
        now: chrono::Utc::now(),
        demo: shared.demo,
        profiles,
    }
}

#[tauri::command]
pub(crate) fn validate_now(app: AppHandle, profile: String) -> Result<(), String> {
    known(&app, &profile)?;
    crate::shared(&app)
        .commands
        .send(Command::CheckNow(profile))
        .map_err(|_| "the watch loop has stopped".to_owned())
}

#[tauri::command]
pub(crate) fn reauthenticate(app: AppHandle, profile: String) -> Result<(), String> {
    known(&app, &profile)?;
    crate::login::open(&app, &profile);
    Ok(())
}

#[tauri::command]
pub(crate) fn open_in_browser(app: AppHandle, profile: String) -> Result<(), String> {
    known(&app, &profile)?;
    crate::login::open_in_browser(&app, &profile);
    Ok(())
}

#[tauri::command]
pub(crate) fn push_again(app: AppHandle, profile: String) -> Result<(), String> {
    known(&app, &profile)?;
    crate::actions::menu(&app, &format!("push:{profile}"));
    Ok(())
}

#[tauri::command]
pub(crate) fn copy_export(app: AppHandle, profile: String) -> Result<(), String> {
    known(&app, &profile)?;
    crate::actions::menu(&app, &format!("copy:{profile}"));
    Ok(())
}

/// The manual update (the seeds' "manual token update"): a pasted export, session JSON or
/// token is read, validated, and only then stored and pushed. The error never echoes it.
#[tauri::command]
pub(crate) async fn paste_session(
    app: AppHandle,
    profile: String,
    text: String,
) -> Result<String, String> {
    let text = Secret::new(text);
    let (config, keychain, history) = {
        let shared = crate::shared(&app);
        (
            Arc::clone(&shared.config),
            shared.keychain.clone(),
            shared.history.clone(),
        )
    };
    let p = config
        .profiles
        .get(&profile)
        .cloned()
        .ok_or_else(|| format!("no profile {profile:?}"))?;
    let session = Session::import(text.expose(), &p).map_err(|e| e.to_string())?;
    drop(text);
    let vault = tokio::task::spawn_blocking(move || keychain.vault())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    match capture::accept(
        &p,
        session,
        &vault,
        &Checker::new(),
        history.as_ref(),
        "paste",
    )
    .await
    {
        Ok(_) => {
            let _ = crate::shared(&app)
                .commands
                .send(Command::Captured(p.id.clone()));
            let app = app.clone();
            let id = p.id.clone();
            tauri::async_runtime::spawn(async move {
                crate::actions::push_and_report(&app, &id, "pasted session; ").await;
            });
            Ok(if p.push.is_empty() {
                "Validated and stored.".to_owned()
            } else {
                format!(
                    "Validated and stored; pushing to {} target(s).",
                    p.push.len()
                )
            })
        }
        Err(AcceptError::Refused { detail }) => Err(format!(
            "The server refused this session ({detail}). Nothing was stored."
        )),
        Err(e @ AcceptError::CannotTell { .. }) => {
            Err(format!("{e}. Nothing was stored; try again."))
        }
        Err(AcceptError::Keychain(e)) => Err(format!("Nothing was stored: {e}")),
    }
}

fn known(app: &AppHandle, profile: &str) -> Result<(), String> {
    tracing::info!(%profile, "dashboard action");
    if crate::shared(app).config.profiles.contains_key(profile) {
        Ok(())
    } else {
        Err(format!("no profile {profile:?}"))
    }
}
