//! Tauri's build step. The app's own commands are declared here so that each gets a
//! permission (`allow-<command>`) that a capability must grant by name: only the dashboard's
//! capability does.

/// The dashboard's commands (`src/dashboard.rs`).
const COMMANDS: &[&str] = &[
    "dashboard_state",
    "validate_now",
    "reauthenticate",
    "open_in_browser",
    "push_again",
    "copy_export",
    "paste_session",
    "push_target",
    "extend_tracked",
    "configuration",
    "check_tokens",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step");
}
