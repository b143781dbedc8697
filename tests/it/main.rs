//! Workspace integration tests: the real `sessionkeeper` binary against `sessionkeeper-sim` on
//! 127.0.0.1:0, with a real Secret Service (gnome-keyring, started by scripts/test.sh).
//!
//! One binary, one module per area (ripgrep's layout); every test gets its own HOME, XDG dirs
//! and keychain service name from `TestEnv`.

/// `validate`: statuses, exit codes and JSON against a live, expired, redirecting, failing,
/// hanging and unreachable provider; cookie selection per host.
mod validate;

/// `import`, `export`, `restore`, `extend` through the keychain vault.
mod session;

/// `push` to GitHub, Vercel and files; `check --github-issue`.
mod push;

/// `secret set/status`, a missing or locked keychain, token overrides.
mod secret;

/// The watch loop's decisions (core::monitor) against sim with a fake clock.
mod monitor;

/// Refresh without a human (core::refresh) against sim's credential login.
mod refresh;

/// The tray app on a real desktop session: notifications, actions, windows, single instance.
mod app;

/// The embedded login end to end, over WebDriver: pre-fill, capture, validate, store, push.
mod login;

/// The dashboard window over WebDriver: cards, Validate now, the paste form.
mod dashboard;

/// "Add a session" over WebDriver: the login recorder, its proposal, targets and tokens.
mod recorder;

/// The app's behaviour without a window: the controller, a recording host, a fake clock.
mod controller;

/// Config errors as the CLI shows them.
mod config;

/// `sessionkeeper init` in a pseudo-terminal.
mod init;

/// The team's claim (`claim`, `release`) and adoption (`pull`) from the CLI.
mod team;

/// The simulator behaves like the services it fakes.
mod sim;

/// Architecture checks: what the CLI may depend on, module docs.
mod tidy;
