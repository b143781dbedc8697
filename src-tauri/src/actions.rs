//! What the tray menu's items and a second launch do. Each action is a few lines over core;
//! slow ones (keychain, network) run off the event loop.

use std::sync::Arc;
use std::time::Duration;

use clap::Parser as _;
use sessionkeeper_core::capture::{AcceptError, accept};
use sessionkeeper_core::push::{Credentials, Pusher, push_event};
use sessionkeeper_core::refresh::{TokioSleeper, renew};
use sessionkeeper_core::session::Session;
use sessionkeeper_core::{Checker, Profile};
use tauri::AppHandle;
use tauri_plugin_clipboard_manager::ClipboardExt as _;

use crate::watch::Command;
use crate::{Args, login, notifier, tray};

/// How long a copied export stays on the clipboard (if nothing else was copied since).
const CLIPBOARD_TTL: Duration = Duration::from_secs(60);

/// A click on the tray menu item `id` (`validate:mtn`, `reauth:mtn`, `autostart`, `quit`…).
pub(crate) fn menu(app: &AppHandle, id: &str) {
    let (action, profile) = id.split_once(':').unwrap_or((id, ""));
    tracing::info!(%profile, "menu: {action}");
    match action {
        "validate" => send(app, Command::CheckNow(profile.to_owned())),
        "reauth" => login::open(app, profile),
        "browser" => login::open_in_browser(app, profile),
        "dashboard" => crate::dashboard::open(app, None),
        "push" => push_again(app, profile.to_owned()),
        "copy" => copy_export(app, profile.to_owned()),
        "autostart" => {
            tray::toggle_autostart(app);
        }
        "quit" => app.exit(0),
        _ => {}
    }
}

/// Another `sessionkeeper-app` was started: it exits, and this one does what it was asked.
pub(crate) fn second_launch(app: &AppHandle, argv: &[String]) {
    match Args::try_parse_from(argv) {
        Ok(Args {
            login: Some(profile),
            ..
        }) => login::open(app, &profile),
        Ok(Args {
            dashboard: true, ..
        }) => crate::dashboard::open(app, None),
        Ok(_) => notifier::inform(
            app,
            "",
            "Session Keeper is already running".to_owned(),
            "It is in the tray.".to_owned(),
        ),
        Err(e) => tracing::warn!("a second launch with arguments this app does not take: {e}"),
    }
}

fn send(app: &AppHandle, command: Command) {
    if crate::shared(app).commands.send(command).is_err() {
        tracing::warn!("the watch loop has stopped");
    }
}

/// Pushes the stored session of `profile` to all its targets again, and says how it went.
fn push_again(app: &AppHandle, profile: String) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        push_and_report(&app, &profile, "").await;
    });
}

/// Logs `profile` in without a human (core's `renew`: refresh, validate, store), then pushes
/// and says so; on failure, one notification with Re-authenticate. The watch loop hears the
/// end either way.
pub(crate) fn refresh(app: &AppHandle, profile: String) {
    let (config, keychain, history) = crate::shared(app).handles();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let Some(p) = config.profiles.get(&profile).cloned() else {
            return;
        };
        tracing::info!(%profile, "refreshing without a human");
        let vault = match keychain.open().await {
            Ok(vault) => vault,
            Err(e) => {
                refresh_failed(&app, &p, &e.to_string());
                return;
            }
        };
        let renewed = renew(&p, &vault, &Checker::new(), history.as_ref(), &TokioSleeper).await;
        match renewed {
            Ok(r) => {
                tracing::info!(%profile, attempts = r.attempts, "refreshed without a human");
                send(&app, Command::RefreshFinished(profile.clone(), true));
                push_and_report(&app, &profile, "refreshed without you; ").await;
            }
            Err(e) => refresh_failed(&app, &p, &e.to_string()),
        }
    });
}

fn refresh_failed(app: &AppHandle, p: &sessionkeeper_core::Profile, why: &str) {
    tracing::warn!(profile = %p.id, "refresh failed: {why}");
    send(app, Command::RefreshFinished(p.id.clone(), false));
    notifier::ask_to_log_in(
        app,
        &p.id,
        format!("{}: refresh failed", p.name),
        format!("{why}\nRe-authenticate to log in yourself."),
    );
}

/// A captured or pasted session's way in: core's `accept` (validate, then store with the
/// previous kept, recorded as from `source`); then the watch loop hears of it and the push
/// starts in the background (its result is a notification, prefixed with `prefix`).
pub(crate) async fn accept_and_push(
    app: &AppHandle,
    p: &Profile,
    session: Session,
    checker: &Checker,
    source: &str,
    prefix: &'static str,
) -> Result<(), AcceptError> {
    let (_, keychain, history) = crate::shared(app).handles();
    let vault = keychain.open().await?;
    accept(p, session, &vault, checker, history.as_ref(), source).await?;
    send(app, Command::Captured(p.id.clone()));
    let app = app.clone();
    let id = p.id.clone();
    tauri::async_runtime::spawn(async move { push_and_report(&app, &id, prefix).await });
    Ok(())
}

/// Pushes the stored session of `profile` to all its targets, records each result, and
/// notifies "pushed to N of N" (with `prefix`) or what failed.
pub(crate) async fn push_and_report(app: &AppHandle, profile: &str, prefix: &str) {
    push_and_report_to(app, profile, prefix, None).await;
}

/// [`push_and_report`], to every target or only to the one at `only` (its index).
pub(crate) async fn push_and_report_to(
    app: &AppHandle,
    profile: &str,
    prefix: &str,
    only: Option<usize>,
) {
    let (config, keychain, history) = crate::shared(app).handles();
    let Some(mut p) = config.profiles.get(profile).cloned() else {
        return;
    };
    if let Some(index) = only {
        p.push = p.push.get(index).cloned().into_iter().collect();
    }
    if p.push.is_empty() {
        notifier::inform(
            app,
            &p.id,
            format!("{}: {prefix}no push targets", p.name),
            String::new(),
        );
        return;
    }
    let prepared = tokio::task::spawn_blocking({
        let config = Arc::clone(&config);
        let p = p.clone();
        move || {
            let vault = keychain.vault()?;
            let session = vault.current_session(&p)?;
            let credentials = Credentials::for_targets(&config.accounts, &p.push, &vault)?;
            Ok::<_, sessionkeeper_core::VaultError>((session, credentials))
        }
    })
    .await;
    let (session, credentials) = match prepared {
        Ok(Ok(ready)) => ready,
        Ok(Err(e)) => {
            notifier::inform(app, &p.id, format!("{}: not pushed", p.name), e.to_string());
            return;
        }
        Err(e) => {
            tracing::error!("push task failed: {e}");
            return;
        }
    };
    let results = Pusher::new()
        .push(&config.accounts, &p.push, &session, &credentials, false)
        .await;
    for r in &results {
        if let Some(h) = &history
            && let Err(e) = h.append(&push_event(&p.id, r))
        {
            tracing::warn!("could not write the history: {e}");
        }
    }
    let ok = results.iter().filter(|r| r.ok).count();
    let body: Vec<String> = results
        .iter()
        .map(|r| match (&r.error, &r.hint) {
            (None, _) => format!("✓ {}", r.target),
            (Some(e), Some(h)) => format!("✗ {}: {e} ({h})", r.target),
            (Some(e), None) => format!("✗ {}: {e}", r.target),
        })
        .collect();
    let summary = if ok == results.len() {
        format!("{}: {prefix}pushed to {ok} of {}", p.name, results.len())
    } else {
        format!(
            "{}: {prefix}push failed for {} of {}",
            p.name,
            results.len() - ok,
            results.len()
        )
    };
    tracing::info!(profile = %p.id, "{summary}");
    notifier::inform(app, &p.id, summary, body.join("\n"));
}

/// Copies the export of `profile` to the clipboard, and clears it a minute later unless
/// something else was copied meanwhile.
fn copy_export(app: &AppHandle, profile: String) {
    let (config, keychain, _) = crate::shared(app).handles();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let Some(p) = config.profiles.get(&profile).cloned() else {
            return;
        };
        let export = tokio::task::spawn_blocking(move || {
            keychain
                .vault()
                .and_then(|v| v.current_session(&p))
                .map(|s| s.export())
        })
        .await;
        let export = match export {
            Ok(Ok(export)) => export,
            Ok(Err(e)) => {
                notifier::inform(&app, &profile, "Nothing copied".to_owned(), e.to_string());
                return;
            }
            Err(e) => {
                tracing::error!("copy task failed: {e}");
                return;
            }
        };
        if let Err(e) = app.clipboard().write_text(export.expose().to_owned()) {
            tracing::warn!(%profile, "cannot write the clipboard: {e}");
            return;
        }
        tracing::info!(%profile, "export copied to the clipboard for {} s", CLIPBOARD_TTL.as_secs());
        tokio::time::sleep(CLIPBOARD_TTL).await;
        if app
            .clipboard()
            .read_text()
            .is_ok_and(|t| t == export.expose())
        {
            let _ = app.clipboard().clear();
        }
    });
}
