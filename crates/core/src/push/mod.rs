//! Pushing a session to everywhere it is used: GitHub Actions secrets, Vercel env vars (with
//! redeploy), local files. Targets run in parallel, so a push takes as long as its slowest
//! chain, and each target reports on its own: one failing never stops the others.

pub mod file;
pub mod github;
pub(crate) mod http;
pub mod vercel;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use http::RetryPolicy;
pub use vercel::PollPolicy;

use crate::config::{Account, PushTarget};
use crate::secret::Secret;
use crate::session::Session;
use crate::vault::Fingerprint;

/// What a target did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub action: String,
    pub deployment_url: Option<String>,
}

impl Done {
    pub(crate) fn new(action: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            deployment_url: None,
        }
    }
}

/// What kind of failure, which decides when it is worth trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The network, a 5xx, a rate limit, a build that did not finish in time: retried with
    /// backoff.
    Transient,
    /// The token was refused (401, a permission 403) or is missing: retried when a token is
    /// set, or at the slow cadence.
    Auth,
    /// Something in the config or on the far side that waiting will not fix (a 404, a 422, a
    /// name GitHub refuses, a canceled build): retried at the slow cadence.
    Config,
}

/// Why a target failed, and what to do about it. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub hint: String,
    pub kind: FailureKind,
}

impl Failure {
    pub(crate) fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: hint.into(),
            kind: FailureKind::Transient,
        }
    }

    /// The hint with the target's own account in place of `account:NAME`.
    fn naming_account(mut self, account: &str) -> Self {
        self.hint = self
            .hint
            .replace("account:NAME", &format!("account:{account}"));
        self
    }

    pub(crate) fn auth(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Auth,
            ..Self::new(message, hint)
        }
    }

    pub(crate) fn config(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Config,
            ..Self::new(message, hint)
        }
    }
}

/// The result of one target: what it did, or why it failed.
#[derive(Debug, Clone)]
pub struct TargetOutcome {
    /// The target's name ([`target_name`]): the account, and the repository or project.
    pub target: String,
    /// The account name, or "file".
    pub account: String,
    pub result: Result<Done, Failure>,
    pub elapsed_ms: u64,
}

impl TargetOutcome {
    pub fn ok(&self) -> bool {
        self.result.is_ok()
    }

    /// What was done, or what went wrong: one line for the history and the audit.
    pub fn detail(&self) -> &str {
        match &self.result {
            Ok(done) => &done.action,
            Err(f) => &f.message,
        }
    }
}

/// `push --json`'s form of an outcome: `{target, account, ok, action, error, hint,
/// deploymentUrl, elapsedMs}`.
impl Serialize for TargetOutcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Shown<'a> {
            target: &'a str,
            account: &'a str,
            ok: bool,
            action: Option<&'a str>,
            error: Option<&'a str>,
            hint: Option<&'a str>,
            deployment_url: Option<&'a str>,
            elapsed_ms: u64,
        }
        let (action, error, hint, deployment_url) = match &self.result {
            Ok(d) => (
                Some(d.action.as_str()),
                None,
                None,
                d.deployment_url.as_deref(),
            ),
            Err(f) => (None, Some(f.message.as_str()), Some(f.hint.as_str()), None),
        };
        Shown {
            target: &self.target,
            account: &self.account,
            ok: self.ok(),
            action,
            error,
            hint,
            deployment_url,
            elapsed_ms: self.elapsed_ms,
        }
        .serialize(serializer)
    }
}

/// A target's name: its account, then what it writes ("github acme/app secret MTN_SESSION",
/// "vercel app env MTN_SESSION (production)", "file ~/.cache/x.json"). It names the target in
/// results, the history and the record of what each target holds.
pub fn target_name(target: &PushTarget) -> String {
    match target {
        PushTarget::Github(t) => format!("{} {}", t.account, github::describe(t)),
        PushTarget::Vercel(t) => format!("{} {}", t.account, vercel::describe(t)),
        PushTarget::File(t) => file::describe(t),
    }
}

/// The secrets a push needs, read from the vault (or the environment) before it starts.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// Account name → API token.
    pub tokens: HashMap<String, Secret>,
    /// "account/project" → Deploy Hook URL.
    pub deploy_hooks: HashMap<String, Secret>,
}

impl Credentials {
    /// Reads from `vault` the token of every account `targets` use, and their Deploy Hooks. A
    /// missing token or hook is left out (its target reports it); a keychain failure is an
    /// error, because no target could succeed.
    pub fn for_targets(
        accounts: &BTreeMap<String, Account>,
        targets: &[PushTarget],
        vault: &crate::vault::Vault,
    ) -> Result<Self, crate::error::VaultError> {
        use crate::error::VaultError;
        use crate::vault::SecretName;
        let mut credentials = Self::default();
        for target in targets {
            if let Some(account) = accounts.get(target.account())
                && !credentials.tokens.contains_key(&account.name)
            {
                match vault.account_token(account) {
                    Ok(token) => {
                        credentials.tokens.insert(account.name.clone(), token);
                    }
                    Err(VaultError::Missing { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            if let PushTarget::Vercel(t) = target
                && t.deploy_hook
            {
                let name = SecretName::DeployHook {
                    account: t.account.clone(),
                    project: t.project.clone(),
                };
                if let Some(hook) = vault.get_secret(&name)? {
                    credentials
                        .deploy_hooks
                        .insert(format!("{}/{}", t.account, t.project), hook);
                }
            }
        }
        Ok(credentials)
    }

    fn deploy_hook(&self, target: &PushTarget) -> Option<&Secret> {
        match target {
            PushTarget::Vercel(t) => self
                .deploy_hooks
                .get(&format!("{}/{}", t.account, t.project)),
            _ => None,
        }
    }
}

/// What one target's push knows of its place in time: which session it carries, when this
/// attempt started, and when an earlier attempt for the same session started (a crash or a
/// failure may have left a redeploy behind that must not be made twice).
#[derive(Clone)]
pub struct Attempt {
    pub fingerprint: Option<Fingerprint>,
    pub started_at: DateTime<Utc>,
    pub earlier_attempt: Option<DateTime<Utc>>,
    /// True once a newer session is wanted on this target: a chain stops at its next safe
    /// point (after a write, before a redeploy) instead of deploying what is already old.
    pub superseded: Arc<dyn Fn() -> bool + Send + Sync>,
}

impl std::fmt::Debug for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt")
            .field("fingerprint", &self.fingerprint)
            .field("started_at", &self.started_at)
            .field("earlier_attempt", &self.earlier_attempt)
            .finish_non_exhaustive()
    }
}

impl Attempt {
    /// A first attempt, started now, that nothing supersedes.
    pub fn fresh(fingerprint: Option<Fingerprint>) -> Self {
        Self {
            fingerprint,
            started_at: Utc::now(),
            earlier_attempt: None,
            superseded: Arc::new(|| false),
        }
    }

    /// Since when a deployment carrying this session may exist.
    pub(crate) fn since(&self) -> DateTime<Utc> {
        self.earlier_attempt
            .unwrap_or(self.started_at)
            .min(self.started_at)
    }
}

/// Pushes sessions, keeping one HTTP client per account (connections are reused) and the
/// public keys of GitHub scopes until GitHub says they changed.
#[derive(Debug, Default)]
pub struct Pusher {
    clients: Mutex<HashMap<String, reqwest::Client>>,
    keys: github::KeyCache,
    pub retry: RetryPolicy,
    pub poll: PollPolicy,
}

impl Pusher {
    pub fn new() -> Self {
        Self::default()
    }

    fn client(&self, account: &str) -> Result<reqwest::Client, Failure> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = clients.get(account) {
            return Ok(c.clone());
        }
        let client = reqwest::Client::builder()
            .user_agent(crate::USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| {
                Failure::new(
                    format!("cannot set up HTTPS: {}", e.without_url()),
                    "report this as a bug",
                )
            })?;
        clients.insert(account.to_owned(), client.clone());
        Ok(client)
    }

    /// Pushes `session` to every target, in parallel. A target whose account has no token (or
    /// whose Deploy Hook is missing) fails alone. Results keep the targets' order.
    pub async fn push(
        &self,
        accounts: &BTreeMap<String, Account>,
        targets: &[PushTarget],
        session: &Session,
        credentials: &Credentials,
        dry_run: bool,
    ) -> Vec<TargetOutcome> {
        let attempt = Attempt::fresh(None);
        let export = session.export();
        fan_out(targets, |target| {
            self.push_target(
                accounts,
                target,
                session,
                &export,
                credentials,
                &attempt,
                dry_run,
            )
        })
        .await
    }

    /// Pushes `session` to one target, as part of `attempt` (the convergence of one target).
    pub async fn push_one(
        &self,
        accounts: &BTreeMap<String, Account>,
        target: &PushTarget,
        session: &Session,
        credentials: &Credentials,
        attempt: &Attempt,
    ) -> TargetOutcome {
        let export = session.export();
        let mut outcomes = fan_out(std::slice::from_ref(target), |target| {
            self.push_target(
                accounts,
                target,
                session,
                &export,
                credentials,
                attempt,
                false,
            )
        })
        .await;
        outcomes.remove(0)
    }

    #[allow(clippy::too_many_arguments)] // each is a distinct input of one target's push
    async fn push_target(
        &self,
        accounts: &BTreeMap<String, Account>,
        target: &PushTarget,
        session: &Session,
        export: &Secret,
        credentials: &Credentials,
        attempt: &Attempt,
        dry_run: bool,
    ) -> Result<Done, Failure> {
        if let PushTarget::File(t) = target {
            return if dry_run {
                Ok(Done::new(format!("would write {}", t.path.display())))
            } else {
                file::push(t, session)
            };
        }
        let (account, token) = account_and_token(
            target,
            accounts.get(target.account()),
            credentials.tokens.get(target.account()),
        )?;
        match target {
            PushTarget::Github(t) => {
                github::preflight(t, export)?;
                if dry_run {
                    return Ok(Done::new("would seal and write the secret"));
                }
                let client = self.client(target.account())?;
                let api = github::Api {
                    client: &client,
                    api_url: &account.api_url,
                    token,
                    policy: self.retry,
                };
                github::push(&api, &self.keys, t, export).await
            }
            PushTarget::Vercel(t) => {
                if dry_run {
                    let redeploy = match (t.redeploy, t.deploy_hook) {
                        (_, true) => " and redeploy through the Deploy Hook",
                        (true, false) => " and redeploy production",
                        (false, false) => "",
                    };
                    return Ok(Done::new(format!("would set the variable{redeploy}")));
                }
                let client = self.client(target.account())?;
                let api = vercel::Api {
                    client: &client,
                    account,
                    token,
                    target: t,
                    policy: self.retry,
                };
                vercel::push(
                    &api,
                    export,
                    credentials.deploy_hook(target),
                    self.poll,
                    attempt,
                )
                .await
            }
            PushTarget::File(_) => unreachable!("handled above"),
        }
    }

    /// The configuration check: for every target, one cheap authenticated call that writes
    /// nothing (GitHub: the scope's public key; Vercel: the project; a file: its directory
    /// exists), in parallel. Tells a missing or wrong token, a typo in a name, a missing team
    /// before the first push does.
    pub async fn probe(
        &self,
        accounts: &BTreeMap<String, Account>,
        targets: &[PushTarget],
        credentials: &Credentials,
    ) -> Vec<TargetOutcome> {
        fan_out(targets, |target| async move {
            if let PushTarget::File(t) = target {
                return file::probe(t);
            }
            let (account, token) = account_and_token(
                target,
                accounts.get(target.account()),
                credentials.tokens.get(target.account()),
            )?;
            let client = self.client(target.account())?;
            match target {
                PushTarget::Github(t) => {
                    let api = github::Api {
                        client: &client,
                        api_url: &account.api_url,
                        token,
                        policy: self.retry,
                    };
                    github::probe(&api, t).await
                }
                PushTarget::Vercel(t) => {
                    let api = vercel::Api {
                        client: &client,
                        account,
                        token,
                        target: t,
                        policy: self.retry,
                    };
                    vercel::probe(&api).await
                }
                PushTarget::File(_) => unreachable!("handled above"),
            }
        })
        .await
    }
}

/// Runs `work` for every target at once and gathers the outcomes in the targets' order. A
/// target whose work panics fails alone, with the same words wherever it happens.
async fn fan_out<'a, F, Fut>(targets: &'a [PushTarget], work: F) -> Vec<TargetOutcome>
where
    F: Fn(&'a PushTarget) -> Fut,
    Fut: Future<Output = Result<Done, Failure>> + 'a,
{
    use futures_util::FutureExt as _;
    let runs = targets.iter().map(|target| {
        let started = Instant::now();
        let work = std::panic::AssertUnwindSafe(work(target)).catch_unwind();
        async move {
            let result = work
                .await
                .unwrap_or_else(|_| {
                    Err(Failure::new(
                        "the push of this target failed unexpectedly (a bug; see the log)",
                        "report this as a bug",
                    ))
                })
                .map_err(|f| f.naming_account(target.account()));
            TargetOutcome {
                target: target_name(target),
                account: target.account().to_owned(),
                result,
                elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            }
        }
    });
    futures_util::future::join_all(runs).await
}

/// The target's account and its token, or the failure that says which is missing.
fn account_and_token<'a>(
    target: &PushTarget,
    account: Option<&'a Account>,
    token: Option<&'a Secret>,
) -> Result<(&'a Account, &'a Secret), Failure> {
    let account = account.ok_or_else(|| {
        Failure::config(
            format!("no account named {:?}", target.account()),
            "fix the config",
        )
    })?;
    let token = token.ok_or_else(|| {
        let vars = crate::vault::token_env_vars(account);
        let or_env = if vars.is_empty() {
            String::new()
        } else {
            format!(" (or set {})", vars.join(" or "))
        };
        Failure::auth(
            format!("no token for account {}", account.name),
            format!(
                "run `sessionkeeper secret set account:{}`{or_env}",
                account.name
            ),
        )
    })?;
    Ok((account, token))
}
