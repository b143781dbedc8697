//! The raw shape of `config.toml`, as serde sees it. Spanned fields are those whose errors
//! are only found after parsing (cross-references, combinations), so they can still point at
//! a line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::model::{AccountKind, BodyFormat, Capture, FileFormat, HttpMethod, Prefill};
use crate::duration::HumanDuration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub(super) accounts: BTreeMap<String, Spanned<RawAccount>>,
    #[serde(default)]
    pub(super) profiles: BTreeMap<Spanned<String>, Spanned<RawProfile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccount {
    pub(super) kind: AccountKind,
    pub(super) api_url: Option<Spanned<String>>,
    pub(super) team_id: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProfile {
    pub(super) name: Option<String>,
    pub(super) login_url: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) capture: Capture,
    #[serde(default)]
    pub(super) cookie_urls: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) done_when: RawDoneWhen,
    pub(super) session_id_cookie: Option<String>,
    pub(super) prefill: Option<Prefill>,
    pub(super) redirect_param: Option<String>,
    pub(super) tracked_ttl: Option<Spanned<HumanDuration>>,
    pub(super) warn_before: Option<HumanDuration>,
    pub(super) poll_every: Option<Spanned<HumanDuration>>,
    pub(super) refresh_before: Option<Spanned<HumanDuration>>,
    pub(super) refresh: Option<Spanned<RawRefresh>>,
    pub(super) validate: Option<Spanned<RawValidate>>,
    #[serde(default)]
    pub(super) push: Vec<Spanned<RawPush>>,
    pub(super) health_url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRefresh {
    pub(super) url: Spanned<String>,
    #[serde(default)]
    pub(super) format: BodyFormat,
    pub(super) fields: Option<Spanned<BTreeMap<String, String>>>,
    pub(super) capture: Spanned<String>,
    pub(super) exchange: Option<Spanned<RawRefreshStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRefreshStep {
    pub(super) url: Spanned<String>,
    #[serde(default)]
    pub(super) format: BodyFormat,
    pub(super) fields: Option<Spanned<BTreeMap<String, String>>>,
    pub(super) capture: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawValidate {
    pub(super) url: Spanned<String>,
    #[serde(default)]
    pub(super) method: HttpMethod,
    pub(super) valid_status: Option<Spanned<Vec<u16>>>,
    pub(super) invalid_status: Option<Spanned<Vec<u16>>>,
    pub(super) invalid_redirect_prefix: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) headers: Option<Spanned<BTreeMap<String, String>>>,
    pub(super) token_header: Option<String>,
    pub(super) token_format: Option<Spanned<String>>,
    pub(super) timeout: Option<Spanned<HumanDuration>>,
    pub(super) attempts: Option<Spanned<u32>>,
    pub(super) backoff: Option<HumanDuration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPush {
    pub(super) to: Spanned<String>,
    // github
    pub(super) repo: Option<Spanned<String>>,
    pub(super) org: Option<Spanned<String>>,
    pub(super) secret: Option<Spanned<String>>,
    pub(super) environment: Option<Spanned<String>>,
    pub(super) visibility: Option<Spanned<String>>,
    // vercel
    pub(super) project: Option<Spanned<String>>,
    pub(super) env: Option<Spanned<String>>,
    pub(super) targets: Option<Spanned<Vec<String>>>,
    #[serde(rename = "type")]
    pub(super) kind: Option<Spanned<String>>,
    pub(super) redeploy: Option<bool>,
    pub(super) deploy_hook: Option<bool>,
    pub(super) smoke_url: Option<Spanned<String>>,
    // file
    pub(super) path: Option<Spanned<String>>,
    pub(super) format: Option<FileFormat>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDoneWhen {
    pub(super) url_prefix: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) cookies: Vec<String>,
}
