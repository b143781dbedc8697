//! Session Keeper's tray app: a thin shell over `sessionkeeper-controller`. The controller
//! decides everything (when to check, what a status means, what to push, which notification
//! to show or withdraw); this crate only turns the desktop's events into the controller's
//! intents (`tray`, `notifier`, `login`, `dashboard`, `args`) and carries out what the
//! controller asks through its `Host` seam (`host`).
//!
//! Threads of control: Tauri's event loop (main thread: tray, menus, windows); the controller
//! on Tauri's async runtime, which owns the state and sleeps until something is due; its
//! tasks (checks, pushes, keychain calls); one task per notification that waits for its
//! answer.

mod args;
mod dashboard;
#[cfg(feature = "demo")]
mod demo;
mod host;
mod logging;
mod login;
mod memory;
mod notifier;
mod state;
mod tray;
mod watch;

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use sessionkeeper_controller::{Keychain, Setup, TrayLine, TrayModel};
use sessionkeeper_core::clock::SystemClock;
use sessionkeeper_core::config::Config;
use sessionkeeper_core::history::History;
use sessionkeeper_core::overview::TrayColour;
use sessionkeeper_core::targets::TargetBook;
use tauri::{Manager, RunEvent};
use tauri_plugin_autostart::ManagerExt as _;

pub use args::Args;

/// The environment the app's binary sets for WebKitGTK before anything else runs (WebKit
/// reads it once, when the first window's web context is made).
///
/// `WEBKIT_DISABLE_MEMORY_PRESSURE_MONITOR`: with its first web context, WebKitGTK starts a
/// thread in the app's own process that reads the system's and the cgroup's memory figures
/// every few seconds, and never stops, even once every window is closed. Measured with
/// `scripts/bench.sh dashboard`, it was the open dashboard's largest cost to the app (about
/// 25 ms of CPU a minute, more than everything else the app does idle). Its use is to
/// have big browsers drop caches under memory pressure; this app's pages are its own small
/// dashboard and one login page at a time.
pub const WEBKIT_ENVIRONMENT: &[(&str, &str)] = &[("WEBKIT_DISABLE_MEMORY_PRESSURE_MONITOR", "1")];

/// Parses the arguments, starts the app and runs it until Quit.
pub fn main() -> ExitCode {
    let args = Args::parse();
    logging::init();
    if let Err(e) = sessionkeeper_core::process::disable_core_dumps() {
        tracing::warn!("cannot turn core dumps off: {e}");
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            let _ = writeln!(std::io::stderr(), "sessionkeeper-app: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The demo's world (sim in-process): only in builds with the `demo` feature.
#[cfg(feature = "demo")]
type DemoWorld = demo::Demo;
#[cfg(not(feature = "demo"))]
type DemoWorld = NoDemo;

#[cfg(feature = "demo")]
fn start_demo() -> anyhow::Result<DemoWorld> {
    demo::Demo::start()
}

/// A build without the simulator (the packages): `--demo` says where the demo is.
#[cfg(not(feature = "demo"))]
#[derive(Debug)]
enum NoDemo {}

#[cfg(not(feature = "demo"))]
impl NoDemo {
    fn setup(&self, _autostart: bool) -> Setup {
        match *self {}
    }
}

#[cfg(not(feature = "demo"))]
fn start_demo() -> anyhow::Result<DemoWorld> {
    anyhow::bail!(
        "this build has no demo: the packaged app leaves the simulator out. Run the demo from \
         a checkout of the source: `scripts/demo.sh`"
    )
}

fn run(args: &Args) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // The demo's simulator must outlive the app: it is kept here until `run` returns.
    let (setup, mut demo): (Setup, Option<DemoWorld>) = if args.demo {
        let demo = start_demo()?;
        (demo.setup(false), Some(demo))
    } else {
        let path = config_path(args)?;
        // No file yet (a first launch): no profile, a welcome. A file that does not load: no
        // profile either, and the error shown in the app (not only here on stderr); the
        // watch below takes the file in as soon as it loads.
        let (config, config_error) = if path.exists() {
            match Config::load(&path) {
                Ok(config) => (config, None),
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "sessionkeeper-app: {e}");
                    (Config::empty(&path), Some(e.to_string()))
                }
            }
        } else {
            tracing::info!(
                "no config file at {} yet: starting with no profile",
                path.display()
            );
            (Config::empty(&path), None)
        };
        (
            Setup {
                config: Arc::new(config),
                config_error,
                keychain: Keychain::platform(),
                history: History::open_default(),
                book: TargetBook::open_default(),
                demo: false,
                autostart: false,
                retry: None,
            },
            None,
        )
    };
    let config_file = (!args.demo).then(|| setup.config.path.clone());
    let mut setup = Some(setup);
    let first_intents = args.intents();
    let autostart_arg = args.autostart;

    let app = tauri::Builder::default()
        // First, so that a second launch is stopped before anything else starts.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(instance_id())
                .callback(|app, argv, _cwd| {
                    for intent in Args::second_launch(&argv) {
                        state::send(app, intent);
                    }
                })
                .build(),
        )
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--autostart"]),
        ))
        .plugin(tauri_plugin_opener::init())
        .invoke_handler(tauri::generate_handler![
            dashboard::dashboard_state,
            dashboard::validate_now,
            dashboard::reauthenticate,
            dashboard::open_in_browser,
            dashboard::push_again,
            dashboard::copy_export,
            dashboard::paste_session,
            dashboard::push_target,
            dashboard::extend_tracked,
            dashboard::configuration,
            dashboard::check_tokens,
            dashboard::record_login,
            dashboard::record_again,
            dashboard::record_confirm,
            dashboard::record_cancel,
            dashboard::add_target,
            dashboard::check_target,
            dashboard::check_secret_name,
            dashboard::set_secret,
            dashboard::set_prefill,
            dashboard::set_timings,
            dashboard::apply_learned,
            dashboard::remove_profile,
            dashboard::take_over,
        ])
        .setup(move |app| {
            logging::to_file(app.path().app_log_dir().ok());
            let autostart = app.autolaunch().is_enabled().unwrap_or(false);
            let mut setup = setup.take().expect("setup runs once");
            setup.autostart = autostart;
            tray::build(app.handle(), &first_tray(&setup.config, autostart))?;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "tray ready");
            let _ = out.flush();
            tracing::info!(
                elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                autostarted = autostart_arg,
                "tray ready"
            );
            let watching = setup
                .keychain
                .sessions_dir()
                .and_then(|dir| watch::start(app.handle(), &dir));
            let watching_config = config_file
                .as_deref()
                .and_then(|path| watch::config(app.handle(), path));
            let host = host::TauriHost::new(app.handle().clone());
            let (controller, _task) = tauri::async_runtime::block_on(async {
                sessionkeeper_controller::spawn(host, Arc::new(SystemClock), setup)
            });
            for intent in first_intents {
                controller.send(intent);
            }
            app.manage(state::Shared { controller });
            // Kept as long as the app runs.
            app.manage(watching);
            app.manage(watching_config);
            Ok(())
        })
        .build(context())?;

    app.run(move |_app, event| match event {
        // A tray app lives on when its last window closes; only Quit (app.exit) ends it.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        // The demo's simulator stops and its data dir goes.
        RunEvent::Exit => drop(demo.take()),
        _ => {}
    });
    Ok(())
}

/// Where the user's config is, as the CLI finds it (absolute: its directory is watched).
fn config_path(args: &Args) -> anyhow::Result<std::path::PathBuf> {
    match &args.config {
        Some(p) => std::path::absolute(p).context("the --config path"),
        None => {
            sessionkeeper_core::config::default_path().context("no config directory: is HOME set?")
        }
    }
}

/// The tray before the first check: grey, every profile "checking…".
fn first_tray(config: &Config, autostart: bool) -> TrayModel {
    let lines: Vec<TrayLine> = config
        .profiles
        .values()
        .map(|p| TrayLine {
            profile: p.id.clone(),
            title: format!("{}: checking…", p.name),
            can_push: !p.push.is_empty(),
        })
        .collect();
    TrayModel {
        colour: TrayColour::Grey,
        tooltip: "Session Keeper".to_owned(),
        lines,
        autostart,
        keychain: None,
        config_error: None,
    }
}

/// The single-instance name on the session bus: one per keychain service, so that an
/// isolated instance (another team's, a test's) runs beside the default one.
fn instance_id() -> String {
    let service = sessionkeeper_core::vault::service_name();
    if service == sessionkeeper_core::vault::SERVICE {
        return "dev.sessionkeeper.app".to_owned();
    }
    let clean: String = service
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("dev.sessionkeeper.app.i_{clean}")
}

fn context() -> tauri::Context {
    tauri::generate_context!()
}
