//! What happened, when: checks, captures, extensions. Append-only JSON lines in the state dir,
//! with no secret values. `status` reads the last check from here; later the dashboard draws
//! timelines and the scheduler learns how long sessions really live.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::check::{CheckOutcome, Reason, Status};
use crate::error::Error;

/// Past this size the log is trimmed to its newer half.
const MAX_BYTES: u64 = 2 * 1024 * 1024;

/// One event in a profile's life. No field ever holds a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Check {
        profile: String,
        at: DateTime<Utc>,
        status: Status,
        reason: Reason,
        http_status: Option<u16>,
        tracked_expires_at: Option<DateTime<Utc>>,
    },
    Captured {
        profile: String,
        at: DateTime<Utc>,
        captured_at: DateTime<Utc>,
        tracked_expires_at: DateTime<Utc>,
        source: String,
    },
    Extended {
        profile: String,
        at: DateTime<Utc>,
        tracked_expires_at: DateTime<Utc>,
    },
    Restored {
        profile: String,
        at: DateTime<Utc>,
    },
    /// A login without a human that produced no stored session (why, never a secret).
    RefreshFailed {
        profile: String,
        at: DateTime<Utc>,
        reason: String,
    },
    /// One target of a push (never the value).
    Push {
        profile: String,
        at: DateTime<Utc>,
        target: String,
        account: String,
        ok: bool,
        detail: String,
        deployment_url: Option<String>,
    },
}

impl Event {
    pub fn profile(&self) -> &str {
        match self {
            Self::Check { profile, .. }
            | Self::Captured { profile, .. }
            | Self::Extended { profile, .. }
            | Self::Restored { profile, .. }
            | Self::RefreshFailed { profile, .. }
            | Self::Push { profile, .. } => profile,
        }
    }

    pub fn from_check(o: &CheckOutcome) -> Self {
        Self::Check {
            profile: o.profile.clone(),
            at: o.checked_at,
            status: o.status,
            reason: o.reason,
            http_status: o.http_status,
            tracked_expires_at: o.tracked_expires_at,
        }
    }
}

/// The history log of one user.
#[derive(Debug, Clone)]
pub struct History {
    path: PathBuf,
}

impl History {
    /// The log in the platform state dir.
    pub fn open_default() -> Option<Self> {
        crate::paths::state_dir().map(|d| Self::at(&d))
    }

    pub fn at(dir: &Path) -> Self {
        Self {
            path: dir.join("history.jsonl"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append(&self, event: &Event) -> Result<(), Error> {
        let io = |source| Error::Io {
            what: "cannot write the history",
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            crate::paths::create_private_dir(dir).map_err(io)?;
        }
        if std::fs::metadata(&self.path).is_ok_and(|m| m.len() > MAX_BYTES) {
            self.trim().map_err(io)?;
        }
        let mut line = serde_json::to_string(event).expect("events always serialise");
        line.push('\n');
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        // Statuses and times only, but still nobody else's business.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&self.path).map_err(io)?;
        file.write_all(line.as_bytes()).map_err(io)
    }

    /// Every readable event, oldest first. Lines that do not parse (a newer build's events, a
    /// torn write, bytes that are not UTF-8) are skipped rather than failing `status`.
    pub fn events(&self) -> Vec<Event> {
        let Ok(bytes) = std::fs::read(&self.path) else {
            return Vec::new();
        };
        parse_events(&bytes)
    }

    /// The log's size and modification time: when they are the same, so are the events (a
    /// reader can keep what it read).
    pub fn stamp(&self) -> Option<(u64, std::time::SystemTime)> {
        let m = std::fs::metadata(&self.path).ok()?;
        Some((m.len(), m.modified().ok()?))
    }

    fn trim(&self) -> std::io::Result<()> {
        let bytes = std::fs::read(&self.path)?;
        let lines: Vec<&[u8]> = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        let mut keep = lines[lines.len() / 2..].join(&b'\n');
        keep.push(b'\n');
        crate::paths::write_private(&self.path, &keep)
    }
}

/// The events in `bytes` (JSON lines), skipping every line that is not one.
pub fn parse_events(bytes: &[u8]) -> Vec<Event> {
    bytes
        .split(|b| *b == b'\n')
        .filter_map(|line| std::str::from_utf8(line).ok())
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The last push result of each (profile, target) in `events`.
pub fn last_pushes(events: &[Event]) -> BTreeMap<(String, String), &Event> {
    let mut last = BTreeMap::new();
    for e in events {
        if let Event::Push {
            profile, target, ..
        } = e
        {
            last.insert((profile.clone(), target.clone()), e);
        }
    }
    last
}

/// The push audit of `profile`: its push events, newest first, at most `limit`.
pub fn push_log<'a>(events: &'a [Event], profile: &str, limit: usize) -> Vec<&'a Event> {
    events
        .iter()
        .rev()
        .filter(|e| matches!(e, Event::Push { .. }) && e.profile() == profile)
        .take(limit)
        .collect()
}

/// The last check event of each profile in `events`.
pub fn last_checks(events: &[Event]) -> BTreeMap<String, &Event> {
    let mut last = BTreeMap::new();
    for e in events {
        if matches!(e, Event::Check { .. }) {
            last.insert(e.profile().to_owned(), e);
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding: the history had no explicit mode and stopped reading at the first line that
    /// was not UTF-8. It is written 0600, and a damaged line costs only itself.
    #[test]
    fn finding_the_history_is_private_and_a_damaged_line_costs_only_itself() {
        use std::io::Write as _;
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let h = History::at(dir.path());
        let captured = |p: &str| Event::Captured {
            profile: p.into(),
            at: Utc::now(),
            captured_at: Utc::now(),
            tracked_expires_at: Utc::now(),
            source: "import".into(),
        };
        h.append(&captured("before")).expect("append");
        let path = dir.path().join("history.jsonl");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"{\"kind\":\"captured\",\"profile\":\"\xff\xfe\"}\n"))
            .expect("a damaged line");
        h.append(&captured("after")).expect("append");
        let profiles: Vec<String> = h
            .events()
            .iter()
            .filter_map(|e| match e {
                Event::Captured { profile, .. } => Some(profile.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(profiles, ["before", "after"]);
    }

    #[test]
    fn last_check_per_profile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let h = History::at(dir.path());
        let check = |p: &str, s| Event::Check {
            profile: p.into(),
            at: Utc::now(),
            status: s,
            reason: Reason::Accepted,
            http_status: Some(200),
            tracked_expires_at: None,
        };
        h.append(&check("a", Status::Valid)).expect("append");
        h.append(&check("b", Status::Error)).expect("append");
        h.append(&check("a", Status::Invalid)).expect("append");
        let events = h.events();
        let last = last_checks(&events);
        assert!(matches!(
            last["a"],
            Event::Check {
                status: Status::Invalid,
                ..
            }
        ));
        assert!(matches!(
            last["b"],
            Event::Check {
                status: Status::Error,
                ..
            }
        ));
    }
}
