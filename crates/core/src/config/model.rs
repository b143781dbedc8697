//! The config file's model: what a validated `config.toml` says, as plain types. Nothing here
//! parses or checks; `validate` builds these from `raw`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use url::Url;

use crate::duration::HumanDuration;

/// The parsed, validated config file.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from (shown in errors and `status`).
    pub path: PathBuf,
    pub accounts: BTreeMap<String, Account>,
    pub profiles: BTreeMap<String, Profile>,
}

/// An API endpoint the app pushes to, with a token in the keychain (`account:<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub kind: AccountKind,
    pub api_url: Url,
    /// Vercel only: the `teamId` query parameter.
    pub team_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    Github,
    Vercel,
}

impl AccountKind {
    pub fn default_api_url(self) -> &'static str {
        match self {
            Self::Github => "https://api.github.com",
            Self::Vercel => "https://api.vercel.com",
        }
    }
}

/// How a login produces the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capture {
    /// Cookies (HttpOnly included) read from the login window.
    #[default]
    Cookies,
    /// A token read from a redirect's query parameter (`redirect_param`).
    RedirectParam,
    /// A session or token pasted by a person.
    Manual,
}

/// One kept session: how to log in, how to check it, where to push it.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The id used in commands and keychain item names (`mtn`).
    pub id: String,
    /// The display name ("MTN Wholesale").
    pub name: String,
    pub login_url: Option<Url>,
    pub capture: Capture,
    pub cookie_urls: Vec<Url>,
    pub done_when: DoneWhen,
    pub session_id_cookie: Option<String>,
    pub prefill: Option<Prefill>,
    pub redirect_param: Option<String>,
    pub tracked_ttl: HumanDuration,
    pub warn_before: HumanDuration,
    pub poll_every: HumanDuration,
    pub refresh_before: Option<HumanDuration>,
    /// How the profile logs in without a human, when its provider allows it.
    pub refresh: Option<Refresh>,
    pub validate: Option<Validate>,
    pub push: Vec<PushTarget>,
    /// Production's own check of the session it runs with (`health_url`; else the first
    /// Vercel target's `smoke_url`): asked every `poll_every`, with no credentials.
    pub health_url: Option<Url>,
}

/// A login without a human: one request with the credentials from the keychain, and
/// optionally an exchange of what it returned for the session token (the broker's flow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    /// The login, then the optional exchange; the last step's capture is the session.
    pub steps: Vec<RefreshStep>,
}

/// One request of a refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshStep {
    pub url: Url,
    pub format: BodyFormat,
    /// Body fields; values may hold `{username}`, `{password}` (from the keychain) and, in the
    /// exchange, `{value}` (what the login captured).
    pub fields: BTreeMap<String, String>,
    pub capture: RefreshCapture,
}

/// How a refresh request's body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    #[default]
    Form,
    Json,
}

/// What to take from a refresh answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshCapture {
    /// `cookie:NAME`: a `Set-Cookie` of the answer.
    Cookie(String),
    /// `json:a.b.c`: a string at that path of the JSON body.
    Json(Vec<String>),
    /// `redirect-param:NAME`: a query parameter of the `Location` the answer redirects to.
    RedirectParam(String),
}

impl RefreshCapture {
    pub(super) fn parse(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "capture = {s:?} is not one of \"cookie:NAME\", \"json:PATH.TO.FIELD\", \
                 \"redirect-param:NAME\""
            )
        };
        let (kind, arg) = s.split_once(':').ok_or_else(bad)?;
        if arg.is_empty() {
            return Err(bad());
        }
        match kind {
            "cookie" => Ok(Self::Cookie(arg.to_owned())),
            "json" => Ok(Self::Json(arg.split('.').map(str::to_owned).collect())),
            "redirect-param" => Ok(Self::RedirectParam(arg.to_owned())),
            _ => Err(bad()),
        }
    }
}

impl Profile {
    /// Whether this profile's session is a token rather than cookies.
    pub fn is_token(&self) -> bool {
        self.capture == Capture::RedirectParam
            || (self.capture == Capture::Manual && self.cookie_urls.is_empty())
    }
}

/// When a login in the window is complete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoneWhen {
    /// The page the login lands on; compared as a parsed URL (same scheme, host and port; the
    /// path at a segment boundary), never as a raw string prefix.
    pub url_prefix: Option<Url>,
    pub cookies: Vec<String>,
}

/// CSS selectors of the login form's fields, filled from the keychain.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Prefill {
    pub username: Option<String>,
    pub password: Option<String>,
}

/// The request that tells whether a session is alive, and how to read its answer.
#[derive(Debug, Clone)]
pub struct Validate {
    pub url: Url,
    pub method: HttpMethod,
    pub valid_status: Vec<u16>,
    pub invalid_status: Vec<u16>,
    /// A redirect whose target starts with this is "sent to the login": the session is invalid.
    pub invalid_redirect_prefix: Option<String>,
    /// Extra, non-secret request headers.
    pub headers: BTreeMap<String, String>,
    /// Token sessions: the header that carries the token.
    pub token_header: String,
    /// Token sessions: the header value, with `{token}` where the token goes.
    pub token_format: String,
    /// Per-attempt timeout.
    pub timeout: HumanDuration,
    /// Attempts before an `error` is reported (transient failures are retried).
    pub attempts: u32,
    /// First retry delay; doubled on each further attempt.
    pub backoff: HumanDuration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    #[default]
    Get,
    Head,
    Post,
}

/// One destination of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushTarget {
    Github(GithubTarget),
    Vercel(VercelTarget),
    File(FileTarget),
}

impl PushTarget {
    /// The account name, or "file".
    pub fn account(&self) -> &str {
        match self {
            Self::Github(t) => &t.account,
            Self::Vercel(t) => &t.account,
            Self::File(_) => "file",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubTarget {
    pub account: String,
    pub scope: GithubScope,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GithubScope {
    Repository { repo: String },
    Environment { repo: String, environment: String },
    Organization { org: String, visibility: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VercelTarget {
    pub account: String,
    pub project: String,
    pub env: String,
    pub targets: Vec<String>,
    pub kind: String,
    pub redeploy: bool,
    /// Redeploy through the project's Deploy Hook (URL in the keychain as
    /// `deploy-hook:<account>/<project>`) instead of the deployments API.
    pub deploy_hook: bool,
    pub smoke_url: Option<Url>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTarget {
    pub path: PathBuf,
    pub format: FileFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Json,
    Base64,
}

/// The `{name}` placeholders in `value`.
pub fn placeholders(value: &str) -> impl Iterator<Item = &str> {
    value
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// What a loaded profile still lacks to do its whole job (the config is valid, but e.g. a
/// profile without `validate` can never be checked). Empty when nothing is missing.
pub fn problems(profile: &Profile) -> Vec<String> {
    let id = &profile.id;
    let mut problems = Vec::new();
    if profile.validate.is_none() {
        problems.push(format!(
            "no [profiles.{id}.validate] table: it cannot be checked"
        ));
    }
    if profile.capture != Capture::Manual && profile.login_url.is_none() {
        problems.push(
            "no login_url: the login window cannot open (paste a session instead)".to_owned(),
        );
    }
    if profile.capture == Capture::Cookies
        && profile.done_when.url_prefix.is_none()
        && profile.done_when.cookies.is_empty()
        && profile.session_id_cookie.is_none()
    {
        problems.push(
            "neither done_when nor session_id_cookie: a completed login cannot be recognised"
                .to_owned(),
        );
    }
    problems
}
