//! In-place edits of `config.toml` that keep its comments and layout (`toml_edit`): the edited
//! text must still load, or nothing is written; the file is replaced atomically with its
//! permissions kept.

use std::path::Path;

use super::model::Config;
use crate::duration::HumanDuration;
use crate::error::ConfigError;

impl Config {
    /// Set `profiles.<id>.tracked_ttl` in the file at `path`, keeping its comments and layout
    /// (the learned-lifetime offer). The edited text must still load, or nothing is written;
    /// the file is replaced atomically with its permissions kept.
    pub fn set_tracked_ttl(
        path: &Path,
        id: &str,
        ttl: HumanDuration,
    ) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::whole_file(path, format!("cannot read the file: {e}")))?;
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            super::locate::error_at(path, &text, e.span(), e.message().trim_end().to_owned())
        })?;
        let profile = doc
            .get_mut("profiles")
            .and_then(|p| p.get_mut(id))
            .and_then(toml_edit::Item::as_table_like_mut)
            .ok_or_else(|| {
                ConfigError::whole_file(path, format!("no [profiles.{id}] table in the file"))
            })?;
        let mut value = toml_edit::Value::from(ttl.to_string());
        match profile
            .get_mut("tracked_ttl")
            .and_then(toml_edit::Item::as_value_mut)
        {
            // In place: the key keeps its comment lines, the value its trailing `# comment`.
            Some(old) => {
                *value.decor_mut() = old.decor().clone();
                *old = value;
            }
            None => {
                profile.insert("tracked_ttl", toml_edit::Item::Value(value));
            }
        }
        let edited = doc.to_string();
        let config = Config::parse(&edited, path)?;
        crate::paths::rewrite_keeping_permissions(path, edited.as_bytes())
            .map_err(|e| ConfigError::whole_file(path, format!("cannot write the file: {e}")))?;
        Ok(config)
    }
}
