//! Checks a raw config and builds the model from it: every rule a person editing the file by
//! hand needs told, each error pointing at the file, line and key.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use url::Url;

use super::model::{
    Account, AccountKind, Capture, Config, DoneWhen, FileFormat, FileTarget, GithubScope,
    GithubTarget, Profile, PushTarget, Refresh, RefreshCapture, RefreshStep, Validate,
    VercelTarget, placeholders,
};
use super::raw::{RawConfig, RawProfile, RawPush, RawRefresh, RawRefreshStep, RawValidate};
use crate::duration::HumanDuration;
use crate::error::ConfigError;

pub(super) struct Validator<'a> {
    pub(super) path: &'a Path,
    pub(super) text: &'a str,
}

impl Validator<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        super::locate::error_at(self.path, self.text, Some(span), message.into())
    }

    fn url(&self, s: &Spanned<String>) -> Result<Url, ConfigError> {
        parse_http_url(s.get_ref()).map_err(|m| self.err(s.span(), m))
    }

    pub(super) fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
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
        let done_when = DoneWhen {
            url_prefix: raw
                .done_when
                .url_prefix
                .as_ref()
                .map(|u| self.url(u))
                .transpose()?,
            cookies: raw.done_when.cookies,
        };
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
        let tracked_ttl = raw
            .tracked_ttl
            .as_ref()
            .map_or(HumanDuration::from_mins(60), |t| *t.get_ref());
        // A profile that refreshes itself starts 15 minutes ahead of its tracked expiry.
        let refresh_before = raw
            .refresh_before
            .as_ref()
            .map(|r| *r.get_ref())
            .or_else(|| refresh.as_ref().map(|_| HumanDuration::from_mins(15)));
        if let Some(before) = refresh_before
            && before >= tracked_ttl
        {
            // Point at what the person wrote: refresh_before, else the tracked_ttl it clashes with.
            let at = raw
                .refresh_before
                .as_ref()
                .map(Spanned::span)
                .or_else(|| raw.tracked_ttl.as_ref().map(Spanned::span))
                .unwrap_or(span);
            let half = HumanDuration(tracked_ttl.0 / 2);
            return Err(self.err(
                at,
                format!(
                    "refresh_before = \"{before}\" must be shorter than tracked_ttl = \
                     \"{tracked_ttl}\": a refresh starts refresh_before ahead of the tracked \
                     expiry, so every new session would be due for one at once. Set \
                     refresh_before below tracked_ttl (e.g. \"{half}\"), or raise tracked_ttl"
                ),
            ));
        }
        let push: Vec<PushTarget> = raw
            .push
            .into_iter()
            .map(|p| self.push(p, accounts))
            .collect::<Result<_, _>>()?;
        let health_url = match &raw.health_url {
            Some(u) => Some(self.url(u)?),
            None => push.iter().find_map(|t| match t {
                PushTarget::Vercel(v) => v.smoke_url.clone(),
                _ => None,
            }),
        };
        Ok(Profile {
            id: id.get_ref().clone(),
            name: raw.name.unwrap_or_else(|| id.get_ref().clone()),
            login_url,
            capture: raw.capture,
            cookie_urls,
            done_when,
            session_id_cookie: raw.session_id_cookie,
            prefill: raw.prefill,
            redirect_param: raw.redirect_param,
            tracked_ttl,
            warn_before: raw.warn_before.unwrap_or(HumanDuration::from_mins(30)),
            poll_every,
            refresh_before,
            refresh,
            validate,
            push,
            health_url,
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
            headers: match raw.headers {
                Some(h) => self.headers(h, &token_header)?,
                None => BTreeMap::new(),
            },
            token_header,
            token_format,
            timeout: match raw.timeout {
                Some(t)
                    if t.get_ref().0 < std::time::Duration::from_millis(100)
                        || t.get_ref().0 > std::time::Duration::from_secs(600) =>
                {
                    return Err(self.err(
                        t.span(),
                        "timeout must be between \"100ms\" and \"10m\" (it bounds each attempt)",
                    ));
                }
                Some(t) => t.into_inner(),
                None => HumanDuration::from_secs(15),
            },
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

    /// Extra request headers: well-formed, and never one that carries credentials (those
    /// come from the session, never from the config file).
    fn headers(
        &self,
        raw: Spanned<BTreeMap<String, String>>,
        token_header: &str,
    ) -> Result<BTreeMap<String, String>, ConfigError> {
        let span = raw.span();
        let headers = raw.into_inner();
        for (name, value) in &headers {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(self.err(span.clone(), format!("{name:?} is not a valid header name")));
            }
            if reqwest::header::HeaderValue::from_str(value).is_err() {
                return Err(self.err(
                    span.clone(),
                    format!("the value of header {name} is not a valid header value"),
                ));
            }
            let lower = name.to_ascii_lowercase();
            if ["cookie", "authorization", "proxy-authorization", "host"].contains(&lower.as_str())
                || lower == token_header.to_ascii_lowercase()
            {
                return Err(self.err(
                    span.clone(),
                    format!(
                        "header {name} may not be set here: credentials come from the session \
                         (kept in the keychain), never from the config file"
                    ),
                ));
            }
        }
        Ok(headers)
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

/// Whether `url` is `prefix` or below it: the same scheme, host and port, and a path that
/// equals the prefix's or continues it at a `/` (so `https://app.example.com` never matches
/// `https://app.example.com.evil.org`, nor `/callback` match `/callbackx`). A prefix with a
/// query also requires the URL's query to start with it.
pub fn same_or_below(url: &Url, prefix: &Url) -> bool {
    if url.scheme() != prefix.scheme()
        || url.host_str().map(str::to_ascii_lowercase)
            != prefix.host_str().map(str::to_ascii_lowercase)
        || url.port_or_known_default() != prefix.port_or_known_default()
    {
        return false;
    }
    let (path, want) = (url.path(), prefix.path());
    let path_ok = path == want
        || want.ends_with('/') && path.starts_with(want)
        || path.starts_with(want) && path[want.len()..].starts_with('/');
    path_ok
        && match prefix.query() {
            None => true,
            Some(q) => url.query().is_some_and(|uq| uq.starts_with(q)),
        }
}
