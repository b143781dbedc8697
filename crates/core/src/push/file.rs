//! The local file target (the seeds' `.cache/mtn-session.json`): written atomically, mode 0600.

use super::{Done, Failure};
use crate::config::{FileFormat, FileTarget};
use crate::session::Session;

pub fn describe(target: &FileTarget) -> String {
    format!("file {}", target.path.display())
}

/// A file target is reachable when its directory exists.
pub(super) fn probe(target: &FileTarget) -> Result<Done, Failure> {
    let dir = target.path.parent().unwrap_or(std::path::Path::new("."));
    if dir.as_os_str().is_empty() || dir.is_dir() {
        Ok(Done::new("its directory exists"))
    } else {
        Err(Failure::config(
            format!("{} does not exist", dir.display()),
            "create it, or fix path",
        ))
    }
}

pub(super) fn push(target: &FileTarget, session: &Session) -> Result<Done, Failure> {
    let contents = match target.format {
        FileFormat::Json => session.to_json(),
        FileFormat::Base64 => session.export(),
    };
    let mut bytes = zeroize::Zeroizing::new(contents.expose().as_bytes().to_vec());
    bytes.push(b'\n');
    crate::paths::write_private(&target.path, &bytes).map_err(|e| {
        Failure::new(
            format!("cannot write {}: {e}", target.path.display()),
            "check the path and its directory",
        )
    })?;
    Ok(Done::new(format!(
        "wrote {} (mode 0600)",
        target.path.display()
    )))
}
