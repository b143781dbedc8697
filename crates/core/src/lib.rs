//! Session Keeper's core: everything that runs without a window.
//!
//! The CLI (`sessionkeeper`) and the tray app (`sessionkeeper-app`) are thin shells over this
//! crate. It never depends on tauri, gtk or webkit (a test in `tests/` keeps that true).

pub mod adopt;
pub mod alert;
pub mod capture;
pub mod check;
pub mod clock;
pub mod config;
pub mod cookies;
pub mod deliver;
pub mod duration;
pub mod error;
pub mod health;
pub mod history;
pub mod lifetime;
pub mod monitor;
pub mod overview;
pub mod paths;
pub mod process;
pub mod push;
pub mod recorder;
pub mod refresh;
pub mod schedule;
pub mod secret;
pub mod session;
pub mod status;
pub mod targets;
pub mod team;
pub mod tracked;
pub mod vault;

pub use check::{CheckOutcome, Checker, Status};
pub use config::{Config, Profile};
pub use error::{ConfigError, Error, ImportError, VaultError};
pub use secret::Secret;
pub use session::Session;

/// The `User-Agent` every outgoing request carries.
pub const USER_AGENT: &str = concat!("sessionkeeper/", env!("CARGO_PKG_VERSION"));
