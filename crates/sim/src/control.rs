//! The control routes under `/_sim`: mint and expire sessions, inject faults, read the request
//! log. Tests in Rust use the same operations through [`crate::Sim`]'s methods.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::world::{Fault, OnExpired, SessionKind};
use crate::world::{Shared, lock};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/sessions", post(mint))
        .route("/sessions/{value}/expire", post(expire))
        .route("/faults", post(set_fault).delete(clear_fault))
        .route("/on-expired", post(set_on_expired))
        .route("/requests", get(requests))
}

#[derive(Deserialize)]
struct MintRequest {
    kind: SessionKind,
    lifetime_ms: Option<u64>,
}

async fn mint(
    State(state): State<Shared>,
    Json(r): Json<MintRequest>,
) -> Json<crate::MintedSession> {
    Json(lock(&state).mint(r.kind, r.lifetime_ms.map(Duration::from_millis)))
}

async fn expire(State(state): State<Shared>, Path(value): Path<String>) -> StatusCode {
    if lock(&state).expire(&value) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn set_fault(State(state): State<Shared>, Json(fault): Json<Fault>) -> StatusCode {
    lock(&state).fault = Some(fault);
    StatusCode::NO_CONTENT
}

async fn clear_fault(State(state): State<Shared>) -> StatusCode {
    lock(&state).fault = None;
    StatusCode::NO_CONTENT
}

async fn set_on_expired(State(state): State<Shared>, Json(on): Json<OnExpired>) -> StatusCode {
    lock(&state).config.on_expired = on;
    StatusCode::NO_CONTENT
}

async fn requests(State(state): State<Shared>) -> Json<Vec<crate::RecordedRequest>> {
    Json(lock(&state).requests.clone())
}
