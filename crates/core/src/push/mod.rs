//! Pushing a session to everywhere it is used: GitHub Actions secrets, Vercel env vars (with
//! redeploy), local files. Targets run in parallel, so a push takes as long as its slowest
//! chain, and each target reports on its own: one failing never stops the others.

pub mod file;
pub mod github;
pub(crate) mod http;
pub mod vercel;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

pub use http::RetryPolicy;
pub use vercel::PollPolicy;

use crate::config::{Account, PushTarget};
use crate::secret::Secret;
use crate::session::Session;

/// What a target did.
#[derive(Debug, Clone)]
pub struct Done {
    pub action: String,
    pub deployment_url: Option<String>,
}

impl Done {
    fn new(action: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            deployment_url: None,
        }
    }
}

/// Why a target failed, and what to do about it. Never holds a secret.
#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    pub hint: String,
}

impl Failure {
    pub(crate) fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// The result of one target (part of `push --json`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetResult {
    /// "github acme/app secret MTN_SESSION", "vercel app env MTN_SESSION (production)", "file …".
    pub target: String,
    /// The account name, or "file".
    pub account: String,
    pub ok: bool,
    /// What was done (when ok), or what would be done (dry run).
    pub action: Option<String>,
    pub error: Option<String>,
    /// What to do next, when it failed.
    pub hint: Option<String>,
    pub deployment_url: Option<String>,
    pub elapsed_ms: u64,
}

/// A human name for a target.
pub fn describe(target: &PushTarget) -> String {
    match target {
        PushTarget::Github(t) => github::describe(t),
        PushTarget::Vercel(t) => vercel::describe(t),
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

/// Pushes sessions, keeping one HTTP client per account (connections are reused).
#[derive(Debug, Default)]
pub struct Pusher {
    clients: Mutex<HashMap<String, reqwest::Client>>,
    pub retry: RetryPolicy,
    pub poll: PollPolicy,
}

impl Credentials {
    /// Reads from `vault` the token of every account `targets` use, and their Deploy Hooks. A
    /// missing token or hook is left out (its target reports it); a keychain failure is an
    /// error, because no target could succeed.
    pub fn for_targets(
        accounts: &BTreeMap<String, Account>,
        targets: &[PushTarget],
        vault: &crate::vault::Vault,
    ) -> Result<Self, crate::VaultError> {
        use crate::VaultError;
        use crate::vault::SecretName;
        let mut credentials = Self::default();
        for target in targets {
            if let Some(account) = accounts.get(target.account()) {
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
}

/// The history event of one pushed target (never the value).
pub fn push_event(profile: &str, result: &TargetResult) -> crate::history::Event {
    crate::history::Event::Push {
        profile: profile.to_owned(),
        at: chrono::Utc::now(),
        target: result.target.clone(),
        account: result.account.clone(),
        ok: result.ok,
        detail: result
            .action
            .clone()
            .or_else(|| result.error.clone())
            .unwrap_or_default(),
        deployment_url: result.deployment_url.clone(),
    }
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
    ) -> Vec<TargetResult> {
        let export = session.export();
        let mut tasks = tokio::task::JoinSet::new();
        for (index, target) in targets.iter().enumerate() {
            let job = Job {
                target: target.clone(),
                account: accounts.get(target.account()).cloned(),
                token: credentials.tokens.get(target.account()).cloned(),
                deploy_hook: match target {
                    PushTarget::Vercel(t) => credentials
                        .deploy_hooks
                        .get(&format!("{}/{}", t.account, t.project))
                        .cloned(),
                    _ => None,
                },
                client: if matches!(target, PushTarget::File(_)) {
                    None
                } else {
                    Some(self.client(target.account()))
                },
                export: export.clone(),
                session: session.clone(),
                retry: self.retry,
                poll: self.poll,
                dry_run,
            };
            tasks.spawn(async move { (index, job.run().await) });
        }
        let mut results: Vec<Option<TargetResult>> = vec![None; targets.len()];
        while let Some(joined) = tasks.join_next().await {
            if let Ok((index, result)) = joined {
                results[index] = Some(result);
            }
        }
        results
            .into_iter()
            .zip(targets)
            .map(|(r, t)| {
                r.unwrap_or_else(|| TargetResult {
                    target: describe(t),
                    account: t.account().to_owned(),
                    ok: false,
                    action: None,
                    error: Some("the push task failed unexpectedly".to_owned()),
                    hint: Some("report this as a bug".to_owned()),
                    deployment_url: None,
                    elapsed_ms: 0,
                })
            })
            .collect()
    }
}

impl Pusher {
    /// The configuration check: for every target, one cheap authenticated call that writes
    /// nothing (GitHub: the scope's public key; Vercel: the project; a file: its directory
    /// exists), in parallel. Tells a missing or wrong token, a typo in a name, a missing team
    /// before the first push does.
    pub async fn probe(
        &self,
        accounts: &BTreeMap<String, Account>,
        targets: &[PushTarget],
        credentials: &Credentials,
    ) -> Vec<TargetResult> {
        let mut tasks = tokio::task::JoinSet::new();
        for (index, target) in targets.iter().enumerate() {
            let target = target.clone();
            let account = accounts.get(target.account()).cloned();
            let token = credentials.tokens.get(target.account()).cloned();
            let client =
                (!matches!(target, PushTarget::File(_))).then(|| self.client(target.account()));
            let policy = self.retry;
            tasks.spawn(async move {
                let started = Instant::now();
                let outcome =
                    probe_one(&target, account.as_ref(), token.as_ref(), client, policy).await;
                let (ok, action, error, hint) = match outcome {
                    Ok(done) => (true, Some(done.action), None, None),
                    Err(f) => (false, None, Some(f.message), Some(f.hint)),
                };
                (
                    index,
                    TargetResult {
                        target: describe(&target),
                        account: target.account().to_owned(),
                        ok,
                        action,
                        error,
                        hint,
                        deployment_url: None,
                        elapsed_ms: u64::try_from(started.elapsed().as_millis())
                            .unwrap_or(u64::MAX),
                    },
                )
            });
        }
        let mut results: Vec<(usize, TargetResult)> = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            if let Ok(r) = joined {
                results.push(r);
            }
        }
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }
}

/// The target's account and its token, or the failure that says which is missing.
fn account_and_token<'a>(
    target: &PushTarget,
    account: Option<&'a Account>,
    token: Option<&'a Secret>,
) -> Result<(&'a Account, &'a Secret), Failure> {
    let account = account.ok_or_else(|| {
        Failure::new(
            format!("no account named {:?}", target.account()),
            "fix the config",
        )
    })?;
    let token = token.ok_or_else(|| {
        let vars = crate::vault::token_env_vars(account).join(" or ");
        Failure::new(
            format!("no token for account {}", account.name),
            format!(
                "run `sessionkeeper secret set account:{}` (or set {vars})",
                account.name
            ),
        )
    })?;
    Ok((account, token))
}

async fn probe_one(
    target: &PushTarget,
    account: Option<&Account>,
    token: Option<&Secret>,
    client: Option<Result<reqwest::Client, Failure>>,
    policy: RetryPolicy,
) -> Result<Done, Failure> {
    if let PushTarget::File(t) = target {
        let dir = t.path.parent().unwrap_or(std::path::Path::new("."));
        return if dir.as_os_str().is_empty() || dir.is_dir() {
            Ok(Done::new("its directory exists"))
        } else {
            Err(Failure::new(
                format!("{} does not exist", dir.display()),
                "create it, or fix path",
            ))
        };
    }
    let (account, token) = account_and_token(target, account, token)?;
    let client = client.expect("network targets have a client")?;
    match target {
        PushTarget::Github(t) => github::probe(&client, &account.api_url, token, t, policy).await,
        PushTarget::Vercel(t) => vercel::probe(&client, account, token, t, policy).await,
        PushTarget::File(_) => unreachable!("handled above"),
    }
}

/// Everything one target needs, owned, so targets can run as separate tasks.
struct Job {
    target: PushTarget,
    account: Option<Account>,
    token: Option<Secret>,
    deploy_hook: Option<Secret>,
    client: Option<Result<reqwest::Client, Failure>>,
    export: Secret,
    session: Session,
    retry: RetryPolicy,
    poll: PollPolicy,
    dry_run: bool,
}

impl Job {
    async fn run(self) -> TargetResult {
        let started = Instant::now();
        let outcome = self.execute().await;
        let (ok, action, error, hint, deployment_url) = match outcome {
            Ok(done) => (true, Some(done.action), None, None, done.deployment_url),
            Err(f) => (false, None, Some(f.message), Some(f.hint), None),
        };
        TargetResult {
            target: describe(&self.target),
            account: self.target.account().to_owned(),
            ok,
            action,
            error,
            hint,
            deployment_url,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }

    async fn execute(&self) -> Result<Done, Failure> {
        if let PushTarget::File(t) = &self.target {
            return if self.dry_run {
                Ok(Done::new(format!("would write {}", t.path.display())))
            } else {
                file::push(t, &self.session)
            };
        }
        let (account, token) =
            account_and_token(&self.target, self.account.as_ref(), self.token.as_ref())?;
        match &self.target {
            PushTarget::Github(t) => {
                github::preflight(t, &self.export)?;
                if self.dry_run {
                    return Ok(Done::new("would seal and write the secret"));
                }
                let client = self
                    .client
                    .clone()
                    .expect("network targets have a client")?;
                github::push(
                    &client,
                    &account.api_url,
                    token,
                    t,
                    &self.export,
                    self.retry,
                )
                .await
            }
            PushTarget::Vercel(t) => {
                if self.dry_run {
                    let redeploy = match (t.redeploy, t.deploy_hook) {
                        (_, true) => " and redeploy through the Deploy Hook",
                        (true, false) => " and redeploy production",
                        (false, false) => "",
                    };
                    return Ok(Done::new(format!("would set the variable{redeploy}")));
                }
                let client = self
                    .client
                    .clone()
                    .expect("network targets have a client")?;
                vercel::push(
                    &client,
                    account,
                    token,
                    t,
                    &self.export,
                    self.deploy_hook.as_ref(),
                    self.retry,
                    self.poll,
                )
                .await
            }
            PushTarget::File(_) => unreachable!("handled above"),
        }
    }
}
