//! What the controller is asked to do. Every edge of the app (a tray menu item, a
//! notification's button, a second launch's arguments, a dashboard command, the login
//! window's observations) turns its input into an [`Intent`] once, here or in its one
//! `from_*` function, and sends it down the one channel.

use std::sync::Arc;

use sessionkeeper_core::config::{Config, NewTarget, Prefill, Timings};
use sessionkeeper_core::overview::NoticeAction;
use sessionkeeper_core::secret::Secret;
use sessionkeeper_core::session::Cookie;
use url::Url;

use crate::dashboard::{Configuration, DashboardState, Reach};

/// Where a command's answer goes (the dashboard awaits it).
pub type Reply<T> = tokio::sync::oneshot::Sender<T>;

/// One thing the controller is asked to do.
#[derive(Debug)]
pub enum Intent {
    /// Validate now.
    Validate {
        profile: String,
    },
    /// Open the login window (or focus the open one).
    Reauthenticate {
        profile: String,
    },
    /// The fallback for providers that refuse embedded browsers: the system browser and the
    /// dashboard's paste form.
    OpenInBrowser {
        profile: String,
    },
    /// Push the current session to every target again.
    PushAll {
        profile: String,
    },
    /// Push the current session to the target at `index` (config order).
    PushTarget {
        profile: String,
        index: usize,
    },
    /// Put the export on the clipboard for a minute.
    CopyExport {
        profile: String,
    },
    /// Take a teammate's claim on the re-authentication over, and open the login window.
    TakeOver {
        profile: String,
    },
    /// Leave the re-authentication to the teammate who holds it.
    Wait {
        profile: String,
    },
    /// Hold back the profile's notices for an hour.
    Snooze {
        profile: String,
    },
    /// What the login window of `profile` shows now: its URL and the cookies of the
    /// profile's `cookie_urls` (HttpOnly included).
    LoginSeen {
        profile: String,
        url: Url,
        cookies: Vec<Cookie>,
    },
    /// A token taken from a redirect in the login window (`redirect-param`).
    LoginToken {
        profile: String,
        token: Secret,
    },
    /// The login window of `profile` closed (or could not open).
    LoginClosed {
        profile: String,
    },
    /// "Add a session": open a login window in recording mode for a new profile.
    RecordLogin {
        name: String,
        login_url: String,
        api_url: String,
        reply: Reply<Result<String, String>>,
    },
    /// What the recording window shows: the main frame's URL (it may carry the session) and
    /// every cookie of its jar.
    RecordSeen {
        profile: String,
        url: Secret,
        cookies: Vec<Cookie>,
    },
    /// The API URL could not tell a live session from a dead one: try this one.
    RecordAgain {
        api_url: String,
        reply: Reply<Result<String, String>>,
    },
    /// The proposal (as shown, or as the human edited it) goes into the config file.
    RecordConfirm {
        toml: String,
        reply: Reply<Result<String, String>>,
    },
    RecordCancel,
    /// A push target for `profile` (and its account's token, if given).
    AddTarget {
        profile: String,
        target: NewTarget,
        token: Option<Secret>,
        reply: Reply<Result<String, String>>,
    },
    /// Check a target's token before it is saved.
    CheckTarget {
        profile: String,
        target: NewTarget,
        token: Option<Secret>,
        reply: Reply<Result<Vec<Reach>, String>>,
    },
    /// A token or credential typed in the dashboard, into the keychain.
    SetSecret {
        name: String,
        value: Secret,
        reply: Reply<Result<String, String>>,
    },
    /// The login form's fields the SSO username and password are filled into.
    SetPrefill {
        profile: String,
        prefill: Prefill,
        reply: Reply<Result<String, String>>,
    },
    SetTimings {
        profile: String,
        timings: Timings,
        reply: Reply<Result<String, String>>,
    },
    /// Set `tracked_ttl` to the learned lifetime's suggestion.
    ApplyLearned {
        profile: String,
        reply: Reply<Result<String, String>>,
    },
    /// Remove the profile from the config, with its keychain items and session files.
    RemoveProfile {
        profile: String,
        reply: Reply<Result<String, String>>,
    },
    OpenDashboard {
        profile: Option<String>,
    },
    DashboardOpened,
    DashboardClosed,
    /// The dashboard's state now (the page asks when it loads; then it hears of changes).
    DashboardState {
        reply: Reply<DashboardState>,
    },
    /// A session pasted in the dashboard: validated, then stored and pushed.
    Paste {
        profile: String,
        text: Secret,
        reply: Reply<Result<String, String>>,
    },
    /// Move the tracked expiry after a successful validation.
    Extend {
        profile: String,
        reply: Reply<Result<String, String>>,
    },
    /// One cheap authenticated call per target, writing nothing.
    CheckTokens {
        profile: String,
        reply: Reply<Result<Vec<Reach>, String>>,
    },
    /// Which secrets are set and what each profile lacks.
    Configuration {
        reply: Reply<Configuration>,
    },
    ToggleAutostart,
    /// A token or credential was set or removed (by the CLI, say): what failed for want of
    /// one is tried again.
    SecretsChanged,
    /// Another program stored a session (an `import`, a `restore`): read it again.
    SessionsChanged,
    /// The network came back: check and push what waited for it.
    NetworkUp,
    /// The config file changed (live reload): the config it holds now, or why it does not
    /// load (file, line, key), in which case the last good config goes on running.
    ConfigChanged {
        config: Result<Arc<Config>, String>,
    },
    /// Raise the keychain's unlock prompt (unless one is on screen).
    UnlockKeychain,
    /// A second launch with nothing to do: the human is told the app runs already.
    AlreadyRunning,
    Quit,
}

/// The tray menu's items, and their ids (`validate:mtn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuItem {
    Validate,
    Reauthenticate,
    Browser,
    Push,
    Copy,
}

impl MenuItem {
    fn key(self) -> &'static str {
        match self {
            Self::Validate => "validate",
            Self::Reauthenticate => "reauth",
            Self::Browser => "browser",
            Self::Push => "push",
            Self::Copy => "copy",
        }
    }

    /// The item's text in a profile's submenu.
    pub fn label(self) -> &'static str {
        match self {
            Self::Validate => "Validate now",
            Self::Reauthenticate => "Re-authenticate…",
            Self::Browser => "Log in in the browser, then paste…",
            Self::Push => "Push again",
            Self::Copy => "Copy export",
        }
    }

    /// The menu id of this item for `profile`.
    pub fn id(self, profile: &str) -> String {
        format!("{}:{profile}", self.key())
    }

    pub const ALL: [Self; 5] = [
        Self::Validate,
        Self::Reauthenticate,
        Self::Browser,
        Self::Push,
        Self::Copy,
    ];
}

/// The ids of the items that are not about one profile.
pub const MENU_DASHBOARD: &str = "dashboard";
pub const MENU_AUTOSTART: &str = "autostart";
pub const MENU_QUIT: &str = "quit";
pub const MENU_UNLOCK: &str = "unlock";
/// Opens the dashboard's "Add a session" form (the tray offers it always; with no profile
/// yet, it is the welcome page's).
pub const MENU_ADD_SESSION: &str = "add-session";
/// The dashboard's place of the "Add a session" form (`index.html#+add`): `+` is in no
/// profile id, so no profile's card can be taken for it.
pub const ADD_SESSION_PAGE: &str = "+add";

impl Intent {
    /// The intent of the tray menu item `id`, if it has one.
    pub fn from_menu(id: &str) -> Option<Self> {
        match id {
            MENU_DASHBOARD => return Some(Self::OpenDashboard { profile: None }),
            MENU_ADD_SESSION => {
                return Some(Self::OpenDashboard {
                    profile: Some(ADD_SESSION_PAGE.to_owned()),
                });
            }
            MENU_AUTOSTART => return Some(Self::ToggleAutostart),
            MENU_QUIT => return Some(Self::Quit),
            MENU_UNLOCK => return Some(Self::UnlockKeychain),
            _ => {}
        }
        let (key, profile) = id.split_once(':')?;
        let profile = profile.to_owned();
        let item = MenuItem::ALL.into_iter().find(|i| i.key() == key)?;
        Some(match item {
            MenuItem::Validate => Self::Validate { profile },
            MenuItem::Reauthenticate => Self::Reauthenticate { profile },
            MenuItem::Browser => Self::OpenInBrowser { profile },
            MenuItem::Push => Self::PushAll { profile },
            MenuItem::Copy => Self::CopyExport { profile },
        })
    }

    /// The intent of a notification's button.
    pub fn from_notice_action(profile: &str, action: NoticeAction) -> Self {
        let profile = profile.to_owned();
        match action {
            NoticeAction::Reauthenticate => Self::Reauthenticate { profile },
            NoticeAction::Snooze => Self::Snooze { profile },
            NoticeAction::PushAgain => Self::PushAll { profile },
            NoticeAction::TakeOver => Self::TakeOver { profile },
            NoticeAction::Wait => Self::Wait { profile },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_menu_item_maps_back_to_its_intent() {
        for item in MenuItem::ALL {
            let intent = Intent::from_menu(&item.id("mtn")).expect("an intent");
            let profile = match &intent {
                Intent::Validate { profile }
                | Intent::Reauthenticate { profile }
                | Intent::OpenInBrowser { profile }
                | Intent::PushAll { profile }
                | Intent::CopyExport { profile } => profile.clone(),
                other => panic!("{item:?} → {other:?}"),
            };
            assert_eq!(profile, "mtn");
        }
        assert!(matches!(Intent::from_menu("quit"), Some(Intent::Quit)));
        assert!(matches!(
            Intent::from_menu(MENU_UNLOCK),
            Some(Intent::UnlockKeychain)
        ));
        assert!(Intent::from_menu("nonsense:mtn").is_none());
        assert!(
            Intent::from_menu("profile:mtn").is_none(),
            "a submenu is no action"
        );
    }
}
