//! Tauri's build step. The app's own commands are declared here so that each gets a
//! permission (`allow-<command>`) that a capability must grant by name: only the dashboard's
//! capability does.

include!("commands.in");
include!("../build/commit.rs");

fn main() {
    emit_commit();
    println!("cargo::rerun-if-changed=commands.in");
    // Tauri wants the names for 'static; a build script's leak ends with it.
    let names: &'static [&'static str] =
        Vec::leak(COMMANDS.iter().map(|(name, _)| *name).collect());
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(names)),
    )
    .expect("tauri build step");
}
