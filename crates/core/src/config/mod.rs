//! The config file (`config.toml`): accounts, profiles, how to validate them, where to push.
//!
//! Every error names the file, the line, the dotted key and what would be valid, because the
//! person reading it is fixing a file by hand. Unknown keys are errors (a typo must not be
//! silently ignored), and plain `http://` is refused except for loopback addresses.
//!
//! The parts: `model` (the validated types), `raw` (the file as serde sees it), `validate`
//! (raw → model, with every rule), `locate` (line and key of an error), `edit` (in-place
//! changes that keep comments, such as `learn --apply`).

mod edit;
mod locate;
mod model;
mod raw;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use edit::{NewProfile, NewTarget, Timings};
pub use model::*;
pub use validate::{check_github_secret_name, parse_http_url, same_or_below};

use crate::error::ConfigError;

/// Default path: `$XDG_CONFIG_HOME/sessionkeeper/config.toml` (platform config dir elsewhere).
pub fn default_path() -> Option<PathBuf> {
    crate::paths::config_dir().map(|d| d.join("config.toml"))
}

impl Config {
    /// No profile and no account yet (the app's first launch, before the file exists).
    pub fn empty(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            accounts: BTreeMap::new(),
            profiles: BTreeMap::new(),
        }
    }

    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let what = if e.kind() == std::io::ErrorKind::NotFound {
                "file not found: create it (see README, \"Config\") or pass --config FILE"
                    .to_owned()
            } else {
                format!("cannot read the file: {e}")
            };
            ConfigError::whole_file(path, what)
        })?;
        Self::parse(&text, path)
    }

    /// Validate config text; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let raw: raw::RawConfig = toml::from_str(text).map_err(|e| {
            locate::error_at(path, text, e.span(), e.message().trim_end().to_owned())
        })?;
        validate::Validator { path, text }.config(raw)
    }

    pub fn profile(&self, id: &str) -> Result<&Profile, crate::error::Error> {
        self.profiles
            .get(id)
            .ok_or_else(|| crate::error::Error::UnknownProfile {
                id: id.to_owned(),
                known: self.profiles.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }
}

#[cfg(test)]
mod tests;
