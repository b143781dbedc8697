//! Native notifications (notify-rust: D-Bus on Linux). Each notification lives in a task that
//! waits for the human's answer (a button becomes the controller's intent) or for the
//! controller to withdraw it (`CloseNotification`); a newer notification under the same key
//! replaces it.

use std::collections::HashMap;
use std::sync::Mutex;

use notify_rust::{Notification, Timeout, Urgency};
use sessionkeeper_controller::{Intent, NoticeKey};
use sessionkeeper_core::overview::{NoticeAction, NoticeText};
use tauri::AppHandle;

const APP_NAME: &str = "Session Keeper";

/// The notifications on screen, by key: what closes each.
#[derive(Debug, Default)]
pub(crate) struct Notifications {
    open: Mutex<HashMap<NoticeKey, tokio::sync::oneshot::Sender<()>>>,
}

impl Notifications {
    /// Shows `text` under `key`, replacing (closing) what was shown under it.
    pub(crate) fn show(&self, app: &AppHandle, key: &NoticeKey, text: &NoticeText) {
        self.withdraw(key);
        let (close, closed) = tokio::sync::oneshot::channel();
        self.lock().insert(key.clone(), close);
        let (app, key, text) = (app.clone(), key.clone(), text.clone());
        tauri::async_runtime::spawn(async move {
            let mut n = Notification::new();
            n.appname(APP_NAME).summary(&text.summary).body(&text.body);
            for action in &text.actions {
                n.action(action.key(), action.label());
            }
            if text.urgent {
                n.urgency(Urgency::Critical).timeout(Timeout::Never);
            }
            let handle = match n.show_async().await {
                Ok(handle) => handle,
                Err(e) => {
                    tracing::warn!(
                        profile = %text.profile,
                        "cannot show the notification {:?} (is a notification server running?): {e}",
                        text.summary
                    );
                    return;
                }
            };
            tracing::info!(
                profile = %text.profile,
                id = handle.id(),
                "notification: {}",
                text.summary
            );
            let offered = text.actions.clone();
            let answered = async {
                let mut chosen = None;
                handle
                    .wait_for_action_async(|response| {
                        if let notify_rust::ActionResponse::Custom(key) = response {
                            chosen = NoticeAction::from_key(key, &offered);
                        }
                    })
                    .await;
                chosen
            };
            let mut closed = closed;
            tokio::select! {
                chosen = answered => {
                    if let Some(action) = chosen {
                        tracing::info!(profile = %text.profile, "notification action: {}", action.key());
                        crate::state::send(&app, Intent::from_notice_action(&text.profile, action));
                    }
                    // A server may keep a notification on screen after its button was used
                    // (a critical one does): it still goes when its episode ends.
                    if (&mut closed).await.is_err() {
                        return;
                    }
                }
                result = &mut closed => {
                    if result.is_err() {
                        return;
                    }
                }
            }
            handle.close_async().await;
            tracing::info!(profile = %key.profile, id = handle.id(), "notification closed");
        });
    }

    /// Closes the notification shown under `key`, if any.
    pub(crate) fn withdraw(&self, key: &NoticeKey) {
        if let Some(close) = self.lock().remove(key) {
            let _ = close.send(());
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<NoticeKey, tokio::sync::oneshot::Sender<()>>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
