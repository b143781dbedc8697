//! The tray icon and its menu, drawn from core's [`ProfileView`]s: the icon's colour is the
//! worst status; each profile has a submenu (its status and time left in the title; Validate
//! now, Re-authenticate, Push again, Copy export); then Open dashboard, Start at login and Quit. Linux trays
//! deliver no click events, so everything is in the menu.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use sessionkeeper_core::monitor::Monitor;
use sessionkeeper_core::overview::{ProfileView, TrayColour};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Wry};
use tauri_plugin_autostart::ManagerExt as _;

const TRAY_ID: &str = "main";

/// Whether the app starts at login; read once, then kept by the toggle.
static AUTOSTART: AtomicBool = AtomicBool::new(false);

/// What the tray shows; it is redrawn only when this changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Drawing {
    colour: TrayColour,
    /// (profile id, menu title, has push targets)
    lines: Vec<(String, String, bool)>,
    autostart: bool,
}

/// Creates the tray (grey, "checking…") before the first check.
pub(crate) fn build(app: &AppHandle) -> tauri::Result<()> {
    AUTOSTART.store(
        app.autolaunch().is_enabled().unwrap_or(false),
        Ordering::Relaxed,
    );
    let shared = crate::shared(app);
    let views: Vec<ProfileView> = shared
        .config
        .profiles
        .values()
        .map(|p| ProfileView::unchecked(&p.id, &p.name))
        .collect();
    let drawing = drawing(&views, &|id| has_targets(app, id));
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(drawing.colour)?)
        .tooltip("Session Keeper")
        .menu(&menu(app, &drawing)?)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| crate::actions::menu(app, event.id().as_ref()))
        .build(app)?;
    tracing::info!("tray: {}", drawing.colour.as_str());
    Ok(())
}

/// Redraws the tray if what it shows has changed since `last`; returns what is shown now.
pub(crate) fn redraw(app: &AppHandle, monitor: &Monitor, last: Option<Drawing>) -> Option<Drawing> {
    let views: Vec<ProfileView> = monitor.views().cloned().collect();
    let next = drawing(&views, &|id| {
        monitor.profile(id).is_some_and(|p| !p.push.is_empty())
    });
    if last.as_ref() == Some(&next) {
        return last;
    }
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return last;
    };
    let result = (|| -> tauri::Result<()> {
        if last.as_ref().map(|d| d.colour) != Some(next.colour) {
            tray.set_icon(Some(icon(next.colour)?))?;
            tracing::info!("tray: {}", next.colour.as_str());
        }
        tray.set_menu(Some(menu(app, &next)?))?;
        let summary: Vec<&str> = next.lines.iter().map(|(_, l, _)| l.as_str()).collect();
        tray.set_tooltip(Some(format!("Session Keeper\n{}", summary.join("\n"))))?;
        tracing::debug!("tray menu: {}", summary.join(" | "));
        Ok(())
    })();
    match result {
        Ok(()) => Some(next),
        Err(e) => {
            tracing::warn!("cannot redraw the tray: {e}");
            last
        }
    }
}

/// Flips Start at login; returns the new state.
pub(crate) fn toggle_autostart(app: &AppHandle) -> bool {
    let launcher = app.autolaunch();
    let want = !AUTOSTART.load(Ordering::Relaxed);
    let done = if want {
        launcher.enable()
    } else {
        launcher.disable()
    };
    match done {
        Ok(()) => {
            AUTOSTART.store(want, Ordering::Relaxed);
            tracing::info!("start at login: {}", if want { "on" } else { "off" });
        }
        Err(e) => tracing::warn!("cannot change start at login: {e}"),
    }
    AUTOSTART.load(Ordering::Relaxed)
}

fn has_targets(app: &AppHandle, id: &str) -> bool {
    crate::shared(app)
        .config
        .profiles
        .get(id)
        .is_some_and(|p| !p.push.is_empty())
}

fn drawing(views: &[ProfileView], has_targets: &dyn Fn(&str) -> bool) -> Drawing {
    let now = Utc::now();
    Drawing {
        colour: TrayColour::of(views),
        lines: views
            .iter()
            .map(|v| (v.id.clone(), v.menu_label(now), has_targets(&v.id)))
            .collect(),
        autostart: AUTOSTART.load(Ordering::Relaxed),
    }
}

fn menu(app: &AppHandle, drawing: &Drawing) -> tauri::Result<Menu<Wry>> {
    let menu = Menu::new(app)?;
    if drawing.lines.is_empty() {
        menu.append(&MenuItem::with_id(
            app,
            "none",
            "No profiles: add one to config.toml",
            false,
            None::<&str>,
        )?)?;
    }
    for (id, title, pushable) in &drawing.lines {
        let item = |action: &str, text: &str, enabled: bool| {
            MenuItem::with_id(app, format!("{action}:{id}"), text, enabled, None::<&str>)
        };
        let submenu = Submenu::with_id_and_items(
            app,
            format!("profile:{id}"),
            title,
            true,
            &[
                &item("validate", "Validate now", true)?,
                &item("reauth", "Re-authenticate…", true)?,
                &item("browser", "Log in in the browser, then paste…", true)?,
                &item("push", "Push again", *pushable)?,
                &item("copy", "Copy export", true)?,
            ],
        )?;
        menu.append(&submenu)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        "dashboard",
        "Open dashboard…",
        true,
        None::<&str>,
    )?)?;
    menu.append(&CheckMenuItem::with_id(
        app,
        "autostart",
        "Start at login",
        true,
        drawing.autostart,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        "quit",
        "Quit Session Keeper",
        true,
        None::<&str>,
    )?)?;
    Ok(menu)
}

fn icon(colour: TrayColour) -> tauri::Result<Image<'static>> {
    let bytes: &'static [u8] = match colour {
        TrayColour::Green => include_bytes!("../../icons/tray-valid.png"),
        TrayColour::Amber => include_bytes!("../../icons/tray-expiring.png"),
        TrayColour::Red => include_bytes!("../../icons/tray-invalid.png"),
        TrayColour::Grey => include_bytes!("../../icons/tray-unknown.png"),
    };
    Image::from_bytes(bytes)
}
