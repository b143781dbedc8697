//! Production's own answer: the app's endpoint that uses the session (`health_url`, or a
//! Vercel target's `smoke_url`), asked with no credentials of ours. It tells "production
//! refuses the session" (401 or 403) apart from "your copy is invalid", and a network fault
//! or a 5xx from both: those say nothing.

use std::time::Duration;

use url::Url;

/// What production said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthAnswer {
    /// A 2xx: production works with the session it has.
    Accepts,
    /// A 401 or 403: production's session is refused upstream.
    Refuses { detail: String },
    /// Anything else: no answer, a 5xx, a redirect.
    CannotTell { detail: String },
}

/// Asks `url` once (GET, 15 s), with `client` (no cookies, no redirects).
pub async fn ask(client: &reqwest::Client, url: &Url) -> HealthAnswer {
    let response = client
        .get(url.clone())
        .timeout(Duration::from_secs(15))
        .send()
        .await;
    match response {
        Ok(r) if r.status().is_success() => HealthAnswer::Accepts,
        Ok(r) if matches!(r.status().as_u16(), 401 | 403) => HealthAnswer::Refuses {
            detail: format!("HTTP {}", r.status().as_u16()),
        },
        Ok(r) => HealthAnswer::CannotTell {
            detail: format!("HTTP {}", r.status().as_u16()),
        },
        Err(e) => HealthAnswer::CannotTell {
            detail: format!("no answer: {}", e.without_url()),
        },
    }
}

/// A client for health checks: no redirects followed, no cookies kept.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(crate::USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}
