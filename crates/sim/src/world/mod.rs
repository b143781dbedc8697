//! The simulator's world: users, captcha tokens, SSO tickets, live sessions, armed faults and
//! the log of API requests; the GitHub and Vercel fakes' worlds (`github`, `vercel`) and their
//! front door's (`gate`). The handlers (`sso`, `provider`, `github`, `vercel`, …) act on it.

pub(crate) mod gate;
pub(crate) mod github;
pub(crate) mod vercel;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use std::sync::{Arc, Mutex};

/// How long sessions live on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    Fixed(Duration),
    /// Drawn uniformly for each new session.
    Uniform {
        min: Duration,
        max: Duration,
    },
}

impl Lifetime {
    fn draw(self) -> Duration {
        match self {
            Self::Fixed(d) => d,
            Self::Uniform { min, max } if max > min => {
                let ms = rand::rng().random_range(min.as_millis()..=max.as_millis());
                Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
            }
            Self::Uniform { min, .. } => min,
        }
    }
}

/// What the API answers for an unknown or expired session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnExpired {
    /// `401 Unauthorized` with a JSON error.
    Unauthorized,
    /// `302 Found` to the SSO login, as portals do.
    RedirectToLogin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// A `JSESSIONID` cookie on the API host.
    Cookie,
    /// An API session token.
    Token,
}

/// A session created by [`crate::Sim::mint_session`] or a login.
#[derive(Debug, Clone, Serialize)]
pub struct MintedSession {
    pub kind: SessionKind,
    /// The cookie name (`JSESSIONID`) for cookie sessions.
    pub cookie_name: Option<String>,
    pub value: String,
    /// The API host, for the cookie's `domain`.
    pub domain: String,
    pub lifetime_ms: u64,
}

/// A fault injected on `/api/*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub mode: FaultMode,
    /// `mode = status`: the status to answer (default 503).
    #[serde(default)]
    pub status: Option<u16>,
    /// `hang` and `slow`: how long to wait (hang default: one hour).
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// How many requests it applies to (default: all, until cleared).
    #[serde(default)]
    pub count: Option<u32>,
}

impl Fault {
    /// `mode` on every request until cleared.
    pub fn always(mode: FaultMode) -> Self {
        Self {
            mode,
            status: None,
            delay_ms: None,
            count: None,
        }
    }

    /// Answer `status` on every request until cleared.
    pub fn status(status: u16) -> Self {
        Self {
            status: Some(status),
            ..Self::always(FaultMode::Status)
        }
    }

    /// Only for the next `n` requests.
    #[must_use]
    pub fn times(self, n: u32) -> Self {
        Self {
            count: Some(n),
            ..self
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultMode {
    /// Answer with an error status (5xx by default).
    Status,
    /// Accept the request and never answer.
    Hang,
    /// Drop the connection (TCP reset) mid-request.
    Reset,
    /// Answer normally, but late.
    Slow,
}

/// One request `/api/*` received. Cookie names only: the sim logs no values either.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub host: String,
    pub cookie_names: Vec<String>,
    pub has_token: bool,
    /// Every header's name, lower case (never a value).
    pub header_names: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct LiveSession {
    pub(crate) kind: SessionKind,
    pub(crate) expires: Instant,
    pub(crate) revoked: bool,
}

/// How a simulated Vercel build ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BuildOutcome {
    Ready,
    Error,
    Canceled,
}

impl BuildOutcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "READY",
            Self::Error => "ERROR",
            Self::Canceled => "CANCELED",
        }
    }
}

#[derive(Debug)]
pub(crate) struct SimState {
    pub(crate) config: SimConfig,
    pub(crate) urls: Urls,
    /// Captcha token → when it was issued.
    pub(crate) captcha: HashMap<String, Instant>,
    /// SSO ticket → issued (single use).
    pub(crate) tickets: HashMap<String, Instant>,
    /// Session value → its server-side life.
    pub(crate) sessions: HashMap<String, LiveSession>,
    pub(crate) fault: Option<Fault>,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) connections: u64,
    pub(crate) api_latency: Duration,
    pub(crate) api_faults: Vec<gate::ApiFault>,
    pub(crate) api_calls: Vec<gate::ApiCall>,
    pub(crate) github: github::GithubState,
    pub(crate) vercel: vercel::VercelState,
    /// `/auth/login`: failures still to answer, refuse-everything mode, logins received.
    pub(crate) login_failures_left: u32,
    pub(crate) logins_always_fail: bool,
    pub(crate) logins: u32,
    /// One-time codes from `/auth/login?kind=code`, for `/auth/exchange`.
    pub(crate) login_codes: std::collections::HashSet<String>,
    /// How far the simulated world's clock is ahead of the real one ([`crate::Sim::advance`]).
    pub(crate) offset: Duration,
    /// Calls to carry out and then answer with a reset connection: (service, method, path
    /// prefix, how many more).
    pub(crate) resets_after: Vec<(gate::Service, String, String, u32)>,
    /// Tokens the hostile login page's ad minted for itself.
    pub(crate) planted_tokens: Vec<String>,
}

impl SimState {
    pub(crate) fn new(config: SimConfig, urls: Urls) -> Self {
        // Every project starts with one READY production deployment to redeploy from.
        let deployments = config
            .vercel_projects
            .iter()
            .map(|p| vercel::Deployment {
                id: format!("dpl_{}", random_token(12)),
                project: p.clone(),
                target: "production".to_owned(),
                created: Instant::now(),
                created_ms: chrono::Utc::now().timestamp_millis() - 86_400_000,
                building: false,
                env: HashMap::new(),
                meta: HashMap::new(),
            })
            .collect();
        Self {
            api_latency: Duration::ZERO,
            api_faults: Vec::new(),
            api_calls: Vec::new(),
            github: github::GithubState::default(),
            login_failures_left: 0,
            logins_always_fail: false,
            logins: 0,
            login_codes: std::collections::HashSet::new(),
            vercel: vercel::VercelState {
                env: HashMap::new(),
                writes: HashMap::new(),
                deployments,
            },
            config,
            urls,
            captcha: HashMap::new(),
            tickets: HashMap::new(),
            sessions: HashMap::new(),
            fault: None,
            requests: Vec::new(),
            connections: 0,
            offset: Duration::ZERO,
            resets_after: Vec::new(),
            planted_tokens: Vec::new(),
        }
    }

    /// The simulated world's now: the real one plus what tests advanced it by.
    pub(crate) fn now(&self) -> Instant {
        Instant::now() + self.offset
    }

    /// The same, as wall-clock time (Vercel's millisecond timestamps, rate-limit resets).
    pub(crate) fn wall_now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::from_std(self.offset).unwrap_or_default()
    }

    pub(crate) fn mint(&mut self, kind: SessionKind, lifetime: Option<Duration>) -> MintedSession {
        let lifetime = lifetime.unwrap_or_else(|| self.config.lifetime.draw());
        let value = random_token(match kind {
            SessionKind::Cookie => 32,
            SessionKind::Token => 24,
        });
        self.sessions.insert(
            value.clone(),
            LiveSession {
                kind,
                expires: self.now() + lifetime,
                revoked: false,
            },
        );
        MintedSession {
            kind,
            cookie_name: (kind == SessionKind::Cookie).then(|| "JSESSIONID".to_owned()),
            value,
            domain: "127.0.0.1".to_owned(),
            lifetime_ms: u64::try_from(lifetime.as_millis()).unwrap_or(u64::MAX),
        }
    }

    pub(crate) fn expire(&mut self, value: &str) -> bool {
        self.sessions
            .get_mut(value)
            .map(|s| s.revoked = true)
            .is_some()
    }

    pub(crate) fn is_live(&self, value: &str, kind: SessionKind) -> bool {
        self.sessions
            .get(value)
            .is_some_and(|s| s.kind == kind && !s.revoked && self.now() < s.expires)
    }

    /// Takes one use of the armed fault, if any.
    pub(crate) fn take_fault(&mut self) -> Option<Fault> {
        let fault = self.fault.clone()?;
        if let Some(n) = fault.count {
            if n <= 1 {
                self.fault = None;
            } else if let Some(f) = &mut self.fault {
                f.count = Some(n - 1);
            }
        }
        Some(fault)
    }

    pub(crate) fn issue_captcha(&mut self) -> String {
        let token = random_token(20);
        let now = self.now();
        self.captcha.insert(token.clone(), now);
        token
    }

    /// Consumes a captcha token; `Err` says why it is not accepted.
    pub(crate) fn redeem_captcha(&mut self, token: &str) -> Result<(), &'static str> {
        let issued = self
            .captcha
            .remove(token)
            .ok_or("Tick \"I am not a robot\" first.")?;
        if self.now().saturating_duration_since(issued) > self.config.captcha_ttl {
            return Err("The reCAPTCHA expired. Tick \"I am not a robot\" again.");
        }
        Ok(())
    }
}

pub(crate) fn random_token(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02X}", rng.random::<u8>()))
        .collect()
}

/// The world, shared by every handler.
pub(crate) type Shared = Arc<Mutex<SimState>>;

pub(crate) fn lock(state: &Shared) -> std::sync::MutexGuard<'_, SimState> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How the simulated world behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The SSO user.
    pub username: String,
    pub password: String,
    /// How long the fake captcha's token stays usable (reCAPTCHA: about 60 s).
    pub captcha_ttl: Duration,
    /// How long sessions really live on the server.
    pub lifetime: Lifetime,
    /// What the API answers for a dead session.
    pub on_expired: OnExpired,
    /// The API key the token provider expects in `/token/login?api_key=`.
    pub api_key: String,
    /// Port to bind on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// The token the GitHub fake accepts (`Authorization: Bearer …`); `GET /user` says
    /// `sim-user` for it.
    pub github_token: String,
    /// More members of the team: (token, login), each accepted too.
    pub github_members: Vec<(String, String)>,
    /// Repositories that exist ("owner/repo").
    pub github_repos: Vec<String>,
    /// Environments that exist, as (repository, environment).
    pub github_environments: Vec<(String, String)>,
    pub github_orgs: Vec<String>,
    /// The token the Vercel fake accepts.
    pub vercel_token: String,
    /// Projects that exist (by name; the fake accepts the name where an id may go).
    pub vercel_projects: Vec<String>,
    /// The team the projects belong to (`teamId` must match), if any.
    pub vercel_team: Option<String>,
    /// Env var keys whose upsert lands in `failed[]` of a 201.
    pub vercel_fail_keys: Vec<String>,
    /// How long a redeploy takes to finish.
    pub vercel_build_time: Duration,
    /// How a redeploy ends.
    pub vercel_build_outcome: BuildOutcome,
    /// The id in every project's Deploy Hook URL.
    pub vercel_hook_id: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            username: "demo".to_owned(),
            password: "demo-password".to_owned(),
            captcha_ttl: Duration::from_secs(60),
            lifetime: Lifetime::Uniform {
                min: Duration::from_secs(2 * 3600),
                max: Duration::from_secs(24 * 3600),
            },
            on_expired: OnExpired::Unauthorized,
            api_key: "demo-key".to_owned(),
            port: 0,
            github_token: "ghp_simulated_github_token".to_owned(),
            github_members: Vec::new(),
            github_repos: vec!["acme/circletel".to_owned()],
            github_environments: vec![("acme/circletel".to_owned(), "production".to_owned())],
            github_orgs: vec!["acme".to_owned()],
            vercel_token: "vercel_simulated_token".to_owned(),
            vercel_projects: vec!["circletel".to_owned()],
            vercel_team: None,
            vercel_fail_keys: Vec::new(),
            vercel_build_time: Duration::from_millis(300),
            vercel_build_outcome: BuildOutcome::Ready,
            vercel_hook_id: "hook_simulated".to_owned(),
        }
    }
}

/// Where each simulated service lives. The SSO uses the host name `localhost` and the API
/// `127.0.0.1`: the same server, but two cookie hosts, like `sso.example.net` and
/// `wholesale.example.net`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Urls {
    pub sso_login: String,
    pub sso_origin: String,
    pub api_origin: String,
    pub portal: String,
    pub products: String,
    pub token_login: String,
    pub token_callback: String,
    pub control: String,
    /// The GitHub fake's `api_url` (with a path prefix, like GitHub Enterprise Server).
    pub github_api: String,
    /// The Vercel fake's `api_url`.
    pub vercel_api: String,
    /// `{app}/{project}`: a page of the deployed app that answers 200 once a deployment
    /// built with the project's env vars is READY (a smoke-test target).
    pub app: String,
}

impl Urls {
    pub(crate) fn new(port: u16) -> Self {
        let sso = format!("http://localhost:{port}");
        let api = format!("http://127.0.0.1:{port}");
        Self {
            sso_login: format!("{sso}/sso/login"),
            sso_origin: sso,
            portal: format!("{api}/portal"),
            products: format!("{api}/api/products"),
            token_login: format!("{api}/token/login?api_key="),
            token_callback: format!("{api}/token/callback"),
            control: format!("{api}/_sim"),
            github_api: format!("{api}/github"),
            vercel_api: format!("{api}/vercel"),
            app: format!("{api}/app"),
            api_origin: api,
        }
    }
}
