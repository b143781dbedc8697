//! Adoption: the team's current session, taken back from a target that can be read with the
//! user's own token — a Vercel env var of type `encrypted` or `plain` (read decrypted, `GET
//! /v1/projects/{id}/env/{envId}`) or a `file` target — then validated and stored like any
//! capture (the previous session kept). A target that cannot be read back says why (GitHub
//! never returns a secret's value; Vercel never returns a `sensitive` one), and nothing
//! changes. `sessionkeeper pull` and the app after a teammate's renewal use it.

use chrono::{DateTime, Utc};

use crate::capture::{self, AcceptError, Accepted};
use crate::config::{Account, Config, FileFormat, Profile, PushTarget, VercelTarget};
use crate::push::github::endpoint;
use crate::push::{Credentials, target_name};
use crate::secret::Secret;
use crate::session::Session;

/// Why no session was adopted. Never holds a value.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// No target of the profile can be read back; one reason per target.
    #[error("no target of {profile} can be read back: {}", reasons.join("; "))]
    NotReadable {
        profile: String,
        reasons: Vec<String>,
    },
    /// What a target holds is not a session of this profile.
    #[error("{target} does not hold a session Session Keeper can read: {why}")]
    Unreadable { target: String, why: String },
    #[error(transparent)]
    Accept(#[from] AcceptError),
}

/// What a pull did.
#[derive(Debug)]
pub enum Pulled {
    /// Adopted from `target`.
    Adopted {
        target: String,
        accepted: Box<Accepted>,
    },
    /// The target holds the session already current here.
    AlreadyCurrent { target: String },
}

/// Where the session can be read back, and why each other target cannot.
fn readable(profile: &Profile) -> (Vec<&PushTarget>, Vec<String>) {
    let mut ok = Vec::new();
    let mut reasons = Vec::new();
    for t in &profile.push {
        match t {
            PushTarget::Github(_) => reasons.push(format!(
                "{}: GitHub never returns a secret's value",
                target_name(t)
            )),
            PushTarget::Vercel(v) if v.kind == "sensitive" => reasons.push(format!(
                "{}: Vercel never returns a sensitive variable's value",
                target_name(t)
            )),
            _ => ok.push(t),
        }
    }
    if profile.push.is_empty() {
        reasons.push("it has no push targets".to_owned());
    }
    (ok, reasons)
}

/// Reads the session text a target holds: the first readable target that answers.
pub async fn read_back(
    config: &Config,
    profile: &Profile,
    credentials: &Credentials,
) -> Result<(String, Secret), PullError> {
    let (targets, mut reasons) = readable(profile);
    for t in targets {
        let name = target_name(t);
        let read = match t {
            PushTarget::File(f) => std::fs::read_to_string(&f.path)
                .map(|text| match f.format {
                    FileFormat::Json | FileFormat::Base64 => Secret::new(text),
                })
                .map_err(|e| format!("cannot read {}: {e}", f.path.display())),
            PushTarget::Vercel(v) => match config.accounts.get(&v.account) {
                Some(account) => match credentials.tokens.get(&account.name) {
                    Some(token) => vercel_value(account, v, token).await,
                    None => Err(format!("no token for account {}", account.name)),
                },
                None => Err(format!("no account {}", v.account)),
            },
            PushTarget::Github(_) => continue,
        };
        match read {
            Ok(text) => return Ok((name, text)),
            Err(why) => reasons.push(format!("{name}: {why}")),
        }
    }
    Err(PullError::NotReadable {
        profile: profile.id.clone(),
        reasons,
    })
}

/// The decrypted value of a Vercel env var (listing for its id, then reading it).
async fn vercel_value(
    account: &Account,
    target: &VercelTarget,
    token: &Secret,
) -> Result<Secret, String> {
    let client = reqwest::Client::builder()
        .user_agent(crate::USER_AGENT)
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .map_err(|e| format!("cannot set up HTTPS: {e}"))?;
    let url = |path: &str| {
        let mut url = endpoint(&account.api_url, path);
        if let Some(team) = &account.team_id {
            url.query_pairs_mut().append_pair("teamId", team);
        }
        url
    };
    let get = |u: url::Url| {
        let client = client.clone();
        async move {
            let response = client
                .get(u)
                .bearer_auth(token.expose())
                .send()
                .await
                .map_err(|e| format!("Vercel did not answer: {}", e.without_url()))?;
            let status = response.status().as_u16();
            if !(200..300).contains(&status) {
                return Err(match status {
                    401 | 403 => format!("HTTP {status}: the token may not read this project"),
                    404 => "HTTP 404: no such project or variable".to_owned(),
                    s => format!("HTTP {s}"),
                });
            }
            crate::push::http::body_json(response).await
        }
    };
    let list = get(url(&format!("v10/projects/{}/env", target.project))).await?;
    // One variable per key and environment: the one for this target's environments.
    let wanted = |e: &&serde_json::Value| {
        e["key"] == target.env.as_str()
            && (target.targets.is_empty()
                || e["target"].as_array().is_some_and(|t| {
                    target
                        .targets
                        .iter()
                        .any(|w| t.iter().any(|x| x == w.as_str()))
                }))
    };
    let id = list["envs"]
        .as_array()
        .and_then(|envs| envs.iter().find(wanted))
        .and_then(|e| e["id"].as_str())
        .ok_or_else(|| format!("the project has no variable {}", target.env))?
        .to_owned();
    let one = get(url(&format!("v1/projects/{}/env/{id}", target.project))).await?;
    if one["type"] == "sensitive" {
        return Err("the variable is sensitive now: Vercel never returns its value".to_owned());
    }
    one["value"]
        .as_str()
        .map(Secret::new)
        .ok_or_else(|| "Vercel returned no value".to_owned())
}

/// Pull: the team's session read back, validated and stored (the previous one kept). When it
/// is the session already current, nothing is stored.
pub async fn pull(
    config: &Config,
    profile: &Profile,
    credentials: &Credentials,
    vault: &crate::vault::Vault,
    checker: &crate::check::Checker,
    history: Option<&crate::history::History>,
    now: DateTime<Utc>,
) -> Result<Pulled, PullError> {
    let (target, text) = read_back(config, profile, credentials).await?;
    let session =
        Session::import_at(text.expose(), profile, now).map_err(|e| PullError::Unreadable {
            target: target.clone(),
            why: e.to_string(),
        })?;
    if let Ok(current) = vault.current_session(profile)
        && crate::vault::team_fingerprint(&current) == crate::vault::team_fingerprint(&session)
    {
        return Ok(Pulled::AlreadyCurrent { target });
    }
    let accepted = capture::accept(profile, session, vault, checker, history, "pull", now).await?;
    Ok(Pulled::Adopted {
        target,
        accepted: Box::new(accepted),
    })
}
