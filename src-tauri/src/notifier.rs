//! Native notifications (notify-rust: D-Bus on Linux). The expiry ones carry a
//! **Re-authenticate** action that opens the login window, and a Snooze. Each notification
//! that has actions gets a thread that waits for the human's answer, then ends.

use chrono::Utc;
use notify_rust::{Notification, Timeout, Urgency};
use sessionkeeper_core::monitor::Monitor;
use sessionkeeper_core::overview::{NoticeText, notice_text};
use sessionkeeper_core::schedule::Notice;
use tauri::AppHandle;

const APP_NAME: &str = "Session Keeper";
const ACTION_REAUTH: &str = "reauthenticate";
const ACTION_SNOOZE: &str = "snooze";
/// How long a snooze holds back an episode's notices.
const SNOOZE: chrono::Duration = chrono::Duration::hours(1);

/// Shows what core's scheduler decided to say.
pub(crate) fn notice(app: &AppHandle, monitor: &Monitor, notice: &Notice) {
    let id = match notice {
        Notice::Expiring { profile, .. }
        | Notice::Invalid { profile }
        | Notice::CannotCheck { profile, .. }
        | Notice::Recovered { profile } => profile,
    };
    let name = monitor.profile(id).map_or(id.as_str(), |p| p.name.as_str());
    show(app, notice_text(notice, name, Utc::now()));
}

/// A notification without actions (push results, problems).
pub(crate) fn inform(app: &AppHandle, profile: &str, summary: String, body: String) {
    show(
        app,
        NoticeText {
            profile: profile.to_owned(),
            summary,
            body,
            reauthenticate: false,
            urgent: false,
        },
    );
}

/// A notification that offers Re-authenticate (a refresh without a human failed).
pub(crate) fn ask_to_log_in(app: &AppHandle, profile: &str, summary: String, body: String) {
    show(
        app,
        NoticeText {
            profile: profile.to_owned(),
            summary,
            body,
            reauthenticate: true,
            urgent: true,
        },
    );
}

fn show(app: &AppHandle, text: NoticeText) {
    let app = app.clone();
    let spawned = std::thread::Builder::new()
        .name("notification".to_owned())
        .spawn(move || {
            let mut n = Notification::new();
            n.appname(APP_NAME).summary(&text.summary).body(&text.body);
            if text.reauthenticate {
                n.action(ACTION_REAUTH, "Re-authenticate")
                    .action(ACTION_SNOOZE, "Snooze 1 hour");
            }
            if text.urgent {
                n.urgency(Urgency::Critical).timeout(Timeout::Never);
            }
            match n.show() {
                Ok(handle) => {
                    tracing::info!(
                        profile = %text.profile,
                        id = handle.id(),
                        "notification: {}",
                        text.summary
                    );
                    if text.reauthenticate {
                        wait_for_action(&app, &text.profile, handle);
                    }
                }
                Err(e) => tracing::warn!(
                    profile = %text.profile,
                    "cannot show the notification {:?} (is a notification server running?): {e}",
                    text.summary
                ),
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start a notification thread: {e}");
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
fn wait_for_action(app: &AppHandle, profile: &str, handle: notify_rust::NotificationHandle) {
    handle.wait_for_action(|action| match action {
        ACTION_REAUTH | "default" => {
            tracing::info!(%profile, "notification action: re-authenticate");
            crate::login::open(app, profile);
        }
        ACTION_SNOOZE => {
            tracing::info!(%profile, "notification action: snooze");
            let _ = crate::shared(app)
                .commands
                .send(crate::watch::Command::Snooze(profile.to_owned(), SNOOZE));
        }
        _ => {}
    });
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn wait_for_action<H>(_app: &AppHandle, _profile: &str, _handle: H) {
    // macOS and Windows notifications carry no actions through notify-rust: the tray menu's
    // Re-authenticate does the same.
}
