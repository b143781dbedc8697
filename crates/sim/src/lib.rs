//! `sessionkeeper-sim`: faithful fakes of the outside world, served on 127.0.0.1, for tests,
//! benchmarks and the demo. Nothing here talks to the internet.
//!
//! What it simulates (one server, two host names so that cookies are per host as in real life):
//!
//! * **SSO** at `http://localhost:PORT/sso/login`: username, password and a fake "I am not a
//!   robot" checkbox that must be ticked; its token expires after 60 s like reCAPTCHA's. A good
//!   login sets an HttpOnly `SSO_TICKET` cookie on the login host and redirects to the portal.
//! * **Provider API** at `http://127.0.0.1:PORT`: `/portal?ticket=…` turns the ticket into an
//!   HttpOnly `JSESSIONID`; `/api/products` answers 200 for a live session and, for a dead
//!   one, 401 or a redirect to the login (`on_expired`). Sessions live longer on the server
//!   than the client's tracked expiry (2–24 h by default, as the seeds observed).
//! * **Login without a human** at `POST /auth/login` (see `login_api.rs`): username and
//!   password as a form or JSON → a token (or with `?kind=cookie` a cookie); scripted
//!   failures with [`Sim::fail_next_logins`] and [`Sim::fail_all_logins`].
//! * **Token provider** at `/token/login?api_key=…`: a form whose success redirects to
//!   `/token/callback?apisession=TOKEN` (the broker's flow); the API accepts the token as
//!   `Authorization: Bearer` or `X-SessionToken`.
//!
//! Start it from Rust with [`Sim::start`], or as a process:
//!
//! ```text
//! $ sessionkeeper-sim            # prints {"sso": …, "api": …, "control": …} and serves
//! ```
//!
//! Inject faults on `/api/*` (from Rust: [`Sim::set_fault`]; over HTTP: the control routes):
//!
//! ```text
//! curl -X POST $CONTROL/faults -d '{"mode":"status","status":503}'       # 5xx until cleared
//! curl -X POST $CONTROL/faults -d '{"mode":"hang","count":1}'            # never answer, once
//! curl -X POST $CONTROL/faults -d '{"mode":"reset"}'                     # drop the connection
//! curl -X POST $CONTROL/faults -d '{"mode":"slow","delay_ms":2000}'      # answer late
//! curl -X DELETE $CONTROL/faults                                         # back to normal
//! curl -X POST $CONTROL/sessions -d '{"kind":"cookie"}'                  # mint a session
//! curl -X POST $CONTROL/sessions/VALUE/expire                            # kill it server-side
//! curl $CONTROL/requests                                                 # what /api/* received
//! ```

mod api_gate;
mod control;
mod github;
mod login_api;
mod provider;
mod serve;
mod sso;
mod vercel;
mod world;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use world::gate::{ApiCall, ApiFault, Service};
pub use world::github::Issue;
pub use world::vercel::EnvVar;
pub use world::{
    BuildOutcome, Fault, FaultMode, Lifetime, MintedSession, OnExpired, RecordedRequest,
    SessionKind, SimConfig, Urls,
};
use world::{SimState, lock};

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct Sim {
    addr: SocketAddr,
    state: Arc<Mutex<SimState>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Sim {
    /// Bind 127.0.0.1 and serve in the background on the current tokio runtime.
    pub async fn start(config: SimConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let urls = Urls::new(addr.port());
        let state = Arc::new(Mutex::new(SimState::new(config, urls)));
        let github = github::routes().layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api_gate::github,
        ));
        let vercel = vercel::routes().layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api_gate::vercel,
        ));
        let app = axum::Router::new()
            .merge(sso::routes())
            .merge(provider::routes())
            .merge(login_api::routes())
            .nest("/github", github)
            .nest("/vercel", vercel)
            .nest("/_sim", control::routes())
            .with_state(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(serve::serve(listener, app, state.clone(), rx));
        Ok(Self {
            addr,
            state,
            shutdown: Some(tx),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn urls(&self) -> Urls {
        Urls::new(self.port())
    }

    /// Create a live session directly, as if someone had logged in.
    pub fn mint_session(&self, kind: SessionKind, lifetime: Option<Duration>) -> MintedSession {
        self.lock().mint(kind, lifetime)
    }

    /// End a session on the server (by its cookie or token value).
    pub fn expire_session(&self, value: &str) -> bool {
        self.lock().expire(value)
    }

    /// The next `n` logins at `/auth/login` fail (503), then they work again.
    pub fn fail_next_logins(&self, n: u32) {
        lock(&self.state).login_failures_left = n;
    }

    /// Every login at `/auth/login` is refused (401) until turned off.
    pub fn fail_all_logins(&self, on: bool) {
        lock(&self.state).logins_always_fail = on;
    }

    /// How many logins `/auth/login` has received.
    pub fn logins(&self) -> u32 {
        lock(&self.state).logins
    }

    pub fn set_fault(&self, fault: Fault) {
        self.lock().fault = Some(fault);
    }

    pub fn clear_fault(&self) {
        self.lock().fault = None;
    }

    pub fn set_on_expired(&self, on_expired: OnExpired) {
        self.lock().config.on_expired = on_expired;
    }

    /// The requests `/api/*` received, oldest first (cookie names only, never values).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// The tokens the hostile login page's ad planted (`&hostile=1` on the token login).
    pub fn planted_tokens(&self) -> Vec<String> {
        self.lock().planted_tokens.clone()
    }

    /// Moves the simulated world's clock forward: sessions, captcha tokens and builds age by
    /// `by` at once (tests of the app's controller move its fake clock by as much).
    pub fn advance(&self, by: Duration) {
        self.lock().offset += by;
    }

    /// Latency added to every GitHub and Vercel call.
    pub fn set_api_latency(&self, latency: Duration) {
        self.lock().api_latency = latency;
    }

    /// Queue a scripted answer (rate limit, permission error, 5xx) for the next call(s).
    pub fn push_api_fault(&self, fault: ApiFault) {
        self.lock().api_faults.push(fault);
    }

    /// The next `count` `method` calls to `service` whose path (without the `/github` or
    /// `/vercel` prefix) starts with `path` are carried out, and then their connection is
    /// reset before the answer is sent: the client cannot tell whether they took effect.
    pub fn reset_after(&self, service: Service, method: &str, path: &str, count: u32) {
        self.lock()
            .resets_after
            .push((service, method.to_owned(), path.to_owned(), count));
    }

    /// Sets how long a redeploy takes to build from now on.
    pub fn set_build_time(&self, build: Duration) {
        self.lock().config.vercel_build_time = build;
    }

    /// Drops every scripted answer still waiting.
    pub fn clear_api_faults(&self) {
        self.lock().api_faults.clear();
    }

    /// Every GitHub and Vercel call, oldest first (header names only, never values).
    pub fn api_calls(&self) -> Vec<ApiCall> {
        self.lock().api_calls.clone()
    }

    /// The decrypted value of a GitHub secret. `scope` is "repo:o/r", "env:o/r:name" or "org:o".
    pub fn github_secret(&self, scope: &str, name: &str) -> Option<Vec<u8>> {
        self.lock()
            .github
            .secrets
            .get(&(scope.to_owned(), name.to_ascii_uppercase()))
            .cloned()
    }

    /// The value of the repository's Actions variable `name` ("o/r"), if it exists.
    pub fn github_variable(&self, repo: &str, name: &str) -> Option<String> {
        self.lock()
            .github
            .variables
            .get(repo)
            .and_then(|v| v.get(&name.to_ascii_uppercase()))
            .map(|v| v.value.clone())
    }

    /// Sets a repository Actions variable directly (a claim left by a crashed teammate, say).
    pub fn set_github_variable(&self, repo: &str, name: &str, value: &str) {
        let mut s = self.lock();
        let now = s.wall_now().to_rfc3339();
        s.github
            .variables
            .entry(repo.to_owned())
            .or_default()
            .insert(
                name.to_ascii_uppercase(),
                world::github::Variable {
                    name: name.to_ascii_uppercase(),
                    value: value.to_owned(),
                    created_at: now.clone(),
                    updated_at: now,
                },
            );
    }

    /// Every Actions variable of the repository ("o/r"), by name.
    pub fn github_variables(&self, repo: &str) -> Vec<(String, String)> {
        self.lock()
            .github
            .variables
            .get(repo)
            .map(|v| {
                v.values()
                    .map(|v| (v.name.clone(), v.value.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every value the GitHub secret was given, oldest first (decrypted).
    pub fn github_secret_writes(&self, scope: &str, name: &str) -> Vec<Vec<u8>> {
        self.lock()
            .github
            .writes
            .get(&(scope.to_owned(), name.to_ascii_uppercase()))
            .cloned()
            .unwrap_or_default()
    }

    /// Every value the Vercel env var was given, oldest first.
    pub fn vercel_env_writes(&self, project: &str, key: &str) -> Vec<String> {
        self.lock()
            .vercel
            .writes
            .get(&(project.to_owned(), key.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// How many redeploys of `project` were built with `key` set to `value`.
    pub fn redeploys_carrying(&self, project: &str, key: &str, value: &str) -> usize {
        self.lock()
            .vercel
            .deployments
            .iter()
            .filter(|d| d.project == project && d.building)
            .filter(|d| d.env.get(key).is_some_and(|v| v == value))
            .count()
    }

    /// The env values of the newest production deployment of `project` made by a redeploy,
    /// and its meta.
    pub fn newest_redeploy(
        &self,
        project: &str,
    ) -> Option<(Vec<String>, std::collections::HashMap<String, String>)> {
        self.lock()
            .vercel
            .deployments
            .iter()
            .filter(|d| d.project == project && d.building)
            .max_by_key(|d| d.created_ms)
            .map(|d| (d.env.values().cloned().collect(), d.meta.clone()))
    }

    pub fn github_issues(&self, repo: &str) -> Vec<Issue> {
        self.lock()
            .github
            .issues
            .get(repo)
            .cloned()
            .unwrap_or_default()
    }

    pub fn vercel_env(&self, project: &str, key: &str) -> Option<EnvVar> {
        self.lock()
            .vercel
            .env
            .get(project)
            .and_then(|vars| vars.get(key))
            .cloned()
    }

    /// The Deploy Hook URL of `project` (a secret, like the real ones).
    pub fn deploy_hook_url(&self, project: &str) -> String {
        let hook = self.lock().config.vercel_hook_id.clone();
        format!(
            "{}/v1/integrations/deploy/{project}/{hook}",
            self.urls().vercel_api
        )
    }

    /// Deployments of `project` created by redeploys, oldest first, as (id, env var keys).
    pub fn vercel_redeploys(&self, project: &str) -> Vec<(String, Vec<String>)> {
        self.lock()
            .vercel
            .deployments
            .iter()
            .filter(|d| d.project == project && d.building)
            .map(|d| (d.id.clone(), d.env.keys().cloned().collect()))
            .collect()
    }

    /// How many TCP connections the server accepted (to see keep-alive at work).
    pub fn connections(&self) -> u64 {
        self.lock().connections
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SimState> {
        lock(&self.state)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
