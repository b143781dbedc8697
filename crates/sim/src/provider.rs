//! The provider: the portal that turns an SSO ticket into a session cookie, the API whose
//! answers tell a live session from a dead one, and the token provider's login and callback.

use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use serde::Deserialize;

use crate::serve::ConnectionKill;
use crate::world::{FaultMode, OnExpired, RecordedRequest, SessionKind};
use crate::world::{Shared, lock};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/portal", get(portal))
        .route("/api/products", get(products).head(products).post(products))
        // A permanent move to the same path on the other host name (another origin).
        .route("/api/moved", get(moved))
        .route(
            "/token/login",
            get(token_login_page).post(token_login_submit),
        )
        .route("/token/callback", get(token_callback))
        // What a hostile page (an ad in the login page, say) tries in a login window.
        .route("/ad/frame", get(ad_frame))
        .route("/files/report.csv", get(download))
        .route("/app/{project}", get(app_page))
}

#[derive(Deserialize)]
struct TicketQuery {
    ticket: Option<String>,
}

async fn portal(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<TicketQuery>,
) -> Response {
    let mut s = lock(&state);
    if let Some(ticket) = q.ticket
        && s.tickets.remove(&ticket).is_some()
    {
        let minted = s.mint(SessionKind::Cookie, None);
        return Response::builder()
            .status(StatusCode::OK)
            .header(
                header::SET_COOKIE,
                format!(
                    "JSESSIONID={}; Path=/; HttpOnly; SameSite=Lax",
                    minted.value
                ),
            )
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .body(axum::body::Body::from(PORTAL_PAGE))
            .expect("static response parts are valid");
    }
    match cookie(&headers, "JSESSIONID") {
        Some(sid) if s.is_live(&sid, SessionKind::Cookie) => Html(PORTAL_PAGE).into_response(),
        _ => redirect_to_login(&s.urls.sso_login),
    }
}

const PORTAL_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Wholesale portal</title></head>\
<body><h1 id=\"portal\">Wholesale portal</h1><p>You are signed in.</p></body></html>";

/// The API: faults first (as the network would), then the session check.
async fn products(State(state): State<Shared>, request: Request) -> Response {
    let kill = request.extensions().get::<ConnectionKill>().cloned();
    let headers = request.headers().clone();
    let fault = {
        let mut s = lock(&state);
        s.requests.push(recorded(
            request.method().as_str(),
            request.uri().path(),
            &headers,
        ));
        s.take_fault()
    };
    if let Some(fault) = fault {
        match fault.mode {
            FaultMode::Status => {
                let code = StatusCode::from_u16(fault.status.unwrap_or(503))
                    .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                return (code, Json(serde_json::json!({"error": "injected fault"})))
                    .into_response();
            }
            FaultMode::Hang => {
                tokio::time::sleep(Duration::from_millis(fault.delay_ms.unwrap_or(3_600_000)))
                    .await;
            }
            FaultMode::Reset => {
                if let Some(kill) = kill {
                    kill.0.notify_one();
                }
                std::future::pending::<()>().await;
            }
            FaultMode::Slow => {
                tokio::time::sleep(Duration::from_millis(fault.delay_ms.unwrap_or(1000))).await
            }
        }
    }
    let s = lock(&state);
    let live = cookie(&headers, "JSESSIONID")
        .is_some_and(|sid| s.is_live(&sid, SessionKind::Cookie))
        || token(&headers).is_some_and(|t| s.is_live(&t, SessionKind::Token));
    if live {
        return Json(serde_json::json!({"products": [{"id": 1, "name": "Fibre 100/100"}, {"id": 2, "name": "LTE 20GB"}]}))
            .into_response();
    }
    match s.config.on_expired {
        OnExpired::Unauthorized => (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "session expired"})),
        )
            .into_response(),
        OnExpired::RedirectToLogin => redirect_to_login(&s.urls.sso_login),
    }
}

async fn moved(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let mut s = lock(&state);
    s.requests.push(recorded("GET", "/api/moved", &headers));
    let target = format!("{}/api/products", s.urls.sso_origin);
    redirect(&target)
}

#[derive(Deserialize)]
struct ApiKeyQuery {
    api_key: Option<String>,
    /// `1`: the page embeds what a hostile page would try (`hostile_parts`).
    hostile: Option<String>,
}

/// An ad in an iframe (another origin) that plants a session of its own through a redirect to
/// the callback, a window.open, a download, a `file:` and a `tauri:` link.
fn hostile_parts(sso_origin: &str) -> String {
    format!(
        "<iframe id=\"ad\" title=\"ad\" src=\"{sso_origin}/ad/frame\" width=\"300\" height=\"60\"></iframe>\
         <button type=\"button\" id=\"popup\" onclick=\"window.open('/token/login?api_key=x', '_blank')\">Open</button>\
         <a id=\"download\" href=\"/files/report.csv\">report</a>\
         <a id=\"file\" href=\"file:///etc/hostname\">file</a>\
         <a id=\"app\" href=\"tauri://localhost/index.html\">app</a>"
    )
}

/// The ad's frame: it mints a live token of its own and redirects to the callback with it.
async fn ad_frame(State(state): State<Shared>) -> Response {
    let mut s = lock(&state);
    let planted = s.mint(SessionKind::Token, None);
    s.planted_tokens.push(planted.value.clone());
    let location = format!("{}?apisession={}", s.urls.token_callback, planted.value);
    redirect(&location)
}

/// A file served as an attachment (a download); recorded.
async fn download(State(state): State<Shared>, headers: HeaderMap) -> Response {
    lock(&state)
        .requests
        .push(recorded("GET", "/files/report.csv", &headers));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/csv")
        .header(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"report.csv\"",
        )
        .body(axum::body::Body::from("a,b\n1,2\n"))
        .expect("static response parts are valid")
}

async fn token_login_page(State(state): State<Shared>, Query(q): Query<ApiKeyQuery>) -> Response {
    let s = lock(&state);
    if q.api_key.as_deref() != Some(s.config.api_key.as_str()) {
        return (
            StatusCode::BAD_REQUEST,
            Html("<p id=\"error\">Invalid API key.</p>"),
        )
            .into_response();
    }
    let hostile = if q.hostile.as_deref() == Some("1") {
        hostile_parts(&s.urls.sso_origin)
    } else {
        String::new()
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Broker API login</title></head><body>\
         <form method=\"post\" action=\"/token/login?api_key={key}\" id=\"login\">\
         <label>User ID <input type=\"text\" name=\"username\" id=\"username\"></label>\
         <label>Password <input type=\"password\" name=\"password\" id=\"password\"></label>\
         <button type=\"submit\" id=\"submit\">Login</button></form>{hostile}</body></html>",
        key = s.config.api_key
    ))
    .into_response()
}

#[derive(Deserialize)]
struct TokenLoginForm {
    username: String,
    password: String,
}

async fn token_login_submit(
    State(state): State<Shared>,
    Query(q): Query<ApiKeyQuery>,
    Form(form): Form<TokenLoginForm>,
) -> Response {
    let mut s = lock(&state);
    if q.api_key.as_deref() != Some(s.config.api_key.as_str()) {
        return (
            StatusCode::BAD_REQUEST,
            Html("<p id=\"error\">Invalid API key.</p>"),
        )
            .into_response();
    }
    if form.username != s.config.username || form.password != s.config.password {
        return (
            StatusCode::UNAUTHORIZED,
            Html("<p id=\"error\">Invalid user ID or password.</p>"),
        )
            .into_response();
    }
    let minted = s.mint(SessionKind::Token, None);
    let location = format!("{}?apisession={}", s.urls.token_callback, minted.value);
    redirect(&location)
}

/// Where the token provider sends the browser, with the token in the URL. Recorded, so a
/// test can tell that a login window stopped the navigation instead of loading this page.
async fn token_callback(State(state): State<Shared>, headers: HeaderMap) -> Html<&'static str> {
    lock(&state)
        .requests
        .push(recorded("GET", "/token/callback", &headers));
    Html(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Logged in</title></head>\
          <body><p id=\"done\">Login complete. You may close this window.</p></body></html>",
    )
}

/// The deployed app: it uses the session in its newest READY production deployment's env
/// vars. 200 while that session is live on the provider; 401 once the provider refuses it
/// (what "production refuses the session" looks like); 503 when it has no session at all.
async fn app_page(
    State(state): State<Shared>,
    axum::extract::Path(project): axum::extract::Path<String>,
) -> Response {
    let s = lock(&state);
    let build = s.config.vercel_build_time;
    let newest = s
        .vercel
        .deployments
        .iter()
        .filter(|d| d.project == project && d.target == "production")
        .filter(|d| {
            !d.building
                || (s.now().saturating_duration_since(d.created) >= build
                    && s.config.vercel_build_outcome == crate::BuildOutcome::Ready)
        })
        .max_by_key(|d| d.created_ms);
    match newest {
        Some(d) if d.env.values().any(|v| deployed_session_live(&s, v)) => {
            Html("<p id=\"ok\">ok</p>").into_response()
        }
        Some(d) if !d.env.is_empty() => (
            StatusCode::UNAUTHORIZED,
            "the provider refuses the session this deployment runs with",
        )
            .into_response(),
        Some(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the deployment has no session configured",
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no deployment").into_response(),
    }
}

/// Whether `value` (an env var: a session export) holds a session the provider still accepts.
fn deployed_session_live(s: &crate::world::SimState, value: &str) -> bool {
    use base64::Engine as _;
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(value.trim()) else {
        return false;
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return false;
    };
    let token_live = json["token"]
        .as_str()
        .is_some_and(|t| s.is_live(t, SessionKind::Token));
    let cookie_live = json["cookies"].as_array().is_some_and(|cookies| {
        cookies.iter().any(|c| {
            c["value"]
                .as_str()
                .is_some_and(|v| s.is_live(v, SessionKind::Cookie))
        })
    });
    token_live || cookie_live
}

fn redirect_to_login(login: &str) -> Response {
    redirect(login)
}

fn redirect(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location)
        .body(axum::body::Body::empty())
        .expect("static response parts are valid")
}

fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (String, String)> + '_ {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            pair.trim()
                .split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    cookies(headers).find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A request as the sim keeps it for tests: its host and cookie names, never values.
pub(crate) fn recorded(method: &str, path: &str, headers: &HeaderMap) -> RecordedRequest {
    RecordedRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        host: headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        cookie_names: cookie_names(headers),
        has_token: token(headers).is_some(),
        header_names: headers.keys().map(|k| k.as_str().to_owned()).collect(),
    }
}

fn cookie_names(headers: &HeaderMap) -> Vec<String> {
    cookies(headers).map(|(k, _)| k).collect()
}

fn token(headers: &HeaderMap) -> Option<String> {
    if let Some(t) = headers.get("x-sessiontoken").and_then(|v| v.to_str().ok()) {
        return Some(t.to_owned());
    }
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
}
