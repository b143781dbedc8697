//! What every part of the shell shares, kept in Tauri's state: the way to the controller.

use sessionkeeper_controller::{Handle, Intent};

/// The shell's shared state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) controller: Handle,
}

/// Sends `intent` to the controller, if it runs yet (a second launch can arrive while the app
/// is still starting; it is then dropped, as the first launch opens the same thing).
pub(crate) fn send<R: tauri::Runtime>(app: &impl tauri::Manager<R>, intent: Intent) {
    match app.try_state::<Shared>() {
        Some(shared) => {
            if !shared.controller.send(intent) {
                tracing::warn!("the controller has stopped");
            }
        }
        None => tracing::info!("not started yet: {intent:?} dropped"),
    }
}
