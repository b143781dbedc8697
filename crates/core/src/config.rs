//! The config file (`config.toml`): accounts, profiles, how to validate them, where to push.
//!
//! Every error names the file, the line, the dotted key and what would be valid, because the
//! person reading it is fixing a file by hand. Unknown keys are errors (a typo must not be
//! silently ignored), and plain `http://` is refused except for loopback addresses.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::duration::HumanDuration;
use crate::error::ConfigError;

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
    fn parse(s: &str) -> Result<Self, String> {
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoneWhen {
    pub url_prefix: Option<Spanned<String>>,
    #[serde(default)]
    pub cookies: Vec<String>,
}

/// CSS selectors of the login form's fields, filled from the keychain.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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

// ---------------------------------------------------------------------------------------------
// The raw shape of the file, as serde sees it. Spanned fields are those whose errors are only
// found after parsing (cross-references, combinations), so they can still point at a line.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    accounts: BTreeMap<String, Spanned<RawAccount>>,
    #[serde(default)]
    profiles: BTreeMap<Spanned<String>, Spanned<RawProfile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    kind: AccountKind,
    api_url: Option<Spanned<String>>,
    team_id: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Option<String>,
    login_url: Option<Spanned<String>>,
    #[serde(default)]
    capture: Capture,
    #[serde(default)]
    cookie_urls: Vec<Spanned<String>>,
    #[serde(default)]
    done_when: DoneWhen,
    session_id_cookie: Option<String>,
    prefill: Option<Prefill>,
    redirect_param: Option<String>,
    tracked_ttl: Option<HumanDuration>,
    warn_before: Option<HumanDuration>,
    poll_every: Option<Spanned<HumanDuration>>,
    refresh_before: Option<HumanDuration>,
    refresh: Option<Spanned<RawRefresh>>,
    validate: Option<Spanned<RawValidate>>,
    #[serde(default)]
    push: Vec<Spanned<RawPush>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRefresh {
    url: Spanned<String>,
    #[serde(default)]
    format: BodyFormat,
    fields: Option<Spanned<BTreeMap<String, String>>>,
    capture: Spanned<String>,
    exchange: Option<Spanned<RawRefreshStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRefreshStep {
    url: Spanned<String>,
    #[serde(default)]
    format: BodyFormat,
    fields: Option<Spanned<BTreeMap<String, String>>>,
    capture: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValidate {
    url: Spanned<String>,
    #[serde(default)]
    method: HttpMethod,
    valid_status: Option<Spanned<Vec<u16>>>,
    invalid_status: Option<Spanned<Vec<u16>>>,
    invalid_redirect_prefix: Option<Spanned<String>>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    token_header: Option<String>,
    token_format: Option<Spanned<String>>,
    timeout: Option<HumanDuration>,
    attempts: Option<Spanned<u32>>,
    backoff: Option<HumanDuration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPush {
    to: Spanned<String>,
    // github
    repo: Option<Spanned<String>>,
    org: Option<Spanned<String>>,
    secret: Option<Spanned<String>>,
    environment: Option<Spanned<String>>,
    visibility: Option<Spanned<String>>,
    // vercel
    project: Option<Spanned<String>>,
    env: Option<Spanned<String>>,
    targets: Option<Spanned<Vec<String>>>,
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    redeploy: Option<bool>,
    deploy_hook: Option<bool>,
    smoke_url: Option<Spanned<String>>,
    // file
    path: Option<Spanned<String>>,
    format: Option<FileFormat>,
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

/// Default path: `$XDG_CONFIG_HOME/sessionkeeper/config.toml` (platform config dir elsewhere).
pub fn default_path() -> Option<PathBuf> {
    crate::paths::config_dir().map(|d| d.join("config.toml"))
}

impl Config {
    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let what = if e.kind() == std::io::ErrorKind::NotFound {
                "file not found: create it (see README, \"Config\") or pass --config FILE"
                    .to_owned()
            } else {
                format!("cannot read the file: {e}")
            };
            ConfigError::whole_file(path, what)
        })?;
        Self::parse(&text, path)
    }

    /// Validate config text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            ConfigError::at(path, text, e.span(), e.message().trim_end().to_owned())
        })?;
        Validator { path, text }.config(raw)
    }

    /// Set `profiles.<id>.tracked_ttl` in the file at `path`, keeping its comments and layout
    /// (the learned-lifetime offer). The edited text must still load, or nothing is written;
    /// the file is replaced atomically with its permissions kept.
    pub fn set_tracked_ttl(path: &Path, id: &str, ttl: HumanDuration) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::whole_file(path, format!("cannot read the file: {e}")))?;
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            ConfigError::at(path, &text, e.span(), e.message().trim_end().to_owned())
        })?;
        let profile = doc
            .get_mut("profiles")
            .and_then(|p| p.get_mut(id))
            .and_then(toml_edit::Item::as_table_like_mut)
            .ok_or_else(|| {
                ConfigError::whole_file(path, format!("no [profiles.{id}] table in the file"))
            })?;
        let mut value = toml_edit::Value::from(ttl.to_string());
        match profile
            .get_mut("tracked_ttl")
            .and_then(toml_edit::Item::as_value_mut)
        {
            // In place: the key keeps its comment lines, the value its trailing `# comment`.
            Some(old) => {
                *value.decor_mut() = old.decor().clone();
                *old = value;
            }
            None => {
                profile.insert("tracked_ttl", toml_edit::Item::Value(value));
            }
        }
        let edited = doc.to_string();
        let config = Self::parse(&edited, path)?;
        crate::paths::rewrite_keeping_permissions(path, edited.as_bytes())
            .map_err(|e| ConfigError::whole_file(path, format!("cannot write the file: {e}")))?;
        Ok(config)
    }

    pub fn profile(&self, id: &str) -> Result<&Profile, crate::Error> {
        self.profiles
            .get(id)
            .ok_or_else(|| crate::Error::UnknownProfile {
                id: id.to_owned(),
                known: self.profiles.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }
}

struct Validator<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Validator<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError::at(self.path, self.text, Some(span), message.into())
    }

    fn url(&self, s: &Spanned<String>) -> Result<Url, ConfigError> {
        parse_http_url(s.get_ref()).map_err(|m| self.err(s.span(), m))
    }

    fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let mut accounts = BTreeMap::new();
        for (name, acc) in raw.accounts {
            let span = acc.span();
            let acc = acc.into_inner();
            if !is_identifier(&name) || name == "file" {
                return Err(self.err(
                    span,
                    format!(
                        "account name {name:?} is not allowed: use lowercase letters, digits, '-' \
                         or '_' (and not \"file\", which names the local-file target)"
                    ),
                ));
            }
            let api_url = match &acc.api_url {
                Some(u) => self.url(u)?,
                None => Url::parse(acc.kind.default_api_url()).expect("constant URL is valid"),
            };
            if let (Some(team), AccountKind::Github) = (&acc.team_id, acc.kind) {
                return Err(self.err(
                    team.span(),
                    "team_id only applies to kind = \"vercel\" accounts; remove it",
                ));
            }
            let team_id = acc.team_id.map(Spanned::into_inner);
            accounts.insert(
                name.clone(),
                Account {
                    name,
                    kind: acc.kind,
                    api_url,
                    team_id,
                },
            );
        }

        let mut profiles = BTreeMap::new();
        for (id, p) in raw.profiles {
            let profile = self.profile(&id, p, &accounts)?;
            profiles.insert(profile.id.clone(), profile);
        }
        Ok(Config {
            path: self.path.to_owned(),
            accounts,
            profiles,
        })
    }

    fn profile(
        &self,
        id: &Spanned<String>,
        raw: Spanned<RawProfile>,
        accounts: &BTreeMap<String, Account>,
    ) -> Result<Profile, ConfigError> {
        let span = raw.span();
        let raw = raw.into_inner();
        if !is_identifier(id.get_ref()) {
            return Err(self.err(
                id.span(),
                format!(
                    "profile id {:?} is not allowed: use lowercase letters, digits, '-' or '_', \
                     starting with a letter or digit (it names keychain items)",
                    id.get_ref()
                ),
            ));
        }
        let login_url = raw.login_url.as_ref().map(|u| self.url(u)).transpose()?;
        let cookie_urls = raw
            .cookie_urls
            .iter()
            .map(|u| self.url(u))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(prefix) = &raw.done_when.url_prefix {
            self.url(prefix)?;
        }
        if raw.capture == Capture::RedirectParam && raw.redirect_param.is_none() {
            return Err(self.err(
                span,
                "capture = \"redirect-param\" needs redirect_param = \"NAME\" (the query \
                 parameter that carries the token, e.g. \"apisession\")",
            ));
        }
        if raw.capture == Capture::Cookies && raw.login_url.is_some() && cookie_urls.is_empty() {
            return Err(self.err(
                span,
                "capture = \"cookies\" needs cookie_urls = [\"https://…/\"] (the sites whose \
                 cookies make up the session)",
            ));
        }
        let poll_every = match raw.poll_every {
            Some(p) if p.get_ref().0 < std::time::Duration::from_secs(10) => {
                return Err(self.err(
                    p.span(),
                    "poll_every must be at least \"10s\" (the provider would see it as abuse)",
                ));
            }
            Some(p) => p.into_inner(),
            None => HumanDuration::from_mins(5),
        };
        let validate = raw
            .validate
            .map(|v| self.validate(v, login_url.as_ref()))
            .transpose()?;
        let is_token = raw.capture == Capture::RedirectParam
            || (raw.capture == Capture::Manual && cookie_urls.is_empty());
        let refresh = raw.refresh.map(|r| self.refresh(r, is_token)).transpose()?;
        // A profile that refreshes itself starts 15 minutes ahead of its tracked expiry.
        let refresh_before = raw
            .refresh_before
            .or_else(|| refresh.as_ref().map(|_| HumanDuration::from_mins(15)));
        let push = raw
            .push
            .into_iter()
            .map(|p| self.push(p, accounts))
            .collect::<Result<_, _>>()?;
        Ok(Profile {
            id: id.get_ref().clone(),
            name: raw.name.unwrap_or_else(|| id.get_ref().clone()),
            login_url,
            capture: raw.capture,
            cookie_urls,
            done_when: raw.done_when,
            session_id_cookie: raw.session_id_cookie,
            prefill: raw.prefill,
            redirect_param: raw.redirect_param,
            tracked_ttl: raw.tracked_ttl.unwrap_or(HumanDuration::from_mins(60)),
            warn_before: raw.warn_before.unwrap_or(HumanDuration::from_mins(30)),
            poll_every,
            refresh_before,
            refresh,
            validate,
            push,
        })
    }

    fn refresh(&self, raw: Spanned<RawRefresh>, is_token: bool) -> Result<Refresh, ConfigError> {
        let span = raw.span();
        let raw = raw.into_inner();
        let login = RawRefreshStep {
            url: raw.url,
            format: raw.format,
            fields: raw.fields,
            capture: raw.capture,
        };
        let mut steps = vec![self.refresh_step(login, false)?];
        if let Some(exchange) = raw.exchange {
            steps.push(self.refresh_step(exchange.into_inner(), true)?);
        }
        let last = steps.last().map(|s| &s.capture);
        match last {
            Some(RefreshCapture::Cookie(_)) if is_token => Err(self.err(
                span,
                "this profile's session is a token: capture it with \"json:PATH\" or \
                 \"redirect-param:NAME\", not a cookie",
            )),
            Some(RefreshCapture::Json(_) | RefreshCapture::RedirectParam(_)) if !is_token => {
                Err(self.err(
                    span,
                    "this profile's session is cookies: capture it with \"cookie:NAME\"",
                ))
            }
            _ => Ok(Refresh { steps }),
        }
    }

    fn refresh_step(
        &self,
        raw: RawRefreshStep,
        exchange: bool,
    ) -> Result<RefreshStep, ConfigError> {
        let url = self.url(&raw.url)?;
        let capture = RefreshCapture::parse(raw.capture.get_ref())
            .map_err(|m| self.err(raw.capture.span(), m))?;
        let allowed: &[&str] = if exchange {
            &["username", "password", "value"]
        } else {
            &["username", "password"]
        };
        let (fields, fields_span) = match raw.fields {
            Some(f) => {
                let span = f.span();
                (f.into_inner(), span)
            }
            None => (BTreeMap::new(), raw.url.span()),
        };
        for value in fields.values() {
            for placeholder in placeholders(value) {
                if !allowed.contains(&placeholder) {
                    return Err(self.err(
                        fields_span.clone(),
                        format!(
                            "unknown placeholder {{{placeholder}}}: the fields may use {}",
                            allowed
                                .iter()
                                .map(|a| format!("{{{a}}}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(RefreshStep {
            url,
            format: raw.format,
            fields,
            capture,
        })
    }

    fn validate(
        &self,
        raw: Spanned<RawValidate>,
        login_url: Option<&Url>,
    ) -> Result<Validate, ConfigError> {
        let raw = raw.into_inner();
        let url = self.url(&raw.url)?;
        let statuses = |s: Option<Spanned<Vec<u16>>>, default: &[u16]| match s {
            Some(s) if s.get_ref().iter().any(|c| !(100..=599).contains(c)) => {
                Err(self.err(s.span(), "HTTP status codes are between 100 and 599"))
            }
            Some(s) if s.get_ref().is_empty() => {
                Err(self.err(s.span(), "list at least one HTTP status code"))
            }
            Some(s) => Ok(s.into_inner()),
            None => Ok(default.to_vec()),
        };
        let valid_status = statuses(raw.valid_status, &[200])?;
        let invalid_status = statuses(raw.invalid_status, &[401, 403])?;
        if let Some(both) = valid_status.iter().find(|c| invalid_status.contains(c)) {
            return Err(self.err(
                raw.url.span(),
                format!("status {both} is listed in both valid_status and invalid_status"),
            ));
        }
        let invalid_redirect_prefix = match raw.invalid_redirect_prefix {
            Some(p) => {
                self.url(&p)?;
                Some(p.into_inner())
            }
            // A redirect to the login page's origin means "log in again".
            None => login_url.map(|u| format!("{}/", u.origin().ascii_serialization())),
        };
        let token_header = raw
            .token_header
            .unwrap_or_else(|| "Authorization".to_owned());
        let token_format = match raw.token_format {
            Some(f) if !f.get_ref().contains("{token}") => {
                return Err(self.err(f.span(), "token_format must contain {token}"));
            }
            Some(f) => f.into_inner(),
            None if token_header.eq_ignore_ascii_case("authorization") => {
                "Bearer {token}".to_owned()
            }
            None => "{token}".to_owned(),
        };
        let attempts = match raw.attempts {
            Some(a) if !(1..=10).contains(a.get_ref()) => {
                return Err(self.err(a.span(), "attempts must be between 1 and 10"));
            }
            Some(a) => a.into_inner(),
            None => 3,
        };
        Ok(Validate {
            url,
            method: raw.method,
            valid_status,
            invalid_status,
            invalid_redirect_prefix,
            headers: raw.headers,
            token_header,
            token_format,
            timeout: raw.timeout.unwrap_or(HumanDuration::from_secs(15)),
            attempts,
            backoff: raw.backoff.unwrap_or(HumanDuration::from_secs(1)),
        })
    }

    fn push(
        &self,
        raw: Spanned<RawPush>,
        accounts: &BTreeMap<String, Account>,
    ) -> Result<PushTarget, ConfigError> {
        let span = raw.span();
        let raw = raw.into_inner();
        let need = |field: &Option<Spanned<String>>, what: &str| {
            field
                .as_ref()
                .map(|f| f.get_ref().clone())
                .ok_or_else(|| self.err(span.clone(), format!("this push target needs {what}")))
        };
        let to = raw.to.get_ref();
        if to == "file" {
            let path = need(&raw.path, "path = \"~/.cache/NAME.json\"")?;
            return Ok(PushTarget::File(FileTarget {
                path: crate::paths::expand_home(&path),
                format: raw.format.unwrap_or(FileFormat::Json),
            }));
        }
        let Some(account) = accounts.get(to) else {
            let known: Vec<_> = accounts
                .keys()
                .map(String::as_str)
                .chain(["file"])
                .collect();
            return Err(self.err(
                raw.to.span(),
                format!(
                    "no account named {to:?}: valid values are {} (define [accounts.{to}] to add one)",
                    known.join(", ")
                ),
            ));
        };
        match account.kind {
            AccountKind::Github => {
                let secret_field = raw.secret.as_ref();
                let secret = need(&raw.secret, "secret = \"NAME\"")?;
                if let Err(why) = check_github_secret_name(&secret) {
                    let s = secret_field.map(Spanned::span).unwrap_or(span.clone());
                    return Err(self.err(s, why));
                }
                let scope = match (&raw.repo, &raw.org, &raw.environment) {
                    (Some(repo), None, None) => GithubScope::Repository {
                        repo: self.repo(repo)?,
                    },
                    (Some(repo), None, Some(env)) => GithubScope::Environment {
                        repo: self.repo(repo)?,
                        environment: env.get_ref().clone(),
                    },
                    (None, Some(org), None) => {
                        let visibility = raw
                            .visibility
                            .as_ref()
                            .map(|v| v.get_ref().clone())
                            .unwrap_or_else(|| "private".to_owned());
                        if !["all", "private", "selected"].contains(&visibility.as_str()) {
                            let s = raw.visibility.as_ref().map(Spanned::span).unwrap_or(span);
                            return Err(self.err(
                                s,
                                "visibility must be \"all\", \"private\" or \"selected\"",
                            ));
                        }
                        GithubScope::Organization {
                            org: org.get_ref().clone(),
                            visibility,
                        }
                    }
                    _ => {
                        return Err(self.err(
                            span,
                            "a github push needs repo = \"OWNER/REPO\" (optionally with \
                             environment = \"NAME\"), or org = \"ORG\"",
                        ));
                    }
                };
                Ok(PushTarget::Github(GithubTarget {
                    account: to.clone(),
                    scope,
                    secret,
                }))
            }
            AccountKind::Vercel => {
                let project = need(&raw.project, "project = \"NAME_OR_ID\"")?;
                let env = need(&raw.env, "env = \"NAME\"")?;
                let targets = match raw.targets {
                    Some(t) => {
                        let valid = ["production", "preview", "development"];
                        if t.get_ref().is_empty()
                            || t.get_ref().iter().any(|x| !valid.contains(&x.as_str()))
                        {
                            return Err(self.err(
                                t.span(),
                                "targets must list some of \"production\", \"preview\", \
                                 \"development\"",
                            ));
                        }
                        t.into_inner()
                    }
                    None => vec!["production".to_owned()],
                };
                let kind = match raw.kind {
                    Some(k) => {
                        if !["encrypted", "sensitive", "plain"].contains(&k.get_ref().as_str()) {
                            return Err(self.err(
                                k.span(),
                                "type must be \"encrypted\", \"sensitive\" or \"plain\"",
                            ));
                        }
                        if k.get_ref() == "sensitive" && targets.iter().any(|t| t == "development")
                        {
                            return Err(self.err(
                                k.span(),
                                "Vercel does not allow type = \"sensitive\" for the development \
                                 target: use \"encrypted\" or drop \"development\"",
                            ));
                        }
                        k.into_inner()
                    }
                    None => "encrypted".to_owned(),
                };
                let smoke_url = raw.smoke_url.as_ref().map(|u| self.url(u)).transpose()?;
                Ok(PushTarget::Vercel(VercelTarget {
                    account: to.clone(),
                    project,
                    env,
                    targets,
                    kind,
                    // A Deploy Hook is a way to redeploy, so asking for one means redeploying.
                    redeploy: raw.redeploy.unwrap_or(false) || raw.deploy_hook.unwrap_or(false),
                    deploy_hook: raw.deploy_hook.unwrap_or(false),
                    smoke_url,
                }))
            }
        }
    }

    fn repo(&self, repo: &Spanned<String>) -> Result<String, ConfigError> {
        let r = repo.get_ref();
        let ok = r.split('/').count() == 2 && r.split('/').all(|p| !p.is_empty());
        if ok {
            Ok(r.clone())
        } else {
            Err(self.err(repo.span(), "repo must be \"OWNER/REPO\""))
        }
    }
}

/// GitHub's rules for secret names, checked before anything is sent.
pub fn check_github_secret_name(name: &str) -> Result<(), String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "GitHub secret name {name:?} may only contain letters, digits and '_'"
        ));
    }
    if name.as_bytes()[0].is_ascii_digit() {
        return Err(format!(
            "GitHub secret name {name:?} must not start with a digit"
        ));
    }
    if name.to_ascii_uppercase().starts_with("GITHUB_") {
        return Err(format!(
            "GitHub secret name {name:?} must not start with GITHUB_"
        ));
    }
    Ok(())
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// An `https://` URL, or `http://` to a loopback address (tests and local simulators).
pub fn parse_http_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("{s:?} is not a valid URL ({e})"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "{s:?} uses plain http://, which is only allowed for loopback addresses \
             (127.0.0.1, [::1], localhost): use https://"
        )),
        other => Err(format!(
            "{s:?} has scheme {other:?}: only https:// is valid"
        )),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        None => false,
    }
}

/// The dotted key (`profiles.mtn.validate.url`) whose key or value covers byte `offset`.
pub(crate) fn key_path_at(text: &str, offset: usize) -> Option<String> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut path = Vec::new();
    walk_table(doc.get_ref(), offset, &mut path);
    (!path.is_empty()).then(|| path.join("."))
}

fn walk_table(table: &toml::de::DeTable<'_>, offset: usize, path: &mut Vec<String>) {
    // Header tables (`[profiles.mtn]`) have spans that cover only the header, so when no entry's
    // value contains the offset, fall back to the last entry whose key starts before it.
    let mut best: Option<(
        &Spanned<toml::de::DeString<'_>>,
        &Spanned<toml::de::DeValue<'_>>,
    )> = None;
    for (k, v) in table {
        if v.span().contains(&offset) || k.span().contains(&offset) {
            best = Some((k, v));
            break;
        }
        if let toml::de::DeValue::Table(_) | toml::de::DeValue::Array(_) = v.get_ref()
            && k.span().start <= offset
            && best.is_none_or(|(bk, _)| bk.span().start <= k.span().start)
        {
            best = Some((k, v));
        }
    }
    let Some((k, v)) = best else { return };
    path.push(k.get_ref().to_string());
    walk_value(v, offset, path);
}

fn walk_value(v: &Spanned<toml::de::DeValue<'_>>, offset: usize, path: &mut Vec<String>) {
    match v.get_ref() {
        toml::de::DeValue::Table(t) => walk_table(t, offset, path),
        toml::de::DeValue::Array(items) => {
            let found = items
                .iter()
                .enumerate()
                .rev()
                .find(|(_, item)| item.span().start <= offset);
            if let Some((i, item)) = found {
                if let Some(last) = path.last_mut() {
                    last.push_str(&format!("[{i}]"));
                }
                walk_value(item, offset, path);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r##"
[accounts.github]
kind = "github"
api_url = "https://api.github.com"

[accounts.vercel]
kind = "vercel"
team_id = "team_abc"

[profiles.mtn]
name = "MTN Wholesale"
login_url = "https://sso.example.net/login"
capture = "cookies"
cookie_urls = ["https://wholesale.example.net/"]
done_when = { url_prefix = "https://wholesale.example.net/portal", cookies = ["JSESSIONID"] }
session_id_cookie = "JSESSIONID"
prefill = { username = "#username", password = "#password" }
tracked_ttl = "60m"
warn_before = "60m"
poll_every = "5m"

[profiles.mtn.validate]
url = "https://wholesale.example.net/api/products"
method = "GET"
valid_status = [200]
invalid_status = [401, 403]
invalid_redirect_prefix = "https://sso.example.net/"

[[profiles.mtn.push]]
to = "github"
repo = "acme/circletel"
secret = "MTN_SESSION"

[[profiles.mtn.push]]
to = "vercel"
project = "circletel"
env = "MTN_SESSION"
targets = ["production"]
type = "encrypted"
redeploy = true
smoke_url = "https://circletel.example.app/api/mtn-wholesale/products"

[[profiles.mtn.push]]
to = "file"
path = "~/.cache/mtn-session.json"
format = "json"

[profiles.breeze]
name = "ICICI Breeze"
login_url = "https://api.example.in/apiuser/login?api_key=KEY"
capture = "redirect-param"
redirect_param = "apisession"
tracked_ttl = "24h"
refresh_before = "15m"
"##;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/sk/config.toml"))
    }

    #[test]
    fn the_contract_example_parses() {
        let c = parse(GOOD).expect("contract example is valid");
        let mtn = c.profile("mtn").expect("mtn");
        assert_eq!(mtn.tracked_ttl.to_string(), "1h");
        assert_eq!(mtn.push.len(), 3);
        assert!(matches!(&mtn.push[0], PushTarget::Github(g) if g.secret == "MTN_SESSION"));
        let breeze = c.profile("breeze").expect("breeze");
        assert!(breeze.is_token());
        assert_eq!(breeze.warn_before.to_string(), "30m");
    }

    /// Replaces `from` in the good config and returns the error, which must name `line` and `key`.
    fn broken(from: &str, to: &str, line: usize, key: &str) -> String {
        assert!(GOOD.contains(from), "test setup: {from:?} not in GOOD");
        let text = GOOD.replacen(from, to, 1);
        let err = parse(&text).expect_err("must be rejected");
        let shown = err.to_string();
        assert_eq!(err.line, Some(line), "wrong line in: {shown}");
        assert_eq!(err.key.as_deref(), Some(key), "wrong key in: {shown}");
        assert!(
            shown.starts_with(&format!("/etc/sk/config.toml:{line}:")),
            "{shown}"
        );
        shown
    }

    #[test]
    fn bad_duration_names_file_line_key_and_the_valid_form() {
        let e = broken(
            "tracked_ttl = \"60m\"",
            "tracked_ttl = \"60x\"",
            18,
            "profiles.mtn.tracked_ttl",
        );
        assert!(e.contains("\"24h\""), "{e}");
    }

    #[test]
    fn unknown_key_is_an_error_listing_the_valid_ones() {
        let e = broken(
            "poll_every = \"5m\"",
            "pol_every = \"5m\"",
            20,
            "profiles.mtn.pol_every",
        );
        assert!(e.contains("poll_every"), "{e}");
    }

    #[test]
    fn plain_http_is_refused_except_loopback() {
        let e = broken(
            "url = \"https://wholesale.example.net/api/products\"",
            "url = \"http://wholesale.example.net/api/products\"",
            23,
            "profiles.mtn.validate.url",
        );
        assert!(e.contains("loopback"), "{e}");
        let ok = GOOD.replace(
            "https://wholesale.example.net/api/products",
            "http://127.0.0.1:8080/api/products",
        );
        parse(&ok).expect("loopback http is allowed");
    }

    #[test]
    fn push_to_an_unknown_account_lists_the_valid_ones() {
        let e = broken(
            "to = \"vercel\"",
            "to = \"vercell\"",
            35,
            "profiles.mtn.push[1].to",
        );
        assert!(e.contains("github, vercel, file"), "{e}");
    }

    #[test]
    fn wrong_types_and_enums_are_located() {
        broken(
            "capture = \"cookies\"",
            "capture = \"cookie\"",
            13,
            "profiles.mtn.capture",
        );
        broken(
            "valid_status = [200]",
            "valid_status = [\"200\"]",
            25,
            "profiles.mtn.validate.valid_status[0]",
        );
        broken(
            "kind = \"vercel\"",
            "kind = \"netlify\"",
            7,
            "accounts.vercel.kind",
        );
        broken(
            "secret = \"MTN_SESSION\"",
            "secret = \"GITHUB_TOKEN\"",
            32,
            "profiles.mtn.push[0].secret",
        );
    }

    #[test]
    fn a_syntax_error_is_located() {
        let text = GOOD.replacen("tracked_ttl = \"60m\"", "tracked_ttl = \"60m", 1);
        let err = parse(&text).expect_err("unterminated string");
        assert_eq!(err.line, Some(18), "{err}");
    }

    #[test]
    fn missing_file_says_what_to_do() {
        let err = Config::load(Path::new("/nonexistent/sk.toml")).expect_err("missing");
        assert!(err.to_string().contains("--config"), "{err}");
    }

    fn refresh_error(table: &str) -> String {
        let text = format!(
            "[profiles.b]\ncapture = \"redirect-param\"\nredirect_param = \"t\"\n\n[profiles.b.refresh]\n{table}"
        );
        Config::parse(&text, Path::new("c.toml"))
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn refresh_is_read_with_its_exchange_and_defaults() {
        let text = "[profiles.b]\ncapture = \"redirect-param\"\nredirect_param = \"t\"\n\n\
            [profiles.b.refresh]\nurl = \"https://api.example/login\"\n\
            fields = { user = \"{username}\", pw = \"{password}\" }\ncapture = \"json:a.b\"\n\n\
            [profiles.b.refresh.exchange]\nurl = \"https://api.example/x\"\nformat = \"json\"\n\
            fields = { tok = \"{value}\" }\ncapture = \"json:Success.session_token\"\n";
        let config = Config::parse(text, Path::new("c.toml")).expect("parses");
        let b = &config.profiles["b"];
        let refresh = b.refresh.as_ref().expect("refresh");
        assert_eq!(refresh.steps.len(), 2);
        assert_eq!(refresh.steps[0].format, BodyFormat::Form);
        assert_eq!(
            refresh.steps[1].capture,
            RefreshCapture::Json(vec!["Success".into(), "session_token".into()])
        );
        assert_eq!(
            b.refresh_before.map(|d| d.to_string()).as_deref(),
            Some("15m")
        );
    }

    #[test]
    fn refresh_mistakes_are_located_and_explained() {
        let e = refresh_error("url = \"https://a.example/\"\ncapture = \"header:X\"\n");
        assert!(e.contains("c.toml:7") && e.contains("json:PATH"), "{e}");
        let e = refresh_error(
            "url = \"https://a.example/\"\nfields = { u = \"{user}\" }\ncapture = \"json:t\"\n",
        );
        assert!(e.contains("{user}") && e.contains("{username}"), "{e}");
        let e = refresh_error("url = \"https://a.example/\"\ncapture = \"cookie:SID\"\n");
        assert!(e.contains("token"), "{e}");
        let e = refresh_error("url = \"http://a.example/\"\ncapture = \"json:t\"\n");
        assert!(e.contains("c.toml:6"), "{e}");
    }

    #[test]
    fn tracked_ttl_is_set_in_place_keeping_comments_and_refused_for_an_unknown_profile() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config.toml");
        let text = GOOD.replace(
            "tracked_ttl = \"60m\"",
            "# the portal says 60 minutes\ntracked_ttl = \"60m\"   # conservative",
        );
        std::fs::write(&path, &text).expect("write");
        let four_hours: HumanDuration = "4h".parse().expect("duration");
        let config = Config::set_tracked_ttl(&path, "mtn", four_hours).expect("set");
        assert_eq!(config.profiles["mtn"].tracked_ttl, four_hours);
        let after = std::fs::read_to_string(&path).expect("read");
        assert!(
            after.contains("# the portal says 60 minutes\ntracked_ttl = \"4h\"   # conservative"),
            "{after}"
        );
        assert_eq!(
            after.replace("\"4h\"", "\"60m\""),
            text,
            "nothing else changed"
        );

        let e = Config::set_tracked_ttl(&path, "nope", four_hours).expect_err("unknown profile");
        assert!(e.to_string().contains("[profiles.nope]"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), after);
    }
}
