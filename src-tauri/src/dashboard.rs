//! The dashboard window (`dashboard`, the app's own `ui/`): a card per profile and its actions.
//! It is the only window with IPC, and only to the typed commands below, each granted by name
//! in `capabilities/dashboard.json`. Every command is a few lines over core or `actions`.

// Tauri commands receive their arguments by value (they are deserialised from the IPC call).
#![allow(clippy::needless_pass_by_value)]

use std::sync::Arc;

use serde::Serialize;
use sessionkeeper_core::Checker;
use sessionkeeper_core::capture::AcceptError;
use sessionkeeper_core::config::Capture;
use sessionkeeper_core::overview::{ProfileHistory, ProfileView, profile_history};
use sessionkeeper_core::push::{Credentials, Pusher};
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::session::Session;
use sessionkeeper_core::tracked::ExtendError;
use sessionkeeper_core::vault::SecretState;
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
    match built {
        Ok(_) => tracing::info!("dashboard opened"),
        Err(e) => tracing::warn!("cannot open the dashboard: {e}"),
    }
}

/// Everything a card shows.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Card {
    #[serde(flatten)]
    view: ProfileView,
    #[serde(flatten)]
    history: ProfileHistory,
    capture: Capture,
    tracked_ttl: String,
    /// Each push target, in config order (the index is what `push_target` takes).
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
    let events = shared
        .history
        .as_ref()
        .map(sessionkeeper_core::history::History::events)
        .unwrap_or_default();
    let now = chrono::Utc::now();
    let profiles = views
        .into_iter()
        .filter_map(|view| {
            let p = shared.config.profiles.get(&view.id)?;
            Some(Card {
                history: profile_history(&events, &p.id, now),
                capture: p.capture,
                tracked_ttl: p.tracked_ttl.to_string(),
                targets: p
                    .push
                    .iter()
                    .map(sessionkeeper_core::push::describe)
                    .collect(),
                login_open: app
                    .get_webview_window(&crate::login::label(&p.id))
                    .is_some(),
                view,
            })
        })
        .collect();
    DashboardState {
        now,
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
    let p = crate::shared(&app)
        .config
        .profiles
        .get(&profile)
        .cloned()
        .ok_or_else(|| format!("no profile {profile:?}"))?;
    let session = Session::import(text.expose(), &p).map_err(|e| e.to_string())?;
    drop(text);
    let accepted = crate::actions::accept_and_push(
        &app,
        &p,
        session,
        &Checker::new(),
        "paste",
        "pasted session; ",
    )
    .await;
    match accepted {
        Ok(()) => Ok(if p.push.is_empty() {
            "Validated and stored.".to_owned()
        } else {
            format!(
                "Validated and stored; pushing to {} target(s).",
                p.push.len()
            )
        }),
        Err(AcceptError::Refused { detail }) => Err(format!(
            "The server refused this session ({detail}). Nothing was stored."
        )),
        Err(e @ AcceptError::CannotTell { .. }) => {
            Err(format!("{e}. Nothing was stored; try again."))
        }
        Err(AcceptError::Keychain(e)) => Err(format!("Nothing was stored: {e}")),
    }
}

/// Pushes the stored session to one target of `profile` (its index in `targets`).
#[tauri::command]
pub(crate) fn push_target(app: AppHandle, profile: String, index: usize) -> Result<(), String> {
    known(&app, &profile)?;
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        crate::actions::push_and_report_to(&app, &profile, "", Some(index)).await;
    });
    Ok(())
}

/// "Extend tracked expiry": validated now, then tracked for another `tracked_ttl`.
#[tauri::command]
pub(crate) async fn extend_tracked(app: AppHandle, profile: String) -> Result<String, String> {
    known(&app, &profile)?;
    let (config, keychain, history) = crate::shared(&app).handles();
    let p = config
        .profiles
        .get(&profile)
        .cloned()
        .ok_or("no such profile")?;
    let vault = keychain.open().await.map_err(|e| e.to_string())?;
    match sessionkeeper_core::tracked::extend(
        &p,
        &vault,
        &Checker::new(),
        history.as_ref(),
        p.tracked_ttl,
    )
    .await
    {
        Ok((session, _)) => {
            let _ = crate::shared(&app)
                .commands
                .send(Command::CheckNow(p.id.clone()));
            Ok(format!(
                "The server accepts the session; tracked until {}.",
                session.expires_at.format("%Y-%m-%d %H:%M UTC")
            ))
        }
        Err(ExtendError::NotAccepted(outcome)) => Err(format!("Not extended: {}", outcome.detail)),
        Err(ExtendError::Keychain(e)) => Err(format!("Not extended: {e}")),
    }
}

/// The seeds' "configuration status": which secrets are set (never their values) and what
/// each profile is missing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Configuration {
    file: String,
    /// The file as it is now, if it no longer loads (edited since the app started): file,
    /// line, key and what is valid. The app runs on the config it started with.
    config_error: Option<String>,
    secrets: Vec<SecretState>,
    /// profile id → what it is missing.
    problems: std::collections::BTreeMap<String, Vec<String>>,
    keychain_error: Option<String>,
}

#[tauri::command]
pub(crate) async fn configuration(app: AppHandle) -> Configuration {
    let (config, keychain, _) = crate::shared(&app).handles();
    let problems = config
        .profiles
        .values()
        .map(|p| (p.id.clone(), sessionkeeper_core::config::problems(p)))
        .collect();
    let cfg = Arc::clone(&config);
    let secrets = tokio::task::spawn_blocking(move || {
        let vault = keychain.vault()?;
        sessionkeeper_core::vault::secret_states(&cfg, &vault)
    })
    .await;
    let (secrets, keychain_error) = match secrets {
        Ok(Ok(s)) => (s, None),
        Ok(Err(e)) => (Vec::new(), Some(e.to_string())),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let path = config.path.clone();
    let config_error = tokio::task::spawn_blocking(move || {
        sessionkeeper_core::Config::load(&path)
            .err()
            .map(|e| e.to_string())
    })
    .await
    .unwrap_or_default();
    Configuration {
        file: config.path.display().to_string(),
        config_error,
        secrets,
        problems,
        keychain_error,
    }
}

/// One target's answer to the token check.
#[derive(Debug, Serialize)]
pub(crate) struct Reach {
    target: String,
    ok: bool,
    detail: String,
}

/// One cheap authenticated call per target of `profile`, writing nothing.
#[tauri::command]
pub(crate) async fn check_tokens(app: AppHandle, profile: String) -> Result<Vec<Reach>, String> {
    known(&app, &profile)?;
    let (config, keychain, _) = crate::shared(&app).handles();
    let p = config
        .profiles
        .get(&profile)
        .cloned()
        .ok_or("no such profile")?;
    let cfg = Arc::clone(&config);
    let targets = p.push.clone();
    let credentials = tokio::task::spawn_blocking(move || {
        let vault = keychain.vault()?;
        Credentials::for_targets(&cfg.accounts, &targets, &vault)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let results = Pusher::new()
        .probe(&config.accounts, &p.push, &credentials)
        .await;
    Ok(results
        .into_iter()
        .map(|r| Reach {
            target: r.target,
            ok: r.ok,
            detail: match (r.action, r.error, r.hint) {
                (Some(a), _, _) => a,
                (None, Some(e), Some(h)) => format!("{e} ({h})"),
                (None, Some(e), None) => e,
                (None, None, _) => String::new(),
            },
        })
        .collect())
}

fn known(app: &AppHandle, profile: &str) -> Result<(), String> {
    tracing::info!(%profile, "dashboard action");
    if crate::shared(app).config.profiles.contains_key(profile) {
        Ok(())
    } else {
        Err(format!("no profile {profile:?}"))
    }
}
