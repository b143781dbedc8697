//! One validation of one profile: the configured request with the session attached, mapped to
//! `valid` / `expiring` / `invalid` / `error`.
//!
//! The rule that matters most: **`error` is never reported as `invalid`.** Only the server saying
//! no (a configured invalid status such as 401/403, or a redirect to the login) is `invalid`.
//! Timeouts, DNS, TLS, resets, 5xx and unexpected answers are `error`, retried with bounded
//! exponential backoff before they are reported.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng as _;
use reqwest::header::{COOKIE, HeaderName, HeaderValue, LOCATION};
use serde::Serialize;
use url::Url;

use crate::config::{HttpMethod, Profile, Validate};
use crate::cookies::{cookie_header, cookies_for_url};
use crate::secret::Secret;
use crate::session::Session;

/// How much of a response body is read (to let the connection be reused), at most.
pub const BODY_CAP: usize = 64 * 1024;
/// Redirect hops followed before giving up.
const MAX_REDIRECTS: usize = 5;

/// The status of a profile, from best to worst.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The server accepts the session and the tracked expiry is not near.
    Valid,
    /// The server accepts it, but the tracked expiry is within `warn_before` (or past).
    Expiring,
    /// We could not tell: network, timeout, 5xx, an unexpected answer, bad config.
    Error,
    /// The server said no: expired, revoked, or there is no session at all.
    Invalid,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Expiring => "expiring",
            Self::Error => "error",
            Self::Invalid => "invalid",
        }
    }

    /// The exit code of `validate` for this status: 0 usable, 1 invalid, 2 could not tell.
    pub fn exit_code(self) -> i32 {
        match self {
            Self::Valid | Self::Expiring => 0,
            Self::Invalid => 1,
            Self::Error => 2,
        }
    }

    /// The exit code for several results: any invalid → 1, else any error → 2, else 0.
    pub fn combined_exit_code(statuses: impl IntoIterator<Item = Self>) -> i32 {
        let mut code = 0;
        for s in statuses {
            match s {
                Self::Invalid => return 1,
                Self::Error => code = 2,
                Self::Valid | Self::Expiring => {}
            }
        }
        code
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a check ended as it did: a stable, machine-readable code (part of the `--json` contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The server answered with a `valid_status`.
    Accepted,
    /// The server accepts the session although its tracked expiry has passed.
    PastTrackedExpiry,
    /// The server answered with an `invalid_status` (e.g. 401, 403).
    Rejected,
    /// The server redirected to the login (`invalid_redirect_prefix`).
    LoginRedirect,
    /// No session is stored or given.
    NoSession,
    /// The server answered 5xx.
    ServerError,
    /// A status that is neither valid nor invalid by the config.
    UnexpectedStatus,
    /// No answer within the timeout.
    Timeout,
    /// The connection was refused or could not be made.
    Connect,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake or certificate failed.
    Tls,
    /// The connection broke (reset, closed early, truncated body).
    Transport,
    /// More than 5 redirects, or a redirect without a usable `Location`.
    BadRedirect,
    /// The profile cannot be checked as configured.
    Config,
    /// The stored session could not be read (keychain locked or not running).
    Keychain,
}

/// The result of checking one profile.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckOutcome {
    pub profile: String,
    pub status: Status,
    pub reason: Reason,
    /// A sentence for people; never contains a secret.
    pub detail: String,
    pub http_status: Option<u16>,
    pub attempts: u32,
    pub checked_at: DateTime<Utc>,
    pub tracked_expires_at: Option<DateTime<Utc>>,
    pub elapsed_ms: u64,
}

/// What one attempt found.
enum Attempt {
    /// The server gave a definite answer.
    Answer {
        status: Status,
        reason: Reason,
        http: u16,
        detail: String,
    },
    /// We could not tell; worth another try.
    Transient {
        reason: Reason,
        http: Option<u16>,
        detail: String,
    },
}

/// Checks of one origin in flight at once, at most: a hundred profiles on one provider open a
/// handful of connections, not a hundred (a browser allows six per host).
pub const PER_ORIGIN: usize = 6;

/// Runs checks, keeping one HTTP client (and its kept-alive connections) per origin, and at
/// most [`PER_ORIGIN`] requests in flight to any one origin.
#[derive(Debug, Default)]
pub struct Checker {
    clients: Mutex<HashMap<String, (reqwest::Client, Arc<tokio::sync::Semaphore>)>>,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Check `profile` with `session` (or report `invalid`/no_session when there is none), as
    /// of `now` (the tracked expiry is compared with it; it is the outcome's `checked_at`).
    pub async fn check(
        &self,
        profile: &Profile,
        session: Option<&Session>,
        now: DateTime<Utc>,
    ) -> CheckOutcome {
        let started = Instant::now();
        let outcome = |status, reason, detail: String, http_status, attempts| CheckOutcome {
            profile: profile.id.clone(),
            status,
            reason,
            detail,
            http_status,
            attempts,
            checked_at: now,
            tracked_expires_at: session.map(|s| s.expires_at),
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        let Some(validate) = &profile.validate else {
            return outcome(
                Status::Error,
                Reason::Config,
                crate::error::Error::NoValidateRequest(profile.id.clone()).to_string(),
                None,
                0,
            );
        };
        let Some(session) = session else {
            return outcome(
                Status::Invalid,
                Reason::NoSession,
                format!(
                    "no session is stored for {:?}: log in or run `sessionkeeper import {}`",
                    profile.name, profile.id
                ),
                None,
                0,
            );
        };

        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(validate, session).await {
                Attempt::Answer {
                    status: Status::Invalid,
                    reason,
                    http,
                    detail,
                } => {
                    return outcome(Status::Invalid, reason, detail, Some(http), attempts);
                }
                Attempt::Answer { http, detail, .. } => {
                    let left = session.expires_at - now;
                    let (status, reason, detail) = if left <= chrono::Duration::zero() {
                        (
                            Status::Expiring,
                            Reason::PastTrackedExpiry,
                            format!(
                                "{detail}; the tracked expiry passed {} ago, but the server still \
                                 accepts the session (`sessionkeeper extend {}` moves it)",
                                crate::duration::format_span(-left),
                                profile.id
                            ),
                        )
                    } else if left <= profile.warn_before.as_chrono() {
                        (
                            Status::Expiring,
                            Reason::Accepted,
                            format!(
                                "{detail}; tracked expiry in {}",
                                crate::duration::format_span(left)
                            ),
                        )
                    } else {
                        (Status::Valid, Reason::Accepted, detail)
                    };
                    return outcome(status, reason, detail, Some(http), attempts);
                }
                Attempt::Transient {
                    reason,
                    http,
                    detail,
                } => {
                    // A profile that cannot be checked as configured will not improve by waiting.
                    if reason == Reason::Config {
                        return outcome(Status::Error, reason, detail, http, attempts);
                    }
                    if attempts >= validate.attempts {
                        let detail = format!("{detail} (after {attempts} attempt(s))");
                        return outcome(Status::Error, reason, detail, http, attempts);
                    }
                    tokio::time::sleep(backoff_delay(validate.backoff.0, attempts)).await;
                }
            }
        }
    }

    /// One attempt, following same-origin redirects with credentials and cross-origin ones
    /// without any (neither cookies nor the token): a redirect must not move a session.
    async fn attempt(&self, v: &Validate, session: &Session) -> Attempt {
        let mut url = v.url.clone();
        let mut method = v.method;
        let mut same_origin = true;
        for _ in 0..=MAX_REDIRECTS {
            // The permit is held while the body is drained too: the connection is busy until then.
            let (response, _permit) = match self.send(v, &url, method, session, same_origin).await {
                Ok(r) => r,
                Err(transient) => return transient,
            };
            let http = response.status().as_u16();
            if response.status().is_redirection() {
                let Some(next) = location(&response, &url) else {
                    return Attempt::Transient {
                        reason: Reason::BadRedirect,
                        http: Some(http),
                        detail: format!("HTTP {http} redirect without a usable Location header"),
                    };
                };
                // The body of a redirect is irrelevant; a broken one only costs the connection.
                let _ = drain(response).await;
                if let Some(prefix) = &v.invalid_redirect_prefix
                    && next.as_str().starts_with(prefix.as_str())
                {
                    return Attempt::Answer {
                        status: Status::Invalid,
                        reason: Reason::LoginRedirect,
                        http,
                        detail: format!(
                            "the server redirected to the login ({}): the session has expired",
                            origin_and_path(&next)
                        ),
                    };
                }
                // Credentials only ever go to the origin they were configured for; once a
                // redirect has left it, nothing is attached again, even on the way back.
                if next.origin() != v.url.origin() {
                    same_origin = false;
                }
                if http == 303 || ((http == 301 || http == 302) && method == HttpMethod::Post) {
                    method = HttpMethod::Get;
                }
                url = next;
                continue;
            }
            if let Err(detail) = drain(response).await {
                return Attempt::Transient {
                    reason: Reason::Transport,
                    http: Some(http),
                    detail: format!("HTTP {http}, but the body broke off: {detail}"),
                };
            }
            return classify(v, http);
        }
        Attempt::Transient {
            reason: Reason::BadRedirect,
            http: None,
            detail: format!("more than {MAX_REDIRECTS} redirects"),
        }
    }

    async fn send(
        &self,
        v: &Validate,
        url: &Url,
        method: HttpMethod,
        session: &Session,
        same_origin: bool,
    ) -> Result<(reqwest::Response, Option<tokio::sync::OwnedSemaphorePermit>), Attempt> {
        let (client, slots) = self.client_for(url).map_err(|detail| Attempt::Transient {
            reason: Reason::Config,
            http: None,
            detail,
        })?;
        let permit = slots.acquire_owned().await.ok();
        let method = match method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Head => reqwest::Method::HEAD,
            HttpMethod::Post => reqwest::Method::POST,
        };
        let mut request = client.request(method, url.clone()).timeout(v.timeout.0);
        if !same_origin {
            // Nothing configured goes to another origin: not the session, nor the headers.
            return match request.send().await {
                Ok(r) => Ok((r, permit)),
                Err(e) => Err(transport_error(&e)),
            };
        }
        for (name, value) in &v.headers {
            request = request.header(name, value);
        }
        let jar = cookies_for_url(&session.cookies, url, Utc::now());
        if let Some(header) = cookie_header(&jar) {
            request = request.header(COOKIE, sensitive(header.expose()).map_err(config_error)?);
        }
        if let Some(token) = &session.token {
            let name = HeaderName::from_bytes(v.token_header.as_bytes()).map_err(|_| {
                config_error(format!(
                    "token_header {:?} is not a valid header name",
                    v.token_header
                ))
            })?;
            let value = Secret::new(v.token_format.replace("{token}", token.expose()));
            request = request.header(name, sensitive(value.expose()).map_err(config_error)?);
        }
        match request.send().await {
            Ok(r) => Ok((r, permit)),
            Err(e) => Err(transport_error(&e)),
        }
    }

    /// One client per origin, so connections are kept alive and reused between checks, and
    /// the origin's share of requests in flight.
    fn client_for(
        &self,
        url: &Url,
    ) -> Result<(reqwest::Client, Arc<tokio::sync::Semaphore>), String> {
        let key = url.origin().ascii_serialization();
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((c, s)) = clients.get(&key) {
            return Ok((c.clone(), Arc::clone(s)));
        }
        let client = reqwest::Client::builder()
            .user_agent(crate::USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| format!("cannot set up HTTPS: {}", e.without_url()))?;
        let slots = Arc::new(tokio::sync::Semaphore::new(PER_ORIGIN));
        clients.insert(key, (client.clone(), Arc::clone(&slots)));
        Ok((client, slots))
    }
}

fn classify(v: &Validate, http: u16) -> Attempt {
    if v.valid_status.contains(&http) {
        Attempt::Answer {
            status: Status::Valid,
            reason: Reason::Accepted,
            http,
            detail: format!("the server accepted the session (HTTP {http})"),
        }
    } else if v.invalid_status.contains(&http) {
        Attempt::Answer {
            status: Status::Invalid,
            reason: Reason::Rejected,
            http,
            detail: format!(
                "the server rejected the session (HTTP {http}): it has expired or was revoked"
            ),
        }
    } else if http >= 500 {
        Attempt::Transient {
            reason: Reason::ServerError,
            http: Some(http),
            detail: format!("the server failed (HTTP {http}); this says nothing about the session"),
        }
    } else {
        Attempt::Transient {
            reason: Reason::UnexpectedStatus,
            http: Some(http),
            detail: format!(
                "HTTP {http} is neither in valid_status {:?} nor in invalid_status {:?}",
                v.valid_status, v.invalid_status
            ),
        }
    }
}

fn config_error(detail: String) -> Attempt {
    Attempt::Transient {
        reason: Reason::Config,
        http: None,
        detail,
    }
}

/// A header value marked sensitive (kept out of debug logs); the error never shows the value.
fn sensitive(value: &str) -> Result<HeaderValue, String> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        "the session contains characters that cannot go in an HTTP header".to_owned()
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// reqwest errors, classified by what failed. URLs are stripped (a query can hold a key).
fn transport_error(e: &reqwest::Error) -> Attempt {
    let chain = error_chain(e);
    let lower = chain.to_ascii_lowercase();
    let reason = if e.is_timeout() || lower.contains("timed out") {
        Reason::Timeout
    } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
        Reason::Dns
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        Reason::Tls
    } else if e.is_connect() {
        Reason::Connect
    } else {
        Reason::Transport
    };
    let what = match reason {
        Reason::Timeout => "no answer within the timeout",
        Reason::Dns => "the host name did not resolve",
        Reason::Tls => "the TLS connection failed",
        Reason::Connect => "could not connect",
        _ => "the connection broke",
    };
    Attempt::Transient {
        reason,
        http: None,
        detail: format!("{what}: {chain}"),
    }
}

fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

fn location(response: &reqwest::Response, base: &Url) -> Option<Url> {
    let raw = response.headers().get(LOCATION)?.to_str().ok()?;
    base.join(raw).ok()
}

/// Scheme, host and path only: redirect targets can carry tickets in their query.
fn origin_and_path(url: &Url) -> String {
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

/// Read at most [`BODY_CAP`] bytes of the body, so the connection can go back to the pool.
async fn drain(mut response: reqwest::Response) -> Result<(), String> {
    let mut read = 0;
    while read < BODY_CAP {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) => return Ok(()),
            Err(e) => return Err(error_chain(&e)),
        }
    }
    Ok(())
}

/// `base · 2^(attempt-1)`, plus up to 20 % jitter, capped at 30 s.
pub fn backoff_delay(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    let capped = exp.min(Duration::from_secs(30));
    let jitter = rand::rng().random_range(0.0..0.2);
    capped.mul_f64(1.0 + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_wins_over_error_in_exit_codes() {
        use Status::*;
        assert_eq!(Status::combined_exit_code([Valid, Expiring]), 0);
        assert_eq!(Status::combined_exit_code([Valid, Error]), 2);
        assert_eq!(Status::combined_exit_code([Error, Invalid, Valid]), 1);
        assert_eq!(Status::combined_exit_code([]), 0);
    }

    #[test]
    fn backoff_doubles_and_is_bounded() {
        let base = Duration::from_secs(2);
        for (attempt, low) in [(1, 2), (2, 4), (3, 8)] {
            let d = backoff_delay(base, attempt);
            assert!(
                d >= Duration::from_secs(low) && d < Duration::from_secs(low) * 6 / 5,
                "{d:?}"
            );
        }
        assert!(backoff_delay(base, 30) <= Duration::from_secs(36));
    }
}
