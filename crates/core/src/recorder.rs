//! The login recorder: a new profile worked out from one login. While a human logs in (and
//! solves the captcha) in a login window in recording mode, the window reports what it shows
//! (each page's URL and every cookie of its jar); once the window has left the login page, the
//! recorder tries what arrived against the API URL the user's own app calls — with the new
//! session and without it — and proposes the profile that captures such a login: `done_when`,
//! `cookie_urls`, `session_id_cookie` and `capture = "cookies"`, or `capture =
//! "redirect-param"` with `redirect_param` when a token came as a parameter of a redirect,
//! and a `validate` table from the two answers. The proposal is words for the human and TOML
//! for the file (`Config::add_profile`); the captured session is kept until it is confirmed.
//! Nothing here logs a URL's query or a cookie's value: both may be the session.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::{parse_http_url, same_or_below};
use crate::secret::Secret;
use crate::session::Cookie;

/// What the human typed in "Add a session".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The profile id, made from the name (`MTN Wholesale` → `mtn-wholesale`).
    pub id: String,
    pub name: String,
    pub login_url: Url,
    /// The API the user's own app calls with the session: it tells a live session from a dead
    /// one. Without it the profile cannot be checked until a `validate` table is added.
    pub api_url: Option<Url>,
}

impl Draft {
    /// Checks the form; `taken` says whether an id is used already.
    pub fn new(
        name: &str,
        login_url: &str,
        api_url: &str,
        taken: impl Fn(&str) -> bool,
    ) -> Result<Self, String> {
        let name = name.trim();
        if name.is_empty() {
            return Err("give the session a name (e.g. \"MTN Wholesale\")".to_owned());
        }
        let login_url = parse_http_url(login_url.trim()).map_err(|e| format!("login URL: {e}"))?;
        let api_url = match api_url.trim() {
            "" => None,
            u => Some(parse_http_url(u).map_err(|e| format!("API URL: {e}"))?),
        };
        let base = slug(name);
        let id = std::iter::once(base.clone())
            .chain((2..).map(|n| format!("{base}-{n}")))
            .find(|id| !taken(id))
            .expect("an unused id");
        Ok(Self {
            id,
            name: name.to_owned(),
            login_url,
            api_url,
        })
    }
}

/// A profile id from a display name: lowercase letters, digits and `-`, at most 40 long,
/// starting with a letter or digit (`session` when nothing is left).
pub fn slug(name: &str) -> String {
    let mut id = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
        if id.len() >= 40 {
            break;
        }
    }
    let id = id.trim_end_matches('-').to_owned();
    if id.is_empty() {
        "session".to_owned()
    } else {
        id
    }
}

/// One look at the recording window: the main frame's URL and every cookie of its jar.
#[derive(Debug, Clone)]
pub struct Sight {
    /// May carry the session in its query: a [`Secret`].
    pub url: Secret,
    pub cookies: Vec<Cookie>,
}

/// What arrived with a login, to be tried against the API.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// Where the login landed.
    pub landing: Url,
    /// The cookies the browser would send to the API URL (all of them, old and new).
    pub api_cookies: Vec<Cookie>,
    /// The names of the cookies that appeared since the login page was first seen.
    pub new_cookies: BTreeSet<String>,
    /// Query parameters of the landing that the login URL did not have: token candidates.
    pub params: Vec<(String, Secret)>,
}

/// A recording under way.
#[derive(Debug)]
pub struct Recording {
    pub draft: Draft,
    /// The cookies (name, domain) of the first look, before the human did anything.
    before: Option<BTreeSet<(String, String)>>,
    /// What the last arrival was built from, so the same one is not tried twice.
    last: Option<u64>,
    /// The last look past the login page (tried again against another API URL).
    last_sight: Option<Sight>,
}

impl Recording {
    pub fn new(draft: Draft) -> Self {
        Self {
            draft,
            before: None,
            last: None,
            last_sight: None,
        }
    }

    /// Takes in a look at the window; returns what to try against the API when the window has
    /// left the login page and shows something it did not show before.
    pub fn see(&mut self, sight: &Sight, now: DateTime<Utc>) -> Option<Arrival> {
        let url = Url::parse(sight.url.expose()).ok()?;
        let names: BTreeSet<(String, String)> = sight
            .cookies
            .iter()
            .map(|c| (c.name.clone(), c.domain.clone()))
            .collect();
        let before = self.before.get_or_insert_with(|| names.clone());
        if on_login_page(&url, &self.draft.login_url) {
            return None;
        }
        self.last_sight = Some(sight.clone());
        let new_cookies: BTreeSet<String> = names
            .iter()
            .filter(|n| !before.contains(*n))
            .map(|(name, _)| name.clone())
            .collect();
        let login_params: BTreeSet<String> = self
            .draft
            .login_url
            .query_pairs()
            .map(|(k, _)| k.into_owned())
            .collect();
        let params: Vec<(String, Secret)> = url
            .query_pairs()
            .filter(|(k, v)| !login_params.contains(k.as_ref()) && looks_like_a_token(v))
            .map(|(k, v)| (k.into_owned(), Secret::new(v.into_owned())))
            .collect();
        let api_cookies: Vec<Cookie> = match &self.draft.api_url {
            Some(api) => crate::cookies::cookies_for_url(&sight.cookies, api, now)
                .into_iter()
                .cloned()
                .collect(),
            // No API to ask: the cookies that came with the landing, on its host.
            None => crate::cookies::cookies_for_url(&sight.cookies, &url, now)
                .into_iter()
                .filter(|c| new_cookies.contains(&c.name))
                .cloned()
                .collect(),
        };
        let key = {
            use std::hash::{Hash as _, Hasher as _};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            sight.url.expose().hash(&mut h);
            for c in &api_cookies {
                c.name.hash(&mut h);
                c.value.expose().hash(&mut h);
            }
            h.finish()
        };
        if self.last == Some(key) || (api_cookies.is_empty() && params.is_empty()) {
            return None;
        }
        self.last = Some(key);
        let mut landing = url;
        landing.set_query(None);
        landing.set_fragment(None);
        Some(Arrival {
            landing,
            api_cookies,
            new_cookies,
            params,
        })
    }

    /// The last look past the login page as an arrival again, built for the draft's API URL
    /// as it is now (the human gave another one).
    pub fn retry(&mut self, now: DateTime<Utc>) -> Option<Arrival> {
        self.last = None;
        let sight = self.last_sight.clone()?;
        self.see(&sight, now)
    }
}

/// Whether the window is still on the login page (its origin and path; the query may change).
fn on_login_page(url: &Url, login: &Url) -> bool {
    let mut page = login.clone();
    page.set_query(None);
    page.set_fragment(None);
    same_or_below(url, &page)
        && url.path().trim_end_matches('/') == page.path().trim_end_matches('/')
}

/// A query value that may be a session token: long enough and not a word or a number.
fn looks_like_a_token(value: &str) -> bool {
    value.len() >= 12
        && !value.chars().all(|c| c.is_ascii_digit())
        && !value.starts_with("http")
        && !value.contains(' ')
}

/// How a session is sent when it is a token: the header and its format.
const TOKEN_HEADERS: [(&str, &str); 3] = [
    ("Authorization", "Bearer {token}"),
    ("X-SessionToken", "{token}"),
    ("X-Auth-Token", "{token}"),
];

/// What the API answered, as the proposal says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Status(u16),
    /// A redirect to the login page's origin: "log in again".
    ToLogin(u16),
    Redirect(u16),
    Failed(String),
}

impl Answer {
    fn accepted(&self) -> bool {
        matches!(self, Self::Status(s) if (200..300).contains(s))
    }

    fn refused(&self) -> bool {
        matches!(self, Self::Status(401 | 403) | Self::ToLogin(_))
    }
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status(s) => write!(f, "HTTP {s}"),
            Self::ToLogin(s) => write!(f, "HTTP {s}, a redirect to the login"),
            Self::Redirect(s) => write!(f, "HTTP {s}, a redirect elsewhere"),
            Self::Failed(why) => write!(f, "no answer ({why})"),
        }
    }
}

/// How the session is captured in the proposal.
#[derive(Debug, Clone, PartialEq)]
pub enum Captured {
    Cookies {
        cookies: Vec<Cookie>,
        /// The cookies the API needs (removing one makes it refuse).
        needed: Vec<String>,
    },
    Token {
        param: String,
        token: Secret,
        header: String,
        format: String,
    },
}

/// The recorder's proposal.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub draft: Draft,
    pub landing: Url,
    pub captured: Captured,
    /// The API's two answers, when there is an API URL.
    pub with_session: Option<Answer>,
    pub without: Option<Answer>,
    /// The proposal in plain words, one line each.
    pub words: Vec<String>,
    /// The `[profiles.ID]` TOML the file gets (the human may edit it).
    pub toml: String,
}

/// Why an arrival gave no proposal (shown to the human; never holds a value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotYet {
    /// The API refused what arrived (the login is not complete yet, most likely).
    #[error("the API does not accept what the login window holds yet ({0})")]
    Refused(String),
    /// The API answered the same with and without the session.
    #[error(
        "the API answered {with} with the session and {without} without it: the two cannot be \
         told apart, so this URL cannot tell a live session from a dead one. Give another API \
         URL, one that needs the session"
    )]
    CannotTell { with: String, without: String },
}

/// Tries `arrival` against the draft's API: with the session (it must be accepted) and without
/// it (it must be refused); for cookies, each is left out in turn to find those the API needs.
pub async fn propose(draft: &Draft, arrival: &Arrival) -> Result<Proposal, NotYet> {
    let client = reqwest::Client::builder()
        .user_agent(crate::USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| NotYet::Refused(format!("cannot set up HTTPS: {e}")))?;
    let Some(api) = &draft.api_url else {
        return Ok(without_api(draft, arrival));
    };
    let ask = |cookies: Vec<&Cookie>, header: Option<(&'static str, String)>| {
        let client = client.clone();
        let login = draft.login_url.clone();
        let api = api.clone();
        let cookie = crate::cookies::cookie_header(&cookies);
        async move { answer(&client, &api, &login, cookie, header).await }
    };
    let without = ask(Vec::new(), None).await;
    let mut last = None;
    // A token in the landing's query, sent as the usual headers carry one.
    for (param, token) in &arrival.params {
        for (header, format) in TOKEN_HEADERS {
            let value = format.replace("{token}", token.expose());
            let with = ask(Vec::new(), Some((header, value))).await;
            if with.accepted() {
                if !without.refused() {
                    return Err(cannot_tell(&with, &without));
                }
                let captured = Captured::Token {
                    param: param.clone(),
                    token: token.clone(),
                    header: header.to_owned(),
                    format: format.to_owned(),
                };
                return Ok(proposal(
                    draft,
                    arrival,
                    captured,
                    Some(with),
                    Some(without),
                ));
            }
            last = Some(with);
        }
    }
    if !arrival.api_cookies.is_empty() {
        let all: Vec<&Cookie> = arrival.api_cookies.iter().collect();
        let with = ask(all.clone(), None).await;
        if with.accepted() {
            if !without.refused() {
                return Err(cannot_tell(&with, &without));
            }
            let mut needed = Vec::new();
            for (i, cookie) in arrival.api_cookies.iter().enumerate() {
                let rest: Vec<&Cookie> = all
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, c)| *c)
                    .collect();
                if !ask(rest, None).await.accepted() && !needed.contains(&cookie.name) {
                    needed.push(cookie.name.clone());
                }
            }
            let captured = Captured::Cookies {
                cookies: arrival.api_cookies.clone(),
                needed,
            };
            return Ok(proposal(
                draft,
                arrival,
                captured,
                Some(with),
                Some(without),
            ));
        }
        last = Some(with);
    }
    Err(NotYet::Refused(last.map_or_else(
        || "nothing to send".to_owned(),
        |a| format!("it answered {a}"),
    )))
}

fn cannot_tell(with: &Answer, without: &Answer) -> NotYet {
    NotYet::CannotTell {
        with: with.to_string(),
        without: without.to_string(),
    }
}

/// One GET of the API, with `cookie` and/or a token `header`.
async fn answer(
    client: &reqwest::Client,
    api: &Url,
    login: &Url,
    cookie: Option<Secret>,
    header: Option<(&'static str, String)>,
) -> Answer {
    let mut request = client.get(api.clone());
    if let Some(cookie) = cookie {
        request = request.header(reqwest::header::COOKIE, cookie.expose());
    }
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            if response.status().is_redirection() {
                let to_login = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| api.join(l).ok())
                    .is_some_and(|l| l.origin() == login.origin());
                if to_login {
                    Answer::ToLogin(status)
                } else {
                    Answer::Redirect(status)
                }
            } else {
                Answer::Status(status)
            }
        }
        Err(e) => Answer::Failed(if e.is_timeout() {
            "timed out".to_owned()
        } else if e.is_connect() {
            "cannot connect".to_owned()
        } else {
            "the request failed".to_owned()
        }),
    }
}

/// Without an API URL: the cookies that came with the landing, and no validate table.
fn without_api(draft: &Draft, arrival: &Arrival) -> Proposal {
    let needed: Vec<String> = arrival
        .api_cookies
        .iter()
        .filter(|c| c.http_only)
        .chain(arrival.api_cookies.iter().filter(|c| !c.http_only))
        .map(|c| c.name.clone())
        .take(1)
        .collect();
    let captured = Captured::Cookies {
        cookies: arrival.api_cookies.clone(),
        needed,
    };
    proposal(draft, arrival, captured, None, None)
}

fn proposal(
    draft: &Draft,
    arrival: &Arrival,
    captured: Captured,
    with_session: Option<Answer>,
    without: Option<Answer>,
) -> Proposal {
    let id = &draft.id;
    let mut doc = toml_edit::DocumentMut::new();
    let mut profiles = toml_edit::Table::new();
    profiles.set_implicit(true);
    let mut p = toml_edit::Table::new();
    p.insert("name", toml_edit::value(&draft.name));
    p.insert("login_url", toml_edit::value(draft.login_url.as_str()));
    let mut words = vec![format!(
        "The login lands on {} (done_when.url_prefix).",
        arrival.landing
    )];
    let mut done = toml_edit::InlineTable::new();
    done.insert("url_prefix", arrival.landing.as_str().into());
    match &captured {
        Captured::Cookies { cookies, needed } => {
            p.insert("capture", toml_edit::value("cookies"));
            let origin = match &draft.api_url {
                Some(api) => format!("{}/", api.origin().ascii_serialization()),
                None => format!("{}/", arrival.landing.origin().ascii_serialization()),
            };
            p.insert(
                "cookie_urls",
                toml_edit::value(toml_edit::Array::from_iter([origin.as_str()])),
            );
            let session_cookie = needed.first().cloned().or_else(|| {
                cookies
                    .iter()
                    .find(|c| arrival.new_cookies.contains(&c.name))
                    .map(|c| c.name.clone())
            });
            let appeared: Vec<&str> = needed.iter().map(String::as_str).collect();
            if !appeared.is_empty() {
                done.insert(
                    "cookies",
                    toml_edit::Array::from_iter(appeared.iter().copied()).into(),
                );
            }
            p.insert("done_when", toml_edit::value(done));
            if let Some(name) = &session_cookie {
                p.insert("session_id_cookie", toml_edit::value(name));
                let http_only = cookies.iter().any(|c| &c.name == name && c.http_only);
                words.push(format!(
                    "The session is the cookie {name}{} (session_id_cookie), read for {origin} \
                     (cookie_urls).",
                    if http_only { ", HttpOnly" } else { "" }
                ));
            }
            let others: Vec<&str> = cookies
                .iter()
                .map(|c| c.name.as_str())
                .filter(|n| Some(*n) != session_cookie.as_deref())
                .collect();
            if !others.is_empty() {
                words.push(format!(
                    "Captured with it: {} (the API did not need them alone).",
                    others.join(", ")
                ));
            }
        }
        Captured::Token {
            param,
            header,
            format,
            ..
        } => {
            p.insert("capture", toml_edit::value("redirect-param"));
            p.insert("redirect_param", toml_edit::value(param));
            p.insert("done_when", toml_edit::value(done));
            words.push(format!(
                "The session is a token, the parameter {param} of the redirect \
                 (capture = \"redirect-param\", redirect_param = \"{param}\"); the API takes it \
                 in the header {header}: {}.",
                format.replace("{token}", "…")
            ));
        }
    }
    let mut tables = vec![("", p)];
    if let (Some(api), Some(with), Some(without)) = (&draft.api_url, &with_session, &without) {
        let mut v = toml_edit::Table::new();
        v.insert("url", toml_edit::value(api.as_str()));
        if let Answer::Status(s) = with {
            v.insert(
                "valid_status",
                toml_edit::value(toml_edit::Array::from_iter([i64::from(*s)])),
            );
        }
        match without {
            Answer::Status(s) => {
                v.insert(
                    "invalid_status",
                    toml_edit::value(toml_edit::Array::from_iter([i64::from(*s)])),
                );
            }
            Answer::ToLogin(_) => {
                v.insert(
                    "invalid_redirect_prefix",
                    toml_edit::value(format!(
                        "{}/",
                        draft.login_url.origin().ascii_serialization()
                    )),
                );
            }
            _ => {}
        }
        if let Captured::Token { header, format, .. } = &captured {
            v.insert("token_header", toml_edit::value(header));
            v.insert("token_format", toml_edit::value(format));
        }
        words.push(format!(
            "Checked with {api}: with the session it answered {with} (valid_status), without it \
             {without} (the answer of a dead session)."
        ));
        tables.push(("validate", v));
    } else {
        words.push(
            "No API URL was given: the profile cannot be checked until a [validate] table is \
             added."
                .to_owned(),
        );
    }
    let mut iter = tables.into_iter();
    let (_, mut main) = iter.next().expect("the profile's table");
    for (name, t) in iter {
        main.insert(name, toml_edit::Item::Table(t));
    }
    profiles.insert(id, toml_edit::Item::Table(main));
    doc.insert("profiles", toml_edit::Item::Table(profiles));
    Proposal {
        draft: draft.clone(),
        landing: arrival.landing.clone(),
        captured,
        with_session,
        without,
        words,
        toml: doc.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SameSite;

    fn cookie(name: &str, domain: &str, http_only: bool) -> Cookie {
        Cookie {
            name: name.to_owned(),
            value: Secret::new(format!("{name}-value-0123456789")),
            domain: domain.to_owned(),
            path: "/".to_owned(),
            expires: -1.0,
            http_only,
            secure: false,
            same_site: SameSite::Lax,
        }
    }

    fn draft() -> Draft {
        Draft::new(
            "MTN Wholesale",
            "http://localhost:9/sso/login",
            "http://127.0.0.1:9/api/products",
            |id| id == "mtn-wholesale",
        )
        .expect("a draft")
    }

    #[test]
    fn a_draft_gets_a_free_id_from_its_name_and_refuses_plain_http_to_other_hosts() {
        let d = draft();
        assert_eq!(d.id, "mtn-wholesale-2");
        assert_eq!(slug("  ICICI / Breeze API!  "), "icici-breeze-api");
        assert_eq!(slug("???"), "session");
        let e = Draft::new("x", "http://sso.example.com/login", "", |_| false).expect_err("http");
        assert!(e.starts_with("login URL:"), "{e}");
        assert!(Draft::new("", "https://a.example/", "", |_| false).is_err());
        assert!(
            Draft::new("x", "https://a.example/", "", |_| false)
                .expect("ok")
                .api_url
                .is_none()
        );
    }

    #[test]
    fn nothing_is_tried_while_the_window_is_on_the_login_page_and_the_same_arrival_once() {
        let now = Utc::now();
        let mut r = Recording::new(draft());
        let device = cookie("SSO_DEVICE", "localhost", true);
        let login = Sight {
            url: Secret::new("http://localhost:9/sso/login"),
            cookies: vec![device.clone()],
        };
        assert!(r.see(&login, now).is_none());
        // A failed submit stays on the login page (with a query): still nothing.
        let failed = Sight {
            url: Secret::new("http://localhost:9/sso/login?error=1"),
            cookies: vec![device.clone()],
        };
        assert!(r.see(&failed, now).is_none());
        let landed = Sight {
            url: Secret::new("http://127.0.0.1:9/portal?ticket=ST-abcdefghijklmnop"),
            cookies: vec![
                device,
                cookie("SSO_TICKET", "localhost", true),
                cookie("JSESSIONID", "127.0.0.1", true),
            ],
        };
        let arrival = r.see(&landed, now).expect("an arrival");
        assert_eq!(arrival.landing.as_str(), "http://127.0.0.1:9/portal");
        let sent: Vec<&str> = arrival
            .api_cookies
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(sent, ["JSESSIONID"], "only what the browser sends the API");
        assert!(arrival.new_cookies.contains("JSESSIONID"));
        assert!(!arrival.new_cookies.contains("SSO_DEVICE"));
        assert_eq!(arrival.params.len(), 1, "the ticket is a token candidate");
        assert!(r.see(&landed, now).is_none(), "tried once");
        assert!(r.retry(now).is_some(), "again after retry");
    }

    #[test]
    fn a_proposal_without_an_api_url_names_the_landing_cookie_and_loads() {
        let now = Utc::now();
        let d = Draft::new("Portal", "https://sso.example.com/login", "", |_| false).expect("d");
        let mut r = Recording::new(d.clone());
        r.see(
            &Sight {
                url: Secret::new("https://sso.example.com/login"),
                cookies: vec![],
            },
            now,
        );
        let arrival = r
            .see(
                &Sight {
                    url: Secret::new("https://app.example.com/home"),
                    cookies: vec![
                        cookie("theme", "app.example.com", false),
                        cookie("sid", "app.example.com", true),
                    ],
                },
                now,
            )
            .expect("arrival");
        let p = without_api(&d, &arrival);
        assert!(p.toml.contains("session_id_cookie = \"sid\""), "{}", p.toml);
        assert!(p.words.iter().any(|w| w.contains("cannot be checked")));
        let config = crate::Config::parse(&p.toml, std::path::Path::new("p.toml"))
            .expect("the proposal loads");
        let profile = &config.profiles["portal"];
        assert_eq!(profile.cookie_urls[0].as_str(), "https://app.example.com/");
        for c in &arrival.api_cookies {
            assert!(!p.toml.contains(c.value.expose()), "no value in the TOML");
        }
    }
}
