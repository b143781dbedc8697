//! A faithful fake of the GitHub REST API subset Session Keeper uses, mounted at `/github`
//! (so its `api_url` has a path prefix, like GitHub Enterprise Server's `/api/v3`).
//!
//! * Actions secrets for repositories, environments and organisations: each scope has its own
//!   real X25519 key pair; `PUT` opens the libsodium sealed box and answers 422 when it cannot,
//!   201 when the secret is new and 204 when it is updated.
//! * Repository Actions variables: created with `POST` (201, or **409 Conflict** when the name
//!   exists: GitHub's documented answer, which makes a create an atomic claim), listed 30 a
//!   page at most, read, patched (204) and deleted (204, 404 when absent). Names are
//!   case-insensitive and kept uppercase, as GitHub does.
//! * `GET /user`: the login of the token's owner (`SimConfig::github_members`).
//! * Issues, labels and comments, with labels that must exist (unknown ones are dropped, as
//!   GitHub does for callers without push access).
//! * `Authorization: Bearer` and `User-Agent` are required; rate-limit answers and other
//!   faults can be scripted with [`crate::ApiFault`].

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::world::github::Issue;
use crate::world::{Shared, lock};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/repos/{owner}/{repo}/actions/secrets/public-key",
            get(repo_key),
        )
        .route(
            "/repos/{owner}/{repo}/actions/secrets/{name}",
            put(repo_secret),
        )
        .route(
            "/repos/{owner}/{repo}/environments/{env}/secrets/public-key",
            get(env_key),
        )
        .route(
            "/repos/{owner}/{repo}/environments/{env}/secrets/{name}",
            put(env_secret),
        )
        .route("/orgs/{org}/actions/secrets/public-key", get(org_key))
        .route("/orgs/{org}/actions/secrets/{name}", put(org_secret))
        .route(
            "/repos/{owner}/{repo}/issues",
            get(list_issues).post(create_issue),
        )
        .route("/repos/{owner}/{repo}/issues/{number}", patch(update_issue))
        .route(
            "/repos/{owner}/{repo}/issues/{number}/comments",
            post(comment),
        )
        .route(
            "/repos/{owner}/{repo}/actions/variables",
            get(list_variables).post(create_variable),
        )
        .route(
            "/repos/{owner}/{repo}/actions/variables/{name}",
            get(get_variable)
                .patch(update_variable)
                .delete(delete_variable),
        )
        .route("/user", get(user))
        .route("/repos/{owner}/{repo}/labels", post(create_label))
        .route("/repos/{owner}/{repo}/labels/{name}", get(get_label))
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.as_u16().to_string(),
    });
    (status, Json(body)).into_response()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found")
}

fn repo_exists(state: &Shared, owner: &str, repo: &str) -> bool {
    lock(state)
        .config
        .github_repos
        .iter()
        .any(|r| r == &format!("{owner}/{repo}"))
}

fn env_exists(state: &Shared, owner: &str, repo: &str, env: &str) -> bool {
    let full = format!("{owner}/{repo}");
    lock(state)
        .config
        .github_environments
        .iter()
        .any(|(r, e)| r == &full && e == env)
}

fn public_key(state: &Shared, scope: &str) -> Response {
    let mut s = lock(state);
    let (key_id, secret) = s.github.key(scope);
    let key = STANDARD.encode(secret.public_key().as_bytes());
    Json(serde_json::json!({ "key_id": key_id, "key": key })).into_response()
}

async fn repo_key(
    State(state): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
) -> Response {
    if !repo_exists(&state, &owner, &repo) {
        return not_found();
    }
    public_key(&state, &format!("repo:{owner}/{repo}"))
}

async fn env_key(
    State(state): State<Shared>,
    Path((owner, repo, env)): Path<(String, String, String)>,
) -> Response {
    if !env_exists(&state, &owner, &repo, &env) {
        return not_found();
    }
    public_key(&state, &format!("env:{owner}/{repo}:{env}"))
}

async fn org_key(State(state): State<Shared>, Path(org): Path<String>) -> Response {
    if !lock(&state).config.github_orgs.contains(&org) {
        return not_found();
    }
    public_key(&state, &format!("org:{org}"))
}

#[derive(Deserialize)]
struct SecretBody {
    encrypted_value: Option<String>,
    key_id: Option<String>,
    visibility: Option<String>,
}

/// The spec's pattern for `encrypted_value`: padded standard base64.
fn is_padded_base64(s: &str) -> bool {
    s.len().is_multiple_of(4)
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
        && STANDARD.decode(s).is_ok()
}

fn store_secret(state: &Shared, scope: &str, name: &str, body: SecretBody) -> Response {
    let Some(encrypted) = body.encrypted_value else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\n\"encrypted_value\" wasn't supplied.",
        );
    };
    let Some(key_id) = body.key_id else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\n\"key_id\" wasn't supplied.",
        );
    };
    if !is_padded_base64(&encrypted) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\n\"encrypted_value\" does not match /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/",
        );
    }
    let mut s = lock(state);
    let (current_id, secret) = s.github.key(scope).clone();
    let opened = STANDARD
        .decode(&encrypted)
        .ok()
        .and_then(|sealed| secret.unseal(&sealed).ok());
    let Some(value) = opened.filter(|_| key_id == current_id) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Bad request - validation failed due to an improperly encrypted secret",
        );
    };
    // GitHub stores secret names upper-cased.
    let slot = (scope.to_owned(), name.to_ascii_uppercase());
    s.github
        .writes
        .entry(slot.clone())
        .or_default()
        .push(value.clone());
    let created = s.github.secrets.insert(slot, value).is_none();
    if created {
        (StatusCode::CREATED, Json(serde_json::json!({}))).into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

async fn repo_secret(
    State(state): State<Shared>,
    Path((owner, repo, name)): Path<(String, String, String)>,
    Json(body): Json<SecretBody>,
) -> Response {
    if !repo_exists(&state, &owner, &repo) {
        return not_found();
    }
    store_secret(&state, &format!("repo:{owner}/{repo}"), &name, body)
}

async fn env_secret(
    State(state): State<Shared>,
    Path((owner, repo, env, name)): Path<(String, String, String, String)>,
    Json(body): Json<SecretBody>,
) -> Response {
    if !env_exists(&state, &owner, &repo, &env) {
        return not_found();
    }
    store_secret(&state, &format!("env:{owner}/{repo}:{env}"), &name, body)
}

async fn org_secret(
    State(state): State<Shared>,
    Path((org, name)): Path<(String, String)>,
    Json(body): Json<SecretBody>,
) -> Response {
    if !lock(&state).config.github_orgs.contains(&org) {
        return not_found();
    }
    if !matches!(
        body.visibility.as_deref(),
        Some("all" | "private" | "selected")
    ) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\n\"visibility\" wasn't supplied.",
        );
    }
    store_secret(&state, &format!("org:{org}"), &name, body)
}

#[derive(Deserialize)]
struct IssueQuery {
    state: Option<String>,
    labels: Option<String>,
}

fn issue_json(repo: &str, i: &Issue) -> serde_json::Value {
    serde_json::json!({
        "number": i.number,
        "title": i.title,
        "body": i.body,
        "state": i.state,
        "state_reason": i.state_reason,
        "labels": i.labels.iter().map(|l| serde_json::json!({"name": l})).collect::<Vec<_>>(),
        "html_url": format!("https://github.com/{repo}/issues/{}", i.number),
    })
}

async fn list_issues(
    State(state): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<IssueQuery>,
) -> Response {
    if !repo_exists(&state, &owner, &repo) {
        return not_found();
    }
    let full = format!("{owner}/{repo}");
    let s = lock(&state);
    let wanted_state = q.state.unwrap_or_else(|| "open".to_owned());
    let wanted_labels: Vec<&str> = q
        .labels
        .as_deref()
        .map(|l| l.split(',').collect())
        .unwrap_or_default();
    let issues: Vec<serde_json::Value> = s
        .github
        .issues
        .get(&full)
        .into_iter()
        .flatten()
        .filter(|i| wanted_state == "all" || i.state == wanted_state)
        .filter(|i| {
            wanted_labels
                .iter()
                .all(|l| i.labels.iter().any(|x| x == l))
        })
        .map(|i| issue_json(&full, i))
        .collect();
    Json(issues).into_response()
}

#[derive(Deserialize)]
struct NewIssue {
    title: Option<String>,
    body: Option<String>,
    #[serde(default)]
    labels: Vec<String>,
}

async fn create_issue(
    State(state): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Json(new): Json<NewIssue>,
) -> Response {
    if !repo_exists(&state, &owner, &repo) {
        return not_found();
    }
    let Some(title) = new.title.filter(|t| !t.is_empty()) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation Failed: title is required",
        );
    };
    let full = format!("{owner}/{repo}");
    let mut s = lock(&state);
    let known = s.github.labels.get(&full).cloned().unwrap_or_default();
    let issues = s.github.issues.entry(full.clone()).or_default();
    let issue = Issue {
        number: issues.len() as u64 + 1,
        title,
        body: new.body.unwrap_or_default(),
        labels: new
            .labels
            .into_iter()
            .filter(|l| known.contains(l))
            .collect(),
        state: "open".to_owned(),
        state_reason: None,
        comments: Vec::new(),
    };
    let json = issue_json(&full, &issue);
    issues.push(issue);
    (StatusCode::CREATED, Json(json)).into_response()
}

#[derive(Deserialize)]
struct IssueUpdate {
    state: Option<String>,
    state_reason: Option<String>,
}

async fn update_issue(
    State(state): State<Shared>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Json(update): Json<IssueUpdate>,
) -> Response {
    let full = format!("{owner}/{repo}");
    let mut s = lock(&state);
    let Some(issue) = s.github.issue_mut(&full, number) else {
        return not_found();
    };
    if let Some(new_state) = update.state {
        if new_state != issue.state {
            issue.state_reason = update.state_reason;
        }
        issue.state = new_state;
    }
    Json(issue_json(&full, issue)).into_response()
}

#[derive(Deserialize)]
struct NewComment {
    body: Option<String>,
}

async fn comment(
    State(state): State<Shared>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Json(c): Json<NewComment>,
) -> Response {
    let Some(body) = c.body else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation Failed: body is required",
        );
    };
    let full = format!("{owner}/{repo}");
    let mut s = lock(&state);
    let Some(issue) = s.github.issue_mut(&full, number) else {
        return not_found();
    };
    issue.comments.push(body.clone());
    (
        StatusCode::CREATED,
        Json(serde_json::json!({"id": issue.comments.len(), "body": body})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct NewLabel {
    name: String,
}

async fn create_label(
    State(state): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Json(label): Json<NewLabel>,
) -> Response {
    if !repo_exists(&state, &owner, &repo) {
        return not_found();
    }
    let mut s = lock(&state);
    let labels = s
        .github
        .labels
        .entry(format!("{owner}/{repo}"))
        .or_default();
    if labels.contains(&label.name) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation Failed: already_exists",
        );
    }
    labels.push(label.name.clone());
    (
        StatusCode::CREATED,
        Json(serde_json::json!({"name": label.name})),
    )
        .into_response()
}

async fn get_label(
    State(state): State<Shared>,
    Path((owner, repo, name)): Path<(String, String, String)>,
) -> Response {
    let s = lock(&state);
    let exists = s
        .github
        .labels
        .get(&format!("{owner}/{repo}"))
        .is_some_and(|l| l.contains(&name));
    if exists {
        Json(serde_json::json!({"name": name})).into_response()
    } else {
        not_found()
    }
}

/// The login of the caller (its token decides: `sim-user`, or a member's).
async fn user(State(state): State<Shared>, headers: axum::http::HeaderMap) -> Response {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let s = lock(&state);
    let login = s
        .config
        .github_members
        .iter()
        .find(|(t, _)| *t == token)
        .map_or("sim-user", |(_, login)| login.as_str())
        .to_owned();
    Json(serde_json::json!({ "login": login, "id": 1, "type": "User" })).into_response()
}

#[derive(Deserialize)]
struct NewVariable {
    name: String,
    value: String,
}

#[derive(Deserialize)]
struct VariableUpdate {
    name: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
struct Page {
    per_page: Option<usize>,
    page: Option<usize>,
}

async fn list_variables(
    State(state): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> Response {
    if !repo_exists(&state, &owner, &repo) {
        return not_found();
    }
    let per_page = page.per_page.unwrap_or(10).clamp(1, 30);
    let page = page.page.unwrap_or(1).max(1);
    let s = lock(&state);
    let all: Vec<_> = s
        .github
        .variables
        .get(&format!("{owner}/{repo}"))
        .map(|v| v.values().cloned().collect())
        .unwrap_or_default();
    let shown: Vec<_> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    Json(serde_json::json!({ "total_count": all.len(), "variables": shown })).into_response()
}

async fn create_variable(
    State(state): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    Json(body): Json<NewVariable>,
) -> Response {
    if !repo_exists(&state, &owner, &repo) {
        return not_found();
    }
    let name = body.name.to_ascii_uppercase();
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        || name.starts_with("GITHUB_")
        || name.as_bytes()[0].is_ascii_digit()
    {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Invalid name");
    }
    let mut s = lock(&state);
    let now = s
        .wall_now()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let vars = s
        .github
        .variables
        .entry(format!("{owner}/{repo}"))
        .or_default();
    if vars.contains_key(&name) {
        return error(
            StatusCode::CONFLICT,
            "Already exists - Variable already exists",
        );
    }
    vars.insert(
        name.clone(),
        crate::world::github::Variable {
            name,
            value: body.value,
            created_at: now.clone(),
            updated_at: now,
        },
    );
    (StatusCode::CREATED, Json(serde_json::json!({}))).into_response()
}

async fn get_variable(
    State(state): State<Shared>,
    Path((owner, repo, name)): Path<(String, String, String)>,
) -> Response {
    let s = lock(&state);
    match s
        .github
        .variables
        .get(&format!("{owner}/{repo}"))
        .and_then(|v| v.get(&name.to_ascii_uppercase()))
    {
        Some(v) => Json(v.clone()).into_response(),
        None => not_found(),
    }
}

async fn update_variable(
    State(state): State<Shared>,
    Path((owner, repo, name)): Path<(String, String, String)>,
    Json(body): Json<VariableUpdate>,
) -> Response {
    let mut s = lock(&state);
    let now = s
        .wall_now()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let Some(vars) = s.github.variables.get_mut(&format!("{owner}/{repo}")) else {
        return not_found();
    };
    let Some(mut var) = vars.remove(&name.to_ascii_uppercase()) else {
        return not_found();
    };
    if let Some(value) = body.value {
        var.value = value;
    }
    if let Some(new) = body.name {
        var.name = new.to_ascii_uppercase();
    }
    var.updated_at = now;
    vars.insert(var.name.clone(), var);
    StatusCode::NO_CONTENT.into_response()
}

async fn delete_variable(
    State(state): State<Shared>,
    Path((owner, repo, name)): Path<(String, String, String)>,
) -> Response {
    let mut s = lock(&state);
    let removed = s
        .github
        .variables
        .get_mut(&format!("{owner}/{repo}"))
        .and_then(|v| v.remove(&name.to_ascii_uppercase()));
    match removed {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(),
    }
}
