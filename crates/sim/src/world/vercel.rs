//! The Vercel fake's world: projects' environment variables (and every value they were
//! given) and deployments.

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;

/// One environment variable as the fake stores it.
#[derive(Debug, Clone, Serialize)]
pub struct EnvVar {
    /// The variable's id (`GET /v1/projects/{p}/env/{id}` reads it back).
    pub id: String,
    pub key: String,
    pub value: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub target: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    pub(crate) id: String,
    pub(crate) project: String,
    pub(crate) target: String,
    pub(crate) created: Instant,
    pub(crate) created_ms: i64,
    /// Built from a redeploy: moves through the states; the initial one is READY at once.
    pub(crate) building: bool,
    /// The environment variables this deployment was built with.
    pub(crate) env: HashMap<String, String>,
    /// Its `meta` (string to string), as the create call gave it.
    pub(crate) meta: HashMap<String, String>,
}

#[derive(Debug, Default)]
pub(crate) struct VercelState {
    /// project → key → variable.
    pub(crate) env: HashMap<String, HashMap<String, EnvVar>>,
    /// (project, key) → every value it was given, oldest first.
    pub(crate) writes: HashMap<(String, String), Vec<String>>,
    pub(crate) deployments: Vec<Deployment>,
}
