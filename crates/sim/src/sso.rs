//! The SSO login: a form with username, password and a fake "I am not a robot" checkbox whose
//! token, like reCAPTCHA's, is only good for a minute. Served on the `localhost` host name.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;

use crate::world::{SessionKind, random_token};
use crate::world::{Shared, lock};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/sso/login", get(login_page).post(login_submit))
        .route("/sso/captcha", post(captcha))
}

#[derive(Deserialize)]
struct LoginQuery {
    service: Option<String>,
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    captcha: String,
    #[serde(default)]
    service: String,
}

/// The login form. Like real SSOs it also remembers the device in a persistent HttpOnly
/// cookie, the kind WebKit writes to its cookie file unless the window is incognito. Each
/// visit is recorded, so a test knows the page was loaded.
async fn login_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let mut s = lock(&state);
    s.requests
        .push(crate::provider::recorded("GET", "/sso/login", &headers));
    let portal = s.urls.portal.clone();
    let device = random_token(12);
    (
        [(
            header::SET_COOKIE,
            format!("SSO_DEVICE={device}; Path=/sso; Max-Age=2592000; HttpOnly; SameSite=Lax"),
        )],
        Html(page(q.service.as_deref().unwrap_or(&portal), None, "")),
    )
        .into_response()
}

async fn captcha(State(state): State<Shared>) -> Json<serde_json::Value> {
    let mut s = lock(&state);
    let token = s.issue_captcha();
    let ttl_ms = u64::try_from(s.config.captcha_ttl.as_millis()).unwrap_or(u64::MAX);
    Json(serde_json::json!({ "token": token, "expires_in_ms": ttl_ms }))
}

async fn login_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let mut s = lock(&state);
    let service = if form.service.is_empty() {
        s.urls.portal.clone()
    } else {
        form.service.clone()
    };
    if let Err(why) = s.redeem_captcha(&form.captcha) {
        return (
            StatusCode::OK,
            Html(page(&service, Some(why), &form.username)),
        )
            .into_response();
    }
    if form.username != s.config.username || form.password != s.config.password {
        return (
            StatusCode::OK,
            Html(page(
                &service,
                Some("Invalid username or password."),
                &form.username,
            )),
        )
            .into_response();
    }
    let ticket = format!("ST-{}", random_token(16));
    let now = s.now();
    s.tickets.insert(ticket.clone(), now);
    // The SSO's own cookie: HttpOnly, on the login host only. It must never reach the API.
    let sso_cookie = s.mint(SessionKind::Cookie, None).value;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let sep = if service.contains('?') { '&' } else { '?' };
    let location = format!("{service}{sep}ticket={ticket}");
    tracing::debug!(%host, "sso login ok");
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location)
        .header(
            header::SET_COOKIE,
            format!("SSO_TICKET={sso_cookie}; Path=/sso; HttpOnly; SameSite=Lax"),
        )
        .body(axum::body::Body::empty())
        .expect("static response parts are valid")
}

fn page(service: &str, error: Option<&str>, username: &str) -> String {
    let error = error
        .map(|e| {
            format!(
                r#"<p class="error" id="error" role="alert">{}</p>"#,
                escape(e)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Simulated SSO – sign in</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f3f4f6; display: grid; place-items: center; min-height: 100vh; margin: 0; }}
form {{ background: white; padding: 2rem; border-radius: 8px; box-shadow: 0 2px 12px #0002; width: 20rem; display: grid; gap: .8rem; }}
label {{ display: grid; gap: .3rem; font-size: .9rem; }}
input[type=text], input[type=password] {{ padding: .5rem; font-size: 1rem; }}
.robot {{ border: 1px solid #d1d5db; padding: .8rem; border-radius: 4px; display: flex; gap: .6rem; align-items: center; background: #f9fafb; }}
.error {{ color: #b91c1c; margin: 0; }}
button {{ padding: .6rem; font-size: 1rem; background: #1d4ed8; color: white; border: 0; border-radius: 4px; }}
</style></head>
<body>
<form method="post" action="/sso/login" id="login">
  <h1>Sign in</h1>
  {error}
  <label>Username <input type="text" name="username" id="username" autocomplete="username" value="{username}"></label>
  <label>Password <input type="password" name="password" id="password" autocomplete="current-password"></label>
  <div class="robot"><input type="checkbox" id="robot"><label for="robot">I am not a robot</label></div>
  <input type="hidden" name="captcha" id="captcha">
  <input type="hidden" name="service" value="{service}">
  <button type="submit" id="submit">Sign in</button>
</form>
<script>
const robot = document.getElementById('robot');
robot.addEventListener('change', async () => {{
  if (!robot.checked) {{ document.getElementById('captcha').value = ''; return; }}
  const r = await fetch('/sso/captcha', {{ method: 'POST' }});
  const {{ token, expires_in_ms }} = await r.json();
  document.getElementById('captcha').value = token;
  // Like reCAPTCHA: the tick expires and must be given again.
  setTimeout(() => {{ robot.checked = false; document.getElementById('captcha').value = ''; }}, expires_in_ms);
}});
</script>
</body></html>"#,
        username = escape(username),
        service = escape(service),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
