//! The only way from the controller out to the desktop. `src-tauri` implements [`Host`] over
//! Tauri's `AppHandle` (tray, notifications, windows, clipboard); tests implement it with a
//! recording fake. Every method returns at once: the host does the slow part on its own
//! threads and reports back, if at all, through intents.

use sessionkeeper_core::config::Profile;
use sessionkeeper_core::overview::{NoticeText, TrayColour};
use sessionkeeper_core::secret::Secret;
use url::Url;

use crate::dashboard::DashboardState;

/// Names one notification: its profile and what it is about. Showing another notification
/// with the same key replaces it; [`Host::withdraw`] closes it when its episode ends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NoticeKey {
    pub profile: String,
    pub topic: Topic,
}

/// What a notification is about; one of each per profile at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    /// The session's episode: expiring, expired, cannot check, valid again.
    Session,
    /// The result of a push.
    Push,
    /// A target behind, or production refusing the session.
    Production,
    /// A refresh without a human.
    Refresh,
    /// Something the human asked for that could not be done.
    Problem,
    /// The app itself (already running, a restart).
    App,
    /// The keychain is locked.
    Keychain,
    /// The config file no longer loads.
    Config,
    /// A teammate holds the claim on a re-authentication (asked before taking over).
    Team,
}

impl NoticeKey {
    pub fn new(profile: &str, topic: Topic) -> Self {
        Self {
            profile: profile.to_owned(),
            topic,
        }
    }
}

/// What the tray shows: its colour and a line per profile, each with its items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayModel {
    pub colour: TrayColour,
    /// The tooltip: one line per profile.
    pub tooltip: String,
    pub lines: Vec<TrayLine>,
    pub autostart: bool,
    /// While the keychain is locked: what waits (with an Unlock item beside it).
    pub keychain: Option<String>,
    /// The config file's error (file, line, key), while it does not load.
    pub config_error: Option<String>,
}

/// One profile in the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayLine {
    pub profile: String,
    /// "MTN Wholesale: valid, 42 min left".
    pub title: String,
    pub can_push: bool,
}

/// A login window to open: the profile's login page, the pre-fill script (it holds the
/// password) and the title that tells the human what to do.
#[derive(Debug, Clone)]
pub struct LoginWindow {
    pub profile: Profile,
    pub url: Url,
    pub prefill: Option<Secret>,
    pub title: String,
    /// The login recorder's window: it reports its every page and cookie
    /// ([`crate::Intent::RecordSeen`]) instead of capturing for the profile.
    pub recording: bool,
}

/// The desktop, as the controller uses it.
pub trait Host: Send + Sync + 'static {
    /// Shows `text`; a notification already shown under `key` is replaced.
    fn notify(&self, key: &NoticeKey, text: &NoticeText);
    /// Closes the notification shown under `key`, if it is still on screen.
    fn withdraw(&self, key: &NoticeKey);
    /// Opens a login window; the host reports what it sees in it with
    /// [`crate::Intent::LoginSeen`], [`crate::Intent::LoginToken`] and
    /// [`crate::Intent::LoginClosed`].
    fn open_login(&self, window: LoginWindow);
    /// Brings the open login window of `profile` forward.
    fn focus_login(&self, profile: &str);
    /// Says what is happening in the login window (its title).
    fn login_banner(&self, profile: &str, title: &str);
    /// Closes the login window of `profile`.
    fn close_login(&self, profile: &str);
    /// Opens (or focuses) the dashboard, with `profile`'s card in view.
    fn open_dashboard(&self, profile: Option<&str>);
    /// Hands the dashboard its new state (only called while it is open).
    fn publish(&self, state: &DashboardState);
    /// Redraws the tray.
    fn draw_tray(&self, tray: &TrayModel);
    /// Puts `text` on the clipboard, marked as a secret for clipboard managers.
    fn copy(&self, text: &Secret) -> Result<(), String>;
    /// Clears the clipboard if it still holds what [`Host::copy`] put there.
    fn clear_clipboard(&self);
    /// Opens `url` in the system browser.
    fn open_url(&self, url: &Url) -> Result<(), String>;
    /// Turns start-at-login on or off; returns the state it is in afterwards.
    fn set_autostart(&self, on: bool) -> bool;
    /// Ends the app.
    fn quit(&self);
    /// The app is at rest: what it was doing is done, nothing is in flight, nothing is due
    /// for a while and no window of the app is open. The host may give back memory that
    /// only the finished work needed.
    fn at_rest(&self);
}
