//! The barest tray-only Tauri app, the baseline of `scripts/bench-idle.sh`: one tray icon with
//! a Quit item, no window, no polling. It prints `tray ready` when the tray exists, like the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::io::Write as _;

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;

fn main() {
    let app = tauri::Builder::default()
        .setup(|app| {
            let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
            let menu = Menu::with_items(app, &[&quit])?;
            let icon =
                tauri::image::Image::from_bytes(include_bytes!("../../../icons/tray-unknown.png"))?;
            TrayIconBuilder::with_id("main")
                .icon(icon)
                .menu(&menu)
                .on_menu_event(|app, event| {
                    if event.id() == "quit" {
                        app.exit(0);
                    }
                })
                .build(app)?;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "tray ready");
            let _ = out.flush();
            Ok(())
        })
        .build(tauri::generate_context!())
        .unwrap_or_else(|e| panic!("cannot start the baseline tray app: {e}"));
    app.run(|_, event| {
        if let tauri::RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            api.prevent_exit();
        }
    });
}
