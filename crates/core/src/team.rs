//! One re-authentication for the whole team, kept where the team already is: the Actions
//! variables of the GitHub repository a profile pushes to.
//!
//! * The **claim** `SESSIONKEEPER_CLAIM_<PROFILE>` is JSON `{by, host, since, until}`. It is
//!   taken by creating the variable: GitHub answers **409 Conflict** when the name exists
//!   (documented for `POST /repos/{owner}/{repo}/actions/variables`, and what `gh variable
//!   set` relies on), so of two members creating it at once exactly one wins. A claim past
//!   `until` is stale: it is deleted, created again and read back. A delete is not
//!   conditional, so two members taking one stale claim over at the same moment can delete
//!   each other's; the read-back tells the one whose claim stands.
//! * The **renewal** `SESSIONKEEPER_RENEWED_<PROFILE>` is JSON `{by, at, fingerprint}`: who
//!   renewed, when, and the session's team fingerprint (never its value).
//! * A tray reads both with one listing of the repository's variables per poll, not one call
//!   per profile.
//!
//! The token needs the repository permission "Variables: write" (classic: `repo`); without it
//! every call here fails with [`TeamError::Permission`], and the login goes on alone.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{Account, Config, GithubScope, Profile, PushTarget};
use crate::push::github::{endpoint, request};
use crate::secret::Secret;

/// How long a claim holds when nobody releases it (a crash, a laptop shut mid-login).
pub const CLAIM_TTL: chrono::Duration = chrono::Duration::minutes(15);

/// Who holds a re-authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub by: String,
    pub host: String,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Claim {
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        now < self.until
    }

    pub fn is_by(&self, me: &Member) -> bool {
        self.by == me.login && self.host == me.host
    }
}

/// A member of the team, as claims name them: the GitHub login and this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub login: String,
    pub host: String,
}

/// Who renewed a profile's session last, when, and which session it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renewal {
    pub by: String,
    pub at: DateTime<Utc>,
    pub fingerprint: String,
}

/// Where a profile's team keeps its claims: the repository of its first GitHub target (a
/// repository or an environment secret), with that account's API and token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamRepo {
    pub account: Account,
    /// `OWNER/REPO`.
    pub repo: String,
}

impl TeamRepo {
    /// The profile's team repository, if it pushes to one.
    pub fn of(config: &Config, profile: &Profile) -> Option<Self> {
        profile.push.iter().find_map(|t| match t {
            PushTarget::Github(g) => {
                let repo = match &g.scope {
                    GithubScope::Repository { repo } | GithubScope::Environment { repo, .. } => {
                        repo.clone()
                    }
                    GithubScope::Organization { .. } => return None,
                };
                Some(Self {
                    account: config.accounts.get(&g.account)?.clone(),
                    repo,
                })
            }
            _ => None,
        })
    }

    /// One key per repository (the poll reads each once).
    pub fn key(&self) -> String {
        format!("{} {}", self.account.api_url, self.repo)
    }

    fn url(&self, path: &str) -> Url {
        endpoint(
            &self.account.api_url,
            &format!("repos/{}/{path}", self.repo),
        )
    }
}

/// The variable names of a profile's claim and renewal (GitHub keeps names uppercase).
pub fn claim_name(profile: &str) -> String {
    format!("SESSIONKEEPER_CLAIM_{}", upper(profile))
}

pub fn renewal_name(profile: &str) -> String {
    format!("SESSIONKEEPER_RENEWED_{}", upper(profile))
}

fn upper(profile: &str) -> String {
    profile.to_ascii_uppercase().replace('-', "_")
}

/// Why the team could not be asked. Never holds a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TeamError {
    /// The token may not read or write the repository's variables.
    #[error(
        "the GitHub token of account {account} cannot use {repo}'s variables (HTTP {status}): \
         it needs the repository permission \"Variables: write\""
    )]
    Permission {
        account: String,
        repo: String,
        status: u16,
    },
    #[error("GitHub could not be asked about the team's claim: {0}")]
    Failed(String),
}

/// What one listing of a repository's variables says: claims and renewals by variable name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Board {
    claims: BTreeMap<String, Claim>,
    renewals: BTreeMap<String, Renewal>,
}

impl Board {
    pub fn claim(&self, profile: &str) -> Option<&Claim> {
        self.claims.get(&claim_name(profile))
    }

    pub fn renewal(&self, profile: &str) -> Option<&Renewal> {
        self.renewals.get(&renewal_name(profile))
    }
}

/// The outcome of taking a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Ours now.
    Ours(Claim),
    /// A teammate's fresh claim (or ours from another machine).
    Held(Claim),
}

/// Talks to one repository's variables.
#[derive(Debug, Clone)]
pub struct Team {
    client: reqwest::Client,
}

impl Default for Team {
    fn default() -> Self {
        Self::new()
    }
}

impl Team {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .user_agent(crate::USER_AGENT)
            .timeout(Duration::from_secs(15))
            .build()
            .expect("a client with a user agent and a timeout always builds");
        Self { client }
    }

    async fn send(
        &self,
        repo: &TeamRepo,
        token: &Secret,
        method: reqwest::Method,
        url: Url,
        body: Option<serde_json::Value>,
    ) -> Result<reqwest::Response, TeamError> {
        let mut r = request(&self.client, method, url, token);
        if let Some(body) = body {
            r = r.json(&body);
        }
        let response = r
            .send()
            .await
            .map_err(|e| TeamError::Failed(e.without_url().to_string()))?;
        match response.status().as_u16() {
            401 | 403 => Err(TeamError::Permission {
                account: repo.account.name.clone(),
                repo: repo.repo.clone(),
                status: response.status().as_u16(),
            }),
            _ => Ok(response),
        }
    }

    /// The GitHub login of the token's owner (`GET /user`).
    pub async fn login(&self, repo: &TeamRepo, token: &Secret) -> Result<String, TeamError> {
        let url = endpoint(&repo.account.api_url, "user");
        let response = self
            .send(repo, token, reqwest::Method::GET, url, None)
            .await?;
        let json = json_of(response).await?;
        json["login"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| TeamError::Failed("GET /user gave no login".to_owned()))
    }

    /// Every claim and renewal of the repository: one listing (30 a page).
    pub async fn board(&self, repo: &TeamRepo, token: &Secret) -> Result<Board, TeamError> {
        let mut board = Board::default();
        for page in 1..=20 {
            let mut url = repo.url("actions/variables");
            url.query_pairs_mut()
                .append_pair("per_page", "30")
                .append_pair("page", &page.to_string());
            let response = self
                .send(repo, token, reqwest::Method::GET, url, None)
                .await?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return Err(TeamError::Permission {
                    account: repo.account.name.clone(),
                    repo: repo.repo.clone(),
                    status: 404,
                });
            }
            let json = json_of(response).await?;
            let vars = json["variables"].as_array().cloned().unwrap_or_default();
            for v in &vars {
                let (Some(name), Some(value)) = (v["name"].as_str(), v["value"].as_str()) else {
                    continue;
                };
                if name.starts_with("SESSIONKEEPER_CLAIM_") {
                    if let Ok(c) = serde_json::from_str(value) {
                        board.claims.insert(name.to_owned(), c);
                    }
                } else if name.starts_with("SESSIONKEEPER_RENEWED_")
                    && let Ok(r) = serde_json::from_str(value)
                {
                    board.renewals.insert(name.to_owned(), r);
                }
            }
            let total = json["total_count"].as_u64().unwrap_or(0);
            if vars.len() < 30 || (page * 30) as u64 >= total {
                break;
            }
        }
        Ok(board)
    }

    /// The claim of `profile` as it is now, if any.
    pub async fn claim_of(
        &self,
        repo: &TeamRepo,
        token: &Secret,
        profile: &str,
    ) -> Result<Option<Claim>, TeamError> {
        let url = repo.url(&format!("actions/variables/{}", claim_name(profile)));
        let response = self
            .send(repo, token, reqwest::Method::GET, url, None)
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let json = json_of(response).await?;
        Ok(json["value"]
            .as_str()
            .and_then(|v| serde_json::from_str(v).ok()))
    }

    /// Takes the claim of `profile` for `me`: created if free; a stale one (or any one, with
    /// `take_over`) is deleted and created again. Of members taking it at once, one wins.
    pub async fn take(
        &self,
        repo: &TeamRepo,
        token: &Secret,
        profile: &str,
        me: &Member,
        now: DateTime<Utc>,
        take_over: bool,
    ) -> Result<Taken, TeamError> {
        let name = claim_name(profile);
        let claim = Claim {
            by: me.login.clone(),
            host: me.host.clone(),
            since: crate::clock::whole_seconds(now),
            until: crate::clock::whole_seconds(now + CLAIM_TTL),
        };
        let value = serde_json::to_string(&claim).expect("a claim serialises");
        let mut deleted = false;
        // Bounded: a variable that exists but cannot be read, or a teammate deleting and
        // creating at the same moment, never makes this spin.
        for _ in 0..4 {
            let response = self
                .send(
                    repo,
                    token,
                    reqwest::Method::POST,
                    repo.url("actions/variables"),
                    Some(serde_json::json!({ "name": name, "value": value })),
                )
                .await?;
            match response.status().as_u16() {
                // Created after a delete: a teammate taking the same stale claim over may have
                // deleted ours in between (a delete is not conditional), so it is read back.
                201 if deleted => {
                    return match self.claim_of(repo, token, profile).await? {
                        Some(c) if c == claim => Ok(Taken::Ours(claim)),
                        Some(c) => Ok(Taken::Held(c)),
                        None => Err(TeamError::Failed(
                            "the claim was taken over while it was being taken: try again"
                                .to_owned(),
                        )),
                    };
                }
                201 => return Ok(Taken::Ours(claim)),
                409 => {}
                404 => {
                    return Err(TeamError::Permission {
                        account: repo.account.name.clone(),
                        repo: repo.repo.clone(),
                        status: 404,
                    });
                }
                s => return Err(TeamError::Failed(format!("creating the claim: HTTP {s}"))),
            }
            match self.claim_of(repo, token, profile).await? {
                // Ours and fresh (from this machine, an earlier run).
                Some(held) if held.is_by(me) && held.is_fresh(now) => {
                    return Ok(Taken::Ours(held));
                }
                // Someone else created it after our delete (they won), or it is theirs.
                Some(held)
                    if !held.is_by(me) && (deleted || (held.is_fresh(now) && !take_over)) =>
                {
                    return Ok(Taken::Held(held));
                }
                // Stale (ours too: it is renewed), taken over, released between the calls, or
                // a value that is no claim: deleted, then created again.
                _ if deleted => {
                    return Err(TeamError::Failed(
                        "the claim variable exists but cannot be taken: try again".to_owned(),
                    ));
                }
                _ => {
                    self.delete(repo, token, &name).await?;
                    deleted = true;
                }
            }
        }
        Err(TeamError::Failed(
            "the claim could not be taken: try again".to_owned(),
        ))
    }

    /// Gives back `me`'s claim of `profile`; a teammate's is left alone (false).
    pub async fn release(
        &self,
        repo: &TeamRepo,
        token: &Secret,
        profile: &str,
        me: &Member,
    ) -> Result<bool, TeamError> {
        match self.claim_of(repo, token, profile).await? {
            Some(c) if c.is_by(me) => {
                self.delete(repo, token, &claim_name(profile)).await?;
                Ok(true)
            }
            Some(_) => Ok(false),
            None => Ok(true),
        }
    }

    /// Records a renewal of `profile` (created, or updated when one exists).
    pub async fn record_renewal(
        &self,
        repo: &TeamRepo,
        token: &Secret,
        profile: &str,
        renewal: &Renewal,
    ) -> Result<(), TeamError> {
        let name = renewal_name(profile);
        let value = serde_json::to_string(renewal).expect("a renewal serialises");
        let response = self
            .send(
                repo,
                token,
                reqwest::Method::POST,
                repo.url("actions/variables"),
                Some(serde_json::json!({ "name": name, "value": value })),
            )
            .await?;
        let status = match response.status().as_u16() {
            409 => self
                .send(
                    repo,
                    token,
                    reqwest::Method::PATCH,
                    repo.url(&format!("actions/variables/{name}")),
                    Some(serde_json::json!({ "value": value })),
                )
                .await?
                .status()
                .as_u16(),
            s => s,
        };
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(TeamError::Failed(format!(
                "recording the renewal: HTTP {status}"
            )))
        }
    }

    async fn delete(&self, repo: &TeamRepo, token: &Secret, name: &str) -> Result<(), TeamError> {
        let url = repo.url(&format!("actions/variables/{name}"));
        let status = self
            .send(repo, token, reqwest::Method::DELETE, url, None)
            .await?
            .status()
            .as_u16();
        if status == 204 || status == 404 {
            Ok(())
        } else {
            Err(TeamError::Failed(format!("deleting {name}: HTTP {status}")))
        }
    }
}

async fn json_of(response: reqwest::Response) -> Result<serde_json::Value, TeamError> {
    let status = response.status();
    if !status.is_success() {
        return Err(TeamError::Failed(format!("HTTP {}", status.as_u16())));
    }
    crate::push::http::body_json(response)
        .await
        .map_err(TeamError::Failed)
}

/// This machine's name, as a claim says where its holder is.
pub fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_githubs_uppercase_and_a_claim_reads_back() {
        assert_eq!(
            claim_name("mtn-wholesale"),
            "SESSIONKEEPER_CLAIM_MTN_WHOLESALE"
        );
        assert_eq!(renewal_name("b_2"), "SESSIONKEEPER_RENEWED_B_2");
        crate::config::check_github_secret_name(&claim_name("x-y")).expect("a valid name");
        let now = Utc::now();
        let c = Claim {
            by: "alice".into(),
            host: "laptop".into(),
            since: now,
            until: now + CLAIM_TTL,
        };
        assert!(c.is_fresh(now) && !c.is_fresh(now + CLAIM_TTL));
        let back: Claim =
            serde_json::from_str(&serde_json::to_string(&c).expect("json")).expect("back");
        assert_eq!(back, c);
    }
}
