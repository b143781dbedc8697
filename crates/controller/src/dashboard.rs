//! What the dashboard shows, as data: a card per profile (core's [`ProfileStatus`], plus what
//! only the running app knows), and the answers of its commands. The controller builds it
//! when something changed and the host hands it to the page; the page counts down by itself.

use serde::Serialize;
use sessionkeeper_core::status::ProfileStatus;
use sessionkeeper_core::vault::SecretState;

/// The dashboard's whole state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardState {
    /// When it was built (the page counts down from here).
    pub now: chrono::DateTime<chrono::Utc>,
    pub demo: bool,
    pub profiles: Vec<Card>,
    /// The keychain's problem, when it cannot be read.
    pub keychain_error: Option<String>,
    /// The config file's error (file, line, key), while it does not load: the app runs on the
    /// last config that did (or with no profile at all).
    pub config_error: Option<String>,
    /// Where the config file is (the welcome page names it).
    pub config_file: String,
    /// "Add a session": the login being recorded and its proposal.
    pub recording: Option<RecordingView>,
}

/// The login recorder, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingView {
    /// The profile id it proposes.
    pub id: String,
    pub name: String,
    pub api_url: Option<String>,
    /// `recording`, `proposed`, `ask-url` (the API URL cannot tell the two answers apart) or
    /// `closed` (the window was closed first).
    pub state: String,
    pub message: String,
    /// The proposal in plain words.
    pub words: Vec<String>,
    /// The proposal as TOML (values of no secret), for the human to check or edit.
    pub toml: Option<String>,
}

/// One profile's card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    #[serde(flatten)]
    pub status: ProfileStatus,
    /// A login window is open for it.
    pub login_open: bool,
    /// The words of its production state ("production behind: …"), when it is not simply fine.
    pub production: Option<String>,
    /// The login form's fields the SSO credentials are filled into (CSS selectors).
    pub prefill: Option<sessionkeeper_core::config::Prefill>,
    /// The team's words: "Alice is re-authenticating (since 10:02)", "renewed by Alice at
    /// 10:04", or why the team cannot see this login.
    pub team: Option<String>,
    /// A teammate's fresh claim on its re-authentication.
    pub claim: Option<sessionkeeper_core::team::Claim>,
}

/// The seeds' "configuration status": which secrets are set (never their values) and what
/// each profile is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Configuration {
    pub file: String,
    /// The file as it is now, if it no longer loads (edited since the app started): file,
    /// line, key and what is valid. The app runs on the config it started with.
    pub config_error: Option<String>,
    pub secrets: Vec<SecretState>,
    /// profile id → what it is missing.
    pub problems: std::collections::BTreeMap<String, Vec<String>>,
    pub keychain_error: Option<String>,
}

/// One target's answer to the token check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reach {
    pub target: String,
    pub ok: bool,
    pub detail: String,
}
