//! Logging in without a human, where the provider allows it (the seeds' broker API: a user id
//! and password, no captcha): the `[profiles.X.refresh]` requests with the credentials from the
//! keychain, then the captured cookie or token as a new session. Up to 3 attempts with
//! exponential backoff (2 s, 4 s, … with jitter); the sleeping is injected, so tests measure
//! the backoff with a fake clock.
//!
//! The caller validates the new session before storing it (a refreshed session that does not
//! validate is never stored or pushed), as it does for every captured session.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use crate::config::{BodyFormat, Profile, RefreshCapture, RefreshStep};
use crate::secret::Secret;
use crate::session::{Cookie, SameSite, Session};

/// The SSO or API login of a profile, from the keychain (`profile:ID:username|password`).
#[derive(Debug, Clone)]
pub struct LoginCredentials {
    pub username: Secret,
    pub password: Secret,
}

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RefreshPolicy {
    pub attempts: u32,
    /// The wait after the first failure; doubled after each further one.
    pub first_backoff: Duration,
    /// Each wait is stretched by up to this fraction, at random, so that many clients do not
    /// retry in step.
    pub jitter: f64,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            first_backoff: Duration::from_secs(2),
            jitter: 0.25,
        }
    }
}

/// Waits between attempts: tokio's timer in the app, a recording fake in tests.
pub trait Sleeper: Sync {
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send;
}

/// The real timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(d)
    }
}

/// A new session, and what it took.
#[derive(Debug)]
pub struct Refreshed {
    pub session: Session,
    pub attempts: u32,
    /// The waits between attempts.
    pub waits: Vec<Duration>,
}

/// Why a refresh did not produce a session. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("profile {0} cannot refresh itself: it has no [profiles.{0}.refresh]")]
    NotConfigured(String),
    #[error(
        "the login without a human failed after {attempts} attempts: {last}. Log in with \
         Re-authenticate, and check the stored username and password (`sessionkeeper secret \
         status`)"
    )]
    Failed { attempts: u32, last: String },
}

/// Runs refreshes, with one HTTP client.
#[derive(Debug)]
pub struct Refresher {
    client: reqwest::Client,
}

impl Default for Refresher {
    fn default() -> Self {
        Self::new()
    }
}

impl Refresher {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .user_agent(crate::USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { client }
    }

    /// Logs `profile` in with `credentials`, retrying per `policy`.
    pub async fn refresh(
        &self,
        profile: &Profile,
        credentials: &LoginCredentials,
        policy: &RefreshPolicy,
        sleeper: &impl Sleeper,
    ) -> Result<Refreshed, RefreshError> {
        let Some(refresh) = &profile.refresh else {
            return Err(RefreshError::NotConfigured(profile.id.clone()));
        };
        let mut waits = Vec::new();
        let mut last = String::new();
        let attempts = policy.attempts.max(1);
        for attempt in 1..=attempts {
            match self.attempt(profile, &refresh.steps, credentials).await {
                Ok(session) => {
                    return Ok(Refreshed {
                        session,
                        attempts: attempt,
                        waits,
                    });
                }
                Err(why) => {
                    tracing::info!(profile = %profile.id, attempt, "refresh failed: {why}");
                    last = why;
                }
            }
            if attempt < attempts {
                let wait = backoff(policy, attempt - 1, rand::random::<f64>());
                waits.push(wait);
                sleeper.sleep(wait).await;
            }
        }
        Err(RefreshError::Failed { attempts, last })
    }

    async fn attempt(
        &self,
        profile: &Profile,
        steps: &[RefreshStep],
        credentials: &LoginCredentials,
    ) -> Result<Session, String> {
        let mut value: Option<Secret> = None;
        let mut cookie_host = String::new();
        for step in steps {
            let fields: BTreeMap<&str, Secret> = step
                .fields
                .iter()
                .map(|(k, v)| (k.as_str(), fill(v, credentials, value.as_ref())))
                .collect();
            let request = self.client.post(step.url.clone());
            let request = match step.format {
                BodyFormat::Form => request.form(&fields),
                BodyFormat::Json => request.json(&fields),
            };
            let where_ = step.url.path();
            let response = request
                .send()
                .await
                .map_err(|e| format!("{where_}: {}", e.without_url()))?;
            let status = response.status();
            let captured = match &step.capture {
                RefreshCapture::RedirectParam(name) => {
                    if !status.is_redirection() {
                        return Err(format!("{where_} answered HTTP {status}, not a redirect"));
                    }
                    let location = response
                        .headers()
                        .get(reqwest::header::LOCATION)
                        .and_then(|l| l.to_str().ok())
                        .ok_or_else(|| format!("{where_} redirected without a Location"))?;
                    let target = step
                        .url
                        .join(location)
                        .map_err(|_| format!("{where_} redirected to an unreadable Location"))?;
                    target
                        .query_pairs()
                        .find(|(k, _)| k == name.as_str())
                        .map(|(_, v)| Secret::new(v.into_owned()))
                        .ok_or_else(|| format!("the redirect from {where_} has no {name}"))?
                }
                RefreshCapture::Cookie(name) => {
                    if !status.is_success() {
                        return Err(format!("{where_} answered HTTP {status}"));
                    }
                    cookie_host = step.url.host_str().unwrap_or_default().to_owned();
                    response
                        .headers()
                        .get_all(reqwest::header::SET_COOKIE)
                        .iter()
                        .filter_map(|h| h.to_str().ok())
                        .filter_map(|h| h.split(';').next()?.split_once('='))
                        .find(|(n, _)| n.trim() == name)
                        .map(|(_, v)| Secret::new(v.trim()))
                        .ok_or_else(|| format!("{where_} set no {name} cookie"))?
                }
                RefreshCapture::Json(path) => {
                    if !status.is_success() {
                        return Err(format!("{where_} answered HTTP {status}"));
                    }
                    // Read chunk by chunk: an endless answer is cut off at the cap, not buffered.
                    let body = crate::push::http::body_bytes(response, crate::check::BODY_CAP)
                        .await
                        .map_err(|e| format!("{where_}: {e}"))?;
                    let doc: serde_json::Value = serde_json::from_slice(&body)
                        .map_err(|_| format!("{where_} did not answer JSON"))?;
                    let found = path.iter().try_fold(&doc, |v, key| v.get(key));
                    match found.and_then(serde_json::Value::as_str) {
                        Some(s) if !s.is_empty() => Secret::new(s),
                        _ => {
                            return Err(format!(
                                "{where_} answered JSON without a string at {}",
                                path.join(".")
                            ));
                        }
                    }
                }
            };
            value = Some(captured);
        }
        let value = value.ok_or_else(|| "no refresh step is configured".to_owned())?;
        let session = match steps.last().map(|s| &s.capture) {
            Some(RefreshCapture::Cookie(name)) => Session::captured(
                profile,
                vec![Cookie {
                    name: name.clone(),
                    value,
                    domain: cookie_host,
                    path: "/".to_owned(),
                    expires: -1.0,
                    http_only: true,
                    secure: steps.last().is_some_and(|s| s.url.scheme() == "https"),
                    same_site: SameSite::default(),
                }],
                None,
                chrono::Utc::now(),
            ),
            _ => Session::captured(profile, Vec::new(), Some(value), chrono::Utc::now()),
        };
        Ok(session)
    }
}

/// The wait before attempt `retry + 2`: `first_backoff · 2^retry`, stretched by up to
/// `jitter` (`unit` is a random number in [0, 1)).
pub fn backoff(policy: &RefreshPolicy, retry: u32, unit: f64) -> Duration {
    let base = policy
        .first_backoff
        .saturating_mul(2u32.saturating_pow(retry));
    base.mul_f64(1.0 + policy.jitter * unit.clamp(0.0, 1.0))
}

/// A field value with its placeholders filled in.
/// `template` with `{username}`, `{password}` and `{value}` filled in, built in one buffer
/// that is zeroed when dropped (a chain of `replace` would leave copies behind).
fn fill(template: &str, credentials: &LoginCredentials, value: Option<&Secret>) -> Secret {
    let mut out = zeroize::Zeroizing::new(String::with_capacity(template.len() + 64));
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        let filled = [
            ("{username}", Some(&credentials.username)),
            ("{password}", Some(&credentials.password)),
            ("{value}", value),
        ]
        .into_iter()
        .find_map(|(name, with)| Some((name, with?)).filter(|_| tail.starts_with(name)));
        match filled {
            Some((name, with)) => {
                out.push_str(with.expose());
                rest = &tail[name.len()..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    Secret::from_zeroizing(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_jitter_only_stretches() {
        let p = RefreshPolicy::default();
        assert_eq!(backoff(&p, 0, 0.0), Duration::from_secs(2));
        assert_eq!(backoff(&p, 1, 0.0), Duration::from_secs(4));
        assert_eq!(backoff(&p, 2, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(&p, 0, 1.0), Duration::from_millis(2500));
        assert_eq!(backoff(&p, 0, 7.0), Duration::from_millis(2500), "clamped");
    }

    #[test]
    fn placeholders_are_filled_from_the_keychain_values() {
        let c = LoginCredentials {
            username: Secret::new("u1"),
            password: Secret::new("p{1}"),
        };
        assert_eq!(fill("{username}:{password}", &c, None).expose(), "u1:p{1}");
        assert_eq!(fill("{value}", &c, Some(&Secret::new("v"))).expose(), "v");
        // A placeholder with no value, and a lone brace, stay as they are.
        assert_eq!(fill("{value} {x", &c, None).expose(), "{value} {x");
    }
}

/// A refreshed session that validated and is stored.
#[derive(Debug)]
pub struct Renewed {
    pub session: Session,
    pub fingerprint: crate::vault::Fingerprint,
    pub attempts: u32,
}

/// Why [`renew`] stored nothing. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum RenewError {
    #[error("{item} is not set: `sessionkeeper secret set {item}` stores it")]
    MissingCredential { item: String },
    #[error(transparent)]
    Keychain(#[from] crate::error::VaultError),
    #[error(transparent)]
    Refresh(#[from] RefreshError),
    #[error("the refreshed session does not validate ({detail}): not stored, not pushed")]
    DoesNotValidate {
        status: crate::check::Status,
        detail: String,
    },
}

impl RenewError {
    /// The keychain was locked: nothing was tried, and the refresh waits for the unlock.
    pub fn is_keychain_locked(&self) -> bool {
        matches!(
            self,
            Self::Keychain(crate::error::VaultError::Locked { .. })
        )
    }
}

/// The username and password of `profile` from the keychain.
pub fn login_credentials(
    vault: &crate::vault::Vault,
    profile: &Profile,
) -> Result<LoginCredentials, RenewError> {
    use crate::vault::SecretName;
    let secret = |name: SecretName| -> Result<Secret, RenewError> {
        let item = name.item();
        vault
            .get_secret(&name)?
            .ok_or(RenewError::MissingCredential { item })
    };
    Ok(LoginCredentials {
        username: secret(SecretName::Username(profile.id.clone()))?,
        password: secret(SecretName::Password(profile.id.clone()))?,
    })
}

/// A refreshed session that validated, not stored yet.
#[derive(Debug)]
pub struct Fresh {
    pub session: Session,
    pub outcome: crate::check::CheckOutcome,
    pub attempts: u32,
}

/// The network half of a refresh: [`Refresher::refresh`] with `credentials`, then a check of
/// the new session. A failure is recorded in the history (`refresh_failed`, with the reason).
pub async fn renew_session(
    profile: &Profile,
    credentials: &LoginCredentials,
    checker: &crate::check::Checker,
    history: Option<&crate::history::History>,
    sleeper: &impl Sleeper,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Fresh, RenewError> {
    let failed = |e: RenewError| {
        failure_recorded(history, profile, &e, now);
        e
    };
    let refreshed = Refresher::new()
        .refresh(profile, credentials, &RefreshPolicy::default(), sleeper)
        .await
        .map_err(|e| failed(e.into()))?;
    let attempts = refreshed.attempts;
    let outcome = crate::capture::validate(profile, &refreshed.session, checker, history, now)
        .await
        .map_err(|e| failed(e.into()))?;
    Ok(Fresh {
        session: refreshed.session,
        outcome,
        attempts,
    })
}

/// Records a refresh that produced no stored session (why, never a secret).
pub fn failure_recorded(
    history: Option<&crate::history::History>,
    profile: &Profile,
    e: &RenewError,
    now: chrono::DateTime<chrono::Utc>,
) {
    if e.is_keychain_locked() {
        // Not a failure of the refresh: it waits for the unlock.
        return;
    }
    if let Some(h) = history
        && let Err(err) = h.append(&crate::history::Event::RefreshFailed {
            profile: profile.id.clone(),
            at: now,
            reason: e.to_string(),
        })
    {
        tracing::warn!("could not write the history: {err}");
    }
}

impl From<crate::capture::AcceptError> for RenewError {
    fn from(e: crate::capture::AcceptError) -> Self {
        match e {
            crate::capture::AcceptError::Refused { detail } => Self::DoesNotValidate {
                status: crate::check::Status::Invalid,
                detail,
            },
            crate::capture::AcceptError::CannotTell { detail } => Self::DoesNotValidate {
                status: crate::check::Status::Error,
                detail,
            },
            crate::capture::AcceptError::Keychain(e) => Self::Keychain(e),
        }
    }
}

/// The whole refresh of `profile`: credentials from `vault`, [`renew_session`], and only a
/// session that validates is stored (the previous one kept) and recorded. Pushing is the
/// caller's next step.
pub async fn renew(
    profile: &Profile,
    vault: &crate::vault::Vault,
    checker: &crate::check::Checker,
    history: Option<&crate::history::History>,
    sleeper: &impl Sleeper,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Renewed, RenewError> {
    let credentials = login_credentials(vault, profile)?;
    let renewed = renew_session(profile, &credentials, checker, history, sleeper, now).await?;
    let (session, fingerprint) =
        crate::capture::store(profile, renewed.session, vault, history, "refresh", now).map_err(
            |e| {
                let e = RenewError::from(e);
                failure_recorded(history, profile, &e, now);
                e
            },
        )?;
    Ok(Renewed {
        session,
        fingerprint,
        attempts: renewed.attempts,
    })
}
