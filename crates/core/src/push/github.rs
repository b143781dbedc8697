//! GitHub Actions secrets: repository, environment and organisation scopes. The value is
//! sealed (libsodium sealed box, X25519) under the scope's public key, fetched right before
//! each write, and sent with the key's id.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use url::Url;

use std::collections::HashMap;
use std::sync::Mutex;

use super::http::{Idempotent, RetryPolicy, body_json, send};
use super::{Done, Failure};
use crate::config::{GithubScope, GithubTarget, check_github_secret_name};
use crate::secret::Secret;

/// GitHub's documented limit, less the sealed box's 48 bytes of overhead.
pub const MAX_SECRET_BYTES: usize = 48 * 1024 - 48;

/// The REST API version every request names.
pub const API_VERSION: &str = "2022-11-28";

/// Checks that need no network: GitHub's name rules and size limit.
pub fn preflight(target: &GithubTarget, value: &Secret) -> Result<(), Failure> {
    check_github_secret_name(&target.secret)
        .map_err(|why| Failure::config(why, "rename the secret in the config"))?;
    if value.len() > MAX_SECRET_BYTES {
        return Err(Failure::config(
            format!(
                "the session export is {} bytes; GitHub secrets hold at most {MAX_SECRET_BYTES}",
                value.len()
            ),
            "keep fewer cookies (cookie_urls), or push to a file or Vercel only",
        ));
    }
    Ok(())
}

/// The path of the scope's secrets collection, relative to `api_url`.
fn scope_path(scope: &GithubScope) -> String {
    match scope {
        GithubScope::Repository { repo } => format!("repos/{repo}/actions/secrets"),
        GithubScope::Environment { repo, environment } => {
            // The environment name is a path segment and must be URL-encoded ('/' → %2F).
            let env: String =
                url::form_urlencoded::byte_serialize(environment.as_bytes()).collect();
            format!(
                "repos/{repo}/environments/{}/secrets",
                env.replace('+', "%20")
            )
        }
        GithubScope::Organization { org, .. } => format!("orgs/{org}/actions/secrets"),
    }
}

/// What the target writes, for its name ([`super::target_name`] puts the account first).
pub fn describe(target: &GithubTarget) -> String {
    match &target.scope {
        GithubScope::Repository { repo } => format!("{repo} secret {}", target.secret),
        GithubScope::Environment { repo, environment } => {
            format!("{repo} environment {environment} secret {}", target.secret)
        }
        GithubScope::Organization { org, .. } => {
            format!("org {org} secret {}", target.secret)
        }
    }
}

/// `api_url` joined with `path`, keeping a path prefix such as GHES's `/api/v3`.
pub(crate) fn endpoint(api_url: &Url, path: &str) -> Url {
    let mut base = api_url.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    base.join(path).expect("relative API paths always join")
}

pub(crate) fn request(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: Url,
    token: &Secret,
) -> reqwest::RequestBuilder {
    client
        .request(method, url)
        .bearer_auth(token.expose())
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", API_VERSION)
}

/// Everything one account's GitHub calls share.
pub(crate) struct Api<'a> {
    pub(crate) client: &'a reqwest::Client,
    pub(crate) api_url: &'a Url,
    pub(crate) token: &'a Secret,
    pub(crate) policy: RetryPolicy,
}

impl Api<'_> {
    fn url(&self, path: &str) -> Url {
        endpoint(self.api_url, path)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, Failure> {
        send(self.policy, Idempotent::Yes, || {
            let r = request(self.client, method.clone(), url.clone(), self.token);
            match body {
                Some(b) => r.json(b),
                None => r,
            }
        })
        .await
        .map_err(|e| Failure::new(e.to_string(), "try `sessionkeeper push` again later"))
    }
}

/// The public keys of GitHub scopes, by API and scope, reused for their key id until GitHub
/// answers 422 (the key rotated): a push then costs one request per scope, not two.
#[derive(Debug, Default)]
pub(crate) struct KeyCache(Mutex<HashMap<String, (String, [u8; 32])>>);

impl KeyCache {
    fn get(&self, scope: &str) -> Option<(String, [u8; 32])> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(scope)
            .cloned()
    }

    fn put(&self, scope: String, key: (String, [u8; 32])) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(scope, key);
    }

    fn forget(&self, scope: &str) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(scope);
    }
}

pub(super) async fn push(
    api: &Api<'_>,
    keys: &KeyCache,
    target: &GithubTarget,
    value: &Secret,
) -> Result<Done, Failure> {
    preflight(target, value)?;
    let collection = scope_path(&target.scope);
    let cache_key = format!("{} {collection}", api.api_url);
    // A 422 can mean the key rotated since we fetched it: fetch it again once and retry.
    for round in 0..2 {
        let (key_id, key) = match keys.get(&cache_key) {
            Some(cached) => cached,
            None => {
                let fetched = public_key(api, &collection).await?;
                keys.put(cache_key.clone(), fetched.clone());
                fetched
            }
        };
        let sealed = crypto_box::PublicKey::from(key)
            .seal(&mut crypto_box::aead::OsRng, value.expose().as_bytes())
            .map_err(|_| Failure::new("sealing the value failed", "report this as a bug"))?;
        let mut body =
            serde_json::json!({ "encrypted_value": STANDARD.encode(sealed), "key_id": key_id });
        if let GithubScope::Organization { visibility, .. } = &target.scope {
            body["visibility"] = serde_json::Value::String(visibility.clone());
        }
        let url = api.url(&format!("{collection}/{}", target.secret));
        let response = api.call(reqwest::Method::PUT, url, Some(&body)).await?;
        match response.status() {
            StatusCode::CREATED => return Ok(Done::new("created the secret")),
            StatusCode::NO_CONTENT => return Ok(Done::new("updated the secret")),
            StatusCode::UNPROCESSABLE_ENTITY if round == 0 => {
                keys.forget(&cache_key);
            }
            _ => return Err(explain(response, target).await),
        }
    }
    Err(Failure::config(
        "GitHub could not open the encrypted value twice (422): the public key it gave does not match",
        "check api_url: an environment or organisation secret needs that scope's own key",
    ))
}

/// One cheap authenticated call that writes nothing: reading the scope's public key proves
/// the token reaches the scope's secrets (reading them; writing is proven by a push).
pub(super) async fn probe(api: &Api<'_>, target: &GithubTarget) -> Result<Done, Failure> {
    let url = api.url(&format!("{}/public-key", scope_path(&target.scope)));
    let response = api.call(reqwest::Method::GET, url, None).await?;
    match response.status() {
        StatusCode::OK => Ok(Done::new("the token reaches its secrets")),
        StatusCode::NOT_FOUND => Err(explain(response, target).await),
        _ => Err(explain_status(response, "reading the public key").await),
    }
}

/// The scope's public key: its id and the 32 bytes of X25519.
async fn public_key(api: &Api<'_>, collection: &str) -> Result<(String, [u8; 32]), Failure> {
    let url = api.url(&format!("{collection}/public-key"));
    let response = api.call(reqwest::Method::GET, url, None).await?;
    if response.status() != StatusCode::OK {
        return Err(explain_status(response, "reading the public key").await);
    }
    let json = body_json(response)
        .await
        .map_err(|e| Failure::new(e, "is api_url a GitHub API?"))?;
    let (Some(key_id), Some(key)) = (json["key_id"].as_str(), json["key"].as_str()) else {
        return Err(Failure::config(
            "the public-key answer has no key_id and key",
            "is api_url a GitHub API?",
        ));
    };
    let bytes: [u8; 32] = STANDARD
        .decode(key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            Failure::config(
                "the public key is not 32 bytes of base64",
                "is api_url a GitHub API?",
            )
        })?;
    Ok((key_id.to_owned(), bytes))
}

async fn explain(response: reqwest::Response, target: &GithubTarget) -> Failure {
    let status = response.status().as_u16();
    if status == 404 {
        let what = match &target.scope {
            GithubScope::Repository { repo } => format!("repository {repo}"),
            GithubScope::Environment { repo, environment } => {
                format!("environment {environment} of {repo}")
            }
            GithubScope::Organization { org, .. } => format!("organisation {org}"),
        };
        return Failure::config(
            format!("GitHub answered 404: {what} does not exist, or the token cannot see it"),
            "check the name in the config and that the token has access to it",
        );
    }
    explain_status(response, "writing the secret").await
}

/// The words for a GitHub error answer.
pub(crate) async fn explain_status(response: reqwest::Response, doing: &str) -> Failure {
    let status = response.status().as_u16();
    let message = body_json(response)
        .await
        .ok()
        .and_then(|j| j["message"].as_str().map(str::to_owned))
        .unwrap_or_default();
    match status {
        401 => Failure::auth(
            format!("GitHub rejected the token while {doing} (401 {message})"),
            "store a valid token: `sessionkeeper secret set account:NAME` (or set GH_TOKEN)",
        ),
        403 => Failure::auth(
            format!("GitHub refused while {doing} (403 {message})"),
            "the token lacks permission: a fine-grained token needs \"Secrets: write\" (plus \
             \"Environments\" for environment secrets, \"Issues: write\" for issues); a classic \
             token needs the repo scope (admin:org for organisation secrets)",
        ),
        404 => Failure::config(
            format!("GitHub answered 404 while {doing}"),
            "check the repository name and that the token can see it",
        ),
        422 => Failure::config(
            format!("GitHub rejected the request while {doing} (422 {message})"),
            "check the config",
        ),
        _ => Failure::new(
            format!("GitHub answered HTTP {status} while {doing} {message}"),
            "try again later",
        ),
    }
}
