//! Vercel project environment variables, and the redeploy that makes a new value live:
//! upsert (`POST /v10/projects/{id}/env?upsert=true`), then, when asked, redeploy the latest
//! READY production deployment as `vercel redeploy` does, follow it to READY, and smoke-test.
//!
//! The chain is kept at its floor: the deployment to redeploy is looked up while the variable
//! is written (the redeploy itself waits for the write), and a deployment whose create answer
//! is already final is not polled. A redeploy is not idempotent: it carries the session's
//! fingerprint in its `meta`, and before one is made again (after a transport error, a 5xx,
//! or a crash mid-push) the deployments created since the attempt began are searched for it.

use std::time::{Duration, Instant};

use url::Url;

use super::github::endpoint;
use super::http::{Idempotent, RetryPolicy, body_json, send};
use super::{Attempt, Done, Failure};
use crate::config::{Account, VercelTarget};
use crate::secret::Secret;

/// The `meta` key of a redeploy that names the session it carries (its fingerprint).
pub const META_SESSION: &str = "sessionkeeperSession";

/// How a redeploy is followed.
#[derive(Debug, Clone, Copy)]
pub struct PollPolicy {
    pub first_interval: Duration,
    pub max_interval: Duration,
    /// Give up following the build after this long (the push is then reported as failed).
    pub deadline: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            first_interval: Duration::from_millis(100),
            max_interval: Duration::from_secs(5),
            deadline: Duration::from_secs(15 * 60),
        }
    }
}

/// What the target writes, for its name ([`super::target_name`] puts the account first).
pub fn describe(target: &VercelTarget) -> String {
    format!(
        "{} env {} ({})",
        target.project,
        target.env,
        target.targets.join(", ")
    )
}

/// Everything one Vercel target's calls share.
pub(crate) struct Api<'a> {
    pub(crate) client: &'a reqwest::Client,
    pub(crate) account: &'a Account,
    pub(crate) token: &'a Secret,
    pub(crate) target: &'a VercelTarget,
    pub(crate) policy: RetryPolicy,
}

/// A deployment as far as the push needs it.
#[derive(Debug, Clone)]
struct Deployment {
    id: String,
    state: String,
    url: Option<String>,
}

impl Deployment {
    fn from_json(json: &serde_json::Value) -> Option<Self> {
        let id = json["id"].as_str().or(json["uid"].as_str())?;
        Some(Self {
            id: id.to_owned(),
            state: json["readyState"]
                .as_str()
                .or(json["state"].as_str())
                .unwrap_or_default()
                .to_owned(),
            url: json["url"].as_str().map(|u| format!("https://{u}")),
        })
    }

    fn is_final(&self) -> bool {
        matches!(self.state.as_str(), "READY" | "ERROR" | "CANCELED")
    }
}

/// Why a call produced no usable answer: it may have taken effect ([`Unclear`]) or it
/// certainly failed.
enum CallFailure {
    /// No answer, or a 5xx: a request that is not idempotent may have been carried out.
    Unclear(Failure),
    Failed(Failure),
}

impl Api<'_> {
    /// `api_url` + `path`, with `teamId` when the account has one.
    fn url(&self, path: &str) -> Url {
        let mut url = endpoint(&self.account.api_url, path);
        if let Some(team) = &self.account.team_id {
            url.query_pairs_mut().append_pair("teamId", team);
        }
        url
    }

    /// An idempotent call: sent with retries; an error answer becomes a failure that says what
    /// we were `doing`; a 2xx answer's JSON is returned.
    async fn call(
        &self,
        method: reqwest::Method,
        url: Url,
        body: Option<&serde_json::Value>,
        doing: &str,
    ) -> Result<serde_json::Value, Failure> {
        self.call_as(Idempotent::Yes, method, url, body, doing)
            .await
            .map_err(|e| match e {
                CallFailure::Unclear(f) | CallFailure::Failed(f) => f,
            })
    }

    async fn call_as(
        &self,
        idempotent: Idempotent,
        method: reqwest::Method,
        url: Url,
        body: Option<&serde_json::Value>,
        doing: &str,
    ) -> Result<serde_json::Value, CallFailure> {
        let response = send(self.policy, idempotent, || {
            let r = self
                .client
                .request(method.clone(), url.clone())
                .bearer_auth(self.token.expose());
            match body {
                Some(b) => r.json(b),
                None => r,
            }
        })
        .await
        .map_err(|e| {
            CallFailure::Unclear(Failure::new(
                format!("{e} ({doing})"),
                "try again later; a started redeploy may still finish: check Vercel",
            ))
        })?;
        let status = response.status();
        if status.is_server_error() {
            return Err(CallFailure::Unclear(
                explain(response, self.target, doing).await,
            ));
        }
        if !status.is_success() {
            return Err(CallFailure::Failed(
                explain(response, self.target, doing).await,
            ));
        }
        body_json(response)
            .await
            .map_err(|e| CallFailure::Failed(Failure::new(e, "is api_url the Vercel API?")))
    }

    fn deployments_url(&self) -> Url {
        let mut url = self.url("v6/deployments");
        url.query_pairs_mut()
            .append_pair("projectId", &self.target.project)
            .append_pair("target", "production");
        url
    }

    /// Production deployments created since `since`, newest first.
    async fn deployments_since(
        &self,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<serde_json::Value>, Failure> {
        let mut url = self.deployments_url();
        url.query_pairs_mut()
            .append_pair("since", &since.timestamp_millis().to_string())
            .append_pair("limit", "20");
        let json = self
            .call(
                reqwest::Method::GET,
                url,
                None,
                "listing the recent deployments",
            )
            .await?;
        let mut found = json["deployments"].as_array().cloned().unwrap_or_default();
        found.sort_by_key(|d| std::cmp::Reverse(d["created"].as_i64().unwrap_or(0)));
        Ok(found)
    }
}

/// One cheap authenticated call that writes nothing: reading the project proves the token
/// (and team) reach it.
pub(super) async fn probe(api: &Api<'_>) -> Result<Done, Failure> {
    let project: String =
        url::form_urlencoded::byte_serialize(api.target.project.as_bytes()).collect();
    api.call(
        reqwest::Method::GET,
        api.url(&format!("v9/projects/{project}")),
        None,
        "reading the project",
    )
    .await?;
    Ok(Done::new("the token reaches the project"))
}

pub(super) async fn push(
    api: &Api<'_>,
    value: &Secret,
    deploy_hook: Option<&Secret>,
    poll: PollPolicy,
    attempt: &Attempt,
) -> Result<Done, Failure> {
    let target = api.target;
    // Without the hook there is no way to redeploy as configured: say so before changing anything.
    let hook = match (target.deploy_hook, deploy_hook) {
        (true, None) => {
            return Err(Failure::auth(
                format!(
                    "no Deploy Hook URL for {}/{}",
                    api.account.name, target.project
                ),
                format!(
                    "store it: `sessionkeeper secret set deploy-hook:{}/{}` (Vercel: Project \
                     Settings → Git → Deploy Hooks)",
                    api.account.name, target.project
                ),
            ));
        }
        (true, Some(h)) => Some(h),
        (false, _) => None,
    };
    let set = set_variable(api, value);
    if !target.redeploy {
        set.await?;
        return Ok(Done::new(
            "set the environment variable (it reaches new deployments only)",
        ));
    }
    let deployment = match hook {
        Some(hook) => {
            set.await?;
            if (attempt.superseded)() {
                return Ok(superseded());
            }
            redeploy_by_hook(api, hook, poll, attempt).await?
        }
        None => {
            // The variable, the deployment to redeploy, and (after an earlier attempt) one
            // that already carries this session: all at once.
            let (set, source, carrying) =
                tokio::join!(set, latest_production(api), carrying(api, attempt));
            set?;
            match carrying? {
                Some(existing) => existing,
                None => {
                    if (attempt.superseded)() {
                        return Ok(superseded());
                    }
                    redeploy(api, &source?, attempt).await?
                }
            }
        }
    };
    let deployment = follow(api, deployment, poll).await?;
    let mut done = Done::new(format!(
        "set the variable and redeployed ({})",
        deployment.state
    ));
    done.deployment_url = deployment.url;
    if let Some(smoke) = &target.smoke_url {
        smoke_test(api.client, smoke, api.policy).await?;
        done.action.push_str(", smoke test passed");
    }
    Ok(done)
}

fn superseded() -> Done {
    Done::new("set the variable; a newer session is wanted, and its push redeploys")
}

/// Upserts the variable (idempotent); a 201 can still carry per-variable failures.
async fn set_variable(api: &Api<'_>, value: &Secret) -> Result<(), Failure> {
    let target = api.target;
    let mut url = api.url(&format!("v10/projects/{}/env", target.project));
    url.query_pairs_mut().append_pair("upsert", "true");
    let mut body = serde_json::json!({
        "key": target.env,
        "value": value.expose(),
        "type": target.kind,
        "target": target.targets,
    });
    let answer = api
        .call(
            reqwest::Method::POST,
            url,
            Some(&body),
            "setting the environment variable",
        )
        .await;
    // The body's copy of the session is zeroed once sent (reqwest's own is beyond reach).
    if let Some(serde_json::Value::String(copy)) = body.get_mut("value") {
        zeroize::Zeroize::zeroize(copy);
    }
    let json = answer?;
    if let Some(first) = json["failed"].as_array().and_then(|f| f.first()) {
        let code = first["error"]["code"].as_str().unwrap_or("unknown");
        let message = first["error"]["message"].as_str().unwrap_or("");
        return Err(Failure::config(
            format!("Vercel did not set {} ({code}: {message})", target.env),
            "fix the variable in the Vercel dashboard (a conflicting variable, or a type that \
             cannot change: remove it there and push again)",
        ));
    }
    Ok(())
}

/// The newest READY production deployment: what a redeploy starts from.
async fn latest_production(api: &Api<'_>) -> Result<(String, String), Failure> {
    let project = &api.target.project;
    let mut url = api.deployments_url();
    url.query_pairs_mut()
        .append_pair("state", "READY")
        .append_pair("limit", "1");
    let json = api
        .call(
            reqwest::Method::GET,
            url,
            None,
            "finding the production deployment",
        )
        .await?;
    let Some(latest) = json["deployments"].as_array().and_then(|d| d.first()) else {
        return Err(Failure::config(
            format!("project {project} has no READY production deployment to redeploy"),
            "deploy it once from Vercel, then push again",
        ));
    };
    let id = latest["uid"]
        .as_str()
        .or(latest["id"].as_str())
        .unwrap_or_default();
    let name = latest["name"].as_str().unwrap_or(project);
    Ok((id.to_owned(), name.to_owned()))
}

/// After an earlier attempt for the same session: the redeploy it may have made, if it is
/// there and did not fail (so that this attempt follows it instead of making another).
async fn carrying(api: &Api<'_>, attempt: &Attempt) -> Result<Option<Deployment>, Failure> {
    let (Some(fingerprint), Some(_)) = (&attempt.fingerprint, attempt.earlier_attempt) else {
        return Ok(None);
    };
    let found = api.deployments_since(attempt.since()).await?;
    Ok(found
        .iter()
        .filter(|d| d["meta"][META_SESSION].as_str() == Some(fingerprint.as_str()))
        .filter_map(Deployment::from_json)
        .find(|d| !matches!(d.state.as_str(), "ERROR" | "CANCELED")))
}

/// Redeploys `source`, as `vercel redeploy` does, marked with the session it carries. The
/// create call is sent once: when its answer is lost (a reset, a 5xx), the deployments made
/// since the attempt began are searched for it before it is sent again.
async fn redeploy(
    api: &Api<'_>,
    (source_id, name): &(String, String),
    attempt: &Attempt,
) -> Result<Deployment, Failure> {
    let mut url = api.url("v13/deployments");
    url.query_pairs_mut().append_pair("forceNew", "1");
    let mut meta = serde_json::json!({"action": "redeploy"});
    if let Some(fp) = &attempt.fingerprint {
        meta[META_SESSION] = serde_json::Value::String(fp.as_str().to_owned());
    }
    let body = serde_json::json!({
        "name": name, "deploymentId": source_id, "target": "production", "meta": meta,
    });
    let mut last = None;
    for _ in 0..2 {
        match api
            .call_as(
                Idempotent::No,
                reqwest::Method::POST,
                url.clone(),
                Some(&body),
                "starting the redeploy",
            )
            .await
        {
            Ok(json) => {
                return Deployment::from_json(&json).ok_or_else(|| {
                    Failure::new(
                        "Vercel accepted the redeploy but named no deployment",
                        "check Vercel",
                    )
                });
            }
            Err(CallFailure::Failed(f)) => return Err(f),
            Err(CallFailure::Unclear(f)) => {
                tracing::info!(
                    project = %api.target.project,
                    "the redeploy's answer was lost; looking for it before trying again"
                );
                if let Some(made) = made_since(api, attempt).await? {
                    return Ok(made);
                }
                last = Some(f);
            }
        }
    }
    Err(last.expect("the loop ran"))
}

/// The deployment this attempt made, if the deployments list shows it: by the session's
/// fingerprint in its meta, or, without one, the newest production deployment since the
/// attempt started.
async fn made_since(api: &Api<'_>, attempt: &Attempt) -> Result<Option<Deployment>, Failure> {
    let found = api.deployments_since(attempt.started_at).await?;
    let ours = |d: &&serde_json::Value| match &attempt.fingerprint {
        Some(fp) => d["meta"][META_SESSION].as_str() == Some(fp.as_str()),
        None => true,
    };
    Ok(found.iter().find(ours).and_then(Deployment::from_json))
}

/// Triggers the project's Deploy Hook (no token: the URL is the credential) and returns the
/// deployment it started. The hook is not idempotent either: a lost answer is looked for in
/// the deployments list before the hook is called again.
async fn redeploy_by_hook(
    api: &Api<'_>,
    hook: &Secret,
    poll: PollPolicy,
    attempt: &Attempt,
) -> Result<Deployment, Failure> {
    let (account, project) = (&api.account.name, &api.target.project);
    let store_again =
        format!("store it again: `sessionkeeper secret set deploy-hook:{account}/{project}`");
    // The URL is a secret: errors never show it.
    let hook_url = crate::config::parse_http_url(hook.expose()).map_err(|_| {
        Failure::config(
            "the Deploy Hook in the keychain is not an https:// URL",
            store_again.clone(),
        )
    })?;
    let mut since = None;
    for _ in 0..2 {
        match send(api.policy, Idempotent::No, || {
            api.client.post(hook_url.clone())
        })
        .await
        {
            Ok(response) if response.status().is_success() => {
                let json = body_json(response)
                    .await
                    .map_err(|e| Failure::new(e, "is it a Vercel Deploy Hook URL?"))?;
                since = Some(
                    json["job"]["createdAt"]
                        .as_i64()
                        .unwrap_or_else(|| attempt.started_at.timestamp_millis()),
                );
                break;
            }
            Ok(response) if !response.status().is_server_error() => {
                return Err(Failure::config(
                    format!(
                        "the Deploy Hook answered HTTP {}",
                        response.status().as_u16()
                    ),
                    format!("the hook may have been deleted in Vercel; {store_again}"),
                ));
            }
            _ => {
                if let Some(made) = made_since(
                    api,
                    &Attempt {
                        fingerprint: None,
                        ..attempt.clone()
                    },
                )
                .await?
                {
                    return Ok(made);
                }
            }
        }
    }
    let Some(since) = since else {
        return Err(Failure::new(
            "the Deploy Hook got no answer",
            "try again later",
        ));
    };
    let started = Instant::now();
    let mut interval = poll.first_interval;
    loop {
        let mut url = api.deployments_url();
        url.query_pairs_mut()
            .append_pair("since", &since.to_string())
            .append_pair("limit", "1");
        let json = api
            .call(
                reqwest::Method::GET,
                url,
                None,
                "finding the hook's deployment",
            )
            .await?;
        if let Some(d) = json["deployments"]
            .as_array()
            .and_then(|d| d.first())
            .and_then(Deployment::from_json)
        {
            return Ok(d);
        }
        if started.elapsed() > poll.deadline {
            return Err(Failure::config(
                "the Deploy Hook was accepted, but no deployment appeared",
                "check the project's Git connection and Ignored Build Step in Vercel",
            ));
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(poll.max_interval);
    }
}

/// Follows `deployment` until READY, ERROR or CANCELED (not at all when it already is).
async fn follow(
    api: &Api<'_>,
    mut deployment: Deployment,
    poll: PollPolicy,
) -> Result<Deployment, Failure> {
    let started = Instant::now();
    let mut interval = poll.first_interval;
    while !deployment.is_final() {
        if started.elapsed() > poll.deadline {
            return Err(Failure::new(
                format!(
                    "the redeploy {} was not READY after {} s",
                    deployment.url.as_deref().unwrap_or(&deployment.id),
                    poll.deadline.as_secs()
                ),
                "it may still finish: check Vercel",
            ));
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(poll.max_interval);
        let url = api.url(&format!("v13/deployments/{}", deployment.id));
        let json = api
            .call(reqwest::Method::GET, url, None, "following the redeploy")
            .await?;
        let url = deployment.url.take();
        deployment = Deployment::from_json(&json).unwrap_or(Deployment {
            url: None,
            ..deployment
        });
        deployment.url = deployment.url.take().or(url);
    }
    let shown = deployment
        .url
        .clone()
        .unwrap_or_else(|| deployment.id.clone());
    match deployment.state.as_str() {
        "READY" => Ok(deployment),
        "ERROR" => Err(Failure::config(
            format!("the redeploy {shown} failed to build (ERROR)"),
            "open the deployment in Vercel to see the build log",
        )),
        _ => Err(Failure::config(
            format!("the redeploy {shown} was canceled: the new value is not live"),
            "an \"Ignored Build Step\" cancels same-commit redeploys; allow it, or redeploy by hand",
        )),
    }
}

async fn smoke_test(
    client: &reqwest::Client,
    url: &Url,
    policy: RetryPolicy,
) -> Result<(), Failure> {
    let response = send(policy, Idempotent::Yes, || {
        client.get(url.clone()).timeout(Duration::from_secs(30))
    })
    .await
    .map_err(|e| {
        Failure::new(
            format!("the smoke test got no answer: {e}"),
            "check smoke_url",
        )
    })?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(Failure::new(
            format!(
                "the deployment is READY, but the smoke test answered HTTP {}",
                status.as_u16()
            ),
            "check the app's logs: the new session may not be used as expected",
        ))
    }
}

async fn explain(response: reqwest::Response, target: &VercelTarget, doing: &str) -> Failure {
    let status = response.status().as_u16();
    let json = body_json(response).await.unwrap_or_default();
    let code = json["error"]["code"].as_str().unwrap_or("");
    let message = json["error"]["message"].as_str().unwrap_or("");
    match status {
        401 | 403 => Failure::auth(
            format!("Vercel refused while {doing} ({status} {code}: {message})"),
            "store a valid token with access to the project (and its team): \
             `sessionkeeper secret set account:NAME` or VERCEL_TOKEN",
        ),
        404 => Failure::config(
            format!(
                "Vercel answered 404 while {doing}: project {} not found",
                target.project
            ),
            "check project, and team_id on the account when the project belongs to a team",
        ),
        400..=499 => Failure::config(
            format!("Vercel answered HTTP {status} while {doing} ({code}: {message})"),
            "check the target in the config",
        ),
        _ => Failure::new(
            format!("Vercel answered HTTP {status} while {doing} ({code}: {message})"),
            "try again later",
        ),
    }
}
