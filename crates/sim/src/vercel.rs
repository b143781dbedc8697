//! A faithful fake of the Vercel REST API subset Session Keeper uses, mounted at `/vercel`.
//!
//! * `POST /v10/projects/{id}/env?upsert=true` answers 201 `{created, failed[]}`; keys listed
//!   in [`crate::SimConfig::vercel_fail_keys`] (and sensitive values aimed at development)
//!   come back in `failed[]` inside that 201, as the real API does.
//! * Deployments: `GET /v6/deployments`, `POST /v13/deployments` (a redeploy of an existing
//!   deployment) and `GET /v13/deployments/{id}`, whose `readyState` moves QUEUED → BUILDING
//!   → READY (or the configured outcome) over [`crate::SimConfig::vercel_build_time`].
//! * `GET /v9/projects/{id}`: the project, or 404.
//! * `teamId` must match the configured team when there is one.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::world::random_token;
use crate::world::vercel::{Deployment, EnvVar};
use crate::world::{Shared, lock};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/v9/projects/{project}", get(get_project))
        .route(
            "/v10/projects/{project}/env",
            post(upsert_env).get(list_env),
        )
        .route("/v1/projects/{project}/env/{id}", get(read_env))
        .route("/v6/deployments", get(list_deployments))
        .route("/v13/deployments", post(create_deployment))
        .route("/v13/deployments/{id}", get(get_deployment))
        // Deploy Hooks need no token: the URL is the credential (see api_gate).
        .route(
            "/v1/integrations/deploy/{project}/{hook}",
            post(deploy_hook).get(deploy_hook),
        )
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct TeamQuery {
    #[serde(rename = "teamId")]
    team_id: Option<String>,
    upsert: Option<String>,
    #[serde(rename = "projectId")]
    project_id: Option<String>,
    target: Option<String>,
    state: Option<String>,
    since: Option<i64>,
}

/// The project, when it exists and is visible with this `teamId`.
fn project_visible(state: &Shared, project: &str, team: Option<&str>) -> bool {
    let s = lock(state);
    s.config.vercel_projects.iter().any(|p| p == project) && s.config.vercel_team.as_deref() == team
}

/// `GET /v10/projects/{idOrName}/env`: the variables without their values (as the listing
/// gives them for `encrypted` and `sensitive` ones).
async fn list_env(
    State(state): State<Shared>,
    Path(project): Path<String>,
    Query(q): Query<TeamQuery>,
) -> Response {
    if !project_visible(&state, &project, q.team_id.as_deref()) {
        return error(StatusCode::NOT_FOUND, "not_found", "Project not found");
    }
    let s = lock(&state);
    let envs: Vec<serde_json::Value> = s
        .vercel
        .env
        .get(&project)
        .map(|vars| {
            let mut vars: Vec<&EnvVar> = vars.values().collect();
            vars.sort_by(|a, b| a.key.cmp(&b.key));
            vars.into_iter()
                .map(|v| serde_json::json!({"id": v.id, "key": v.key, "type": v.kind, "target": v.target}))
                .collect()
        })
        .unwrap_or_default();
    Json(serde_json::json!({ "envs": envs })).into_response()
}

/// `GET /v1/projects/{idOrName}/env/{id}`: one variable, decrypted for `encrypted` and
/// `plain`; a `sensitive` value is never returned.
async fn read_env(
    State(state): State<Shared>,
    Path((project, id)): Path<(String, String)>,
    Query(q): Query<TeamQuery>,
) -> Response {
    if !project_visible(&state, &project, q.team_id.as_deref()) {
        return error(StatusCode::NOT_FOUND, "not_found", "Project not found");
    }
    let s = lock(&state);
    let Some(var) = s
        .vercel
        .env
        .get(&project)
        .and_then(|vars| vars.values().find(|v| v.id == id))
    else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Environment Variable not found",
        );
    };
    let mut shown = serde_json::json!({"id": var.id, "key": var.key, "type": var.kind, "target": var.target, "decrypted": var.kind != "sensitive"});
    if var.kind != "sensitive" {
        shown["value"] = serde_json::Value::String(var.value.clone());
    }
    Json(shown).into_response()
}

/// `GET /v9/projects/{idOrName}`: the project, or 404 when it is not visible.
async fn get_project(
    State(state): State<Shared>,
    Path(project): Path<String>,
    Query(q): Query<TeamQuery>,
) -> Response {
    if !project_visible(&state, &project, q.team_id.as_deref()) {
        return error(StatusCode::NOT_FOUND, "not_found", "Project not found");
    }
    Json(serde_json::json!({ "id": format!("prj_{project}"), "name": project })).into_response()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(NewEnv),
    Many(Vec<NewEnv>),
}

#[derive(Deserialize)]
struct NewEnv {
    key: String,
    value: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    target: Vec<String>,
}

async fn upsert_env(
    State(state): State<Shared>,
    Path(project): Path<String>,
    Query(q): Query<TeamQuery>,
    Json(body): Json<OneOrMany>,
) -> Response {
    if !project_visible(&state, &project, q.team_id.as_deref()) {
        return error(StatusCode::NOT_FOUND, "not_found", "Project not found");
    }
    let upsert = q.upsert.as_deref() == Some("true");
    let items = match body {
        OneOrMany::One(e) => vec![e],
        OneOrMany::Many(v) => v,
    };
    let mut s = lock(&state);
    let fail_keys = s.config.vercel_fail_keys.clone();
    let mut writes = Vec::new();
    let vars = s.vercel.env.entry(project.clone()).or_default();
    let mut created = Vec::new();
    let mut failed = Vec::new();
    for e in items {
        let problem = if fail_keys.contains(&e.key) {
            Some((
                "ENV_CONFLICT",
                "A conflicting Environment Variable exists for this target",
            ))
        } else if e.kind == "sensitive" && e.target.iter().any(|t| t == "development") {
            Some((
                "invalid_type",
                "Sensitive Environment Variables cannot target development",
            ))
        } else if e.target.is_empty() {
            Some(("MISSING_TARGET", "Environment Variable target is missing"))
        } else if !upsert && vars.contains_key(&e.key) {
            Some((
                "ENV_ALREADY_EXISTS",
                "Another Environment Variable with the same Name and Environment exists",
            ))
        } else {
            None
        };
        if let Some((code, message)) = problem {
            failed.push(serde_json::json!({"error": {"code": code, "message": message, "key": e.key, "envVarKey": e.key}}));
            continue;
        }
        // An upsert keeps the variable's id.
        let id = vars
            .get(&e.key)
            .map_or_else(|| format!("env_{}", random_token(12)), |v| v.id.clone());
        let var = EnvVar {
            id,
            key: e.key.clone(),
            value: e.value,
            kind: e.kind,
            target: e.target,
        };
        // The value of a sensitive variable is never sent back.
        let mut shown = serde_json::json!({"id": var.id, "key": var.key, "type": var.kind, "target": var.target});
        if var.kind != "sensitive" {
            shown["value"] = serde_json::Value::String(var.value.clone());
        }
        created.push(shown);
        writes.push((e.key.clone(), var.value.clone()));
        vars.insert(e.key, var);
    }
    for (key, value) in writes {
        s.vercel
            .writes
            .entry((project.clone(), key))
            .or_default()
            .push(value);
    }
    let created = if created.len() == 1 {
        created.remove(0)
    } else {
        serde_json::Value::Array(created)
    };
    (
        StatusCode::CREATED,
        Json(serde_json::json!({"created": created, "failed": failed})),
    )
        .into_response()
}

fn ready_state(s: &crate::world::SimState, d: &Deployment) -> &'static str {
    if !d.building {
        return "READY";
    }
    let elapsed = s.now().saturating_duration_since(d.created);
    let build = s.config.vercel_build_time;
    if elapsed < build / 3 {
        "QUEUED"
    } else if elapsed < build {
        "BUILDING"
    } else {
        s.config.vercel_build_outcome.as_str()
    }
}

fn deployment_json(s: &crate::world::SimState, d: &Deployment) -> serde_json::Value {
    let state = ready_state(s, d);
    serde_json::json!({
        "id": d.id, "uid": d.id, "name": d.project, "url": format!("{}-{}.vercel.app", d.project, &d.id[4..10].to_ascii_lowercase()),
        "target": d.target, "readyState": state, "state": state, "created": d.created_ms,
        "inspectorUrl": format!("https://vercel.com/acme/{}/{}", d.project, d.id),
        "meta": d.meta,
    })
}

async fn list_deployments(State(state): State<Shared>, Query(q): Query<TeamQuery>) -> Response {
    let Some(project) = q.project_id.clone() else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "projectId is required",
        );
    };
    if !project_visible(&state, &project, q.team_id.as_deref()) {
        return error(StatusCode::NOT_FOUND, "not_found", "Project not found");
    }
    let s = lock(&state);
    let mut found: Vec<&Deployment> = s
        .vercel
        .deployments
        .iter()
        .filter(|d| d.project == project)
        .filter(|d| q.target.as_deref().is_none_or(|t| d.target == t))
        .filter(|d| q.state.as_deref().is_none_or(|st| ready_state(&s, d) == st))
        .filter(|d| q.since.is_none_or(|since| d.created_ms >= since))
        .collect();
    found.sort_by_key(|d| std::cmp::Reverse(d.created_ms));
    let deployments: Vec<_> = found.iter().map(|d| deployment_json(&s, d)).collect();
    Json(
        serde_json::json!({"deployments": deployments, "pagination": {"count": deployments.len()}}),
    )
    .into_response()
}

#[derive(Deserialize)]
struct NewDeployment {
    name: Option<String>,
    #[serde(rename = "deploymentId")]
    deployment_id: Option<String>,
    target: Option<String>,
    #[serde(default)]
    meta: HashMap<String, String>,
}

async fn create_deployment(
    State(state): State<Shared>,
    Query(q): Query<TeamQuery>,
    Json(body): Json<NewDeployment>,
) -> Response {
    let Some(name) = body.name else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "name is required");
    };
    if !project_visible(&state, &name, q.team_id.as_deref()) {
        return error(StatusCode::NOT_FOUND, "not_found", "Project not found");
    }
    let mut s = lock(&state);
    let Some(source) = body
        .deployment_id
        .and_then(|id| s.vercel.deployments.iter().find(|d| d.id == id).cloned())
    else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Deployment to redeploy not found",
        );
    };
    let env = s
        .vercel
        .env
        .get(&name)
        .map(|vars| {
            vars.values()
                .map(|v| (v.key.clone(), v.value.clone()))
                .collect()
        })
        .unwrap_or_default();
    let deployment = Deployment {
        id: format!("dpl_{}", random_token(12)),
        project: name,
        target: body.target.unwrap_or(source.target),
        created: s.now(),
        created_ms: s.wall_now().timestamp_millis(),
        building: true,
        env,
        meta: body.meta,
    };
    let json = deployment_json(&s, &deployment);
    s.vercel.deployments.push(deployment);
    Json(json).into_response()
}

/// A Deploy Hook: builds the production branch anew, with the current env vars.
async fn deploy_hook(
    State(state): State<Shared>,
    Path((project, hook)): Path<(String, String)>,
) -> Response {
    let mut s = lock(&state);
    if !s.config.vercel_projects.contains(&project) || hook != s.config.vercel_hook_id {
        return error(StatusCode::NOT_FOUND, "not_found", "Deploy Hook not found");
    }
    let env = s
        .vercel
        .env
        .get(&project)
        .map(|vars| {
            vars.values()
                .map(|v| (v.key.clone(), v.value.clone()))
                .collect()
        })
        .unwrap_or_default();
    let created_ms = s.wall_now().timestamp_millis();
    let created = s.now();
    s.vercel.deployments.push(Deployment {
        id: format!("dpl_{}", random_token(12)),
        project,
        target: "production".to_owned(),
        created,
        created_ms,
        building: true,
        env,
        meta: HashMap::new(),
    });
    (StatusCode::CREATED, Json(serde_json::json!({"job": {"id": random_token(10), "state": "PENDING", "createdAt": created_ms}})))
        .into_response()
}

async fn get_deployment(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    let s = lock(&state);
    match s.vercel.deployments.iter().find(|d| d.id == id) {
        Some(d) => Json(deployment_json(&s, d)).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "Deployment not found"),
    }
}
