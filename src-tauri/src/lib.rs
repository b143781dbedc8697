//! Session Keeper's tray app: a thin shell over `sessionkeeper-core`. It draws the tray,
//! shows notifications and opens windows; when to check, what a status means and what to push
//! are decided in core and tested there without a window.
//!
//! Threads of control: Tauri's event loop (main thread: tray, menus, windows); the watch loop
//! ([`watch`]) on Tauri's async runtime, which owns the [`Monitor`] and sleeps between checks;
//! one short-lived thread per notification that waits for its action.

mod actions;
mod args;
mod dashboard;
mod demo;
mod logging;
mod login;
mod notifier;
mod tray;
mod watch;

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Parser as _;
use sessionkeeper_core::Config;
use sessionkeeper_core::history::History;
use tauri::{Manager, RunEvent};

pub use args::Args;

/// What every part of the shell shares, kept in Tauri's state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: Arc<Config>,
    pub keychain: watch::Keychain,
    pub history: Option<History>,
    pub commands: tokio::sync::mpsc::UnboundedSender<watch::Command>,
    /// What the watch loop knows of every profile, for the dashboard.
    pub views: Arc<Mutex<Vec<sessionkeeper_core::overview::ProfileView>>>,
    /// Profiles whose login window is being built (keychain read, window not there yet), so
    /// that two quick requests open one window.
    pub logins_opening: Mutex<std::collections::BTreeSet<String>>,
    pub demo: bool,
}

impl Shared {
    /// Owned handles for work that outlives the caller (a spawned task): the config, the
    /// keychain and the history.
    pub(crate) fn handles(&self) -> (Arc<Config>, watch::Keychain, Option<History>) {
        (
            Arc::clone(&self.config),
            self.keychain.clone(),
            self.history.clone(),
        )
    }
}

/// Parses the arguments, starts the app and runs it until Quit.
pub fn main() -> ExitCode {
    let args = Args::parse();
    logging::init();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            let _ = writeln!(std::io::stderr(), "sessionkeeper-app: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // The demo's simulator must outlive the app: it is kept here until `run` returns.
    let (setup, mut demo) = if args.demo {
        let demo = demo::Demo::start()?;
        (demo.setup(), Some(demo))
    } else {
        match watch::Setup::from_args(args) {
            Ok(setup) => (setup, None),
            Err(e) => {
                // A second launch (`--login`, `--dashboard`) must reach the running app even
                // when the config cannot be read here; only a first launch reports it.
                hand_over_to_running_app();
                return Err(e);
            }
        }
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let shared = Shared {
        config: Arc::clone(&setup.config),
        keychain: setup.keychain.clone(),
        history: setup.history.clone(),
        commands: tx,
        views: Arc::default(),
        logins_opening: Mutex::default(),
        demo: args.demo,
    };
    let login_at_start = args.login.clone();
    let dashboard_at_start = args.dashboard;

    let app = tauri::Builder::default()
        // First, so that a second launch is stopped before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            actions::second_launch(app, &argv);
        }))
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--autostart"]),
        ))
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_opener::init())
        .manage(shared)
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
        ])
        .setup(move |app| {
            logging::to_file(app.path().app_log_dir().ok());
            tray::build(app.handle())?;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "tray ready");
            let _ = out.flush();
            tracing::info!(
                elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "tray ready"
            );
            watch::spawn(app.handle().clone(), setup, rx);
            if dashboard_at_start {
                dashboard::open(app.handle(), None);
            }
            if let Some(profile) = &login_at_start {
                login::open(app.handle(), profile);
            }
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

fn context() -> tauri::Context {
    tauri::generate_context!()
}

/// If another instance runs, the single-instance plugin gives it our arguments and ends this
/// process (exit 0) while the app is built; otherwise this returns and nothing was started.
fn hand_over_to_running_app() {
    let probe = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|_, _, _| {}))
        .build(context());
    if let Err(e) = probe {
        tracing::debug!("no running app to hand over to: {e}");
    }
}

/// The shared state, from anywhere that has the app.
pub(crate) fn shared<R: tauri::Runtime>(app: &impl Manager<R>) -> tauri::State<'_, Shared> {
    app.state::<Shared>()
}
