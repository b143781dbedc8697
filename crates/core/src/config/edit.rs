//! In-place edits of `config.toml` that keep its comments and layout (`toml_edit`): a new
//! profile (the login recorder's proposal, `sessionkeeper init`), a new push target and its
//! account, changed timings, a removed profile. The edited text must still load, or nothing is
//! written; the file is replaced atomically with its permissions kept (or created, 0600, with
//! its directory, when it does not exist yet).

use std::path::Path;

use serde::Deserialize;
use toml_edit::{DocumentMut, Item, Table, Value};

use super::model::{AccountKind, Config};
use crate::duration::HumanDuration;
use crate::error::ConfigError;

/// A push target as the dashboard's form (or `init`) describes it; its account is found or
/// added by [`Config::add_target`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "to", rename_all = "lowercase", deny_unknown_fields)]
pub enum NewTarget {
    Github {
        /// Empty or absent: `https://api.github.com`.
        #[serde(default, rename = "apiUrl")]
        api_url: Option<String>,
        /// `OWNER/REPO`; with `environment`, an environment secret.
        #[serde(default)]
        repo: Option<String>,
        #[serde(default)]
        environment: Option<String>,
        /// An organisation secret instead of a repository's.
        #[serde(default)]
        org: Option<String>,
        secret: String,
    },
    Vercel {
        #[serde(default, rename = "apiUrl")]
        api_url: Option<String>,
        project: String,
        env: String,
        #[serde(default)]
        targets: Vec<String>,
        #[serde(default, rename = "type")]
        kind: Option<String>,
        #[serde(default)]
        redeploy: bool,
    },
}

impl NewTarget {
    fn kind(&self) -> AccountKind {
        match self {
            Self::Github { .. } => AccountKind::Github,
            Self::Vercel { .. } => AccountKind::Vercel,
        }
    }

    fn api_url(&self) -> &str {
        let url = match self {
            Self::Github { api_url, .. } | Self::Vercel { api_url, .. } => api_url.as_deref(),
        };
        match url.map(str::trim) {
            Some(u) if !u.is_empty() => u.trim_end_matches('/'),
            _ => self.kind().default_api_url(),
        }
    }

    /// The `[[profiles.X.push]]` table, for `account`.
    fn table(&self, account: &str) -> Table {
        let mut t = Table::new();
        t.insert("to", toml_edit::value(account));
        match self {
            Self::Github {
                repo,
                environment,
                org,
                secret,
                ..
            } => {
                if let Some(org) = text(org) {
                    t.insert("org", toml_edit::value(org));
                } else if let Some(repo) = text(repo) {
                    t.insert("repo", toml_edit::value(repo));
                    if let Some(env) = text(environment) {
                        t.insert("environment", toml_edit::value(env));
                    }
                }
                t.insert("secret", toml_edit::value(secret.trim()));
            }
            Self::Vercel {
                project,
                env,
                targets,
                kind,
                redeploy,
                ..
            } => {
                t.insert("project", toml_edit::value(project.trim()));
                t.insert("env", toml_edit::value(env.trim()));
                if !targets.is_empty() {
                    t.insert(
                        "targets",
                        toml_edit::value(
                            targets
                                .iter()
                                .map(String::as_str)
                                .collect::<toml_edit::Array>(),
                        ),
                    );
                }
                if let Some(kind) = text(kind) {
                    t.insert("type", toml_edit::value(kind));
                }
                t.insert("redeploy", toml_edit::value(*redeploy));
            }
        }
        t
    }
}

/// The trimmed text of an optional form field, `None` when empty.
fn text(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A profile as `sessionkeeper init` asks for it (the recorder's proposal, without a recorder).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewProfile {
    pub id: String,
    pub name: String,
    pub login_url: String,
    /// `cookies`, `redirect-param` or `manual`.
    pub capture: String,
    /// `done_when.url_prefix`: where a completed login lands.
    pub landing: Option<String>,
    /// Cookies: the session cookie, and the URL its jar is read for.
    pub session_cookie: Option<String>,
    pub cookie_url: Option<String>,
    /// Tokens: the redirect's parameter, and the header the API takes it in.
    pub redirect_param: Option<String>,
    pub token_header: Option<String>,
    /// The check: the API URL and its answers (empty: the defaults, 200 and 401/403).
    pub api_url: Option<String>,
    pub valid_status: Vec<u16>,
    pub invalid_status: Vec<u16>,
    /// CSS selectors of the login form's fields, when the keychain has credentials to fill.
    pub prefill: Option<(String, String)>,
}

impl NewProfile {
    /// The `[profiles.ID]` TOML, for [`Config::add_profile`].
    pub fn to_toml(&self) -> String {
        let mut doc = DocumentMut::new();
        let mut p = Table::new();
        let some = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        p.insert("name", toml_edit::value(self.name.trim()));
        p.insert("login_url", toml_edit::value(self.login_url.trim()));
        p.insert("capture", toml_edit::value(self.capture.trim()));
        if let Some(url) = some(&self.cookie_url) {
            p.insert(
                "cookie_urls",
                toml_edit::value(toml_edit::Array::from_iter([url])),
            );
        }
        if let Some(landing) = some(&self.landing) {
            let mut done = toml_edit::InlineTable::new();
            done.insert("url_prefix", landing.into());
            p.insert("done_when", toml_edit::value(done));
        }
        if let Some(cookie) = some(&self.session_cookie) {
            p.insert("session_id_cookie", toml_edit::value(cookie));
        }
        if let Some(param) = some(&self.redirect_param) {
            p.insert("redirect_param", toml_edit::value(param));
        }
        if let Some((user, pass)) = &self.prefill {
            let mut fill = toml_edit::InlineTable::new();
            fill.insert("username", user.as_str().into());
            fill.insert("password", pass.as_str().into());
            p.insert("prefill", toml_edit::value(fill));
        }
        if let Some(api) = some(&self.api_url) {
            let mut v = Table::new();
            v.insert("url", toml_edit::value(api));
            let codes = |c: &[u16]| {
                toml_edit::value(
                    c.iter()
                        .map(|s| i64::from(*s))
                        .collect::<toml_edit::Array>(),
                )
            };
            if !self.valid_status.is_empty() {
                v.insert("valid_status", codes(&self.valid_status));
            }
            if !self.invalid_status.is_empty() {
                v.insert("invalid_status", codes(&self.invalid_status));
            }
            if let Some(header) = some(&self.token_header) {
                v.insert("token_header", toml_edit::value(header));
            }
            p.insert("validate", Item::Table(v));
        }
        let mut profiles = Table::new();
        profiles.set_implicit(true);
        profiles.insert(self.id.trim(), Item::Table(p));
        doc.insert("profiles", Item::Table(profiles));
        doc.to_string()
    }
}

/// A profile's timings, as the dashboard's form sets them (`None`: left as the file has it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Timings {
    #[serde(default)]
    pub tracked_ttl: Option<HumanDuration>,
    #[serde(default)]
    pub warn_before: Option<HumanDuration>,
    #[serde(default)]
    pub poll_every: Option<HumanDuration>,
    #[serde(default)]
    pub refresh_before: Option<HumanDuration>,
}

/// The file's text and document, or an empty document when it does not exist yet.
fn open(path: &Path) -> Result<(String, DocumentMut), ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(ConfigError::whole_file(
                path,
                format!("cannot read the file: {e}"),
            ));
        }
    };
    let doc = parse_doc(path, &text)?;
    Ok((text, doc))
}

fn parse_doc(path: &Path, text: &str) -> Result<DocumentMut, ConfigError> {
    text.parse().map_err(|e: toml_edit::TomlError| {
        super::locate::error_at(path, text, e.span(), e.message().trim_end().to_owned())
    })
}

/// Loads the edited document (the whole file must load, or nothing is written), then writes
/// it: in place with its permissions kept, or as a new private file.
fn commit(path: &Path, doc: &DocumentMut) -> Result<Config, ConfigError> {
    let edited = doc.to_string();
    let config = Config::parse(&edited, path)?;
    let written = if path.exists() {
        crate::paths::rewrite_keeping_permissions(path, edited.as_bytes())
    } else {
        crate::paths::write_private(path, edited.as_bytes())
    };
    written.map_err(|e| ConfigError::whole_file(path, format!("cannot write the file: {e}")))?;
    Ok(config)
}

/// The `[profiles]` table of `doc`, made implicit (no `[profiles]` header of its own); an
/// inline `profiles = { … }` becomes a table with its profiles kept.
fn profiles_table<'d>(path: &Path, doc: &'d mut DocumentMut) -> Result<&'d mut Table, ConfigError> {
    let item = doc.entry("profiles").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    if let Some(inline) = item.as_inline_table() {
        *item = Item::Table(inline.clone().into_table());
    }
    item.as_table_mut().ok_or_else(|| ConfigError {
        key: Some("profiles".to_owned()),
        ..ConfigError::whole_file(path, "profiles is not a table".to_owned())
    })
}

fn profile_table<'d>(
    path: &Path,
    doc: &'d mut DocumentMut,
    id: &str,
) -> Result<&'d mut dyn toml_edit::TableLike, ConfigError> {
    doc.get_mut("profiles")
        .and_then(|p| p.get_mut(id))
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| {
            ConfigError::whole_file(path, format!("no [profiles.{id}] table in the file"))
        })
}

/// Sets `key` of `table` to `value`, in place when it exists (the key keeps its comment lines,
/// the value its trailing `# comment`).
fn set_value(table: &mut dyn toml_edit::TableLike, key: &str, mut value: Value) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) => {
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}

impl Config {
    /// Set `profiles.<id>.tracked_ttl` in the file at `path` (the learned-lifetime offer).
    pub fn set_tracked_ttl(
        path: &Path,
        id: &str,
        ttl: HumanDuration,
    ) -> Result<Config, ConfigError> {
        let (_, mut doc) = open(path)?;
        let profile = profile_table(path, &mut doc, id)?;
        set_value(profile, "tracked_ttl", Value::from(ttl.to_string()));
        commit(path, &doc)
    }

    /// Sets `profiles.<id>.prefill`: the login form's fields the keychain's SSO username and
    /// password go into.
    pub fn set_prefill(
        path: &Path,
        id: &str,
        prefill: &super::model::Prefill,
    ) -> Result<Config, ConfigError> {
        let (_, mut doc) = open(path)?;
        let profile = profile_table(path, &mut doc, id)?;
        let mut fill = toml_edit::InlineTable::new();
        for (key, selector) in [
            ("username", &prefill.username),
            ("password", &prefill.password),
        ] {
            if let Some(s) = selector.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                fill.insert(key, s.into());
            }
        }
        set_value(profile, "prefill", Value::InlineTable(fill));
        commit(path, &doc)
    }

    /// Sets the timings of profile `id` that are given (`None` leaves a key as it is).
    pub fn set_timings(path: &Path, id: &str, timings: &Timings) -> Result<Config, ConfigError> {
        let (_, mut doc) = open(path)?;
        let profile = profile_table(path, &mut doc, id)?;
        for (key, value) in [
            ("tracked_ttl", &timings.tracked_ttl),
            ("warn_before", &timings.warn_before),
            ("poll_every", &timings.poll_every),
            ("refresh_before", &timings.refresh_before),
        ] {
            if let Some(d) = value {
                set_value(profile, key, Value::from(d.to_string()));
            }
        }
        commit(path, &doc)
    }

    /// Adds the profile `snippet` defines (TOML with exactly one `[profiles.ID]`, and its
    /// subtables, as the recorder proposed and the human may have edited) to the file at
    /// `path`, creating the file if needed. A profile of that id must not exist yet. Errors in
    /// the snippet name the snippet's line; errors of the whole file name the file's.
    pub fn add_profile(path: &Path, snippet: &str) -> Result<(Config, String), ConfigError> {
        let here = Path::new("the proposal");
        let proposal = parse_doc(here, snippet)?;
        let mut ids = proposal
            .get("profiles")
            .and_then(Item::as_table_like)
            .map(|t| {
                t.iter()
                    .map(|(k, v)| (k.to_owned(), v.clone()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let stray: Vec<&str> = proposal
            .iter()
            .map(|(k, _)| k)
            .filter(|k| *k != "profiles")
            .collect();
        if !stray.is_empty() || ids.len() != 1 {
            return Err(ConfigError::whole_file(
                here,
                format!(
                    "it must hold exactly one [profiles.ID] table (and its subtables), found {} \
                     profile(s){}",
                    ids.len(),
                    if stray.is_empty() {
                        String::new()
                    } else {
                        format!(" and {}", stray.join(", "))
                    }
                ),
            ));
        }
        let (id, table) = ids.pop().expect("exactly one");
        let (_, mut doc) = open(path)?;
        let profiles = profiles_table(path, &mut doc)?;
        if profiles.contains_key(&id) {
            return Err(ConfigError {
                key: Some(format!("profiles.{id}")),
                ..ConfigError::whole_file(
                    path,
                    format!("a profile {id:?} exists already: choose another id"),
                )
            });
        }
        let mut table = table;
        if let Some(t) = table.as_table_mut() {
            // Placed after what the file holds, not where the snippet had it.
            t.set_position(None);
            for (_, sub) in t.iter_mut() {
                if let Some(sub) = sub.as_table_mut() {
                    sub.set_position(None);
                }
            }
        }
        profiles.insert(&id, table);
        let config = commit(path, &doc)?;
        Ok((config, id))
    }

    /// Adds `target` to profile `id`, with an `[accounts.NAME]` for its API: the account of
    /// that kind and URL if there is one, else a new one named after the kind (`github`,
    /// `github-2`, …). Returns the config and the account's name (its token goes in the
    /// keychain as `account:NAME`).
    pub fn add_target(
        path: &Path,
        id: &str,
        target: &NewTarget,
    ) -> Result<(Config, String), ConfigError> {
        let (doc, account) = plan_target(path, id, target)?;
        Ok((commit(path, &doc)?, account))
    }

    /// What [`Config::add_target`] would make of the file, written nowhere (Check token before
    /// saving): the config with the target last in the profile's `push`, and its account.
    pub fn with_target(
        path: &Path,
        id: &str,
        target: &NewTarget,
    ) -> Result<(Config, String), ConfigError> {
        let (doc, account) = plan_target(path, id, target)?;
        Ok((Config::parse(&doc.to_string(), path)?, account))
    }

    /// Removes profile `id` from the file (its table and subtables). Accounts stay: other
    /// profiles may use them.
    pub fn remove_profile(path: &Path, id: &str) -> Result<Config, ConfigError> {
        let (_, mut doc) = open(path)?;
        let removed = doc
            .get_mut("profiles")
            .and_then(Item::as_table_like_mut)
            .and_then(|p| p.remove(id));
        if removed.is_none() {
            return Err(ConfigError::whole_file(
                path,
                format!("no [profiles.{id}] table in the file"),
            ));
        }
        commit(path, &doc)
    }
}

/// The document with `target` added to profile `id` (and its account, found or added), and the
/// account's name; not written.
fn plan_target(
    path: &Path,
    id: &str,
    target: &NewTarget,
) -> Result<(DocumentMut, String), ConfigError> {
    let (text, mut doc) = open(path)?;

    let current = Config::parse(&text, path)?;
    if !current.profiles.contains_key(id) {
        return Err(ConfigError::whole_file(
            path,
            format!("no [profiles.{id}] table in the file"),
        ));
    }
    let kind = target.kind();
    let api_url = target.api_url();
    let existing = current
        .accounts
        .values()
        .find(|a| a.kind == kind && a.api_url.as_str().trim_end_matches('/') == api_url);
    let account = match existing {
        Some(a) => a.name.clone(),
        None => {
            let base = match kind {
                AccountKind::Github => "github",
                AccountKind::Vercel => "vercel",
            };
            let name = std::iter::once(base.to_owned())
                .chain((2..).map(|n| format!("{base}-{n}")))
                .find(|n| !current.accounts.contains_key(n))
                .expect("an unused name");
            let accounts = doc.entry("accounts").or_insert_with(|| {
                let mut t = Table::new();
                t.set_implicit(true);
                Item::Table(t)
            });
            let accounts = accounts.as_table_mut().ok_or_else(|| {
                ConfigError::whole_file(path, "accounts is not a table".to_owned())
            })?;
            let mut t = Table::new();
            t.insert(
                "kind",
                toml_edit::value(match kind {
                    AccountKind::Github => "github",
                    AccountKind::Vercel => "vercel",
                }),
            );
            if api_url != kind.default_api_url() {
                t.insert("api_url", toml_edit::value(api_url));
            }
            accounts.insert(&name, Item::Table(t));
            name
        }
    };
    let profile = profile_table(path, &mut doc, id)?;
    let push = profile
        .entry("push")
        .or_insert(Item::ArrayOfTables(toml_edit::ArrayOfTables::new()));
    let push = push.as_array_of_tables_mut().ok_or_else(|| ConfigError {
        key: Some(format!("profiles.{id}.push")),
        ..ConfigError::whole_file(path, "push is not a list of [[tables]]".to_owned())
    })?;
    push.push(target.table(&account));
    Ok((doc, account))
}
