//! Vercel project environment variables, and the redeploy that makes a new value live:
//! upsert (`POST /v10/projects/{id}/env?upsert=true`), then, when asked, redeploy the latest
//! READY production deployment as `vercel redeploy` does, follow it to READY, and smoke-test.

use std::time::{Duration, Instant};

use url::Url;

use super::github::endpoint;
use super::http::{RetryPolicy, body_json, send};
use super::{Done, Failure};
use crate::config::{Account, VercelTarget};
use crate::secret::Secret;

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
            first_interval: Duration::from_millis(250),
            max_interval: Duration::from_secs(5),
            deadline: Duration::from_secs(15 * 60),
        }
    }
}

pub fn describe(target: &VercelTarget) -> String {
    format!(
        "vercel {} env {} ({})",
        target.project,
        target.env,
        target.targets.join(", ")
    )
}

/// Everything one Vercel target's calls share.
struct Api<'a> {
    client: &'a reqwest::Client,
    account: &'a Account,
    token: &'a Secret,
    target: &'a VercelTarget,
    policy: RetryPolicy,
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

    /// One call: sent with retries; an error answer becomes a failure that says what we were
    /// `doing`; a 2xx answer's JSON is returned.
    async fn call(
        &self,
        method: reqwest::Method,
        url: Url,
        body: Option<&serde_json::Value>,
        doing: &str,
    ) -> Result<serde_json::Value, Failure> {
        let response = send(self.policy, || {
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
            Failure::new(
                format!("{e} ({doing})"),
                "try again later; a started redeploy may still finish: check Vercel",
            )
        })?;
        if !response.status().is_success() {
            return Err(explain(response, self.target, doing).await);
        }
        body_json(response)
            .await
            .map_err(|e| Failure::new(e, "is api_url the Vercel API?"))
    }
}

/// One cheap authenticated call that writes nothing: reading the project proves the token
/// (and team) reach it.
pub(super) async fn probe(
    client: &reqwest::Client,
    account: &Account,
    token: &Secret,
    target: &VercelTarget,
    policy: RetryPolicy,
) -> Result<Done, Failure> {
    let api = Api {
        client,
        account,
        token,
        target,
        policy,
    };
    let project: String = url::form_urlencoded::byte_serialize(target.project.as_bytes()).collect();
    api.call(
        reqwest::Method::GET,
        api.url(&format!("v9/projects/{project}")),
        None,
        "reading the project",
    )
    .await?;
    Ok(Done::new("the token reaches the project"))
}

#[allow(clippy::too_many_arguments)] // each is a distinct input of one target's chain
pub(super) async fn push(
    client: &reqwest::Client,
    account: &Account,
    token: &Secret,
    target: &VercelTarget,
    value: &Secret,
    deploy_hook: Option<&Secret>,
    policy: RetryPolicy,
    poll: PollPolicy,
) -> Result<Done, Failure> {
    // Without the hook there is no way to redeploy as configured: say so before changing anything.
    let hook = match (target.deploy_hook, deploy_hook) {
        (true, None) => {
            return Err(Failure::new(
                format!("no Deploy Hook URL for {}/{}", account.name, target.project),
                format!(
                    "store it: `sessionkeeper secret set deploy-hook:{}/{}` (Vercel: Project \
                     Settings → Git → Deploy Hooks)",
                    account.name, target.project
                ),
            ));
        }
        (true, Some(h)) => Some(h),
        (false, _) => None,
    };
    let api = Api {
        client,
        account,
        token,
        target,
        policy,
    };
    let mut url = api.url(&format!("v10/projects/{}/env", target.project));
    url.query_pairs_mut().append_pair("upsert", "true");
    let body = serde_json::json!({
        "key": target.env,
        "value": value.expose(),
        "type": target.kind,
        "target": target.targets,
    });
    let json = api
        .call(
            reqwest::Method::POST,
            url,
            Some(&body),
            "setting the environment variable",
        )
        .await?;
    // A 201 can still carry per-variable failures.
    if let Some(first) = json["failed"].as_array().and_then(|f| f.first()) {
        let code = first["error"]["code"].as_str().unwrap_or("unknown");
        let message = first["error"]["message"].as_str().unwrap_or("");
        return Err(Failure::new(
            format!("Vercel did not set {} ({code}: {message})", target.env),
            "fix the variable in the Vercel dashboard (a conflicting variable, or a type that \
             cannot change: remove it there and push again)",
        ));
    }
    if !target.redeploy {
        return Ok(Done::new(
            "set the environment variable (it reaches new deployments only)",
        ));
    }
    let id = match hook {
        Some(hook) => redeploy_by_hook(&api, hook, poll).await?,
        None => redeploy(&api).await?,
    };
    let (state, deployment_url) = follow(&api, &id, poll).await?;
    let mut done = Done::new(format!("set the variable and redeployed ({state})"));
    done.deployment_url = Some(deployment_url);
    if let Some(smoke) = &target.smoke_url {
        smoke_test(client, smoke, policy).await?;
        done.action.push_str(", smoke test passed");
    }
    Ok(done)
}

/// Redeploys the newest READY production deployment, as `vercel redeploy` does; returns the
/// new deployment's id.
async fn redeploy(api: &Api<'_>) -> Result<String, Failure> {
    let project = &api.target.project;
    let mut url = api.url("v6/deployments");
    url.query_pairs_mut()
        .append_pair("projectId", project)
        .append_pair("target", "production")
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
        return Err(Failure::new(
            format!("project {project} has no READY production deployment to redeploy"),
            "deploy it once from Vercel, then push again",
        ));
    };
    let source_id = latest["uid"]
        .as_str()
        .or(latest["id"].as_str())
        .unwrap_or_default();
    let name = latest["name"].as_str().unwrap_or(project);
    let mut url = api.url("v13/deployments");
    url.query_pairs_mut().append_pair("forceNew", "1");
    let body = serde_json::json!({
        "name": name, "deploymentId": source_id, "target": "production", "meta": {"action": "redeploy"},
    });
    let json = api
        .call(
            reqwest::Method::POST,
            url,
            Some(&body),
            "starting the redeploy",
        )
        .await?;
    Ok(json["id"].as_str().unwrap_or_default().to_owned())
}

/// Triggers the project's Deploy Hook (no token: the URL is the credential) and returns the id
/// of the deployment it started.
async fn redeploy_by_hook(
    api: &Api<'_>,
    hook: &Secret,
    poll: PollPolicy,
) -> Result<String, Failure> {
    let (account, project) = (&api.account.name, &api.target.project);
    let store_again =
        format!("store it again: `sessionkeeper secret set deploy-hook:{account}/{project}`");
    // The URL is a secret: errors never show it.
    let hook_url = crate::config::parse_http_url(hook.expose()).map_err(|_| {
        Failure::new(
            "the Deploy Hook in the keychain is not an https:// URL",
            store_again.clone(),
        )
    })?;
    let response = send(api.policy, || api.client.post(hook_url.clone()))
        .await
        .map_err(|e| {
            Failure::new(
                format!("the Deploy Hook got no answer: {e}"),
                "try again later",
            )
        })?;
    if !response.status().is_success() {
        return Err(Failure::new(
            format!(
                "the Deploy Hook answered HTTP {}",
                response.status().as_u16()
            ),
            format!("the hook may have been deleted in Vercel; {store_again}"),
        ));
    }
    let json = body_json(response)
        .await
        .map_err(|e| Failure::new(e, "is it a Vercel Deploy Hook URL?"))?;
    let since = json["job"]["createdAt"]
        .as_i64()
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
    let started = Instant::now();
    let mut interval = poll.first_interval;
    loop {
        let mut url = api.url("v6/deployments");
        url.query_pairs_mut()
            .append_pair("projectId", project)
            .append_pair("target", "production")
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
        if let Some(id) = json["deployments"]
            .as_array()
            .and_then(|d| d.first())
            .and_then(|d| d["uid"].as_str())
        {
            return Ok(id.to_owned());
        }
        if started.elapsed() > poll.deadline {
            return Err(Failure::new(
                "the Deploy Hook was accepted, but no deployment appeared",
                "check the project's Git connection and Ignored Build Step in Vercel",
            ));
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(poll.max_interval);
    }
}

/// Follows deployment `id` until READY (→ its URL), ERROR or CANCELED.
async fn follow(api: &Api<'_>, id: &str, poll: PollPolicy) -> Result<(String, String), Failure> {
    let mut deployment_url = String::new();
    let started = Instant::now();
    let mut interval = poll.first_interval;
    loop {
        let url = api.url(&format!("v13/deployments/{id}"));
        let json = api
            .call(reqwest::Method::GET, url, None, "following the redeploy")
            .await?;
        if let Some(u) = json["url"].as_str() {
            deployment_url = format!("https://{u}");
        }
        match json["readyState"].as_str().unwrap_or_default() {
            "READY" => return Ok(("READY".to_owned(), deployment_url)),
            "ERROR" => {
                return Err(Failure::new(
                    format!("the redeploy {deployment_url} failed to build (ERROR)"),
                    "open the deployment in Vercel to see the build log",
                ));
            }
            "CANCELED" => {
                return Err(Failure::new(
                    format!(
                        "the redeploy {deployment_url} was canceled: the new value is not live"
                    ),
                    "an \"Ignored Build Step\" cancels same-commit redeploys; allow it, or redeploy by hand",
                ));
            }
            _ => {}
        }
        if started.elapsed() > poll.deadline {
            return Err(Failure::new(
                format!(
                    "the redeploy {deployment_url} was not READY after {} s",
                    poll.deadline.as_secs()
                ),
                "it may still finish: check Vercel",
            ));
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(poll.max_interval);
    }
}

async fn smoke_test(
    client: &reqwest::Client,
    url: &Url,
    policy: RetryPolicy,
) -> Result<(), Failure> {
    let response = send(policy, || {
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
        401 | 403 => Failure::new(
            format!("Vercel refused while {doing} ({status} {code}: {message})"),
            "store a valid token with access to the project (and its team): \
             `sessionkeeper secret set account:NAME` or VERCEL_TOKEN",
        ),
        404 => Failure::new(
            format!(
                "Vercel answered 404 while {doing}: project {} not found",
                target.project
            ),
            "check project, and team_id on the account when the project belongs to a team",
        ),
        _ => Failure::new(
            format!("Vercel answered HTTP {status} while {doing} ({code}: {message})"),
            "try again later",
        ),
    }
}
