//! What stands in front of the GitHub and Vercel fakes, as the real front doors do:
//! authentication, GitHub's mandatory `User-Agent`, injected latency, scripted faults (rate
//! limits, permission errors, 5xx) and a log of every call (header names, never values).

use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::serve::ConnectionKill;
use crate::world::gate::{ApiCall, ApiFault, Service};
use crate::world::{Shared, lock};

pub(crate) async fn github(State(state): State<Shared>, request: Request, next: Next) -> Response {
    gate(Service::Github, &state, request, next).await
}

pub(crate) async fn vercel(State(state): State<Shared>, request: Request, next: Next) -> Response {
    gate(Service::Vercel, &state, request, next).await
}

async fn gate(service: Service, state: &Shared, request: Request, next: Next) -> Response {
    let latency = lock(state).api_latency;
    if latency > Duration::ZERO {
        tokio::time::sleep(latency).await;
    }
    let headers = request.headers();
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut call = ApiCall {
        service,
        method: request.method().to_string(),
        path: request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        header_names: headers.keys().map(|k| k.as_str().to_owned()).collect(),
        user_agent: text("user-agent"),
        accept: text("accept"),
        api_version: text("x-github-api-version"),
        gate_status: None,
    };
    let (tokens, fault) = {
        let mut s = lock(state);
        let tokens: Vec<String> = match service {
            Service::Github => std::iter::once(s.config.github_token.clone())
                .chain(s.config.github_members.iter().map(|(t, _)| t.clone()))
                .collect(),
            Service::Vercel => vec![s.config.vercel_token.clone()],
        };
        let fault = s
            .api_faults
            .iter()
            .position(|f| f.service == service)
            .map(|i| {
                let f = s.api_faults[i].clone();
                if f.count <= 1 {
                    s.api_faults.remove(i);
                } else {
                    s.api_faults[i].count -= 1;
                }
                f
            });
        (tokens, fault)
    };
    // Deploy Hooks carry their credential in the URL; everything else needs the token.
    let hook = call.path.starts_with("/v1/integrations/deploy/");
    let authorized = hook
        || text("authorization").is_some_and(|a| tokens.iter().any(|t| a == format!("Bearer {t}")));
    let answer = if service == Service::Github && call.user_agent.is_none() {
        Some(github_error(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        ))
    } else if !authorized {
        Some(match service {
            Service::Github => github_error(StatusCode::UNAUTHORIZED, "Bad credentials"),
            Service::Vercel => vercel_error(StatusCode::FORBIDDEN, "forbidden", "Not authorized"),
        })
    } else {
        let now = lock(state).wall_now();
        fault.map(|f| scripted(service, &f, now))
    };
    if let Some(response) = answer {
        call.gate_status = Some(response.status().as_u16());
        lock(state).api_calls.push(call);
        return response;
    }
    let reset_after = take_reset_after(state, service, &call);
    let kill = request.extensions().get::<ConnectionKill>().cloned();
    lock(state).api_calls.push(call);
    let response = next.run(request).await;
    if reset_after && let Some(kill) = kill {
        // Carried out, and the answer lost on the way back: the client cannot tell.
        kill.0.notify_one();
        std::future::pending::<()>().await;
    }
    response
}

/// Whether `call` is one to carry out and then reset (and counts it).
fn take_reset_after(state: &Shared, service: Service, call: &ApiCall) -> bool {
    let mut s = lock(state);
    let Some(i) = s
        .resets_after
        .iter()
        .position(|(svc, method, prefix, left)| {
            *svc == service
                && *method == call.method
                && call.path.starts_with(prefix.as_str())
                && *left > 0
        })
    else {
        return false;
    };
    s.resets_after[i].3 -= 1;
    true
}

fn scripted(service: Service, f: &ApiFault, now: chrono::DateTime<chrono::Utc>) -> Response {
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match service {
        Service::Github => github_error(status, &f.message),
        Service::Vercel => vercel_error(
            status,
            if f.status == 429 {
                "rate_limited"
            } else {
                "error"
            },
            &f.message,
        ),
    };
    let headers = response.headers_mut();
    if let Some(secs) = f.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(secs) = f.ratelimit_reset_in {
        let reset = now.timestamp() + i64::try_from(secs).unwrap_or(0);
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
    }
    response
}

fn github_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.as_u16().to_string(),
    });
    (status, Json(body)).into_response()
}

fn vercel_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}
