//! The CI alarm of `sessionkeeper check --github-issue`: one labelled issue per expired
//! profile, a comment (not a second issue) while it stays expired, and closing it
//! (`state_reason: completed`) when the session is valid again. An `error` changes nothing:
//! a network fault is never an expiry.

use url::Url;

use crate::check::{CheckOutcome, Status};
use crate::config::Profile;
use crate::push::Failure;
use crate::push::github::{endpoint, explain_status, request};
use crate::push::http::{Idempotent, RetryPolicy, body_json, send};
use crate::secret::Secret;

/// The label every alarm issue carries (created when missing).
pub const LABEL: &str = "session-expired";

/// What the alarm did for one profile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "action", content = "issue", rename_all = "snake_case")]
pub enum AlertAction {
    Opened(u64),
    Commented(u64),
    Closed(u64),
    Nothing,
}

/// The alarm for one repository.
#[derive(Debug)]
pub struct IssueAlert {
    client: reqwest::Client,
    api_url: Url,
    token: Secret,
    repo: String,
    policy: RetryPolicy,
}

impl IssueAlert {
    pub fn new(api_url: Url, token: Secret, repo: &str) -> Result<Self, String> {
        if repo.split('/').count() != 2 || repo.split('/').any(str::is_empty) {
            return Err(format!("{repo:?} is not OWNER/REPO"));
        }
        let client = reqwest::Client::builder()
            .user_agent(crate::USER_AGENT)
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| format!("cannot set up HTTPS: {}", e.without_url()))?;
        Ok(Self {
            client,
            api_url,
            token,
            repo: repo.to_owned(),
            policy: RetryPolicy::default(),
        })
    }

    /// Brings the repository's issues in line with `outcome`; `claim` is a teammate's fresh
    /// claim on the re-authentication, said in what is written.
    pub async fn sync(
        &self,
        profile: &Profile,
        outcome: &CheckOutcome,
        claim: Option<&crate::team::Claim>,
    ) -> Result<AlertAction, Failure> {
        let open = self.find_open(profile).await?;
        let claimed = claim.map_or_else(String::new, |c| format!("\n\n{}", claim_line(c)));
        match (outcome.status, open) {
            (Status::Invalid, Some(number)) => {
                let body = format!(
                    "Still **invalid** at {}: {}{claimed}",
                    outcome
                        .checked_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    outcome.detail
                );
                self.comment(number, &body).await?;
                Ok(AlertAction::Commented(number))
            }
            (Status::Invalid, None) => {
                self.ensure_label().await?;
                let title = format!("Session expired: {} ({})", profile.name, profile.id);
                let mut body = issue_body(profile, outcome);
                if let Some(c) = claim {
                    body = format!("{}\n\n{body}", claim_line(c));
                }
                self.open_issue(profile, &title, &body).await
            }
            (Status::Valid | Status::Expiring, Some(number)) => {
                let body = format!(
                    "Recovered: the session is **{}** again at {}. Closing.",
                    outcome.status,
                    outcome
                        .checked_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
                self.comment(number, &body).await?;
                let url = self.url(&format!("issues/{number}"));
                let payload = serde_json::json!({"state": "closed", "state_reason": "completed"});
                let response = self
                    .send(reqwest::Method::PATCH, url, Some(&payload))
                    .await?;
                if !response.status().is_success() {
                    return Err(explain_status(response, "closing the issue").await);
                }
                Ok(AlertAction::Closed(number))
            }
            _ => Ok(AlertAction::Nothing),
        }
    }

    /// Opens the alarm issue. Creating an issue is not idempotent: when the answer is lost (a
    /// reset, a 5xx), the issue is looked for by its label and marker before it is sent again,
    /// so that a flaky network never opens two alarms.
    async fn open_issue(
        &self,
        profile: &Profile,
        title: &str,
        body: &str,
    ) -> Result<AlertAction, Failure> {
        let payload = serde_json::json!({"title": title, "body": body, "labels": [LABEL]});
        let mut last = None;
        for _ in 0..2 {
            let sent = send(self.policy, Idempotent::No, || {
                request(
                    &self.client,
                    reqwest::Method::POST,
                    self.url("issues"),
                    &self.token,
                )
                .json(&payload)
            })
            .await;
            match sent {
                Ok(response) if response.status().as_u16() == 201 => {
                    let json = body_json(response)
                        .await
                        .map_err(|e| Failure::new(e, "is api_url a GitHub API?"))?;
                    return Ok(AlertAction::Opened(
                        json["number"].as_u64().unwrap_or_default(),
                    ));
                }
                Ok(response) if !response.status().is_server_error() => {
                    return Err(explain_status(response, "opening the issue").await);
                }
                Ok(response) => last = Some(explain_status(response, "opening the issue").await),
                Err(e) => last = Some(Failure::new(e.to_string(), "try again later")),
            }
            if let Some(number) = self.find_open(profile).await? {
                tracing::info!(%number, "the issue's answer was lost, but it was opened");
                return Ok(AlertAction::Opened(number));
            }
        }
        Err(last.expect("the loop ran"))
    }

    fn url(&self, path: &str) -> Url {
        endpoint(&self.api_url, &format!("repos/{}/{path}", self.repo))
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, Failure> {
        // A comment is not idempotent (sent twice, it shows twice): it is sent once, and a
        // lost one is made up for by the next run's.
        let idempotent = if method == reqwest::Method::POST && url.path().ends_with("/comments") {
            Idempotent::No
        } else {
            Idempotent::Yes
        };
        send(self.policy, idempotent, || {
            let r = request(&self.client, method.clone(), url.clone(), &self.token);
            match body {
                Some(b) => r.json(b),
                None => r,
            }
        })
        .await
        .map_err(|e| Failure::new(e.to_string(), "try again later"))
    }

    /// The open alarm issue of `profile`, found by label and the marker in its body.
    async fn find_open(&self, profile: &Profile) -> Result<Option<u64>, Failure> {
        let mut url = self.url("issues");
        url.query_pairs_mut()
            .append_pair("state", "open")
            .append_pair("labels", LABEL)
            .append_pair("per_page", "100");
        let response = self.send(reqwest::Method::GET, url, None).await?;
        if !response.status().is_success() {
            return Err(explain_status(response, "listing issues").await);
        }
        let json = body_json(response)
            .await
            .map_err(|e| Failure::new(e, "is api_url a GitHub API?"))?;
        let marker = marker(profile);
        Ok(json
            .as_array()
            .into_iter()
            .flatten()
            .filter(|i| i.get("pull_request").is_none())
            .find(|i| i["body"].as_str().is_some_and(|b| b.contains(&marker)))
            .and_then(|i| i["number"].as_u64()))
    }

    async fn ensure_label(&self) -> Result<(), Failure> {
        let response = self
            .send(
                reqwest::Method::GET,
                self.url(&format!("labels/{LABEL}")),
                None,
            )
            .await?;
        if response.status().is_success() {
            return Ok(());
        }
        let payload = serde_json::json!({
            "name": LABEL, "color": "d73a4a",
            "description": "A kept session expired: re-authenticate (opened by Session Keeper)",
        });
        let response = self
            .send(reqwest::Method::POST, self.url("labels"), Some(&payload))
            .await?;
        // 422 "already_exists": someone created it meanwhile, which is fine.
        if response.status().is_success() || response.status().as_u16() == 422 {
            Ok(())
        } else {
            Err(explain_status(response, "creating the label").await)
        }
    }

    async fn comment(&self, number: u64, body: &str) -> Result<(), Failure> {
        let payload = serde_json::json!({"body": body});
        let response = self
            .send(
                reqwest::Method::POST,
                self.url(&format!("issues/{number}/comments")),
                Some(&payload),
            )
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(explain_status(response, "commenting").await)
        }
    }
}

/// Who is re-authenticating, for the issue (UTC: the readers are anywhere).
fn claim_line(c: &crate::team::Claim) -> String {
    format!(
        "**{}** is re-authenticating (since {} UTC, on {}; the claim holds until {} UTC).",
        c.by,
        c.since.format("%H:%M"),
        c.host,
        c.until.format("%H:%M")
    )
}

fn marker(profile: &Profile) -> String {
    format!("<!-- sessionkeeper:profile={} -->", profile.id)
}

/// The issue text: the real status, why, tracked expiry and time of the check, and the steps.
fn issue_body(profile: &Profile, outcome: &CheckOutcome) -> String {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("unknown".to_owned(), |t| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
    };
    format!(
        "The session of **{name}** (`{id}`) is **{status}**.\n\n\
         | | |\n|---|---|\n\
         | status | {status} (`{reason}`) |\n\
         | why | {detail} |\n\
         | tracked expiry | {expiry} |\n\
         | checked at | {checked} |\n\n\
         ### Re-authenticate\n\n\
         1. In the Session Keeper tray app: **{name} → Re-authenticate**, solve the captcha; the app \
            captures, validates and pushes the new session. Or log in by hand and run \
            `sessionkeeper import {id}` with the session on stdin.\n\
         2. If the app did not push: `sessionkeeper push {id}`.\n\
         3. Nothing else: the next scheduled check closes this issue when the session is valid.\n\n\
         {marker}\n",
        name = profile.name,
        id = profile.id,
        status = outcome.status,
        reason = serde_json::to_value(outcome.reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        detail = outcome.detail,
        expiry = time(outcome.tracked_expires_at),
        checked = time(Some(outcome.checked_at)),
        marker = marker(profile),
    )
}
