//! What the fakes' front door knows: the scripted faults waiting for the next calls, and the
//! log of every call (header names, never values).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Github,
    Vercel,
}

/// A scripted answer for the next `count` calls to `service`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiFault {
    pub service: Service,
    pub status: u16,
    /// `Retry-After` seconds.
    pub retry_after: Option<u64>,
    /// Send `x-ratelimit-remaining: 0` and a reset this many seconds from now.
    pub ratelimit_reset_in: Option<u64>,
    /// The error message in the body.
    pub message: String,
    pub count: u32,
}

/// One call the fakes received.
#[derive(Debug, Clone, Serialize)]
pub struct ApiCall {
    pub service: Service,
    pub method: String,
    /// Path and query, without the `/github` or `/vercel` prefix.
    pub path: String,
    pub header_names: Vec<String>,
    pub user_agent: Option<String>,
    pub accept: Option<String>,
    pub api_version: Option<String>,
    /// The status the gate answered with, when it answered instead of the fake.
    pub gate_status: Option<u16>,
}
