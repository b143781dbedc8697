//! A [`Host`] that records what the controller asked of the desktop, for tests of the app's
//! behaviour without a window: each call is kept in order, and a test waits for the call it
//! expects (never for the clock).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sessionkeeper_controller::{DashboardState, Host, LoginWindow, NoticeKey, TrayModel};
use sessionkeeper_core::overview::{NoticeAction, NoticeText};
use sessionkeeper_core::secret::Secret;

/// One thing the controller asked of the desktop.
#[derive(Debug, Clone)]
pub enum Call {
    Notify {
        key: NoticeKey,
        summary: String,
        body: String,
        actions: Vec<NoticeAction>,
    },
    Withdraw(NoticeKey),
    OpenLogin {
        profile: String,
        url: String,
        prefill: bool,
        title: String,
    },
    FocusLogin(String),
    LoginBanner(String, String),
    CloseLogin(String),
    OpenDashboard(Option<String>),
    Publish(Box<DashboardState>),
    DrawTray(TrayModel),
    Copy,
    ClearClipboard,
    OpenUrl(String),
    Autostart(bool),
    Quit,
    AtRest,
}

/// The recording host; clones share the record.
#[derive(Debug, Clone)]
pub struct RecordingHost {
    calls: Arc<Mutex<Vec<Call>>>,
    changed: Arc<tokio::sync::watch::Sender<usize>>,
}

impl Default for RecordingHost {
    fn default() -> Self {
        Self {
            calls: Arc::default(),
            changed: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }
}

impl RecordingHost {
    pub fn new() -> Self {
        Self::default()
    }

    fn record(&self, call: Call) {
        self.calls.lock().expect("lock").push(call);
        self.changed.send_modify(|n| *n += 1);
    }

    /// Everything recorded so far, oldest first.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("lock").clone()
    }

    /// The notifications shown so far, as (topic key, summary).
    pub fn summaries(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Notify { summary, .. } => Some(summary),
                _ => None,
            })
            .collect()
    }

    /// The last tray drawn.
    pub fn tray(&self) -> Option<TrayModel> {
        self.calls().into_iter().rev().find_map(|c| match c {
            Call::DrawTray(t) => Some(t),
            _ => None,
        })
    }

    /// Waits until `found` finds something in the calls (it sees them all, oldest first), or
    /// fails the test with what was recorded.
    #[track_caller]
    pub fn wait_for<T>(
        &self,
        what: &str,
        within: Duration,
        found: impl Fn(&[Call]) -> Option<T>,
    ) -> T {
        let mut rx = self.changed.subscribe();
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(t) = found(&self.calls()) {
                return t;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(
                !left.is_zero(),
                "{what}: not within {within:?}; the host was asked:\n{:#?}",
                self.calls()
            );
            // Until the next call, or a moment (what `found` reads may live outside the host:
            // the history, sim), whichever comes first.
            let wait = left.min(Duration::from_millis(50));
            let _ = futures_block(async { tokio::time::timeout(wait, rx.changed()).await });
        }
    }
}

/// Runs `f` to completion on a small runtime of its own (the test thread is not async).
fn futures_block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
        .block_on(f)
}

impl Host for RecordingHost {
    fn notify(&self, key: &NoticeKey, text: &NoticeText) {
        self.record(Call::Notify {
            key: key.clone(),
            summary: text.summary.clone(),
            body: text.body.clone(),
            actions: text.actions.clone(),
        });
    }

    fn withdraw(&self, key: &NoticeKey) {
        self.record(Call::Withdraw(key.clone()));
    }

    fn open_login(&self, window: LoginWindow) {
        self.record(Call::OpenLogin {
            profile: window.profile.id.clone(),
            url: window.url.to_string(),
            prefill: window.prefill.is_some(),
            title: window.title,
        });
    }

    fn focus_login(&self, profile: &str) {
        self.record(Call::FocusLogin(profile.to_owned()));
    }

    fn login_banner(&self, profile: &str, title: &str) {
        self.record(Call::LoginBanner(profile.to_owned(), title.to_owned()));
    }

    fn close_login(&self, profile: &str) {
        self.record(Call::CloseLogin(profile.to_owned()));
    }

    fn open_dashboard(&self, profile: Option<&str>) {
        self.record(Call::OpenDashboard(profile.map(str::to_owned)));
    }

    fn publish(&self, state: &DashboardState) {
        self.record(Call::Publish(Box::new(state.clone())));
    }

    fn draw_tray(&self, tray: &TrayModel) {
        self.record(Call::DrawTray(tray.clone()));
    }

    fn copy(&self, _text: &Secret) -> Result<(), String> {
        self.record(Call::Copy);
        Ok(())
    }

    fn clear_clipboard(&self) {
        self.record(Call::ClearClipboard);
    }

    fn open_url(&self, url: &url::Url) -> Result<(), String> {
        self.record(Call::OpenUrl(url.to_string()));
        Ok(())
    }

    fn set_autostart(&self, on: bool) -> bool {
        self.record(Call::Autostart(on));
        on
    }

    fn quit(&self) {
        self.record(Call::Quit);
    }

    fn at_rest(&self) {
        self.record(Call::AtRest);
    }
}
