//! The tray icon and its menu, drawn from the controller's [`TrayModel`]: the icon's colour,
//! a submenu per profile (its status and time left in the title), then Open dashboard, Start
//! at login and Quit. A click becomes the controller's intent. Linux trays deliver no click
//! events on the icon itself, so everything is in the menu.

use sessionkeeper_controller::{
    Intent, MENU_ADD_SESSION, MENU_AUTOSTART, MENU_DASHBOARD, MENU_QUIT, MENU_UNLOCK,
    MenuItem as Item, TrayModel,
};
use sessionkeeper_core::overview::{self, TrayColour};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Wry};

const TRAY_ID: &str = "main";

/// Creates the tray (grey, "checking…") before the first check.
pub(crate) fn build(app: &AppHandle, first: &TrayModel) -> tauri::Result<()> {
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(first.colour)?)
        .tooltip(&first.tooltip)
        .menu(&menu(app, first)?)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| {
            if let Some(intent) = Intent::from_menu(event.id().as_ref()) {
                crate::state::send(app, intent);
            }
        })
        .build(app)?;
    Ok(())
}

/// Draws `tray`.
pub(crate) fn draw(app: &AppHandle, tray: &TrayModel) {
    let Some(icon_) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let drawn = (|| -> tauri::Result<()> {
        icon_.set_icon(Some(icon(tray.colour)?))?;
        icon_.set_menu(Some(menu(app, tray)?))?;
        icon_.set_tooltip(Some(&tray.tooltip))?;
        Ok(())
    })();
    if let Err(e) = drawn {
        tracing::warn!("cannot redraw the tray: {e}");
    }
}

fn menu(app: &AppHandle, tray: &TrayModel) -> tauri::Result<Menu<Wry>> {
    let menu = Menu::new(app)?;
    if let Some(words) = &tray.keychain {
        menu.append(&MenuItem::with_id(
            app,
            "keychain",
            words,
            false,
            None::<&str>,
        )?)?;
        menu.append(&MenuItem::with_id(
            app,
            MENU_UNLOCK,
            "Unlock the keychain…",
            true,
            None::<&str>,
        )?)?;
        menu.append(&PredefinedMenuItem::separator(app)?)?;
    }
    if tray.config_error.is_some() {
        menu.append(&MenuItem::with_id(
            app,
            "config-error",
            overview::config_broken_line(),
            false,
            None::<&str>,
        )?)?;
    }
    if tray.lines.is_empty() {
        menu.append(&MenuItem::with_id(
            app,
            "none",
            overview::no_sessions_line(),
            false,
            None::<&str>,
        )?)?;
    }
    // Always there: the dashboard's "Add a session" form (with no profile, its welcome page).
    menu.append(&MenuItem::with_id(
        app,
        MENU_ADD_SESSION,
        "Add a session…",
        true,
        None::<&str>,
    )?)?;
    for line in &tray.lines {
        let item = |i: Item, enabled: bool| {
            MenuItem::with_id(app, i.id(&line.profile), i.label(), enabled, None::<&str>)
        };
        let submenu = Submenu::with_id_and_items(
            app,
            format!("profile:{}", line.profile),
            &line.title,
            true,
            &[
                &item(Item::Validate, true)?,
                &item(Item::Reauthenticate, true)?,
                &item(Item::Browser, true)?,
                &item(Item::Push, line.can_push)?,
                &item(Item::Copy, true)?,
            ],
        )?;
        menu.append(&submenu)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        MENU_DASHBOARD,
        "Open dashboard…",
        true,
        None::<&str>,
    )?)?;
    menu.append(&CheckMenuItem::with_id(
        app,
        MENU_AUTOSTART,
        "Start at login",
        true,
        tray.autostart,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        MENU_QUIT,
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
