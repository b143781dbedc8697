//! The provider's login without a human (the seeds' broker API): `POST /auth/login` with
//! `username` and `password`, as a form or JSON, answers 200 with
//! `{"Status": 200, "Success": {"session_token": …}}` (a token session), or, with
//! `?kind=cookie`, sets an HttpOnly `JSESSIONID` cookie, or, with `?kind=code`, gives a one-time
//! `code` that `POST /auth/exchange {"code": …}` trades for the token (the broker's two steps). Wrong credentials answer 401. Scripted
//! failures: [`crate::Sim::fail_next_logins`] (fail N times, then succeed) and
//! [`crate::Sim::fail_all_logins`].

use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;

use crate::world::SessionKind;
use crate::world::{Shared, lock};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/exchange", post(exchange))
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

#[derive(Deserialize)]
struct KindQuery {
    kind: Option<String>,
}

async fn login(
    State(state): State<Shared>,
    Query(q): Query<KindQuery>,
    request: Request,
) -> Response {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let credentials = if is_json {
        Json::<Credentials>::from_request_parts_and_body(request)
            .await
            .map(|Json(c)| c)
    } else {
        Form::<Credentials>::from_request_parts_and_body(request)
            .await
            .map(|Form(c)| c)
    };
    let Some(credentials) = credentials else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "username and password are required",
        );
    };
    let mut s = lock(&state);
    s.logins += 1;
    if s.logins_always_fail {
        return refuse(StatusCode::UNAUTHORIZED, "Invalid User Details");
    }
    if s.login_failures_left > 0 {
        s.login_failures_left -= 1;
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "try again later");
    }
    if credentials.username != s.config.username || credentials.password != s.config.password {
        return refuse(StatusCode::UNAUTHORIZED, "Invalid User Details");
    }
    if q.kind.as_deref() == Some("code") {
        // The broker's two steps: the login gives a one-time code, `/auth/exchange` trades it
        // for the session token.
        let code = crate::world::random_token(16);
        s.login_codes.insert(code.clone());
        return Json(serde_json::json!({"Status": 200, "Success": {"code": code}})).into_response();
    }
    if q.kind.as_deref() == Some("cookie") {
        let minted = s.mint(SessionKind::Cookie, None);
        return (
            StatusCode::OK,
            [(
                header::SET_COOKIE,
                format!(
                    "JSESSIONID={}; Path=/; HttpOnly; SameSite=Lax",
                    minted.value
                ),
            )],
            Json(serde_json::json!({"Status": 200})),
        )
            .into_response();
    }
    let minted = s.mint(SessionKind::Token, None);
    Json(serde_json::json!({"Status": 200, "Success": {"session_token": minted.value}}))
        .into_response()
}

#[derive(Deserialize)]
struct Exchange {
    code: String,
}

/// Trades a one-time code from `/auth/login?kind=code` for a token session (JSON body).
async fn exchange(State(state): State<Shared>, request: Request) -> Response {
    let Some(Json(body)) = Json::<Exchange>::from_request_parts_and_body(request).await else {
        return refuse(StatusCode::BAD_REQUEST, "code is required");
    };
    let mut s = lock(&state);
    if !s.login_codes.remove(&body.code) {
        return refuse(StatusCode::UNAUTHORIZED, "unknown or used code");
    }
    let minted = s.mint(SessionKind::Token, None);
    Json(serde_json::json!({"Status": 200, "Success": {"session_token": minted.value}}))
        .into_response()
}

fn refuse(status: StatusCode, error: &str) -> Response {
    (
        status,
        Json(serde_json::json!({"Status": status.as_u16(), "Error": error})),
    )
        .into_response()
}

/// Reads a body extractor without failing the handler: `None` when it does not parse.
trait FromBody: Sized {
    async fn from_request_parts_and_body(request: Request) -> Option<Self>;
}

impl<T: serde::de::DeserializeOwned + Send> FromBody for Json<T> {
    async fn from_request_parts_and_body(request: Request) -> Option<Self> {
        use axum::extract::FromRequest as _;
        Self::from_request(request, &()).await.ok()
    }
}

impl<T: serde::de::DeserializeOwned + Send> FromBody for Form<T> {
    async fn from_request_parts_and_body(request: Request) -> Option<Self> {
        use axum::extract::FromRequest as _;
        Self::from_request(request, &()).await.ok()
    }
}
